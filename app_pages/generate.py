"""Generate: a synthetic signal and noise of your choice, denoised at once by the model in use."""

from __future__ import annotations

import streamlit as st

from app_pages.ui import charts, data, estimate, links, models
from app_pages.ui.choices import LEVEL_LABELS
from app_pages.ui.state import KEEP, session
from denoiser.errors import InputError
from denoiser.signals import FAMILIES, FAMILY_LABELS, NOISES

st.title("Generate a signal")
st.caption("Pick a clean signal and a noise; the plot and the metrics follow every control.")

controls, plot = st.columns([1, 3], gap="medium")
with controls:
    # Starting values: a shared link's (links.initial), else the tutorial's case. Labels are cut at their
    # first parenthesis so they fit the narrow column; the whole label is in the help.
    families = [*FAMILIES, "mixed", "realistic"]
    family = st.selectbox(
        "Signal family",
        families,
        index=links.index_of(families, "gen_family", "x2"),
        format_func=lambda f: FAMILY_LABELS[f].split(" (")[0],
        key="gen_family",
        **KEEP,
        help="  \n".join(f"**{FAMILY_LABELS[f].split(' (')[0]}**: {FAMILY_LABELS[f]}" for f in families),
    )
    length = st.slider(
        "Length (samples)",
        32,
        4096,
        int(links.initial("gen_length", 150)),
        2,
        key="gen_length",
        **KEEP,
        help="150 is the tutorial's grid (x from −0.50 to 0.99 in steps of 0.01).",
    )
    kinds = list(NOISES)
    kind = st.selectbox(
        "Noise",
        kinds,
        index=links.index_of(kinds, "gen_noise", kinds[0]),
        format_func=lambda k: NOISES[k].label,
        key="gen_noise",
        **KEEP,
    )
    levels = list(LEVEL_LABELS)
    level_by = st.radio(
        "Noise level as",
        levels,
        horizontal=True,
        key="gen_level_by",
        **KEEP,
        format_func=LEVEL_LABELS.__getitem__,
        index=links.index_of(levels, "gen_level_by", "sigma"),
    )
    if level_by == "sigma":
        sigma = st.slider(
            "Noise sigma",
            0.0,
            1.0,
            float(links.initial("gen_sigma", 0.05)),
            0.005,
            format="%.3f",
            key="gen_sigma",
            **KEEP,
        )
        level = {"sigma": sigma}
    else:
        snr = st.slider(
            "SNR (dB)",
            -10.0,
            40.0,
            float(links.initial("gen_snr", 20.0)),
            0.5,
            key="gen_snr",
            **KEEP,
            help="10·log10(signal power / noise power).",
        )
        level = {"snr_db": snr}
    params = {}
    for p in NOISES[kind].params:  # the kind's own parameters, from its record (impulse: the rate)
        lo, hi, step = p.ui
        params[p.name] = st.slider(
            p.label,
            lo,
            hi,
            float(links.initial(f"gen_{p.name}", p.default)),
            step,
            key=f"gen_{p.name}",
            help=p.help or None,
            **KEEP,
        )
    seed = int(
        st.number_input(
            "Seed",
            0,
            1_000_000,
            int(links.initial("gen_seed", 0)),
            1,
            key="gen_seed",
            **KEEP,
            help="The same seed gives the same signal and noise again.",
        )
    )

try:
    signal = data.generated_signal(family, length, kind, seed=seed, noise_params=params, **level)
except InputError as err:
    st.error(str(err))
    st.stop()
clean, noisy = signal.clean, signal.noisy
session().use_generated(signal)

model, label = models.model_in_use(signal)
with controls:
    headline = estimate.method_choice("gen_method")
# The truth is known, so both are computed and scored: the network alone (the autoencoder this page
# teaches) and the automatic mode; for white noise the app knows sigma (it added the noise), else estimated.
network = estimate.network_output(signal, model)
auto = estimate.auto_result(signal, model, sigma=estimate.known_sigma(signal))

with plot:
    charts.show(estimate.demo_figure(signal, network, auto, headline, height=420))
    estimate.demo_scores(signal, network, auto, label, headline, per_row=2)  # three quarters of the page: 2 a row
    if NOISES[kind].note:
        st.caption(NOISES[kind].note)
    if models.bundled_recipe(label) == "default" and family in models.SPECIALIST_FAMILIES:
        st.caption(
            f"The x² specialist works on the tutorial's {models.SPECIALIST_LENGTH}-point grid only; "
            f"set the length to {models.SPECIALIST_LENGTH} to use it."
        )
    cols = st.columns(2)
    cols[0].page_link("app_pages/compare.py", label="Compare with classical filters", icon=":material/compare_arrows:")
    cols[1].page_link(
        "app_pages/model.py", label="Train a model on signals like this", icon=":material/model_training:"
    )
