"""MATLAB MAT-files: v4 to v7.2 through scipy.io, v7.3 (HDF5 inside) through h5py.

A part is a variable: a numeric vector (one column) or matrix (columns along its shorter
axis); all vectors of one length together are offered first, as one table (what
`write_mat` writes). Names, shapes and classes come from ``scipy.io.whosmat``, which reads
the headers only; before a variable is loaded, every compressed element of a v7 file is
inflated once in chunks, stopping at the limit, so a zlib bomb is refused, never expanded.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections import Counter

import numpy as np
import pandas as pd

from denoiser.errors import InputError
from denoiser.io._common import the_file
from denoiser.io.formats._build import (
    MAX_NAME_CHARS,
    Limits,
    bad_file,
    check_values,
    choose_part,
    parts_note,
    table_from_frame,
    unique_names,
)
from denoiser.io.formats.hdf5 import read_hdf5
from denoiser.io.guards import tick
from denoiser.io.table import SeriesTable
from denoiser.io.writer import output_frame
from denoiser.text import cut

_MI_COMPRESSED = 15
_NUMERIC = {"double", "single", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "logical"}
_VECTORS = "vectors of {n:,} values"  # the part holding every vector of one length
_TODO = "Save it again in MATLAB (save -v7), or export the signal as CSV."


def is_mat(data: bytes) -> bool:
    """A MAT-file v5 to v7.3 by its header text (v4 files have none: they are known by extension)."""
    return data[:10] == b"MATLAB 5.0" or _is_v73(data)


def _is_v73(data: bytes) -> bool:
    """v7.3: a MAT header text, then HDF5 after a 512-byte user block (the text may say 7.0 or 7.3)."""
    return data[:7] == b"MATLAB " and data[512:520] == b"\x89HDF\r\n\x1a\n"


def _check_compressed(data: bytes, name: str | None, limits: Limits) -> None:
    """Inflate each compressed top-level element of a v5/v7 file in chunks, refusing one that grows past the limit."""
    if len(data) < 128:
        raise bad_file(name, "a MATLAB MAT-file", "the 128-byte header is cut short", _TODO)
    endian = "<" if data[126:128] == b"IM" else ">"
    limit = limits.max_values * 8 + (1 << 20)
    at = 128
    while at + 8 <= len(data):
        mdtype, nbytes = struct.unpack(endian + "II", data[at : at + 8])
        if mdtype == _MI_COMPRESSED:
            stream = zlib.decompressobj()
            source, grown = memoryview(data)[at + 8 : at + 8 + nbytes], 0
            step = 1 << 20  # output per call: memory stays at a megabyte whatever the stream holds
            for lo in range(0, len(source), step):
                tick("checking the MAT-file")
                grown += len(stream.decompress(source[lo : lo + step], step))
                while stream.unconsumed_tail and grown <= limit:
                    grown += len(stream.decompress(stream.unconsumed_tail, step))
                if grown > limit:
                    raise InputError(
                        f"{the_file(name)} holds a compressed variable that expands to more than "
                        f"{limit // 1024**2:,} MB, more than the limit. Save fewer or shorter "
                        "variables, or export the signal as CSV."
                    )
        at += 8 + nbytes + (-nbytes % 8 if mdtype != _MI_COMPRESSED else 0)


def read_mat(data: bytes, name: str | None, part: str | None, limits: Limits) -> SeriesTable:
    """Read one variable (or all vectors of one length) of a MAT-file."""
    if _is_v73(data):
        return read_hdf5(data, name, part, limits, matlab=True, label="MATLAB v7.3 MAT-file", fmt="mat")
    import scipy.io

    if data[:10] == b"MATLAB 5.0":  # v4 files have no header text and no compression
        _check_compressed(data, name, limits)
    try:
        listing = scipy.io.whosmat(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 -- scipy's MatReadError, ValueError, struct.error: one line
        raise bad_file(name, "a MATLAB MAT-file", exc, _TODO) from None
    usable = [
        (v, shape)
        for v, shape, cls in listing
        if cls in _NUMERIC and len(shape) == 2 and min(shape) >= 1 and max(shape) >= 2
    ]
    for v, shape in usable:
        check_values(
            int(np.prod(shape, dtype=np.int64)),
            limits,
            name,
            f"declares the variable {cut(v, 60)!r} as {shape[0]:,} x {shape[1]:,}",
        )
    lengths = Counter(max(s) for _, s in usable if min(s) == 1)
    parts: dict[str, list[str]] = {}
    for n, _count in lengths.most_common():
        parts[_VECTORS.format(n=n)] = [v for v, s in usable if min(s) == 1 and max(s) == n]
    for v, s in usable:
        if min(s) > 1:
            parts[cut(v, MAX_NAME_CHARS)] = [v]
    names = list(parts)
    chosen = choose_part(names, part, name, "numeric variable")
    variables = parts[chosen]
    loaded = scipy.io.loadmat(io.BytesIO(data), variable_names=variables, squeeze_me=False, mat_dtype=False)
    cols: dict[str, np.ndarray] = {}
    for v in variables:
        value = loaded[v]
        arr = np.asarray(value.toarray() if hasattr(value, "toarray") else value)  # sparse: dense (bounded above)
        if min(arr.shape) == 1:
            cols[v] = arr.reshape(-1)
        else:
            arr = arr if arr.shape[0] >= arr.shape[1] else arr.T
            cols.update({f"{v}[{i}]": arr[:, i] for i in range(arr.shape[1])})
    keys = unique_names(list(cols))
    frame = pd.DataFrame(dict(zip(keys, cols.values())))
    version = "v4" if data[:10] != b"MATLAB 5.0" else "v5-v7.2"  # (v7.3 went to read_hdf5 above)
    return table_from_frame(
        frame,
        name,
        limits,
        fmt="mat",
        details=f"MATLAB MAT-file ({version}), {chosen}"
        if chosen.startswith("vectors")
        else f"MATLAB MAT-file ({version}), variable {chosen!r}",
        parts=names,
        part=chosen,
        notes=parts_note(names, chosen, "part"),
        origin={"part": chosen},
    )


def write_mat(table: SeriesTable, denoised: dict[str, np.ndarray]) -> bytes:
    """A v5 MAT-file: one column vector per column of the CSV's table (names made valid identifiers)."""
    import scipy.io

    frame = output_frame(table, denoised, text_times=True)
    taken: set[str] = set()
    out = {}
    for col in frame.columns:
        values = frame[col]
        key = _identifier(str(col), taken)
        if values.dtype == object:
            out[key] = np.array([str(v) for v in values], dtype=object).reshape(-1, 1)
        else:
            out[key] = values.to_numpy(dtype=np.float64, na_value=np.nan).reshape(-1, 1)
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, out, do_compression=True, oned_as="column")
    return buffer.getvalue()


def _identifier(name: str, taken: set[str], limit: int = 63) -> str:
    """A MATLAB/HDF5-safe identifier from a column name: letters, digits and '_', unique."""
    base = re.sub(r"\W", "_", name, flags=re.ASCII)[:limit] or "x"
    if not base[0].isalpha():
        base = ("x" + base)[:limit]
    candidate, k = base, 2
    while candidate in taken:
        tail = f"_{k}"
        candidate, k = base[: limit - len(tail)] + tail, k + 1
    taken.add(candidate)
    return candidate
