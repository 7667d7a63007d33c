"""Classical filters to compare the network against.

Savitzky-Golay and moving average need a window (tune it on signals with a
known clean reference: :func:`tune`); wavelet shrinkage with BayesShrink
estimates its thresholds from the noisy signal alone, so it is the fair
baseline when no clean reference exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pywt
from scipy.ndimage import uniform_filter1d
from scipy.signal import savgol_filter

from denoiser import metrics
from denoiser.errors import InputError
from denoiser.windows import bridge_gaps


def _bridged(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """Apply a filter across NaN gaps (linear bridge) and put the NaN back."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise InputError(f"Expected a 1-D series; got shape {x.shape}.")
    bad = ~np.isfinite(x)
    if bad.all():
        return np.full_like(x, np.nan)
    out = fn(bridge_gaps(x))
    out[bad] = np.nan
    return out


def savgol(x: np.ndarray, window: int = 21, order: int = 2) -> np.ndarray:
    """Savitzky-Golay smoothing: a local polynomial fit of ``order`` over ``window`` samples.

    The window is made odd and shortened to the series when needed.
    """

    def run(v: np.ndarray) -> np.ndarray:
        w = min(int(window), v.size - (1 - v.size % 2))  # odd and <= length
        w -= 1 - w % 2
        if w <= order:
            return v.copy()
        return savgol_filter(v, w, order, mode="interp")

    return _bridged(run, x)


def moving_average(x: np.ndarray, window: int = 9) -> np.ndarray:
    """Centred moving average over ``window`` samples (edges repeat the end value)."""
    return _bridged(lambda v: uniform_filter1d(v, size=max(1, min(int(window), v.size)), mode="nearest"), x)


def bayes_shrink(
    x: np.ndarray,
    sigma: float | None = None,
    wavelet_name: str = "sym8",
    level: int | None = None,
    *,
    divergence: bool = False,
) -> Any:
    """Wavelet shrinkage with BayesShrink soft thresholds: the one implementation in the package.

    Each detail level's threshold is sigma² / (its signal spread), the spread being what the
    level holds beyond the noise. Used by :func:`wavelet` (sigma from the data), by the
    automatic pipeline (sigma given or estimated) and by the app's lessons.

    Parameters
    ----------
    x : ndarray, shape (length,), finite
    sigma : noise std; ``None``: the finest level's median absolute deviation / 0.6745
        (its standard deviation where impulses leave the median at zero)
    wavelet_name : a PyWavelets name ("sym8", "db4", "haar", ...)
    level : decomposition depth (default and cap: 6, or what the length allows)
    divergence : also return the estimator's divergence per sample, from the coefficients kept:
        soft thresholding in an orthonormal basis has divergence = number of coefficients above
        their threshold (Donoho & Johnstone), each counted at the sample it sits on (within 6 %
        of a Monte-Carlo probe on real series; the boundary extension is not quite orthonormal)

    Returns
    -------
    ndarray, shape (length,); with ``divergence``, (that, ndarray of shape (length,))
    """
    w = pywt.Wavelet(wavelet_name)
    max_level = pywt.dwt_max_level(x.size, w.dec_len)
    if max_level < 1 or (sigma is not None and sigma <= 0):
        same = np.array(x, dtype=np.float64, copy=True)
        return (same, np.ones(x.size)) if divergence else same
    lev = min(level or max_level, max_level, 6)
    coeffs = pywt.wavedec(x, w, mode="symmetric", level=lev)
    if sigma is None:
        sigma = float(np.median(np.abs(coeffs[-1])) / 0.6745)
        if sigma == 0:  # sparse impulses leave the median at zero; fall back to the spread
            sigma = float(np.std(coeffs[-1]))
    out = [coeffs[0]]
    kept = [np.ones(coeffs[0].size, dtype=bool)]
    for d in coeffs[1:]:
        spread = np.sqrt(max(float(np.mean(d**2)) - sigma**2, 0.0))
        thr = float(np.max(np.abs(d))) if spread == 0 else sigma**2 / spread
        out.append(pywt.threshold(d, thr, mode="soft"))
        kept.append(np.abs(d) > thr)
    result = pywt.waverec(out, w, mode="symmetric")[: x.size]
    if not divergence:
        return result
    div = np.zeros(x.size)
    for k in kept:  # each kept coefficient adds 1, at the sample its support is centred on
        at = np.clip(((np.flatnonzero(k) + 0.5) * x.size / k.size).astype(int), 0, x.size - 1)
        np.add.at(div, at, 1.0)
    return result, div


def cycle_spin(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, shifts: int = 8) -> np.ndarray:
    """The average of ``fn`` over circular shifts of the input (Coifman & Donoho's cycle spinning).

    A decimated wavelet transform depends on where the series starts; averaging over shifts makes
    the result (nearly) translation invariant and removes the blocky artefacts of thresholding.

    Parameters
    ----------
    fn : a denoiser, ndarray (length,) -> ndarray (length,)
    x : ndarray, shape (length,)
    shifts : how many shifts, 0 .. shifts - 1 samples

    Returns
    -------
    ndarray, shape (length,)
    """
    acc = np.zeros(x.size)
    for s in range(shifts):
        acc += np.roll(fn(np.roll(x, s)), -s)
    return acc / shifts


def wavelet(x: np.ndarray, wavelet_name: str = "sym8", level: int | None = None) -> np.ndarray:
    """Wavelet shrinkage with BayesShrink soft thresholds (no tuning against clean data).

    The noise sigma comes from the finest detail coefficients (median absolute
    deviation / 0.6745); each level's threshold is sigma² / signal-sigma (:func:`bayes_shrink`).
    """
    return _bridged(lambda v: bayes_shrink(v, None, wavelet_name, level), x)


FILTERS: dict[str, Callable[..., np.ndarray]] = {
    "savgol": savgol,
    "moving_average": moving_average,
    "wavelet": wavelet,
}
#: Window grids :func:`tune` searches by default.
GRIDS = {
    "savgol": [5, 9, 15, 21, 31, 45, 61, 81, 101, 149],
    "moving_average": [3, 5, 7, 9, 13, 17, 25, 35, 51],
}


def tune(name: str, noisy: np.ndarray, clean: np.ndarray, grid: Iterable[int] | None = None) -> int:
    """The window of a filter with the lowest MSE on a tuning set.

    Parameters
    ----------
    name : "savgol" or "moving_average"
    noisy, clean : ndarrays, shape (n_signals, length) -- a set *separate* from the test set
    grid : windows to try (default ``GRIDS[name]``)

    Returns
    -------
    window : int
    """
    if name not in GRIDS:
        raise InputError(f"Only {', '.join(GRIDS)} have a window to tune; got {name!r}.")
    noisy, clean = np.atleast_2d(noisy), np.atleast_2d(clean)
    scores = {
        w: np.mean([metrics.mse(c, FILTERS[name](n, w)) for n, c in zip(noisy, clean)]) for w in (grid or GRIDS[name])
    }
    return int(min(scores, key=lambda w: scores[w]))
