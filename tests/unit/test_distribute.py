"""Training under tf.distribute: MirroredStrategy on two logical CPU devices.

Two logical devices must be configured before TensorFlow initialises, so the runs happen in one
fresh process (started once for this file: one TensorFlow start-up, four trainings); each test
checks one of its results.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.support import ROOT, archive

RUNS = r"""
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from denoiser import Denoiser
from denoiser.config import ModelConfig, TrainConfig
from denoiser.signals import training_pairs
from denoiser.train import strategy_for
out = {"replicas": strategy_for("mirrored").num_replicas_in_sync}

# in memory: 120 signals of 64, 2 epochs, plain and mirrored
noisy, clean = training_pairs("mixed", 120, 64, "gaussian", (0.05, 0.2), rng=0)
for d in (None, "mirrored"):
    cfg = TrainConfig(epochs=2, batch_size=32, seed=0, distribute=d)
    out[f"memory/{d}"] = Denoiser(ModelConfig(window=64, filters=4)).fit(noisy, clean, cfg).history_
# 100 signals: 15 validation windows, a batch 2 replicas cannot share evenly
noisy, clean = training_pairs("mixed", 100, 64, "gaussian", (0.05, 0.2), rng=0)
cfg = TrainConfig(epochs=1, batch_size=32, seed=0, distribute="mirrored")
out["memory/uneven"] = Denoiser(ModelConfig(window=64, filters=4)).fit(noisy, clean, cfg).history_

# streamed from an archive, self-supervised
for d in (None, "mirrored"):
    cfg = TrainConfig.selfsup(init="", epochs=2, learning_rate=1e-3, seed=0, distribute=d)
    out[f"stream/{d}"] = Denoiser(ModelConfig(window=64, filters=4, depth=2)).fit_stream(sys.argv[1], cfg).history_
# batch_size 31 on 2 replicas: no batch splits evenly
cfg = TrainConfig.selfsup(init="", epochs=1, batch_size=31, learning_rate=1e-3, seed=0, distribute="mirrored")
out["stream/uneven"] = Denoiser(ModelConfig(window=64, filters=4, depth=2)).fit_stream(sys.argv[1], cfg).history_
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("archive")
    archive(folder, n=4, rows=2000, bad=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    res = subprocess.run(
        [sys.executable, "-c", RUNS, str(folder / "*.csv")], env=env, capture_output=True, text=True, timeout=900
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def _same_curve(plain: dict, mirrored: dict, epochs: int) -> None:
    assert len(plain["loss"]) == len(mirrored["loss"]) == epochs
    # The same global batches (and masks) and seeds: only the order of the float sums differs.
    np.testing.assert_allclose(mirrored["loss"], plain["loss"], rtol=0.02)
    np.testing.assert_allclose(mirrored["val_loss"], plain["val_loss"], rtol=0.02)
    assert plain["loss"][-1] < plain["loss"][0]  # it trained


def test_mirrored_training_on_two_logical_cpus_follows_the_plain_loss_curve(runs: dict) -> None:
    assert runs["replicas"] == 2
    _same_curve(runs["memory/None"], runs["memory/mirrored"], epochs=2)


def test_streamed_training_under_a_mirrored_strategy_follows_the_plain_loss_curve(runs: dict) -> None:
    _same_curve(runs["stream/None"], runs["stream/mirrored"], epochs=2)


def test_mirrored_training_takes_batches_that_do_not_split_evenly(runs: dict) -> None:
    # Keras failed with "AddN ... must have the same size and shape" (fit_windows trims to a multiple).
    assert len(runs["memory/uneven"]["val_loss"]) == 1 and np.isfinite(runs["memory/uneven"]["val_loss"][0])


def test_streamed_mirrored_training_takes_batches_that_do_not_split_evenly(runs: dict) -> None:
    assert len(runs["stream/uneven"]["val_loss"]) == 1 and np.isfinite(runs["stream/uneven"]["val_loss"][0])


def test_a_second_mirrored_fit_of_another_architecture_runs_in_the_same_process(runs: dict) -> None:
    # The streamed runs (depth 2) follow the in-memory ones (depth 4) in one process: with a fresh
    # MirroredStrategy per fit, the second met the first's collectives ("Shape mismatch in the
    # collective instance 100"); one strategy per device set (train._mirrored) numbers them on.
    assert list(runs) == [
        "replicas",
        "memory/None",
        "memory/mirrored",
        "memory/uneven",
        "stream/None",
        "stream/mirrored",
        "stream/uneven",
    ]
    assert all(np.isfinite(runs[k]["val_loss"]).all() for k in runs if k != "replicas")
