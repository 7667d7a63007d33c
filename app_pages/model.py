"""Model: use the bundled models, load a model file, or train a new one live; then inspect the one in use."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from app_pages import _training
from app_pages.ui import charts, data, layers, models, offers, runs
from app_pages.ui.state import BUNDLED, session
from app_pages.ui.text import plain
from denoiser.errors import InputError

if TYPE_CHECKING:  # TensorFlow: loaded when a model is
    from streamlit.runtime.uploaded_file_manager import UploadedFile

    from denoiser.core import Denoiser

BUNDLED_LABEL = "Bundled: default, or the x² specialist for 150-point parabolas"


def load_model_file(file: UploadedFile) -> None:
    """Load a user's .keras file once; on failure keep the model in use and remember why."""
    from denoiser.core import Denoiser

    s = session()
    s.model_file_seen = file.file_id
    try:
        model = Denoiser.load(file)
    except InputError as err:
        s.model_error = str(err)
        return
    s.model_error = None
    models.add_model(f"Uploaded: {file.name}", model)
    st.rerun()  # redraw the sidebar and the "in use" box with the new model


def model_details(model: Denoiser, name: str, *, curve: bool = True) -> None:
    """Test-split metrics, loss history (unless drawn above already), layer summary of a model."""
    tm = model.test_metrics_
    if "blind_spot_mse" in tm:  # self-supervised: no clean version, so no gain on the test part
        st.markdown(
            f"**Test part** (never seen in training), against the noisy samples themselves: error "
            f"{charts.fmt(tm['blind_spot_mse'])} (each sample predicted without seeing it; this includes the "
            f"noise variance), against {charts.fmt(tm['neighbour_mse'])} for the mean of its two neighbours. "
            "How much it gains is estimated when it denoises through the automatic pipeline."
        )
    elif tm:
        st.markdown("**Test split** (windows never seen in training):")
        table = pd.DataFrame(
            {"MSE": [tm.get("noisy_mse"), tm.get("mse")], "MAE": [tm.get("noisy_mae"), tm.get("mae")]},
            index=["noisy input", "denoised"],
        )
        left, right = st.columns([2, 1])
        left.dataframe(table.style.format("{:.4g}"), width="stretch")
        right.metric("Gain on the test split", f"{charts.fmt(tm.get('gain_db', float('nan')))} dB")
    if model.train_info_.get("data"):
        st.caption(f"Trained on: {plain(model.train_info_['data'])}.")
    if curve and model.history_.get("loss"):
        charts.show(charts.loss_figure(charts.history_as_logs(model.history_)), key=f"hist_{name}")
    st.markdown("**Architecture**")
    layers = pd.DataFrame(model.layers())
    st.dataframe(
        layers,
        width="stretch",
        hide_index=True,
        height=min(38 + 35 * len(layers), 420),
        column_config={"parameters": st.column_config.NumberColumn(format="localized")},
    )
    st.caption(f"{int(layers['parameters'].sum()):,} parameters in all; output shape is (positions, channels).")
    with st.expander("Keras summary (text)"):
        st.code(model.summary(), language=None)


s = session()
st.title("Model")
st.caption(
    "Where the denoising network comes from: the bundled models, a file of yours, or a new one "
    "trained here while you watch."
)
offers.model_offer()  # a new model is offered with its gain beside the current one's, never swapped in silently
run_box = st.container(key="training_run")  # filled below; at the top, so the live curve and Stop stay in sight

bundled_tab, file_tab, train_tab, search_tab = st.tabs(
    ["Bundled models", "Upload a model file", "Train a new model", "Hyperparameter search"]
)
with bundled_tab:
    st.markdown(
        "- **Default**: a general blind denoiser (U-Net, window 256) trained on sines, chirps, steps, "
        "pulses and smooth curves with white, impulse and pink noise of many levels. Used for uploads.\n"
        "- **x² specialist**: the same architecture on the tutorial's 150-point grid, trained on parabolas "
        "a·(x−b)²+c. Used automatically for x² and parabola signals of length 150."
    )
    if st.button("Use the bundled models", disabled=s.model_choice == BUNDLED):
        s.model_choice = BUNDLED
        st.rerun()
with file_tab:
    st.caption(
        "A .keras file saved by Denoiser (download one below after training). Other Keras files are "
        "refused: a model file is treated as untrusted data and only its weights are read."
    )
    model_file = st.file_uploader("Model file", type=["keras"], key=data.widget_key("model_uploader"))
    if model_file is not None and model_file.file_id != s.model_file_seen:
        load_model_file(model_file)
    if model_file is not None and s.model_error:
        st.error(f"{plain(s.model_error)} The model in use has not changed.", icon=":material/error:")
with train_tab:
    request = runs.training_form()
    if request is not None:
        s.job = _training.start_job(request)
        st.caption(_training.describe(request))
with search_tab:
    search_request = runs.search_form()
    if search_request is not None:
        s.job = _training.start_job(search_request)
        st.caption(_training.describe(search_request))

job = s.job
if job is not None:
    with run_box:
        st.subheader("Hyperparameter search" if job.kind == "search" else "Training run")
        if job.running:
            runs.live_job(job)
        else:
            runs.job_view(job)

st.subheader("Model in use")
names = [BUNDLED, *s.models]
s.set_widget("model_pick", s.model_choice)  # the selectbox shows the current choice


def _pick_model() -> None:
    session().model_choice = session().widget("model_pick")


st.selectbox(
    "Model in use",
    names,
    key="model_pick",
    label_visibility="collapsed",
    on_change=_pick_model,
    format_func=lambda n: BUNDLED_LABEL if n == BUNDLED else n,
)
choice, model = models.chosen_model()
if choice == BUNDLED:
    st.caption("Showing the bundled default model; the x² specialist has the same layers with window 150.")
model_details(model, choice, curve=job is None or job.model() is not model)
if choice != BUNDLED:
    st.download_button(
        "Download this model (.keras)",
        models.model_file_bytes(choice, model),
        file_name="denoiser_model.keras",
        mime="application/octet-stream",
        icon=":material/download:",
        type="primary",
        key="download_model",
        on_click="ignore",
    )

st.subheader("What the layers see")
layers.layers_view()
