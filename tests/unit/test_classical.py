"""The classical filters (denoiser.classical): Savitzky-Golay, the moving average and wavelet
shrinkage; their windows and edges, gaps, the window tuning, and the wavelet baseline's pinned figures.

Fast and TensorFlow-free: mutation testing (docs/TESTING.md) runs them against every mutant of the module.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import savgol_filter

from denoiser import InputError, classical, metrics


# ------------------------------------------------------------------ every filter
def test_classical_filters_reduce_noise_and_keep_nan():
    from denoiser import classical, signals

    clean = signals.make_signal("sines", 1000, rng=0)
    noisy = signals.add_noise(clean, sigma=0.2, rng=1)
    noisy[100:103] = np.nan
    for name, fn in classical.FILTERS.items():
        out = fn(noisy)
        assert out.shape == noisy.shape
        assert np.isnan(out[100:103]).all(), name
        assert metrics.mse(clean, out) < 0.5 * metrics.mse(clean, noisy), name


@pytest.mark.parametrize("name", list(classical.FILTERS))
def test_filters_on_gaps_lists_and_bad_shapes(name):
    fn = classical.FILTERS[name]
    gone = fn(np.full(50, np.nan))
    assert gone.shape == (50,) and gone.dtype == np.float64 and np.isnan(gone).all()
    values = list(np.sin(np.arange(64) / 5.0))
    values[10] = None  # a JSON null: a gap, kept as NaN
    out = fn(values)
    assert np.isnan(out[10]) and np.isfinite(np.delete(out, 10)).all()
    with pytest.raises(InputError) as err:
        fn(np.ones((2, 3)))
    assert str(err.value) == "Expected a 1-D series; got shape (2, 3)."


def test_tune_picks_a_wide_window_for_parabolas():
    from denoiser import classical, signals

    clean = signals.make_signals("parabola", 40, rng=0)
    noisy = signals.add_noise(clean, sigma=0.1, rng=1)
    assert classical.tune("savgol", noisy, clean) >= 61


def test_tune_names_the_tunable_filters():
    with pytest.raises(InputError) as err:
        classical.tune("wavelet", np.ones(10), np.ones(10))
    assert str(err.value) == "Only savgol, moving_average have a window to tune; got 'wavelet'."


# ------------------------------------------------------------------ Savitzky-Golay
def _sg_quadratic(m: int) -> np.ndarray:
    """Savitzky-Golay smoothing weights of a quadratic over 2m+1 points (the closed form)."""
    i = np.arange(-m, m + 1)
    return 3 * (3 * m * m + 3 * m - 1 - 5 * i**2) / ((2 * m - 1) * (2 * m + 1) * (2 * m + 3))


def test_savgol_default_is_a_21_point_quadratic_fit():
    impulse = np.zeros(101)
    impulse[50] = 1.0
    out = classical.savgol(impulse)
    np.testing.assert_allclose(out[40:61], _sg_quadratic(10), atol=1e-12)
    np.testing.assert_allclose(out[:40], 0.0, atol=1e-12)
    np.testing.assert_allclose(out[61:], 0.0, atol=1e-12)
    np.testing.assert_allclose(classical.savgol(impulse, 5)[48:53], _sg_quadratic(2), atol=1e-12)


def test_savgol_is_scipys_quadratic_fit_with_interpolated_edges():
    x = np.random.default_rng(5).standard_normal(60)
    # Defaults: 21 points, order 2, edges fitted ("interp"): order 3 differs at the edges only.
    np.testing.assert_allclose(classical.savgol(x), savgol_filter(x, 21, 2, mode="interp"), rtol=0, atol=1e-12)
    # An odd series shorter than the window uses all of it; an even one all but one sample.
    np.testing.assert_allclose(
        classical.savgol(x[:11], 21), savgol_filter(x[:11], 11, 2, mode="interp"), rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(
        classical.savgol(x[:12], 21), savgol_filter(x[:12], 11, 2, mode="interp"), rtol=0, atol=1e-12
    )


def test_savgol_window_is_made_odd_and_fits_the_series():
    rng = np.random.default_rng(4)
    x = rng.standard_normal(60)
    np.testing.assert_array_equal(classical.savgol(x, 20), classical.savgol(x, 19))
    for n, odd in [(10, 9), (11, 11), (14, 13)]:
        np.testing.assert_array_equal(classical.savgol(x[:n], 21), classical.savgol(x[:n], odd))
    # a window no longer than the polynomial order fits every point exactly: unchanged
    np.testing.assert_array_equal(classical.savgol(x[:3], 21, order=3), x[:3])
    np.testing.assert_array_equal(classical.savgol(x[:2]), x[:2])


def test_savgol_window_is_cut_to_an_odd_series_length():
    from scipy.signal import savgol_filter

    from denoiser import classical

    v = np.arange(7.0) ** 3
    # a 7-sample series and window 21: one quadratic over all 7 samples, not over 5
    np.testing.assert_allclose(classical.savgol(v, 21, 2), savgol_filter(v, 7, 2, mode="interp"), rtol=1e-12)
    v8 = np.arange(8.0) ** 3
    np.testing.assert_allclose(classical.savgol(v8, 21, 2), savgol_filter(v8, 7, 2, mode="interp"), rtol=1e-12)


# ------------------------------------------------------------------ moving average
def test_moving_average_window_and_edges():
    impulse = np.zeros(41)
    impulse[20] = 1.0
    out = classical.moving_average(impulse)  # default: 9 samples
    np.testing.assert_allclose(out[16:25], 1 / 9)
    np.testing.assert_allclose(out[:16], 0.0)
    np.testing.assert_allclose(out[25:], 0.0)
    ramp = np.arange(10.0)
    assert classical.moving_average(ramp, 5)[0] == pytest.approx(0.6)  # edge repeats: (0+0+0+1+2)/5
    np.testing.assert_array_equal(classical.moving_average(ramp, 1), ramp)
    np.testing.assert_array_equal(classical.moving_average(ramp, 0), ramp)
    np.testing.assert_allclose(classical.moving_average(np.array([0, 0, 1, 0, 0]), 3), [0, 1 / 3, 1 / 3, 1 / 3, 0])


# ------------------------------------------------------------------ wavelet
def _two_sines(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(1024)
    clean = np.sin(2 * np.pi * t / 12) + np.sin(2 * np.pi * t / 100)
    return clean, clean + np.random.default_rng(0).normal(0, sigma, t.size)


def test_wavelet_noise_level_comes_from_the_finest_details():
    # Both sines lie in coarser detail bands; estimating the noise there would erase them
    # (the output would be worse than the input).
    clean, noisy = _two_sines(0.05)
    assert metrics.rmse(clean, classical.wavelet(noisy)) < 0.8 * metrics.rmse(clean, noisy)


def test_wavelet_levels():
    rng = np.random.default_rng(5)
    long = np.sin(np.arange(4000) / 50) + rng.normal(0, 0.3, 4000)  # sym8 could go to level 8
    default = classical.wavelet(long)
    np.testing.assert_array_equal(default, classical.wavelet(long, level=6))  # capped at 6
    np.testing.assert_array_equal(default, classical.wavelet(long, level=9))
    assert not np.allclose(default, classical.wavelet(long, level=2))
    short = long[:100]  # 2 levels of sym8 only
    np.testing.assert_array_equal(classical.wavelet(short, level=5), classical.wavelet(short))
    tiny = long[:40]  # one level: still denoised
    assert not np.allclose(classical.wavelet(tiny), tiny)
    np.testing.assert_array_equal(classical.wavelet(long[:20]), long[:20])  # no level at all: unchanged


def test_wavelet_keeps_a_constant_and_shrinks_sparse_spikes():
    np.testing.assert_allclose(classical.wavelet(np.full(300, 3.0)), 3.0, rtol=0, atol=1e-9)
    spikes = np.zeros(512)
    spikes[[50, 130, 300, 420]] = 10.0
    out = classical.wavelet(spikes)
    # the median of the finest details is 0 here: the noise level falls back to their spread, so
    # the spikes are shrunk (not returned verbatim as with a noise level of 0)
    assert 1.0 < np.abs(out).max() < 9.0


def test_wavelet_of_flat_or_white_input_is_quiet_and_finite():
    import warnings

    from denoiser import classical

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by a zero spread
        np.testing.assert_allclose(classical.wavelet(np.full(64, 3.0)), 3.0, rtol=1e-9)
        out = classical.wavelet(np.random.default_rng(0).standard_normal(256))
    assert np.isfinite(out).all() and out.std() < 0.5  # white noise: details shrunk away


def test_wavelet_golden_figures():
    """BayesShrink's figures on two seeded inputs, pinned.

    The wavelet filter is the reference baseline of bench/RESULTS.md; its thresholds
    (sigma from the finest details / 0.6745, sigma² / signal sigma per level) must only change
    on purpose. If you change them deliberately, print the two values below and paste them here.
    """
    clean, noisy = _two_sines(0.05)
    spikes = np.zeros(512)
    spikes[[50, 130, 300, 420]] = 10.0
    got = (metrics.rmse(clean, classical.wavelet(noisy)), metrics.rmse(spikes, classical.wavelet(spikes)))
    assert got == pytest.approx((0.0348759, 0.6245757), rel=1e-4), got
