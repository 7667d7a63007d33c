"""Windowing, scaling and its inverse, overlap-add reassembly.

A series of any length is cut into overlapping windows of the model's length,
each window is scaled using only noisy values -- its own, or fixed statistics of
the noisy training split stored with the model; both are available at use time,
so the inverse is honest -- and the network's outputs are blended back with a
smooth taper so that window seams do not show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from denoiser.errors import InputError

SCALINGS = ("standard", "minmax")  # per window, from the window itself
GLOBAL_SCALINGS = ("global", "global-minmax")  # one offset and scale, from the training split


@dataclass(frozen=True)
class Framing:
    """Where the windows of a series lie.

    Attributes
    ----------
    length : samples in the original series
    padded : samples after padding (>= length, covers every window)
    window, hop : window length and step between window starts
    """

    length: int
    padded: int
    window: int
    hop: int

    @property
    def n_windows(self) -> int:
        """How many windows cover the padded series."""
        return 1 + (self.padded - self.window) // self.hop


def plan(length: int, window: int, hop: int) -> Framing:
    """Choose the padding so that windows of ``window`` every ``hop`` cover ``length`` samples."""
    if window < 2 or not 1 <= hop <= window:
        raise InputError(f"Window must be >= 2 and hop in [1, window]; got window={window}, hop={hop}.")
    if length < 2:
        raise InputError(f"The series has {length} sample(s); at least 2 are needed.")
    n_windows = 1 + max(0, -(-(length - window) // hop))
    return Framing(length, (n_windows - 1) * hop + window, window, hop)


def extend(x: np.ndarray, padded: int) -> np.ndarray:
    """Extend a series at its end to ``padded`` samples by odd reflection, which continues its local trend.

    How :func:`frame` (and so every denoise) pads the last window; the app's layer view pads a
    short window the same way. For series much shorter than the window the reflection is repeated.

    Parameters
    ----------
    x : ndarray, shape (n,), n >= 2
    padded : samples wanted; ``x`` itself when it has that many already

    Returns
    -------
    ndarray, shape (max(n, padded),)
    """
    out = np.asarray(x)
    if out.size < 2 and out.size < padded:
        raise InputError(f"The series has {out.size} sample(s); at least 2 are needed to extend it.")
    while out.size < padded:
        n = min(out.size - 1, padded - out.size)
        tail = 2 * out[-1] - out[-2 : -n - 2 : -1]
        out = np.concatenate([out, tail])
    return out


def frame(x: np.ndarray, window: int, hop: int) -> tuple[np.ndarray, Framing]:
    """Cut a 1-D series into overlapping windows.

    Parameters
    ----------
    x : ndarray, shape (n,)
    window, hop : window length and step

    Returns
    -------
    frames : ndarray, shape (n_windows, window) -- a copy, safe to modify
    framing : how to put the frames back with :func:`overlap_add`
    """
    view, fr = frame_view(x, window, hop)
    return view.copy(), fr


def frame_view(x: np.ndarray, window: int, hop: int) -> tuple[np.ndarray, Framing]:
    """The windows of :func:`frame` as a read-only strided view of one padded copy of ``x``.

    Streamed training (:mod:`denoiser.stream`) copies a few windows at a time from it:
    all windows at once, at a hop of 1/16 window, would be 16 times the series.

    Returns
    -------
    frames : ndarray view, shape (n_windows, window) -- read-only
    framing : as :func:`frame`
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise InputError(f"Expected a 1-D series; got an array of shape {x.shape}.")
    fr = plan(x.size, window, hop)
    padded = extend(x, fr.padded)
    return np.lib.stride_tricks.sliding_window_view(padded, window)[::hop], fr


def taper(window: int) -> np.ndarray:
    """Blending weights: sin² shifted half a sample, so they are smooth and never zero.

    Network outputs are least reliable at window edges (less context), so those
    get the least weight; a weight > 0 everywhere keeps the ends of the series defined.
    """
    return np.sin(np.pi * (np.arange(window) + 0.5) / window) ** 2


def overlap_add(frames: np.ndarray, framing: Framing, weights: np.ndarray | None = None) -> np.ndarray:
    """Blend windows back into a series: the weighted mean of every window covering a sample.

    Parameters
    ----------
    frames : ndarray, shape (n_windows, window)
    framing : from :func:`frame`
    weights : shape (window,), default :func:`taper`

    Returns
    -------
    x : ndarray, shape (framing.length,)
    """
    w = taper(framing.window) if weights is None else np.asarray(weights, dtype=np.float64)
    acc = np.zeros(framing.padded)
    norm = np.zeros(framing.padded)
    for k, start in enumerate(range(0, framing.padded - framing.window + 1, framing.hop)):
        acc[start : start + framing.window] += w * frames[k]
        norm[start : start + framing.window] += w
    return acc[: framing.length] / norm[: framing.length]


def bridge_gaps(x: np.ndarray) -> np.ndarray:
    """Linear interpolation over non-finite samples (constant beyond the ends).

    What every consumer of a series with gaps does before filtering or
    denoising: the network and the filters need finite numbers.

    Parameters
    ----------
    x : ndarray, shape (n,), with at least one finite sample

    Returns
    -------
    filled : ndarray, shape (n,) -- ``x`` itself when nothing is missing
    """
    x = np.asarray(x, dtype=np.float64)
    bad = ~np.isfinite(x)
    if not bad.any():
        return x
    idx = np.arange(x.size)
    out = x.copy()
    out[bad] = np.interp(idx[bad], idx[~bad], x[~bad])
    return out


# ---------------------------------------------------------------- scaling
def window_stats(
    frames: np.ndarray, scaling: str, *, global_offset: float = 0.0, global_scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Offset and scale of each (noisy) window.

    ``standard``: mean and standard deviation; ``minmax``: min and max-min (the
    tutorial's). A constant window gets scale 1 so nothing divides by zero.
    ``global`` / ``global-minmax``: the stored ``global_offset`` and ``global_scale``
    (from :func:`global_stats` of the training windows) for every window.

    Parameters
    ----------
    frames : ndarray, shape (n_windows, window)

    Returns
    -------
    offset, scale : ndarrays, shape (n_windows, 1)
    """
    if scaling in GLOBAL_SCALINGS:
        n = len(frames)
        return np.full((n, 1), float(global_offset)), np.full((n, 1), float(global_scale))
    if scaling == "standard":
        offset = frames.mean(axis=1, keepdims=True)
        scale = frames.std(axis=1, keepdims=True)
    elif scaling == "minmax":
        offset = frames.min(axis=1, keepdims=True)
        scale = frames.max(axis=1, keepdims=True) - offset
    else:
        raise InputError(f"Unknown scaling {scaling!r}; choose one of {', '.join(SCALINGS + GLOBAL_SCALINGS)}.")
    return offset, np.where(is_flat(frames)[:, None], 1.0, scale)


def global_stats(frames: np.ndarray, scaling: str) -> tuple[float, float]:
    """One offset and scale from all (noisy, training) windows, for a global scaling.

    ``global``: mean and standard deviation (z-score); ``global-minmax``: min and
    max-min. Constant training data gets scale 1 so nothing divides by zero.

    Parameters
    ----------
    frames : ndarray, shape (n_windows, window) -- noisy training windows only

    Returns
    -------
    offset, scale : floats
    """
    if scaling == "global":
        offset, spread = float(frames.mean()), float(frames.std())
    elif scaling == "global-minmax":
        offset = float(frames.min())
        spread = float(frames.max()) - offset
    else:
        raise InputError(f"Scaling {scaling!r} has no global statistics; choose one of {', '.join(GLOBAL_SCALINGS)}.")
    return offset, safe_spread(offset, spread)


def safe_spread(offset: float, spread: float) -> float:
    """``spread`` as a global scale, or 1 when it is below float resolution of ``offset`` (constant data).

    Shared by :func:`global_stats` and the streamed statistics of :mod:`denoiser.stream`.
    """
    level = max(1.0, abs(offset))
    return spread if spread > 1e-12 * level else 1.0


def is_flat(frames: np.ndarray) -> np.ndarray:
    """Windows whose spread is below float resolution of their level, shape (n_windows,).

    They carry no signal to denoise: the caller returns them unchanged.
    """
    spread = frames.max(axis=1) - frames.min(axis=1)
    level = np.maximum(1.0, np.abs(frames).max(axis=1))
    return ~(spread > 1e-12 * level)


def scale(frames: np.ndarray, offset: np.ndarray, scale_: np.ndarray) -> np.ndarray:
    """Map windows to the network's range: ``(frames - offset) / scale``."""
    return (frames - offset) / scale_


def unscale(frames: np.ndarray, offset: np.ndarray, scale_: np.ndarray) -> np.ndarray:
    """Undo :func:`scale`: ``frames * scale + offset``."""
    return frames * scale_ + offset
