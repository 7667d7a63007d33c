"""Fit a Keras model on scaled windows: splits, callbacks, stop flag, history.

Kept apart from :mod:`denoiser.core` so the training loop reads on its own:
split -> tf.data -> fit with EarlyStopping + best-weights restore -> history.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from denoiser import windows
from denoiser.config import TrainConfig
from denoiser.errors import InputError

EpochHook = Callable[[int, dict[str, float]], None]
StopFlag = Callable[[], bool]


def split_indices(
    n: int, cfg: TrainConfig, *, contiguous: bool = False, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train / validation / test indices of ``n`` items.

    ``contiguous=True`` keeps time order (first part train, then validation, then
    test), which is what a single long recording needs: overlapping windows would
    otherwise leak test samples into training.
    """
    n_test = int(round(n * cfg.test_fraction))
    n_val = max(1, int(round(n * cfg.val_fraction)))
    if n - n_test - n_val < 1:
        raise InputError(
            f"Only {n} window(s) of data: too few to split into training, validation and test "
            "sets. Give a longer series or more signals (at least 4 windows)."
        )
    order = np.arange(n) if contiguous else (rng or np.random.default_rng(cfg.seed)).permutation(n)
    n_train = n - n_val - n_test
    return order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :]


MIN_ROWS_FOR_ROW_SPLIT = 10  # fewer signals than this: each one is split in time instead


def split_series(
    noisy: np.ndarray, cfg: TrainConfig, window: int, *, rng: np.random.Generator | None = None
) -> dict[str, list[tuple[int, int, int]]]:
    """Split the data into train / validation / test *before* it is cut into windows.

    Windows overlap (a hop of half a window or less), so splitting windows after
    framing puts neighbouring windows of one signal in training and in test and
    flatters the test metrics. Here the split is over whole signals (rows) when
    there are enough of them, and otherwise over contiguous time ranges of each
    signal -- train first, then validation, then test -- with a gap of half a
    window between the ranges, so no test sample is ever inside a training window.

    Parameters
    ----------
    noisy : ndarray, shape (length,) for one recording or (n_signals, length)
    cfg : TrainConfig (val_fraction, test_fraction, seed)
    window : the model's window; every non-empty time range holds at least one

    Returns
    -------
    parts : dict "train" / "val" / "test" -> list of (row, start, stop) sample ranges;
        "test" may be empty when ``cfg.test_fraction`` is 0
    """
    rows = noisy[None] if noisy.ndim == 1 else noisy
    n_rows, length = rows.shape
    if noisy.ndim == 2 and n_rows >= MIN_ROWS_FOR_ROW_SPLIT:
        i_train, i_val, i_test = split_indices(n_rows, cfg, rng=rng)
        return {
            name: [(int(r), 0, length) for r in idx]
            for name, idx in (("train", i_train), ("val", i_val), ("test", i_test))
        }
    gap = window // 2
    n_val = max(window, int(round(length * cfg.val_fraction)))
    n_test = max(window, int(round(length * cfg.test_fraction))) if cfg.test_fraction > 0 else 0
    n_train = length - n_val - n_test - gap * (2 if n_test else 1)
    if n_train < window:
        need = 2 * window + gap + (window + gap if n_test else 0)
        what = "The recording" if n_rows == 1 else f"Each of the {n_rows} signals"
        raise InputError(
            f"{what} has {length} samples: too few to split in time into training, validation"
            f"{' and test' if n_test else ''} parts of at least one window ({window}) each. "
            f"Give at least {need} samples, a smaller window, or {MIN_ROWS_FOR_ROW_SPLIT}+ signals."
        )
    v0 = n_train + gap
    t0 = v0 + n_val + gap
    parts: dict[str, list[tuple[int, int, int]]] = {"train": [], "val": [], "test": []}
    for r in range(n_rows):
        parts["train"].append((r, 0, n_train))
        parts["val"].append((r, v0, v0 + n_val))
        if n_test:
            parts["test"].append((r, t0, t0 + n_test))
    return parts


def frame_parts(data: np.ndarray, ranges: list[tuple[int, int, int]], window: int, hop: int) -> np.ndarray:
    """The windows of some sample ranges of ``data`` (from :func:`split_series`), framed one range at a time.

    Parameters
    ----------
    data : ndarray, shape (length,) or (n_signals, length)
    ranges : list of (row, start, stop)

    Returns
    -------
    frames : ndarray, shape (n_windows, window); (0, window) for no ranges
    """
    rows = data[None] if data.ndim == 1 else data
    framed = [windows.frame(rows[r, a:b], window, hop)[0] for r, a, b in ranges]
    return np.concatenate(framed) if framed else np.empty((0, window))


def part_hops(window: int, self_supervised: bool) -> dict[str, int]:
    """The hop between training windows of each part ("train", "val", "test").

    Self-supervised training takes a denser hop on the training part (fresh masks each
    epoch make overlapping windows different examples); half a window elsewhere. Shared
    by in-memory (:meth:`denoiser.core.Denoiser.fit`) and streamed training
    (:mod:`denoiser.stream`), so both cut the same windows.
    """
    half = max(1, window // 2)
    return {"train": max(1, window // 16) if self_supervised else half, "val": half, "test": half}


def make_loss(name: str) -> keras.losses.Loss | str:
    """The Keras loss for a :class:`TrainConfig` loss name."""
    return {
        "mse": "mean_squared_error",
        "mae": "mean_absolute_error",
        "huber": keras.losses.Huber(delta=1.0),
        "bce": "binary_crossentropy",
    }[name]


def noise_weights(x: np.ndarray, y: np.ndarray, cap: float = 100.0) -> np.ndarray:
    """Per-window loss weights ~ 1 / noise power, normalised to mean 1.

    Unweighted MSE on scaled windows is dominated by the noisiest windows, so
    the network neglects quiet ones, where it must match the least-squares limit
    and do no harm. Weighting by the inverse noise power trains for the average
    *relative* improvement (the gain) instead. ``cap`` bounds the weight of
    nearly clean windows.
    """
    power = np.mean((x - y) ** 2, axis=1)
    if not power.size or power.max() <= 0:  # no noise at all: nothing to weigh by
        return np.ones(len(x), np.float32)
    w = 1.0 / np.maximum(power, power.max() / cap)
    return (w / w.mean()).astype(np.float32)


def dataset(
    x: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle_seed: int | None = None, weights: np.ndarray | None = None
) -> tf.data.Dataset:
    """Batches of (noisy, clean[, weight]) windows, shape (batch, window, 1), float32.

    The arrays become tensors once; each epoch shuffles only the indices and
    gathers whole batches, which is what Keras does for in-memory arrays (a
    shuffle buffer of windows would copy every window every epoch).
    """
    tensors = [tf.constant(x[..., None], tf.float32), tf.constant(y[..., None], tf.float32)]
    if weights is not None:
        tensors.append(tf.constant(weights[:, None], tf.float32))
    idx = tf.data.Dataset.range(len(x))
    if shuffle_seed is not None:
        idx = idx.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    return (
        idx.batch(batch_size)
        .map(lambda i: tuple(tf.gather(t, i) for t in tensors), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


class _StopFlag(keras.callbacks.Callback):
    """Polls the user's stop flag after every batch (only added when there is one:
    batch-level hooks make Keras synchronise on every step)."""

    def __init__(self, should_stop: StopFlag) -> None:
        super().__init__()
        self.should_stop, self.stopped = should_stop, False

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.should_stop():
            self.stopped = True
            self.model.stop_training = True


class _EpochHook(keras.callbacks.Callback):
    """Calls the user's ``on_epoch(epoch, logs)`` after every epoch, with ``seconds`` since the start."""

    def __init__(self, on_epoch: EpochHook | None) -> None:
        super().__init__()
        self.on_epoch = on_epoch
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.on_epoch is not None:
            logs = {k: float(v) for k, v in (logs or {}).items()}
            self.on_epoch(epoch, {**logs, "seconds": time.perf_counter() - self.t0})


def _early_stopping(cfg: TrainConfig) -> keras.callbacks.EarlyStopping:
    # Keras' own: stops after ``patience`` epochs without a lower val_loss and, with
    # restore_best_weights, puts the best epoch's weights back in on_train_end however the
    # run ends (patience, the last epoch, or the user's Stop: the pinned Keras 3.15.1 restores on
    # every train end; tests/unit/test_core.py checks it), so a run is never worse than its best epoch.
    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.patience, restore_best_weights=True)


def callbacks(
    cfg: TrainConfig, on_epoch: EpochHook | None, should_stop: StopFlag | None
) -> tuple[list[keras.callbacks.Callback], dict[str, Any]]:
    """The callbacks of one fit: early stopping with best weights, learning-rate plateau, on_epoch, stop flag.

    Returns
    -------
    callbacks : list for ``model.fit``
    parts : dict with ``early`` (EarlyStopping: ``best_epoch``), ``hook`` (``t0``) and ``stop`` (or None)
    """
    early, hook = _early_stopping(cfg), _EpochHook(on_epoch)
    stop = _StopFlag(should_stop) if should_stop is not None else None
    return [early, hook, _plateau(cfg), *([stop] if stop else [])], {"early": early, "hook": hook, "stop": stop}


def fit_info(history: dict[str, list[float]], parts: dict[str, Any]) -> dict[str, Any]:
    """What :func:`fit_windows` (and the self-supervised fit) report about a finished run."""
    stop = parts["stop"]
    return {
        "history": history,
        "best_epoch": int(parts["early"].best_epoch),
        "epochs_run": len(history.get("loss", [])),
        "stopped_by_user": bool(stop and stop.stopped),
        "seconds": time.perf_counter() - parts["hook"].t0,
    }


def _plateau(cfg: TrainConfig) -> keras.callbacks.Callback:
    # Halving the step when validation stalls buys the last few percent that
    # separate a good denoiser from the least-squares limit.
    return keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=max(1, cfg.patience // 2), min_lr=1e-5)


_registry_lock = threading.Lock()
_fits_running = 0
_registered_during_fits: set[str] = set()


@contextmanager
def release_gradient_registrations() -> Iterator[None]:
    """Drop the gradient functions TensorFlow registers globally during a fit.

    Keras' TensorFlow optimizer traces a ``tf.custom_gradient`` per fit, and each
    trace adds an entry to TensorFlow's process-wide gradient registry that is
    never removed; the entry keeps that run's whole training graph alive
    (~15-30 MB per fit). A server training model after model grows without bound.
    The entries are dropped once no fit is running (another thread's fit may still
    need its own), so the graphs can be freed. The registry is private to
    TensorFlow: if it moves, this does nothing.
    """
    global _fits_running
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry
    except (ImportError, AttributeError):
        yield
        return
    with _registry_lock:
        before = set(registry)
        _fits_running += 1
    try:
        yield
    finally:
        with _registry_lock:
            _registered_during_fits.update(set(registry) - before)
            _fits_running -= 1
            if _fits_running == 0:
                for name in _registered_during_fits:
                    registry.pop(name, None)
                _registered_during_fits.clear()


def _multiple(batch: int, replicas: int) -> int:
    """``batch`` rounded up to a multiple of ``replicas`` (each replica gets the same share)."""
    return -(-batch // replicas) * replicas


@functools.cache
def _mirrored(devices: tuple[str, ...] | None) -> tf.distribute.Strategy:
    # One strategy per device set for the whole process: each new MirroredStrategy numbers its
    # collective ops from the same start, so a second fit of another architecture under a fresh
    # strategy met the first one's cached collectives ("Shape mismatch in the collective instance").
    return tf.distribute.MirroredStrategy(list(devices) if devices else None)


@functools.cache
def _multiworker() -> tf.distribute.Strategy:
    return tf.distribute.MultiWorkerMirroredStrategy()  # TensorFlow allows one per process


def strategy_for(distribute: str | None) -> tf.distribute.Strategy:
    """The tf.distribute strategy that `Denoiser.fit` builds and fits the model under.

    Parameters
    ----------
    distribute : None, "auto", "mirrored" or "multiworker"
        None: TensorFlow's default strategy (one device, as before). "auto":
        MirroredStrategy when more than one GPU is visible, else the default.
        "mirrored": MirroredStrategy over all visible GPUs (or the logical CPU devices
        when there is no GPU). "multiworker": MultiWorkerMirroredStrategy; the cluster
        and this process's role come from the ``TF_CONFIG`` environment variable, as
        TensorFlow documents (every worker runs the same fit; worker 0 is the chief).

    Returns
    -------
    tf.distribute.Strategy
        Batches are global: ``batch_size`` is split across the replicas, so the loss
        curve matches single-device training (up to float summation order).
    """
    if distribute is None:
        return tf.distribute.get_strategy()
    if distribute == "auto":
        gpus = tf.config.list_logical_devices("GPU")
        return _mirrored(None) if len(gpus) > 1 else tf.distribute.get_strategy()
    if distribute == "mirrored":
        if tf.config.list_logical_devices("GPU"):
            return _mirrored(None)
        return _mirrored(tuple(d.name for d in tf.config.list_logical_devices("CPU")))
    if distribute == "multiworker":
        if not os.environ.get("TF_CONFIG"):
            raise InputError(
                "distribute='multiworker' reads the cluster from the TF_CONFIG environment variable, "
                "which is not set; see TensorFlow's multi-worker training guide."
            )
        return _multiworker()
    raise InputError(f"distribute must be None, 'auto', 'mirrored' or 'multiworker'; got {distribute!r}.")


def fit_windows(
    model: keras.Model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    cfg: TrainConfig,
    *,
    on_epoch: EpochHook | None = None,
    should_stop: StopFlag | None = None,
    verbose: int = 0,
) -> dict[str, Any]:
    """Compile and fit ``model`` on scaled windows; the model ends with its best weights.

    Parameters
    ----------
    x_train, y_train : ndarrays, shape (n_train, window) -- scaled noisy input, scaled clean target
    x_val, y_val : ndarrays, shape (n_val, window)
    on_epoch : called as ``on_epoch(epoch, logs)`` after every epoch; logs has
        ``loss``, ``val_loss`` and ``seconds`` (since the start)
    should_stop : polled after every batch; returning True ends training early

    Returns
    -------
    info : dict with ``history`` (lists per metric), ``best_epoch``, ``epochs_run``,
        ``stopped_by_user`` and ``seconds``
    """
    weigh = cfg.weighting == "noise"
    # Several replicas (tf.distribute) split every batch evenly or fail ("AddN ... must have the same
    # shape" on a last batch of 15 over 2 devices): keep whole multiples of the replica count.
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    x_train, y_train, x_val, y_val = (a[: len(a) - len(a) % replicas] for a in (x_train, y_train, x_val, y_val))
    return run_fit(
        model,
        make_loss(cfg.loss),
        cfg,
        dataset(
            x_train,
            y_train,
            _multiple(cfg.batch_size, replicas),
            shuffle_seed=cfg.seed,
            weights=noise_weights(x_train, y_train) if weigh else None,
        ),
        dataset(
            x_val,
            y_val,
            _multiple(max(cfg.batch_size, 256), replicas),
            weights=noise_weights(x_val, y_val) if weigh else None,
        ),
        on_epoch=on_epoch,
        should_stop=should_stop,
        verbose=verbose,
    )


def run_fit(
    model: keras.Model,
    loss: Any,
    cfg: TrainConfig,
    train_data: Any,
    val_data: Any,
    *,
    on_epoch: EpochHook | None = None,
    should_stop: StopFlag | None = None,
    verbose: int = 0,
    **fit_args: Any,
) -> dict[str, Any]:
    """The one training loop: compile, fit with the callbacks of :func:`callbacks`, report.

    Behind every fit of the package (supervised windows, the blind-spot fit in
    :mod:`denoiser.selfsup`, streamed files in :mod:`denoiser.stream`): Adam at the config's
    learning rate, early stopping that restores the best epoch's weights however the run ends,
    the learning-rate plateau, the epoch hook and the stop flag, TensorFlow's gradient
    registrations released afterwards, and the history reported once.

    Parameters
    ----------
    loss : a Keras loss (``make_loss``, ``selfsup.masked_loss``)
    train_data, val_data : what ``model.fit`` takes as data and ``validation_data``
    fit_args : more ``model.fit`` arguments (``steps_per_epoch``, ``validation_steps``,
        ``validation_batch_size``); the data shuffle themselves, so ``shuffle`` is off

    Returns
    -------
    info : dict with ``history`` (lists per metric), ``best_epoch``, ``epochs_run``,
        ``stopped_by_user`` and ``seconds``
    """
    model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss=loss)
    cbs, parts = callbacks(cfg, on_epoch, should_stop)
    with release_gradient_registrations():
        hist = model.fit(
            train_data,
            validation_data=val_data,
            epochs=cfg.epochs,
            callbacks=cbs,
            shuffle=False,
            verbose=verbose,
            **fit_args,
        )
    return fit_info({k: [float(v) for v in vals] for k, vals in hist.history.items()}, parts)
