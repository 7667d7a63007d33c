"""Command line: ``python -m denoiser {denoise, train, search, generate} ...``.

(One module for the four commands: each is a thin front of the package (:mod:`denoiser.apply`,
:mod:`denoiser.batch`, :class:`denoiser.core.Denoiser`, :mod:`denoiser.search`) and they share
the argument parsing and the one-line error reporting, which is most of the length.)

Errors in the input print one line on stderr and exit with status 2; no traceback.
A batch (``denoise 'dir/**/*.csv' -o out/``) exits with the number of failed files
(0 when all are fine, at most 100); see `denoiser.batch`.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from denoiser import presets
from denoiser.errors import InputError
from denoiser.presets import PRESETS
from denoiser.signals import FAMILIES, NOISES, add_noise, make_signals, noise_params, x_grid
from denoiser.text import MAX_PATH_ECHO, cut, listed, printable, quoted


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Silence file descriptor 2 while TensorFlow loads.

    Its C++ start-up lines ("oneDNN custom operations are on") are printed before
    logging is configured, so TF_CPP_MIN_LOG_LEVEL cannot hide them; a user of
    the CLI should see only our own one-line messages.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _import_tensorflow() -> None:
    with _native_stderr_silenced():
        import tensorflow  # noqa: F401  (cached in sys.modules for the real imports)


def _model(spec: str):
    """'default', 'parabola' or a path to a .keras file -> Denoiser (the table service's resolution)."""
    from denoiser.apply import resolve_model

    return resolve_model(spec)


def _quiet_range(text: str | None) -> tuple[int, int] | None:
    """'START:STOP' (sample numbers) -> (start, stop)."""
    if text is None:
        return None
    try:
        start, stop = (int(v) for v in text.split(":"))
    except ValueError:
        raise InputError(f"--quiet takes START:STOP in samples, e.g. 0:2000; got {quoted(text, 40)}.") from None
    if not 0 <= start < stop:
        raise InputError(f"--quiet needs 0 <= START < STOP; got {start}:{stop}.")
    return start, stop


def _is_batch(args: argparse.Namespace) -> bool:
    """Several inputs, a pattern, a folder as -o, or cluster options: the batch path (denoiser.batch)."""
    import glob

    if args.more or args.scheduler or args.workers or args.force:
        return True
    if glob.has_magic(args.input) and not os.path.isfile(args.input):
        return True
    return os.path.isdir(args.output) or args.output.endswith(("/", os.sep))


def cmd_denoise(args: argparse.Namespace) -> int:
    """``denoise``: one file to one output, or many files (a glob or folder) through the batch runner."""
    if _is_batch(args):
        return _denoise_batch(args)
    from denoiser.apply import Level, Recipe, denoise_table, output_bytes, pick_columns
    from denoiser.io import read_series
    from denoiser.io.formats import suffix_for
    from denoiser.io.output import check_output, write_output

    t0 = time.perf_counter()
    recipe = Recipe(
        model=args.model,
        method="network" if args.raw else "auto",
        columns=tuple(args.column) if args.column else None,
        level=Level(args.sigma, _quiet_range(args.quiet_range)),
        seed=args.seed,
        part=args.part,
    )
    check_output(Path(args.output), [args.input])  # before the work, and again at the write
    table = read_series(args.input, part=args.part)
    try:
        pick_columns(table, recipe.columns)  # never an index, time or year column, nor a clean one by default
    except InputError as err:
        raise InputError(f"{err} (in {quoted(args.input, MAX_PATH_ECHO)})") from None
    done = denoise_table(table, recipe, False if args.model == "none" else _model(args.model))
    names, results = done.columns, done.results
    # -o out.wav, out.edf, out.xlsx...: that format (the input's header where it is the same); else CSV.
    # The one writer of denoised tables: never the input itself (by path, link or hard link), atomic.
    write_output(
        args.output, output_bytes(table, done, suffix_for(args.output, args.format), plain=args.plain), [args.input]
    )
    if not args.quiet:
        for line in table.report.summary().split("\n"):
            print(_one_line(line), file=sys.stderr)
        for name, res in list(results.items())[:SHOWN_COLUMNS]:
            print(_one_line(f"{cut(name)}: {res.summary()}"), file=sys.stderr)  # a name from the file: cut
            for note in res.notes:
                print(f"  - {_one_line(note)}", file=sys.stderr)
        if len(results) > SHOWN_COLUMNS:
            print(
                f"... and {len(results) - SHOWN_COLUMNS:,} more columns (their denoised columns are in the output file).",
                file=sys.stderr,
            )
        mode = "network only (--raw)" if args.raw else "automatic"
        print(
            f"Denoised {len(names)} column(s) x {table.report.rows} rows ({mode}) in "
            f"{time.perf_counter() - t0:.1f} s -> {args.output}",
            file=sys.stderr,
        )
    return 0


def _denoise_batch(args: argparse.Namespace) -> int:
    """Many files -> a folder, on a Dask cluster; exit status = failed files (at most 100)."""
    from denoiser.batch import BatchOptions, exit_status, run_batch

    options = BatchOptions(
        model=args.model,
        columns=tuple(args.column) if args.column else None,
        sigma=args.sigma,
        quiet=_quiet_range(args.quiet_range),
        raw=args.raw,
        seed=args.seed,
        fmt=args.format or "csv",
        plain=args.plain,
    )
    if args.workers is not None and args.workers < 1:
        raise InputError("--workers must be at least 1.")
    report = run_batch(
        [args.input, *args.more],
        args.output,
        options,
        scheduler=args.scheduler,
        workers=args.workers,
        progress=None if args.quiet else sys.stderr,
        force=args.force,
    )
    if not args.quiet or report.failed or report.summary_error:
        for row in report.rows:
            if row["status"] == "failed":
                print(_one_line(f"failed: {quoted(row['file'], 160)}: {row['error']}"), file=sys.stderr)
        links = f", {report.not_followed} symbolic link(s) not followed" if report.not_followed else ""
        where = (
            f"summary: {printable(report.summary)}"
            if report.summary is not None
            else f"summary.csv NOT written ({report.summary_error})"
        )
        print(
            _one_line(
                f"{report.done} denoised, {report.skipped} skipped (up to date), {report.failed} failed"
                f"{links} in {report.seconds:.1f} s; {where}"
            ),
            file=sys.stderr,
        )
    return exit_status(report)


def cmd_search(args: argparse.Namespace) -> None:
    """``search``: the Model page's search from the command line; ranked table as CSV, best model saved."""
    from denoiser.config import ModelConfig, TrainConfig
    from denoiser.signals import training_pairs

    space = {
        "preset": list(dict.fromkeys(args.preset)),
        "window": list(dict.fromkeys(args.window)),
        "learning_rate": list(dict.fromkeys(args.lr)),
        "loss": list(dict.fromkeys(args.loss)),
    }
    if min(args.n_signals, args.epochs, args.trials) < 1 or not args.minutes > 0:
        raise InputError("--n-signals, --epochs and --trials must be at least 1, --minutes more than 0.")
    train = TrainConfig(epochs=args.epochs, batch_size=32, seed=args.seed)
    base = ModelConfig(filters=8)  # the app's search base: small networks, many trials
    length = max(space["window"])
    noisy, clean = training_pairs(
        args.family, args.n_signals, length, tuple(args.noise), (0.02, 0.3), rng=args.seed, **_noise_values(args)
    )

    def progress(i: int, n: int, row: dict) -> None:
        params = ", ".join(f"{k} {row[k]:g}" if isinstance(row[k], float) else f"{k} {row[k]}" for k in space)
        print(f"trial {i + 1}/{n}: {params}: val MSE {row['val_mse']:.4g} ({row['seconds']:.0f} s)", file=sys.stderr)

    kwargs = dict(
        base_config=base, train=train, n_trials=args.trials, budget_seconds=args.minutes * 60, on_trial=progress
    )
    if args.workers or args.scheduler:
        from denoiser.batch import client_for, close_client
        from denoiser.search_tasks import search_on_cluster

        client = client_for(args.scheduler, args.workers)
        try:
            result = search_on_cluster(noisy, clean, space, client, **kwargs)
        finally:
            close_client(client)
    else:
        from denoiser.search import search

        result = search(noisy, clean, space, **kwargs)
    table = result.to_frame()
    table.insert(0, "rank", range(1, len(table) + 1))
    table.to_csv(args.table, index=False, lineterminator="\n")
    if result.best_ is None:
        raise InputError(f"No trial finished within {args.minutes:g} minutes; give more --minutes or fewer --epochs.")
    result.best_.train_info_["data"] = (
        f"search over {', '.join(space)} on {args.n_signals} synthetic signals "
        f"({args.family}, noise {'/'.join(args.noise)}, sigma 0.02-0.3, "
        f"length {length})"
    )
    result.best_.save(args.output)
    m = result.test_metrics
    print(
        f"best of {len(result.table)} trial(s): "
        + ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in result.best_params.items())
        + (f"; test gain {m['gain_db']:.2f} dB" if "gain_db" in m else "")
        + f"; table {args.table}, model {args.output}",
        file=sys.stderr,
    )


def cmd_train(args: argparse.Namespace) -> None:
    """``train``: fit a model on generated pairs or a file's columns and save it as one ``.keras`` file."""
    from denoiser.config import ModelConfig, TrainConfig
    from denoiser.core import Denoiser
    from denoiser.signals import training_pairs

    # The preset's own defaults; --window and --filters where its record lets a form set them.
    config = ModelConfig.from_form(args.preset, window=args.window, filters=args.filters)
    if args.data:
        return _train_stream(args, config)
    if args.self_supervised:
        return _train_self_supervised(args, config)
    train = TrainConfig.for_preset(
        args.preset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        loss=args.loss,
        patience=args.patience,
        seed=args.seed,
        **({"learning_rate": args.lr} if args.lr else {}),
    )
    if args.csv:
        from denoiser.io import read_series

        table = read_series(args.csv)
        clean = table.column(args.column or table.values.columns[0])
        clean = clean[np.isfinite(clean)]
        noisy = add_noise(clean, args.noise, sigma=args.sigma, snr_db=args.snr_db, rng=args.seed, **_noise_values(args))
        note = f"{Path(args.csv).name} with {args.noise} noise added"
    else:
        if args.snr_db is not None:
            raise InputError(
                "--snr-db needs --csv (a series whose power sets the level); "
                "for synthetic training give --sigma, or leave it out for the range 0.02-0.3."
            )
        sigma = (args.sigma, args.sigma) if args.sigma is not None else (0.02, 0.3)
        noisy, clean = training_pairs(
            args.family, args.n_signals, config.window, args.noise, sigma, rng=args.seed, **_noise_values(args)
        )
        note = f"{args.family} family, {args.noise} noise, sigma {sigma[0]}-{sigma[1]}, {args.n_signals} signals"

    def progress(epoch: int, logs: dict[str, float]) -> None:
        done = (epoch + 1) / train.epochs
        bar = "#" * int(30 * done)
        print(
            f"\repoch {epoch + 1:3d}/{train.epochs} [{bar:<30}] loss {logs['loss']:.5f} "
            f"val_loss {logs['val_loss']:.5f} {logs['seconds']:5.0f} s",
            end="",
            file=sys.stderr,
            flush=True,
        )

    den = Denoiser(config).fit(noisy, clean, train, on_epoch=progress, data_note=note)
    print(file=sys.stderr)
    den.save(args.output)
    m = den.test_metrics_
    print(
        f"test split: MSE {m.get('mse', float('nan')):.4g} (noisy {m.get('noisy_mse', float('nan')):.4g}), "
        f"gain {m.get('gain_db', float('nan')):.2f} dB; saved {args.output}",
        file=sys.stderr,
    )


def _train_self_supervised(args: argparse.Namespace, config) -> None:  # a ModelConfig
    """``train --csv FILE --self-supervised``: learn from the recording's own noise (no clean version)."""
    from dataclasses import replace

    from denoiser.bundled import pretrained
    from denoiser.config import TrainConfig
    from denoiser.core import Denoiser
    from denoiser.io import read_series
    from denoiser.windows import bridge_gaps

    if not args.csv:
        raise InputError("--self-supervised learns from a noisy recording: give it with --csv FILE (and --column).")
    if args.sigma is not None or args.snr_db is not None or args.noise != "gaussian" or _noise_values(args):
        given = "/".join(["--sigma", "--snr-db", "--noise", *(f"--{_flag(n)}" for n in noise_params())])
        raise InputError(f"--self-supervised adds no noise: it learns the recording's own; drop {given}.")
    if not args.from_scratch and args.preset != presets.DEFAULT:  # the bundled models are the default preset
        raise InputError(
            f"Self-supervised fine-tuning starts from the bundled {PRESETS[presets.DEFAULT].short}; add "
            f"--from-scratch to train the {args.preset} preset from fresh weights."
        )
    table = read_series(args.csv)
    name = args.column or table.values.columns[0]
    if name not in table.values.columns:
        raise InputError(
            f"No column named {quoted(name)} in {quoted(args.csv, MAX_PATH_ECHO)}; value columns "
            f"are: {listed(table.values.columns)}."
        )
    values = table.column(name)
    if np.isfinite(values).sum() < 2:
        raise InputError(f"The column {quoted(name)} has fewer than 2 numbers.")
    noisy = bridge_gaps(values)
    train = TrainConfig.selfsup(
        epochs=args.epochs,
        batch_size=args.batch_size,
        loss=args.loss,
        patience=args.patience,
        seed=args.seed,
        init="" if args.from_scratch else "default",
        **({"learning_rate": args.lr} if args.lr else {}),
    )
    if args.from_scratch:
        den = Denoiser(config)
    else:  # the bundled model's network; only its window may be changed
        den = Denoiser(replace(pretrained("default").config, window=args.window) if args.window else None)

    def progress(epoch: int, logs: dict[str, float]) -> None:
        print(
            f"\repoch {epoch + 1:3d}/{train.epochs} blind-spot loss {logs['loss']:.5g} "
            f"val {logs['val_loss']:.5g} {logs['seconds']:5.0f} s",
            end="",
            file=sys.stderr,
            flush=True,
        )

    start = "fresh weights" if args.from_scratch else "the bundled default model"
    note = f"{Path(args.csv).name} column '{name}' ({noisy.size} samples), self-supervised from {start}"
    den.fit(noisy, None, train, on_epoch=progress, data_note=note)
    print(file=sys.stderr)
    den.save(args.output)
    m = den.test_metrics_
    print(
        f"test part: blind-spot MSE {m.get('blind_spot_mse', float('nan')):.4g} (neighbour mean "
        f"{m.get('neighbour_mse', float('nan')):.4g}; both include the noise variance); saved {args.output}. "
        "Denoise with it through the automatic pipeline (`denoise --model FILE`) for the no-harm check.",
        file=sys.stderr,
    )


def _train_stream(args: argparse.Namespace, config) -> None:  # a ModelConfig
    """``train --data GLOB...``: windows streamed from many files (denoiser.stream), one file in memory at a time."""
    from dataclasses import replace

    from denoiser.bundled import pretrained
    from denoiser.config import TrainConfig
    from denoiser.core import Denoiser

    if args.csv:
        raise InputError("--data streams many files and --csv reads one: give one of them.")
    noise_given = [f"--{_flag(n)}" for n in noise_params() if getattr(args, f"noise_{n}", None) is not None]
    if args.sigma is not None or args.snr_db is not None or args.noise != "gaussian" or noise_given:
        raise InputError(
            "--data adds no noise: it learns the recordings' own (--self-supervised) or from their "
            f"clean column (--clean-column); drop {'/'.join(['--sigma', '--snr-db', '--noise', *noise_given])}."
        )
    if not args.self_supervised and not args.clean_column:
        raise InputError(
            "Recordings in an archive have no clean versions to train against: add --self-supervised "
            "(blind-spot masking learns from their own noise), or, if each file holds a clean copy, "
            "name that column with --clean-column NAME."
        )
    if args.self_supervised and args.clean_column:
        raise InputError(
            "--self-supervised learns without a clean version: drop --clean-column, or drop "
            "--self-supervised to train on the noisy/clean pairs."
        )
    lr = {"learning_rate": args.lr} if args.lr else {}
    common = dict(
        epochs=args.epochs, batch_size=args.batch_size, loss=args.loss, patience=args.patience, seed=args.seed
    )
    if args.self_supervised:
        if not args.from_scratch and args.preset != presets.DEFAULT:  # the bundled models are the default preset
            raise InputError(
                f"Self-supervised fine-tuning starts from the bundled {PRESETS[presets.DEFAULT].short}; "
                f"add --from-scratch to train the {args.preset} preset from fresh weights."
            )
        train = TrainConfig.selfsup(**common, init="" if args.from_scratch else "default", **lr)
        den = (
            Denoiser(config)
            if args.from_scratch
            else Denoiser(replace(pretrained("default").config, window=args.window) if args.window else None)
        )
        start = "fresh weights" if args.from_scratch else "the bundled default model"
        how = f"self-supervised from {start}"
    else:
        train = TrainConfig.for_preset(args.preset, **common, **lr)
        den = Denoiser(config)
        how = f"supervised on the clean column '{args.clean_column}'"

    def skipped(path: str, reason: str) -> None:
        print(_one_line(f"skipped {path}: {reason}"), file=sys.stderr)

    def progress(epoch: int, logs: dict[str, float]) -> None:  # one line per epoch (logs stay readable)
        what = "blind-spot loss" if train.self_supervised else "loss"
        print(
            f"epoch {epoch + 1:3d}/{train.epochs} {what} {logs['loss']:.5g} val {logs['val_loss']:.5g} "
            f"{logs['seconds']:5.0f} s",
            file=sys.stderr,
            flush=True,
        )

    columns = [args.column] if args.column else None
    note = (
        f"streamed from {' '.join(args.data)}, column {args.column!r}"
        if args.column
        else f"streamed from {' '.join(args.data)}, every value column"
    ) + f", {how}"
    den.fit_stream(
        args.data,
        train,
        columns=columns,
        clean_column=args.clean_column,
        shuffle_buffer=args.shuffle_buffer,
        on_epoch=progress,
        on_skip=skipped,
        data_note=note,
    )
    den.save(args.output)
    info, m = den.train_info_, den.test_metrics_
    used = info["stream"]
    if train.self_supervised:
        figures = (
            f"blind-spot MSE {m.get('blind_spot_mse', float('nan')):.4g} (neighbour mean "
            f"{m.get('neighbour_mse', float('nan')):.4g})"
        )
    else:
        figures = f"MSE {m.get('mse', float('nan')):.4g} (noisy {m.get('noisy_mse', float('nan')):.4g})"
    print(
        f"{used['files']} file(s) used, {used['skipped']} skipped; split by {info['split']}; windows per epoch "
        f"{info['windows']['train']:,} train, {info['windows']['val']:,} val; test part: {figures}; "
        f"saved {args.output}",
        file=sys.stderr,
    )


def cmd_generate(args: argparse.Namespace) -> None:
    """``generate``: write a clean/noisy signal pair as CSV (family, length, noise kind, level, seed)."""
    import pandas as pd

    if args.sigma is None and args.snr_db is None:
        args.sigma = 0.05
    clean = make_signals(args.family, args.n, args.length, rng=args.seed)
    noisy = add_noise(clean, args.noise, sigma=args.sigma, snr_db=args.snr_db, rng=args.seed + 1, **_noise_values(args))
    cols = {"x": x_grid(args.length)} if args.family in ("x2", "parabola") else {"t": np.arange(args.length)}
    for i in range(args.n):
        suffix = f"_{i + 1}" if args.n > 1 else ""
        cols[f"noisy{suffix}"], cols[f"clean{suffix}"] = noisy[i], clean[i]
    pd.DataFrame(cols).to_csv(args.output, index=False, float_format="%.6g")
    print(f"wrote {args.n} {args.family} signal(s) of {args.length} samples to {args.output}", file=sys.stderr)


def _level(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--sigma", type=float, help="noise standard deviation")
    g.add_argument("--snr-db", type=float, help="noise level as signal-to-noise ratio in dB")
    p.add_argument("--noise", choices=list(NOISES), default="gaussian", help="noise kind (default: gaussian)")
    _noise_options(p)
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")


def _flag(name: str) -> str:
    return name.replace("_", "-")


def _noise_options(p: argparse.ArgumentParser) -> None:
    """One option per noise kind's parameter (``--rate`` for impulse noise), from the kinds' records."""
    for name, param in noise_params().items():
        kinds = ", ".join(k for k, kind in NOISES.items() if any(q.name == name for q in kind.params))
        p.add_argument(
            f"--{_flag(name)}",
            type=float,
            dest=f"noise_{name}",
            metavar=name.upper(),
            help=f"{param.label} for {kinds} noise, in ({param.lo:g}, {param.hi:g}] (default: "
            f"{param.default:g}). {param.help}".rstrip(),
        )


def _noise_values(args: argparse.Namespace) -> dict[str, float]:
    """The noise parameters given on the command line (the others keep their kind's default).

    One that none of the chosen kinds takes is refused: it would be silently ignored.
    """
    given = {
        name: getattr(args, f"noise_{name}")
        for name in noise_params()
        if getattr(args, f"noise_{name}", None) is not None
    }
    chosen = [args.noise] if isinstance(args.noise, str) else list(args.noise)
    takes = {q.name for kind in chosen if kind in NOISES for q in NOISES[kind].params}
    for name in given:
        if name not in takes and not getattr(args, "self_supervised", False):
            owners = [k for k, kind in NOISES.items() if any(q.name == name for q in kind.params)]
            raise InputError(
                f"--{_flag(name)} applies to {' or '.join(owners)} noise; "
                f"add --noise {owners[0]} or drop --{_flag(name)}."
            )
    return given


def parser() -> argparse.ArgumentParser:
    """The command line: ``denoise``, ``train``, ``search``, ``generate`` and their options (``--help``)."""
    top = argparse.ArgumentParser(
        prog="python -m denoiser", description="Denoise 1-D signals with Conv1D autoencoders."
    )
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "denoise",
        help="denoise the columns of a CSV file",
        description="Read a CSV (any delimiter, decimal comma, timestamps, gaps), denoise its "
        "value columns and write them beside the originals as NAME_denoised. By default "
        "the automatic pipeline weighs the network against classical filters and the "
        "input itself with a risk estimate, so it applies only what the data support, "
        "and prints the noise level, the estimated gain and whether to trust it.",
    )
    p.add_argument("input", help="CSV file to read, or a quoted pattern such as 'recordings/**/*.csv'")
    p.add_argument("more", nargs="*", metavar="INPUT", help="more files or patterns (a batch)")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="file to write; for a batch (several inputs or a pattern) a folder, which mirrors the "
        "inputs' folders and gets summary.csv",
    )
    p.add_argument(
        "--column",
        action="append",
        help="column to denoise (repeatable; default: every value column but index, time, year and clean ones)",
    )
    p.add_argument(
        "--model",
        default="default",
        help="'default', 'parabola', a .keras file, or 'none' for classical filters only (default: default)",
    )
    p.add_argument("--sigma", type=float, help="the noise standard deviation, if known (e.g. from a datasheet)")
    p.add_argument(
        "--quiet-range",
        metavar="START:STOP",
        help="samples of a quiet stretch (no signal) to measure the noise level on",
    )
    p.add_argument(
        "--raw",
        action="store_true",
        help="apply the network alone, without the no-harm check (not recommended for real data)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the risk estimate's random probes (default: 0)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    p.add_argument(
        "--format",
        choices=("csv", "parquet"),
        help="output format (default: by the extension of -o: .wav, .flac, .edf, .tdms, .xlsx, .h5, .mat, "
        ".parquet; CSV otherwise; a batch keeps each file's own format)",
    )
    p.add_argument(
        "--plain",
        action="store_true",
        help="CSV output comma-separated with a decimal point, UTF-8 and ISO 8601 times, no '#' lines on "
        "top (default: as the input came, with what was applied in '#' lines)",
    )
    p.add_argument(
        "--part",
        help="the sheet, group, dataset, variable or rate group of a multi-part file "
        "(default: the first; the summary lists them)",
    )
    b = p.add_argument_group(
        "batch",
        "Several files run as Dask tasks, one worker process per core by default. "
        "A bad file is recorded in summary.csv and the rest go on; outputs are "
        "written atomically, each with a record of how it was made, and a rerun "
        "skips those whose record still matches the input and the settings. The "
        "output folder must lie outside the input tree. "
        "Exit status: 0 when every file is fine, else the number of failed files "
        "(at most 100).",
    )
    b.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)",
    )
    b.add_argument("--workers", type=int, help="local worker processes (default: one per core)")
    b.add_argument(
        "--force",
        action="store_true",
        help="redo files whose output is already up to date (a file no batch wrote is never replaced)",
    )
    p.set_defaults(func=cmd_denoise)

    p = sub.add_parser(
        "train",
        help="train a model and save it as .keras",
        description="Train a denoiser on synthetic signals (or on a CSV column with noise added, "
        "or on many recordings streamed with --data).",
    )
    p.add_argument("-o", "--output", required=True, help="model file to write (.keras)")
    p.add_argument(
        "--preset", choices=list(PRESETS), default=presets.DEFAULT, help=f"architecture (default: {presets.DEFAULT})"
    )
    p.add_argument(
        "--window",
        type=int,
        help="window length in samples (default: "
        + ", ".join(f"{name} {spec.window}" for name, spec in PRESETS.items())
        + ")",
    )
    p.add_argument("--filters", type=int, default=16, help="unet: channels of the first level (default: 16)")
    p.add_argument(
        "--family", choices=[*FAMILIES, "mixed", "realistic"], default="mixed", help="synthetic signal family"
    )
    p.add_argument("--n-signals", type=int, default=4000, help="synthetic training signals (default: 4000)")
    p.add_argument("--csv", help="train on a column of this CSV, treated as clean, with noise added")
    p.add_argument("--column", help="the CSV column to use (default: the first value column)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument(
        "--lr",
        type=float,
        help="Adam learning rate (default: "
        + ", ".join(f"{name} {spec.learning_rate:g}" for name, spec in PRESETS.items())
        + ")",
    )
    p.add_argument(
        "--loss",
        choices=("mse", "mae", "huber"),
        default="mse",
        help="mse (default); mae or huber for data with outliers or impulse noise",
    )
    p.add_argument("--patience", type=int, default=5, help="EarlyStopping patience in epochs")
    p.add_argument(
        "--self-supervised",
        action="store_true",
        help="learn from the --csv column's own noise, no clean version (blind-spot masking); "
        "fine-tunes the bundled default model unless --from-scratch",
    )
    p.add_argument("--from-scratch", action="store_true", help="with --self-supervised: start from fresh weights")
    p.add_argument(
        "--data",
        nargs="+",
        metavar="GLOB",
        help="stream windows from many CSV files or quoted patterns ('recordings/**/*.csv'), one file "
        "in memory at a time; with --self-supervised, or --clean-column for files holding a clean "
        "copy; --column picks one value column (default: every value column)",
    )
    p.add_argument("--clean-column", help="with --data: the column of each file holding the clean version")
    p.add_argument(
        "--shuffle-buffer", type=int, help="with --data: windows held for shuffling; bounds memory (default: 10000)"
    )
    _level(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "search",
        help="hyperparameter search; ranked table as CSV, best model as .keras",
        description="The Model page's search: one small network per combination, trained on "
        "synthetic signals, ranked on validation signals; the winner is tested on "
        "signals no trial has seen. --workers or --scheduler run the trials as Dask "
        "tasks, one per worker.",
    )
    p.add_argument("-o", "--output", required=True, help="the best model (.keras)")
    p.add_argument("--table", default="search.csv", help="ranked table of the trials (default: search.csv)")
    p.add_argument(
        "--preset",
        nargs="+",
        choices=presets.searchable(),
        default=presets.searchable(),
        help="architectures (default: all of them)",
    )
    p.add_argument("--window", nargs="+", type=int, default=[128], help="window lengths (default: 128)")
    p.add_argument("--lr", nargs="+", type=float, default=[1e-3, 3e-3], help="learning rates (default: 1e-3 3e-3)")
    p.add_argument("--loss", nargs="+", choices=("mse", "mae", "huber"), default=["mse"], help="losses")
    p.add_argument("--family", choices=[*FAMILIES, "mixed", "realistic"], default="mixed", help="signal family")
    p.add_argument("--noise", nargs="+", choices=list(NOISES), default=["gaussian"], help="noise kinds")
    _noise_options(p)
    p.add_argument("--n-signals", type=int, default=400, help="synthetic signals (default: 400)")
    p.add_argument("--epochs", type=int, default=5, help="epochs per trial, at most (default: 5)")
    p.add_argument("--trials", type=int, default=4, help="budget: trials drawn from the grid (default: 4)")
    p.add_argument(
        "--minutes",
        type=float,
        default=2.0,
        help="budget: no trial starts after this, a running one stops keeping its best epoch (default: 2)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--workers", type=int, help="run the trials as Dask tasks on this many local worker processes")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run the trials on a running Dask scheduler")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser(
        "generate",
        help="write a noisy/clean signal CSV",
        description="Write clean signals of a family and noisy copies to a CSV.",
    )
    p.add_argument("-o", "--output", required=True, help="CSV file to write")
    p.add_argument("--family", choices=[*FAMILIES, "mixed", "realistic"], default="x2")
    p.add_argument("--length", type=int, default=150)
    p.add_argument("-n", type=int, default=1, help="number of signals (default: 1)")
    _level(p)
    p.set_defaults(func=cmd_generate)
    return top


def _one_line(text: object, limit: int = 800) -> str:
    """An error for stderr: one line, bounded (messages may quote names from hostile files)."""
    return cut(text, limit)


SHOWN_COLUMNS = 12  # columns whose results a one-file run prints (a 999-column file printed 200,000 characters)
_PRECHECK_BYTES = 16 * 1024**2  # CSVs up to this size are checked before TensorFlow loads


def _check_inputs(args: argparse.Namespace) -> None:
    """Refuse input paths that are not regular files or are too large, before anything reads them.

    A named pipe or a device has no size to check and is read to its end (1.7 GB from
    one pipe); the readers check too, this only fails sooner (before TensorFlow loads).
    """
    from denoiser.io import MAX_BYTES
    from denoiser.modelfile import MAX_MODEL_BYTES

    paths = [(getattr(args, "input", None), MAX_BYTES), (getattr(args, "csv", None), MAX_BYTES)]
    model = getattr(args, "model", None)
    if isinstance(model, str) and model.endswith(".keras"):
        paths.append((model, MAX_MODEL_BYTES))
    for path, limit in paths:
        if not isinstance(path, str):
            continue
        try:
            info = os.stat(path)
        except OSError:
            continue  # the reader says what is wrong (missing file, no permission) in its own words
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{quoted(path, MAX_PATH_ECHO)} is a folder, not a file.")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{quoted(path, MAX_PATH_ECHO)} is not a regular file (a pipe or a device?); give a file.")
        if info.st_size > limit:
            raise InputError(
                f"{quoted(path, MAX_PATH_ECHO)} is {info.st_size / 1024**2:,.1f} MB, more than the limit of "
                f"{limit / 1024**2:,.0f} MB."
            )
    # A bad file is refused before TensorFlow loads (seconds on a busy machine): a model file's
    # archive and JSON are checked without Keras, a small CSV is read once more (cheap).
    for path, limit in paths:
        if not isinstance(path, str) or not os.path.isfile(path):
            continue
        if limit == MAX_MODEL_BYTES:
            from denoiser.modelfile import read_model_file

            read_model_file(path)
        elif os.path.getsize(path) <= _PRECHECK_BYTES:
            from denoiser.io import read_series

            read_series(path, part=getattr(args, "part", None) if path == getattr(args, "input", None) else None)


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``) and return the exit status: 0 done,
    2 bad input (one ``error:`` line), 1 an internal error, 130 interrupted; a batch returns its failed files."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's start-up chatter off stderr
    args = parser().parse_args(argv)
    try:
        _check_inputs(args)
        if args.command in ("train", "search") or (
            args.command == "denoise" and args.model != "none" and not _is_batch(args)
        ):
            _import_tensorflow()  # a batch's client needs no TensorFlow: its workers load it
        status = args.func(args)
    except InputError as err:
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return 2
    except OSError as err:
        print(_one_line(f"error: {err.strerror or err}: {err.filename or ''}".rstrip(": ")), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except (MemoryError, RecursionError) as err:  # input too large or too deep for the readers' checks
        print(
            f"error: the input needs more {'memory' if isinstance(err, MemoryError) else 'nesting'} "
            "than this machine allows; use a smaller file.",
            file=sys.stderr,
        )
        return 2
    except Exception as err:  # noqa: BLE001 -- a bug, not bad input: still one line, never a traceback
        print(
            _one_line(
                f"error: internal error ({type(err).__name__}: {err}); please report it "
                "with the command that caused it."
            ),
            file=sys.stderr,
        )
        return 1
    return status if isinstance(status, int) else 0  # denoise batches: the number of failed files
