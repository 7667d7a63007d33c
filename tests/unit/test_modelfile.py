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

from denoiser import InputError
from denoiser.config import ModelConfig, TrainConfig
from denoiser.core import Denoiser
from denoiser.errors import MAX_MESSAGE
from denoiser.io import read_series
from denoiser.model import build_model
from tests.hostile import craft
from tests.support import ROOT, cli_subprocess, run_scripts, start


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
    from app_pages.ui.text import plain

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


# ------------------------------------------------------------------ issue 21: the reproducing script
# Text that ends a line (or a string) in some reader of the script: LF, CR, NEL, LINE SEPARATOR,
# quotes and backslashes; each carries a statement that would leave a file behind if it ran.
SCRIPT_PAYLOADS = [
    "a\nimport os; open('PWNED', 'w').close()\n#",
    "b\rimport os; open('PWNED', 'w').close()\r#",
    "c\u2028import os; open('PWNED', 'w').close()\u2028#",
    "d\x85import os; open('PWNED', 'w').close()\x85#",
    "e'\"); open('PWNED', 'w').close(); ('\\",
    "f\\\nopen('PWNED', 'w').close()\n'''",
]


def _script_case(folder: Path, payload: str, field: str, model: bytes) -> str:
    """One upload with ``payload`` in ``field`` (file, column, clean, clean_file, model), written to
    ``folder`` as the user would have it (data, clean file, model file); returns the script the
    Compare page writes for it (the same recipe as its download: a typed sigma on the column shown)."""
    from denoiser.apply import Level, Recipe
    from denoiser.io import read_series
    from denoiser.script import MODEL_FILE, file_script

    folder.mkdir()
    safe = "recording"
    file = f"{payload.replace('/', '_')}.csv" if field == "file" else f"{safe}.csv"
    clean_file = f"{payload.replace('/', '_')}_clean.csv" if field == "clean_file" else f"{safe}_clean.csv"
    column = payload if field == "column" else "v"
    clean = payload if field == "clean" else "truth"
    rows = "\n".join(f"{i},{np.sin(i / 4) + 0.1 * ((i * 7) % 5 - 2):.4f}" for i in range(96))
    quote = lambda name: '"' + name.replace('"', '""') + '"'  # noqa: E731 -- a CSV header cell
    (folder / file).write_bytes(f"t,{quote(column)}\n{rows}\n".encode())
    (folder / clean_file).write_bytes(f"t,{quote(clean)}\n{rows}\n".encode())
    (folder / MODEL_FILE).write_bytes(model)
    # the names as the app has them (the reader reads a CR inside quotes as a newline)
    column = read_series(folder / file).values.columns[0]
    clean = read_series(folder / clean_file).values.columns[0]
    if field in ("column", "clean"):
        name = column if field == "column" else clean
        assert len(name.splitlines()) > 1 or "'" in name, name  # still hostile
    label = payload if field == "model" else "my model"
    recipe = Recipe(model=MODEL_FILE, columns=(column,), levels=((column, Level(sigma=0.1)),))
    return file_script(recipe, file, model_label=label, clean=(column, clean, clean_file))


def test_no_header_file_or_model_name_can_put_code_into_the_script(tmp_path: Path) -> None:
    """Every user-controlled field of the Compare page's script, with every payload: the scripts run,
    write their output, and no payload statement runs (issue 21, item 1)."""
    import ast

    model = craft.base_model()
    cases = []
    for i, payload in enumerate(SCRIPT_PAYLOADS):
        for field in ("file", "column", "clean", "clean_file", "model"):
            folder = tmp_path / f"case{i}_{field}"
            script = _script_case(folder, payload, field, model)
            tree = ast.parse(script)  # it parses, and holds only the statements a plain name gives:
            kinds = [type(node).__name__ for node in tree.body]
            assert kinds == ["Expr", "Import", "ImportFrom", "Assign", "Assign", "Assign", "With", "Expr",
                             "Assign", "Assign", "Assign", "Expr"], (field, payload, script)
            (folder / "reproduce.py").write_text(script, encoding="utf-8")
            cases.append(folder)
    done = run_scripts(cases, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not list(tmp_path.rglob("PWNED")), "a payload ran"
    from denoiser.script import out_name

    for folder in cases:
        data = next(p for p in folder.iterdir() if p.suffix == ".csv" and "_clean" not in p.name and
                    not p.name.endswith("_denoised.csv"))
        assert (folder / out_name(data.name)).stat().st_size > 0, folder
    assert done.stdout.count("MSE noisy") == len(cases)


def test_script_literals_and_comments_are_inert() -> None:
    from denoiser.text import inert_comment, py_literal

    for payload in SCRIPT_PAYLOADS + ["\x1b[2J", "\x00", "\u2029", "\x0b\x0c\x1c\x1d\x1e", "x" * 10_000]:
        comment = inert_comment(f"model {payload}")
        assert comment.startswith("# ") and len(comment.splitlines()) == 1 and comment.isprintable()
        assert len(comment) <= 202
        literal = py_literal(payload)
        assert ast_literal(literal) == payload and len(literal.splitlines()) == 1
    assert ast_literal(py_literal({"a": [1, 2.5, None, True], "b": ("x",)})) == {"a": [1, 2.5, None, True],
                                                                             "b": ("x",)}
    assert py_literal(float("inf")) == "float('inf')" and py_literal((0, 3)) == "(0, 3)"
    assert np.isnan(ast_literal(py_literal(float("nan"))))
    with pytest.raises(TypeError):
        py_literal(object())


def ast_literal(text: str) -> object:
    """A literal as Python reads it (``float('nan')`` and ``float('inf')`` included)."""
    import ast

    tree = ast.parse(text, mode="eval")
    if isinstance(tree.body, ast.Call):
        return float(tree.body.args[0].value)
    return ast.literal_eval(tree)


def test_the_issues_path_header_to_trained_model_to_script_runs_no_payload(tmp_path: Path) -> None:
    """Issue 21, item 1 as reported: a header with a newline, Model -> learn from the upload -> Use it ->
    Compare -> the script. The script runs (with the model downloaded from the Model page) and the
    header's statement does not."""
    from streamlit.testing.v1 import AppTest

    header = "a\nimport os;open('PWNED','w').close()\n#"
    rows = "\n".join(f"{np.sin(i / 9) + 0.2 * ((i * 37) % 11 - 5) / 5:.4f},{i % 3}" for i in range(1200))
    data = f'"{header}",b\n{rows}\n'.encode()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/upload.py").run()
    at.file_uploader(key="uploader").set_value(("rec.csv", data, "text/csv")).run()
    assert at.session_state.upload_columns == [header]
    at.switch_page("app_pages/model.py").run()
    at.radio(key="tr_source").set_value("selfsup")
    at.select_slider(key="tr_window").set_value(64)
    at.number_input(key="tr_epochs").set_value(1)
    next(b for b in at.button if b.label == "Start training").click().run()
    at.session_state.job.thread.join(timeout=300)
    at.run()
    assert at.session_state.job.status == "finished", at.session_state.job.error
    name = at.session_state.offer["name"]
    assert "PWNED" in name  # the model's name holds the header: the text the script must keep inert
    next(b for b in at.button if b.key == "use_offer").click().run()
    assert at.session_state.model_choice == name
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception, at.exception
    script = next(c.value for c in at.code if "import denoiser" in c.value)
    model = at.session_state.models[name]
    (tmp_path / "rec.csv").write_bytes(data)
    (tmp_path / "denoiser_model.keras").write_bytes(model.to_bytes())  # what "Download this model" gives
    (tmp_path / "reproduce.py").write_text(script, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "reproduce.py"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (tmp_path / "PWNED").exists()
    assert (tmp_path / "rec_denoised.csv").stat().st_size > 0


# ------------------------------------------------------------------ issue 21: models that save must load
@pytest.mark.parametrize("name", ["a\xa0b", "a\tb", "a\nb", "x" * 600, "\x1b[2Jc\u202e"],
                         ids=["nbsp", "tab", "newline", "long", "control"])
def test_a_model_trained_on_any_column_name_loads_after_it_is_saved(name: str) -> None:
    """The self-supervised note names the column (CLI and app); the saved file must pass its own loader."""
    den = Denoiser(ModelConfig(window=16, filters=2, depth=1, kernel_size=3))
    noisy = np.sin(np.arange(400) / 5) + 0.1 * np.random.default_rng(0).standard_normal(400)
    den.fit(noisy, None, TrainConfig.selfsup(epochs=1, batch_size=8, init="", seed=0),
            data_note=f"uploaded column '{name}' (400 samples), self-supervised")
    back = Denoiser.load(den.to_bytes())
    note = back.train_info_["data"]
    assert note.isprintable() and len(note) <= 500 and note.startswith("uploaded column '")
    for a, b in zip(den.model_.get_weights(), back.model_.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_training_on_data_near_the_float_limit_is_refused_not_turned_into_nan() -> None:
    den = Denoiser(ModelConfig(window=16, filters=2, depth=1, kernel_size=3))
    x = np.where(np.arange(400) % 2, 1e308, -1e308) * np.sin(np.arange(400) / 7)
    with pytest.raises(InputError, match="scaling its windows overflows"):
        den.fit(x, None, TrainConfig.selfsup(epochs=1, batch_size=8, init="", seed=0))
    clean = np.sin(np.arange(32 * 16).reshape(32, 16))
    with pytest.raises(InputError, match="overflows"):
        den.fit(clean * 1e308, clean * 1e308, TrainConfig(epochs=1, batch_size=8, seed=0))


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
        h5.visititems(lambda name, obj: first.append(name) if isinstance(obj, h5py.Dataset) and obj.ndim == 3
                      else None)
        h5[first[0]][...] = np.nan
    parts["model.weights.h5"] = buf.getvalue()
    return craft.rezip(parts)


def test_a_model_file_with_nan_weights_is_refused_at_load_and_by_the_cli(tmp_path: Path, cli) -> None:  # noqa: ANN001
    path = tmp_path / "nan.keras"
    path.write_bytes(_nan_model())
    msg = _refusal(path)
    assert "NaN or infinite" in msg and "\n" not in msg
    good = tmp_path / "good.csv"
    good.write_text("t,v\n" + "\n".join(f"{i},{np.sin(i / 5):.4f}" for i in range(64)) + "\n")
    done = cli("denoise", str(good), "--model", str(path), "--raw", "-o", str(tmp_path / "out.csv"))
    assert done.returncode == 2 and done.stderr.startswith("error: ") and "NaN or infinite" in done.stderr
    assert not (tmp_path / "out.csv").exists()


# ------------------------------------------------------------------ issue 21: links
LINK_VALUES = ["1e20", "-1e20", "1e400", "nan", "-inf", "9" * 5000, "0x10", "", " ", "7.5e3", "1;DROP"]


def test_every_link_parameter_is_parsed_range_checked_or_ignored() -> None:
    """gen_seed=1e20 gave a TypeError with server paths and no sidebar (no Reset): every field of the link
    parser, with every hostile value, leaves a working page, the Reset button and only in-range values."""
    from app_pages.ui import links

    fields = links.query_fields()
    for key, parse in fields.items():
        for raw in LINK_VALUES:
            value = parse(raw)  # never raises
            assert value is None or isinstance(value, (int, float, str)), (key, raw, value)
            assert not isinstance(value, (int, float)) or abs(value) <= 1e12, (key, raw, value)
    for key in ("gen_seed", "gen_length", "cmp_sg"):
        at = start(query={key: "1e20"})
        assert at.sidebar.button(key="reset_session")  # the sidebar, with Reset, is drawn
        at.switch_page("app_pages/compare.py").run()
        assert not at.exception, at.exception
        at.switch_page("app_pages/generate.py").run()
        assert not at.exception, at.exception
        assert key not in at.session_state.qp_initial
    everything = start(query={key: "1e20" for key in fields})
    assert everything.session_state.qp_initial == {"model": "1e20"}  # a (missing) model's name, said so
    assert everything.sidebar.button(key="reset_session")


# ------------------------------------------------------------------ issue 21: echoed text is cut
MAX_LINE = 600  # characters: "one line of at most a few hundred characters" (a path and a message)


def test_every_crafted_csv_gives_short_lines_in_the_cli(hostile, tmp_path: Path, cli) -> None:  # noqa: ANN001
    """5 crafted CSVs gave summaries of 2,139 to 2,000,366 characters (a million-digit column name, formula
    headers): now every line the CLI prints is at most a few hundred characters, a refusal is one line,
    and no control character from a file reaches the terminal."""
    folder, files = hostile
    csvs = [c for c in files.values() if c.kind == "csv"]
    assert len(csvs) >= 25
    for c in csvs:
        done = cli("denoise", str(folder / c.name), "-o", str(tmp_path / "out.csv"), "--model", "none")
        lines = done.stderr.splitlines()
        assert done.returncode == (2 if c.expect == "refused" else 0), (c.name, done.stderr[:500])
        if c.expect == "refused":
            assert len(lines) == 1 and lines[0].startswith("error: "), (c.name, done.stderr[:500])
        assert max(map(len, lines)) <= MAX_LINE, (c.name, max(lines, key=len)[:200])
        assert len(done.stderr) <= 30 * MAX_LINE, (c.name, len(done.stderr))
        assert not any(ch in done.stderr for ch in "\x1b\r\x85\u2028\u202e"), (c.name, done.stderr[:300])


def test_every_crafted_csv_gives_a_short_summary_row_in_a_batch(hostile, tmp_path: Path, cli) -> None:  # noqa: ANN001
    folder, files = hostile
    batch_in = tmp_path / "in"
    batch_in.mkdir()
    for c in files.values():
        if c.kind == "csv":
            (batch_in / c.name).write_bytes((folder / c.name).read_bytes())
    done = cli("denoise", str(batch_in / "*.csv"), "-o", str(tmp_path / "out"), "--model", "none", "--workers", "1")
    refused = sum(c.expect == "refused" for c in files.values() if c.kind == "csv")
    assert done.returncode == refused, done.stderr[-2000:]
    assert max(map(len, done.stderr.splitlines())) <= MAX_LINE
    raw = (tmp_path / "out" / "summary.csv").read_text(encoding="utf-8")
    lines = raw.split("\n")
    assert len(lines) == sum(c.kind == "csv" for c in files.values()) + 2  # header, rows, final newline
    assert max(map(len, lines)) <= 3 * MAX_LINE, max(lines, key=len)[:300]
    assert "\r" not in raw and "\x1b" not in raw


# ------------------------------------------------------------------ issue 21: what held, kept
def test_inputs_named_twice_or_through_links_are_one_input(tmp_path: Path) -> None:
    from denoiser.batch import expand_inputs

    (tmp_path / "rec").mkdir()
    data = tmp_path / "rec" / "a.csv"
    data.write_text("t,v\n0,1\n1,2\n")
    (tmp_path / "alias.csv").symlink_to(data)
    got = expand_inputs([str(data), str(tmp_path / "rec" / "." / "a.csv"), str(tmp_path / "alias.csv"),
                         str(tmp_path / "rec" / "*.csv")])
    assert len(got) == 1


def test_names_shown_by_the_app_are_one_short_line() -> None:
    from app_pages.ui.text import NAME, plain, short

    for name in ("a\nb.csv", "a\r\nb", "a\u2028b", "x" * 5000, "\x1b[2Jred"):
        for shown in (plain(name, NAME), short(name)):
            assert len(shown.splitlines()) == 1 and "\x1b" not in shown
            assert len(short(name)) <= NAME


def test_fit_and_train_data_refuse_bad_data_cleanly(tmp_path: Path, cli) -> None:  # noqa: ANN001
    den = Denoiser(ModelConfig(window=16, filters=2, depth=1, kernel_size=3))
    x = np.sin(np.arange(400) / 5)
    x[17] = np.nan
    with pytest.raises(InputError, match="NaN or infinite"):
        den.fit(x, None, TrainConfig.selfsup(epochs=1, init="", seed=0))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "text.csv").write_text("a,b\nx,y\nz,w\n")
    (tmp_path / "data" / "empty.csv").write_text("")
    done = cli("train", "--data", str(tmp_path / "data" / "*.csv"), "--self-supervised", "--from-scratch",
               "--window", "16", "--epochs", "1", "-o", str(tmp_path / "m.keras"))
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and done.stderr.splitlines()[-1].startswith("error: ")
    assert not (tmp_path / "m.keras").exists()


def test_workers_die_with_their_client(tmp_path: Path) -> None:
    """A batch's LocalCluster workers do not outlive a client process that is killed."""
    import signal

    import psutil

    code = ("import os, sys; from denoiser import batch\n"
            "client = batch.client_for(None, 1)\n"
            "print(*client.run(os.getpid).values(), flush=True)\n"
            "sys.stdin.read()\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
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
