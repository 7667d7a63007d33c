"""Issue 6 in the package: the LSTM preset, global scaling, the loss choice and hyperparameter search.

Every network here is tiny (window 32, a few units or filters, one or two epochs)
so the file runs in well under a minute on 2 cores.
"""

import io
import json
import zipfile

import keras
import numpy as np
import pytest

from denoiser import InputError, metrics, signals, windows
from denoiser.config import PRESET_LABELS, PRESETS, ModelConfig, TrainConfig
from denoiser.core import Denoiser
from denoiser.model import build_model
from denoiser.search import _plan, search
from denoiser.train import make_loss, split_indices

LSTM = ModelConfig.lstm(window=32, units=8)
UNET = ModelConfig(window=32, filters=4, depth=1)
QUICK = TrainConfig(epochs=1, batch_size=32)


@pytest.fixture(scope="module")
def lstm_trained():
    """A tiny bidirectional LSTM, 2 epochs on 300 windows of sines."""
    noisy, clean = signals.training_pairs("sines", 300, 32, "gaussian", (0.1, 0.3), rng=0)
    return Denoiser(LSTM).fit(noisy, clean, TrainConfig(epochs=2, batch_size=32, seed=1))


@pytest.fixture(scope="module")
def global_trained():
    """A tiny U-Net with z-score scaling from the training split, on data far from unit scale."""
    noisy, clean = signals.training_pairs("sines", 300, 32, "gaussian", (0.1, 0.3), rng=2)
    noisy, clean = 1000 * noisy + 5, 1000 * clean + 5
    train = TrainConfig(epochs=3, batch_size=32, seed=3)
    return Denoiser(ModelConfig(window=32, filters=8, depth=1, scaling="global")).fit(noisy, clean, train), noisy, train


# ------------------------------------------------------------ LSTM preset
def test_lstm_is_a_preset_and_maps_window_to_window():
    assert "lstm" in PRESETS and "lstm" in PRESET_LABELS
    for bidirectional in (True, False):
        model = build_model(ModelConfig.lstm(window=32, units=8, lstm_layers=3, bidirectional=bidirectional))
        assert model.output_shape == (None, 32, 1)
        rnns = [layer for layer in model.layers if "lstm" in layer.name]
        assert len(rnns) == 3
    # Keras' defaults are what cuDNN runs: tanh/sigmoid, no recurrent dropout, not unrolled.
    cell = model.get_layer("lstm0")
    assert (cell.activation.__name__, cell.recurrent_activation.__name__) == ("tanh", "sigmoid")
    assert cell.recurrent_dropout == 0 and not cell.unroll
    assert ModelConfig.lstm().window == 128 and ModelConfig.lstm().units == 32
    assert TrainConfig.for_preset("lstm").learning_rate > TrainConfig.for_preset("unet").learning_rate


@pytest.mark.parametrize("bad", [{"units": 0}, {"lstm_layers": 9}, {"bidirectional": "yes"}, {"scaling": "zscore"}])
def test_bad_new_fields_are_refused(bad):
    with pytest.raises(InputError, match=next(iter(bad))):
        ModelConfig(**bad)


def test_learned_scaling_is_not_config():
    # Fitted values are attributes of the Denoiser (global_offset_), never knobs of the config.
    with pytest.raises(TypeError):
        ModelConfig(global_scale=2.0)
    with pytest.raises(InputError, match="unknown fields"):
        ModelConfig.from_dict({"global_offset": 1.0})


def test_lstm_trains_lowers_the_loss_and_denoises(lstm_trained):
    den = lstm_trained
    assert den.history_["loss"][-1] < den.history_["loss"][0]
    x = signals.add_noise(signals.make_signal("sines", 500, rng=3), sigma=0.2, rng=4)
    out = den.denoise(x)
    assert out.shape == x.shape and np.isfinite(out).all()
    acts = den.activations(x[:32])
    assert acts["bilstm0"].shape == (32, 16)  # 8 units per direction


def test_lstm_saves_and_loads_identically(lstm_trained, tmp_path):
    den = lstm_trained
    den.save(tmp_path / "lstm.keras")
    back = Denoiser.load(tmp_path / "lstm.keras")
    assert back.config == den.config
    x = np.random.default_rng(1).standard_normal(300)
    np.testing.assert_array_equal(back.denoise(x), den.denoise(x))


def test_files_without_the_new_fields_still_load():
    """A file written before the LSTM preset has no units/lstm_layers/... in its config: defaults fill them."""
    den = Denoiser(UNET)
    den.model_ = build_model(UNET)  # saving needs weights, not training
    data = den.to_bytes()
    meta = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("denoiser.json"))
    new = ("units", "lstm_layers", "bidirectional")
    meta["config"] = {k: v for k, v in meta["config"].items() if k not in new}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, json.dumps(meta) if name == "denoiser.json" else zin.read(name))
    back = Denoiser.load(out.getvalue())
    assert back.config == UNET


# ------------------------------------------------------------ scaling
def test_global_stats_come_from_the_training_split_only(global_trained):
    den, noisy, train = global_trained
    # Recompute the windows and split fit() used: the stored stats are those of the training windows.
    x = np.concatenate([windows.frame(r, 32, 16)[0] for r in noisy])
    i_train, i_val, i_test = split_indices(len(x), train, rng=np.random.default_rng(train.seed))
    assert (den.global_offset_, den.global_scale_) == pytest.approx((x[i_train].mean(), x[i_train].std()))
    assert den.global_offset_ != pytest.approx(x.mean(), rel=1e-9, abs=0)  # not all windows
    assert den.global_scale_ > 100  # data units, not unit scale
    assert den.config == ModelConfig(**den.config.to_dict())  # the config holds no learned values


def test_global_scaling_is_inverted_and_survives_save_load(global_trained):
    den, _, _ = global_trained
    clean = 1000 * signals.make_signals("sines", 4, 200, rng=7) + 5
    noisy = signals.add_noise(clean, sigma=200.0, rng=8)
    out = den.denoise(noisy)
    # Back in data units (offset 5, amplitude ~1000) and better than the input.
    assert metrics.mse(clean, out) < metrics.mse(clean, noisy)
    back = Denoiser.load(den.to_bytes())
    assert (back.global_offset_, back.global_scale_) == (den.global_offset_, den.global_scale_)
    np.testing.assert_array_equal(back.denoise(noisy), out)
    # A constant input (any level) has nothing to denoise and comes back unchanged.
    np.testing.assert_allclose(den.denoise(np.full(100, 7.25)), 7.25)
    np.testing.assert_allclose(den.denoise(np.full(100, -3e4)), -3e4)


@pytest.mark.parametrize("scaling", windows.GLOBAL_SCALINGS)
def test_global_window_stats_use_the_stored_values(scaling):
    frames = np.random.default_rng(1).normal(5.0, 3.0, (20, 32))
    offset, scale = windows.global_stats(frames, scaling)
    if scaling == "global":
        assert (offset, scale) == pytest.approx((frames.mean(), frames.std()))
    else:
        assert (offset, scale) == pytest.approx((frames.min(), np.ptp(frames)))
    off, sc = windows.window_stats(frames[:3], scaling, global_offset=offset, global_scale=scale)
    assert off.shape == sc.shape == (3, 1) and np.all(off == offset) and np.all(sc == scale)
    np.testing.assert_allclose(windows.unscale(windows.scale(frames[:3], off, sc), off, sc), frames[:3])
    assert windows.global_stats(np.full((2, 8), 4.0), scaling)[1] == 1.0  # constant data: no division by 0


# ------------------------------------------------------------ loss
def test_loss_choice_reaches_keras():
    noisy, clean = signals.training_pairs("sines", 120, 32, "gaussian", 0.2, rng=0)
    first = {}
    for loss in ("mse", "mae", "huber"):
        den = Denoiser(UNET).fit(noisy, clean, QUICK.with_(loss=loss))
        compiled = den.model_.loss
        if loss == "huber":
            assert isinstance(compiled, keras.losses.Huber)
        else:
            assert compiled == make_loss(loss)
        first[loss] = den.history_["loss"][0]
    assert len({round(v, 6) for v in first.values()}) == 3  # three different objectives were minimised


# ------------------------------------------------------------ search
@pytest.fixture(scope="module")
def searched():
    clean = signals.make_signals("sines", 40, 96, rng=0)
    noisy = signals.add_noise(clean, sigma=0.2, rng=1)
    calls = []
    result = search(
        noisy,
        clean,
        {"preset": ["unet", "lstm"], "learning_rate": [1e-3, 1e-2]},
        base_config=ModelConfig(window=32, filters=4, depth=1, units=4, bidirectional=False),
        train=QUICK,
        on_trial=lambda i, n, row: calls.append((i, n, row)),
    )
    return result, calls, noisy, clean


def test_search_ranks_every_trial_on_validation(searched):
    result, calls, _, _ = searched
    assert [(i, n) for i, n, _ in calls] == [(0, 4), (1, 4), (2, 4), (3, 4)]
    assert len(result.table) == 4 and not result.stopped
    val = [row["val_mse"] for row in result.table]
    assert val == sorted(val)
    assert {"trial", "preset", "learning_rate", "val_mse", "val_mae", "epochs", "seconds"} <= set(result.table[0])
    assert {(r["preset"], r["learning_rate"]) for r in result.table} == {
        ("unet", 1e-3),
        ("unet", 1e-2),
        ("lstm", 1e-3),
        ("lstm", 1e-2),
    }
    assert result.best_params == {k: result.table[0][k] for k in ("preset", "learning_rate")}
    assert list(result.to_frame()["val_mse"]) == val


def test_search_keeps_the_winner_and_tests_it_once(searched):
    result, _, noisy, _ = searched
    assert result.best_.config.preset == result.best_params["preset"]
    assert result.best_.denoise(noisy[:2]).shape == (2, 96)
    assert {"mse", "mae", "noisy_mse", "noisy_mae"} <= set(result.test_metrics)
    assert result.best_.test_metrics_ == result.test_metrics  # carried into its saved file
    assert result.best_.train_info_["search"]["params"] == result.best_params


def test_search_stops_on_the_flag_and_the_budget():
    clean = signals.make_signals("sines", 30, 64, rng=0)
    noisy = signals.add_noise(clean, sigma=0.2, rng=1)
    space = {"filters": [2, 4], "learning_rate": [1e-3, 1e-2]}
    done = []
    result = search(
        noisy,
        clean,
        space,
        base_config=UNET,
        train=QUICK,
        on_trial=lambda i, n, row: done.append(i),
        should_stop=lambda: len(done) >= 1,
    )
    assert result.stopped and len(result.table) == 1 and result.best_ is not None and result.test_metrics
    result = search(noisy, clean, space, base_config=UNET, train=QUICK, budget_seconds=1e-9)
    assert result.stopped and result.table == [] and result.best_ is None and result.n_planned == 4


def test_search_plans_random_trials_and_refuses_bad_spaces():
    space = {"window": [32, 64, 128], "loss": ["mse", "mae", "huber"], "units": [8, 16]}
    picks = _plan(space, LSTM, QUICK, 5)
    assert len(picks) == 5 and len({tuple(p.values()) for p in picks}) == 5
    assert picks == _plan(space, LSTM, QUICK, 5)  # seeded
    assert len(_plan(space, LSTM, QUICK, None)) == 18
    with pytest.raises(InputError, match="cannot be searched"):
        _plan({"dropout": [0.1]}, LSTM, QUICK, None)
    with pytest.raises(InputError, match="cannot be searched"):
        _plan({"global_scale": [2.0]}, LSTM, QUICK, None)  # learned, not a config field
    with pytest.raises(InputError, match="cannot be searched"):
        _plan({"val_fraction": [0.2]}, LSTM, QUICK, None)  # every trial shares one split
    with pytest.raises(InputError, match="loss must be one of"):
        _plan({"loss": ["mse", "cosine"]}, LSTM, QUICK, None)  # before any training
    with pytest.raises(InputError, match="non-empty list"):
        _plan({"units": []}, LSTM, QUICK, None)
