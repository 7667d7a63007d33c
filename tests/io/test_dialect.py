"""Tests for denoiser.io: real files as instruments and spreadsheets write them.

Fixtures in tests/data/ are small hand-written files; binary and very large
inputs are generated into tmp_path so the repository stays small.
"""

from __future__ import annotations

import gzip
import io
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from denoiser.errors import InputError
from denoiser.io import (
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_GAP,
    MAX_LINE_CHARS,
    ReadReport,
    SeriesTable,
    read_series,
    to_csv_bytes,
    write_series,
)
from tests.support import DATA, raises_input_error, read, values

class UploadedFile(io.BytesIO):
    """Stand-in for Streamlit's UploadedFile: a BytesIO with .name and .size."""

    def __init__(self, data: bytes, name: str = "upload.csv") -> None:
        super().__init__(data)
        self.name = name
        self.size = len(data)


# --------------------------------------------------------------------------- constants


def test_public_limits() -> None:
    assert MAX_BYTES == 200 * 1024**2
    assert MAX_COLUMNS == 1000
    assert MAX_LINE_CHARS == 1_000_000
    assert MAX_GAP == 10


# --------------------------------------------------------------------------- delimiters


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


def test_quoted_fields() -> None:
    table = read("quoted.csv")
    assert values(table, "value") == [1.5, 2.5, 3.5]
    assert table.report.time_column == "time"


def test_quoted_field_with_embedded_newline_parses() -> None:
    table = read("quoted_newline.csv")
    assert table.report.rows == 3
    assert values(table, "multi\nline name") == [1.5, 2.5, 3.5]
    assert "comment" not in table.values.columns  # a text column, left out with a note


def test_single_column_file() -> None:
    table = read("single_column.csv")
    assert table.report.columns == ["only"]
    assert values(table, "only") == [1.5, 2.5, 3.5]


def test_old_mac_line_endings() -> None:
    table = read_series(b"a,b\r1,2\r3,4\r5,6\r")
    assert values(table, "b") == [2.0, 4.0, 6.0]


# --------------------------------------------------------------------------- encodings


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


def test_cp1252_header_with_degree_and_micro_signs() -> None:
    table = read("cp1252_units.csv")
    assert table.report.encoding == "cp1252"
    assert table.report.columns == ["Temperatur (°C)", "Signal (µV)"]
    assert values(table, "Temperatur (°C)") == [21.5, 21.75, 22.0]


def test_latin1_fallback_for_bytes_undefined_in_cp1252() -> None:
    table = read_series("Wert \x81\n1\n2\n".encode("latin-1"))
    assert table.report.encoding == "latin-1"
    assert table.report.rows == 2


# --------------------------------------------------------------------------- preamble and time


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


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("iso_timestamps.csv", ["2024-01-31 12:00:00", "2024-01-31 12:00:01", "2024-01-31 12:00:02"]),
        ("iso_t_millis.csv", ["2024-01-31 12:00:00", "2024-01-31 12:00:00.123", "2024-01-31 12:00:00.250"]),
        ("dayfirst_slash.csv", ["2024-01-31 12:00", "2024-01-31 12:01", "2024-02-01 12:02"]),
        ("dayfirst_dots.csv", ["2024-01-31 12:00:00", "2024-01-31 12:00:01", "2024-01-31 12:00:02"]),
    ],
)
def test_datetime_columns(name: str, expected: list[str]) -> None:
    table = read(name)
    assert table.report.time_kind == "datetime"
    assert table.time is not None
    assert pd.api.types.is_datetime64_any_dtype(table.time.dtype)
    assert list(table.time) == [pd.Timestamp(s) for s in expected]
    assert table.report.time_column not in table.values.columns
    assert len(table.report.columns) == 1


def test_seconds_and_sample_index_columns() -> None:
    seconds = read("seconds_column.csv")
    assert seconds.report.time_column == "seconds" and seconds.report.time_kind == "seconds"
    assert seconds.time is not None and seconds.time.dtype == np.float64
    sample = read("sample_index.csv")
    assert sample.report.time_column == "sample"
    assert sample.report.columns == ["signal"]


def test_numeric_column_not_named_like_time_stays_a_value() -> None:
    table = read("not_time.csv")
    assert table.time is None
    assert table.report.columns == ["channel", "freq"]


def test_nameless_first_column_with_row_numbers_is_the_index() -> None:
    table = read_series(b",a\n0,1.5\n1,2.5\n2,3.5\n")
    assert table.report.time_column == "col1"
    assert table.report.columns == ["a"]


def test_date_and_time_of_day_columns_are_combined() -> None:
    table = read_series(b"Date;Time;Value\n31.01.2024;12:00:00;1,5\n31.01.2024;12:00:01;2,5\n")
    assert table.report.time_column == "Date Time"
    assert list(table.time) == [pd.Timestamp("2024-01-31 12:00:00"), pd.Timestamp("2024-01-31 12:00:01")]  # type: ignore[arg-type]
    assert table.report.columns == ["Value"]


# --------------------------------------------------------------------------- header oddities


def test_duplicate_and_missing_header_names() -> None:
    table = read_series(b"a,a,,b,\n1,2,3,4,\n5,6,7,8,\n")
    assert table.report.columns == ["a", "a_2", "col3", "b"]  # trailing empty column left out
    assert any("'col5'" in note for note in table.report.notes)


def test_stray_text_row_does_not_swallow_rows_above_it() -> None:
    table = read_series(b"time,value\n0,1\nERROR,ERROR\n2,3\n3,4\n4,5\n")
    assert table.report.header and table.report.skipped_lines == 0
    assert table.report.rows == 5
    assert table.column("value")[[0, 2, 3, 4]].tolist() == [1.0, 3.0, 4.0, 5.0]


def test_empty_row_right_after_header_is_data() -> None:
    table = read_series(b"a,b\n,\n1,2\n3,4\n", max_gap=0)
    assert table.report.header and table.report.rows == 3
    assert np.isnan(table.column("a")[0])


# --------------------------------------------------------------------------- gaps and channels


def test_short_gaps_filled_edges_kept() -> None:
    table = read("gaps.csv")
    temp = table.column("temp")
    assert np.isnan(temp[0]) and np.isnan(temp[-1])  # edges are not extrapolated
    assert temp[3:5].tolist() == [3.0, 4.0]  # gap of 2 filled linearly
    report = table.report
    assert report.missing == {"temp": 4, "pressure": 12}
    assert report.filled == {"temp": 2, "pressure": 12}
    assert np.isfinite(table.column("pressure")).all()
    notes = " ".join(report.notes)
    assert "Filled 1 short gap (2 values) in 'temp' by linear interpolation." in notes
    assert "at the start" in notes and "at the end" in notes


def test_long_gaps_stay_missing_and_are_reported() -> None:
    table = read("gaps.csv", max_gap=3)
    pressure = table.column("pressure")
    assert np.isnan(pressure[6:16]).all()  # "-", null, NA, nan and 6 empty cells: a run of 10
    assert pressure[[2, 4]].tolist() == [102.0, 104.0]  # single gaps are still filled
    assert table.report.missing["pressure"] == 12
    assert table.report.filled["pressure"] == 2
    assert any(
        "'pressure' has 1 gap longer than 3 values (10 values in all)" in note
        for note in table.report.notes
    )


def test_gap_of_exactly_max_gap_is_filled() -> None:
    table = read("gaps.csv")  # the run of 10 in 'pressure' equals MAX_GAP
    assert table.column("pressure")[6:16].tolist() == [float(v) for v in range(106, 116)]


def test_max_gap_zero_fills_nothing() -> None:
    table = read("gaps.csv", max_gap=0)
    assert table.report.filled == {"temp": 0, "pressure": 0}


def test_several_channels_and_text_column_dropped() -> None:
    table = read("channels.csv")
    assert table.report.columns == ["ch1", "ch2", "ch3"]
    assert values(table, "ch3") == [100.0, 200.0, 300.0]
    assert all(dtype == np.float64 for dtype in table.values.dtypes)
    assert any("'status'" in note for note in table.report.notes)


def test_short_rows_are_missing_values() -> None:
    table = read("short_row.csv")
    assert table.report.missing == {"value": 1}
    assert values(table, "value") == [1.0, 2.0, 3.0]


def test_infinities_are_missing() -> None:
    table = read("infinities.csv", max_gap=0)
    y = table.column("y")
    assert y[3] == 4.0
    assert np.isnan(y[1]) and np.isnan(y[2])
    assert any("infinite" in note for note in table.report.notes)


def test_absurd_and_infinite_values_become_gaps_with_a_note() -> None:
    # Issue 11: cells of +-1e308 were kept and Compare showed inf and blank plots.
    rng = np.random.default_rng(0)
    y = np.sin(np.arange(200) / 10) + 0.1 * rng.standard_normal(200)
    cells = [repr(float(v)) for v in y]
    cells[10], cells[50], cells[90], cells[120] = "1e308", "-1e308", "inf", "-1.29e293"
    cells[150] = "1e6"  # a big spike (1e7 robust scales) is data, not a glitch: kept
    table = read_series(("t,y\n" + "\n".join(f"{i},{c}" for i, c in enumerate(cells)) + "\n").encode(),
                        max_gap=0)
    out = table.column("y")
    assert np.isnan(out[[10, 50, 90, 120]]).all()
    assert out[150] == 1e6 and np.isfinite(np.delete(out, [10, 50, 90, 120])).all()
    notes = " ".join(table.report.notes)
    assert "3 absurd values in 'y'" in notes and "infinite" in notes
    assert table.report.missing == {"y": 4}


def test_unparseable_cells_count_as_missing() -> None:
    table = read_series(b"a\n1\n2\noops\n4\n5\n")
    assert table.report.missing == {"a": 1}
    assert values(table, "a") == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert any("did not contain a number" in note for note in table.report.notes)


def test_column_lookup_names_available_columns() -> None:
    table = read("channels.csv")
    assert table.column("ch1").dtype == np.float64
    with pytest.raises(InputError, match="ch1.*ch2.*ch3"):
        table.column("nope")


def test_summary_is_plain_text() -> None:
    table = read("gaps.csv")
    text = table.report.summary()
    assert "Read 18 rows" in text and "'temp'" in text and "Time column: 't'" in text
    assert isinstance(table.report, ReadReport)


# --------------------------------------------------------------------------- sources


def test_bytes_path_string_and_uploaded_file_agree(tmp_path: Path) -> None:
    raw = (DATA / "semicolon_decimal_comma.csv").read_bytes()
    upload = UploadedFile(raw, "measure.csv")
    upload.seek(5)  # an app may have read part of it already
    tables = [
        read_series(raw),
        read_series(str(DATA / "semicolon_decimal_comma.csv")),
        read_series(upload),
        read_series(io.BytesIO(raw)),
    ]
    for table in tables:
        assert values(table, "value") == [1.5, 2.5, 3.5]


def test_missing_path_and_folder(tmp_path: Path) -> None:
    raises_input_error(tmp_path / "nope.csv", "does not exist")
    raises_input_error(tmp_path, "folder")


def test_unsupported_source_type_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        read_series(12345)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("empty.csv", ["empty", "at least one column of numbers"]),
        ("header_only.csv", ["header", "no data rows", "at least 2 rows"]),
        ("one_value.csv", ["needs at least 2 rows"]),
        ("all_nan.csv", ["empty or nan", "measurements"]),
        ("text_only.csv", ["only text", "column of numbers"]),
        ("extra_field.csv", ["line 4", "3 fields", "2 columns"]),
    ],
)
def test_bad_fixture_files(name: str, words: list[str]) -> None:
    raises_input_error(DATA / name, name, *words)


def test_whitespace_only_file_is_empty() -> None:
    raises_input_error(b" \n\r\n\t\n", "empty")


def test_all_nan_value_column_with_time() -> None:
    raises_input_error(b"time,v\n0,nan\n1,\n2,NA\n", "'v'", "empty or nan")


def test_time_column_only() -> None:
    raises_input_error(b"time\n2024-01-01 00:00\n2024-01-01 00:01\n", "time column", "no column of measurements")


def test_comments_only() -> None:
    raises_input_error(b"# nothing\n# here\n", "only comments")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40 + b"xl/workbook.xml", ["Excel", "Save As > CSV"]),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, ["Excel", "Save As > CSV"]),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["PNG image"]),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", ["JPEG image"]),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", ["PDF"]),
        (bytes(range(256)) * 4, ["binary"]),
        (b"1,2\n3,\x004\n5,6\n", ["binary"]),
        (b"<!DOCTYPE html><html><body>1,2</body></html>", ["web page"]),
    ],
)
def test_binary_files_renamed_to_csv(tmp_path: Path, content: bytes, words: list[str]) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    raises_input_error(path, "data.csv", *words)


def test_gzip_is_refused_not_decompressed(tmp_path: Path) -> None:
    # A real gzip bomb: 50 MB of zeros compress to ~50 KB. It must not be inflated.
    path = tmp_path / "bomb.csv"
    path.write_bytes(gzip.compress(b"0" * 50_000_000, compresslevel=1))
    # Not inflated: Python allocates far less than the 50 MB it would expand to.
    tracemalloc.start()
    try:
        raises_input_error(path, "compressed file", "unzip it first")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, f"{peak:,} bytes allocated for a refused gzip file"


def test_size_limit_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"a\n" + b"1\n" * 1000)
    raises_input_error(path, "more than the limit", "split", max_bytes=1000)
    raises_input_error(path.read_bytes(), "more than the limit", max_bytes=1000)

    class Huge(UploadedFile):
        """Claims a size above the limit; read() must never be called."""

        def read(self, *args: object) -> bytes:  # type: ignore[override]
            raise AssertionError("read before the size check")

    upload = Huge(b"a\n1\n2\n")
    upload.size = MAX_BYTES + 1
    raises_input_error(upload, "more than the limit")


def test_size_limit_for_buffer_without_size_attribute() -> None:
    raises_input_error(io.BytesIO(b"a\n" + b"1\n" * 1000), "more than the limit", max_bytes=100)


def test_too_many_columns() -> None:
    row = ",".join(["1.0"] * (MAX_COLUMNS + 1))
    raises_input_error(f"{row}\n{row}\n".encode(), "1,001 columns", "at most 1,000")
    raises_input_error(b"1,2,3\n4,5,6\n", "3 columns", "at most 2", max_columns=2)
    header = ",".join(f"c{i}" for i in range(10_000))
    wide = ",".join(["1.5"] * 10_000)
    raises_input_error(f"{header}\n{wide}\n{wide}\n".encode(), "10,000 columns", "at most 1,000")


def test_overlong_line_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"a,b\n" + b"1" * 5_000_000  # 5 MB without a newline

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pandas parsed a file with an overlong line")

    monkeypatch.setattr(pd, "read_csv", no_parse)  # refused before pandas sees it
    raises_input_error(data, "line 2", "longer than 1,000,000 characters")
    raises_input_error(b"a\n1\n" + b"2" * 50 + b"\n3\n", "line 3", max_line_chars=20)


def test_extra_field_beyond_the_sniffed_sample_names_its_line() -> None:
    body = "".join(f"{i},{i}.5\n" for i in range(20_000))
    data = ("time,value\n" + body + "1,2,3\n").encode()
    raises_input_error(data, "line 20,002", "3 fields")


def test_unclosed_quote_is_an_input_error() -> None:
    raises_input_error(b'a,b\n1,2\n3,"4\n5,6\n' + b"7,8\n" * 5000, "quote")


def test_formula_and_html_header_names_are_plain_text() -> None:
    table = read("formula_header.csv")
    assert table.report.columns == [
        "=cmd|' /C calc'!A0",
        "<script>alert(1)</script>",
        "+SUM(A1:A2)",
        "@x",
    ]
    assert values(table, "<script>alert(1)</script>") == [2.0, 6.0]


def test_input_error_is_a_value_error() -> None:
    assert issubclass(InputError, ValueError)


# --------------------------------------------------------------------------- writing


def test_write_round_trip_with_seconds(tmp_path: Path) -> None:
    table = read("channels.csv")
    denoised = {"ch1": table.column("ch1") * 0.5}
    path = tmp_path / "out.csv"
    write_series(path, table, denoised)
    back = read_series(path)
    assert back.report.delimiter == "," and back.report.decimal == "."
    assert back.report.encoding == "utf-8"
    assert back.report.time_column == "time"
    assert back.report.columns == ["ch1", "ch2", "ch3", "ch1_denoised"]
    assert values(back, "ch1_denoised") == [0.5, 1.0, 1.5]
    assert values(back, "ch3") == values(table, "ch3")


def test_write_round_trip_datetime_and_nan() -> None:
    table = read("iso_t_millis.csv")
    denoised = {"temp": np.array([1.0, np.nan, 3.0])}
    text = to_csv_bytes(table, denoised).decode("utf-8")
    assert text.splitlines()[0] == "timestamp,temp,temp_denoised"
    assert "2024-01-31T12:00:00.123," in text
    assert "2024-01-31T12:00:00.000,1,1.0" in text  # integers stay integers; denoised one place finer
    assert ",2,\n" in text  # NaN written as an empty cell
    back = read_series(text.encode())
    assert back.report.time_kind == "datetime"
    assert list(back.time) == list(table.time)  # type: ignore[arg-type]
    assert back.column("temp_denoised")[[0, 2]].tolist() == [1.0, 3.0]


def test_write_to_text_and_binary_buffers() -> None:
    table = read("comma_header.csv")
    text_buffer, binary_buffer = io.StringIO(), io.BytesIO()
    write_series(text_buffer, table, {})
    write_series(binary_buffer, table, {})
    assert text_buffer.getvalue().encode("utf-8") == binary_buffer.getvalue() == to_csv_bytes(table, {})


def test_write_round_trip_decimal_comma_source() -> None:
    table = read("tab_decimal_comma.tsv")
    back = read_series(to_csv_bytes(table, {"Kanal A": table.column("Kanal A")}))
    assert back.report.decimal == "." and back.report.delimiter == ","
    assert values(back, "Kanal A_denoised") == [1.25, 1.5, 1.75]


def test_written_header_neutralises_formulas() -> None:
    table = read("formula_header.csv")
    out = to_csv_bytes(table, {"=cmd|' /C calc'!A0": table.column("=cmd|' /C calc'!A0")})
    header = out.decode("utf-8").splitlines()[0]
    cells = next(iter(pd.read_csv(io.StringIO(header + "\n"), header=None).itertuples(index=False)))
    assert cells[0] == "'=cmd|' /C calc'!A0"
    assert cells[1] == "<script>alert(1)</script>"
    assert cells[2] == "'+SUM(A1:A2)"
    assert cells[3] == "'@x"
    assert cells[4] == "'=cmd|' /C calc'!A0_denoised"
    assert not any(str(cell).startswith(("=", "+", "-", "@")) for cell in cells)


def test_write_rejects_mismatched_denoised_length() -> None:
    table = read("comma_header.csv")
    with pytest.raises(InputError, match="4 rows"):
        to_csv_bytes(table, {"value": np.zeros(3)})


# --------------------------------------------------------------------------- scale


def test_million_rows_read_fast_and_correctly(tmp_path: Path) -> None:
    n = 1_000_000
    path = tmp_path / "big.csv"
    with path.open("w") as handle:
        handle.write("sample,value\n")
        handle.write("".join(f"{i},{i % 997}.5\n" for i in range(n)))
    table = read_series(path)  # (its speed is measured in bench/speed.py, not asserted here)
    assert table.report.rows == n
    assert table.report.time_column == "sample"
    value = table.column("value")
    assert value.dtype == np.float64 and value.shape == (n,)
    np.testing.assert_array_equal(value, np.arange(n) % 997 + 0.5)


# --------------------------------------------------------------------------- properties


def _check_outcome(data: bytes) -> None:
    try:
        table = read_series(data)
    except InputError as err:
        assert str(err)
        return
    assert isinstance(table, SeriesTable)
    assert table.report.rows == len(table.values) >= 2
    assert list(table.values.columns) == table.report.columns
    assert all(dtype == np.float64 for dtype in table.values.dtypes)
    assert table.time is None or len(table.time) == table.report.rows


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(data: bytes) -> None:
    _check_outcome(data)


CSV_ALPHABET = "0123456789" * 3 + ",;\t .,-+eE\"'\n\n\r#aZx:NnA\u00b0"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(alphabet=CSV_ALPHABET, max_size=400),
    st.sampled_from(["utf-8", "utf-16", "cp1252", "utf-8-sig"]),
)
def test_random_csvish_text_never_crashes(text: str, encoding: str) -> None:
    _check_outcome(text.encode(encoding))


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


# --------------------------------------------------------------------------- written precision


def test_written_values_keep_the_input_precision_and_integer_index() -> None:
    rng = np.random.default_rng(0)
    x = np.round(rng.normal(size=500), 3)
    text = "sample,v\n" + "".join(f"{i},{v:.3f}\n" for i, v in enumerate(x))
    table = read_series(text.encode())
    out = to_csv_bytes(table, {"v": x + rng.normal(scale=1e-3, size=500) / 7}).decode()
    rows = [line.split(",") for line in out.splitlines()[1:]]
    assert [r[0] for r in rows[:3]] == ["0", "1", "2"]  # not 0.0, 1.0, 2.0
    assert all(len(r[1].partition(".")[2]) <= 3 for r in rows)  # the input's 3 places
    assert max(len(r[2].partition(".")[2]) for r in rows) == 4  # denoised: one place finer
    back = read_series(out.encode())
    np.testing.assert_array_equal(back.column("v"), table.column("v"))  # lossless for the input
    assert len(out) < 0.6 * len(to_full_precision(table, x))


def to_full_precision(table: SeriesTable, x: np.ndarray) -> str:
    """The old 16-digit writing, for the size comparison."""
    return pd.DataFrame({"sample": np.arange(x.size, dtype=float), "v": x, "d": x + 1e-7 / 3}).to_csv(index=False)


def test_written_precision_ignores_interpolated_gap_cells_and_keeps_full_precision_data() -> None:
    gappy = read_series(b"t,v\n0,1.5\n1,\n2,\n3,2.5\n4,3.0\n")  # the two gap cells become 1.8333.., 2.1666..
    assert gappy.report.filled["v"] == 2
    lines = to_csv_bytes(gappy, {}).decode().splitlines()
    assert lines[1:] == ["0,1.5", "1,1.8", "2,2.2", "3,2.5", "4,3.0"]
    full = np.random.default_rng(1).normal(size=50)  # 17 significant digits: written in full
    table = read_series(("v\n" + "".join(f"{float(v)!r}\n" for v in full)).encode())
    back = read_series(to_csv_bytes(table, {"v": table.column("v")}))
    np.testing.assert_array_equal(back.column("v"), full)
    np.testing.assert_array_equal(back.column("v_denoised"), full)


@pytest.mark.parametrize("cells, places", [(["1", "2"], 0), (["0.1", "0.25"], 2), (["1e-5", "2"], 5),
                                           (["-3.125", "nan"], 3), (["123456789012", "1"], 0)])
def test_decimals_finds_the_input_grid(cells: list[str], places: int) -> None:
    from denoiser.io import decimals

    assert decimals(np.array([float(c) for c in cells])) == places


# --------------------------------------------------------------------------- axis columns (issue 11)


def _noisy_rows(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sin(np.arange(n) / 15) + 0.1 * rng.standard_normal(n)


def test_headerless_sample_index_first_column_is_the_axis() -> None:
    y = _noisy_rows(300)
    text = "\n".join(f"{i},{v:.5f},{-v:.5f}" for i, v in enumerate(y)) + "\n"
    table = read_series(text.encode())
    assert not table.report.header
    assert table.report.time_column == "col1"
    assert list(table.values.columns) == ["col2", "col3"]


def test_point_time_column_next_to_decimal_comma_values() -> None:
    y = _noisy_rows(300)
    # the time keeps its point, the values get the locale's comma
    lines = [f"{i * 0.001:.3f};" + f"{v:.4f}".replace(".", ",") + ";" + f"{2 * v:.4f}".replace(".", ",")
             for i, v in enumerate(y)]
    table = read_series(("Zeit [s];Spannung [V];Strom [A]\n" + "\n".join(lines) + "\n").encode())
    assert table.report.decimal == ","
    assert table.report.time_column == "Zeit [s]"
    assert list(table.values.columns) == ["Spannung [V]", "Strom [A]"]
    assert table.time.iloc[1] == pytest.approx(0.001)
    assert table.column("Spannung [V]")[0] == pytest.approx(round(y[0], 4))


@pytest.mark.parametrize("name", ["year", "Jahr", "Year (CE)"])
def test_a_yearly_series_uses_the_year_as_its_axis(name: str) -> None:
    y = 280 + 10 * _noisy_rows(120)
    text = f"{name},CO2 [ppm]\n" + "\n".join(f"{1900 + i},{v:.2f}" for i, v in enumerate(y)) + "\n"
    table = read_series(text.encode())
    assert table.report.time_column == name
    assert list(table.values.columns) == ["CO2 [ppm]"]


def test_written_precision_of_a_percent_g_writer_is_significant_digits() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=400) * 10.0 ** rng.integers(-4, 3, size=400)  # 0.000123457 and 123.457: 6 digits each
    table = read_series(("v\n" + "".join(f"{v:.6g}\n" for v in x)).encode())
    out = to_csv_bytes(table, {"v": table.column("v") * (1 + 3.3e-6)}).decode()
    back = read_series(out.encode())
    np.testing.assert_array_equal(back.column("v"), table.column("v"))
    digits = [len(c.lstrip("-").split("e")[0].replace(".", "").lstrip("0")) for c in
              (line.split(",")[1] for line in out.splitlines()[1:])]
    assert max(digits) == 7  # denoised: one significant digit more than the input's 6


# --------------------------------------------------------------------------- the CSV text, cell by cell


def _pandas_csv(table: SeriesTable, denoised: dict[str, np.ndarray]) -> bytes:
    """What the writer wrote before it formatted cells itself: pandas on the output frame."""
    from denoiser.io import output_frame

    return output_frame(table, denoised).to_csv(index=False, na_rep="", lineterminator="\n").encode()


def test_written_cells_are_pinned_on_tricky_values() -> None:
    # v has 4 places (and 5 significant digits, so it is not a %g column); denoised: 5 places.
    table = read_series(b"sample,v\n0,0.1250\n1,-2.5000\n2,3.0000\n3,0.0001\n4,7.7500\n5,1.0000\n"
                        b"6,100.0000\n7,1.2345\n")
    denoised = np.array([-1e-6, 12.0, 5e-5, np.inf, -1234.567891, np.nan, 1e20, -np.inf])
    out = to_csv_bytes(table, {"v": denoised})
    assert out.decode().splitlines() == [
        "sample,v,v_denoised",
        "0,0.125,-0.0",  # rounds to minus zero, written as floats print it
        "1,-2.5,12.0",  # a whole number keeps one place
        "2,3.0,5e-05",  # below 1e-4: scientific, as Python and NumPy print it
        "3,0.0001,inf",
        "4,7.75,-1234.56789",
        "5,1.0,",  # NaN: an empty cell
        "6,100.0,1.0000000000000002e+20",  # 1e16 and above: scientific; np.round(1e20, 5) is an ulp off
        "7,1.2345,-inf",
    ]
    assert out == _pandas_csv(table, {"v": denoised})


def test_a_lone_column_writes_empty_rows_as_quotes() -> None:
    # 12 missing cells: a gap too long to fill, so those rows are empty; csv writes them as "".
    table = read_series(b"v\n1.5\n" + b"nan\n" * 12 + b"2.5\n3.5\n")
    out = to_csv_bytes(table, {})
    assert out == b'v\n1.5\n' + b'""\n' * 12 + b"2.5\n3.5\n"
    assert out == _pandas_csv(table, {})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), places=st.integers(0, 9), digits=st.integers(1, 9),
       scale=st.integers(-6, 14), comma=st.booleans())
def test_written_csv_is_byte_identical_to_pandas(seed: int, places: int, digits: int, scale: int, comma: bool) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    x = rng.normal(size=n) * 10.0**scale
    g = rng.normal(size=n) * 10.0 ** rng.integers(-9, 9, size=n)  # a %g column over 18 decades
    x[rng.integers(0, n, 20)] = np.nan  # short gaps (filled) and maybe a long one
    x[n // 2 : n // 2 + 12] = np.nan
    sep, point = (";", ",") if comma else (",", ".")
    rows = [f"{i}{sep}{'' if np.isnan(v) else f'{v:.{places}f}'}{sep}{w:.{digits}g}" for i, (v, w) in
            enumerate(zip(x, g))]
    text = f"idx{sep}x{sep}g\n" + "\n".join(r.replace(".", point) if comma else r for r in rows) + "\n"
    table = read_series(text.encode())
    noisy = {c: table.column(c) * (1 + rng.normal(0, 1e-4, n)) for c in table.values.columns}
    noisy["x"][::37] = rng.choice([np.inf, -np.inf, 0.0, -0.0, 1e-7, 3e17])
    assert to_csv_bytes(table, noisy) == _pandas_csv(table, noisy)


def test_a_rounding_spec_is_only_a_hint_for_the_fast_cells() -> None:
    from denoiser.io.fastcsv import csv_rows

    x = np.array([0.5, 1.25, 2.0, np.nan, -3.0, 1e-5, 123456789.125, np.inf])
    ints = pd.array([1, None, 3, 4, -5, 6, 7, 8], dtype="Int64")
    stamps = np.array(["2024-01-01T00:00:00", "", "2024-01-01T00:00:01", "", "", "", "", ""], dtype=object)
    frame = pd.DataFrame({"x": x, "i": ints, "t": stamps})
    expected = frame.to_csv(index=False, header=False, na_rep="", lineterminator="\n").encode()
    for spec in [("f", 3), ("f", 1), ("f", 0), ("g", 2), ("g", 12), None]:  # right, too coarse, or none
        assert csv_rows([x, ints, stamps], [spec, None, None]) == expected, spec
    # text that would need quoting is left to pandas
    assert csv_rows([np.array(["a,b", "c"], dtype=object)], [None]) is None
