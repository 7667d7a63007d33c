"""Shared pieces of the pages: session state, the model in use, figures and metric tables.

Pages stay thin: they read widgets, call the ``denoiser`` package and draw with
these helpers. Nothing here does model math: denoising goes through
``Denoiser.denoise``, errors through ``denoiser.metrics``, baselines through
``denoiser.classical``.
"""
from __future__ import annotations

import html
import logging
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from scipy.signal import welch

from denoiser import metrics
from denoiser.io.columns import axis_like, is_reference  # noqa: F401 (pages use them as ui.*)
from denoiser.text import MAX_ECHO as NAME, cut, markdown
from app_pages import _sessions, _training

if TYPE_CHECKING:  # the real imports pull in TensorFlow or pandas parsing: keep them lazy
    from denoiser.auto import DenoiseResult
    from denoiser.core import Denoiser
    from denoiser.io import SeriesTable

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "assets" / "samples"
BUNDLED = "Bundled (automatic)"
SPECIALIST_FAMILIES = ("x2", "parabola")
SPECIALIST_LENGTH = 150          # the x² specialist's window: the tutorial's grid
MAX_MODELS = 5                   # user models kept per session (each holds a network in memory)
# What one session may cost (issue 21: one 198 MB upload of one-digit rows peaked the server at 5.2 GB
# to read and asked 43 GB to train on). Both caps say so when they apply; the CLI has neither.
MAX_UPLOAD_SAMPLES = 5_000_000   # values (rows x columns) read from one uploaded file: ~40 MB per copy
MAX_TRAIN_SAMPLES = 1_000_000    # samples of the upload one self-supervised run trains on (~320 MB of windows)
GL_POINTS = 5000                 # above this many samples, draw with WebGL so the browser keeps up

COLORS = {
    "noisy": "#94a3b8", "series2": "#0ea5e9", "series3": "#f43f5e", "clean": "#15803d", "denoised": "#2563eb",
    "denoised2": "#db2777", "savgol": "#f59e0b", "wavelet": "#a855f7", "removed": "#ef4444", "error": "#0f172a",
    "loss": "#2563eb", "val_loss": "#f97316", "auto": "#0d9488",
    "denoised_side": "#2563eb", "auto_side": "#0d9488",   # a demo's second result: same colour, dotted
}


# ------------------------------------------------------------------ runtime
def keep_keras_state() -> bool:
    """Stop Streamlit from calling ``keras.backend.clear_session()`` after every script run.

    Installed once per process, from app.py (later calls find it in place). Streamlit's
    hook is private: if it has moved, a warning is logged and nothing is patched, and
    tests/test_app.py fails (it checks that Keras' state survives a rerun).

    Streamlit does that to free models that scripts build on each rerun. This app builds
    none in page scripts (models come from the package and live in caches or session
    state), and the call does harm here: it resets Keras' global state for every thread,
    so a model being built in the training thread can get two layers named "conv1d" and
    fail; and it clears TensorFlow's kernel cache, so each denoise after a rerun retraces
    (60-250 ms instead of ~10 ms). Streamlit's other cleanup (matplotlib) is kept.

    Returns
    -------
    bool, whether the patch is in place
    """
    from streamlit.runtime.scriptrunner import script_runner

    original = getattr(script_runner, "_clean_problem_modules", None)
    if getattr(original, "keeps_keras", False):
        return True  # already installed
    if not callable(original):
        log.warning("Streamlit's script_runner._clean_problem_modules has moved (Streamlit %s): Keras' state "
                    "is cleared after every rerun, so training threads may fail and denoising retraces. "
                    "Update app_pages/_ui.keep_keras_state.", st.__version__)
        return False

    def clean_problem_modules_but_keras() -> None:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close("all")

    clean_problem_modules_but_keras.keeps_keras = True  # type: ignore[attr-defined]
    script_runner._clean_problem_modules = clean_problem_modules_but_keras
    return True


# ------------------------------------------------------------------ session state
def _defaults() -> dict[str, Any]:
    """Every per-user entry of ``st.session_state`` with its starting value (fresh objects each call)."""
    return {
        "models": {},             # name -> Denoiser the user trained or uploaded (this session only)
        "model_choice": BUNDLED,  # a key of "models", or BUNDLED
        "model_bytes": {},        # name -> .keras bytes, so a download is not re-serialised every rerun
        "model_file_seen": None,  # file_id of the last model file handled, so it is loaded once
        "model_error": None,      # message of the last model file that failed to load
        "job": None,              # this session's TrainingJob (app_pages/_training.py)
        "generated": None,        # Signal drawn on the Generate page
        "table": None,            # SeriesTable read on the Upload page
        "table_name": "",         # its file name
        "upload_seen": None,      # file_id of the last upload handled, so a file is read once
        "upload_error": None,     # message of the last file that failed; the previous table stays
        "upload_columns": [],     # value columns picked on the Upload page
        "clean_refs": {},         # value column -> its clean reference column (or None)
        "active": "generated",    # which data Compare shows: "generated" or "upload"
        "csv_cache": {},          # Compare's denoised CSV: {"key": (model, data, columns), "data": bytes}
        "auto_cache": {},         # automatic-pipeline results: (model, data, noise level) -> DenoiseResult
        "data_gen": 0,            # +1 whenever the uploaded data change: column widgets get new keys (never stale)
        "upload_gen": 0,          # +1 after a sample click or a reset: a fresh, empty file uploader
        "clean_table": None,      # SeriesTable of a separate clean-reference file (same rows as "table")
        "clean_name": "",         # its file name
        "clean_error": None,      # why the last clean-reference file was refused
        "offer": None,            # a new model offered, not imposed: {"name", "new_gain", "current_gain", ...}
    }


def plain(text: object, limit: int | None = None) -> str:
    """Text from a file (file, column or model names, notes, messages) for a Markdown element.

    :func:`denoiser.text.markdown` (the one place for the rule): every sign escaped, one line;
    ``limit``: cut at that many characters (names: ``NAME``, 80), messages whole.
    """
    return markdown(text, limit)


def short(name: object) -> str:
    """A name from a file for a widget's option list (plain text there): one line, at most NAME characters."""
    return cut(name, NAME)


def init_state() -> None:
    """Fill in missing session entries (app.py runs this before every page, through page_setup)."""
    for key, value in _defaults().items():
        st.session_state.setdefault(key, value)


def page_setup() -> None:
    """Run by app.py before every page: state, a finished training run's model, the sidebar."""
    init_state()
    _sessions.register()  # released (state, uploads, memory) once the tab has been gone for good
    if (finished := _training.take_result(st.session_state)) is not None:
        # A run that ended since the last rerun: its model is now in use, unless it makes the
        # test signals worse than they were (negative gain); the Model page then asks the user.
        name, model = finished
        offer = head_to_head(model, st.session_state.job.request)
        use = offer["clearly_better"]
        add_model(name, model, use=use)
        st.session_state.offer = {**offer, "name": name, "used": use}
    apply_query_params()
    with st.sidebar:
        choice = st.session_state.model_choice
        st.caption(f"**Model in use:** {'bundled (automatic)' if choice == BUNDLED else plain(choice, NAME)}")
        model_offer(compact=True)
        if st.session_state.table is not None:
            st.caption(f"**Uploaded data:** {plain(st.session_state.table_name, NAME)}")
        job = st.session_state.job
        if job is not None and job.running:
            _training_badge()
        if st.session_state.get("qp_missing_model"):
            st.caption(f"The link names the model **{plain(st.session_state.qp_missing_model, NAME)}**, which only "
                       "lived in the session that trained it: upload its .keras file on the Model page. The "
                       "bundled model is used meanwhile.")
        if missing_upload() is not None:
            st.caption(missing_upload())
        st.caption("Uploads and trained models live in this tab only: keep a model across a reload by "
                   "downloading it (Model page) and uploading it again. To share the settings, copy the link "
                   "below.")
        st.button("Reset: start over", key="reset_session", icon=":material/restart_alt:", on_click=reset_session,
                  help="Forget this session's data, models and settings, and clear the address bar.")


@st.fragment(run_every=2.0)
def _training_badge() -> None:
    """While this session trains, say so on every page; when it ends, rerun so the new model is used."""
    job = st.session_state.job
    if job is None or not job.running:
        st.rerun()
    job.seen()
    if job.status == "queued":
        st.info(f"Training queued: position {job.position()}.", icon=":material/hourglass_top:")
    elif job.kind == "search":
        st.info(f"Search: trial {len(job.trials) + 1} of {job.n_trials}.", icon=":material/travel_explore:")
    else:
        st.info(f"Training: epoch {len(job.logs)}/{job.epochs}.", icon=":material/model_training:")


# ------------------------------------------------------------------ data
@dataclass
class Signal:
    """One series to denoise, with its clean reference when one is known."""

    name: str
    noisy: np.ndarray
    clean: np.ndarray | None
    x: Any                            # x-axis values: ndarray, or a pandas Series of times
    x_title: str = "sample"
    family: str | None = None         # signal family when generated (picks the x² specialist)
    recipe: dict[str, Any] = field(default_factory=dict)  # how to make it again (download script)

    @property
    def length(self) -> int:
        return int(self.noisy.size)


def generated_signal(family: str = "x2", length: int = 150, kind: str = "gaussian", *, seed: int = 0,
                     noise_params: dict[str, float] | None = None, **level: float) -> Signal:
    """A synthetic noisy signal; ``level`` is ``sigma=...`` or ``snr_db=...``. Raises InputError.

    ``noise_params``: the noise kind's own parameters (e.g. ``{"rate": 0.1}`` for impulse
    noise); missing ones take the kind's defaults. One generator draws the signal first,
    then the noise, so the download script can repeat both.
    """
    from denoiser.signals import FAMILY_LABELS, add_noise, make_signal, noise_kind, x_grid

    spec = noise_kind(kind)
    # The kind's own parameters only, defaults filled: what the download script writes out.
    own = {p.name: (noise_params or {}).get(p.name, p.default) for p in spec.params}
    rng = np.random.default_rng(seed)
    clean = make_signal(family, length, rng)
    noisy = add_noise(clean, kind, rng=rng, **own, **level)
    recipe = {"origin": "generated", "family": family, "length": length, "kind": kind, "seed": seed,
              "noise_params": own, **level}
    return Signal(FAMILY_LABELS[family], noisy, clean, x_grid(length), "x", family=family, recipe=recipe)


CLEAN_FILE = "\x00clean file\x00"  # prefix of a column of the separate clean file (no CSV header holds NUL)


def upload_signal(table: "SeriesTable", column: str, clean_column: str | None, file_name: str) -> Signal:
    """A Signal from one value column of the uploaded table and an optional clean reference:
    a column of the same file (its name) or of the separate clean file (CLEAN_FILE + its name)."""
    x = table.time if table.time is not None else np.arange(len(table.values))
    x_title = table.report.time_column or "row"
    recipe = {"origin": "upload", "file": file_name, "column": column, "clean": clean_column}
    clean = None
    if clean_column and clean_column.startswith(CLEAN_FILE):
        name = clean_column[len(CLEAN_FILE):]
        clean = st.session_state.clean_table.column(name)
        recipe.update(clean=name, clean_file=st.session_state.clean_name)
    elif clean_column:
        clean = table.column(clean_column)
    return Signal(name=column, noisy=table.column(column), clean=clean, x=x, x_title=x_title, recipe=recipe)


def clean_options(column: str) -> list[str | None]:
    """Clean references offered for ``column``: none, another column of the file, a column of the clean file."""
    table, other = st.session_state.table, st.session_state.clean_table
    own = [c for c in table.values.columns if c != column] if table is not None else []
    extra = [CLEAN_FILE + c for c in other.values.columns] if other is not None else []
    return [None, *own, *extra]


def clean_label(ref: str | None, clean_name: str = "the clean file") -> str:
    """How a clean-reference choice is listed (``clean_name``: the separate clean file's name)."""
    if ref is None:
        return "none: real data, no clean version"
    if ref.startswith(CLEAN_FILE):
        return f"{short(ref[len(CLEAN_FILE):])}  (from {short(clean_name)})"
    return short(ref)


def upload_selection() -> tuple[list[str], dict[str, str | None]]:
    """The value columns picked on the Upload page and each one's clean reference column (or None)."""
    table = st.session_state.table
    if table is None:
        return [], {}
    names = list(table.values.columns)
    columns = [c for c in st.session_state.upload_columns if c in names] or default_columns(table)[:1]
    cleans = {c: st.session_state.clean_refs.get(c) for c in columns}
    return columns, {c: ref if ref in clean_options(c) else None for c, ref in cleans.items()}


def default_columns(table: "SeriesTable") -> list[str]:
    """Value columns worth denoising first (`SeriesTable.signal_columns`: no index, time, year or clean column)."""
    return table.signal_columns


# ------------------------------------------------------------------ models
@st.cache_resource(show_spinner=False)
def bundled_model(name: str) -> "Denoiser":
    """A bundled model, shared read-only by every session (never fit it)."""
    from denoiser.bundled import pretrained  # imports TensorFlow: only when a page needs a model
    return pretrained(name)


def uses_specialist(signal: Signal | None) -> bool:
    """The bundled x² specialist fits parabolas on the tutorial's 150-point grid and nothing else."""
    return (signal is not None and signal.family in SPECIALIST_FAMILIES
            and signal.length == SPECIALIST_LENGTH)


def add_model(name: str, model: "Denoiser", *, use: bool = True) -> None:
    """Keep a user's model in the session and (unless ``use`` is False) put it in use;
    only the newest few are kept (memory)."""
    models = st.session_state.models
    models.pop(name, None)
    models[name] = model
    st.session_state.model_bytes.pop(name, None)
    for old in list(models)[:-MAX_MODELS]:
        del models[old]
        st.session_state.model_bytes.pop(old, None)
    if use:
        st.session_state.model_choice = name
    elif st.session_state.model_choice not in models:
        st.session_state.model_choice = BUNDLED


def makes_worse(model: "Denoiser") -> bool:
    """Whether a model's test split came out worse than its noisy input (gain below 0 dB)."""
    gain = (model.test_metrics_ or {}).get("gain_db")
    return gain is not None and np.isfinite(gain) and gain < 0


def model_in_use(signal: Signal | None = None) -> tuple["Denoiser", str]:
    """The model that denoises ``signal``, and a short label for captions.

    The user's own model when one is chosen; otherwise the bundled default, or the
    x² specialist for parabolas on the tutorial's grid.
    """
    return resolve_model(st.session_state.model_choice, signal)


def resolve_model(choice: str, signal: Signal | None = None) -> tuple["Denoiser", str]:
    """A model of the session by name (BUNDLED: the default or the x² specialist), and its label."""
    if choice != BUNDLED and choice in st.session_state.models:
        return st.session_state.models[choice], choice
    with st.spinner("Loading the network (TensorFlow starts once, a few seconds)…"):
        name = "parabola" if uses_specialist(signal) else "default"
        return bundled_model(name), BUNDLED_LABELS[name]


#: How the bundled models are named in captions; :func:`bundled_recipe` maps such a label back.
BUNDLED_LABELS = {"parabola": "bundled x² specialist", "default": "bundled default"}


def bundled_recipe(label: str) -> str | None:
    """The bundled model (``pretrained`` name) a label of :func:`resolve_model` stands for; None: the user's."""
    return next((name for name, text in BUNDLED_LABELS.items() if text == label), None)


#: What each bundled model is, for captions.
MODEL_NOTES = {"parabola": "trained on parabolas a·(x−b)²+c on the tutorial's 150-point grid; this signal is one of those",
               "default": "a general blind denoiser, window 256"}


def network_words(label: str) -> str:
    """The model in use in words, as plain text (escape with :func:`plain` before Markdown)."""
    which = bundled_recipe(label)
    return {"parabola": "the bundled x² specialist", "default": "the bundled default model"}.get(
        which or "", f"your model: {cut(label, NAME)}")


def network_md(label: str) -> str:
    """:func:`network_words` for Markdown: a user's model's name escaped, the rest as written."""
    return network_words(label) if bundled_recipe(label) else f"your model: {plain(label, NAME)}"


def model_caption(label: str, res: "DenoiseResult | None" = None, *, classical_only: bool = False) -> str:
    """What was applied, for a caption (Markdown): the network alone, or what the automatic mode chose.

    ``res``: the automatic result (None: the network alone); ``classical_only``: the automatic mode
    ran without the network (a long recording). Made from ``DenoiseResult.describe``, so the caption
    names what was done, not merely the model that was offered.
    """
    words = network_words(label)
    note = MODEL_NOTES.get(bundled_recipe(label) or "", "choose another on the Model page")
    if res is None:
        return f"Network only: **{network_md(label)}** alone ({plain(note)}), unchecked."
    weighed = ("the classical filters only (the network was left out)" if classical_only else
               f"**{network_md(label)}** ({plain(note)}) against classical filters and the input itself")
    return f"Automatic (no-harm check) weighed {weighed}. Applied: {plain(res.describe(network=words))}"


def model_file_bytes(name: str, model: "Denoiser") -> bytes:
    """The .keras file of a user model, serialised once per model."""
    cache = st.session_state.model_bytes
    if name not in cache:
        cache[name] = model.to_bytes()
    return cache[name]


# ------------------------------------------------------------------ numbers
def fmt(value: float) -> str:
    """A metric for display: 3 significant digits, '—' when undefined."""
    if value is None or not np.isfinite(value):
        return "—" if value is None or np.isnan(value) else ("∞" if value > 0 else "−∞")
    return f"{value:.3g}"


def metric_cards(clean: np.ndarray, noisy: np.ndarray, denoised: np.ndarray, *, name: str = "denoised",
                 other: np.ndarray | None = None, other_name: str = "", per_row: int = 4) -> None:
    """MSE, MAE and gain of ``denoised`` (called ``name``) against the clean signal, each beside the noisy
    input's; with ``other``, a fourth card: the gain of the other result, scored the same way.
    ``per_row``: cards side by side (2 in a narrow column: a value such as 2.97e-05 needs ~160 px)."""
    mse_n, mse_d = metrics.mse(clean, noisy), metrics.mse(clean, denoised)
    mae_n, mae_d = metrics.mae(clean, noisy), metrics.mae(clean, denoised)
    n = 3 if other is None else 4
    cols = [c for _ in range(0, n, per_row) for c in st.columns(min(per_row, n))][:n]
    card = {"border": True, "height": "stretch"}  # equal heights, though not every card has a delta
    cols[0].metric(f"MSE ({name})", fmt(mse_d), _change(mse_n, mse_d), delta_color="inverse",
                   help=f"Mean squared error against the clean signal. Noisy input: {fmt(mse_n)}.", **card)
    cols[1].metric(f"MAE ({name})", fmt(mae_d), _change(mae_n, mae_d), delta_color="inverse",
                   help=f"Mean absolute error against the clean signal. Noisy input: {fmt(mae_n)}.", **card)
    gain = metrics.gain_db(clean, noisy, denoised)
    about = ("10·log10(MSE noisy / MSE denoised): how much of the noise power was removed."
             + ("" if mse_n > 0 else " With no noise there is nothing to remove, so no gain is defined."))
    cols[2].metric(f"Gain ({name})", f"{fmt(gain)} dB" if mse_n > 0 else "— (no noise)", help=about, **card)
    if other is not None:
        gain2 = metrics.gain_db(clean, noisy, other)
        delta = f"{gain2 - gain:+.1f} dB vs the {name}" if mse_n > 0 and np.isfinite(gain2 - gain) else None
        cols[3].metric(f"Gain ({other_name})", f"{fmt(gain2)} dB" if mse_n > 0 else "— (no noise)", delta,
                       help=f"The {other_name} result, scored against the same clean signal. " + about, **card)
    st.caption(f"Noisy input: MSE {fmt(mse_n)}, MAE {fmt(mae_n)}.")


def _change(before: float, after: float) -> str | None:
    if not (np.isfinite(before) and np.isfinite(after)) or before == 0:
        return None
    return f"{(after - before) / before:+.0%} vs noisy"


def comparison_table(clean: np.ndarray, noisy: np.ndarray, estimates: dict[str, np.ndarray]) -> pd.DataFrame:
    """MSE, MAE and gain of the noisy input and of each estimate against the clean signal."""
    rows = [{"": "Noisy input", "MSE": metrics.mse(clean, noisy), "MAE": metrics.mae(clean, noisy),
             "Gain (dB)": 0.0}]
    for label, est in estimates.items():
        rows.append({"": label, "MSE": metrics.mse(clean, est), "MAE": metrics.mae(clean, est),
                     "Gain (dB)": metrics.gain_db(clean, noisy, est)})
    return pd.DataFrame(rows).set_index("")


# ------------------------------------------------------------------ figures
def _line(x: Any, y: np.ndarray, name: str, kind: str, **style: Any) -> go.Scatter:
    if np.size(y) > MAX_POINTS:  # the browser gets a min/max-preserving downsample, never every point
        idx = downsample_index(y)
        x, y = take(x, idx), np.asarray(y)[idx]
    trace = go.Scattergl if np.size(y) > GL_POINTS else go.Scatter
    # Plotly reads names as its own small HTML (<a href> makes a link): file-derived names are escaped.
    return trace(x=x, y=y, name=html.escape(str(name)), mode="lines", line={"color": COLORS[kind], **style})


def signal_figure(x: Any, traces: Sequence[tuple[str, np.ndarray, str]], *, x_title: str = "x",
                  height: int = 380, title: str | None = None) -> go.Figure:
    """Overlaid traces; each is (legend name, values, kind) with kind a key of COLORS.

    Noisy input is drawn thin and pale, the clean reference dashed, estimates bold.
    Click a legend entry to hide a trace; drag to zoom, double-click to reset.
    """
    style = {"noisy": {"width": 1}, "clean": {"width": 2, "dash": "dash"}, "denoised": {"width": 3},
             "denoised2": {"width": 2.5, "dash": "dot"}, "auto": {"width": 3},
             "denoised_side": {"width": 2, "dash": "dot"}, "auto_side": {"width": 2, "dash": "dot"}}
    lines = [_line(x, y, name, kind, **style.get(kind, {"width": 1.5})) for name, y, kind in traces]
    for line, (_, _, kind) in zip(lines, traces):
        if kind in ("denoised", "denoised2", "auto", "denoised_side", "auto_side"):
            line.opacity = 0.7  # the dashed clean line on top stays readable where the two agree
    for rank, line in enumerate(lines):
        line.legendrank = 1000 + rank  # the legend keeps the caller's order...
    # ...but the clean reference is drawn last, on top: a good estimate would otherwise hide it.
    order = sorted(range(len(lines)), key=lambda i: traces[i][2] == "clean")
    return _layout(go.Figure([lines[i] for i in order]), x_title, "value", height, title)


def residual_figure(x: Any, removed: np.ndarray, error: np.ndarray | None, *, x_title: str = "x") -> go.Figure:
    """What the denoiser took away (noisy − denoised) and, when known, what it got wrong (denoised − clean)."""
    traces = [_line(x, removed, "removed (noisy − denoised)", "removed", width=1)]
    if error is not None:
        traces.append(_line(x, error, "error (denoised − clean)", "error", width=1.5))
    return _layout(go.Figure(traces), x_title, "difference", 300, "Residuals")


def histogram_figure(values: np.ndarray, title: str) -> go.Figure:
    """A 60-bin histogram, binned here: the browser gets 60 bars, not every value."""
    v = values[np.isfinite(values)]
    counts, edges = np.histogram(v, bins=60) if v.size else (np.zeros(0), np.zeros(1))
    fig = go.Figure(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, width=np.diff(edges),
                           marker_color=COLORS["removed"], opacity=0.8, name=title))
    return _layout(fig, "value", "count", 300, title)


def spectrum_figure(values: np.ndarray, title: str) -> go.Figure:
    """Welch power spectrum (per sample): white noise is flat, drift sits at the left, a signal leak shows as peaks."""
    v = values[np.isfinite(values)]
    freq, power = welch(v - v.mean(), nperseg=min(256, v.size)) if v.size >= 8 else (np.zeros(1), np.zeros(1))
    fig = go.Figure(go.Scatter(x=freq[1:], y=power[1:], mode="lines", line={"color": COLORS["removed"]}, name=title))
    fig.update_yaxes(type="log")
    return _layout(fig, "frequency (cycles per sample)", "power", 300, title)


def loss_figure(logs: Sequence[dict[str, float]], *, loss_name: str = "loss", height: int = 320) -> go.Figure:
    """Training and validation loss per epoch (log scale once they span more than a decade)."""
    epochs = [i + 1 for i in range(len(logs))]
    fig = go.Figure([
        go.Scatter(x=epochs, y=[r.get("loss") for r in logs], name="training", mode="lines+markers",
                   line={"color": COLORS["loss"]}),
        go.Scatter(x=epochs, y=[r.get("val_loss") for r in logs], name="validation", mode="lines+markers",
                   line={"color": COLORS["val_loss"]}),
    ])
    values = [v for r in logs for v in (r.get("loss"), r.get("val_loss")) if v is not None and v > 0]
    if values and max(values) > 10 * min(values):
        fig.update_yaxes(type="log")
    fig.update_xaxes(dtick=max(1, len(epochs) // 10))
    return _layout(fig, "epoch", f"{loss_name} (scaled windows)", height, "Loss per epoch")


def _layout(fig: go.Figure, x_title: str, y_title: str, height: int, title: str | None) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
                      title=html.escape(title) if title else None, xaxis_title=html.escape(str(x_title)),
                      yaxis_title=html.escape(str(y_title)), hovermode="x unified",
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1})
    return fig


PROJECTION_FONT = 22  # px: chart text in the lesson's projection mode (Plotly's default is 12)


def projected(fig: go.Figure) -> go.Figure:
    """A chart for a projector: every font (ticks, axis titles, legend, title, hover) and the height enlarged."""
    size = PROJECTION_FONT
    fig.update_layout(font={"size": size}, legend={"font": {"size": size}}, title={"font": {"size": size + 4}},
                      hoverlabel={"font": {"size": size}}, height=int((fig.layout.height or 380) * 1.25))
    fig.update_xaxes(tickfont={"size": size}, title_font={"size": size})
    fig.update_yaxes(tickfont={"size": size}, title_font={"size": size})
    return fig


def show(fig: go.Figure, key: str | None = None, *, projection: bool = False) -> None:
    """A chart, full width; ``projection``: enlarged for a projector (:func:`projected`)."""
    st.plotly_chart(projected(fig) if projection else fig, width="stretch", key=key, config={"displaylogo": False})


def history_as_logs(history: dict[str, list[float]]) -> list[dict[str, float]]:
    """A Denoiser's ``history_`` (lists per metric) as per-epoch rows, the shape loss_figure draws."""
    n = len(history.get("loss", []))
    return [{k: v[i] for k, v in history.items() if i < len(v)} for i in range(n)]


# ------------------------------------------------------------------ sample data
@st.cache_resource(show_spinner=False)
def sample_bytes(name: str) -> bytes:
    """A sample file (CSV, EDF, WAV) from assets/samples, read once per process (shared, read-only bytes)."""
    return (SAMPLES / name).read_bytes()


def sample_names() -> list[str]:
    return sorted(p.name for p in SAMPLES.iterdir() if p.is_file() and not p.name.startswith("."))


# ------------------------------------------------------------------ the automatic pipeline
# The method choice: stable keys (also the shared link's values), shown through METHOD_LABELS.
AUTOMATIC = "auto"
NETWORK_ONLY = "network"
METHOD_LABELS = {AUTOMATIC: "Automatic (no-harm check)", NETWORK_ONLY: "Network only"}
NOISE_MODES = {"estimate": "Estimate it from the data", "given": "I know sigma",
               "quiet": "Measure it on a quiet stretch"}
AUTO_CACHE_SIZE = 6  # results kept per session (each holds one denoised series)


def data_key(signal: Signal) -> tuple:
    """Identifies the data a signal comes from, for caches kept in the session."""
    if signal.recipe.get("origin") == "upload":
        table = st.session_state.table
        return ("upload", id(table), signal.name, id(table.values) if table is not None else None)
    return ("generated", id(signal.noisy))


def generated_table(signal: Signal) -> "SeriesTable":
    """A generated signal as a table (x, noisy, clean), what Compare's download and its script denoise."""
    from denoiser.io import SeriesTable

    return _cached(("table", data_key(signal)), (signal.noisy,),
                   lambda: SeriesTable.from_arrays({"noisy": signal.noisy, "clean": signal.clean}, time=signal.x))


def network_output(signal: Signal, model: "Denoiser") -> np.ndarray:
    """The network alone on ``signal``, computed once per model and data, kept in the session."""
    return _cached(("network", id(model), data_key(signal)), (model, signal.noisy, st.session_state.table),
                   lambda: model.denoise(signal.noisy))


def _cached(key: tuple, refs: tuple, compute: Any) -> Any:
    """A per-session cache entry keyed by object ids; the entry holds ``refs`` so that those
    objects stay alive while it exists, and a later object can never reuse their ids."""
    cache = st.session_state.auto_cache
    if key not in cache:
        while len(cache) >= AUTO_CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[key] = (refs, compute())
    return cache[key][1]


def auto_result(signal: Signal, model: "Denoiser", *, sigma: float | None = None,
                quiet: tuple[int, int] | None = None) -> "DenoiseResult":
    """The automatic pipeline on ``signal``: computed once per model, data and noise level, kept in the session."""
    from denoiser.auto import denoise

    def compute() -> "DenoiseResult":
        with st.spinner("Weighing the network against classical filters and the input itself…"):
            return denoise(signal.noisy, sigma=sigma, quiet=quiet, model=model)

    return _cached(("auto", id(model), data_key(signal), sigma, quiet),
                   (model, signal.noisy, st.session_state.table), compute)


def estimate_panel(res: "DenoiseResult", *, true_gain: float | None = None, fixes: str | None = None,
                   network: str | None = None) -> None:
    """What the automatic pipeline applied, how good it probably is, and how sure it is of that.

    ``network``: the model's name in words (:func:`network_words`), for what was applied;
    ``fixes``: the key prefix of the page's noise-level controls (:func:`noise_level_controls`);
    when the data could not show the noise level, the two fixes are offered as buttons that switch
    those controls (type sigma, select a quiet stretch).
    """
    lo, hi = res.gain_band_db
    source = res.sigma_source + (", an upper bound" if res.sigma_is_upper_bound else "")
    unknown = not res.identifiable and res.sigma_source == "estimated" and np.isfinite(res.sigma)
    if unknown:
        cannot_tell(res, fixes)
    card = {"border": True, "height": "stretch"}
    cols = st.columns(3)
    cols[0].metric("Noise level σ", fmt(res.sigma), help=f"Source: {source}. Standard deviation of the white "
                   "noise, in the data's units." + (f" The data only bound it (at most {fmt(res.sigma_bound)}), so a "
                   "cautious part of the bound was used." if res.sigma_is_upper_bound else ""), **card)
    # The likely range is the estimate's own second line (its delta), not a card of its own: two signed
    # numbers in a card's large type did not fit a quarter of the page at 1400 px ("+19.1 … +…").
    cols[1].metric("Estimated gain", f"{res.estimated_gain_db:+.1f} dB", f"likely {lo:+.1f} to {hi:+.1f} dB",
                   delta_color="off", delta_arrow="off", help="10·log10(noise power / estimated error left), "
                   "from Stein's unbiased risk estimate: no clean reference is needed. The likely range: where the "
                   "true gain probably lies, given the length of the recording and the uncertainty of the noise "
                   "level.", **card)
    cols[2].metric("Removal like noise", f"{res.whiteness:.0%}", help="100 % means what was "
                   "removed is spread evenly over time, as noise is; signal taken by mistake comes in bursts.",
                   **card)
    st.caption(f"Applied: {plain(res.describe(network=network))} Noise level: {source}.",
               help=f"Compact form: {res.describe(compact=True)}")
    if true_gain is not None and np.isfinite(true_gain):
        st.caption(f"True gain, measured against the clean reference (the estimate never sees it): "
                   f"{true_gain:+.1f} dB.")
    notes = "\n".join(f"- {plain(note)}" for note in res.notes)
    if res.trusted:
        st.success("**The estimate can be relied on.**" + (f"\n\n{notes}" if notes else ""),
                   icon=":material/verified:")
    elif unknown:   # the box above already says the main thing
        with st.expander("Details of the estimate"):
            st.markdown(notes)
    else:
        st.warning("**Treat the estimate with care.**" + (f"\n\n{notes}" if notes else ""),
                   icon=":material/warning:")


def cannot_tell(res: "DenoiseResult", fixes: str | None) -> None:
    """The prominent box when the data could not tell noise from signal, with the two fixes as buttons."""
    st.warning("**The recording could not tell its noise from its signal.** Only an upper bound of the noise "
               f"level is known ({fmt(res.sigma_bound)}), so a cautious {fmt(res.sigma)} was used. The result "
               "probably leaves noise in place: the true gain may be higher than shown. Tell the app the noise "
               "level for a full result:", icon=":material/help:")
    if fixes is None:
        return
    mode_key = f"{fixes}_noise_mode"

    def switch(mode: str) -> None:
        st.session_state[mode_key] = mode

    left, right, _ = st.columns([1, 1, 2])
    left.button("Type the noise level (σ)", key=f"{fixes}_fix_sigma", icon=":material/edit:", width="stretch",
                on_click=switch, args=("given",), help="From the instrument's datasheet or a calibration.")
    right.button("Select a quiet stretch", key=f"{fixes}_fix_quiet", icon=":material/straighten:", width="stretch",
                 on_click=switch, args=("quiet",), help="A part of the recording with no signal, only noise.")


def known_sigma(signal: Signal) -> float | None:
    """The sigma of white noise the app itself added to a generated signal (None otherwise)."""
    r = signal.recipe
    from denoiser.signals import NOISES, noise_sigma

    white = r.get("kind") in NOISES and NOISES[r["kind"]].white
    if r.get("origin") != "generated" or not white or signal.clean is None:
        return None

    return float(r["sigma"]) if "sigma" in r else noise_sigma(signal.clean, snr_db=r["snr_db"])


def noise_level_controls(signal: Signal, prefix: str) -> tuple[float | None, tuple[int, int] | None]:
    """Where the noise level comes from: estimated, typed in, or measured on a quiet stretch.

    Returns ``(sigma, quiet)`` for :func:`auto_result` (at most one is not None).
    """
    mode = st.radio("Noise level", list(NOISE_MODES), format_func=NOISE_MODES.get, horizontal=True,
                    key=f"{prefix}_noise_mode", index=index_of(list(NOISE_MODES), f"{prefix}_noise_mode", "estimate"),
                    persist_state="session",
                    help="Without a clean reference the noise level decides how much may be removed. "
                         "Estimated: from the finest time scale (an upper bound on broadband recordings). "
                         "Known: e.g. from the instrument's datasheet. Quiet stretch: where the recording "
                         "holds no signal, only noise.")
    if mode == "given":
        guess = float(np.nanstd(np.diff(signal.noisy)) / np.sqrt(2)) if signal.length > 2 else 0.1
        sigma = st.number_input("Noise sigma (in the data's units)", min_value=0.0, value=initial(f"{prefix}_sigma", None),
                                placeholder=f"e.g. {guess:.3g}", format="%.6g", key=f"{prefix}_sigma",
                                persist_state="session",
                                help="The standard deviation of the noise. With the right value the result "
                                     "is never worse than the input.")
        return (float(sigma) if sigma is not None else None), None
    if mode == "quiet":
        return None, quiet_stretch(signal, prefix)
    return None, None


def quiet_stretch(signal: Signal, prefix: str) -> tuple[int, int]:
    """A quiet stretch of the recording: box-select it on the plot, or set it with the slider."""
    n = signal.length
    key = f"{prefix}_quiet"
    idx = downsample_index(signal.noisy, QUIET_POINTS)
    fig = go.Figure(go.Scattergl(x=idx, y=signal.noisy[idx], mode="lines", name="noisy",
                                 line={"color": COLORS["noisy"], "width": 1}))
    stored = st.session_state.get(key)
    if not (isinstance(stored, tuple) and 0 <= stored[0] < stored[1] <= n):
        link = initial(key, None)  # a shared link's stretch, where it fits this series
        fits = isinstance(link, tuple) and 0 <= link[0] and link[1] <= n and link[1] - link[0] >= 16
        st.session_state[key] = link if fits else (0, min(n, max(16, n // 10)))  # else start at the beginning
    lo, hi = st.session_state[key]
    fig.add_vrect(x0=lo, x1=hi, fillcolor=COLORS["clean"], opacity=0.15, line_width=0)
    _layout(fig, "sample", "value", 220, None).update_layout(dragmode="select", showlegend=False)
    event = st.plotly_chart(fig, width="stretch", key=f"{key}_plot", on_select="rerun", selection_mode="box",
                            config={"displaylogo": False})
    box = (event.selection.get("box") or [{}])[0] if event and event.selection else {}
    if box.get("x"):
        a, b = sorted(int(round(v)) for v in box["x"][:2])
        picked = (max(0, a), min(n, b))
        if picked[1] - picked[0] >= 16 and picked != st.session_state.get(key):
            st.session_state[key] = picked
    return st.slider("Quiet stretch (samples)", 0, n, key=key, persist_state="session",
                     help="Drag on the plot above (box select) or move the ends here: a stretch with only "
                          "noise, at least 16 samples.")


QUIET_POINTS = 4000  # the quiet-stretch picker draws at most this many points
LONG_SERIES = 250_000  # Compare: above this many samples the network joins the automatic pipeline on request


#: The demos' (Home, Generate) headline choice: both results are shown and scored, one leads.
DEMO_LABELS = {NETWORK_ONLY: "The network (autoencoder)", AUTOMATIC: "Automatic (no-harm check)"}
DEMO_NAMES = {NETWORK_ONLY: "network", AUTOMATIC: "automatic"}


def method_choice(key: str) -> str:
    """Which result of a demo leads (the trace drawn bold, the metric cards): the network by default.

    On synthetic signals the truth is known, so both the network alone and the automatic mode are
    computed and scored; the demo teaches the autoencoder, so its output leads unless the user
    (or a link) picks the automatic result. Kept across pages and in the link.
    """
    options = list(DEMO_LABELS)
    return st.radio("Headline result", options, key=key, horizontal=True, format_func=DEMO_LABELS.get,
                    index=index_of(options, key, NETWORK_ONLY), persist_state="session",
                    help="Both are shown and scored against the clean signal. The network: the autoencoder's "
                         "output as it is. Automatic: the network, wavelet shrinkage and Savitzky-Golay weighed "
                         "against the input itself with a risk estimate, so only what the data support is applied.")


def demo_figure(signal: Signal, network: np.ndarray, auto: "DenoiseResult", headline: str, *,
                height: int = 380, clean_name: str = "clean") -> go.Figure:
    """Noisy, clean, the network's output and the automatic result; the headline drawn bold, the other dotted."""
    net = ("network", network, "denoised" if headline == NETWORK_ONLY else "denoised_side")
    automatic = ("automatic (no-harm check)", auto.denoised, "auto" if headline == AUTOMATIC else "auto_side")
    first, second = (net, automatic) if headline == NETWORK_ONLY else (automatic, net)
    return signal_figure(signal.x, [("noisy", signal.noisy, "noisy"), (clean_name, signal.clean, "clean"),
                                    first, second], x_title=signal.x_title, height=height)


def demo_scores(signal: Signal, network: np.ndarray, auto: "DenoiseResult", label: str, headline: str, *,
                per_row: int = 4) -> None:
    """The headline's metric cards with the other result's gain beside them, and what each one did."""
    main, other = (network, auto.denoised) if headline == NETWORK_ONLY else (auto.denoised, network)
    name, other_name = DEMO_NAMES[headline], DEMO_NAMES[AUTOMATIC if headline == NETWORK_ONLY else NETWORK_ONLY]
    metric_cards(signal.clean, signal.noisy, main, name=name, other=other, other_name=other_name, per_row=per_row)
    words = network_words(label)
    note = MODEL_NOTES.get(bundled_recipe(label) or "", "choose another on the Model page")
    st.caption(f"**Network** (blue): {network_md(label)}, alone ({plain(note)}).")
    estimate_line(auto, metrics.gain_db(signal.clean, signal.noisy, auto.denoised), network=words)


def estimate_line(res: "DenoiseResult", true_gain: float | None = None, *, network: str | None = None) -> None:
    """One caption: what the automatic mode applied (``network``: the model's name in words), its own
    estimate and, on generated data, the true gain."""
    lo, hi = res.gain_band_db
    text = (f"**Automatic** (teal): {plain(res.describe(network=network))} Its own estimate, without the "
            f"clean signal: {res.estimated_gain_db:+.1f} dB (likely {lo:+.1f} to {hi:+.1f}), noise σ {fmt(res.sigma)} "
            f"({res.sigma_source})")
    if true_gain is not None and np.isfinite(true_gain):
        text += f"; measured against the clean signal: {true_gain:+.1f} dB"
    st.caption(text + ".", help=f"Compact form: {res.describe(compact=True)}")


# ------------------------------------------------------------------ big series: downsample and zoom
MAX_POINTS = 4000  # points per trace sent to the browser; above this a min/max-preserving downsample


def downsample_index(y: np.ndarray, n_out: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most about ``n_out`` samples of ``y`` that keep its shape: every peak and dip.

    MinMaxLTTB from ``tsdownsample`` (min/max preselection, then largest-triangle-three-buckets):
    a spike one sample wide still shows, unlike a stride. NaN gaps are bridged for the choice of
    points, and the first sample of each gap is added back so a gap still shows as a gap.

    Parameters
    ----------
    y : ndarray, shape (n,)
    n_out : points wanted (even, >= 4)

    Returns
    -------
    ndarray of int, shape (m,), sorted, m <= n_out + n_out // 8
    """
    from tsdownsample import MinMaxLTTBDownsampler

    v = np.asarray(y, dtype=np.float64)
    if v.size <= n_out:
        return np.arange(v.size)
    finite = np.isfinite(v)
    if not finite.any():
        return np.linspace(0, v.size - 1, n_out).astype(np.int64)
    if not finite.all():
        v = np.interp(np.arange(v.size), np.flatnonzero(finite), v[finite])
    idx = MinMaxLTTBDownsampler().downsample(np.ascontiguousarray(v), n_out=n_out - n_out % 2)
    if not finite.all():
        starts = np.flatnonzero(~finite & np.r_[True, finite[:-1]])[: n_out // 8]
        idx = np.union1d(idx, starts)
    return np.asarray(idx, dtype=np.int64)


def take(x: Any, idx: np.ndarray) -> Any:
    """``x[idx]`` for an ndarray or a pandas Series of times."""
    return x.iloc[idx].to_numpy() if isinstance(x, pd.Series) else np.asarray(x)[idx]


def zoom(n: int, key: str, x: Any = None) -> slice:
    """For a series of more than MAX_POINTS samples: the range to draw, from a slider or a box drag.

    The chart drawn with :func:`show_zoomable` under the same ``key`` reports a box selection;
    it is turned into sample indices here, before the slider is drawn, so the slider follows it.
    Short series: the whole range, no control.
    """
    if n <= MAX_POINTS:
        return slice(0, n)
    stored = st.session_state.get(key)
    if not (isinstance(stored, tuple) and 0 <= stored[0] < stored[1] <= n):
        st.session_state[key] = (0, n)
    box = _box_x(st.session_state.get(f"{key}_plot"))
    if box is not None and box != st.session_state.get(f"{key}_box"):
        st.session_state[f"{key}_box"] = box  # each new box once: the slider stays movable afterwards
        lo, hi = _to_samples(box, x, n)
        if hi - lo >= 16:
            st.session_state[key] = (lo, hi)
    lo, hi = st.slider("Zoom: samples drawn", 0, n, key=key, step=1,
                       help=f"Drag across the plot (box select) or move these ends. Ranges of up to "
                            f"{MAX_POINTS:,} samples are drawn at full resolution; longer ones as a min/max-"
                            "preserving downsample, so every peak still shows.")
    shown = hi - lo
    st.caption(f"Showing samples {lo:,} to {hi:,} of {n:,}: "
               + ("every sample." if shown <= MAX_POINTS else
                  f"{MAX_POINTS:,} points per trace chosen to keep every peak and dip; drag across the plot "
                  "to zoom in at full resolution."))
    return slice(lo, max(hi, lo + 2))


def _box_x(event: Any) -> tuple | None:
    try:
        box = event["selection"]["box"]
        return tuple(box[0]["x"][:2]) if box and box[0].get("x") else None
    except (KeyError, TypeError, IndexError, AttributeError):
        return None


def _to_samples(box: tuple, x: Any, n: int) -> tuple[int, int]:
    """A box's x-range (in the chart's x units: samples, seconds or times) as sample indices."""
    try:
        if x is None:
            a, b = sorted(float(v) for v in box)
            return max(0, int(a)), min(n, int(np.ceil(b)) + 1)
        axis = x.to_numpy() if isinstance(x, pd.Series) else np.asarray(x)
        if np.issubdtype(axis.dtype, np.datetime64):
            ends = sorted(pd.Timestamp(v).to_datetime64() for v in box)
            ends = [np.datetime64(e, "ns").astype(axis.dtype) for e in ends]
        else:
            ends = sorted(float(v) for v in box)
        lo, hi = np.searchsorted(axis, ends[0]), np.searchsorted(axis, ends[1], side="right")
        return int(max(0, lo)), int(min(n, hi))
    except (TypeError, ValueError, OverflowError):
        return 0, n


def show_zoomable(fig: go.Figure, key: str, n: int) -> None:
    """A chart whose box selection zooms (through :func:`zoom`); a plain chart for short series."""
    if n <= MAX_POINTS:
        return show(fig, key=f"{key}_chart")
    fig.update_layout(dragmode="select", selectdirection="h")
    st.plotly_chart(fig, width="stretch", key=f"{key}_plot", on_select="rerun", selection_mode="box",
                    config={"displaylogo": False})


def sliced(signal: Signal, part: slice) -> Signal:
    """The part of a signal to draw (same name and recipe)."""
    clean = signal.clean[part] if signal.clean is not None else None
    x = signal.x.iloc[part] if isinstance(signal.x, pd.Series) else np.asarray(signal.x)[part]
    return Signal(signal.name, signal.noisy[part], clean, x, signal.x_title, signal.family, signal.recipe)


def widget_key(base: str) -> str:
    """A file uploader's key: a new one after a sample click or a reset, so the old file is dropped."""
    gen = st.session_state.get("upload_gen", 0)
    return base if gen == 0 else f"{base}_{gen}"


# ------------------------------------------------------------------ new models: offered, not imposed
TEST_SIGNALS = 64        # synthetic test signals both models denoise before a new one may replace the old
TEST_SEED = 2_147_483    # never a training seed of the forms (they draw from their own seed)
CLEARLY_BETTER_DB = 1.0  # a new model is put in use by itself only when it wins by at least this


def head_to_head(model: "Denoiser", request: Any) -> dict[str, Any]:
    """The new model and the one in use on the same synthetic test signals (the new one's recipe).

    A self-supervised model has no clean test signals: it is scored on the recording it learned
    from, by the automatic pipeline's own estimate with each model (the same noise level for both,
    so the difference is the models'). Returns ``{"new_gain", "current_gain", "current", "signals",
    "clearly_better", "estimated"}``.
    """
    from denoiser.signals import training_pairs

    current_choice = st.session_state.model_choice
    out = {"new_gain": None, "current_gain": None, "current": current_choice, "signals": 0,
           "clearly_better": False, "estimated": False}
    family = getattr(request, "family", None)
    series = getattr(request, "series", None)
    if getattr(request, "source", "synthetic") == "selfsup" and series is not None:
        from denoiser.auto import denoise

        current, label = resolve_model(current_choice, Signal("upload", series, None, np.arange(series.size)))
        try:
            new_res, cur_res = denoise(series, model=model), denoise(series, model=current)
        except Exception:  # noqa: BLE001 -- a failed comparison must never impose the model: offer it only
            return out
        new_gain, cur_gain = new_res.estimated_gain_db, cur_res.estimated_gain_db
        out.update(new_gain=float(new_gain), current_gain=float(cur_gain), current=label, estimated=True,
                   clearly_better=bool(np.isfinite(new_gain) and new_gain >= cur_gain + CLEARLY_BETTER_DB))
        return out
    if getattr(request, "source", "synthetic") != "synthetic" or family is None:
        return out
    length = int(model.config.window)
    probe = Signal("test", np.zeros(length), None, np.arange(length), family=family)
    current, label = resolve_model(current_choice, probe)
    try:
        noisy, clean = training_pairs(family, TEST_SIGNALS, length, noise=request.noise, sigma=request.sigma,
                                      rng=TEST_SEED)
        new_gain = metrics.gain_db(clean.ravel(), noisy.ravel(), np.asarray(model.denoise(noisy)).ravel())
        cur_gain = metrics.gain_db(clean.ravel(), noisy.ravel(), np.asarray(current.denoise(noisy)).ravel())
    except Exception:  # noqa: BLE001 -- a failed comparison must never impose the model: offer it only
        return out
    out.update(new_gain=float(new_gain), current_gain=float(cur_gain), current=label, signals=TEST_SIGNALS,
               clearly_better=bool(np.isfinite(new_gain) and new_gain >= cur_gain + CLEARLY_BETTER_DB))
    return out


def model_offer(*, compact: bool = False) -> None:
    """A newly trained model (or search winner) next to the one in use, with a "Use it" button."""
    offer = st.session_state.get("offer")
    if not offer or offer["name"] not in st.session_state.models:
        return
    name, new, cur = offer["name"], offer["new_gain"], offer["current_gain"]
    in_use = st.session_state.model_choice == name
    if new is not None and cur is not None and offer.get("estimated"):
        scores = (f" On your recording, the automatic mode's own estimate (no clean version needed): with it "
                  f"**{new:+.1f} dB**, with {plain(offer['current'], NAME)} **{cur:+.1f} dB**.")
    elif new is not None and cur is not None:
        scores = (f" On the same {offer['signals']} test signals: new **{new:+.1f} dB**, "
                  f"{plain(offer['current'], NAME)} **{cur:+.1f} dB**.")
    else:
        scores = " It could not be scored against the model in use."
    if in_use:
        if offer.get("used") and not compact:
            st.success(f"The new model **{plain(name, NAME)}** is in use: it is clearly better.{scores}",
                       icon=":material/check_circle:")
        return
    if offer.get("dismissed"):
        return
    text = f"New model **{plain(name, NAME)}** is ready, not in use.{scores}"
    box = st.container(border=True)
    box.caption(text) if compact else box.info(text, icon=":material/new_releases:")
    left, right = box.columns(2)
    suffix = "_side" if compact else ""
    if left.button("Use it", key=f"use_offer{suffix}", type="primary"):
        st.session_state.model_choice = name
        st.rerun()
    if right.button("Keep current", key=f"keep_offer{suffix}"):
        offer["dismissed"] = True
        st.rerun()


# ------------------------------------------------------------------ shareable state (st.query_params)
#: The Generate page's "Noise level as" choice: key -> label. A link written before the keys
#: carried the label, so LEVEL_ALIASES maps it too.
LEVEL_LABELS = {"sigma": "sigma", "snr": "SNR (dB)"}
LEVEL_ALIASES = {"SNR (dB)": "snr"}


QUERY_TEXT = 200  # characters of a link's text value (a model name) kept; a longer one is ignored


def _choice(options: Sequence[str], aliases: dict[str, str] | None = None) -> Any:
    aliases = aliases or {}
    return lambda v: v if v in options else aliases.get(v)


def _number(kind: type, lo: float, hi: float) -> Any:
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


def _text(limit: int = QUERY_TEXT) -> Any:
    return lambda v: v if v and len(v) <= limit and v.isprintable() else None


def _flag() -> Any:
    """A toggle or checkbox: "true" or "false" (as :func:`sync_query_params` writes them), "1" or "0"."""
    return lambda v: {"true": True, "1": True, "false": False, "0": False}.get(str(v).strip().lower())


def _span(hi: int = 10**9) -> Any:
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


#: Compare settings that belong to the sender's uploaded file: a link with data=upload opened without
#: that file drops them, so the sender's noise level is never applied to other data.
UPLOAD_ONLY = ("cmp_noise_mode", "cmp_sigma", "cmp_quiet", "cmp_long_net")
LEARN_UNET = {"bottleneck": "the bottleneck only", "skips": "the bottleneck and the skips (detail shrunk)"}
LEARN_FAMILIES = ("sines", "square", "chirp", "spikes", "smooth", "piecewise")
LEARN_STEPS = 7


def _query_fields() -> dict[str, Any]:
    """URL parameter -> parser (text -> the widget's value, or None when invalid)."""
    from denoiser.signals import FAMILIES, NOISES, noise_params

    return {
        "gen_family": _choice([*FAMILIES, "mixed", "realistic"]), "gen_length": _number(int, 32, 4096),
        "gen_noise": _choice(list(NOISES)), "gen_level_by": _choice(list(LEVEL_LABELS), LEVEL_ALIASES),
        "gen_sigma": _number(float, 0.0, 1.0), "gen_snr": _number(float, -10.0, 40.0),
        # each noise kind's own parameters (gen_rate: impulse), in their sliders' ranges
        **{f"gen_{name}": _number(float, p.ui[0], p.ui[1]) for name, p in noise_params().items()},
        "gen_seed": _number(int, 0, 1_000_000),
        "gen_method": _choice(list(METHOD_LABELS)), "cmp_method": _choice(list(METHOD_LABELS)),
        "cmp_sg": _number(int, 5, 301), "cmp_noise_mode": _choice(list(NOISE_MODES)),
        "cmp_sigma": _number(float, 0.0, 1e12), "cmp_quiet": _span(), "cmp_long_net": _flag(),
        "home_sigma": _number(float, 0.01, 0.30), "home_seed": _number(int, 0, 1_000_000),
        "home_method": _choice(list(METHOD_LABELS)),
        "learn_step": _number(int, 1, LEARN_STEPS), "learn_projection": _flag(),
        "learn_sigma": _number(float, 0.0, 0.3), "learn_rf_pos": _number(int, 0, 149),
        "learn_mm_sigma": _number(float, 0.0, 0.3), "learn_unet": _choice(list(LEARN_UNET)),
        "learn_vs_family": _choice(list(LEARN_FAMILIES)), "learn_data": _choice(sample_names()),  # a sample: an upload stays home
        "model": _text(), "data": _choice(["generated", "upload"]),
    }


def apply_query_params() -> None:
    """Once per session: read the settings a shared link carries (invalid values are ignored).

    Every parameter goes through its parser in :func:`_query_fields` (the one place links are
    read); a value a parser cannot take, or a parser that fails, is ignored, so no link can cost
    the page its sidebar (and with it the Reset button).
    """
    if "qp_initial" in st.session_state:
        return
    fields = _query_fields()
    initial = {}
    for key, parse in fields.items():
        raw = st.query_params.get(key)
        try:
            value = parse(raw) if raw is not None else None
        except Exception:  # noqa: BLE001 -- a link is untrusted text: ignore what cannot be read
            log.warning("link parameter %s ignored: %s", key, cut(raw))
            value = None
        if value is not None:
            initial[key] = value
    if initial.get("data") == "upload" and st.session_state.get("table") is None:
        # The sender's upload did not come with the link: say so, show the generated signal, and keep
        # the settings that were made for that file (its noise level) off whatever is shown instead.
        st.session_state.qp_missing_upload = {k: initial.pop(k) for k in UPLOAD_ONLY if k in initial}
        initial["data"] = "generated"
    st.session_state.qp_initial = initial
    if initial.get("model") not in (None, "bundled"):
        if initial["model"] in st.session_state.models:
            st.session_state.model_choice = initial["model"]
        else:  # user models live in one session only: the link cannot bring the file along
            st.session_state.qp_missing_model = initial["model"]
    if "data" in initial:
        st.session_state.active = initial["data"]


def missing_upload() -> str | None:
    """The one line for a link that refers to an upload this session does not have (None: nothing to say)."""
    dropped = st.session_state.get("qp_missing_upload")
    if dropped is None or st.session_state.get("table") is not None:
        return None
    sigma = dropped.get("cmp_sigma") if dropped.get("cmp_noise_mode") == "given" else None
    return ("This link refers to an uploaded file you don't have; showing the generated signal instead, without "
            "the file's noise settings" + (f" (σ {sigma:g})" if sigma is not None else "")
            + ". Upload the file on the Upload page to denoise it.")


def initial(key: str, default: Any) -> Any:
    """A widget's starting value: the shared link's (when the session started from one), else ``default``."""
    return st.session_state.get("qp_initial", {}).get(key, default)


def index_of(options: Sequence[Any], key: str, default: Any) -> int:
    """``index=`` for a selectbox or radio whose starting value may come from a shared link."""
    value = initial(key, default)
    return list(options).index(value) if value in options else list(options).index(default)


def sync_query_params() -> None:
    """After every run: the URL carries every setting that changes what is shown (see :func:`_query_fields`)."""
    if "qp_initial" not in st.session_state:
        return
    values = {k: v for k, v in st.session_state.qp_initial.items() if k not in ("model", "data")}
    for key in _query_fields():
        if key in st.session_state and key not in ("model", "data"):
            values[key] = st.session_state[key]
    choice = st.session_state.get("model_choice", BUNDLED)
    values["model"] = "bundled" if choice == BUNDLED else choice
    values["data"] = st.session_state.get("active", "generated")
    text = {k: _link_text(v) for k, v in values.items() if v is not None}
    if text != {k: st.query_params.get(k) for k in st.query_params}:
        st.query_params.from_dict(text)
    # The address bar now carries them too (the browser applies the change with history.pushState;
    # Playwright's page.url lags one run behind, location.href does not). The sidebar shows the same
    # link to copy, for a projector or an embedded app where the address bar is out of sight.
    from urllib.parse import urlencode

    base = (st.context.url or "").split("?")[0]
    with st.sidebar:
        st.caption("**Link to these settings** (Home, Generate, model, Compare, the lesson's step): open it "
                   "anywhere to see the same. An uploaded file is not in it.")
        st.code(f"{base}?{urlencode(text)}", language=None, wrap_lines=True)


def generated_from_state() -> Signal:
    """The generated signal the Generate page's settings (or a shared link's) describe."""
    get = lambda key, default: st.session_state.get(key, initial(key, default))  # noqa: E731
    level = ({"sigma": get("gen_sigma", 0.05)} if get("gen_level_by", "sigma") == "sigma"
             else {"snr_db": get("gen_snr", 20.0)})
    from denoiser.signals import noise_kind

    kind = get("gen_noise", "gaussian")
    params = {p.name: get(f"gen_{p.name}", p.default) for p in noise_kind(kind).params}
    return generated_signal(get("gen_family", "x2"), int(get("gen_length", 150)), kind,
                            seed=int(get("gen_seed", 0)), noise_params=params, **level)


def reset_session() -> None:
    """Back to the start: every setting, upload and model of this session dropped, the URL cleared."""
    job = st.session_state.get("job")
    if job is not None and job.running:
        job.stop.set()  # a queued run leaves the queue, a running one ends at its next epoch
    gens = st.session_state.get("data_gen", 0) + 1, st.session_state.get("upload_gen", 0) + 1
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.query_params.clear()
    init_state()
    st.session_state.update(data_gen=gens[0], upload_gen=gens[1], qp_initial={})
