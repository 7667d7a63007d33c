"""Time columns (timestamps, seconds, index and year columns) and filling short gaps."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from denoiser.io._common import counted
from denoiser.io.guards import tick
from denoiser.text import quoted

MAX_GAP: int = 10  # interior runs of at most this many missing values are filled by default
_MAX_TIME_CHARS = 64  # a longer cell is not a time stamp
_ISO_DATETIME = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_YMD_SLASH = re.compile(r"\d{4}/\d{1,2}/\d{1,2}(?: \d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_DMY = re.compile(
    r"(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})"
    r"(?:[ T](\d{1,2}:\d{2})(:\d{2})?(\.\d+)?)?"
)
_TIME_OF_DAY = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?")
_TIME_WORDS = frozenset(
    ["time", "times", "t", "timestamp", "date", "datetime", "seconds", "second", "sec", "secs"]
    + ["s", "ms", "index", "idx", "sample", "samples", "x", "zeit", "temps", "tiempo", "elapsed"]
    + ["year", "years", "yr", "jahr", "annee", "année", "ano", "año", "anno", "jaar", "month", "day"]
)


def looks_like_datetime(cell: str) -> bool:
    """Whether a cell is written like a date or a time stamp (ISO 8601, day.month.year, year/month/day)."""
    if len(cell) > _MAX_TIME_CHARS:
        return False
    return bool(_ISO_DATETIME.fullmatch(cell) or _DMY.fullmatch(cell) or _YMD_SLASH.fullmatch(cell))


def _time_name_like(name: str) -> bool:
    words = re.split(r"[\s_/\(\[\-.]+", name.strip().lower())
    return bool(words) and words[0] in _TIME_WORDS


def find_time_column(
    df: pd.DataFrame, notes: list[str], *, header: bool, raw_header: list[str], decimal: str
) -> tuple[str | None, pd.Series | None, str | None, set[str]]:
    """Find the time column: only the first column or one named like time qualifies.

    Parameters
    ----------
    df : pandas.DataFrame, shape (rows, columns)
        The parsed table, columns as the file holds them.
    notes : list of str
        Notes of the read; what was decided about dates is added.
    header : bool
        Whether the names came from a header row (only then can a name say "time").
    raw_header : list of str
        The header cells as written ("" where a name was invented).
    decimal : str
        The table's decimal mark (a decimal-comma file may write its time with a point).

    Returns
    -------
    tuple
        Its name, parsed values (a Series of shape (rows,)), kind (``"datetime"`` or
        ``"seconds"``) and the set of columns it used up (two when a date column and a
        time-of-day column were combined); ``(None, None, None, set())`` when there is none.
    """
    names = list(df.columns)
    candidates = [names[0]] + [n for n in names[1:] if header and _time_name_like(n)]
    for pos, col in enumerate(candidates):
        series = df[col]
        named = header and _time_name_like(col)
        if not pd.api.types.is_numeric_dtype(series.dtype):
            parsed = _parse_datetimes(series, notes, col)
            if parsed is not None:
                return _with_time_of_day(df, col, parsed, notes)
            point = _point_time(series, decimal) if named or pos == 0 else None
            if point is not None:  # "Zeit [s]" written 0.001 while the values use decimal commas
                return col, point.rename(col), "seconds", {col}
            continue
        # A first column without a name (a written DataFrame index, or a headerless file's
        # sample number) is the time axis when it counts up evenly.
        unnamed_index = pos == 0 and (not header or not raw_header[0])
        if (named or unnamed_index) and _is_time_axis(series, exact_index=unnamed_index and not named):
            return col, series.astype(np.float64).rename(col).reset_index(drop=True), "seconds", {col}
    return None, None, None, set()


def _with_time_of_day(
    df: pd.DataFrame, col: str, dates: pd.Series, notes: list[str]
) -> tuple[str, pd.Series, str, set[str]]:
    """Join a date-only column with a following "12:00:00" column, as Excel exports do."""
    names = list(df.columns)
    after = names.index(col) + 1
    valid = dates.dropna()
    if after >= len(names) or valid.empty or not (valid == valid.dt.normalize()).all():
        return col, dates, "datetime", {col}
    clock = df[names[after]]
    probe = clock.dropna().astype(str).str.strip().iloc[:1000]
    if probe.empty or probe.map(lambda c: bool(_TIME_OF_DAY.fullmatch(c))).mean() < 0.9:
        return col, dates, "datetime", {col}
    name = f"{col} {names[after]}"
    joined = df[col].astype(str).str.strip() + " " + clock.astype(str).str.strip()
    parsed = _parse_datetimes(joined, [], name)
    if parsed is None:
        return col, dates, "datetime", {col}
    notes.append(
        f"Combined the date column {quoted(col)} and the time column {quoted(names[after])} into {quoted(name)}."
    )
    return name, parsed, "datetime", {col, names[after]}


def _is_time_axis(series: pd.Series, exact_index: bool) -> bool:
    values = series.to_numpy(dtype=np.float64)
    if values.size < 2 or not np.isfinite(values).all():
        return False
    steps = np.diff(values)
    if exact_index:  # a nameless first column must count 0..n-1 or 1..n, or (16+ rows) up evenly
        count = np.arange(values.size)
        if np.array_equal(values, count) or np.array_equal(values, count + 1):
            return True
        return bool(values.size >= 16 and steps[0] > 0 and np.allclose(steps, steps[0], rtol=1e-6, atol=0))
    return bool((steps > 0).all())


def _point_time(series: pd.Series, decimal: str) -> pd.Series | None:
    """A text column of plain decimal-point numbers in a decimal-comma file, read as an increasing axis.

    Instruments often write the time with a point and the values with the locale's comma;
    the parser then keeps the time column as text. Accepted only when every cell is a plain
    number with at most one point and no comma, and the numbers increase.
    """
    if decimal != ",":
        return None
    text = series.astype(str).str.strip()
    if text.empty or not text.str.fullmatch(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?").all():
        return None
    values = pd.to_numeric(text, errors="coerce").astype(np.float64).reset_index(drop=True)
    if values.size < 2 or not np.isfinite(values).all() or not (np.diff(values.to_numpy()) > 0).all():
        return None
    return values


def _parse_datetimes(series: pd.Series, notes: list[str], col: str) -> pd.Series | None:
    """Parse a text column as timestamps if (almost) all its cells look like them."""
    text = series.dropna().astype(str).str.strip()
    if text.empty:
        return None
    probe = text.iloc[:1000]
    if probe.map(looks_like_datetime).mean() < 0.9:
        return None
    parsed = _to_datetime(series.astype(str).str.strip(), probe, notes)
    if parsed is None or parsed.notna().sum() < 0.9 * len(text):
        return None
    bad = int(series.notna().sum() - parsed.notna().sum())
    if bad:
        notes.append(
            f"{counted(bad, 'time stamp')} in {quoted(col)} could not be read and "
            f"{'was' if bad == 1 else 'were'} left empty."
        )
    return parsed.rename(col).reset_index(drop=True)


def _to_datetime(text: pd.Series, probe: pd.Series, notes: list[str]) -> pd.Series | None:
    first = probe.iloc[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if _ISO_DATETIME.fullmatch(first):
            try:
                return pd.to_datetime(text, format="ISO8601", errors="coerce")
            except ValueError:  # mixed UTC offsets
                return pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
        if _YMD_SLASH.fullmatch(first):
            return _mixed_datetimes(text, dayfirst=False)
        match = _DMY.fullmatch(first)
        if match is None:
            return None
        dayfirst = _day_first(probe, notes)
        parsed = pd.to_datetime(text, format=_dmy_format(match, dayfirst), errors="coerce")
        if parsed.notna().mean() < 0.9:
            parsed = _mixed_datetimes(text, dayfirst=dayfirst)
        return parsed


_DATE_CHUNK = 100_000  # cells per call of the slow per-cell date parser, between budget checks


def _mixed_datetimes(text: pd.Series, dayfirst: bool) -> pd.Series:
    """``format="mixed"`` parses cell by cell (~20 us each): in chunks, so the budget can stop it."""
    parts = []
    for start in range(0, len(text), _DATE_CHUNK):
        tick("reading time stamps")
        parts.append(
            pd.to_datetime(text.iloc[start : start + _DATE_CHUNK], format="mixed", dayfirst=dayfirst, errors="coerce")
        )
    if len(parts) <= 1:
        return parts[0] if parts else pd.to_datetime(text, format="mixed", dayfirst=dayfirst, errors="coerce")
    if len({str(p.dtype) for p in parts}) == 1:
        return pd.concat(parts)
    # Chunks with different time zones: parse once, as a single call would.
    return pd.to_datetime(text, format="mixed", dayfirst=dayfirst, errors="coerce")


def _day_first(probe: pd.Series, notes: list[str]) -> bool:
    """Day-first unless some second field exceeds 12 (then it must be month-first)."""
    parts = [m.groups() for m in map(_DMY.fullmatch, probe) if m]
    if any(int(p[0]) > 12 for p in parts):
        return True
    if any(int(p[2]) > 12 for p in parts):
        notes.append("Dates were read month-first (month/day/year), because some day values exceed 12.")
        return False
    notes.append("Dates such as 01/02/2024 are ambiguous; they were read day-first (day/month/year).")
    return True


def _dmy_format(match: re.Match[str], dayfirst: bool) -> str:
    _, sep, _, year, hm, sec, frac = match.groups()
    fmt = (f"%d{sep}%m{sep}" if dayfirst else f"%m{sep}%d{sep}") + ("%Y" if len(year) == 4 else "%y")
    if hm:
        fmt += " %H:%M" + (":%S" if sec else "") + (".%f" if frac else "")
    return fmt


def fill_gaps(arr: np.ndarray, col: str, max_gap: int, notes: list[str]) -> int:
    """Fill interior runs of <= max_gap NaNs in place by linear interpolation.

    Edge runs are never extrapolated and long runs stay NaN, because inventing
    many values would hide real outages from the user.

    Parameters
    ----------
    arr : numpy.ndarray, shape (rows,)
        A float64 value column; changed in place.
    col : str
        Its name, for the notes.
    max_gap : int
        The longest run filled.
    notes : list of str
        What was filled and what was left is added here.

    Returns
    -------
    int
        How many values were filled.
    """
    nan = np.isnan(arr)
    if not nan.any():
        return 0
    edges = np.flatnonzero(np.diff(np.concatenate(([0], nan.view(np.int8), [0]))))
    starts, ends = edges[0::2], edges[1::2]
    lengths = ends - starts
    interior = (starts > 0) & (ends < arr.size)
    short = interior & (lengths <= max_gap)
    if short.any():
        fill = np.zeros(arr.size, dtype=bool)
        for s, e in zip(starts[short], ends[short]):
            fill[s:e] = True
        good = np.flatnonzero(~nan)
        arr[fill] = np.interp(np.flatnonzero(fill), good, arr[good])
        notes.append(
            f"Filled {counted(int(short.sum()), 'short gap')} "
            f"({counted(int(lengths[short].sum()), 'value')}) in "
            f"{quoted(col)} by linear interpolation."
        )
    long = interior & (lengths > max_gap)
    if long.any():
        notes.append(
            f"{quoted(col)} has {counted(int(long.sum()), 'gap')} longer than {counted(max_gap, 'value')} "
            f"({counted(int(lengths[long].sum()), 'value')} in all); "
            f"{'it was' if long.sum() == 1 else 'they were'} left as missing (NaN) "
            "rather than invented."
        )
    _note_edges(starts, ends, arr.size, col, notes)
    return int(lengths[short].sum())


def _note_edges(starts: np.ndarray, ends: np.ndarray, size: int, col: str, notes: list[str]) -> None:
    lead = int(ends[0]) if starts[0] == 0 else 0
    trail = int(size - starts[-1]) if ends[-1] == size else 0
    if lead == size or not (lead or trail):
        return
    parts = [f"{counted(lead, 'missing value')} at the start"] if lead else []
    if trail:
        at_end = f"{trail:,}" if lead else counted(trail, "missing value")
        parts.append(f"{at_end} at the end")
    pronoun = "it was" if lead + trail == 1 else "they were"
    notes.append(
        f"{quoted(col)} has {' and '.join(parts)}; {pronoun} left as missing (NaN), because values "
        "before the first or after the last measurement are not extrapolated."
    )
