"""The data the pages denoise: :class:`Signal`, generated or uploaded, and the one :func:`current_signal`.

A generated signal is drawn from a recipe (family, length, noise kind and level, seed) that the
download script repeats; an uploaded one is a value column of the table read on the Upload page,
with an optional clean reference: another column of the file, or a column of a separate clean
file (:data:`CLEAN_FILE` marks those). What one session may read and train on is bounded here
(:data:`MAX_UPLOAD_SAMPLES`, :data:`MAX_TRAIN_SAMPLES`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from app_pages.ui.links import initial
from app_pages.ui.state import Origin, session
from app_pages.ui.text import short
from denoiser.io.columns import is_reference

if TYPE_CHECKING:  # pandas parsing: loaded when a file arrives
    from denoiser.io import SeriesTable

# What one session may cost (issue 21: one 198 MB upload of one-digit rows peaked the server at 5.2 GB
# to read and asked 43 GB to train on). Both caps say so when they apply; the CLI has neither.
MAX_UPLOAD_SAMPLES = 5_000_000  # values (rows x columns) read from one uploaded file: ~40 MB per copy
MAX_TRAIN_SAMPLES = 1_000_000  # samples of the upload one self-supervised run trains on (~320 MB of windows)

CLEAN_FILE = "\x00clean file\x00"  # prefix of a column of the separate clean file (no CSV header holds NUL)


@dataclass
class Signal:
    """One series to denoise, with its clean reference when one is known."""

    name: str
    noisy: np.ndarray
    clean: np.ndarray | None
    x: Any  # x-axis values: ndarray, or a pandas Series of times
    x_title: str = "sample"
    family: str | None = None  # signal family when generated (picks the x² specialist)
    recipe: dict[str, Any] = field(default_factory=dict)  # how to make it again (download script)
    origin: Origin = Origin.GENERATED  # where it comes from (caches, download, known noise)

    @property
    def length(self) -> int:
        """Samples in the series."""
        return int(self.noisy.size)


# ------------------------------------------------------------------ generated
def generated_signal(
    family: str = "x2",
    length: int = 150,
    kind: str = "gaussian",
    *,
    seed: int = 0,
    noise_params: dict[str, float] | None = None,
    **level: float,
) -> Signal:
    """A synthetic noisy signal; ``level`` is ``sigma=...`` or ``snr_db=...``. Raises InputError.

    ``noise_params``: the noise kind's own parameters (e.g. ``{"rate": 0.1}`` for impulse
    noise); missing ones take the kind's defaults. One generator draws the signal first,
    then the noise, so the download script can repeat both.
    """
    from denoiser.signals import FAMILY_LABELS, add_noise, make_signal, noise_kind, x_grid

    spec = noise_kind(kind)
    # The kind's own parameters only, defaults filled: what the download script writes out.
    own = {p.name: (noise_params or {}).get(p.name, p.default) for p in spec.params}
    rng = np.random.default_rng(seed)
    clean = make_signal(family, length, rng)
    noisy = add_noise(clean, kind, rng=rng, **own, **level)
    recipe = {"family": family, "length": length, "kind": kind, "seed": seed, "noise_params": own, **level}
    return Signal(
        FAMILY_LABELS[family], noisy, clean, x_grid(length), "x", family=family, recipe=recipe, origin=Origin.GENERATED
    )


def generated_from_state() -> Signal:
    """The generated signal the Generate page's settings (or a shared link's) describe. Raises InputError."""
    s = session()

    def get(key: str, default: Any) -> Any:
        return s.widget(key, initial(key, default))

    level = (
        {"sigma": get("gen_sigma", 0.05)}
        if get("gen_level_by", "sigma") == "sigma"
        else {"snr_db": get("gen_snr", 20.0)}
    )
    from denoiser.signals import noise_kind

    kind = get("gen_noise", "gaussian")
    params = {p.name: get(f"gen_{p.name}", p.default) for p in noise_kind(kind).params}
    return generated_signal(
        get("gen_family", "x2"),
        int(get("gen_length", 150)),
        kind,
        seed=int(get("gen_seed", 0)),
        noise_params=params,
        **level,
    )


def generated_in_use() -> Signal:
    """The generated signal: the one drawn on Generate; before any, the one the settings (a shared
    link's) describe, else the tutorial's x² with Gaussian noise (sigma 0.05).

    A stand-in is kept in the session, so results computed on it are kept too (they are keyed by it).
    """
    from denoiser.errors import InputError

    s = session()
    if s.generated is None:  # before Generate: a link's signal, else the tutorial's case rather than nothing
        try:
            s.generated = generated_from_state()
        except InputError:
            s.generated = generated_signal("x2", 150, "gaussian", sigma=0.05)
    return s.generated


# ------------------------------------------------------------------ uploaded
def upload_signal(table: SeriesTable, column: str, clean_column: str | None, file_name: str) -> Signal:
    """A Signal from one value column of the uploaded table and an optional clean reference:
    a column of the same file (its name) or of the separate clean file (CLEAN_FILE + its name)."""
    x = table.time if table.time is not None else np.arange(len(table.values))
    x_title = table.report.time_column or "row"
    recipe = {"file": file_name, "column": column, "clean": clean_column}
    clean = None
    if clean_column and clean_column.startswith(CLEAN_FILE):
        s = session()
        name = clean_column[len(CLEAN_FILE) :]
        clean_table = s.clean_table
        clean = clean_table.column(name) if clean_table is not None else None
        recipe.update(clean=name, clean_file=s.clean_name)
    elif clean_column:
        clean = table.column(clean_column)
    return Signal(
        name=column, noisy=table.column(column), clean=clean, x=x, x_title=x_title, recipe=recipe, origin=Origin.UPLOAD
    )


def clean_options(column: str) -> list[str | None]:
    """Clean references offered for ``column``: none, another column of the file, a column of the clean file."""
    s = session()
    table, other = s.table, s.clean_table
    own = [c for c in table.values.columns if c != column] if table is not None else []
    extra = [CLEAN_FILE + c for c in other.values.columns] if other is not None else []
    return [None, *own, *extra]


def clean_label(ref: str | None, clean_name: str = "the clean file") -> str:
    """How a clean-reference choice is listed (``clean_name``: the separate clean file's name)."""
    if ref is None:
        return "none: real data, no clean version"
    if ref.startswith(CLEAN_FILE):
        return f"{short(ref[len(CLEAN_FILE) :])}  (from {short(clean_name)})"
    return short(ref)


def clean_guess(column: str, columns: list[str]) -> str | None:
    """The column that looks like ``column``'s clean reference: named 'clean', 'truth' or 'reference',
    and sharing the longest ending with it (sensor_a -> clean_a), if the file has one."""
    candidates = [c for c in columns if c != column and is_reference(c)]
    if not candidates or is_reference(column):
        return None

    def shared_ending(c: str) -> int:
        return next((n for n in range(min(len(c), len(column)), 0, -1) if c[-n:] == column[-n:]), 0)

    return max(candidates, key=shared_ending)


def default_columns(table: SeriesTable) -> list[str]:
    """Value columns worth denoising first (`SeriesTable.signal_columns`: no index, time, year or clean column)."""
    return table.signal_columns


def upload_selection() -> tuple[list[str], dict[str, str | None]]:
    """The value columns picked on the Upload page and each one's clean reference column (or None)."""
    s = session()
    table = s.table
    if table is None:
        return [], {}
    names = list(table.values.columns)
    columns = [c for c in s.upload_columns if c in names] or default_columns(table)[:1]
    cleans = {c: s.clean_refs.get(c) for c in columns}
    return columns, {c: ref if ref in clean_options(c) else None for c, ref in cleans.items()}


def uploaded_column(column: str | None = None) -> Signal:
    """A column of the uploaded table as a Signal (None: the first column picked on the Upload page),
    with its clean reference: a picked column's choice there; any other column's, if still offered."""
    s = session()
    columns, cleans = upload_selection()
    column = columns[0] if column is None else column
    ref = cleans.get(column, s.clean_refs.get(column))
    ref = ref if ref in clean_options(column) else None
    return upload_signal(s.upload_table, column, ref, s.table_name)


# ------------------------------------------------------------------ which data is current
def available_data() -> list[Origin]:
    """The data Compare can show: the generated signal, and the upload once there is one."""
    return [Origin.GENERATED, *([Origin.UPLOAD] if session().has_upload else [])]


def current_origin() -> Origin:
    """Which data is in use: the session's choice (Compare's Data, the last upload) where it is available."""
    available, active = available_data(), session().active
    return active if active in available else available[0]


def current_signal(column: str | None = None) -> Signal:
    """The data the user works on: the pages' one answer to "which data is current".

    The uploaded data when it is in use (:func:`current_origin`): ``column`` (Compare's column
    choice), else the first column picked on the Upload page, with its clean reference; otherwise
    the generated signal (:func:`generated_in_use`: drawn on Generate, a link's, or the tutorial's x²).
    """
    s = session()
    columns, _ = upload_selection()
    if current_origin() is Origin.UPLOAD and columns:
        return uploaded_column(column if column in s.upload_table.values.columns else None)
    return generated_in_use()


# ------------------------------------------------------------------ parts and keys
def sliced(signal: Signal, part: slice) -> Signal:
    """The part of a signal to draw (same name, recipe and origin)."""
    clean = signal.clean[part] if signal.clean is not None else None
    x = signal.x.iloc[part] if isinstance(signal.x, pd.Series) else np.asarray(signal.x)[part]
    return replace(signal, noisy=signal.noisy[part], clean=clean, x=x)


def data_key(signal: Signal) -> tuple:
    """Identifies the data a signal comes from, for caches kept in the session."""
    if signal.origin is Origin.UPLOAD:
        table = session().table
        return (Origin.UPLOAD.value, id(table), signal.name, id(table.values) if table is not None else None)
    return (signal.origin.value, id(signal.noisy))


def generated_table(signal: Signal) -> SeriesTable:
    """A generated signal as a table (x, noisy, clean), what Compare's download and its script denoise."""
    from denoiser.io import SeriesTable

    return session().cached(
        ("table", data_key(signal)),
        (signal.noisy,),
        lambda: SeriesTable.from_arrays(
            {"noisy": signal.noisy, **({"clean": signal.clean} if signal.clean is not None else {})}, time=signal.x
        ),
    )


def widget_key(base: str) -> str:
    """A file uploader's key: a new one after a sample click or a reset, so the old file is dropped."""
    gen = session().upload_gen
    return base if gen == 0 else f"{base}_{gen}"
