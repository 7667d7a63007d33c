"""Denoiser: the Streamlit app. Run with `make run` (or `streamlit run app.py`).

This entry script sets up the browser tab and the navigation, then runs the
chosen page. Each page starts with ``ui.page_setup()``: session defaults, the
model of a finished training run, the sidebar (see pages/_ui.py).
"""
from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Denoiser", page_icon=":material/graphic_eq:", layout="wide")

page = st.navigation([
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/generate.py", title="Generate", icon=":material/ssid_chart:"),
    st.Page("pages/upload.py", title="Upload", icon=":material/upload_file:"),
    st.Page("pages/model.py", title="Model", icon=":material/model_training:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
])
page.run()
