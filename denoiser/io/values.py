"""From a parsed frame to a `SeriesTable`: the time column, the numeric value columns, and notes.

The last stage of every read, CSV text or another format (`denoiser.io.formats`): text and
empty columns are left out, cells that are not numbers, infinities and absurd values become
gaps, short gaps are filled, and each of those is said in a note.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from denoiser.errors import InputError
from denoiser.io._common import counted, the_file
from denoiser.io.dialect import MISSING_TOKENS, Layout
from denoiser.io.encoding import Encoding
from denoiser.io.guards import tick
from denoiser.io.table import ReadReport, SeriesTable
from denoiser.io.times import fill_gaps, find_time_column
from denoiser.text import listed, quoted

MIN_ROWS = 2  # a table with fewer data rows is refused: there is nothing to denoise
ABSURD_SCALE = 1e15  # a value this many robust scales from the column's median is a glitch, not a sample


def build_table(df: pd.DataFrame, layout: Layout, enc: Encoding, max_gap: int, name: str | None) -> SeriesTable:
    """The table of a parsed frame: its time column, float64 value columns with short gaps filled, and the report.

    Parameters
    ----------
    df : pandas.DataFrame, shape (rows, columns)
        The parsed cells, named as ``layout.names``.
    layout : Layout
        How the table was laid out (header, decimal mark, delimiter, the notes so far).
    enc : Encoding
        The text encoding (``Encoding("binary", "", 0, 1)`` for another format's frame).
    max_gap : int
        Interior runs of at most this many missing values are filled.
    name : str or None
        The file's name, for messages.

    Returns
    -------
    SeriesTable

    Raises
    ------
    InputError
        Fewer than 2 rows, or no column of numbers.
    """
    rows = len(df)
    if rows == 0:
        raise InputError(
            f"{the_file(name)} has a header but no data rows. Add at least 2 rows of numbers below the header."
        )
    if rows < MIN_ROWS:
        raise InputError(
            f"{the_file(name)} has only 1 data row, but denoising needs at least 2 rows. "
            "Choose a file with more measurements."
        )
    notes = list(layout.notes)
    time_name, time, time_kind, used = find_time_column(
        df, notes, header=layout.header, raw_header=layout.raw_header, decimal=layout.decimal
    )
    values, missing, dropped_text, dropped_empty = _value_columns(df, used, layout.decimal, notes)
    if not values:
        raise _no_values_error(dropped_text, dropped_empty, time_name, name)
    _note_dropped(dropped_text, dropped_empty, notes)
    gaps = {col: np.flatnonzero(np.isnan(arr)) for col, arr in values.items()}
    filled = {col: fill_gaps(arr, col, max_gap, notes) for col, arr in values.items()}
    # Which cells were filled, so a write-back can leave them empty again and flag them.
    filled_at = {col: at[np.isfinite(values[col][at])] for col, at in gaps.items() if filled[col]}
    text = enc.name != "binary"  # a text file: keep the time column's cells as written
    time_text = {
        col: _raw_cells(df[col])
        for col in df.columns
        if text and col in used and not pd.api.types.is_numeric_dtype(df[col].dtype)
    }
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


def _no_values_error(text: list[str], empty: list[str], time_name: str | None, name: str | None) -> InputError:
    if text:
        cols = listed(text)
        return InputError(
            f"{the_file(name)} has no numeric value column: {cols} "
            f"{'contains' if len(text) == 1 else 'contain'} text, not numbers. "
            "Choose a CSV file with at least one column of numbers."
        )
    if empty:
        cols = listed(empty)
        return InputError(
            f"Every cell in {'column' if len(empty) == 1 else 'columns'} {cols} of "
            f"{the_file(name, False)} is empty or NaN, so there is nothing to denoise. "
            "Choose a file whose columns contain measurements."
        )
    return InputError(
        f"{the_file(name)} has a time column ({quoted(time_name)}) but no column of measurements. "
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
        tick("converting columns to numbers")
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
                f"{counted(n_text, 'cell')} in {quoted(col)} did not contain a number and "
                f"{'was' if n_text == 1 else 'were'} treated as missing."
            )
        n_inf = int(np.count_nonzero(infinite))
        if n_inf:
            notes.append(
                f"{counted(n_inf, 'infinite value')} (inf/-inf) in {quoted(col)} "
                f"{'was' if n_inf == 1 else 'were'} treated as missing."
            )
        n_absurd = _drop_absurd(arr)
        if n_absurd:
            notes.append(
                f"{counted(n_absurd, 'absurd value')} in {quoted(col)} (more than {ABSURD_SCALE:.0e} times the "
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
    is_missing_token = text.str.lower().isin(MISSING_TOKENS)
    n_text = int((present & numbers.isna() & ~is_missing_token).sum())
    return arr, n_text


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
