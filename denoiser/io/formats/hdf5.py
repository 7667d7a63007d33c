"""HDF5 (h5py), and MATLAB v7.3 MAT-files, which are HDF5 inside.

Parts: every group holding 1-D numeric datasets of one length (a table: one column per
dataset, as `write_hdf5` writes it) and every 2-D numeric dataset (columns along its shorter
axis). Shapes and types come from the file's metadata and are checked before a value is
read; soft, external and virtual links and datasets with external storage are never followed
(an HDF5 file can point at any file on the server), and the walk stops after a bounded
number of objects.
"""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from denoiser.errors import InputError
from denoiser.io._common import counted, the_file
from denoiser.io.formats._build import (
    MAX_PARTS,
    Limits,
    bad_file,
    check_values,
    choose_part,
    parts_note,
    table_from_frame,
    unique_names,
)
from denoiser.io.guards import tick
from denoiser.io.table import SeriesTable
from denoiser.io.writer import output_frame
from denoiser.text import cut

MAX_OBJECTS = 20_000  # groups and datasets walked; a recording has a handful
_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_UNIT_KEYS = ("units", "unit", "Units", "Unit", "unit_string")
_RATE_KEYS = ("sample_rate", "sampling_rate", "sampling_frequency", "fs", "rate", "SampleRate")
_MATLAB_NUMERIC = {
    b"double",
    b"single",
    b"int8",
    b"uint8",
    b"int16",
    b"uint16",
    b"int32",
    b"uint32",
    b"int64",
    b"uint64",
    b"logical",
}


def is_hdf5(data: bytes) -> bool:
    """The HDF5 signature at 0, or after a user block of 512, 1024, 2048... bytes; not a MAT-file v7.3."""
    if data.startswith(b"MATLAB "):
        return False  # a MAT-file v7.3: the MAT record reads it (variables are transposed)
    return any(data[at : at + 8] == _SIGNATURE for at in (0, 512, 1024, 2048, 4096))


def _attr_text(obj: Any, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if key in obj.attrs:
            value = obj.attrs[key]
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            if isinstance(value, np.ndarray) and value.size == 1:
                value = value.reshape(-1)[0]
                value = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            return cut(value, 40)
    return None


def _attr_rate(obj: Any) -> float | None:
    for key in _RATE_KEYS:
        if key in obj.attrs:
            try:
                rate = float(np.asarray(obj.attrs[key]).reshape(-1)[0])
            except (TypeError, ValueError, IndexError):
                continue
            if np.isfinite(rate) and rate > 0:
                return rate
    return None


def _walk(h5: Any, name: str | None) -> list[tuple[str, Any]]:
    """Groups and datasets reachable by hard links, breadth first, at most MAX_OBJECTS."""
    import h5py

    found: list[tuple[str, Any]] = [("/", h5)]
    queue = [("/", h5)]
    while queue:
        path, group = queue.pop(0)
        for key in group:
            if not isinstance(group.get(key, getlink=True), h5py.HardLink):
                continue  # soft, external and user links may point anywhere: never followed
            if len(found) >= MAX_OBJECTS:
                raise InputError(
                    f"{the_file(name)} holds more than {MAX_OBJECTS:,} groups and datasets. "
                    "Export the signals you need into a smaller file."
                )
            obj = group[key]
            child = f"{path.rstrip('/')}/{key}"
            found.append((child, obj))
            if isinstance(obj, h5py.Group):
                queue.append((child, obj))
        tick("listing the datasets")
    return found


def _children(group: Any) -> list[tuple[str, Any]]:
    """A group's members reached by hard links only (soft and external links are never resolved)."""
    import h5py

    out = []
    for key in group:
        if isinstance(group.get(key, getlink=True), h5py.HardLink):
            out.append((key, group[key]))
    return out


def _usable(ds: Any, matlab: bool) -> bool:
    import h5py

    if not isinstance(ds, h5py.Dataset) or ds.ndim not in (1, 2) or ds.shape[0] == 0:
        return False
    if ds.is_virtual or ds.external:
        return False  # data in other files: never read
    if matlab:
        cls = ds.attrs.get("MATLAB_class")
        if cls not in _MATLAB_NUMERIC:
            return False
    kind = ds.dtype.kind
    return kind in "iufb" or (kind == "S" and ds.ndim == 1 and not matlab)


def _parts(objects: list[tuple[str, Any]], matlab: bool) -> dict[str, tuple[str, Any]]:
    """Readable parts: ``{name: ("group", group) or ("dataset", dataset)}`` in file order."""
    import h5py

    parts: dict[str, tuple[str, Any]] = {}
    for path, obj in objects:
        if isinstance(obj, h5py.Group):
            members = [ds for _, ds in _children(obj) if _usable(ds, matlab)]
            lengths = Counter(max(ds.shape) for ds in members if ds.ndim == 1 or min(ds.shape) == 1)
            numeric = [ds for ds in members if ds.dtype.kind != "S"]
            if lengths and numeric and (not matlab or path == "/"):
                parts[path] = ("group", obj)
        elif _usable(obj, matlab) and obj.ndim == 2 and min(obj.shape) > 1:
            parts[path] = ("dataset", obj)
        if len(parts) > MAX_PARTS:
            break
    return parts


def _columns(
    kind: str, obj: Any, matlab: bool, limits: Limits, name: str | None
) -> tuple[dict[str, np.ndarray], dict[str, str], dict[str, float]]:
    units: dict[str, str] = {}
    rates: dict[str, float] = {}
    if kind == "dataset":
        rows, width = (obj.shape[1], obj.shape[0]) if (matlab or obj.shape[0] < obj.shape[1]) else obj.shape
        check_values(rows * width, limits, name, f"declares a dataset of {obj.shape[0]:,} x {obj.shape[1]:,} values")
        arr = np.asarray(obj[()])
        arr = arr.T if (matlab or obj.shape[0] < obj.shape[1]) else arr
        base = cut(obj.name.rsplit("/", 1)[-1], 60)
        cols = {f"{base}[{i}]": arr[:, i] for i in range(arr.shape[1])}
        unit, rate = _attr_text(obj, _UNIT_KEYS), _attr_rate(obj)
        for c in cols:
            if unit:
                units[c] = unit
            if rate:
                rates[c] = rate
        return cols, units, rates
    members = [(k, ds) for k, ds in _children(obj) if _usable(ds, matlab) and (ds.ndim == 1 or min(ds.shape) == 1)]
    length = Counter(max(ds.shape) for _, ds in members).most_common(1)[0][0]
    members = [(k, ds) for k, ds in members if max(ds.shape) == length]
    check_values(
        length * len(members),
        limits,
        name,
        f"declares {counted(len(members), 'dataset')} of {length:,} values in {cut(obj.name, 60)!r}",
    )
    cols = {}
    for key, ds in members:
        tick("reading the datasets")
        arr = np.asarray(ds[()]).reshape(-1)
        if arr.dtype.kind == "S":
            arr = np.char.decode(arr, "utf-8", "replace").astype(object)
        cols[key] = arr
        unit, rate = _attr_text(ds, _UNIT_KEYS), _attr_rate(ds) or _attr_rate(obj)
        if unit:
            units[key] = unit
        if rate:
            rates[key] = rate
    return cols, units, rates


def read_hdf5(
    data: bytes,
    name: str | None,
    part: str | None,
    limits: Limits,
    *,
    matlab: bool = False,
    label: str = "HDF5 file",
    fmt: str = "hdf5",
) -> SeriesTable:
    """Read one part of an HDF5 file (a group of 1-D datasets, or a 2-D dataset) as a table."""
    import h5py

    try:
        h5 = h5py.File(io.BytesIO(data), "r")
    except OSError as exc:
        raise bad_file(
            name,
            f"an {label}" if label[0] in "HM" else f"a {label}",
            exc,
            "Check that the file is complete, or export the signal as CSV.",
        ) from None
    with h5:
        parts = _parts(_walk(h5, name), matlab)
        names = list(parts)
        chosen = choose_part(names, part, name, "variable set" if matlab else "dataset or group")
        kind, obj = parts[chosen]
        cols, units, rates = _columns(kind, obj, matlab, limits, name)
    keys = unique_names(list(cols))
    frame = pd.DataFrame(dict(zip(keys, cols.values())))
    units = {k: units[c] for k, c in zip(keys, cols) if c in units}
    rates = {k: rates[c] for k, c in zip(keys, cols) if c in rates}
    what = "variables" if matlab else ("group" if kind == "group" else "dataset")
    return table_from_frame(
        frame,
        name,
        limits,
        fmt=fmt,
        details=f"{label}, {what} {cut(chosen, 80)!r}",
        rates=rates,
        units=units,
        parts=names,
        part=chosen,
        notes=parts_note(names, chosen, "part"),
        origin={"part": chosen},
    )


def write_hdf5(table: SeriesTable, denoised: dict[str, np.ndarray]) -> bytes:
    """One 1-D dataset per column of the CSV's table at the root, in order, with units and rates as attributes."""
    import h5py

    frame = output_frame(table, denoised, text_times=True)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", track_order=True) as h5:
        for col in frame.columns:
            values = frame[col]
            if values.dtype == object:
                arr = np.array([str(v) for v in values], dtype="S")
            else:
                arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
            key = col.replace("/", "_") if col not in (".", "..") else f"_{col}"
            ds = h5.create_dataset(key, data=arr)
            source = col[: -len("_denoised")] if col.endswith("_denoised") else col
            if source in table.report.units:
                ds.attrs["units"] = table.report.units[source]
            if source in table.report.rates:
                ds.attrs["sample_rate"] = table.report.rates[source]
    return buffer.getvalue()
