"""Excel and OpenDocument spreadsheets (python-calamine through pandas' ``engine="calamine"``).

A sheet is read into rows of cells and handed to the CSV reader as tab-separated text, so
header detection, a preamble above the table, time columns, decimal text and gaps are
judged exactly as in a CSV.

Bounds, checked before calamine sees the file: an ``.xlsx``/``.ods`` is a ZIP archive, so
the member count is read from its end record, the declared uncompressed sizes are added up,
and every member is inflated once in chunks by Python's zipfile (which stops at the declared
size and checks the CRC, so a member that expands further is refused, never expanded). While
inflating, the sheets' cell references are scanned: calamine allocates a sheet's whole
bounding box, so two cells at A1 and XFD1048576 (17 billion cells from 1 KB) are refused here.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
import struct
import zipfile
from dataclasses import dataclass
from xml.parsers import expat

import numpy as np

from denoiser.errors import InputError
from denoiser.io._common import the_file
from denoiser.io.delimited import read_text_table
from denoiser.io.formats._build import (
    MAX_NAME_CHARS,
    MAX_PARTS,
    Limits,
    bad_file,
    choose_part,
    listed,
    parts_note,
)
from denoiser.io.guards import tick
from denoiser.io.table import SeriesTable
from denoiser.io.writer import output_frame
from denoiser.text import cut

MAX_CELLS: int = 5_000_000  # a sheet's bounding box: calamine holds ~32 bytes per cell, Python more
MAX_MEMBERS: int = 10_000  # ZIP members of a workbook
MAX_INFLATED: int = 512 * 1024**2  # all members together, uncompressed
_CHUNK = 1 << 20
_XLSX_REF = re.compile(rb' r="([A-Z]{0,3})([0-9]{1,8})"')
_EXCEL_TODO = "Open it in Excel and save it again, or use File > Save As > CSV and choose the saved .csv file."


def is_xlsx(data: bytes) -> bool:
    """A ZIP archive that holds ``xl/workbook`` (an ``.xlsx`` or ``.xlsm`` workbook)."""
    return data.startswith(b"PK\x03\x04") and (b"xl/workbook" in data[-65536:] or b"xl/workbook" in data[:65536])


def is_ods(data: bytes) -> bool:
    """A ZIP archive whose first member is the ``mimetype`` of an OpenDocument spreadsheet."""
    return data.startswith(b"PK\x03\x04") and data[30:38] == b"mimetype" and b"opendocument.spreadsheet" in data[38:100]


def is_xls(data: bytes) -> bool:
    """An OLE compound file whose directory names a "Workbook" (BIFF8) or "Book" (BIFF5) stream."""
    return data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") and (
        "Workbook".encode("utf-16-le") in data or "Book\x00".encode("utf-16-le") in data
    )


# ------------------------------------------------------------------ bounds from the ZIP's own records
def _zip_members(data: bytes, name: str | None, what: str) -> list[zipfile.ZipInfo]:
    """The members, after checking their count in the end record (before zipfile parses the directory)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or len(data) < end + 22:
        raise bad_file(name, what, "no ZIP end record: the file is cut short", _EXCEL_TODO)
    count = struct.unpack("<H", data[end + 10 : end + 12])[0]
    if count == 0xFFFF or count > MAX_MEMBERS:  # 0xFFFF: a ZIP64 count follows (no workbook needs one)
        raise InputError(
            f"{the_file(name)} looks like {what} with {'over 65,535' if count == 0xFFFF else f'{count:,}'} "
            f"parts inside; a workbook has a few dozen. {_EXCEL_TODO}"
        )
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        raise bad_file(name, what, exc, _EXCEL_TODO) from None
    declared = sum(i.file_size for i in infos)
    if len(infos) > MAX_MEMBERS or declared > MAX_INFLATED:
        raise InputError(
            f"{the_file(name)} looks like {what} that expands to {declared / 1024**2:,.0f} MB, more "
            f"than the limit of {MAX_INFLATED / 1024**2:,.0f} MB. Split the workbook, or save the "
            "sheet as CSV."
        )
    return infos


def _scan(
    data: bytes, infos: list[zipfile.ZipInfo], name: str | None, what: str, is_sheet: re.Pattern[str]
) -> dict[str, int]:
    """Inflate every member once (bounded, CRC-checked); return each sheet's cell bounding box."""
    boxes: dict[str, int] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in infos:
                sheet = bool(is_sheet.fullmatch(info.filename))
                max_row = max_col = 0
                extra_rows = extra_cols = 0
                tail = b""
                with zf.open(info) as member:
                    while chunk := member.read(_CHUNK):
                        tick("checking the workbook")
                        if not sheet:
                            continue
                        text = tail + chunk
                        cut_at = text.rfind(b"<")
                        text, tail = (text[:cut_at], text[cut_at:]) if cut_at > 0 else (text, b"")
                        r, c, er, ec = _box(text)
                        max_row, max_col = max(max_row, r), max(max_col, c)
                        extra_rows, extra_cols = extra_rows + er, extra_cols + ec
                if sheet:
                    r, c, er, ec = _box(tail)
                    boxes[info.filename] = (max(max_row, r) + extra_rows + er) * (max(max_col, c) + extra_cols + ec)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        EOFError,
        OSError,
        ValueError,
        RuntimeError,
    ) as exc:
        # Bad CRC-32 (a member expanding past its declared size), encrypted, an unknown method...
        raise bad_file(name, what, exc, _EXCEL_TODO) from None
    return boxes


def _box(text: bytes) -> tuple[int, int, int, int]:
    """Largest row and column referenced in a piece of sheet XML, and rows and cells without a reference."""
    refs = _XLSX_REF.findall(text)
    rows = [int(d) for letters, d in refs]
    cols = {letters for letters, _ in refs if letters}
    n_cells = sum(1 for letters, _ in refs if letters)
    n_rows = len(refs) - n_cells
    max_col = max((_column_number(c) for c in cols), default=0)
    unreferenced_cells = max(0, text.count(b"<c ") + text.count(b"<c>") - n_cells)
    unreferenced_rows = max(0, text.count(b"<row ") + text.count(b"<row>") - n_rows)
    return max(rows, default=0), max_col, unreferenced_rows, unreferenced_cells


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def _check_box(cells: int, name: str | None, sheet: str) -> None:
    if cells > MAX_CELLS:
        raise InputError(
            f"The sheet {cut(sheet, 80)!r} of {the_file(name, False)} spans {cells:,} cells from its first to its "
            f"last used cell, more than the limit of {MAX_CELLS:,}. Delete stray cells far from the table, or "
            "save the sheet as CSV."
        )


# ------------------------------------------------------------------ ODS: repeated rows and cells, counted by expat
@dataclass
class _OdsWalk:
    """Where expat's walk through content.xml is, and the current sheet's box so far."""

    sheet: str = ""
    row: int = 0  # rows of the sheet so far, repeated ones counted
    rep: int = 1  # how often the current row repeats
    col: int = 0  # cells of the current row so far, repeated ones counted
    row_last: int = 0  # the current row's last cell with a value
    rows: int = 0  # the box: up to the last row with a value...
    cols: int = 0  # ...and the widest such row
    events: int = 0  # elements seen, in all sheets


def _ods_boxes(data: bytes, infos: list[zipfile.ZipInfo], name: str | None) -> dict[str, int]:
    """Each sheet's bounding box up to its last value cell, with repeated rows and columns expanded."""
    what = "an OpenDocument spreadsheet"
    content = next((i for i in infos if i.filename == "content.xml"), None)
    if content is None:
        raise bad_file(name, what, "no content.xml inside", "Save it again from its spreadsheet program.")
    boxes: dict[str, int] = {}
    state = _OdsWalk()
    ns = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"

    def start(tag: str, attrs: dict[str, str]) -> None:
        state.events += 1
        if tag == f"{ns} table":
            state.sheet, state.row, state.rows, state.cols = attrs.get(f"{ns} name", f"Sheet{len(boxes) + 1}"), 0, 0, 0
        elif tag == f"{ns} table-row":
            state.rep, state.col, state.row_last = _repeat(attrs.get(f"{ns} number-rows-repeated")), 0, 0
        elif tag in (f"{ns} table-cell", f"{ns} covered-table-cell"):
            state.col += _repeat(attrs.get(f"{ns} number-columns-repeated"))
            if attrs.get(f"{office} value-type"):
                state.row_last = state.col

    def end(tag: str) -> None:
        if tag == f"{ns} table-row":
            state.row += state.rep
            if state.row_last:
                state.rows, state.cols = state.row, max(state.cols, state.row_last)
        elif tag == f"{ns} table":
            boxes[cut(state.sheet, MAX_NAME_CHARS)] = state.rows * state.cols

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler, parser.EndElementHandler = start, end
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf, zf.open(content) as member:
            while chunk := member.read(_CHUNK):
                tick("checking the spreadsheet")
                parser.Parse(chunk, False)
                if state.events > 4 * MAX_CELLS:
                    raise InputError(
                        f"{the_file(name)} has more than {4 * MAX_CELLS:,} cells and rows. Split the "
                        "spreadsheet, or save the sheet as CSV."
                    )
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise bad_file(name, what, f"XML: {exc}", "Save it again from its spreadsheet program.") from None
    except (zipfile.BadZipFile, NotImplementedError, EOFError, OSError, ValueError, RuntimeError) as exc:
        raise bad_file(name, what, exc, "Save it again from its spreadsheet program.") from None
    return boxes


def _repeat(value: str | None) -> int:
    try:
        return max(1, int(value)) if value else 1
    except ValueError:
        return 1


# ------------------------------------------------------------------ reading
def read_xlsx(data: bytes, name: str | None, part: str | None, limits: Limits) -> SeriesTable:
    """An ``.xlsx``/``.xlsm`` workbook: one sheet (``part``), header and axis found as in a CSV."""
    what = "an Excel workbook"
    infos = _zip_members(data, name, what)
    boxes = _scan(data, infos, name, what, re.compile(r"xl/worksheets/[^/]+\.xml"))
    return _read_book(data, name, part, limits, "xlsx", "Excel workbook", boxes)


def read_ods(data: bytes, name: str | None, part: str | None, limits: Limits) -> SeriesTable:
    """An OpenDocument spreadsheet: as `read_xlsx`, repeated rows and cells counted before calamine."""
    infos = _zip_members(data, name, "an OpenDocument spreadsheet")
    _scan(data, infos, name, "an OpenDocument spreadsheet", re.compile(r"(?!)"))  # sizes and CRCs only
    boxes = _ods_boxes(data, infos, name)
    return _read_book(data, name, part, limits, "ods", "OpenDocument spreadsheet", boxes, by_sheet=True)


def read_xls(data: bytes, name: str | None, part: str | None, limits: Limits) -> SeriesTable:
    """An Excel 97-2003 workbook; its format caps a sheet at 65,536 x 256 cells, checked after calamine loads."""
    return _read_book(data, name, part, limits, "xls", "Excel 97-2003 workbook", None)


def _read_book(
    data: bytes,
    name: str | None,
    part: str | None,
    limits: Limits,
    fmt: str,
    label: str,
    boxes: dict[str, int] | None,
    by_sheet: bool = False,
) -> SeriesTable:
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    # Every sheet's box before calamine opens the file: it builds all of an ODS's sheets at once.
    for sheet, box in (boxes or {}).items():
        _check_box(box, name, sheet if by_sheet else sheet.rsplit("/", 1)[-1])
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [m.name for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet][: MAX_PARTS + 1]
    except Exception as exc:  # noqa: BLE001 -- calamine's CalamineError, XmlError...: one line
        raise bad_file(name, f"an {label}" if label[0] in "EO" else f"a {label}", exc, _EXCEL_TODO) from None
    choose_part(sheets, part, name, "sheet")  # the part exists (or there is a sheet at all)
    first_error: InputError | None = None
    for chosen in [part] if part is not None else sheets:
        # Default: the first sheet that holds a table of numbers (a cover sheet of notes is passed over).
        try:
            table = _read_sheet(book, chosen, name, limits)
        except InputError as err:
            first_error = first_error or err
            continue
        skipped = [] if part is not None else sheets[: sheets.index(chosen)]
        notes = (
            parts_note(sheets, chosen, "sheet")
            + ([f"Passed over {listed(skipped)}: no table of numbers there."] if skipped else [])
            + list(table.report.notes)
        )
        report = dataclasses.replace(
            table.report,
            format=fmt,
            details=f"{label}, sheet {cut(chosen, 80)!r}",
            delimiter="",
            encoding="",
            parts=list(sheets),
            part=chosen,
            notes=notes,
        )
        return SeriesTable(values=table.values, time=table.time, report=report, origin={"sheet": chosen})
    assert first_error is not None
    raise first_error


def _read_sheet(book: object, sheet_name: str, name: str | None, limits: Limits) -> SeriesTable:
    """One sheet through the CSV reader, its box checked again on calamine's own size."""
    sheet = book.get_sheet_by_name(sheet_name)  # type: ignore[attr-defined]
    _check_box(sheet.height * sheet.width, name, sheet_name)
    text = _as_tsv(sheet.to_python(skip_empty_area=False))
    try:
        return read_text_table(text, name, limits.max_columns, 1_000_000_000, limits.max_gap)
    except InputError as err:
        raise InputError(f"Sheet {cut(sheet_name, 80)!r}: {err}") from None


def _as_tsv(rows: list[list[object]]) -> bytes:
    """Cells as UTF-8 tab-separated text: numbers in full precision, dates in ISO 8601, text quoted."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    for i, row in enumerate(rows):
        if i % 4096 == 0:
            tick("reading the sheet")
        writer.writerow([_cell(v) for v in row])
    return out.getvalue().encode("utf-8")


def _cell(value: object) -> object:
    if isinstance(value, float):
        return repr(value) if np.isfinite(value) else ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return repr(value.total_seconds())
    return value


# ------------------------------------------------------------------ writing
def write_xlsx(table: SeriesTable, denoised: dict[str, np.ndarray]) -> bytes:
    """One sheet with the CSV's columns; text is never turned into a formula or a link."""
    import pandas as pd

    frame = output_frame(table, denoised, text_times=True)
    sheet = "denoised"
    if isinstance(table.origin, dict) and isinstance(table.origin.get("sheet"), str):
        sheet = re.sub(r"[\[\]:*?/\\']", "_", table.origin["sheet"])[:31] or sheet
    buffer = io.BytesIO()
    with pd.ExcelWriter(
        buffer,
        engine="xlsxwriter",
        engine_kwargs={
            "options": {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
        },
    ) as writer:
        frame.to_excel(writer, sheet_name=sheet, index=False)
    return buffer.getvalue()


__all__ = ["is_ods", "is_xls", "is_xlsx", "read_ods", "read_xls", "read_xlsx", "write_xlsx"]
