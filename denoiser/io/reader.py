"""The top-level reader: guards, then another format's reader or the CSV path (encoding, dialect,
pandas' C parser), then the table.

`read_series` runs the stages in order; each refuses what it cannot use with an
`InputError` for end users. The full parse is done by pandas' C parser, so
million-row files stay fast. The reader is the one module that knows both the CSV path
and the format registry, so it words the refusal of a file that is neither.
"""

from __future__ import annotations

import csv
import io
import os
import time
import warnings
from typing import IO

import pandas as pd

from denoiser.errors import InputError
from denoiser.io import formats
from denoiser.io._common import counted, the_file
from denoiser.io.dialect import Layout, check_field_counts, logical_lines, parser_message, sniff_layout
from denoiser.io.encoding import Encoding, decode_sample, detect_encoding
from denoiser.io.guards import (
    BUDGET,
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_LINE_CHARS,
    MAX_SECONDS,
    check_line_lengths,
    check_magic,
    load_source,
    looks_like_text,
    tick,
    too_many_columns,
)
from denoiser.io.table import SeriesTable
from denoiser.io.times import MAX_GAP
from denoiser.io.values import MIN_ROWS, build_table

# Tokens that mean "no value". pandas' defaults cover most; instruments add these.
_EXTRA_NA = ["-", "--", "NAN", "Nan", "Null", "none", "NONE", "#VALUE!", "#DIV/0!", "#NUM!", "#REF!"]


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
    data, name = load_source(source, max_bytes)
    BUDGET.deadline, BUDGET.seconds, BUDGET.name = time.monotonic() + time_budget, time_budget, name
    try:
        fmt = formats.detect(data, name)  # magic bytes first, then the extension; None: CSV-like text
        if fmt is not None:
            limits = formats.Limits(max_columns, max_gap)
            if max_samples is not None:  # a cap on what one read may hold (the app's per-upload budget)
                limits = formats.Limits(max_columns, max_gap, min(limits.max_values, int(max_samples)))
            return formats.read_format(fmt, data, name, part, limits)
        return read_text_table(data, name, max_columns, max_line_chars, max_gap, max_samples)
    except InputError:
        raise
    except RecursionError:
        raise InputError(
            f"{the_file(name)} is structured too deeply to be read as a table. Check that it is a plain-text CSV file."
        ) from None
    except pd.errors.ParserError as exc:
        raise InputError(parser_message(str(exc), name, 0)) from None
    except (UnicodeError, LookupError):
        raise InputError(
            f"{the_file(name)} contains characters that are not valid in its text encoding. "
            "Save it again as UTF-8 CSV and try once more."
        ) from None
    except MemoryError:
        raise InputError(
            f"{the_file(name)} needs more memory than is available. "
            "Split it into smaller files or remove unused columns."
        ) from None
    except (
        ValueError,
        OverflowError,
        TypeError,
        KeyError,
        IndexError,
        csv.Error,
        pd.errors.EmptyDataError,
        pd.errors.ParserWarning,
    ) as exc:
        reason = str(exc).strip()
        reason = reason if len(reason) <= 120 else reason[:119] + "…"
        raise InputError(
            f"{the_file(name)} could not be read as a table of numbers ({reason}). "
            "Check that it is a plain-text CSV file with one row per line."
        ) from None
    finally:
        BUDGET.deadline = None


def read_text_table(
    data: bytes,
    name: str | None,
    max_columns: int,
    max_line_chars: int,
    max_gap: int,
    max_samples: int | None = None,
) -> SeriesTable:
    """Read CSV-like text: run all checks and the parse on the raw bytes (the CSV path of `read_series`).

    Also what a spreadsheet's sheet is read through, as tab-separated text
    (`denoiser.io.formats.excel`). The arguments are those of `read_series`; the caller
    sets and clears the time budget.

    Returns
    -------
    SeriesTable

    Raises
    ------
    InputError
        For text that is not a usable table, or bytes that are not text.
    """
    check_magic(data, name)
    enc = detect_encoding(data)
    if enc is None:
        raise _not_text(name)
    check_line_lengths(data, enc, max_line_chars, name)
    text, at_eof = decode_sample(data, enc)
    if not looks_like_text(text):
        raise _not_text(name)
    tick("checking the encoding")
    lines = logical_lines(text, at_eof)
    layout = sniff_layout(lines, name, at_eof, max_columns)
    if len(layout.names) > max_columns:
        raise too_many_columns(len(layout.names), max_columns, name)
    check_field_counts(lines, layout, name)
    first = lines[layout.data_line]
    offset = enc.bom + len(text[: first.start].encode(enc.codec))
    tick("detecting the format")
    nrows, about = _row_limit(data, offset, len(layout.names), max_samples)
    df = _parse(data, offset, enc, layout, first.first_phys, name, nrows)
    tick("parsing the rows")
    table = build_table(df, layout, enc, max_gap, name)
    table.report.newline = _newline(text)
    if nrows is not None and len(df) >= nrows:
        table.report.rows_left = max(1, about - len(df))
        table.report.notes.append(
            f"Only the first {counted(len(df), 'row')} of about {about:,} were read: at most {max_samples:,} values "
            f"({len(layout.names):,} per row) are read from one file here."
        )
    return table


def _not_text(name: str | None) -> InputError:
    """The refusal of bytes that are neither text nor a format the registry reads (it lists those)."""
    return InputError(
        f"{the_file(name)} does not look like a text file (it contains binary data), nor like a format read "
        f"here ({formats.supported()}). Choose a CSV file, or export your data as CSV from the program that made it."
    )


def _newline(text: str) -> str:
    """The line end most lines of the sample end with: ``"\r\n"``, ``"\r"`` or ``"\n"`` (a line break
    inside a quoted header cell does not decide it)."""
    crlf = text.count("\r\n")
    counts = {"\n": text.count("\n") - crlf, "\r\n": crlf, "\r": text.count("\r") - crlf}
    return max(counts, key=lambda k: (counts[k], k == "\n"))


def _row_limit(data: bytes, offset: int, columns: int, max_samples: int | None) -> tuple[int | None, int]:
    """Rows to parse (None: all) so that rows x columns stays within ``max_samples``, and about how many there are.

    Line breaks are counted on the raw bytes after the header (a C-speed scan, no copy): an
    upper bound on the data rows, blank lines and quoted breaks included.
    """
    breaks = data.count(b"\n", offset) or data.count(b"\r", offset)
    about = breaks + (0 if data[-4:].rstrip(b"\x00").endswith((b"\n", b"\r")) else 1)  # a last line without a break
    if max_samples is None or about * max(1, columns) <= max_samples:
        return None, about
    return max(MIN_ROWS, max_samples // max(1, columns)), about


def _parse(
    data: bytes,
    offset: int,
    enc: Encoding,
    layout: Layout,
    line_offset: int,
    name: str | None,
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
        raise InputError(parser_message(str(exc), name, line_offset)) from None
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=layout.names)
