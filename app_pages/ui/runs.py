"""The Model page's training and search: their forms, and the view of a run (live curve, Stop, the end).

A form returns a request (:mod:`app_pages._training`) when the user submits valid settings; the
views draw a job of this session while it runs and once it has ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from app_pages import _training
from app_pages.ui import charts, data, models
from app_pages.ui.state import KEEP, session
from app_pages.ui.text import plain
from denoiser import presets
from denoiser.config import ALL_SCALINGS, SCALING_LABELS, ModelConfig, TrainConfig
from denoiser.errors import InputError
from denoiser.presets import PRESETS
from denoiser.signals import FAMILIES, FAMILY_LABELS, NOISES, noise_params

if TYPE_CHECKING:  # TensorFlow: loaded when a model is
    pass

LOSS_LABELS = {"mse": "MSE (mean squared error)", "mae": "MAE (robust to spikes)", "huber": "Huber (in between)"}
LOSS_NOTE = (
    "MSE punishes big errors most: right for Gaussian-like noise. MAE and Huber give outliers less "
    "pull: use them for impulse noise, spikes or glitches in the data."
)
SOURCES = {
    "synthetic": "Synthetic signals (family + noise below)",
    "selfsup": "Learn from my uploaded recording (self-supervised: no clean version needed)",
}
SELFSUP_NOTE = (
    "Self-supervised: fine-tunes the bundled default network on the recording's own noise (each "
    "sample is hidden in turn and predicted from its neighbours), so no clean version is needed. "
    "Uses the window, epochs, batch, learning rate, loss and seed; not the architecture or the "
    "noise settings. Assumes the noise is independent from sample to sample (white)."
)


def noise_label(kind: str) -> str:
    """A noise kind as the forms list it."""
    return NOISES[kind].label


def noise_param_inputs(prefix: str) -> dict[str, float]:
    """A slider per parameter of the noise kinds (impulse rate), from the kinds' records.

    A form cannot react to its own multiselect, so every parameter is shown, saying which kind
    it is for; the Generate page's value is the starting one.
    """
    values = {}
    for name, p in noise_params().items():
        kinds = " / ".join(k for k, kind in NOISES.items() if any(q.name == name for q in kind.params))
        lo, hi, step = p.ui
        start = min(hi, max(lo, float(session().widget(f"gen_{name}", p.default))))
        values[name] = st.slider(
            f"{p.label} ({kinds} noise only)", lo, hi, start, step, key=f"{prefix}_{name}", help=p.help or None, **KEEP
        )
    return values


def fixed_scaling_note() -> str:
    """'The Tutorial net always uses min-max each window (...).' for the presets with a scaling of their own."""
    return " ".join(
        f"The {p.short} always uses {SCALING_LABELS[p.fixed['scaling']].lower()}."
        for p in PRESETS.values()
        if "scaling" in p.fixed
    )


def training_form() -> _training.TrainRequest | None:
    """The training settings; returns a request when the user submits valid ones."""
    s = session()
    busy = s.job_running
    gen_family = s.widget("gen_family", "mixed")
    gen_noise = s.widget("gen_noise", "gaussian")
    with st.form("train_form"):
        arch, fit, source_col = st.columns(3, gap="medium")
        with arch:
            preset = st.radio(
                "Architecture", list(PRESETS), format_func=lambda p: PRESETS[p].label, key="tr_preset", **KEEP
            )
            notes = " ".join(p.form_note for p in PRESETS.values() if p.form_note)
            if notes:
                st.caption(notes)
            window: Any = st.select_slider(  # "auto" or a length
                "Window (samples)",
                ["auto", 32, 64, 128, 150, 256, 512],
                "auto",
                key="tr_window",
                **KEEP,
                format_func=lambda v: f"auto ({presets.window_text()})" if v == "auto" else str(v),
            )
            wide = " / ".join(PRESETS[n].short for n in presets.with_form_field("filters"))
            filters = st.select_slider(f"Width (filters, {wide} only)", [8, 16, 32, 64], 16, key="tr_filters", **KEEP)
            scaling = st.selectbox(
                "Scaling",
                ALL_SCALINGS,
                format_func=SCALING_LABELS.__getitem__,
                key="tr_scaling",
                **KEEP,
                help="How windows are brought to a common range before the network "
                "sees them; always undone on the output. Per window adapts to any level; the "
                "training split's statistics keep absolute levels (for data in fixed units). " + fixed_scaling_note(),
            )
        with fit:
            epochs = int(
                st.number_input(
                    "Epochs (at most)",
                    1,
                    200,
                    20,
                    key="tr_epochs",
                    **KEEP,
                    help="Training stops earlier when validation loss stops improving.",
                )
            )
            batch = st.select_slider("Batch size", [16, 32, 64, 128, 150, 256], 64, key="tr_batch", **KEEP)
            lr = st.select_slider(
                "Learning rate",
                ["auto", 1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
                "auto",
                key="tr_lr",
                **KEEP,
                format_func=lambda v: "auto (per architecture)" if v == "auto" else f"{v:g}",
                help=f"auto: each architecture's own ({presets.learning_rate_text()}).",
            )
            loss = st.radio("Loss", list(LOSS_LABELS), format_func=LOSS_LABELS.__getitem__, key="tr_loss", **KEEP)
            st.caption(LOSS_NOTE)
        with source_col:
            # In a form a choice takes effect on submit, so the note is the radio's help, not a conditional caption.
            source = st.radio(
                "Training data",
                list(SOURCES),
                format_func=SOURCES.__getitem__,
                key="tr_source",
                **KEEP,
                help=SELFSUP_NOTE,
            )
            options = [*FAMILIES, "mixed", "realistic"]
            family = st.selectbox(
                "Signal family",
                options,
                options.index(gen_family),
                format_func=FAMILY_LABELS.__getitem__,
                key="tr_family",
                **KEEP,
            )
            noise = st.multiselect(
                "Noise kinds",
                list(NOISES),
                [gen_noise],
                format_func=noise_label,
                key="tr_noise",
                **KEEP,
                help="Each training signal gets one of these.",
            )
            noise_values = noise_param_inputs("tr")
            sigma = st.slider(
                "Noise sigma range",
                0.005,
                1.0,
                (0.02, 0.3),
                0.005,
                key="tr_sigma",
                **KEEP,
                help="Drawn per signal, so the network learns to judge the noise level itself.",
            )
            n_signals = int(st.number_input("Synthetic signals", 100, 20_000, 3000, 100, key="tr_n", **KEEP))
            seed = int(st.number_input("Seed", 0, 1_000_000, 0, key="tr_seed", **KEEP))
        submitted = st.form_submit_button(
            "Start training", type="primary", icon=":material/play_arrow:", disabled=busy, key="start_training"
        )
    if busy:
        st.caption("A training run is in progress; start another when it ends or stop it below.")
    if not submitted or busy:  # a click that raced the button's disabling must not start a second run
        return None
    try:
        if source == "selfsup":  # the bundled default's network, at the form's window
            config = ModelConfig() if window == "auto" else ModelConfig(window=int(window))
            train = TrainConfig.selfsup(
                epochs=epochs, batch_size=batch, loss=loss, seed=seed, **({} if lr == "auto" else {"learning_rate": lr})
            )
        else:
            config = model_config(preset, window, filters, scaling)
            train = TrainConfig.for_preset(
                preset,
                epochs=epochs,
                batch_size=batch,
                loss=loss,
                seed=seed,
                **({} if lr == "auto" else {"learning_rate": lr}),
            )
    except InputError as err:
        st.error(str(err))
        return None
    if not noise:
        st.error("Pick at least one noise kind.")
        return None
    if source == "synthetic":
        return _training.TrainRequest(
            config, train, "synthetic", family, tuple(noise), sigma, n_signals, noise_params=noise_values
        )
    columns, _ = data.upload_selection()
    if not columns:
        st.error("There is no uploaded data yet: load a CSV on the Upload page, or train on synthetic signals.")
        return None
    values = s.upload_table.column(columns[0])  # upload_selection has columns only with an upload
    if values.size > data.MAX_TRAIN_SAMPLES:  # a copy of the part: the request never holds the whole column
        st.info(
            f"Training on the first {data.MAX_TRAIN_SAMPLES:,} of the column's {values.size:,} samples (the "
            "app's limit per run). To learn from all of it, run `python -m denoiser train --data FILE "
            "--self-supervised -o model.keras` on your own machine.",
            icon=":material/content_cut:",
        )
    return _training.TrainRequest(
        config,
        train,
        "selfsup",
        series=values[: data.MAX_TRAIN_SAMPLES].copy(),
        series_name=columns[0],
        series_total=int(values.size),
    )


def model_config(preset: str, window: int | str, filters: int, scaling: str) -> ModelConfig:
    """The architecture the form describes ("auto" window: each preset's own). Raises InputError.

    Settings a preset's record does not let a form change (the tutorial net's scaling) keep its defaults.
    """
    return ModelConfig.from_form(preset, window=window, filters=filters, scaling=scaling)


def search_form() -> _training.SearchRequest | None:
    """The search settings: a few values per parameter and a budget; returns a request on submit."""
    s = session()
    busy = s.job_running
    st.caption(
        "Trains one small network per combination on synthetic signals, ranks them on validation "
        "signals and reports the winner on test signals no trial has seen. The defaults (4 trials of "
        "5 epochs on 400 short signals) take about a minute on 2 CPU cores."
    )
    with st.form("search_form"):
        space_col, data_col = st.columns(2, gap="medium")
        with space_col:
            offered = presets.searchable()
            left_out = [p.short for name, p in PRESETS.items() if name not in offered]
            archs = st.multiselect(
                "Architectures",
                offered,
                offered,
                key="se_preset",
                **KEEP,
                format_func=lambda p: PRESETS[p].short,
                help=f"Left out: {', '.join(left_out)} (settings of its own; train it on the training tab)."
                if left_out
                else None,
            )
            windows = st.multiselect("Windows", [32, 64, 128, 256], [128], key="se_window", **KEEP)
            rates = st.multiselect(
                "Learning rates",
                [1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
                [1e-3, 3e-3],
                key="se_lr",
                format_func=lambda v: f"{v:g}",
                **KEEP,
            )
            losses = st.multiselect(
                "Losses", list(LOSS_LABELS), ["mse"], key="se_loss", **KEEP, format_func=lambda v: v.upper()
            )
        with data_col:
            options = [*FAMILIES, "mixed", "realistic"]
            # The family and noise chosen on the training form (else on Generate) are the search's defaults.
            picked = s.widget("tr_family", s.widget("gen_family", "mixed"))
            family = st.selectbox(
                "Signal family",
                options,
                options.index(picked if picked in options else "mixed"),
                format_func=FAMILY_LABELS.__getitem__,
                key="se_family",
                **KEEP,
            )
            kinds = s.widget("tr_noise") or [s.widget("gen_noise", "gaussian")]
            noise = st.multiselect(
                "Noise kinds",
                list(NOISES),
                [k for k in kinds if k in NOISES],
                format_func=noise_label,
                key="se_noise",
                **KEEP,
            )
            noise_values = noise_param_inputs("se")
            n_signals = int(st.number_input("Synthetic signals", 50, 5000, 400, 50, key="se_n", **KEEP))
            epochs = int(st.number_input("Epochs per trial (at most)", 1, 100, 5, key="se_epochs", **KEEP))
            budget, minutes = st.columns(2)
            n_trials = int(budget.number_input("Budget: trials", 1, 50, 4, key="se_trials", **KEEP))
            limit = float(
                minutes.number_input(
                    "Budget: minutes",
                    0.5,
                    60.0,
                    2.0,
                    0.5,
                    key="se_minutes",
                    **KEEP,
                    help="No trial starts after this; a running one stops, keeping its best epoch.",
                )
            )
        submitted = st.form_submit_button(
            "Start the search", type="primary", icon=":material/travel_explore:", disabled=busy, key="start_search"
        )
    if busy:
        st.caption("A run is in progress; start the search when it ends or stop it below.")
    if not submitted or busy:
        return None
    space = {"preset": archs, "window": windows, "learning_rate": rates, "loss": losses}
    missing = [name for name, values in space.items() if not values]
    if missing or not noise:
        st.error(f"Pick at least one value for: {', '.join(missing + ([] if noise else ['noise kinds']))}.")
        return None
    space = {k: list(v) for k, v in space.items()}
    train = TrainConfig(epochs=epochs, batch_size=32)  # a bad combination fails in the job, with its message
    return _training.SearchRequest(
        space,
        train,
        family=family,
        noise=tuple(noise),
        n_signals=n_signals,
        n_trials=n_trials,
        minutes=limit,
        noise_params=noise_values,
    )


def job_view(job: _training.TrainingJob) -> None:
    """Progress, timing and the loss curve of a job, running or ended."""
    done = len(job.logs)
    if job.status == "queued":
        st.info(
            f"Queued, position {job.position()}: another session is training. Yours starts as soon as it ends.",
            icon=":material/hourglass_top:",
        )
    elif job.status == "preparing":
        st.info("Preparing the training data…", icon=":material/hourglass_top:")
    elif job.running and job.kind == "search":
        n, total = len(job.trials), max(1, job.n_trials)
        st.progress(
            min(1.0, n / total),
            text=f"Trial {min(n + 1, total)} of {total} running ({n} done)"
            + (" — stopping…" if job.stop.is_set() else ""),
        )
    elif job.running:
        st.progress(
            done / job.epochs,
            text=f"Epoch {done} of at most {job.epochs}"
            + (" — stopping after this batch…" if job.stop.is_set() else ""),
        )
    elif job.status in ("finished", "stopped"):
        ended(job)
    elif job.status == "failed":
        st.error(plain(job.error or "Training failed."), icon=":material/error:")
    else:
        st.info("Cancelled while waiting in the queue.")
    if job.kind == "search":
        search_view(job)
        return
    if not (job.running or job.logs):
        return
    cols = st.columns(3)
    eta = job.eta()
    cols[0].metric("Elapsed", f"{job.elapsed():.0f} s")
    cols[1].metric("Left (at most)", "—" if eta is None or not job.running else f"{eta:.0f} s")
    best = min((r["val_loss"] for r in job.logs), default=None)
    cols[2].metric("Best validation loss", charts.fmt(best) if best is not None else "—")
    if job.logs:
        charts.show(charts.loss_figure(job.logs, loss_name=job.request.train.loss))


def search_view(job: _training.TrainingJob) -> None:
    """A search's trials so far (live), then the ranked table, the winner's test figures and its download."""
    cols = st.columns(3)
    cols[0].metric("Elapsed", f"{job.elapsed():.0f} s")
    cols[1].metric("Trials done", f"{len(job.trials)} of {job.n_trials}")
    best = min((r["val_mse"] for r in job.trials if r["val_mse"] == r["val_mse"]), default=None)
    cols[2].metric("Best validation MSE", charts.fmt(best) if best is not None else "—")
    result = None if job.running else job.result
    rows = result.to_frame() if result is not None else pd.DataFrame(job.trials)
    if rows.empty:
        if job.running:
            st.caption("The first trial is training; its row appears here when it ends.")
        return
    st.markdown(
        "**Trials**"
        + (
            " (best first; ranked on the validation signals)"
            if result is not None
            else " (in run order; ranked when the search ends)"
        )
    )
    st.dataframe(
        rows,
        width="stretch",
        hide_index=True,
        column_config={
            "learning_rate": st.column_config.NumberColumn("learning rate", format="%g"),
            "val_mse": st.column_config.NumberColumn("val MSE", format="%.4g"),
            "val_mae": st.column_config.NumberColumn("val MAE", format="%.4g"),
            "seconds": st.column_config.NumberColumn(format="%.1f"),
        },
    )
    if result is None or result.best_ is None:
        return
    tm = result.test_metrics
    if tm:
        st.markdown(
            f"**The winner on the test signals** (never used to choose it): MSE {charts.fmt(tm['noisy_mse'])} → "
            f"{charts.fmt(tm['mse'])}, MAE {charts.fmt(tm['noisy_mae'])} → {charts.fmt(tm['mae'])}, "
            f"gain **{charts.fmt(tm['gain_db'])} dB**."
        )
    if job.name in session().models:
        st.download_button(
            "Download the best model (.keras)",
            models.model_file_bytes(job.name, result.best_),
            file_name="denoiser_search_best.keras",
            mime="application/octet-stream",
            icon=":material/download:",
            key="download_search_best",
            on_click="ignore",
        )


def ended(job: _training.TrainingJob) -> None:
    """What a run that ended with a model says: how it ended, which weights were kept, whether it is in use."""
    if job.kind == "search":
        return search_ended(job)
    done, best, model = len(job.logs), job.best_epoch(), job.model()
    worse = model is not None and models.makes_worse(model)
    in_use = bool(job.name) and session().model_choice == job.name
    kept = f"best weights from epoch {best} kept" if best else "the best weights so far were kept"
    now = " The new model is now in use." if in_use else ""
    if job.status == "finished":
        st.success(
            f"Finished: {_training.plural(done, 'epoch')} in {job.elapsed():.0f} s ({kept}).{now}",
            icon=":material/check_circle:",
        )
    else:
        who = "because nobody was watching it" if job.abandoned else "by you"
        st.info(f"Stopped after epoch {done} of {job.epochs} {who}; {kept}.{now}", icon=":material/stop_circle:")
    if worse:
        worse_warning(job, in_use)


def worse_warning(job: _training.TrainingJob, in_use: bool) -> None:
    """A new model that makes its test signals worse is not put in use; say so and offer it anyway."""
    model = job.model()
    if job.name not in session().models or model is None:
        return
    gain = model.test_metrics_["gain_db"]
    st.warning(
        f"This model makes the test signals **worse** than the noisy input (gain {gain:.2f} dB on the "
        "test split), so the previous model stays in use. Try more epochs, more data, another "
        "learning rate or loss.",
        icon=":material/warning:",
    )
    if not in_use and st.button("Use the new model anyway", key="use_worse_model"):
        session().model_choice = job.name
        st.rerun()


def search_ended(job: _training.TrainingJob) -> None:
    """What a search that ended says: how it ended, the best combination, whether its model is in use."""
    result, n = job.result, len(job.trials)
    model = job.model()
    in_use = bool(job.name) and session().model_choice == job.name
    now = " The best model is now in use." if in_use else ""
    if model is None:
        st.info(f"Stopped after {n} trials: no trial finished, so there is no model.", icon=":material/stop_circle:")
        return
    if job.status == "finished":
        st.success(
            f"Finished: {_training.plural(n, 'trial')} in {job.elapsed():.0f} s. Best: "
            f"{_training.params_text(result.best_params)}.{now}",
            icon=":material/check_circle:",
        )
    else:
        why = (
            "by you"
            if job.stop.is_set() and not job.abandoned
            else "because nobody was watching it"
            if job.abandoned
            else "by the time budget"
        )
        st.info(
            f"Stopped after trial {n} of {job.n_trials} {why}; the best of the finished trials was kept.{now}",
            icon=":material/stop_circle:",
        )
    if models.makes_worse(model):
        worse_warning(job, in_use)


@st.fragment(run_every=1.0)
def live_job(job: _training.TrainingJob) -> None:
    """Redrawn every second by itself; the rest of the page stays as it is."""
    if not job.running:
        st.rerun()  # the whole app reruns: page_setup hands the model to the session, this page shows it
    job.seen()
    job_view(job)
    if job.status == "queued":  # nothing trained yet, so nothing to keep: the run just leaves the queue
        label = "Cancel (leave the queue)"
    else:
        label = (
            "Stop the search (keep the best so far)" if job.kind == "search" else "Stop (keep the best weights so far)"
        )
    if st.button(
        label,
        icon=":material/close:" if job.status == "queued" else ":material/stop:",
        disabled=job.stop.is_set(),
        key="stop_training",
    ):
        job.stop.set()
        st.rerun(scope="fragment")
