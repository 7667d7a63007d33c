"""The Streamlit app, page by page, with Streamlit's AppTest (no browser).

Each test starts a fresh session (its own AppTest); TensorFlow and the bundled
models load once per process, so only the first test pays for them.
"""

from __future__ import annotations

import json
import math
import threading
import time

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # after importorskip

from app_pages import _training  # after importorskip
from app_pages.ui.text import plain  # after importorskip
from denoiser.config import ModelConfig, TrainConfig  # after importorskip
from tests.support import (  # after importorskip
    APP,
    ROOT,
    SAMPLES,
    TIMEOUT,
    button,
    metric,
    start,
    texts,
    upload,
)

GOOD_CSV = (SAMPLES / "x2_tutorial.csv").read_bytes()


def test_every_page_runs() -> None:
    at = start()
    for page in ("generate", "upload", "model", "compare", "home"):
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, texts(at.error))


def test_home_demo_shows_metrics_at_once() -> None:
    at = start()
    assert float(metric(at, "MSE (network)")) > 0
    assert float(metric(at, "MAE (network)")) > 0
    assert "x² specialist" in texts(at.caption)
    assert at.get("plotly_chart")


def test_generate_metrics_follow_the_noise() -> None:
    at = start("generate")
    before = metric(at, "MSE (network)")
    at.slider(key="gen_sigma").set_value(0.3).run()
    assert not at.exception
    assert metric(at, "MSE (network)") != before
    assert at.session_state.generated.recipe["sigma"] == pytest.approx(0.3)
    # SNR instead of sigma, another family and noise kind: still one plot and metrics.
    at.radio(key="gen_level_by").set_value("snr").run()
    at.selectbox(key="gen_family").set_value("square").run()
    at.selectbox(key="gen_noise").set_value("impulse").run()
    assert not at.exception and not at.error
    # The gain card agrees with the MSE cards: 10 log10(noisy MSE / denoised MSE), to display rounding.
    g = at.session_state.generated
    gain = metric(at, "Gain (network)")
    assert gain.endswith(" dB"), gain
    noisy_mse, denoised_mse = float(((g.noisy - g.clean) ** 2).mean()), float(metric(at, "MSE (network)"))
    assert float(gain[:-3].replace("−", "-")) == pytest.approx(10 * math.log10(noisy_mse / denoised_mse), abs=0.1)
    assert "bundled default" in texts(at.caption)


def test_upload_reads_a_csv_and_a_bad_file_keeps_it() -> None:
    at = start("upload")
    upload(at, "mine.csv", GOOD_CSV)
    assert not at.exception
    assert metric(at, "Rows") == "150"
    assert at.session_state.table_name == "mine.csv"
    assert at.selectbox(key="up_clean::noisy").value == "clean"  # found by its name

    upload(at, "broken.csv", b"\x89PNG\r\n\x1a\n" + bytes(200))
    assert not at.exception
    assert at.error and "still loaded" in texts(at.error)
    assert at.session_state.table_name == "mine.csv"  # the previous data is kept
    assert metric(at, "Rows") == "150"


def test_sample_one_click_away_and_compare_without_clean() -> None:
    at = start("upload")
    button(at, "Temperature log").click().run()
    assert not at.exception
    assert metric(at, "Delimiter") == "semicolon" and metric(at, "Decimal mark") == "comma"
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception and not at.error
    assert "No clean reference" in texts(at.subheader)
    assert len(at.get("download_button")) == 2


def test_each_column_gets_its_own_clean_reference_and_csv_column() -> None:
    at = start("upload")
    button(at, "Two sensors").click().run()
    at.multiselect(key=f"up_values_{at.session_state.data_gen}").set_value(["sensor_a", "sensor_b"]).run()
    assert at.selectbox(key="up_clean::sensor_a").value == "clean_a"
    assert at.selectbox(key="up_clean::sensor_b").value == "clean_b"
    at.switch_page("app_pages/compare.py").run()
    at.selectbox(key="cmp_column").set_value("sensor_b").run()
    assert not at.exception and not at.error
    table = at.session_state.table
    noisy_mse = float(((table.column("sensor_b") - table.column("clean_b")) ** 2).mean())
    assert at.dataframe[0].value.loc["Noisy input", "MSE"] == pytest.approx(noisy_mse)
    assert "columns=('sensor_a', 'sensor_b')" in texts(at.code)  # the script denoises both columns


def test_compare_scores_network_and_filters() -> None:
    at = start("generate")
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table.columns) == ["MSE", "MAE", "Gain (dB)"]
    assert any(i.startswith("Network") for i in table.index)
    assert any(i.startswith("Savitzky-Golay") for i in table.index)
    assert "Wavelet shrinkage (BayesShrink)" in table.index
    assert len(at.get("download_button")) == 2
    assert "make_signal('x2', 150, rng)" in texts(at.code)


def submit_training(at: AppTest, *, epochs: int, preset: str = "unet") -> _training.TrainingJob:
    """Fill the training form with a tiny run and submit it; returns the session's job."""
    at.radio(key="tr_preset").set_value(preset)
    at.select_slider(key="tr_window").set_value(64)
    at.select_slider(key="tr_filters").set_value(8)
    at.number_input(key="tr_epochs").set_value(epochs)
    at.number_input(key="tr_n").set_value(200)
    at.selectbox(key="tr_family").set_value("parabola")
    button(at, "Start training").click().run()
    assert not at.exception and not at.error
    return at.session_state.job


def test_training_run_finishes_and_its_model_denoises() -> None:
    at = start("model")
    at.radio(key="tr_preset").set_value("seed")
    at.number_input(key="tr_epochs").set_value(1)
    at.number_input(key="tr_n").set_value(200)
    at.selectbox(key="tr_family").set_value("parabola")
    button(at, "Start training").click().run()
    assert not at.exception and not at.error
    job = at.session_state.job
    job.thread.join(timeout=120)  # the page polls with a fragment; a test just waits for the thread
    assert job.status == "finished", job.error
    at.run()
    assert not at.exception and not at.error
    assert "Finished: 1 epoch in" in texts(at.success)
    # One epoch leaves the tutorial net far worse than the noisy input (about -11 dB on the test split):
    # the user is told, and the previous model stays in use until they pick the new one.
    assert job.result.test_metrics_["gain_db"] < 0
    assert "makes the test signals **worse**" in texts(at.warning)
    assert at.session_state.model_choice == "Bundled (automatic)"
    assert job.name in at.session_state.models
    button(at, "Use the new model anyway").click().run()
    assert not at.exception
    assert at.session_state.model_choice.startswith("Tutorial net")
    assert any(b.label == "Download this model (.keras)" for b in at.get("download_button"))

    at.switch_page("app_pages/generate.py").run()  # the new model is the one in use
    assert not at.exception
    assert "your model" in texts(at.caption)
    # The network's card shows this model's error on the generated signal; the automatic result beside it
    # (which may keep the input where the network harms it) is never worse than the noisy input.
    assert float(metric(at, "MSE (network)")) > 0
    assert float(metric(at, "Gain (automatic)").split()[0].replace("−", "-")) >= -0.05


def _blocking_train_work(started: threading.Event):
    """A job's work that logs one epoch, then blocks until the job is stopped: no race with the run's end."""

    def work(job: _training.TrainingJob):
        from denoiser.core import Denoiser

        job.status = "training"
        job._on_epoch(0, {"loss": 1.0, "val_loss": 1.0, "seconds": 0.1})
        started.set()
        if not job.stop.wait(timeout=120):
            raise AssertionError("the job was never stopped")
        den = Denoiser.load(ROOT / "assets" / "parabola.keras")
        den.test_metrics_ = {"noisy_mse": 0.02, "mse": 0.01, "noisy_mae": 0.1, "mae": 0.07, "gain_db": 3.0}
        return den

    return work


def test_stop_button_stops_the_run_and_a_second_session_queues(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first session's job blocks until its Stop is clicked; the second's is a real 1-epoch run.
    # (That a stopped fit keeps its best epoch's weights is tested in tests/unit/test_core.py.)
    started = threading.Event()
    real_work = _training.train_work
    works = iter([_blocking_train_work(started), real_work])
    monkeypatch.setattr(_training, "train_work", lambda job: next(works)(job))
    first, second = start("model"), start("model")
    job = submit_training(first, epochs=200)
    assert started.wait(timeout=120), (job.status, job.error)
    queued = submit_training(second, epochs=1)  # one training slot per server: the second waits
    assert queued.status == "queued"
    assert "Queued, position 1" in texts(second.info)

    button(first, "Stop (keep the best weights so far)").click().run()
    job.thread.join(timeout=120)
    assert job.status == "stopped" and job.result is not None
    assert 1 <= len(job.logs) < 200
    first.run()
    assert "Stopped after epoch" in texts(first.info) and "by you" in texts(first.info)
    assert job.name.startswith("U-Net") and job.name in first.session_state.models
    # (whether it is put in use is the offer's decision: tests ..._offered_not_imposed / ..._clearly_better_...)

    queued.thread.join(timeout=120)  # the slot passed to the waiting session
    assert queued.status == "finished", queued.error


def test_lstm_preset_trains_from_the_form_and_can_be_used() -> None:
    at = start("model")
    at.radio(key="tr_preset").set_value("lstm")
    at.select_slider(key="tr_window").set_value(32)
    at.number_input(key="tr_epochs").set_value(1)
    at.number_input(key="tr_n").set_value(100)
    at.selectbox(key="tr_family").set_value("parabola")
    at.radio(key="tr_loss").set_value("huber")
    at.selectbox(key="tr_scaling").set_value("global")
    button(at, "Start training").click().run()
    assert not at.exception and not at.error
    job = at.session_state.job
    assert job.request.model.preset == "lstm" and job.request.train.learning_rate == 3e-3  # the preset's own
    job.thread.join(timeout=120)
    assert job.status == "finished", job.error
    at.run()
    assert not at.exception and not at.error
    model = at.session_state.models[job.name]
    assert job.name.startswith("LSTM") and model.config.scaling == "global"
    assert model.train_info_["train_config"]["loss"] == "huber"
    # Usable: pick it as the model in use (whatever its gain after one epoch) and denoise with it.
    at.selectbox(key="model_pick").set_value(job.name).run()
    assert at.session_state.model_choice == job.name
    assert "What the layers see" in texts(at.subheader)
    assert "lstm" in at.selectbox(key="act_layer").value  # the heatmap shows an LSTM layer
    at.switch_page("app_pages/generate.py").run()
    assert not at.exception and not at.error
    assert f"your model: {plain(job.name)}" in texts(at.caption)  # shown escaped: names are text, not Markdown
    assert float(metric(at, "MSE (network)")) >= 0


def test_a_small_search_finishes_with_a_table_and_a_best_model() -> None:
    at = start("model")
    at.multiselect(key="se_preset").set_value(["unet"])
    at.multiselect(key="se_window").set_value([32])
    at.multiselect(key="se_lr").set_value([1e-3, 3e-3])
    at.number_input(key="se_n").set_value(100)
    at.number_input(key="se_epochs").set_value(1)
    button(at, "Start the search").click().run()
    assert not at.exception and not at.error
    job = at.session_state.job
    assert job.kind == "search"
    job.thread.join(timeout=120)
    assert job.status == "finished", job.error
    at.run()
    assert not at.exception and not at.error
    assert "Finished: 2 trials" in texts(at.success)
    table = at.dataframe[0].value
    assert len(table) == 2 and {"learning_rate", "val_mse"} <= set(table.columns)
    assert table["val_mse"].is_monotonic_increasing  # best first
    assert job.name.startswith("Search best") and job.name in at.session_state.models
    assert any(b.label == "Download the best model (.keras)" for b in at.get("download_button"))
    assert "on the test signals" in texts(at.markdown)


def test_a_search_can_be_stopped_and_keeps_its_best_trial() -> None:
    at = start("model")
    at.multiselect(key="se_preset").set_value(["unet"])
    at.multiselect(key="se_window").set_value([32, 64])
    at.multiselect(key="se_lr").set_value([1e-4, 3e-4, 1e-3, 3e-3, 1e-2])
    at.number_input(key="se_n").set_value(100)
    at.number_input(key="se_epochs").set_value(1)
    at.number_input(key="se_trials").set_value(10)  # 10 planned: the Stop below comes after the first
    button(at, "Start the search").click().run()
    job = at.session_state.job
    assert job.wait_for(lambda: bool(job.trials), timeout=600), (job.status, job.error)  # the first trial
    at.run()
    button(at, "Stop the search (keep the best so far)").click().run()
    job.thread.join(timeout=120)
    assert job.status == "stopped", (job.status, job.error)
    assert 1 <= len(job.trials) < 10 and job.model() is not None
    at.run()
    assert not at.exception and not at.error
    assert "Stopped after trial" in texts(at.info) and "by you" in texts(at.info)
    assert job.name in at.session_state.models


def test_compare_shows_two_models_side_by_side() -> None:
    at = start("model")
    data = (ROOT / "assets" / "default.keras").read_bytes()
    at.file_uploader(key="model_uploader").set_value(("other.keras", data, "application/octet-stream")).run()
    assert at.session_state.model_choice == "Uploaded: other.keras"
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception and not at.error
    assert sum(i.startswith("Network") for i in at.dataframe[0].value.index) == 1
    at.selectbox(key="cmp_second").set_value(ui_bundled()).run()
    assert not at.exception and not at.error
    rows = [i for i in at.dataframe[0].value.index if i.startswith("Network")]
    assert rows == ["Network (Uploaded: other.keras)", "Network (bundled x² specialist)"], rows
    assert "Second model: **bundled x² specialist**" in texts(at.caption)


def ui_bundled() -> str:
    from app_pages.ui.state import BUNDLED

    return BUNDLED


def test_training_on_a_too_short_upload_says_why() -> None:
    at = start("upload")
    upload(at, "short.csv", GOOD_CSV)  # 150 samples: too few for 4 windows of 64
    at.switch_page("app_pages/model.py").run()
    at.radio(key="tr_source").set_value("selfsup")
    at.select_slider(key="tr_window").set_value(64)
    button(at, "Start training").click().run()
    at.session_state.job.thread.join(timeout=60)
    at.run()
    assert not at.exception
    assert "needs at least 256" in texts(at.error)
    assert at.session_state.model_choice == "Bundled (automatic)"


def test_a_model_worse_than_its_input_is_not_put_in_use() -> None:
    """The warning path without training: a finished job whose model has a negative test gain."""
    at = start("model")
    at.file_uploader(key="model_uploader").set_value(
        ("good.keras", (ROOT / "assets" / "parabola.keras").read_bytes(), "application/octet-stream")
    ).run()
    from denoiser.core import Denoiser

    bad = Denoiser.load(ROOT / "assets" / "parabola.keras")
    bad.test_metrics_ = {"noisy_mse": 0.01, "mse": 0.02, "noisy_mae": 0.1, "mae": 0.12, "gain_db": -3.0}
    job = _training.TrainingJob(_training.TrainRequest(None, None), _training.TrainingQueue())  # type: ignore[arg-type]
    job.status, job.result, job.ended = "finished", bad, time.time()
    job.logs = [{"epoch": 1, "loss": 1.0, "val_loss": 1.0, "seconds": 1.0}]
    job.request = _training.TrainRequest(ModelConfig(), TrainConfig(epochs=1))
    at.session_state.job = job
    at.run()
    assert not at.exception and not at.error
    assert "makes the test signals **worse**" in texts(at.warning)
    assert at.session_state.model_choice == "Uploaded: good.keras"  # the previous model stays in use
    assert job.name in at.session_state.models
    assert "now in use" not in texts(at.success)
    button(at, "Use the new model anyway").click().run()
    assert at.session_state.model_choice == job.name


def test_an_unwatched_job_stops_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    job = _training.TrainingJob(_training.TrainRequest(None, None), _training.TrainingQueue())  # type: ignore[arg-type]
    assert not job.should_stop()
    monkeypatch.setattr(_training, "ABANDON_SECONDS", 0.0)
    job.last_seen -= 1
    assert job.should_stop() and job.abandoned


def test_a_model_file_loads_and_is_used() -> None:
    at = start("model")
    data = (ROOT / "assets" / "parabola.keras").read_bytes()
    at.file_uploader(key="model_uploader").set_value(("mine.keras", data, "application/octet-stream")).run()
    assert not at.exception and not at.error
    assert at.session_state.model_choice == "Uploaded: mine.keras"
    assert any(b.label == "Download this model (.keras)" for b in at.get("download_button"))
    at.switch_page("app_pages/generate.py").run()
    assert f"your model: {plain('Uploaded: mine.keras')}" in texts(at.caption)


def test_a_sessions_model_is_not_visible_to_another_session() -> None:
    # Two AppTests in one process are two sessions on one server: module-level state is shared
    # between them, st.session_state is not. A model kept anywhere but the session would show.
    a, b = start("model"), start("model")
    data = (ROOT / "assets" / "parabola.keras").read_bytes()
    a.file_uploader(key="model_uploader").set_value(("mine.keras", data, "application/octet-stream")).run()
    assert a.session_state.model_choice == "Uploaded: mine.keras"
    b.run()
    assert not b.exception and b.session_state.models == {} and b.session_state.model_bytes == {}
    assert b.session_state.model_choice == "Bundled (automatic)"
    assert all("mine.keras" not in str(opt) for box in b.selectbox for opt in box.options)
    c = AppTest.from_file(APP, default_timeout=TIMEOUT)  # a third user opens a link naming A's model
    c.query_params["model"] = "Uploaded: mine.keras"
    c.run()
    assert not c.exception and c.session_state.model_choice == "Bundled (automatic)"
    assert "upload its .keras file" in texts(c.sidebar.caption)


def test_bad_model_file_is_refused_and_the_model_kept() -> None:
    at = start("model")
    at.file_uploader(key="model_uploader").set_value(("evil.keras", b"not a zip at all", "application/octet-stream"))
    at.run()
    assert not at.exception
    assert "not a model file" in texts(at.error)
    assert at.session_state.model_choice == "Bundled (automatic)"


# ---------------------------------------------------------------- the job queue, without Streamlit
def test_queue_is_first_come_first_served_and_stop_cancels_a_waiting_job() -> None:
    queue = _training.TrainingQueue(slots=1)
    never = threading.Event()
    assert queue.wait_turn("a", never.is_set)  # a trains
    stop_b, polled = threading.Event(), threading.Event()

    def b_should_stop() -> bool:  # polled by the queue while b waits
        polled.set()
        return stop_b.is_set()

    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(queue.wait_turn("b", b_should_stop)))
    waiter.start()
    assert polled.wait(timeout=30)  # b is in line (it polls only once queued)
    assert queue.position("b") == 1
    stop_b.set()  # the user stops b while it waits
    waiter.join(timeout=30)
    assert not waiter.is_alive()
    assert got == [False] and queue.position("b") == 0
    queue.release()
    assert queue.wait_turn("c", never.is_set)  # the slot is free again
    queue.release()


# ------------------------------------------------------------------ issue 11: a newcomer's first hour
def _rows(n: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    return np.sin(np.arange(n) / 20) + 0.1 * rng.standard_normal(n)


def _held_out_files() -> dict[str, tuple[bytes, str]]:
    """Kinds of file the project did not write, each with the column a user means to denoise."""
    y = _rows(400)
    headerless = "\n".join(f"{i},{v:.5f},{v * 2:.5f}" for i, v in enumerate(y)) + "\n"
    comma = lambda v: f"{v:.4f}".replace(".", ",")  # noqa: E731 -- a decimal-comma cell
    zeit = (
        "Zeit [s];Spannung [V];Strom [A]\n"
        + "\n".join(f"{i * 0.001:.3f};{comma(v)};{comma(v / 2)}" for i, v in enumerate(y))
        + "\n"
    )
    yearly = "year,CO2 [ppm]\n" + "\n".join(f"{1850 + i},{300 + 5 * v:.2f}" for i, v in enumerate(y[:170])) + "\n"
    # a sample counter that is not the first column, and a year column nobody named 'year'
    counter = "value,sample_no\n" + "\n".join(f"{v:.5f},{i}" for i, v in enumerate(y)) + "\n"
    period = "Period,Rain mm\n" + "\n".join(f"{1900 + i},{700 + 40 * v:.1f}" for i, v in enumerate(y[:120])) + "\n"
    return {
        "headerless.csv": (headerless.encode(), "col2"),
        "zeit.csv": (zeit.encode(), "Spannung [V]"),
        "yearly.csv": (yearly.encode(), "CO2 [ppm]"),
        "counter.csv": (counter.encode(), "value"),
        "period.csv": (period.encode(), "Rain mm"),
    }


@pytest.mark.parametrize("name", list(_held_out_files()))
def test_the_default_column_is_a_signal_never_an_index_time_or_year(name: str) -> None:
    data, expected = _held_out_files()[name]
    at = start("upload")
    upload(at, name, data)
    assert not at.exception and not at.error
    assert at.multiselect(key=f"up_values_{at.session_state.data_gen}").value == [expected]
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="cmp_column").value == expected
    assert not at.selectbox(key="cmp_column").disabled  # Compare can switch columns itself


def test_column_choice_follows_the_data_and_a_sample_resets_the_uploader() -> None:
    at = start("upload")
    button(at, "Two sensors").click().run()
    assert at.multiselect(key=f"up_values_{at.session_state.data_gen}").value == ["sensor_a"]
    assert at.session_state.upload_gen == 1  # the uploader was replaced by an empty one
    assert at.file_uploader(key="uploader_1").value is None
    data, _ = _held_out_files()["zeit.csv"]
    at.file_uploader(key="uploader_1").set_value(("zeit.csv", data, "text/csv")).run()
    picker = at.multiselect(key=f"up_values_{at.session_state.data_gen}")
    assert picker.value == ["Spannung [V]"] and "sensor_a" not in picker.options
    assert len(at.multiselect) == 1  # no stale widget of the first file left on the page
    assert "Zeit \\[s\\]" in texts(at.markdown) or "Zeit [s]" in texts(at.markdown)
    # Emptying the choice warns and says which column is shown meanwhile
    picker.set_value([]).run()
    assert "No column picked" in texts(at.warning) and "Spannung" in texts(at.warning)


def test_a_clean_file_of_another_length_is_refused_and_the_upload_kept() -> None:
    y = _rows(300)
    at = start("upload")
    upload(at, "signal.csv", ("t,signal\n" + "\n".join(f"{i},{v:.6f}" for i, v in enumerate(y)) + "\n").encode())
    at.file_uploader(key=f"clean_uploader_{at.session_state.data_gen}").set_value(
        ("short.csv", ("t,truth\n" + "\n".join(f"{i},0.5" for i in range(200)) + "\n").encode(), "text/csv")
    ).run()
    assert not at.exception
    assert [e.value.replace("\\", "") for e in at.error] == [  # shown as text: Markdown escaped
        "The clean file has 200 rows and the data 300: a clean reference needs one value per sample. "
        "Choose the clean file that belongs to this recording."
    ]
    assert at.session_state.table_name == "signal.csv" and at.session_state.clean_table is None
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception and not at.error


def test_absurd_cells_are_gaps_and_a_separate_clean_file_scores_compare() -> None:
    import numpy as np

    y = _rows(300)
    cells = [f"{v:.6f}" for v in y]
    cells[7], cells[70] = "1e308", "-1e308"
    at = start("upload")
    upload(at, "glitchy.csv", ("t,signal\n" + "\n".join(f"{i},{c}" for i, c in enumerate(cells)) + "\n").encode())
    assert "absurd value" in texts(at.caption)
    clean = np.sin(np.arange(300) / 20)
    at.file_uploader(key=f"clean_uploader_{at.session_state.data_gen}").set_value(
        (
            "truth.csv",
            ("t,truth\n" + "\n".join(f"{i},{v:.6f}" for i, v in enumerate(clean)) + "\n").encode(),
            "text/csv",
        )
    ).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="up_clean::signal").value.endswith("truth")  # paired at once
    assert "truth  (from truth.csv)" in at.selectbox(key="up_clean::signal").options
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert np.isfinite(table.to_numpy(dtype=float)).all()  # no inf or None in the metrics
    assert table.loc["Noisy input", "MSE"] < 0.05
    assert "read_series('truth.csv')" in texts(at.code)
    # A clean file of another length is refused with a reason; the data stay
    at.switch_page("app_pages/upload.py").run()
    at.file_uploader(key=f"clean_uploader_{at.session_state.data_gen}").set_value(
        ("short.csv", b"t,truth\n" + b"\n".join(b"%d,1.0" % i for i in range(50)) + b"\n", "text/csv")
    ).run()
    assert "has 50 rows and the data 300" in texts(at.error)


def test_reset_returns_the_session_to_the_start() -> None:
    at = start("upload")
    button(at, "Two sensors").click().run()
    at.switch_page("app_pages/generate.py").run()
    at.slider(key="gen_sigma").set_value(0.3).run()
    assert at.query_params.get("gen_sigma") == "0.3"
    at.sidebar.button(key="reset_session").click().run()
    assert not at.exception
    assert at.session_state.table is None and at.session_state.models == {}
    assert at.session_state.model_choice == "Bundled (automatic)"
    assert at.query_params.get("gen_sigma") in (None, "0.05")  # the address bar holds the start again
    assert at.slider(key="gen_sigma").value == pytest.approx(0.05)  # controls back at their defaults


def test_the_lesson_steps_each_have_one_control() -> None:
    at = start("learn")
    seen = []
    for i in range(7):
        assert not at.exception and not at.error, at.session_state.learn_step
        seen.append(at.session_state.learn_step)
        title = texts(at.subheader)
        keys = [
            w.key
            for kind in ("slider", "selectbox", "radio", "button")
            for w in getattr(at, kind)
            if w.key and w.key.startswith("learn_") and w.key not in ("learn_back", "learn_next")
        ]
        assert len(keys) == 1, (at.session_state.learn_step, keys)
        if "The tutorial's network" in title:
            assert metric(at, "Inputs that reach this output") == "11"  # measured on the network itself
        if "Per-signal min-max" in title:
            at.slider(key="learn_mm_sigma").set_value(0.2).run()
            assert float(metric(at, "MSE of the perfect network, unscaled")) > 0  # scaling alone errs
        if i < 6:
            next(b for b in at.button if b.key == "learn_next").click().run()
    assert seen == [1, 2, 3, 4, 5, 6, 7]
    assert next(b for b in at.button if b.key == "learn_next").disabled  # the last step
    at.toggle(key="learn_projection").set_value(True).run()
    assert not at.exception
    assert any("stSidebar" in str(h.proto) for h in at.get("html"))
    # Projection mode scales the charts too, not only the text: every font of every chart is large.
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]
    assert spec["font"]["size"] >= 20 and spec["xaxis"]["tickfont"]["size"] >= 20
    assert spec["legend"]["font"]["size"] >= 20
    assert any("stWidgetLabel" in str(h.proto) for h in at.get("html"))  # and the widgets' labels


def _finished_job(model, family: str):
    job = _training.TrainingJob(_training.TrainRequest(None, None), _training.TrainingQueue())  # type: ignore[arg-type]
    job.status, job.result, job.ended = "finished", model, time.time()
    job.logs = [{"epoch": 1, "loss": 1.0, "val_loss": 1.0, "seconds": 1.0}]
    job.request = _training.TrainRequest(model.config, TrainConfig(epochs=1), family=family, noise=("gaussian",))
    return job


def test_a_trained_model_is_offered_not_imposed() -> None:
    from denoiser.core import Denoiser

    at = start("model")
    # A new model no better than the bundled one on the same test signals: offered, the bundled one stays.
    same = Denoiser.load(ROOT / "assets" / "default.keras")
    at.session_state.job = job = _finished_job(same, "sines")
    at.run()
    assert not at.exception and not at.error
    assert at.session_state.model_choice == "Bundled (automatic)"
    offer = texts(at.info)
    assert "is ready, not in use" in offer and "bundled default" in offer and "dB" in offer
    at.switch_page("app_pages/home.py").run()
    assert "No training needed: the bundled x² specialist is used" in texts(at.caption)
    at.switch_page("app_pages/model.py").run()
    next(b for b in at.button if b.key == "use_offer").click().run()
    assert at.session_state.model_choice == job.name  # used because the user said so
    at.switch_page("app_pages/home.py").run()
    assert f"your model **{plain(job.name)}**" in texts(at.caption)


def test_a_clearly_better_model_is_put_in_use_with_its_scores() -> None:
    from denoiser.core import Denoiser

    at = start("model")
    # In use: the x² specialist as a file of the user's; it knows parabolas on 150 points, not sines.
    at.file_uploader(key="model_uploader").set_value(
        ("x2.keras", (ROOT / "assets" / "parabola.keras").read_bytes(), "application/octet-stream")
    ).run()
    assert at.session_state.model_choice == "Uploaded: x2.keras"
    at.session_state.job = job = _finished_job(Denoiser.load(ROOT / "assets" / "default.keras"), "sines")
    at.run()
    assert not at.exception and not at.error
    offer = at.session_state.offer
    assert offer["new_gain"] >= offer["current_gain"] + 1.0, offer
    assert at.session_state.model_choice == job.name
    assert "it is clearly better" in texts(at.success)


# ------------------------------------------------------------------ the one process-wide patch
def test_keras_state_survives_a_rerun() -> None:
    """app.py installs ui.runtime.keep_keras_state: Streamlit's cleanup no longer clears Keras' session."""
    import keras
    from streamlit.runtime.scriptrunner import script_runner

    at = start("generate")
    assert getattr(script_runner._clean_problem_modules, "keeps_keras", False)
    before = keras.backend.get_uid("issue13_probe")
    at.run()
    assert keras.backend.get_uid("issue13_probe") == before + 1  # clear_session() would restart it at 1


def test_a_moved_streamlit_hook_is_a_warning(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from streamlit.runtime.scriptrunner import script_runner

    from app_pages.ui import runtime

    monkeypatch.delattr(script_runner, "_clean_problem_modules")
    with caplog.at_level("WARNING"):
        assert runtime.keep_keras_state() is False
    assert "has moved" in caplog.text


# ------------------------------------------------------------------ text from files, as the app shows it
def test_names_shown_by_the_app_are_one_short_line() -> None:
    from app_pages.ui.text import NAME, plain, short

    for name in ("a\nb.csv", "a\r\nb", "a\u2028b", "x" * 5000, "\x1b[2Jred"):
        for shown in (plain(name, NAME), short(name)):
            assert len(shown.splitlines()) == 1 and "\x1b" not in shown
            assert len(short(name)) <= NAME
