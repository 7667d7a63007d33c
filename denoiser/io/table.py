"""What `read_series` returns: the table of signals and the report of how it was read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from denoiser.errors import InputError
from denoiser.io._common import counted
from denoiser.io.columns import signal_columns
from denoiser.io.dialect import DELIMITER_WORDS
from denoiser.text import listed, quoted

SUMMARY_NAMES = 8  # column names a summary line lists (then "and N more"): a line stays a few hundred characters
SUMMARY_NAME = 40  # characters of each of them
SUMMARY_NOTES = 12  # notes a summary prints (all are kept in ``notes``)


@dataclass
class ReadReport:
    """How `read_series` understood a file.

    Attributes
    ----------
    rows : int
        Data rows read.
    columns : list of str
        Numeric value columns, in file order.
    delimiter : str
        ``","``, ``";"``, ``"\\t"`` or ``" "`` (runs of whitespace).
    decimal : str
        ``"."`` or ``","``.
    encoding : str
        Detected text encoding, e.g. ``"utf-8"``, ``"utf-8-sig"``, ``"utf-16"``, ``"cp1252"``.
    header : bool
        True if the first table line was a header.
    skipped_lines : int
        Comment or metadata lines skipped before the table.
    time_column : str or None
        Name of the time/index column, if one was found.
    time_kind : {"datetime", "seconds"} or None
        ``"datetime"`` for timestamps, ``"seconds"`` for an increasing numeric column.
    missing : dict of str to int
        Empty, NaN, infinite or unparseable cells per value column, before filling.
    filled : dict of str to int
        Of those, how many were filled by linear interpolation.
    notes : list of str
        Full sentences for the user interface.
    format : str
        The registry key of the file's format (`denoiser.io.formats.FORMATS`): ``"csv"`` for
        CSV-like text, else e.g. ``"xlsx"``, ``"wav"``, ``"edf"``.
    details : str
        One phrase naming the format and its sample type, e.g. ``"WAV audio, 16-bit integer PCM"``
        (empty for CSV).
    rates : dict of str to float
        Sample rate in Hz per value column, where the file says.
    units : dict of str to str
        Physical unit per value column, where the file says (text from the file: show as text).
    parts : list of str
        The file's sheets, groups, datasets, variables or rate groups that can be read
        (``read_series(..., part=NAME)``); empty when it has one.
    part : str or None
        The part that was read.
    rows_left : int
        Rows not read because of ``read_series(max_samples=...)`` (about; 0 when all were read).
    codec : str
        The Python codec the text was decoded with (``"utf-16-le"``, ``"cp1252"``...; empty for
        binary formats): with ``bom``, what a write-back in the input's form encodes with.
    bom : bool
        The text started with a byte-order mark.
    newline : str
        The line end of the table's rows: ``"\n"``, ``"\r\n"`` or ``"\r"``.
    """

    rows: int
    columns: list[str]
    delimiter: str
    decimal: str
    encoding: str
    header: bool
    skipped_lines: int
    time_column: str | None
    time_kind: str | None
    missing: dict[str, int] = field(default_factory=dict)
    filled: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    format: str = "csv"
    details: str = ""
    rates: dict[str, float] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    parts: list[str] = field(default_factory=list)
    part: str | None = None
    rows_left: int = 0
    codec: str = ""
    bom: bool = False
    newline: str = "\n"

    def summary(self) -> str:
        """Return a few lines of plain text describing the file.

        Returns
        -------
        str
            Newline-separated sentences for a CLI or a UI.
        """
        names = listed(self.columns, SUMMARY_NAME, SUMMARY_NAMES)  # names from the file: a few, cut
        lines = [f"Read {counted(self.rows, 'row')} and {counted(len(self.columns), 'value column')}: {names}."]
        if self.format != "csv":
            lines.extend(self._format_lines())
        else:
            lines.append(
                f"Format: {DELIMITER_WORDS.get(self.delimiter, repr(self.delimiter))}-separated, "
                f"decimal {'comma' if self.decimal == ',' else 'point'}, {self.encoding} encoding, "
                f"{'with' if self.header else 'without'} a header row"
                + (f"; skipped {counted(self.skipped_lines, 'metadata line')}." if self.skipped_lines else ".")
            )
        if self.time_column is not None:
            kind = "date and time" if self.time_kind == "datetime" else "numeric, increasing"
            lines.append(f"Time column: {quoted(self.time_column)} ({kind}).")
        gaps = [
            f"{quoted(c, SUMMARY_NAME)}: {n:,} ({self.filled.get(c, 0):,} filled)" for c, n in self.missing.items() if n
        ]
        if gaps:
            more = f"; and {len(gaps) - SUMMARY_NAMES:,} more columns" if len(gaps) > SUMMARY_NAMES else ""
            lines.append("Missing values: " + "; ".join(gaps[:SUMMARY_NAMES]) + more + ".")
        lines.extend(self.notes[:SUMMARY_NOTES])
        if len(self.notes) > SUMMARY_NOTES:
            lines.append(f"... and {len(self.notes) - SUMMARY_NOTES:,} more notes (all in report.notes).")
        return "\n".join(lines)

    def _format_lines(self) -> list[str]:
        """Format, part, rates and units of a file that is not CSV text (names quoted, never Markdown)."""
        where = (
            f" (part {self.parts.index(self.part) + 1} of {len(self.parts):,})"
            if self.part in self.parts and len(self.parts) > 1
            else ""
        )
        lines = [f"Format: {self.details or self.format}{where}."]
        rates = sorted(set(self.rates.values()))
        if rates:
            shown = ", ".join(f"{r:,.6g} Hz" for r in rates)
            lines.append(f"Sample rate{'s' if len(rates) > 1 else ''}: {shown}.")
        if self.units:
            lines.append("Units: " + ", ".join(f"{c!r} in {u!r}" for c, u in self.units.items()) + ".")
        return lines


@dataclass
class SeriesTable:
    """A table of signals read from a file.

    Attributes
    ----------
    values : pandas.DataFrame
        float64 value columns only, index ``0..n-1``; long gaps stay NaN.
    time : pandas.Series or None
        Parsed time column (datetime64 or float64), or None.
    report : ReadReport
        How the file was read.
    origin : object
        What a writer of the file's own format needs to write it back alike (a WAV's rate and
        sample type, an EDF's header...); None for CSV. See `denoiser.io.formats.write_like`.
    time_text : dict of str to numpy.ndarray
        The time column's cells as the file wrote them (``"01.02.2024 10:00"``), by the file's
        column name (two for a date and a time-of-day column), one entry per row ("" where
        empty): a write-back in the input's form writes them verbatim. Empty when the time
        column was numbers or the file was not text.
    filled_at : dict of str to numpy.ndarray
        Per value column, the rows whose empty cells were filled by interpolation (sorted int
        indices); columns without filled cells are absent.
    """

    values: pd.DataFrame
    time: pd.Series | None
    report: ReadReport
    origin: Any = field(default=None, repr=False, compare=False)
    time_text: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    filled_at: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_arrays(
        cls, columns: dict[str, np.ndarray], time: np.ndarray | None = None, time_name: str = "x"
    ) -> SeriesTable:
        """A table of series made in memory (a generated signal), as if read from a plain CSV.

        Parameters
        ----------
        columns : name -> ndarray of shape (rows,), the value columns in order
        time : ndarray of shape (rows,), optional: the x axis (numbers)
        time_name : the x axis' column name

        Returns
        -------
        SeriesTable
        """
        values = pd.DataFrame({k: np.asarray(v, dtype=np.float64) for k, v in columns.items()})
        rows = len(values)
        axis = None if time is None else pd.Series(np.asarray(time, dtype=np.float64), name=time_name)
        missing = {k: int(np.count_nonzero(np.isnan(values[k].to_numpy()))) for k in values.columns}
        report = ReadReport(
            rows=rows,
            columns=list(values.columns),
            delimiter=",",
            decimal=".",
            encoding="utf-8",
            header=True,
            skipped_lines=0,
            time_column=None if time is None else time_name,
            time_kind=None if time is None else "seconds",
            missing=missing,
            filled={k: 0 for k in values.columns},
            codec="utf-8",
        )
        return cls(values=values, time=axis, report=report)

    def column(self, name: str) -> np.ndarray:
        """Return one value column as a 1-D float64 array.

        Parameters
        ----------
        name : str
            Column name as listed in ``report.columns``.

        Returns
        -------
        numpy.ndarray, shape (rows,)
            A copy of the column's values (NaN where a gap was left).

        Raises
        ------
        InputError
            If there is no such value column; the message lists the available ones.
        """
        if name not in self.values.columns:
            raise InputError(
                f"There is no value column named {quoted(name)}. Choose one of: {listed(self.values.columns)}."
            )
        return self.values[name].to_numpy(dtype=np.float64, copy=True)

    @property
    def signal_columns(self) -> list[str]:
        """Value columns worth denoising: never an index, time or year column, nor a clean reference.

        What the app offers first and what the CLI and a batch denoise when no column is named
        (see `denoiser.io.columns.signal_columns`).
        """
        return signal_columns(self.values)
