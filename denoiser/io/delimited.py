"""CSV-like text to a table: encoding, dialect, pandas' C parser, then the columns.

The CSV path of :func:`denoiser.io.reader.read_series`, and what a spreadsheet's sheet is read
through as tab-separated text (:mod:`denoiser.io.formats.excel`). It knows nothing of the other
formats: bytes that are not text raise :class:`NotText`, which the reader words with the list of
formats it reads.
"""

from __future__ import annotations

import io
import warnings

import pandas as pd

from denoiser.errors import InputError
from denoiser.io._common import counted, the_file
from denoiser.io.dialect import Layout, check_field_counts, logical_lines, parser_message, sniff_layout
from denoiser.io.encoding import Encoding, decode_sample, detect_encoding
from denoiser.io.guards import check_line_lengths, check_magic, looks_like_text, tick, too_many_columns
from denoiser.io.table import SeriesTable
from denoiser.io.values import MIN_ROWS, build_table

# Tokens that mean "no value". pandas' defaults cover most; instruments add these.
_EXTRA_NA = ["-", "--", "NAN", "Nan", "Null", "none", "NONE", "#VALUE!", "#DIV/0!", "#NUM!", "#REF!"]


class NotText(InputError):
    """Bytes that are not text (binary data): the reader says which other formats it would read."""

    def __init__(self, name: str | None) -> None:
        super().__init__(f"{the_file(name)} does not look like a text file (it contains binary data).")
        self.name = name


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
    NotText
        For bytes that are not text.
    InputError
        For text that is not a usable table.
    """
    check_magic(data, name)
    enc = detect_encoding(data)
    if enc is None:
        raise NotText(name)
    check_line_lengths(data, enc, max_line_chars, name)
    text, at_eof = decode_sample(data, enc)
    if not looks_like_text(text):
        raise NotText(name)
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
