"""What every format reader shares: the limits, the part choice and the table built the CSV reader's way.

A reader turns its file into a `pandas.DataFrame` of columns (and, where the file says so, a
time axis in seconds) and hands it to `table_from_frame`, which runs the CSV reader's own
stages on it: time-column detection, text and empty columns left out, absurd values and
infinities as gaps, short gaps filled. So a column of an Excel sheet, a Parquet file or a
TDMS group is judged exactly as the same column of a CSV.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from denoiser import text
from denoiser.errors import InputError
from denoiser.io._common import counted, the_file
from denoiser.io.dialect import Layout, column_names
from denoiser.io.encoding import Encoding
from denoiser.io.guards import tick
from denoiser.io.table import SeriesTable
from denoiser.io.values import build_table
from denoiser.text import cut

# Values of all columns together that a binary file may make: 200 MB as float64, the byte limit of
# a CSV. Checked from a file's metadata (declared shapes, record counts) before anything is read.
MAX_VALUES: int = 25_000_000
MAX_PARTS: int = 1000  # sheets, groups, datasets, variables: a longer list is not a recording
MAX_NAME_CHARS: int = 200  # names from a file's metadata are cut to this (a header can hold megabytes)
TIME_NAME = "time [s]"  # the time axis a format defines (rate, wf_increment): a time word, so it is the axis


@dataclass(frozen=True)
class Limits:
    """What one read may use (read_series' arguments)."""

    max_columns: int
    max_gap: int
    max_values: int = MAX_VALUES


def listed(names: Sequence[str], limit: int = 8) -> str:
    """'a', 'b' and 3 more: at most ``limit`` names (60 characters each) for a message or a note."""
    return text.listed(names, 60, most=limit)


def check_values(count: int, limits: Limits, name: str | None, what: str) -> None:
    """Refuse a declared size before anything is allocated for it.

    Parameters
    ----------
    count : int
        Values the file declares (rows times columns, records times samples...).
    what : str
        What declared it, for the message ("declares 10^9 data records of 2 signals").
    """
    if count > limits.max_values:
        raise InputError(
            f"{the_file(name)} {what}: {count:,} values, more than the limit of {limits.max_values:,}. "
            "Export a shorter stretch or fewer channels, or check that the file is not damaged."
        )


def check_columns(width: int, limits: Limits, name: str | None) -> None:
    """Refuse a file of more channels or columns than ``limits.max_columns``, before any is read."""
    if width > limits.max_columns:
        raise InputError(
            f"{the_file(name)} has {width:,} channels or columns; at most {limits.max_columns:,} are "
            "supported. Export fewer channels, then try again."
        )


def choose_part(parts: Sequence[str], part: str | None, name: str | None, kind: str) -> str:
    """The part to read: ``part`` if given (it must exist), else the first.

    Parameters
    ----------
    parts : sequence of str
        Usable parts in file order (sheets, groups, datasets, variables, rate groups).
    kind : str
        What a part is called, singular ("sheet").
    """
    if not parts:
        raise InputError(
            f"{the_file(name)} has no {kind} with a column of numbers. "
            "Check that you chose the right file, or export the signal as CSV."
        )
    if len(parts) > MAX_PARTS:
        raise InputError(
            f"{the_file(name)} has {len(parts):,} {kind}s; at most {MAX_PARTS:,} are supported. "
            "Export the one you need on its own."
        )
    if part is None:
        return parts[0]
    if part not in parts:
        raise InputError(f"{the_file(name)} has no {kind} named {cut(part, 80)!r}. Choose one of: {listed(parts)}.")
    return part


def parts_note(parts: Sequence[str], chosen: str, kind: str) -> list[str]:
    """A note naming the other parts, when there are any (the app offers them as a choice)."""
    others = [p for p in parts if p != chosen]
    if not others:
        return []
    return [
        f"This file has {counted(len(parts), kind)}; read {cut(chosen, 80)!r}. "
        f"The other {'one is' if len(others) == 1 else 'ones are'} {listed(others)}: "
        f"choose one with part=NAME (command line: --part NAME)."
    ]


def unique_names(names: Sequence[object]) -> list[str]:
    """Column names as one line of text each, cut, empty ones invented, duplicates numbered (as the CSV's)."""
    return column_names([cut(n, MAX_NAME_CHARS) for n in names], len(names))[0]


def table_from_frame(
    frame: pd.DataFrame,
    name: str | None,
    limits: Limits,
    *,
    fmt: str,
    details: str,
    header: bool = True,
    rates: dict[str, float] | None = None,
    units: dict[str, str] | None = None,
    parts: Sequence[str] = (),
    part: str | None = None,
    notes: Sequence[str] = (),
    origin: Any = None,
) -> SeriesTable:
    """Build the table from a frame of columns the CSV reader's way, and say which format it came from.

    Parameters
    ----------
    frame : pandas.DataFrame, shape (rows, columns)
        Columns in file order, named uniquely (`unique_names`); numbers, text or datetimes.
        A column named `TIME_NAME` holding seconds is the time axis.
    fmt, details : str
        The registry key ("wav") and one phrase for the report ("WAV audio, 16-bit PCM").
    header : bool
        Whether the names came from the file.
    rates, units : dict of str to float / str
        Sample rate (Hz) and physical unit per column, where the file says.
    parts, part : sequence of str, str
        The file's usable parts and the one read.
    notes : sequence of str
        Notes of the format reader, before those of the table.
    origin : object
        What a writer of the same format needs to write the file back alike (kept on the table).

    Returns
    -------
    SeriesTable
    """
    check_columns(frame.shape[1], limits, name)
    tick("reading the file")
    notes = list(notes)
    complex_cols = [c for c in frame.columns if np.iscomplexobj(frame[c].to_numpy())]
    if complex_cols:  # a denoiser works on real series: keep the real part and say so
        frame = frame.assign(**{str(c): np.real(frame[c].to_numpy()) for c in complex_cols})
        notes.append(
            f"Kept the real part of the complex {'column' if len(complex_cols) == 1 else 'columns'} "
            f"{listed([str(c) for c in complex_cols])}; the imaginary part was left out."
        )
    names = [str(c) for c in frame.columns]
    layout = Layout(
        delimiter="",
        decimal=".",
        names=names,
        header=header,
        raw_header=names if header else [""] * len(names),
        data_line=0,
        skipped=0,
        score=(),
        notes=list(notes),
    )
    frame = frame.reset_index(drop=True)
    table = build_table(frame, layout, Encoding("binary", "", 0, 1), limits.max_gap, name)
    kept = set(table.values.columns)
    report = dataclasses.replace(
        table.report,
        format=fmt,
        details=details,
        rates={c: float(r) for c, r in (rates or {}).items() if c in kept},
        units={c: u for c, u in (units or {}).items() if c in kept and u},
        parts=list(parts),
        part=part,
    )
    return SeriesTable(values=table.values, time=table.time, report=report, origin=origin)


def seconds(n: int, rate: float, start: float = 0.0) -> np.ndarray:
    """The time axis of ``n`` samples at ``rate`` Hz from ``start`` seconds: float64, shape (n,)."""
    return start + np.arange(n, dtype=np.float64) / rate


def article(label: str) -> str:
    """'an Excel workbook', 'an HDF5 file', 'a WAV audio file'."""
    return f"{'an' if label[:1] in 'AEIOH' else 'a'} {label}"


def bad_file(name: str | None, what: str, reason: object, todo: str) -> InputError:
    """'The file 'x.edf' looks like an EDF file but could not be read (reason). todo' on one line."""
    text = cut(reason, 120)
    return InputError(f"{the_file(name)} looks like {what} but could not be read ({text}). {todo}")
