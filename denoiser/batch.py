"""Denoise many files on a Dask cluster: ``python -m denoiser denoise 'dir/**/*.csv' -o out/``.

(One concept, a batch run, past the ~500-line mark: its options, tasks, records, progress and summary
change together whenever a run learns something new about a file.)

What is here is the batch itself: options, the per-file task (:mod:`denoiser.apply` does the
denoising, :mod:`denoiser.io.output` the safe write), the records that let a rerun skip
finished files, progress, the summary and the Dask client. Listing and planning are in
:mod:`denoiser.io.listing`.

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
import io
import math
import os
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from denoiser.apply import BUNDLED, Level, Recipe, denoise_table, output_bytes
from denoiser.errors import InputError
from denoiser.io.listing import MAX_INPUTS, SUMMARY_NAME, Inputs, expand_inputs, plan  # noqa: F401 (public here too)
from denoiser.io.output import (  # noqa: F401 -- public here too: the batch API callers know
    TEMP_SUFFIX,
    atomic_write,
    check_output,
    file_sha256,
    read_record,
    record_path,
    write_output,
    written_by_us,
)
from denoiser.text import MAX_PATH_ECHO, cut, printable, quoted

__all__ = [
    "BatchOptions",
    "BatchReport",
    "Inputs",
    "SUMMARY_FIELDS",
    "check_output",
    "expand_inputs",
    "is_done",
    "plan",
    "process_file",
    "write_output",
    "run_batch",
    "warm",
    "exit_status",
    "MAX_EXIT_STATUS",
    "client_for",
    "close_client",
]

SUMMARY_FIELDS = (
    "file",
    "output",
    "status",
    "rows",
    "columns",
    "sigma",
    "sigma_source",
    "estimated_gain_db",
    "gain_band_db",
    "trusted",
    "method",
    "seconds",
    "error",
)
MAX_EXIT_STATUS = 100  # exit status = failed files, at most this (shells keep 126+ for themselves)
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
    plain : bool
        A CSV output in the plain form (`denoiser.apply.output_bytes`), not the input's.
    """

    model: str = "default"
    columns: tuple[str, ...] | None = None
    sigma: float | None = None
    quiet: tuple[int, int] | None = None
    raw: bool = False
    seed: int = 0
    fmt: str = "csv"
    plain: bool = False

    def recipe(self) -> Recipe:
        """The table service's recipe for every file of the batch (:mod:`denoiser.apply`)."""
        return Recipe(
            model=self.model,
            method="network" if self.raw else "auto",
            columns=self.columns,
            level=Level(self.sigma, self.quiet),
            seed=self.seed,
        )

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
    summary_error: str | None = None  # why summary.csv could not be written (then ``summary`` is None)
    not_followed: int = 0  # symbolic links met while listing, not followed (summary lines)


def exit_status(report: BatchReport) -> int:
    """The CLI's exit status for a batch: 0 when every file is fine, else the failed files (at most 100);
    at least 1 when the summary could not be written."""
    return min(max(report.failed, int(report.summary_error is not None)), MAX_EXIT_STATUS)


# --------------------------------------------------------------------------- planning (client side)


# --------------------------------------------------------------------------- records: what made an output


def settings(options: BatchOptions) -> dict[str, Any]:
    """The options that decide an output's bytes, as JSON-able data; a model file by its content too."""
    out = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(options).items()}
    if options.model not in ("none", *BUNDLED):
        try:
            out["model_sha256"] = file_sha256(options.model)
        except OSError:
            out["model_sha256"] = None  # a path only the workers can read: its name stands for it
    return out


def is_done(src: Path, dst: Path, options: BatchOptions | None = None, *, setup: dict[str, Any] | None = None) -> bool:
    """True when ``dst`` is a complete output of this input with these settings (a rerun skips it).

    Its record (written with it) must name the input's SHA-256 and the same settings, and the
    output's own bytes must still have the SHA-256 the record gives: a truncated or garbage
    output, or one made with another model, sigma, columns or format, is redone.
    """
    record = read_record(dst)
    if record is None:
        return False
    setup = setup if setup is not None else settings(options or BatchOptions())
    try:
        return (
            record.get("settings") == setup
            and record.get("input") == file_sha256(src)
            and record.get("output") == file_sha256(dst)
        )
    except OSError:
        return False


# --------------------------------------------------------------------------- the task (worker side)

_MODELS: dict[str, Any] = {}
_MODEL_LOCK = threading.Lock()
LOADS = 0  # models loaded by this process (the tests check: one per worker)


def limit_threads(worker: Any = None) -> None:
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
            limit_threads(worker)
            from denoiser.apply import resolve_model

            _MODELS[spec] = resolve_model(spec)
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
        from denoiser.io import read_series

        check_output(Path(dst), [src])
        if not written_by_us(Path(dst)):  # said before the work, not after it
            raise InputError(
                f"{quoted(dst, MAX_PATH_ECHO)} exists and was not written by a Denoiser batch; it is "
                "not replaced. Move it away or choose another output folder."
            )
        fingerprint = {"input": file_sha256(src), "settings": setup if setup is not None else settings(options)}
        table = read_series(src)
        recipe = options.recipe()
        done = denoise_table(table, recipe, worker_model(options.model))
        row.update(rows=table.report.rows, columns=_joined([cut(n, 40) for n in done.columns]))
        if options.raw:
            row.update(method="network only (--raw)")
        else:
            res = list(done.results.values())
            row.update(
                sigma=_joined([float(f"{r.sigma:.6g}") for r in res]),
                sigma_source=_joined(
                    [r.sigma_source + (" (upper bound)" if r.sigma_is_upper_bound else "") for r in res]
                ),
                estimated_gain_db=_joined([round(r.estimated_gain_db, 2) for r in res]),
                gain_band_db=_joined([f"{r.gain_band_db[0]:.1f} to {r.gain_band_db[1]:.1f}" for r in res]),
                trusted=_joined([bool(r.trusted) for r in res]),
                method=_joined([r.method for r in res]),
            )
        suffix = ".parquet" if options.fmt == "parquet" else Path(dst).suffix
        write_output(Path(dst), output_bytes(table, done, suffix, plain=options.plain), [src], record=fingerprint)
        row.update(status="ok")
    except InputError as err:
        row.update(error=_one_line(err))
    except (MemoryError, RecursionError) as err:
        row.update(
            error=f"the file needs more {'memory' if isinstance(err, MemoryError) else 'nesting'} "
            "than this worker allows; split it"
        )
    except OSError as err:
        row.update(error=_one_line(f"{err.strerror or err}: {err.filename or src}"))
    except Exception as err:  # noqa: BLE001 -- a bug, not bad input: recorded, the batch goes on
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
        """Count one finished file (its summary row) and print the progress line when it is due."""
        self.files += 1
        self.rows += int(row.get("rows") or 0)
        self.failed += row.get("status") == "failed"
        now = time.perf_counter()
        if self.stream is not None and (self.tty or now - self.last >= self.every or self.files == self.total):
            self.last = now
            end = "" if self.tty and self.files < self.total else "\n"
            print(("\r" if self.tty else "") + self.line(now), end=end, file=self.stream, flush=True)

    def line(self, now: float | None = None) -> str:
        """The progress line: a bar, files done of total, failures, rows per second and the time left."""
        elapsed = max((now or time.perf_counter()) - self.t0, 1e-9)
        done = self.files / self.total if self.total else 1.0
        eta = elapsed / self.files * (self.total - self.files) if self.files else math.nan
        bar = "#" * int(24 * done)
        failed = f", {self.failed} failed" if self.failed else ""
        return (
            f"[{bar:<24}] {self.files}/{self.total} files{failed}  {self.rows / elapsed:,.0f} rows/s  "
            f"ETA {_clock(eta)}  "
        )


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
    atomic_write(path, buffer.getvalue().encode("utf-8"))


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
            rows[str(src)] = {
                **{k: old.get(k) for k in SUMMARY_FIELDS},
                "file": str(src),
                "output": str(dst),
                "status": "skipped (up to date)",
                "error": None,
            }
            report.skipped += 1
        else:
            todo.append((src, dst))
    if todo:
        own_client = client is None
        if own_client:
            client = client_for(scheduler, workers)
        try:
            for row in _run_tasks(client, todo, options, progress, setup):
                rows[row["file"]] = row
                if row["status"] == "ok":
                    report.done += 1
                else:
                    report.failed += 1
        finally:
            if own_client:
                close_client(client)
    elif progress is not None:
        print(f"all {len(pairs)} outputs are up to date; nothing to do (--force redoes them)", file=progress)
    links = sorted(set(found.links) - {src for src, _ in pairs})
    report.not_followed = len(links)
    report.rows = [rows[str(src)] for src, _ in pairs] + [
        {**{k: None for k in SUMMARY_FIELDS}, "file": str(link), "status": "skipped (symbolic link, not followed)"}
        for link in links
    ]
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
        raise InputError(
            f"Cannot write in the output folder {quoted(str(out), MAX_PATH_ECHO)} "
            f"({err.strerror or type(err).__name__}); choose a folder you may write to."
        ) from None


def client_for(scheduler: str | None, workers: int | None) -> Any:
    """A Dask client: on the scheduler at ``scheduler``, else on a local cluster of ``workers``
    single-threaded processes (default: one per core), with no dashboard or HTTP routes."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as err:
            raise InputError(
                f"Cannot reach the Dask scheduler at {scheduler!r} ({_one_line(err, 120)}); "
                "start it with `dask scheduler` or leave out --scheduler."
            ) from None
    n = workers or os.cpu_count() or 1
    if n < 1:
        raise InputError("--workers must be at least 1.")
    # One single-threaded process per core; the environment keeps BLAS/OpenMP pools at 1 too.
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    # No dashboard was asked for: Dask's scheduler and workers still start an HTTP server each
    # (dashboard_address=None meant the dashboard on port 8787), so they get no routes at all,
    # on 127.0.0.1 and a free port. The comms listen on 127.0.0.1 too (LocalCluster's default).
    with dask.config.set({"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []}):
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"dashboard": False},
            worker_dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
            env=env,
        )
    return Client(cluster)


def close_client(client: Any) -> None:
    """Close a client from :func:`client_for` and the local cluster it started, if any."""
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def _run_tasks(
    client: Any,
    todo: list[tuple[Path, Path]],
    options: BatchOptions,
    stream: IO[str] | None,
    setup: dict[str, Any] | None = None,
) -> Iterable[dict[str, Any]]:
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
        except Exception as err:  # noqa: BLE001 -- the worker died (memory, a kill): the file fails, the rest go on
            row = {k: None for k in SUMMARY_FIELDS}
            row.update(
                file=str(src),
                output=str(dst),
                status="failed",
                error=_one_line(f"the worker running it failed ({type(err).__name__}: {err})"),
            )
        bar.update(row)
        yield row


def as_dict(options: BatchOptions) -> dict[str, Any]:
    """The options as a plain dict (for logs)."""
    return asdict(options)
