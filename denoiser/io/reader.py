"""Read signal tables from CSV-like files as instruments and spreadsheets write them.

`read_series` turns a path, ``bytes`` or an uploaded file into a `SeriesTable`:
float64 value columns, an optional time column and a `ReadReport` that says how
the file was understood (delimiter, decimal mark, encoding, header, skipped
preamble, gaps). Anything it cannot use raises `InputError` with a message for
end users; it never executes or evaluates cell contents.

`write_series` and `to_csv_bytes` write the table plus denoised columns back
as a plain UTF-8 CSV that spreadsheets open safely.

The format is sniffed on the first ~64 KB only; the full parse is done by
pandas' C parser, so million-row files stay fast.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import stat
import threading
import time
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import pandas as pd

from denoiser.errors import InputError

__all__ = [
    "MAX_BYTES",
    "MAX_COLUMNS",
    "MAX_GAP",
    "MAX_LINE_CHARS",
    "MAX_SECONDS",
    "ReadReport",
    "SeriesTable",
    "decimals",
    "output_frame",
    "precision",
    "read_series",
    "to_csv_bytes",
    "write_series",
]

MAX_BYTES: int = 200 * 1024**2
MAX_COLUMNS: int = 1000
MAX_LINE_CHARS: int = 1_000_000
MAX_GAP: int = 10
MAX_SECONDS: float = 30.0  # a read that runs longer is stopped with a message (see read_series)

_SNIFF_BYTES = 64 * 1024
_SNIFF_MAX_BYTES = 4 * 1024**2  # sample grows only to reach a few complete lines
_SNIFF_MAX_LINES = 400  # enough to see the preamble, header and a stable data block
_SCAN_CHUNK = 8 * 1024**2  # chunk for byte scans, so temporaries stay small
_MIN_ROWS = 2
_MAX_DECIMALS = 12  # more places than this: the column is written in full (shortest round-trip form)
_MAX_JOINED_LINES = 50  # a quoted field may span lines; stop joining after this

# Tokens that mean "no value". pandas' defaults cover most; instruments add these.
_EXTRA_NA = ["-", "--", "NAN", "Nan", "Null", "none", "NONE", "#VALUE!", "#DIV/0!", "#NUM!", "#REF!"]
_MISSING_TOKENS = frozenset(
    t.lower()
    for t in ["", "nan", "-nan", "na", "n/a", "-", "--", "null", "none", "<na>", "#n/a", "#na"]
    + ["#n/a n/a", "#value!", "#div/0!", "#num!", "#ref!", "nat"]
)
_DELIMITER_WORDS = {",": "comma", ";": "semicolon", "\t": "tab", " ": "whitespace"}
_DELIMITER_PREFERENCE = (",", ";", "\t", " ")  # breaks ties between equally good guesses

# Unambiguous patterns: every digit can be matched one way only, so a failed match backtracks
# linearly. (The old "\d+\.?\d*" split a run of digits in n ways: a 40 KB cell of digits and a
# letter took 100 s and, since re holds the GIL, stalled every session of the server.)
_NUM_DOT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity)", re.I)
_NUM_COMMA = re.compile(r"[+-]?(?:\d+(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity)", re.I)
_MAX_NUMBER_CHARS = 100  # a longer cell is text: no measurement is written with more characters
_MAX_TIME_CHARS = 64  # nor a time stamp
_DEC_COMMA_CELL = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
_DEC_DOT_CELL = re.compile(r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?")
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_YMD_SLASH = re.compile(r"\d{4}/\d{1,2}/\d{1,2}(?: \d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_DMY = re.compile(
    r"(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})"
    r"(?:[ T](\d{1,2}:\d{2})(:\d{2})?(\.\d+)?)?"
)
_TIME_OF_DAY = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?")
_KEY_VALUE = re.compile(r"[A-Za-z][^:=]{0,60}[:=]\s*\S")
_TIME_WORDS = frozenset(
    ["time", "times", "t", "timestamp", "date", "datetime", "seconds", "second", "sec", "secs"]
    + ["s", "ms", "index", "idx", "sample", "samples", "x", "zeit", "temps", "tiempo", "elapsed"]
    + ["year", "years", "yr", "jahr", "annee", "année", "ano", "año", "anno", "jaar", "month", "day"]
)
ABSURD_SCALE = 1e15  # a value this many robust scales from the column's median is a glitch, not a sample
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")

_EXCEL_HINT = (
    "In Excel use File > Save As > CSV (comma delimited) and choose the saved .csv file."
)
_COMPRESSED_HINT = "It is a compressed file: unzip it first and choose the CSV file inside."
# (magic bytes, what the file looks like, what to do). Checked before any decoding.
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another ZIP archive",
     _EXCEL_HINT + " If it is a ZIP archive, unzip it first."),
    (b"PK\x05\x06", "an empty ZIP archive", "Choose a CSV text file instead."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel workbook (.xls)", _EXCEL_HINT),
    (b"\x1f\x8b", "a gzip-compressed file", _COMPRESSED_HINT),
    (b"\xfd7zXZ\x00", "an xz-compressed file", _COMPRESSED_HINT),
    (b"(\xb5/\xfd", "a zstd-compressed file", _COMPRESSED_HINT),
    (b"7z\xbc\xaf'\x1c", "a 7-Zip archive", _COMPRESSED_HINT),
    (b"Rar!\x1a\x07", "a RAR archive", _COMPRESSED_HINT),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", "Choose the CSV file with the measured values."),
    (b"\xff\xd8\xff", "a JPEG image", "Choose the CSV file with the measured values."),
    (b"GIF8", "a GIF image", "Choose the CSV file with the measured values."),
    (b"%PDF-", "a PDF document", "Export the table from its source program as CSV."),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file", "Export the signal as CSV first."),
    (b"\x93NUMPY", "a NumPy .npy file", "Export the signal as CSV first."),
)


# --------------------------------------------------------------------------- data classes


@dataclass
class ReadReport:
    """How `read_series` understood a file.

    Attributes
    ----------
    rows : int
        Data rows read.
    columns : list of str
        Numeric value columns, in file order.
    delimiter : str
        ``","``, ``";"``, ``"\\t"`` or ``" "`` (runs of whitespace).
    decimal : str
        ``"."`` or ``","``.
    encoding : str
        Detected text encoding, e.g. ``"utf-8"``, ``"utf-8-sig"``, ``"utf-16"``, ``"cp1252"``.
    header : bool
        True if the first table line was a header.
    skipped_lines : int
        Comment or metadata lines skipped before the table.
    time_column : str or None
        Name of the time/index column, if one was found.
    time_kind : {"datetime", "seconds"} or None
        ``"datetime"`` for timestamps, ``"seconds"`` for an increasing numeric column.
    missing : dict of str to int
        Empty, NaN, infinite or unparseable cells per value column, before filling.
    filled : dict of str to int
        Of those, how many were filled by linear interpolation.
    notes : list of str
        Full sentences for the user interface.
    """

    rows: int
    columns: list[str]
    delimiter: str
    decimal: str
    encoding: str
    header: bool
    skipped_lines: int
    time_column: str | None
    time_kind: str | None
    missing: dict[str, int] = field(default_factory=dict)
    filled: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Return a few lines of plain text describing the file.

        Returns
        -------
        str
            Newline-separated sentences for a CLI or a UI.
        """
        names = ", ".join(repr(c) for c in self.columns)
        lines = [
            f"Read {self.rows:,} rows and {len(self.columns)} value "
            f"column{'s' if len(self.columns) != 1 else ''}: {names}.",
            f"Format: {_DELIMITER_WORDS.get(self.delimiter, repr(self.delimiter))}-separated, "
            f"decimal {'comma' if self.decimal == ',' else 'point'}, {self.encoding} encoding, "
            f"{'with' if self.header else 'without'} a header row"
            + (f"; skipped {_count(self.skipped_lines, 'metadata line')}." if self.skipped_lines else "."),
        ]
        if self.time_column is not None:
            kind = "date and time" if self.time_kind == "datetime" else "numeric, increasing"
            lines.append(f"Time column: {self.time_column!r} ({kind}).")
        gaps = [
            f"{c!r}: {n:,} ({self.filled.get(c, 0):,} filled)" for c, n in self.missing.items() if n
        ]
        if gaps:
            lines.append("Missing values: " + "; ".join(gaps) + ".")
        lines.extend(self.notes)
        return "\n".join(lines)


@dataclass
class SeriesTable:
    """A table of signals read from a file.

    Attributes
    ----------
    values : pandas.DataFrame
        float64 value columns only, index ``0..n-1``; long gaps stay NaN.
    time : pandas.Series or None
        Parsed time column (datetime64 or float64), or None.
    report : ReadReport
        How the file was read.
    """

    values: pd.DataFrame
    time: pd.Series | None
    report: ReadReport

    def column(self, name: str) -> np.ndarray:
        """Return one value column as a 1-D float64 array.

        Parameters
        ----------
        name : str
            Column name as listed in ``report.columns``.

        Returns
        -------
        numpy.ndarray
            The column's values.

        Raises
        ------
        InputError
            If there is no such value column; the message lists the available ones.
        """
        if name not in self.values.columns:
            available = ", ".join(repr(c) for c in self.values.columns)
            raise InputError(
                f"There is no value column named {name!r}. Choose one of: {available}."
            )
        return self.values[name].to_numpy(dtype=np.float64, copy=True)


# --------------------------------------------------------------------------- reading


@dataclass
class _Encoding:
    name: str  # reported to the user
    codec: str  # used for decoding; never BOM-consuming, because we seek past the BOM
    bom: int  # BOM length in bytes
    unit: int  # bytes per code unit, to turn the line limit into bytes


@dataclass
class _Line:
    text: str  # logical line without terminator (quoted newlines joined)
    start: int  # character offset in the sample
    end: int  # character offset just after the terminator
    first_phys: int  # 0-based physical line number of its first line


@dataclass
class _Layout:
    delimiter: str
    decimal: str
    names: list[str]
    header: bool
    raw_header: list[str]  # header cells as written ("" where a name was invented)
    data_line: int  # index into the sniffed logical lines of the first data row
    skipped: int
    score: tuple[Any, ...]
    notes: list[str]


def read_series(
    source: str | os.PathLike[str] | bytes | IO[bytes],
    *,
    max_bytes: int = MAX_BYTES,
    max_columns: int = MAX_COLUMNS,
    max_line_chars: int = MAX_LINE_CHARS,
    max_gap: int = MAX_GAP,
    time_budget: float = MAX_SECONDS,
) -> SeriesTable:
    """Read a CSV-like table of signals.

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
    time_budget : float
        Seconds the read may take. The checks between and inside the Python stages
        (sniffing, classification, column conversion, date parsing in chunks) stop a
        read that runs longer with an `InputError`; pandas' C parser, which releases
        the GIL, runs to its end.

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
    data, name = _load(source, max_bytes)
    _BUDGET.deadline, _BUDGET.seconds, _BUDGET.name = time.monotonic() + time_budget, time_budget, name
    try:
        return _read_bytes(data, name, max_columns, max_line_chars, max_gap)
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


class _Budget(threading.local):
    """The running read's deadline (per thread: app sessions read files in parallel)."""

    deadline: float | None = None
    seconds: float = MAX_SECONDS
    name: str | None = None


_BUDGET = _Budget()


def _tick(stage: str) -> None:
    """Stop a read that has used up its time budget, saying where it was."""
    deadline = _BUDGET.deadline
    if deadline is not None and time.monotonic() > deadline:
        raise InputError(
            f"Reading {_the_file(_BUDGET.name, False)} took longer than {_BUDGET.seconds:g} s "
            f"(while {stage}), so it was stopped. A table of numbers reads much faster: check "
            "that this is the right file, or split it into smaller files."
        )


def _read_bytes(
    data: bytes, name: str | None, max_columns: int, max_line_chars: int, max_gap: int
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
    df = _parse(data, offset, enc, layout, first.first_phys, name)
    _tick("parsing the rows")
    return _build_table(df, layout, enc, max_gap, name)


# ..................................................................... loading and guards


def _count(n: int, word: str, plural: str | None = None) -> str:
    """'1 value', '3 values': notes are read by people."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def _the_file(name: str | None, capital: bool = True) -> str:
    text = f"the file {name!r}" if name else "the file"
    return text[0].upper() + text[1:] if capital else text


def _too_big(size: int, limit: int, name: str | None) -> InputError:
    return InputError(
        f"{_the_file(name)} is {size / 1024**2:,.1f} MB, more than the limit of "
        f"{limit / 1024**2:,.1f} MB. Split it into smaller files or keep fewer columns."
    )


def _load(source: Any, max_bytes: int) -> tuple[bytes, str | None]:
    """Return the bytes of ``source``, refusing oversized input before reading it."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) > max_bytes:
            raise _too_big(len(source), max_bytes, None)
        return bytes(source), None
    if isinstance(source, (str, os.PathLike)):
        return _load_path(source, max_bytes)
    if hasattr(source, "read"):
        return _load_buffer(source, max_bytes)
    raise TypeError(
        "read_series expects a path, bytes or a binary file object, "
        f"not {type(source).__name__}."
    )


def _load_path(source: str | os.PathLike[str], max_bytes: int) -> tuple[bytes, str | None]:
    path = os.fsdecode(os.fspath(source))
    name = os.path.basename(path) or path
    if "\n" in path:
        raise InputError(
            "read_series was given CSV text instead of a file path. "
            "Pass the content as bytes (text.encode()) or save it to a file first."
        )
    try:
        if os.path.isdir(path):
            raise InputError(f"{name!r} is a folder, not a file. Choose a CSV file.")
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):  # a pipe or a device: no size to check, reads without end
            raise InputError(f"{name!r} is not a regular file (a pipe or a device?). Choose a CSV file.")
        size = info.st_size
        if size > max_bytes:
            raise _too_big(size, max_bytes, name)
        with open(path, "rb") as handle:
            # In steps: read(n) allocates n bytes at once (200 MB for every small file), and a
            # file that grows past the limit while being read is still refused.
            parts, total = [], 0
            while total <= max_bytes and (part := handle.read(min(max(size + 1 - total, 1 << 16), 1 << 24))):
                parts.append(part)
                total += len(part)
            data = b"".join(parts)
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"The file {path!r} does not exist. Check the path and try again.") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(
            f"{_the_file(name)} could not be opened ({reason}). "
            "Check the path and that you may read the file."
        ) from None
    if len(data) > max_bytes:
        raise _too_big(len(data), max_bytes, name)
    return data, name


def _buffer_size(buffer: Any) -> int | None:
    """Size of a file object without reading it: ``.size`` or seek/tell."""
    size = getattr(buffer, "size", None)
    if isinstance(size, int) and not isinstance(size, bool):
        return size
    try:
        here = buffer.tell()
        end = buffer.seek(0, io.SEEK_END)
        buffer.seek(here)
        return int(end)
    except (AttributeError, OSError, ValueError, TypeError):
        return None


def _load_buffer(buffer: Any, max_bytes: int) -> tuple[bytes, str | None]:
    raw_name = getattr(buffer, "name", None)
    name = os.path.basename(raw_name) if isinstance(raw_name, str) else None
    size = _buffer_size(buffer)
    if size is not None and size > max_bytes:
        raise _too_big(size, max_bytes, name)
    try:
        if getattr(buffer, "seekable", lambda: False)():
            buffer.seek(0)  # an upload may have been read before (e.g. for a preview)
        data = buffer.read(max_bytes + 1)
    except (OSError, ValueError) as exc:
        raise InputError(
            f"{_the_file(name)} could not be read ({exc}). Try uploading it again."
        ) from None
    if isinstance(data, str):  # a text buffer: its content is already decoded
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("The file object's read() must return bytes.")
    if len(data) > max_bytes:
        raise _too_big(len(data), max_bytes, name)
    return bytes(data), name


def _check_magic(data: bytes, name: str | None) -> None:
    """Refuse known binary formats by their first bytes; never decompress anything."""
    if not data or data.isspace():  # isspace stops at the first other byte; strip() would copy
        raise InputError(
            f"{_the_file(name)} is empty. Choose a CSV file with at least one column of numbers."
        )
    for magic, what, todo in _MAGIC:
        if data.startswith(magic):
            raise InputError(f"{_the_file(name)} looks like {what}, not a CSV text file. {todo}")
    if re.match(rb"BZh[1-9]1AY&SY", data):
        raise InputError(f"{_the_file(name)} looks like a bzip2-compressed file. {_COMPRESSED_HINT}")
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        raise InputError(
            f"{_the_file(name)} looks like a web page (HTML), not a CSV file. "
            "Download the data itself as CSV and choose that file."
        )


def _not_text(name: str | None) -> InputError:
    return InputError(
        f"{_the_file(name)} does not look like a text file (it contains binary data). "
        "Choose a CSV file, or export your data as CSV from the program that made it."
    )


def _detect_encoding(data: bytes, name: str | None) -> _Encoding:
    """BOMs first, then a NUL-pattern guess for UTF-16, then UTF-8, cp1252, latin-1."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        le = data.startswith(codecs.BOM_UTF32_LE)
        return _Encoding("utf-32", "utf-32-le" if le else "utf-32-be", 4, 4)
    if data.startswith(codecs.BOM_UTF8):
        return _Encoding("utf-8-sig", "utf-8", 3, 1)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        le = data.startswith(codecs.BOM_UTF16_LE)
        return _Encoding("utf-16", "utf-16-le" if le else "utf-16-be", 2, 2)
    guess = _guess_utf16(data[:_SNIFF_BYTES])
    if guess:
        return _Encoding("utf-16", guess, 0, 2)
    if b"\x00" in data:
        raise _not_text(name)
    if data.isascii() or _is_utf8(data):
        return _Encoding("utf-8", "utf-8", 0, 1)
    if any(b in data for b in _CP1252_UNDEFINED):
        return _Encoding("latin-1", "latin-1", 0, 1)
    return _Encoding("cp1252", "cp1252", 0, 1)


def _guess_utf16(head: bytes) -> str | None:
    """UTF-16 without BOM: ASCII text has a NUL in every other byte."""
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.4 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.4 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _is_utf8(data: bytes) -> bool:
    """Validate UTF-8 in chunks so a large file is not decoded into one huge string."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    view = memoryview(data)
    try:
        for start in range(0, len(data), _SCAN_CHUNK):
            decoder.decode(view[start : start + _SCAN_CHUNK], final=False)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _check_line_lengths(data: bytes, enc: _Encoding, max_line_chars: int, name: str | None) -> None:
    """Refuse over-long lines on the raw bytes, before any parser sees them."""
    limit = max_line_chars * enc.unit
    if len(data) - enc.bom <= limit:
        return
    arr = np.frombuffer(data, dtype=np.uint8)
    prev = enc.bom - 1  # position of the last line break seen
    for lo in range(enc.bom, len(arr), _SCAN_CHUNK):
        chunk = arr[lo : lo + _SCAN_CHUNK]
        breaks = np.flatnonzero((chunk == 10) | (chunk == 13)) + lo
        if breaks.size:
            gaps = np.diff(breaks, prepend=prev) - 1
            worst = int(np.argmax(gaps))
            if gaps[worst] > limit:
                _raise_long_line(data, enc, int(breaks[worst]), max_line_chars, name)
            prev = int(breaks[-1])
    if len(arr) - prev - 1 > limit:
        _raise_long_line(data, enc, len(arr), max_line_chars, name)


def _raise_long_line(data: bytes, enc: _Encoding, end: int, limit: int, name: str | None) -> None:
    newline = "\n".encode(enc.codec)
    if newline not in data:  # old Mac files end lines with CR only
        newline = "\r".encode(enc.codec)
    line_no = data.count(newline, enc.bom, end) + 1
    raise InputError(
        f"Line {line_no:,} of {_the_file(name, False)} is longer than "
        f"{limit:,} characters, so it is not a table with one row per line. "
        "Check that you chose the right file, or put each measurement on its own line."
    )


def _decode_sample(data: bytes, enc: _Encoding) -> tuple[str, bool]:
    """Decode the first ~64 KB, growing it until it holds a few complete lines."""
    end = enc.bom + _SNIFF_BYTES
    while True:
        end = min(end, len(data))
        chunk = data[enc.bom : end]
        if end >= len(data) or chunk.count(b"\n") + chunk.count(b"\r") >= 6 * enc.unit:
            break
        if end - enc.bom >= _SNIFF_MAX_BYTES:
            break
        end *= 2
    decoder = codecs.getincrementaldecoder(enc.codec)("replace")
    at_eof = end >= len(data)
    return decoder.decode(data[enc.bom : end], final=at_eof), at_eof


def _check_text_like(text: str, name: str | None) -> None:
    """Binary files renamed to .csv decode to many control characters."""
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f\v") + text.count("\x7f")
    undecodable = text.count("\ufffd")
    if "\x00" in text or controls > max(2, len(text) // 100) or undecodable > len(text) // 20 + 2:
        raise _not_text(name)


# ..................................................................... sniffing


_PHYS_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _logical_lines(text: str, at_eof: bool) -> list[_Line]:
    """Split the sample into lines, joining lines inside a quoted field.

    A quote left open for many lines is a stray quote, not a multi-line field:
    those lines stay separate so that pandas reports the quote error.
    """
    lines: list[_Line] = []
    pieces: list[_Line] = []  # physical lines of a quoted field still open
    in_quote = False
    for phys, match in enumerate(_PHYS_LINE.finditer(text)):
        if phys % 64 == 0:
            _tick("splitting lines")
        raw = match.group()
        if not raw.endswith(("\n", "\r")) and not at_eof:
            break  # the sample cut this line; pandas will read it whole
        pieces.append(_Line(raw.rstrip("\r\n"), match.start(), match.end(), phys))
        in_quote = _ends_in_quote(pieces[-1].text, in_quote)
        if not in_quote:
            lines.append(_join(pieces))
            pieces = []
        elif len(pieces) > _MAX_JOINED_LINES:
            lines.extend(pieces)
            pieces, in_quote = [], False
        if len(lines) >= _SNIFF_MAX_LINES:
            return lines
    if pieces and (at_eof or not lines):
        lines.extend(pieces)
    return lines


def _join(pieces: list[_Line]) -> _Line:
    if len(pieces) == 1:
        return pieces[0]
    text = "\n".join(p.text for p in pieces)
    return _Line(text, pieces[0].start, pieces[-1].end, pieces[0].first_phys)


def _ends_in_quote(text: str, in_quote: bool) -> bool:
    """Whether a quoted field is still open at the end of this physical line.

    Like the CSV parsers, a quote opens a field only at its start; ``5"`` is text.
    """
    if '"' not in text:
        return in_quote
    at_field_start = not in_quote
    i = 0
    while i < len(text):
        ch = text[i]
        if in_quote and ch == '"':
            if text[i + 1 : i + 2] == '"':  # an escaped quote inside the field
                i += 2
                continue
            in_quote = False
        elif not in_quote and ch == '"' and at_field_start:
            in_quote = True
        at_field_start = not in_quote and ch in ",;\t "
        i += 1
    return in_quote


def _split(text: str, delimiter: str) -> list[str]:
    """Split one line as the parser would, with quotes removed and cells stripped."""
    if delimiter == " ":
        cells = re.split(r"[ \t]+", text.strip(" \t"))
    else:
        try:
            cells = next(csv.reader([text], delimiter=delimiter, quotechar='"'), [""])
        except csv.Error:
            cells = text.split(delimiter)
    return [c.strip().strip('"').strip() for c in cells] or [""]


def _is_comment(text: str) -> bool:
    return text.lstrip().startswith("#")


def _cell_kind(cell: str, num_re: re.Pattern[str]) -> str:
    """Classify a cell as "num", "missing", "time" or "text"."""
    if len(cell) > _MAX_NUMBER_CHARS:  # bounded work per cell, whatever the patterns
        return "text"
    if cell.lower() in _MISSING_TOKENS:
        return "missing"
    if num_re.fullmatch(cell):
        return "num"
    if _looks_like_datetime(cell):
        return "time"
    return "text"


def _looks_like_datetime(cell: str) -> bool:
    if len(cell) > _MAX_TIME_CHARS:
        return False
    return bool(_ISO_DATETIME.fullmatch(cell) or _DMY.fullmatch(cell) or _YMD_SLASH.fullmatch(cell))


def _row_kind(kinds: list[str]) -> str:
    if "num" in kinds or "time" in kinds:
        return "data"
    return "text" if "text" in kinds else "empty"


def _pick_decimal(rows: list[list[str]], delimiter: str) -> str:
    """A decimal comma is only possible when the delimiter is not a comma."""
    if delimiter == ",":
        return "."
    short = [c for row in rows for c in row if len(c) <= _MAX_NUMBER_CHARS]
    comma = sum(1 for c in short if _DEC_COMMA_CELL.fullmatch(c))
    dot = sum(1 for c in short if _DEC_DOT_CELL.fullmatch(c))
    return "," if comma > dot else "."


def _sniff(lines: list[_Line], name: str | None, at_eof: bool, max_columns: int) -> _Layout:
    """Try each delimiter and keep the one under which the table looks most numeric."""
    content = [i for i, ln in enumerate(lines) if ln.text.strip() and not _is_comment(ln.text)]
    if not content:
        raise _no_data_error(lines, content, name, at_eof)
    found: list[_Layout] = []
    widest = 0
    for delimiter in _DELIMITER_PREFERENCE:
        _tick("detecting the delimiter")
        rows = [_split(lines[i].text, delimiter) for i in content]
        width = _mode([len(row) for row in rows])
        if width > max_columns:  # refuse before classifying millions of cells
            widest = max(widest, width)
            continue
        layout = _try_delimiter(lines, content, rows, delimiter)
        if layout is not None:
            found.append(layout)
    if not found:
        if widest:
            raise _too_many_columns(widest, max_columns, name)
        raise _no_data_error(lines, content, name, at_eof)
    return max(found, key=lambda lay: lay.score)


def _too_many_columns(width: int, max_columns: int, name: str | None) -> InputError:
    return InputError(
        f"{_the_file(name)} has {width:,} columns; at most {max_columns:,} "
        "are supported. Remove unused columns or split the file, then try again."
    )


def _try_delimiter(
    lines: list[_Line], content: list[int], rows: list[list[str]], delimiter: str
) -> _Layout | None:
    decimal = _pick_decimal(rows, delimiter)
    num_re = _NUM_COMMA if decimal == "," else _NUM_DOT
    kinds = [[_cell_kind(c, num_re) for c in row] for row in rows]
    counts = [len(r) for r in rows]
    start = _data_start(kinds, counts, _mode(counts[len(counts) // 2 :]))
    if start is None:
        return None
    # The typical width of the data block defines the table; shorter rows get NaN.
    width = _mode(counts[start : start + 200])
    header_pos = start - 1 if start > 0 else None
    header_cells: list[str] | None = None
    if header_pos is not None and _is_header(rows[header_pos], kinds[header_pos], width):
        header_cells = rows[header_pos]
    before = [ln for ln in lines[: content[start]] if ln.text.strip()]
    skipped = len(before) - (1 if header_cells is not None else 0)
    names, notes = _column_names(header_cells, width)
    block = kinds[start : start + 200]
    good = sum(k in ("num", "time") for row in block for k in row)
    bad = sum(k == "text" for row in block for k in row)
    consistent = header_cells is not None and len(header_cells) == width
    # Most numeric first; then a header as wide as the data; then more columns.
    numeric = round(good / max(good + bad, 1), 3)
    score = (numeric, consistent, width, -_DELIMITER_PREFERENCE.index(delimiter))
    return _Layout(
        delimiter=delimiter,
        decimal=decimal,
        names=names,
        header=header_cells is not None,
        raw_header=list(header_cells or []),
        data_line=content[start],
        skipped=skipped,
        score=score,
        notes=notes,
    )


def _mode(counts: list[int]) -> int:
    """Most common field count; ties go to the wider one (short rows are allowed)."""
    return max(Counter(counts).items(), key=lambda kv: (kv[1], kv[0]))[0]


def _data_start(kinds: list[list[str]], counts: list[int], width: int) -> int | None:
    """Index of the first data row.

    First find a row that starts a run of data rows (metadata like
    "Sample rate,1000" is followed by the header, so it never starts a run).
    Then walk back over rows shaped like that data row, and over single stray
    text rows between them, so an early "oops" cell never turns the rows above
    it into a preamble.
    """
    n = len(kinds)
    start = next((i for i in range(n) if _starts_run(kinds, counts, width, i)), None)
    if start is None:
        return None
    signature = kinds[start]
    while start > 0:
        if _same_shape(kinds[start - 1], signature):
            start -= 1
        elif (
            start > 1
            and _row_kind(kinds[start - 1]) != "data"
            and _same_shape(kinds[start - 2], signature)
        ):
            start -= 2
        else:
            break
    return start


def _starts_run(kinds: list[list[str]], counts: list[int], width: int, i: int) -> bool:
    if _row_kind(kinds[i]) != "data" or counts[i] > width:
        return False
    if any(_row_kind(kinds[j]) == "text" for j in range(i + 1, min(len(kinds), i + 3))):
        return False
    # A "Samples: 1000" line has more text cells than the data row below it.
    return i + 1 >= len(kinds) or kinds[i].count("text") <= kinds[i + 1].count("text")


def _same_shape(kinds: list[str], signature: list[str]) -> bool:
    """No wider and the same kind in every cell; missing cells match anything."""
    if len(kinds) > len(signature) or _row_kind(kinds) == "text":
        return False
    return all(a == b or "missing" in (a, b) for a, b in zip(kinds, signature))


def _is_header(cells: list[str], kinds: list[str], width: int) -> bool:
    """The text line just above the data is its header unless it is metadata."""
    if _row_kind(kinds) != "text":
        return False
    if len(cells) == 1:
        # "Instrument: XYZ" is metadata; a lone name heads a one-column table.
        return width == 1 and not _KEY_VALUE.match(cells[0])
    return True


def _column_names(header: list[str] | None, width: int) -> tuple[list[str], list[str]]:
    """Unique names; invented ones are "col1", "col2", ... by position."""
    notes: list[str] = []
    cells = list(header) if header is not None else []
    if header is not None and len(cells) < width:
        notes.append(
            f"The header has {len(cells)} names but the data rows have {width} fields; "
            "the extra columns were given names like "
            f"'col{len(cells) + 1}' (no column was used as a row index)."
        )
    cells += [""] * (max(width, len(cells)) - len(cells))
    names: list[str] = []
    seen: set[str] = set()
    for pos, cell in enumerate(cells, start=1):
        base = cell or f"col{pos}"
        candidate, k = base, 2
        while candidate in seen:
            candidate, k = f"{base}_{k}", k + 1
        seen.add(candidate)
        names.append(candidate)
    return names, notes


def _no_data_error(
    lines: list[_Line], content: list[int], name: str | None, at_eof: bool
) -> InputError:
    if not content and at_eof:
        return InputError(
            f"{_the_file(name)} contains no table, only comments or blank lines. "
            "Choose a CSV file with at least one column of numbers."
        )
    if not at_eof:
        return InputError(
            f"{_the_file(name)} has no rows of numbers in its first 64 KB. "
            "Remove the long text at the top or choose the file with the measured values."
        )
    if len(content) == 1:
        cells = ", ".join(repr(c) for c in _split(lines[content[0]].text, ","))
        return InputError(
            f"{_the_file(name)} has a header ({cells}) but no data rows. "
            "Add at least 2 rows of numbers below the header."
        )
    below = [re.split(r"[,;\t ]+", lines[i].text.strip()) for i in content[1:]]
    if all(c.strip('"').lower() in _MISSING_TOKENS for row in below for c in row):
        return InputError(
            f"Every value in {_the_file(name, False)} is empty or NaN, so there is nothing to "
            "denoise. Choose a file whose columns contain measurements."
        )
    return InputError(
        f"{_the_file(name)} contains only text and no numbers. "
        "Choose a CSV file with at least one column of numbers."
    )


def _check_field_counts(lines: list[_Line], layout: _Layout, name: str | None) -> None:
    """Rows with too many fields would shift columns silently; name the first one.

    Lines above the data are checked too: an all-number line there is a data row
    with an extra field, not metadata, and must not be skipped silently.
    """
    width = len(layout.names)
    num_re = _NUM_COMMA if layout.decimal == "," else _NUM_DOT
    for pos, line in enumerate(lines):
        if not line.text.strip() or _is_comment(line.text):
            continue
        if pos % 64 == 0:
            _tick("counting fields")
        cells = _split(line.text, layout.delimiter)
        if len(cells) <= width:
            continue
        kinds = [_cell_kind(c, num_re) for c in cells]
        if pos >= layout.data_line or "text" not in kinds:
            raise InputError(_too_many_fields(line.first_phys + 1, len(cells), width, name))


def _too_many_fields(line_no: int, count: int, width: int, name: str | None) -> str:
    return (
        f"Line {line_no:,} of {_the_file(name, False)} has {count} fields, "
        f"but the table has {width} column{'s' if width != 1 else ''}. Fix or remove that line "
        "(look for an extra delimiter or a stray quote) and try again."
    )


def _parser_message(message: str, name: str | None, line_offset: int) -> str:
    """Turn a pandas ParserError into a sentence with a real line number."""
    found = re.search(r"Expected (\d+) fields? in line (\d+), saw (\d+)", message)
    if found:
        width, line, count = (int(g) for g in found.groups())
        return _too_many_fields(line + line_offset, count, width, name)
    if "EOF inside string" in message:
        return (
            f"{_the_file(name)} has a quoted field that is never closed (a '\"' is missing). "
            "Fix the quotes or remove them, then try again."
        )
    return (
        f"{_the_file(name)} could not be parsed as CSV ({message.strip()}). "
        "Check that it is a plain-text table with the same delimiter on every line."
    )


# ..................................................................... parsing


def _parse(
    data: bytes, offset: int, enc: _Encoding, layout: _Layout, line_offset: int, name: str | None
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
            )
    except pd.errors.ParserError as exc:
        raise InputError(_parser_message(str(exc), name, line_offset)) from None
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=layout.names)


# ..................................................................... building the table


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
    filled = {col: _fill_gaps(arr, col, max_gap, notes) for col, arr in values.items()}
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
    )
    return SeriesTable(values=frame, time=time, report=report)


def _no_values_error(
    text: list[str], empty: list[str], time_name: str | None, name: str | None
) -> InputError:
    if text:
        cols = ", ".join(repr(c) for c in text)
        return InputError(
            f"{_the_file(name)} has no numeric value column: {cols} contain text, not numbers. "
            "Choose a CSV file with at least one column of numbers."
        )
    if empty:
        cols = ", ".join(repr(c) for c in empty)
        return InputError(
            f"Every cell in {'column' if len(empty) == 1 else 'columns'} {cols} of "
            f"{_the_file(name, False)} is empty or NaN, so there is nothing to denoise. "
            "Choose a file whose columns contain measurements."
        )
    return InputError(
        f"{_the_file(name)} has a time column ({time_name!r}) but no column of measurements. "
        "Choose a file with at least one column of numbers next to the time."
    )


def _note_dropped(text: list[str], empty: list[str], notes: list[str]) -> None:
    if text:
        cols = ", ".join(repr(c) for c in text)
        what = "text column" if len(text) == 1 else "text columns"
        notes.append(f"Left out the {what} {cols}, because only numbers can be denoised.")
    if empty:
        cols = ", ".join(repr(c) for c in empty)
        what = "empty column" if len(empty) == 1 else "empty columns"
        notes.append(f"Left out the {what} {cols}, because no cell holds a finite number.")


def _time_name_like(name: str) -> bool:
    words = re.split(r"[\s_/\(\[\-.]+", name.strip().lower())
    return bool(words) and words[0] in _TIME_WORDS


def _find_time_column(
    df: pd.DataFrame, layout: _Layout, notes: list[str]
) -> tuple[str | None, pd.Series | None, str | None, set[str]]:
    """Find the time column: only the first column or one named like time qualifies.

    Returns its name, parsed values, kind and the set of columns it used up
    (two when a date column and a time-of-day column were combined).
    """
    names = list(df.columns)
    candidates = [names[0]] + [n for n in names[1:] if layout.header and _time_name_like(n)]
    for pos, col in enumerate(candidates):
        series = df[col]
        named = layout.header and _time_name_like(col)
        if not pd.api.types.is_numeric_dtype(series.dtype):
            parsed = _parse_datetimes(series, notes, col)
            if parsed is not None:
                return _with_time_of_day(df, col, parsed, notes)
            point = _point_time(series, layout.decimal) if named or pos == 0 else None
            if point is not None:  # "Zeit [s]" written 0.001 while the values use decimal commas
                return col, point.rename(col), "seconds", {col}
            continue
        # A first column without a name (a written DataFrame index, or a headerless file's
        # sample number) is the time axis when it counts up evenly.
        unnamed_index = pos == 0 and (not layout.header or not layout.raw_header[0])
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
        f"Combined the date column {col!r} and the time column {names[after]!r} into {name!r}."
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
    if probe.map(_looks_like_datetime).mean() < 0.9:
        return None
    parsed = _to_datetime(series.astype(str).str.strip(), probe, notes)
    if parsed is None or parsed.notna().sum() < 0.9 * len(text):
        return None
    bad = int(series.notna().sum() - parsed.notna().sum())
    if bad:
        notes.append(f"{_count(bad, 'time stamp')} in {col!r} could not be read and were left empty.")
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
        _tick("reading time stamps")
        parts.append(pd.to_datetime(text.iloc[start : start + _DATE_CHUNK], format="mixed",
                                    dayfirst=dayfirst, errors="coerce"))
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
                f"{_count(n_text, 'cell')} in {col!r} did not contain a number and "
                f"{'was' if n_text == 1 else 'were'} treated as missing."
            )
        n_inf = int(np.count_nonzero(infinite))
        if n_inf:
            notes.append(
                f"{_count(n_inf, 'infinite value')} (inf/-inf) in {col!r} "
                f"{'was' if n_inf == 1 else 'were'} treated as missing."
            )
        n_absurd = _drop_absurd(arr)
        if n_absurd:
            notes.append(
                f"{_count(n_absurd, 'absurd value')} in {col!r} (more than {ABSURD_SCALE:.0e} times the "
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


def _fill_gaps(arr: np.ndarray, col: str, max_gap: int, notes: list[str]) -> int:
    """Fill interior runs of <= max_gap NaNs in place by linear interpolation.

    Edge runs are never extrapolated and long runs stay NaN, because inventing
    many values would hide real outages from the user.
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
            f"Filled {_count(int(short.sum()), 'short gap')} "
            f"({_count(int(lengths[short].sum()), 'value')}) in "
            f"{col!r} by linear interpolation."
        )
    long = interior & (lengths > max_gap)
    if long.any():
        notes.append(
            f"{col!r} has {_count(int(long.sum()), 'gap')} longer than {_count(max_gap, 'value')} "
            f"({_count(int(lengths[long].sum()), 'value')} in all); "
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
    parts = [f"{_count(lead, 'missing value')} at the start"] if lead else []
    if trail:
        counted = f"{trail:,}" if lead else _count(trail, "missing value")
        parts.append(f"{counted} at the end")
    pronoun = "it was" if lead + trail == 1 else "they were"
    notes.append(
        f"{col!r} has {' and '.join(parts)}; {pronoun} left as missing (NaN), because values "
        "before the first or after the last measurement are not extrapolated."
    )


# --------------------------------------------------------------------------- writing


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
    text = _csv_text(table, denoised)
    if isinstance(dest, (str, os.PathLike)):
        with open(dest, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        return
    try:
        dest.write(text)  # type: ignore[arg-type]
    except TypeError:  # a binary buffer refuses str before writing anything
        dest.write(text.encode("utf-8"))  # type: ignore[arg-type]


def to_csv_bytes(table: SeriesTable, denoised: dict[str, np.ndarray]) -> bytes:
    """Return what `write_series` would write, as UTF-8 bytes (for download buttons).

    Parameters
    ----------
    table : SeriesTable
        The table that was denoised.
    denoised : dict of str to numpy.ndarray
        Denoised signals by name.

    Returns
    -------
    bytes
        The CSV file content.
    """
    return _csv_text(table, denoised).encode("utf-8")


def _csv_text(table: SeriesTable, denoised: dict[str, np.ndarray]) -> str:
    return output_frame(table, denoised).to_csv(index=False, na_rep="", lineterminator="\n")


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
    rows = len(table.values)
    columns: dict[str, Any] = {}
    if table.time is not None:
        time_name = table.report.time_column or "time"
        if text_times or not pd.api.types.is_datetime64_any_dtype(table.time.dtype):
            columns[time_name] = _time_cells(table.time)
        else:
            columns[time_name] = table.time.reset_index(drop=True)
    places: dict[str, tuple[str, int] | None] = {}
    for col in table.values.columns:
        arr = table.values[col].to_numpy(dtype=np.float64)
        # Interpolated gap cells are off the input's grid: that many may miss it.
        places[col] = precision(arr, misses=table.report.filled.get(col, 0))
        columns[_unique(str(col), columns)] = _at_precision(arr, places[col])
    for key, arr in denoised.items():
        values = np.asarray(arr, dtype=np.float64)
        if values.ndim != 1 or values.size != rows:
            raise InputError(
                f"The denoised signal {key!r} has shape {values.shape}, but the table has "
                f"{rows:,} rows. Denoise the column again before saving."
            )
        # One digit finer than the input, so rounding adds at most a tenth of the input's
        # own quantisation step (a denoised value between two input steps is the point).
        columns[_unique(f"{key}_denoised", columns)] = _at_precision(values, places.get(key), finer=1)
    frame = pd.DataFrame(columns)
    frame.columns = [_neutralise(c) for c in frame.columns]
    return frame


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
    for d in range(limit + 1):
        if biggest * 10.0**d >= 2.0**40:  # the grid test below needs room below float spacing
            return None
        scaled = finite * 10.0**d
        # A value parsed from text with d places is within about an ulp of an integer here.
        off = np.abs(scaled - np.rint(scaled)) > 4 * np.spacing(np.abs(scaled)) + 1e-300
        if int(np.count_nonzero(off)) <= misses:
            return d
    return None


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
    for s in range(1, limit + 1):
        scaled = _shift(finite, s - 1 - exp)
        off = np.abs(scaled - np.rint(scaled)) > 16 * np.spacing(np.abs(scaled))
        if int(np.count_nonzero(off)) <= misses:
            return s
    return None


def _shift(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """x * 10**k with exact powers of ten (a multiply or a divide), so a decimal grid stays exact."""
    return np.where(k >= 0, x * 10.0 ** np.maximum(k, 0), x / 10.0 ** np.maximum(-k, 0))


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
    s = significant(values, misses)
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


def _time_cells(time: pd.Series) -> Any:
    """ISO 8601 strings for datetimes (UTC with "Z" when zone-aware); numbers at the input's precision otherwise."""
    if not pd.api.types.is_datetime64_any_dtype(time.dtype):
        seconds = time.to_numpy(dtype=np.float64)
        return _at_precision(seconds, precision(seconds))
    aware = getattr(time.dt, "tz", None) is not None
    naive = time.dt.tz_convert("UTC").dt.tz_localize(None) if aware else time
    stamps = naive.to_numpy()
    per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[np.datetime_data(stamps.dtype)[0]]
    ticks = stamps.view(np.int64)[~np.isnat(stamps)]
    # The coarsest unit that loses nothing, so whole seconds do not print ".000000".
    native = np.datetime_data(stamps.dtype)[0]
    units = [(u, per_second // d) for u, d in (("s", 1), ("ms", 10**3), ("us", 10**6)) if d <= per_second]
    unit = next((u for u, step in units if (ticks % step == 0).all()), native)
    cells = np.datetime_as_string(stamps, unit=unit, timezone="UTC" if aware else "naive")
    return np.where(np.isnat(stamps), "", cells).astype(object)
