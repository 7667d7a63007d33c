"""What `read_series` returns: the table of signals and the report of how it was read."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from denoiser.errors import InputError
from denoiser.text import listed, quoted
from denoiser.io._common import _count
from denoiser.io.dialect import _DELIMITER_WORDS


SUMMARY_NAMES = 8   # column names a summary line lists (then "and N more"): a line stays a few hundred characters
SUMMARY_NAME = 40   # characters of each of them
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
    rows_left : int
        Rows not read because of ``read_series(max_samples=...)`` (about; 0 when all were read).
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
    rows_left: int = 0

    def summary(self) -> str:
        """Return a few lines of plain text describing the file.

        Returns
        -------
        str
            Newline-separated sentences for a CLI or a UI.
        """
        names = listed(self.columns, SUMMARY_NAME, SUMMARY_NAMES)  # names from the file: a few, cut
        lines = [
            f"Read {_count(self.rows, 'row')} and {_count(len(self.columns), 'value column')}: {names}.",
            f"Format: {_DELIMITER_WORDS.get(self.delimiter, repr(self.delimiter))}-separated, "
            f"decimal {'comma' if self.decimal == ',' else 'point'}, {self.encoding} encoding, "
            f"{'with' if self.header else 'without'} a header row"
            + (f"; skipped {_count(self.skipped_lines, 'metadata line')}." if self.skipped_lines else "."),
        ]
        if self.time_column is not None:
            kind = "date and time" if self.time_kind == "datetime" else "numeric, increasing"
            lines.append(f"Time column: {quoted(self.time_column)} ({kind}).")
        gaps = [
            f"{quoted(c, SUMMARY_NAME)}: {n:,} ({self.filled.get(c, 0):,} filled)"
            for c, n in self.missing.items() if n
        ]
        if gaps:
            more = f"; and {len(gaps) - SUMMARY_NAMES:,} more columns" if len(gaps) > SUMMARY_NAMES else ""
            lines.append("Missing values: " + "; ".join(gaps[:SUMMARY_NAMES]) + more + ".")
        lines.extend(self.notes[:SUMMARY_NOTES])
        if len(self.notes) > SUMMARY_NOTES:
            lines.append(f"... and {len(self.notes) - SUMMARY_NOTES:,} more notes (all in report.notes).")
        return "\n".join(lines)


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
    """

    values: pd.DataFrame
    time: pd.Series | None
    report: ReadReport

    def column(self, name: str) -> np.ndarray:
        """Return one value column as a 1-D float64 array.

        Parameters
        ----------
        name : str
            Column name as listed in ``report.columns``.

        Returns
        -------
        numpy.ndarray
            The column's values.

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
