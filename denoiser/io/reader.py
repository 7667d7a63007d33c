"""The top-level reader: guards, encoding, dialect, pandas' C parser, then the table.

`read_series` runs the stages in order; each refuses what it cannot use with an
`InputError` for end users. The full parse is done by pandas' C parser, so
million-row files stay fast.
"""

from __future__ import annotations

import csv
import io
import os
import time
import warnings
from typing import IO

import numpy as np
import pandas as pd

from denoiser.errors import InputError
from denoiser.io import formats
from denoiser.text import listed, quoted
from denoiser.io._common import _count, _the_file
from denoiser.io.dialect import (
    _MISSING_TOKENS,
    _check_field_counts,
    _Layout,
    _logical_lines,
    _parser_message,
    _sniff,
)
from denoiser.io.encoding import _decode_sample, _detect_encoding, _Encoding
from denoiser.io.guards import (
    _BUDGET,
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_LINE_CHARS,
    MAX_SECONDS,
    _check_line_lengths,
    _check_magic,
    _check_text_like,
    _load,
    _tick,
    _too_many_columns,
)
from denoiser.io.table import ReadReport, SeriesTable
from denoiser.io.times import MAX_GAP, _fill_gaps, _find_time_column


_MIN_ROWS = 2

# Tokens that mean "no value". pandas' defaults cover most; instruments add these.
_EXTRA_NA = ["-", "--", "NAN", "Nan", "Null", "none", "NONE", "#VALUE!", "#DIV/0!", "#NUM!", "#REF!"]
ABSURD_SCALE = 1e15  # a value this many robust scales from the column's median is a glitch, not a sample


def read_series(
    source: str | os.PathLike[str] | bytes | IO[bytes],
    *,
    max_bytes: int = MAX_BYTES,
    max_columns: int = MAX_COLUMNS,
    max_line_chars: int = MAX_LINE_CHARS,
    max_gap: int = MAX_GAP,
    time_budget: float = MAX_SECONDS,
    part: str | None = None,
    max_samples: int | None = None,
) -> SeriesTable:
    """Read a table of signals: CSV-like text, or an instrument file (see `denoiser.io.formats`).

    Parameters
    ----------
    source : str, os.PathLike, bytes or binary file-like
        A path, the file content, or an open binary file (e.g. Streamlit's
        ``UploadedFile``; it is read from the start).
    max_bytes : int
        Larger inputs are refused before they are read.
    max_columns : int
        Tables with more columns are refused.
    max_line_chars : int
        A line longer than this (counted in code units of the encoding) is refused.
    max_gap : int
        Interior runs of at most this many missing values are filled by linear
        interpolation; longer runs stay NaN.
    max_samples : int, optional
        At most this many cells (rows x columns) are parsed: a larger table is read up to
        the row that reaches it, said in ``report.notes`` and ``report.rows_left``. The rows
        are counted on the raw bytes first, so a file of 99 million one-digit rows costs
        what its first rows cost, not 5 GB (a server reading uploads sets this).
    time_budget : float
        Seconds the read may take. The checks between and inside the Python stages
        (sniffing, classification, column conversion, date parsing in chunks) stop a
        read that runs longer with an `InputError`; pandas' C parser, which releases
        the GIL, runs to its end.
    part : str, optional
        For a file with several sheets, groups, datasets, variables or rate groups: the one
        to read (``report.parts`` lists them); default: the first usable one.

    Returns
    -------
    SeriesTable
        Value columns, optional time column and a report.

    Raises
    ------
    InputError
        For anything that is not a usable table; the message says what is wrong
        and what to do.
    TypeError
        If ``source`` is not one of the supported types (a programming error).
    """
    if min(max_bytes, max_columns, max_line_chars) < 1 or max_gap < 0:
        raise ValueError("Limits must be positive and max_gap must be >= 0.")
    if max_samples is not None and max_samples < 2:
        raise ValueError("max_samples must be at least 2 (a table has at least 2 values).")
    data, name = _load(source, max_bytes)
    _BUDGET.deadline, _BUDGET.seconds, _BUDGET.name = time.monotonic() + time_budget, time_budget, name
    try:
        fmt = formats.detect(data, name)  # magic bytes first, then the extension; None: CSV-like text
        if fmt is not None:
            limits = formats.Limits(max_columns, max_gap)
            if max_samples is not None:   # a cap on what one read may hold (the app's per-upload budget)
                limits = formats.Limits(max_columns, max_gap, min(limits.max_values, int(max_samples)))
            return formats.read_format(fmt, data, name, part, limits)
        return _read_bytes(data, name, max_columns, max_line_chars, max_gap, max_samples)
    except InputError:
        raise
    except RecursionError:
        raise InputError(f"{_the_file(name)} is structured too deeply to be read as a table. "
                         "Check that it is a plain-text CSV file.") from None
    except pd.errors.ParserError as exc:
        raise InputError(_parser_message(str(exc), name, 0)) from None
    except (UnicodeError, LookupError):
        raise InputError(
            f"{_the_file(name)} contains characters that are not valid in its text encoding. "
            "Save it again as UTF-8 CSV and try once more."
        ) from None
    except MemoryError:
        raise InputError(
            f"{_the_file(name)} needs more memory than is available. "
            "Split it into smaller files or remove unused columns."
        ) from None
    except (ValueError, OverflowError, TypeError, KeyError, IndexError, csv.Error,
            pd.errors.EmptyDataError, pd.errors.ParserWarning) as exc:
        reason = str(exc).strip()
        reason = reason if len(reason) <= 120 else reason[:119] + "…"
        raise InputError(
            f"{_the_file(name)} could not be read as a table of numbers ({reason}). "
            "Check that it is a plain-text CSV file with one row per line."
        ) from None
    finally:
        _BUDGET.deadline = None


def _read_bytes(
    data: bytes, name: str | None, max_columns: int, max_line_chars: int, max_gap: int,
    max_samples: int | None = None,
) -> SeriesTable:
    """Run all checks and the parse on the raw bytes."""
    _check_magic(data, name)
    enc = _detect_encoding(data, name)
    _check_line_lengths(data, enc, max_line_chars, name)
    text, at_eof = _decode_sample(data, enc)
    _check_text_like(text, name)
    _tick("checking the encoding")
    lines = _logical_lines(text, at_eof)
    layout = _sniff(lines, name, at_eof, max_columns)
    if len(layout.names) > max_columns:
        raise _too_many_columns(len(layout.names), max_columns, name)
    _check_field_counts(lines, layout, name)
    first = lines[layout.data_line]
    offset = enc.bom + len(text[: first.start].encode(enc.codec))
    _tick("detecting the format")
    nrows, about = _row_limit(data, offset, len(layout.names), max_samples)
    df = _parse(data, offset, enc, layout, first.first_phys, name, nrows)
    _tick("parsing the rows")
    table = _build_table(df, layout, enc, max_gap, name)
    table.report.newline = _newline(text)
    if nrows is not None and len(df) >= nrows:
        table.report.rows_left = max(1, about - len(df))
        table.report.notes.append(
            f"Only the first {_count(len(df), 'row')} of about {about:,} were read: at most {max_samples:,} values "
            f"({len(layout.names):,} per row) are read from one file here.")
    return table


def _newline(text: str) -> str:
    """The line end most lines of the sample end with: ``"\r\n"``, ``"\r"`` or ``"\n"`` (a line break
    inside a quoted header cell does not decide it)."""
    crlf = text.count("\r\n")
    counts = {"\n": text.count("\n") - crlf, "\r\n": crlf, "\r": text.count("\r") - crlf}
    return max(counts, key=lambda k: (counts[k], k == "\n"))


def _raw_cells(series: pd.Series) -> np.ndarray:
    """A text column's cells as the file wrote them ("" where empty), compact: bytes when ASCII.

    Kept for a write-back in the input's form; 1M timestamps cost ~20 MB as bytes, ~70 MB as str.
    """
    cells = series.astype(str).to_numpy(dtype=object)
    cells[series.isna().to_numpy()] = ""
    try:
        return cells.astype("S")
    except UnicodeEncodeError:
        return cells.astype(str)


def _row_limit(data: bytes, offset: int, columns: int, max_samples: int | None) -> tuple[int | None, int]:
    """Rows to parse (None: all) so that rows x columns stays within ``max_samples``, and about how many there are.

    Line breaks are counted on the raw bytes after the header (a C-speed scan, no copy): an
    upper bound on the data rows, blank lines and quoted breaks included.
    """
    breaks = data.count(b"\n", offset) or data.count(b"\r", offset)
    about = breaks + (0 if data[-4:].rstrip(b"\x00").endswith((b"\n", b"\r")) else 1)  # a last line without a break
    if max_samples is None or about * max(1, columns) <= max_samples:
        return None, about
    return max(_MIN_ROWS, max_samples // max(1, columns)), about


def _parse(
    data: bytes, offset: int, enc: _Encoding, layout: _Layout, line_offset: int, name: str | None,
    nrows: int | None = None,
) -> pd.DataFrame:
    """Parse from the first data row with pandas' C parser and explicit names.

    Explicit names with ``index_col=False`` stop pandas from turning the first
    data column into an index when the header is shorter than the rows.
    """
    buffer = io.BytesIO(data)
    buffer.seek(offset)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DtypeWarning etc.: mixed columns are coerced below
            return pd.read_csv(
                buffer,
                sep=r"\s+" if layout.delimiter == " " else layout.delimiter,
                decimal=layout.decimal,
                header=None,
                names=layout.names,
                index_col=False,
                na_values=_EXTRA_NA,
                keep_default_na=True,
                skipinitialspace=True,
                skip_blank_lines=True,
                engine="c",
                compression=None,
                encoding=enc.codec,
                encoding_errors="strict",
                on_bad_lines="error",
                nrows=nrows,
            )
    except pd.errors.ParserError as exc:
        raise InputError(_parser_message(str(exc), name, line_offset)) from None
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=layout.names)


def _build_table(
    df: pd.DataFrame, layout: _Layout, enc: _Encoding, max_gap: int, name: str | None
) -> SeriesTable:
    rows = len(df)
    if rows == 0:
        raise InputError(
            f"{_the_file(name)} has a header but no data rows. "
            "Add at least 2 rows of numbers below the header."
        )
    if rows < _MIN_ROWS:
        raise InputError(
            f"{_the_file(name)} has only 1 data row, but denoising needs at least 2 rows. "
            "Choose a file with more measurements."
        )
    notes = list(layout.notes)
    time_name, time, time_kind, used = _find_time_column(df, layout, notes)
    values, missing, dropped_text, dropped_empty = _value_columns(df, used, layout.decimal, notes)
    if not values:
        raise _no_values_error(dropped_text, dropped_empty, time_name, name)
    _note_dropped(dropped_text, dropped_empty, notes)
    gaps = {col: np.flatnonzero(np.isnan(arr)) for col, arr in values.items()}
    filled = {col: _fill_gaps(arr, col, max_gap, notes) for col, arr in values.items()}
    # Which cells were filled, so a write-back can leave them empty again and flag them.
    filled_at = {col: at[np.isfinite(values[col][at])] for col, at in gaps.items() if filled[col]}
    text = enc.name != "binary"  # a text file: keep the time column's cells as written
    time_text = {col: _raw_cells(df[col]) for col in df.columns
                 if text and col in used and not pd.api.types.is_numeric_dtype(df[col].dtype)}
    frame = pd.DataFrame(values, index=pd.RangeIndex(rows), copy=False)  # arrays are ours already
    report = ReadReport(
        rows=rows,
        columns=list(values),
        delimiter=layout.delimiter,
        decimal=layout.decimal,
        encoding=enc.name,
        header=layout.header,
        skipped_lines=layout.skipped,
        time_column=time_name,
        time_kind=time_kind,
        missing=missing,
        filled=filled,
        notes=notes,
        codec=enc.codec,
        bom=enc.bom > 0,
    )
    return SeriesTable(values=frame, time=time, report=report, time_text=time_text, filled_at=filled_at)


def _no_values_error(
    text: list[str], empty: list[str], time_name: str | None, name: str | None
) -> InputError:
    if text:
        cols = listed(text)
        return InputError(
            f"{_the_file(name)} has no numeric value column: {cols} "
            f"{'contains' if len(text) == 1 else 'contain'} text, not numbers. "
            "Choose a CSV file with at least one column of numbers."
        )
    if empty:
        cols = listed(empty)
        return InputError(
            f"Every cell in {'column' if len(empty) == 1 else 'columns'} {cols} of "
            f"{_the_file(name, False)} is empty or NaN, so there is nothing to denoise. "
            "Choose a file whose columns contain measurements."
        )
    return InputError(
        f"{_the_file(name)} has a time column ({quoted(time_name)}) but no column of measurements. "
        "Choose a file with at least one column of numbers next to the time."
    )


def _note_dropped(text: list[str], empty: list[str], notes: list[str]) -> None:
    if text:
        cols = listed(text)
        what = "text column" if len(text) == 1 else "text columns"
        notes.append(f"Left out the {what} {cols}, because only numbers can be denoised.")
    if empty:
        cols = listed(empty)
        what = "empty column" if len(empty) == 1 else "empty columns"
        notes.append(f"Left out the {what} {cols}, because no cell holds a finite number.")


def _value_columns(
    df: pd.DataFrame, time_columns: set[str], decimal: str, notes: list[str]
) -> tuple[dict[str, np.ndarray], dict[str, int], list[str], list[str]]:
    """Coerce every non-time column to float64; set aside text and empty columns."""
    values: dict[str, np.ndarray] = {}
    missing: dict[str, int] = {}
    text_cols: list[str] = []
    empty_cols: list[str] = []
    for col in df.columns:
        if col in time_columns:
            continue
        _tick("converting columns to numbers")
        arr, n_text = _to_float(df[col], decimal)
        infinite = np.isinf(arr)
        arr[infinite] = np.nan  # inf/-inf carry no usable amplitude
        n_numeric = int(np.count_nonzero(~np.isnan(arr)))
        if n_numeric == 0 and n_text == 0:
            empty_cols.append(col)
            continue
        if n_numeric < n_text:  # mostly words: a label column, not a signal
            text_cols.append(col)
            continue
        if n_text:
            notes.append(
                f"{_count(n_text, 'cell')} in {quoted(col)} did not contain a number and "
                f"{'was' if n_text == 1 else 'were'} treated as missing."
            )
        n_inf = int(np.count_nonzero(infinite))
        if n_inf:
            notes.append(
                f"{_count(n_inf, 'infinite value')} (inf/-inf) in {quoted(col)} "
                f"{'was' if n_inf == 1 else 'were'} treated as missing."
            )
        n_absurd = _drop_absurd(arr)
        if n_absurd:
            notes.append(
                f"{_count(n_absurd, 'absurd value')} in {quoted(col)} (more than {ABSURD_SCALE:.0e} times the "
                f"column's typical spread from its median, e.g. 1e308) "
                f"{'was' if n_absurd == 1 else 'were'} treated as missing."
            )
        values[col] = arr
        missing[col] = int(np.count_nonzero(np.isnan(arr)))
    return values, missing, text_cols, empty_cols


def _drop_absurd(arr: np.ndarray) -> int:
    """Set absurd values to NaN, in place, and return how many there were.

    Cells such as 1e308 are finite, but squaring them overflows, and every plot, metric
    and network output built on them is inf or NaN. A value is absurd when it lies more
    than ABSURD_SCALE robust scales from the column's median (scale: 1.4826 * MAD, which a
    few glitches cannot move; the mean absolute deviation when over half the values are
    equal), or when its magnitude exceeds 1e150 (its square would overflow).
    """
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        return 0
    with np.errstate(invalid="ignore", over="ignore"):
        med = float(np.median(finite))
        dev = np.abs(finite - med)
        scale = 1.4826 * float(np.median(dev))
        if not scale > 0:
            scale = float(np.mean(dev))
        absurd = np.abs(arr) > 1e150
        if scale > 0 and np.isfinite(scale):
            absurd |= np.abs(arr - med) > ABSURD_SCALE * scale
    n = int(np.count_nonzero(absurd))
    arr[absurd] = np.nan
    return n


def _to_float(series: pd.Series, decimal: str) -> tuple[np.ndarray, int]:
    """Return float64 values and how many non-empty cells were not numbers."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan), 0
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan, copy=True), 0
    present = series.notna()
    text = series.astype(str).str.strip()
    if decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(text.where(present), errors="coerce")
    arr = numbers.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    is_missing_token = text.str.lower().isin(_MISSING_TOKENS)
    n_text = int((present & numbers.isna() & ~is_missing_token).sum())
    return arr, n_text
