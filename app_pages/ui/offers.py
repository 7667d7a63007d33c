"""New models are offered, not imposed: a finished training run or search next to the model in use.

Both are scored on the same test signals of the new model's recipe (:func:`head_to_head`); the
new one replaces the old by itself only when it is at least :data:`CLEARLY_BETTER_DB` better,
otherwise :func:`model_offer` shows both scores and a "Use it" button (sidebar and Model page).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st

from app_pages import _training
from app_pages.ui.data import Signal
from app_pages.ui.models import add_model, resolve_model
from app_pages.ui.state import Origin, session
from app_pages.ui.text import NAME, plain
from denoiser import metrics

if TYPE_CHECKING:  # TensorFlow: loaded when a page needs a model
    from denoiser.core import Denoiser

TEST_SIGNALS = 64  # synthetic test signals both models denoise before a new one may replace the old
TEST_SEED = 2_147_483  # never a training seed of the forms (they draw from their own seed)
CLEARLY_BETTER_DB = 1.0  # a new model is put in use by itself only when it wins by at least this


def head_to_head(model: Denoiser, request: Any) -> dict[str, Any]:
    """The new model and the one in use on the same synthetic test signals (the new one's recipe).

    A self-supervised model has no clean test signals: it is scored on the recording it learned
    from, by the automatic pipeline's own estimate with each model (the same noise level for both,
    so the difference is the models'). Returns ``{"new_gain", "current_gain", "current", "signals",
    "clearly_better", "estimated"}``.
    """
    current_choice = session().model_choice
    out: dict[str, Any] = {
        "new_gain": None,
        "current_gain": None,
        "current": current_choice,
        "signals": 0,
        "clearly_better": False,
        "estimated": False,
    }
    try:
        scored = _scores(model, request, current_choice)
    except Exception:  # noqa: BLE001 -- a failed comparison must never impose the model: offer it only
        return out
    if scored is None:
        return out
    new_gain, cur_gain, label, signals = scored
    out.update(
        new_gain=float(new_gain),
        current_gain=float(cur_gain),
        current=label,
        signals=signals,
        estimated=signals == 0,
        clearly_better=bool(np.isfinite(new_gain) and new_gain >= cur_gain + CLEARLY_BETTER_DB),
    )
    return out


def _scores(model: Denoiser, request: Any, current_choice: str) -> tuple[float, float, str, int] | None:
    """(new gain, current gain, the current model's label, test signals; 0 = the pipeline's estimate), or None.

    None when the run has nothing to be scored on (a recipe without a family, another source).
    """
    series = getattr(request, "series", None)
    source = getattr(request, "source", "synthetic")
    if source == "selfsup" and series is not None:
        from denoiser.auto import denoise

        current, label = resolve_model(
            current_choice, Signal("upload", series, None, np.arange(series.size), origin=Origin.UPLOAD)
        )
        new_res, cur_res = denoise(series, model=model), denoise(series, model=current)
        return new_res.estimated_gain_db, cur_res.estimated_gain_db, label, 0
    family = getattr(request, "family", None)
    if source != "synthetic" or family is None:
        return None
    from denoiser.signals import training_pairs

    length = int(model.config.window)
    current, label = resolve_model(
        current_choice, Signal("test", np.zeros(length), None, np.arange(length), family=family)
    )
    noisy, clean = training_pairs(family, TEST_SIGNALS, length, noise=request.noise, sigma=request.sigma, rng=TEST_SEED)
    new_gain = metrics.gain_db(clean.ravel(), noisy.ravel(), np.asarray(model.denoise(noisy)).ravel())
    cur_gain = metrics.gain_db(clean.ravel(), noisy.ravel(), np.asarray(current.denoise(noisy)).ravel())
    return new_gain, cur_gain, label, TEST_SIGNALS


def model_offer(*, compact: bool = False) -> None:
    """A newly trained model (or search winner) next to the one in use, with a "Use it" button."""
    s = session()
    offer = s.offer
    if not offer or offer["name"] not in s.models:
        return
    name, new, cur = offer["name"], offer["new_gain"], offer["current_gain"]
    in_use = s.model_choice == name
    if new is not None and cur is not None and offer.get("estimated"):
        scores = (
            f" On your recording, the automatic mode's own estimate (no clean version needed): with it "
            f"**{new:+.1f} dB**, with {plain(offer['current'], NAME)} **{cur:+.1f} dB**."
        )
    elif new is not None and cur is not None:
        scores = (
            f" On the same {offer['signals']} test signals: new **{new:+.1f} dB**, "
            f"{plain(offer['current'], NAME)} **{cur:+.1f} dB**."
        )
    else:
        scores = " It could not be scored against the model in use."
    if in_use:
        if offer.get("used") and not compact:
            st.success(
                f"The new model **{plain(name, NAME)}** is in use: it is clearly better.{scores}",
                icon=":material/check_circle:",
            )
        return
    if offer.get("dismissed"):
        return
    text = f"New model **{plain(name, NAME)}** is ready, not in use.{scores}"
    box = st.container(border=True)
    box.caption(text) if compact else box.info(text, icon=":material/new_releases:")
    left, right = box.columns(2)
    suffix = "_side" if compact else ""
    if left.button("Use it", key=f"use_offer{suffix}", type="primary"):
        s.model_choice = name
        st.rerun()
    if right.button("Keep current", key=f"keep_offer{suffix}"):
        offer["dismissed"] = True
        st.rerun()


def adopt_finished_run() -> None:
    """A run of this session that ended since the last rerun: its model joins the session, and is put
    in use only when it is clearly better than the one in use; the offer says so either way."""
    s = session()
    job = s.job
    finished = _training.take_result(job)
    if job is None or finished is None:
        return
    name, model = finished
    offer = head_to_head(model, job.request)
    use = offer["clearly_better"]
    add_model(name, model, use=use)
    s.offer = {**offer, "name": name, "used": use}
