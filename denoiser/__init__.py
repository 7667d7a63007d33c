"""Denoiser: remove noise from 1-D signals with Conv1D autoencoders.

The light parts (signals, windows, metrics, classical filters) import at once;
CSV reading (pandas) and the parts that need TensorFlow (``Denoiser``, ``build_model``,
``default_model``, ...) are loaded on first use, so ``import denoiser`` is fast.

>>> import denoiser
>>> clean = denoiser.make_signal("x2")
>>> noisy = denoiser.add_noise(clean, "gaussian", sigma=0.1, rng=0)
>>> out = denoiser.default_model().denoise(noisy)      # same shape and units
>>> denoiser.mse(clean, out) < denoiser.mse(clean, noisy)
True
"""

from __future__ import annotations

import importlib
from typing import Any

from denoiser.classical import moving_average, savgol, wavelet
from denoiser.config import ModelConfig, TrainConfig
from denoiser.errors import InputError
from denoiser.metrics import gain_db, mae, mse, rmse, snr_db
from denoiser.signals import (
    FAMILIES,
    NOISE_KINDS,
    add_noise,
    make_noise,
    make_signal,
    make_signals,
    training_pairs,
    tutorial_dataset,
    x_grid,
)

# name -> module that defines it; imported on first attribute access (PEP 562)
_LAZY = {
    "denoise": "denoiser.auto",
    "DenoiseResult": "denoiser.auto",
    "Denoiser": "denoiser.core",
    "build_model": "denoiser.model",
    "default_model": "denoiser.bundled",
    "pretrained": "denoiser.bundled",
    "ReadReport": "denoiser.io",
    "SeriesTable": "denoiser.io",
    "read_series": "denoiser.io",
    "to_csv_bytes": "denoiser.io",
    "write_series": "denoiser.io",
}

__all__ = [
    "Denoiser",
    "DenoiseResult",
    "InputError",
    "ModelConfig",
    "ReadReport",
    "SeriesTable",
    "TrainConfig",
    "FAMILIES",
    "NOISE_KINDS",
    "add_noise",
    "build_model",
    "default_model",
    "denoise",
    "gain_db",
    "mae",
    "make_noise",
    "make_signal",
    "make_signals",
    "moving_average",
    "mse",
    "pretrained",
    "read_series",
    "rmse",
    "savgol",
    "snr_db",
    "to_csv_bytes",
    "training_pairs",
    "tutorial_dataset",
    "wavelet",
    "write_series",
    "x_grid",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'denoiser' has no attribute {name!r}")
