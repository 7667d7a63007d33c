"""The models: the bundled ones (shared by every session), the session's own, the one in use, and
how captions name it.

The bundled default denoises everything except parabolas on the tutorial's 150-point grid,
which go to the x² specialist; a user's model (trained or uploaded) lives in its session only,
at most :data:`MAX_MODELS` of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from app_pages.ui.data import Signal
from app_pages.ui.state import BUNDLED, session
from app_pages.ui.text import NAME, plain
from denoiser.text import cut

if TYPE_CHECKING:  # TensorFlow: loaded when a page needs a model
    from denoiser.auto import DenoiseResult
    from denoiser.core import Denoiser

SPECIALIST_FAMILIES = ("x2", "parabola")
SPECIALIST_LENGTH = 150  # the x² specialist's window: the tutorial's grid
MAX_MODELS = 5  # user models kept per session (each holds a network in memory)

#: How the bundled models are named in captions; :func:`bundled_recipe` maps such a label back.
BUNDLED_LABELS = {"parabola": "bundled x² specialist", "default": "bundled default"}

#: What each bundled model is, for captions.
MODEL_NOTES = {
    "parabola": "trained on parabolas a·(x−b)²+c on the tutorial's 150-point grid; this signal is one of those",
    "default": "a general blind denoiser, window 256",
}


@st.cache_resource(show_spinner=False)
def bundled_model(name: str) -> Denoiser:
    """A bundled model, shared read-only by every session (never fit it)."""
    from denoiser.bundled import pretrained  # imports TensorFlow: only when a page needs a model

    return pretrained(name)


def uses_specialist(signal: Signal | None) -> bool:
    """The bundled x² specialist fits parabolas on the tutorial's 150-point grid and nothing else."""
    return signal is not None and signal.family in SPECIALIST_FAMILIES and signal.length == SPECIALIST_LENGTH


def add_model(name: str, model: Denoiser, *, use: bool = True) -> None:
    """Keep a user's model in the session and (unless ``use`` is False) put it in use;
    only the newest few are kept (memory)."""
    s = session()
    models = s.models
    models.pop(name, None)
    models[name] = model
    s.model_bytes.pop(name, None)
    for old in list(models)[:-MAX_MODELS]:
        del models[old]
        s.model_bytes.pop(old, None)
    if use:
        s.model_choice = name
    elif s.model_choice not in models:
        s.model_choice = BUNDLED


def makes_worse(model: Denoiser) -> bool:
    """Whether a model's test split came out worse than its noisy input (gain below 0 dB)."""
    gain = (model.test_metrics_ or {}).get("gain_db")
    return gain is not None and np.isfinite(gain) and gain < 0


def model_in_use(signal: Signal | None = None) -> tuple[Denoiser, str]:
    """The model that denoises ``signal``, and a short label for captions.

    The user's own model when one is chosen; otherwise the bundled default, or the
    x² specialist for parabolas on the tutorial's grid.
    """
    return resolve_model(session().model_choice, signal)


def resolve_model(choice: str, signal: Signal | None = None) -> tuple[Denoiser, str]:
    """A model of the session by name (BUNDLED: the default or the x² specialist), and its label."""
    models = session().models
    if choice != BUNDLED and choice in models:
        return models[choice], choice
    with st.spinner("Loading the network (TensorFlow starts once, a few seconds)…"):
        name = "parabola" if uses_specialist(signal) else "default"
        return bundled_model(name), BUNDLED_LABELS[name]


def bundled_recipe(label: str) -> str | None:
    """The bundled model (``pretrained`` name) a label of :func:`resolve_model` stands for; None: the user's."""
    return next((name for name, text in BUNDLED_LABELS.items() if text == label), None)


def network_words(label: str) -> str:
    """The model in use in words, as plain text (escape with :func:`plain` before Markdown)."""
    which = bundled_recipe(label)
    return {"parabola": "the bundled x² specialist", "default": "the bundled default model"}.get(
        which or "", f"your model: {cut(label, NAME)}"
    )


def network_md(label: str) -> str:
    """:func:`network_words` for Markdown: a user's model's name escaped, the rest as written."""
    return network_words(label) if bundled_recipe(label) else f"your model: {plain(label, NAME)}"


def model_note(label: str) -> str:
    """What the model a label names is, for a caption (plain text)."""
    return MODEL_NOTES.get(bundled_recipe(label) or "", "choose another on the Model page")


def model_caption(label: str, res: DenoiseResult | None = None, *, classical_only: bool = False) -> str:
    """What was applied, for a caption (Markdown): the network alone, or what the automatic mode chose.

    ``res``: the automatic result (None: the network alone); ``classical_only``: the automatic mode
    ran without the network (a long recording). Made from ``DenoiseResult.describe``, so the caption
    names what was done, not merely the model that was offered.
    """
    words = network_words(label)
    note = model_note(label)
    if res is None:
        return f"Network only: **{network_md(label)}** alone ({plain(note)}), unchecked."
    weighed = (
        "the classical filters only (the network was left out)"
        if classical_only
        else f"**{network_md(label)}** ({plain(note)}) against classical filters and the input itself"
    )
    return f"Automatic (no-harm check) weighed {weighed}. Applied: {plain(res.describe(network=words))}"


def model_file_bytes(name: str, model: Denoiser) -> bytes:
    """The .keras file of a user model, serialised once per model."""
    cache = session().model_bytes
    if name not in cache:
        cache[name] = model.to_bytes()
    return cache[name]


def chosen_model() -> tuple[str, Denoiser]:
    """The model chosen on the Model page and the network it stands for (BUNDLED: the bundled default)."""
    s = session()
    choice = s.model_choice
    return choice, (bundled_model("default") if choice == BUNDLED else s.models[choice])
