"""Self-supervised training on a noisy recording alone: blind-spot (J-invariant) masking.

Noise2Self (Batson & Royer 2019) / Noise2Void (Krull et al. 2019): if the network's
output at a sample does not depend on that sample's input, then for noise that is
independent from sample to sample and has zero mean,

    E ||f(y) - y||^2  =  E ||f(y) - x||^2  +  E ||n||^2,

so minimising the loss against the *noisy* recording itself minimises the true error
against the unknown clean signal. The network is made blind at a grid of samples: in
every training window each ``k``-th sample (from a random offset) is replaced by the
mean of its two neighbours, and the loss is taken only at those samples. No clean data
and no noise level are needed; correlated noise (pink, drift) breaks the assumption and
is partly kept as "signal".

Inference has two modes (``ModelConfig.blind_spot``):

* ``k >= 2`` -- J-invariant: ``k`` passes, each with one grid of samples masked, and
  every sample is read from the pass in which it was masked. The output at a sample
  then never depends on that sample's own noisy value, exactly as in training (so the
  validation loss measures the same thing), at ``k`` times the cost of one pass.
* ``0`` -- plain: the network once on the unmasked input. Cheaper, but the network was
  never graded on what it does with a sample's own value, so it may copy part of the
  noise back.

:mod:`denoiser.core` calls :func:`fit_blind_spot` from ``Denoiser.fit(noisy)``
(``clean=None``) and :func:`invariant_frames` from ``Denoiser.denoise``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from denoiser.config import TrainConfig
from denoiser.train import EpochHook, StopFlag, run_fit

MIN_STEPS = 16  # batches per epoch at least: a short recording gives few windows, and patience counts epochs


# ------------------------------------------------------------ masking
def neighbour_mean(frames: np.ndarray) -> np.ndarray:
    """Mean of each sample's two neighbours in its window (one neighbour at the window's ends).

    Parameters
    ----------
    frames : ndarray, shape (n, window)

    Returns
    -------
    ndarray, shape (n, window)
    """
    left = np.concatenate([frames[:, 1:2], frames[:, :-1]], axis=1)
    right = np.concatenate([frames[:, 1:], frames[:, -2:-1]], axis=1)
    return 0.5 * (left + right)


def mask_frames(frames: np.ndarray, k: int, offset: int) -> np.ndarray:
    """A copy of ``frames`` with samples ``offset, offset + k, ...`` replaced by their neighbours' mean.

    With ``k >= 2`` no two masked samples are neighbours, so the replacement at a
    masked sample uses only unmasked values and never the sample itself.
    """
    out = frames.copy()
    out[:, offset::k] = neighbour_mean(frames)[:, offset::k]
    return out


def invariant_frames(fn: Callable[[np.ndarray], np.ndarray], frames: np.ndarray, k: int) -> np.ndarray:
    """J-invariant denoising of windows: ``k`` passes of ``fn``, one mask grid each.

    Parameters
    ----------
    fn : maps windows (n, window) to denoised windows (n, window), in the data's units
    frames : ndarray, shape (n, window)
    k : grid spacing (>= 2)

    Returns
    -------
    out : ndarray, shape (n, window); ``out[:, t]`` does not depend on ``frames[:, t]``
    """
    n, w = frames.shape
    # All k masked copies in one call: the network runs on one large batch.
    masked = np.concatenate([mask_frames(frames, k, o) for o in range(k)])
    done = fn(masked).reshape(k, n, w)
    out = np.empty_like(frames, dtype=np.float64)
    for o in range(k):
        out[:, o::k] = done[o, :, o::k]
    return out


def _tf_mask(x: tf.Tensor, offsets: tf.Tensor, k: int) -> tuple[tf.Tensor, tf.Tensor]:
    """TensorFlow twin of :func:`mask_frames` with one offset per window: (masked input, mask)."""
    w = tf.shape(x)[1]
    mask = tf.cast(tf.equal(tf.math.floormod(tf.range(w)[None, :] - offsets[:, None], k), 0), x.dtype)
    left = tf.concat([x[:, 1:2], x[:, :-1]], axis=1)
    right = tf.concat([x[:, 1:], x[:, -2:-1]], axis=1)
    return x + mask * (0.5 * (left + right) - x), mask


def training_dataset(x: np.ndarray, k: int, batch_size: int, seed: int, *, augment: bool = True) -> tf.data.Dataset:
    """Endless batches of (masked window, [noisy window, mask]), shapes (b, window, 1) and (b, window, 2).

    Each batch draws fresh mask offsets (seeded; different every epoch). ``augment``
    also flips the sign and the time direction of random windows: both keep the noise
    independent and zero-mean, and a short recording gives few distinct windows.
    """
    xt = tf.constant(x, tf.float32)
    n = len(x)
    idx = tf.data.Dataset.range(n).shuffle(n, seed=seed, reshuffle_each_iteration=True).repeat().batch(batch_size)
    rnd = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)

    def make(i: tf.Tensor, r: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return masked_batch(tf.gather(xt, i), r, k, augment=augment)

    return tf.data.Dataset.zip((idx, rnd)).map(make, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def masked_batch(win: tf.Tensor, r: tf.Tensor, k: int, *, augment: bool = True) -> tuple[tf.Tensor, tf.Tensor]:
    """One training batch from scaled windows: fresh mask offsets (and flips) drawn from the seed ``r``.

    Parameters
    ----------
    win : float32 tensor, shape (b, window) -- scaled noisy windows
    r : int64 scalar tensor -- this batch's seed (from ``tf.data.Dataset.random``)
    k : mask grid spacing

    Returns
    -------
    masked : shape (b, window, 1); target : shape (b, window, 2) -- noisy window and mask
    """
    b = tf.shape(win)[0]
    s = tf.stack([r, tf.constant(0, tf.int64)])
    if augment:
        signs = tf.where(tf.random.stateless_uniform([b, 1], seed=s + [0, 1]) < 0.5, -1.0, 1.0)
        flip = tf.random.stateless_uniform([b, 1], seed=s + [0, 2]) < 0.5
        win = tf.where(flip, tf.reverse(win, axis=[1]), win) * signs
    offsets = tf.random.stateless_uniform([b], seed=s, minval=0, maxval=k, dtype=tf.int32)
    masked, mask = _tf_mask(win, offsets, k)
    return masked[..., None], tf.stack([win, mask], axis=-1)


def validation_batch(win: tf.Tensor, k: int) -> tuple[tf.Tensor, tf.Tensor]:
    """TensorFlow twin of :func:`validation_arrays` for one batch: every window once per mask offset.

    Parameters
    ----------
    win : float32 tensor, shape (b, window)

    Returns
    -------
    inputs : shape (k * b, window, 1); targets : shape (k * b, window, 2) -- noisy window and mask
    """
    b = tf.shape(win)[0]
    pairs = [_tf_mask(win, tf.fill([b], o), k) for o in range(k)]
    inputs = tf.concat([m for m, _ in pairs], axis=0)
    targets = tf.stack([tf.tile(win, [k, 1]), tf.concat([mask for _, mask in pairs], axis=0)], axis=-1)
    return inputs[..., None], targets


def validation_arrays(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every window once per mask offset (the full J-invariant loss), float32.

    Returns
    -------
    inputs : shape (k * n, window, 1); targets : shape (k * n, window, 2) -- noisy window and mask
    """
    n, w = x.shape
    inputs = np.concatenate([mask_frames(x, k, o) for o in range(k)])
    mask = np.zeros((k, n, w))
    for o in range(k):
        mask[o, :, o::k] = 1.0
    targets = np.stack([np.tile(x, (k, 1)), mask.reshape(k * n, w)], axis=-1)
    return inputs[..., None].astype(np.float32), targets.astype(np.float32)


def masked_loss(name: str) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    """A loss on the masked samples only: ``y_true`` is (noisy, mask) stacked on the last axis.

    ``name`` is a :class:`TrainConfig` loss ("mse", "mae" or "huber"); per window, the
    mean over its masked samples.
    """
    if name not in ("mse", "mae", "huber"):
        raise ValueError(f"self-supervised training supports the losses mse, mae and huber; got {name!r}")

    def loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        target, mask = y_true[..., 0], y_true[..., 1]
        err = y_pred[..., 0] - target
        if name == "mse":
            e = tf.square(err)
        elif name == "mae":
            e = tf.abs(err)
        else:  # Huber, delta 1 (as keras.losses.Huber)
            a = tf.abs(err)
            e = tf.where(a <= 1.0, 0.5 * tf.square(err), a - 0.5)
        return tf.reduce_sum(mask * e, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)

    loss.__name__ = f"blind_spot_{name}"
    return loss


# ------------------------------------------------------------ training
def fit_blind_spot(
    model: keras.Model,
    x_train: np.ndarray,
    x_val: np.ndarray,
    cfg: TrainConfig,
    *,
    on_epoch: EpochHook | None = None,
    should_stop: StopFlag | None = None,
    verbose: int = 0,
) -> dict[str, Any]:
    """Fit ``model`` self-supervised on scaled noisy windows; it ends with its best weights.

    Parameters
    ----------
    x_train, x_val : ndarrays, shape (n, window) -- scaled noisy windows (no clean targets)
    cfg : TrainConfig; ``cfg.blind_spot`` is the mask grid spacing k
    on_epoch, should_stop : as in :func:`denoiser.train.fit_windows`; the logged
        ``loss`` / ``val_loss`` are the blind-spot losses (error against the noisy
        samples at masked positions), which sit a noise variance above the true error

    Returns
    -------
    info : dict with ``history``, ``best_epoch``, ``epochs_run``, ``stopped_by_user``, ``seconds``
    """
    k = cfg.blind_spot
    v_in, v_target = validation_arrays(x_val, k)
    return run_fit(
        model,
        masked_loss(cfg.loss),
        cfg,
        training_dataset(x_train, k, cfg.batch_size, cfg.seed),
        (v_in, v_target),
        on_epoch=on_epoch,
        should_stop=should_stop,
        verbose=verbose,
        steps_per_epoch=max(MIN_STEPS, math.ceil(len(x_train) / cfg.batch_size)),
        validation_batch_size=max(cfg.batch_size, 256),
    )


def blind_spot_metrics(
    denoise_frames: Callable[[np.ndarray], np.ndarray], frames: np.ndarray, k: int
) -> dict[str, float]:
    """Test figures without a clean reference, in the data's units squared.

    ``blind_spot_mse`` is the J-invariant error against the noisy samples: in
    expectation the true MSE plus the noise variance. ``neighbour_mse`` is the same
    figure for the plainest blind denoiser (each sample replaced by its neighbours'
    mean); the network should be below it.

    Parameters
    ----------
    denoise_frames : the fitted Denoiser's window pipeline (n, window) -> (n, window)
    frames : ndarray, shape (n, window) -- raw noisy test windows
    """
    out = invariant_frames(denoise_frames, frames, k)
    return {
        "blind_spot_mse": float(np.mean((out - frames) ** 2)),
        "neighbour_mse": float(np.mean((neighbour_mean(frames) - frames) ** 2)),
    }


def residual_sigma(noisy: np.ndarray, invariant: np.ndarray, width: int = 64, quantile: float = 0.05) -> float:
    """A noise level from a J-invariant denoiser's residuals: where the recording is most predictable.

    The blind-spot error ``(y - f_J(y))**2`` is, in expectation, the noise variance plus
    the network's own prediction error, so its local mean never falls below the noise
    variance (on average): its low quantile over the recording is an estimate of
    sigma**2 from above that is tight wherever some stretch is predictable. Unlike the
    wavelet MAD it does not mistake broadband signal for noise if the network can
    predict that signal from its neighbours (measured on real accelerometer channels:
    within 5-20 % of the true sigma where the MAD was 2-3x off); on a recording that no
    stretch of which is predictable it stays an upper bound (1.6x on appliance power at
    20 dB SNR).

    Parameters
    ----------
    noisy : ndarray, shape (n,) -- the recording (finite)
    invariant : ndarray, shape (n,) -- the J-invariant denoiser's output on it
    width : samples in the local mean
    quantile : low quantile of the local means taken

    Returns
    -------
    sigma : float, in the recording's units
    """
    from scipy.ndimage import uniform_filter1d

    r = (np.asarray(noisy, np.float64) - np.asarray(invariant, np.float64)) ** 2
    local = uniform_filter1d(r, min(width, r.size), mode="nearest")
    return float(np.sqrt(np.quantile(local, quantile)))
