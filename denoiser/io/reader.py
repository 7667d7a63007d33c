"""The top-level reader: guards, then another format's reader or the CSV path (encoding, dialect,
pandas' C parser), then the table.

`read_series` runs the stages in order; each refuses what it cannot use with an
`InputError` for end users. The full parse is done by pandas' C parser, so
million-row files stay fast. The reader is the one module that knows both the CSV path
and the format registry, so it words the refusal of a file that is neither.
"""

from __future__ import annotations

import csv
import os
import time
from typing import IO

import pandas as pd

from denoiser.errors import InputError
from denoiser.io import delimited, formats
from denoiser.io._common import the_file
from denoiser.io.delimited import NotText
from denoiser.io.dialect import parser_message
from denoiser.io.guards import (
    BUDGET,
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_LINE_CHARS,
    MAX_SECONDS,
    load_source,
)
from denoiser.io.table import SeriesTable
from denoiser.io.times import MAX_GAP


def read_series(
    source: str | os.PathLike[str] | bytes | IO[bytes],
    *,
    max_bytes: int = MAX_BYTES,
    max_columns: int = MAX_COLUMNS,
    max_line_chars: int = MAX_LINE_CHARS,
    max_gap: int = MAX_GAP,
    time_budget: float = MAX_SECONDS,
    part: str | None = None,
    max_samples: int | None = None,
) -> SeriesTable:
    """Read a table of signals: CSV-like text, or an instrument file (see `denoiser.io.formats`).

    Parameters
    ----------
    source : str, os.PathLike, bytes or binary file-like
        A path, the file content, or an open binary file (e.g. Streamlit's
        ``UploadedFile``; it is read from the start).
    max_bytes : int
        Larger inputs are refused before they are read.
    max_columns : int
        Tables with more columns are refused.
    max_line_chars : int
        A line longer than this (counted in code units of the encoding) is refused.
    max_gap : int
        Interior runs of at most this many missing values are filled by linear
        interpolation; longer runs stay NaN.
    max_samples : int, optional
        At most this many cells (rows x columns) are parsed: a larger table is read up to
        the row that reaches it, said in ``report.notes`` and ``report.rows_left``. The rows
        are counted on the raw bytes first, so a file of 99 million one-digit rows costs
        what its first rows cost, not 5 GB (a server reading uploads sets this).
    time_budget : float
        Seconds the read may take. The checks between and inside the Python stages
        (sniffing, classification, column conversion, date parsing in chunks) stop a
        read that runs longer with an `InputError`; pandas' C parser, which releases
        the GIL, runs to its end.
    part : str, optional
        For a file with several sheets, groups, datasets, variables or rate groups: the one
        to read (``report.parts`` lists them); default: the first usable one.

    Returns
    -------
    SeriesTable
        Value columns, optional time column and a report.

    Raises
    ------
    InputError
        For anything that is not a usable table; the message says what is wrong
        and what to do.
    TypeError
        If ``source`` is not one of the supported types (a programming error).
    """
    if min(max_bytes, max_columns, max_line_chars) < 1 or max_gap < 0:
        raise ValueError("Limits must be positive and max_gap must be >= 0.")
    if max_samples is not None and max_samples < 2:
        raise ValueError("max_samples must be at least 2 (a table has at least 2 values).")
    data, name = load_source(source, max_bytes)
    BUDGET.deadline, BUDGET.seconds, BUDGET.name = time.monotonic() + time_budget, time_budget, name
    try:
        fmt = formats.detect(data, name)  # magic bytes first, then the extension; None: CSV-like text
        if fmt is not None:
            limits = formats.Limits(max_columns, max_gap)
            if max_samples is not None:  # a cap on what one read may hold (the app's per-upload budget)
                limits = formats.Limits(max_columns, max_gap, min(limits.max_values, int(max_samples)))
            return formats.read_format(fmt, data, name, part, limits)
        return delimited.read_text_table(data, name, max_columns, max_line_chars, max_gap, max_samples)
    except NotText:
        raise _not_text(name) from None
    except InputError:
        raise
    except RecursionError:
        raise InputError(
            f"{the_file(name)} is structured too deeply to be read as a table. Check that it is a plain-text CSV file."
        ) from None
    except pd.errors.ParserError as exc:
        raise InputError(parser_message(str(exc), name, 0)) from None
    except (UnicodeError, LookupError):
        raise InputError(
            f"{the_file(name)} contains characters that are not valid in its text encoding. "
            "Save it again as UTF-8 CSV and try once more."
        ) from None
    except MemoryError:
        raise InputError(
            f"{the_file(name)} needs more memory than is available. "
            "Split it into smaller files or remove unused columns."
        ) from None
    except (
        ValueError,
        OverflowError,
        TypeError,
        KeyError,
        IndexError,
        csv.Error,
        pd.errors.EmptyDataError,
        pd.errors.ParserWarning,
    ) as exc:
        reason = str(exc).strip()
        reason = reason if len(reason) <= 120 else reason[:119] + "…"
        raise InputError(
            f"{the_file(name)} could not be read as a table of numbers ({reason}). "
            "Check that it is a plain-text CSV file with one row per line."
        ) from None
    finally:
        BUDGET.deadline = None


def _not_text(name: str | None) -> InputError:
    """The refusal of bytes that are neither text nor a format the registry reads (it lists those)."""
    return InputError(
        f"{the_file(name)} does not look like a text file (it contains binary data), nor like a format read "
        f"here ({formats.supported()}). Choose a CSV file, or export your data as CSV from the program that made it."
    )
