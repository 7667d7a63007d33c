"""Realistic signal families and the bias-free U-Net (issue 10, item 3)."""

import numpy as np
import pytest

from denoiser import InputError, signals
from denoiser.config import ModelConfig
from denoiser.model import build_model

BIAS_FREE = ModelConfig(window=64, filters=4, depth=2, bias=False)


# ---------------------------------------------------------------- realistic families
@pytest.mark.parametrize("family", [*signals.REALISTIC, "realistic"])
@pytest.mark.parametrize("length", [2, 8, 150, 1000])
def test_realistic_families_shape_finite_seeded(family, length):
    a = signals.make_signal(family, length, rng=3)
    b = signals.make_signal(family, length, rng=3)
    assert a.shape == (length,) and a.dtype == np.float64 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("family", signals.REALISTIC)
def test_realistic_families_vary_and_stay_of_order_one(family):
    batch = signals.make_signals(family, 200, 512, rng=1)
    assert not np.allclose(batch[0], batch[1])
    std = batch.std(axis=1)
    # Amplitude of order 1: std in [0.3, 1] (or less where the peak cap bites), peaks within 4.
    assert np.abs(batch).max() <= 4 + 1e-9
    assert 0.3 <= np.median(std) <= 1.0 and std.max() <= 1.0 + 1e-9
    assert np.abs(batch.mean(axis=1)).max() < 1e-9  # zero mean: the level is not the signal


def test_realistic_mix_draws_its_families_in_turn():
    # "realistic" draws a family index, then that family's generator from the same stream.
    for seed in range(12):
        rng = np.random.default_rng(seed)
        k = rng.integers(len(signals.REALISTIC))
        expected = signals.FAMILIES[signals.REALISTIC[k]](300, rng)
        np.testing.assert_array_equal(signals.make_signal("realistic", 300, rng=seed), expected)
    # every family shows up in a modest batch
    rng = np.random.default_rng(0)
    drawn = {signals.REALISTIC[np.random.default_rng(s).integers(6)] for s in range(60)}
    assert drawn == set(signals.REALISTIC)
    assert signals.MIXED == ("sines", "chirp", "square", "spikes", "smooth")  # "mixed" keeps its meaning


def test_mix_names_inside_a_tuple():
    batch = signals.make_signals(("realistic", "parabola"), 40, 150, rng=0)
    assert batch.shape == (40, 150) and np.isfinite(batch).all()
    with pytest.raises(InputError, match="empty"):
        signals.make_signal((), 10)


def test_powerlaw_spectra_have_random_exponents_in_range():
    batch = signals.make_signals("powerlaw", 200, 4096, rng=2)
    f = np.fft.rfftfreq(4096)[1:]
    power = np.abs(np.fft.rfft(batch, axis=1))[:, 1:] ** 2
    slopes = -np.polyfit(np.log(f), np.log(power).T, 1)[0]
    assert 0.3 < slopes.min() and slopes.max() < 2.7  # beta drawn in [0.5, 2.5]
    assert slopes.max() - slopes.min() > 1.2  # and really varied


@pytest.mark.parametrize("seed", range(5))
def test_beats_are_quasi_periodic(seed):
    from scipy.signal import find_peaks

    x = signals.make_signal("beats", 6000, rng=seed)
    peaks, _ = find_peaks(x, height=x.min() + 0.75 * (x.max() - x.min()), distance=2)
    gaps = np.diff(peaks)
    assert len(peaks) >= 15
    med = np.median(gaps)
    mad = np.median(np.abs(gaps - med))
    # A rate that varies, but beats that repeat (the median is robust to a missed peak; short
    # periods of 3..20 samples jitter by a sample or two from sampling alone).
    assert 0 < gaps.std() and mad <= max(0.2 * med, 2.0)


def test_broadband_families_have_energy_near_nyquist():
    # What the old training set lacked: real power in the top half of the band.
    power = np.abs(np.fft.rfft(signals.make_signals("powerlaw", 200, 1024, rng=0), axis=1)) ** 2
    top = power[:, 256:].sum(axis=1) / power[:, 1:].sum(axis=1)
    assert np.quantile(top, 0.9) > 0.05


def test_training_pairs_impulse_rate_range():
    noisy, clean = signals.training_pairs("smooth", 200, 500, "impulse", 0.1, rng=0, rate=(0.005, 0.2))
    density = np.mean(noisy != clean, axis=1)
    assert density.min() < 0.02 and density.max() > 0.1
    np.testing.assert_array_equal(
        noisy, signals.training_pairs("smooth", 200, 500, "impulse", 0.1, rng=0, rate=(0.005, 0.2))[0]
    )
    with pytest.raises(InputError, match="rate range"):
        signals.training_pairs("smooth", 5, 50, "impulse", 0.1, rng=0, rate=(0.2, 0.1))


# ---------------------------------------------------------------- bias-free U-Net
def test_bias_free_unet_has_no_biases_and_is_scale_equivariant():
    model = build_model(BIAS_FREE)
    assert not any("bias" in w.path for w in model.weights)
    x = np.random.default_rng(0).standard_normal((4, 64, 1)).astype(np.float32)
    y = np.asarray(model(x))
    for c in (0.01, 0.5, 7.0, 300.0):
        np.testing.assert_allclose(np.asarray(model(c * x)), c * y, rtol=1e-4, atol=1e-5 * c)


def test_a_biased_unet_is_not_scale_equivariant():
    # The counterpart: the same net with (non-zero) biases breaks net(c x) = c net(x).
    model = build_model(ModelConfig(window=64, filters=4, depth=2))
    for w in model.weights:
        if "bias" in w.path:
            w.assign(np.full(w.shape, 0.1, np.float32))
    x = np.random.default_rng(0).standard_normal((4, 64, 1)).astype(np.float32)
    assert not np.allclose(np.asarray(model(7.0 * x)), 7.0 * np.asarray(model(x)), rtol=1e-3, atol=1e-3)


def test_bias_option_is_validated_and_old_configs_keep_biases():
    assert ModelConfig.from_dict({"preset": "unet", "window": 150}).bias is True  # files saved before the option
    assert ModelConfig.from_dict({**BIAS_FREE.to_dict()}) == BIAS_FREE
    with pytest.raises(InputError, match="bias-free"):
        ModelConfig.lstm(bias=False)
    with pytest.raises(InputError, match="bias must be"):
        ModelConfig(bias="no")


def test_bias_free_denoiser_fits_saves_and_loads(tmp_path):
    from denoiser.config import TrainConfig
    from denoiser.core import Denoiser

    noisy, clean = signals.training_pairs("realistic", 300, 64, ("gaussian", "impulse"), (0.05, 0.3), rng=0)
    den = Denoiser(BIAS_FREE).fit(noisy, clean, TrainConfig(epochs=3, batch_size=32, learning_rate=3e-3, seed=1))
    den.save(tmp_path / "bf.keras")
    back = Denoiser.load(tmp_path / "bf.keras")
    assert back.config.bias is False
    x = signals.add_noise(signals.make_signal("beats", 500, rng=3), sigma=0.1, rng=4)
    np.testing.assert_allclose(back.denoise(x), den.denoise(x), rtol=1e-5, atol=1e-6)
    # In data units too: denoise(c x) = c denoise(x) (per-window scaling and a homogeneous net).
    np.testing.assert_allclose(den.denoise(25.0 * x), 25.0 * den.denoise(x), rtol=1e-4, atol=1e-4)
