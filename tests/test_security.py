"""Hostile files (issue 9): every crafted model file and CSV ends refused with a short InputError, or
is read normally; resources are bounded before they are spent; text from files is never Markdown.

The files are crafted at test time (tests/hostile/craft.py) into a temporary folder.
Memory bounds are checked with tracemalloc (deterministic), not with timers; the one
guard against a quadratic regex runs in a subprocess with a generous hang limit.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from conftest import cli_subprocess

from denoiser import InputError
from denoiser.config import ModelConfig
from denoiser.core import Denoiser
from denoiser.errors import MAX_MESSAGE
from denoiser.io import read_series, to_csv_bytes
from denoiser.model import build_model
from tests.hostile import craft

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, craft.Crafted]]:
    folder = tmp_path_factory.mktemp("hostile")
    return folder, {c.name: c for c in craft.craft_all(folder)}


def _load(path: Path) -> object:
    return Denoiser.load(path) if path.suffix == ".keras" else read_series(path)


def _refusal(path: Path) -> str:
    with pytest.raises(InputError) as info:
        _load(path)
    return str(info.value)


def test_every_crafted_file_is_refused_with_a_short_message_or_read(hostile) -> None:  # noqa: ANN001
    folder, files = hostile
    assert len(files) >= 30
    for name, c in files.items():
        if c.expect == "refused":
            msg = _refusal(folder / name)
            assert 20 < len(msg) <= MAX_MESSAGE and "\n" not in msg, (name, msg[:200])
            assert "Traceback" not in msg
        else:
            _load(folder / name)  # must not raise


def test_shape_bomb_is_refused_from_metadata_before_keras_reads_a_value(hostile, monkeypatch) -> None:  # noqa: ANN001
    folder, _ = hostile
    import keras

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("Keras was asked to read the weights of a shape bomb")

    Denoiser.load(folder / "valid.keras")  # the same architecture: Keras' own start-up is not counted
    monkeypatch.setattr(keras.Model, "load_weights", never)
    tracemalloc.start()
    try:
        for name in ("shape_bomb.keras", "shape_bomb_1gb.keras"):
            msg = _refusal(folder / name)
            assert "do not match the architecture" in msg and "/layers/" in msg
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100 * 1024**2, peak  # the bombs declare 1 and 4 GB


@pytest.mark.parametrize("name", ["bzip2_bomb.keras", "bzip2_bomb_lie.keras", "deflate_bomb.keras"])
def test_compression_bombs_never_expand(hostile, name: str) -> None:  # noqa: ANN001
    folder, _ = hostile
    tracemalloc.start()
    try:
        msg = _refusal(folder / name)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Each expands to 16 MB here (gigabytes with --big): reading stops at the declared size.
    assert peak < 4 * 1024**2, f"{name}: {peak / 1024**2:.1f} MB traced"
    if "bzip2" in name:
        assert "compression method 12" in msg and "stored or deflate" in msg
    else:
        assert "damaged" in msg


def test_a_million_directory_entries_are_refused_before_zipfile_parses_them(hostile) -> None:  # noqa: ANN001
    folder, _ = hostile
    size = (folder / "million_entries.keras").stat().st_size
    tracemalloc.start()
    try:
        msg = _refusal(folder / "million_entries.keras")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "1,000,004 entries" in msg
    assert peak < 3 * size  # the file itself and a copy; 1M ZipInfo objects would be > 1 GB
    assert "9 entries" in _refusal(folder / "nine_entries.keras")


@pytest.mark.parametrize("name, words", [
    ("bad_crc.keras", "Bad CRC"), ("corrupt_deflate.keras", "damaged"), ("method_99.keras", "method 99"),
    ("lzma.keras", "method 14"), ("encrypted.keras", "encrypted"), ("name_mismatch.keras", "differ"),
    ("truncated.keras", "not a model file"), ("nested_meta.keras", "nested too deeply"),
    ("nested_config.keras", "nested too deeply"), ("module_list.keras", "not text"),
    ("class_list.keras", "not text"), ("builtins.keras", "outside Keras"), ("registered.keras", "registered"),
    ("lambda_lower.keras", "lambda layer"), ("bool_int.keras", "hop must be an integer"),
    ("info_control.keras", "train_info field 'data'"), ("info_long.keras", "train_info field 'data'"),
    ("info_type.keras", "train_info field 'epochs_run'"), ("external_link.keras", "ExternalLink"),
])
def test_damaged_and_code_carrying_model_files_say_why(hostile, name: str, words: str) -> None:  # noqa: ANN001
    folder, _ = hostile
    assert words in _refusal(folder / name)


def test_messages_quoting_hostile_text_are_capped(hostile) -> None:  # noqa: ANN001
    folder, _ = hostile
    assert len(_refusal(folder / "long_name.keras")) < 300
    long = InputError("x" * 549_000 + " Choose another file.")
    assert len(str(long)) <= MAX_MESSAGE and str(long).endswith("Choose another file.")
    table = read_series(f"t,{'v' * 50_000}\n0,1\n1,2\n".encode())
    with pytest.raises(InputError) as info:
        table.column("nope")
    assert len(str(info.value)) <= MAX_MESSAGE


def test_markdown_in_train_info_loads_as_plain_data(hostile) -> None:  # noqa: ANN001
    folder, _ = hostile
    den = Denoiser.load(folder / "markdown_info.keras")
    assert den.train_info_["data"] == f"{craft.MARKDOWN_IMAGE} data"
    from app_pages._ui import plain

    shown = plain(den.train_info_["data"])
    assert "![" not in shown and "](" not in shown and r"\!\[x\]\(" in shown


@pytest.mark.parametrize("config", [
    ModelConfig(window=16, filters=2, depth=1, kernel_size=3),
    ModelConfig(window=20, filters=2, depth=2, kernel_size=3, scaling="global"),
    ModelConfig(preset="seed", window=16, scaling="minmax", kernel_size=3),
    ModelConfig.lstm(window=16, units=2, lstm_layers=1),
    ModelConfig.lstm(window=16, units=2, lstm_layers=2, bidirectional=False),
], ids=["unet", "unet-global", "seed", "lstm", "lstm-one-way"])
def test_every_architecture_round_trips_through_the_layout_check(config: ModelConfig) -> None:
    den = Denoiser(config)
    den.model_ = build_model(config)
    back = Denoiser.load(den.to_bytes())
    for a, b in zip(den.model_.get_weights(), back.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert back.config == config


def test_weights_of_another_architecture_are_refused(hostile) -> None:  # noqa: ANN001
    folder, _ = hostile
    parts = craft.members((folder / "valid.keras").read_bytes())
    meta = json.loads(parts["denoiser.json"])
    meta["config"]["filters"] = 3  # the weights are for 2 filters
    parts["denoiser.json"] = json.dumps(meta).encode()
    with pytest.raises(InputError, match="do not match the architecture"):
        Denoiser.load(craft.rezip(parts))


def test_train_info_from_a_search_still_loads() -> None:
    den = Denoiser(ModelConfig(window=16, filters=2, depth=1, kernel_size=3))
    den.model_ = build_model(den.config)
    den.train_info_ = {"best_epoch": 3, "epochs_run": 5, "stopped_by_user": False, "seconds": 1.5,
                       "train_config": {"epochs": 5, "loss": "mse", "learning_rate": 0.001},
                       "windows": {"train": 10, "val": 2, "test": 2}, "data": "sines, σ 0.1 (x²)",
                       "search": {"params": {"filters": 8, "preset": "unet"}, "trials": 4, "val_mse": 0.01,
                                  "test": "12 held-out signals"}}
    assert Denoiser.load(den.to_bytes()).train_info_ == den.train_info_


# ------------------------------------------------------------------ CSV
def test_digit_runs_read_in_bounded_time() -> None:
    """A 200 KB run of digits and a letter: ~40 minutes with the old patterns; a 120 s hang guard here."""
    code = ("from denoiser.io import read_series; import sys\n"
            "rows = '\\n'.join(f'{i},{i}' for i in range(5))\n"
            "for sep in (',', ';'):\n"
            "    data = f't{sep}v\\n{rows.replace(\",\", sep)}\\n5{sep}' + '1' * 200_000 + 'a\\n'\n"
            "    print(read_series(data.encode()).report.columns)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["['v']", "['v']"]


def test_number_patterns_accept_what_they_accepted_before() -> None:
    import re

    from denoiser import io as dio

    old_dot = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity)", re.I)
    old_comma = re.compile(r"[+-]?(?:\d+,?\d*|,\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity)", re.I)
    cells = ["1", "12", "1.", "1.5", ".5", "-.5", "+3", "1e5", "1.5e-3", "1E+07", "inf", "-Infinity", "1.2.3",
             "e5", "1e", ".", "-", "1,5", ",5", "1,", "12a", "a12", "1 2", "0x1f", "１２", "1_000"]
    for cell in cells:
        assert bool(dio._NUM_DOT.fullmatch(cell)) == bool(old_dot.fullmatch(cell)), cell
        assert bool(dio._NUM_COMMA.fullmatch(cell)) == bool(old_comma.fullmatch(cell)), cell
    assert dio._cell_kind("1" * 101, dio._NUM_DOT) == "text"  # too long to be a measurement
    assert dio._cell_kind("1" * 100, dio._NUM_DOT) == "num"


def test_a_read_over_its_time_budget_stops_with_a_clear_message() -> None:
    with pytest.raises(InputError, match=r"took longer than 0 s .*stopped"):
        read_series(b"t,v\n0,1\n1,2\n2,3\n", time_budget=0)
    assert read_series(b"t,v\n0,1\n1,2\n2,3\n").report.rows == 3


def test_dates_parsed_in_chunks_equal_one_pass(monkeypatch) -> None:  # noqa: ANN001
    from denoiser.io import times as dio  # the module that reads the chunk size and calls _tick

    data = ("t,v\n" + "\n".join(f"2024/01/{1 + i % 28:02d} 12:{i % 60:02d}:00,{i}" for i in range(250))).encode()
    whole = read_series(data).time
    monkeypatch.setattr(dio, "_DATE_CHUNK", 40)
    calls = []
    real_tick = dio._tick
    monkeypatch.setattr(dio, "_tick", lambda stage: (calls.append(stage), real_tick(stage)))
    chunked = read_series(data).time
    assert calls.count("reading time stamps") == 7  # 250 rows in chunks of 40: the budget is checked between
    assert whole.equals(chunked)


def test_full_width_formula_look_alikes_are_neutralised(hostile) -> None:  # noqa: ANN001
    folder, _ = hostile
    table = read_series(folder / "formula_fullwidth.csv")
    header = to_csv_bytes(table, {}).decode().split("\n")[0]
    cells = header.split(",")
    assert cells[0] == "t"
    assert all(c.startswith(("'", "\"'")) for c in cells[1:]), header


def test_pipes_and_devices_are_refused_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    errors: list[str] = []

    def read_all() -> None:
        for target, fn in ((fifo, read_series), (fifo, Denoiser.load), (Path("/dev/zero"), read_series),
                           (Path("/dev/zero"), Denoiser.load)):
            try:
                fn(target)
            except InputError as err:
                errors.append(str(err))

    worker = threading.Thread(target=read_all, daemon=True)
    worker.start()
    worker.join(60)
    if worker.is_alive():  # it opened the pipe and waits for a writer: release it, then fail
        with open(fifo, "wb"):
            pass
        pytest.fail("a named pipe was opened and read")
    assert len(errors) == 4 and all("not a regular file" in e for e in errors), errors


# ------------------------------------------------------------------ CLI
def test_cli_refuses_hostile_files_with_one_line_and_status_2(hostile, tmp_path: Path, cli) -> None:  # noqa: ANN001
    folder, _ = hostile
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    # a subprocess: were the pipe opened, the read would block, and only the timeout would end it
    done = cli_subprocess("denoise", str(fifo), "-o", str(tmp_path / "out.csv"), "--model", "none",
                          cwd=ROOT, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr[-2000:]
    assert "not a regular file" in done.stderr
    good = tmp_path / "good.csv"
    good.write_text("t,v\n" + "\n".join(f"{i},{np.sin(i / 5):.4f}" for i in range(64)) + "\n")
    done = cli("denoise", str(good), "--model", str(folder / "shape_bomb.keras"), "--raw", "-o",
               str(tmp_path / "out.csv"))
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "do not match" in done.stderr
