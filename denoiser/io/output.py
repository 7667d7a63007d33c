"""Writing denoised tables safely: never over an input, atomically, with a record for reruns.

Every writer of denoised tables (the one-file CLI, each file of a batch, the table service
:mod:`denoiser.apply`) goes through :func:`write_output`: it refuses an output that is an input
(by path, link or hard link) or a folder, writes through a hidden temporary file in the same
folder and renames it into place (atomic on one file system), and writes into a pipe or a
device (``-o /dev/stdout``) instead of renaming over it. A batch also passes a *record* (what
the output was made from and with), kept in a hidden file beside it: a rerun redoes a truncated
or differently made output, and never replaces a file that no batch wrote.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import stat
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from denoiser.errors import InputError
from denoiser.text import MAX_PATH_ECHO, quoted

__all__ = [
    "RECORD_SUFFIX",
    "TEMP_SUFFIX",
    "atomic_write",
    "check_output",
    "file_sha256",
    "read_record",
    "record_path",
    "write_output",
    "written_by_us",
]

TEMP_SUFFIX = ".partial"

RECORD_SUFFIX = ".denoiser.json"  # beside each output: ".NAME.denoiser.json", what made it (hidden, like temp files)
RECORD_VERSION = 1


_NAME_BYTES = 180  # a hidden name longer than this is shortened: file names end at 255 bytes


def _hidden_base(dst: Path) -> str:
    """``dst``'s name for the hidden files beside it; a long one cut and made unique by its hash."""
    name = dst.name
    if len(name.encode("utf-8", "surrogateescape")) <= _NAME_BYTES:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"{name.encode('utf-8', 'surrogateescape')[:100].decode('utf-8', 'ignore')}~{digest}"


def record_path(dst: Path) -> Path:
    """Where the record of how ``dst`` was made lives: a hidden file beside it."""
    return dst.with_name(f".{_hidden_base(dst)}{RECORD_SUFFIX}")


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, read in 1 MB steps."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_record(dst: Path) -> dict[str, Any] | None:
    """The record beside ``dst`` (what made it), or None when there is none or it is unreadable or of another version."""
    try:
        with open(record_path(dst), encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("version") == RECORD_VERSION else None


def written_by_us(dst: Path) -> bool:
    """Whether a batch may replace ``dst``: it does not exist, or a batch wrote it (its record is there)."""
    return not os.path.lexists(dst) or read_record(dst) is not None


def check_output(dst: Path, inputs: Iterable[str | os.PathLike[str]]) -> None:
    """Refuse an output path that is (or resolves to, or is a hard link of) one of ``inputs``, or a folder.

    The one check every writer of denoised tables runs before writing: the one-file CLI
    (``denoise x.csv -o x.csv``) and each file of a batch.

    Raises
    ------
    InputError
    """
    if os.path.isdir(dst):
        raise InputError(f"The output {quoted(str(dst), MAX_PATH_ECHO)} is a folder; give a file name.")
    real = os.path.realpath(dst)
    for src in inputs:
        same = os.path.realpath(src) == real
        if not same and os.path.exists(dst):
            try:
                same = os.path.samefile(src, dst)
            except OSError:
                same = False
        if same:
            raise InputError(
                f"The output {quoted(str(dst), MAX_PATH_ECHO)} is the input file "
                f"{quoted(str(src), MAX_PATH_ECHO)}; writing it would destroy the recording. "
                "Give another output name."
            )


def write_output(
    dst: str | os.PathLike[str],
    data: bytes,
    inputs: Iterable[str | os.PathLike[str]],
    record: dict[str, Any] | None = None,
) -> None:
    """Write a denoised table: :func:`check_output`, then atomically; with ``record`` (a batch), the
    file is replaced only if a batch wrote it, and the record of how it was made is written first.

    Parameters
    ----------
    dst : output path
    data : the file's bytes
    inputs : the input file(s) it was made from (never overwritten)
    record : a batch's fingerprint ``{"input": sha256, "settings": {...}}``; None for a one-file run

    Raises
    ------
    InputError
        If ``dst`` is an input, a folder, or (batch) a file no batch wrote.
    OSError
        From the file system, with the output's path as its file name.
    """
    dst = Path(dst)
    check_output(dst, inputs)
    if os.path.exists(dst) and not stat.S_ISREG(os.stat(dst).st_mode):  # /dev/stdout, a pipe: no rename
        if record is not None:
            raise InputError(f"{quoted(str(dst), MAX_PATH_ECHO)} is not a regular file; a batch writes files only.")
        with open(dst, "wb") as handle:
            handle.write(data)
        return
    if record is not None and not written_by_us(dst):
        raise InputError(
            f"{quoted(str(dst), MAX_PATH_ECHO)} exists and was not written by a Denoiser batch; it is "
            "not replaced. Move it away or choose another output folder."
        )
    if record is not None:  # the record first: a crash between the two leaves a claimed, checkable path
        full = {"version": RECORD_VERSION, **record, "output": hashlib.sha256(data).hexdigest()}
        atomic_write(record_path(dst), json.dumps(full, sort_keys=True).encode())
    atomic_write(dst, data)


def _temp_name(dst: Path) -> str:
    return f".{_hidden_base(dst)}.{os.getpid()}.{threading.get_ident()}{TEMP_SUFFIX}"


def _is_temp_of(name: str, dst: Path) -> bool:
    """Whether ``name`` is a temporary file of ``dst`` (``.NAME.<pid>.<thread>.partial``), not of ``NAME.x.csv``."""
    prefix = f".{_hidden_base(dst)}."
    if not (name.startswith(prefix) and name.endswith(TEMP_SUFFIX)):
        return False
    middle = name[len(prefix) : -len(TEMP_SUFFIX)].split(".")
    return len(middle) == 2 and all(part.isdigit() for part in middle)


def atomic_write(dst: Path, data: bytes) -> None:
    """Write ``data`` to ``dst`` through a hidden temporary file in the same folder, then rename.

    A crash at any point leaves either the old ``dst`` (or none) or the complete new one,
    never a part; the temporary file is removed on an error (a killed process may leave
    one, named ``.NAME.<pid>.<thread>.partial``, which the next run of that file removes:
    exactly that pattern, so ``a.csv`` never removes one of ``a.csv.x.csv``). An error from
    the file system names ``dst`` (a full disk is the output's problem, not the input's).
    """
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        for stale in dst.parent.glob(f".{glob.escape(_hidden_base(dst))}.*{TEMP_SUFFIX}"):
            if _is_temp_of(stale.name, dst):
                try:
                    stale.unlink()
                except OSError:
                    pass
    except OSError as err:
        raise OSError(err.errno, err.strerror or str(err), str(dst)) from None
    tmp = dst.with_name(_temp_name(dst))
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # the rename must not reach the disk before the data
        os.replace(tmp, dst)
    except BaseException as err:
        try:
            tmp.unlink()
        except OSError:
            pass
        if isinstance(err, OSError):
            raise OSError(err.errno, err.strerror or str(err), str(dst)) from None
        raise
