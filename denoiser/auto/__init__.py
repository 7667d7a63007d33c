"""The automatic pipeline: denoise a recording with no clean reference, and never do harm.

Modules, in the order a call runs through them:

* :mod:`~denoiser.auto.impulses`: spikes removed where the evidence says they are noise;
* :mod:`~denoiser.auto.noise`: the noise level, given, measured or found in the data;
* :mod:`~denoiser.auto.candidates`: the denoisers weighed against the input (one record per kind);
* :mod:`~denoiser.auto.risk`: SURE, divergences, blend weights, the band of the estimate;
* :mod:`~denoiser.auto.result`: :class:`DenoiseResult` and the one description of what was done;
* :mod:`~denoiser.auto.pipeline`: :func:`denoise`, which ties them together.

>>> import numpy as np, denoiser
>>> clean = np.sin(np.linspace(0, 20, 4000))
>>> noisy = clean + 0.1 * np.random.default_rng(0).standard_normal(4000)
>>> res = denoiser.denoise(noisy, model=False)
>>> bool(denoiser.mse(clean, res.denoised) < denoiser.mse(clean, noisy))
True
"""

from __future__ import annotations

from denoiser.auto.candidates import KINDS, Candidate, CandidateKind, Context, offered
from denoiser.auto.impulses import despike, find_impulses
from denoiser.auto.noise import NoiseEstimate, estimate_noise, level_sigmas, noise_floor
from denoiser.auto.pipeline import MIN_LENGTH, denoise
from denoiser.auto.result import SIGMA_SOURCES, DenoiseResult, MethodPart, describe_parts

__all__ = [
    "KINDS",
    "MIN_LENGTH",
    "SIGMA_SOURCES",
    "Candidate",
    "CandidateKind",
    "Context",
    "DenoiseResult",
    "MethodPart",
    "NoiseEstimate",
    "denoise",
    "describe_parts",
    "despike",
    "estimate_noise",
    "find_impulses",
    "level_sigmas",
    "noise_floor",
    "offered",
]
