"""LabVIEW TDMS (npTDMS): groups and channels, ``wf_increment`` as the sample interval, channel properties.

Parts: each group's numeric channels, split by length and sample interval where they differ
("Group (1000 Hz, 5,000 samples)"): channels of different rates are never resampled into one
table. The segments' lead-ins are walked first (a bounded count), then npTDMS reads the
metadata only; channel lengths are checked against the limit before the chosen channels'
data is read. npTDMS clamps a segment that claims more data than the file holds.
"""

from __future__ import annotations

import io
import logging
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from denoiser.errors import InputError
from denoiser.io._common import the_file
from denoiser.io.formats._build import (
    MAX_NAME_CHARS,
    TIME_NAME,
    Limits,
    bad_file,
    check_values,
    choose_part,
    parts_note,
    seconds,
    table_from_frame,
    unique_names,
)
from denoiser.io.guards import tick
from denoiser.io.table import SeriesTable
from denoiser.text import cut

MAX_SEGMENTS = 200_000  # npTDMS keeps an object per segment; a LabVIEW log of a day has a few thousand
_TODO = "Check that LabVIEW finished writing the file, or export the channels as CSV."


def is_tdms(data: bytes) -> bool:
    """A TDMS file: its first segment's lead-in starts with ``TDSm``."""
    return data.startswith(b"TDSm")


def _count_segments(data: bytes, name: str | None) -> int:
    """Walk the segment lead-ins (28 bytes each) without reading their metadata."""
    at, count = 0, 0
    while at + 28 <= len(data) and data[at : at + 4] == b"TDSm":
        count += 1
        if count > MAX_SEGMENTS:
            raise InputError(
                f"{the_file(name)} has more than {MAX_SEGMENTS:,} segments; a TDMS log rarely has "
                "more than a few thousand. Defragment it in LabVIEW (TDMS Defragment) or export CSV."
            )
        big = struct.unpack("<I", data[at + 4 : at + 8])[0] & (1 << 6)  # kTocBigEndian
        (offset,) = struct.unpack(">Q" if big else "<Q", data[at + 12 : at + 20])
        if offset == 0xFFFFFFFFFFFFFFFF:
            break  # the last segment, not closed by LabVIEW: runs to the end of the file
        if at + 28 + offset > len(data):
            raise InputError(
                f"Segment {count:,} of {the_file(name, False)} declares {offset:,} bytes, but the file ends "
                f"{len(data) - at - 28:,} bytes after its start. The file was cut short or is damaged: {_TODO}"
            )
        at += 28 + offset
    return count


@contextmanager
def _quiet() -> Iterator[list[str]]:
    """npTDMS logs warnings about short segments: collect them as notes instead of printing them."""
    seen: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if len(seen) < 3:
                seen.append(cut(record.getMessage(), 160))

    loggers = [logging.getLogger(n) for n in ("nptdms", "nptdms.reader", "nptdms.tdms_segment")]
    saved = [(lg.handlers[:], lg.propagate, lg.level) for lg in loggers]
    handler = _Collect()
    for lg in loggers:
        lg.handlers, lg.propagate = [handler], False
        lg.setLevel(logging.WARNING)
    try:
        yield seen
    finally:
        for lg, (handlers, propagate, level) in zip(loggers, saved):
            lg.handlers, lg.propagate = handlers, propagate
            lg.setLevel(level)


def _increment(channel: Any) -> float | None:
    try:
        dt = float(channel.properties.get("wf_increment", 0) or 0)
    except (TypeError, ValueError):
        return None
    return dt if np.isfinite(dt) and dt > 0 else None


def _parts(tdms: Any) -> dict[str, tuple[str, list[str], float | None]]:
    """``{part: (group, channel names, interval)}``: a group's numeric channels of one length and interval."""
    parts: dict[str, tuple[str, list[str], float | None]] = {}
    for group in tdms.groups():
        sets: dict[tuple[int, float | None], list[str]] = {}
        for channel in group.channels():
            dtype = getattr(channel, "dtype", None)
            if dtype is None or np.dtype(dtype).kind not in "iufb" or len(channel) < 2:
                continue
            sets.setdefault((len(channel), _increment(channel)), []).append(channel.name)
        for (n, dt), names in sets.items():
            label = (
                cut(group.name, MAX_NAME_CHARS)
                if len(sets) == 1
                else (f"{cut(group.name, MAX_NAME_CHARS)} ({'%g Hz' % (1 / dt) if dt else 'no rate'}, {n:,} samples)")
            )
            parts[label] = (group.name, names, dt)
    return parts


def read_tdms(data: bytes, name: str | None, part: str | None, limits: Limits) -> SeriesTable:
    """Read one group (one rate group of it) of a TDMS file."""
    from nptdms import TdmsFile

    _count_segments(data, name)
    with _quiet() as warnings_seen:
        try:
            meta = TdmsFile.read_metadata(io.BytesIO(data))
        except Exception as exc:  # noqa: BLE001 -- npTDMS' ValueError, struct.error, KeyError: one line
            raise bad_file(name, "a LabVIEW TDMS file", exc, _TODO) from None
        total = sum(len(c) for g in meta.groups() for c in g.channels())
        check_values(total, limits, name, f"declares {total:,} values in its channels")
        parts = _parts(meta)
        names = list(parts)
        chosen = choose_part(names, part, name, "group with numeric channels")
        group, channels, dt = parts[chosen]
        with TdmsFile.open(io.BytesIO(data)) as tdms:
            cols: dict[str, np.ndarray] = {}
            for ch in channels:
                tick("reading the channels")
                cols[ch] = np.asarray(tdms[group][ch][:])
            props = {ch: dict(meta[group][ch].properties) for ch in channels}
    keys = unique_names(channels)
    frame = pd.DataFrame(dict(zip(keys, cols.values())))
    rates: dict[str, float] = {}
    if dt:
        start = float(props[channels[0]].get("wf_start_offset", 0.0) or 0.0)
        frame.insert(0, TIME_NAME, seconds(len(frame), 1 / dt, start))
        rates = {k: 1 / dt for k in keys}
    units = {k: cut(props[ch].get("unit_string", ""), 40) for k, ch in zip(keys, channels)}
    notes = parts_note(names, chosen, "part") + [f"npTDMS: {w}" for w in warnings_seen]
    return table_from_frame(
        frame,
        name,
        limits,
        fmt="tdms",
        details=f"LabVIEW TDMS file, group {cut(chosen, 80)!r}",
        rates=rates,
        units=units,
        parts=names,
        part=chosen,
        notes=notes,
        origin={"data": data, "group": group, "channels": dict(zip(keys, channels))},
    )


def write_tdms(table: SeriesTable, denoised: dict[str, np.ndarray]) -> bytes:
    """The input's groups, channels and properties, the denoised channels in place of their originals.

    Denoised integer channels are rounded and clipped to their type. A table from another
    format becomes one group "denoised" with its value and denoised columns.
    """
    from nptdms import ChannelObject, GroupObject, RootObject, TdmsFile, TdmsWriter

    origin = table.origin if isinstance(table.origin, dict) and "channels" in table.origin else None
    objects: list[Any] = []
    if origin is not None:
        replaced = {(origin["group"], ch): denoised[col] for col, ch in origin["channels"].items() if col in denoised}
        with _quiet():
            tdms = TdmsFile.read(io.BytesIO(origin["data"]))
        objects.append(RootObject(dict(tdms.properties)))
        for group in tdms.groups():
            objects.append(GroupObject(group.name, dict(group.properties)))
            for channel in group.channels():
                values = np.asarray(channel[:])
                new = replaced.get((group.name, channel.name))
                if new is not None:
                    values = _as_type(np.asarray(new, dtype=np.float64), values.dtype)
                objects.append(ChannelObject(group.name, channel.name, values, properties=dict(channel.properties)))
    else:
        rate = next(iter(set(table.report.rates.values())), None)
        props = {"wf_increment": 1 / rate} if rate else {}
        objects.append(GroupObject("denoised"))
        for col in table.values.columns:
            objects.append(ChannelObject("denoised", str(col), table.column(col), properties=props))
            if col in denoised:
                objects.append(
                    ChannelObject(
                        "denoised", f"{col}_denoised", np.asarray(denoised[col], np.float64), properties=props
                    )
                )
    buffer = io.BytesIO()
    with TdmsWriter(buffer) as writer:
        writer.write_segment(objects)
    return buffer.getvalue()


def _as_type(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(np.rint(np.nan_to_num(values)), info.min, info.max).astype(dtype)
    return values.astype(dtype)
