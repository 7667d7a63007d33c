"""Charts and numbers: figures, metric cards and tables, and how big series are drawn (downsample, zoom).

Every trace sends at most :data:`MAX_POINTS` points to the browser, chosen by MinMaxLTTB so every
peak and dip still shows; a longer series gets a zoom (a slider and a box drag on the chart) that
redraws a part at full resolution. File-derived names are HTML-escaped before Plotly reads them.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from scipy.signal import welch

from app_pages.ui.state import session
from denoiser import metrics

GL_POINTS = 5000  # above this many samples, draw with WebGL so the browser keeps up
MAX_POINTS = 4000  # points per trace sent to the browser; above this a min/max-preserving downsample
PROJECTION_FONT = 22  # px: chart text in the lesson's projection mode (Plotly's default is 12)

CARD: dict[str, Any] = {"border": True, "height": "stretch"}  # metric cards of equal heights, with a delta or not
COLORS = {
    "noisy": "#94a3b8",
    "series2": "#0ea5e9",
    "series3": "#f43f5e",
    "clean": "#15803d",
    "denoised": "#2563eb",
    "denoised2": "#db2777",
    "savgol": "#f59e0b",
    "wavelet": "#a855f7",
    "removed": "#ef4444",
    "error": "#0f172a",
    "loss": "#2563eb",
    "val_loss": "#f97316",
    "auto": "#0d9488",
    "denoised_side": "#2563eb",
    "auto_side": "#0d9488",  # a demo's second result: same colour, dotted
}


# ------------------------------------------------------------------ numbers
def fmt(value: float) -> str:
    """A metric for display: 3 significant digits, '—' when undefined."""
    if value is None or not np.isfinite(value):
        return "—" if value is None or np.isnan(value) else ("∞" if value > 0 else "−∞")
    return f"{value:.3g}"


def metric_cards(
    clean: np.ndarray,
    noisy: np.ndarray,
    denoised: np.ndarray,
    *,
    name: str = "denoised",
    other: np.ndarray | None = None,
    other_name: str = "",
    per_row: int = 4,
) -> None:
    """MSE, MAE and gain of ``denoised`` (called ``name``) against the clean signal, each beside the noisy
    input's; with ``other``, a fourth card: the gain of the other result, scored the same way.
    ``per_row``: cards side by side (2 in a narrow column: a value such as 2.97e-05 needs ~160 px)."""
    mse_n, mse_d = metrics.mse(clean, noisy), metrics.mse(clean, denoised)
    mae_n, mae_d = metrics.mae(clean, noisy), metrics.mae(clean, denoised)
    n = 3 if other is None else 4
    cols = [c for _ in range(0, n, per_row) for c in st.columns(min(per_row, n))][:n]
    cols[0].metric(
        f"MSE ({name})",
        fmt(mse_d),
        _change(mse_n, mse_d),
        delta_color="inverse",
        help=f"Mean squared error against the clean signal. Noisy input: {fmt(mse_n)}.",
        **CARD,
    )
    cols[1].metric(
        f"MAE ({name})",
        fmt(mae_d),
        _change(mae_n, mae_d),
        delta_color="inverse",
        help=f"Mean absolute error against the clean signal. Noisy input: {fmt(mae_n)}.",
        **CARD,
    )
    gain = metrics.gain_db(clean, noisy, denoised)
    about = "10·log10(MSE noisy / MSE denoised): how much of the noise power was removed." + (
        "" if mse_n > 0 else " With no noise there is nothing to remove, so no gain is defined."
    )
    cols[2].metric(f"Gain ({name})", f"{fmt(gain)} dB" if mse_n > 0 else "— (no noise)", help=about, **CARD)
    if other is not None:
        gain2 = metrics.gain_db(clean, noisy, other)
        delta = f"{gain2 - gain:+.1f} dB vs the {name}" if mse_n > 0 and np.isfinite(gain2 - gain) else None
        cols[3].metric(
            f"Gain ({other_name})",
            f"{fmt(gain2)} dB" if mse_n > 0 else "— (no noise)",
            delta,
            help=f"The {other_name} result, scored against the same clean signal. " + about,
            **CARD,
        )
    st.caption(f"Noisy input: MSE {fmt(mse_n)}, MAE {fmt(mae_n)}.")


def _change(before: float, after: float) -> str | None:
    if not (np.isfinite(before) and np.isfinite(after)) or before == 0:
        return None
    return f"{(after - before) / before:+.0%} vs noisy"


def comparison_table(clean: np.ndarray, noisy: np.ndarray, estimates: dict[str, np.ndarray]) -> pd.DataFrame:
    """MSE, MAE and gain of the noisy input and of each estimate against the clean signal."""
    rows = [{"": "Noisy input", "MSE": metrics.mse(clean, noisy), "MAE": metrics.mae(clean, noisy), "Gain (dB)": 0.0}]
    for label, est in estimates.items():
        rows.append(
            {
                "": label,
                "MSE": metrics.mse(clean, est),
                "MAE": metrics.mae(clean, est),
                "Gain (dB)": metrics.gain_db(clean, noisy, est),
            }
        )
    return pd.DataFrame(rows).set_index("")


# ------------------------------------------------------------------ figures
def _line(x: Any, y: np.ndarray, name: str, kind: str, **style: Any) -> go.Scatter:
    if np.size(y) > MAX_POINTS:  # the browser gets a min/max-preserving downsample, never every point
        idx = downsample_index(y)
        x, y = take(x, idx), np.asarray(y)[idx]
    trace = go.Scattergl if np.size(y) > GL_POINTS else go.Scatter
    # Plotly reads names as its own small HTML (<a href> makes a link): file-derived names are escaped.
    return trace(x=x, y=y, name=html.escape(str(name)), mode="lines", line={"color": COLORS[kind], **style})


def signal_figure(
    x: Any,
    traces: Sequence[tuple[str, np.ndarray, str]],
    *,
    x_title: str = "x",
    height: int = 380,
    title: str | None = None,
) -> go.Figure:
    """Overlaid traces; each is (legend name, values, kind) with kind a key of COLORS.

    Noisy input is drawn thin and pale, the clean reference dashed, estimates bold.
    Click a legend entry to hide a trace; drag to zoom, double-click to reset.
    """
    style: dict[str, dict[str, Any]] = {
        "noisy": {"width": 1},
        "clean": {"width": 2, "dash": "dash"},
        "denoised": {"width": 3},
        "denoised2": {"width": 2.5, "dash": "dot"},
        "auto": {"width": 3},
        "denoised_side": {"width": 2, "dash": "dot"},
        "auto_side": {"width": 2, "dash": "dot"},
    }
    lines = [_line(x, y, name, kind, **style.get(kind, {"width": 1.5})) for name, y, kind in traces]
    for line, (_, _, kind) in zip(lines, traces):
        if kind in ("denoised", "denoised2", "auto", "denoised_side", "auto_side"):
            line.opacity = 0.7  # the dashed clean line on top stays readable where the two agree
    for rank, line in enumerate(lines):
        line.legendrank = 1000 + rank  # the legend keeps the caller's order...
    # ...but the clean reference is drawn last, on top: a good estimate would otherwise hide it.
    order = sorted(range(len(lines)), key=lambda i: traces[i][2] == "clean")
    return layout(go.Figure([lines[i] for i in order]), x_title, "value", height, title)


def residual_figure(x: Any, removed: np.ndarray, error: np.ndarray | None, *, x_title: str = "x") -> go.Figure:
    """What the denoiser took away (noisy − denoised) and, when known, what it got wrong (denoised − clean)."""
    traces = [_line(x, removed, "removed (noisy − denoised)", "removed", width=1)]
    if error is not None:
        traces.append(_line(x, error, "error (denoised − clean)", "error", width=1.5))
    return layout(go.Figure(traces), x_title, "difference", 300, "Residuals")


def histogram_figure(values: np.ndarray, title: str) -> go.Figure:
    """A 60-bin histogram, binned here: the browser gets 60 bars, not every value."""
    v = values[np.isfinite(values)]
    counts, edges = np.histogram(v, bins=60) if v.size else (np.zeros(0), np.zeros(1))
    fig = go.Figure(
        go.Bar(
            x=(edges[:-1] + edges[1:]) / 2,
            y=counts,
            width=np.diff(edges),
            marker_color=COLORS["removed"],
            opacity=0.8,
            name=title,
        )
    )
    return layout(fig, "value", "count", 300, title)


def spectrum_figure(values: np.ndarray, title: str) -> go.Figure:
    """Welch power spectrum (per sample): white noise is flat, drift sits at the left, a signal leak shows as peaks."""
    v = values[np.isfinite(values)]
    freq, power = welch(v - v.mean(), nperseg=min(256, v.size)) if v.size >= 8 else (np.zeros(1), np.zeros(1))
    fig = go.Figure(go.Scatter(x=freq[1:], y=power[1:], mode="lines", line={"color": COLORS["removed"]}, name=title))
    fig.update_yaxes(type="log")
    return layout(fig, "frequency (cycles per sample)", "power", 300, title)


def loss_figure(logs: Sequence[dict[str, float]], *, loss_name: str = "loss", height: int = 320) -> go.Figure:
    """Training and validation loss per epoch (log scale once they span more than a decade)."""
    epochs = [i + 1 for i in range(len(logs))]
    fig = go.Figure(
        [
            go.Scatter(
                x=epochs,
                y=[r.get("loss") for r in logs],
                name="training",
                mode="lines+markers",
                line={"color": COLORS["loss"]},
            ),
            go.Scatter(
                x=epochs,
                y=[r.get("val_loss") for r in logs],
                name="validation",
                mode="lines+markers",
                line={"color": COLORS["val_loss"]},
            ),
        ]
    )
    values = [v for r in logs for v in (r.get("loss"), r.get("val_loss")) if v is not None and v > 0]
    if values and max(values) > 10 * min(values):
        fig.update_yaxes(type="log")
    fig.update_xaxes(dtick=max(1, len(epochs) // 10))
    return layout(fig, "epoch", f"{loss_name} (scaled windows)", height, "Loss per epoch")


def layout(fig: go.Figure, x_title: str, y_title: str, height: int, title: str | None) -> go.Figure:
    """The app's chart layout: height, margins, escaped titles, one hover label per x, the legend on top."""
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        title=html.escape(title) if title else None,
        xaxis_title=html.escape(str(x_title)),
        yaxis_title=html.escape(str(y_title)),
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
    )
    return fig


def projected(fig: go.Figure) -> go.Figure:
    """A chart for a projector: every font (ticks, axis titles, legend, title, hover) and the height enlarged."""
    size = PROJECTION_FONT
    fig.update_layout(
        font={"size": size},
        legend={"font": {"size": size}},
        title={"font": {"size": size + 4}},
        hoverlabel={"font": {"size": size}},
        height=int((fig.layout.height or 380) * 1.25),
    )
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


# ------------------------------------------------------------------ big series: downsample and zoom
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
    s = session()
    stored = s.widget(key)
    if not (isinstance(stored, tuple) and 0 <= stored[0] < stored[1] <= n):
        s.set_widget(key, (0, n))
    box = _box_x(s.widget(f"{key}_plot"))
    if box is not None and box != s.widget(f"{key}_box"):
        s.set_widget(f"{key}_box", box)  # each new box once: the slider stays movable afterwards
        lo, hi = _to_samples(box, x, n)
        if hi - lo >= 16:
            s.set_widget(key, (lo, hi))
    lo, hi = st.slider(  # type: ignore[misc]  # a range: its value, set above, is a (lo, hi) pair
        "Zoom: samples drawn",
        0,
        n,
        key=key,
        step=1,
        help=f"Drag across the plot (box select) or move these ends. Ranges of up to "
        f"{MAX_POINTS:,} samples are drawn at full resolution; longer ones as a min/max-"
        "preserving downsample, so every peak still shows.",
    )
    shown = hi - lo
    st.caption(
        f"Showing samples {lo:,} to {hi:,} of {n:,}: "
        + (
            "every sample."
            if shown <= MAX_POINTS
            else f"{MAX_POINTS:,} points per trace chosen to keep every peak and dip; drag across the plot "
            "to zoom in at full resolution."
        )
    )
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
    st.plotly_chart(
        fig, width="stretch", key=f"{key}_plot", on_select="rerun", selection_mode="box", config={"displaylogo": False}
    )
