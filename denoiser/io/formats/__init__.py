"""Instrument and lab file formats beyond CSV: one registry record per format.

`read_series` asks `detect` first (magic bytes, then the extension for the formats that have
no magic); a recognised file goes to its format's reader, anything else down the CSV path,
which refuses unknown binaries naming the formats listed here. Every reader gives the same
`SeriesTable` (value columns, time axis, `signal_columns`, a report with format, rates,
units and parts), so every page, the CLI and a batch work unchanged.

`write_like` writes a denoised table back in a format picked by the output's extension (or
the input's own format): signal files (WAV, FLAC, EDF, TDMS) with the denoised channels in
place of the originals and the same header, rate and sample type; table files (Parquet,
Excel, HDF5, MAT) with the CSV's columns (time, values, ``NAME_denoised``); else CSV.

Adding a format is one `Format` record in `FORMATS` plus its module (see CONTRIBUTING.md).
Every library is imported inside the reader that needs it, so ``import denoiser.io`` stays
numpy/pandas only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import numpy as np

from denoiser.errors import InputError
from denoiser.io.formats import audio, edf, excel, hdf5, matlab, seismic, tables, tdms
from denoiser.io.formats._build import MAX_VALUES, Limits, article, bad_file
from denoiser.io.table import SeriesTable
from denoiser.io.writer import to_csv_bytes

__all__ = [
    "FORMATS",
    "Format",
    "MAX_VALUES",
    "detect",
    "output_bytes",
    "output_suffix",
    "read_format",
    "suffix_for",
    "supported",
    "write_like",
    "writable",
]

# reader(data, name, part, limits) -> SeriesTable, and writer(table, denoised) -> bytes
Reader = Callable[[bytes, "str | None", "str | None", Limits], SeriesTable]
Writer = Callable[[SeriesTable, "dict[str, np.ndarray]"], bytes]


@dataclass(frozen=True)
class Format:
    """One file format: how it is recognised, read and written back.

    Attributes
    ----------
    key : str
        Stable name (``ReadReport.format``), e.g. ``"wav"``.
    label : str
        For people: "WAV audio".
    extensions : tuple of str
        Lower-case, with the dot; the first is used for outputs.
    magic : callable or None
        ``magic(data) -> bool`` on the file's bytes; None: recognised by extension only.
    reader : callable
        ``reader(data, name, part, limits) -> SeriesTable``.
    writer : callable or None
        ``writer(table, denoised) -> bytes``; None: written back as CSV.
    library : str
        The PyPI package(s) it uses.
    optional : bool
        The library is not in requirements.txt; the reader says how to install it.
    kept : str
        What a write-back keeps (README's table).
    """

    key: str
    label: str
    extensions: tuple[str, ...]
    magic: Callable[[bytes], bool] | None
    reader: Reader
    writer: Writer | None
    library: str
    optional: bool = False
    kept: str = ""


FORMATS: dict[str, Format] = {
    f.key: f
    for f in (
        Format(
            "xlsx",
            "Excel workbook",
            (".xlsx", ".xlsm"),
            excel.is_xlsx,
            excel.read_xlsx,
            excel.write_xlsx,
            "python-calamine (read), XlsxWriter (write)",
            kept="one sheet: the CSV's columns (time, values, NAME_denoised)",
        ),
        Format(
            "xls",
            "Excel 97-2003 workbook",
            (".xls",),
            excel.is_xls,
            excel.read_xls,
            None,
            "python-calamine",
            kept="written as CSV (no .xls writer)",
        ),
        Format(
            "ods",
            "OpenDocument spreadsheet",
            (".ods",),
            excel.is_ods,
            excel.read_ods,
            None,
            "python-calamine",
            kept="written as CSV (no .ods writer)",
        ),
        Format(
            "parquet",
            "Parquet table",
            (".parquet", ".pq"),
            tables.is_parquet,
            tables.read_parquet,
            tables.write_parquet,
            "pyarrow",
            kept="the CSV's columns, datetimes as datetimes",
        ),
        Format(
            "hdf5",
            "HDF5 file",
            (".h5", ".hdf5", ".hdf", ".he5"),
            hdf5.is_hdf5,
            hdf5.read_hdf5,
            hdf5.write_hdf5,
            "h5py",
            kept="one dataset per column, with its unit and rate as attributes",
        ),
        Format(
            "mat",
            "MATLAB MAT-file",
            (".mat",),
            matlab.is_mat,
            matlab.read_mat,
            matlab.write_mat,
            "scipy.io (v4-v7.2), h5py (v7.3)",
            kept="one variable per column (v5 file)",
        ),
        Format(
            "wav",
            "WAV audio",
            (".wav", ".wave"),
            audio.is_wav,
            audio.read_audio,
            audio.write_wav,
            "soundfile (libsndfile)",
            kept="same rate, channels and sample type (integer PCM stays integer)",
        ),
        Format(
            "flac",
            "FLAC audio",
            (".flac",),
            audio.is_flac,
            audio.read_audio,
            audio.write_flac,
            "soundfile (libsndfile)",
            kept="same rate, channels and bit depth",
        ),
        Format(
            "tdms",
            "LabVIEW TDMS file",
            (".tdms",),
            tdms.is_tdms,
            tdms.read_tdms,
            tdms.write_tdms,
            "npTDMS",
            kept="every group and channel with its properties; denoised channels replace the originals",
        ),
        Format(
            "edf",
            "EDF/BDF recording",
            (".edf", ".bdf"),
            edf.is_edf,
            edf.read_edf,
            edf.write_edf,
            "edfio",
            kept="the same header, every signal, annotations; denoised signals replace the originals",
        ),
        Format(
            "mseed",
            "miniSEED waveform",
            (".mseed", ".miniseed", ".ms"),
            None,
            seismic.read_seismic,
            None,
            "obspy (optional, not installed by requirements.txt)",
            optional=True,
            kept="written as CSV",
        ),
        Format(
            "sac",
            "SAC waveform",
            (".sac",),
            None,
            seismic.read_seismic,
            None,
            "obspy (optional, not installed by requirements.txt)",
            optional=True,
            kept="written as CSV",
        ),
    )
}


def supported() -> str:
    """'.xlsx, .xlsm, .xls, ...': every extension read, for messages, in registry order."""
    return ", ".join(ext for f in FORMATS.values() for ext in f.extensions)


def _suffix(name: str | os.PathLike[str] | None) -> str:
    return os.path.splitext(os.fsdecode(name))[1].lower() if name else ""


def by_suffix(suffix: str) -> Format | None:
    """The format whose extensions include ``suffix`` (e.g. ``".wav"``), or None."""
    suffix = suffix.lower()
    return next((f for f in FORMATS.values() if suffix in f.extensions), None)


def detect(data: bytes, name: str | None) -> Format | None:
    """The format of a file: by its magic bytes, else by extension for formats without magic.

    Parameters
    ----------
    data : bytes
        The file's content (only its first and last bytes are looked at).
    name : str or None
        The file's name, for its extension.

    Returns
    -------
    Format or None
        None: CSV-like text, or an unknown binary (the CSV path says which).
    """
    for fmt in FORMATS.values():
        if fmt.magic is not None and fmt.magic(data):
            return fmt
    named = by_suffix(_suffix(name))
    # By extension: formats without magic (MAT v4, SAC, miniSEED), and a binary file named like a
    # format (its reader then says what is wrong with it). Text named .mat still goes the CSV way.
    if named is not None and (named.magic is None or b"\x00" in data[:1024]):
        return named
    return None


def read_format(fmt: Format, data: bytes, name: str | None, part: str | None, limits: Limits) -> SeriesTable:
    """Run ``fmt``'s reader; a library's own exception becomes one `InputError` line naming the format."""
    try:
        return fmt.reader(data, name, part, limits)
    except InputError:
        raise
    except MemoryError:
        raise InputError(
            f"The file {name!r} needs more memory than is available. Export a shorter stretch or fewer channels."
        ) from None
    except Exception as exc:  # noqa: BLE001 -- a library's parser on a damaged file: its reason, one line
        raise bad_file(
            name,
            article(fmt.label),
            f"{type(exc).__name__}: {exc}",
            "Check that the file is complete, or export the signal as CSV.",
        ) from None


def writable(suffix: str) -> bool:
    """Whether ``write_like`` writes ``suffix`` in its own format (else CSV)."""
    fmt = by_suffix(suffix)
    return fmt is not None and fmt.writer is not None


def output_suffix(suffix: str) -> str:
    """The extension a batch output of an input with ``suffix`` gets: its own, or ``.csv`` where no writer exists."""
    fmt = by_suffix(suffix)
    return ".csv" if fmt is not None and fmt.writer is None else suffix


def suffix_for(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The output format of ``path`` as an extension: ``fmt`` ("csv", "parquet") if given, else the
    path's own extension where it names a format, else ``".csv"``."""
    if fmt is not None:
        return f".{fmt}"
    suffix = _suffix(path)
    return suffix if by_suffix(suffix) is not None else ".csv"


def output_bytes(table: SeriesTable, denoised: dict[str, np.ndarray], suffix: str | None = None) -> bytes:
    """The denoised table as a file of the format ``suffix`` names (default: the input's own).

    Parameters
    ----------
    table : SeriesTable
    denoised : dict of str to numpy.ndarray
        Denoised columns by name, each as long as the table.
    suffix : str, optional
        ``".wav"``, ``".csv"``... A CSV-like or unknown suffix gives CSV (byte-identical to
        `denoiser.io.to_csv_bytes`).

    Returns
    -------
    bytes

    Raises
    ------
    InputError
        A format that has no writer (``.xls``, ``.ods``, miniSEED), or a table the format
        cannot hold (a WAV without a sample rate).
    """
    if suffix is None:
        own = FORMATS.get(table.report.format)
        fmt = own if own is not None and own.writer is not None else None
    else:
        fmt = by_suffix(suffix)
        if fmt is not None and fmt.writer is None:
            raise InputError(
                f"{fmt.label} files ({suffix}) cannot be written here. Write the result as .csv"
                + (" or .xlsx" if fmt.key in ("xls", "ods") else "")
                + " instead."
            )
    writer = None if fmt is None else fmt.writer  # (a format without a writer was refused or became None)
    if writer is None:
        return to_csv_bytes(table, denoised)
    rows = len(table.values)
    for key, arr in denoised.items():
        if np.shape(arr) != (rows,):
            raise InputError(
                f"The denoised signal {key!r} has shape {np.shape(arr)}, but the table has {rows:,} "
                "rows. Denoise the column again before saving."
            )
    return writer(table, denoised)


def write_like(
    dest: str | os.PathLike[str] | IO[bytes],
    table: SeriesTable,
    denoised: dict[str, np.ndarray],
    *,
    suffix: str | None = None,
) -> str:
    """Write the denoised table in the format its path's extension names (or the input's own, or ``suffix``).

    Parameters
    ----------
    dest : path or binary file-like
        Where to write. A path's extension picks the format (``out.wav``); ``.csv`` and
        unknown extensions write CSV, exactly as `write_series`.
    table : SeriesTable
        The table that was denoised (its `origin` carries the input's header).
    denoised : dict of str to numpy.ndarray
        Denoised columns by name.
    suffix : str, optional
        Force a format by extension (for buffers, which have none).

    Returns
    -------
    str
        The format written: a registry key or ``"csv"``.
    """
    if suffix is None and isinstance(dest, (str, os.PathLike)):
        suffix = suffix_for(dest)
    data = output_bytes(table, denoised, suffix)
    if isinstance(dest, (str, os.PathLike)):
        with open(dest, "wb") as handle:
            handle.write(data)
    else:
        dest.write(data)
    fmt = by_suffix(suffix) if suffix is not None else FORMATS.get(table.report.format)
    return fmt.key if fmt is not None and fmt.writer is not None else "csv"
