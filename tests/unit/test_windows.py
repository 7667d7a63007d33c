"""Windowing round trip, honest scaling, and the metrics."""
import numpy as np
import pytest

from denoiser import InputError, metrics, windows


@pytest.mark.parametrize("n,window,hop", [(1000, 256, 128), (150, 150, 75), (100, 256, 128),
                                          (3, 16, 8), (1001, 64, 17), (5000, 256, 256)])
def test_frame_overlap_add_round_trip_is_exact(n, window, hop):
    x = np.random.default_rng(0).standard_normal(n)
    frames, framing = windows.frame(x, window, hop)
    assert frames.shape == (framing.n_windows, window)
    np.testing.assert_allclose(windows.overlap_add(frames, framing), x, rtol=0, atol=1e-12)


def test_padding_continues_a_line():
    x = np.arange(10.0)
    frames, _ = windows.frame(x, 16, 8)
    np.testing.assert_allclose(frames[0], np.arange(16.0))


def test_extend_is_the_padding_of_frame():
    x = np.array([0.0, 2.0, 3.0, 3.0])
    frames, _ = windows.frame(x, 7, 7)
    np.testing.assert_array_equal(windows.extend(x, 7), frames[0])
    np.testing.assert_array_equal(windows.extend(x, 4), x)   # long enough already: unchanged
    np.testing.assert_array_equal(windows.extend(x, 2), x)
    with pytest.raises(InputError, match="at least 2"):
        windows.extend(np.array([1.0]), 5)
    np.testing.assert_array_equal(windows.extend(np.array([1.0]), 1), [1.0])


def test_taper_is_positive_and_symmetric():
    w = windows.taper(64)
    assert (w > 0).all()
    np.testing.assert_allclose(w, w[::-1])


@pytest.mark.parametrize("scaling", windows.SCALINGS)
def test_scaling_inverts(scaling):
    frames = np.random.default_rng(1).normal(5.0, 3.0, (20, 32))
    offset, scale = windows.window_stats(frames, scaling)
    scaled = windows.scale(frames, offset, scale)
    np.testing.assert_allclose(windows.unscale(scaled, offset, scale), frames)
    if scaling == "standard":
        np.testing.assert_allclose(scaled.std(axis=1), 1.0)
    else:
        assert scaled.min() == pytest.approx(0) and scaled.max() == pytest.approx(1)


def test_constant_window_does_not_divide_by_zero():
    frames = np.full((2, 8), 3.0)
    offset, scale = windows.window_stats(frames, "standard")
    assert np.all(scale == 1.0)
    np.testing.assert_array_equal(windows.scale(frames, offset, scale), 0.0)


def test_bad_framing_is_refused():
    with pytest.raises(InputError):
        windows.frame(np.ones(1), 8, 4)
    with pytest.raises(InputError):
        windows.frame(np.ones(20), 8, 0)
    with pytest.raises(InputError):
        windows.frame(np.ones((2, 20)), 8, 4)


def test_metrics_values():
    ref = np.array([0.0, 1.0, 2.0, 3.0])
    est = np.array([0.0, 1.0, 2.0, 5.0])
    assert metrics.mse(ref, est) == 1.0
    assert metrics.mae(ref, est) == 0.5
    assert metrics.rmse(ref, est) == 1.0
    assert metrics.snr_db(ref, est) == pytest.approx(10 * np.log10(14 / 4))
    assert metrics.gain_db(ref, est, ref + 0.1) == pytest.approx(10 * np.log10(1 / 0.01))
    assert metrics.snr_db(ref, ref) == np.inf


def test_metrics_skip_nan_pairs_and_refuse_shape_mismatch():
    ref = np.array([0.0, np.nan, 2.0])
    est = np.array([1.0, 5.0, np.nan])
    assert metrics.mse(ref, est) == 1.0
    assert np.isnan(metrics.mse(np.array([np.nan]), np.array([1.0])))
    with pytest.raises(InputError, match="shapes"):
        metrics.mse(np.zeros(3), np.zeros(4))


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


def test_tune_picks_a_wide_window_for_parabolas():
    from denoiser import classical, signals

    clean = signals.make_signals("parabola", 40, rng=0)
    noisy = signals.add_noise(clean, sigma=0.1, rng=1)
    assert classical.tune("savgol", noisy, clean) >= 61
