"""How the CSV reader takes a file's dialect: the delimiter and the decimal mark (the ``0,0;1,5``
trap), the number patterns cells are judged by, quotes and line ends, header rows or none, stray text
rows and extra fields, metadata preambles, and encodings (byte-order marks, UTF-16/32, cp1252, Latin-1).

Fixtures in tests/data/ are small hand-written files. Fast and TensorFlow-free: mutation testing (docs/TESTING.md) runs them against every mutant of denoiser/io.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from denoiser.io import (
    read_series,
)
from tests.support import (
    named,
    raises_input_error,
    read,
    refusal,
    values,
)


# ------------------------------------------------------------------ delimiters, decimal marks and numbers
def test_comma_with_header_and_seconds_time() -> None:
    table = read("comma_header.csv")
    report = table.report
    assert report.delimiter == "," and report.decimal == "." and report.header
    assert report.columns == ["value"]
    assert values(table, "value") == [1.0, 1.5, 2.0, 2.5]
    assert report.time_column == "time" and report.time_kind == "seconds"
    assert table.time is not None and table.time.tolist() == [0.0, 0.5, 1.0, 1.5]
    assert report.rows == 4 and report.skipped_lines == 0


def test_semicolon_decimal_comma_trap() -> None:
    """`0,0;1,5`: the integer part must not become an index or an extra column."""
    table = read("semicolon_decimal_comma.csv")
    assert table.report.delimiter == ";" and table.report.decimal == ","
    assert list(table.values.columns) == ["value"]
    assert values(table, "value") == [1.5, 2.5, 3.5]
    assert table.time is not None and table.time.tolist() == pytest.approx([0.0, 0.1, 0.2])


def test_semicolon_decimal_comma_without_header() -> None:
    table = read("semicolon_decimal_comma_no_header.csv")
    assert not table.report.header
    assert table.report.rows == 3
    assert values(table, "col1") == [1.5, 3.5, 5.5]
    assert values(table, "col2") == [2.25, 4.75, 6.25]


def test_tab_with_decimal_comma() -> None:
    table = read("tab_decimal_comma.tsv")
    assert table.report.delimiter == "\t" and table.report.decimal == ","
    assert table.report.columns == ["Kanal A", "Kanal B"]
    assert values(table, "Kanal B") == [-0.5, -0.25, 0.0]
    assert table.report.time_column == "Zeit"


def test_whitespace_aligned_columns() -> None:
    table = read("whitespace.txt")
    assert table.report.delimiter == " "
    assert table.report.columns == ["ch1", "ch2"]
    assert values(table, "ch2") == [10.0, 20.0, 30.0]
    assert table.report.time_column == "time"


def test_a_decimal_comma_column_with_text_keeps_its_numbers():
    table = read_series(b"a;b\n1,5;2,5\n2,5;x\n3,5;4,5\n")
    assert table.report.decimal == ","
    assert table.column("a").tolist() == [1.5, 2.5, 3.5]
    assert table.column("b").tolist() == [2.5, 3.5, 4.5]  # the text cell: missing, then filled
    assert table.report.notes[0] == "1 cell in 'b' did not contain a number and was treated as missing."


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        # Magnitudes a recording can have (values beyond 1e15 robust scales become gaps, see
        # test_absurd_and_infinite_values_become_gaps_with_a_note), written to 3 decimals.
        st.lists(st.floats(-1e9, 1e9).map(lambda v: round(v, 3)), min_size=2, max_size=2),
        min_size=2,
        max_size=30,
    ),
    st.sampled_from([(",", "."), (";", ","), ("\t", "."), ("\t", ",")]),
)
def test_numbers_written_any_dialect_read_back_exactly(rows: list[list[float]], dialect: tuple[str, str]) -> None:
    delimiter, decimal = dialect
    lines = [delimiter.join(repr(v).replace(".", decimal) for v in row) for row in rows]
    table = read_series(("a" + delimiter + "b\n" + "\n".join(lines) + "\n").encode())
    expected = np.array(rows)
    np.testing.assert_array_equal(table.column("a"), expected[:, 0])
    np.testing.assert_array_equal(table.column("b"), expected[:, 1])


def test_number_patterns_accept_what_they_accepted_before() -> None:
    import re

    from denoiser.io import dialect as dio

    old_dot = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity)", re.I)
    old_comma = re.compile(r"[+-]?(?:\d+,?\d*|,\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity)", re.I)
    cells = [
        "1",
        "12",
        "1.",
        "1.5",
        ".5",
        "-.5",
        "+3",
        "1e5",
        "1.5e-3",
        "1E+07",
        "inf",
        "-Infinity",
        "1.2.3",
        "e5",
        "1e",
        ".",
        "-",
        "1,5",
        ",5",
        "1,",
        "12a",
        "a12",
        "1 2",
        "0x1f",
        "１２",
        "1_000",
    ]
    for cell in cells:
        assert bool(dio.NUM_DOT.fullmatch(cell)) == bool(old_dot.fullmatch(cell)), cell
        assert bool(dio.NUM_COMMA.fullmatch(cell)) == bool(old_comma.fullmatch(cell)), cell
    assert dio.cell_kind("1" * 101, dio.NUM_DOT) == "text"  # too long to be a measurement
    assert dio.cell_kind("1" * 100, dio.NUM_DOT) == "num"


def test_number_cells_are_bounded_at_100_characters():
    from denoiser.io.dialect import NUM_DOT, cell_kind

    assert cell_kind("1" * 100, NUM_DOT) == "num"
    assert cell_kind("1" * 101, NUM_DOT) == "text"
    assert cell_kind("NA", NUM_DOT) == "missing" and cell_kind("abc", NUM_DOT) == "text"


# ------------------------------------------------------------------ quotes and line ends
def test_quoted_fields() -> None:
    table = read("quoted.csv")
    assert values(table, "value") == [1.5, 2.5, 3.5]
    assert table.report.time_column == "time"


def test_quoted_field_with_embedded_newline_parses() -> None:
    table = read("quoted_newline.csv")
    assert table.report.rows == 3
    assert values(table, "multi\nline name") == [1.5, 2.5, 3.5]
    assert "comment" not in table.values.columns  # a text column, left out with a note


def test_quoted_header_cells_span_lines_and_keep_escaped_quotes():
    table = read_series(b'"say ""hi""\nthere",b\n1,2\n3,4\n')
    assert table.report.columns == ['say "hi"\nthere', "b"]
    assert table.column("b").tolist() == [2.0, 4.0]
    # a quoted field may span up to 51 physical lines and is still one header cell
    long_name = "h\n" + "x\n" * 49 + "y"
    table = read_series(b'"' + long_name.encode() + b'",b\n1,2\n3,4\n')
    assert table.report.columns == [long_name, "b"] and table.report.rows == 2


def test_whitespace_separated_headers_lose_their_quotes():
    table = read_series(b'"a" "b"\n1 2\n3 4\n')
    assert table.report.delimiter == " " and table.report.columns == ["a", "b"]


def test_unclosed_quote_is_an_input_error() -> None:
    raises_input_error(b'a,b\n1,2\n3,"4\n5,6\n' + b"7,8\n" * 5000, "quote")


def test_an_unclosed_quote_is_named():
    assert refusal(b'a,b\n1,2\n"3,4\n5,6\n') == (
        "The file has a quoted field that is never closed (a '\"' is missing). "
        "Fix the quotes or remove them, then try again."
    )


def test_parser_errors_name_the_file():
    assert refusal(named(b'a,b\n1,2\n"3,4\n5,6\n')).startswith(
        "The file 'f.csv' has a quoted field that is never closed"
    )


def test_old_mac_line_endings() -> None:
    table = read_series(b"a,b\r1,2\r3,4\r5,6\r")
    assert values(table, "b") == [2.0, 4.0, 6.0]


def test_a_cr_only_file_longer_than_the_sniffed_sample_is_read():
    table = read_series(b"a\r" + b"1\r" * 40_000)  # 80 KB: the sample ends inside the file
    assert table.report.rows == 40_000 and table.report.columns == ["a"]


# ------------------------------------------------------------------ header rows
def test_no_header_keeps_first_row() -> None:
    table = read("no_header.csv")
    assert not table.report.header
    assert table.report.rows == 2
    assert table.report.columns == ["col1", "col2"]
    assert values(table, "col1") == [1.0, 3.0]
    assert values(table, "col2") == [2.0, 4.0]
    assert table.time is None


def test_header_shorter_than_rows_never_makes_an_index() -> None:
    """pandas would silently turn the first column into the index here."""
    table = read("header_shorter.csv")
    assert table.report.columns == ["a", "b", "col3"]
    assert values(table, "a") == [0.0, 1.0, 2.0]
    assert values(table, "col3") == [2.5, 4.5, 6.5]
    assert list(table.values.index) == [0, 1, 2]
    assert any("col3" in note for note in table.report.notes)


def test_duplicate_and_missing_header_names() -> None:
    table = read_series(b"a,a,,b,\n1,2,3,4,\n5,6,7,8,\n")
    assert table.report.columns == ["a", "a_2", "col3", "b"]  # trailing empty column left out
    assert any("'col5'" in note for note in table.report.notes)


def test_formula_and_html_header_names_are_plain_text() -> None:
    table = read("formula_header.csv")
    assert table.report.columns == [
        "=cmd|' /C calc'!A0",
        "<script>alert(1)</script>",
        "+SUM(A1:A2)",
        "@x",
    ]
    assert values(table, "<script>alert(1)</script>") == [2.0, 6.0]


def test_single_column_file() -> None:
    table = read("single_column.csv")
    assert table.report.columns == ["only"]
    assert values(table, "only") == [1.5, 2.5, 3.5]


def test_empty_row_right_after_header_is_data() -> None:
    table = read_series(b"a,b\n,\n1,2\n3,4\n", max_gap=0)
    assert table.report.header and table.report.rows == 3
    assert np.isnan(table.column("a")[0])


# ------------------------------------------------------------------ stray text rows and extra fields
def test_stray_text_row_does_not_swallow_rows_above_it() -> None:
    table = read_series(b"time,value\n0,1\nERROR,ERROR\n2,3\n3,4\n4,5\n")
    assert table.report.header and table.report.skipped_lines == 0
    assert table.report.rows == 5
    assert table.column("value")[[0, 2, 3, 4]].tolist() == [1.0, 3.0, 4.0, 5.0]


def test_a_text_row_at_the_end_is_not_a_header():
    table = read_series(b"1,2\n3,4\n5,6\nx,y\n")
    assert table.report.header is False and table.report.columns == ["col1", "col2"]
    assert table.report.rows == 4


def test_data_rows_above_a_stray_text_row_stay_data():
    table = read_series(b"1,2\n3,4\nx,y\n5,6\n7,8\n")
    assert table.report.rows == 5 and table.report.skipped_lines == 0 and table.report.header is False
    assert table.column("col1").tolist() == [1.0, 3.0, 4.0, 5.0, 7.0]  # the text cell: filled


def test_a_stray_text_row_right_below_the_first_data_row():
    table = read_series(b"1,2\nx,y\n3,4\n5,6\n")
    assert table.report.rows == 4 and table.report.skipped_lines == 0
    assert table.column("col1").tolist() == [1.0, 2.0, 3.0, 5.0]


def test_rows_with_extra_fields_are_named_by_line():
    fix = "Fix or remove that line (look for an extra delimiter or a stray quote) and try again."
    assert refusal(b"a,b\n1,2\n3,4,x\n5,6\n") == f"Line 3 of the file has 3 fields, but the table has 2 columns. {fix}"
    assert refusal(b"1,2,3\na,b\n1,2\n3,4\n") == f"Line 1 of the file has 3 fields, but the table has 2 columns. {fix}"
    assert refusal(named(b"a\n1\n2,3\n4\n")) == (
        f"Line 3 of the file 'f.csv' has 2 fields, but the table has 1 column. {fix}"
    )
    # a metadata line with text above the table may be wider: skipped, not refused
    assert read_series(b"Instrument,XYZ,v2\na,b\n1,2\n3,4\n").report.skipped_lines == 1


def test_extra_field_beyond_the_sniffed_sample_names_its_line() -> None:
    body = "".join(f"{i},{i}.5\n" for i in range(20_000))
    data = ("time,value\n" + body + "1,2,3\n").encode()
    raises_input_error(data, "line 20,002", "3 fields")


def test_an_extra_field_past_the_sniffed_sample_is_refused_by_line():
    data = b"a,b\n" + b"1,2\n" * 20_000 + b"3,4,5\n6,7\n"  # 80 KB: past the 64 KB sample
    assert refusal(named(data)) == (
        "Line 20,002 of the file 'f.csv' has 3 fields, but the table has 2 columns. Fix or remove that line "
        "(look for an extra delimiter or a stray quote) and try again."
    )


# ------------------------------------------------------------------ metadata preambles
def test_metadata_preamble_is_skipped_and_counted() -> None:
    table = read("preamble.csv")
    assert table.report.skipped_lines == 4
    assert table.report.header
    assert table.report.columns == ["voltage"]
    assert values(table, "voltage") == [0.1, 0.2, 0.3, 0.4]
    assert "skipped 4 metadata lines" in table.report.summary()


def test_preamble_before_headerless_whitespace_data() -> None:
    data = b"Instrument: XYZ\nSample rate: 1000 Hz\n1.0 2.0\n3.0 4.0\n5.0 6.0\n"
    table = read_series(data)
    assert table.report.skipped_lines == 2 and not table.report.header
    assert values(table, "col1") == [1.0, 3.0, 5.0]


# ------------------------------------------------------------------ encodings
def test_utf8_with_bom() -> None:
    table = read("utf8_bom.csv")
    assert table.report.encoding == "utf-8-sig"
    assert table.report.time_column == "time"  # not "\ufefftime"
    assert values(table, "value") == [10.5, 11.5, 12.5]


@pytest.mark.parametrize(
    ("name", "column", "delimiter"),
    [("utf16le_bom.csv", "value (µV)", "\t"), ("utf16be_bom.csv", "value", ";")],
)
def test_utf16_with_bom(name: str, column: str, delimiter: str) -> None:
    table = read(name)
    assert table.report.encoding == "utf-16"
    assert table.report.delimiter == delimiter
    assert values(table, column) == [1.5, 2.5, 3.5]


def test_utf16_without_bom_is_recognised() -> None:
    data = "t,v\n0,1.5\n1,2.5\n".encode("utf-16-le")
    table = read_series(data)
    assert table.report.encoding == "utf-16"
    assert values(table, "v") == [1.5, 2.5]


def test_utf32_and_utf8_bom_files_are_decoded_after_their_bom():
    text = "a,b\n1.5,2\n3,4.25\n"
    for data in (
        b"\xff\xfe\x00\x00" + text.encode("utf-32-le"),
        b"\x00\x00\xfe\xff" + text.encode("utf-32-be"),
        b"\xef\xbb\xbf" + text.encode("utf-8"),
    ):
        table = read_series(data)
        assert table.report.columns == ["a", "b"] and table.column("b").tolist() == [2.0, 4.25]
    assert read_series(b"\xff\xfe\x00\x00" + text.encode("utf-32-le")).report.encoding == "utf-32"


def test_cp1252_header_with_degree_and_micro_signs() -> None:
    table = read("cp1252_units.csv")
    assert table.report.encoding == "cp1252"
    assert table.report.columns == ["Temperatur (°C)", "Signal (µV)"]
    assert values(table, "Temperatur (°C)") == [21.5, 21.75, 22.0]


def test_latin1_fallback_for_bytes_undefined_in_cp1252() -> None:
    table = read_series("Wert \x81\n1\n2\n".encode("latin-1"))
    assert table.report.encoding == "latin-1"
    assert table.report.rows == 2
