"""Helpers that test files in more than one place need: ``from tests.support import ...``.

Fixtures stay in the conftest.py files (tests/conftest.py for every folder); what is here is plain
functions and constants, one home each: the repository's paths, the command line in a fresh process,
reproducing scripts run in their folders, a folder of recordings, the tutorial's demo signal, the
CSV reader's fixtures and refusals, and a session of the app in Streamlit's AppTest.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

from denoiser.errors import MAX_MESSAGE, InputError
from denoiser.io import SeriesTable, read_series

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
DATA = ROOT / "tests" / "data"  # small hand-written CSV files (and one old model file)
SAMPLES = ROOT / "assets" / "samples"  # the app's samples (read where used: mutmut copies tests/, not assets/)


# ------------------------------------------------------------------ the command line and scripts
def cli_subprocess(*args: str, cwd: Path, timeout: int = 300, quiet_tf: bool = True) -> subprocess.CompletedProcess:
    """The real ``python -m denoiser ARGS`` in a fresh process (TensorFlow imported there, seconds)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if quiet_tf:
        env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    else:
        env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # the CLI must keep TensorFlow quiet by itself
    return subprocess.run(
        [sys.executable, "-m", "denoiser", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def run_scripts(folders: list[Path], *, cwd: Path, timeout: int) -> subprocess.CompletedProcess:
    """Run ``reproduce.py`` in each of ``folders``, in that folder as its user would, one after another in
    one fresh Python process (one TensorFlow start-up for them all); a script that fails ends the run."""
    runner = (
        "import os, runpy, sys\n"
        "for folder in sys.argv[1:]:\n"
        "    os.chdir(folder)\n"
        "    runpy.run_path('reproduce.py', run_name='__main__')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-c", runner, *map(str, folders)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# ------------------------------------------------------------------ signals and recordings
def x2_demo(seed: int, sigma: float = 0.05, kind: str = "gaussian", **params: float) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's demo as the Generate page makes it: x² on 150 samples, then noise."""
    import denoiser

    rng = np.random.default_rng(seed)
    clean = denoiser.make_signal("x2", 150, rng)
    return clean, denoiser.add_noise(clean, kind, rng=rng, sigma=sigma, **params)


def ar1(n: int, phi: float, rng: np.random.Generator) -> np.ndarray:
    """A broadband process: AR(1) with little memory has a nearly flat spectrum at the top."""
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0]
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


ARCHIVE_SIGMA = 0.3  # the white noise on every recording ``archive`` writes


def sines(rows: int, i: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A clean two-tone signal (periods differ per file) and a noisy copy with white noise ARCHIVE_SIGMA."""
    t = np.arange(rows)
    clean = np.sin(2 * np.pi * t / (90 + 13 * i)) + 0.5 * np.sin(2 * np.pi * t / (31 + 3 * i) + i)
    return clean, clean + ARCHIVE_SIGMA * np.random.default_rng(seed).standard_normal(rows)


def archive(folder: Path, n: int = 6, rows: int = 3000, *, clean: bool = False, bad: bool = True) -> list[Path]:
    """``n`` recordings rec0.csv... (columns t, value[, clean]) and, with ``bad``, a text file named bad.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        c, noisy = sines(rows, i, seed=i)
        cols = {"t": np.arange(rows), "value": noisy, **({"clean": c} if clean else {})}
        paths.append(folder / f"rec{i}.csv")
        pd.DataFrame(cols).to_csv(paths[-1], index=False, float_format="%.6g")
    if bad:
        (folder / "bad.csv").write_text("this is not\na table of numbers\n")
    return paths


# ------------------------------------------------------------------ the CSV reader
def read(name: str, **kwargs: object) -> SeriesTable:
    """Read a fixture from tests/data by its path (the real file-system route)."""
    return read_series(DATA / name, **kwargs)


def values(table: SeriesTable, name: str) -> list[float]:
    return table.column(name).tolist()


def raises_input_error(source: object, *words: str, **kwargs: object) -> str:
    """Assert that reading fails with one short line of InputError (no traceback) holding all ``words``."""
    with pytest.raises(InputError) as info:
        read_series(source, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message and len(message) <= MAX_MESSAGE and "Traceback" not in message
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in {message!r}"
    return message


def refusal(source: object, exc: type[Exception] = InputError, **kwargs: object) -> str:
    """The message ``read_series`` refuses ``source`` with (an ``exc``), word for word."""
    with pytest.raises(exc) as err:
        read_series(source, **kwargs)  # type: ignore[arg-type]
    return str(err.value)


def named(data: bytes, name: str = "/d/f.csv") -> io.BytesIO:
    """``data`` as a file object with a name, as an upload has one."""
    buf = io.BytesIO(data)
    buf.name = name
    return buf


def read_notes(data: bytes) -> list[str]:
    return read_series(data).report.notes


# ------------------------------------------------------------------ the app in Streamlit's AppTest
TIMEOUT = 90  # s per run: the first run imports TensorFlow and loads a model


def start(page: str | None = None, *, query: dict[str, str] | None = None) -> AppTest:
    """A fresh session of the app (no browser), opened on a link with ``query`` if given, then moved to
    ``page`` (``"upload"``: app_pages/upload.py) if given; fails at once on an exception."""
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if query:
        at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def button(at: AppTest, label: str):  # a Button element of the AppTest
    return next(b for b in at.button if b.label == label)


def texts(elements) -> str:  # an AppTest element list: at.caption, at.info, ...
    return "\n".join(str(e.value) for e in elements)


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    """Put ``data`` named ``name`` into the Upload page's uploader (the session is on that page)."""
    at.file_uploader(key="uploader").set_value((name, data, "text/csv"))
    return at.run()
