"""Model files from elsewhere (``Denoiser.load``): every crafted, damaged or code-carrying .keras file
is refused with one short InputError before it costs memory, and (in the same sweep) every crafted CSV
is refused or read; what a model saves it loads again, whatever its configuration or the text in it;
and a fit never leaves a model that cannot be saved or loaded (NaN weights, data near the float limit).

The files are crafted at test time (tests/hostile/craft.py: the ``hostile`` fixture of
tests/conftest.py) into a temporary folder. Memory bounds are checked with tracemalloc
(deterministic), not with timers.
"""

from __future__ import annotations

import json
import os
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from denoiser import InputError
from denoiser.config import ModelConfig, TrainConfig
from denoiser.core import Denoiser
from denoiser.errors import MAX_MESSAGE
from denoiser.io import read_series
from denoiser.model import build_model
from tests.hostile import craft


# ------------------------------------------------------------------ refused, in one short line
def _load(path: Path) -> object:
    return Denoiser.load(path) if path.suffix == ".keras" else read_series(path)


def _refusal(path: Path) -> str:
    with pytest.raises(InputError) as info:
        _load(path)
    return str(info.value)


def test_every_crafted_file_is_refused_with_a_short_message_or_read(hostile) -> None:
    folder, files = hostile
    assert len(files) >= 30
    for name, c in files.items():
        if c.expect == "refused":
            msg = _refusal(folder / name)
            assert 20 < len(msg) <= MAX_MESSAGE and "\n" not in msg, (name, msg[:200])
            assert "Traceback" not in msg
        else:
            _load(folder / name)  # must not raise


@pytest.mark.parametrize(
    "name, words",
    [
        ("bad_crc.keras", "Bad CRC"),
        ("corrupt_deflate.keras", "damaged"),
        ("method_99.keras", "method 99"),
        ("lzma.keras", "method 14"),
        ("encrypted.keras", "encrypted"),
        ("name_mismatch.keras", "differ"),
        ("truncated.keras", "not a model file"),
        ("nested_meta.keras", "nested too deeply"),
        ("nested_config.keras", "nested too deeply"),
        ("module_list.keras", "not text"),
        ("class_list.keras", "not text"),
        ("builtins.keras", "outside Keras"),
        ("registered.keras", "registered"),
        ("lambda_lower.keras", "lambda layer"),
        ("bool_int.keras", "hop must be an integer"),
        ("info_control.keras", "train_info field 'data'"),
        ("info_long.keras", "train_info field 'data'"),
        ("info_type.keras", "train_info field 'epochs_run'"),
        ("external_link.keras", "ExternalLink"),
    ],
)
def test_damaged_and_code_carrying_model_files_say_why(hostile, name: str, words: str) -> None:
    folder, _ = hostile
    assert words in _refusal(folder / name)


def test_messages_quoting_hostile_text_are_capped(hostile) -> None:
    folder, _ = hostile
    assert len(_refusal(folder / "long_name.keras")) < 300
    long = InputError("x" * 549_000 + " Choose another file.")
    assert len(str(long)) <= MAX_MESSAGE and str(long).endswith("Choose another file.")
    table = read_series(f"t,{'v' * 50_000}\n0,1\n1,2\n".encode())
    with pytest.raises(InputError) as info:
        table.column("nope")
    assert len(str(info.value)) <= MAX_MESSAGE


def test_weights_of_another_architecture_are_refused(hostile) -> None:
    folder, _ = hostile
    parts = craft.members((folder / "valid.keras").read_bytes())
    meta = json.loads(parts["denoiser.json"])
    meta["config"]["filters"] = 3  # the weights are for 2 filters
    parts["denoiser.json"] = json.dumps(meta).encode()
    with pytest.raises(InputError, match="do not match the architecture"):
        Denoiser.load(craft.rezip(parts))


def test_pipes_and_devices_are_refused_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    errors: list[str] = []

    def read_all() -> None:
        for target, fn in (
            (fifo, read_series),
            (fifo, Denoiser.load),
            (Path("/dev/zero"), read_series),
            (Path("/dev/zero"), Denoiser.load),
        ):
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


# ------------------------------------------------------------------ bounded before it is spent
def test_shape_bomb_is_refused_from_metadata_before_keras_reads_a_value(hostile, monkeypatch) -> None:
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
def test_compression_bombs_never_expand(hostile, name: str) -> None:
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


def test_a_million_directory_entries_are_refused_before_zipfile_parses_them(hostile) -> None:
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


# ------------------------------------------------------------------ what a model saves, it loads
@pytest.mark.parametrize(
    "config",
    [
        ModelConfig(window=16, filters=2, depth=1, kernel_size=3),
        ModelConfig(window=20, filters=2, depth=2, kernel_size=3, scaling="global"),
        ModelConfig(preset="seed", window=16, scaling="minmax", kernel_size=3),
        ModelConfig.lstm(window=16, units=2, lstm_layers=1),
        ModelConfig.lstm(window=16, units=2, lstm_layers=2, bidirectional=False),
    ],
    ids=["unet", "unet-global", "seed", "lstm", "lstm-one-way"],
)
def test_every_architecture_round_trips_through_the_layout_check(config: ModelConfig) -> None:
    den = Denoiser(config)
    den.model_ = build_model(config)
    back = Denoiser.load(den.to_bytes())
    for a, b in zip(den.model_.get_weights(), back.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert back.config == config


def test_train_info_from_a_search_still_loads() -> None:
    den = Denoiser(ModelConfig(window=16, filters=2, depth=1, kernel_size=3))
    den.model_ = build_model(den.config)
    den.train_info_ = {
        "best_epoch": 3,
        "epochs_run": 5,
        "stopped_by_user": False,
        "seconds": 1.5,
        "train_config": {"epochs": 5, "loss": "mse", "learning_rate": 0.001},
        "windows": {"train": 10, "val": 2, "test": 2},
        "data": "sines, σ 0.1 (x²)",
        "search": {
            "params": {"filters": 8, "preset": "unet"},
            "trials": 4,
            "val_mse": 0.01,
            "test": "12 held-out signals",
        },
    }
    assert Denoiser.load(den.to_bytes()).train_info_ == den.train_info_


def test_markdown_in_train_info_loads_as_plain_data(hostile) -> None:
    folder, _ = hostile
    den = Denoiser.load(folder / "markdown_info.keras")
    assert den.train_info_["data"] == f"{craft.MARKDOWN_IMAGE} data"
    from app_pages.ui.text import plain

    shown = plain(den.train_info_["data"])
    assert "![" not in shown and "](" not in shown and r"\!\[x\]\(" in shown


@pytest.mark.parametrize(
    "name", ["a\xa0b", "a\tb", "a\nb", "x" * 600, "\x1b[2Jc\u202e"], ids=["nbsp", "tab", "newline", "long", "control"]
)
def test_a_model_trained_on_any_column_name_loads_after_it_is_saved(name: str) -> None:
    """The self-supervised note names the column (CLI and app); the saved file must pass its own loader."""
    den = Denoiser(ModelConfig(window=16, filters=2, depth=1, kernel_size=3))
    noisy = np.sin(np.arange(400) / 5) + 0.1 * np.random.default_rng(0).standard_normal(400)
    den.fit(
        noisy,
        None,
        TrainConfig.selfsup(epochs=1, batch_size=8, init="", seed=0),
        data_note=f"uploaded column '{name}' (400 samples), self-supervised",
    )
    back = Denoiser.load(den.to_bytes())
    note = back.train_info_["data"]
    assert note.isprintable() and len(note) <= 500 and note.startswith("uploaded column '")
    for a, b in zip(den.model_.get_weights(), back.model_.get_weights()):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ a fit leaves no model that cannot be saved or loaded
def test_training_on_data_near_the_float_limit_is_refused_not_turned_into_nan() -> None:
    den = Denoiser(ModelConfig(window=16, filters=2, depth=1, kernel_size=3))
    x = np.where(np.arange(400) % 2, 1e308, -1e308) * np.sin(np.arange(400) / 7)
    with pytest.raises(InputError, match="scaling its windows overflows"):
        den.fit(x, None, TrainConfig.selfsup(epochs=1, batch_size=8, init="", seed=0))
    clean = np.sin(np.arange(32 * 16).reshape(32, 16))
    with pytest.raises(InputError, match="overflows"):
        den.fit(clean * 1e308, clean * 1e308, TrainConfig(epochs=1, batch_size=8, seed=0))


def test_a_fit_that_leaves_nan_weights_leaves_no_model() -> None:
    """A diverged run ends in weights of NaN: the fit refuses it (Home, Generate and Compare showed a
    traceback for such a model) and the Denoiser is left unfitted, not half-broken."""
    den = Denoiser(ModelConfig(window=16, filters=2, depth=1, kernel_size=3))
    den.model_ = build_model(den.config)
    diverged = build_model(den.config)
    weights = diverged.get_weights()
    weights[-1] = np.full_like(weights[-1], np.nan)
    diverged.set_weights(weights)
    with pytest.raises(InputError, match="The trained network's weights hold"):
        den._finished_network(diverged, TrainConfig(epochs=1))
    assert den.model_ is None
    with pytest.raises(InputError, match="no trained network"):
        den.denoise(np.zeros(32))


def _nan_model() -> bytes:
    """A valid model file whose weights hold NaN (as a diverged fit leaves them): built past save's check."""
    den = Denoiser(ModelConfig(window=16, filters=2, depth=1, kernel_size=3))
    den.model_ = build_model(den.config)
    good = den.to_bytes()
    weights = den.model_.get_weights()
    weights[0] = np.full_like(weights[0], np.nan)
    den.model_.set_weights(weights)
    with pytest.raises(InputError, match="NaN or infinite"):
        den.to_bytes()  # save refuses it
    parts = craft.members(good)
    import io

    import h5py

    buf = io.BytesIO(parts["model.weights.h5"])
    with h5py.File(buf, "r+") as h5:
        first = []
        h5.visititems(lambda name, obj: first.append(name) if isinstance(obj, h5py.Dataset) and obj.ndim == 3 else None)
        h5[first[0]][...] = np.nan
    parts["model.weights.h5"] = buf.getvalue()
    return craft.rezip(parts)


def test_a_model_file_with_nan_weights_is_refused_at_load_and_by_the_cli(tmp_path: Path, cli) -> None:
    path = tmp_path / "nan.keras"
    path.write_bytes(_nan_model())
    msg = _refusal(path)
    assert "NaN or infinite" in msg and "\n" not in msg
    good = tmp_path / "good.csv"
    good.write_text("t,v\n" + "\n".join(f"{i},{np.sin(i / 5):.4f}" for i in range(64)) + "\n")
    done = cli("denoise", str(good), "--model", str(path), "--raw", "-o", str(tmp_path / "out.csv"))
    assert done.returncode == 2 and done.stderr.startswith("error: ") and "NaN or infinite" in done.stderr
    assert not (tmp_path / "out.csv").exists()


def test_fit_and_train_data_refuse_bad_data_cleanly(tmp_path: Path, cli) -> None:
    den = Denoiser(ModelConfig(window=16, filters=2, depth=1, kernel_size=3))
    x = np.sin(np.arange(400) / 5)
    x[17] = np.nan
    with pytest.raises(InputError, match="NaN or infinite"):
        den.fit(x, None, TrainConfig.selfsup(epochs=1, init="", seed=0))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "text.csv").write_text("a,b\nx,y\nz,w\n")
    (tmp_path / "data" / "empty.csv").write_text("")
    done = cli(
        "train",
        "--data",
        str(tmp_path / "data" / "*.csv"),
        "--self-supervised",
        "--from-scratch",
        "--window",
        "16",
        "--epochs",
        "1",
        "-o",
        str(tmp_path / "m.keras"),
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and done.stderr.splitlines()[-1].startswith("error: ")
    assert not (tmp_path / "m.keras").exists()
