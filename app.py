"""Denoiser: the Streamlit app. Run with `make run` (or `streamlit run app.py`).

This entry script runs before every page: it sets up the browser tab, the
session's defaults, hands a finished training run's model to the session, draws
the sidebar (app_pages/ui/runtime.py: page_setup) and runs the page chosen in the navigation.
The page scripts live in app_pages/, not pages/: a folder named pages/ would switch
Streamlit to its older automatic multipage mode until st.navigation first runs.
"""

from __future__ import annotations

import streamlit as st

from app_pages.ui import links, runtime

st.set_page_config(page_title="Denoiser", page_icon=":material/graphic_eq:", layout="wide")
runtime.keep_keras_state()  # the one process-wide patch: installed on the first run, a no-op after
runtime.page_setup()

page = st.navigation(
    [
        st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("app_pages/generate.py", title="Generate", icon=":material/ssid_chart:"),
        st.Page("app_pages/upload.py", title="Upload", icon=":material/upload_file:"),
        st.Page("app_pages/model.py", title="Model", icon=":material/model_training:"),
        st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("app_pages/learn.py", title="Learn", icon=":material/school:"),
    ]
)
try:
    page.run()
finally:  # also after st.stop(): the address bar always carries the settings now in use
    links.sync_query_params()
