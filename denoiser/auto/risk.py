"""Risk without a clean reference: SURE, divergences, blend weights, and how sure the figure is.

For y = x + n with white Gaussian n of std sigma, Stein's unbiased risk estimate of a denoiser f,
``SURE = ||y - f(y)||^2 / N - sigma^2 + 2 sigma^2 div f(y) / N``, has the true MSE as its
expectation. Blends ``out = y + sum_k w_k (f_k(y) - y)`` with ``w >= 0, sum w <= 1`` get their
weights from the same quadratic (SURE-LET); weight 0 keeps the input, so with the right sigma the
blend is never worse than the input in expectation.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
from scipy.optimize import nnls

from denoiser.auto.candidates import Candidate

REGION = 4096  # samples per region with its own blend weights
FULL_PROBE_MAX = 131_072  # up to this length the network's divergence is probed on every sample
PROBE_SAMPLES = 32_768  # longer series: probed on chunks this many samples in all (1M: +7 % network time)
PROBE_CHUNK = 8192


def divergence(
    cand: Candidate, x: np.ndarray, fx: np.ndarray, sigma: float, rng: np.random.Generator
) -> np.ndarray | float:
    """Per-sample divergence d_i = d f_i / d x_i: exact for a linear smoother, Monte-Carlo otherwise.

    Monte-Carlo SURE (Ramani, Blu & Unser 2008): per sample b_i (f(x + eps b)_i - f_i) / eps with
    b ~ N(0, I), an unbiased estimate of each diagonal entry of the Jacobian. The network is the
    costly candidate: on a long series it is probed on evenly spread chunks (NaN elsewhere,
    filled by :func:`fill_unprobed`).

    Returns
    -------
    ndarray, shape (length,); or one float, the same at every sample, for a linear smoother (no
    8 MB array for a million samples: its page faults alone cost ~10 ms)
    """
    if cand.divergence is not None:
        return float(cand.divergence)
    eps = max(sigma, 1e-12 * max(1.0, float(np.std(x)))) * cand.probe_eps
    if cand.costly and x.size > FULL_PROBE_MAX:
        # (a window-by-window network gives the same output on a chunk as on the whole; a filter
        # with global thresholds, like wavelet shrinkage, would not: it is probed whole)
        return _chunked_divergence(cand.apply, x, eps, rng)
    b = rng.standard_normal(x.size)
    return b * (cand.apply(x + eps * b) - fx) / eps


def _chunked_divergence(
    fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, eps: float, rng: np.random.Generator, margin: int = 512
) -> np.ndarray:
    """Divergence on a few chunks (with a margin of context each side), in one batched call."""
    count = max(1, PROBE_SAMPLES // PROBE_CHUNK)
    starts = np.linspace(margin, x.size - PROBE_CHUNK - margin, count).astype(int)
    span = PROBE_CHUNK + 2 * margin
    base = np.stack([x[s0 - margin : s0 - margin + span] for s0 in starts])
    b = np.zeros_like(base)
    b[:, margin : margin + PROBE_CHUNK] = rng.standard_normal((count, PROBE_CHUNK))
    both = fn(np.concatenate([base, base + eps * b]))
    div = np.full(x.size, np.nan)
    for i, s0 in enumerate(starts):
        inner = slice(margin, margin + PROBE_CHUNK)
        div[s0 : s0 + PROBE_CHUNK] = b[i, inner] * (both[count + i, inner] - both[i, inner]) / eps
    return div


def best_single(r: np.ndarray, c: np.ndarray, sigma2: float) -> np.ndarray:
    """The one candidate with the lowest SURE at its own best weight against the input.

    Fitting many weights to a noisy risk estimate overfits it (each free weight costs about
    2 sigma^2 / N of risk that SURE does not see); choosing one candidate and one weight does not.

    Parameters
    ----------
    r : ndarray, shape (n, k) -- f_k(y) - y per candidate
    c : ndarray, shape (k,) -- 1 - mean divergence per candidate
    sigma2 : noise variance

    Returns
    -------
    w : ndarray, shape (k,), one non-zero entry at most, in [0, 1]
    """
    g = np.einsum("ij,ij->j", r, r) / r.shape[0]
    w = np.clip(np.divide(sigma2 * c, g, out=np.zeros_like(g), where=g > 0), 0.0, 1.0)
    sure = w * w * g - 2 * sigma2 * c * w
    out = np.zeros_like(w)
    k = int(np.argmin(sure))
    out[k] = w[k]
    return out


def blend_weights(r: np.ndarray, c: np.ndarray, sigma2: float) -> np.ndarray:
    """SURE-optimal weights w >= 0, sum(w) <= 1 for out = y + r @ w.

    SURE(w) = ||R w||^2 / N - sigma^2 + 2 sigma^2 (1 - c @ w),  c_k = 1 - mean divergence of
    candidate k. The quadratic is solved as non-negative least squares (Cholesky of R'R/N):
    microseconds for a handful of candidates, so every region gets its own weights. The cap
    sum(w) <= 1 keeps the input's own share >= 0: the do-no-harm guarantee.
    """
    n, k = r.shape
    g = r.T @ r / n
    if not float(np.trace(g)) > 0:  # no candidate changes anything here: nothing to weigh
        return np.zeros(k)
    g = g + np.eye(k) * (1e-9 * float(np.trace(g)) / k)
    try:
        chol = np.linalg.cholesky(g)
    except np.linalg.LinAlgError:
        return np.zeros(k)
    # w'Gw - 2 s^2 c'w = ||L'w - z||^2 - const with L z = s^2 c
    z = np.linalg.solve(chol, sigma2 * c)
    w, _ = nnls(chol.T, z)
    total = w.sum()
    return w / total if total > 1 else w


def region_weights(r: np.ndarray, c: np.ndarray, sigma2: float) -> np.ndarray:
    """Blend weights for one region: one candidate, or a mix, whichever has the lower corrected risk.

    SURE of a weight vector fitted to the same data is optimistic by about 2 sigma^2 / N per
    weight in use (as Mallows' Cp counts parameters), so each choice is charged that much.
    """
    n = r.shape[0]
    g = r.T @ r / n

    def risk(w: np.ndarray) -> float:
        return float(w @ g @ w - 2 * sigma2 * c @ w + 2 * sigma2 * np.count_nonzero(w > 1e-6) / n)

    single, mix = best_single(r, c, sigma2), blend_weights(r, c, sigma2)
    return mix if risk(mix) < risk(single) else single


def fill_unprobed(d: np.ndarray, regions: list[slice]) -> np.ndarray:
    """Regions without a probe take the mean divergence of the nearest probed region (in place).

    Only columns with unprobed samples (the network's, on a long recording) are touched.
    """
    for j in np.flatnonzero(np.isnan(d).any(axis=0)):
        col = d[:, j]
        with warnings.catch_warnings():  # a region without probes is all NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            means = np.array([np.nanmean(col[reg]) for reg in regions])
        probed = np.flatnonzero(np.isfinite(means))
        if probed.size == 0:
            continue
        for i, reg in enumerate(regions):
            block = col[reg]
            gap = np.isnan(block)
            if gap.any():
                block[gap] = means[probed[np.argmin(np.abs(probed - i))]]
    return d


def regions(n: int, size: int = REGION) -> list[slice]:
    """Equal consecutive regions of about ``size`` samples covering 0..n."""
    count = max(1, int(round(n / size)))
    edges = np.linspace(0, n, count + 1).astype(int)
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]


def apply_weights(
    r: np.ndarray, d: np.ndarray, wr: np.ndarray, parts: list[slice]
) -> tuple[np.ndarray, float, np.ndarray]:
    """The blend with per-region weights, linear between region centres, without an (n, k) weight matrix.

    Between two centres the weights are (1 - f) w_j + f w_{j+1}, so the applied change is
    (1 - f) (R w_j) + f (R w_{j+1}): two matrix-vector products per stretch.

    Parameters
    ----------
    r, d : ndarrays, shape (n, k) -- candidates' changes f_k(y) - y and divergences
    wr : ndarray, shape (regions, k) -- each region's weights
    parts : the regions (:func:`regions`)

    Returns
    -------
    applied : ndarray, shape (n,) -- the change the blend makes to the input
    applied_c : mean over samples of sum_k w_k (1 - d_k) (enters SURE of the blend)
    mean_w : ndarray, shape (k,) -- each candidate's weight averaged over the samples
    """
    n = r.shape[0]
    if len(parts) == 1:
        w = wr[0]
        return r @ w, float(w.sum() - np.mean(d @ w)), w.copy()
    centres = np.array([(p.start + p.stop - 1) / 2 for p in parts])
    edges = np.r_[0, np.ceil(centres).astype(int), n]
    applied = np.empty(n)
    c_sum, w_sum = 0.0, np.zeros(wr.shape[1])
    for j in range(len(edges) - 1):
        a, b = int(edges[j]), int(edges[j + 1])
        if b <= a:
            continue
        lo, hi = (0, 0) if j == 0 else (len(parts) - 1, len(parts) - 1) if j == len(parts) else (j - 1, j)
        t = np.arange(a, b)
        f = np.zeros(b - a) if lo == hi else (t - centres[lo]) / (centres[hi] - centres[lo])
        ra, rb = r[a:b] @ wr[lo], r[a:b] @ wr[hi]
        da, db = d[a:b] @ wr[lo], d[a:b] @ wr[hi]
        applied[a:b] = (1 - f) * ra + f * rb
        w_stretch = float(np.sum(1 - f)) * wr[lo] + float(np.sum(f)) * wr[hi]
        w_sum += w_stretch
        c_sum += float(w_stretch.sum() - np.sum((1 - f) * da + f * db))
    return applied, c_sum / n, w_sum / n


def whiteness(removed: np.ndarray, block: int = 256) -> float:
    """How much what was removed looks like stationary noise, in [0, 1].

    Noise removed from a recording has about the same energy everywhere; signal taken
    by mistake comes in bursts where the signal changes. Compares the spread of block
    energies with what white noise gives (relative std sqrt(2 / block)).
    """
    nb = removed.size // block
    if nb < 4:
        return 1.0
    e = np.mean(removed[: nb * block].reshape(nb, block) ** 2, axis=1)
    if e.mean() <= 0:
        return 1.0
    cv = float(np.std(e) / e.mean())
    excess = max(0.0, cv / math.sqrt(2 / block) - 1.5)
    return float(math.exp(-excess / 3))


def posterior_mse(sure: float, tau: float) -> tuple[float, float, float]:
    """Mean, 10th and 90th percentile of MSE >= 0 given SURE ~ N(MSE, tau^2) (flat prior)."""
    from scipy.stats import truncnorm

    if tau <= 0:
        m = max(sure, 0.0)
        return m, m, m
    dist = truncnorm(-sure / tau, np.inf, loc=sure, scale=tau)
    return float(dist.mean()), float(dist.ppf(0.1)), float(dist.ppf(0.9))


def gain_db(noise_power: float, mse: float) -> float:
    """10 log10(noise power / MSE), capped at +40 dB; 0 when there is no noise."""
    if noise_power <= 0:
        return 0.0
    return 10 * math.log10(noise_power / max(mse, noise_power * 1e-4))
