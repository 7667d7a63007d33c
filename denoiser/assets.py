"""Where the bundled models live, and their names (no TensorFlow, no model code).

:mod:`denoiser.bundled` trains and loads them (``pretrained``); :mod:`denoiser.core` starts a
fine-tuning from one by name. Both read the names and paths here, so neither imports the other.
"""

from __future__ import annotations

import os
from pathlib import Path

from denoiser.errors import InputError

#: The folder of the bundled models (and the app's samples); ``DENOISER_ASSETS`` moves it.
ASSETS = Path(os.environ.get("DENOISER_ASSETS", Path(__file__).resolve().parent.parent / "assets"))
#: The bundled models: the general one and the x² specialist (recipes in denoiser/bundled.py).
BUNDLED = ("default", "parabola")


def bundled_path(name: str) -> Path:
    """The file of bundled model ``name``.

    Raises
    ------
    InputError
        If ``name`` is not a bundled model or its file is missing.
    """
    if name not in BUNDLED:
        raise InputError(f"Unknown bundled model {name!r}; choose one of {', '.join(BUNDLED)}.")
    path = ASSETS / f"{name}.keras"
    if not path.exists():
        raise InputError(f"The bundled model {path} is missing; re-create it with `python -m denoiser.bundled`.")
    return path
