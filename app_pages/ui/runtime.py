"""What app.py runs around every page: the process-wide Keras-state patch, the per-run setup and the sidebar."""

from __future__ import annotations

import logging
import sys

import streamlit as st

from app_pages import _sessions
from app_pages.ui.links import apply_query_params, missing_upload
from app_pages.ui.offers import adopt_finished_run, model_offer
from app_pages.ui.state import BUNDLED, session
from app_pages.ui.text import NAME, plain

log = logging.getLogger(__name__)


def keep_keras_state() -> bool:
    """Stop Streamlit from calling ``keras.backend.clear_session()`` after every script run.

    Installed once per process, from app.py (later calls find it in place). Streamlit's
    hook is private: if it has moved, a warning is logged and nothing is patched, and
    tests/app/test_app.py fails (it checks that Keras' state survives a rerun).

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
        log.warning(
            "Streamlit's script_runner._clean_problem_modules has moved (Streamlit %s): Keras' state "
            "is cleared after every rerun, so training threads may fail and denoising retraces. "
            "Update app_pages/ui/runtime.keep_keras_state.",
            st.__version__,
        )
        return False

    def clean_problem_modules_but_keras() -> None:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close("all")

    clean_problem_modules_but_keras.keeps_keras = True  # type: ignore[attr-defined]
    script_runner._clean_problem_modules = clean_problem_modules_but_keras
    return True


def page_setup() -> None:
    """Run by app.py before every page: state, a finished training run's model, the link, the sidebar."""
    s = session()
    s.init()
    _sessions.register()  # released (state, uploads, memory) once the tab has been gone for good
    # A run that ended since the last rerun: its model is now in use, unless it is not clearly better
    # on the test signals than the one in use; the Model page then asks the user.
    adopt_finished_run()
    apply_query_params()
    with st.sidebar:
        choice = s.model_choice
        st.caption(f"**Model in use:** {'bundled (automatic)' if choice == BUNDLED else plain(choice, NAME)}")
        model_offer(compact=True)
        if s.has_upload:
            st.caption(f"**Uploaded data:** {plain(s.table_name, NAME)}")
        job = s.job
        if job is not None and job.running:
            training_badge()
        if s.qp_missing_model:
            st.caption(
                f"The link names the model **{plain(s.qp_missing_model, NAME)}**, which only "
                "lived in the session that trained it: upload its .keras file on the Model page. The "
                "bundled model is used meanwhile."
            )
        if missing_upload() is not None:
            st.caption(missing_upload())
        st.caption(
            "Uploads and trained models live in this tab only: keep a model across a reload by "
            "downloading it (Model page) and uploading it again. To share the settings, copy the link "
            "below."
        )
        st.button(
            "Reset: start over",
            key="reset_session",
            icon=":material/restart_alt:",
            on_click=reset_session,
            help="Forget this session's data, models and settings, and clear the address bar.",
        )


def reset_session() -> None:
    """Back to the start: every setting, upload and model of this session dropped, the URL cleared."""
    session().reset()


@st.fragment(run_every=2.0)
def training_badge() -> None:
    """While this session trains, say so on every page; when it ends, rerun so the new model is used."""
    job = session().job
    if job is None or not job.running:
        st.rerun()
    job.seen()
    if job.status == "queued":
        st.info(f"Training queued: position {job.position()}.", icon=":material/hourglass_top:")
    elif job.kind == "search":
        st.info(f"Search: trial {len(job.trials) + 1} of {job.n_trials}.", icon=":material/travel_explore:")
    else:
        st.info(f"Training: epoch {len(job.logs)}/{job.epochs}.", icon=":material/model_training:")
