"""The seeded draws the bundled models are trained from, reduced to digests.

The bundled models in ``assets/`` are reproduced from these exact seeded draws
(``denoiser/bundled.py`` retrains them from ``signals.training_pairs`` with fixed seeds), so a
change to any constant of a family's random distribution, to the order of the draws or to a noise
kind changes what a retrain produces. Such a change must be deliberate: run
``python -m tests.golden.regenerate`` in the same commit, and say why in its message.

Each digest is (sum, cosine-weighted sum, sum of squares, first, last sample): any change to any
sample moves at least one of them. ``RECIPES`` names every draw; ``digests.json`` holds their values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from denoiser import signals

STORED = Path(__file__).with_name("digests.json")
SEEDS = 12  # 12 seeds reach every branch of every family (all four piecewise kinds, AR(1) and AR(2))


def digest(y: np.ndarray) -> list[float]:
    """(sum, cosine-weighted sum, sum of squares, first, last) of ``y`` flattened."""
    y = np.asarray(y, dtype=np.float64).ravel()
    k = np.arange(y.size)
    return [float(y.sum()), float(np.dot(y, np.cos(0.37 * k))), float(np.dot(y, y)), float(y[0]), float(y[-1])]


def _family(name: str) -> Callable[[], list]:
    return lambda: [digest(signals.make_signal(name, 97, rng=seed)) for seed in range(SEEDS)]


def _noise(kind: str) -> Callable[[], list]:
    return lambda: digest(signals.make_noise((2, 33), kind, 0.5, rng=4, rate=0.2))


def _pairs(*args: object, **kwargs: object) -> Callable[[], list]:
    return lambda: [digest(a) for a in signals.training_pairs(*args, **kwargs)]  # noisy, clean


RECIPES: dict[str, Callable[[], list]] = {
    **{f"family/{name}": _family(name) for name in signals.FAMILIES},
    **{f"noise/{kind}": _noise(kind) for kind in signals.NOISES},
    # family mix, noise-kind mixing per signal, a log-uniform sigma range, a drawn impulse rate
    "pairs/realistic": _pairs(
        "realistic", 6, 40, noise=("gaussian", "impulse", "pink"), sigma=(0.05, 0.4), rng=11, rate=(0.02, 0.3)
    ),
    "pairs/fixed": _pairs("mixed", 5, 30, noise="uniform", sigma=0.1, rng=2),
    "pairs/zero-lo": _pairs("parabola", 4, 20, noise="gaussian", sigma=(0.0, 0.2), rng=3),  # lo 0: uniform, not log
    # piecewise kind 0 (Blocks) at every seed below 40 that draws it (seed 11 is in family/piecewise)
    **{
        f"blocks/{seed}": (lambda seed=seed: digest(signals.make_signal("piecewise", 97, rng=seed)))
        for seed in (14, 23, 27, 30, 34, 35, 37)
    },
    # a burst (plus its gap) ending exactly at the last sample: no further burst is drawn
    **{
        f"bursts-at-end/{seed}": (lambda seed=seed: digest(signals.make_signal("bursts", 40, rng=seed)))
        for seed in (34, 124)
    },
    # spectral noise of two samples: scaled to RMS 1 as longer series are
    **{
        f"short-noise/{kind}": (lambda kind=kind: signals.make_noise(2, kind, 1.0, rng=3).tolist())
        for kind in ("pink", "drift")
    },
}


def compute() -> dict[str, list]:
    """Every recipe's digest, by name."""
    return {name: recipe() for name, recipe in RECIPES.items()}


def stored() -> dict[str, list]:
    """The digests committed in ``digests.json``."""
    return json.loads(STORED.read_text(encoding="utf-8"))
