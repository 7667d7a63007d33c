"""Streamed training (denoiser.stream, Denoiser.fit_stream, ``train --data``): many files, one in memory at a time."""

import gc
import tracemalloc
import weakref
from pathlib import Path

import numpy as np
import pytest

import denoiser
from denoiser import InputError, cli, stream, windows
from denoiser.config import ModelConfig, TrainConfig
from denoiser.core import Denoiser
from denoiser.io import read_series
from denoiser.modelfile import read_model_file
from denoiser.train import frame_parts, part_hops, split_series
from tests.support import ARCHIVE_SIGMA, archive, sines

TINY = ModelConfig(window=64, filters=8, depth=2)
SIGMA = ARCHIVE_SIGMA  # the archive's noise level


def selfsup(epochs: int = 3, **changes) -> TrainConfig:
    """Fresh weights (no bundled model): a small, fast self-supervised run."""
    return TrainConfig.selfsup(init="", epochs=epochs, learning_rate=1e-3, **changes)


# ------------------------------------------------------------ plan: scan, skip, split
def test_plan_skips_a_bad_file_with_its_reason_and_splits_files_by_seed(tmp_path):
    archive(tmp_path / "a", n=12, rows=400)
    seen = []
    plan = stream.make_plan(
        str(tmp_path / "a" / "*.csv"), 64, TrainConfig(seed=1), on_skip=lambda p, r: seen.append((p, r))
    )
    assert [Path(p).name for p, _ in seen] == ["bad.csv"] and "no numbers" in seen[0][1]
    assert plan.skipped == seen and plan.split == "files" and plan.files == 12
    files = {k: {s.path for s in v} for k, v in plan.parts.items()}
    assert not (files["train"] & files["val"] or files["train"] & files["test"] or files["val"] & files["test"])
    assert len(files["train"] | files["val"] | files["test"]) == 12 and files["val"] and files["test"]
    assert all((s.start, s.stop) == (0, 400) for v in plan.parts.values() for s in v)
    again = stream.make_plan(str(tmp_path / "a" / "*.csv"), 64, TrainConfig(seed=1), on_skip=None)
    other = stream.make_plan(str(tmp_path / "a" / "*.csv"), 64, TrainConfig(seed=2), on_skip=None)
    assert again.parts == plan.parts and other.parts != plan.parts
    with pytest.warns(stream.StreamWarning, match=r"skipped .*bad\.csv: .*no numbers"):
        stream.make_plan([str(tmp_path / "a" / "**" / "*.csv")], 64, TrainConfig())


def test_few_files_are_split_in_time_like_one_recording_in_memory(tmp_path):
    paths = archive(tmp_path, n=3, rows=3000, bad=False)
    cfg = TrainConfig(seed=0)
    plan = stream.make_plan([str(p) for p in paths], 64, cfg)
    assert plan.split == "time" and plan.files == 3
    ranges = split_series(np.zeros(3000), cfg, 64)
    for part, sources in plan.parts.items():
        assert [(Path(s.path).name, s.start, s.stop) for s in sources] == [
            (p.name, a, b) for p in paths for _, a, b in ranges[part]
        ]


def test_plan_errors_say_what_is_wrong(tmp_path):
    archive(tmp_path, n=2, rows=300)
    with pytest.raises(InputError, match="No file matches"):
        stream.make_plan(str(tmp_path / "nothing" / "*.csv"), 64, TrainConfig())
    with pytest.raises(InputError, match=r"None of the 1 file\(s\).*no numbers"):
        stream.make_plan(str(tmp_path / "bad.csv"), 64, TrainConfig(), on_skip=None)
    seen = []
    with pytest.raises(InputError, match="None of the 3 file"):
        stream.make_plan(
            str(tmp_path / "*.csv"), 64, TrainConfig(), columns=["pressure"], on_skip=lambda p, r: seen.append(r)
        )
    assert any("no column 'pressure'; its value columns are 'value'" in r for r in seen)
    with pytest.raises(InputError, match="long enough to split in time"):  # 300 samples < 2 windows + gap
        stream.make_plan(str(tmp_path / "rec*.csv"), 256, TrainConfig(), on_skip=None)


# ------------------------------------------------------------ the same windows as in memory
@pytest.mark.parametrize("scaling", ["standard", "global", "global-minmax"])
def test_streamed_windows_equal_the_in_memory_framing_and_scaling(tmp_path, scaling):
    (path,) = archive(tmp_path, n=1, rows=3000, clean=True, bad=False)
    config = ModelConfig(window=64, filters=8, depth=2, scaling=scaling)
    cfg = TrainConfig(seed=0, batch_size=16, weighting="none")
    plan = stream.make_plan(str(path), 64, cfg, columns=["value"], clean_column="clean")
    table = read_series(path)
    noisy, clean = table.column("value"), table.column("clean")
    parts = split_series(noisy, cfg, 64)
    hops = part_hops(64, self_supervised=True)  # the dense training hop of a self-supervised fit
    x_train = frame_parts(noisy, parts["train"], 64, hops["train"])
    offset, scale = 0.0, 1.0
    if config.uses_global_stats:
        offset, scale = stream.global_stats(plan, scaling, hops["train"])
        np.testing.assert_allclose((offset, scale), windows.global_stats(x_train, scaling), rtol=1e-10)

    def in_memory(frames):  # what Denoiser.fit trains on
        o, s = windows.window_stats(frames, scaling, global_offset=offset, global_scale=scale)
        return windows.scale(frames, o, s).astype(np.float32), o, s

    streamed = np.concatenate(
        [
            x
            for x, _ in stream.scaled_chunks(
                plan.parts["train"], config, hops["train"], global_offset=offset, global_scale=scale
            )
        ]
    )
    np.testing.assert_array_equal(streamed, in_memory(x_train)[0])
    # The validation batches of tf.data (in order, supervised): inputs and targets as in memory.
    xv, o, s = in_memory(frame_parts(noisy, parts["val"], 64, hops["val"]))
    yv = windows.scale(frame_parts(clean, parts["val"], 64, hops["val"]), o, s).astype(np.float32)
    got = list(stream.dataset(plan, config, cfg, "val", global_offset=offset, global_scale=scale).as_numpy_iterator())
    np.testing.assert_array_equal(np.concatenate([b[0] for b in got])[..., 0], xv)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in got])[..., 0], yv)


# ------------------------------------------------------------ memory: one file at a time
def test_the_stream_never_holds_more_than_one_file(tmp_path, monkeypatch):
    rows = 200_000
    paths = archive(tmp_path, n=6, rows=rows, bad=False)
    plan = stream.make_plan([str(p) for p in paths], 64, TrainConfig(), on_skip=None)
    assert plan.split == "time"
    held, tables = [], []
    real = stream.read_series

    def spy(path, *a, **kw):  # at every read: memory held by the stream above its start, earlier tables alive
        gc.collect()
        held.append(tracemalloc.get_traced_memory()[0] - start)
        alive = sum(ref() is not None for ref in tables)
        table = real(path, *a, **kw)
        tables.append(weakref.ref(table))
        held[-1] = (held[-1], alive)
        return table

    monkeypatch.setattr(stream, "read_series", spy)
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        n = sum(len(x) for x, _ in stream.scaled_chunks(plan.parts["train"], TINY, 4))
    finally:
        tracemalloc.stop()
    assert n == plan.n_windows("train", 4) and len(held) == 6  # each file read once, all windows came
    one_file = rows * 8  # bytes of one column as float64
    # Before each read nothing of the previous file is left: no table, and less than half a column's bytes
    # (what is held is the last chunk of windows, CHUNK x window, not the file).
    assert all(alive == 0 for _, alive in held)
    assert max(mem for mem, _ in held) < one_file / 2, held


def test_each_epoch_reads_every_training_file_once_in_a_new_seeded_order(tmp_path, monkeypatch):
    archive(tmp_path, n=12, rows=300, bad=False)
    plan = stream.make_plan(str(tmp_path / "*.csv"), 64, TrainConfig(), on_skip=None)
    reads = []
    real = stream.read_series
    monkeypatch.setattr(stream, "read_series", lambda path, *a, **kw: reads.append(Path(path).name) or real(path))
    cfg = selfsup(batch_size=8)

    def two_epochs():
        ds = stream.dataset(plan, TINY, cfg, "train", shuffle_buffer=50)
        del reads[:]
        passes = []
        for _ in range(2):
            batches = list(ds.as_numpy_iterator())
            passes.append(list(reads))
            del reads[:]
            assert sum(len(b[0]) for b in batches) == plan.n_windows("train", 4)
            assert batches[0][0].shape[1:] == (64, 1) and batches[0][1].shape[1:] == (64, 2)
        return passes

    first, second = two_epochs()
    train_files = sorted({Path(s.path).name for s in plan.parts["train"]})
    assert sorted(first) == sorted(second) == train_files and first != second
    assert two_epochs() == [first, second]  # the same seed, the same orders


def test_a_file_that_breaks_during_training_is_left_out_and_reported_once(tmp_path):
    paths = archive(tmp_path, n=3, rows=2000, bad=False)
    plan = stream.make_plan([str(p) for p in paths], 64, TrainConfig(), on_skip=None)
    paths[1].write_bytes(b"\x1f\x8b\x08\x00 now gzip")
    seen, reported = [], set()
    for _ in range(2):
        chunks = list(
            stream.scaled_chunks(
                plan.parts["train"], TINY, 32, on_skip=lambda p, r: seen.append((p, r)), reported=reported
            )
        )
        assert sum(len(x) for x, _ in chunks) == plan.n_windows("train", 32) * 2 // 3
    assert len(seen) == 1 and seen[0][0] == str(paths[1]) and "while training" in seen[0][1]


# ------------------------------------------------------------ training
@pytest.mark.slow
def test_fit_stream_learns_self_supervised_from_an_archive_and_denoises(tmp_path):
    archive(tmp_path, n=6, rows=3000)
    with pytest.warns(stream.StreamWarning, match=r"bad\.csv"):
        den = Denoiser(TINY).fit_stream(str(tmp_path / "*.csv"), selfsup(epochs=3), data_note="six sines")
    assert den.config.blind_spot == 4 and den.train_info_["split"] == "time"
    assert den.train_info_["stream"]["files"] == 6 and den.train_info_["stream"]["skipped"] == 1
    assert "bad.csv" in den.train_info_["stream"]["skipped_files"][0]
    loss = den.history_["loss"]
    assert len(loss) == 3 and loss[-1] < loss[0]
    m = den.test_metrics_
    assert m["blind_spot_mse"] < m["neighbour_mse"]
    clean, noisy = sines(4000, 2, seed=99)  # held out: a noise draw no file has
    out = den.denoise(noisy)
    assert denoiser.gain_db(clean, noisy, out) > 3.0
    den.save(tmp_path / "m.keras")
    back = Denoiser.load(tmp_path / "m.keras")
    np.testing.assert_array_equal(back.denoise(noisy), out)
    assert back.train_info_["stream"] == den.train_info_["stream"] and back.train_info_["data"] == "six sines"


@pytest.mark.slow
def test_fit_stream_supervised_on_clean_columns_reports_test_figures_in_data_units(tmp_path):
    archive(tmp_path, n=6, rows=3000, clean=True, bad=False)
    den = Denoiser(TINY).fit_stream(
        str(tmp_path / "*.csv"), TrainConfig(epochs=2, batch_size=16), columns=["value"], clean_column="clean"
    )
    assert den.config.blind_spot == 0 and len(den.history_["loss"]) == 2
    m = den.test_metrics_
    assert abs(m["noisy_mse"] - SIGMA**2) < 0.25 * SIGMA**2  # the test windows' noise, streamed chunk by chunk
    assert m["gain_db"] == pytest.approx(10 * np.log10(m["noisy_mse"] / m["mse"]))


def test_fit_stream_and_dataset_refuse_supervised_training_without_clean_targets(tmp_path):
    archive(tmp_path, n=3, rows=2000, clean=True, bad=False)
    with pytest.raises(InputError, match="learns from the noisy recordings alone"):
        Denoiser(TINY).fit_stream(str(tmp_path / "*.csv"), selfsup(), clean_column="clean")
    plan = stream.make_plan(str(tmp_path / "*.csv"), 64, TrainConfig(), columns=["value"])
    with pytest.raises(InputError, match="clean version of every series.*--self-supervised"):
        stream.dataset(plan, TINY, TrainConfig(), "train")
    with pytest.raises(InputError, match="shuffle_buffer"):
        stream.dataset(plan, TINY, selfsup(), "train", shuffle_buffer=0)


# ------------------------------------------------------------ command line
@pytest.mark.slow
def test_cli_train_data_streams_self_supervised_and_saves_a_model_that_loads(tmp_path, capsys):
    archive(tmp_path / "recordings" / "site", n=6, rows=3000)
    out = tmp_path / "model.keras"
    status = cli.main(
        [
            "train",
            "--data",
            str(tmp_path / "recordings" / "**" / "*.csv"),
            "--self-supervised",
            "--from-scratch",
            "--window",
            "64",
            "--filters",
            "8",
            "--epochs",
            "2",
            "--seed",
            "3",
            "-o",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert status == 0, err
    lines = err.splitlines()
    assert any(line.startswith("skipped ") and "bad.csv" in line and "no numbers" in line for line in lines)
    assert [line.split()[:2] for line in lines if line.startswith("epoch")] == [["epoch", "1/2"], ["epoch", "2/2"]]
    assert "6 file(s) used, 1 skipped" in lines[-1] and str(out) in lines[-1]
    read_model_file(out)  # the model file's own checks
    den = Denoiser.load(out)
    assert den.config.window == 64 and den.config.blind_spot == 4 and den.train_info_["train_config"]["seed"] == 3
    clean, noisy = sines(3000, 1, seed=42)
    assert denoiser.gain_db(clean, noisy, den.denoise(noisy)) > 0


def test_cli_train_data_says_what_to_do_without_a_clean_source(tmp_path, capsys):
    archive(tmp_path, n=2, rows=500)
    data = str(tmp_path / "*.csv")
    for argv, message in [
        ([], "no clean versions to train against: add --self-supervised"),
        (["--self-supervised", "--clean-column", "value"], "drop --clean-column"),
        (["--self-supervised", "--sigma", "0.1"], "adds no noise"),
        (["--self-supervised", "--csv", str(tmp_path / "rec0.csv")], "give one of them"),
    ]:
        assert cli.main(["train", "--data", data, "-o", str(tmp_path / "m.keras"), *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1
    assert (
        cli.main(
            [
                "train",
                "--data",
                str(tmp_path / "bad.csv"),
                "--self-supervised",
                "--from-scratch",
                "-o",
                str(tmp_path / "m.keras"),
            ]
        )
        == 2
    )
    assert "None of the 1 file(s) has a usable series" in capsys.readouterr().err
    assert not (tmp_path / "m.keras").exists()
