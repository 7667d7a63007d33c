"""Dialect sniffing on the first ~64 KB: delimiter, decimal comma, header, preamble, field counts.

Lines are classified cell by cell with patterns that backtrack linearly, so a
hostile cell costs time proportional to its length.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from denoiser.errors import InputError
from denoiser.io._common import the_file
from denoiser.io.guards import tick, too_many_columns
from denoiser.io.times import looks_like_datetime
from denoiser.text import listed

_SNIFF_MAX_LINES = 400  # enough to see the preamble, header and a stable data block
_MAX_JOINED_LINES = 50  # a quoted field may span lines; stop joining after this
# Cells that mean "no value" (compared in lower case): a column of them is empty, not text.
MISSING_TOKENS = frozenset(
    t.lower()
    for t in ["", "nan", "-nan", "na", "n/a", "-", "--", "null", "none", "<na>", "#n/a", "#na"]
    + ["#n/a n/a", "#value!", "#div/0!", "#num!", "#ref!", "nat"]
)
DELIMITER_WORDS = {",": "comma", ";": "semicolon", "\t": "tab", " ": "whitespace"}  # as a report names them
_DELIMITER_PREFERENCE = (",", ";", "\t", " ")  # breaks ties between equally good guesses

# Unambiguous patterns: every digit can be matched one way only, so a failed match backtracks
# linearly. (The old "\d+\.?\d*" split a run of digits in n ways: a 40 KB cell of digits and a
# letter took 100 s and, since re holds the GIL, stalled every session of the server.)
# A number cell with a decimal point, and with a decimal comma.
NUM_DOT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity)", re.I)
NUM_COMMA = re.compile(r"[+-]?(?:\d+(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity)", re.I)
_MAX_NUMBER_CHARS = 100  # a longer cell is text: no measurement is written with more characters
_DEC_COMMA_CELL = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
_DEC_DOT_CELL = re.compile(r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?")
_KEY_VALUE = re.compile(r"[A-Za-z][^:=]{0,60}[:=]\s*\S")


@dataclass
class Line:
    """One logical line of the sample: a physical line, or several joined inside a quoted field."""

    text: str  # logical line without terminator (quoted newlines joined)
    start: int  # character offset in the sample
    end: int  # character offset just after the terminator
    first_phys: int  # 0-based physical line number of its first line


@dataclass
class Layout:
    """How the sniffed table is laid out: what pandas is told to parse, and what the report says."""

    delimiter: str  # ",", ";", "\t" or " " (runs of whitespace)
    decimal: str  # "." or ","
    names: list[str]  # unique column names, invented ones "col1", "col2"... by position
    header: bool
    raw_header: list[str]  # header cells as written ("" where a name was invented)
    data_line: int  # index into the sniffed logical lines of the first data row
    skipped: int  # metadata lines above the table
    score: tuple[Any, ...]  # how well this delimiter explains the sample (the largest wins)
    notes: list[str]  # sentences for the report


_PHYS_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def logical_lines(text: str, at_eof: bool) -> list[Line]:
    """Split the sample into lines, joining lines inside a quoted field (at most 400 lines).

    A last line that the sample cut (``at_eof`` False) is left to the parser.

    A quote left open for many lines is a stray quote, not a multi-line field:
    those lines stay separate so that pandas reports the quote error.
    """
    lines: list[Line] = []
    pieces: list[Line] = []  # physical lines of a quoted field still open
    in_quote = False
    for phys, match in enumerate(_PHYS_LINE.finditer(text)):
        if phys % 64 == 0:
            tick("splitting lines")
        raw = match.group()
        if not raw.endswith(("\n", "\r")) and not at_eof:
            break  # the sample cut this line; pandas will read it whole
        pieces.append(Line(raw.rstrip("\r\n"), match.start(), match.end(), phys))
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


def _join(pieces: list[Line]) -> Line:
    if len(pieces) == 1:
        return pieces[0]
    text = "\n".join(p.text for p in pieces)
    return Line(text, pieces[0].start, pieces[-1].end, pieces[0].first_phys)


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


def cell_kind(cell: str, num_re: re.Pattern[str]) -> str:
    """Classify a cell as "num", "missing", "time" or "text".

    ``num_re`` is `NUM_DOT` or `NUM_COMMA`, after the decimal mark; a cell over 100 characters is text.
    """
    if len(cell) > _MAX_NUMBER_CHARS:  # bounded work per cell, whatever the patterns
        return "text"
    if cell.lower() in MISSING_TOKENS:
        return "missing"
    if num_re.fullmatch(cell):
        return "num"
    if looks_like_datetime(cell):
        return "time"
    return "text"


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


def sniff_layout(lines: list[Line], name: str | None, at_eof: bool, max_columns: int) -> Layout:
    """Try each delimiter and keep the one under which the table looks most numeric.

    Parameters
    ----------
    lines : list of Line
        The sample's logical lines (`logical_lines`).
    name : str or None
        The file's name, for messages.
    at_eof : bool
        Whether the sample holds the whole file.
    max_columns : int
        A wider table is refused before its cells are classified.

    Returns
    -------
    Layout

    Raises
    ------
    InputError
        No delimiter gives a table of numbers (the message says what the file holds instead),
        or the table is too wide.
    """
    content = [i for i, ln in enumerate(lines) if ln.text.strip() and not _is_comment(ln.text)]
    if not content:
        raise _no_data_error(lines, content, name, at_eof)
    found: list[Layout] = []
    widest = 0
    for delimiter in _DELIMITER_PREFERENCE:
        tick("detecting the delimiter")
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
            raise too_many_columns(widest, max_columns, name)
        raise _no_data_error(lines, content, name, at_eof)
    return max(found, key=lambda lay: lay.score)


def _try_delimiter(lines: list[Line], content: list[int], rows: list[list[str]], delimiter: str) -> Layout | None:
    decimal = _pick_decimal(rows, delimiter)
    num_re = NUM_COMMA if decimal == "," else NUM_DOT
    kinds = [[cell_kind(c, num_re) for c in row] for row in rows]
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
    names, notes = column_names(header_cells, width)
    block = kinds[start : start + 200]
    good = sum(k in ("num", "time") for row in block for k in row)
    bad = sum(k == "text" for row in block for k in row)
    consistent = header_cells is not None and len(header_cells) == width
    # Most numeric first; then a header as wide as the data; then more columns.
    numeric = round(good / max(good + bad, 1), 3)
    score = (numeric, consistent, width, -_DELIMITER_PREFERENCE.index(delimiter))
    return Layout(
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
        elif start > 1 and _row_kind(kinds[start - 1]) != "data" and _same_shape(kinds[start - 2], signature):
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


def column_names(header: list[str] | None, width: int) -> tuple[list[str], list[str]]:
    """Unique names for ``width`` columns (or as many as the header has); invented ones are "col1", "col2", ... by position.

    Returns the names and the notes on them (a header shorter than the rows).
    """
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


def _no_data_error(lines: list[Line], content: list[int], name: str | None, at_eof: bool) -> InputError:
    if not content and at_eof:
        return InputError(
            f"{the_file(name)} contains no table, only comments or blank lines. "
            "Choose a CSV file with at least one column of numbers."
        )
    if not at_eof:
        return InputError(
            f"{the_file(name)} has no rows of numbers in its first 64 KB. "
            "Remove the long text at the top or choose the file with the measured values."
        )
    if len(content) == 1:
        cells = listed(_split(lines[content[0]].text, ","))
        return InputError(
            f"{the_file(name)} has a header ({cells}) but no data rows. "
            "Add at least 2 rows of numbers below the header."
        )
    below = [re.split(r"[,;\t ]+", lines[i].text.strip()) for i in content[1:]]
    if all(c.strip('"').lower() in MISSING_TOKENS for row in below for c in row):
        return InputError(
            f"Every value in {the_file(name, False)} is empty or NaN, so there is nothing to "
            "denoise. Choose a file whose columns contain measurements."
        )
    return InputError(
        f"{the_file(name)} contains only text and no numbers. Choose a CSV file with at least one column of numbers."
    )


def check_field_counts(lines: list[Line], layout: Layout, name: str | None) -> None:
    """Refuse a row with more fields than the table has columns: it would shift columns silently; name the first one.

    Lines above the data are checked too: an all-number line there is a data row
    with an extra field, not metadata, and must not be skipped silently.
    """
    width = len(layout.names)
    num_re = NUM_COMMA if layout.decimal == "," else NUM_DOT
    for pos, line in enumerate(lines):
        if not line.text.strip() or _is_comment(line.text):
            continue
        if pos % 64 == 0:
            tick("counting fields")
        cells = _split(line.text, layout.delimiter)
        if len(cells) <= width:
            continue
        kinds = [cell_kind(c, num_re) for c in cells]
        if pos >= layout.data_line or "text" not in kinds:
            raise InputError(_too_many_fields(line.first_phys + 1, len(cells), width, name))


def _too_many_fields(line_no: int, count: int, width: int, name: str | None) -> str:
    return (
        f"Line {line_no:,} of {the_file(name, False)} has {count} fields, "
        f"but the table has {width} column{'s' if width != 1 else ''}. Fix or remove that line "
        "(look for an extra delimiter or a stray quote) and try again."
    )


def parser_message(message: str, name: str | None, line_offset: int) -> str:
    """Turn a pandas ParserError into a sentence with a real line number (``line_offset``: lines above the parse)."""
    found = re.search(r"Expected (\d+) fields? in line (\d+), saw (\d+)", message)
    if found:
        width, line, count = (int(g) for g in found.groups())
        return _too_many_fields(line + line_offset, count, width, name)
    if "EOF inside string" in message:
        return (
            f"{the_file(name)} has a quoted field that is never closed (a '\"' is missing). "
            "Fix the quotes or remove them, then try again."
        )
    return (
        f"{the_file(name)} could not be parsed as CSV ({message.strip()}). "
        "Check that it is a plain-text table with the same delimiter on every line."
    )
