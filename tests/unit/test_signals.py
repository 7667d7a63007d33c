"""Signal families and noise (denoiser.signals): shapes, the exact tutorial curve, levels hit
statistically and exactly, noise parameters, training pairs, the generators' defaults, and the text
of every refusal. The exact seeded draws behind the bundled models are pinned in ``tests/golden``.

Fast and TensorFlow-free: mutation testing (docs/TESTING.md) runs them against every mutant of the module.
"""

from __future__ import annotations

import numpy as np
import pytest

from denoiser import InputError, signals
from denoiser.metrics import snr_db


# ------------------------------------------------------------------ signal families
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


@pytest.mark.parametrize("length", [8, 64, 150, 256, 5000])
def test_every_family_stays_of_order_one(length):
    # Regression: long correlation lengths on short signals once blew up to 1e14.
    batch = signals.make_signals("mixed", 300, length, rng=0)
    parabolas = signals.make_signals("parabola", 50, length, rng=0)
    assert np.abs(batch).max() < 5 and np.abs(parabolas).max() < 5


def test_mix_names_and_tuples_draw_within_the_mix():
    seen = {tuple(signals.make_signal(("realistic",), 32, rng=s)[:2]) for s in range(4)}
    assert len(seen) == 4
    # a tuple with a mix inside draws one family of that mix: same as drawing from the mix by index
    rng = np.random.default_rng(5)
    a = signals.make_signal(("mixed",), 32, rng=np.random.default_rng(5))
    rng.integers(1)
    fam = signals.MIXED[rng.integers(len(signals.MIXED))]
    np.testing.assert_array_equal(a, signals.FAMILIES[fam](32, rng))
    assert signals.as_rng(None).random() == np.random.default_rng(0).random()
    assert signals.as_rng(7.0).random() == np.random.default_rng(7).random()


# ------------------------------------------------------------------ noise
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


def test_spectral_noise_of_one_sample_is_one():
    for kind in ("pink", "drift"):  # two samples: tests/golden
        np.testing.assert_array_equal(signals.make_noise(1, kind, 1.0, rng=3), [1.0])  # one sample: RMS 1


def test_add_noise_scales_unit_noise_exactly_per_signal():
    clean = np.vstack([np.full(50, 1.0), np.full(50, 3.0)])
    unit = np.random.default_rng(0).standard_normal(clean.shape)
    noisy = signals.add_noise(clean, snr_db=20, rng=0)  # SNR per signal: sigma 0.1 and 0.3
    np.testing.assert_allclose(noisy - clean, np.array([[0.1], [0.3]]) * unit, rtol=1e-12, atol=1e-15)
    one = signals.add_noise(clean[1], snr_db=20, rng=0)
    np.testing.assert_allclose(one - clean[1], 0.3 * unit[0], rtol=1e-12)
    np.testing.assert_allclose(signals.add_noise(clean[0], sigma=0.5, rng=0) - 1.0, 0.5 * unit[0], rtol=1e-12)
    np.testing.assert_array_equal(signals.make_noise(5, rng=0), 0.05 * np.random.default_rng(0).standard_normal(5))
    assert signals.make_noise(5).shape == (5,) and signals.make_noise((2, 3)).shape == (2, 3)


def test_noise_sigma_values():
    assert signals.noise_sigma(np.ones(3), sigma=0) == 0.0
    assert signals.noise_sigma(np.full(4, 2.0), snr_db=20) == pytest.approx(0.2, rel=1e-12)  # power 4, /100
    assert signals.noise_sigma(np.array([]), snr_db=10) == 0.0


# ------------------------------------------------------------------ noise parameters
def test_noise_parameter_registry_and_defaults():
    assert signals.noise_params() == {"rate": signals.NOISES["impulse"].params[0]}
    spec, values = signals._kind_values("impulse", {})
    assert spec is signals.NOISES["impulse"] and values == {"rate": 0.05}
    assert signals._kind_values("gaussian", {"rate": 0.3})[1] == {}


def test_noise_parameter_messages_and_ranges():
    rate = signals.NOISES["impulse"].params[0]
    assert rate.check(1) == 1.0 and rate.check(0.5) == 0.5
    for bad in (0, 0.0, 1.5, True, "0.1"):
        with pytest.raises(InputError) as err:
            rate.check(bad)
        assert str(err.value) == f"Impulse rate must be in (0, 1]; got {bad}."
    assert rate.check_range((0.1, 0.1)) == (0.1, 0.1) and rate.check_range([0.2, 1]) == (0.2, 1.0)
    for bad in ((0.0, 0.5), (0.5, 0.2), (0.1, 1.5), 0.3, ("a", "b")):
        with pytest.raises(InputError) as err:
            rate.check_range(bad)
        assert str(err.value) == f"Impulse rate range must satisfy 0 < lo <= hi <= 1; got {bad}."
    draws = rate.draw((0.01, 0.5), 2000, np.random.default_rng(0))
    assert draws.shape == (2000, 1) and 0.01 <= draws.min() and draws.max() <= 0.5
    assert np.median(draws) == pytest.approx(np.sqrt(0.01 * 0.5), rel=0.1)  # log-uniform: geometric middle


def test_a_linear_noise_parameter_draws_uniformly():
    width = signals.NoiseParam("width", "Width", 3.0, 0.0, 10.0, ui=(0.0, 10.0, 1.0), log=False)
    draws = width.draw((2.0, 4.0), 4000, np.random.default_rng(0))
    assert draws.shape == (4000, 1) and 2.0 <= draws.min() and draws.max() <= 4.0
    assert draws.mean() == pytest.approx(3.0, abs=0.05)  # uniform: the arithmetic middle
    np.testing.assert_array_equal(draws[:, 0], np.random.default_rng(0).uniform(2.0, 4.0, 4000))


# ------------------------------------------------------------------ training pairs, the tutorial's data set, the defaults
def test_training_pairs_seeded_and_varied():
    n1, c1 = signals.training_pairs("mixed", 50, 64, ("gaussian", "impulse"), (0.01, 0.5), rng=7)
    n2, c2 = signals.training_pairs("mixed", 50, 64, ("gaussian", "impulse"), (0.01, 0.5), rng=7)
    np.testing.assert_array_equal(n1, n2)
    assert n1.shape == c1.shape == (50, 64)
    levels = (n1 - c1).std(axis=1)
    assert levels.max() / max(levels.min(), 1e-9) > 5  # noise level varies per signal


def test_training_pairs_sigma_stays_in_its_range_and_every_kind_is_used():
    noisy, clean = signals.training_pairs("x2", 400, 64, noise=("gaussian", "uniform"), sigma=(0.05, 0.2), rng=0)
    levels = (noisy - clean).std(axis=1, ddof=0)
    assert 0.03 < levels.min() and levels.max() < 0.3
    assert levels.min() < 0.07 and levels.max() > 0.15  # the range is spanned, not one value
    # uniform noise is bounded by sqrt(3) sigma; gaussian noise is not: both kinds are present
    ratio = np.abs(noisy - clean).max(axis=1) / levels
    assert ratio.min() < 2.0 and ratio.max() > 2.3
    fixed_n, fixed_c = signals.training_pairs("x2", 50, 64, sigma=0.1, rng=1)
    assert (fixed_n - fixed_c).std() == pytest.approx(0.1, rel=0.05)


def test_tutorial_dataset():
    noisy, clean = signals.tutorial_dataset(1000, sigma=0.05, rng=0)
    assert noisy.shape == clean.shape == (1000, 150)
    np.testing.assert_array_equal(clean[0], signals.x_grid() ** 2)
    assert (noisy - clean).std() == pytest.approx(0.05, rel=0.02)


def test_public_defaults_of_the_generators():
    import inspect

    params = {
        name: {k: p.default for k, p in inspect.signature(getattr(signals, name)).parameters.items()}
        for name in ("make_signal", "make_noise", "add_noise", "tutorial_dataset", "training_pairs")
    }
    assert params["make_signal"] == {"family": "x2", "length": 150, "rng": None}
    assert params["make_noise"]["kind"] == "gaussian" and params["make_noise"]["sigma"] == 0.05
    assert params["make_noise"]["rate"] == params["add_noise"]["rate"] == 0.05
    assert params["tutorial_dataset"] == {"n_samples": 100_000, "sigma": 0.05, "rng": None}
    pairs = params["training_pairs"]
    assert (pairs["family"], pairs["n_signals"], pairs["length"], pairs["noise"], pairs["sigma"], pairs["rate"]) == (
        "mixed",
        2000,
        256,
        "gaussian",
        (0.02, 0.3),
        0.05,
    )
    noisy, clean = signals.tutorial_dataset(3, rng=1)
    np.testing.assert_allclose(noisy - clean, 0.05 * np.random.default_rng(1).standard_normal((3, 150)), rtol=1e-12)


# ------------------------------------------------------------------ refusals
def test_bad_levels_and_kinds_are_refused():
    with pytest.raises(InputError, match="either as sigma or as SNR"):
        signals.add_noise(np.ones(10), sigma=0.1, snr_db=10)
    with pytest.raises(InputError, match="Unknown noise kind"):
        signals.add_noise(np.ones(10), "brown", sigma=0.1)
    with pytest.raises(InputError, match="Unknown signal family"):
        signals.make_signal("cosh")
    with pytest.raises(InputError, match=">= 0"):
        signals.add_noise(np.ones(10), sigma=-1)


def test_signal_and_noise_refusals_name_the_choices():
    with pytest.raises(InputError) as err:
        signals.make_signal("x2", 1)
    assert str(err.value) == "A signal needs at least 2 samples; got length=1."
    with pytest.raises(InputError) as err:
        signals.make_signal((), 10)
    assert str(err.value) == "An empty tuple of signal families was given; name at least one family."
    with pytest.raises(InputError) as err:
        signals.make_signal("cosh", 10)
    assert str(err.value) == (
        "Unknown signal family 'cosh'; choose one of " + ", ".join([*signals.FAMILIES, "mixed", "realistic"]) + "."
    )
    with pytest.raises(InputError) as err:
        signals.noise_kind("brown")
    assert str(err.value) == "Unknown noise kind 'brown'; choose one of gaussian, uniform, impulse, pink, drift."
    with pytest.raises(InputError) as err:
        signals.make_noise(10, "gaussian", 0.1, rng=0, width=3)
    assert str(err.value) == "Unknown noise parameter width; noise kinds take rate."
    with pytest.raises(InputError) as err:
        signals.noise_sigma(np.ones(3))
    assert str(err.value) == "Give the noise level either as sigma or as SNR in dB, not both or neither."
    for bad in (-0.1, np.inf, np.nan):
        with pytest.raises(InputError) as err:
            signals.noise_sigma(np.ones(3), sigma=bad)
        assert str(err.value) == f"Noise sigma must be a finite number >= 0; got {bad}."
    with pytest.raises(InputError) as err:
        signals.noise_sigma(np.ones(3), snr_db=np.inf)
    assert str(err.value) == "SNR must be a finite number of dB; got inf."
