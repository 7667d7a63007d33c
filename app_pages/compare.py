"""Compare: the network against the noisy input and two classical filters, with downloads.

The page builds one :class:`denoiser.apply.Recipe` from its widgets (model, method, columns, the
noise level of the column shown, part and row limit of the upload) and uses it for the download
(``denoise_table`` + ``output_bytes``), for the script (``denoiser.script``) and for the caption
that says what the download holds, so the three tell one story.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import streamlit as st

from app_pages.ui import charts, data, estimate, links, models
from app_pages.ui.choices import AUTOMATIC
from app_pages.ui.state import BUNDLED, Origin, session
from app_pages.ui.text import NAME, plain, short
from denoiser.apply import Level, Recipe, TableResult, denoise_table, output_bytes
from denoiser.classical import savgol, wavelet
from denoiser.errors import InputError
from denoiser.metrics import gain_db
from denoiser.script import GENERATED_OUT, MODEL_FILE, file_script, generated_script, out_name

if TYPE_CHECKING:  # TensorFlow and pandas parsing: loaded when needed
    from denoiser.core import Denoiser
    from denoiser.io import SeriesTable

DATA_LABELS = {Origin.GENERATED: "Generated signal", Origin.UPLOAD: "Uploaded data"}


def download(
    table: SeriesTable, recipe: Recipe, model: Denoiser | bool, known: dict[str, Any]
) -> tuple[bytes, TableResult]:
    """The denoised CSV and what it holds, made once per (recipe, model, data) and kept in the session.

    Built during the run rather than in a deferred download callable: the deferred callable ran
    outside the script and, rarely, never returned (the button spun). ``known``: the result of
    the column on screen, computed with this recipe already (not computed twice).
    """
    key = (recipe, id(model), id(table), id(table.values))
    cache = session().csv_cache
    if cache.get("key") != key:
        with st.spinner("Denoising the columns of the download…"):
            done = denoise_table(table, recipe, model, known=known)
            csv_bytes = output_bytes(table, done)
        cache.clear()
        cache.update(key=key, data=csv_bytes, done=done, refs=(table, model))  # refs: ids stay theirs
    return cache["data"], cache["done"]


def spread(removed: np.ndarray) -> dict[str, float]:
    """Size of what a method removed: plain and outlier-robust standard deviation."""
    v = removed[np.isfinite(removed)]
    mad = float(np.median(np.abs(v - np.median(v)))) if v.size else float("nan")
    return {
        "mean": float(v.mean()) if v.size else float("nan"),
        "std": float(v.std()) if v.size else float("nan"),
        "robust std (1.4826·MAD)": 1.4826 * mad,
    }


s = session()
st.title("Compare")

# ---- which data
# Opened before Generate: a shared link's signal, else the tutorial's case (said so) rather than a blank page.
stand_in = s.generated is None and not links.from_link("gen_")
if links.missing_upload() is not None:
    st.info(links.missing_upload(), icon=":material/link_off:")

pick, column_pick, sg_pick = st.columns([2, 2, 1])
available, active = data.available_data(), data.current_origin()
with pick:
    if len(available) > 1:
        active = st.radio(
            "Data", available, index=available.index(active), format_func=DATA_LABELS.__getitem__, horizontal=True
        )
    else:
        st.caption(f"**Data:** {DATA_LABELS[active].lower()}")
s.active = active
columns: list[str] = []
if active == Origin.UPLOAD:
    columns, _ = data.upload_selection()
    every = list(s.upload_table.values.columns)
    with column_pick:  # any value column can be shown here; the CSV has the Upload page's columns and this one
        column = st.selectbox(
            "Column",
            every,
            index=every.index(columns[0]),
            key="cmp_column",
            format_func=short,
            help="The column shown. The CSV holds the columns picked on the Upload page, plus this one.",
        )
    if column not in columns:
        columns = [*columns, column]
    signal = data.current_signal(column)
else:
    signal = data.current_signal()
    column_pick.caption(f"**{plain(signal.name, NAME)}**, {signal.length} samples")
    if stand_in:
        st.caption(
            "Showing the tutorial's x² with Gaussian noise (sigma 0.05): change it on the Generate page, "
            "or upload your own data."
        )
with sg_pick:
    sg_window = int(
        st.number_input(
            "Savitzky-Golay window",
            5,
            301,
            links.initial("cmp_sg", 21),
            2,
            key="cmp_sg",
            persist_state="session",
            help="Samples per local quadratic fit (odd). Wider smooths more.",
        )
    )

# ---- a second model, side by side (when the session has another one)
others = [n for n in [BUNDLED, *s.models] if n != s.model_choice]
second = None
if others:
    second = st.selectbox(
        "Second model (optional)",
        [None, *others],
        key="cmp_second",
        format_func=lambda n: "none" if n is None else "bundled (default or x² specialist)" if n == BUNDLED else n,
        help="Show another model of this session beside the one in use: both traces, "
        "both rows in the metrics table (e.g. a U-Net against an LSTM).",
    )
    if second is not None and second != BUNDLED and second not in s.models:
        second = None

# ---- denoise: the network(s) and the two classical filters
model, label = models.model_in_use(signal)
main_net = f"Network ({label})"  # the model in use: its row, trace and output
networks = {main_net: model}
label2 = None
if second is not None:
    model2, label2 = models.resolve_model(second, signal)
    networks.setdefault(f"Network ({label2})", model2)
method_col, level_col = st.columns([1, 3])
method = estimate.method_choice("cmp_method", estimate.METHOD, where=method_col)
sigma = quiet = None
use_net = True  # long recordings: the network (the slow part, ~20 s per million samples on 2 cores) on request
if method == AUTOMATIC and signal.length > estimate.LONG_SERIES:
    use_net = method_col.checkbox(
        "Include the network",
        bool(links.initial("cmp_long_net", False)),
        key="cmp_long_net",
        persist_state="session",
        help=f"This recording has {signal.length:,} samples. Without the network the "
        "automatic pipeline weighs wavelet shrinkage and Savitzky-Golay only and "
        "finishes in seconds; with it, expect about "
        f"{25 * signal.length / 1e6:.0f} s on a 2-core server.",
    )
    if not use_net:
        st.caption(
            f"Long recording ({signal.length:,} samples): classical filters only, so the page stays "
            "quick. Tick **Include the network** to weigh it in too."
        )
        networks = {}
auto_model = model if use_net else False
if method == AUTOMATIC:
    with level_col:
        sigma, quiet = estimate.noise_level_controls(signal, "cmp")
try:
    outputs = {name: estimate.network_output(signal, net) for name, net in networks.items()}
    auto = estimate.auto_result(signal, auto_model, sigma=sigma, quiet=quiet) if method == AUTOMATIC else None
except InputError as err:
    st.error(plain(err))
    st.stop()
auto_name = f"Automatic ({label})" if use_net else "Automatic (classical filters)"
denoised = auto.denoised if auto is not None else outputs[main_net]
estimates = {
    **({auto_name: auto.denoised} if auto is not None else {}),
    **outputs,
    f"Savitzky-Golay (window {sg_window}, order 2)": savgol(signal.noisy, sg_window, 2),
    "Wavelet shrinkage (BayesShrink)": wavelet(signal.noisy),
}
st.caption(
    models.model_caption(label, auto, classical_only=not use_net)
    + (f" Second model: **{plain(label2, NAME)}**." if len(networks) > 1 else "")
)

# Long series: the range to draw (full resolution up to charts.MAX_POINTS samples, else min/max-preserving)
zoom_key = "cmp_zoom"
part = charts.zoom(signal.length, zoom_key, signal.x)
view = data.sliced(signal, part)
traces = [("noisy", view.noisy, "noisy")]
if view.clean is not None:
    traces.append(("clean", view.clean, "clean"))
kinds = (["auto"] if auto is not None else []) + ["denoised", "denoised2"][: len(outputs)] + ["savgol", "wavelet"]
traces += [(name, est[part], kind) for (name, est), kind in zip(estimates.items(), kinds)]
fig = charts.signal_figure(view.x, traces, x_title=signal.x_title, height=440, title="Signals")
filters = list(estimates)[len(outputs) + (auto is not None) :]
fig.update_traces(visible="legendonly", selector=lambda t: t.name in filters)  # filters: a click away
charts.show_zoomable(fig, zoom_key, signal.length)
st.caption(
    "Click a legend entry to show or hide a trace; "
    + (
        "drag across the plot to zoom in on a range."
        if signal.length > charts.MAX_POINTS
        else "drag to zoom, double-click to reset."
    )
)

removed = signal.noisy - denoised
error = denoised - signal.clean if signal.clean is not None else None
charts.show(
    charts.residual_figure(view.x, removed[part], error[part] if error is not None else None, x_title=signal.x_title)
)

# ---- how good is it, without the truth
if auto is not None:
    st.subheader("How good is the result?")
    true_gain = gain_db(signal.clean, signal.noisy, auto.denoised) if signal.clean is not None else None
    estimate.estimate_panel(auto, true_gain=true_gain, fixes="cmp", network=models.network_words(label))
else:
    st.info(
        "The network alone is applied as it is: nothing checks that it does no harm. Choose "
        "**Automatic** above for a result weighed against the input, with an estimate of its quality.",
        icon=":material/info:",
    )

# ---- scores
if signal.clean is not None:
    st.subheader("Metrics against the clean reference")
    table = charts.comparison_table(signal.clean, signal.noisy, estimates)
    st.dataframe(
        table.style.format("{:.4g}")
        .highlight_min(["MSE", "MAE"], color="#dcfce7")
        .highlight_max(["Gain (dB)"], color="#dcfce7"),
        width="stretch",
    )
    best = table["MSE"].idxmin()
    st.caption(
        f"Lowest error: **{plain(best, 2 * NAME)}**. Gain = 10·log10(MSE of the noisy input / MSE of the estimate); "
        "positive means noise was removed. The Savitzky-Golay window is yours to tune above."
    )
else:
    st.subheader("No clean reference")
    st.caption(
        "This data has no clean version, so MSE, MAE and gain cannot be measured, only estimated (above). "
        "What can be shown is what each method removed: it should look like noise (centred on zero, no "
        "structure, a flat spectrum for white noise)."
    )
    st.dataframe(
        pd.DataFrame({name: spread(signal.noisy - est) for name, est in estimates.items()}).T.style.format("{:.4g}"),
        width="stretch",
    )
    left, right = st.columns(2)
    with left:
        charts.show(charts.histogram_figure(removed, "Removed: distribution"))
    with right:
        charts.show(charts.spectrum_figure(removed, "Removed: spectrum"))

# ---- downloads: one recipe for the file, the script and the caption that says what the file holds
st.subheader("Downloads")
noise = (
    Level(sigma=float(sigma))
    if sigma is not None
    else Level(quiet=(int(quiet[0]), int(quiet[1])))
    if quiet is not None
    else Level()
)
# The model as the script names it: a bundled one, "none" (the long-recording network left out), or the
# user's model under the name the Model page downloads it as.
spec = "none" if auto is not None and not use_net else (models.bundled_recipe(label) or MODEL_FILE)
if active == Origin.UPLOAD:
    data_table = s.upload_table
    report = data_table.report
    # The Upload page's columns plus the one shown; the shown one keeps its noise-level choice, the
    # others are estimated from their own data.
    recipe = Recipe(
        model=spec,
        method=method,
        columns=tuple(columns),
        levels=((signal.name, noise),) if auto is not None and noise != Level() else (),
        part=report.part if len(report.parts) > 1 else None,
        max_samples=data.MAX_UPLOAD_SAMPLES if report.rows_left else None,
    )
    shown_column, file_name = signal.name, out_name(signal.recipe["file"])
else:
    data_table = data.generated_table(signal)
    recipe = Recipe(model=spec, method=method, columns=("noisy",), level=noise if auto is not None else Level())
    shown_column, file_name = "noisy", GENERATED_OUT
known = {shown_column: auto if auto is not None else outputs[main_net]}
try:
    csv_bytes, done = download(data_table, recipe, auto_model if auto is not None else model, known)
except InputError as err:
    st.error(plain(err))
    st.stop()
left, right = st.columns(2)
# on_click="ignore": a download needs no rerun (on 1M rows the rerun before the file came cost ~4 s)
left.download_button(
    "Denoised CSV",
    csv_bytes,
    file_name=file_name,
    mime="text/csv",
    icon=":material/download:",
    type="primary",
    key="download_csv",
    on_click="ignore",
    help="The file as it came in (its delimiter, decimal mark, encoding and time column), plus "
    "NAME_denoised for every column picked on the Upload page and the one shown, NAME_filled "
    "where gaps were filled, and a few # lines on top that say what was applied."
    if active == Origin.UPLOAD
    else "x, noisy, clean and noisy_denoised, with # lines on top that say what was applied.",
)
if active == Origin.UPLOAD:
    r = signal.recipe
    clean = (signal.name, r["clean"], r.get("clean_file")) if r.get("clean") else None
    script = file_script(recipe, r["file"], model_label=label if spec == MODEL_FILE else None, clean=clean)
else:
    script = generated_script(recipe, signal.recipe, model_label=label if spec == MODEL_FILE else None)
right.download_button(
    "Python script",
    script,
    file_name="reproduce.py",
    mime="text/x-python",
    icon=":material/code:",
    on_click="ignore",
    help="Makes the download again with the denoiser package: the same recipe (columns, noise "
    "level per column, method, model).",
)
st.caption("**The download holds:** " + " ".join(plain(line) for line in done.describe(5)))
with st.expander("Show the script"):
    st.code(script, language="python")
