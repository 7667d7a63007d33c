"""What one session may cost, and that it is given back when the session ends (issue 21, item 3).

The janitor (app_pages/_sessions.py) is tested against Streamlit's real session state and a
runtime stand-in whose clock the test moves (no sleeps); the server-level figures (RSS after
8 x 50 MB sessions, the largest upload that survives self-supervised training) are measured
by ``python -m bench --only sessions``.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import weakref

import numpy as np
import pytest

pytest.importorskip("streamlit")
from streamlit.runtime.state.safe_session_state import SafeSessionState  # after importorskip
from streamlit.runtime.state.session_state import SessionState  # after importorskip

from app_pages import _sessions  # after importorskip
from tests.support import ROOT  # after importorskip


class _Files:
    def __init__(self) -> None:
        self.removed: list[str] = []
        self.cleared: list[str] = []
        self.orphans = 0

    def remove_session_files(self, session_id: str) -> None:
        self.removed.append(session_id)

    def clear_session_refs(self, session_id: str) -> None:
        self.cleared.append(session_id)

    def remove_orphaned_files(self) -> None:
        self.orphans += 1


class _Runtime:
    """The parts of streamlit.runtime.Runtime the janitor uses; ``active`` is what is connected now."""

    def __init__(self) -> None:
        self.active: set[str] = set()
        self.uploaded_file_mgr = _Files()
        self.media_file_mgr = _Files()

    def is_active_session(self, session_id: str) -> bool:
        return session_id in self.active


class _Job:
    running = True

    def __init__(self) -> None:
        self.stop = threading.Event()


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _session(big: np.ndarray) -> SessionState:
    state = SessionState()
    state["table"] = big
    state["job"] = _Job()
    state["models"] = {"mine": object()}
    # A widget's format_func is a function of the page script: its globals hold the script's last
    # run (the table, the uploaded file). SessionState.clear() keeps widget metadata.
    page_globals = {"table": big}
    state._new_widget_state.widget_metadata["$$ID-column"] = eval("lambda c: c", page_globals)
    return state


def test_a_session_gone_past_its_reconnection_window_is_released() -> None:
    runtime, clock = _Runtime(), _Clock()
    keeper = _sessions.Janitor(ttl=120, runtime=runtime, clock=clock)
    big = np.ones(2_000_000)
    alive = weakref.ref(big)
    state = _session(big)
    job = state["job"]
    del big
    runtime.active = {"s1"}
    # Registered as page_setup does: through a run's wrapper, which dies with the run (a weak
    # reference to the wrapper released nothing on a real server: the session state itself is kept).
    keeper.register("s1", _sessions._session_state(SafeSessionState(state, lambda: None)))
    assert keeper.sweep() == 0  # connected: kept
    runtime.active = set()  # the tab is closed
    assert keeper.sweep() == 0
    clock.now += 100
    runtime.active = {"s1"}  # it reconnects within the window...
    assert keeper.sweep() == 0
    runtime.active = set()  # ...and closes again: the window starts anew
    clock.now += 100
    assert keeper.sweep() == 0 and alive() is not None
    clock.now += 120 + _sessions.MARGIN_SECONDS + 1  # longer than the window: it can never come back
    assert keeper.sweep() == 1
    assert keeper.released == ["s1"]
    assert alive() is None  # the data it held is gone...
    assert dict(state.filtered_state) == {}
    assert job.stop.is_set()  # ...its training run stops...
    assert runtime.uploaded_file_mgr.removed == ["s1"]  # ...and its uploads and media are dropped
    assert runtime.media_file_mgr.cleared == ["s1"] and runtime.media_file_mgr.orphans == 1
    assert keeper.sweep() == 0  # once


def test_other_sessions_are_left_alone() -> None:
    runtime, clock = _Runtime(), _Clock()
    keeper = _sessions.Janitor(ttl=10, runtime=runtime, clock=clock)
    kept, gone = _session(np.ones(10)), _session(np.ones(10))
    runtime.active = {"kept"}
    keeper.register("kept", kept)
    keeper.register("gone", gone)
    keeper.sweep()
    clock.now += 60
    assert keeper.sweep() == 1 and keeper.released == ["gone"]
    assert "table" in kept.filtered_state and not kept["job"].stop.is_set()


def test_the_installed_streamlit_has_what_the_janitor_uses() -> None:
    """An upgrade that moves these turns this red (the app then logs a warning and releases nothing early)."""
    from streamlit import config
    from streamlit.runtime import Runtime
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

    assert callable(Runtime.is_active_session)
    assert isinstance(Runtime.uploaded_file_mgr, property) and isinstance(Runtime.media_file_mgr, property)
    assert callable(MemoryUploadedFileManager.remove_session_files) and callable(MemoryUploadedFileManager.remove_file)
    assert callable(MediaFileManager.clear_session_refs) and callable(MediaFileManager.remove_orphaned_files)
    assert isinstance(SessionState()._new_widget_state.widget_metadata, dict)
    inner = SessionState()
    assert _sessions._session_state(SafeSessionState(inner, lambda: None)) is inner and callable(SessionState.clear)
    assert float(config.get_option("server.disconnectedSessionTTL")) > 0


def test_release_memory_hands_freed_heap_back_to_the_os() -> None:
    """300 MB of small buffers, every other one freed: the heap keeps the holes until malloc_trim."""
    code = (
        "import psutil, sys\n"
        "from app_pages._sessions import release_memory\n"
        "p = psutil.Process()\n"
        "blocks = [bytearray(96 * 1024) for _ in range(3200)]\n"
        "del blocks[::2]\n"
        "before = p.memory_info().rss\n"
        "trimmed = release_memory()\n"
        "after = p.memory_info().rss\n"
        "print(trimmed, before - after)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    trimmed, freed = done.stdout.split()
    if trimmed == "False":
        pytest.skip("not glibc: no malloc_trim")
    assert int(freed) > 100 * 1024**2, freed  # most of the 150 MB freed in holes is returned


# ------------------------------------------------------------------ what one session may cost
def test_a_read_stops_at_max_samples_and_says_so() -> None:
    import tracemalloc

    from denoiser.io import read_series

    data = ("t,v\n" + "".join(f"{i},{i % 10}\n" for i in range(200_000))).encode()
    peaks, tables = [], []
    for limit in (None, 10_000):
        tracemalloc.start()
        try:
            tables.append(read_series(data, max_samples=limit))
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    whole, part = tables
    assert whole.report.rows == 200_000 and whole.report.rows_left == 0
    assert part.report.rows == 5_000 and part.report.rows_left == 195_000  # 2 values per row
    assert part.column("v").tolist() == whole.column("v")[:5_000].tolist()
    assert "Only the first 5,000 rows of about 200,000 were read" in " ".join(part.report.notes)
    assert peaks[1] < peaks[0] / 2, peaks  # the 200,000 rows are never parsed (what is left: scans of the bytes)
    assert read_series(data, max_samples=400_000).report.rows_left == 0  # the limit exactly: all of it


def test_the_app_reads_and_trains_on_a_bounded_part_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from app_pages.ui import data

    monkeypatch.setattr(data, "MAX_UPLOAD_SAMPLES", 2_000)
    monkeypatch.setattr(data, "MAX_TRAIN_SAMPLES", 600)
    rows = "\n".join(f"{np.sin(i / 7) + 0.1 * ((i * 37) % 11 - 5) / 5:.4f}" for i in range(6_000))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/upload.py").run()
    at.file_uploader(key="uploader").set_value(("long.csv", f"v\n{rows}\n".encode(), "text/csv")).run()
    assert not at.exception, at.exception
    assert at.session_state.table.report.rows == 2_000
    warning = "\n".join(w.value for w in at.warning)
    assert "only its first 2,000 rows were read" in warning and "about 4,000 rows were left out" in warning
    at.switch_page("app_pages/model.py").run()
    at.radio(key="tr_source").set_value("selfsup")
    at.select_slider(key="tr_window").set_value(64)
    at.number_input(key="tr_epochs").set_value(1)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert "Training on the first 600 of the column's 2,000 samples" in "\n".join(i.value for i in at.info)
    job = at.session_state.job
    assert job.request.series.size == 600 and job.request.series_total == 2_000
    job.thread.join(timeout=300)
    assert job.status == "finished", job.error
    assert "the first 600 of 2,000 samples" in job.result.train_info_["data"]


def test_the_heap_is_tuned_unless_the_environment_says_otherwise() -> None:
    """glibc's mmap threshold is fixed at 1 MB (an array of a few MB is unmapped when freed, not left in an
    arena): a 4 MB block freed is back with the OS at once, without any trim."""
    code = (
        "import psutil\n"
        "from app_pages import _sessions\n"
        "p = psutil.Process()\n"
        "first = bytearray(8 * 1024**2)\n"
        "del first  # glibc raises its threshold to 8 MB when an mmapped block is freed\n"
        "keep = [bytearray(4 * 1024**2) for _ in range(40)]\n"
        "more = [bytearray(4 * 1024**2) for _ in range(40)]\n"
        "before = p.memory_info().rss\n"
        "del keep\n"
        "print(_sessions.HEAP_TUNED, (before - p.memory_info().rss) // 1024**2)\n"
    )
    base = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    for env, tuned in (({}, True), ({"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_ARENA_MAX": "8"}, False)):
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, env={**base, **env}
        )
        assert done.returncode == 0, done.stderr[-2000:]
        flag, freed = done.stdout.split()
        if not tuned:
            assert flag == "False"  # the operator's settings win: here glibc's own behaviour...
            assert int(freed) < 50, freed  # ...which keeps the freed blocks in the heap, under the others
            continue
        if flag == "False":
            pytest.skip("not glibc: no mallopt")
        assert int(freed) >= 150, freed  # the 160 MB freed below the other blocks went straight back
