"""The time axis the CSV reader finds: seconds and sample-index columns, nameless, headerless and
yearly axes, date-times in their spellings (day or month first, fractional seconds, offsets, slashes,
a date column and a time-of-day column combined), parsed in chunks, and the notes it leaves.

Fast and TensorFlow-free: mutation testing (docs/TESTING.md) runs them against every mutant of denoiser/io.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from denoiser.io import (
    read_series,
)
from tests.support import (
    read,
    read_notes,
)


# ------------------------------------------------------------------ which column is the axis
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


def test_nameless_first_column_with_row_numbers_is_the_index() -> None:
    table = read_series(b",a\n0,1.5\n1,2.5\n2,3.5\n")
    assert table.report.time_column == "col1"
    assert table.report.columns == ["a"]


def test_a_nameless_first_column_is_a_time_axis_when_it_counts_up_evenly_for_16_rows():
    rows = "".join(f"{i * 0.5},{i % 3}\n" for i in range(16)).encode()
    table = read_series(rows)
    assert (table.report.time_column, table.report.time_kind, table.report.columns) == ("col1", "seconds", ["col2"])
    assert table.time.tolist()[:3] == [0.0, 0.5, 1.0]
    short = "".join(f"{i * 0.5},{i % 3}\n" for i in range(15)).encode()
    assert read_series(short).report.time_column is None  # 15 rows: maybe a signal
    assert read_series(b"1,5\n2,3\n3,4\n").report.time_column == "col1"  # 1..n counts, however short


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
    lines = [
        f"{i * 0.001:.3f};" + f"{v:.4f}".replace(".", ",") + ";" + f"{2 * v:.4f}".replace(".", ",")
        for i, v in enumerate(y)
    ]
    table = read_series(("Zeit [s];Spannung [V];Strom [A]\n" + "\n".join(lines) + "\n").encode())
    assert table.report.decimal == ","
    assert table.report.time_column == "Zeit [s]"
    assert list(table.values.columns) == ["Spannung [V]", "Strom [A]"]
    assert table.time.iloc[1] == pytest.approx(0.001)
    assert table.column("Spannung [V]")[0] == pytest.approx(round(y[0], 4))


def test_a_point_time_column_in_a_decimal_comma_file_is_the_time():
    table = read_series(b"Zeit [s];a;b\n0.001;1,5;2,5\n0.002;2,5;3,5\n")
    assert (table.report.decimal, table.report.time_column, table.report.time_kind) == (",", "Zeit [s]", "seconds")
    assert table.time.tolist() == [0.001, 0.002] and table.column("a").tolist() == [1.5, 2.5]
    # not strictly increasing: not a time axis
    table = read_series(b"Zeit [s];a;b\n0.001;1,5;2,5\n0.001;2,5;3,5\n0.003;3,5;4,5\n")
    assert table.report.time_column is None and table.report.columns == ["Zeit [s]", "a", "b"]


@pytest.mark.parametrize("name", ["year", "Jahr", "Year (CE)"])
def test_a_yearly_series_uses_the_year_as_its_axis(name: str) -> None:
    y = 280 + 10 * _noisy_rows(120)
    text = f"{name},CO2 [ppm]\n" + "\n".join(f"{1900 + i},{v:.2f}" for i, v in enumerate(y)) + "\n"
    table = read_series(text.encode())
    assert table.report.time_column == name
    assert list(table.values.columns) == ["CO2 [ppm]"]


# ------------------------------------------------------------------ dates and times of day
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
    assert (
        read_series(b"date,a\n12/01/2020,1\n11/01/2020,2\n10/01/2020,3\n")
        .report.notes[0]
        .startswith("Dates such as 01/02/2024 are ambiguous")
    )


def test_13_as_the_largest_first_field_is_a_day():
    table = read_series(b"date,a\n13/01/2020,1\n13/02/2020,2\n13/03/2020,3\n")
    assert [(t.day, t.month) for t in table.time] == [(13, 1), (13, 2), (13, 3)]
    assert table.report.notes == []  # not ambiguous


def test_day_first_dates_keep_fractional_seconds():
    table = read_series(b"date,a\n13/01/2020 10:00:00.5,1\n13/01/2020 10:00:01.5,2\n13/01/2020 10:00:02.5,3\n")
    assert [t.microsecond for t in table.time] == [500_000] * 3 and [t.second for t in table.time] == [0, 1, 2]


def test_date_and_time_of_day_columns_are_combined() -> None:
    table = read_series(b"Date;Time;Value\n31.01.2024;12:00:00;1,5\n31.01.2024;12:00:01;2,5\n")
    assert table.report.time_column == "Date Time"
    assert list(table.time) == [pd.Timestamp("2024-01-31 12:00:00"), pd.Timestamp("2024-01-31 12:00:01")]  # type: ignore[arg-type]
    assert table.report.columns == ["Value"]


def test_a_date_column_is_combined_only_with_a_time_of_day_column():
    table = read_series(b"date,a\n2020-01-01,10\n2020-01-02,11\n2020-01-03,12\n")
    assert table.report.time_column == "date" and table.report.columns == ["a"] and table.report.notes == []
    assert [t.hour for t in table.time] == [0, 0, 0]


def test_mixed_and_slashed_dates_are_parsed_cell_by_cell(monkeypatch):
    from denoiser.io import times

    table = read_series(b"date,a\n2020/01/02,1\n2020/01/03,2\n2020/01/04,3\n")
    assert [str(t) for t in table.time] == ["2020-01-02 00:00:00", "2020-01-03 00:00:00", "2020-01-04 00:00:00"]
    # day-first dates, some with a time of day: one format does not fit 90 %, so cell by cell
    table = read_series(b"date,a\n13/01/2020,1\n14/01/2020 10:00,2\n15/01/2020 11:30,3\n16/01/2020,4\n")
    assert [str(t) for t in table.time] == [
        "2020-01-13 00:00:00",
        "2020-01-14 10:00:00",
        "2020-01-15 11:30:00",
        "2020-01-16 00:00:00",
    ]
    # ISO stamps with different offsets: all in UTC
    table = read_series(
        b"date,a\n2020-01-01T00:00:00+01:00,1\n2020-01-01T00:00:01+02:00,2\n2020-01-01T00:00:02+01:00,3\n"
    )
    assert str(table.time.dtype) == "datetime64[us, UTC]"
    assert [str(t) for t in table.time] == [
        "2019-12-31 23:00:00+00:00",
        "2019-12-31 22:00:01+00:00",
        "2019-12-31 23:00:02+00:00",
    ]
    # in chunks (between time-budget checks), joined in order
    monkeypatch.setattr(times, "_DATE_CHUNK", 2)
    table = read_series(b"date,a\n2020/01/02,1\n2020/01/03,2\n2020/01/04,3\n2020/01/05,4\n2020/01/06,5\n")
    assert [t.day for t in table.time] == [2, 3, 4, 5, 6] and table.time.index.tolist() == [0, 1, 2, 3, 4]


def test_dates_parsed_in_chunks_equal_one_pass(monkeypatch) -> None:
    from denoiser.io import times as dio  # the module that reads the chunk size and calls tick

    data = ("t,v\n" + "\n".join(f"2024/01/{1 + i % 28:02d} 12:{i % 60:02d}:00,{i}" for i in range(250))).encode()
    whole = read_series(data).time
    monkeypatch.setattr(dio, "_DATE_CHUNK", 40)
    calls = []
    real_tick = dio.tick
    monkeypatch.setattr(dio, "tick", lambda stage: (calls.append(stage), real_tick(stage)))
    chunked = read_series(data).time
    assert calls.count("reading time stamps") == 7  # 250 rows in chunks of 40: the budget is checked between
    assert whole.equals(chunked)


def test_mixed_offsets_with_an_unreadable_stamp_keep_the_others():
    rows = b"".join(f"2020-01-01T00:00:0{i}+0{1 + i % 2}:00,{i}\n".encode() for i in range(9)) + b"bad,9\n"
    table = read_series(b"date,a\n" + rows)
    assert table.report.time_column == "date" and table.report.rows == 10
    assert str(table.time.iloc[1]) == "2019-12-31 22:00:01+00:00" and table.time.isna().tolist() == [False] * 9 + [True]


def test_unreadable_time_stamps_are_counted_in_singular_and_plural():
    rows = ["time,v"] + [f"2024-01-{d:02d} 10:00:00,{d}.5" for d in range(1, 21)]
    rows[5] = "notadate,4.5"
    assert read_notes("\n".join(rows).encode()) == ["1 time stamp in 'time' could not be read and was left empty."]
    rows[7] = "alsobad,6.5"
    assert read_notes("\n".join(rows).encode()) == ["2 time stamps in 'time' could not be read and were left empty."]
