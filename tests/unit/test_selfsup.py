"""Split first, then frame; self-supervised (blind-spot) training on a recording with no clean version."""

import numpy as np
import pytest

from denoiser import InputError, metrics
from denoiser.config import ModelConfig, TrainConfig
from denoiser.core import Denoiser
from denoiser.selfsup import invariant_frames, mask_frames
from denoiser.train import frame_parts, split_series
from tests.support import APP

TINY = ModelConfig(window=64, filters=8, depth=2)


def smooth_recording(n: int = 6000, sigma: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A real-like smooth signal (beats of varying rate on a slow trend) and a noisy copy."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    phase = np.cumsum(2 * np.pi / (120 + 20 * np.sin(2 * np.pi * t / 2500)))
    clean = np.sin(phase) + 0.5 * np.sin(2 * phase + 0.7) + 0.8 * np.sin(2 * np.pi * t / 4000)
    return clean, clean + sigma * rng.standard_normal(n)


# ------------------------------------------------------------ split first, then frame
def test_one_recording_is_split_in_time_with_a_gap_before_framing():
    x = np.arange(5000, dtype=float)  # each sample's value is its index
    cfg = TrainConfig()
    parts = split_series(x, cfg, 256)
    ((_, a, b),) = parts["train"]
    ((_, va, vb),) = parts["val"]
    ((_, ta, tb),) = parts["test"]
    assert 0 == a < b and b + 128 <= va < vb and vb + 128 <= ta < tb <= 5000
    frames = {k: frame_parts(x, parts[k], 256, 16) for k in parts}
    # No window of one part holds a sample of another: windows come from inside their own range.
    assert frames["train"].max() < va and frames["val"].min() >= va and frames["val"].max() < ta
    assert frames["test"].min() >= ta


def test_signals_are_split_whole_so_no_signal_is_in_two_parts():
    # Row r holds values in [r, r + 0.3): the floor of any window value (padding included) names its row.
    x = np.arange(40)[:, None] + np.linspace(0, 0.3, 300, endpoint=False)[None, :]
    parts = split_series(x, TrainConfig(seed=3), 64)
    rows = {k: {r for r, _, _ in v} for k, v in parts.items()}
    assert not (rows["train"] & rows["val"] or rows["train"] & rows["test"] or rows["val"] & rows["test"])
    assert len(rows["train"] | rows["val"] | rows["test"]) == 40
    assert all((a, b) == (0, 300) for v in parts.values() for _, a, b in v)
    train_rows = set(np.unique(np.floor(frame_parts(x, parts["train"], 64, 32))).tolist())
    test_rows = set(np.unique(np.floor(frame_parts(x, parts["test"], 64, 32))).tolist())
    assert train_rows == rows["train"] and test_rows == rows["test"]


def test_fit_reports_a_time_split_and_refuses_a_recording_too_short_to_split():
    clean, noisy = smooth_recording(2000)
    den = Denoiser(TINY).fit(noisy, clean, TrainConfig(epochs=1, batch_size=32))
    assert den.train_info_["split"] == "time"
    assert den.train_info_["windows"]["test"] > 0 and den.test_metrics_["noisy_mse"] > 0
    with pytest.raises(InputError, match="too few to split"):
        Denoiser(TINY).fit(noisy[:200], clean[:200], TrainConfig(epochs=1))


# ------------------------------------------------------------ blind-spot masking
def test_masking_replaces_every_kth_sample_by_its_neighbours_mean():
    frames = np.random.default_rng(0).standard_normal((3, 16))
    m = mask_frames(frames, 4, 1)
    changed = np.flatnonzero((m != frames).any(axis=0))
    np.testing.assert_array_equal(changed, [1, 5, 9, 13])
    np.testing.assert_allclose(m[:, 5], 0.5 * (frames[:, 4] + frames[:, 6]))


def test_invariant_output_at_a_sample_ignores_that_samples_own_value():
    frames = np.random.default_rng(1).standard_normal((2, 32))

    def smoother(f):  # any denoiser that looks at the sample itself
        return (np.roll(f, 1, axis=1) + f + np.roll(f, -1, axis=1)) / 3

    base = invariant_frames(smoother, frames, 4)
    bumped = frames.copy()
    bumped[:, 10] += 100.0
    out = invariant_frames(smoother, bumped, 4)
    assert out[0, 10] == pytest.approx(base[0, 10])
    assert abs(out[0, 9] - base[0, 9]) > 1  # neighbours do see it


# ------------------------------------------------------------ self-supervised fit
@pytest.fixture(scope="module")
def selfsup_fresh():
    """A tiny U-Net trained from fresh weights on one noisy recording alone (a few seconds)."""
    clean, noisy = smooth_recording()
    train = TrainConfig.selfsup(init="", epochs=8, batch_size=32, learning_rate=3e-3, seed=1)
    return Denoiser(TINY).fit(noisy, train=train), clean, noisy


def test_selfsupervised_fit_lowers_the_error_without_a_clean_version(selfsup_fresh):
    den, clean, noisy = selfsup_fresh
    out = den.denoise(noisy)
    # Far better than the noisy input, and better than the neighbours' mean that the
    # untrained blind-spot network starts from (-3 dB of noise).
    assert metrics.gain_db(clean, noisy, out) > 7  # 9.3 dB here; 3.0 with the input left unmasked
    assert den.test_metrics_["blind_spot_mse"] < den.test_metrics_["neighbour_mse"]
    assert den.history_["val_loss"][-1] < den.history_["val_loss"][0]
    assert den.train_info_["train_config"]["self_supervised"] is True


def test_selfsupervised_model_is_blind_to_each_samples_own_noise_and_survives_save_load(selfsup_fresh):
    den, _, noisy = selfsup_fresh
    assert den.config.blind_spot == 4
    x = noisy[:1000].copy()
    base = den.denoise(x)
    x[500] += 50.0
    out = den.denoise(x)
    assert out[500] == pytest.approx(base[500], abs=1e-3)
    back = Denoiser.load(den.to_bytes())
    assert back.config.blind_spot == 4
    np.testing.assert_allclose(back.denoise(noisy[:1000]), base, atol=1e-6)


def test_the_automatic_pipeline_weighs_the_plain_output_of_a_self_supervised_network(selfsup_fresh):
    # A J-invariant output has no divergence, so SURE counts it as free; with a noise level a little
    # too high the blend would then lean on it. The pipeline uses the output that sees each sample,
    # whose cost SURE measures (Denoiser.denoise(invariant=False)).
    from denoiser.auto import Context, offered

    den, clean, noisy = selfsup_fresh
    x = noisy[:2000]
    net = next(c for c in offered(Context(x, 0.3, den)) if c.kind == "network")
    plain = den.denoise(x, hop=net.params["window"] * 3 // 4, invariant=False)
    np.testing.assert_allclose(net.apply(x), plain)
    assert np.abs(plain - den.denoise(x)).max() > 1e-3  # not the J-invariant one
    spiked = x.copy()
    spiked[1000] += 50.0
    assert abs(den.denoise(spiked, invariant=False)[1000] - plain[1000]) > 1e-3  # it uses the sample
    res = __import__("denoiser").denoise(noisy, model=den)
    assert metrics.gain_db(clean, noisy, res.denoised) > 7


def test_blind_spot_residuals_give_the_noise_level(selfsup_fresh):
    den, clean, noisy = selfsup_fresh
    sigma = den.noise_sigma(noisy)
    assert 0.7 * 0.3 < sigma < 1.3 * 0.3  # the recording's noise is 0.3
    with pytest.raises(InputError, match="self-supervised"):
        Denoiser(TINY).fit(noisy[:2000], clean[:2000], TrainConfig(epochs=1)).noise_sigma(noisy)


def test_fine_tuning_starts_from_the_bundled_default():
    clean, noisy = smooth_recording(5000, seed=2)
    den = Denoiser().fit(noisy, train=TrainConfig.selfsup(epochs=1, seed=0))
    assert den.train_info_["init"] == "bundled 'default' model"
    assert den.config.window == 256 and den.config.blind_spot == 4
    assert metrics.mse(clean, den.denoise(noisy)) < metrics.mse(clean, noisy)


def test_selfsupervised_api_is_validated():
    clean, noisy = smooth_recording(2000)
    with pytest.raises(InputError, match="without clean"):
        Denoiser(TINY).fit(noisy, clean, TrainConfig(self_supervised=True))
    with pytest.raises(InputError, match="differs"):  # a given config that is not the bundled network
        Denoiser(TINY).fit(noisy, train=TrainConfig.selfsup(epochs=1))
    with pytest.raises(InputError, match="init"):
        TrainConfig(init="nope")
    with pytest.raises(InputError, match="blind_spot"):
        TrainConfig(blind_spot=1)
    with pytest.raises(InputError, match="blind_spot"):
        ModelConfig(blind_spot=1)


def test_cli_trains_self_supervised_on_a_csv_column(tmp_path, cli):
    _, noisy = smooth_recording(3000)
    csv = tmp_path / "rec.csv"
    csv.write_text("t,volts\n" + "\n".join(f"{i},{v:.6f}" for i, v in enumerate(noisy)) + "\n")
    out = tmp_path / "m.keras"
    proc = cli(
        "train",
        "--csv",
        str(csv),
        "--self-supervised",
        "--window",
        "64",
        "--filters",
        "8",
        "--from-scratch",
        "--epochs",
        "1",
        "-o",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    den = Denoiser.load(out)
    assert den.config.blind_spot == 4 and den.train_info_["train_config"]["self_supervised"] is True
    assert "self-supervised" in den.train_info_["data"]
    assert "blind-spot" in proc.stderr


# ------------------------------------------------------------ app: the training form's self-supervised source
def test_app_learns_from_the_uploaded_recording_with_the_same_job_and_curve():
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page("app_pages/upload.py").run()
    _, noisy = smooth_recording(2000)
    csv = ("t,volts\n" + "\n".join(f"{i},{v:.6f}" for i, v in enumerate(noisy)) + "\n").encode()
    at.file_uploader(key="uploader").set_value(("rec.csv", csv, "text/csv"))
    at.run()
    at.switch_page("app_pages/model.py").run()
    at.radio(key="tr_source").set_value("selfsup")
    at.select_slider(key="tr_window").set_value(64)
    at.number_input(key="tr_epochs").set_value(1)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception and not at.error
    job = at.session_state.job
    job.thread.join(timeout=180)
    assert job.status == "finished", job.error
    assert len(job.logs) == 1 and "val_loss" in job.logs[0]  # the live curve's points
    den = job.result
    assert den.train_info_["train_config"]["self_supervised"] and den.config.blind_spot == 4
    assert den.config.window == 64 and "self-supervised" in den.train_info_["data"]
    at.run()
    assert not at.exception
    assert job.name.endswith(")") and "(self-supervised)" in job.name and job.name in at.session_state.models
    # Scored without a clean version: the automatic mode's own estimate with each model, on the recording.
    offer = at.session_state.offer
    assert offer["estimated"] and offer["new_gain"] is not None and offer["current_gain"] is not None
    shown = [m.value for m in [*at.caption, *at.info, *at.success]]
    assert any("automatic mode's own estimate" in v for v in shown)
