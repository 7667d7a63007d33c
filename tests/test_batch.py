"""Batch denoising on Dask (denoiser.batch), the CLI batch path, distributed training and CLI search.

One LocalCluster with 2 single-threaded worker processes is shared by the module's tests.
Most batches use ``model="none"`` (the pipeline's classical candidates), so the workers
need no TensorFlow; one test loads a real model to check it is loaded once per worker.
"""
from __future__ import annotations

import io
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from denoiser import batch
from denoiser.batch import BatchOptions, exit_status, process_file, run_batch

distributed = pytest.importorskip("distributed")



@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=40, env={"OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"})
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _signal(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 6 * np.pi, n)
    return np.round(np.sin(t) + 0.3 * np.sin(3.1 * t) + 0.1 * rng.standard_normal(n), 4)


def _folder(root: Path) -> Path:
    """rec/a.csv, rec/b.csv (integer 'sample' index), rec/sub/c.csv, rec/bad.csv (no numbers)."""
    rec = root / "rec"
    (rec / "sub").mkdir(parents=True)
    pd.DataFrame({"t": np.arange(1500) * 0.01, "v": _signal(1500, 1)}).to_csv(rec / "a.csv", index=False)
    pd.DataFrame({"sample": np.arange(1200), "v": _signal(1200, 2), "w": _signal(1200, 3)}).to_csv(
        rec / "b.csv", index=False)
    pd.DataFrame({"v": _signal(800, 4)}).to_csv(rec / "sub" / "c.csv", index=False)
    (rec / "bad.csv").write_text("name,comment\nfoo,bar\nbaz,qux\n")
    return rec


NONE = BatchOptions(model="none")


def test_batch_on_two_workers_outputs_summary_and_exit_status(tmp_path: Path, client) -> None:
    rec = _folder(tmp_path)
    out = tmp_path / "out"
    report = run_batch([str(rec / "**" / "*.csv")], out, NONE, client=client, progress=None)
    assert (report.done, report.skipped, report.failed) == (3, 0, 1)
    assert exit_status(report) == 1
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "a.csv", "b.csv", "sub/c.csv", "summary.csv"]
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == list(batch.SUMMARY_FIELDS)
    by_name = {Path(f).name: r for f, r in zip(summary["file"], summary.to_dict("records"))}
    assert by_name["bad.csv"]["status"] == "failed"
    assert "only text and no numbers" in by_name["bad.csv"]["error"] and "\n" not in by_name["bad.csv"]["error"]
    b = by_name["b.csv"]
    assert b["status"] == "ok" and b["rows"] == 1200 and b["columns"] == "v | w"
    assert len(str(b["sigma_source"]).split(" | ")) == 2
    a = by_name["a.csv"]
    assert a["sigma_source"].startswith(("estimated", "given", "from a quiet")) and np.isfinite(float(a["sigma"]))
    assert isinstance(a["method"], str) and a["seconds"] > 0
    # Each output is exactly what a one-file run (in this process) writes.
    for name in ("a.csv", "b.csv", "sub/c.csv"):
        row = process_file(str(rec / name), str(tmp_path / "single.csv"), NONE)
        assert row["status"] == "ok"
        assert (out / name).read_bytes() == (tmp_path / "single.csv").read_bytes()


def test_integer_index_and_precision_survive_a_batch(tmp_path: Path, client) -> None:
    rec = _folder(tmp_path)
    out = tmp_path / "out"
    run_batch([str(rec / "b.csv")], out, NONE, client=client, progress=None)
    lines = (out / "b.csv").read_text().splitlines()
    assert lines[0] == "sample,v,w,v_denoised,w_denoised"
    assert [line.split(",")[0] for line in lines[1:4]] == ["0", "1", "2"]
    assert max(len(c.partition(".")[2]) for line in lines[1:] for c in line.split(",")[1:3]) <= 4
    assert max(len(c.partition(".")[2]) for line in lines[1:] for c in line.split(",")[3:]) == 5


def test_parquet_output_keeps_integer_index(tmp_path: Path, client) -> None:
    rec = _folder(tmp_path)
    out = tmp_path / "pq"
    report = run_batch([str(rec / "b.csv"), str(rec / "a.csv")], out, BatchOptions(model="none", fmt="parquet"),
                       client=client, progress=None)
    assert report.failed == 0
    frame = pd.read_parquet(out / "b.parquet")
    assert frame["sample"].dtype == np.int64 and frame["sample"].tolist()[:3] == [0, 1, 2]
    assert list(frame.columns) == ["sample", "v", "w", "v_denoised", "w_denoised"]


def test_rerun_skips_done_files_and_redoes_missing_or_changed(tmp_path: Path, client) -> None:
    rec = _folder(tmp_path)
    out = tmp_path / "out"
    run_batch([str(rec / "**" / "*.csv")], out, NONE, client=client, progress=None)
    stamps = {p.name: p.stat().st_mtime_ns for p in out.rglob("*.csv") if p.name != "summary.csv"}
    again = run_batch([str(rec / "**" / "*.csv")], out, NONE, client=client, progress=None)
    assert (again.done, again.skipped, again.failed) == (0, 3, 1)  # the bad file is tried again
    assert {p.name: p.stat().st_mtime_ns for p in out.rglob("*.csv") if p.name != "summary.csv"} == stamps
    summary = pd.read_csv(out / "summary.csv")
    assert summary["status"].str.startswith("skipped").sum() == 3
    assert summary.loc[summary["file"].str.endswith("b.csv"), "rows"].item() == 1200  # kept from the first run
    (out / "a.csv").unlink()  # an interrupted batch: one output missing
    later = time.time_ns() + 10**9
    os.utime(rec / "sub" / "c.csv", ns=(later, later))  # one input changed after its output
    third = run_batch([str(rec / "**" / "*.csv")], out, NONE, client=client, progress=None)
    assert (third.done, third.skipped, third.failed) == (2, 1, 1)
    assert (out / "b.csv").stat().st_mtime_ns == stamps["b.csv"]


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = _folder(tmp_path)
    dst = tmp_path / "out" / "a.csv"
    dst.parent.mkdir()
    dst.write_text("the earlier output\n")

    def crash(fd: int) -> None:  # the data is in the temporary file; the machine dies before the rename
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(batch.os, "fsync", crash)
    row = process_file(str(rec / "a.csv"), str(dst), NONE)
    assert row["status"] == "failed" and "Input/output error" in row["error"]
    assert dst.read_text() == "the earlier output\n"  # never a half-written file in its place
    assert sorted(p.name for p in dst.parent.iterdir()) == ["a.csv"]  # and no temporary left over
    monkeypatch.undo()
    new = tmp_path / "out" / "new.csv"
    (new.parent / f".{new.name}.1.2{batch.TEMP_SUFFIX}").write_text("partial")  # a killed run's leftover
    assert process_file(str(rec / "a.csv"), str(new), NONE)["status"] == "ok"
    assert sorted(p.name for p in new.parent.iterdir()) == ["a.csv", "new.csv"]


def test_plan_refuses_collisions_and_skips_the_output_folder(tmp_path: Path) -> None:
    rec = _folder(tmp_path)
    with pytest.raises(batch.InputError, match="inside the output folder"):
        batch.plan([rec / "a.csv"], rec)  # -o the inputs' own folder would overwrite them
    (rec / "den").mkdir()
    (rec / "den" / "a.csv").write_text("1\n2\n")
    pairs = batch.plan(batch.expand_inputs([str(rec / "**" / "*.csv")]), rec / "den")
    assert all("den" not in src.parts for src, _ in pairs)
    with pytest.raises(batch.InputError, match="No file matches"):
        batch.expand_inputs([str(tmp_path / "nothing" / "*.csv")])


def test_model_is_loaded_once_per_worker(tmp_path: Path, client) -> None:
    rec = tmp_path / "rec"
    rec.mkdir()
    for i in range(6):
        pd.DataFrame({"v": _signal(600, i)}).to_csv(rec / f"f{i}.csv", index=False)
    report = run_batch([str(rec / "*.csv")], tmp_path / "out", BatchOptions(model="parabola"), client=client,
                       progress=None)
    assert report.failed == 0, report.rows
    loads = client.run(lambda: __import__("denoiser.batch").batch.LOADS)
    assert sorted(loads.values()) == [1, 1]  # warmed on both, then kept for all six files


def _tf_threads() -> tuple[int, int]:
    import tensorflow as tf

    return (tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads())


def test_a_warmed_worker_keeps_tensorflow_to_its_own_threads(client) -> None:
    # client.run (how run_batch warms the workers) has no task context: get_worker() found no
    # worker there, the limit was skipped, and each 1-thread worker's TensorFlow took every core
    # (2 workers ran 1.1x the files/s of one on 2 cores).
    client.run(batch.warm, "parabola")
    assert set(client.run(_tf_threads).values()) == {(1, 1)}


def test_progress_line_counts_files_rows_and_eta() -> None:
    stream = io.StringIO()
    bar = batch.Progress(4, stream, every=0.0)
    bar.update({"rows": 1000, "status": "ok"})
    bar.update({"rows": 1000, "status": "failed"})
    text = stream.getvalue()
    assert "2/4 files, 1 failed" in text and "rows/s" in text and "ETA" in text


def test_cli_batch_exit_status_is_the_number_of_failed_files(tmp_path: Path, cli) -> None:  # noqa: ANN001
    _folder(tmp_path)
    (tmp_path / "rec" / "sub" / "empty.csv").write_text("")
    res = cli("denoise", "rec/**/*.csv", "-o", "out/", "--workers", "1", "--model", "none")
    assert res.returncode == 2, res.stderr  # bad.csv and empty.csv
    assert res.stderr.count("failed: ") == 2
    assert "3 denoised, 0 skipped (up to date), 2 failed" in res.stderr
    assert "files" in res.stderr and "rows/s" in res.stderr  # the progress bar
    res = cli("denoise", "rec/a.csv", "-o", "one.csv", "--model", "none", "-q")
    assert res.returncode == 0 and res.stderr == ""
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "out" / "a.csv").read_bytes()


def test_cli_search_writes_a_ranked_table_and_the_best_model(tmp_path: Path, cli) -> None:  # noqa: ANN001
    res = cli("search", "-o", "best.keras", "--table", "ranked.csv", "--preset", "unet", "--window", "32",
               "--lr", "1e-3", "3e-3", "--n-signals", "40", "--epochs", "1", "--trials", "2")
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(tmp_path / "ranked.csv")
    assert table["rank"].tolist() == [1, 2] and sorted(table["learning_rate"]) == [1e-3, 3e-3]
    assert table["val_mse"].is_monotonic_increasing
    from denoiser.core import Denoiser

    best = Denoiser.load(tmp_path / "best.keras")
    assert best.train_info_["search"]["params"]["learning_rate"] == table["learning_rate"][0]
    assert "best of 2 trial(s)" in res.stderr


def test_search_trials_as_dask_tasks_rank_like_the_in_process_search(client) -> None:
    from denoiser.config import ModelConfig, TrainConfig
    from denoiser.search import search
    from denoiser.search_tasks import search_on_cluster
    from denoiser.signals import training_pairs

    noisy, clean = training_pairs("mixed", 40, 32, "gaussian", (0.05, 0.2), rng=0)
    space = {"learning_rate": [1e-4, 3e-2]}  # far apart: one epoch ranks them clearly
    kwargs = dict(base_config=ModelConfig(filters=4, window=32), train=TrainConfig(epochs=1, batch_size=16, seed=0))
    here = search(noisy, clean, space, **kwargs)
    there = search_on_cluster(noisy, clean, space, client, **kwargs)
    assert [r["learning_rate"] for r in there.table] == [r["learning_rate"] for r in here.table]
    # Same seeds, but a trial's weights are not bit-identical across processes (Keras' seed state
    # depends on what the process built before; a worker has 1 TensorFlow thread): close, not equal.
    np.testing.assert_allclose([r["val_mse"] for r in there.table], [r["val_mse"] for r in here.table], rtol=0.3)
    assert there.best_ is not None and there.best_params == here.best_params
    assert np.isfinite(there.test_metrics["mse"]) and there.best_.train_info_["search"]["ran_on"] == "dask"


def test_train_config_distribute_is_checked() -> None:
    from denoiser.config import TrainConfig
    from denoiser.errors import InputError

    with pytest.raises(InputError, match="distribute"):
        TrainConfig(distribute="everywhere")
    os.environ.pop("TF_CONFIG", None)
    from denoiser.train import strategy_for

    with pytest.raises(InputError, match="TF_CONFIG"):
        strategy_for("multiworker")
    assert strategy_for(None).num_replicas_in_sync == 1
