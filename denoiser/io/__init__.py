"""Read signal tables from CSV-like files as instruments and spreadsheets write them.

`read_series` turns a path, ``bytes`` or an uploaded file into a `SeriesTable`:
float64 value columns, an optional time column and a `ReadReport` that says how
the file was understood (delimiter, decimal mark, encoding, header, skipped
preamble, gaps). Anything it cannot use raises `InputError` with a message for
end users; it never executes or evaluates cell contents.

`write_series` and `to_csv_bytes` write the table plus denoised columns back
as a plain UTF-8 CSV that spreadsheets open safely.

The format is sniffed on the first ~64 KB only; the full parse is done by
pandas' C parser, so million-row files stay fast.

Modules, in the order a read runs through them:

* `guards`: limits checked on the raw bytes (size, binary and compressed formats,
  line length, column count) and the time budget;
* `encoding`: the text encoding and the decoded sample;
* `dialect`: delimiter, decimal comma, header and preamble;
* `times`: the time column and filling short gaps;
* `reader`: `read_series`: the guards, then another format's reader or the CSV path;
* `delimited`: the CSV path: CSV-like text to a table with pandas' C parser (also a spreadsheet's sheet);
* `values`: the parsed frame made a table: the value columns, their gaps and notes;
* `table`: `SeriesTable` and `ReadReport`;
* `columns`: which value columns are signals (`SeriesTable.signal_columns`), axes or clean references;
* `writer`: `write_series`, `to_csv_bytes`, `output_frame` and the precision they keep;
* `formats`: instrument files beyond CSV (Excel, Parquet, HDF5, MAT, WAV/FLAC, TDMS, EDF/BDF,
  miniSEED/SAC), one registry record each; `read_series` dispatches to them by magic bytes,
  then extension, and `formats.write_like` writes a result back in the input's own format.
"""

from __future__ import annotations

from denoiser.io.guards import MAX_BYTES, MAX_COLUMNS, MAX_LINE_CHARS, MAX_SECONDS
from denoiser.io.reader import read_series
from denoiser.io.table import ReadReport, SeriesTable
from denoiser.io.times import MAX_GAP
from denoiser.io.values import ABSURD_SCALE  # noqa: F401 (public, not in __all__)
from denoiser.io.writer import (
    decimals,
    output_frame,
    precision,
    significant,  # noqa: F401 (public, not in __all__)
    to_csv_bytes,
    write_series,
)

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
