"""CSV rows of numbers formatted with NumPy, byte for byte what ``DataFrame.to_csv`` writes.

pandas formats every float cell with NumPy's shortest round-trip ``str`` (about 1 us
a cell), which made a million-row download take seconds. Here a value rounded to
``d`` decimal places is written from the integer ``m = rint(x * 10**d)``: its digits
come from a few whole-array divisions, and the cells are laid out in a NUL-padded
byte matrix whose NULs are dropped at the end.

Why that is the same text: if ``x`` is the float nearest to ``m / 10**d`` and
``|m| < 10**15``, that decimal has at most 15 significant digits, so it is the
shortest string that reads back as ``x`` and Python and NumPy print exactly its
digits (positional for ``1e-4 <= |x| < 1e16``, without trailing zeros but with one
digit after the point). Each cell is checked against that condition; a cell that
fails (infinite, tiny, huge, or not on the grid) is formatted by NumPy as pandas would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

CHUNK_ROWS = 1 << 16  # rows formatted at once, so the byte matrices stay a few MB
_FAST_LIMIT = 1e15  # |m| below this: at most 15 significant digits, the shortest round-trip form
_QUOTE_ALWAYS = b'"\r\n'  # text cells holding these, or the delimiter, need csv quoting

Spec = tuple[str, int] | None


def csv_rows(cells: list[Any], specs: list[Spec], *, delimiter: str = ",", decimal: str = ".") -> bytes | None:
    """Return the data rows of a CSV (``","``, ``"\\n"``, NaN as an empty cell).

    Parameters
    ----------
    cells : list of array-like, each shape (rows,)
        The columns: float64 or int64 NumPy arrays, pandas ``IntegerArray`` (NA is an
        empty cell), object arrays of ASCII text or bytes arrays (written as they are).
    specs : list of tuple (str, int) or None
        Per column, how its floats were rounded: ``("f", d)`` to ``d`` decimal places,
        ``("g", s)`` to ``s`` significant digits; None: not rounded. A spec is a hint
        for speed only: every cell is checked, and one it does not fit is written by
        NumPy's ``str``, as pandas writes it.
    delimiter, decimal : str
        One ASCII character each: between cells (``";"`` for a decimal-comma file), and the
        decimal mark of float cells (``","``: what pandas' ``to_csv(decimal=",")`` writes).

    Returns
    -------
    bytes or None
        The rows, UTF-8 (ASCII); None when a column is of another kind or holds text
        that would need quoting (then pandas should write the table).
    """
    if not cells or any(not _supported(c) for c in cells) or delimiter == decimal:
        return None  # a decimal mark that is also the delimiter needs quoting: pandas writes it
    rows = len(cells[0])
    special = np.frombuffer(_QUOTE_ALWAYS + delimiter.encode("ascii"), dtype=np.uint8)
    parts = []
    for lo in range(0, rows, CHUNK_ROWS):
        hi = min(rows, lo + CHUNK_ROWS)
        blocks = [_column_cells(c[lo:hi], s, special, ord(decimal)) for c, s in zip(cells, specs)]
        if any(b is None for b in blocks):
            return None
        parts.append(_join_rows(blocks, hi - lo, ord(delimiter)))  # type: ignore[arg-type]
    return b"".join(parts)


def _supported(column: Any) -> bool:
    if isinstance(column, pd.arrays.IntegerArray):
        return True
    return (
        isinstance(column, np.ndarray)
        and column.ndim == 1
        and (
            column.dtype == np.float64 or column.dtype == np.int64 or column.dtype == object or column.dtype.kind == "S"
        )
    )


# A column's cells for one chunk: its width in bytes and a function that writes them into a
# (rows, width) view of the chunk's byte matrix, leaving NUL where a cell is shorter.
_Cells = tuple[int, Callable[[np.ndarray], None]]


def _join_rows(blocks: list[_Cells], n: int, delimiter: int = ord(",")) -> bytes:
    """Lay the cells out with ``delimiter`` between columns and ``\\n`` after each row; drop the NULs."""
    widths = [w for w, _ in blocks]
    lone = len(blocks) == 1
    if lone:
        widths[0] = max(widths[0], 2)  # room for the "" of an empty row
    out = np.zeros((n, sum(widths) + len(widths)), dtype=np.uint8)
    at = 0
    for (_, write), width in zip(blocks, widths):
        write(out[:, at : at + width])
        out[:, at + width] = delimiter
        at += width + 1
    out[:, -1] = ord("\n")
    if lone:
        # The csv module writes a row that is one empty field as "" (else it were a blank line).
        empty = ~out[:, :-1].any(axis=1)
        out[empty, :2] = np.frombuffer(b'""', dtype=np.uint8)
    return out.tobytes().translate(None, b"\0")


def _column_cells(column: Any, spec: Spec, special: np.ndarray | None = None, decimal: int = ord(".")) -> _Cells | None:
    if isinstance(column, pd.arrays.IntegerArray):
        present = ~column.isna()
        return _int_cells(column.to_numpy(dtype=np.int64, na_value=0), present)
    if column.dtype == np.int64:
        return _int_cells(column, None)
    if column.dtype == object or column.dtype.kind == "S":
        return _text_cells(column, np.frombuffer(_QUOTE_ALWAYS + b",", dtype=np.uint8) if special is None else special)
    return _float_cells(column, spec, decimal)


def _text_cells(column: np.ndarray, special: np.ndarray) -> _Cells | None:
    """ASCII text cells as they are; None if a cell is not ASCII text or needs quoting (holds a byte of ``special``)."""
    if column.dtype.kind == "S":
        raw = column
        if raw.size and (raw.view(np.uint8) > 127).any():
            return None
    else:
        if not all(type(c) is str for c in column):
            return None
        try:
            raw = column.astype("S")
        except UnicodeEncodeError:
            return None
    if raw.dtype.itemsize == 0:  # every cell empty
        raw = raw.astype("S1")
    chars = raw.view(np.uint8).reshape(len(column), raw.dtype.itemsize)
    if np.isin(chars, special).any():
        return None

    def write(view: np.ndarray) -> None:
        view[:, : chars.shape[1]] = chars

    return chars.shape[1], write


def _width(a: np.ndarray) -> int:
    """Digits of the largest of the non-negative integers ``a`` (at least 1)."""
    return len(str(int(a.max()))) if a.size else 1


def _write_digits(view: np.ndarray, a: np.ndarray, frac: int, show: np.ndarray | None, decimal: int = ord(".")) -> None:
    """Write ``a / 10**frac`` positionally into ``view[:, 1:]`` (``frac`` 0: a plain integer).

    Integer digits without leading zeros (at least one); with ``frac`` places, a ``.`` and
    the places without trailing zeros (at least one). Rows where ``show`` is False stay NUL.
    """
    width = view.shape[1] - 1 - (frac > 0)  # digits written
    rest = a.copy()
    nonzero = np.zeros(a.size, dtype=bool)  # a digit at or below this place is not 0
    ten = np.uint64(10)
    for p in range(width):  # place value 10**p of a, lowest first
        col = view.shape[1] - 1 - p - (frac > 0 and p >= frac)
        keep = rest > 0 if p > frac else np.ones(a.size, dtype=bool)  # leading zeros go
        rest, digit = np.divmod(rest, ten)
        if p < frac - 1:
            nonzero |= digit != 0
            keep = nonzero.copy()  # trailing zeros go, the first place stays
        if show is not None:
            keep &= show
        chars = digit.astype(np.uint8)
        chars += ord("0")
        chars *= keep
        view[:, col] = chars
    if frac:
        view[:, view.shape[1] - 1 - frac] = np.where(show, decimal, 0) if show is not None else decimal


def _int_cells(v: np.ndarray, present: np.ndarray | None) -> _Cells:
    """int64 cells as ``str(int)`` writes them; rows not ``present`` are empty."""
    neg = v < 0
    # |v| as uint64 without overflow at the most negative int64
    a = np.where(neg, -(v + 1), v).astype(np.uint64) + neg.astype(np.uint64)
    sign = neg if present is None else neg & present

    def write(view: np.ndarray) -> None:
        view[:, 0] = np.where(sign, ord("-"), 0)
        _write_digits(view, a, 0, present)

    return 1 + _width(a), write


def _float_cells(x: np.ndarray, spec: Spec, decimal: int = ord(".")) -> _Cells:
    """float64 cells as NumPy's ``str`` writes them (``decimal`` as the mark); NaN is an empty cell."""
    fast = np.zeros(x.size, dtype=bool)
    groups = []  # (rows or None for all, width, writer)
    for rows, d in _groups(x, spec):
        sub = x if rows is None else x[rows]
        ok, width, fill = _fixed(sub, d, decimal)
        fast[ok if rows is None else rows[ok]] = True
        groups.append((rows, width, fill))
    slow = np.flatnonzero(~fast & ~np.isnan(x))  # inf is written "inf"; NaN is the empty cell
    slow_chars = _numpy_str(x[slow])
    if decimal != ord("."):
        slow_chars[slow_chars == ord(".")] = decimal
    width = max([w for _, w, _ in groups] + [slow_chars.shape[1], 1])

    def write(view: np.ndarray) -> None:
        for rows, w, fixed in groups:
            if rows is None:
                fixed(view[:, :w])
            else:
                part = np.zeros((rows.size, w), dtype=np.uint8)
                fixed(part)
                view[rows, :w] = part
        view[slow] = 0
        view[slow, : slow_chars.shape[1]] = slow_chars

    return width, write


def _groups(x: np.ndarray, spec: Spec) -> list[tuple[np.ndarray | None, int]]:
    """Rows by the decimal places their spec rounded them to (None: all rows); none without a spec."""
    if spec is None:
        return []
    kind, n = spec
    if kind == "f":
        return [(None, n)]
    finite = np.isfinite(x)
    nonzero = finite & (x != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        exp = np.floor(np.log10(np.abs(np.where(nonzero, x, 1.0))))
    # A log10 one off near a power of ten only sends that cell to the slow path (or adds a 0).
    places = np.clip(n - 1 - exp, 0, 17).astype(np.int64)
    return [(np.flatnonzero(finite & (places == d)), d) for d in np.unique(places[finite]).tolist()]


def _fixed(x: np.ndarray, d: int, decimal: int = ord(".")) -> tuple[np.ndarray, int, Callable[[np.ndarray], None]]:
    """Cells that are ``m / 10**d`` with ``|m| < 1e15``, their text's width and its writer.

    The text is positional: sign, integer digits without leading zeros (at least one),
    ``.``, decimal places without trailing zeros (at least one).
    """
    scale = 10.0**d
    with np.errstate(over="ignore", invalid="ignore"):
        m = np.rint(x * scale)
        tiny = (x != 0) & (np.abs(x) < 1e-4)  # written in scientific notation
        ok = (np.abs(m) < _FAST_LIMIT) & (m / scale == x) & ~tiny
    a = np.abs(np.where(ok, m, 0.0)).astype(np.uint64)
    frac = max(d, 1)  # "12.0": a whole number still shows one decimal place
    if frac > d:
        a *= np.uint64(10)
    digits = max(_width(a), frac + 1)

    def write(view: np.ndarray) -> None:
        view[:, 0] = np.where(ok & np.signbit(x), ord("-"), 0)
        _write_digits(view, a, frac, ok, decimal)

    return ok, 2 + digits, write


def _numpy_str(x: np.ndarray) -> np.ndarray:
    """Cells as pandas writes floats (NumPy's ``astype(str)``), NUL-padded, shape (n, width)."""
    if not x.size:
        return np.zeros((0, 1), dtype=np.uint8)
    raw = x.astype(str).astype("S")
    chars = raw.view(np.uint8).reshape(x.size, raw.dtype.itemsize)
    used = np.flatnonzero(chars.any(axis=0))  # astype(str) pads every cell to 32 characters
    return chars[:, : used[-1] + 1 if used.size else 1]
