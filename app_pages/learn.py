"""Learn: a lesson in seven steps for a 15-minute class, each step with one control.

A teacher steps through with Back / Next (or the step chips); "Projection mode" hides the sidebar,
menu and toolbar and enlarges the text, the widgets' labels and the charts (fonts, ticks, legends)
for a projector. The step, projection mode and each step's control are in the shared link.
Every number on the page is computed here and now by the ``denoiser`` package, nothing is pre-drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pywt
import streamlit as st

from app_pages import _training
from app_pages.ui import charts, data, estimate, links, models
from app_pages.ui.choices import LEARN_FAMILIES, LEARN_UNET
from app_pages.ui.data import Signal
from app_pages.ui.samples import sample_bytes, sample_names
from app_pages.ui.state import Origin, session
from app_pages.ui.text import plain
from denoiser import metrics
from denoiser.classical import savgol, wavelet
from denoiser.signals import FAMILY_LABELS, add_noise, make_signal, x_grid

if TYPE_CHECKING:  # plotly and pandas parsing: loaded when needed
    import plotly.graph_objects as go

    from denoiser.io import SeriesTable

STEPS = (  # the link's learn_step is the position here, from 1
    "Noise, MSE and MAE",
    "The tutorial's network sees 11 samples",
    "Training, live",
    "Per-signal min-max scaling cannot be undone",
    "Bottleneck or skips (U-Net)",
    "Network against Savitzky-Golay and wavelets",
    "Your own data and the no-harm check",
)
PROJECTION_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"] {display: none !important;}
.stMainBlockContainer, [data-testid="stMainBlockContainer"] {padding-top: 1rem; max-width: 100%;}
.stMarkdown p, .stMarkdown li, [data-testid="stCaptionContainer"] {font-size: 1.35rem !important;}
h1 {font-size: 2.6rem !important;} h2, h3 {font-size: 2rem !important;}
/* Widgets: Streamlit has no size option for labels, values and buttons (the charts scale through Plotly). */
[data-testid="stWidgetLabel"] p, [data-testid="stWidgetLabel"] label, .stButton button p,
[data-testid="stButtonGroup"] button p, [data-testid="stMetricLabel"] p,
[data-testid="stSliderThumbValue"], [data-testid="stSliderTickBarMin"], [data-testid="stSliderTickBarMax"],
[data-baseweb="select"] *, .stRadio label p, .stToggle label p {font-size: 1.35rem !important;}
[data-testid="stMetricValue"] {font-size: 3rem !important;}
[data-testid="stDataFrame"] {zoom: 1.3;}
</style>
"""


def _show(fig: go.Figure, key: str) -> None:
    """A chart of the lesson: in projection mode its fonts, ticks and legend are enlarged too."""
    charts.show(fig, key=key, projection=bool(session().widget("learn_projection")))


def _go(delta: int) -> None:
    s = session()
    s.set_widget("learn_step", min(len(STEPS), max(1, s.widget("learn_step") + delta)))


def step_noise() -> None:
    """Step 1: noise of a chosen sigma on x², and what MSE and MAE measure."""
    st.markdown(
        "A clean signal (the tutorial's x²) plus random noise of standard deviation **σ**. Two numbers "
        "say how far a trace is from the clean one: **MSE**, the mean of the squared differences, and "
        "**MAE**, the mean of their sizes. For Gaussian noise MSE ≈ σ² and MAE ≈ 0.80·σ."
    )
    sigma = st.slider("Noise σ", 0.0, 0.3, float(links.initial("learn_sigma", 0.05)), 0.01, key="learn_sigma")
    clean = make_signal("x2")
    noisy = add_noise(clean, "gaussian", sigma=sigma, rng=0)
    _show(
        charts.signal_figure(x_grid(), [("noisy", noisy, "noisy"), ("clean x²", clean, "clean")], height=320),
        key="learn_noise_plot",
    )
    cols = st.columns(3)
    cols[0].metric("MSE of the noisy trace", charts.fmt(metrics.mse(clean, noisy)), border=True)
    cols[1].metric("σ² (what MSE should be)", charts.fmt(sigma**2), border=True)
    cols[2].metric("MAE of the noisy trace", charts.fmt(metrics.mae(clean, noisy)), border=True)
    st.caption(
        "MSE punishes a few big errors hard (they are squared); MAE counts every error by its size, so "
        "spikes pull it less. Denoising should bring both down."
    )


@st.cache_resource(show_spinner=False)
def _receptive_field() -> np.ndarray:
    """dep[j, i]: whether the tutorial net's output i moves when input j does (measured, not assumed)."""
    from denoiser.config import ModelConfig
    from denoiser.model import build_model

    net = build_model(ModelConfig.tutorial())
    base = np.random.default_rng(0).uniform(0.2, 0.8, 150)
    batch = np.vstack([base, base + 0.05 * np.eye(150)])[..., None].astype("float32")
    out = np.asarray(net(batch, training=False))[..., 0]
    return np.abs(out[1:] - out[0]) > 1e-7


def step_receptive_field() -> None:
    """Step 2: the inputs that reach one output of the tutorial's network, measured."""
    st.markdown(
        "The tutorial's network is five convolutions of 3 samples each (Conv1D 128 → Conv1D 32 → "
        "Conv1DTranspose 32 → Conv1DTranspose 128 → Conv1D 1). Each layer widens the view by one "
        "sample on each side, so an output sample can only depend on **11 input samples**. Below, the "
        "shaded inputs are the ones that move the chosen output: measured by nudging each input of an "
        "(untrained) copy of the network in turn."
    )
    i = st.slider("Output sample", 0, 149, int(links.initial("learn_rf_pos", 75)), key="learn_rf_pos")
    dep = _receptive_field()
    inputs = np.flatnonzero(dep[:, i])
    clean = make_signal("x2")
    noisy = add_noise(clean, "gaussian", sigma=0.05, rng=0)
    x = x_grid()
    fig = charts.signal_figure(x, [("noisy input", noisy, "noisy"), ("clean x²", clean, "clean")], height=320)
    if inputs.size:
        fig.add_vrect(
            x0=x[inputs[0]] - 0.005,
            x1=x[inputs[-1]] + 0.005,
            fillcolor=charts.COLORS["denoised"],
            opacity=0.2,
            line_width=0,
        )
    fig.add_vline(x=x[i], line_color=charts.COLORS["removed"])
    _show(fig, key="learn_rf_plot")
    st.metric("Inputs that reach this output", f"{inputs.size}", border=True)
    st.caption(
        "11 samples are 7 % of the 150-sample curve: the network cannot see the parabola's overall "
        "shape, only a short stretch. The U-Net's bottleneck (step 5) sees the whole window."
    )


def step_training() -> None:
    """Step 3: the tutorial's network trained live, its loss curve drawn as it goes."""
    st.markdown(
        "Training shows the network pairs of noisy and clean signals and nudges its weights to shrink "
        "the loss (here MSE) on them. The **validation** loss is measured on signals it never trains "
        "on: when it stops falling, more epochs only memorise."
    )
    s = session()
    job, busy = s.job, s.job_running
    if st.button(
        "Train the tutorial's network: 5 epochs on 600 parabolas",
        key="learn_train",
        type="primary",
        icon=":material/play_arrow:",
        disabled=busy,
    ):
        from denoiser.config import ModelConfig, TrainConfig

        request = _training.TrainRequest(
            ModelConfig.tutorial(),
            TrainConfig.for_preset("seed", epochs=5, seed=0),
            "synthetic",
            "parabola",
            ("gaussian",),
            (0.02, 0.2),
            600,
        )
        s.job = job = _training.start_job(request)
    if job is None:
        st.caption(
            "The run uses the server's training queue (one run at a time); its model is then offered "
            "on the Model page, next to the one in use, and replaces it only if you say so."
        )
        return
    _live_curve(job)


@st.fragment(run_every=1.0)
def _live_curve(job: _training.TrainingJob) -> None:
    job.seen()
    if job.status == "queued":
        st.info(f"Queued: position {job.position()}.", icon=":material/hourglass_top:")
    elif job.kind == "train" and job.logs:
        _show(charts.loss_figure(job.logs, height=300), key="learn_loss")
        st.caption(f"Epoch {len(job.logs)} of {job.epochs}" + (" (running)." if job.running else "."))
    elif job.running:
        st.caption("Starting…")
    s = session()
    if not job.running and s.widget("learn_seen_end") != job.id:
        s.set_widget("learn_seen_end", job.id)
        st.rerun()  # the whole page: page_setup takes the model and offers it


def step_minmax() -> None:
    """Step 4: a perfect output unscaled with the noisy min and max is still wrong."""
    st.markdown(
        "The tutorial scales every signal to [0, 1] by its own minimum and maximum before the network "
        "sees it. To put the output back into the data's units you need the **clean** signal's min and "
        "max, which nobody has at use time; only the noisy ones are known, and noise pushes them "
        "outwards. Below, even a *perfect* network (it returns the clean shape exactly) is scaled back "
        "with the noisy min and max."
    )
    sigma = st.slider("Noise σ", 0.0, 0.3, float(links.initial("learn_mm_sigma", 0.1)), 0.01, key="learn_mm_sigma")
    clean = make_signal("x2")
    noisy = add_noise(clean, "gaussian", sigma=sigma, rng=0)
    shape = (clean - clean.min()) / np.ptp(clean)  # what a perfect network would output in [0, 1]
    back = shape * np.ptp(noisy) + noisy.min()  # undone with the only statistics available
    _show(
        charts.signal_figure(
            x_grid(),
            [
                ("noisy", noisy, "noisy"),
                ("perfect output, unscaled with noisy min/max", back, "denoised"),
                ("clean x²", clean, "clean"),
            ],
            height=320,
        ),
        key="learn_mm_plot",
    )
    cols = st.columns(2)
    cols[0].metric("MSE of the noisy input", charts.fmt(metrics.mse(clean, noisy)), border=True)
    cols[1].metric("MSE of the perfect network, unscaled", charts.fmt(metrics.mse(clean, back)), border=True)
    st.caption(
        "The error grows with σ though the network made none: the scaling, not the network, is at fault. "
        "Denoiser scales each window by its noisy mean and standard deviation instead, which the noise "
        "moves far less, and always undoes it with the same numbers."
    )


def step_unet() -> None:
    """Step 5: decoding from the bottleneck alone, or with the skips' detail (a Haar pyramid)."""
    st.markdown(
        "An autoencoder squeezes the signal through a **bottleneck**: a few coarse numbers that see the "
        "whole window. Alone, it can only return a coarse sketch, and sharp steps blur. A **U-Net** adds "
        "**skip connections** that carry each level's detail around the bottleneck, so the decoder can "
        "keep edges and remove only what looks like noise. The same idea, with a Haar wavelet pyramid "
        "standing in for the learned levels:"
    )
    how = st.radio(
        "Decoder gets",
        list(LEARN_UNET),
        format_func=LEARN_UNET.__getitem__,
        key="learn_unet",
        horizontal=True,
        index=links.index_of(list(LEARN_UNET), "learn_unet", "bottleneck"),
    )
    clean = make_signal("square", 512, np.random.default_rng(3))
    noisy = add_noise(clean, "gaussian", sigma=0.1, rng=3)
    coeffs = pywt.wavedec(noisy, "haar", level=4)
    if how == "bottleneck":
        coeffs = [coeffs[0], *[np.zeros_like(c) for c in coeffs[1:]]]
    else:  # the skips: detail kept where it is bigger than the noise (soft threshold, universal rule)
        thr = 0.1 * np.sqrt(2 * np.log(noisy.size))
        coeffs = [coeffs[0], *[pywt.threshold(c, thr, "soft") for c in coeffs[1:]]]
    out = pywt.waverec(coeffs, "haar")[: noisy.size]
    _show(
        charts.signal_figure(
            np.arange(512),
            [("noisy", noisy, "noisy"), ("decoded", out, "denoised"), ("clean", clean, "clean")],
            x_title="sample",
            height=320,
        ),
        key="learn_unet_plot",
    )
    st.metric("Gain over the noisy input", f"{charts.fmt(metrics.gain_db(clean, noisy, out))} dB", border=True)


def step_versus() -> None:
    """Step 6: the bundled network against Savitzky-Golay and wavelets on one signal family."""
    st.markdown(
        "The bundled network against two classical filters on the same noisy signal: **Savitzky-Golay** "
        "(a local quadratic fit, 21 samples) and **wavelet shrinkage** (BayesShrink). Which wins depends "
        "on the signal."
    )
    families = list(LEARN_FAMILIES)
    family = st.selectbox(
        "Signal",
        families,
        format_func=lambda f: FAMILY_LABELS[f].split(" (")[0],
        key="learn_vs_family",
        index=links.index_of(families, "learn_vs_family", families[0]),
    )
    clean = make_signal(family, 512, np.random.default_rng(1))
    noisy = add_noise(clean, "gaussian", sigma=0.1 * float(np.std(clean)) + 0.02, rng=1)
    signal = Signal(
        FAMILY_LABELS[family],
        noisy,
        clean,
        np.arange(512),
        "sample",
        family=family,
        recipe={"family": family},
        origin=Origin.LESSON,
    )
    model, label = models.model_in_use(signal)
    estimates = {
        f"Network ({label})": estimate.network_output(signal, model),
        "Savitzky-Golay (21, order 2)": savgol(noisy, 21, 2),
        "Wavelet shrinkage": wavelet(noisy),
    }
    traces = [("noisy", noisy, "noisy"), ("clean", clean, "clean")]
    traces += [(name, est, kind) for (name, est), kind in zip(estimates.items(), ("denoised", "savgol", "wavelet"))]
    _show(charts.signal_figure(np.arange(512), traces, x_title="sample", height=340), key="learn_vs_plot")
    table = charts.comparison_table(clean, noisy, estimates)
    st.dataframe(table.style.format("{:.4g}"), width="stretch")
    st.caption(f"Best here: **{plain(table['MSE'].idxmin())}**.")


def step_own_data() -> None:
    """Step 7: the automatic pipeline on real data (the upload or a sample), with its own estimate."""
    st.markdown(
        "Real recordings have no clean version, so no MSE can be measured. The automatic pipeline "
        "weighs the network, wavelets and Savitzky-Golay against the **input itself** with a risk "
        "estimate (SURE) and applies only what the data support: with the right noise level it is never "
        "worse than the input. It says how good the result probably is, and how sure it is of that."
    )
    s = session()
    sources = (["upload"] if s.has_upload else []) + sample_names()

    def source_label(v: str, name: str = s.table_name) -> str:  # the name bound now: formatted after the run too
        return f"your upload: {name}" if v == "upload" else f"sample: {v}"

    source = st.selectbox(
        "Data",
        sources,
        key="learn_data",
        index=links.index_of(sources, "learn_data", sources[0]),
        format_func=source_label,
    )
    if source == "upload":
        signal = data.uploaded_column()
    else:
        table = _sample_table(source or sources[-1])
        column = data.default_columns(table)[0]
        signal = Signal(
            column,
            table.column(column),
            None,
            np.arange(len(table.values)),
            "row",
            recipe={"sample": source, "column": column},
            origin=Origin.SAMPLE,
        )
    model, _ = models.model_in_use(signal)
    res = estimate.auto_result(signal, model)
    part = slice(0, min(signal.length, charts.MAX_POINTS))
    view = data.sliced(signal, part)
    _show(
        charts.signal_figure(
            view.x,
            [("noisy", view.noisy, "noisy"), ("automatic", res.denoised[part], "auto")],
            x_title=signal.x_title,
            height=300,
        ),
        key="learn_own_plot",
    )
    estimate.estimate_panel(res)


@st.cache_resource(show_spinner=False)
def _sample_table(name: str) -> SeriesTable:  # shared read-only
    from denoiser.io import read_series

    return read_series(sample_bytes(name))


VIEWS = dict(
    zip(STEPS, (step_noise, step_receptive_field, step_training, step_minmax, step_unet, step_versus, step_own_data))
)

# The step in use: its number from 1 (also the link's learn_step); a link may start on any step.
s = session()
if not isinstance(s.widget("learn_step"), int):
    s.set_widget("learn_step", int(links.initial("learn_step", 1)))
top = st.columns([3, 1])
top[0].title("Learn: denoising in seven steps")
projection = top[1].toggle(
    "Projection mode",
    bool(links.initial("learn_projection", False)),
    key="learn_projection",
    help="Hides the sidebar, the page menu and the toolbar and enlarges the text, the "
    "controls and the charts, for a projector. Each step's one control stays.",
)
if projection:
    st.html(PROJECTION_CSS)
else:
    st.caption("For a 15-minute class: one idea per step, each with one control to try. Step with Back / Next.")
s.set_widget("learn_chip", STEPS[s.widget("learn_step") - 1])  # the chips show the step in use


def _chip() -> None:
    s = session()
    if s.widget("learn_chip") is not None:  # a click on the chosen chip deselects it: stay on the step
        s.set_widget("learn_step", STEPS.index(s.widget("learn_chip")) + 1)


st.segmented_control(
    "Step",
    STEPS,
    key="learn_chip",
    label_visibility="collapsed",
    on_change=_chip,
    format_func=lambda s: f"{STEPS.index(s) + 1}. {s}",
)
number = s.widget("learn_step") - 1
# Back / Next beside the step's title, above its content: on a 1280x720 screen they stay above the fold.
head, back, forward = st.columns([6, 1, 1], vertical_alignment="bottom")
head.subheader(f"Step {number + 1} of {len(STEPS)}: {STEPS[number]}")
back.button(
    "Back",
    key="learn_back",
    icon=":material/arrow_back:",
    disabled=number == 0,
    on_click=_go,
    args=(-1,),
    width="stretch",
)
forward.button(
    "Next",
    key="learn_next",
    icon=":material/arrow_forward:",
    type="primary",
    disabled=number == len(STEPS) - 1,
    on_click=_go,
    args=(1,),
    width="stretch",
)
with st.container(key="lesson_step"):
    VIEWS[STEPS[number]]()
