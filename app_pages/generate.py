"""Generate: a synthetic signal and noise of your choice, denoised at once by the model in use."""
from __future__ import annotations

import streamlit as st

from denoiser.errors import InputError
from denoiser.signals import FAMILIES, FAMILY_LABELS, NOISE_KINDS, NOISE_LABELS
from app_pages import _ui as ui

KEEP = {"persist_state": "session"}  # controls keep their values when the user visits other pages

st.title("Generate a signal")
st.caption("Pick a clean signal and a noise; the plot and the metrics follow every control.")

controls, plot = st.columns([1, 3], gap="medium")
with controls:
    family = st.selectbox("Signal family", [*FAMILIES, "mixed", "realistic"], format_func=FAMILY_LABELS.get,
                          key="gen_family", **KEEP)
    length = st.slider("Length (samples)", 32, 4096, 150, 2, key="gen_length", **KEEP,
                       help="150 is the tutorial's grid (x from −0.50 to 0.99 in steps of 0.01).")
    kind = st.selectbox("Noise", NOISE_KINDS, format_func=NOISE_LABELS.get, key="gen_noise", **KEEP)
    level_by = st.radio("Noise level as", ["sigma", "SNR (dB)"], horizontal=True, key="gen_level_by", **KEEP)
    if level_by == "sigma":
        sigma = st.slider("Noise sigma", 0.0, 1.0, 0.05, 0.005, format="%.3f", key="gen_sigma", **KEEP)
        level = {"sigma": sigma}
    else:
        snr = st.slider("SNR (dB)", -10.0, 40.0, 20.0, 0.5, key="gen_snr", **KEEP,
                        help="10·log10(signal power / noise power).")
        level = {"snr_db": snr}
    rate = 0.05
    if kind == "impulse":
        rate = st.slider("Impulse rate", 0.01, 0.5, 0.05, 0.01, key="gen_rate", **KEEP,
                         help="Fraction of samples hit by a spike.")
    seed = int(st.number_input("Seed", 0, 1_000_000, 0, 1, key="gen_seed", **KEEP,
                               help="The same seed gives the same signal and noise again."))

try:
    signal = ui.generated_signal(family, length, kind, seed=seed, rate=rate, **level)
except InputError as err:
    st.error(str(err))
    st.stop()
clean, noisy = signal.clean, signal.noisy
st.session_state.generated = signal
st.session_state.active = "generated"

model, label = ui.model_in_use(signal)
with controls:
    method = ui.method_choice("gen_method")
# The app added the noise, so for white noise it knows sigma; other kinds are estimated.
auto = ui.auto_result(signal, model, sigma=ui.known_sigma(signal)) if method == ui.AUTOMATIC else None
denoised = auto.denoised if auto is not None else ui.network_output(signal, model)

with plot:
    ui.show(ui.signal_figure(signal.x, [("noisy", noisy, "noisy"), ("clean", clean, "clean"),
                                        ("denoised", denoised, "denoised")], x_title="x", height=420))
    ui.metric_cards(clean, noisy, denoised)
    st.caption(ui.model_caption(signal, label))
    if auto is not None:
        ui.estimate_line(auto, ui.metrics.gain_db(clean, noisy, denoised))
    if label == "bundled default" and family in ui.SPECIALIST_FAMILIES:
        st.caption(f"The x² specialist works on the tutorial's {ui.SPECIALIST_LENGTH}-point grid only; "
                   f"set the length to {ui.SPECIALIST_LENGTH} to use it.")
    cols = st.columns(2)
    cols[0].page_link("app_pages/compare.py", label="Compare with classical filters", icon=":material/compare_arrows:")
    cols[1].page_link("app_pages/model.py", label="Train a model on signals like this", icon=":material/model_training:")
