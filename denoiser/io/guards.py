"""Guards that run before any parsing, on the raw bytes.

Size (refused before a byte is read), pipes and devices, binary, compressed and
archive formats (refused by their magic bytes and never decompressed, so a gzip or
zip bomb costs nothing), text that decodes to control characters, line length,
column count, and the time budget that stops a read in any later stage.
"""

from __future__ import annotations

import io
import os
import re
import stat
import threading
import time
from typing import Any

import numpy as np

from denoiser.errors import InputError
from denoiser.io._common import SCAN_CHUNK, the_file
from denoiser.io.encoding import Encoding
from denoiser.text import MAX_PATH_ECHO, quoted

MAX_BYTES: int = 200 * 1024**2  # a larger input is refused before it is read
MAX_COLUMNS: int = 1000  # a table with more columns is refused
MAX_LINE_CHARS: int = 1_000_000  # a longer line is refused: no table has one
MAX_SECONDS: float = 30.0  # a read that runs longer is stopped with a message (see read_series)
_EXCEL_HINT = "In Excel use File > Save As > CSV (comma delimited) and choose the saved .csv file."
_COMPRESSED_HINT = "It is a compressed file: unzip it first and choose the CSV file inside."

# (magic bytes, what the file looks like, what to do). Checked before any decoding.
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (
        b"PK\x03\x04",
        "an Excel workbook (.xlsx) or another ZIP archive",
        _EXCEL_HINT + " If it is a ZIP archive, unzip it first.",
    ),
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
    (b"\x93NUMPY", "a NumPy .npy file", "Export the signal as CSV first."),
)


class Budget(threading.local):
    """The running read's deadline (per thread: app sessions read files in parallel).

    `read_series` sets it and clears it when the read ends; `tick` checks it.
    """

    deadline: float | None = None
    seconds: float = MAX_SECONDS
    name: str | None = None


BUDGET = Budget()  # the one budget, per thread


def tick(stage: str) -> None:
    """Stop a read that has used up its time budget, saying where it was.

    Parameters
    ----------
    stage : str
        What the read is doing, for the message ("splitting lines").

    Raises
    ------
    InputError
        When the deadline in `BUDGET` has passed.
    """
    deadline = BUDGET.deadline
    if deadline is not None and time.monotonic() > deadline:
        raise InputError(
            f"Reading {the_file(BUDGET.name, False)} took longer than {BUDGET.seconds:g} s "
            f"(while {stage}), so it was stopped. A table of numbers reads much faster: check "
            "that this is the right file, or split it into smaller files."
        )


def _too_big(size: int, limit: int, name: str | None) -> InputError:
    return InputError(
        f"{the_file(name)} is {size / 1024**2:,.1f} MB, more than the limit of "
        f"{limit / 1024**2:,.1f} MB. Split it into smaller files or keep fewer columns."
    )


def load_source(source: Any, max_bytes: int) -> tuple[bytes, str | None]:
    """Return the bytes of ``source`` and its file name, refusing oversized input before reading it.

    Parameters
    ----------
    source : str, os.PathLike, bytes or binary file-like
        What `read_series` was given.
    max_bytes : int
        Larger inputs are refused.

    Returns
    -------
    tuple of (bytes, str or None)
        The content and the file's base name (None for bytes, or a buffer without a name).

    Raises
    ------
    InputError
        Too large, a folder, a pipe or device, missing or unreadable.
    TypeError
        ``source`` is none of those types.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) > max_bytes:
            raise _too_big(len(source), max_bytes, None)
        return bytes(source), None
    if isinstance(source, (str, os.PathLike)):
        return _load_path(source, max_bytes)
    if hasattr(source, "read"):
        return _load_buffer(source, max_bytes)
    raise TypeError(f"read_series expects a path, bytes or a binary file object, not {type(source).__name__}.")


def _load_path(source: str | os.PathLike[str], max_bytes: int) -> tuple[bytes, str | None]:
    path = os.fsdecode(os.fspath(source))
    name = os.path.basename(path) or path
    if "\n" in path and not _exists(path):  # a file may be named so: only text that is no file is refused
        raise InputError(
            "read_series was given CSV text instead of a file path. "
            "Pass the content as bytes (text.encode()) or save it to a file first."
        )
    try:
        if os.path.isdir(path):
            raise InputError(f"{quoted(name)} is a folder, not a file. Choose a CSV file.")
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):  # a pipe or a device: no size to check, reads without end
            raise InputError(f"{quoted(name)} is not a regular file (a pipe or a device?). Choose a CSV file.")
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
        raise InputError(
            f"The file {quoted(path, MAX_PATH_ECHO)} does not exist. Check the path and try again."
        ) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(
            f"{the_file(name)} could not be opened ({reason}). Check the path and that you may read the file."
        ) from None
    if len(data) > max_bytes:
        raise _too_big(len(data), max_bytes, name)
    return data, name


def _exists(path: str) -> bool:
    try:
        return os.path.lexists(path)
    except (OSError, ValueError):  # too long for a path, or a NUL in it: CSV text, not a file name
        return False


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
        raise InputError(f"{the_file(name)} could not be read ({exc}). Try uploading it again.") from None
    if isinstance(data, str):  # a text buffer: its content is already decoded
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("The file object's read() must return bytes.")
    if len(data) > max_bytes:
        raise _too_big(len(data), max_bytes, name)
    return bytes(data), name


def check_magic(data: bytes, name: str | None) -> None:
    """Refuse an empty file, known binary formats by their first bytes, and web pages; never decompress anything.

    Raises
    ------
    InputError
        Saying what the file looks like and what to do instead.
    """
    if not data or data.isspace():  # isspace stops at the first other byte; strip() would copy
        raise InputError(f"{the_file(name)} is empty. Choose a CSV file with at least one column of numbers.")
    for magic, what, todo in _MAGIC:
        if data.startswith(magic):
            raise InputError(f"{the_file(name)} looks like {what}, not a CSV text file. {todo}")
    if re.match(rb"BZh[1-9]1AY&SY", data):
        raise InputError(f"{the_file(name)} looks like a bzip2-compressed file. {_COMPRESSED_HINT}")
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        raise InputError(
            f"{the_file(name)} looks like a web page (HTML), not a CSV file. "
            "Download the data itself as CSV and choose that file."
        )


def check_line_lengths(data: bytes, enc: Encoding, max_line_chars: int, name: str | None) -> None:
    """Refuse over-long lines on the raw bytes, before any parser sees them.

    Parameters
    ----------
    data : bytes
        The whole file.
    enc : Encoding
        Its encoding: the limit is counted in its code units, after its byte-order mark.
    max_line_chars : int
        The longest line allowed.
    name : str or None
        The file's name, for the message.

    Raises
    ------
    InputError
        Naming the first line that is too long.
    """
    limit = max_line_chars * enc.unit
    if len(data) - enc.bom <= limit:
        return
    arr = np.frombuffer(data, dtype=np.uint8)
    prev = enc.bom - 1  # position of the last line break seen
    for lo in range(enc.bom, len(arr), SCAN_CHUNK):
        chunk = arr[lo : lo + SCAN_CHUNK]
        breaks = np.flatnonzero((chunk == 10) | (chunk == 13)) + lo
        if breaks.size:
            gaps = np.diff(breaks, prepend=prev) - 1
            worst = int(np.argmax(gaps))
            if gaps[worst] > limit:
                _raise_long_line(data, enc, int(breaks[worst]), max_line_chars, name)
            prev = int(breaks[-1])
    if len(arr) - prev - 1 > limit:
        _raise_long_line(data, enc, len(arr), max_line_chars, name)


def _raise_long_line(data: bytes, enc: Encoding, end: int, limit: int, name: str | None) -> None:
    newline = "\n".encode(enc.codec)
    if newline not in data:  # old Mac files end lines with CR only
        newline = "\r".encode(enc.codec)
    line_no = data.count(newline, enc.bom, end) + 1
    raise InputError(
        f"Line {line_no:,} of {the_file(name, False)} is longer than "
        f"{limit:,} characters, so it is not a table with one row per line. "
        "Check that you chose the right file, or put each measurement on its own line."
    )


def looks_like_text(text: str) -> bool:
    """Whether a decoded sample is text: binary files renamed to .csv decode to many control characters.

    A NUL, more control characters than 1 % of the sample (at least 3), or more undecodable
    characters than 5 % (plus 2) make it binary.
    """
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f\v") + text.count("\x7f")
    undecodable = text.count("\ufffd")
    return not ("\x00" in text or controls > max(2, len(text) // 100) or undecodable > len(text) // 20 + 2)


def too_many_columns(width: int, max_columns: int, name: str | None) -> InputError:
    """The refusal of a table ``width`` columns wide, more than ``max_columns`` (to raise)."""
    return InputError(
        f"{the_file(name)} has {width:,} columns; at most {max_columns:,} "
        "are supported. Remove unused columns or split the file, then try again."
    )
