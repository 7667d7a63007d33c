"""The automatic pipeline: denoise a recording with no clean reference, and never do harm.

1. impulses are removed where the evidence says they are noise (:mod:`denoiser.auto.impulses`);
2. the noise level is given, measured on a quiet stretch, or found in the data; when the data
   cannot show it, a cautious part of its upper bound is used and the result says so
   (:mod:`denoiser.auto.noise`);
3. every candidate (:mod:`denoiser.auto.candidates`: the network, wavelet shrinkage,
   Savitzky-Golay at several widths) is weighed against the input with SURE, per region
   (:mod:`denoiser.auto.risk`);
4. the result reports its estimated MSE and gain with a band that covers a wrong noise level
   too, whether it can be trusted, and what was applied in plain words
   (:mod:`denoiser.auto.result`).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from denoiser.auto import risk
from denoiser.auto.candidates import Context, offered
from denoiser.auto.impulses import despike
from denoiser.auto.noise import estimate_noise
from denoiser.auto.result import DenoiseResult, MethodPart, compact_method
from denoiser.errors import InputError
from denoiser.signals import RngLike, as_rng
from denoiser.windows import bridge_gaps

MIN_LENGTH = 64  # shorter series: nothing reliable can be said, returned as is
TRUSTED_WIDTH = 3.0  # dB: a trusted estimate's band (10-90 %) is at most this wide: "within 1.5 dB" either way
SHORT_RECORDING = 10_000  # samples: below this SURE's own scatter alone widens the band by decibels
HIGH_GAIN_DB = 15.0  # above this the error left is small next to the noise: its estimate is loose


def denoise(
    x: np.ndarray,
    *,
    sigma: float | None = None,
    quiet: tuple[int, int] | None = None,
    model: Any = None,
    rng: RngLike = 0,
) -> DenoiseResult:
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
    k = _safe_scale(y[~bad] if bad.any() else y)
    if k == 1.0:
        return _denoise(y, bad, sigma, quiet, model, rng)
    # Squares of values beyond 1e150 overflow and of values below 1e-150 vanish: work on the data
    # times a power of two (exact both ways) and give every figure back in the data's units.
    res = _denoise(y * k, bad, None if sigma is None else sigma * k, quiet, model, rng, unit=1 / k)
    parts = tuple(replace(p, params={n: v / k if n == "sigma" else v for n, v in p.params.items()}) for p in res.parts)
    return replace(
        res,
        denoised=res.denoised / k,
        sigma=res.sigma / k,
        estimated_mse=res.estimated_mse / k / k,
        sigma_bound=res.sigma_bound / k,
        parts=parts,
    )


def _safe_scale(finite: np.ndarray) -> float:
    """A power of two that brings the largest magnitude near 1 when it is beyond 1e±100, else 1."""
    top = max(-float(np.min(finite)), float(np.max(finite)))  # no |x| array: a million samples cost 1 ms
    if top == 0.0 or 1e-100 <= top <= 1e100:
        return 1.0
    return math.ldexp(1.0, -math.frexp(top)[1])


def _denoise(
    y: np.ndarray,
    bad: np.ndarray,
    sigma: float | None,
    quiet: tuple[int, int] | None,
    model: Any,
    rng: np.random.Generator,
    unit: float = 1.0,
) -> DenoiseResult:
    """:func:`denoise` on values of a safe size; ``unit`` converts them back for the notes."""
    v = bridge_gaps(y)

    # 1. impulses: replaced by the local median before anything else sees them
    despiked, spikes = despike(v)
    n_spikes = int(spikes.sum())
    notes: list[str] = []
    impulse_power = float(np.sum((v - despiked) ** 2)) / v.size
    if n_spikes:
        notes.append(
            f"{n_spikes:,} isolated spike{'s' if n_spikes != 1 else ''} "
            f"({100 * n_spikes / v.size:.1f} % of samples) replaced by the median of their neighbours."
        )

    # 2. noise level
    est = estimate_noise(despiked, sigma=sigma, quiet=quiet)
    notes.extend(est.in_units(unit).notes)
    s = est.sigma
    if model is None:
        from denoiser.bundled import default_model

        model = default_model()
    elif model is False:
        model = None

    # 3. candidates, their divergences, SURE-LET weights per region
    cands = offered(Context(despiked, s, model)) if s > 0 else []
    if cands:
        # (n, k) matrices filled column by column: a long recording holds several of them
        r, d = (np.empty((v.size, len(cands)), order="F") for _ in range(2))  # columns contiguous
        for j, c in enumerate(cands):
            if c.apply_div is not None:
                out_j, d[:, j] = c.apply_div(despiked)
            else:
                out_j = c.apply(despiked)
                d[:, j] = risk.divergence(c, despiked, out_j, s, rng)
            np.subtract(out_j, despiked, out=r[:, j])
        parts_ = risk.regions(v.size)
        d = risk.fill_unprobed(d, parts_)
        wr = np.stack([risk.region_weights(r[reg], 1.0 - d[reg].mean(axis=0), s * s) for reg in parts_])
        applied, applied_c, w_mean = risk.apply_weights(r, d, wr, parts_)
        out = despiked + applied
        applied_p = float(applied @ applied) / applied.size
        mean_w = dict(zip([c.name for c in cands], w_mean.round(3).tolist()))
    else:
        out, applied_c, applied_p, mean_w = despiked.copy(), 0.0, 0.0, {}

    # the impulse part: replacement error, measured where the median replaces clean samples
    impulse_mse = 0.0
    if n_spikes:
        from scipy.ndimage import median_filter

        med = median_filter(despiked, size=3, mode="nearest")
        probe = ~spikes
        impulse_mse = max(0.0, float(np.mean((med[probe] - despiked[probe]) ** 2)) - 2 / 3 * s * s) * n_spikes / v.size
    est_mse, gain, white_band = _estimate(
        applied_p, applied_c, s, est.low, est.high, v.size, impulse_power, impulse_mse, bool(cands)
    )
    band = white_band
    if est.source == "estimated" and s > 0:
        band = (min(band[0], _hidden_noise_gain(s, est_mse, impulse_power)), band[1])
    white = risk.whiteness(v - out)

    identifiable = not est.upper_bound
    # Trusted: the honest band (a wrong floor, hidden coloured noise and SURE's scatter allowed for)
    # is narrow. Never for "kept as is": that the input was kept is nothing to rely on.
    trusted = (
        identifiable
        and band[1] - band[0] <= TRUSTED_WIDTH
        and any(c.name in mean_w and mean_w[c.name] >= 0.02 for c in cands)
    )
    if identifiable and not est.clean_floor:
        notes.append(
            "The noise floor is not plain white noise (its top octave is uneven, or its values have "
            "heavier tails than noise): part of it may be signal, or coloured noise may lie below it, "
            f"so the gain could be anywhere from {band[0]:+.1f} to {band[1]:+.1f} dB."
        )
    elif identifiable and white_band[1] - white_band[0] > TRUSTED_WIDTH:
        notes.append(
            f"The estimate is uncertain ({_why_uncertain(v.size, gain, est.low, est.high)}): the gain "
            f"could be anywhere from {band[0]:+.1f} to {band[1]:+.1f} dB."
        )
    if n_spikes:
        trusted = False
        notes.append(
            "With impulse noise the estimate covers only the spikes that were found; smaller ones are "
            "left in place and not counted."
        )
    if white < 0.5 and gain > 0.5:
        trusted = False
        notes.append(
            "What was removed is not like stationary noise: it comes in bursts where the signal changes, "
            "so some signal may have been removed with it."
        )
    if est.source == "estimated" and identifiable:
        notes.append(
            "The noise level was read off the recording's noise floor, assuming white noise. Coloured "
            "noise (a slow drift, 1/f) looks like signal and is left in place; the low end of the range "
            f"({band[0]:+.1f} dB) is the gain if as much of it hides under the floor. The other way round, "
            "a signal whose own detail reaches the highest frequency as evenly as noise (a rough 1/f or "
            "random-walk-like process, a series sampled with no anti-aliasing filter) has no floor to find: "
            "its detail is taken for noise and removed. Give sigma if it is known."
        )

    parts = _parts(cands, mean_w, n_spikes, v.size)
    method = compact_method(parts, n_spikes)
    if method.startswith("none"):
        notes.append("No filter was expected to improve this recording, so it was kept as is.")
    final = np.where(bad, np.nan, out) if bad.any() else out
    return DenoiseResult(
        final,
        s,
        est.source,
        est.upper_bound,
        est_mse,
        gain,
        band,
        trusted,
        method,
        tuple(notes),
        white,
        n_spikes,
        mean_w,
        parts,
        est.bound,
        identifiable,
        "" if identifiable else "too little",
    )


def _why_uncertain(n: int, gain: float, lo_s: float, hi_s: float) -> str:
    """Why a band is wide, in words, naming only the reasons that apply (a million samples are not short)."""
    reasons = []
    if n < SHORT_RECORDING:
        reasons.append(f"a short recording, {n:,} samples")
    if gain >= HIGH_GAIN_DB:
        reasons.append(
            f"a high gain, {gain:+.0f} dB: the error left is small next to the noise, so it is estimated loosely"
        )
    if hi_s > lo_s * 1.05 or not reasons:
        reasons.append("the noise level is known within a range only")
    return "; ".join(reasons)


def _estimate(
    applied_p: float,
    applied_c: float,
    s: float,
    lo_s: float,
    hi_s: float,
    n: int,
    impulse_power: float,
    impulse_mse: float,
    applied: bool,
) -> tuple[float, float, tuple[float, float]]:
    """Estimated MSE, gain and its band from SURE of the applied blend, over the plausible noise levels.

    SURE scatters around the true MSE by ~sqrt(2/N) sigma^2 (the realised noise power); the MSE
    cannot be negative, so the mean and quantiles of the MSE given SURE are reported. The band is
    the range of the 10-90 % quantiles over every noise level from ``lo_s`` to ``hi_s``: when the
    level is only bounded, the band says how far off the figure may be.
    """
    noise_power = s * s + impulse_power
    if not applied or s <= 0:
        g = risk.gain_db(noise_power, impulse_mse) if noise_power > 0 else 0.0
        return impulse_mse, g, (g, g)
    gains = []
    for sig in np.geomspace(max(lo_s, 1e-300), max(hi_s, 1e-300), 7) if hi_s > lo_s else (s,):
        sure_sig = applied_p - sig * sig + 2 * sig * sig * (1 - applied_c)
        mid, lo_m, hi_m = risk.posterior_mse(sure_sig, math.sqrt(2.0 / n) * sig * sig)
        npow = sig * sig + impulse_power
        gains.append([risk.gain_db(npow, m + impulse_mse) for m in (mid, lo_m, hi_m)])
    sure = applied_p - s * s + 2 * s * s * (1 - applied_c)
    est_mse = risk.posterior_mse(sure, math.sqrt(2.0 / n) * s * s)[0] + impulse_mse
    band = (min(g[2] for g in gains), max(g[1] for g in gains))
    return est_mse, risk.gain_db(noise_power, est_mse), band


HIDDEN_COLOURED = 2.0  # coloured noise under the floor a band allows for, in units of the white noise power
MISSED_SPIKES = 0.2  # share of the removed spikes' energy a band allows to have been signal or missed


def _hidden_noise_gain(s: float, mse: float, impulse_power: float) -> float:
    """The gain if noise hides where the data cannot show it.

    Coloured noise (a slow drift, 1/f) looks like signal: it lies under the white floor that was
    found, no filter removes it, and it adds to the true noise power and to the error alike;
    spikes too small to find, or signal taken for spikes, add to the error. A noise level found in
    the data cannot rule either out, so the band's low end allows for them (coloured noise twice
    the white power; a fifth of the removed spikes' energy).
    """
    hidden = HIDDEN_COLOURED * s * s
    noise = s * s + impulse_power + hidden
    return risk.gain_db(noise, mse + hidden + MISSED_SPIKES * impulse_power) if noise > 0 else 0.0


def _parts(cands: list, mean_w: dict[str, float], n_spikes: int, n: int) -> tuple[MethodPart, ...]:
    """The applied blend as structured parts, largest share first; the input's share last."""
    parts = [
        MethodPart(c.name, c.kind, c.label, float(mean_w[c.name]), dict(c.params))
        for c in cands
        if mean_w.get(c.name, 0.0) > 0
    ]
    parts.sort(key=lambda p: -p.weight)
    rest = max(0.0, 1.0 - sum(mean_w.values()))
    parts.append(MethodPart("input", "input", "the input kept", rest))
    if n_spikes:
        parts.insert(
            0,
            MethodPart(
                "despike",
                "despike",
                "spikes replaced by the median of their neighbours",
                n_spikes / n,
                {"samples": n_spikes},
            ),
        )
    return tuple(parts)


def _kept(y: np.ndarray, note: str) -> DenoiseResult:
    return DenoiseResult(
        y.copy(),
        float("nan"),
        "estimated",
        False,
        float("nan"),
        0.0,
        (0.0, 0.0),
        False,
        "none (kept as is)",
        (note,),
        parts=(MethodPart("input", "input", "the input kept", 1.0),),
        identifiable=False,
    )
