"""The Denoiser with real TensorFlow: training, denoising, saving, loading, refusing foreign files."""

import io
import json
import threading
import zipfile

import keras
import numpy as np
import pytest

from denoiser import InputError, metrics, modelfile, signals
from denoiser.bundled import pretrained
from denoiser.config import ModelConfig, TrainConfig
from denoiser.core import Denoiser, seed_weights
from denoiser.model import build_model
from tests.support import DATA

TINY = ModelConfig(window=64, filters=4, depth=2)


@pytest.fixture(scope="module")
def trained():
    """A tiny U-Net trained for a few epochs on sines (a few seconds on 2 cores)."""
    noisy, clean = signals.training_pairs("sines", 600, 64, "gaussian", (0.1, 0.3), rng=0)
    logs = []
    den = Denoiser(TINY).fit(
        noisy,
        clean,
        TrainConfig(epochs=6, batch_size=32, learning_rate=3e-3, seed=1),
        on_epoch=lambda epoch, log: logs.append(log),
    )
    return den, logs


def test_seed_preset_is_the_tutorial_network():
    model = build_model(ModelConfig.tutorial())
    assert model.count_params() == 28_737
    shapes = [layer.output.shape for layer in model.layers[1:]]
    assert shapes == [(None, 148, 128), (None, 146, 32), (None, 148, 32), (None, 150, 128), (None, 150, 1)]
    assert model.layers[-1].activation.__name__ == "sigmoid"


@pytest.mark.parametrize("window", [150, 256, 100])
def test_unet_keeps_any_window_length(window):
    model = build_model(ModelConfig(window=window, filters=4, depth=3))
    assert model.output_shape == (None, window, 1)


def test_training_lowers_the_loss_and_reports_test_metrics(trained):
    den, logs = trained
    assert len(logs) == len(den.history_["loss"]) >= 2
    assert den.history_["loss"][-1] < den.history_["loss"][0]
    assert {"mse", "mae", "noisy_mse", "noisy_mae", "gain_db"} <= set(den.test_metrics_)
    assert den.test_metrics_["mse"] < den.test_metrics_["noisy_mse"]
    assert logs[0]["seconds"] > 0


def test_training_is_reproducible():
    noisy, clean = signals.training_pairs("sines", 200, 64, "gaussian", 0.2, rng=0)
    runs = [
        Denoiser(TINY).fit(noisy, clean, TrainConfig(epochs=2, batch_size=32, seed=5)).history_["loss"]
        for _ in range(2)
    ]
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-5)


def test_stop_flag_ends_training_and_keeps_best_weights():
    noisy, clean = signals.training_pairs("sines", 300, 64, "gaussian", 0.2, rng=0)
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 15  # stop during the second epoch

    den = Denoiser(TINY).fit(noisy, clean, TrainConfig(epochs=50, batch_size=16), should_stop=stop)
    assert den.train_info_["stopped_by_user"] is True
    assert den.train_info_["epochs_run"] < 50
    assert np.isfinite(den.denoise(noisy[0])).all()


def test_training_leaves_no_graph_behind_in_tensorflow():
    # A server trains model after model: each fit must not grow TensorFlow's global state.
    from tensorflow.python.framework import ops

    noisy, clean = signals.training_pairs("sines", 100, 64, "gaussian", 0.2, rng=0)
    Denoiser(TINY).fit(noisy, clean, TrainConfig(epochs=1, batch_size=32))
    before = len(ops._gradient_registry._registry)
    Denoiser(TINY).fit(noisy, clean, TrainConfig(epochs=1, batch_size=32))
    assert len(ops._gradient_registry._registry) == before


def test_one_recording_is_split_in_time_order():
    clean = signals.make_signal("sines", 5000, rng=0)
    noisy = signals.add_noise(clean, sigma=0.2, rng=1)
    den = Denoiser(TINY).fit(noisy, clean, TrainConfig(epochs=1, batch_size=32))
    w = den.train_info_["windows"]
    assert w["train"] > w["val"] > 0 and w["test"] > 0


def test_denoise_keeps_shape_units_and_nan(trained):
    den, _ = trained
    x = signals.add_noise(signals.make_signal("sines", 1000, rng=3), sigma=0.2, rng=4)
    out = den.denoise(x)
    assert out.shape == x.shape and out.dtype == np.float64
    # Per-window standard scaling: the result follows the data's units exactly.
    np.testing.assert_allclose(den.denoise(1000 * x + 5), 1000 * out + 5, rtol=1e-4, atol=1e-2)
    x[10:20] = np.nan
    x[500] = np.inf
    out = den.denoise(x)
    assert np.isnan(out[10:20]).all() and np.isnan(out[500])
    assert np.isfinite(np.delete(out, [*range(10, 20), 500])).all()
    assert np.isnan(den.denoise(np.full(50, np.nan))).all()


@pytest.mark.parametrize("length", [2, 30, 64, 65, 1001])
def test_denoise_any_length_and_batches(trained, length):
    den, _ = trained
    x = np.random.default_rng(0).standard_normal((3, length))
    assert den.denoise(x).shape == (3, length)


def test_constant_signal_stays_constant(trained):
    den, _ = trained
    np.testing.assert_allclose(den.denoise(np.full(300, 7.25)), 7.25)


def test_save_load_round_trip_is_identical(trained, tmp_path):
    den, _ = trained
    path = tmp_path / "m.keras"
    den.save(path)
    back = Denoiser.load(path)
    x = np.random.default_rng(1).standard_normal(500)
    np.testing.assert_array_equal(den.denoise(x), back.denoise(x))
    assert back.config == den.config
    assert back.history_ == den.history_
    assert back.test_metrics_ == pytest.approx(den.test_metrics_)
    np.testing.assert_array_equal(Denoiser.load(den.to_bytes()).denoise(x), back.denoise(x))
    with pytest.raises(InputError, match=r"end in \.keras"):
        den.save(tmp_path / "m.h5")


def _rewrite(src: bytes, **replace: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, replace.get(name.replace(".", "_"), zin.read(name)))
    return out.getvalue()


def test_foreign_keras_file_with_lambda_is_refused(tmp_path):
    inp = keras.Input((64, 1))
    model = keras.Model(inp, keras.layers.Lambda(lambda t: t * 2)(inp))
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(InputError, match="not saved by Denoiser"):
        Denoiser.load(path)


def test_crafted_model_files_are_refused(trained, tmp_path, monkeypatch):
    den, _ = trained
    good = den.to_bytes()
    meta = json.loads(zipfile.ZipFile(io.BytesIO(good)).read("denoiser.json"))
    cases = {
        "unknown fields": _rewrite(
            good, denoiser_json=json.dumps({**meta, "config": {**meta["config"], "module": "os"}}).encode()
        ),
        "preset must be": _rewrite(
            good, denoiser_json=json.dumps({**meta, "config": {**meta["config"], "preset": "Lambda"}}).encode()
        ),
        "not a Denoiser model": _rewrite(good, denoiser_json=b'{"format": "other"}'),
        "do not match": _rewrite(
            good, denoiser_json=json.dumps({**meta, "config": {**meta["config"], "filters": 8}}).encode()
        ),
        "damaged": good[: len(good) // 2],
        "empty": b"",
    }
    for expected, data in cases.items():
        with pytest.raises(InputError, match=expected):
            Denoiser.load(data)
    keras_cfg = json.loads(zipfile.ZipFile(io.BytesIO(good)).read("config.json"))
    keras_cfg["config"]["layers"][1]["module"] = "os"
    with pytest.raises(InputError, match="code outside Keras"):
        Denoiser.load(_rewrite(good, config_json=json.dumps(keras_cfg).encode()))
    keras_cfg["config"]["layers"][1].update(module="keras.layers", class_name="Lambda")
    with pytest.raises(InputError, match="Lambda layer"):
        Denoiser.load(_rewrite(good, config_json=json.dumps(keras_cfg).encode()))
    traversal = io.BytesIO()
    with zipfile.ZipFile(traversal, "w") as zf:
        zf.writestr("../evil.txt", "x")
        zf.writestr("denoiser.json", json.dumps(meta))
    # Loading never extracts: the entry is refused from the archive's directory, unread.
    read: list[str] = []
    real_read = modelfile.read_member
    monkeypatch.setattr(modelfile, "read_member", lambda zf, info: read.append(info.filename) or real_read(zf, info))
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.parent.rglob("*"))
    with pytest.raises(InputError, match="unexpected entries"):
        Denoiser.load(traversal.getvalue())
    assert "../evil.txt" not in read
    assert sorted(tmp_path.parent.rglob("*")) == before  # nothing written next to or above the cwd


def test_oversized_and_bomb_model_files_are_refused(tmp_path):
    from denoiser import core

    big = tmp_path / "big.keras"
    with open(big, "wb") as f:
        f.truncate(core.MAX_MODEL_BYTES + 1)  # sparse: no real disk or memory used
    with pytest.raises(InputError, match="larger than"):
        Denoiser.load(big)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("denoiser.json", b" " * (2 * 1024**2))  # 2 MB of spaces compress to ~2 KB
    assert len(bomb.getvalue()) < 20_000
    with pytest.raises(InputError, match="too large"):
        Denoiser.load(bomb.getvalue())


def test_unfitted_denoiser_says_what_to_do():
    with pytest.raises(InputError, match="fit"):
        Denoiser().denoise(np.zeros(10))


@pytest.mark.parametrize("family", ["sines", "chirp", "square", "spikes", "smooth"])
def test_default_model_beats_noisy_input_on_fresh_signals(family):
    den = pretrained("default")
    rng = np.random.default_rng(1234)
    clean = signals.make_signals(family, 5, 1000, rng)
    noisy = signals.add_noise(clean, "gaussian", sigma=0.15, rng=rng)
    assert metrics.mse(clean, den.denoise(noisy)) < 0.7 * metrics.mse(clean, noisy)


@pytest.mark.parametrize("sigma", [0.05, 0.1, 0.2])
def test_parabola_model_beats_noisy_input(sigma):
    den = pretrained("parabola")
    clean = signals.make_signals("parabola", 20, rng=5)
    noisy = signals.add_noise(clean, sigma=sigma, rng=6)
    assert metrics.mse(clean, den.denoise(noisy)) < 0.2 * metrics.mse(clean, noisy)


def test_layers_and_activations_describe_the_network(trained):
    den, _ = trained
    rows = den.layers()
    assert sum(r["parameters"] for r in rows) == den.model_.count_params()
    acts = den.activations(np.random.default_rng(0).standard_normal(64))
    assert list(acts)[0] == "enc0" and acts["enc0"].shape == (64, 4)
    assert acts["enc2"].shape[0] == 16  # two stride-2 levels: 64 -> 16
    with pytest.raises(InputError, match="one window of 64"):
        den.activations(np.zeros(10))


def test_package_level_names_after_submodule_imports():
    import denoiser

    denoiser.default_model()  # imports denoiser.bundled; the function must stay reachable
    assert denoiser.pretrained("parabola").config.window == 150


def test_wrongly_typed_config_is_an_input_error():
    with pytest.raises(InputError, match="wrong type|must be"):
        ModelConfig.from_dict({"window": "x", "hop": 3})
    with pytest.raises(InputError, match="min-max"):
        ModelConfig(preset="seed", window=150, scaling="standard")


def test_a_fitted_model_keeps_no_training_graph():
    # An app session keeps its model: it must not keep Keras' optimizer and training function.
    noisy, clean = signals.training_pairs("sines", 100, 64, "gaussian", 0.2, rng=0)
    den = Denoiser(TINY).fit(noisy, clean, TrainConfig(epochs=1, batch_size=32, loss="huber"))
    assert getattr(den.model_, "train_function", None) is None
    assert den.model_.optimizer is None or not den.model_.optimizer.built  # no Adam state kept
    assert np.isfinite(den.denoise(noisy[0])).all()


# ------------------------------------------------------------ issue 13: fitted state, early stopping, seeding
def test_a_version_1_file_loads_and_denoises_identically():
    """tests/data/model_v1_global.keras was saved by format version 1 (global scaling in its config)."""
    path = DATA / "model_v1_global.keras"
    assert json.loads(zipfile.ZipFile(path).read("denoiser.json"))["version"] == 1
    den = Denoiser.load(path)
    assert den.config.scaling == "global"
    assert (den.global_offset_, den.global_scale_) == pytest.approx((3.0982866055952436, 1.4545197906549259))
    x = np.load(DATA / "model_v1_global_input.npy")
    # saved on another machine: float32 sums may differ in the last bits across CPUs (SIMD widths)
    np.testing.assert_allclose(den.denoise(x), np.load(DATA / "model_v1_global_output.npy"), rtol=1e-6, atol=1e-6)
    # Saved again, it is a current-version file with the learned scaling outside the config.
    meta = json.loads(zipfile.ZipFile(io.BytesIO(den.to_bytes())).read("denoiser.json"))
    assert meta["version"] == modelfile.FORMAT_VERSION == 2
    assert "global_offset" not in meta["config"] and meta["fitted"]["global_scale"] == den.global_scale_
    np.testing.assert_array_equal(Denoiser.load(den.to_bytes()).denoise(x), den.denoise(x))


def test_inverse_scaling_puts_the_output_back_in_data_units():
    den = Denoiser.load(DATA / "model_v1_global.keras")
    x = np.load(DATA / "model_v1_global_input.npy")  # offset ~3, amplitude ~2
    out = den.denoise(x)
    assert abs(out.mean() - x.mean()) < 0.5 and 0.5 < out.std() / x.std() < 1.5  # scaled units: mean ~0.8


def test_learned_scaling_in_a_file_is_checked():
    good = Denoiser.load(DATA / "model_v1_global.keras").to_bytes()
    meta = json.loads(zipfile.ZipFile(io.BytesIO(good)).read("denoiser.json"))
    for fitted, words in [
        ({"global_scale": 0.0}, "not finite"),
        ({"global_offset": float("nan")}, "not finite"),
        ({"shift": 1.0}, "learned scaling"),
        ([1.0], "learned scaling"),
    ]:
        bad = _rewrite(good, denoiser_json=json.dumps({**meta, "fitted": fitted}).encode())
        with pytest.raises(InputError, match=words):
            Denoiser.load(bad)
    v1_with_fitted = _rewrite(good, denoiser_json=json.dumps({**meta, "version": 1}).encode())
    with pytest.raises(InputError, match="unknown fields"):  # version 1 had no 'fitted'
        Denoiser.load(v1_with_fitted)


def _fit_recording_weights(train: TrainConfig, should_stop=None):
    noisy, clean = signals.training_pairs("sines", 200, 64, "gaussian", 0.2, rng=0)
    den = Denoiser(TINY)
    epochs: list[tuple[float, list[np.ndarray]]] = []
    den.fit(
        noisy,
        clean,
        train,
        should_stop=should_stop,
        on_epoch=lambda e, logs: epochs.append((logs["val_loss"], [w.copy() for w in den.model_.get_weights()])),
    )
    return den, epochs


def test_the_final_weights_are_the_best_epochs():
    # A step so large that validation gets worse after the first epoch: the last epoch is not the best.
    den, epochs = _fit_recording_weights(TrainConfig(epochs=5, batch_size=32, learning_rate=0.3, patience=10, seed=2))
    best = int(np.argmin([v for v, _ in epochs]))
    assert best < len(epochs) - 1 and den.train_info_["best_epoch"] == best
    for got, want in zip(den.model_.get_weights(), epochs[best][1]):
        np.testing.assert_array_equal(got, want)
    assert any(not np.array_equal(a, b) for a, b in zip(den.model_.get_weights(), epochs[-1][1]))


def test_a_stopped_run_ends_with_its_best_epochs_weights():
    done = threading.Event()

    def after_three() -> bool:
        return done.is_set()

    noisy, clean = signals.training_pairs("sines", 200, 64, "gaussian", 0.2, rng=0)
    den = Denoiser(TINY)
    epochs: list[tuple[float, list[np.ndarray]]] = []

    def on_epoch(e: int, logs: dict) -> None:
        epochs.append((logs["val_loss"], [w.copy() for w in den.model_.get_weights()]))
        if len(epochs) == 3:
            done.set()  # the stop flag is polled after the next batch

    den.fit(
        noisy,
        clean,
        TrainConfig(epochs=50, batch_size=32, learning_rate=0.3, patience=50, seed=2),
        on_epoch=on_epoch,
        should_stop=after_three,
    )
    assert den.train_info_["stopped_by_user"] is True and len(epochs) < 50
    best = int(np.argmin([v for v, _ in epochs]))
    for got, want in zip(den.model_.get_weights(), epochs[best][1]):
        np.testing.assert_array_equal(got, want)


def test_every_random_weight_is_seeded_locally():
    for config in (TINY, ModelConfig.tutorial(), ModelConfig.lstm(window=16, units=2)):
        a, b = build_model(config), build_model(config)
        random_weights = sum(not np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))
        assert seed_weights(a, np.random.default_rng(3)) == random_weights
        seed_weights(b, np.random.default_rng(3))
        for x, y in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_array_equal(x, y)


def test_two_fits_in_parallel_threads_do_not_reseed_each_other(monkeypatch):
    """With DENOISER_TRAINING_SLOTS > 1 fits run in threads: each must match the same fit run alone."""
    from denoiser import core

    noisy, clean = signals.training_pairs("sines", 150, 64, "gaussian", 0.2, rng=0)
    configs = {seed: TrainConfig(epochs=2, batch_size=32, seed=seed) for seed in (1, 2)}
    alone = {s: Denoiser(TINY).fit(noisy, clean, t).model_.get_weights() for s, t in configs.items()}
    # Both threads reach the network build together, after both have begun their fit.
    barrier, first = threading.Barrier(2, timeout=60), threading.local()
    real_build = core.build_model

    def build_together(config):
        if not getattr(first, "done", False):
            first.done = True
            barrier.wait()
        return real_build(config)

    monkeypatch.setattr(core, "build_model", build_together)
    together: dict[int, list[np.ndarray]] = {}
    threads = [
        threading.Thread(
            target=lambda s=s, t=t: together.__setitem__(s, Denoiser(TINY).fit(noisy, clean, t).model_.get_weights())
        )
        for s, t in configs.items()
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert set(together) == {1, 2}
    for s in configs:
        for x, y in zip(together[s], alone[s]):
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-7)
