"""Read signal tables from CSV-like files; write them back with the input's precision.

The public names live in submodules and are re-exported here, so
``from denoiser.io import read_series`` keeps working.
"""

from __future__ import annotations

from denoiser.io.reader import (
    ABSURD_SCALE,
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_GAP,
    MAX_LINE_CHARS,
    MAX_SECONDS,
    ReadReport,
    SeriesTable,
    decimals,
    output_frame,
    precision,
    read_series,
    significant,
    to_csv_bytes,
    write_series,
)

# Private helpers that tests use directly (read-only; patch them in their own module).
from denoiser.io.reader import _DATE_CHUNK, _NUM_COMMA, _NUM_DOT, _cell_kind, _tick  # noqa: F401

__all__ = [
    "MAX_BYTES",
    "MAX_COLUMNS",
    "MAX_GAP",
    "MAX_LINE_CHARS",
    "MAX_SECONDS",
    "ReadReport",
    "SeriesTable",
    "decimals",
    "output_frame",
    "precision",
    "read_series",
    "to_csv_bytes",
    "write_series",
]
