"""The automatic pipeline in the app: its results (kept per session), what it says about them, and
the controls that steer it.

``denoiser.auto.denoise`` weighs the network, wavelet shrinkage and Savitzky-Golay against the
input itself; here its result is computed once per model, data and noise level
(:func:`auto_result`), shown with its own estimate of how good it is (:func:`estimate_panel`,
:func:`estimate_line`), and steered by the method choice (:func:`method_choice`: Compare's
Method and the demos' Headline result) and the noise-level controls (:func:`noise_level_controls`).
The demos (Home, Generate) draw and score the network and the automatic result side by side
(:func:`demo_figure`, :func:`demo_scores`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app_pages.ui.charts import CARD, COLORS, downsample_index, fmt, layout, metric_cards, signal_figure
from app_pages.ui.choices import AUTOMATIC, DEMO_LABELS, DEMO_NAMES, METHOD_LABELS, NETWORK_ONLY, NOISE_MODES
from app_pages.ui.data import Signal, data_key
from app_pages.ui.links import index_of, initial
from app_pages.ui.models import model_note, network_md, network_words
from app_pages.ui.state import Origin, session
from app_pages.ui.text import plain
from denoiser import metrics

if TYPE_CHECKING:  # TensorFlow: loaded when a page needs a model
    from denoiser.auto import DenoiseResult
    from denoiser.core import Denoiser

QUIET_POINTS = 4000  # the quiet-stretch picker draws at most this many points
LONG_SERIES = 250_000  # Compare: above this many samples the network joins the automatic pipeline on request


# ------------------------------------------------------------------ results, kept in the session
def network_output(signal: Signal, model: Denoiser) -> np.ndarray:
    """The network alone on ``signal``, computed once per model and data, kept in the session."""
    s = session()
    return s.cached(
        ("network", id(model), data_key(signal)), (model, signal.noisy, s.table), lambda: model.denoise(signal.noisy)
    )


def auto_result(
    signal: Signal, model: Denoiser | bool | None, *, sigma: float | None = None, quiet: tuple[int, int] | None = None
) -> DenoiseResult:
    """The automatic pipeline on ``signal``: computed once per model, data and noise level, kept in the session.

    ``model``: the network to weigh in (False: the classical filters only, a long recording).
    """
    from denoiser.auto import denoise

    def compute() -> DenoiseResult:
        with st.spinner("Weighing the network against classical filters and the input itself…"):
            return denoise(signal.noisy, sigma=sigma, quiet=quiet, model=model)

    s = session()
    return s.cached(("auto", id(model), data_key(signal), sigma, quiet), (model, signal.noisy, s.table), compute)


def known_sigma(signal: Signal) -> float | None:
    """The sigma of white noise the app itself added to a generated signal (None otherwise)."""
    r = signal.recipe
    from denoiser.signals import NOISES, noise_sigma

    white = r.get("kind") in NOISES and NOISES[r["kind"]].white
    if signal.origin is not Origin.GENERATED or not white or signal.clean is None:
        return None

    return float(r["sigma"]) if "sigma" in r else noise_sigma(signal.clean, snr_db=r["snr_db"])


# ------------------------------------------------------------------ what the pipeline says
def estimate_panel(
    res: DenoiseResult, *, true_gain: float | None = None, fixes: str | None = None, network: str | None = None
) -> None:
    """What the automatic pipeline applied, how good it probably is, and how sure it is of that.

    ``network``: the model's name in words (:func:`~app_pages.ui.models.network_words`), for what was applied;
    ``fixes``: the key prefix of the page's noise-level controls (:func:`noise_level_controls`);
    when the data could not show the noise level, the two fixes are offered as buttons that switch
    those controls (type sigma, select a quiet stretch).
    """
    lo, hi = res.gain_band_db
    source = res.sigma_source + (", an upper bound" if res.sigma_is_upper_bound else "")
    unknown = not res.identifiable and res.sigma_source == "estimated" and np.isfinite(res.sigma)
    if unknown:
        cannot_tell(res, fixes)
    card = CARD
    cols = st.columns(3)
    cols[0].metric(
        "Noise level σ",
        fmt(res.sigma),
        help=f"Source: {source}. Standard deviation of the white "
        "noise, in the data's units."
        + (
            f" The data only bound it (at most {fmt(res.sigma_bound)}), so a cautious part of the bound was used."
            if res.sigma_is_upper_bound
            else ""
        ),
        **card,
    )
    # The likely range is the estimate's own second line (its delta), not a card of its own: two signed
    # numbers in a card's large type did not fit a quarter of the page at 1400 px ("+19.1 … +…").
    cols[1].metric(
        "Estimated gain",
        f"{res.estimated_gain_db:+.1f} dB",
        f"likely {lo:+.1f} to {hi:+.1f} dB",
        delta_color="off",
        delta_arrow="off",
        help="10·log10(noise power / estimated error left), "
        "from Stein's unbiased risk estimate: no clean reference is needed. The likely range: where the "
        "true gain probably lies, given the length of the recording and the uncertainty of the noise "
        "level.",
        **card,
    )
    cols[2].metric(
        "Removal like noise",
        f"{res.whiteness:.0%}",
        help="100 % means what was "
        "removed is spread evenly over time, as noise is; signal taken by mistake comes in bursts.",
        **card,
    )
    st.caption(
        f"Applied: {plain(res.describe(network=network))} Noise level: {source}.",
        help=f"Compact form: {res.describe(compact=True)}",
    )
    if true_gain is not None and np.isfinite(true_gain):
        st.caption(
            f"True gain, measured against the clean reference (the estimate never sees it): {true_gain:+.1f} dB."
        )
    notes = "\n".join(f"- {plain(note)}" for note in res.notes)
    if res.trusted:
        st.success("**The estimate can be relied on.**" + (f"\n\n{notes}" if notes else ""), icon=":material/verified:")
    elif unknown:  # the box above already says the main thing
        with st.expander("Details of the estimate"):
            st.markdown(notes)
    else:
        st.warning("**Treat the estimate with care.**" + (f"\n\n{notes}" if notes else ""), icon=":material/warning:")


def cannot_tell(res: DenoiseResult, fixes: str | None) -> None:
    """The prominent box when the data could not tell noise from signal, with the two fixes as buttons."""
    st.warning(
        "**The recording could not tell its noise from its signal.** Only an upper bound of the noise "
        f"level is known ({fmt(res.sigma_bound)}), so a cautious {fmt(res.sigma)} was used. The result "
        "probably leaves noise in place: the true gain may be higher than shown. Tell the app the noise "
        "level for a full result:",
        icon=":material/help:",
    )
    if fixes is None:
        return
    mode_key = f"{fixes}_noise_mode"

    def switch(mode: str) -> None:
        session().set_widget(mode_key, mode)

    left, right, _ = st.columns([1, 1, 2])
    left.button(
        "Type the noise level (σ)",
        key=f"{fixes}_fix_sigma",
        icon=":material/edit:",
        width="stretch",
        on_click=switch,
        args=("given",),
        help="From the instrument's datasheet or a calibration.",
    )
    right.button(
        "Select a quiet stretch",
        key=f"{fixes}_fix_quiet",
        icon=":material/straighten:",
        width="stretch",
        on_click=switch,
        args=("quiet",),
        help="A part of the recording with no signal, only noise.",
    )


# ------------------------------------------------------------------ the controls
@dataclass(frozen=True)
class MethodRadio:
    """How one method choice is offered: its label, options (key -> label), default and help."""

    label: str
    options: dict[str, str]
    default: str
    horizontal: bool
    help: str


#: Compare's method: the automatic result by default.
METHOD = MethodRadio(
    "Method",
    METHOD_LABELS,
    AUTOMATIC,
    False,
    "Automatic: the network, wavelet shrinkage and Savitzky-Golay are weighed against the input "
    "itself with a risk estimate, region by region, so only what the data support is applied. "
    "Network only: the network's output as it is.",
)
#: The demos' headline (Home, Generate): the network by default, the automatic result beside it.
HEADLINE = MethodRadio(
    "Headline result",
    DEMO_LABELS,
    NETWORK_ONLY,
    True,
    "Both are shown and scored against the clean signal. The network: the autoencoder's output "
    "as it is. Automatic: the network, wavelet shrinkage and Savitzky-Golay weighed against the "
    "input itself with a risk estimate, so only what the data support is applied.",
)


def method_choice(key: str, radio: MethodRadio = HEADLINE, *, where: Any = None) -> str:
    """The method choice, :data:`AUTOMATIC` or :data:`NETWORK_ONLY`, as a radio under ``key``.

    :data:`HEADLINE` (the default): which result of a demo leads (the trace drawn bold, the metric
    cards). On synthetic signals the truth is known, so both the network alone and the automatic
    mode are computed and scored; the demo teaches the autoencoder, so its output leads unless the
    user (or a link) picks the automatic result. :data:`METHOD`: Compare's method. Either is kept
    across pages and in the link; ``where``: the column or container to draw in (default: the page).
    """
    options = list(radio.options)
    return (st if where is None else where).radio(
        radio.label,
        options,
        key=key,
        horizontal=radio.horizontal,
        format_func=radio.options.__getitem__,
        index=index_of(options, key, radio.default),
        persist_state="session",
        help=radio.help,
    )


def noise_level_controls(signal: Signal, prefix: str) -> tuple[float | None, tuple[int, int] | None]:
    """Where the noise level comes from: estimated, typed in, or measured on a quiet stretch.

    Returns ``(sigma, quiet)`` for :func:`auto_result` (at most one is not None).
    """
    mode = st.radio(
        "Noise level",
        list(NOISE_MODES),
        format_func=NOISE_MODES.__getitem__,
        horizontal=True,
        key=f"{prefix}_noise_mode",
        index=index_of(list(NOISE_MODES), f"{prefix}_noise_mode", "estimate"),
        persist_state="session",
        help="Without a clean reference the noise level decides how much may be removed. "
        "Estimated: from the finest time scale (an upper bound on broadband recordings). "
        "Known: e.g. from the instrument's datasheet. Quiet stretch: where the recording "
        "holds no signal, only noise.",
    )
    if mode == "given":
        guess = float(np.nanstd(np.diff(signal.noisy)) / np.sqrt(2)) if signal.length > 2 else 0.1
        sigma = st.number_input(
            "Noise sigma (in the data's units)",
            min_value=0.0,
            value=initial(f"{prefix}_sigma", None),
            placeholder=f"e.g. {guess:.3g}",
            format="%.6g",
            key=f"{prefix}_sigma",
            persist_state="session",
            help="The standard deviation of the noise. With the right value the result is never worse than the input.",
        )
        return (float(sigma) if sigma is not None else None), None
    if mode == "quiet":
        return None, quiet_stretch(signal, prefix)
    return None, None


def quiet_stretch(signal: Signal, prefix: str) -> tuple[int, int]:
    """A quiet stretch of the recording: box-select it on the plot, or set it with the slider."""
    n = signal.length
    key = f"{prefix}_quiet"
    idx = downsample_index(signal.noisy, QUIET_POINTS)
    fig = go.Figure(
        go.Scattergl(
            x=idx, y=signal.noisy[idx], mode="lines", name="noisy", line={"color": COLORS["noisy"], "width": 1}
        )
    )
    s = session()
    stored = s.widget(key)
    if not (isinstance(stored, tuple) and 0 <= stored[0] < stored[1] <= n):
        link = initial(key, None)  # a shared link's stretch, where it fits this series
        fits = isinstance(link, tuple) and 0 <= link[0] and link[1] <= n and link[1] - link[0] >= 16
        s.set_widget(key, link if fits else (0, min(n, max(16, n // 10))))  # else start at the beginning
    lo, hi = s.widget(key)
    fig.add_vrect(x0=lo, x1=hi, fillcolor=COLORS["clean"], opacity=0.15, line_width=0)
    layout(fig, "sample", "value", 220, None).update_layout(dragmode="select", showlegend=False)
    event = st.plotly_chart(
        fig, width="stretch", key=f"{key}_plot", on_select="rerun", selection_mode="box", config={"displaylogo": False}
    )
    box = (event.selection.get("box") or [{}])[0] if event and event.selection else {}
    if box.get("x"):
        a, b = sorted(int(round(v)) for v in box["x"][:2])
        picked = (max(0, a), min(n, b))
        if picked[1] - picked[0] >= 16 and picked != s.widget(key):
            s.set_widget(key, picked)
    return st.slider(  # type: ignore[return-value]  # a range: its value, set above, is a pair
        "Quiet stretch (samples)",
        0,
        n,
        key=key,
        persist_state="session",
        help="Drag on the plot above (box select) or move the ends here: a stretch with only "
        "noise, at least 16 samples.",
    )


# ------------------------------------------------------------------ the demos: network and automatic side by side
def demo_figure(
    signal: Signal,
    network: np.ndarray,
    auto: DenoiseResult,
    headline: str,
    *,
    height: int = 380,
    clean_name: str = "clean",
) -> go.Figure:
    """Noisy, clean, the network's output and the automatic result; the headline drawn bold, the other dotted."""
    assert signal.clean is not None  # the demos draw generated signals: their clean curve is known
    net = ("network", network, "denoised" if headline == NETWORK_ONLY else "denoised_side")
    automatic = ("automatic (no-harm check)", auto.denoised, "auto" if headline == AUTOMATIC else "auto_side")
    first, second = (net, automatic) if headline == NETWORK_ONLY else (automatic, net)
    return signal_figure(
        signal.x,
        [("noisy", signal.noisy, "noisy"), (clean_name, signal.clean, "clean"), first, second],
        x_title=signal.x_title,
        height=height,
    )


def demo_scores(
    signal: Signal, network: np.ndarray, auto: DenoiseResult, label: str, headline: str, *, per_row: int = 4
) -> None:
    """The headline's metric cards with the other result's gain beside them, and what each one did."""
    assert signal.clean is not None  # the demos draw generated signals: their clean curve is known
    main, other = (network, auto.denoised) if headline == NETWORK_ONLY else (auto.denoised, network)
    name, other_name = DEMO_NAMES[headline], DEMO_NAMES[AUTOMATIC if headline == NETWORK_ONLY else NETWORK_ONLY]
    metric_cards(signal.clean, signal.noisy, main, name=name, other=other, other_name=other_name, per_row=per_row)
    words = network_words(label)
    note = model_note(label)
    st.caption(f"**Network** (blue): {network_md(label)}, alone ({plain(note)}).")
    estimate_line(auto, metrics.gain_db(signal.clean, signal.noisy, auto.denoised), network=words)


def estimate_line(res: DenoiseResult, true_gain: float | None = None, *, network: str | None = None) -> None:
    """One caption: what the automatic mode applied (``network``: the model's name in words), its own
    estimate and, on generated data, the true gain."""
    lo, hi = res.gain_band_db
    text = (
        f"**Automatic** (teal): {plain(res.describe(network=network))} Its own estimate, without the "
        f"clean signal: {res.estimated_gain_db:+.1f} dB (likely {lo:+.1f} to {hi:+.1f}), noise σ {fmt(res.sigma)} "
        f"({res.sigma_source})"
    )
    if true_gain is not None and np.isfinite(true_gain):
        text += f"; measured against the clean signal: {true_gain:+.1f} dB"
    st.caption(text + ".", help=f"Compact form: {res.describe(compact=True)}")
