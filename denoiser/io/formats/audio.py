"""WAV and FLAC (soundfile, i.e. libsndfile): channels, the sample rate and the sample type.

Integer PCM is read as the integers the file holds (a 16-bit sample is -32768..32767, a 24-bit
one -8388608..8388607) and written back as integers of the same width, rounded and clipped;
float files stay floats. libsndfile counts frames from the data actually present, so a WAV
header claiming 4 GB on a short file yields only what is there; the count is checked
against the limit before a sample is decoded.
"""

from __future__ import annotations

import io
import struct
from typing import Any

import numpy as np
import pandas as pd

from denoiser.errors import InputError
from denoiser.io._common import the_file
from denoiser.io.formats._build import (
    TIME_NAME,
    Limits,
    bad_file,
    check_columns,
    check_values,
    seconds,
    table_from_frame,
)
from denoiser.io.table import SeriesTable

# Integer subtypes: (dtype soundfile reads, right shift to the file's own integers, (lo, hi), words)
_INTEGER = {
    "PCM_U8": ("int16", 8, (-128, 127), "8-bit integer PCM"),
    "PCM_S8": ("int16", 8, (-128, 127), "8-bit integer PCM"),
    "PCM_16": ("int16", 0, (-(2**15), 2**15 - 1), "16-bit integer PCM"),
    "PCM_24": ("int32", 8, (-(2**23), 2**23 - 1), "24-bit integer PCM"),
    "PCM_32": ("int32", 0, (-(2**31), 2**31 - 1), "32-bit integer PCM"),
}
_FLOAT_WORDS = {"FLOAT": "32-bit float", "DOUBLE": "64-bit float"}


def is_wav(data: bytes) -> bool:
    """A RIFF, RIFX or RF64 container of WAVE data."""
    return data[:4] in (b"RIFF", b"RIFX", b"RF64") and data[8:12] == b"WAVE"


def is_flac(data: bytes) -> bool:
    """A FLAC stream: it starts with ``fLaC``."""
    return data.startswith(b"fLaC")


def read_audio(data: bytes, name: str | None, part: str | None, limits: Limits) -> SeriesTable:
    """Read a WAV or FLAC file: one column per channel (``ch1``, ``ch2``...) and the time in seconds.

    Parameters
    ----------
    data : bytes
        The file.
    name : str or None
    part : str or None
        Unused (one part).
    limits : Limits

    Returns
    -------
    SeriesTable
        ``origin`` holds the format, subtype and rate, for `write_wav` / `write_flac`.
    """
    import soundfile as sf

    kind = "FLAC audio" if is_flac(data) else "WAV audio"
    if data[:4] in (b"RIFF", b"RIFX"):
        _check_data_chunk(data, name)
    try:
        info = sf.info(io.BytesIO(data))
    except (RuntimeError, sf.LibsndfileError) as exc:
        reason = str(exc).split(">: ", 1)[-1]  # "Error opening <_io.BytesIO object at 0x...>: reason"
        raise bad_file(
            name, f"a {kind} file", reason, "Check that the recording was saved completely, or export it again."
        ) from None
    check_columns(info.channels, limits, name)
    check_values(
        int(info.frames) * int(info.channels), limits, name, f"holds {info.frames:,} frames of {info.channels} channels"
    )
    if info.frames < 2:
        raise InputError(
            f"{the_file(name)} holds {info.frames} audio frames; denoising needs at least 2. Choose a longer recording."
        )
    spec = _INTEGER.get(info.subtype)
    with sf.SoundFile(io.BytesIO(data)) as f:
        if spec is not None:
            raw = f.read(dtype=spec[0], always_2d=True)
            samples = (raw.astype(np.int64) >> spec[1]).astype(np.float64)
            words = spec[3]
        else:
            samples = f.read(dtype="float64", always_2d=True)
            words = _FLOAT_WORDS.get(info.subtype, f"{info.subtype_info} (decoded to floats)")
    names = [f"ch{i + 1}" for i in range(samples.shape[1])]
    frame = pd.DataFrame(
        {TIME_NAME: seconds(samples.shape[0], info.samplerate), **{n: samples[:, i] for i, n in enumerate(names)}}
    )
    origin = {"format": info.format, "subtype": info.subtype, "rate": int(info.samplerate), "channels": names}
    return table_from_frame(
        frame,
        name,
        limits,
        fmt="flac" if is_flac(data) else "wav",
        details=f"{kind}, {words}, {info.channels} channel{'s' if info.channels > 1 else ''}",
        rates={n: info.samplerate for n in names},
        origin=origin,
    )


def _check_data_chunk(data: bytes, name: str | None) -> None:
    """Refuse a WAV whose data chunk declares more bytes than the file holds (a cut recording or a lie).

    0 and 0xFFFFFFFF are the placeholders of a recorder still streaming: libsndfile then reads
    to the end of the file, which is what such a file holds.
    """
    endian = "<" if data[:4] == b"RIFF" else ">"
    at = 12
    while at + 8 <= len(data):
        chunk, size = data[at : at + 4], struct.unpack(endian + "I", data[at + 4 : at + 8])[0]
        if chunk == b"data":
            held = len(data) - at - 8
            if size not in (0, 0xFFFFFFFF) and size > held + 1:
                raise InputError(
                    f"{the_file(name)} declares {size:,} bytes of samples but holds only {held:,}: the recording "
                    "was cut short or its header is damaged. Export it again from the recorder."
                )
            return
        at += 8 + size + (size & 1)


def _write(table: SeriesTable, denoised: dict[str, np.ndarray], container: str) -> bytes:
    """The channels (denoised ones in place of their originals) at the input's rate and sample type."""
    import soundfile as sf

    origin: dict[str, Any] = table.origin if isinstance(table.origin, dict) and "subtype" in table.origin else {}
    rate = origin.get("rate") or rate_of(table)
    own: str | None = origin.get("subtype")
    if container == "FLAC":
        subtype = own if own in ("PCM_16", "PCM_24", "PCM_S8") else "PCM_24"
    else:
        subtype = own or "FLOAT"
    names = list(table.values.columns)
    channels = np.column_stack(
        [np.asarray(denoised.get(c, table.values[c].to_numpy()), dtype=np.float64) for c in names]
    )
    channels = np.nan_to_num(channels, nan=0.0)  # a gap in audio is silence
    spec = _INTEGER.get(subtype)
    buffer = io.BytesIO()
    if spec is not None:
        lo, hi = spec[2]
        ints = np.clip(np.rint(channels), lo, hi).astype(np.int64) << spec[1]
        sf.write(buffer, ints.astype(spec[0]), rate, subtype=subtype, format=container)
    else:
        sf.write(buffer, channels, rate, subtype=subtype, format=container)
    return buffer.getvalue()


def rate_of(table: SeriesTable) -> int:
    """The sample rate of a table from another format: its report's rate, or its time column's step.

    Raises
    ------
    InputError
        Neither is there (an audio or EDF file cannot be written without a rate).
    """
    rates = set(table.report.rates.values())
    if len(rates) == 1:
        return int(round(rates.pop()))
    time = table.time
    if time is not None and not pd.api.types.is_datetime64_any_dtype(time.dtype) and len(time) > 1:
        step = float(np.median(np.diff(time.to_numpy(dtype=np.float64))))
        if step > 0 and 1 <= 1 / step <= 10_000_000:
            return int(round(1 / step))
    raise InputError(
        "Audio files need a sample rate, and this table has none (no rate in the file and no "
        "evenly spaced time column in seconds). Write the result as .csv instead."
    )


def write_wav(table: SeriesTable, denoised: dict[str, np.ndarray]) -> bytes:
    """WAV bytes: the input's rate and sample type (integer PCM rounded and clipped), one channel per column."""
    return _write(table, denoised, "WAV")


def write_flac(table: SeriesTable, denoised: dict[str, np.ndarray]) -> bytes:
    """FLAC bytes: the input's rate and bit depth (24-bit for tables from other formats)."""
    return _write(table, denoised, "FLAC")
