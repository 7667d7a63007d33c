"""The shareable link: every setting that changes what is shown travels in ``st.query_params``.

Read once per session (:func:`apply_query_params`, from ``page_setup``): each parameter goes
through its parser in :func:`query_fields` (the one place links are read), and what passes
becomes the widgets' starting values (:func:`initial`, :func:`index_of`). Written after every
run (:func:`sync_query_params`, from app.py), and shown in the sidebar to copy. A parameter's
name is its widget's key in the session.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from app_pages.ui.choices import (
    LEARN_FAMILIES,
    LEARN_STEPS,
    LEARN_UNET,
    LEVEL_ALIASES,
    LEVEL_LABELS,
    METHOD_LABELS,
    NOISE_MODES,
)
from app_pages.ui.samples import sample_names
from app_pages.ui.state import BUNDLED, Origin, session
from denoiser.text import cut

log = logging.getLogger(__name__)

QUERY_TEXT = 200  # characters of a link's text value (a model name) kept; a longer one is ignored

#: Compare settings that belong to the sender's uploaded file: a link with data=upload opened without
#: that file drops them, so the sender's noise level is never applied to other data.
UPLOAD_ONLY = ("cmp_noise_mode", "cmp_sigma", "cmp_quiet", "cmp_long_net")

Parser = Callable[[str], Any]


def _choice(options: Sequence[str], aliases: dict[str, str] | None = None) -> Parser:
    aliases = aliases or {}
    return lambda v: v if v in options else aliases.get(v)


def _number(kind: type, lo: float, hi: float) -> Parser:
    """A parser for a number in ``[lo, hi]``: anything else (text, NaN, 1e20, 1e400, 9999...9) is ignored.

    The value is range-checked as a float before it becomes an int: ``int(float("1e20"))`` is a
    Python int that NumPy cannot test (the TypeError of issue 21 that took the sidebar down).
    """

    def parse(v: str) -> Any:
        text = str(v).strip()
        if not text or len(text) > 32:  # no setting needs more digits; int() of 5,000 digits is refused anyway
            return None
        try:
            x = float(text)
        except (TypeError, ValueError, OverflowError):
            return None
        if not (math.isfinite(x) and lo <= x <= hi):
            return None
        return int(x) if kind is int else x

    return parse


def _text(limit: int = QUERY_TEXT) -> Parser:
    return lambda v: v if v and len(v) <= limit and v.isprintable() else None


def _flag() -> Parser:
    """A toggle or checkbox: "true" or "false" (as :func:`sync_query_params` writes them), "1" or "0"."""
    return lambda v: {"true": True, "1": True, "false": False, "0": False}.get(str(v).strip().lower())


def _span(hi: int = 10**9) -> Parser:
    """A stretch of samples written "START-STOP" with 0 <= START < STOP <= ``hi``; anything else is ignored."""

    def parse(v: str) -> Any:
        text = str(v).strip()
        if len(text) > 24 or text.count("-") != 1:
            return None
        a, b = text.split("-")
        if not (a.isdigit() and b.isdigit()):
            return None
        lo, high = int(a), int(b)
        return (lo, high) if 0 <= lo < high <= hi else None

    return parse


def _link_text(value: Any) -> str:
    """A setting as its link writes it: floats short, flags true/false, a stretch START-STOP."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return f"{int(value[0])}-{int(value[1])}"
    return str(value)


def query_fields() -> dict[str, Parser]:
    """URL parameter -> parser (text -> the widget's value, or None when invalid)."""
    from denoiser.signals import FAMILIES, NOISES, noise_params

    return {
        "gen_family": _choice([*FAMILIES, "mixed", "realistic"]),
        "gen_length": _number(int, 32, 4096),
        "gen_noise": _choice(list(NOISES)),
        "gen_level_by": _choice(list(LEVEL_LABELS), LEVEL_ALIASES),
        "gen_sigma": _number(float, 0.0, 1.0),
        "gen_snr": _number(float, -10.0, 40.0),
        # each noise kind's own parameters (gen_rate: impulse), in their sliders' ranges
        **{f"gen_{name}": _number(float, p.ui[0], p.ui[1]) for name, p in noise_params().items()},
        "gen_seed": _number(int, 0, 1_000_000),
        "gen_method": _choice(list(METHOD_LABELS)),
        "cmp_method": _choice(list(METHOD_LABELS)),
        "cmp_sg": _number(int, 5, 301),
        "cmp_noise_mode": _choice(list(NOISE_MODES)),
        "cmp_sigma": _number(float, 0.0, 1e12),
        "cmp_quiet": _span(),
        "cmp_long_net": _flag(),
        "home_sigma": _number(float, 0.01, 0.30),
        "home_seed": _number(int, 0, 1_000_000),
        "home_method": _choice(list(METHOD_LABELS)),
        "learn_step": _number(int, 1, LEARN_STEPS),
        "learn_projection": _flag(),
        "learn_sigma": _number(float, 0.0, 0.3),
        "learn_rf_pos": _number(int, 0, 149),
        "learn_mm_sigma": _number(float, 0.0, 0.3),
        "learn_unet": _choice(list(LEARN_UNET)),
        "learn_vs_family": _choice(list(LEARN_FAMILIES)),
        "learn_data": _choice(sample_names()),  # a sample: an upload stays home
        "model": _text(),
        "data": _choice([Origin.GENERATED.value, Origin.UPLOAD.value]),
    }


def apply_query_params() -> None:
    """Once per session: read the settings a shared link carries (invalid values are ignored).

    Every parameter goes through its parser in :func:`query_fields` (the one place links are
    read); a value a parser cannot take, or a parser that fails, is ignored, so no link can cost
    the page its sidebar (and with it the Reset button).
    """
    s = session()
    if s.qp_initial is not None:
        return
    values = {}
    for key, parse in query_fields().items():
        raw = st.query_params.get(key)
        try:
            value = parse(raw) if raw is not None else None
        except Exception:  # noqa: BLE001 -- a link is untrusted text: ignore what cannot be read
            log.warning("link parameter %s ignored: %s", key, cut(raw))
            value = None
        if value is not None:
            values[key] = value
    if values.get("data") == Origin.UPLOAD and not s.has_upload:
        # The sender's upload did not come with the link: say so, show the generated signal, and keep
        # the settings that were made for that file (its noise level) off whatever is shown instead.
        s.qp_missing_upload = {k: values.pop(k) for k in UPLOAD_ONLY if k in values}
        values["data"] = Origin.GENERATED.value
    s.qp_initial = values
    if values.get("model") not in (None, "bundled"):
        if values["model"] in s.models:
            s.model_choice = values["model"]
        else:  # user models live in one session only: the link cannot bring the file along
            s.qp_missing_model = values["model"]
    if "data" in values:
        s.active = Origin(values["data"])


def missing_upload() -> str | None:
    """The one line for a link that refers to an upload this session does not have (None: nothing to say)."""
    s = session()
    dropped = s.qp_missing_upload
    if dropped is None or s.has_upload:
        return None
    sigma = dropped.get("cmp_sigma") if dropped.get("cmp_noise_mode") == "given" else None
    return (
        "This link refers to an uploaded file you don't have; showing the generated signal instead, without "
        "the file's noise settings"
        + (f" (σ {sigma:g})" if sigma is not None else "")
        + ". Upload the file on the Upload page to denoise it."
    )


def initial(key: str, default: Any) -> Any:
    """A widget's starting value: the shared link's (when the session started from one), else ``default``."""
    return (session().qp_initial or {}).get(key, default)


def index_of(options: Sequence[Any], key: str, default: Any) -> int:
    """``index=`` for a selectbox or radio whose starting value may come from a shared link."""
    value = initial(key, default)
    return list(options).index(value) if value in options else list(options).index(default)


def from_link(prefix: str) -> bool:
    """Whether the link that started the session carried a setting whose name starts with ``prefix``."""
    return any(k.startswith(prefix) for k in session().qp_initial or {})


def sync_query_params() -> None:
    """After every run: the URL carries every setting that changes what is shown (see :func:`query_fields`)."""
    s = session()
    if s.qp_initial is None:
        return
    values = {k: v for k, v in s.qp_initial.items() if k not in ("model", "data")}
    for key in query_fields():
        if s.has_widget(key) and key not in ("model", "data"):
            values[key] = s.widget(key)
    values["model"] = "bundled" if s.model_choice == BUNDLED else s.model_choice
    values["data"] = s.active.value
    text = {k: _link_text(v) for k, v in values.items() if v is not None}
    if text != {k: st.query_params.get(k) for k in st.query_params}:
        st.query_params.from_dict(text)
    # The address bar now carries them too (the browser applies the change with history.pushState;
    # Playwright's page.url lags one run behind, location.href does not). The sidebar shows the same
    # link to copy, for a projector or an embedded app where the address bar is out of sight.
    from urllib.parse import urlencode

    base = (st.context.url or "").split("?")[0]
    with st.sidebar:
        st.caption(
            "**Link to these settings** (Home, Generate, model, Compare, the lesson's step): open it "
            "anywhere to see the same. An uploaded file is not in it."
        )
        st.code(f"{base}?{urlencode(text)}", language=None, wrap_lines=True)
