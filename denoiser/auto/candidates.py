"""The candidates the automatic pipeline weighs against the input: one record per kind.

A candidate is a denoiser of the (bridged, despiked) recording. The pipeline runs every candidate
a kind offers for the recording at hand, estimates each one's risk with SURE (exact divergence
for linear smoothers, a Monte-Carlo probe otherwise) and blends them with the input.

Adding a kind is one :class:`CandidateKind` record in :data:`KINDS` (see CONTRIBUTING.md,
"Adding a candidate to the automatic mode").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from scipy.signal import savgol_coeffs, savgol_filter

from denoiser.classical import bayes_shrink, cycle_spin

SG_WIDTHS = (5, 9, 17, 33, 65)  # Savitzky-Golay candidates (order 2); SURE picks among them
SG_ORDER = 2
WHOLE_FIT_MAX = 2048  # up to this length, a quadratic over the whole series is a candidate too
SPINS = 8  # wavelet shrinkage averaged over this many shifts (+0.2 dB on real series) ...
FEW_SPINS_FROM = 131_072  # ... up to this length (each shift is a full pass; the network weighs most there)

Denoise = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Context:
    """What a kind may look at to decide what to offer: the recording, the noise level, the network."""

    x: np.ndarray  # bridged, despiked series, shape (length,)
    sigma: float  # noise std used
    model: Any  # a fitted Denoiser, or None (classical candidates only)


@dataclass(frozen=True)
class Candidate:
    """One denoiser the pipeline tries.

    Attributes
    ----------
    name : unique and stable ("savgol 33"): the key of ``DenoiseResult.weights``
    kind : the kind's name ("savgol")
    label : plain words ("Savitzky-Golay, 33 samples wide, order 2")
    apply : the denoiser, ndarray (length,) -> ndarray (length,); for the network also (k, length)
    divergence : exact per-sample divergence d f_i / d x_i for a linear smoother, else None
        (estimated with a Monte-Carlo probe)
    probe_eps : the probe's step, in units of sigma
    apply_div : the denoiser returning its divergence per sample too, where that comes cheaper
        than a probe (then ``divergence`` is None and no probe runs)
    costly : runs the network (probed on a sample of a long recording, not all of it)
    params : the kind's parameters
    """

    name: str
    kind: str
    label: str
    apply: Denoise
    divergence: float | None = None
    probe_eps: float = 1e-3
    costly: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    apply_div: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None


@dataclass(frozen=True)
class CandidateKind:
    """A family of candidates: what it offers for a recording, and how each is built."""

    name: str
    offer: Callable[[Context], list[Candidate]]
    doc: str = ""


def _network(ctx: Context) -> list[Candidate]:
    if ctx.model is None:
        return []
    model = ctx.model
    # 3/4-window hops: half the cost of the default half-window hop, -0.05 dB
    hop = max(1, 3 * model.config.window // 4)
    # (a self-supervised network uses each sample too: see Denoiser.denoise's ``invariant``)
    return [
        Candidate(
            "network",
            "network",
            "the neural network",
            lambda v: model.denoise(v, hop=hop, invariant=False),
            probe_eps=1e-2,
            costly=True,
            params={"window": model.config.window},
        )
    ]


def _wavelet(ctx: Context) -> list[Candidate]:
    sigma = ctx.sigma
    if ctx.x.size >= FEW_SPINS_FROM:
        # a long recording: one pass, its divergence counted from the kept coefficients (no probe pass)
        return [
            Candidate(
                "wavelet",
                "wavelet",
                "wavelet shrinkage (BayesShrink, sym8)",
                lambda v: bayes_shrink(v, sigma),
                params={"wavelet": "sym8", "sigma": sigma, "shifts": 1},
                apply_div=lambda v: bayes_shrink(v, sigma, divergence=True),
            )
        ]
    return [
        Candidate(
            "wavelet",
            "wavelet",
            f"wavelet shrinkage (BayesShrink, sym8, {SPINS} shifts averaged)",
            lambda v: cycle_spin(lambda u: bayes_shrink(u, sigma), v, SPINS),
            params={"wavelet": "sym8", "sigma": sigma, "shifts": SPINS},
        )
    ]


def _savgol(ctx: Context) -> list[Candidate]:
    n = ctx.x.size
    widths = [w for w in SG_WIDTHS if w < n]
    if n <= WHOLE_FIT_MAX:
        # A short series may be one smooth shape (a trend, a parabola): a quadratic over all of it.
        widths.append(n - 1 + n % 2)
    out = []
    for width in dict.fromkeys(widths):
        if width <= SG_ORDER + 1:
            continue
        centre = float(savgol_coeffs(width, SG_ORDER)[width // 2])
        whole = width >= n - 1
        label = (
            f"a quadratic fitted to the whole series ({width} samples)"
            if whole
            else f"Savitzky-Golay, {width} samples wide, order {SG_ORDER}"
        )
        out.append(
            Candidate(
                f"savgol {width}",
                "savgol",
                label,
                partial(savgol_filter, window_length=width, polyorder=SG_ORDER, mode="interp"),
                divergence=centre,
                params={"width": width, "order": SG_ORDER},
            )
        )
    return out


#: The candidate kinds, in the order they are tried. One record adds a kind everywhere.
KINDS: dict[str, CandidateKind] = {
    "network": CandidateKind("network", _network, "the fitted (or bundled) network, window by window"),
    "wavelet": CandidateKind("wavelet", _wavelet, "BayesShrink soft thresholds at the noise level used"),
    "savgol": CandidateKind("savgol", _savgol, "local quadratic fits of several widths, and the whole series"),
}


def offered(ctx: Context) -> list[Candidate]:
    """Every candidate the kinds offer for this recording, in :data:`KINDS` order."""
    return [c for kind in KINDS.values() for c in kind.offer(ctx)]
