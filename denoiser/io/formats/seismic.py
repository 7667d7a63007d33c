"""miniSEED and SAC through ObsPy: an optional extra, not installed by requirements.txt.

ObsPy pulls in matplotlib, lxml, SQLAlchemy and more (about 100 MB) for two formats most
users never see, so it is not pinned: ``pip install obspy`` adds it, and without it these
files are refused with a message that says so. Parts are traces ("BW.RJOB..EHZ, 100 Hz").
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from denoiser.errors import InputError
from denoiser.io._common import the_file
from denoiser.io.formats._build import (
    TIME_NAME,
    Limits,
    bad_file,
    check_values,
    choose_part,
    parts_note,
    seconds,
    table_from_frame,
)
from denoiser.io.table import SeriesTable
from denoiser.text import cut


def read_seismic(data: bytes, name: str | None, part: str | None, limits: Limits) -> SeriesTable:
    """Read one trace of a miniSEED or SAC file (needs ObsPy)."""
    try:
        import obspy
    except Exception:  # noqa: BLE001 -- missing, or installed without its dependencies
        raise InputError(
            f"{the_file(name)} is a miniSEED or SAC waveform, which needs the optional package ObsPy: "
            "run `pip install obspy`, or export the trace as CSV."
        ) from None
    try:
        headers = obspy.read(io.BytesIO(data), headonly=True)
    except Exception as exc:  # noqa: BLE001 -- ObsPy's many reader errors: one line
        raise bad_file(name, "a miniSEED or SAC waveform", exc, "Export the trace again, or as CSV.") from None
    total = sum(int(tr.stats.npts) for tr in headers)
    check_values(total, limits, name, f"declares {total:,} samples in {len(headers):,} traces")
    names = [f"{cut(tr.id, 60)} ({tr.stats.sampling_rate:g} Hz)#{i + 1}" for i, tr in enumerate(headers)]
    names = [
        n.rsplit("#", 1)[0] if sum(m.rsplit("#", 1)[0] == n.rsplit("#", 1)[0] for m in names) == 1 else n for n in names
    ]
    chosen = choose_part(names, part, name, "trace")
    trace = obspy.read(io.BytesIO(data))[names.index(chosen)]
    rate = float(trace.stats.sampling_rate)
    values = np.asarray(trace.data, dtype=np.float64)
    frame = pd.DataFrame({TIME_NAME: seconds(values.size, rate), cut(trace.id, 60) or "trace": values})
    return table_from_frame(
        frame,
        name,
        limits,
        fmt="mseed",
        details=f"seismic waveform, trace {chosen!r}",
        rates={frame.columns[1]: rate},
        parts=names,
        part=chosen,
        notes=parts_note(names, chosen, "trace"),
    )
