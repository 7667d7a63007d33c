"""The noise level of a recording: given, measured on a quiet stretch, or found in the data.

Without a clean reference, every statistic of a recording bounds the white-noise level from
above (noise adds the same power to every scale and every frequency; signal only adds).
:func:`noise_floor` takes the tightest such bound over several views of the data, robust to
different kinds of signal: wavelet levels by their median absolute deviation (robust to bursts
in time) and frequency bands by their median power (robust to spectral lines).

The bound is the noise level when the data show a *flat noise floor*. When they cannot (a
broadband signal with real detail up to the Nyquist frequency, a recording that looks like noise
throughout, a short series with bursty detail), only a cautious part of the bound is used, the
estimate says so (``upper_bound``) and the gain band covers the whole plausible range.
Measured on 43 real channels (``bench/real.py``): the bound is within 15 % of the true level on
most of them; the checks below flag the cases where it is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pywt

from denoiser.errors import InputError

MAD = 0.6745  # median(|z|) of a standard normal
MIN_COEFFS = 32  # a level or band with fewer values gives no estimate of its own
SAMPLE_FOR_STATS = 262_144  # a median over more values is taken on every k-th of them
MAD_REL = 1.17  # relative std of a MAD-based sigma from n values: MAD_REL / sqrt(n) (efficiency 37 %)
PSD_REL = 1.0  # same for the median periodogram power of n bins (Hann window: neighbours correlated)
LIFT_Z = 2.0  # a view counts only when it is this many of its own spreads below level 1
LOOKS_LIKE_NOISE_DB = 4.0  # apparent SNR below this: the recording looks like noise throughout ...
STANDS_OUT = 10.0  # ... unless a wavelet level holds this many times the floor's power
NOISE_LIKE_PART = 0.3  # part of the bound used at the threshold, falling to 0.1 at 1 dB apparent SNR
HEAVY_TAILS_PART = 0.5  # part of the bound used when a short series' finest detail is bursty
HEAVY_TAILS_PCT = 1.0  # % of finest-scale values beyond 3 robust spreads (Gaussian: 0.27 %)
SHORT = 512  # at most this many samples: a short series
NOT_FLAT_RATIO = 1.15  # top octave: lower half / upper half spread above this ...
NOT_FLAT_Z = 5.0  # ... and significant: the spectrum still falls at the top
CLEAN_FLAT_RATIO = 1.08  # a clean floor: the two halves of the top octave agree this well
RISING_RATIO = 1.3  # "not flat" also needs the next octave down this much above the top one
DEAD_RUN = 32  # this many exactly equal samples in a row: a dead stretch (a sensor off, a
# held or padded value), which has no noise to measure; left out of the estimate


@dataclass(frozen=True)
class NoiseEstimate:
    """A noise level with its plausible range and how it was found.

    Attributes
    ----------
    sigma : the level to use
    low, high : plausible range of the true level
    source : "given", "estimated" or "from a quiet segment"
    upper_bound : the data could not show the level; ``high`` is an upper bound and ``sigma``
        a cautious part of it
    notes : plain sentences (why the level is only bounded)
    bound : the tightest upper bound the data give (``sigma`` when given or measured)
    reasons : short keys of the checks that failed ("looks like noise", "heavy tails", "not flat")
    clean_floor : the top octave is flat and Gaussian, as white noise alone makes it: the level
        can be trusted (given and measured levels count as clean)
    """

    sigma: float
    low: float
    high: float
    source: str
    upper_bound: bool = False
    notes: tuple[str, ...] = ()
    bound: float = float("nan")
    reasons: tuple[str, ...] = ()
    clean_floor: bool = True

    def in_units(self, unit: float) -> NoiseEstimate:
        """The same estimate for the data multiplied by ``unit`` (levels and the notes' numbers scaled)."""
        if unit == 1.0:
            return self
        notes = tuple(
            _bound_note(self.reasons, self.bound * unit, self.sigma * unit)
            if n.startswith("The noise level could not be told apart")
            else n
            for n in self.notes
        )
        return replace(
            self,
            sigma=self.sigma * unit,
            low=self.low * unit,
            high=self.high * unit,
            bound=self.bound * unit,
            notes=notes,
        )


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
    return np.array([np.median(np.abs(d)) / MAD for d in coeffs[:0:-1]])


def _details(x: np.ndarray) -> list[np.ndarray]:
    """The wavelet detail levels of the recording (sym4, periodic), finest first: computed once per estimate."""
    w = pywt.Wavelet("sym4")
    coeffs = pywt.wavedec(x - np.mean(x), w, mode="periodization", level=max(1, pywt.dwt_max_level(x.size, w.dec_len)))
    return coeffs[:0:-1]


def _levels(details: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Robust std and coefficient count of every wavelet level with >= MIN_COEFFS values, finest first."""
    kept = [d for d in details if d.size >= MIN_COEFFS] or details[:1]
    # (a long level's median from every k-th value: 262,144 values pin a MAD down to 0.2 %)
    used = [d[:: max(1, d.size // SAMPLE_FOR_STATS)] for d in kept]
    return np.array([np.median(np.abs(u)) / MAD for u in used]), np.array([u.size for u in used])


def _periodogram(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (cycles per sample) and Hann-windowed periodogram, scaled so white noise of std sigma has mean sigma^2.

    Computed once per estimate: on a million samples the window and the FFT cost ~25 ms.
    """
    n = x.size
    w = np.hanning(n)
    p = np.abs(np.fft.rfft((x - np.mean(x)) * w)) ** 2 / float(w @ w)
    return np.fft.rfftfreq(n), p


def _bands(spectrum: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Robust std (median periodogram power) and bin count of frequency bands, top band first."""
    f, p = spectrum
    edges = (0.5, 0.375, 0.25, 0.125, 0.0625, 0.03125)
    out, counts = [], []
    for hi, lo in zip(edges[:-1], edges[1:]):
        band = p[(f >= lo) & (f < hi)]
        if band.size >= MIN_COEFFS:
            # the periodogram of white noise is exponential with mean sigma^2: median = ln 2 sigma^2
            out.append(math.sqrt(float(np.median(band)) / math.log(2)))
            counts.append(band.size)
    return np.array(out), np.array(counts)


QUIET_BLOCK = 128  # finest-scale coefficients per block when looking for quiet stretches
RESIDUAL_MAX = 65_536  # longer series skip the quadratic-fit residual (MAD spread there: < 0.7 %)


def _quiet_stretches(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The finest level's spread in its quietest stretches (20th percentile of block MADs), if there are enough.

    Stationary noise is as strong everywhere; a recording with events (a seismogram, gait) has
    quiet stretches where only the noise (and the sensor's own floor) is left.

    Parameters
    ----------
    d : the finest detail level

    Returns
    -------
    sigma, rel : arrays of shape (1,) or (0,): the estimate and its relative spread
    """
    nb = d.size // QUIET_BLOCK
    if nb < 10:
        return np.zeros(0), np.zeros(0)
    blocks = np.median(np.abs(d[: nb * QUIET_BLOCK].reshape(nb, QUIET_BLOCK)), axis=1) / MAD
    rel = MAD_REL / math.sqrt(QUIET_BLOCK)
    # the 20th percentile of block estimates sits 0.84 of their scatter below the level
    q = float(np.quantile(blocks, 0.2)) / (1 - 0.84 * rel)
    return np.array([q]), np.array([rel * 2.5 / math.sqrt(nb)])


def residual_sigma(x: np.ndarray) -> tuple[float, float]:
    """The noise std left in the residual of the best local quadratic fit, and its relative spread.

    Generalised cross-validation (Craven & Wahba 1979) picks the Savitzky-Golay width (up to the
    whole series) with the lowest ``RSS/N / (1 - tr(S)/N)^2``, no sigma needed; its residual then
    gives sigma^2 = RSS / (N - 2 tr S + tr S'S), unbiased where the fit leaves no signal behind
    (an upper bound otherwise). On a smooth series this uses far more of the data than the finest
    wavelet level does (a quadratic over 150 samples leaves 147 degrees of freedom).

    Returns
    -------
    sigma, rel : the estimate and its relative standard deviation (inf when none could be made)
    """
    from scipy.signal import savgol_coeffs, savgol_filter

    n = x.size
    if n > RESIDUAL_MAX:
        return math.nan, math.inf  # the wavelet levels alone pin a long recording's floor down
    widths = [w for w in (5, 9, 17, 33, 65, 129) if w < n // 2]
    if n <= 2048:
        widths.append(n - 1 + n % 2)
    fits = []  # (gcv, sigma, rel, dof)
    for w in widths:
        if w <= 3:
            continue
        r = x - savgol_filter(x, w, 2, mode="interp")
        if w >= n - 1:  # one quadratic over everything: a projection of rank 3
            rss, m, tr, dof = float(r @ r), n, 3.0, n - 3.0
        else:  # interior rows only (the edge rows are fits of their own)
            h = savgol_coeffs(w, 2)
            core = r[w // 2 : n - w // 2]
            rss, m, tr = float(core @ core), core.size, core.size * float(h[w // 2])
            dof = core.size * (1 - 2 * float(h[w // 2]) + float(h @ h))
        fits.append((rss / m / (1 - tr / m) ** 2, math.sqrt(rss / dof), 1 / math.sqrt(2 * dof), dof))
    if not fits:
        return math.nan, math.inf
    # Of the fits as good as the best one (within its scatter), the widest: choosing the lowest of
    # several noisy scores would pick the one whose residual came out small by chance.
    g0, _, rel0, _ = min(fits)
    best = max((f for f in fits if f[0] <= g0 * (1 + 2 * 2 * rel0)), key=lambda f: f[3])
    return best[1], best[2]


def noise_floor(x: np.ndarray) -> float:
    """The tightest upper bound of the white-noise std the recording gives (see :func:`floor_and_spread`)."""
    return floor_and_spread(x)[0]


def floor_and_spread(
    x: np.ndarray,
    details: list[np.ndarray] | None = None,
    spectrum: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[float, float]:
    """The tightest upper bound of the white-noise std the recording gives.

    The finest wavelet level's MAD is the standard estimate (Donoho & Johnstone). A coarser
    level, or a frequency band's median power, replaces it when it is lower by more than its
    own scatter (so the minimum of many noisy estimates is not biased low): signals whose
    detail is concentrated at the top (a pattern repeating every few samples, a line
    spectrum, an anti-aliasing roll-off) leave the floor visible elsewhere.

    Parameters
    ----------
    x : ndarray, shape (length,), finite, impulses removed

    Returns
    -------
    sigma : float >= 0
    rel : its relative standard deviation
    """
    details = _details(x) if details is None else details
    levels, lc = _levels(details)
    bands, bc = _bands(_periodogram(x) if spectrum is None else spectrum)
    quiet, qs = _quiet_stretches(details[0])
    views = np.r_[levels, bands, quiet]
    spread = np.r_[MAD_REL / np.sqrt(lc), PSD_REL / np.sqrt(np.maximum(bc, 1)), qs]
    lifted = views * (1 + LIFT_Z * spread)
    k = int(np.argmin(lifted))
    bound, rel_b = (
        (float(lifted[k]), float(spread[k])) if lifted[k] < levels[0] else (float(levels[0]), float(spread[0]))
    )
    # The residual of the best quadratic fit: another upper bound, and a far more precise one on
    # a smooth series. Where the two agree within their scatter, both see the noise: combine them.
    res, rel = residual_sigma(x)
    if math.isfinite(res) and res > 0 and bound > 0:
        if abs(math.log(res / bound)) <= LIFT_Z * math.hypot(rel, rel_b):
            wb, wr = 1 / rel_b**2, 1 / rel**2
            return float(math.exp((wb * math.log(bound) + wr * math.log(res)) / (wb + wr))), 1 / math.sqrt(wb + wr)
        if res < bound:
            return float(res * (1 + LIFT_Z * rel)), rel
    return bound, rel_b


@dataclass(frozen=True)
class _Evidence:
    factor: float  # part of the bound to use, (0, 1]
    why: tuple[str, ...]  # the checks that failed
    clean_floor: bool  # the top octave is flat and Gaussian: the floor is white noise alone


def _checks(
    x: np.ndarray, bound: float, details: list[np.ndarray], spectrum: tuple[np.ndarray, np.ndarray]
) -> _Evidence:
    """How far the data confirm that ``bound`` is the noise level.

    * looks like noise: the bound explains nearly all of the recording's variance (apparent SNR
      below 4 dB) and no time scale stands out of the floor. Either the recording is very noisy,
      or its signal itself looks like white noise (economic growth rates, yearly flows): the data
      cannot say which.
    * heavy tails (short series): the finest scale has far more large values than Gaussian noise
      gives, so it holds signal detail and the bound is above the noise.
    * not flat: in the top octave the lower half carries clearly more than the upper half, so
      the spectrum still falls at the Nyquist frequency: there is no noise floor in sight.

    A *clean* floor (what a trusted estimate needs) is stricter: both halves of the top octave
    agree and its values are as Gaussian as noise (coloured noise and bursty detail both fail).
    """
    factor, why = 1.0, []
    var = float(np.var(x))
    asnr = 10 * math.log10(var / bound**2) if bound > 0 and var > 0 else 99.0
    # ... unless some scale stands far out of the floor: a very noisy recording of a signal with a
    # clear time scale (a sine at 0 dB) is not a signal that looks like noise.
    level_spread = _levels(details)[0]
    stands_out = bound > 0 and float(np.max(level_spread)) ** 2 > STANDS_OUT * bound**2
    if asnr < LOOKS_LIKE_NOISE_DB and not stands_out:
        factor = min(factor, max(0.1, NOISE_LIKE_PART * (asnr - 1.0) / (LOOKS_LIKE_NOISE_DB - 1.0)))
        why.append("looks like noise")
    # The finest detail at every sample (both phases of the decimated level, no end effects): a tail
    # count on the decimated level alone swings with which samples land in it.
    d1 = np.convolve(x, pywt.Wavelet("sym4").dec_hi, mode="valid")[:: max(1, x.size // SAMPLE_FOR_STATS)]
    mad1 = float(np.median(np.abs(d1)) / MAD)
    beyond = int(np.sum(np.abs(d1) > 3 * mad1))
    heavy = mad1 > 0 and beyond >= 4 and 100 * beyond / d1.size > HEAVY_TAILS_PCT
    if x.size <= SHORT and heavy:
        factor = min(factor, HEAVY_TAILS_PART)
        why.append("heavy tails")
    flat = False
    if mad1 > 0 and x.size >= 4 * MIN_COEFFS:
        # the finest level split in two (a wavelet packet): the high-pass branch is mirrored, so its
        # approximation holds [3fs/8, fs/2) and its detail [fs/4, 3fs/8)
        upper, lower = pywt.dwt(details[0], "sym4", mode="periodization")
        s_lo, s_hi = (float(np.median(np.abs(v)) / MAD) for v in (lower, upper))
        if s_hi > 0 and s_lo > 0:
            z = math.log(s_lo / s_hi) / (MAD_REL * math.sqrt(2.0 / lower.size))
            flat = abs(z) < 3.0 and abs(math.log(s_lo / s_hi)) < math.log(CLEAN_FLAT_RATIO)
            # ... and keeps rising through the next octave down (a steady slope, not a floor with a
            # little signal reaching into the top octave, as an anti-aliasing roll-off leaves)
            rising = level_spread.size < 2 or level_spread[1] > RISING_RATIO * level_spread[0]
            falling = s_lo / s_hi > NOT_FLAT_RATIO and z > NOT_FLAT_Z and rising
            if bound < 0.9 * mad1:
                # The floor was found above part of the top octave (an anti-aliasing roll-off, a
                # pattern at fs/4): ask whether the spectrum is flat where the floor was found.
                falling = _psd_falls_at_top(spectrum)
            if falling:
                factor = min(factor, 0.2)
                why.append("not flat")
    clean = flat and not heavy and not why and abs(bound / mad1 - 1) < 0.15
    return _Evidence(factor, tuple(why), clean)


def _psd_falls_at_top(spectrum: tuple[np.ndarray, np.ndarray]) -> bool:
    """Whether the median power still falls from [3fs/8, 7fs/16) to [7fs/16, fs/2) (as a floor does not)."""
    f, p = spectrum
    a, b = p[(f >= 0.375) & (f < 0.4375)], p[(f >= 0.4375) & (f < 0.5)]
    if min(a.size, b.size) < MIN_COEFFS:
        return False
    ratio = math.sqrt(float(np.median(a)) / max(float(np.median(b)), 1e-300))
    z = math.log(ratio) / (PSD_REL * math.sqrt(1 / a.size + 1 / b.size))
    return bool(ratio > NOT_FLAT_RATIO and z > NOT_FLAT_Z)


_WHY = {
    "looks like noise": "the recording looks like noise throughout (its signal may itself look like noise)",
    "heavy tails": "its finest detail comes in bursts that noise does not make",
    "not flat": "its spectrum keeps falling up to the highest frequency, with no noise floor in sight",
}


def live_samples(x: np.ndarray) -> tuple[np.ndarray, int]:
    """The recording without its dead stretches (runs of ``DEAD_RUN`` or more exactly equal values).

    A sensor that was off, a held last value or zero padding has no noise at all: its stretch
    would pull every robust view of the noise towards 0 (8,000 zeros in 20,000 samples gave a
    level of 3e-16 and a result that changed nothing).

    Parameters
    ----------
    x : ndarray, shape (length,), finite

    Returns
    -------
    live : ndarray, shape (m,), the live samples in order (``x`` itself when none are dead, or when
        fewer than 128 would be left)
    dead : how many samples were left out
    """
    same = np.diff(x) == 0
    if x.size < DEAD_RUN or int(np.count_nonzero(same)) < DEAD_RUN - 1:
        return x, 0
    bounds = np.flatnonzero(np.r_[True, ~same, True])  # where each run of equal values starts, and the end
    lengths = np.diff(bounds)
    dead = lengths >= DEAD_RUN
    keep = np.repeat(~dead, lengths)
    n_dead = x.size - int(np.count_nonzero(keep))
    if n_dead == 0 or x.size - n_dead < 4 * MIN_COEFFS:
        return x, 0
    return x[keep], n_dead


def estimate_noise(x: np.ndarray, *, sigma: float | None = None, quiet: tuple[int, int] | None = None) -> NoiseEstimate:
    """The Gaussian noise level of a recording, given, measured on a quiet stretch, or estimated.

    Parameters
    ----------
    x : ndarray, shape (length,), finite (gaps bridged), impulses already removed
    sigma : a known noise std (datasheet)
    quiet : (start, stop) sample range of a stretch with (almost) no signal

    Returns
    -------
    NoiseEstimate
    """
    if sigma is not None:
        if not (isinstance(sigma, (int, float, np.floating)) and math.isfinite(sigma) and sigma >= 0):
            raise InputError(f"The noise sigma must be a finite number >= 0; got {sigma!r}.")
        s = float(sigma)
        return NoiseEstimate(s, s, s, "given", bound=s)
    if quiet is not None:
        start, stop = (int(v) for v in quiet)
        start, stop = max(0, start), min(x.size, stop)
        if stop - start < 16:
            raise InputError(
                f"The quiet stretch needs at least 16 samples; got {max(0, stop - start)}. "
                "Select a longer stretch where the recording is flat."
            )
        seg = x[start:stop]
        # Differences cancel a slow trend; their MAD ignores a few spikes.
        s = float(np.median(np.abs(np.diff(seg) - np.median(np.diff(seg)))) / MAD / math.sqrt(2))
        rel = 1.2 / math.sqrt(stop - start)
        return NoiseEstimate(s, s * (1 - 2 * rel), s * (1 + 2 * rel), "from a quiet segment", bound=s)
    x, n_dead = live_samples(x)
    dead_note = (
        (
            f"{n_dead:,} samples in stretches of {DEAD_RUN} or more equal values (a sensor off, a held "
            "value) were left out of the noise estimate.",
        )
        if n_dead
        else ()
    )
    details, spectrum = _details(x), _periodogram(x)
    bound, rel = floor_and_spread(x, details, spectrum)
    if bound <= 0:
        return NoiseEstimate(0.0, 0.0, 0.0, "estimated", notes=("The recording has no measurable noise.",), bound=0.0)
    ev = _checks(x, bound, details, spectrum)
    factor, why = ev.factor, ev.why
    if factor >= 1.0:
        # identified. Even a clean floor may hold a little signal (up to 20 % above the noise on real
        # recordings with detail at the top, an ECG's QRS); one that is not clean, more (2.5x).
        low = bound * (1 - 2 * rel) / (1.2 if ev.clean_floor else 2.5)
        return NoiseEstimate(
            bound, low, bound * (1 + 2 * rel), "estimated", notes=dead_note, bound=bound, clean_floor=ev.clean_floor
        )
    return NoiseEstimate(
        factor * bound,
        0.1 * bound,
        bound,
        "estimated",
        True,
        (*dead_note, _bound_note(tuple(why), bound, factor * bound)),
        bound,
        tuple(why),
        False,
    )


def _bound_note(why: tuple[str, ...], bound: float, used: float) -> str:
    """Why the level is only bounded, with the bound and the level used, in the data's units."""
    return (
        f"The noise level could not be told apart from the signal: {'; '.join(_WHY[w] for w in why)}. "
        f"{bound:.3g} is only an upper bound of the noise, so a cautious {used:.3g} was used: the "
        "result may leave noise in place. Give sigma, or select a quiet stretch, for a full result."
    )
