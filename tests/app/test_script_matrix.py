"""The Compare page's Python script makes its download again (issue 19, item 1).

Every case drives the real page (Streamlit's AppTest): data, columns, noise level, method and
the long-recording network choice, then takes the page's download (the bytes the button serves)
and its script. All scripts then run in one fresh Python process, each in its own folder with
the data file as the user has it, and each output must be the download: the same columns and
comment lines, every value the same to the precision the file writes (one unit of its last
digit at most: the float32 network may differ in its last bits between processes).

The cases cover the issue's matrix: generated and uploaded data; one and several columns (the
column shown not among the Upload page's picks); estimated, typed and quiet-stretch noise
levels (the column shown keeps its own, the others are estimated); the network in and out
(network only; automatic with the network; above 250,000 rows the classical filters only);
a decimal-comma file with timestamps and filled gaps (written back in its own form); a file
of several parts (an EDF's rate group) and an upload capped at the app's read limit.

One more test follows a hostile column name (a header holding a statement, issue 21) from the
upload through a model trained on it to the script: the script runs, the statement does not. The
script's own defences, field by field, are tested in tests/unit/test_script.py.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit")

from denoiser.io import decimals, read_series  # after importorskip
from tests.support import ROOT, SAMPLES, run_scripts, start  # after importorskip


@dataclass
class Case:
    """One way through the Compare page."""

    name: str
    file: str | None = None  # None: the generated signal
    data: bytes = b""
    picks: list[str] = field(default_factory=list)  # the Upload page's columns
    shown: str | None = None  # Compare's column
    method: str = "auto"
    noise: str = "estimate"  # estimate, given, quiet
    sigma: float | None = None
    quiet: tuple[int, int] | None = None
    long_net: bool | None = None  # "Include the network" (only offered above 250,000 samples)
    generate: dict[str, object] = field(default_factory=dict)  # Generate page widgets
    cap: int | None = None  # the app's per-upload read limit, lowered for the case
    in_script: tuple[str, ...] = ()  # what the script must say (the recipe's values)
    in_download: tuple[str, ...] = ()  # patterns (re) the download's text must hold


def _sensors(rows: int, seed: int = 0) -> bytes:
    """time_s and three noisy channels: what an instrument writes."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    cols = [np.sin(2 * np.pi * t / p) + s * rng.standard_normal(rows) for p, s in ((250, 0.2), (90, 0.1), (600, 0.3))]
    lines = ["time_s,a,b,c"] + [f"{i * 0.01:.2f},{x:.4f},{y:.4f},{z:.4f}" for i, x, y, z in zip(t, *cols)]
    return ("\n".join(lines) + "\n").encode()


def _logger(rows: int) -> bytes:
    """Semicolons, decimal commas, DD.MM.YYYY timestamps, CRLF, cp1252, two short gaps."""
    rng = np.random.default_rng(5)
    lines = ["Zeitstempel;Temperatur °C;Feuchte %"]
    for i in range(rows):
        stamp = f"{1 + i // 1440:02d}.03.2024 {i // 60 % 24:02d}:{i % 60:02d}"
        temp = (
            "" if i in (40, 41, 300) else f"{16 + np.sin(i / 80) + 0.1 * rng.standard_normal():.3f}".replace(".", ",")
        )
        hum = f"{55 + 3 * np.cos(i / 150) + 0.5 * rng.standard_normal():.2f}".replace(".", ",")
        lines.append(f"{stamp};{temp};{hum}")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def _big(rows: int) -> bytes:
    """Above the 250,000-sample threshold: Compare leaves the network out unless asked."""
    rng = np.random.default_rng(3)
    t = np.arange(rows)
    y = np.sin(t / 3000) + 0.3 * np.sin(t / 40) + 0.1 * rng.standard_normal(rows)
    buf = io.StringIO()
    buf.write("signal\n")
    np.savetxt(buf, y, fmt="%.5f")
    return buf.getvalue().encode()


CASES = [
    Case(
        "upload one column, estimated",
        "rec.csv",
        _sensors(3000),
        picks=["a"],
        in_script=("model='default'", "columns=('a',)"),
        in_download=(r"# a: [^\n]*\(estimated from the data\)",),
    ),
    Case(
        "upload three columns, typed sigma on the shown one",
        "rec.csv",
        _sensors(3000, 1),
        picks=["a", "b"],
        shown="c",
        noise="given",
        sigma=0.25,
        in_script=("columns=('a', 'b', 'c')", "levels=(('c', Level(sigma=0.25)),)"),
        in_download=(
            r"# c: [^\n]*\(given: 0\.25\)",
            r"# a: [^\n]*\(estimated from the data\)",
            r"# b: [^\n]*\(estimated from the data\)",
        ),
    ),
    Case(
        "upload two columns, quiet stretch",
        "rec.csv",
        _sensors(2500, 2),
        picks=["b"],
        shown="a",
        noise="quiet",
        quiet=(100, 900),
        in_script=("levels=(('a', Level(quiet=(100, 900))),)",),
        in_download=(r"# a: [^\n]*quiet stretch of samples 100-900", r"# b: [^\n]*\(estimated from the data\)"),
    ),
    Case(
        "upload two columns, network only",
        "rec.csv",
        _sensors(2000, 3),
        picks=["a", "c"],
        method="network",
        in_script=("method='network'",),
        in_download=(r"# a: the bundled default model, unchecked", r"# c: "),
    ),
    Case(
        "decimal-comma logger with gaps, both columns",
        "logger.csv",
        _logger(2000),
        picks=["Temperatur °C", "Feuchte %"],
        shown="Feuchte %",
        noise="given",
        sigma=0.1,
        in_download=(
            r"\r\n01\.03\.2024 00:00;1\d,\d+;\d\d,\d+;",
            r"Temperatur °C_filled\r\n",
            r"\r\n01\.03\.2024 00:40;;",
        ),
    ),
    Case(
        "EDF rate group (a file of parts)",
        "eeg_two_rates.edf",
        (SAMPLES / "eeg_two_rates.edf").read_bytes(),
        in_script=('part="256 Hz: ',),
    ),
    Case(
        "upload capped at the read limit",
        "long.csv",
        _sensors(6000, 4),
        picks=["a"],
        cap=12_000,
        in_script=("max_samples=12000",),
    ),
    Case(
        "above 250,000 rows: classical filters only",
        "big.csv",
        _big(260_000),
        picks=["signal"],
        in_script=("model='none'",),
        in_download=(r"classical filters only",),
    ),
    Case("generated x², estimated", generate={"gen_family": "x2"}, in_script=("model='parabola'",)),
    Case(
        "generated sines, typed sigma",
        generate={"gen_family": "sines", "gen_length": 600, "gen_seed": 4},
        noise="given",
        sigma=0.05,
        in_script=("level=Level(sigma=0.05)", "'sines', 600"),
    ),
    Case(
        "generated chirp, network only",
        generate={"gen_family": "chirp", "gen_length": 512},
        method="network",
        in_script=("method='network'", "model='default'"),
    ),
]


def _drive(case: Case, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, str, list[str]]:
    """The page, as a user would set it: returns the download, the script and the page's captions."""
    from app_pages.ui import data

    if case.cap is not None:
        monkeypatch.setattr(data, "MAX_UPLOAD_SAMPLES", case.cap)
    at = start()
    if case.file is None:
        at.switch_page("app_pages/generate.py").run()
        for key, value in case.generate.items():
            widget = next(
                w for kind in ("selectbox", "slider", "number_input") for w in getattr(at, kind) if w.key == key
            )
            widget.set_value(value).run()
    else:
        at.switch_page("app_pages/upload.py").run()
        at.file_uploader(key="uploader").set_value((case.file, case.data, "text/csv")).run()
        assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
        if case.picks:
            at.multiselect(key=f"up_values_{at.session_state.data_gen}").set_value(case.picks).run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception, at.exception
    if case.shown is not None:
        at.selectbox(key="cmp_column").set_value(case.shown).run()
    if case.method != "auto":
        at.radio(key="cmp_method").set_value(case.method).run()
    if case.long_net is not None:
        at.checkbox(key="cmp_long_net").set_value(case.long_net).run()
    if case.noise != "estimate":
        at.radio(key="cmp_noise_mode").set_value(case.noise).run()
        if case.sigma is not None:
            at.number_input(key="cmp_sigma").set_value(case.sigma).run()
        if case.quiet is not None:
            at.slider(key="cmp_quiet").set_value(case.quiet).run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    script = next(c.value for c in at.code if "import denoiser" in c.value)
    captions = [c.value for c in at.caption]
    if case.cap is not None:
        assert at.session_state.table.report.rows_left > 0, "the case must be capped"
    return at.session_state.csv_cache["data"], script, captions


def _columns(data: bytes) -> tuple[list[str], dict[str, np.ndarray]]:
    """The comment lines and the value columns of a written CSV, as read_series reads it back."""
    table = read_series(data)
    head = []
    for line in data.decode(table.report.codec or "utf-8").lstrip("\ufeff").splitlines():
        if not line.startswith("#"):
            break
        head.append(line)
    return head, {c: table.column(c) for c in table.values.columns}


def test_every_compare_script_makes_its_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folders = []
    expected = {}
    for i, case in enumerate(CASES):
        folder = tmp_path / f"case{i}"
        folder.mkdir()
        download, script, captions = _drive(case, monkeypatch)
        monkeypatch.undo()
        text = download.decode(read_series(download).report.codec or "utf-8")
        for words in case.in_script:
            assert words in script, (case.name, words, script)
        for pattern in case.in_download:
            assert re.search(pattern, text), (case.name, pattern, text[:600])
        if case.file is not None:
            (folder / case.file).write_bytes(case.data)
        (folder / "reproduce.py").write_text(script, encoding="utf-8")
        out = re.search(r"with open\((.+?), 'wb'\)", script).group(1).strip("'\"")
        expected[folder] = (case, download, out, captions)
        folders.append(folder)
    done = run_scripts(folders, cwd=tmp_path, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    for folder, (case, download, out, captions) in expected.items():
        made = (folder / out).read_bytes()
        head_d, cols_d = _columns(download)
        head_m, cols_m = _columns(made)
        assert list(cols_m) == list(cols_d), (case.name, list(cols_m), list(cols_d))
        assert len(head_m) == len(head_d) and head_m[0] == head_d[0], (case.name, head_m, head_d)
        for name, want in cols_d.items():
            got = cols_m[name]
            assert got.shape == want.shape, (case.name, name, got.shape, want.shape)
            step = 10.0 ** -(decimals(want) or 0) if decimals(want) is not None else 0.0
            tol = step + 2 * np.finfo(np.float32).eps * np.abs(want)
            same_gaps = np.array_equal(np.isnan(got), np.isnan(want))
            assert same_gaps and np.all(np.abs(got - want)[~np.isnan(want)] <= tol[~np.isnan(want)]), (
                case.name,
                name,
                float(np.nanmax(np.abs(got - want))),
            )
        # The page's caption says what the download holds, in the download's own words.
        held = next(c for c in captions if c.startswith("**The download holds:**")).replace("\\", "")
        assert head_d[1][2:].split(". Noise sigma")[0] in held, (case.name, head_d[1], held)


# ------------------------------------------------------------------ a hostile column name, from the upload to the script
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
    done = subprocess.run(
        [sys.executable, "reproduce.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (tmp_path / "PWNED").exists()
    assert (tmp_path / "rec_denoised.csv").stat().st_size > 0
