"""Give a session's memory back when the session ends (issue 21: RSS 0.8 -> 5.3 GB after 8 x 50 MB uploads
whose tabs were closed, growing wave after wave).

What Streamlit does on its own: a closed tab's session is kept for reconnection for
``server.disconnectedSessionTTL`` seconds (120 by default), then it only *expires* in a
TTL cache: nothing shuts it down, so its uploaded files stay in the upload manager forever
(keyed by the session id), its download-button files stay in the media manager, and its
session state lives on until some later write to the cache happens to drop the entry.

What this module adds, server-wide: every session registers itself (:func:`register`, from
``page_setup``); one janitor thread looks every :data:`SWEEP_SECONDS` which sessions are no
longer active, and once one has been inactive for longer than the reconnection window it
cannot come back, so the janitor releases what it held: stops its training job, empties its
session state, removes its uploaded files and media, and hands the freed memory back to the
operating system (``malloc_trim`` on glibc: without it freed NumPy/pandas buffers stay in
the process's heap arenas and RSS does not fall). glibc is tuned at import (:func:`tune_heap`:
a fixed 1 MB mmap threshold, few arenas): with its defaults what stayed allocated in the
arenas pinned 200-300 MB more after every wave of sessions.

This leans on three things Streamlit exposes: ``Runtime.is_active_session`` (public,
thread-safe), ``uploaded_file_mgr.remove_session_files`` and ``media_file_mgr.clear_session_refs``
(public methods of the managers), and one private one, the ``SafeSessionState`` wrapper's
``_state``: the session's ``SessionState`` itself (the wrapper is made per script run), cleared whole (widget values such as an uploader's file too). If those move, a warning is logged once and nothing is
released early; ``tests/app/test_sessions.py`` fails, like the Keras-state patch's test.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

SWEEP_SECONDS = float(os.environ.get("DENOISER_SESSION_SWEEP_S", "20"))  # how often the janitor looks
MARGIN_SECONDS = 5.0  # past the reconnection window before a session is released (clock and sweep slack)


# ------------------------------------------------------------------ memory back to the OS
def _load_malloc_trim() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows): nothing to trim
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_MALLOC_TRIM = _load_malloc_trim()
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # glibc malloc.h: mallopt's parameters
MMAP_THRESHOLD = 1 << 20  # bytes: every allocation this large gets pages of its own, unmapped when freed


def tune_heap(arenas: int | None = None) -> bool:
    """Let freed memory go back to the OS: glibc's mmap threshold fixed at 1 MB, its heap arenas capped.

    glibc serves allocations below its mmap threshold from heap arenas, and raises that threshold
    after every large free (up to 32 MB), so pandas' parse buffers and arrays of a few MB end up in
    arenas, one per thread (Streamlit runs each script run in a new thread; up to 8 arenas per
    core); what stays allocated in an arena pins its pages. Measured (bench ``sessions``, 3 waves of
    8 x 50 MB sessions that end): the server stayed +224, +270, +323 MB above its start with
    glibc's defaults and the arena cap alone; +15, +17, +19 MB with the fixed 1 MB threshold. Its
    cost was not measurable (1M samples through the network, the pipeline or a 5M-value read: the
    same within the noise). ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_ARENA_MAX`` in the environment
    win. Returns whether a setting was made (False off glibc).
    """
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    done = False
    if not os.environ.get("MALLOC_MMAP_THRESHOLD_"):
        done |= bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    if not os.environ.get("MALLOC_ARENA_MAX"):
        n = arenas or int(os.environ.get("DENOISER_MALLOC_ARENAS", "0")) or min(4, max(2, os.cpu_count() or 2))
        done |= bool(mallopt(_M_ARENA_MAX, n))
    return done


HEAP_TUNED = tune_heap()  # on import: app.py imports this (through ui.runtime) before any session reads a file


def release_memory() -> bool:
    """Collect garbage, then return free heap pages to the OS (glibc ``malloc_trim(0)``).

    Large NumPy arrays are mapped and unmapped on their own, but pandas' parser and the many
    arrays just under glibc's mmap threshold (which grows up to 32 MB after each large free)
    come from the heap arenas of the threads that made them (Streamlit runs every script run
    in a thread): freed, they stay in the arenas and RSS never falls. Returns whether a trim ran.
    """
    gc.collect()
    if _MALLOC_TRIM is None:
        return False
    _MALLOC_TRIM(0)
    return True


# ------------------------------------------------------------------ sessions
class Janitor:
    """Sessions seen by this server process, and the thread that releases them once they are gone.

    Parameters
    ----------
    ttl : seconds a disconnected session may still reconnect (``server.disconnectedSessionTTL``)
    runtime : the Streamlit runtime (``Runtime.instance()``), or a stand-in in tests
    clock : time source (``time.monotonic``)
    """

    def __init__(self, ttl: float, runtime: Any, clock: Any = time.monotonic) -> None:
        self.ttl, self.runtime, self.clock = float(ttl), runtime, clock
        self._lock = threading.Lock()
        self._states: dict[str, Any] = {}  # session id -> its SessionState
        self._gone_since: dict[str, float] = {}  # session id -> first time it was seen inactive
        self.released: list[str] = []  # ids released so far (for tests and the bench)
        self._thread: threading.Thread | None = None

    def register(self, session_id: str, state: Any) -> None:
        """Remember a session (called on every run; cheap).

        ``state`` is the session's own ``SessionState`` (it lives as long as the session), not the
        ``SafeSessionState`` wrapper a script run gets: that one is made per run, and a weak
        reference to it died with the run (the first version kept that, and released nothing).
        ``SessionState`` takes no weak reference (slots), so it is held here until released:
        never longer than Streamlit itself keeps a closed session for a reconnect, plus a sweep.
        """
        with self._lock:
            self._states[session_id] = state
            self._gone_since.pop(session_id, None)

    def sweep(self) -> int:
        """Release every session inactive for longer than the reconnection window; returns how many."""
        now = self.clock()
        due = []
        with self._lock:
            for sid in list(self._states):
                if self.runtime.is_active_session(sid):
                    self._gone_since.pop(sid, None)
                    continue
                since = self._gone_since.setdefault(sid, now)
                if now - since > self.ttl + MARGIN_SECONDS:
                    due.append((sid, self._states.pop(sid)))
                    self._gone_since.pop(sid, None)
        for sid, state in due:
            self._release(sid, state)
        if due:
            release_memory()
        return len(due)

    def _release(self, session_id: str, state: Any) -> None:
        if state is not None:
            # The session is gone and its script stopped: nothing else touches this state now.
            try:
                job = state["job"]
            except Exception:  # noqa: BLE001 -- no job, or a state in another shape
                job = None
            if job is not None and getattr(job, "running", False):
                job.stop.set()  # a queued run leaves the queue, a running one ends at its next batch
            state.clear()  # user keys and widget values (an uploader's file) alike
            # ...and the widgets' metadata, which SessionState.clear() keeps: its format_func and
            # callbacks are functions of the page scripts, whose globals (the script's last run:
            # `table`, the uploaded `file`, the preview's arrays) they keep alive.
            metadata = getattr(getattr(state, "_new_widget_state", None), "widget_metadata", None)
            if isinstance(metadata, dict):
                metadata.clear()
        self.runtime.uploaded_file_mgr.remove_session_files(session_id)
        media = self.runtime.media_file_mgr
        media.clear_session_refs(session_id)
        media.remove_orphaned_files()
        self.released.append(session_id)

    def start(self) -> Janitor:
        """Start the janitor's thread (once); returns the janitor."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="denoiser-session-janitor", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while True:
            time.sleep(SWEEP_SECONDS)
            try:
                self.sweep()
            except Exception:  # the janitor must outlive any one odd session
                log.exception("session janitor: a sweep failed")


_JANITOR: Janitor | None = None
_JANITOR_LOCK = threading.Lock()
_WARNED = False


def janitor() -> Janitor | None:
    """The server's one janitor (started on first use), or None outside a running Streamlit server."""
    global _JANITOR, _WARNED
    with _JANITOR_LOCK:
        if _JANITOR is None:
            try:
                from streamlit import config
                from streamlit.runtime import Runtime

                if not Runtime.exists():
                    return None
                runtime = Runtime.instance()
                _check_runtime(runtime)
                ttl = float(config.get_option("server.disconnectedSessionTTL"))
            except Exception as err:  # noqa: BLE001 -- Streamlit moved something: warn once, keep serving
                if not _WARNED:
                    log.warning(
                        "Session memory is not released early (Streamlit %s: %s). Update app_pages/_sessions.py.",
                        _streamlit_version(),
                        err,
                    )
                    _WARNED = True
                return None
            _JANITOR = Janitor(ttl, runtime).start()
        return _JANITOR


def _check_runtime(runtime: Any) -> None:
    for name in ("is_active_session", "uploaded_file_mgr", "media_file_mgr"):
        if not hasattr(runtime, name):
            raise AttributeError(f"Runtime.{name} is missing")
    for owner, name in (
        (runtime.uploaded_file_mgr, "remove_session_files"),
        (runtime.media_file_mgr, "clear_session_refs"),
        (runtime.media_file_mgr, "remove_orphaned_files"),
    ):
        if not callable(getattr(owner, name, None)):
            raise AttributeError(f"{type(owner).__name__}.{name} is missing")


def _streamlit_version() -> str:
    try:
        import streamlit

        return streamlit.__version__
    except Exception:  # noqa: BLE001 -- only a label in a log line: any failure gives "?"
        return "?"


def register() -> bool:
    """Register the session of the running script with the janitor; False when none runs (tests, bare mode)."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    global _WARNED
    ctx = get_script_run_ctx()
    keeper = janitor()
    if ctx is None or keeper is None:
        return False
    inner = _session_state(ctx.session_state)
    if inner is None:
        if not _WARNED:
            log.warning(
                "Session state has no _state (Streamlit %s): sessions are not released early. Update "
                "app_pages/_sessions.py.",
                _streamlit_version(),
            )
            _WARNED = True
        return False
    keeper.register(ctx.session_id, inner)
    return True


def _session_state(safe: Any) -> Any:
    """The ``SessionState`` inside a run's ``SafeSessionState`` (private: checked by tests/app/test_sessions.py)."""
    try:
        inner = object.__getattribute__(safe, "_state")
    except AttributeError:
        return None
    return inner if callable(getattr(inner, "clear", None)) else None


def drop_upload(file: Any) -> bool:
    """Remove an uploaded file's bytes from Streamlit's upload manager once the page has read them.

    The manager keeps every upload of a session for as long as the session lives (up to
    200 MB each) although the page needs only the table it read; Streamlit's own chat input
    removes its files the same way. The ``UploadedFile`` in hand stays readable for this run.
    Returns whether the bytes were dropped.
    """
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    remove = getattr(getattr(ctx, "uploaded_file_mgr", None), "remove_file", None)
    if ctx is None or not callable(remove) or getattr(file, "file_id", None) is None:
        return False
    remove(ctx.session_id, file.file_id)
    return True
