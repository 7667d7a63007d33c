"""Denoise many files on a Dask cluster: ``python -m denoiser denoise 'dir/**/*.csv' -o out/``.

One task per file. By default a `dask.distributed.LocalCluster` with one worker process
per core (one thread each, so NumPy, SciPy and TensorFlow do not oversubscribe the
cores); ``scheduler="tcp://host:8786"`` sends the same tasks to a running cluster, whose
workers need this package and the model file (a path they can read, or a bundled name).

Each worker loads a model once (a per-process cache, warmed on every worker before the
first file) and keeps it for all its files. A file that cannot be read or denoised is
recorded with its one-line reason and the batch goes on. Outputs are written to a hidden
temporary file in the output folder and renamed into place (`os.replace`, atomic on one
file system), so an interrupted batch never leaves a half-written output; a rerun skips
inputs whose output is newer and redoes only the rest. ``summary.csv`` in the output
folder has one line per file.

Nothing here imports Streamlit; TensorFlow is imported only on the workers.
"""
from __future__ import annotations

import csv
import fnmatch
import glob
import hashlib
import json
import io
import math
import os
import stat
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable

from denoiser.errors import InputError
from denoiser.text import MAX_PATH_ECHO, cut, listed, printable, quoted

__all__ = ["BatchOptions", "BatchReport", "Inputs", "SUMMARY_FIELDS", "check_output", "expand_inputs", "is_done", "plan",
           "process_file", "write_output",
           "run_batch", "warm", "exit_status", "MAX_EXIT_STATUS"]

SUMMARY_NAME = "summary.csv"
SUMMARY_FIELDS = ("file", "output", "status", "rows", "columns", "sigma", "sigma_source", "estimated_gain_db",
                  "gain_band_db", "trusted", "method", "seconds", "error")
MAX_EXIT_STATUS = 100  # exit status = failed files, at most this (shells keep 126+ for themselves)
TEMP_SUFFIX = ".partial"
_SEP = " | "  # joins per-column values in a summary line (one line per file)


@dataclass(frozen=True)
class BatchOptions:
    """How every file of a batch is denoised (the `denoise` command's options).

    Attributes
    ----------
    model : str
        ``"default"``, ``"parabola"``, a ``.keras`` path readable by every worker, or
        ``"none"``: the automatic pipeline's classical candidates only (no TensorFlow).
    columns : tuple of str or None
        Columns to denoise; None = the file's signal columns (`SeriesTable.signal_columns`: no
        index, time, year or clean reference column). A file without a named column fails.
    sigma : float or None
        Known noise standard deviation, used for every column.
    quiet : (int, int) or None
        Sample range of a quiet stretch, in every file.
    raw : bool
        The network alone, without the automatic pipeline's no-harm check.
    seed : int
        Seed of the risk estimate's random probes (the same for every file, so a file's
        output does not depend on which worker ran it or in what order).
    fmt : {"csv", "parquet"}
        Output format: "csv" keeps each file's own format where a writer exists (a WAV stays a
        WAV, an EDF an EDF; CSV-like text and formats without a writer give CSV); "parquet" for all.
    """

    model: str = "default"
    columns: tuple[str, ...] | None = None
    sigma: float | None = None
    quiet: tuple[int, int] | None = None
    raw: bool = False
    seed: int = 0
    fmt: str = "csv"

    def __post_init__(self) -> None:
        if self.fmt not in ("csv", "parquet"):
            raise InputError(f"--format is csv or parquet, not {self.fmt!r}.")
        if self.raw and self.model == "none":
            raise InputError("--raw applies the network alone; it needs a model, not --model none.")


@dataclass
class BatchReport:
    """What a batch did.

    Attributes
    ----------
    rows : list of dict
        One summary line per input (keys `SUMMARY_FIELDS`), in input order.
    done, skipped, failed : int
        Files denoised now, skipped (output up to date: see `is_done`), failed.
    seconds : float
        Wall-clock time of the batch.
    summary : Path
        Where ``summary.csv`` was written.
    summary_error : str or None
        Why it could not be written.
    not_followed : int
        Symbolic links met while listing the patterns (each has a summary line).
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    done: int = 0
    skipped: int = 0
    failed: int = 0
    seconds: float = 0.0
    summary: Path | None = None
    summary_error: str | None = None   # why summary.csv could not be written (then ``summary`` is None)
    not_followed: int = 0              # symbolic links met while listing, not followed (summary lines)


def exit_status(report: BatchReport) -> int:
    """The CLI's exit status for a batch: 0 when every file is fine, else the failed files (at most 100);
    at least 1 when the summary could not be written."""
    return min(max(report.failed, int(report.summary_error is not None)), MAX_EXIT_STATUS)


# --------------------------------------------------------------------------- planning (client side)


MAX_INPUTS = 100_000  # files one batch lists at most: a listing must end, and the summary stay readable


@dataclass
class Inputs:
    """What the patterns matched: files, the folders they walked, and what was left out (with why)."""

    files: list[Path] = field(default_factory=list)
    trees: list[Path] = field(default_factory=list)     # folders a ** pattern walks: no output folder inside one
    links: list[Path] = field(default_factory=list)     # symbolic links met while listing: never followed


def expand_inputs(patterns: Iterable[str], *, found: Inputs | None = None) -> list[Path]:
    """Expand file names and glob patterns (``**`` matches folders at any depth).

    A pattern is listed with our own walk, not ``glob``: symbolic links met on the way are
    never followed (two links that point back up made ``glob`` list 2**40 paths, and a link
    to a file elsewhere was read and copied out), only recorded in ``found.links``. A file
    named on the command line is taken as given, a link included. Hidden files and folders
    (``.name``) match only a pattern part that starts with a dot, as with ``glob``.

    Parameters
    ----------
    patterns : iterable of str
        Paths or patterns, e.g. ``["recordings/**/*.csv"]``.
    found : Inputs, optional
        Filled in with the files, the folders the patterns list and the links left out.

    Returns
    -------
    list of Path
        Matching regular files, sorted, without duplicates (by real path).

    Raises
    ------
    InputError
        If a pattern matches nothing, a named file does not exist, or more than
        `MAX_INPUTS` files match.
    """
    found = found if found is not None else Inputs()
    seen: dict[str, Path] = {}
    for pattern in patterns:
        if glob.has_magic(pattern):
            base, parts = _split_pattern(pattern)
            links_before = len(found.links)
            files = sorted(_walk(base, parts, found), key=str)
            if "**" in parts:  # a walked tree: no output folder inside it (a rerun would list the outputs)
                found.trees.append(Path(base))
            if not files:
                more = (f" ({len(found.links) - links_before:,} symbolic link(s) there are not followed)"
                        if len(found.links) > links_before else "")
                raise InputError(f"No file matches {quoted(pattern, MAX_PATH_ECHO)}{more}; quote the pattern so the "
                                 "shell does not expand it, and check the folder.")
        else:
            if os.path.isdir(pattern):
                raise InputError(f"{quoted(pattern, MAX_PATH_ECHO)} is a folder; give a pattern such as "
                                 f"{quoted(pattern.rstrip('/') + '/**/*.csv', MAX_PATH_ECHO)}.")
            if not os.path.exists(pattern):
                raise InputError(f"No file named {quoted(pattern, MAX_PATH_ECHO)}.")
            files = [Path(pattern)]
        for f in files:
            seen.setdefault(os.path.realpath(f), f)
        if len(seen) > MAX_INPUTS:
            raise InputError(f"The patterns match more than {MAX_INPUTS:,} files; run the batch on smaller parts.")
    found.files = sorted(seen.values())
    return list(found.files)


def _split_pattern(pattern: str) -> tuple[str, list[str]]:
    """'rec/**/*.csv' -> ('rec', ['**', '*.csv']): the folder before the first wildcard, and the rest."""
    parts = pattern.replace(os.sep, "/").split("/")
    head: list[str] = []
    while parts and not glob.has_magic(parts[0]):
        head.append(parts.pop(0))
    base = "/".join(head) or ("/" if pattern.startswith("/") else ".")
    if pattern.startswith("/") and not base.startswith("/"):
        base = "/" + base
    return base, [p for p in parts if p != ""]


def _walk(folder: str, parts: list[str], found: Inputs) -> Iterable[Path]:
    """Files under ``folder`` whose path below it matches ``parts`` (fnmatch per part; ``**``: any depth)."""
    if not parts:
        return
    head, rest = parts[0], parts[1:]
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return  # unreadable or gone: nothing listed there, like glob
    here = (lambda e: e.name) if folder == "." else (lambda e: e.path)  # 'a.csv', not './a.csv', as glob
    if head == "**":
        yield from _walk(folder, rest, found)  # zero folders
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                if rest and entry.is_dir():  # a linked folder: not entered (loops, other trees)
                    found.links.append(Path(here(entry)))
                continue
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(here(entry), parts, found)  # one more folder, ** still to match
        return
    for entry in entries:
        if not fnmatch.fnmatchcase(entry.name, head) or (entry.name.startswith(".") and not head.startswith(".")):
            continue
        if entry.is_symlink():
            found.links.append(Path(here(entry)))
        elif not rest and entry.is_file(follow_symlinks=False):
            yield Path(here(entry))
        elif rest and entry.is_dir(follow_symlinks=False):
            yield from _walk(here(entry), rest, found)


def _output_for(path: Path, root: Path, out_dir: Path, fmt: str) -> Path:
    rel = Path(os.path.abspath(path)).relative_to(root)  # the name as listed: a link is not resolved
    from denoiser.io.formats import output_suffix  # each file keeps its format where a writer exists

    return out_dir / (rel.with_suffix(".parquet") if fmt == "parquet" else rel.with_suffix(output_suffix(rel.suffix)))


def _inside(path: Path, folder: Path) -> bool:
    """``path`` is ``folder`` or below it (both absolute, normalised)."""
    return path == folder or folder in path.parents


def plan(inputs: list[Path], out_dir: Path, fmt: str = "csv",
         trees: Iterable[Path] = ()) -> list[tuple[Path, Path]]:
    """Pair every input with its output path: the inputs' folder layout, mirrored under ``out_dir``.

    The output folder and the input tree are kept apart: an output folder that is a folder
    the inputs come from, or is inside a folder that a ``**`` pattern walks (``trees``), or
    that holds an input, is refused; so is any output path that resolves (links followed) to
    an input file. (``denoise 'in/**/*.csv' -o in/a`` once wrote ``in/b/x.csv``'s output over
    ``in/a/x.csv``.) Explicit files or ``dir/*.csv`` with ``-o dir/denoised`` stay allowed:
    nothing there can be an input, now or on a rerun.

    Raises
    ------
    InputError
        If the output folder overlaps the input tree, an output would be an input, or
        two inputs map to one output.
    """
    if not inputs:
        raise InputError("No input files; nothing to do.")
    out_abs = Path(os.path.abspath(out_dir))
    out_real = Path(os.path.realpath(out_dir))
    parents = {Path(os.path.abspath(p)).parent for p in inputs}
    walked = {Path(os.path.abspath(t)) for t in trees}
    parents |= {Path(os.path.realpath(f)) for f in parents}
    walked |= {Path(os.path.realpath(f)) for f in walked}
    for folder in sorted(parents | walked):
        inside = _inside if folder in walked else (lambda a, b: a == b)
        if inside(out_abs, folder) or inside(out_real, folder):
            raise InputError(f"The output folder {quoted(str(out_dir), MAX_PATH_ECHO)} is inside the input tree "
                             f"{quoted(str(folder), MAX_PATH_ECHO)}: outputs could replace input files, and a "
                             "rerun would read them as inputs. Choose an output folder outside it.")
    real_inputs = {os.path.realpath(p): p for p in inputs}
    for real, src in real_inputs.items():
        if _inside(Path(real), out_real) or _inside(Path(os.path.abspath(src)), out_abs):
            raise InputError(f"The input {quoted(str(src), MAX_PATH_ECHO)} is inside the output folder "
                             f"{quoted(str(out_dir), MAX_PATH_ECHO)}; choose an output folder that holds no input.")
    root = Path(os.path.commonpath([str(Path(os.path.abspath(p)).parent) for p in inputs]))
    pairs = [(p, _output_for(p, root, out_abs, fmt)) for p in inputs]
    seen: dict[Path, Path] = {}
    for src, dst in pairs:
        if os.path.realpath(dst) in real_inputs:
            raise InputError(f"The output for {quoted(str(src), MAX_PATH_ECHO)} would be the input file "
                             f"{quoted(real_inputs[os.path.realpath(dst)], MAX_PATH_ECHO)}; choose another output "
                             "folder.")
        if dst in seen:
            raise InputError(f"{quoted(str(seen[dst]), MAX_PATH_ECHO)} and {quoted(str(src), MAX_PATH_ECHO)} would "
                             f"both be written to {quoted(str(dst), MAX_PATH_ECHO)}.")
        if dst.name == SUMMARY_NAME and dst.parent == out_abs:
            raise InputError(f"An input named {SUMMARY_NAME} would be overwritten by the batch summary; rename it.")
        seen[dst] = src
    return pairs


# --------------------------------------------------------------------------- outputs: fingerprints, safe writes

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


def settings(options: BatchOptions) -> dict[str, Any]:
    """The options that decide an output's bytes, as JSON-able data; a model file by its content too."""
    out = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(options).items()}
    if options.model not in ("none", "default", "parabola"):
        try:
            out["model_sha256"] = file_sha256(options.model)
        except OSError:
            out["model_sha256"] = None  # a path only the workers can read: its name stands for it
    return out


def _read_record(dst: Path) -> dict[str, Any] | None:
    try:
        with open(record_path(dst), encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("version") == RECORD_VERSION else None


def is_done(src: Path, dst: Path, options: BatchOptions | None = None, *, setup: dict[str, Any] | None = None) -> bool:
    """True when ``dst`` is a complete output of this input with these settings (a rerun skips it).

    Its record (written with it) must name the input's SHA-256 and the same settings, and the
    output's own bytes must still have the SHA-256 the record gives: a truncated or garbage
    output, or one made with another model, sigma, columns or format, is redone.
    """
    record = _read_record(dst)
    if record is None:
        return False
    setup = setup if setup is not None else settings(options or BatchOptions())
    try:
        return (record.get("settings") == setup and record.get("input") == file_sha256(src)
                and record.get("output") == file_sha256(dst))
    except OSError:
        return False


def written_by_us(dst: Path) -> bool:
    """Whether a batch may replace ``dst``: it does not exist, or a batch wrote it (its record is there)."""
    return not os.path.lexists(dst) or _read_record(dst) is not None


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
            raise InputError(f"The output {quoted(str(dst), MAX_PATH_ECHO)} is the input file "
                             f"{quoted(str(src), MAX_PATH_ECHO)}; writing it would destroy the recording. "
                             "Give another output name.")


def write_output(dst: str | os.PathLike[str], data: bytes, inputs: Iterable[str | os.PathLike[str]],
                 record: dict[str, Any] | None = None) -> None:
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
        raise InputError(f"{quoted(str(dst), MAX_PATH_ECHO)} exists and was not written by a Denoiser batch; it is "
                         "not replaced. Move it away or choose another output folder.")
    if record is not None:  # the record first: a crash between the two leaves a claimed, checkable path
        full = {"version": RECORD_VERSION, **record, "output": hashlib.sha256(data).hexdigest()}
        _atomic_write(record_path(dst), json.dumps(full, sort_keys=True).encode())
    _atomic_write(dst, data)


# --------------------------------------------------------------------------- the task (worker side)

_MODELS: dict[str, Any] = {}
_MODEL_LOCK = threading.Lock()
LOADS = 0  # models loaded by this process (the tests check: one per worker)


def _limit_threads(worker: Any = None) -> None:
    """One worker per core: keep each worker's TensorFlow to its own thread count.

    Must run before TensorFlow's first op; later calls are refused by TF and ignored.
    ``worker``: the Dask worker when the caller has it (``client.run`` passes it as
    ``dask_worker``: there, unlike in a task, ``get_worker()`` finds none, and the limit was
    silently skipped, so each worker's TensorFlow took every core).
    """
    if worker is None:
        try:
            from distributed import get_worker

            worker = get_worker()
        except (ImportError, ValueError):
            return  # not on a Dask worker (a one-file run): TensorFlow's defaults
    threads = max(1, int(worker.state.nthreads))
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass  # already initialised by an earlier import in this process


def worker_model(spec: str, raw: bool = False, worker: Any = None) -> Any:
    """The model for ``spec``, loaded once per process and kept.

    Parameters
    ----------
    spec : str
        ``"default"``, ``"parabola"``, a ``.keras`` path, or ``"none"`` (no network).
    raw : bool
        Unused for the key; a model is the same object for both modes.
    worker : distributed.Worker, optional
        The Dask worker this runs on, when the caller has it (else found, in a task).

    Returns
    -------
    denoiser.core.Denoiser or False
        False for ``"none"``.
    """
    global LOADS
    if spec == "none":
        return False  # classical candidates only (the pipeline's model=False); no TensorFlow
    with _MODEL_LOCK:  # threads of one worker share it; only the first loads
        if spec not in _MODELS:
            _limit_threads(worker)
            from denoiser.bundled import RECIPES, pretrained
            from denoiser.core import Denoiser

            _MODELS[spec] = pretrained(spec) if spec in RECIPES else Denoiser.load(spec)
            LOADS += 1
        return _MODELS[spec]


def _one_line(text: object, limit: int = 400) -> str:
    return cut(text, limit)


SUMMARY_COLUMNS = 8  # per-column values a summary cell lists (then "and N more"): a row stays a row


def _joined(values: list[Any]) -> Any:
    """One value per column: the value itself for one column, else 'a | b' (the first few of a wide file)."""
    if len(values) == 1:
        return values[0]
    text = _SEP.join("" if v is None else str(v) for v in values[:SUMMARY_COLUMNS])
    return text + (f"{_SEP}… and {len(values) - SUMMARY_COLUMNS:,} more" if len(values) > SUMMARY_COLUMNS else "")


def _temp_name(dst: Path) -> str:
    return f".{_hidden_base(dst)}.{os.getpid()}.{threading.get_ident()}{TEMP_SUFFIX}"


def _is_temp_of(name: str, dst: Path) -> bool:
    """Whether ``name`` is a temporary file of ``dst`` (``.NAME.<pid>.<thread>.partial``), not of ``NAME.x.csv``."""
    prefix = f".{_hidden_base(dst)}."
    if not (name.startswith(prefix) and name.endswith(TEMP_SUFFIX)):
        return False
    middle = name[len(prefix):-len(TEMP_SUFFIX)].split(".")
    return len(middle) == 2 and all(part.isdigit() for part in middle)


def _atomic_write(dst: Path, data: bytes) -> None:
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


def _output_bytes(table: Any, denoised: dict[str, Any], fmt: str, suffix: str = ".csv") -> bytes:
    """The output file: Parquet, or the format ``suffix`` names (a CSV-like input: CSV, as before)."""
    from denoiser.io.formats import output_bytes

    return output_bytes(table, denoised, ".parquet" if fmt == "parquet" else suffix)


def process_file(src: str, dst: str, options: BatchOptions, setup: dict[str, Any] | None = None) -> dict[str, Any]:
    """Denoise one file and write its output atomically; never raises for a bad file.

    Parameters
    ----------
    src, dst : str
        Input file and output path.
    options : BatchOptions
    setup : dict, optional
        ``settings(options)`` as the client computed it (a model file hashed once per batch).

    Returns
    -------
    dict
        The file's summary line (keys `SUMMARY_FIELDS`); ``status`` is ``"ok"`` or
        ``"failed"`` with the one-line reason in ``error``. Names from the file are cut
        (:func:`denoiser.text.cut`): a million-character header costs 80 characters here.
    """
    t0 = time.perf_counter()
    row: dict[str, Any] = {k: None for k in SUMMARY_FIELDS}
    row.update(file=src, output=dst, status="failed")
    try:
        from denoiser.auto import denoise
        from denoiser.io import read_series

        check_output(Path(dst), [src])
        if not written_by_us(Path(dst)):  # said before the work, not after it
            raise InputError(f"{quoted(dst, MAX_PATH_ECHO)} exists and was not written by a Denoiser batch; it is "
                             "not replaced. Move it away or choose another output folder.")
        fingerprint = {"input": file_sha256(src), "settings": setup if setup is not None else settings(options)}
        table = read_series(src)
        names = list(options.columns or table.signal_columns)  # no index, time, year or clean column
        unknown = [n for n in names if n not in table.values.columns]
        if unknown:
            raise InputError(f"No column named {listed(unknown)}; value columns are: {listed(table.values.columns)}.")
        model = worker_model(options.model)
        row.update(rows=table.report.rows, columns=_joined([cut(n, 40) for n in names]))
        if options.raw:
            out = {n: model.denoise(table.column(n)) for n in names}
            row.update(method="network only (--raw)")
        else:
            results = {n: denoise(table.column(n), sigma=options.sigma, quiet=options.quiet, model=model,
                                  rng=options.seed) for n in names}
            out = {n: r.denoised for n, r in results.items()}
            res = list(results.values())
            row.update(sigma=_joined([float(f"{r.sigma:.6g}") for r in res]),
                       sigma_source=_joined([r.sigma_source + (" (upper bound)" if r.sigma_is_upper_bound else "")
                                             for r in res]),
                       estimated_gain_db=_joined([round(r.estimated_gain_db, 2) for r in res]),
                       gain_band_db=_joined([f"{r.gain_band_db[0]:.1f} to {r.gain_band_db[1]:.1f}" for r in res]),
                       trusted=_joined([bool(r.trusted) for r in res]),
                       method=_joined([r.method for r in res]))
        write_output(Path(dst), _output_bytes(table, out, options.fmt, Path(dst).suffix), [src], record=fingerprint)
        row.update(status="ok")
    except InputError as err:
        row.update(error=_one_line(err))
    except (MemoryError, RecursionError) as err:
        row.update(error=f"the file needs more {'memory' if isinstance(err, MemoryError) else 'nesting'} "
                         "than this worker allows; split it")
    except OSError as err:
        row.update(error=_one_line(f"{err.strerror or err}: {err.filename or src}"))
    except Exception as err:  # a bug, not bad input: recorded, the batch goes on
        row.update(error=_one_line(f"internal error ({type(err).__name__}: {err}); please report it"))
    row["seconds"] = round(time.perf_counter() - t0, 3)
    return row


def warm(spec: str, dask_worker: Any = None) -> int:
    """Load the model ``spec`` in this process, before its first file.

    ``client.run(warm, spec)`` warms every worker of a cluster at once (`run_batch` does so);
    a benchmark does it first to time the work, not TensorFlow's start-up.

    Returns
    -------
    int
        How many models this process has loaded so far (one per worker and spec).
    """
    worker_model(spec, worker=dask_worker)  # (client.run fills in dask_worker)
    return LOADS


# --------------------------------------------------------------------------- progress and summary


class Progress:
    """A one-line progress bar on a text stream: files done, rows per second, ETA.

    On a terminal the line is redrawn in place; otherwise (a log file, CI) a line is
    printed at most every ``every`` seconds and at the end.
    """

    def __init__(self, total: int, stream: IO[str] | None = None, every: float = 10.0) -> None:
        self.total, self.stream, self.every = total, stream, every
        self.files = self.rows = self.failed = 0
        self.t0 = self.last = time.perf_counter()
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())

    def update(self, row: dict[str, Any]) -> None:
        self.files += 1
        self.rows += int(row.get("rows") or 0)
        self.failed += row.get("status") == "failed"
        now = time.perf_counter()
        if self.stream is not None and (self.tty or now - self.last >= self.every or self.files == self.total):
            self.last = now
            end = "" if self.tty and self.files < self.total else "\n"
            print(("\r" if self.tty else "") + self.line(now), end=end, file=self.stream, flush=True)

    def line(self, now: float | None = None) -> str:
        elapsed = max((now or time.perf_counter()) - self.t0, 1e-9)
        done = self.files / self.total if self.total else 1.0
        eta = elapsed / self.files * (self.total - self.files) if self.files else math.nan
        bar = "#" * int(24 * done)
        failed = f", {self.failed} failed" if self.failed else ""
        return (f"[{bar:<24}] {self.files}/{self.total} files{failed}  {self.rows / elapsed:,.0f} rows/s  "
                f"ETA {_clock(eta)}  ")


def _clock(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "--:--"
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


def _read_summary(path: Path) -> dict[str, dict[str, Any]]:
    """Earlier summary lines by input file, as written (a rerun keeps those of the files it skips)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return {r["file"]: r for r in csv.DictReader(handle) if r.get("file")}
    except (OSError, UnicodeError, csv.Error, KeyError):
        return {}


def _write_summary(path: Path, rows: list[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SUMMARY_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        # File names and messages can come from hostile files: every line break and control
        # character escaped (a CR in a name split a row: rows could be forged), formulas neutralised.
        writer.writerow({k: _safe_cell(printable(v) if isinstance(v, str) else v) for k, v in row.items()})
    _atomic_write(path, buffer.getvalue().encode("utf-8"))


def _safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(value)
            return value  # a negative number, not a formula
        except ValueError:
            return "'" + value
    return "" if value is None else value


# --------------------------------------------------------------------------- the batch


def run_batch(
    patterns: Iterable[str],
    out_dir: str | os.PathLike[str],
    options: BatchOptions | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    client: Any = None,
    progress: IO[str] | None = sys.stderr,
    force: bool = False,
) -> BatchReport:
    """Denoise every file matching ``patterns`` into ``out_dir`` on a Dask cluster.

    Parameters
    ----------
    patterns : iterable of str
        File names and glob patterns (``**`` for any depth).
    out_dir : path
        Output folder (created); the inputs' folder layout is mirrored inside it.
    options : BatchOptions, optional
        How to denoise (model, columns, sigma, format...).
    scheduler : str, optional
        Address of a running scheduler, e.g. ``"tcp://host:8786"``; default: a
        LocalCluster started for this batch.
    workers : int, optional
        LocalCluster workers (default: one per core, ``os.cpu_count()``).
    client : distributed.Client, optional
        Use this client (tests, notebooks); ``scheduler`` and ``workers`` are ignored.
    progress : text stream or None
        Where the progress bar goes (default stderr; None = silent).
    force : bool
        Redo files whose output is up to date. A file that no batch wrote (no record beside
        it) is never replaced, with or without ``force``.

    Returns
    -------
    BatchReport
        Summary lines and counts; ``summary.csv`` is written in ``out_dir``.

    Raises
    ------
    InputError
        If no file matches, the output folder overlaps the input tree or cannot be written,
        or outputs would collide with inputs.
    """
    options = options or BatchOptions()
    t0 = time.perf_counter()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{quoted(str(out), MAX_PATH_ECHO)} is a file; the output of several inputs is a folder.")
    found = Inputs()
    pairs = plan(expand_inputs(patterns, found=found), out, options.fmt, trees=found.trees)
    _check_writable(out)
    summary_path = out / SUMMARY_NAME
    earlier = _read_summary(summary_path)
    report = BatchReport(summary=summary_path)
    setup = settings(options)
    rows: dict[str, dict[str, Any]] = {}
    todo: list[tuple[Path, Path]] = []
    for src, dst in pairs:
        if not force and is_done(src, dst, setup=setup):
            old = earlier.get(printable(str(src)), {})
            rows[str(src)] = {**{k: old.get(k) for k in SUMMARY_FIELDS}, "file": str(src), "output": str(dst),
                              "status": "skipped (up to date)", "error": None}
            report.skipped += 1
        else:
            todo.append((src, dst))
    if todo:
        own_client = client is None
        if own_client:
            client = _client(scheduler, workers)
        try:
            for row in _run_tasks(client, todo, options, progress, setup):
                rows[row["file"]] = row
                if row["status"] == "ok":
                    report.done += 1
                else:
                    report.failed += 1
        finally:
            if own_client:
                _close(client)
    elif progress is not None:
        print(f"all {len(pairs)} outputs are up to date; nothing to do (--force redoes them)", file=progress)
    links = sorted(set(found.links) - {src for src, _ in pairs})
    report.not_followed = len(links)
    report.rows = [rows[str(src)] for src, _ in pairs] + [
        {**{k: None for k in SUMMARY_FIELDS}, "file": str(link), "status": "skipped (symbolic link, not followed)"}
        for link in links]
    report.seconds = time.perf_counter() - t0
    try:
        _write_summary(summary_path, report.rows)
    except OSError as err:  # a full disk at the end: the per-file lines are still reported
        report.summary, report.summary_error = None, cut(f"{err.strerror or err}: {err.filename or summary_path}", 300)
    return report


def _check_writable(out: Path) -> None:
    """Create the output folder and write a probe file in it, before any work: an unwritable folder
    is one clear message, not a failure per file and a summary that cannot be written."""
    probe = out / f".denoiser-probe.{os.getpid()}.{threading.get_ident()}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb"):
            pass
        probe.unlink()
    except OSError as err:
        raise InputError(f"Cannot write in the output folder {quoted(str(out), MAX_PATH_ECHO)} "
                         f"({err.strerror or type(err).__name__}); choose a folder you may write to.") from None


def _client(scheduler: str | None, workers: int | None) -> Any:
    import logging

    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as err:
            raise InputError(f"Cannot reach the Dask scheduler at {scheduler!r} ({_one_line(err, 120)}); "
                             "start it with `dask scheduler` or leave out --scheduler.") from None
    n = workers or os.cpu_count() or 1
    if n < 1:
        raise InputError("--workers must be at least 1.")
    # One single-threaded process per core; the environment keeps BLAS/OpenMP pools at 1 too.
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    # No dashboard was asked for: Dask's scheduler and workers still start an HTTP server each
    # (dashboard_address=None meant the dashboard on port 8787), so they get no routes at all,
    # on 127.0.0.1 and a free port. The comms listen on 127.0.0.1 too (LocalCluster's default).
    with dask.config.set({"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []}):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                               scheduler_kwargs={"dashboard": False}, worker_dashboard_address="127.0.0.1:0",
                               silence_logs=logging.ERROR, env=env)
    return Client(cluster)


def _close(client: Any) -> None:
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def _run_tasks(client: Any, todo: list[tuple[Path, Path]], options: BatchOptions,
               stream: IO[str] | None, setup: dict[str, Any] | None = None) -> Iterable[dict[str, Any]]:
    from distributed import as_completed

    # Load the model on every worker at once, before the files arrive (else each worker's
    # first file waits for TensorFlow and the model in turn).
    try:
        client.run(warm, options.model)
    except Exception:  # noqa: BLE001 -- a bad model path fails per file below, with its reason
        pass
    bar = Progress(len(todo), stream)
    futures = {}
    for src, dst in todo:
        # pure=False: a rerun of the same file is new work, not a cached result
        fut = client.submit(process_file, str(src), str(dst), options, setup, pure=False)
        futures[fut] = (src, dst)
    for fut in as_completed(futures):
        src, dst = futures[fut]
        try:
            row = fut.result()
        except Exception as err:  # the worker died (memory, a kill): the file fails, the rest go on
            row = {k: None for k in SUMMARY_FIELDS}
            row.update(file=str(src), output=str(dst), status="failed",
                       error=_one_line(f"the worker running it failed ({type(err).__name__}: {err})"))
        bar.update(row)
        yield row


def as_dict(options: BatchOptions) -> dict[str, Any]:
    """The options as a plain dict (for logs)."""
    return asdict(options)
