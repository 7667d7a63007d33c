"""What the CSV reader returns and says: the value columns (text and empty ones left out), gaps
filled or kept, bad, absurd and infinite cells as gaps, the report and its notes word for word, the
files it refuses for holding nothing to denoise, and that random input never crashes it.

Fast and TensorFlow-free: mutation testing (docs/TESTING.md) runs them against every mutant of denoiser/io.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from denoiser.errors import InputError
from denoiser.io import (
    ReadReport,
    SeriesTable,
    guards,
    read_series,
)
from denoiser.io._common import counted, the_file
from tests.support import (
    DATA,
    named,
    raises_input_error,
    read,
    read_notes,
    refusal,
    values,
)


# ------------------------------------------------------------------ value columns
def test_several_channels_and_text_column_dropped() -> None:
    table = read("channels.csv")
    assert table.report.columns == ["ch1", "ch2", "ch3"]
    assert values(table, "ch3") == [100.0, 200.0, 300.0]
    assert all(dtype == np.float64 for dtype in table.values.dtypes)
    assert any("'status'" in note for note in table.report.notes)


def test_left_out_columns_are_noted_in_singular_and_plural():
    assert read_notes(b"a,b,c\n1,x,\n2,y,\n3,z,\n") == [
        "Left out the text column 'b', because only numbers can be denoised.",
        "Left out the empty column 'c', because no cell holds a finite number.",
    ]
    assert read_notes(b"a,b,c,d,e\n1,x,p,,\n2,y,q,,\n3,z,r,,\n") == [
        "Left out the text columns 'b', 'c', because only numbers can be denoised.",
        "Left out the empty columns 'd', 'e', because no cell holds a finite number.",
    ]


def test_column_lookup_names_available_columns() -> None:
    table = read("channels.csv")
    assert table.column("ch1").dtype == np.float64
    with pytest.raises(InputError, match="ch1.*ch2.*ch3"):
        table.column("nope")


def test_a_missing_column_lists_the_ones_there():
    table = SeriesTable(
        pd.DataFrame({"a": [1, 2], "b b": [3.5, 4.0]}),
        None,
        ReadReport(2, ["a", "b b"], ",", ".", "utf-8", True, 0, None, None),
    )
    col = table.column("a")
    assert col.dtype == np.float64 and col.tolist() == [1.0, 2.0]
    col = table.column("b b")
    col[0] = 9.0
    assert table.values["b b"].iloc[0] == 3.5  # a copy, not a view of the table
    with pytest.raises(InputError) as err:
        table.column("c")
    assert str(err.value) == "There is no value column named 'c'. Choose one of: 'a', 'b b'."


# ------------------------------------------------------------------ gaps and bad cells
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
    assert any("'pressure' has 1 gap longer than 3 values (10 values in all)" in note for note in table.report.notes)


def test_gap_of_exactly_max_gap_is_filled() -> None:
    table = read("gaps.csv")  # the run of 10 in 'pressure' equals MAX_GAP
    assert table.column("pressure")[6:16].tolist() == [float(v) for v in range(106, 116)]


def test_max_gap_zero_fills_nothing() -> None:
    table = read("gaps.csv", max_gap=0)
    assert table.report.filled == {"temp": 0, "pressure": 0}


def test_edge_gaps_are_noted_with_counts_and_the_column():
    tail = "left as missing (NaN), because values before the first or after the last measurement are not extrapolated."
    assert read_notes(b"a,b\n,1\n,2\n3,3\n4,4\n5,5\n,6\n") == [
        f"'a' has 2 missing values at the start and 1 at the end; they were {tail}"
    ]
    assert read_notes(b"a,b\n,1\n3,3\n4,4\n5,5\n,6\n,7\n") == [
        f"'a' has 1 missing value at the start and 2 at the end; they were {tail}"
    ]
    assert read_notes(b"a,b\n3,3\n4,4\n5,5\n,6\n") == [f"'a' has 1 missing value at the end; it was {tail}"]
    assert read_notes(b"a,b\n3,3\n4,4\n5,5\n,6\n,7\n") == [f"'a' has 2 missing values at the end; they were {tail}"]


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
    table = read_series(("t,y\n" + "\n".join(f"{i},{c}" for i, c in enumerate(cells)) + "\n").encode(), max_gap=0)
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


def test_cells_set_to_missing_are_counted_in_singular_and_plural():
    gap1, gaps2 = (
        "Filled 1 short gap (1 value) in 'a' by linear interpolation.",
        "Filled 2 short gaps (2 values) in 'a' by linear interpolation.",
    )
    assert read_notes(b"a\n1\nx\n3\n4\n5\n") == [
        "1 cell in 'a' did not contain a number and was treated as missing.",
        gap1,
    ]
    assert read_notes(b"a\n1\n2\nx\n3\ny\n5\n6\n7\n") == [
        "2 cells in 'a' did not contain a number and were treated as missing.",
        gaps2,
    ]
    assert read_notes(b"a\n1\ninf\n3\n4\n5\n") == ["1 infinite value (inf/-inf) in 'a' was treated as missing.", gap1]
    assert read_notes(b"a\n1\ninf\n3\n-inf\n5\n") == [
        "2 infinite values (inf/-inf) in 'a' were treated as missing.",
        gaps2,
    ]
    absurd = (
        "in 'a' (more than 1e+15 times the column's typical spread from its median, e.g. 1e308) {} treated as missing."
    )
    # 1e20 is absurd only against the column's robust spread (1.4826 * MAD), not by its size alone
    assert read_notes(b"a\n1\n2\n1e20\n3\n4\n5\n6\n") == ["1 absurd value " + absurd.format("was"), gap1]
    assert read_notes(b"a\n1\n1e300\n3\n1e301\n5\n6\n7\n") == ["2 absurd values " + absurd.format("were"), gaps2]


def test_missing_tokens_in_any_case_are_gaps_not_text():
    table = read_series(b"a\n1\nNa\n3\n<na>\n5\n")
    assert table.report.missing == {"a": 2}
    assert table.report.notes == ["Filled 2 short gaps (2 values) in 'a' by linear interpolation."]


# ------------------------------------------------------------------ the report
def test_summary_is_plain_text() -> None:
    table = read("gaps.csv")
    text = table.report.summary()
    assert "Read 18 rows" in text and "'temp'" in text and "Time column: 't'" in text
    assert isinstance(table.report, ReadReport)


def test_report_summary_word_for_word():
    r = ReadReport(
        rows=1234,
        columns=["a"],
        delimiter=";",
        decimal=",",
        encoding="utf-8",
        header=True,
        skipped_lines=1,
        time_column="t",
        time_kind="datetime",
        missing={"a": 1200, "b": 0},
        filled={"a": 1100},
        notes=["A note."],
    )
    assert r.summary().split("\n") == [
        "Read 1,234 rows and 1 value column: 'a'.",
        "Format: semicolon-separated, decimal comma, utf-8 encoding, with a header row; skipped 1 metadata line.",
        "Time column: 't' (date and time).",
        "Missing values: 'a': 1,200 (1,100 filled).",
        "A note.",
    ]
    r = ReadReport(
        rows=20,
        columns=["a", "b"],
        delimiter="|",
        decimal=".",
        encoding="cp1252",
        header=False,
        skipped_lines=2,
        time_column="t",
        time_kind="seconds",
        missing={"a": 3, "b": 2},
        filled={"b": 2},
    )
    assert r.summary().split("\n") == [
        "Read 20 rows and 2 value columns: 'a', 'b'.",
        "Format: '|'-separated, decimal point, cp1252 encoding, without a header row; skipped 2 metadata lines.",
        "Time column: 't' (numeric, increasing).",
        "Missing values: 'a': 3 (0 filled); 'b': 2 (2 filled).",
    ]
    r = ReadReport(
        rows=5,
        columns=[],
        delimiter="\t",
        decimal=".",
        encoding="utf-16",
        header=False,
        skipped_lines=0,
        time_column=None,
        time_kind=None,
        missing={"a": 0},
    )
    assert r.summary() == (
        "Read 5 rows and 0 value columns: .\n"
        "Format: tab-separated, decimal point, utf-16 encoding, without a header row."
    )
    r = ReadReport(
        rows=1,
        columns=["a"],
        delimiter=",",
        decimal=".",
        encoding="utf-8",
        header=True,
        skipped_lines=0,
        time_column=None,
        time_kind=None,
    )
    assert r.summary().split("\n")[0] == "Read 1 row and 1 value column: 'a'."  # not "1 rows"


def test_counts_and_file_names_read_as_sentences():
    assert counted(1, "value") == "1 value"
    assert counted(0, "value") == "0 values"
    assert counted(2_500, "line") == "2,500 lines"
    assert counted(2, "entry", "entries") == "2 entries"
    assert counted(1, "entry", "entries") == "1 entry"
    assert the_file("a.csv") == "The file 'a.csv'"
    assert the_file("a.csv", False) == "the file 'a.csv'"
    assert the_file(None) == "The file" and the_file("", False) == "the file"


# ------------------------------------------------------------------ files with nothing to denoise
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


def test_no_value_column_refusals_name_the_columns_and_the_file():
    assert refusal(named(b"t,a,b\n1,x,p\n2,y,q\n3,z,r\n")) == (
        "The file 'f.csv' has no numeric value column: 'a', 'b' contain text, not numbers. "
        "Choose a CSV file with at least one column of numbers."
    )
    assert refusal(named(b"t,a\n1,x\n2,y\n3,z\n")) == (
        "The file 'f.csv' has no numeric value column: 'a' contains text, not numbers. "
        "Choose a CSV file with at least one column of numbers."
    )
    assert refusal(named(b"t,a,b\n1,,\n2,,\n3,,\n")) == (
        "Every cell in columns 'a', 'b' of the file 'f.csv' is empty or NaN, so there is nothing to denoise. "
        "Choose a file whose columns contain measurements."
    )
    assert refusal(named(b"t,a\n1,\n2,\n3,\n")).startswith("Every cell in column 'a' of the file 'f.csv' is empty")
    assert refusal(named(b"time\n0\n1\n2\n")) == (
        "The file 'f.csv' has a time column ('time') but no column of measurements. "
        "Choose a file with at least one column of numbers next to the time."
    )
    assert refusal(named(b"a\n1\n")) == (
        "The file 'f.csv' has only 1 data row, but denoising needs at least 2 rows. Choose a file with more measurements."
    )
    assert refusal(named(b"a\n")) == (
        "The file 'f.csv' has a header ('a') but no data rows. Add at least 2 rows of numbers below the header."
    )


def test_files_without_a_table_say_what_they_hold():
    choose = "Choose a CSV file with at least one column of numbers."
    assert refusal(b"# comment\n\n# more\n") == f"The file contains no table, only comments or blank lines. {choose}"
    assert refusal(b"a,b\nx,p\ny,q\nz,r\n") == f"The file contains only text and no numbers. {choose}"
    assert refusal(named(b"text line\n" * 8000)) == (
        "The file 'f.csv' has no rows of numbers in its first 64 KB. "
        "Remove the long text at the top or choose the file with the measured values."
    )
    assert refusal(b"a,b\n,\nNA,nan\n") == (
        "Every value in the file is empty or NaN, so there is nothing to denoise. "
        "Choose a file whose columns contain measurements."
    )


def test_input_error_is_a_value_error() -> None:
    assert issubclass(InputError, ValueError)


@pytest.mark.parametrize(
    "error, expected",
    [
        (
            RecursionError(),
            "The file 'f.csv' is structured too deeply to be read as a table. Check that it is a plain-text CSV file.",
        ),
        (
            pd.errors.ParserError("Expected 2 fields in line 5, saw 3"),
            "Line 5 of the file 'f.csv' has 3 fields, but the table has 2 columns. Fix or remove that line "
            "(look for an extra delimiter or a stray quote) and try again.",
        ),
        (
            ValueError("  short reason  "),
            "The file 'f.csv' could not be read as a table of numbers (short reason). "
            "Check that it is a plain-text CSV file with one row per line.",
        ),
        (
            ValueError("x" * 200),
            "The file 'f.csv' could not be read as a table of numbers (" + "x" * 119 + "…). "
            "Check that it is a plain-text CSV file with one row per line.",
        ),
    ],
)
def test_a_failure_inside_the_reader_is_an_input_error_with_a_short_reason(monkeypatch, error, expected):
    from denoiser.io import delimited

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(delimited, "read_text_table", fail)
    assert refusal(named(b"a\n1\n2\n")) == expected
    assert guards.BUDGET.deadline is None  # the budget is cleared however the read ends


# ------------------------------------------------------------------ random input never crashes
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
