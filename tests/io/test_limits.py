"""Tests written against mutmut's survivors in ``denoiser.io`` (docs/TESTING.md, issue 13).

Each test pins what a caller of the reader/writer sees -- a refusal's text (the line number of
an overlong line, a limit in MB, plural forms), a parsed value at a boundary, a written cell --
so that a one-token change to ``denoiser/io/*`` turns it red. Fast and TensorFlow-free: mutmut
runs these against every io mutant.
"""
from __future__ import annotations

import io
import os
import time

import numpy as np
import pandas as pd
import pytest

from denoiser.errors import InputError
from denoiser.io import ReadReport, SeriesTable, guards, read_series
from denoiser.io._common import counted, the_file
from denoiser.io.encoding import Encoding
from tests.support import named, read_notes, refusal

MB = 1024**2


# ------------------------------------------------------------------ wording helpers
def test_counts_and_file_names_read_as_sentences():
    assert counted(1, "value") == "1 value"
    assert counted(0, "value") == "0 values"
    assert counted(2_500, "line") == "2,500 lines"
    assert counted(2, "entry", "entries") == "2 entries"
    assert counted(1, "entry", "entries") == "1 entry"
    assert the_file("a.csv") == "The file 'a.csv'"
    assert the_file("a.csv", False) == "the file 'a.csv'"
    assert the_file(None) == "The file" and the_file("", False) == "the file"


# ------------------------------------------------------------------ size limits, in MB
def test_size_refusals_give_both_sizes_in_mb():
    assert refusal(b"1\n" * (MB // 2 + 100_000), max_bytes=MB // 2) == (
        "The file is 1.2 MB, more than the limit of 0.5 MB. Split it into smaller files or keep fewer columns.")
    err = guards._too_big(1536 * MB, 1024 * MB, "big.csv")
    assert str(err) == ("The file 'big.csv' is 1,536.0 MB, more than the limit of 1,024.0 MB. "
                        "Split it into smaller files or keep fewer columns.")
    # exactly at the limit is read
    assert read_series(b"a\n1\n2\n", max_bytes=6).report.rows == 2
    assert "is 0.0 MB" in refusal(b"a\n1\n2\n", max_bytes=5)


def test_a_path_over_the_limit_is_refused_by_its_size(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"a\n" + b"1.5\n" * 400_000)               # 1.5 MB
    assert refusal(path, max_bytes=MB) == (
        "The file 'big.csv' is 1.5 MB, more than the limit of 1.0 MB. Split it into smaller files or keep fewer columns.")
    small = tmp_path / "small.csv"
    small.write_bytes(b"a\n" + b"1\n" * 100_000)                 # read in steps of at least 64 KB
    assert read_series(small).report.rows == 100_000
    assert read_series(str(small), max_bytes=small.stat().st_size).report.rows == 100_000


def test_paths_that_are_not_files_are_named(tmp_path):
    assert refusal(tmp_path / "none.csv") == (
        f"The file {str(tmp_path / 'none.csv')!r} does not exist. Check the path and try again.")
    folder = tmp_path / "data"
    folder.mkdir()
    assert refusal(folder) == "'data' is a folder, not a file. Choose a CSV file."
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert refusal(fifo) == "'pipe.csv' is not a regular file (a pipe or a device?). Choose a CSV file."
    assert refusal("a,b\n1,2") == ("read_series was given CSV text instead of a file path. "
                                    "Pass the content as bytes (text.encode()) or save it to a file first.")
    assert refusal(12, TypeError) == "read_series expects a path, bytes or a binary file object, not int."


# ------------------------------------------------------------------ file objects (uploads)
class _Upload:
    """Streamlit's UploadedFile: ``.size`` and ``.name``; read() must not run when too big."""

    def __init__(self, data: bytes, size=None, name="/tmp/up/data.csv"):
        self._buf, self.name = io.BytesIO(data), name
        self.size = len(data) if size is None else size
        self.reads = 0

    def seekable(self):
        return True

    def seek(self, *args):
        return self._buf.seek(*args)

    def read(self, n=-1):
        self.reads += 1
        return self._buf.read(n)


class _Stream:
    """A pipe-like object: no size, no seek; read() only."""

    def __init__(self, data):
        self._buf = io.BytesIO(data)

    def read(self, n=-1):
        return self._buf.read(n)


def test_an_upload_is_sized_before_it_is_read_and_read_from_its_start():
    big = _Upload(b"a\n1\n", size=3 * MB)
    assert refusal(big, max_bytes=2 * MB) == (
        "The file 'data.csv' is 3.0 MB, more than the limit of 2.0 MB. Split it into smaller files or keep fewer columns.")
    assert big.reads == 0
    up = _Upload(b"a\n1\n2\n3\n")
    up.read(3)                                    # a preview read part of it
    table = read_series(up)
    assert table.column("a").tolist() == [1.0, 2.0, 3.0]
    assert _Upload(b"a\n1\n2\n", size=True).size is True and read_series(_Upload(b"a\n1\n2\n", size=True)).report.rows == 2


def test_a_buffer_without_size_is_sized_by_seeking_or_by_reading():
    buf = io.BytesIO(b"a\n" + b"1\n" * 600)       # 1,202 bytes
    assert guards._buffer_size(buf) == 1202
    buf.seek(5)
    assert guards._buffer_size(buf) == 1202 and buf.tell() == 5   # the position is put back
    assert guards._buffer_size(_Stream(b"abc")) is None
    assert guards._buffer_size(_Upload(b"abc", size=7)) == 7
    assert refusal(io.BytesIO(b"a\n" + b"1\n" * 600), max_bytes=1000).startswith("The file is 0.0 MB")
    # no size, no seek: read max_bytes + 1 and refuse what is still too long
    assert refusal(_Stream(b"a\n" + b"1\n" * 600), max_bytes=1000).startswith("The file is 0.0 MB")
    assert read_series(_Stream(b"a\n" + b"1\n" * 600), max_bytes=1202).report.rows == 600
    assert read_series(io.StringIO("a\n1\n2\n")).report.rows == 2            # text buffers are encoded


def test_broken_file_objects_get_a_message():
    class Failing(_Stream):
        name = "/x/broken.csv"

        def read(self, n=-1):
            raise OSError("device gone")

    assert refusal(Failing(b"")) == "The file 'broken.csv' could not be read (device gone). Try uploading it again."

    class Numbers(_Stream):
        def read(self, n=-1):
            return [1, 2]

    assert refusal(Numbers(b""), TypeError) == "The file object's read() must return bytes."


# ------------------------------------------------------------------ binary formats, empty files, text-likeness
@pytest.mark.parametrize("magic, what, todo", guards._MAGIC)
def test_every_known_binary_format_is_named(magic, what, todo):
    assert refusal(magic + b"\x00rest of the file", ) == f"The file looks like {what}, not a CSV text file. {todo}"


def test_empty_bzip2_and_html_files_are_named():
    for empty in (b"", b" \n\t\r\n"):
        assert refusal(empty) == "The file is empty. Choose a CSV file with at least one column of numbers."
    assert refusal(b"BZh91AY&SY\x00\x01") == (
        "The file looks like a bzip2-compressed file. It is a compressed file: unzip it first and choose the CSV "
        "file inside.")
    assert refusal(b"\n  <!DOCTYPE HTML><html>") == (
        "The file looks like a web page (HTML), not a CSV file. Download the data itself as CSV and choose that file.")
    assert refusal(b"<HTML><body>1,2</body>").startswith("The file looks like a web page")


def test_text_likeness_counts_control_characters_against_the_length():
    ok, bad = "a\n" + "1\n" * 49, "a\n" + "1\n" * 549        # 100 and 1,100 characters
    assert guards.looks_like_text(ok[:-2] + "\x01\x02")            # 2 controls: allowed in a short text
    assert not guards.looks_like_text(ok[:-3] + "\x01\x02\x03")
    assert guards.looks_like_text(bad[:-11] + "\x01" * 11)         # 11 of 1,100: 1 %, allowed
    assert not guards.looks_like_text(bad[:-12] + "\x01" * 12)
    assert guards.looks_like_text("\t\f\v\r\n" * 20)              # whitespace controls do not count
    assert not guards.looks_like_text("a\n1\n2\n\x7f\x7f\x7f")      # DEL counts
    assert not guards.looks_like_text("a,b\n1,2\n\x00")               # one NUL is enough
    assert guards.looks_like_text("x" * 97 + "\ufffd" * 7)          # 104 // 20 + 2 = 7 replacement chars
    assert not guards.looks_like_text("x" * 96 + "\ufffd" * 8)
    # the refusal names the formats that are read (the reader words it: it knows the registry)
    assert refusal(named(b"a\n1\n2\n\x01\x02\x03", "f.csv")) == ("The file 'f.csv' does not look like a text file (it contains binary data), nor like "
                              "a format read here (.xlsx, .xlsm, .xls, .ods, .parquet, .pq, .h5, .hdf5, .hdf, .he5, "
                              ".mat, .wav, .wave, .flac, .tdms, .edf, .bdf, .mseed, .miniseed, .ms, .sac). Choose a "
                              "CSV file, or export your data as CSV from the program that made it.")


# ------------------------------------------------------------------ long lines: which line, and the limit
@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_the_overlong_line_is_named_by_its_number(newline):
    rows = [b"a,b", b"1,2", b"3,4", b"5" * 30, b"6,7"]
    data = newline.join(rows) + newline
    assert refusal(data, max_line_chars=20) == (
        "Line 4 of the file is longer than 20 characters, so it is not a table with one row per line. "
        "Check that you chose the right file, or put each measurement on its own line.")
    # the last line, without a line break after it
    assert refusal(newline.join(rows[:3] + [b"9" * 21]), max_line_chars=20).startswith("Line 4 of the file is")
    # exactly at the limit is fine
    assert read_series(newline.join([b"a", b"1", b"2" * 20, b"3"]), max_line_chars=20).report.rows == 3


def test_line_numbers_and_limits_have_thousands_separators():
    data = b"a\n" + b"1\n" * 1500 + b"2" * 1_000_001 + b"\n3\n"
    assert refusal(data).startswith("Line 1,502 of the file is longer than 1,000,000 characters, so")


def test_line_lengths_count_code_units_after_the_bom():
    rows = "a,b\n1,2\n" + "5" * 30 + "\n6,7\n"
    # (in UTF-16 the byte after a line break, its second half, counts towards the next line)
    for bom, codec, fits in [(b"\xff\xfe", "utf-16-le", 31), (b"\xef\xbb\xbf", "utf-8", 30)]:
        data = bom + rows.encode(codec)
        assert refusal(data, max_line_chars=20).startswith("Line 3 of the file is longer than 20 characters")
        assert refusal(data, max_line_chars=fits - 1).startswith("Line 3 of the file")
        assert read_series(data, max_line_chars=fits).report.rows == 3


def test_a_long_line_is_found_across_scan_chunks(monkeypatch):
    monkeypatch.setattr(guards, "SCAN_CHUNK", 16)        # many chunks from a small file
    lines = [b"a"] + [b"1"] * 40 + [b"2" * 25] + [b"3"] * 5
    data = b"\n".join(lines) + b"\n"
    assert refusal(data, max_line_chars=24).startswith("Line 42 of the file is longer than 24 characters")
    assert read_series(data, max_line_chars=25).report.rows == len(lines) - 1
    # a line that spans chunk ends without a break inside a chunk
    data = b"a\n1\n" + b"2" * 40 + b"\n3\n"
    assert refusal(data, max_line_chars=39).startswith("Line 3 of the file")
    assert read_series(data, max_line_chars=40).report.rows == 3
    enc = Encoding("utf-8", "utf-8", 0, 1)
    guards.check_line_lengths(b"ab\n" * 20, enc, 2, None)                       # many chunks, none too long
    with pytest.raises(InputError, match="Line 21 of"):
        guards.check_line_lengths(b"ab\n" * 20 + b"abc", enc, 2, None)          # the tail after the last break


def test_too_many_columns_names_both_counts():
    row = ",".join(["1"] * 1200).encode()
    assert refusal(row + b"\n" + row + b"\n") == (
        "The file has 1,200 columns; at most 1,000 are supported. Remove unused columns or split the file, "
        "then try again.")
    assert read_series(b"1,2,3\n4,5,6\n", max_columns=3).values.shape == (2, 3)


# ------------------------------------------------------------------ the time budget
def test_a_spent_time_budget_stops_the_read_saying_where():
    budget = guards.BUDGET
    saved = (budget.deadline, budget.seconds, budget.name)
    try:
        budget.deadline, budget.seconds, budget.name = time.monotonic() - 1.0, 2.5, "slow.csv"
        with pytest.raises(InputError) as err:
            guards.tick("sniffing the format")
        assert str(err.value) == (
            "Reading the file 'slow.csv' took longer than 2.5 s (while sniffing the format), so it was stopped. "
            "A table of numbers reads much faster: check that this is the right file, or split it into smaller files.")
        budget.deadline = time.monotonic() + 3600.0
        guards.tick("anything")                      # time left: no error
        budget.deadline = None
        guards.tick("anything")
    finally:
        budget.deadline, budget.seconds, budget.name = saved


# ------------------------------------------------------------------ the report and the table
def test_report_summary_word_for_word():
    r = ReadReport(rows=1234, columns=["a"], delimiter=";", decimal=",", encoding="utf-8", header=True,
                   skipped_lines=1, time_column="t", time_kind="datetime", missing={"a": 1200, "b": 0},
                   filled={"a": 1100}, notes=["A note."])
    assert r.summary().split("\n") == [
        "Read 1,234 rows and 1 value column: 'a'.",
        "Format: semicolon-separated, decimal comma, utf-8 encoding, with a header row; skipped 1 metadata line.",
        "Time column: 't' (date and time).",
        "Missing values: 'a': 1,200 (1,100 filled).",
        "A note.",
    ]
    r = ReadReport(rows=20, columns=["a", "b"], delimiter="|", decimal=".", encoding="cp1252", header=False,
                   skipped_lines=2, time_column="t", time_kind="seconds", missing={"a": 3, "b": 2}, filled={"b": 2})
    assert r.summary().split("\n") == [
        "Read 20 rows and 2 value columns: 'a', 'b'.",
        "Format: '|'-separated, decimal point, cp1252 encoding, without a header row; skipped 2 metadata lines.",
        "Time column: 't' (numeric, increasing).",
        "Missing values: 'a': 3 (0 filled); 'b': 2 (2 filled).",
    ]
    r = ReadReport(rows=5, columns=[], delimiter="\t", decimal=".", encoding="utf-16", header=False,
                   skipped_lines=0, time_column=None, time_kind=None, missing={"a": 0})
    assert r.summary() == ("Read 5 rows and 0 value columns: .\n"
                           "Format: tab-separated, decimal point, utf-16 encoding, without a header row.")
    r = ReadReport(rows=1, columns=["a"], delimiter=",", decimal=".", encoding="utf-8", header=True,
                   skipped_lines=0, time_column=None, time_kind=None)
    assert r.summary().split("\n")[0] == "Read 1 row and 1 value column: 'a'."   # not "1 rows"


def test_a_missing_column_lists_the_ones_there():
    table = SeriesTable(pd.DataFrame({"a": [1, 2], "b b": [3.5, 4.0]}), None,
                        ReadReport(2, ["a", "b b"], ",", ".", "utf-8", True, 0, None, None))
    col = table.column("a")
    assert col.dtype == np.float64 and col.tolist() == [1.0, 2.0]
    col = table.column("b b")
    col[0] = 9.0
    assert table.values["b b"].iloc[0] == 3.5             # a copy, not a view of the table
    with pytest.raises(InputError) as err:
        table.column("c")
    assert str(err.value) == "There is no value column named 'c'. Choose one of: 'a', 'b b'."


# ------------------------------------------------------------------ reader: value columns, notes and refusals
def test_no_value_column_refusals_name_the_columns_and_the_file():
    assert refusal(named(b"t,a,b\n1,x,p\n2,y,q\n3,z,r\n")) == (
        "The file 'f.csv' has no numeric value column: 'a', 'b' contain text, not numbers. "
        "Choose a CSV file with at least one column of numbers.")
    assert refusal(named(b"t,a\n1,x\n2,y\n3,z\n")) == (
        "The file 'f.csv' has no numeric value column: 'a' contains text, not numbers. "
        "Choose a CSV file with at least one column of numbers.")
    assert refusal(named(b"t,a,b\n1,,\n2,,\n3,,\n")) == (
        "Every cell in columns 'a', 'b' of the file 'f.csv' is empty or NaN, so there is nothing to denoise. "
        "Choose a file whose columns contain measurements.")
    assert refusal(named(b"t,a\n1,\n2,\n3,\n")).startswith("Every cell in column 'a' of the file 'f.csv' is empty")
    assert refusal(named(b"time\n0\n1\n2\n")) == (
        "The file 'f.csv' has a time column ('time') but no column of measurements. "
        "Choose a file with at least one column of numbers next to the time.")
    assert refusal(named(b"a\n1\n")) == (
        "The file 'f.csv' has only 1 data row, but denoising needs at least 2 rows. Choose a file with more measurements.")
    assert refusal(named(b"a\n")) == (
        "The file 'f.csv' has a header ('a') but no data rows. Add at least 2 rows of numbers below the header.")


def test_left_out_columns_are_noted_in_singular_and_plural():
    assert read_notes(b"a,b,c\n1,x,\n2,y,\n3,z,\n") == [
        "Left out the text column 'b', because only numbers can be denoised.",
        "Left out the empty column 'c', because no cell holds a finite number."]
    assert read_notes(b"a,b,c,d,e\n1,x,p,,\n2,y,q,,\n3,z,r,,\n") == [
        "Left out the text columns 'b', 'c', because only numbers can be denoised.",
        "Left out the empty columns 'd', 'e', because no cell holds a finite number."]


def test_cells_set_to_missing_are_counted_in_singular_and_plural():
    gap1, gaps2 = "Filled 1 short gap (1 value) in 'a' by linear interpolation.", \
        "Filled 2 short gaps (2 values) in 'a' by linear interpolation."
    assert read_notes(b"a\n1\nx\n3\n4\n5\n") == ["1 cell in 'a' did not contain a number and was treated as missing.", gap1]
    assert read_notes(b"a\n1\n2\nx\n3\ny\n5\n6\n7\n") == [
        "2 cells in 'a' did not contain a number and were treated as missing.", gaps2]
    assert read_notes(b"a\n1\ninf\n3\n4\n5\n") == ["1 infinite value (inf/-inf) in 'a' was treated as missing.", gap1]
    assert read_notes(b"a\n1\ninf\n3\n-inf\n5\n") == [
        "2 infinite values (inf/-inf) in 'a' were treated as missing.", gaps2]
    absurd = ("in 'a' (more than 1e+15 times the column's typical spread from its median, e.g. 1e308) "
              "{} treated as missing.")
    # 1e20 is absurd only against the column's robust spread (1.4826 * MAD), not by its size alone
    assert read_notes(b"a\n1\n2\n1e20\n3\n4\n5\n6\n") == ["1 absurd value " + absurd.format("was"), gap1]
    assert read_notes(b"a\n1\n1e300\n3\n1e301\n5\n6\n7\n") == ["2 absurd values " + absurd.format("were"), gaps2]


def test_missing_tokens_in_any_case_are_gaps_not_text():
    table = read_series(b"a\n1\nNa\n3\n<na>\n5\n")
    assert table.report.missing == {"a": 2}
    assert table.report.notes == ["Filled 2 short gaps (2 values) in 'a' by linear interpolation."]


def test_a_decimal_comma_column_with_text_keeps_its_numbers():
    table = read_series(b"a;b\n1,5;2,5\n2,5;x\n3,5;4,5\n")
    assert table.report.decimal == ","
    assert table.column("a").tolist() == [1.5, 2.5, 3.5]
    assert table.column("b").tolist() == [2.5, 3.5, 4.5]          # the text cell: missing, then filled
    assert table.report.notes[0] == "1 cell in 'b' did not contain a number and was treated as missing."


# ------------------------------------------------------------------ dialect: lines, quotes, header, refusals
def test_a_cr_only_file_longer_than_the_sniffed_sample_is_read():
    table = read_series(b"a\r" + b"1\r" * 40_000)               # 80 KB: the sample ends inside the file
    assert table.report.rows == 40_000 and table.report.columns == ["a"]


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


def test_number_cells_are_bounded_at_100_characters():
    from denoiser.io.dialect import NUM_DOT, cell_kind
    assert cell_kind("1" * 100, NUM_DOT) == "num"
    assert cell_kind("1" * 101, NUM_DOT) == "text"
    assert cell_kind("NA", NUM_DOT) == "missing" and cell_kind("abc", NUM_DOT) == "text"


def test_a_text_row_at_the_end_is_not_a_header():
    table = read_series(b"1,2\n3,4\n5,6\nx,y\n")
    assert table.report.header is False and table.report.columns == ["col1", "col2"]
    assert table.report.rows == 4


def test_data_rows_above_a_stray_text_row_stay_data():
    table = read_series(b"1,2\n3,4\nx,y\n5,6\n7,8\n")
    assert table.report.rows == 5 and table.report.skipped_lines == 0 and table.report.header is False
    assert table.column("col1").tolist() == [1.0, 3.0, 4.0, 5.0, 7.0]   # the text cell: filled


def test_files_without_a_table_say_what_they_hold():
    choose = "Choose a CSV file with at least one column of numbers."
    assert refusal(b"# comment\n\n# more\n") == f"The file contains no table, only comments or blank lines. {choose}"
    assert refusal(b"a,b\nx,p\ny,q\nz,r\n") == f"The file contains only text and no numbers. {choose}"
    assert refusal(named(b"text line\n" * 8000)) == (
        "The file 'f.csv' has no rows of numbers in its first 64 KB. "
        "Remove the long text at the top or choose the file with the measured values.")
    assert refusal(b"a,b\n,\nNA,nan\n") == (
        "Every value in the file is empty or NaN, so there is nothing to denoise. "
        "Choose a file whose columns contain measurements.")


def test_rows_with_extra_fields_are_named_by_line():
    fix = "Fix or remove that line (look for an extra delimiter or a stray quote) and try again."
    assert refusal(b"a,b\n1,2\n3,4,x\n5,6\n") == f"Line 3 of the file has 3 fields, but the table has 2 columns. {fix}"
    assert refusal(b"1,2,3\na,b\n1,2\n3,4\n") == f"Line 1 of the file has 3 fields, but the table has 2 columns. {fix}"
    assert refusal(named(b"a\n1\n2,3\n4\n")) == (
        f"Line 3 of the file 'f.csv' has 2 fields, but the table has 1 column. {fix}")
    # a metadata line with text above the table may be wider: skipped, not refused
    assert read_series(b"Instrument,XYZ,v2\na,b\n1,2\n3,4\n").report.skipped_lines == 1


def test_an_unclosed_quote_is_named():
    assert refusal(b'a,b\n1,2\n"3,4\n5,6\n') == (
        "The file has a quoted field that is never closed (a '\"' is missing). "
        "Fix the quotes or remove them, then try again.")


# ------------------------------------------------------------------ times: day order, formats, kinds, edge notes
def test_dates_are_read_day_first_unless_a_second_field_exceeds_12():
    table = read_series(b"date,a\n13/01/2020,1\n14/01/2020,2\n15/01/2020,3\n")
    assert table.report.time_kind == "datetime" and table.report.notes == []
    assert [t.day for t in table.time] == [13, 14, 15] and {t.month for t in table.time} == {1}
    table = read_series(b"date,a\n01/13/2020,1\n01/14/2020,2\n01/15/2020,3\n")
    assert [t.day for t in table.time] == [13, 14, 15]
    assert table.report.notes == ["Dates were read month-first (month/day/year), because some day values exceed 12."]
    table = read_series(b"date,a\n01/02/2020,1\n02/02/2020,2\n03/02/2020,3\n")
    assert [(t.day, t.month) for t in table.time] == [(1, 2), (2, 2), (3, 2)]
    assert table.report.notes == ["Dates such as 01/02/2024 are ambiguous; they were read day-first (day/month/year)."]
    # 12 itself is a month: still ambiguous
    assert read_series(b"date,a\n12/01/2020,1\n11/01/2020,2\n10/01/2020,3\n").report.notes[0].startswith(
        "Dates such as 01/02/2024 are ambiguous")


def test_day_first_dates_keep_fractional_seconds():
    table = read_series(b"date,a\n13/01/2020 10:00:00.5,1\n13/01/2020 10:00:01.5,2\n13/01/2020 10:00:02.5,3\n")
    assert [t.microsecond for t in table.time] == [500_000] * 3 and [t.second for t in table.time] == [0, 1, 2]


def test_time_kinds_are_reported():
    table = read_series(b"time,a\n0,1\n1,2\n2,3\n")
    assert (table.report.time_column, table.report.time_kind) == ("time", "seconds")
    assert table.time.tolist() == [0.0, 1.0, 2.0]
    table = read_series(b"date,clock,a\n2020-01-01,10:00:00,1\n2020-01-01,10:00:01,2\n2020-01-01,10:00:02,3\n")
    assert (table.report.time_column, table.report.time_kind) == ("date clock", "datetime")
    assert table.report.notes == ["Combined the date column 'date' and the time column 'clock' into 'date clock'."]
    assert [t.second for t in table.time] == [0, 1, 2]
    # an increasing column that is neither first nor named like time is a signal
    table = read_series(b"a,b\n5,0\n3,1\n4,2\n1,3\n")
    assert table.report.time_column is None and table.report.columns == ["a", "b"]


def test_edge_gaps_are_noted_with_counts_and_the_column():
    tail = ("left as missing (NaN), because values before the first or after the last measurement are not "
            "extrapolated.")
    assert read_notes(b"a,b\n,1\n,2\n3,3\n4,4\n5,5\n,6\n") == [
        f"'a' has 2 missing values at the start and 1 at the end; they were {tail}"]
    assert read_notes(b"a,b\n,1\n3,3\n4,4\n5,5\n,6\n,7\n") == [
        f"'a' has 1 missing value at the start and 2 at the end; they were {tail}"]
    assert read_notes(b"a,b\n3,3\n4,4\n5,5\n,6\n") == [f"'a' has 1 missing value at the end; it was {tail}"]
    assert read_notes(b"a,b\n3,3\n4,4\n5,5\n,6\n,7\n") == [f"'a' has 2 missing values at the end; they were {tail}"]


# ------------------------------------------------------------------ encodings, limits, parser errors with the name
def test_utf32_and_utf8_bom_files_are_decoded_after_their_bom():
    text = "a,b\n1.5,2\n3,4.25\n"
    for data in (b"\xff\xfe\x00\x00" + text.encode("utf-32-le"), b"\x00\x00\xfe\xff" + text.encode("utf-32-be"),
                 b"\xef\xbb\xbf" + text.encode("utf-8")):
        table = read_series(data)
        assert table.report.columns == ["a", "b"] and table.column("b").tolist() == [2.0, 4.25]
    assert read_series(b"\xff\xfe\x00\x00" + text.encode("utf-32-le")).report.encoding == "utf-32"


def test_limits_must_be_positive():
    for kwargs in ({"max_bytes": 0}, {"max_columns": 0}, {"max_line_chars": 0}, {"max_gap": -1}):
        with pytest.raises(ValueError) as err:
            read_series(b"a\n1\n2\n", **kwargs)
        assert str(err.value) == "Limits must be positive and max_gap must be >= 0."
    assert read_series(b"a\n1\n\n\n2\n", max_gap=0).report.rows == 2


def test_parser_errors_name_the_file():
    assert refusal(named(b'a,b\n1,2\n"3,4\n5,6\n')).startswith("The file 'f.csv' has a quoted field that is never closed")


# ------------------------------------------------------------------ writer: precision kept, cells as written
from denoiser.io import decimals, significant, to_csv_bytes  # noqa: E402
from denoiser.io.writer import _at_decimals  # noqa: E402


def test_decimals_and_significant_digits_at_their_edges():
    assert decimals(np.array([])) == 0 and decimals(np.array([np.nan, 1.5]), misses=1) == 0
    assert decimals(np.array([1.25, 2.5])) == 2
    # 2e9 + 0.0625 needs 4 places, but 2e9 * 10**3 is past 2**40: written in full instead
    assert decimals(np.array([2e9 + 0.0625])) is None
    assert decimals(np.array([2e6 + 0.0625])) == 4
    # longer than the head the guesses are tried on first
    assert decimals(np.arange(5000) / 4) == 2
    assert decimals(np.r_[np.arange(4096.0), 0.5]) == 1
    assert significant(np.tile([1.23, 4.56], 3000)) == 3
    assert significant(np.r_[np.full(4096, 1.0), 1.25]) == 3
    assert significant(np.array([0.0, np.nan])) == 1


def test_whole_numbers_are_written_as_integers_below_2_to_the_53():
    assert _at_decimals(np.array([2.0**52, 3.0]), 0).dtype == np.int64
    assert _at_decimals(np.array([2.0**53]), 0).dtype == np.float64
    assert _at_decimals(np.array([2.0**54 + 4096.0]), 0).dtype == np.float64


def test_written_csv_keeps_each_columns_precision():
    rows = "".join(f"{i * 0.5},{i * 0.001 - 0.002:.3f},{i * 7},{0.000123457 * (i + 1):.6g},{(i - 3) * 1e-5:.5f},"
                   f"{1e12 + i:.0f}\n" for i in range(6))
    table = read_series(("t,a,b,c,d,e\n" + rows).encode())
    out = to_csv_bytes(table, {"a": np.linspace(0, 1, 6), "b": np.arange(6) * 7.01}).decode()
    assert out == (
        "t,a,b,c,d,e,a_denoised,b_denoised\n"
        "0.0,-0.002,0,0.000123457,-3e-05,1000000000000,0.0,0.0\n"
        "0.5,-0.001,7,0.000246914,-2e-05,1000000000001,0.2,7.0\n"
        "1.0,0.0,14,0.000370371,-1e-05,1000000000002,0.4,14.0\n"
        "1.5,0.001,21,0.000493828,0.0,1000000000003,0.6,21.0\n"
        "2.0,0.002,28,0.000617285,1e-05,1000000000004,0.8,28.0\n"
        "2.5,0.003,35,0.000740742,2e-05,1000000000005,1.0,35.0\n")


def test_denoised_columns_get_one_place_more_and_gaps_stay_empty():
    table = read_series(b"a,b\n1,1.5\n2,\n,\n,\n6,2.5\n7,3.5\n", max_gap=1)
    out = to_csv_bytes(table, {"b": np.array([1.0, 1.25, 1.5, np.nan, 2.0, 3.04])}).decode()
    assert out == "a,b,b_denoised\n1,1.5,1.0\n2,,1.25\n,,1.5\n,,\n6,2.5,2.0\n7,3.5,3.04\n"
    table = read_series(b"a\n1.5\n2.5\n3.5\n")
    out = to_csv_bytes(table, {"a": np.array([1.234, 2.345, 3.456])}).decode()
    assert out == "a,a_denoised\n1.5,1.23\n2.5,2.35\n3.5,3.46\n"


def test_zone_aware_times_are_written_in_utc_with_z():
    table = read_series(b"time,a\n2020-01-01T00:00:00+01:00,1.5\n2020-01-01T00:00:01+01:00,2.5\n"
                        b"2020-01-01T00:00:02.5+01:00,3.5\n")
    assert to_csv_bytes(table, {}).decode() == (
        "time,a\n2019-12-31T23:00:00.000Z,1.5\n2019-12-31T23:00:01.000Z,2.5\n2019-12-31T23:00:02.500Z,3.5\n")
    naive = read_series(b"time,a\n2020-01-01 00:00:00,1\n2020-01-01 00:00:01,2\n2020-01-01 00:00:02,3\n")
    assert to_csv_bytes(naive, {}).decode() == (
        "time,a\n2020-01-01T00:00:00,1\n2020-01-01T00:00:01,2\n2020-01-01T00:00:02,3\n")


def test_a_nameless_first_column_is_a_time_axis_when_it_counts_up_evenly_for_16_rows():
    rows = "".join(f"{i * 0.5},{i % 3}\n" for i in range(16)).encode()
    table = read_series(rows)
    assert (table.report.time_column, table.report.time_kind, table.report.columns) == ("col1", "seconds", ["col2"])
    assert table.time.tolist()[:3] == [0.0, 0.5, 1.0]
    short = "".join(f"{i * 0.5},{i % 3}\n" for i in range(15)).encode()
    assert read_series(short).report.time_column is None          # 15 rows: maybe a signal
    assert read_series(b"1,5\n2,3\n3,4\n").report.time_column == "col1"   # 1..n counts, however short


def test_a_point_time_column_in_a_decimal_comma_file_is_the_time():
    table = read_series(b"Zeit [s];a;b\n0.001;1,5;2,5\n0.002;2,5;3,5\n")
    assert (table.report.decimal, table.report.time_column, table.report.time_kind) == (",", "Zeit [s]", "seconds")
    assert table.time.tolist() == [0.001, 0.002] and table.column("a").tolist() == [1.5, 2.5]
    # not strictly increasing: not a time axis
    table = read_series(b"Zeit [s];a;b\n0.001;1,5;2,5\n0.001;2,5;3,5\n0.003;3,5;4,5\n")
    assert table.report.time_column is None and table.report.columns == ["Zeit [s]", "a", "b"]


def test_mixed_and_slashed_dates_are_parsed_cell_by_cell(monkeypatch):
    from denoiser.io import times
    table = read_series(b"date,a\n2020/01/02,1\n2020/01/03,2\n2020/01/04,3\n")
    assert [str(t) for t in table.time] == ["2020-01-02 00:00:00", "2020-01-03 00:00:00", "2020-01-04 00:00:00"]
    # day-first dates, some with a time of day: one format does not fit 90 %, so cell by cell
    table = read_series(b"date,a\n13/01/2020,1\n14/01/2020 10:00,2\n15/01/2020 11:30,3\n16/01/2020,4\n")
    assert [str(t) for t in table.time] == ["2020-01-13 00:00:00", "2020-01-14 10:00:00", "2020-01-15 11:30:00",
                                            "2020-01-16 00:00:00"]
    # ISO stamps with different offsets: all in UTC
    table = read_series(b"date,a\n2020-01-01T00:00:00+01:00,1\n2020-01-01T00:00:01+02:00,2\n2020-01-01T00:00:02+01:00,3\n")
    assert str(table.time.dtype) == "datetime64[us, UTC]"
    assert [str(t) for t in table.time] == ["2019-12-31 23:00:00+00:00", "2019-12-31 22:00:01+00:00",
                                            "2019-12-31 23:00:02+00:00"]
    # in chunks (between time-budget checks), joined in order
    monkeypatch.setattr(times, "_DATE_CHUNK", 2)
    table = read_series(b"date,a\n2020/01/02,1\n2020/01/03,2\n2020/01/04,3\n2020/01/05,4\n2020/01/06,5\n")
    assert [t.day for t in table.time] == [2, 3, 4, 5, 6] and table.time.index.tolist() == [0, 1, 2, 3, 4]


# ------------------------------------------------------------------ second pass over the survivors
def test_refusals_of_a_named_file_carry_its_name():
    assert refusal(named(b"a\n1\n" + b"2" * 30 + b"\n"), max_line_chars=20).startswith(
        "Line 3 of the file 'f.csv' is longer than 20 characters")
    row = ",".join(["1"] * 12).encode()
    assert refusal(named(row + b"\n" + row + b"\n"), max_columns=10).startswith(
        "The file 'f.csv' has 12 columns; at most 10 are supported.")


def test_a_stray_text_row_right_below_the_first_data_row():
    table = read_series(b"1,2\nx,y\n3,4\n5,6\n")
    assert table.report.rows == 4 and table.report.skipped_lines == 0
    assert table.column("col1").tolist() == [1.0, 2.0, 3.0, 5.0]


def test_13_as_the_largest_first_field_is_a_day():
    table = read_series(b"date,a\n13/01/2020,1\n13/02/2020,2\n13/03/2020,3\n")
    assert [(t.day, t.month) for t in table.time] == [(13, 1), (13, 2), (13, 3)]
    assert table.report.notes == []                         # not ambiguous


def test_an_extra_field_past_the_sniffed_sample_is_refused_by_line():
    data = b"a,b\n" + b"1,2\n" * 20_000 + b"3,4,5\n6,7\n"     # 80 KB: past the 64 KB sample
    assert refusal(named(data)) == (
        "Line 20,002 of the file 'f.csv' has 3 fields, but the table has 2 columns. Fix or remove that line "
        "(look for an extra delimiter or a stray quote) and try again.")


def test_a_date_column_is_combined_only_with_a_time_of_day_column():
    table = read_series(b"date,a\n2020-01-01,10\n2020-01-02,11\n2020-01-03,12\n")
    assert table.report.time_column == "date" and table.report.columns == ["a"] and table.report.notes == []
    assert [t.hour for t in table.time] == [0, 0, 0]


def test_mixed_offsets_with_an_unreadable_stamp_keep_the_others():
    rows = b"".join(f"2020-01-01T00:00:0{i}+0{1 + i % 2}:00,{i}\n".encode() for i in range(9)) + b"bad,9\n"
    table = read_series(b"date,a\n" + rows)
    assert table.report.time_column == "date" and table.report.rows == 10
    assert str(table.time.iloc[1]) == "2019-12-31 22:00:01+00:00" and table.time.isna().tolist() == [False] * 9 + [True]


def test_negative_integers_are_written_as_integers():
    table = read_series(b"a,b\n-3,1.5\n-2,2.5\n0,3.5\n-17,4.5\n")
    assert to_csv_bytes(table, {}).decode() == "a,b\n-3,1.5\n-2,2.5\n0,3.5\n-17,4.5\n"
    assert to_csv_bytes(table, {"a": np.array([-3.04, -2.0, 0.0, -17.0])}).decode().split("\n")[1] == "-3,1.5,-3.0"


@pytest.mark.parametrize("error, expected", [
    (RecursionError(), "The file 'f.csv' is structured too deeply to be read as a table. "
                       "Check that it is a plain-text CSV file."),
    (pd.errors.ParserError("Expected 2 fields in line 5, saw 3"),
     "Line 5 of the file 'f.csv' has 3 fields, but the table has 2 columns. Fix or remove that line "
     "(look for an extra delimiter or a stray quote) and try again."),
    (ValueError("  short reason  "), "The file 'f.csv' could not be read as a table of numbers (short reason). "
                                     "Check that it is a plain-text CSV file with one row per line."),
    (ValueError("x" * 200), "The file 'f.csv' could not be read as a table of numbers (" + "x" * 119 + "…). "
                            "Check that it is a plain-text CSV file with one row per line."),
])
def test_a_failure_inside_the_reader_is_an_input_error_with_a_short_reason(monkeypatch, error, expected):
    from denoiser.io import reader

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(reader, "read_text_table", fail)
    assert refusal(named(b"a\n1\n2\n")) == expected
    assert guards.BUDGET.deadline is None                   # the budget is cleared however the read ends


def test_unreadable_time_stamps_are_counted_in_singular_and_plural():
    rows = ["time,v"] + [f"2024-01-{d:02d} 10:00:00,{d}.5" for d in range(1, 21)]
    rows[5] = "notadate,4.5"
    assert read_notes("\n".join(rows).encode()) == ["1 time stamp in 'time' could not be read and was left empty."]
    rows[7] = "alsobad,6.5"
    assert read_notes("\n".join(rows).encode()) == ["2 time stamps in 'time' could not be read and were left empty."]
