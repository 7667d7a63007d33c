"""Safe writing: the table and its denoised columns as CSV (or a frame for Parquet).

Values keep the precision the input was written with (denoised columns one digit
finer), integer columns stay integers, and header cells a spreadsheet would run as a
formula are neutralised. Two forms (`to_csv_bytes`): the plain one (comma, decimal point,
UTF-8, ISO 8601 datetimes) and the input's own (its delimiter, decimal mark, encoding,
line ends, header row or none, and the time column's text as the file wrote it), with
optional ``# `` comment lines on top and ``NAME_filled`` flags for gaps filled on reading.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any, Literal, cast

import numpy as np
import pandas as pd

from denoiser.errors import InputError
from denoiser.io.fastcsv import csv_rows
from denoiser.io.table import SeriesTable
from denoiser.text import cut, quoted

_MAX_DECIMALS = 12  # more places than this: the column is written in full (shortest round-trip form)
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_HEAD = 4096  # values a precision guess is tried on first; most wrong guesses fail there
with np.errstate(over="ignore"):
    _POW10 = 10.0 ** np.arange(400, dtype=np.float64)  # by the same power function as 10.0 ** k


def write_series(
    dest: str | os.PathLike[str] | IO[str] | IO[bytes],
    table: SeriesTable,
    denoised: dict[str, np.ndarray],
) -> None:
    """Write the table and its denoised columns as a UTF-8 CSV.

    Parameters
    ----------
    dest : str, os.PathLike or file-like
        A path, or an open text or binary buffer.
    table : SeriesTable
        The table that was denoised.
    denoised : dict of str to numpy.ndarray
        One 1-D array per denoised signal, each as long as the table; written as
        column ``"<key>_denoised"``.

    Raises
    ------
    InputError
        If a denoised array does not match the table's length.

    Notes
    -----
    The CSV uses ``","`` and ``"."``; datetimes are ISO 8601, NaN is an empty
    cell. Header cells a spreadsheet would run as a formula get a leading ``'``.
    """
    data = _csv_bytes(table, denoised)
    if isinstance(dest, (str, os.PathLike)):
        with open(dest, "wb") as handle:
            handle.write(data)
        return
    try:  # a text buffer, or else a binary one: only writing tells them apart
        cast(IO[str], dest).write(data.decode("utf-8"))
    except TypeError:  # a binary buffer refuses str before writing anything
        cast(IO[bytes], dest).write(data)


FORMS = ("plain", "input")  # how a CSV is written: see `to_csv_bytes`
FILLED = "_filled"  # suffix of the column that flags a value column's filled gaps (1 filled, 0 read)


def to_csv_bytes(
    table: SeriesTable,
    denoised: dict[str, np.ndarray],
    *,
    form: str = "plain",
    comment: Sequence[str] = (),
    filled: bool = False,
) -> bytes:
    """Return what `write_series` would write, as bytes (for download buttons), or the input's form.

    Parameters
    ----------
    table : SeriesTable
        The table that was denoised.
    denoised : dict of str to numpy.ndarray
        Denoised signals by name, each of shape (rows,).
    form : {"plain", "input"}
        ``"plain"``: comma-separated, decimal point, UTF-8, ISO 8601 times (what `write_series`
        writes). ``"input"``: as the CSV came in -- its delimiter, decimal mark, encoding (and
        byte-order mark), line ends, header row or none, and the time column's text verbatim
        (a numeric time column at its own decimal places). Files that were not CSV text are
        written in the plain form.
    comment : sequence of str
        Lines written first, each as ``# line`` (what was applied; `read_series` skips them).
        Each is put on one line (`denoiser.text.cut`); in an 8-bit encoding, characters it
        lacks become ``?``.
    filled : bool
        Flag filled gaps: a value column whose empty cells were filled by interpolation is
        written with those cells empty again (as they came in), and a column ``NAME_filled``
        (1 where the cell was filled, else 0) follows the denoised columns.

    Returns
    -------
    bytes
        The CSV file content.
    """
    if form not in FORMS:
        raise ValueError(f"form is one of {FORMS}; got {form!r}")
    if form == "plain" or table.report.format != "csv":
        dialect = _Dialect()
    else:
        r = table.report
        dialect = _Dialect(
            r.delimiter or ",", r.decimal, r.codec or "utf-8", r.bom, r.header, r.newline, raw_times=True
        )
    return _csv_bytes(table, denoised, dialect, comment, filled)


@dataclass(frozen=True)
class _Dialect:
    """How a CSV is written: the plain form by default."""

    delimiter: str = ","
    decimal: str = "."
    codec: str = "utf-8"
    bom: bool = False
    header: bool = True
    newline: str = "\n"
    raw_times: bool = False  # the time column's cells as the file wrote them, where kept

    def encode(self, text: str, errors: str = "strict") -> bytes:
        return text.encode(self.codec, errors)

    def start(self) -> bytes:
        """The byte-order mark, where the input had one."""
        return "\ufeff".encode(self.codec) if self.bom else b""


_PLAIN = _Dialect()  # comma, decimal point, UTF-8, "\n": what `write_series` writes


def _csv_bytes(
    table: SeriesTable,
    denoised: dict[str, np.ndarray],
    dialect: _Dialect = _PLAIN,
    comment: Sequence[str] = (),
    filled: bool = False,
) -> bytes:
    """The CSV: the rows formatted with NumPy, or by pandas for a column the fast path does not take."""
    columns, specs = _output_columns(table, denoised, text_times=True, raw_times=dialect.raw_times, filled=filled)
    names = [_neutralise(c) for c in columns]
    d = dialect
    sep = " " if d.delimiter == " " else d.delimiter
    head = d.start() + b"".join(d.encode(f"{inert_line(line)}{d.newline}", "replace") for line in comment)
    rows = csv_rows(list(columns.values()), [specs[c] for c in columns], delimiter=sep, decimal=d.decimal)
    if rows is None:
        frame = pd.DataFrame(
            {
                k: v.astype(str).astype(object) if getattr(v, "dtype", None) is not None and v.dtype.kind == "S" else v
                for k, v in columns.items()
            }
        )
        frame.columns = names
        text = frame.to_csv(
            index=False, na_rep="", lineterminator=d.newline, sep=sep, decimal=d.decimal, header=d.header
        )
        return head + d.encode(text)
    # The header through pandas' own csv writer, so names are quoted exactly as before.
    header = pd.DataFrame(columns=names).to_csv(index=False, lineterminator=d.newline, sep=sep) if d.header else ""
    if d.newline != "\n":
        rows = rows.replace(b"\n", d.newline.encode("ascii"))  # no cell of the fast path holds a line break
    if d.codec not in ("utf-8", "utf-8-sig"):
        rows = rows.decode("ascii").encode(d.codec)  # the fast path writes ASCII; UTF-16 needs its code units
    return head + d.encode(header) + rows


def inert_line(text: str) -> str:
    """A comment line of a written CSV: ``# `` and the text on one line (`denoiser.text.cut`, 300 characters)."""
    return "# " + cut(text, 300)


def output_frame(table: SeriesTable, denoised: dict[str, np.ndarray], *, text_times: bool = True) -> pd.DataFrame:
    """Return the table that `write_series` writes, as a DataFrame (e.g. for Parquet).

    Parameters
    ----------
    table : SeriesTable
        The table that was denoised.
    denoised : dict of str to numpy.ndarray
        Denoised signals by name, each as long as the table.
    text_times : bool
        True: datetimes as ISO 8601 text (the CSV form); False: kept as datetimes.

    Returns
    -------
    pandas.DataFrame, shape (rows, time + value + denoised columns)
        Values rounded to the input's decimal places (denoised: one more), integer
        columns as integers, formula-like header cells neutralised.
    """
    columns, _ = _output_columns(table, denoised, text_times=text_times)
    frame = pd.DataFrame(columns)
    frame.columns = [_neutralise(c) for c in frame.columns]
    return frame


def _output_columns(
    table: SeriesTable,
    denoised: dict[str, np.ndarray],
    *,
    text_times: bool,
    raw_times: bool = False,
    filled: bool = False,
) -> tuple[dict[str, Any], dict[str, tuple[str, int] | None]]:
    """The output columns by (unique, not yet neutralised) name, and how each was rounded.

    ``raw_times``: the time column's cells as the file wrote them, where the reader kept them;
    ``filled``: filled gap cells left empty and a ``NAME_filled`` flag column per column that had any.
    """
    rows = len(table.values)
    columns: dict[str, Any] = {}
    specs: dict[str, tuple[str, int] | None] = {}
    if raw_times and table.time_text:
        for name, cells in table.time_text.items():  # a date and a time-of-day column stay two
            key = _unique(str(name), columns)
            columns[key], specs[key] = cells, None
    elif table.time is not None:
        time_name = table.report.time_column or "time"
        if text_times or not pd.api.types.is_datetime64_any_dtype(table.time.dtype):
            columns[time_name], specs[time_name] = _time_cells(table.time)
        else:
            columns[time_name], specs[time_name] = table.time.reset_index(drop=True), None
    places: dict[str, tuple[str, int] | None] = {}
    for col in table.values.columns:
        arr = table.values[col].to_numpy(dtype=np.float64)
        # Interpolated gap cells are off the input's grid: that many may miss it.
        places[col] = precision(arr, misses=table.report.filled.get(col, 0))
        if filled and col in table.filled_at:
            arr = arr.copy()
            arr[table.filled_at[col]] = np.nan  # the cell came in empty: it goes out empty
        name = _unique(str(col), columns)
        columns[name], specs[name] = _at_precision(arr, places[col]), places[col]
    for key, arr in denoised.items():
        values = np.asarray(arr, dtype=np.float64)
        if values.ndim != 1 or values.size != rows:
            raise InputError(
                f"The denoised signal {quoted(key)} has shape {values.shape}, but the table has "
                f"{rows:,} rows. Denoise the column again before saving."
            )
        # One digit finer than the input, so rounding adds at most a tenth of the input's
        # own quantisation step (a denoised value between two input steps is the point).
        spec = places.get(key)
        name = _unique(f"{key}_denoised", columns)
        columns[name] = _at_precision(values, spec, finer=1)
        specs[name] = None if spec is None else (spec[0], spec[1] + 1)
    for col, at in table.filled_at.items() if filled else ():
        flag = np.zeros(rows, dtype=np.int64)
        flag[at] = 1
        name = _unique(f"{col}{FILLED}", columns)
        columns[name], specs[name] = flag, ("f", 0)
    return columns, specs


def _unique(name: str, taken: dict[str, Any]) -> str:
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name}_{k}", k + 1
    return candidate


def _neutralise(name: str) -> str:
    """Prefix header cells that spreadsheets would evaluate as formulas.

    The first character is compared after NFKC folding too: some spreadsheets take the
    full-width and small-form look-alikes (＝ ＋ － ＠, ﹦ ﹢ ﹣ ﹫) for the ASCII signs.
    """
    first = unicodedata.normalize("NFKC", name[:1])
    return "'" + name if name.startswith(_FORMULA_PREFIXES) or first.startswith(_FORMULA_PREFIXES) else name


def decimals(values: np.ndarray, misses: int = 0, limit: int = _MAX_DECIMALS) -> int | None:
    """Return the fewest decimal places that write a column's values back exactly.

    Parameters
    ----------
    values : numpy.ndarray, shape (n,)
        float64 values as read from decimal text (NaN and inf are ignored).
    misses : int
        How many finite values may be off that grid (cells filled by interpolation).
    limit : int
        Largest number of places tried.

    Returns
    -------
    int or None
        ``d`` such that ``round(x, d)`` reproduces every value (but ``misses``) to
        within float rounding; None when more than ``limit`` places, or more digits
        than a float holds exactly, would be needed (write the shortest round-trip form).
    """
    finite = values[np.isfinite(values)]
    if finite.size <= misses:
        return 0
    biggest = float(np.abs(finite).max())
    head = finite[:_HEAD]
    for d in range(limit + 1):
        if biggest * 10.0**d >= 2.0**40:  # the grid test below needs room below float spacing
            return None
        # More misses among the first values than allowed rule d out without a pass over all.
        if head.size < finite.size and _decimal_misses(head, d) > misses:
            continue
        if _decimal_misses(finite, d) <= misses:
            return d
    return None


def _decimal_misses(finite: np.ndarray, d: int) -> int:
    """How many values are off the grid of ``d`` decimal places."""
    scaled = finite * 10.0**d
    # A value parsed from text with d places is within about an ulp of an integer here.
    off = np.abs(scaled - np.rint(scaled)) > 4 * np.spacing(np.abs(scaled)) + 1e-300
    return int(np.count_nonzero(off))


def significant(values: np.ndarray, misses: int = 0, limit: int = _MAX_DECIMALS) -> int | None:
    """Return the fewest significant digits that write a column's values back exactly.

    Parameters
    ----------
    values : numpy.ndarray, shape (n,)
        float64 values as read from decimal text (NaN, inf and 0 are ignored).
    misses : int
        How many finite values may be off that grid (cells filled by interpolation).
    limit : int
        Largest number of digits tried.

    Returns
    -------
    int or None
        ``s`` such that every value (but ``misses``) has at most ``s`` significant
        digits, as ``%.6g`` writes them; None when more than ``limit`` are needed.
    """
    finite = values[np.isfinite(values) & (values != 0)]
    if finite.size <= misses:
        return 1
    exp = np.floor(np.log10(np.abs(finite)))
    head, head_exp = finite[:_HEAD], exp[:_HEAD]
    for s in range(1, limit + 1):
        # As in decimals: the first values alone rule most s out.
        if head.size < finite.size and _digit_misses(head, s - 1 - head_exp) > misses:
            continue
        if _digit_misses(finite, s - 1 - exp) <= misses:
            return s
    return None


def _digit_misses(finite: np.ndarray, k: np.ndarray) -> int:
    """How many of ``finite * 10**k`` are not whole numbers."""
    scaled = _shift(finite, k)
    off = np.abs(scaled - np.rint(scaled)) > 16 * np.spacing(np.abs(scaled))
    return int(np.count_nonzero(off))


def _shift(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """x * 10**k with exact powers of ten (a multiply or a divide), so a decimal grid stays exact.

    ``k`` holds whole numbers. One of the two factors is 1, so ``x * up / down`` is the
    multiply or the divide alone; the powers come from a table that ``10.0 ** k`` filled.
    """
    return x * _pow10(np.maximum(k, 0)) / _pow10(np.maximum(-k, 0))


def _pow10(k: np.ndarray) -> np.ndarray:
    """``10.0 ** k`` for whole numbers ``k >= 0``, looked up (inf above 10**308)."""
    return np.take(_POW10, k.astype(np.intp), mode="clip")


def precision(values: np.ndarray, misses: int = 0) -> tuple[str, int] | None:
    """How a column was written: ``("f", places)``, ``("g", digits)`` or None (full precision).

    Fixed decimal places (an instrument's resolution) unless significant digits need
    fewer digits (a ``%g`` writer: 0.000123457 and 12.3457 both have 6).

    Parameters
    ----------
    values : numpy.ndarray, shape (n,)
    misses : int
        Values allowed off the grid (interpolated gap cells).

    Returns
    -------
    tuple of (str, int) or None
    """
    d = decimals(values, misses)
    if d == 0:
        return ("f", 0)
    # Only fewer digits than d places matter, so the search stops below d.
    s = significant(values, misses, limit=_MAX_DECIMALS if d is None else d - 1)
    if s is not None and (d is None or s < d):
        return ("g", s)
    return None if d is None else ("f", d)


def _at_precision(values: np.ndarray, spec: tuple[str, int] | None, finer: int = 0) -> Any:
    """Values rounded as ``spec`` says (``finer`` more digits), integers for ("f", 0), as-is for None."""
    if spec is None:
        return values
    kind, n = spec
    if kind == "f":
        return _at_decimals(values, n + finer)
    x = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(x) & (x != 0)
    exp = np.floor(np.log10(np.abs(np.where(ok, x, 1.0))))
    k = n + finer - 1 - exp
    # rint(x * 10^k) / 10^k with exact powers: the float nearest the rounded decimal.
    scaled = np.rint(_shift(x, k))
    return np.where(ok, _shift(scaled, -k), x)


def _at_decimals(values: np.ndarray, d: int | None) -> Any:
    """Values rounded to ``d`` places for writing: integers when ``d`` is 0, as-is when None.

    Rounding gives the float nearest to the d-place decimal, whose shortest form
    (what the CSV writer prints) has at most d places.
    """
    if d is None:
        return values
    rounded = np.round(values, d)
    finite = np.isfinite(rounded)
    if d == 0 and not np.any(np.abs(rounded[finite]) >= 2.0**53):
        # Integers: 0, 1, 2 rather than 0.0, 1.0, 2.0; a masked (nullable) cell stays empty.
        ints = np.where(finite, rounded, 0).astype(np.int64)
        return ints if finite.all() else pd.arrays.IntegerArray(ints, ~finite)
    return rounded


def _time_cells(time: pd.Series) -> tuple[Any, tuple[str, int] | None]:
    """ISO 8601 strings for datetimes (UTC with "Z" when zone-aware); numbers at the input's precision otherwise.

    Returns the cells and how they were rounded (None for text).
    """
    if not pd.api.types.is_datetime64_any_dtype(time.dtype):
        seconds = time.to_numpy(dtype=np.float64)
        spec = precision(seconds)
        return _at_precision(seconds, spec), spec
    aware = getattr(time.dt, "tz", None) is not None
    naive = time.dt.tz_convert("UTC").dt.tz_localize(None) if aware else time
    stamps = naive.to_numpy()
    per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[np.datetime_data(stamps.dtype)[0]]
    ticks = stamps.view(np.int64)[~np.isnat(stamps)]
    # The coarsest unit that loses nothing, so whole seconds do not print ".000000".
    native = np.datetime_data(stamps.dtype)[0]
    units = [(u, per_second // d) for u, d in (("s", 1), ("ms", 10**3), ("us", 10**6)) if d <= per_second]
    # (datetime_data says "str": pandas keeps datetimes in one of these four units)
    unit = cast(Literal["s", "ms", "us", "ns"], next((u for u, step in units if (ticks % step == 0).all()), native))
    zone: Literal["UTC", "naive"] = "UTC" if aware else "naive"
    cells = np.datetime_as_string(stamps, unit=unit, timezone=zone)
    return np.where(np.isnat(stamps), "", cells).astype(object), None
