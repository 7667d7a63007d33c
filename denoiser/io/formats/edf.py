"""EDF, EDF+ and BDF (edfio): signals with their own sample rates and physical units.

Parts are rate groups ("256 Hz: 'EEG Fpz', 'EEG Cz'"): signals of different rates are never
resampled into one table. The fixed header is parsed here first: the number of data
records, the samples per record of every signal and the bytes they need are checked against
the limit and against the file's real size, so a header claiming 10^9 records is refused
before edfio allocates anything. Annotations (EDF+) become notes, as text.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from denoiser.errors import InputError
from denoiser.io._common import counted, the_file
from denoiser.io.formats._build import (
    TIME_NAME,
    Limits,
    bad_file,
    check_columns,
    check_values,
    choose_part,
    listed,
    parts_note,
    seconds,
    table_from_frame,
    unique_names,
)
from denoiser.io.formats.audio import rate_of
from denoiser.io.table import SeriesTable
from denoiser.text import cut

if TYPE_CHECKING:
    import edfio

_TODO = "Check that the recording was saved completely, or export it again from the recording software."
_DATE = re.compile(rb"\d\d[.:/-]\d\d[.:/-]\d\d")
_ANNOTATIONS = "EDF Annotations"
_MAX_NOTED = 5  # annotations quoted in the notes


def is_edf(data: bytes) -> bool:
    """An EDF or BDF header: "0" and seven spaces (EDF) or 0xFF "BIOSEMI" (BDF), then a start date and time
    in their fixed places."""
    return (
        data[:8] in (b"0       ", b"\xffBIOSEMI")
        and bool(_DATE.fullmatch(data[168:176]))
        and bool(_DATE.fullmatch(data[176:184]))
    )


def _number(field: bytes) -> float:
    return float(field.decode("ascii", "replace").strip())


def _check_header(data: bytes, name: str | None, limits: Limits) -> None:
    """Records x samples per record from the header, against the limit and the bytes the file really holds."""
    try:
        header_bytes = int(_number(data[184:192]))
        records = int(_number(data[236:244]))
        ns = int(_number(data[252:256]))
    except ValueError:
        raise bad_file(name, "an EDF/BDF recording", "its header holds text where numbers belong", _TODO) from None
    if ns < 1 or header_bytes != 256 * (ns + 1) or len(data) < header_bytes:
        raise bad_file(
            name, "an EDF/BDF recording", f"its header declares {ns:,} signals in {header_bytes:,} bytes", _TODO
        )
    check_columns(ns, limits, name)
    at = 256 + 216 * ns
    try:
        per_record = [int(_number(data[at + 8 * i : at + 8 * i + 8])) for i in range(ns)]
    except ValueError:
        raise bad_file(name, "an EDF/BDF recording", "a signal header holds text where numbers belong", _TODO) from None
    width = 3 if data[:1] == b"\xff" else 2
    record_bytes = width * sum(per_record)
    if min(per_record) < 0 or record_bytes == 0:
        raise bad_file(name, "an EDF/BDF recording", "a signal declares a negative or no sample count", _TODO)
    held = (len(data) - header_bytes) // record_bytes
    if records == -1:  # still being recorded: as many records as the file holds
        records = held
    check_values(
        records * sum(per_record), limits, name, f"declares {records:,} data records of {sum(per_record):,} samples"
    )
    if records > held:
        raise InputError(
            f"{the_file(name)} declares {records:,} data records, but holds only {held:,} "
            f"({len(data):,} bytes). The recording was cut short or the header is damaged: export it again."
        )


def _open(data: bytes, bdf: bool) -> edfio.Edf | edfio.Bdf:
    """The recording with its samples in memory (edfio reads a BDF so always, an EDF when asked)."""
    import edfio

    return edfio.read_bdf(io.BytesIO(data)) if bdf else edfio.read_edf(io.BytesIO(data), lazy_load_data=False)


def read_edf(data: bytes, name: str | None, part: str | None, limits: Limits) -> SeriesTable:
    """Read one rate group of an EDF/EDF+/BDF recording, in physical units."""
    _check_header(data, name, limits)
    bdf = data[:1] == b"\xff"
    try:
        rec = _open(data, bdf)
    except Exception as exc:  # noqa: BLE001 -- edfio's ValueError etc. on a damaged header: one line
        raise bad_file(name, "an EDF/BDF recording", exc, _TODO) from None
    signals: list[edfio.EdfSignal | edfio.BdfSignal] = list(rec.signals)
    groups: dict[float, list[int]] = {}
    for i, s in enumerate(signals):
        groups.setdefault(float(s.sampling_frequency), []).append(i)
    labels = unique_names([s.label for s in rec.signals])
    parts = {f"{rate:g} Hz: {listed([labels[i] for i in idx], 4)}": (rate, idx) for rate, idx in groups.items()}
    names = list(parts)
    chosen = choose_part(names, part, name, "signal")
    rate, idx = parts[chosen]
    cols = {labels[i]: np.asarray(rec.signals[i].data, dtype=np.float64) for i in idx}
    n = min(len(v) for v in cols.values())
    frame = pd.DataFrame({TIME_NAME: seconds(n, rate), **{k: v[:n] for k, v in cols.items()}})
    units = {labels[i]: cut(rec.signals[i].physical_dimension, 40) for i in idx}
    notes = parts_note(names, chosen, "rate group") + _annotation_notes(rec)
    kind = "BDF" if bdf else ("EDF+" if str(getattr(rec, "reserved", "")).startswith("EDF+") else "EDF")
    return table_from_frame(
        frame,
        name,
        limits,
        fmt="edf",
        details=f"{kind} recording, {chosen}",
        rates={labels[i]: rate for i in idx},
        units=units,
        parts=names,
        part=chosen,
        notes=notes,
        origin={"data": data, "bdf": bdf, "signals": {labels[i]: i for i in idx}},
    )


def _annotation_notes(rec: object) -> list[str]:
    annotations = list(getattr(rec, "annotations", ()) or ())
    if not annotations:
        return []
    shown = "; ".join(f"{cut(a.text, 60)!r} at {a.onset:g} s" for a in annotations[:_MAX_NOTED])
    more = f" and {len(annotations) - _MAX_NOTED:,} more" if len(annotations) > _MAX_NOTED else ""
    return [f"{counted(len(annotations), 'annotation')}: {shown}{more} (kept in a written EDF)."]


def write_edf(table: SeriesTable, denoised: dict[str, np.ndarray]) -> bytes:
    """The input's header, signals and annotations; denoised signals in place of their originals.

    Values are clipped to each signal's physical range, so the header is unchanged. A table
    from another format becomes an EDF with one signal per value and denoised column.
    """
    import edfio

    buffer = io.BytesIO()
    origin = table.origin if isinstance(table.origin, dict) and "signals" in table.origin else None
    if origin is None:
        rate = next(iter(set(table.report.rates.values())), None)
        if rate is None:
            rate = rate_of(table)
        sigs = []
        for col in table.values.columns:
            for label, values in ((str(col), table.column(col)), (f"{col} dn", denoised.get(col))):
                if values is not None:
                    sigs.append(
                        edfio.EdfSignal(
                            np.nan_to_num(np.asarray(values, np.float64)),
                            float(rate),
                            label=label[:16],
                            physical_dimension=table.report.units.get(col, "")[:8],
                        )
                    )
        edfio.Edf(sigs).write(buffer)
        return buffer.getvalue()
    rec = _open(origin["data"], origin["bdf"])
    for col, i in origin["signals"].items():
        if col in denoised:
            sig = rec.signals[i]
            lo, hi = sig.physical_range
            values = np.clip(np.nan_to_num(np.asarray(denoised[col], np.float64)), min(lo, hi), max(lo, hi))
            full = np.asarray(sig.data, dtype=np.float64).copy()
            full[: values.size] = values
            sig.update_data(full, keep_physical_range=True)
    rec.write(buffer)
    return buffer.getvalue()
