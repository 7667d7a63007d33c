"""What the layers see: one window of the current data through the model in use (the Model page).

The window is taken from the data as ``denoise`` takes it: gaps bridged, and a series shorter
than the window continued by odd reflection (:func:`denoiser.windows.extend`).
"""

from __future__ import annotations

import warnings

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app_pages.ui import charts, data, models
from app_pages.ui.text import NAME, plain
from denoiser.presets import PRESETS
from denoiser.windows import bridge_gaps, extend


def layers_view() -> None:
    """One window of the current signal through the model in use: a heatmap of a chosen layer's outputs."""
    signal = data.current_signal()
    model, label = models.model_in_use(signal)
    w = model.config.window
    values = np.asarray(signal.noisy, dtype=np.float64)
    ok = np.isfinite(values)
    if ok.sum() < 2:
        st.info("The current signal has too few numbers to show.")
        return
    values = bridge_gaps(values)  # as denoise does
    st.caption(
        f"A window of **{plain(signal.name, NAME)}** ({signal.length} samples) through **{plain(label, NAME)}** "
        f"(window {w}). Change the data on the Generate or Upload page."
    )
    left, right = st.columns([1, 2])
    if values.size > w:
        start = left.slider("Window starts at sample", 0, values.size - w, 0, max(1, w // 8), key="act_start")
        window = values[start : start + w]
    else:
        start, window = 0, extend(values, w)  # as denoise pads it
        if values.size < w:
            left.caption(
                f"The signal is shorter than the window: it is continued to {w} samples by odd "
                "reflection about its last value (its trend goes on), as denoising does."
            )
    try:
        with warnings.catch_warnings():  # Keras notes the probe's input naming on every call: not for users
            warnings.simplefilter("ignore", UserWarning)
            acts = model.activations(window)
    except Exception as err:  # noqa: BLE001 -- an inspection view must not take the page down
        st.warning(f"Could not read this model's layers ({type(err).__name__}: {plain(err)}).")
        return
    names = list(acts)
    default = names.index("bottleneck") if "bottleneck" in names else len(names) // 2
    layer = left.selectbox(
        "Layer",
        names,
        index=default,
        key="act_layer",
        format_func=lambda n: f"{n}  ({acts[n].shape[0]} positions × {acts[n].shape[1]} channels)",
    )
    spec = PRESETS.get(model.config.preset)
    left.markdown(spec.layer_notes if spec else "")
    a = acts[layer]
    x = np.arange(start, start + w)
    pos = start + (np.arange(a.shape[0]) + 0.5) * w / a.shape[0]  # each position's place in the input
    with right:
        charts.show(
            charts.signal_figure(
                x,
                [("noisy window", window, "noisy"), ("denoised", model.denoise(window), "denoised")],
                x_title="sample",
                height=220,
                title="The window",
            ),
            key="act_window",
        )
        fig = go.Figure(
            go.Heatmap(z=a.T, x=pos, y=np.arange(a.shape[1]), colorscale="RdBu_r", zmid=0, colorbar={"title": "output"})
        )
        fig.update_layout(
            height=320,
            margin={"l": 10, "r": 10, "t": 40, "b": 10},
            title=f"{layer}: what each channel (row) responds to along the window",
            xaxis_title="sample",
            yaxis_title="channel",
        )
        charts.show(fig, key="act_heatmap")
    st.caption(
        f"'{layer}' has {a.shape[0]} positions for the {w} input samples: each covers about "
        f"{w / a.shape[0]:.3g} input samples. Red is a strong positive response, blue a negative one, white "
        "none (ReLU layers are never negative; many channels stay silent for a given window)."
    )
