"""The session: every entry this app keeps in ``st.session_state``, typed, with its default, in one place.

Pages and helpers reach the session through :func:`session`, a :class:`Session` over
``st.session_state``: ``s.table``, ``s.models``, ``s.active`` (an :class:`Origin`)... Each
attribute is an :class:`Entry`, whose name is its key in ``st.session_state`` and whose default
fills in on first use (:meth:`Session.init` fills them all, :meth:`Session.reset` starts over).
The key names are stable: tests read them (``at.session_state.table``), the janitor
(``app_pages/_sessions.py``) stops the ``job`` of a session that is gone.

Widget values (``key=`` of a widget: Streamlit manages them) and a page's own small settings
(Home's noise seed, the lesson's step) are read with :meth:`Session.widget` and written with
:meth:`Session.set_widget`; their key names are those of the shared link (:mod:`app_pages.ui.links`).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

import streamlit as st

if TYPE_CHECKING:  # type hints only: the real imports pull in TensorFlow or pandas parsing
    from app_pages._training import TrainingJob
    from app_pages.ui.data import Signal
    from denoiser.core import Denoiser
    from denoiser.io import SeriesTable

T = TypeVar("T")

BUNDLED = "Bundled (automatic)"  # the model choice that means the bundled models (default or x² specialist)
KEEP: dict[str, Any] = {"persist_state": "session"}  # widget option: the control keeps its value on other pages
RESULTS_KEPT = 6  # results kept per session by Session.cached (each holds one denoised series)


class Origin(StrEnum):
    """Where a series comes from: what decides its caches, its download and whether its noise is known."""

    GENERATED = "generated"  # drawn by the app from a recipe (Generate, Home): the truth and the noise are known
    UPLOAD = "upload"  # a column of the file read on the Upload page (a sample click included)
    SAMPLE = "sample"  # a sample file the lesson reads for itself (not the session's upload)
    LESSON = "lesson"  # a lesson's own example signal


class Entry(Generic[T]):
    """One entry of the session: its key (the attribute's name), its default and what it holds.

    ``default`` makes a fresh starting value (a new dict per session, never a shared one);
    ``load``, when given, turns the stored value into the attribute's type on reading.
    """

    def __init__(self, default: Callable[[], T], doc: str, *, load: Callable[[Any], T] | None = None) -> None:
        self.default, self.load, self.__doc__ = default, load, doc
        self.key = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Entry[T]: ...

    @overload
    def __get__(self, obj: Session, owner: type | None = None) -> T: ...

    def __get__(self, obj: Session | None, owner: type | None = None) -> Entry[T] | T:
        if obj is None:
            return self
        if self.key not in obj.store:
            obj.store[self.key] = self.default()
        value = obj.store[self.key]
        return self.load(value) if self.load is not None else value

    def __set__(self, obj: Session, value: T) -> None:
        obj.store[self.key] = value


def _origin(value: Any) -> Origin:
    try:
        return Origin(value)
    except ValueError:
        return Origin.GENERATED


def _none() -> None:
    return None


class Session:
    """This tab's session: a typed view over ``st.session_state`` (or any mapping, in tests).

    Cheap to make (it holds the mapping only): :func:`session` makes one wherever it is needed.
    """

    # ---- models
    models: Entry[dict[str, Denoiser]] = Entry(
        dict, "name -> Denoiser the user trained or uploaded (this session only)"
    )
    model_choice: Entry[str] = Entry(lambda: BUNDLED, "a key of ``models``, or BUNDLED")
    model_bytes: Entry[dict[str, bytes]] = Entry(
        dict, "name -> .keras bytes, so a download is not re-serialised every rerun"
    )
    model_file_seen: Entry[str | None] = Entry(_none, "file_id of the last model file handled, so it is loaded once")
    model_error: Entry[str | None] = Entry(_none, "message of the last model file that failed to load")
    job: Entry[TrainingJob | None] = Entry(_none, "this session's TrainingJob (app_pages/_training.py)")
    offer: Entry[dict[str, Any] | None] = Entry(
        _none, 'a new model offered, not imposed: {"name", "new_gain", "current_gain", ...} (ui/offers.py)'
    )

    # ---- data
    generated: Entry[Signal | None] = Entry(
        _none, "the generated signal in use: Generate's, or the stand-in of data.generated_in_use"
    )
    active: Entry[Origin] = Entry(
        lambda: Origin.GENERATED, "which data is in use (Compare's Data): GENERATED or UPLOAD", load=_origin
    )
    table: Entry[SeriesTable | None] = Entry(_none, "the SeriesTable read on the Upload page")
    table_name: Entry[str] = Entry(str, "its file name")
    upload_seen: Entry[str | None] = Entry(_none, "file_id of the last upload handled, so a file is read once")
    upload_error: Entry[str | None] = Entry(_none, "message of the last file that failed; the previous table stays")
    upload_source: Entry[tuple[bytes, str] | None] = Entry(
        _none, "(bytes, name) of a file of several parts, so another part is one choice away"
    )
    upload_columns: Entry[list[str]] = Entry(list, "value columns picked on the Upload page")
    clean_refs: Entry[dict[str, str | None]] = Entry(dict, "value column -> its clean reference column (or None)")
    clean_table: Entry[SeriesTable | None] = Entry(
        _none, 'SeriesTable of a separate clean-reference file (same rows as "table")'
    )
    clean_name: Entry[str] = Entry(str, "its file name")
    clean_error: Entry[str | None] = Entry(_none, "why the last clean-reference file was refused")
    clean_seen: Entry[str | None] = Entry(_none, "file_id of the last clean-reference file handled")
    data_gen: Entry[int] = Entry(int, "+1 whenever the uploaded data change: column widgets get new keys")
    upload_gen: Entry[int] = Entry(int, "+1 after a sample click or a reset: a fresh, empty file uploader")

    # ---- results kept per session
    csv_cache: Entry[dict[str, Any]] = Entry(
        dict, 'Compare\'s denoised CSV: {"key": (recipe, model, data), "data": bytes, "done", "refs"}'
    )
    auto_cache: Entry[dict[tuple, Any]] = Entry(
        dict, "results by (kind, model id, data key, noise level) -> (refs, result): Session.cached"
    )

    # ---- the shared link (app_pages/ui/links.py)
    qp_initial: Entry[dict[str, Any] | None] = Entry(_none, "the settings the link carried (None: not read yet)")
    qp_missing_model: Entry[str | None] = Entry(_none, "a model the link names that this session does not have")
    qp_missing_upload: Entry[dict[str, Any] | None] = Entry(
        _none, "the settings of a data=upload link opened without the file (dropped, said so)"
    )

    def __init__(self, store: MutableMapping[str, Any]) -> None:
        self.store = store

    @classmethod
    def entries(cls) -> dict[str, Entry[Any]]:
        """Every entry of the session by key."""
        return {name: value for name, value in vars(cls).items() if isinstance(value, Entry)}

    def init(self) -> None:
        """Fill in missing entries with their defaults (app.py runs this before every page)."""
        for key, entry in self.entries().items():
            if key not in self.store:
                self.store[key] = entry.default()

    def reset(self) -> None:
        """Back to the start: every setting, upload and model of this session dropped, the URL cleared."""
        job = self.store.get("job")
        if job is not None and job.running:
            job.stop.set()  # a queued run leaves the queue, a running one ends at its next epoch
        gens = self.store.get("data_gen", 0) + 1, self.store.get("upload_gen", 0) + 1
        for key in list(self.store.keys()):
            del self.store[key]
        st.query_params.clear()
        self.init()
        self.data_gen, self.upload_gen, self.qp_initial = gens[0], gens[1], {}

    @property
    def job_running(self) -> bool:
        """Whether this session's training run or search is queued or running."""
        job = self.job
        return job is not None and job.running

    # ---- the data
    @property
    def has_upload(self) -> bool:
        """Whether a file has been read on the Upload page."""
        return self.table is not None

    @property
    def upload_table(self) -> SeriesTable:
        """The table read on the Upload page, where the caller has checked :attr:`has_upload`."""
        table = self.table
        if table is None:
            raise RuntimeError("No uploaded table: check has_upload first.")
        return table

    def use_generated(self, signal: Signal) -> None:
        """The Generate page's signal becomes the data in use."""
        self.generated, self.active = signal, Origin.GENERATED

    def use_upload(
        self,
        table: SeriesTable,
        name: str,
        *,
        columns: list[str],
        clean_refs: dict[str, str | None],
        source: tuple[bytes, str] | None,
    ) -> None:
        """A newly read file becomes the data in use; the widgets made for the previous file are dropped.

        ``columns``: the value columns picked first; ``clean_refs``: each column's clean reference;
        ``source``: the file's bytes and name when another of its parts may be read.
        """
        self.table, self.table_name, self.upload_error, self.active = table, name, None, Origin.UPLOAD
        self.upload_source, self.upload_columns, self.clean_refs = source, columns, clean_refs
        self.clean_table, self.clean_name, self.clean_error = None, "", None
        self.data_gen += 1
        self.forget("up_", "cmp_column", "cmp_zoom")  # old widgets do not fit the new table

    def use_clean_file(self, table: SeriesTable, name: str) -> None:
        """A separate file with the clean version of the uploaded data (same rows)."""
        self.clean_table, self.clean_name, self.clean_error = table, name, None
        self.forget("up_clean::")

    def new_uploader(self) -> None:
        """Replace the file uploader by an empty one (after a sample click): its file is forgotten."""
        self.upload_gen += 1
        self.upload_seen = None

    # ---- widget values and a page's own settings
    def widget(self, key: str, default: Any = None) -> Any:
        """The value of a widget (or a page's own setting) stored under ``key``, else ``default``."""
        return self.store.get(key, default)

    def set_widget(self, key: str, value: Any) -> None:
        """Set a widget's value (before the widget is drawn in this run) or a page's own setting."""
        self.store[key] = value

    def has_widget(self, key: str) -> bool:
        """Whether a value is stored under ``key`` (a widget drawn, or a setting made, in this session)."""
        return key in self.store

    def forget(self, *prefixes: str) -> None:
        """Drop the widget values whose keys start with one of ``prefixes`` (they start afresh)."""
        for key in [k for k in self.store if str(k).startswith(prefixes)]:
            self.store.pop(key, None)

    # ---- results kept in the session
    def cached(self, key: tuple, refs: tuple, compute: Callable[[], T]) -> T:
        """A per-session cache entry keyed by object ids, at most RESULTS_KEPT entries (oldest dropped).

        The entry holds ``refs`` so that those objects stay alive while it exists, and a later
        object can never reuse their ids.
        """
        cache = self.auto_cache
        if key not in cache:
            while len(cache) >= RESULTS_KEPT:
                cache.pop(next(iter(cache)))
            cache[key] = (refs, compute())
        return cache[key][1]


def session() -> Session:
    """This tab's session (a view over ``st.session_state``)."""
    return Session(cast("MutableMapping[str, Any]", st.session_state))  # keys are str here
