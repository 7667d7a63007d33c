"""The bundled models: how each is trained (one seeded recipe), and loading them.

Re-create the files in ``assets/`` with one command::

    python -m denoiser.bundled            # or: make model

* ``default``  -- general blind denoiser (U-Net, window 256) trained on every
  family (sines, chirps, steps, pulses, smooth curves, parabolas) with Gaussian,
  uniform, impulse and pink noise over a wide range of levels. Used for uploads.
* ``parabola`` -- the x² specialist (window 150, the tutorial's grid) trained on
  parabolas a·(x−b)²+c, as the tutorial trains on x².
"""
from __future__ import annotations

import argparse
import functools
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from denoiser.config import ModelConfig, TrainConfig
from denoiser.core import Denoiser
from denoiser.errors import InputError
from denoiser.signals import training_pairs

ASSETS = Path(os.environ.get("DENOISER_ASSETS", Path(__file__).resolve().parent.parent / "assets"))


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a bundled model: architecture, data and training."""

    config: ModelConfig
    family: str | tuple[str, ...]  # a family, or several drawn at random per signal
    noise: tuple[str, ...]
    sigma: tuple[float, float]     # noise sigma range, drawn log-uniformly per signal
    n_signals: int                 # one window each
    train: TrainConfig = field(default_factory=TrainConfig)


RECIPES: dict[str, Recipe] = {
    "default": Recipe(
        config=ModelConfig(window=256, filters=16, depth=4),
        # every family: smooth trends (parabolas) as well as edges and pulses
        family=("sines", "chirp", "square", "spikes", "smooth", "parabola"),
        noise=("gaussian", "uniform", "impulse", "pink"), sigma=(0.005, 0.5),
        n_signals=48_000, train=TrainConfig(epochs=60, batch_size=64, patience=8, seed=0)),
    "parabola": Recipe(
        config=ModelConfig(window=150, filters=16, depth=4),
        family="parabola", noise=("gaussian",), sigma=(0.02, 0.3),
        n_signals=30_000, train=TrainConfig(epochs=40, batch_size=64, patience=5, seed=0)),
}


def train_recipe(name: str, *, scale: float = 1.0, verbose: bool = True) -> Denoiser:
    """Train one bundled model from its recipe (``scale`` < 1 shrinks data and epochs for tests)."""
    r = RECIPES[name]
    n = max(200, int(r.n_signals * scale))
    noisy, clean = training_pairs(r.family, n, r.config.window, r.noise, r.sigma, rng=r.train.seed)
    train = r.train.with_(epochs=max(1, int(r.train.epochs * scale)))

    def report(epoch: int, logs: dict[str, float]) -> None:
        if verbose:
            print(f"  [{name}] epoch {epoch + 1:3d}  loss {logs['loss']:.5f}  val {logs['val_loss']:.5f}  {logs['seconds']:.0f} s", flush=True)

    families = r.family if isinstance(r.family, str) else "/".join(r.family)
    note = f"{families} family, noise {'/'.join(r.noise)}, sigma {r.sigma[0]}-{r.sigma[1]}, {n} signals"
    return Denoiser(r.config).fit(noisy, clean, train, on_epoch=report, data_note=note)


@functools.lru_cache(maxsize=None)
def pretrained(name: str = "default") -> Denoiser:
    """A bundled model, loaded once per process. Read-only: do not ``fit`` the returned object.

    Parameters
    ----------
    name : "default" (general, for any signal) or "parabola" (the x² specialist)
    """
    if name not in RECIPES:
        raise InputError(f"Unknown bundled model {name!r}; choose one of {', '.join(RECIPES)}.")
    path = ASSETS / f"{name}.keras"
    if not path.exists():
        raise InputError(f"The bundled model {path} is missing; re-create it with `python -m denoiser.bundled`.")
    return Denoiser.load(path)


def default_model() -> Denoiser:
    """The bundled general-purpose model (``assets/default.keras``)."""
    return pretrained("default")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m denoiser.bundled", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", default=list(RECIPES), help="which models (default: all)")
    parser.add_argument("--out", type=Path, default=ASSETS, help="folder to write NAME.keras into")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names:
        t0 = time.perf_counter()
        den = train_recipe(name)
        path = args.out / f"{name}.keras"
        den.save(path)
        print(f"{name}: {path} ({path.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - t0:.0f} s; "
              f"test MSE {den.test_metrics_.get('mse', float('nan')):.3g} vs noisy {den.test_metrics_.get('noisy_mse', float('nan')):.3g}")


if __name__ == "__main__":
    main()
