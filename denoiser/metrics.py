"""Error metrics: numpy in, float out.

All take ``(reference, estimate)`` of the same shape. NaN in either array is
ignored pairwise (the same samples are dropped from both); if nothing is left the
result is NaN. Shapes that differ raise :class:`InputError` instead of broadcasting.
"""

from __future__ import annotations

import numpy as np

from denoiser.errors import InputError


def _pair(reference: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref = np.asarray(reference, dtype=np.float64)
    est = np.asarray(estimate, dtype=np.float64)
    if ref.shape != est.shape:
        raise InputError(f"Cannot compare arrays of shapes {ref.shape} and {est.shape}; they must match.")
    keep = np.isfinite(ref) & np.isfinite(est)
    return ref[keep], est[keep]


def mse(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Mean squared error over the finite pairs."""
    ref, est = _pair(reference, estimate)
    return float(np.mean((est - ref) ** 2)) if ref.size else float("nan")


def mae(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Mean absolute error over the finite pairs."""
    ref, est = _pair(reference, estimate)
    return float(np.mean(np.abs(est - ref))) if ref.size else float("nan")


def rmse(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(mse(reference, estimate)))


def snr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Signal-to-noise ratio of ``estimate`` in dB: ``10 log10(sum ref² / sum (est-ref)²)``.

    ``inf`` for a perfect estimate, NaN when there are no finite pairs.
    """
    ref, est = _pair(reference, estimate)
    if not ref.size:
        return float("nan")
    err = float(np.sum((est - ref) ** 2))
    power = float(np.sum(ref**2))
    if err == 0:
        return float("inf")
    if power == 0:
        return float("-inf")
    return float(10 * np.log10(power / err))


def gain_db(reference: np.ndarray, noisy: np.ndarray, denoised: np.ndarray) -> float:
    """SNR gain of ``denoised`` over ``noisy`` in dB: ``10 log10(mse(noisy) / mse(denoised))``.

    Positive means the denoiser helped; this does not depend on the signal power.
    """
    before, after = mse(reference, noisy), mse(reference, denoised)
    if np.isnan(before) or np.isnan(after):
        return float("nan")
    if after == 0:
        return float("inf")
    if before == 0:
        return float("-inf")
    return float(10 * np.log10(before / after))


def report(clean: np.ndarray, noisy: np.ndarray, denoised: np.ndarray) -> dict[str, float]:
    """The figures of one denoising run against the clean reference, in the data's units.

    The one place that the package (fit's test split, the search), the app and the
    benchmarks compute them, so the same words always mean the same numbers.

    Parameters
    ----------
    clean, noisy, denoised : ndarrays of one shape (any); NaN pairs are skipped

    Returns
    -------
    dict with ``noisy_mse``, ``noisy_mae`` (the input against ``clean``), ``mse``,
    ``mae`` (the output against ``clean``) and ``gain_db`` (:func:`gain_db`)
    """
    return {
        "noisy_mse": mse(clean, noisy),
        "noisy_mae": mae(clean, noisy),
        "mse": mse(clean, denoised),
        "mae": mae(clean, denoised),
        "gain_db": gain_db(clean, noisy, denoised),
    }
