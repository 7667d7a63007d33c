"""Home: what the app does, how the network works, and a demo that runs as soon as the page opens."""

from __future__ import annotations

import streamlit as st

from app_pages.ui import charts, estimate, links, models
from app_pages.ui.data import Signal
from app_pages.ui.state import Origin, session
from app_pages.ui.text import NAME, plain
from denoiser.signals import add_noise, make_signal, x_grid

st.title("Denoiser")
st.markdown(
    "Denoiser removes noise from one-dimensional signals — sensor readings, audio snippets, "
    "measurement series — with a small convolutional autoencoder. "
    "It cuts a series into windows, lets the network reconstruct each window without the noise, "
    "and blends the windows back, so any length and any units work. "
    "Try it on synthetic signals, upload your own CSV, train a network live, and check "
    "whether it beats a classical filter."
)

# The picture: the whole pipeline at a glance (drawn by the browser, no image file needed).
st.graphviz_chart(
    """
digraph {
  rankdir=LR; bgcolor="transparent";
  node [shape=box, style="rounded,filled", fontname="sans-serif", fontsize=11, color="#cbd5e1", fillcolor="#f1f5f9"];
  edge [color="#64748b"];
  noisy [label="noisy series\\n(any length)", fillcolor="#e2e8f0"];
  win [label="overlapping\\nwindows, scaled"];
  enc [label="encoder\\nConv1D, stride 2", fillcolor="#dbeafe"];
  code [label="bottleneck\\n(wide view)", fillcolor="#bfdbfe"];
  dec [label="decoder\\nConv1DTranspose", fillcolor="#dbeafe"];
  out [label="unscale +\\nblend windows"];
  clean [label="denoised series", fillcolor="#dcfce7"];
  noisy -> win -> enc -> code -> dec -> out -> clean;
}
""",
    width="stretch",
)

s = session()
st.subheader("Demo: the tutorial's x² curve with Gaussian noise")
left, right = st.columns([1, 3])
with left:
    sigma = st.slider(
        "Noise sigma",
        0.01,
        0.30,
        float(links.initial("home_sigma", 0.05)),
        0.01,
        key="home_sigma",
        persist_state="session",
        help="Standard deviation of the Gaussian noise added to y = x².",
    )
    seed = int(s.widget("home_seed", links.initial("home_seed", 0)))  # the noise draw: in the link, not a widget
    if st.button("New noise draw", icon=":material/casino:"):
        seed += 1
    s.set_widget("home_seed", seed)
    headline = estimate.method_choice("home_method")

clean = make_signal("x2")
noisy = add_noise(clean, "gaussian", sigma=sigma, rng=seed)
signal = Signal(
    "x²", noisy, clean, x_grid(), "x", family="x2", recipe={"kind": "gaussian", "sigma": sigma}, origin=Origin.GENERATED
)
model, label = models.model_in_use(signal)
with left:
    st.caption(
        f"Noise seed {seed}. "
        + (
            f"No training needed: the {label} is used."
            if label.startswith("bundled")
            else f"Model in use: your model **{plain(label, NAME)}** (the Model page switches back to the bundled one)."
        )
    )
# The truth is known here, so both are computed and scored: the network alone (the autoencoder this demo
# teaches) and the automatic mode, which knows sigma because the demo added the noise itself.
network = estimate.network_output(signal, model)
auto = estimate.auto_result(signal, model, sigma=sigma)

with right:
    charts.show(estimate.demo_figure(signal, network, auto, headline, clean_name="clean x²"))
estimate.demo_scores(signal, network, auto, label, headline)

st.subheader("Next")
top, bottom = st.columns(2), st.columns(2)  # 2x2: whole labels, even in a narrow window
top[0].page_link("app_pages/generate.py", label="Generate signals and noise", icon=":material/ssid_chart:")
top[1].page_link("app_pages/upload.py", label="Upload your own CSV", icon=":material/upload_file:")
bottom[0].page_link("app_pages/model.py", label="Train a model live", icon=":material/model_training:")
bottom[1].page_link("app_pages/compare.py", label="Compare with classical filters", icon=":material/compare_arrows:")
