"""The bundled models: how each is trained (one seeded recipe), and loading them.

Re-create the files in ``assets/`` with one command::

    python -m denoiser.bundled            # or: make model

* ``default``  -- general blind denoiser: a bias-free U-Net (window 256; no additive
  bias anywhere, so it is scale-equivariant and works at every noise level) trained on
  signals that look like real recordings (the ``realistic`` mix: power laws, AR,
  bursts, jumps, beats, trends under detail; ~43 %), parabolas (~21 %) and the
  textbook families (sines, chirps, steps, pulses, smooth curves), 30 % of them short
  series padded as at use time, with white (Gaussian, uniform) and impulse noise,
  sigma 0.005-0.6. Pink noise is *not* noise here: treating it so teaches the net to
  delete 1/f signals. Used for uploads and by the automatic pipeline.
* ``parabola`` -- the x² specialist (window 150, the tutorial's grid) trained on
  parabolas a·(x−b)²+c, as the tutorial trains on x².
"""

from __future__ import annotations

import argparse
import functools
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from denoiser import windows
from denoiser.assets import ASSETS, BUNDLED, bundled_path  # ASSETS: public here too
from denoiser.config import ModelConfig, TrainConfig
from denoiser.core import Denoiser
from denoiser.signals import training_pairs


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a bundled model: architecture, data and training."""

    config: ModelConfig
    family: str | tuple[str, ...]  # a family, or several drawn at random per signal
    noise: tuple[str, ...]
    sigma: tuple[float, float]  # noise sigma range, drawn log-uniformly per signal
    n_signals: int  # one window each
    train: TrainConfig = field(default_factory=TrainConfig)
    rate: tuple[float, float] | float = 0.05  # impulse noise: fraction of samples hit (a range: per signal)
    short_fraction: float = 0.0  # of the signals, this share is shorter than the window (48..window-1
    # samples) and padded to it exactly as Denoiser.denoise pads a short
    # series (odd reflection, noise included), so short recordings and the
    # 150-sample parabolas are seen the way they are met


def recipe_pairs(r: Recipe, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The noisy/clean training windows of a recipe, shape (n, window), seeded by ``r.train.seed``.

    A ``short_fraction`` of them are short series (noise added at their own length, then
    padded to the window the way :func:`denoiser.windows.frame` pads at use time).
    """
    w = r.config.window
    rng = np.random.default_rng(r.train.seed)
    n_short = int(round(n * r.short_fraction))
    noisy, clean = training_pairs(r.family, n - n_short, w, r.noise, r.sigma, rng=rng, rate=r.rate)
    if n_short:
        lengths = rng.integers(48, w, n_short)
        short_noisy, short_clean = [], []
        for length in lengths:
            nz, cl = training_pairs(r.family, 1, int(length), r.noise, r.sigma, rng=rng, rate=r.rate)
            short_noisy.append(windows.frame(nz[0], w, w)[0][0])
            short_clean.append(windows.frame(cl[0], w, w)[0][0])
        noisy, clean = np.concatenate([noisy, short_noisy]), np.concatenate([clean, short_clean])
    return noisy, clean


RECIPES: dict[str, Recipe] = {
    "default": Recipe(
        config=ModelConfig(window=256, filters=16, depth=4, bias=False),
        # Real-looking signals first (broadband, 1/f, bursts, beats, jumps), parabolas for smooth
        # trends (the issue's <= 2x-the-limit target), and the textbook families. Names repeat to
        # weigh them: a tuple entry is drawn uniformly per signal.
        family=("realistic",) * 6 + ("parabola",) * 3 + ("sines", "chirp", "square", "spikes", "smooth"),
        # White and impulse noise only: pink noise as "noise" teaches the net to delete 1/f signals.
        noise=("gaussian", "uniform", "impulse"),
        sigma=(0.005, 0.6),
        rate=(0.01, 0.1),
        n_signals=32_000,
        short_fraction=0.3,
        # ~25 min on 2 shared cores (nice -n 5); the epoch cap, not patience, usually ends it.
        train=TrainConfig(epochs=22, batch_size=64, patience=5, seed=0),
    ),
    "parabola": Recipe(
        config=ModelConfig(window=150, filters=16, depth=4),
        family="parabola",
        noise=("gaussian",),
        sigma=(0.02, 0.3),
        n_signals=30_000,
        train=TrainConfig(epochs=40, batch_size=64, patience=5, seed=0),
    ),
}
assert tuple(RECIPES) == BUNDLED, "denoiser/assets.py names the bundled models the recipes make"


def train_recipe(name: str, *, scale: float = 1.0, verbose: bool = True) -> Denoiser:
    """Train one bundled model from its recipe (``scale`` < 1 shrinks data and epochs for tests)."""
    r = RECIPES[name]
    n = max(200, int(r.n_signals * scale))
    noisy, clean = recipe_pairs(r, n)
    train = r.train.with_(epochs=max(1, int(r.train.epochs * scale)))

    def report(epoch: int, logs: dict[str, float]) -> None:
        if verbose:
            print(
                f"  [{name}] epoch {epoch + 1:3d}  loss {logs['loss']:.5f}  val {logs['val_loss']:.5f}  {logs['seconds']:.0f} s",
                flush=True,
            )

    families = r.family if isinstance(r.family, str) else "/".join(r.family)
    note = f"{families} family, noise {'/'.join(r.noise)}, sigma {r.sigma[0]}-{r.sigma[1]}, {n} signals"
    if r.short_fraction:
        note += f" ({r.short_fraction:.0%} short, padded)"
    return Denoiser(r.config).fit(noisy, clean, train, on_epoch=report, data_note=note)


@functools.cache
def pretrained(name: str = "default") -> Denoiser:
    """A bundled model, loaded once per process. Read-only: do not ``fit`` the returned object.

    Parameters
    ----------
    name : "default" (general, for any signal) or "parabola" (the x² specialist)
    """
    return Denoiser.load(bundled_path(name))


def default_model() -> Denoiser:
    """The bundled general-purpose model (``assets/default.keras``)."""
    return pretrained("default")


def main(argv: list[str] | None = None) -> None:
    """Retrain the named bundled models (default: all) from their seeded recipes into ``assets/``."""
    parser = argparse.ArgumentParser(
        prog="python -m denoiser.bundled", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", default=list(RECIPES), help="which models (default: all)")
    parser.add_argument("--out", type=Path, default=ASSETS, help="folder to write NAME.keras into")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names:
        t0 = time.perf_counter()
        den = train_recipe(name)
        path = args.out / f"{name}.keras"
        den.save(path)
        print(
            f"{name}: {path} ({path.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - t0:.0f} s; "
            f"test MSE {den.test_metrics_.get('mse', float('nan')):.3g} vs noisy {den.test_metrics_.get('noisy_mse', float('nan')):.3g}"
        )


if __name__ == "__main__":
    main()
