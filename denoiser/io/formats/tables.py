"""Parquet (pyarrow): row and column counts and declared sizes from the footer, before a page is read."""

from __future__ import annotations

import io

import numpy as np

from denoiser.io.formats._build import Limits, check_columns, check_values, table_from_frame, unique_names
from denoiser.io.table import SeriesTable
from denoiser.io.writer import output_frame


def is_parquet(data: bytes) -> bool:
    """A Parquet file: ``PAR1`` at both ends."""
    return len(data) >= 12 and data.startswith(b"PAR1") and data.endswith(b"PAR1")


def read_parquet(data: bytes, name: str | None, part: str | None, limits: Limits) -> SeriesTable:
    """Read a Parquet table: numeric columns are values, a datetime or time-named column the axis.

    The footer's row count, column count and the row groups' declared uncompressed sizes
    are checked before any column chunk is decompressed.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(pa.BufferReader(data)).metadata
    check_columns(meta.num_columns, limits, name)
    check_values(
        meta.num_rows * max(meta.num_columns, 1),
        limits,
        name,
        f"declares {meta.num_rows:,} rows of {meta.num_columns:,} columns",
    )
    declared = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    check_values(declared // 8, limits, name, f"declares {declared:,} bytes of uncompressed data")
    frame = pq.read_table(pa.BufferReader(data)).to_pandas(ignore_metadata=True)
    frame.columns = unique_names(list(frame.columns))
    return table_from_frame(frame, name, limits, fmt="parquet", details="Parquet table")


def write_parquet(table: SeriesTable, denoised: dict[str, np.ndarray]) -> bytes:
    """The CSV's columns (time, values, NAME_denoised) as Parquet; datetimes stay datetimes."""
    frame = output_frame(table, denoised, text_times=False)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow")
    return buffer.getvalue()
