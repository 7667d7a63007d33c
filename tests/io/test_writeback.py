"""A denoised CSV goes back out as it came in (issue 19, item 4).

The download, the CLI and a batch write a CSV in the input's own form: its delimiter, decimal
mark, encoding (and byte-order mark), line ends, header row or none, and the time column's
text as the file wrote it; what was applied in ``#`` lines on top (``read_series`` skips them);
a value column's filled gaps left empty as they came, and flagged in ``NAME_filled``. The plain
form stays one option away and is byte for byte what ``to_csv_bytes`` wrote before.
"""

from __future__ import annotations

import codecs

import numpy as np
import pytest

from denoiser.apply import Level, Recipe, denoise_table, output_bytes
from denoiser.io import read_series, to_csv_bytes


def _logger(rows: int = 600, *, encoding: str = "cp1252", newline: str = "\r\n", bom: bool = False) -> bytes:
    """A German logger export: ';', decimal commas, DD.MM.YYYY HH:MM stamps, a unit sign, a gap of two."""
    rng = np.random.default_rng(1)
    lines = ["Datum;Temperatur °C;Druck hPa"]
    for i in range(rows):
        stamp = f"{1 + i // 1440:02d}.02.2024 {i // 60 % 24:02d}:{i % 60:02d}"
        temp = "" if i in (30, 31) else f"{20 + np.sin(i / 40) + 0.05 * rng.standard_normal():.2f}".replace(".", ",")
        pressure = f"{1013 + 2 * np.cos(i / 90) + 0.3 * rng.standard_normal():.1f}".replace(".", ",")
        lines.append(f"{stamp};{temp};{pressure}")
    data = (newline.join(lines) + newline).encode(encoding)
    return (codecs.BOM_UTF8 if bom and encoding == "utf-8" else b"") + data


def _denoised(data: bytes, **kwargs: object) -> tuple[object, bytes]:
    table = read_series(data)
    done = denoise_table(table, Recipe(model="none", level=Level(sigma=0.05)))
    return table, output_bytes(table, done, **kwargs)


def test_a_semicolon_decimal_comma_file_comes_back_in_its_own_form() -> None:
    data = _logger()
    table, out = _denoised(data)
    assert table.report.encoding == "cp1252" and table.report.newline == "\r\n"
    text = out.decode("cp1252")  # the input's encoding: '°' is one byte, 0xB0
    assert b"Temperatur \xb0C;" in out
    lines = text.split("\r\n")  # the input's line ends
    comments = [line for line in lines if line.startswith("# ")]
    assert comments[0].startswith("# Denoised with denoiser ") and "classical filters only" in comments[0]
    assert any(line.startswith("# Temperatur °C: ") and "(given: 0.05)" in line for line in comments)
    assert "Temperatur °C_filled flags" in text or "NAME_filled flags gaps" in text
    header = lines[len(comments)]
    assert header == ("Datum;Temperatur °C;Druck hPa;Temperatur °C_denoised;Druck hPa_denoised;Temperatur °C_filled")
    rows = lines[len(comments) + 1 :]
    assert rows[0].startswith("01.02.2024 00:00;20,") and rows[0].endswith(";0")  # time verbatim, decimal commas
    assert rows[30].startswith("01.02.2024 00:30;;") and rows[30].endswith(";1")  # the gap: empty, flagged
    assert rows[31].startswith("01.02.2024 00:31;;") and rows[32].endswith(";0")
    assert "." not in "".join(rows[:5]).replace("01.02.2024", "")  # no decimal point anywhere

    back = read_series(out)  # the comment lines are skipped; the same table comes back
    assert back.report.delimiter == ";" and back.report.decimal == "," and back.report.encoding == "cp1252"
    assert back.report.rows == table.report.rows and back.report.time_column == "Datum"
    assert back.time.equals(table.time)
    for name in ("Temperatur °C", "Druck hPa"):
        np.testing.assert_allclose(back.column(name), table.column(name), atol=1e-9)
    assert back.report.filled == {**{c: 0 for c in back.values.columns}, "Temperatur °C": 2}
    assert back.column("Temperatur °C_filled").sum() == 2
    assert "Temperatur °C_filled" not in back.signal_columns  # a flag, not a signal


def test_the_plain_form_is_what_earlier_versions_wrote() -> None:
    data = _logger()
    table, out = _denoised(data, plain=True)
    done = denoise_table(table, Recipe(model="none", level=Level(sigma=0.05)))
    before = to_csv_bytes(table, done.denoised)  # unchanged: the public writer's default form
    assert before.startswith(b"Datum,Temperatur \xc2\xb0C,") and b"2024-02-01T00:00:00," in before
    assert not out.startswith(b"#")
    # the same bytes but for the filled gaps: left empty and flagged in the plain form too
    assert out.split(b"\n")[0] == before.split(b"\n")[0] + b",Temperatur \xc2\xb0C_filled"
    assert out.split(b"\n")[1] == before.split(b"\n")[1] + b",0"
    clean = _logger().replace(b";;", b";20,00;")  # no gaps: the plain form is byte for byte the old one
    table2, out2 = _denoised(clean, plain=True)
    done2 = denoise_table(table2, Recipe(model="none", level=Level(sigma=0.05)))
    assert out2 == to_csv_bytes(table2, done2.denoised)


@pytest.mark.parametrize(
    "encoding,bom,newline", [("utf-8", True, "\n"), ("utf-16-le", False, "\n"), ("utf-8", False, "\r")]
)
def test_encoding_byte_order_mark_and_line_ends_are_kept(encoding: str, bom: bool, newline: str) -> None:
    data = _logger(200, encoding=encoding, newline=newline, bom=bom)
    if encoding == "utf-16-le":
        data = codecs.BOM_UTF16_LE + data
    table, out = _denoised(data)
    assert out.startswith(codecs.BOM_UTF8 if bom else codecs.BOM_UTF16_LE if encoding == "utf-16-le" else b"#")
    text = out.decode("utf-8-sig" if encoding == "utf-8" else "utf-16")
    assert text.count(newline) >= 200 and (newline == "\r\n" or "\r\n" not in text)
    back = read_series(out)
    assert back.report.encoding == table.report.encoding and back.report.newline == newline
    np.testing.assert_allclose(back.column("Druck hPa"), table.column("Druck hPa"))


def test_a_headerless_file_and_a_split_date_and_time_come_back_alike() -> None:
    rng = np.random.default_rng(2)
    rows = "\n".join(f"{i}\t{np.sin(i / 9) + 0.1 * rng.standard_normal():.4f}" for i in range(300))
    table, out = _denoised((rows + "\n").encode())
    body = [line for line in out.decode().splitlines() if not line.startswith("#")]
    assert len(body) == 300 and body[0].startswith("0\t") and body[0].count("\t") == 2  # no header row added
    assert read_series(out).report.header is False

    lines = ["date,time,v"] + [
        f"2024-03-{1 + i // 1440:02d},{i // 60 % 24:02d}:{i % 60:02d}:00,"
        f"{np.cos(i / 30) + 0.1 * rng.standard_normal():.3f}"
        for i in range(400)
    ]
    table, out = _denoised(("\n".join(lines) + "\n").encode())
    assert table.report.time_column == "date time"  # read as one time axis...
    body = [line for line in out.decode().splitlines() if not line.startswith("#")]
    assert body[0] == "date,time,v,v_denoised" and body[1].startswith("2024-03-01,00:00:00,")  # ...written as it came


def test_header_lines_stay_comments_whatever_the_column_names_hold() -> None:
    name = "a\r\nb,=1+2\u2028c"
    rows = "\n".join(f"{i},{np.sin(i / 7) + 0.1 * ((i * 7) % 5 - 2):.4f}" for i in range(200))
    table, out = _denoised(f't,"{name}"\n{rows}\n'.encode())
    comments = [line for line in out.decode().split("\n") if line.startswith("#")]
    assert len(comments) == 3 and all(line.isprintable() for line in comments)
    back = read_series(out)
    assert back.report.skipped_lines == 3 and back.report.rows == 200
