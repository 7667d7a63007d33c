"""The CSV writer (``to_csv_bytes``, ``write_series``): round trips, each column's precision kept (a
denoised one a place finer), the cells byte for byte as pandas would write them, times in ISO form,
and formula-like header names made inert.

Fast and TensorFlow-free: mutation testing (docs/TESTING.md) runs them against every mutant of denoiser/io. (The one test of
crafted files is not among them: its fixture builds a model file with TensorFlow.)
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from denoiser.errors import InputError
from denoiser.io import (
    SeriesTable,
    decimals,
    read_series,
    significant,
    to_csv_bytes,
    write_series,
)
from denoiser.io.writer import _at_decimals
from tests.support import (
    read,
    values,
)


# ------------------------------------------------------------------ round trips
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


def test_write_rejects_mismatched_denoised_length() -> None:
    table = read("comma_header.csv")
    with pytest.raises(InputError, match="4 rows"):
        to_csv_bytes(table, {"value": np.zeros(3)})


def test_zone_aware_times_are_written_in_utc_with_z():
    table = read_series(
        b"time,a\n2020-01-01T00:00:00+01:00,1.5\n2020-01-01T00:00:01+01:00,2.5\n2020-01-01T00:00:02.5+01:00,3.5\n"
    )
    assert to_csv_bytes(table, {}).decode() == (
        "time,a\n2019-12-31T23:00:00.000Z,1.5\n2019-12-31T23:00:01.000Z,2.5\n2019-12-31T23:00:02.500Z,3.5\n"
    )
    naive = read_series(b"time,a\n2020-01-01 00:00:00,1\n2020-01-01 00:00:01,2\n2020-01-01 00:00:02,3\n")
    assert to_csv_bytes(naive, {}).decode() == (
        "time,a\n2020-01-01T00:00:00,1\n2020-01-01T00:00:01,2\n2020-01-01T00:00:02,3\n"
    )


# ------------------------------------------------------------------ precision
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


def test_written_precision_of_a_percent_g_writer_is_significant_digits() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=400) * 10.0 ** rng.integers(-4, 3, size=400)  # 0.000123457 and 123.457: 6 digits each
    table = read_series(("v\n" + "".join(f"{v:.6g}\n" for v in x)).encode())
    out = to_csv_bytes(table, {"v": table.column("v") * (1 + 3.3e-6)}).decode()
    back = read_series(out.encode())
    np.testing.assert_array_equal(back.column("v"), table.column("v"))
    digits = [
        len(c.lstrip("-").split("e")[0].replace(".", "").lstrip("0"))
        for c in (line.split(",")[1] for line in out.splitlines()[1:])
    ]
    assert max(digits) == 7  # denoised: one significant digit more than the input's 6


def test_written_csv_keeps_each_columns_precision():
    rows = "".join(
        f"{i * 0.5},{i * 0.001 - 0.002:.3f},{i * 7},{0.000123457 * (i + 1):.6g},{(i - 3) * 1e-5:.5f},{1e12 + i:.0f}\n"
        for i in range(6)
    )
    table = read_series(("t,a,b,c,d,e\n" + rows).encode())
    out = to_csv_bytes(table, {"a": np.linspace(0, 1, 6), "b": np.arange(6) * 7.01}).decode()
    assert out == (
        "t,a,b,c,d,e,a_denoised,b_denoised\n"
        "0.0,-0.002,0,0.000123457,-3e-05,1000000000000,0.0,0.0\n"
        "0.5,-0.001,7,0.000246914,-2e-05,1000000000001,0.2,7.0\n"
        "1.0,0.0,14,0.000370371,-1e-05,1000000000002,0.4,14.0\n"
        "1.5,0.001,21,0.000493828,0.0,1000000000003,0.6,21.0\n"
        "2.0,0.002,28,0.000617285,1e-05,1000000000004,0.8,28.0\n"
        "2.5,0.003,35,0.000740742,2e-05,1000000000005,1.0,35.0\n"
    )


def test_denoised_columns_get_one_place_more_and_gaps_stay_empty():
    table = read_series(b"a,b\n1,1.5\n2,\n,\n,\n6,2.5\n7,3.5\n", max_gap=1)
    out = to_csv_bytes(table, {"b": np.array([1.0, 1.25, 1.5, np.nan, 2.0, 3.04])}).decode()
    assert out == "a,b,b_denoised\n1,1.5,1.0\n2,,1.25\n,,1.5\n,,\n6,2.5,2.0\n7,3.5,3.04\n"
    table = read_series(b"a\n1.5\n2.5\n3.5\n")
    out = to_csv_bytes(table, {"a": np.array([1.234, 2.345, 3.456])}).decode()
    assert out == "a,a_denoised\n1.5,1.23\n2.5,2.35\n3.5,3.46\n"


@pytest.mark.parametrize(
    "cells, places",
    [(["1", "2"], 0), (["0.1", "0.25"], 2), (["1e-5", "2"], 5), (["-3.125", "nan"], 3), (["123456789012", "1"], 0)],
)
def test_decimals_finds_the_input_grid(cells: list[str], places: int) -> None:
    from denoiser.io import decimals

    assert decimals(np.array([float(c) for c in cells])) == places


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


def test_negative_integers_are_written_as_integers():
    table = read_series(b"a,b\n-3,1.5\n-2,2.5\n0,3.5\n-17,4.5\n")
    assert to_csv_bytes(table, {}).decode() == "a,b\n-3,1.5\n-2,2.5\n0,3.5\n-17,4.5\n"
    assert to_csv_bytes(table, {"a": np.array([-3.04, -2.0, 0.0, -17.0])}).decode().split("\n")[1] == "-3,1.5,-3.0"


# ------------------------------------------------------------------ cells, as pandas writes them
def _pandas_csv(table: SeriesTable, denoised: dict[str, np.ndarray]) -> bytes:
    """What the writer wrote before it formatted cells itself: pandas on the output frame."""
    from denoiser.io import output_frame

    return output_frame(table, denoised).to_csv(index=False, na_rep="", lineterminator="\n").encode()


def test_written_cells_are_pinned_on_tricky_values() -> None:
    # v has 4 places (and 5 significant digits, so it is not a %g column); denoised: 5 places.
    table = read_series(
        b"sample,v\n0,0.1250\n1,-2.5000\n2,3.0000\n3,0.0001\n4,7.7500\n5,1.0000\n6,100.0000\n7,1.2345\n"
    )
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
    assert out == b"v\n1.5\n" + b'""\n' * 12 + b"2.5\n3.5\n"
    assert out == _pandas_csv(table, {})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    places=st.integers(0, 9),
    digits=st.integers(1, 9),
    scale=st.integers(-6, 14),
    comma=st.booleans(),
)
def test_written_csv_is_byte_identical_to_pandas(seed: int, places: int, digits: int, scale: int, comma: bool) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    x = rng.normal(size=n) * 10.0**scale
    g = rng.normal(size=n) * 10.0 ** rng.integers(-9, 9, size=n)  # a %g column over 18 decades
    x[rng.integers(0, n, 20)] = np.nan  # short gaps (filled) and maybe a long one
    x[n // 2 : n // 2 + 12] = np.nan
    sep, point = (";", ",") if comma else (",", ".")
    rows = [
        f"{i}{sep}{'' if np.isnan(v) else f'{v:.{places}f}'}{sep}{w:.{digits}g}" for i, (v, w) in enumerate(zip(x, g))
    ]
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


# ------------------------------------------------------------------ formula-like header names
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


def test_full_width_formula_look_alikes_are_neutralised(hostile) -> None:
    folder, _ = hostile
    table = read_series(folder / "formula_fullwidth.csv")
    header = to_csv_bytes(table, {}).decode().split("\n")[0]
    cells = header.split(",")
    assert cells[0] == "t"
    assert all(c.startswith(("'", "\"'")) for c in cells[1:]), header
