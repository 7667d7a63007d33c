"""Impulses: isolated spikes, far outside what their neighbours predict.

Impulse noise (a sensor glitch, a dropped bit, salt and pepper) hits samples independently of the
signal. Real signals have sharp features too (R-peaks, steps, onsets), so a spike is removed only
when the evidence says it is not signal:

* a *population* of spikes, common (>= 0.3 % of samples), nearly all one sample wide and spread
  like independent hits (a Poisson process), as impulse noise makes; or
* a *towering, isolated* spike on an otherwise clean curve (a background with almost no noise
  of its own, like a simulated signal or a digitised table): far taller than the background's
  spread, on a neighbourhood that stays smooth once the spike is replaced. Real recordings hold
  real one-sample spikes of that height too (an accelerometer's footfalls), so on a noisy
  background a few tall spikes are left alone; only a population of them is removed.

A sample's prediction is the median of its neighbours (the sample itself left out); passes with
1, 2 and 3 neighbours a side catch single spikes first, then spikes with a spiky neighbour
(dense impulse noise), each pass on the series the previous one cleaned, and only after a pass
that did remove spikes.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import median_filter

MAD = 0.6745
THRESHOLD = 6.0  # spread units a sample must leave its prediction by
TOWER = 12.0  # spread units of a spike accepted on its own
SMOOTH_AROUND = 0.25  # a lone spike's neighbourhood curves by less than this share of its height
CLEAN_CURVE = 1e-3  # "clean curve": background curvature spread below this share of its range
SAMPLE_FOR_STATS = 262_144  # a global median or percentile of a longer series is taken on every k-th value
MIN_POPULATION = 5  # spikes (and >= 0.3 % of samples) before a population is judged
HALF_WIDTHS = (1, 2, 3)


LOCAL = 65  # samples over which the local spread is measured


def _global_spread(x: np.ndarray) -> float:
    """Robust spread of sample-to-sample changes over the whole series (from every k-th change if long)."""
    d = np.diff(x)[:: max(1, (x.size - 1) // SAMPLE_FOR_STATS)]
    spread = float(np.median(np.abs(d)) / MAD / math.sqrt(2))
    return spread if spread > 0 else (float(np.std(d)) or 1.0)


def _spread(x: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
    """Robust spread of sample-to-sample changes: the global one, raised where the signal is busy.

    ``at``: sample indices to evaluate it at (default: every sample). The local spread is the
    median over :data:`LOCAL` samples, so evaluating it only where needed saves a full filter.
    """
    d = np.abs(np.diff(x, prepend=x[:1]))
    spread = _global_spread(x)
    if at is None:
        local = median_filter(d, size=LOCAL, mode="nearest") / MAD / math.sqrt(2)
        return np.maximum(spread, local)
    half = LOCAL // 2
    padded = np.pad(d, half, mode="edge")
    windows = padded[at[:, None] + np.arange(LOCAL)]
    return np.maximum(spread, np.median(windows, axis=1) / MAD / math.sqrt(2))


def find_impulses(
    x: np.ndarray, threshold: float = THRESHOLD, half: int = 1, spread: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Samples that stand alone far outside what their neighbours predict.

    Parameters
    ----------
    x : ndarray, shape (length,), finite, length >= 2 half + 1
    threshold : spread units a sample must leave its prediction by
    half : neighbours a side that predict a sample (their median)
    spread : the per-sample spread (:func:`_spread`), if already computed

    Returns
    -------
    mask : bool ndarray, shape (length,) -- samples judged impulses
    replacement : ndarray, shape (length,) -- the neighbours' median, to put in their place
    """
    if half == 1:
        padded = np.pad(x, 1, mode="reflect")
        left, right = padded[:-2], padded[2:]
        pred = 0.5 * (left + right)
    else:
        footprint = np.ones(2 * half + 1, dtype=bool)
        footprint[half] = False
        pred = median_filter(x, footprint=footprint, mode="reflect")
    resid = x - pred
    if spread is None:
        # the local spread is never below the global one: look where the global one is exceeded
        tall = np.flatnonzero(np.abs(resid) > threshold * _global_spread(x))
        tall = tall[np.abs(resid[tall]) > threshold * _spread(x, tall)] if tall.size else tall
    else:
        tall = np.flatnonzero(np.abs(resid) > threshold * spread)
    mask = np.zeros(x.size, dtype=bool)
    if tall.size:
        # The neighbours agree among themselves, far better than with the sample (checked where tall).
        padded = np.pad(x, half, mode="reflect")
        nb = np.stack([padded[tall + k] for k in range(2 * half + 1) if k != half], axis=1)
        agree = np.abs(nb[:, 0] - nb[:, 1]) if half == 1 else np.median(np.abs(nb - pred[tall, None]), axis=1)
        mask[tall[agree < 0.5 * np.abs(resid[tall])]] = True
    return mask, pred


def _poisson_like(mask: np.ndarray, blocks: int = 20) -> bool:
    """Whether spike positions are spread like independent hits (a Poisson process).

    Impulse noise does not care what the signal does; a signal's sharp features come in
    bursts (activity) or in rhythm (beats, steps). Index of dispersion of block counts ~ 1.
    """
    n = mask.size // blocks
    if n < 8 or mask.sum() < 2 * blocks:
        return bool(mask.sum() >= 5)
    counts = mask[: n * blocks].reshape(blocks, n).sum(axis=1)
    dispersion = counts.var(ddof=1) / max(counts.mean(), 1e-12)
    return bool(0.4 <= dispersion <= 2.0)


def _wide_bumps(x: np.ndarray, threshold: float = THRESHOLD) -> int:
    """Bumps two samples wide, as tall as an impulse: common in real signals, rare in impulse noise.

    Impulse noise hits samples independently, so two adjacent spikes of the same sign are
    rare (rate^2 / 2); a signal's sharp features are as often two samples wide as one.
    """
    if x.size < 8:
        return 0
    steps = np.diff(x)
    # as _global_spread, from every change: where most are zero, their std, not 1.0 in data units
    spread = float(np.median(np.abs(steps)) / MAD / math.sqrt(2)) or float(np.std(steps)) or 1.0
    a, b, c, d = x[:-3], x[1:-2], x[2:-1], x[3:]
    base_b, base_c = a + (d - a) / 3, a + 2 * (d - a) / 3
    eb, ec = b - base_b, c - base_c
    tall = (np.sign(eb) == np.sign(ec)) & (np.minimum(np.abs(eb), np.abs(ec)) > threshold * spread)
    return int(np.sum(tall & (np.abs(d - a) < 0.5 * np.minimum(np.abs(eb), np.abs(ec)))))


def _continuous_tail(x: np.ndarray, mask: np.ndarray, pred: np.ndarray) -> bool:
    """A signal's sharp features have a continuous tail of sizes; impulses stand apart from the bulk.

    With as many lone samples between 3 and 6 spreads as beyond 6, the tall ones are the top of a
    continuum (signal), not a separate population.
    """
    resid = np.abs(x - pred)
    near = np.flatnonzero(resid > 0.5 * THRESHOLD * _global_spread(x))
    if near.size == 0:
        return False
    spread = _spread(x, near)
    between = (resid[near] > 0.5 * THRESHOLD * spread) & (resid[near] <= THRESHOLD * spread)
    return bool(between.sum() >= 0.5 * mask.sum() + 1)


def _towering(x: np.ndarray, mask: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Of the spikes in ``mask``, those far taller than the spread whose neighbourhood is smooth without them."""
    idx = np.flatnonzero(mask)
    out = np.zeros_like(mask)
    if idx.size == 0 or x.size < 8:
        return out
    prov = np.where(mask, pred, x)  # every candidate replaced: what is left is the background
    d2 = np.abs(np.diff(prov, 2))  # d2[j] is centred on sample j + 1
    # (robust statistics of a long series from every k-th value: the same figures, a fraction of the work)
    step = max(1, d2.size // SAMPLE_FOR_STATS)
    level = float(np.median(d2[::step]))
    spread = float(np.median(np.abs(d2[::step] - level))) / MAD / math.sqrt(6) if d2.size else 0.0
    span = float(np.subtract(*np.percentile(prov[::step], [95, 5])))
    if spread > CLEAN_CURVE * span:
        return out  # a noisy background: leave single spikes to the population test
    spread = max(spread, 1e-12 * float(np.max(np.abs(x)) or 1.0))
    height = np.abs(x[idx] - pred[idx])
    # the neighbourhood's curvature: second differences centred on the sample and its two neighbours
    centred = np.r_[d2[:1], d2, d2[-1:]]
    around = np.max(np.stack([centred[np.clip(idx + k, 0, x.size - 1)] for k in (-1, 0, 1)]), axis=0)
    ok = (height > TOWER * spread) & (around < SMOOTH_AROUND * height)
    out[idx[ok]] = True
    return out


def despike(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Remove impulses where the evidence says they are noise.

    Parameters
    ----------
    x : ndarray, shape (length,), finite (gaps bridged)

    Returns
    -------
    despiked : ndarray, shape (length,)
    mask : bool ndarray, shape (length,) -- the samples that were replaced
    """
    out = np.array(x, dtype=np.float64, copy=True)
    replaced = np.zeros(out.size, dtype=bool)
    for half in HALF_WIDTHS:
        if out.size < 4 * half + 4:
            break
        spikes, pred = find_impulses(out, half=half)
        n = int(spikes.sum())
        if n == 0:
            break  # nothing stands out even alone: no denser spikes to look for either
        # (later passes look for spikes next to spikes, which the wide-bump count would hold against them)
        population = (
            n >= max(MIN_POPULATION, 0.003 * out.size)
            and _poisson_like(spikes)
            and not _continuous_tail(out, spikes, pred)
            and (half > 1 or _wide_bumps(out) <= 0.15 * n)
        )
        if not population:
            spikes = _towering(out, spikes, pred)
        if not spikes.any():
            break  # what stands out was judged signal: a wider look must not judge it again
        out = np.where(spikes, pred, out)
        replaced |= spikes
    return out, replaced
