"""Signal families and noise: shapes, the exact tutorial curve, levels hit statistically."""
import numpy as np
import pytest

from denoiser import InputError, signals
from denoiser.metrics import snr_db


def test_tutorial_curve_is_exact():
    x = signals.x_grid()
    assert x.shape == (150,)
    np.testing.assert_array_equal(x, np.array([i * 0.01 for i in range(-50, 100)]))
    np.testing.assert_array_equal(signals.make_signal("x2"), x**2)


@pytest.mark.parametrize("family", [*signals.FAMILIES, "mixed"])
@pytest.mark.parametrize("length", [2, 150, 1000])
def test_families_shape_finite_and_seeded(family, length):
    a = signals.make_signal(family, length, rng=3)
    b = signals.make_signal(family, length, rng=3)
    assert a.shape == (length,) and a.dtype == np.float64 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)


def test_families_vary_with_the_seed():
    for family in ("parabola", "sines", "chirp", "square", "spikes", "smooth"):
        assert not np.allclose(signals.make_signal(family, 300, rng=1), signals.make_signal(family, 300, rng=2)), family


def test_parabola_ranges():
    rng = np.random.default_rng(0)
    x = signals.x_grid()
    for _ in range(50):
        a, b, c = np.polyfit(x, signals.make_signal("parabola", rng=rng), 2)
        assert 0.5 <= a <= 2.0


@pytest.mark.parametrize("kind", signals.NOISE_KINDS)
def test_noise_hits_sigma(kind):
    noise = signals.make_noise((200, 500), kind, sigma=0.3, rng=0, rate=0.05)
    assert noise.std() == pytest.approx(0.3, rel=0.05)


@pytest.mark.parametrize("kind", ["gaussian", "uniform", "impulse", "pink"])
def test_noise_hits_snr(kind):
    clean = signals.make_signals("sines", 100, 1000, rng=1)
    noisy = signals.add_noise(clean, kind, snr_db=10.0, rng=2)
    measured = np.mean([snr_db(c, n) for c, n in zip(clean, noisy)])
    assert measured == pytest.approx(10.0, abs=0.5)


def test_impulse_noise_is_sparse_spikes():
    noise = signals.make_noise(100_000, "impulse", sigma=1.0, rng=0, rate=0.02)
    assert np.mean(noise != 0) == pytest.approx(0.02, rel=0.1)


def test_uniform_noise_is_bounded():
    noise = signals.make_noise(10_000, "uniform", sigma=1.0, rng=0)
    assert np.abs(noise).max() <= np.sqrt(3)


def test_drift_is_slow():
    noise = signals.make_noise(1000, "drift", sigma=1.0, rng=0)
    assert np.abs(np.diff(noise)).max() < 0.05  # a smooth curve, not white noise


def test_bad_levels_and_kinds_are_refused():
    with pytest.raises(InputError, match="either as sigma or as SNR"):
        signals.add_noise(np.ones(10), sigma=0.1, snr_db=10)
    with pytest.raises(InputError, match="Unknown noise kind"):
        signals.add_noise(np.ones(10), "brown", sigma=0.1)
    with pytest.raises(InputError, match="Unknown signal family"):
        signals.make_signal("cosh")
    with pytest.raises(InputError, match=">= 0"):
        signals.add_noise(np.ones(10), sigma=-1)


def test_training_pairs_seeded_and_varied():
    n1, c1 = signals.training_pairs("mixed", 50, 64, ("gaussian", "impulse"), (0.01, 0.5), rng=7)
    n2, c2 = signals.training_pairs("mixed", 50, 64, ("gaussian", "impulse"), (0.01, 0.5), rng=7)
    np.testing.assert_array_equal(n1, n2)
    assert n1.shape == c1.shape == (50, 64)
    levels = (n1 - c1).std(axis=1)
    assert levels.max() / max(levels.min(), 1e-9) > 5  # noise level varies per signal


def test_tutorial_dataset():
    noisy, clean = signals.tutorial_dataset(1000, sigma=0.05, rng=0)
    assert noisy.shape == clean.shape == (1000, 150)
    np.testing.assert_array_equal(clean[0], signals.x_grid() ** 2)
    assert (noisy - clean).std() == pytest.approx(0.05, rel=0.02)


@pytest.mark.parametrize("length", [8, 64, 150, 256, 5000])
def test_every_family_stays_of_order_one(length):
    # Regression: long correlation lengths on short signals once blew up to 1e14.
    batch = signals.make_signals("mixed", 300, length, rng=0)
    parabolas = signals.make_signals("parabola", 50, length, rng=0)
    assert np.abs(batch).max() < 5 and np.abs(parabolas).max() < 5
