"""Craft hostile instrument files (issue 22) into a folder, at test (or bench) time.

Each is built from a valid file of its format made by that format's own library, then
bent: a ZIP member that inflates far past its declared size, a sheet whose two cells span
17 billion, an EDF header claiming 10^9 records, an HDF5 dataset declared 80 GB (fill
value only, a few KB on disk), a WAV whose header claims 4 GB, a TDMS segment claiming
petabytes, a MAT variable whose zlib stream expands past the limit. Every one must be
refused with one short `InputError` line, before memory or time is spent on it.

``python -m tests.hostile.formats DEST [--big]`` writes them all; ``--big`` makes the
bombs expand to gigabytes (slower to craft).
"""

from __future__ import annotations

import io
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np

from tests.hostile.craft import Crafted, patch

_CT = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
    '+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
    'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_BOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
    'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet '
    'name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_BOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
    '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
SHEET = "xl/worksheets/sheet1.xml"


def xlsx(rows_xml: str, dimension: str = "A1:B3") -> bytes:
    """A minimal valid workbook with one sheet of the given ``<row>`` elements (what Excel needs, no more)."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData>{rows_xml}</sheetData></worksheet>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (
            ("[Content_Types].xml", _CT),
            ("_rels/.rels", _RELS),
            ("xl/workbook.xml", _BOOK),
            ("xl/_rels/workbook.xml.rels", _BOOK_RELS),
            (SHEET, sheet),
        ):
            zf.writestr(name, text)
    return buf.getvalue()


def _numbers(n: int) -> str:
    return '<row r="1"><c r="A1" t="inlineStr"><is><t>v</t></is></c></row>' + "".join(
        f'<row r="{i}"><c r="A{i}"><v>{np.sin(i / 5):.6f}</v></c></row>' for i in range(2, n + 2)
    )


def xlsx_bomb(spaces: int) -> bytes:
    """The sheet member replaced by a deflate stream of ``spaces`` spaces after valid XML, declared as the XML's size."""
    good = xlsx(_numbers(50))
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    head = parts[SHEET]
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b" " * (1 << 20)
    raw = comp.compress(head) + b"".join(comp.compress(chunk) for _ in range(spaces >> 20)) + comp.flush()
    crc = zlib.crc32(head)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for n, d in parts.items():
            zf.writestr(n, raw if n == SHEET else d)
    return patch(buf.getvalue(), SHEET, compress_type=zipfile.ZIP_DEFLATED, file_size=len(head), crc=crc)


def xlsx_declared_huge() -> bytes:
    """A small sheet member whose headers declare 4 GB uncompressed (refused before inflating anything)."""
    return patch(xlsx(_numbers(50)), SHEET, file_size=0xFFFFFFF0)


def xlsx_sparse() -> bytes:
    """Two cells, A1 and XFD1048576: 1 KB that calamine would make a 17-billion-cell grid of."""
    return xlsx(
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row>', "A1:XFD1048576"
    )


def ods(body: str) -> bytes:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:'
        'opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
        f'<office:spreadsheet><table:table table:name="S1">{body}</table:table></office:spreadsheet>'
        "</office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
        'opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


ODS_CELL = '<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>'


def ods_ok(n: int = 60) -> bytes:
    """A header row, ``n`` rows of numbers, and LibreOffice's usual trailing million empty rows."""
    head = (
        '<table:table-row><table:table-cell office:value-type="string"><text:p>v</text:p></table:table-cell>'
        "</table:table-row>"
    )
    rows = "".join(f"<table:table-row>{ODS_CELL.format(v=f'{np.sin(i / 5):.6f}')}</table:table-row>" for i in range(n))
    tail = (
        '<table:table-row table:number-rows-repeated="1048000"><table:table-cell '
        'table:number-columns-repeated="1024"/></table:table-row>'
    )
    return ods(head + rows + tail)


def ods_repeat_bomb() -> bytes:
    """One value cell repeated across 95 columns in a row repeated a million times: 99.6 million cells."""
    cell = ODS_CELL.format(v=1).replace("<table:table-cell ", '<table:table-cell table:number-columns-repeated="95" ')
    return ods(f'<table:table-row table:number-rows-repeated="1048576">{cell}</table:table-row>')


def edf_file(seconds: int = 10) -> bytes:
    import edfio

    t = np.arange(seconds * 256) / 256
    rec = edfio.Edf(
        [
            edfio.EdfSignal(100 * np.sin(2 * np.pi * 10 * t), 256, label="EEG Fpz", physical_dimension="uV"),
            edfio.EdfSignal(np.linspace(36, 37, seconds), 1, label="Temp", physical_dimension="degC"),
        ],
        annotations=[edfio.EdfAnnotation(1.0, None, '=HYPERLINK("x") ![x](http://127.0.0.2:9/x.png)')],
    )
    buf = io.BytesIO()
    rec.write(buf)
    return buf.getvalue()


def edf_records(records: int) -> bytes:
    """A valid EDF whose header claims ``records`` data records (10^9: 512 GB of samples)."""
    data = bytearray(edf_file())
    field = f"{records:<8d}" if records < 10**8 else f"{records:<8.0e}"  # 8 characters: 10^9 is "1e+09"
    data[236:244] = field.encode()
    return bytes(data)


def hdf5_shape_bomb(values: int) -> bytes:
    """A 1-D float64 dataset declared ``values`` long, chunked, never written: a few KB on disk."""
    import h5py

    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        h5.create_dataset("signal", shape=(values,), dtype="f8", chunks=(1 << 16,), fillvalue=0.5)
    return buf.getvalue()


def hdf5_links() -> bytes:
    """Only links that point out of the file (/etc/passwd) and a dataset stored in another file."""
    import h5py

    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        h5["outside"] = h5py.ExternalLink("/etc/passwd", "/")
        h5.create_dataset("stored_elsewhere", shape=(100,), dtype="f8", external=[("/etc/passwd", 0, 800)])
    return buf.getvalue()


def wav_file(frames: int = 4000) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, (8000 * np.sin(np.arange(frames) / 7)).astype(np.int16), 8000, subtype="PCM_16", format="WAV")
    return buf.getvalue()


def wav_claiming(size: int = 0xFFFFFF00) -> bytes:
    """The first 100 frames of a WAV whose RIFF and data chunk sizes claim ``size`` bytes (4 GB)."""
    data = bytearray(wav_file()[: 44 + 200])
    at = data.find(b"data")
    struct.pack_into("<I", data, 4, min(size + 36, 0xFFFFFFFF))
    struct.pack_into("<I", data, at + 4, size)
    return bytes(data)


def tdms_file() -> bytes:
    from nptdms import ChannelObject, GroupObject, RootObject, TdmsWriter

    buf = io.BytesIO()
    with TdmsWriter(buf) as writer:
        writer.write_segment(
            [
                RootObject({"title": "run"}),
                GroupObject("Data"),
                ChannelObject(
                    "Data", "volt", np.sin(np.arange(2000) / 9), properties={"wf_increment": 0.001, "unit_string": "V"}
                ),
            ]
        )
    return buf.getvalue()


def tdms_huge_segment() -> bytes:
    """A TDMS file whose only segment claims 2^50 bytes (a petabyte) after its lead-in."""
    data = bytearray(tdms_file())
    struct.pack_into("<Q", data, 12, 1 << 50)
    return bytes(data)


def mat_zlib_bomb(zeros: int) -> bytes:
    """A v5 MAT-file whose one compressed element inflates to ``zeros`` zero bytes (past the 200 MB limit)."""
    import scipy.io

    buf = io.BytesIO()
    scipy.io.savemat(buf, {"x": np.arange(10.0)}, do_compression=False)
    header = buf.getvalue()[:128]
    comp = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    raw = b"".join(comp.compress(chunk) for _ in range(zeros >> 20)) + comp.flush()
    return header + struct.pack("<II", 15, len(raw)) + raw


def parquet_rows(rows: int) -> bytes:
    """A valid Parquet file of ``rows`` zeros: a few KB on disk (dictionary and run-length encoded)."""
    import pandas as pd

    buf = io.BytesIO()
    pd.DataFrame({"v": np.zeros(rows, dtype=np.int8)}).to_parquet(buf, index=False)
    return buf.getvalue()


def craft_formats(dest: Path, *, big: bool = False) -> list[Crafted]:
    """Write every hostile instrument file into ``dest``; returns what each is and what must happen to it."""
    dest.mkdir(parents=True, exist_ok=True)
    mb = 1024**2
    out: list[Crafted] = []

    def put(name: str, data: bytes, expect: str, what: str) -> None:
        (dest / name).write_bytes(data)
        out.append(Crafted(name, "format", expect, what))

    put("valid.xlsx", xlsx(_numbers(50)), "handled", "a valid one-sheet workbook (control)")
    put(
        "zip_bomb.xlsx",
        xlsx_bomb((1024 if big else 64) * mb),
        "refused",
        f"sheet XML inflating to {'1 GB' if big else '64 MB'}, declared as 3 KB",
    )
    put("declared_huge.xlsx", xlsx_declared_huge(), "refused", "a sheet member declared 4 GB uncompressed")
    put("sparse.xlsx", xlsx_sparse(), "refused", "two cells at A1 and XFD1048576 (a 17-billion-cell box)")
    put("valid.ods", ods_ok(), "handled", "a valid spreadsheet with a million trailing empty rows (control)")
    put("repeat_bomb.ods", ods_repeat_bomb(), "refused", "a value cell repeated into 99.6 million cells")
    put("valid.edf", edf_file(), "handled", "a valid EDF+ with two rates and an annotation (control)")
    put("records_1e9.edf", edf_records(10**9), "refused", "an EDF header claiming 10^9 data records")
    put("records_50k.edf", edf_records(50_000), "refused", "an EDF header claiming 50,000 records (more than held)")
    put("shape_bomb.h5", hdf5_shape_bomb(10**10), "refused", "an HDF5 dataset declared 10^10 float64 (80 GB)")
    put("links.h5", hdf5_links(), "refused", "only an external link and external storage (/etc/passwd)")
    put("valid.wav", wav_file(), "handled", "a valid 16-bit WAV (control)")
    put("claims_4gb.wav", wav_claiming(), "refused", "a truncated WAV whose header claims 4 GB")
    put("valid.tdms", tdms_file(), "handled", "a valid TDMS file (control)")
    put("huge_segment.tdms", tdms_huge_segment(), "refused", "a TDMS segment claiming 2^50 bytes")
    put(
        "zlib_bomb.mat",
        mat_zlib_bomb((1024 if big else 256) * mb),
        "refused",
        f"a MAT variable inflating to {'1 GB' if big else '256 MB'}",
    )
    put("rows_30m.parquet", parquet_rows(30_000_000), "refused", "a small Parquet file of 30 million rows")
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile_formats")
    for c in craft_formats(target, big="--big" in sys.argv):
        print(f"{c.expect:8s} {(target / c.name).stat().st_size:>12,d}  {c.name}: {c.what}")
