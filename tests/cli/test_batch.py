"""Batch denoising on Dask (denoiser.batch), the CLI batch path, distributed training and CLI search;
the inputs a batch lists, and that its workers die with their client.

One LocalCluster with 2 single-threaded worker processes is shared by the module's tests.
Most batches use ``model="none"`` (the pipeline's classical candidates), so the workers
need no TensorFlow; one test loads a real model to check it is loaded once per worker.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from denoiser import batch
from denoiser.batch import BatchOptions, exit_status, process_file, run_batch
from tests.support import ROOT

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=40,
        env={"OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
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
        rec / "b.csv", index=False
    )
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
        ".a.csv.denoiser.json",
        ".b.csv.denoiser.json",
        "a.csv",
        "b.csv",
        "sub/.c.csv.denoiser.json",
        "sub/c.csv",
        "summary.csv",
    ]  # each output with the record of how it was made (what a rerun checks)
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
    text = (out / "b.csv").read_text()
    assert text.startswith("# Denoised with denoiser ")  # what was applied, in '#' lines on top
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines[0] == "sample,v,w,v_denoised,w_denoised"
    assert [line.split(",")[0] for line in lines[1:4]] == ["0", "1", "2"]
    assert max(len(c.partition(".")[2]) for line in lines[1:] for c in line.split(",")[1:3]) <= 4
    assert max(len(c.partition(".")[2]) for line in lines[1:] for c in line.split(",")[3:]) == 5


def test_parquet_output_keeps_integer_index(tmp_path: Path, client) -> None:
    rec = _folder(tmp_path)
    out = tmp_path / "pq"
    report = run_batch(
        [str(rec / "b.csv"), str(rec / "a.csv")],
        out,
        BatchOptions(model="none", fmt="parquet"),
        client=client,
        progress=None,
    )
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
    c = rec / "sub" / "c.csv"
    c.write_text(c.read_text().replace("v\n", "v\n0.5\n", 1))  # one input changed after its output
    third = run_batch([str(rec / "**" / "*.csv")], out, NONE, client=client, progress=None)
    assert (third.done, third.skipped, third.failed) == (2, 1, 1)
    assert (out / "b.csv").stat().st_mtime_ns == stamps["b.csv"]


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = _folder(tmp_path)
    dst = tmp_path / "out" / "a.csv"
    dst.parent.mkdir()
    assert process_file(str(rec / "a.csv"), str(dst), NONE)["status"] == "ok"  # an earlier batch's output
    earlier = dst.read_bytes()

    def crash(fd: int) -> None:  # the data is in the temporary file; the machine dies before the rename
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(batch.os, "fsync", crash)
    row = process_file(str(rec / "a.csv"), str(dst), NONE)
    assert row["status"] == "failed" and "Input/output error" in row["error"]
    assert dst.read_bytes() == earlier  # never a half-written file in its place
    assert sorted(p.name for p in dst.parent.iterdir()) == [".a.csv.denoiser.json", "a.csv"]  # no temporary left
    monkeypatch.undo()
    new = tmp_path / "out" / "new.csv"
    (new.parent / f".{new.name}.1.2{batch.TEMP_SUFFIX}").write_text("partial")  # a killed run's leftover
    assert process_file(str(rec / "a.csv"), str(new), NONE)["status"] == "ok"
    assert sorted(p.name for p in new.parent.iterdir()) == [
        ".a.csv.denoiser.json",
        ".new.csv.denoiser.json",
        "a.csv",
        "new.csv",
    ]


def test_plan_keeps_the_output_folder_and_the_input_tree_apart(tmp_path: Path) -> None:
    rec = _folder(tmp_path)
    with pytest.raises(batch.InputError, match="inside the input tree"):
        batch.plan([rec / "a.csv"], rec)  # -o the inputs' own folder would overwrite them
    (rec / "den").mkdir()
    (rec / "den" / "a.csv").write_text("1\n2\n")
    found = batch.Inputs()
    inputs = batch.expand_inputs([str(rec / "**" / "*.csv")], found=found)
    with pytest.raises(batch.InputError, match="inside the input tree"):  # an earlier output is an input now
        batch.plan(inputs, rec / "den", trees=found.trees)
    with pytest.raises(batch.InputError, match="inside the output folder"):  # the output folder holds the tree
        batch.plan(inputs, tmp_path)
    (rec / "den" / "a.csv").unlink()
    with pytest.raises(batch.InputError, match="inside the input tree"):  # it would be, on a rerun
        batch.plan(batch.expand_inputs([str(rec / "**" / "*.csv")], found=found), rec / "den", trees=found.trees)
    # Files of one folder (no ** pattern): an output folder beside them holds no input, now or later.
    pairs = batch.plan([rec / "a.csv", rec / "b.csv"], rec / "den")
    assert [dst for _, dst in pairs] == [rec / "den" / "a.csv", rec / "den" / "b.csv"]
    with pytest.raises(batch.InputError, match="No file matches"):
        batch.expand_inputs([str(tmp_path / "nothing" / "*.csv")])


def test_model_is_loaded_once_per_worker(tmp_path: Path, client) -> None:
    rec = tmp_path / "rec"
    rec.mkdir()
    for i in range(6):
        pd.DataFrame({"v": _signal(600, i)}).to_csv(rec / f"f{i}.csv", index=False)
    report = run_batch(
        [str(rec / "*.csv")], tmp_path / "out", BatchOptions(model="parabola"), client=client, progress=None
    )
    assert report.failed == 0, report.rows
    loads = client.run(lambda: __import__("denoiser.batch").batch.LOADS)
    assert sorted(loads.values()) == [1, 1]  # warmed on both, then kept for all six files


def _tf_threads() -> tuple[int, int]:
    import tensorflow as tf

    return (
        tf.config.threading.get_intra_op_parallelism_threads(),
        tf.config.threading.get_inter_op_parallelism_threads(),
    )


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


def test_cli_batch_exit_status_is_the_number_of_failed_files(tmp_path: Path, cli) -> None:
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


def test_cli_search_writes_a_ranked_table_and_the_best_model(tmp_path: Path, cli) -> None:
    res = cli(
        "search",
        "-o",
        "best.keras",
        "--table",
        "ranked.csv",
        "--preset",
        "unet",
        "--window",
        "32",
        "--lr",
        "1e-3",
        "3e-3",
        "--n-signals",
        "40",
        "--epochs",
        "1",
        "--trials",
        "2",
    )
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


# ------------------------------------------------------------------ issue 21: inputs are never replaced
def _tree(root: Path) -> Path:
    """in/a/x.csv and in/b/x.csv: two inputs with the same name in sibling folders."""
    for sub, seed in (("a", 1), ("b", 2)):
        (root / "in" / sub).mkdir(parents=True)
        pd.DataFrame({"v": _signal(400, seed)}).to_csv(root / "in" / sub / "x.csv", index=False)
    return root / "in"


@pytest.mark.parametrize("out", ["in/a", "in", "in/b/new", "."])
def test_an_output_folder_inside_the_input_tree_is_refused(tmp_path: Path, cli, out: str) -> None:
    """Issue 21, item 2: `denoise 'in/**/*.csv' -o in/a` wrote in/b/x.csv's output over in/a/x.csv."""
    tree = _tree(tmp_path)
    before = {p: p.read_bytes() for p in tree.rglob("*.csv")}
    for extra in ([], ["--force"]):
        res = cli("denoise", "in/**/*.csv", "-o", out, "--model", "none", "--workers", "1", *extra)
        assert res.returncode == 2, res.stderr
        assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
        assert "input" in res.stderr and "output" in res.stderr
    assert {p: p.read_bytes() for p in tree.rglob("*.csv")} == before  # no input replaced
    assert not list(tmp_path.rglob("summary.csv"))


def test_an_output_that_is_an_input_is_refused_in_one_file_runs_too(tmp_path: Path, cli) -> None:
    tree = _tree(tmp_path)
    src = tree / "a" / "x.csv"
    data = src.read_bytes()
    os.link(src, tmp_path / "hard.csv")
    for target in (str(src), "in/a/../a/x.csv", str(tmp_path / "hard.csv")):
        res = cli("denoise", str(src), "-o", target, "--model", "none")
        assert res.returncode == 2 and "is the input" in res.stderr, res.stderr
    assert src.read_bytes() == data
    (tmp_path / "in" / "a" / "link.csv").symlink_to(src)
    res = cli("denoise", "in/a/link.csv", "-o", "in/a/x.csv", "--model", "none")
    assert res.returncode == 2 and src.read_bytes() == data


def test_a_file_the_batch_did_not_write_is_never_replaced(tmp_path: Path, client) -> None:
    rec = _folder(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.csv").write_text("my own notes\n")
    for force in (False, True):
        report = run_batch([str(rec / "*.csv")], out, NONE, client=client, progress=None, force=force)
        row = next(r for r in report.rows if r["file"].endswith("a.csv"))
        assert row["status"] == "failed" and "not written by a Denoiser batch" in row["error"], row
        assert (out / "a.csv").read_text() == "my own notes\n"
        assert report.done == 1 and (out / "b.csv").exists()


def test_rerun_redoes_truncated_garbage_or_differently_made_outputs(tmp_path: Path, client) -> None:
    """Resume checks a fingerprint of the input and the settings, and the output's own bytes."""
    rec = _folder(tmp_path)
    out = tmp_path / "out"
    first = run_batch([str(rec / "*.csv")], out, NONE, client=client, progress=None)
    assert (first.done, first.failed) == (2, 1)
    good = (out / "a.csv").read_bytes()
    (out / "a.csv").write_bytes(good[: len(good) // 2])  # truncated (a full disk, a kill)
    (out / "b.csv").write_bytes(b"garbage\n" * 3)  # garbage
    again = run_batch([str(rec / "*.csv")], out, NONE, client=client, progress=None)
    assert (again.done, again.skipped) == (2, 0)
    assert (out / "a.csv").read_bytes() == good
    same = run_batch([str(rec / "*.csv")], out, NONE, client=client, progress=None)
    assert (same.done, same.skipped) == (0, 2)
    other = run_batch([str(rec / "*.csv")], out, BatchOptions(model="none", sigma=0.05), client=client, progress=None)
    assert (other.done, other.skipped) == (2, 0)  # another --sigma: not up to date
    rec_a = rec / "a.csv"
    stamp = rec_a.stat().st_mtime_ns
    rec_a.write_bytes(rec_a.read_bytes().replace(b"0.0", b"0.1", 1))  # same size, same time stamp
    os.utime(rec_a, ns=(stamp, stamp))
    changed = run_batch([str(rec / "*.csv")], out, BatchOptions(model="none", sigma=0.05), client=client, progress=None)
    assert (changed.done, changed.skipped) == (1, 1)


def test_symlink_loops_do_not_hang_the_listing(tmp_path: Path) -> None:
    """Two symlink loops in the tree: the listing ends (a subprocess, so a hang fails instead of blocking)."""
    import subprocess
    import sys

    rec = _folder(tmp_path)
    (rec / "loop1").symlink_to(rec, target_is_directory=True)
    (rec / "loop2").symlink_to(rec, target_is_directory=True)  # two at one level: 2**40 paths to list
    code = "import sys; from denoiser.batch import expand_inputs\nprint(len(expand_inputs([sys.argv[1]])))\n"
    done = subprocess.run(
        [sys.executable, "-c", code, str(rec / "**" / "*.csv")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0 and done.stdout.split() == ["4"], done.stderr[-2000:]


def test_symlinked_files_are_not_followed_out_of_the_tree(tmp_path: Path, client) -> None:
    rec = _folder(tmp_path)
    secret = tmp_path / "elsewhere" / "secret.csv"
    secret.parent.mkdir()
    pd.DataFrame({"v": _signal(300, 9)}).to_csv(secret, index=False)
    (rec / "leak.csv").symlink_to(secret)
    (rec / "sub" / "leak_dir").symlink_to(secret.parent, target_is_directory=True)
    out = tmp_path / "out"
    report = run_batch([str(rec / "**" / "*.csv")], out, NONE, client=client, progress=None)
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.csv"))
    assert written == ["a.csv", "b.csv", "sub/c.csv", "summary.csv"]
    row = next(r for r in report.rows if r["file"].endswith("leak.csv"))
    assert row["status"].startswith("skipped") and "symbolic link" in row["status"]
    assert not any("secret" in str(r["file"]) for r in report.rows)


def test_summary_rows_cannot_be_split_or_forged_by_file_names(tmp_path: Path, client) -> None:
    """A CR or LF in a file name (and a formula) stays inside its own summary row, escaped."""
    rec = tmp_path / "rec"
    rec.mkdir()
    names = ["a\rforged,ok,1.csv", "b\nforged.csv", "=cmd|' -C calc'!A0.csv", "plain.csv"]
    for i, name in enumerate(names):
        pd.DataFrame({"v": _signal(300, i)}).to_csv(rec / name, index=False)
    out = tmp_path / "out"
    report = run_batch([str(rec / "*.csv")], out, NONE, client=client, progress=None)
    assert report.done == 4, [r["error"] for r in report.rows]
    raw = (out / "summary.csv").read_bytes()
    assert b"\r" not in raw and raw.count(b"\n") == 5  # a header and one line per file
    import csv

    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    assert sorted(r["file"].rsplit("/", 1)[-1] for r in rows) == sorted(
        ["a\\rforged,ok,1.csv", "b\\nforged.csv", "=cmd|' -C calc'!A0.csv", "plain.csv"]
    )  # a full path: no formula
    again = run_batch([str(rec / "*.csv")], out, NONE, client=client, progress=None)
    assert again.skipped == 4 and all(r["rows"] for r in again.rows)  # earlier lines found by the escaped name


def test_writing_a_csv_never_removes_another_outputs_temporary_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    other = out / f".a.csv.x.csv.123.456{batch.TEMP_SUFFIX}"  # a.csv.x.csv being written by another worker
    other.write_text("partial")
    mine = out / f".a.csv.99.77{batch.TEMP_SUFFIX}"  # a.csv's own leftover from a killed run
    mine.write_text("partial")
    batch.write_output(out / "a.csv", b"t,v\n", [tmp_path / "in.csv"], record={"input": "x", "settings": {}})
    assert other.exists() and not mine.exists()


def test_a_full_disk_names_the_output_not_the_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = _folder(tmp_path)
    dst = tmp_path / "out" / "a.csv"

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(batch.os, "fsync", full)
    row = process_file(str(rec / "a.csv"), str(dst), NONE)
    assert row["status"] == "failed" and "No space left on device" in row["error"]
    assert str(tmp_path / "out") in row["error"] and str(rec) not in row["error"], row["error"]


@pytest.mark.skipif(
    os.access("/sys/kernel", os.W_OK) and not os.path.isdir("/sys/kernel"), reason="needs a folder nobody may write to"
)
def test_an_unwritable_output_folder_is_one_clear_line(tmp_path: Path, cli) -> None:
    _folder(tmp_path)
    probe = Path("/sys/kernel") / "denoiser-probe"
    try:
        probe.open("wb").close()
        pytest.skip("/sys/kernel is writable here")
    except OSError:
        pass
    res = cli("denoise", "rec/*.csv", "-o", "/sys/kernel", "--model", "none", "--workers", "1")
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert res.stderr.startswith("error: Cannot write in the output folder '/sys/kernel'")


def test_the_local_cluster_serves_no_dashboard(tmp_path: Path) -> None:
    """No dashboard was asked for: nothing on port 8787, and the HTTP servers Dask starts anyway (scheduler
    and workers) listen on 127.0.0.1 only and answer nothing."""
    import urllib.error
    import urllib.request

    client = batch.client_for(None, 1)
    try:

        def http_ports(server) -> list:
            return [sock.getsockname()[:2] for sock in server.http_server._sockets.values()]

        ports = http_ports(client.cluster.scheduler)
        for addresses in client.run(lambda dask_worker: http_ports(dask_worker)).values():
            ports += [tuple(a) for a in addresses]
        assert len(ports) >= 2 and all(host == "127.0.0.1" and port != 8787 for host, port in ports), ports
        for _, port in ports:
            for path in ("/status", "/health", "/metrics", "/json/identity.json", "/info/main/workers.html"):
                with pytest.raises(urllib.error.HTTPError) as info:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30)
                assert info.value.code == 404, (port, path)
        assert client.scheduler_info()["address"].startswith("tcp://127.0.0.1:")
    finally:
        batch.close_client(client)


def test_a_one_file_output_to_a_pipe_is_written_not_replaced(tmp_path: Path) -> None:
    """`-o /dev/stdout` or a named pipe: written into, never renamed over (as root, a rename would replace
    /dev/stdout itself)."""
    import stat
    import threading

    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    batch.write_output(fifo, b"t,v\n1,2\n", [tmp_path / "in.csv"])
    reader.join(60)
    assert got == [b"t,v\n1,2\n"] and stat.S_ISFIFO(os.stat(fifo).st_mode)
    with pytest.raises(batch.InputError, match="not a regular file"):
        batch.write_output(fifo, b"x", [tmp_path / "in.csv"], record={"input": "x", "settings": {}})


# ------------------------------------------------------------------ inputs and workers
def test_inputs_named_twice_or_through_links_are_one_input(tmp_path: Path) -> None:
    from denoiser.batch import expand_inputs

    (tmp_path / "rec").mkdir()
    data = tmp_path / "rec" / "a.csv"
    data.write_text("t,v\n0,1\n1,2\n")
    (tmp_path / "alias.csv").symlink_to(data)
    got = expand_inputs(
        [str(data), str(tmp_path / "rec" / "." / "a.csv"), str(tmp_path / "alias.csv"), str(tmp_path / "rec" / "*.csv")]
    )
    assert len(got) == 1


def test_workers_die_with_their_client(tmp_path: Path) -> None:
    """A batch's LocalCluster workers do not outlive a client process that is killed."""
    import signal

    import psutil

    code = (
        "import os, sys; from denoiser import batch\n"
        "client = batch.client_for(None, 1)\n"
        "print(*client.run(os.getpid).values(), flush=True)\n"
        "sys.stdin.read()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert pids
        workers = [psutil.Process(p) for p in pids]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(60)
        gone, alive = psutil.wait_procs(workers, timeout=120)  # a hang guard, not a timing
        assert not alive, [p.pid for p in alive]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
