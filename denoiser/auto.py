"""The automatic pipeline: denoise a recording with no clean reference, and never do harm.

Real recordings have no clean version, so nothing here may trust the network's
output blindly. The pipeline

1. removes isolated impulses (spikes one sample wide, far outside the local spread);
2. finds the noise level: given by the user, measured on a quiet stretch, or
   estimated from the wavelet level variances with a *noise floor + power law*
   fit, which also says when the level cannot be told apart from broadband signal;
3. runs several candidates (the network, wavelet shrinkage, Savitzky-Golay at
   a few widths) and weighs them against the input itself with Stein's unbiased
   risk estimate (SURE-LET: weights >= 0 that sum to <= 1, the rest is the input),
   per region of the recording;
4. reports the estimated MSE and gain with an uncertainty band, whether the estimate
   can be trusted, and why not in words.

With the right sigma the SURE-optimal blend is in expectation never worse than the
input (weight 0 is always allowed). A sigma that is too high is what makes a blend
harmful (by more than sqrt(2) it can), so when sigma is not identifiable the pipeline
uses the low end of what the data allow and says the figure is an upper bound.

>>> import numpy as np, denoiser
>>> clean = np.sin(np.linspace(0, 20, 4000))
>>> noisy = clean + 0.1 * np.random.default_rng(0).standard_normal(4000)
>>> res = denoiser.denoise(noisy, model=False)
>>> bool(denoiser.mse(clean, res.denoised) < denoiser.mse(clean, noisy))
True
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import pywt
from scipy.ndimage import median_filter
from scipy.optimize import nnls
from scipy.signal import savgol_coeffs, savgol_filter

from denoiser.errors import InputError
from denoiser.signals import RngLike, as_rng
from denoiser.windows import bridge_gaps

SIGMA_SOURCES = ("given", "estimated", "from a quiet segment")
MIN_LENGTH = 64                 # shorter series: nothing reliable can be said, returned as is
SG_WIDTHS = (5, 9, 17, 33, 65)  # Savitzky-Golay candidates (order 2); SURE picks among them
WHOLE_FIT_MAX = 2048            # up to this length, a quadratic over the whole series is a candidate too
REGION = 4096                   # samples per region with its own blend weights
_MAD = 0.6745                   # median(|z|) of a standard normal


@dataclass(frozen=True)
class DenoiseResult:
    """What :func:`denoise` applied and how good it probably is.

    Attributes
    ----------
    denoised : ndarray, same shape as the input (NaN where the input was NaN)
    sigma : noise standard deviation used, in the data's units (Gaussian part)
    sigma_source : "given", "estimated" or "from a quiet segment"
    sigma_is_upper_bound : the recording cannot separate noise from broadband signal;
        the estimated sigma is only an upper bound (a lower value was used)
    estimated_mse : estimated mean squared error of ``denoised`` against the unknown clean signal
    estimated_gain_db : 10 log10(noise power / estimated_mse); 0 means "kept as is"
    gain_band_db : (low, high) plausible range of the gain
    trusted : whether the estimate can be relied on (see ``notes`` when not)
    method : what was applied, e.g. "network 0.80 + savgol 33 0.10 (+ input 0.10)"
    notes : plain-language remarks, e.g. why the estimate is not trusted
    whiteness : in [0, 1]; 1 means what was removed looks like stationary white noise
    impulses : number of samples replaced as impulses (spikes)
    weights : method -> mean weight over the recording
    """

    denoised: np.ndarray
    sigma: float
    sigma_source: str
    sigma_is_upper_bound: bool
    estimated_mse: float
    estimated_gain_db: float
    gain_band_db: tuple[float, float]
    trusted: bool
    method: str
    notes: tuple[str, ...] = ()
    whiteness: float = 1.0
    impulses: int = 0
    weights: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Every field but ``denoised``, as plain values (for tables, CSV and JSON)."""
        d = {k: v for k, v in asdict(self).items() if k != "denoised"}
        d["gain_band_db"] = [float(v) for v in self.gain_band_db]
        d["notes"] = list(self.notes)
        return d

    def summary(self) -> str:
        """One line for a terminal or a caption."""
        lo, hi = self.gain_band_db
        trust = "trusted" if self.trusted else "NOT trusted"
        bound = " (upper bound)" if self.sigma_is_upper_bound else ""
        return (f"{self.method}; noise sigma {self.sigma:.4g} ({self.sigma_source}{bound}); "
                f"estimated gain {self.estimated_gain_db:+.1f} dB [{lo:+.1f}, {hi:+.1f}], {trust}")


# ---------------------------------------------------------------- noise level
@dataclass(frozen=True)
class NoiseEstimate:
    """A noise level with its plausible range and how it was found."""

    sigma: float              # the value to use
    low: float                # plausible range of the true sigma
    high: float
    source: str
    upper_bound: bool = False  # the data cannot tell: only ``high`` is supported
    notes: tuple[str, ...] = ()


def level_sigmas(x: np.ndarray, levels: int = 5, wavelet: str = "sym4") -> np.ndarray:
    """Robust standard deviation of each wavelet detail level, finest first.

    For white noise of std sigma every level of an orthonormal transform has std sigma;
    signal adds to the coarser levels first.

    Returns
    -------
    s : ndarray, shape (levels,) (fewer for short series)
    """
    w = pywt.Wavelet(wavelet)
    lev = max(1, min(levels, pywt.dwt_max_level(x.size, w.dec_len)))
    coeffs = pywt.wavedec(x - np.mean(x), w, mode="periodization", level=lev)
    return np.array([np.median(np.abs(d)) / _MAD for d in coeffs[:0:-1]])


def _floor_fit(s: np.ndarray, length: int) -> tuple[float, float, float]:
    """Fit variances s_j^2 = sigma^2 + a * 2^(beta j): noise floor plus a power-law signal.

    Parameters
    ----------
    s : ndarray, shape (levels,) -- level stds, finest first (:func:`level_sigmas`)
    length : samples of the series (sets how precise each level's estimate is)

    Returns
    -------
    best, low, high : the best-fitting sigma and the range of sigma over all fits whose
        error is within the tolerance the level estimates allow (wide: not identifiable)
    """
    v = np.maximum(s**2, 1e-300)
    j = np.arange(v.size, dtype=np.float64)
    # Relative std of a MAD variance from n coefficients is ~ 2.3 / sqrt(n).
    tol = 2.3 / np.sqrt(np.maximum(1.0, length * 2.0 ** -(j + 1)))
    # Real signals' detail grows towards coarse levels (spectra fall); a flat top is taken
    # as the noise floor (beta >= 0.5), as the standard MAD estimator assumes.
    beta = np.linspace(0.5, 6.0, 56)[:, None, None]
    frac = np.linspace(0.0, 1.0, 101)[None, :, None]
    model = frac * v[0] + (1 - frac) * v[0] * 2.0 ** (beta * j)
    err = np.sqrt(np.mean(((np.log(np.maximum(model, 1e-300)) - np.log(v)) / tol) ** 2, axis=-1))
    s2 = np.broadcast_to(frac[..., 0] * v[0], err.shape)
    best = np.unravel_index(np.argmin(err), err.shape)
    ok = err <= err[best] + 1.0
    return math.sqrt(s2[best]), math.sqrt(s2[ok].min()), math.sqrt(s2[ok].max())


def estimate_noise(x: np.ndarray, *, sigma: float | None = None,
                   quiet: tuple[int, int] | None = None) -> NoiseEstimate:
    """The Gaussian noise level of a recording, given, measured on a quiet stretch, or estimated.

    Parameters
    ----------
    x : ndarray, shape (length,), finite (gaps bridged), impulses already removed
    sigma : a known noise std (datasheet)
    quiet : (start, stop) sample range of a stretch with (almost) no signal
    """
    if sigma is not None:
        if not (isinstance(sigma, (int, float, np.floating)) and math.isfinite(sigma) and sigma >= 0):
            raise InputError(f"The noise sigma must be a finite number >= 0; got {sigma!r}.")
        s = float(sigma)
        return NoiseEstimate(s, s, s, "given")
    if quiet is not None:
        start, stop = (int(v) for v in quiet)
        start, stop = max(0, start), min(x.size, stop)
        if stop - start < 16:
            raise InputError(f"The quiet stretch needs at least 16 samples; got {max(0, stop - start)}. "
                             "Select a longer stretch where the recording is flat.")
        seg = x[start:stop]
        # Differences cancel a slow trend; their MAD ignores a few spikes.
        s = float(np.median(np.abs(np.diff(seg) - np.median(np.diff(seg)))) / _MAD / math.sqrt(2))
        rel = 1.2 / math.sqrt(stop - start)
        return NoiseEstimate(s, s * (1 - 2 * rel), s * (1 + 2 * rel), "from a quiet segment")
    levels = level_sigmas(x, levels=6)
    counts = x.size / 2.0 ** np.arange(1, levels.size + 1)
    keep = counts >= 48
    levels, counts = levels[keep], counts[keep]
    notes: list[str] = []
    if levels.size == 0 or levels.max() <= 0:
        return NoiseEstimate(0.0, 0.0, 0.0, "estimated", notes=("The recording has no measurable noise.",))
    floor, flat = _noise_floor(levels, counts)
    quiet_s, _ = _finest_scale_structure(x)
    high = min(floor, quiet_s)
    if high <= 0:
        return NoiseEstimate(0.0, 0.0, 0.0, "estimated", notes=("The recording has no measurable noise.",))
    if quiet_s < 0.8 * floor:
        # Stationary noise is as strong everywhere: the quietest stretches show the floor,
        # the rest carries signal. Trusted when the quiet stretches agree with each other.
        flat = True
    # Under ~500 samples the level spreads scatter by 15-30 %: a flat pair can be signal
    # (a quarterly series 7x above its noise looked flat), so short series only get a bound.
    upper = not flat or x.size < 512
    if upper:
        notes.append("The recording has real detail down to the finest time scale (a broadband signal) or is "
                     f"short, so noise cannot be told apart from signal: a noise level of {high:.3g} is only "
                     "an upper bound. A cautious level was used; give sigma or select a quiet stretch for a "
                     "full result.")
        # A blend harms only when its sigma is above sqrt(2) x the true one; broadband recordings
        # make the upper bound 1.6-4.4x too high (short yearly or monthly series up to ~8x), so use
        # a fifth of it (a tenth on short series).
        caution = CAUTIOUS * (1.5 if x.size >= 2048 else 1.0 if x.size >= 1024 else 0.5)
        # The plausible range assumes the bound is at most ~10-20x too high; below half the level
        # used, a blend would start to cost (it harms only below 1/sqrt(2) of it).
        return NoiseEstimate(caution * high, 0.5 * caution * high, high, "estimated", True, tuple(notes))
    rel = 1.15 / math.sqrt(max(counts.max(), 1.0))
    return NoiseEstimate(high, high * (1 - 2 * rel), high * (1 + 2 * rel), "estimated", False, tuple(notes))


CAUTIOUS = 0.2  # fraction of the upper bound used when sigma is not identifiable


def _noise_floor(levels: np.ndarray, counts: np.ndarray) -> tuple[float, bool]:
    """The noise floor of the wavelet level spreads, and whether it is visible.

    White noise puts the same spread into every level, so no level is quieter than the
    noise: the quietest level is an upper bound. When a neighbouring level agrees with it
    within the scatter of the estimates, the spectrum is flat there: that is the noise floor
    (pooled over the flat run of levels). When every level is above the next finer one, the
    signal covers all scales and the floor is hidden (not identifiable).
    """
    tol = 1.15 / np.sqrt(counts)
    j = int(np.argmin(levels))
    run = [j]
    for step in (-1, 1):
        k = j + step
        while 0 <= k < levels.size and abs(math.log(levels[k] / levels[j])) <= 2.0 * math.hypot(tol[k], tol[j]):
            run.append(k)
            k += step
    run = sorted(run)
    pooled = float(np.sqrt(np.sum(counts[run] * levels[run] ** 2) / np.sum(counts[run])))
    return min(pooled, float(levels[j]) * (1 + tol[j])), len(run) >= 2



def _finest_scale_structure(x: np.ndarray, block: int = 128) -> tuple[float, bool]:
    """Look for signal in the finest detail band: quiet stretches and clustered energy.

    White noise gives finest-scale coefficients that are independent, with the same
    spread everywhere. Real detail comes in bursts (energy clusters in time).

    Returns
    -------
    quiet_sigma : the spread in the quietest stretches (20th percentile of block MADs,
        corrected for the scatter of a block estimate); equals the MAD for white noise
    clustered : the energy of neighbouring coefficients is correlated beyond chance
    """
    d = pywt.wavedec(x - np.mean(x), "sym4", mode="periodization", level=1)[1]
    nb = d.size // block
    mad = float(np.median(np.abs(d)) / _MAD)
    if nb < 5:
        return mad, False
    blocks = np.median(np.abs(d[: nb * block].reshape(nb, block)), axis=1) / _MAD
    quiet = float(np.quantile(blocks, 0.2)) / (1 - 0.84 * 1.15 / math.sqrt(block))
    e = np.minimum(d**2, (5 * mad) ** 2)  # clipped: a few spikes must not decide
    e = e - e.mean()
    den = float(np.sum(e * e))
    ac = float(np.sum(e[1:] * e[:-1]) / den) if den > 0 else 0.0
    return min(quiet, mad), ac * math.sqrt(d.size) > 5.0


# ---------------------------------------------------------------- impulses
def find_impulses(x: np.ndarray, threshold: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    """Samples that stand alone far outside their neighbours' spread: spikes one sample wide.

    Returns
    -------
    mask : bool ndarray, shape (length,) -- samples judged impulses
    replacement : ndarray, shape (length,) -- the 3-point median, to put in their place
    """
    med = median_filter(x, size=3, mode="nearest")
    resid = x - med
    # The spread of sample-to-sample changes, not of resid: the median equals the sample
    # itself a third of the time, which would shrink a MAD of resid.
    spread = float(np.median(np.abs(np.diff(x))) / _MAD / math.sqrt(2))
    if spread <= 0:
        spread = float(np.std(np.diff(x))) or 1.0
    # Local spread too: where the signal itself is busy, a tall sample is more likely its own.
    local = median_filter(np.abs(np.diff(x, prepend=x[:1])), size=65, mode="nearest") / _MAD / math.sqrt(2)
    spread = np.maximum(spread, local)
    # A sample is an impulse when it leaves both neighbours, who agree with each other.
    left, right = np.roll(x, 1), np.roll(x, -1)
    left[0], right[-1] = x[1], x[-2]
    lone = np.abs(left - right) < 0.5 * np.abs(resid)
    mask = (np.abs(resid) > threshold * spread) & lone
    # Impulses stand apart from the bulk; a signal's sharp features have a continuous tail.
    # With fewer lone samples between 3 and 6 spreads than beyond 6, the spikes are a separate
    # population; otherwise none are taken.
    between = (np.abs(resid) > 0.5 * threshold * spread) & ~mask & lone
    if between.sum() >= 0.5 * mask.sum():
        mask[:] = False
    return mask, med


def _poisson_like(mask: np.ndarray, blocks: int = 20) -> bool:
    """Whether spike positions are spread like independent hits (a Poisson process).

    Impulse noise does not care what the signal does; a signal's sharp features come in
    bursts (activity) or in rhythm (beats, steps). Index of dispersion of block counts ~ 1.
    """
    n = mask.size // blocks
    if n < 8 or mask.sum() < 2 * blocks:
        return mask.sum() >= 5
    counts = mask[: n * blocks].reshape(blocks, n).sum(axis=1)
    dispersion = counts.var(ddof=1) / max(counts.mean(), 1e-12)
    return 0.4 <= dispersion <= 2.0


def _wide_bumps(x: np.ndarray, threshold: float = 6.0) -> int:
    """Bumps two samples wide, as tall as an impulse: common in real signals, rare in impulse noise.

    Impulse noise hits samples independently, so two adjacent spikes of the same sign are
    rare (rate^2 / 2); a signal's sharp features are as often two samples wide as one.
    """
    if x.size < 8:
        return 0
    spread = float(np.median(np.abs(np.diff(x))) / _MAD / math.sqrt(2)) or 1.0
    a, b, c, d = x[:-3], x[1:-2], x[2:-1], x[3:]
    base_b, base_c = a + (d - a) / 3, a + 2 * (d - a) / 3
    eb, ec = b - base_b, c - base_c
    tall = (np.sign(eb) == np.sign(ec)) & (np.minimum(np.abs(eb), np.abs(ec)) > threshold * spread)
    return int(np.sum(tall & (np.abs(d - a) < 0.5 * np.minimum(np.abs(eb), np.abs(ec)))))


# ---------------------------------------------------------------- candidates
def _wavelet(x: np.ndarray, sigma: float, name: str = "sym8") -> np.ndarray:
    """BayesShrink soft thresholding at a given noise sigma."""
    w = pywt.Wavelet(name)
    lev = min(6, pywt.dwt_max_level(x.size, w.dec_len))
    if lev < 1 or sigma <= 0:
        return x.copy()
    coeffs = pywt.wavedec(x, w, mode="symmetric", level=lev)
    out = [coeffs[0]]
    for d in coeffs[1:]:
        spread = math.sqrt(max(float(np.mean(d**2)) - sigma**2, 0.0))
        thr = float(np.max(np.abs(d))) if spread == 0 else sigma**2 / spread
        out.append(pywt.threshold(d, thr, mode="soft"))
    return pywt.waverec(out, w, mode="symmetric")[: x.size]


def _candidates(x: np.ndarray, sigma: float, model: Any) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """name -> denoiser function of the (bridged, despiked) series."""
    cands: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    if model is not None:
        # 3/4-window hops: half the cost of the default half-window hop, -0.05 dB
        hop = max(1, 3 * model.config.window // 4)
        cands["network"] = lambda v: model.denoise(v, hop=hop)
    cands["wavelet"] = lambda v: _wavelet(v, sigma)
    widths = [w for w in SG_WIDTHS if w < x.size]
    if x.size <= WHOLE_FIT_MAX:
        # A short series may be one smooth shape (a trend, a parabola): a quadratic over all of it.
        widths.append(x.size - 1 + x.size % 2)
    for width in dict.fromkeys(widths):
        cands[f"savgol {width}"] = lambda v, w=width: savgol_filter(v, w, 2, mode="interp")
    return cands


PROBE_SAMPLES = 65_536  # long series: the network's divergence is probed on chunks this many samples in all
PROBE_CHUNK = 8192


def _divergence(fn: Callable[[np.ndarray], np.ndarray], name: str, x: np.ndarray, fx: np.ndarray,
                sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Per-sample divergence d_i = d f_i / d x_i: exact for Savitzky-Golay, Monte-Carlo otherwise.

    Monte-Carlo SURE (Ramani, Blu & Unser 2008): per sample b_i (f(x + eps b)_i - f_i) / eps with
    b ~ N(0, I), an unbiased estimate of each diagonal entry of the Jacobian. The network is the
    costly candidate: on a long series it is probed on evenly spread chunks (NaN elsewhere).
    """
    if name.startswith("savgol"):
        width = int(name.split()[1])
        centre = savgol_coeffs(width, 2)[width // 2]
        return np.full(x.size, centre)
    eps = max(sigma, 1e-12 * max(1.0, float(np.std(x)))) * (1e-2 if name == "network" else 1e-3)
    if name == "network" and x.size > 2 * PROBE_SAMPLES:
        return _chunked_divergence(fn, x, eps, rng)
    b = rng.standard_normal(x.size)
    return b * (fn(x + eps * b) - fx) / eps


def _chunked_divergence(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, eps: float,
                        rng: np.random.Generator, margin: int = 512) -> np.ndarray:
    """Divergence on a few chunks (with a margin of context each side), in one batched call."""
    count = max(1, PROBE_SAMPLES // PROBE_CHUNK)
    starts = np.linspace(margin, x.size - PROBE_CHUNK - margin, count).astype(int)
    span = PROBE_CHUNK + 2 * margin
    base = np.stack([x[s0 - margin:s0 - margin + span] for s0 in starts])
    b = np.zeros_like(base)
    b[:, margin:margin + PROBE_CHUNK] = rng.standard_normal((count, PROBE_CHUNK))
    both = fn(np.concatenate([base, base + eps * b]))
    div = np.full(x.size, np.nan)
    for i, s0 in enumerate(starts):
        inner = slice(margin, margin + PROBE_CHUNK)
        div[s0:s0 + PROBE_CHUNK] = b[i, inner] * (both[count + i, inner] - both[i, inner]) / eps
    return div


def _best_single(r: np.ndarray, c: np.ndarray, sigma2: float) -> np.ndarray:
    """The one candidate with the lowest SURE at its own best weight against the input.

    Fitting many weights to a noisy risk estimate overfits it (each free weight costs about
    2 sigma^2 / N of risk that SURE does not see); choosing one candidate and one weight does not.
    """
    g = np.einsum("ij,ij->j", r, r) / r.shape[0]
    w = np.clip(np.divide(sigma2 * c, g, out=np.zeros_like(g), where=g > 0), 0.0, 1.0)
    sure = w * w * g - 2 * sigma2 * c * w
    out = np.zeros_like(w)
    k = int(np.argmin(sure))
    out[k] = w[k]
    return out


def _blend_weights(r: np.ndarray, c: np.ndarray, sigma2: float) -> np.ndarray:
    """SURE-optimal weights w >= 0, sum(w) <= 1 for out = y + r @ w.

    SURE(w) = ||R w||^2 / N - sigma^2 + 2 sigma^2 (1 - c @ w),  c_k = 1 - mean divergence of
    candidate k. The quadratic is solved as non-negative least squares (Cholesky of R'R/N):
    microseconds for a handful of candidates, so every region gets its own weights.
    """
    n, k = r.shape
    g = r.T @ r / n
    g = g + np.eye(k) * (1e-9 * max(float(np.trace(g)) / k, 1e-300))
    try:
        chol = np.linalg.cholesky(g)
    except np.linalg.LinAlgError:
        return np.zeros(k)
    # w'Gw - 2 s^2 c'w = ||L'w - z||^2 - const with L z = s^2 c
    z = np.linalg.solve(chol, sigma2 * c)
    w, _ = nnls(chol.T, z)
    total = w.sum()
    return w / total if total > 1 else w


def _fill_unprobed(d: np.ndarray, regions: list[slice]) -> np.ndarray:
    """Regions without a probe take the mean divergence of the nearest probed region."""
    if not np.isnan(d).any():
        return d
    d = d.copy()
    with warnings.catch_warnings():  # a region without probes has an all-NaN network column
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.array([np.nanmean(d[reg], axis=0) for reg in regions])
    probed = np.flatnonzero(np.isfinite(means).all(axis=1))
    for i, reg in enumerate(regions):
        near = probed[np.argmin(np.abs(probed - i))]
        block = d[reg]
        block[np.isnan(block)] = np.broadcast_to(means[near], block.shape)[np.isnan(block)]
        d[reg] = block
    return d


def _weights(r: np.ndarray, c: np.ndarray, sigma2: float) -> np.ndarray:
    """Blend weights for one region: one candidate, or a mix, whichever has the lower corrected risk.

    SURE of a weight vector fitted to the same data is optimistic by about 2 sigma^2 / N per
    weight in use (as Mallows' Cp counts parameters), so each choice is charged that much.
    """
    n = r.shape[0]
    g = r.T @ r / n

    def risk(w: np.ndarray) -> float:
        return float(w @ g @ w - 2 * sigma2 * c @ w + 2 * sigma2 * np.count_nonzero(w > 1e-6) / n)

    single, mix = _best_single(r, c, sigma2), _blend_weights(r, c, sigma2)
    return mix if risk(mix) < risk(single) else single


def _regions(n: int, size: int = REGION) -> list[slice]:
    count = max(1, int(round(n / size)))
    edges = np.linspace(0, n, count + 1).astype(int)
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]


def _smooth_weights(wr: np.ndarray, regions: list[slice], n: int) -> np.ndarray:
    """Per-sample weights, linear between region centres (no steps at region edges): (n, k)."""
    if len(regions) == 1:
        return np.broadcast_to(wr[0], (n, wr.shape[1])).copy()
    centres = np.array([(s.start + s.stop - 1) / 2 for s in regions])
    t = np.arange(n)
    return np.stack([np.interp(t, centres, wr[:, j]) for j in range(wr.shape[1])], axis=1)


def _whiteness(removed: np.ndarray, block: int = 256) -> float:
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


def _posterior_mse(sure: float, tau: float) -> tuple[float, float, float]:
    """Mean, 10th and 90th percentile of MSE >= 0 given SURE ~ N(MSE, tau^2) (flat prior)."""
    from scipy.stats import truncnorm

    if tau <= 0:
        m = max(sure, 0.0)
        return m, m, m
    dist = truncnorm(-sure / tau, np.inf, loc=sure, scale=tau)
    return float(dist.mean()), float(dist.ppf(0.1)), float(dist.ppf(0.9))


def _gain(noise_power: float, mse: float) -> float:
    if noise_power <= 0:
        return 0.0
    return 10 * math.log10(noise_power / max(mse, noise_power * 1e-4))  # capped at +40 dB


# ---------------------------------------------------------------- the pipeline
def denoise(x: np.ndarray, *, sigma: float | None = None, quiet: tuple[int, int] | None = None,
            model: Any = None, rng: RngLike = 0) -> DenoiseResult:
    """Denoise a recording without a clean reference, applying only what the evidence supports.

    Parameters
    ----------
    x : ndarray, shape (length,); NaN marks gaps (kept as NaN in the output)
    sigma : the noise std if known (an instrument's datasheet); then the result is never worse
        than the input in expectation
    quiet : (start, stop) sample range of a quiet stretch to measure the noise on
    model : a fitted :class:`~denoiser.core.Denoiser`; ``None`` for the bundled default;
        ``False`` for classical candidates only
    rng : seed or Generator for the Monte-Carlo divergence probes

    Returns
    -------
    DenoiseResult
    """
    y = np.asarray(x, dtype=np.float64)
    if y.ndim != 1:
        raise InputError(f"denoise() takes one 1-D series; got shape {y.shape}. Call it once per column.")
    if sigma is not None and quiet is not None:
        raise InputError("Give the noise level either as sigma or as a quiet stretch, not both.")
    rng = as_rng(rng)
    bad = ~np.isfinite(y)
    if bad.all() or y.size - bad.sum() < MIN_LENGTH:
        return _kept(y, f"The series has fewer than {MIN_LENGTH} valid samples; it was kept as is.")
    v = bridge_gaps(y)

    # 1. impulses: replaced by the local median before anything else sees them
    spikes, med = find_impulses(v)
    n_spikes = int(spikes.sum())
    notes: list[str] = []
    # Isolated spikes beyond 6 spreads are rare in Gaussian noise (< 1 in 10^6), but real
    # signals have sharp features too: despike only when spikes are common (>= 0.3 %) and
    # nearly all one sample wide, as independent impulses are.
    if n_spikes < max(5, 0.003 * v.size) or _wide_bumps(v) > 0.15 * n_spikes or not _poisson_like(spikes):
        spikes[:], n_spikes = False, 0
    despiked = np.where(spikes, med, v)
    impulse_power = float(np.sum((v - despiked) ** 2)) / v.size
    if n_spikes:
        notes.append(f"{n_spikes} isolated spikes ({100 * n_spikes / v.size:.1f} % of samples) were replaced "
                     "by the median of their neighbours.")

    # 2. noise level
    est = estimate_noise(despiked, sigma=sigma, quiet=quiet)
    notes.extend(est.notes)
    s = est.sigma
    if model is None:
        from denoiser.bundled import default_model
        model = default_model()
    elif model is False:
        model = None

    # 3. candidates, their divergences, SURE-LET weights per region
    if s > 0:
        cands = _candidates(despiked, s, model)
        names = list(cands)
        outs = {k: fn(despiked) for k, fn in cands.items()}
        divs = {k: _divergence(cands[k], k, despiked, outs[k], s, rng) for k in names}
        r = np.stack([outs[k] - despiked for k in names], axis=1)
        d = np.stack([divs[k] for k in names], axis=1)
        regions = _regions(v.size)
        d = _fill_unprobed(d, regions)
        wr = np.stack([_weights(r[reg], 1.0 - d[reg].mean(axis=0), s * s) for reg in regions])
        w = _smooth_weights(wr, regions, v.size)
        out = despiked + np.sum(w * r, axis=1)
        # SURE of the blend actually applied, per sample: |w.r|^2 - s^2 + 2 s^2 (1 - w.(1-d))
        applied = np.sum(w * r, axis=1)
        risk = applied**2 - s * s + 2 * s * s * (1.0 - np.sum(w * (1.0 - d), axis=1))
        sure = float(np.mean(risk))
        mean_w = dict(zip(names, w.mean(axis=0).round(3).tolist()))
    else:
        out, sure, mean_w, names = despiked.copy(), 0.0, {}, []

    # the impulse part: replacement error, measured where the median replaces clean samples
    impulse_mse = 0.0
    if n_spikes:
        probe = ~spikes
        impulse_mse = max(0.0, float(np.mean((med[probe] - despiked[probe]) ** 2)) - 2 / 3 * s * s) * n_spikes / v.size
    noise_power = s * s + impulse_power
    lo_s, hi_s = (est.low, est.high) if est.source != "given" else (s, s)
    # SURE scatters around the true MSE by ~sqrt(2/N) sigma^2 (the realised noise power);
    # the MSE cannot be negative, so report the mean and quantiles of the MSE given SURE.
    tau = math.sqrt(2.0 / v.size) * s * s
    if s > 0 and names:
        applied_c = float(np.mean(np.sum(w * (1.0 - d), axis=1)))
        applied_p = float(np.mean(applied**2))
        gains = []
        for sig in (lo_s, s, hi_s):
            sure_sig = applied_p - sig * sig + 2 * sig * sig * (1 - applied_c)
            mid, lo_m, hi_m = _posterior_mse(sure_sig, math.sqrt(2.0 / v.size) * sig * sig)
            npow = sig * sig + impulse_power
            gains.append([_gain(npow, m + impulse_mse) for m in (mid, lo_m, hi_m)])
        est_mse = _posterior_mse(sure, tau)[0] + impulse_mse
        gain = _gain(noise_power, est_mse)
        band = (min(g[2] for g in gains), max(g[1] for g in gains))
        central = (gains[1][2], gains[1][1])  # the band at the sigma used
    else:
        est_mse = impulse_mse
        gain = _gain(noise_power, est_mse) if noise_power > 0 else 0.0
        band = central = (gain, gain)
    removed = v - out
    white = _whiteness(removed)

    # Trusted: the gain is pinned down within a few dB over every plausible sigma.
    trusted = band[1] - band[0] <= 3.0
    if not trusted:
        notes.append(f"The estimate is uncertain (short recording, high gain or an unsure noise level): the gain "
                     f"could be anywhere from {band[0]:+.1f} to {band[1]:+.1f} dB.")
    if n_spikes:
        trusted = False
        notes.append("With impulse noise the estimate covers only the spikes that were found; smaller ones are "
                     "left in place and not counted.")
    if white < 0.5 and gain > 0.5:
        trusted = False
        notes.append("What was removed is not like stationary noise: it comes in bursts where the signal changes, "
                     "so some signal may have been removed with it.")
    if est.source == "estimated" and not est.upper_bound:
        notes.append("The noise level was estimated from the finest time scale, assuming white noise; "
                     "coloured noise (pink, drift) is left in place.")

    method = _describe(mean_w, n_spikes)
    if method.startswith("none"):
        notes.append("No filter was expected to improve this recording, so it was kept as is.")
    final = np.where(bad, np.nan, out)
    return DenoiseResult(final, s, est.source, est.upper_bound, est_mse, gain, band, trusted, method,
                         tuple(notes), white, n_spikes, mean_w)


def _describe(weights: dict[str, float], n_spikes: int) -> str:
    used = {k: v for k, v in weights.items() if v >= 0.02}
    parts = [f"{k} {v:.2f}" for k, v in sorted(used.items(), key=lambda kv: -kv[1])]
    rest = 1.0 - sum(weights.values())
    text = " + ".join(parts) + (f" (+ input {rest:.2f})" if parts and rest >= 0.02 else "")
    if not parts:
        text = "none (kept as is)"
    return ("despike + " + text) if n_spikes else text


def _kept(y: np.ndarray, note: str) -> DenoiseResult:
    return DenoiseResult(y.copy(), float("nan"), "estimated", False, float("nan"), 0.0, (0.0, 0.0),
                         False, "none (kept as is)", (note,))
