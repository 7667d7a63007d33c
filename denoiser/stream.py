"""Streamed training data: windows from many CSV files through ``tf.data``, one file in memory at a time.

(One concept, training from an archive, past the ~500-line mark: the plan, the ``tf.data`` pipeline and
the streamed test figures share the per-file reading and the seeded split, which must not drift apart.)

An archive of recordings does not fit in memory, and has no clean versions. Here:

1. :func:`make_plan` reads every file once with the safe reader (:func:`denoiser.io.read_series`),
   keeps only what it learns about each usable column (its length), skips a bad file with a
   warning that gives the reason, and splits the data deterministically by the seed: whole
   files into train / validation / test when there are enough of them
   (:data:`denoiser.train.MIN_ROWS_FOR_ROW_SPLIT`), else each series in time, exactly as
   :func:`denoiser.train.split_series` splits in-memory data.
2. :func:`global_stats` (only for the global scalings) streams the training windows once
   more for their mean and standard deviation (or min and max).
3. :func:`dataset` builds the ``tf.data`` pipeline of one part: per epoch, files in a
   seeded order, each read, framed and scaled exactly as in-memory training does
   (:func:`denoiser.train.part_hops`, :func:`denoiser.windows.frame`,
   :func:`denoiser.windows.window_stats`), handed over a few hundred windows at a time
   (``Dataset.from_generator``), shuffled in a bounded buffer, batched, masked
   (self-supervised: :func:`denoiser.selfsup.masked_batch`) and prefetched.

Memory is bounded by the shuffle buffer plus one file, never by the archive's size.
:meth:`denoiser.core.Denoiser.fit_stream` trains from it.
"""

from __future__ import annotations

import itertools
import math
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from denoiser import selfsup, windows
from denoiser.config import ModelConfig, TrainConfig
from denoiser.errors import InputError
from denoiser.io import read_series
from denoiser.io.listing import expand_inputs
from denoiser.train import (
    MIN_ROWS_FOR_ROW_SPLIT,
    EpochHook,
    StopFlag,
    make_loss,
    part_hops,
    run_fit,
    split_indices,
    split_series,
)

SHUFFLE_BUFFER = 10_000  # windows held for shuffling: 10 MB at window 256 (float32)
CHUNK = 256  # windows handed to tf.data at a time (a copy of at most this many)
MIN_SAMPLES = 2  # a column with fewer finite numbers is not a series
NOISE_WEIGHT_CAP = 100.0  # as denoiser.train.noise_weights

SkipHook = Callable[[str, str], None]


class StreamWarning(UserWarning):
    """A file of a streamed training set was skipped; the message gives the file and the reason."""


@dataclass(frozen=True)
class Source:
    """One series to stream: a column of a file (and its clean column), and the samples to use.

    Attributes
    ----------
    path : the file
    column : the noisy value column
    clean : the clean column of the same file (supervised training), or None
    start, stop : the sample range used (a part of a time split, or the whole series)
    """

    path: str
    column: str
    clean: str | None
    start: int
    stop: int

    def n_windows(self, window: int, hop: int) -> int:
        """Windows of this range at ``hop``, known without reading the file."""
        return windows.plan(self.stop - self.start, window, hop).n_windows


@dataclass
class Plan:
    """What :func:`make_plan` found: the usable series, split into parts, and the skipped files.

    Attributes
    ----------
    parts : "train" / "val" / "test" -> list of Source ("test" may be empty)
    split : "files" (whole files per part) or "time" (each series split in time)
    files : usable files
    skipped : (path, reason) of every file (or series) left out
    window : the window the split was made for
    """

    parts: dict[str, list[Source]]
    split: str
    files: int
    window: int
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def n_windows(self, part: str, hop: int) -> int:
        """Windows of one part at ``hop`` (per epoch), from the series' lengths."""
        return sum(src.n_windows(self.window, hop) for src in self.parts[part])


def warn_skip(path: str, reason: str) -> None:
    """The default ``on_skip``: one warning line with the file and the reason."""
    warnings.warn(f"skipped {path}: {reason}", StreamWarning, stacklevel=3)


# ------------------------------------------------------------ scanning and splitting
def make_plan(
    data: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    window: int,
    train: TrainConfig,
    *,
    columns: Iterable[str] | None = None,
    clean_column: str | None = None,
    on_skip: SkipHook | None = warn_skip,
) -> Plan:
    """Read every file once, keep the usable series and split them by ``train.seed``.

    Parameters
    ----------
    data : a path or glob pattern, or several (``**`` matches folders at any depth)
    window : the model's window (a time split gives every part at least one)
    train : TrainConfig (val_fraction, test_fraction, seed)
    columns : value columns to use (every file must have them); default every value column
        of each file (but ``clean_column``)
    clean_column : the column of each file that holds the clean version (supervised training)
    on_skip : ``on_skip(path, reason)`` for every file left out; default a :class:`StreamWarning`

    Returns
    -------
    Plan

    Raises
    ------
    InputError
        if a pattern matches nothing, or no file has a usable series
    """
    patterns = [os.fspath(data)] if isinstance(data, (str, os.PathLike)) else [os.fspath(d) for d in data]
    if not patterns:
        raise InputError("No training files given: pass paths or patterns such as 'recordings/**/*.csv'.")
    files = expand_inputs(patterns)
    wanted = None if columns is None else list(dict.fromkeys(columns))
    skipped: list[tuple[str, str]] = []
    found: list[list[Source]] = []
    for path in files:
        try:
            sources = _scan_file(str(path), wanted, clean_column)
        except (InputError, OSError) as err:
            _skip(skipped, on_skip, str(path), _reason(err))
            continue
        found.append(sources)
    if not found:
        shown = "; ".join(f"{p}: {r}" for p, r in skipped[:3])
        raise InputError(
            f"None of the {len(files)} file(s) has a usable series ({shown}). "
            "Check the files and the --column/--clean-column names."
        )
    if len(found) >= MIN_ROWS_FOR_ROW_SPLIT:
        return _split_files(found, window, train, skipped)
    return _split_time(found, window, train, skipped, on_skip)


def _scan_file(path: str, wanted: list[str] | None, clean: str | None) -> list[Source]:
    """The usable series of one file, as whole-range Sources; raises InputError with the reason."""
    table = read_series(path)
    have = list(table.values.columns)
    names = wanted if wanted is not None else [c for c in have if c != clean]
    missing = [n for n in [*names, *([clean] if clean else [])] if n not in have]
    if missing:
        raise InputError(
            f"no column {', '.join(map(repr, missing))}; its value columns are {', '.join(map(repr, have))}"
        )
    if clean and np.isfinite(table.column(clean)).sum() < MIN_SAMPLES:
        raise InputError(f"the clean column {clean!r} has fewer than {MIN_SAMPLES} numbers")
    counts = {n: int(np.isfinite(table.column(n)).sum()) for n in names}
    usable = [n for n in names if counts[n] >= MIN_SAMPLES]
    if (wanted is not None and len(usable) < len(names)) or not usable:
        bad = [n for n in names if n not in usable] or names
        raise InputError(f"the column(s) {', '.join(map(repr, bad))} have fewer than {MIN_SAMPLES} numbers")
    n = len(table.values)
    return [Source(path, name, clean, 0, n) for name in usable]


def _split_files(found: list[list[Source]], window: int, train: TrainConfig, skipped: list[tuple[str, str]]) -> Plan:
    """Whole files into train / validation / test, by the seed (all columns of a file in one part)."""
    idx = split_indices(len(found), train, rng=np.random.default_rng(train.seed))
    parts = {name: [src for i in sorted(part) for src in found[i]] for name, part in zip(("train", "val", "test"), idx)}
    return Plan(parts, "files", len(found), window, skipped)


def _split_time(
    found: list[list[Source]], window: int, train: TrainConfig, skipped: list[tuple[str, str]], on_skip: SkipHook | None
) -> Plan:
    """Each series split in time (train first, then validation, then test, with gaps), as in-memory data."""
    parts: dict[str, list[Source]] = {"train": [], "val": [], "test": []}
    files = 0
    for sources in found:
        kept = 0
        for src in sources:
            try:
                # split_series reads only the shape: a zero-copy stand-in of the series' length
                ranges = split_series(np.broadcast_to(np.float64(0), (src.stop,)), train, window)
            except InputError as err:
                _skip(skipped, on_skip, src.path, f"column {src.column!r}: {_reason(err)}")
                continue
            for name, rs in ranges.items():
                parts[name].extend(Source(src.path, src.column, src.clean, a, b) for _, a, b in rs)
            kept += 1
        files += kept > 0
    if not parts["train"]:
        raise InputError(
            f"No series is long enough to split in time into training, validation and test parts "
            f"of a window ({window}) each; give longer recordings, at least "
            f"{MIN_ROWS_FOR_ROW_SPLIT} files, or a smaller window."
        )
    return Plan(parts, "time", files, window, skipped)


def _skip(skipped: list[tuple[str, str]], on_skip: SkipHook | None, path: str, reason: str) -> None:
    skipped.append((path, reason))
    if on_skip is not None:
        on_skip(path, reason)


def _reason(err: BaseException) -> str:
    """One line: an InputError's own message, an OSError's strerror."""
    text = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
    return " ".join(text.split())


# ------------------------------------------------------------ reading windows, one file at a time
def _by_file(sources: list[Source]) -> dict[str, list[Source]]:
    """Sources grouped by file, in first-seen order: each file is read once per pass."""
    groups: dict[str, list[Source]] = {}
    for src in sources:
        groups.setdefault(src.path, []).append(src)
    return groups


def _read(path: str, sources: list[Source]) -> dict[str, np.ndarray]:
    """The columns the sources of one file need, gaps bridged as for a self-supervised recording."""
    table = read_series(path)
    names = {s.column for s in sources} | {s.clean for s in sources if s.clean}
    out = {}
    for name in sorted(names):
        values = table.column(name)
        if np.isfinite(values).sum() < MIN_SAMPLES:
            raise InputError(f"the column {name!r} has fewer than {MIN_SAMPLES} numbers")
        out[name] = windows.bridge_gaps(values)
    return out


def raw_chunks(
    sources: list[Source],
    window: int,
    hop: int,
    *,
    order: np.random.Generator | None = None,
    on_skip: SkipHook | None = warn_skip,
    reported: set[str] | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Unscaled windows of some sources, at most :data:`CHUNK` at a time; one file in memory at a time.

    Parameters
    ----------
    sources : from a :class:`Plan` part
    window, hop : framing (:func:`denoiser.windows.frame` of each source's range)
    order : shuffles the files (a new order per call); None keeps the plan's order
    on_skip : called for a file that can no longer be read (changed since the plan); it is left out
    reported : paths already reported (each file is reported once over many epochs)

    Yields
    ------
    noisy : ndarray, shape (<= CHUNK, window), float64
    clean : same shape, or None for sources without a clean column
    """
    groups = list(_by_file(sources).items())
    if order is not None:
        groups = [groups[i] for i in order.permutation(len(groups))]
    reported = set() if reported is None else reported
    for path, srcs in groups:
        try:
            arrays = _read(path, srcs)
        except (InputError, OSError) as err:
            if path not in reported:
                reported.add(path)
                if on_skip is not None:
                    on_skip(path, f"{_reason(err)} (while training; left out)")
            continue
        for src in srcs:
            yield from _source_chunks(arrays, src, window, hop)
        del arrays  # before the next file is read: never two files at once


def _source_chunks(
    arrays: dict[str, np.ndarray], src: Source, window: int, hop: int
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """The windows of one source in chunks (its own generator: the padded copies die with it)."""
    noisy, _ = windows.frame_view(arrays[src.column][src.start : src.stop], window, hop)
    clean = None if src.clean is None else windows.frame_view(arrays[src.clean][src.start : src.stop], window, hop)[0]
    for i in range(0, len(noisy), CHUNK):
        yield noisy[i : i + CHUNK].copy(), None if clean is None else clean[i : i + CHUNK].copy()


def scaled_chunks(
    sources: list[Source],
    config: ModelConfig,
    hop: int,
    *,
    global_offset: float = 0.0,
    global_scale: float = 1.0,
    order: np.random.Generator | None = None,
    on_skip: SkipHook | None = warn_skip,
    reported: set[str] | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """As :func:`raw_chunks`, scaled as in-memory training: every window by its noisy statistics, float32.

    Yields
    ------
    noisy : ndarray, shape (<= CHUNK, window), float32 -- scaled
    clean : scaled by the noisy window's statistics, or None
    """
    for x, y in raw_chunks(sources, config.window, hop, order=order, on_skip=on_skip, reported=reported):
        offset, scale = windows.window_stats(x, config.scaling, global_offset=global_offset, global_scale=global_scale)
        xs = windows.scale(x, offset, scale).astype(np.float32)
        yield xs, None if y is None else windows.scale(y, offset, scale).astype(np.float32)


def global_stats(plan: Plan, scaling: str, hop: int, *, on_skip: SkipHook | None = warn_skip) -> tuple[float, float]:
    """A global scaling's offset and scale from the training windows, in one streaming pass.

    The same numbers as :func:`denoiser.windows.global_stats` of all training windows at
    once (up to float rounding): per-chunk means and squared deviations are combined
    (Chan et al.), min and max directly.

    Returns
    -------
    offset, scale : floats
    """
    if scaling not in windows.GLOBAL_SCALINGS:
        raise InputError(
            f"Scaling {scaling!r} has no global statistics; choose one of {', '.join(windows.GLOBAL_SCALINGS)}."
        )
    n, mean, m2, lo, hi = 0, 0.0, 0.0, math.inf, -math.inf
    for x, _ in raw_chunks(plan.parts["train"], plan.window, hop, on_skip=on_skip):
        k, m = x.size, float(x.mean())
        delta = m - mean
        mean += delta * k / (n + k)
        m2 += float(((x - m) ** 2).sum()) + delta**2 * n * k / (n + k)
        n += k
        lo, hi = min(lo, float(x.min())), max(hi, float(x.max()))
    if not n:
        raise InputError("No training window could be read for the global scaling's statistics.")
    offset, spread = (mean, math.sqrt(m2 / n)) if scaling == "global" else (lo, hi - lo)
    return offset, windows.safe_spread(offset, spread)


# ------------------------------------------------------------ tf.data
def dataset(
    plan: Plan,
    config: ModelConfig,
    train: TrainConfig,
    part: str = "train",
    *,
    clean: bool | None = None,
    global_offset: float = 0.0,
    global_scale: float = 1.0,
    shuffle_buffer: int = SHUFFLE_BUFFER,
    on_skip: SkipHook | None = warn_skip,
) -> tf.data.Dataset:
    """Batches of one part's windows for ``model.fit``, streamed from the files.

    Parameters
    ----------
    plan : from :func:`make_plan`
    config : the model's window and scaling
    train : batch size, seed, loss weighting, ``self_supervised`` and ``blind_spot``
    part : "train" (shuffled, files in a new seeded order each epoch; self-supervised:
        fresh masks and flips per batch) or "val" / "test" (in order; self-supervised:
        every window once per mask offset, the full J-invariant loss)
    clean : supervised targets from the sources' clean columns; default ``not train.self_supervised``
    global_offset, global_scale : for the global scalings (:func:`global_stats`)
    shuffle_buffer : windows held for shuffling (bounds memory with one file)

    Returns
    -------
    tf.data.Dataset of (input (b, window, 1), target (b, window, 1)[, weight (b, 1)]) --
        supervised, weights when ``train.weighting == "noise"``; or of (masked input
        (b, window, 1), [noisy, mask] (b, window, 2)) -- self-supervised
    """
    supervised = not train.self_supervised if clean is None else clean
    if supervised and any(src.clean is None for src in plan.parts[part]):
        raise InputError(
            "Supervised training needs a clean version of every series: name the clean column "
            "of each file (clean_column=..., --clean-column NAME), or train self-supervised "
            "(TrainConfig.selfsup(), --self-supervised) on the recordings' own noise."
        )
    if shuffle_buffer < 1:
        raise InputError(f"shuffle_buffer must be at least 1 window; got {shuffle_buffer}.")
    hop = part_hops(config.window, train.self_supervised)[part]
    training = part == "train"
    ds = _window_dataset(
        plan.parts[part],
        config,
        hop,
        supervised,
        seed=train.seed if training else None,
        global_offset=global_offset,
        global_scale=global_scale,
        on_skip=on_skip,
    )
    if training:
        ds = ds.shuffle(
            max(1, min(shuffle_buffer, plan.n_windows(part, hop))), seed=train.seed, reshuffle_each_iteration=True
        )
    batch = train.batch_size if training else max(train.batch_size, 256)
    ds = ds.batch(batch)
    if not supervised:
        k = train.blind_spot
        if training:
            rnd = tf.data.Dataset.random(seed=train.seed, rerandomize_each_iteration=True)
            ds = tf.data.Dataset.zip((ds, rnd)).map(
                lambda w, r: selfsup.masked_batch(w, r, k), num_parallel_calls=tf.data.AUTOTUNE
            )
        else:
            ds = ds.map(lambda w: selfsup.validation_batch(w, k), num_parallel_calls=tf.data.AUTOTUNE)
    elif train.weighting == "noise":
        ds = ds.map(
            lambda x, y: (x[..., None], y[..., None], _noise_weights(x, y)), num_parallel_calls=tf.data.AUTOTUNE
        )
    else:
        ds = ds.map(lambda x, y: (x[..., None], y[..., None]), num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    # A generator cannot be split by file across workers (MultiWorkerMirroredStrategy):
    # each worker reads the stream and keeps its share of the batches.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options).prefetch(tf.data.AUTOTUNE)


def _window_dataset(
    sources: list[Source],
    config: ModelConfig,
    hop: int,
    supervised: bool,
    *,
    seed: int | None,
    global_offset: float,
    global_scale: float,
    on_skip: SkipHook | None,
) -> tf.data.Dataset:
    """Unbatched scaled windows (and clean targets) from :func:`scaled_chunks`, a new file order per epoch."""
    w = config.window
    epochs = itertools.count()  # each iteration of the dataset (an epoch) calls gen() again
    reported: set[str] = set()

    def gen() -> Iterator[Any]:
        order = None if seed is None else np.random.default_rng([seed, next(epochs)])
        for x, y in scaled_chunks(
            sources,
            config,
            hop,
            global_offset=global_offset,
            global_scale=global_scale,
            order=order,
            on_skip=on_skip,
            reported=reported,
        ):
            yield (x, y) if supervised else x

    spec = tf.TensorSpec((None, w), tf.float32)
    ds = tf.data.Dataset.from_generator(gen, output_signature=(spec, spec) if supervised else spec)
    return ds.unbatch()


def _noise_weights(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    """:func:`denoiser.train.noise_weights` per batch, shape (b, 1): the archive is never in memory at once.

    Weights ~ 1 / noise power of each window, capped, normalised to mean 1 within the batch.
    """
    power = tf.reduce_mean(tf.square(x - y), axis=1)
    top = tf.reduce_max(power)
    w = 1.0 / tf.maximum(power, top / NOISE_WEIGHT_CAP)
    w = tf.where(top > 0, w / tf.reduce_mean(w), tf.ones_like(power))
    return w[:, None]


# ------------------------------------------------------------ fitting and test figures
def steps(plan: Plan, config: ModelConfig, train: TrainConfig, part: str) -> int:
    """Batches in one pass over a part of :func:`dataset` (self-supervised training: at least
    :data:`denoiser.selfsup.MIN_STEPS`, as in-memory), from the series' lengths."""
    n = plan.n_windows(part, part_hops(config.window, train.self_supervised)[part])
    batches = math.ceil(n / (train.batch_size if part == "train" else max(train.batch_size, 256)))
    return max(selfsup.MIN_STEPS, batches) if part == "train" and train.self_supervised else max(1, batches)


def fit(
    model: keras.Model,
    train_ds: tf.data.Dataset,
    val_ds: tf.data.Dataset,
    cfg: TrainConfig,
    *,
    train_steps: int,
    val_steps: int,
    on_epoch: EpochHook | None = None,
    should_stop: StopFlag | None = None,
    verbose: int = 0,
) -> dict[str, Any]:
    """Compile and fit ``model`` on streamed batches; it ends with its best weights (EarlyStopping).

    Parameters
    ----------
    train_ds, val_ds : from :func:`dataset` (one pass each); repeated here
    train_steps, val_steps : batches per epoch and per validation (:func:`steps`). Known
        counts keep Keras from guessing the end of a stream, and a file that cannot be read
        any more only shifts where an epoch ends instead of ending the run.

    Returns
    -------
    info : as :func:`denoiser.train.fit_windows`
    """
    loss = selfsup.masked_loss(cfg.loss) if cfg.self_supervised else make_loss(cfg.loss)
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas > 1:
        train_ds, val_ds = _even_batches(train_ds, replicas), _even_batches(val_ds, replicas)
    # Keras restarts the validation stream at every evaluation, so each sees one whole pass.
    return run_fit(
        model,
        loss,
        cfg,
        train_ds.repeat(),
        val_ds.repeat(),
        on_epoch=on_epoch,
        should_stop=should_stop,
        verbose=verbose,
        steps_per_epoch=train_steps,
        validation_steps=val_steps,
    )


def _even_batches(ds: tf.data.Dataset, replicas: int) -> tf.data.Dataset:
    """Every batch cut to a multiple of ``replicas`` (at most ``replicas - 1`` windows dropped).

    Keras fails on a batch that several replicas cannot share evenly ("AddN ... must have the
    same size and shape"); a stream's last batch of a pass has any size.
    """

    def cut(*parts: Any) -> tuple:
        n = tf.shape(tf.nest.flatten(parts)[0])[0] // replicas * replicas
        return tf.nest.map_structure(lambda t: t[:n], parts)

    return ds.map(cut).filter(lambda *parts: tf.shape(tf.nest.flatten(parts)[0])[0] > 0).prefetch(tf.data.AUTOTUNE)


def stream_metrics(
    plan: Plan,
    hop: int,
    figures: Callable[[np.ndarray, np.ndarray | None], dict[str, float]],
    *,
    on_skip: SkipHook | None = warn_skip,
) -> dict[str, float]:
    """Test figures over the test part, chunk by chunk: means weighted by windows (all of one length).

    Parameters
    ----------
    figures : ``figures(noisy, clean)`` -> dict of mean figures for raw windows of a chunk
        (e.g. :func:`denoiser.selfsup.blind_spot_metrics`, :func:`denoiser.metrics.report`)

    Returns
    -------
    dict of the figures' means over all test windows ({} when there is no test part); a
    ``gain_db`` is recomputed from the mean ``noisy_mse`` and ``mse``
    """
    sums: dict[str, float] = {}
    n = 0
    for x, y in raw_chunks(plan.parts["test"], plan.window, hop, on_skip=on_skip):
        for key, value in figures(x, y).items():
            sums[key] = sums.get(key, 0.0) + value * len(x)
        n += len(x)
    out = {k: v / n for k, v in sums.items()} if n else {}
    if "gain_db" in out:
        before, after = out["noisy_mse"], out["mse"]
        out["gain_db"] = float(10 * np.log10(before / after)) if before > 0 and after > 0 else float("nan")
    return out
