"""Clean signal families and noise kinds.

(Families and noise kinds stay in one module: each is a registry record plus its generator, and
``training_pairs`` draws both with one seeded Generator; splitting them would split the seeding
rule that keeps every bundled model reproducible.)

Shape rule (stated once for the package): a raw signal is a 1-D float64 array of
any length; a batch of signals is (n_signals, length). Every random function
takes ``rng``: a ``numpy.random.Generator`` or an int seed, never global state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.signal import lfilter

from denoiser.errors import InputError

RngLike = np.random.Generator | int | None

#: The tutorial's grid: x = i * 0.01 for i in range(-50, 100) -> 150 points.
TUTORIAL_LENGTH = 150


def as_rng(rng: RngLike) -> np.random.Generator:
    """Return a Generator from a Generator or an int seed (``None`` -> seed 0, so runs repeat)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(0 if rng is None else int(rng))


def x_grid(length: int = TUTORIAL_LENGTH) -> np.ndarray:
    """The tutorial's x axis, stretched to ``length`` points.

    For ``length == 150`` this is exactly ``i * 0.01`` for ``i in range(-50, 100)``.

    Returns
    -------
    x : ndarray, shape (length,)
    """
    return np.arange(-50, -50 + length) * 0.01 if length == TUTORIAL_LENGTH else np.linspace(-0.5, 0.99, length)


# ---------------------------------------------------------------- clean families
# Each generator: (length, rng) -> clean signal of shape (length,). Amplitudes stay
# of order 1 so that noise sigmas mean the same thing across families.


def _x2(length: int, rng: np.random.Generator) -> np.ndarray:
    return x_grid(length) ** 2


def _parabola(length: int, rng: np.random.Generator) -> np.ndarray:
    # The benchmark's family: a*(x-b)^2 + c with the ranges.
    a, b, c = rng.uniform(0.5, 2.0), rng.uniform(-0.3, 0.5), rng.uniform(-0.2, 0.2)
    return a * (x_grid(length) - b) ** 2 + c


def _sines(length: int, rng: np.random.Generator) -> np.ndarray:
    # Frequencies are per sample (periods 16..400 samples), so a window of a
    # long signal looks like a window of a short one.
    t = np.arange(length)
    y = np.zeros(length)
    for _ in range(rng.integers(1, 4)):
        period = np.exp(rng.uniform(np.log(16), np.log(400)))
        y += rng.uniform(0.2, 1.0) * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    return y


def _chirp(length: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(length)
    f0, f1 = 1 / rng.uniform(150, 600), 1 / rng.uniform(12, 60)
    if rng.random() < 0.5:
        f0, f1 = f1, f0
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * max(length - 1, 1)))
    return rng.uniform(0.5, 1.0) * np.sin(phase + rng.uniform(0, 2 * np.pi))


def _square(length: int, rng: np.random.Generator) -> np.ndarray:
    # Piecewise-constant levels with segments 15..300 samples long: steps and square waves.
    if rng.random() < 0.5:
        period = rng.uniform(30, 300)
        return rng.uniform(0.3, 1.0) * np.sign(np.sin(2 * np.pi * np.arange(length) / period + rng.uniform(0, 6.28)))
    y = np.empty(length)
    i = 0
    while i < length:
        seg = int(rng.integers(15, 300))
        y[i : i + seg] = rng.uniform(-1, 1)
        i += seg
    return y


def _spikes(length: int, rng: np.random.Generator) -> np.ndarray:
    # Gaussian pulses 2..10 samples wide on a flat or gently sloping baseline.
    t = np.arange(length)
    y = rng.uniform(-0.2, 0.2) + rng.uniform(-0.2, 0.2) * t / max(length, 1)
    n_pulses = max(1, int(rng.poisson(length / 60)))
    for centre, width, amp in zip(
        rng.uniform(0, length, n_pulses),
        rng.uniform(2, 10, n_pulses),
        rng.uniform(0.3, 1.0, n_pulses) * rng.choice([-1, 1], n_pulses),
    ):
        y = y + amp * np.exp(-0.5 * ((t - centre) / width) ** 2)
    return y


def _smooth(length: int, rng: np.random.Generator) -> np.ndarray:
    # Band-limited random curve: white noise low-passed in the frequency domain,
    # with a random correlation length of 10..200 samples.
    # The correlation length is capped at a quarter of the signal: longer ones
    # leave almost nothing but the mean, and dividing by that tiny spread explodes.
    corr = rng.uniform(10, max(10.0, min(200.0, length / 4)))
    spec = np.fft.rfft(rng.standard_normal(length))
    spec[0] = 0.0
    freqs = np.fft.rfftfreq(length)
    y = np.fft.irfft(spec * np.exp(-0.5 * (freqs * corr * 2 * np.pi) ** 2), n=length)
    std = y.std()
    return y / std * rng.uniform(0.3, 1.0) if std > 1e-8 else np.zeros(length)


# ---------------------------------------------------------------- realistic families
# Clean signals that look like real recordings rather than textbook shapes: broadband,
# power-law spectra, bursts, quasi-periodic beats, jumps, slow trends under fast detail.
# A denoiser trained only on smooth shapes learns that everything near Nyquist is noise
# and deletes it from real broadband channels (EEG, accelerometers, ...).


def _unit_std(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Zero mean, standard deviation drawn in [0.3, 1], peaks within +-4 (a constant stays 0).

    Peaky signals (a single bump, beats) have peaks many stds high; capping the peak
    keeps every family of order 1 so that a noise sigma means the same everywhere.
    """
    y = y - y.mean()
    std, peak = y.std(), np.abs(y).max(initial=0.0)
    if std <= 1e-8:
        return np.zeros_like(y)
    return y * min(rng.uniform(0.3, 1.0) / std, 4.0 / peak)


def _powerlaw_noise(length: int, beta: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian 1/f^beta process (power spectrum ~ f^-beta), zero mean, not yet normalised."""
    spec = np.fft.rfft(rng.standard_normal(length))
    f = np.fft.rfftfreq(length)
    gain = np.zeros_like(f)
    gain[1:] = f[1:] ** (-beta / 2)
    return np.fft.irfft(spec * gain, n=length)


def _powerlaw(length: int, rng: np.random.Generator) -> np.ndarray:
    # 1/f^beta with beta in [0.5, 2.5]: from nearly white (broadband) to Brownian.
    return _unit_std(_powerlaw_noise(length, rng.uniform(0.5, 2.5), rng), rng)


def _ar(length: int, rng: np.random.Generator) -> np.ndarray:
    # AR(1) (red, phi 0.5..0.995) or a resonant AR(2) (pole radius 0.8..0.995 at a
    # period of 2.5..200 samples): the spectra of many mechanical and physiological channels.
    burn = 300
    e = rng.standard_normal(length + burn)
    if rng.random() < 0.4:
        a = [1.0, -rng.uniform(0.5, 0.995)]
    else:
        r, period = rng.uniform(0.8, 0.995), np.exp(rng.uniform(np.log(2.5), np.log(200)))
        a = [1.0, -2 * r * np.cos(2 * np.pi / period), r * r]
    return _unit_std(lfilter([1.0], a, e)[burn:], rng)


def _bursts(length: int, rng: np.random.Generator) -> np.ndarray:
    # Aperiodic 1/f background plus oscillation bursts (NeuroDSP-style): an oscillation at
    # a period of 6..80 samples switched on in bursts of a few cycles with smooth edges.
    t = np.arange(length)
    bg = _powerlaw_noise(length, rng.uniform(1.0, 2.0), rng)
    bg = bg / (bg.std() or 1.0)
    period = np.exp(rng.uniform(np.log(6), np.log(80)))
    envelope = np.zeros(length)
    i = int(rng.integers(0, max(1, int(4 * period))))
    while i < length:
        dur = int(period * rng.uniform(2, 8))
        seg = np.arange(i, min(length, i + dur))
        envelope[seg] = np.sin(np.pi * (seg - i + 0.5) / dur) ** 2 * rng.uniform(0.5, 1.5)
        i += dur + int(period * rng.uniform(1, 10))
    # Irregular phase (slow frequency wobble), as real rhythms drift.
    phase = 2 * np.pi * t / period + np.cumsum(rng.normal(0, 0.05, length))
    osc = envelope * np.sin(phase)
    return _unit_std(rng.uniform(0.2, 1.0) * bg + rng.uniform(1.0, 3.0) * osc, rng)


def _piecewise(length: int, rng: np.random.Generator) -> np.ndarray:
    # Donoho-Johnstone-like test signals: Blocks (jumps), Bumps (sharp peaks),
    # Doppler (a chirp slowing down) or piecewise polynomials with jumps.
    u = (np.arange(length) + 0.5) / length
    kind = rng.integers(4)
    if kind == 0:  # blocks
        y = np.zeros(length)
        for pos in rng.uniform(0, 1, int(rng.integers(3, 12))):
            y += rng.normal() * (1 + np.sign(u - pos)) / 2
    elif kind == 1:  # bumps
        y = np.zeros(length)
        for pos in rng.uniform(0, 1, int(rng.integers(3, 12))):
            width = np.exp(rng.uniform(np.log(0.002), np.log(0.03)))
            y += rng.uniform(0.3, 1.0) * (1 + np.abs((u - pos) / width)) ** -4
    elif kind == 2:  # doppler, shifted and stretched
        eps, s0 = rng.uniform(0.02, 0.2), rng.uniform(0.5, 3.0)
        v = u if rng.random() < 0.5 else 1 - u
        y = np.sqrt(v * (1 - v)) * np.sin(2 * np.pi * s0 * (1 + eps) / (v + eps))
    else:  # piecewise polynomial (degree <= 3) with jumps between pieces
        y = np.empty(length)
        cuts = np.sort(rng.integers(0, length, int(rng.integers(1, 6))))
        for a, b in zip([0, *cuts], [*cuts, length]):
            if b > a:
                v = np.linspace(-1, 1, b - a)
                y[a:b] = np.polyval(rng.normal(0, 1, int(rng.integers(1, 5))), v)
    return _unit_std(y, rng)


def _beats(length: int, rng: np.random.Generator) -> np.ndarray:
    # ECG/pulse-like: a beat template (P, QRS, T as Gaussians, widths relative to the
    # beat period) repeated at a rate that drifts slowly and jitters beat to beat.
    # One in five: a short period (3..20 samples), pulse trains near Nyquist such as
    # appliance power sampled a few times per cycle, which a smoother would wipe out.
    t = np.arange(length, dtype=np.float64)
    lo, hi = (3, 20) if rng.random() < 0.2 else (20, 300)
    period = np.exp(rng.uniform(np.log(lo), np.log(hi)))
    waves = [  # (offset in periods, width in periods, amplitude)
        (-0.2, rng.uniform(0.02, 0.05), rng.uniform(0.05, 0.2)),
        (-0.02, rng.uniform(0.006, 0.015), -rng.uniform(0.0, 0.2)),
        (0.0, rng.uniform(0.008, 0.03), 1.0),
        (0.02, rng.uniform(0.006, 0.015), -rng.uniform(0.0, 0.3)),
        (0.3, rng.uniform(0.04, 0.08), rng.uniform(0.1, 0.4)),
    ]
    if rng.random() < 0.3:  # a pulse-wave shape instead: one broad asymmetric bump
        waves = [(0.0, rng.uniform(0.05, 0.15), 1.0), (0.25, rng.uniform(0.05, 0.15), rng.uniform(0.2, 0.6))]
    y = np.zeros(length)
    drift_period = rng.uniform(5, 30) * period
    c = -rng.uniform(0, period)
    while c < length + period:
        p = period * (1 + 0.1 * np.sin(2 * np.pi * c / drift_period)) * (1 + rng.normal(0, 0.03))
        gain = 1 + rng.normal(0, 0.05)
        for off, width, amp in waves:
            w = max(width * p, 0.7)  # at least ~1 sample wide
            lo, hi = int(max(0, c + off * p - 5 * w)), int(min(length, c + off * p + 5 * w + 1))
            if hi > lo:
                y[lo:hi] += gain * amp * np.exp(-0.5 * ((t[lo:hi] - c - off * p) / w) ** 2)
        c += max(p, 2.0)
    return _unit_std(y, rng)


def _trend_detail(length: int, rng: np.random.Generator) -> np.ndarray:
    # A slow trend (a low-order polynomial or a very smooth curve) with small fast
    # detail on top (white-ish power law or a resonant AR): e.g. temperature with
    # weather, a drifting baseline under vibration.
    u = np.linspace(-1, 1, length)
    if rng.random() < 0.5:
        trend = np.polyval(rng.normal(0, 1, int(rng.integers(2, 5))), u)
    else:
        trend = _smooth(length, rng)
    trend = trend - trend.mean()
    trend = trend / (trend.std() or 1.0)
    detail = _powerlaw_noise(length, rng.uniform(0.0, 1.0), rng) if rng.random() < 0.5 else _ar(length, rng)
    detail = detail / (detail.std() or 1.0)
    return _unit_std(trend + np.exp(rng.uniform(np.log(0.03), np.log(0.5))) * detail, rng)


FAMILIES: dict[str, Callable[[int, np.random.Generator], np.ndarray]] = {
    "x2": _x2,
    "parabola": _parabola,
    "sines": _sines,
    "chirp": _chirp,
    "square": _square,
    "spikes": _spikes,
    "smooth": _smooth,
    "powerlaw": _powerlaw,
    "ar": _ar,
    "bursts": _bursts,
    "piecewise": _piecewise,
    "beats": _beats,
    "trend": _trend_detail,
}
#: What "mixed" draws from: every family that is not a parabola.
MIXED = ("sines", "chirp", "square", "spikes", "smooth")
#: What "realistic" draws from, in equal parts: families that look like real recordings.
REALISTIC = ("powerlaw", "ar", "bursts", "piecewise", "beats", "trend")
#: Named mixes: a name that stands for drawing one of several families per signal.
MIXES = {"mixed": MIXED, "realistic": REALISTIC}

FAMILY_LABELS = {
    "x2": "x² (the tutorial's curve)",
    "parabola": "Parabolas a·(x−b)²+c",
    "sines": "Sums of sines",
    "chirp": "Chirp",
    "square": "Steps / square wave",
    "spikes": "Spikes / pulses",
    "smooth": "Smooth random curve",
    "powerlaw": "Power law 1/f^β (β 0.5–2.5)",
    "ar": "Autoregressive (red or resonant)",
    "bursts": "1/f background + oscillation bursts",
    "piecewise": "Piecewise smooth with jumps (Blocks/Bumps/Doppler)",
    "beats": "Quasi-periodic beats (ECG / pulse-like)",
    "trend": "Slow trend under fast detail",
    "mixed": "Mixed (a random family per signal)",
    "realistic": "Realistic mix (a random real-looking family per signal)",
}


def _check_length(length: int) -> int:
    if int(length) < 2:
        raise InputError(f"A signal needs at least 2 samples; got length={length}.")
    return int(length)


def make_signal(family: str | tuple[str, ...] = "x2", length: int = TUTORIAL_LENGTH, rng: RngLike = None) -> np.ndarray:
    """One clean signal of a family.

    Parameters
    ----------
    family : one of ``FAMILIES``, ``"mixed"`` (a random family of ``MIXED``),
        ``"realistic"`` (a random family of ``REALISTIC``), or a tuple of family
        names (mix names allowed) to draw one from at random
    length : number of samples
    rng : Generator or int seed

    Returns
    -------
    clean : ndarray, shape (length,), float64
    """
    rng = as_rng(rng)
    length = _check_length(length)
    if isinstance(family, str) and family in MIXES:
        family = MIXES[family]
    if isinstance(family, (tuple, list)):
        if not len(family):
            raise InputError("An empty tuple of signal families was given; name at least one family.")
        family = family[rng.integers(len(family))]
        if isinstance(family, str) and family in MIXES:  # a mix inside a tuple: draw within it
            family = MIXES[family][rng.integers(len(MIXES[family]))]
    if family not in FAMILIES:
        raise InputError(f"Unknown signal family {family!r}; choose one of {', '.join([*FAMILIES, *MIXES])}.")
    return FAMILIES[family](length, rng).astype(np.float64)


def make_signals(
    family: str | tuple[str, ...], n_signals: int, length: int = TUTORIAL_LENGTH, rng: RngLike = None
) -> np.ndarray:
    """A batch of clean signals, shape (n_signals, length)."""
    rng = as_rng(rng)
    return np.stack([make_signal(family, length, rng) for _ in range(int(n_signals))])


# ---------------------------------------------------------------- noise
# Each kind: (shape, rng, **its parameters) -> noise of (expected) standard deviation 1 along
# the last axis. A parameter may arrive as an array of shape (n_signals, 1): one value per
# signal (training_pairs draws them from a range), so the functions broadcast.


def _gaussian(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(shape)


def _uniform(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(-np.sqrt(3), np.sqrt(3), shape)  # var of U(-a, a) is a^2/3


def _impulse(shape: tuple[int, ...], rng: np.random.Generator, rate: float | np.ndarray) -> np.ndarray:
    hit = rng.random(shape) < rate
    # Spikes of height 1/sqrt(rate) give unit variance on average.
    return hit * rng.choice([-1.0, 1.0], shape) / np.sqrt(rate)


def _spectral(
    shape: tuple[int, ...], rng: np.random.Generator, gain: Callable[[np.ndarray, int], np.ndarray]
) -> np.ndarray:
    """White noise shaped by ``gain(f, n)`` in the frequency domain, then scaled to RMS 1."""
    n = shape[-1]
    spec = np.fft.rfft(rng.standard_normal(shape), axis=-1)
    f = np.fft.rfftfreq(n)
    f[0] = f[1] if n > 1 else 1.0
    out = np.fft.irfft(spec * gain(f, n), n=n, axis=-1)
    # RMS, not std: a slow offset is part of drift and counts towards its level.
    rms = np.sqrt(np.mean(out**2, axis=-1, keepdims=True))
    return np.divide(out, rms, out=np.zeros_like(out), where=rms > 0)


def _pink(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    return _spectral(shape, rng, lambda f, n: 1 / np.sqrt(f))  # power ~ 1/f


def _drift_gain(f: np.ndarray, n: int) -> np.ndarray:
    gain = np.where(f * n <= 3, 1.0, 0.0)  # only the slowest 3 cycles per signal
    gain[..., 0] = 1.0
    return gain


def _drift(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    return _spectral(shape, rng, _drift_gain)


@dataclass(frozen=True)
class NoiseParam:
    """A parameter of one noise kind: a keyword of add_noise / make_noise / training_pairs.

    Valid values are ``lo < value <= hi``; ``ui`` is (min, max, step) for the app's slider
    and the range a shared link may carry. ``log``: training_pairs draws a ``(lo, hi)``
    range log-uniformly per signal (else uniformly).
    """

    name: str
    label: str
    default: float
    lo: float
    hi: float
    ui: tuple[float, float, float]
    help: str = ""
    log: bool = True

    def check(self, value: Any) -> float:
        """``value`` as a float, or InputError when it is not a number in (lo, hi]."""
        ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
        if not ok or not self.lo < value <= self.hi:
            raise InputError(f"{self.label} must be in ({self.lo:g}, {self.hi:g}]; got {value}.")
        return float(value)

    def check_range(self, value: Any) -> tuple[float, float]:
        """A ``(lo, hi)`` range of values, or InputError."""
        try:
            lo, hi = (float(v) for v in value)
        except (TypeError, ValueError):
            lo = hi = float("nan")
        if not self.lo < lo <= hi <= self.hi:
            raise InputError(f"{self.label} range must satisfy {self.lo:g} < lo <= hi <= {self.hi:g}; got {value}.")
        return lo, hi

    def draw(self, value: tuple[float, float], n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` values drawn from the range ``value``, shape (n, 1) (one per signal)."""
        lo, hi = self.check_range(value)
        draws = np.exp(rng.uniform(np.log(lo), np.log(hi), n)) if self.log else rng.uniform(lo, hi, n)
        return draws[:, None]


@dataclass(frozen=True)
class NoiseKind:
    """One noise kind: everything the package, the CLI and the app know about it.

    ``unit(shape, rng, **params)`` makes noise of (expected) standard deviation 1 along the last
    axis; ``params`` are its own parameters (rendered by the app and the CLI from these records).
    ``white``: independent, light-tailed samples, so the sigma the app added is the automatic
    pipeline's noise level. ``note``: a caption the Generate page shows for it ("" for none).
    """

    name: str
    label: str
    unit: Callable[..., np.ndarray]
    params: tuple[NoiseParam, ...] = ()
    white: bool = False
    note: str = ""


#: The noise kinds by name, in the order they are offered. Add a kind here (see CONTRIBUTING.md).
NOISES: dict[str, NoiseKind] = {
    "gaussian": NoiseKind("gaussian", "Gaussian (white)", _gaussian, white=True),
    "uniform": NoiseKind("uniform", "Uniform (white)", _uniform, white=True),
    "impulse": NoiseKind(
        "impulse",
        "Impulse (salt-and-pepper spikes)",
        _impulse,
        params=(
            NoiseParam(
                "rate", "Impulse rate", 0.05, 0.0, 1.0, ui=(0.01, 0.5, 0.01), help="Fraction of samples hit by a spike."
            ),
        ),
    ),
    "pink": NoiseKind("pink", "Pink (1/f)", _pink),
    "drift": NoiseKind(
        "drift",
        "Baseline drift",
        _drift,
        note=(
            "Drift is slow wander, and slow is what a signal looks like: neither the network nor the "
            "filters remove it (they take away what changes faster than the signal). Subtract a fitted "
            "trend or a baseline first if the drift must go."
        ),
    ),
}
# Older names: the built-in kinds (a snapshot; the registry is NOISES) and their labels.
NOISE_KINDS = tuple(NOISES)
NOISE_LABELS = {name: kind.label for name, kind in NOISES.items()}


def noise_params() -> dict[str, NoiseParam]:
    """Every parameter of every noise kind, by name (kinds that share a name share one keyword)."""
    out: dict[str, NoiseParam] = {}
    for kind in NOISES.values():
        for p in kind.params:
            out.setdefault(p.name, p)
    return out


def noise_sigma(clean: np.ndarray, *, sigma: float | None = None, snr_db: float | None = None) -> float:
    """The noise standard deviation asked for, given as ``sigma`` or as ``snr_db``.

    SNR is ``10 log10(mean(clean**2) / sigma**2)``, the same definition as
    :func:`denoiser.metrics.snr_db`.
    """
    if (sigma is None) == (snr_db is None):
        raise InputError("Give the noise level either as sigma or as SNR in dB, not both or neither.")
    if sigma is not None:
        if not np.isfinite(sigma) or sigma < 0:
            raise InputError(f"Noise sigma must be a finite number >= 0; got {sigma}.")
        return float(sigma)
    power = float(np.mean(np.square(clean))) if np.size(clean) else 0.0
    assert snr_db is not None  # one of the two is given (checked above)
    if not np.isfinite(snr_db):
        raise InputError(f"SNR must be a finite number of dB; got {snr_db}.")
    return float(np.sqrt(power / 10 ** (snr_db / 10)))


def noise_kind(kind: str) -> NoiseKind:
    """The record of a noise kind, or InputError naming the choices."""
    spec = NOISES.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise InputError(f"Unknown noise kind {kind!r}; choose one of {', '.join(NOISES)}.")
    return spec


def _kind_values(kind: str, given: dict[str, Any]) -> tuple[NoiseKind, dict[str, Any]]:
    """The kind's record and its parameters' values: given ones (unchecked), else defaults.

    Parameters of other kinds are ignored (``rate`` is always passed); a name that no
    kind has is a mistake worth a message.
    """
    spec = noise_kind(kind)
    unknown = set(given) - set(noise_params())
    if unknown:
        raise InputError(
            f"Unknown noise parameter {', '.join(sorted(unknown))}; noise kinds take "
            f"{', '.join(noise_params()) or 'none'}."
        )
    return spec, {p.name: given.get(p.name, p.default) for p in spec.params}


def _unit_noise(kind: str, shape: tuple[int, ...], rng: np.random.Generator, params: dict[str, object]) -> np.ndarray:
    """Noise of one kind with (expected) standard deviation 1 along the last axis."""
    spec, values = _kind_values(kind, params)
    checked = {p.name: p.check(values[p.name]) for p in spec.params}
    return spec.unit(shape, rng, **checked)


def make_noise(
    shape: int | tuple[int, ...],
    kind: str = "gaussian",
    sigma: float = 0.05,
    rng: RngLike = None,
    *,
    rate: float = 0.05,
    **params: float,
) -> np.ndarray:
    """Noise of a kind scaled to standard deviation ``sigma``.

    Parameters
    ----------
    shape : length, or (n_signals, length)
    kind : a name in ``NOISES``
    sigma : standard deviation (exact RMS per signal for pink and drift, expected for the others)
    rate : fraction of samples hit, for impulse noise
    **params : parameters of other kinds (``NOISES[kind].params``); those of other kinds are ignored

    Returns
    -------
    noise : ndarray of ``shape``
    """
    dims = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return sigma * _unit_noise(kind, dims, as_rng(rng), {"rate": rate, **params})


def add_noise(
    clean: np.ndarray,
    kind: str = "gaussian",
    *,
    sigma: float | None = None,
    snr_db: float | None = None,
    rng: RngLike = None,
    rate: float = 0.05,
    **params: float,
) -> np.ndarray:
    """Add noise of a kind and level to a clean signal.

    Parameters
    ----------
    clean : ndarray, shape (length,) or (n_signals, length)
    kind : a name in ``NOISES``
    sigma, snr_db : the level, exactly one of them (SNR is per signal)
    rng : Generator or int seed
    rate : fraction of samples hit, for impulse noise
    **params : parameters of other kinds (``NOISES[kind].params``); those of other kinds are ignored

    Returns
    -------
    noisy : ndarray, same shape as ``clean``
    """
    clean = np.asarray(clean, dtype=np.float64)
    rng = as_rng(rng)
    sig: Any
    if snr_db is not None and clean.ndim == 2:
        sig = np.array([noise_sigma(row, snr_db=snr_db) for row in clean])[:, None]
    else:
        sig = noise_sigma(clean, sigma=sigma, snr_db=snr_db)
    return clean + sig * _unit_noise(kind, clean.shape, rng, {"rate": rate, **params})


def tutorial_dataset(
    n_samples: int = 100_000, sigma: float = 0.05, rng: RngLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's data: ``n_samples`` copies of x² with Gaussian noise.

    Returns
    -------
    noisy, clean : ndarrays, shape (n_samples, 150)
    """
    clean = np.broadcast_to(x_grid() ** 2, (int(n_samples), TUTORIAL_LENGTH)).copy()
    return add_noise(clean, "gaussian", sigma=sigma, rng=rng), clean


def training_pairs(
    family: str | tuple[str, ...] = "mixed",
    n_signals: int = 2000,
    length: int = 256,
    noise: tuple[str, ...] | str = "gaussian",
    sigma: tuple[float, float] | float = (0.02, 0.3),
    rng: RngLike = None,
    *,
    rate: tuple[float, float] | float = 0.05,
    **params: tuple[float, float] | float,
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy/clean pairs for training a blind denoiser.

    Each signal gets a random family (for ``"mixed"``), a random noise kind from
    ``noise`` and a noise sigma drawn log-uniformly from the ``sigma`` range, so the
    network must estimate the noise level itself, as it must on real data.
    ``rate`` (impulse noise), and any other kind's parameter in ``params``: one value for
    all signals, or a ``(lo, hi)`` range drawn per signal (log-uniformly unless the
    parameter says otherwise), so e.g. sparse and dense spikes are both seen.

    Returns
    -------
    noisy, clean : ndarrays, shape (n_signals, length)
    """
    rng = as_rng(rng)
    kinds = (noise,) if isinstance(noise, str) else tuple(noise)
    lo, hi = (float(sigma), float(sigma)) if isinstance(sigma, (int, float, np.number)) else map(float, sigma)
    clean = make_signals(family, n_signals, length, rng)
    sigmas = np.exp(rng.uniform(np.log(lo), np.log(hi), n_signals)) if lo > 0 else rng.uniform(lo, hi, n_signals)
    which = rng.integers(len(kinds), size=n_signals)
    noisy = clean.copy()
    for k, kind in enumerate(kinds):
        rows = np.flatnonzero(which == k)
        if not rows.size:
            continue
        spec, values = _kind_values(kind, {"rate": rate, **params})
        # A range is drawn per signal (before the noise itself, so seeded runs repeat).
        drawn = {
            p.name: p.draw(values[p.name], rows.size, rng)
            if not np.isscalar(values[p.name])
            else p.check(values[p.name])
            for p in spec.params
        }
        noisy[rows] += sigmas[rows, None] * spec.unit((rows.size, length), rng, **drawn)
    return noisy, clean
