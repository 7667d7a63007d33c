"""Behaviour that mutmut found untested (docs/TESTING.md, issue 13): values, thresholds, messages.

Each test pins something a user or a caller sees -- a figure, a boundary, the text of a refusal --
so that a one-token change to the numpy modules turns it red. Fast and TensorFlow-free: mutmut
runs these against every mutant.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from denoiser import classical, metrics, windows
from denoiser.errors import InputError


# ------------------------------------------------------------------ windows
def test_plan_values_and_limits():
    assert windows.plan(1000, 256, 128) == windows.Framing(1000, 1024, 256, 128)   # 7 windows: 6 hops + 1
    assert windows.plan(1000, 256, 128).n_windows == 7
    assert windows.plan(100, 256, 128) == windows.Framing(100, 256, 256, 128)      # one window, padded
    assert windows.plan(2, 2, 1) == windows.Framing(2, 2, 2, 1)                    # the smallest allowed
    assert windows.plan(5, 2, 2).padded == 6
    for window, hop in [(1, 1), (8, 0), (8, 9)]:
        with pytest.raises(InputError) as err:
            windows.plan(100, window, hop)
        assert str(err.value) == f"Window must be >= 2 and hop in [1, window]; got window={window}, hop={hop}."
    with pytest.raises(InputError) as err:
        windows.plan(1, 8, 4)
    assert str(err.value) == "The series has 1 sample(s); at least 2 are needed."


@pytest.mark.parametrize("n, window, hop", [(10, 12, 1), (30, 8, 1), (7, 4, 3)])
def test_frames_are_exactly_the_planned_windows_at_any_hop(n, window, hop):
    x = np.random.default_rng(2).standard_normal(n)
    frames, framing = windows.frame(x, window, hop)
    assert frames.shape == (framing.n_windows, window)
    view, _ = windows.frame_view(x, window, hop)
    assert view.shape == frames.shape
    np.testing.assert_allclose(windows.overlap_add(frames, framing), x, rtol=0, atol=1e-12)


def test_short_series_pad_by_repeated_odd_reflection():
    # Reflected about the last sample, then about the new last sample: a bump continues as a wave.
    frames, framing = windows.frame(np.array([0.0, 1.0, 0.0]), 8, 8)
    assert framing.padded == 8
    np.testing.assert_array_equal(frames[0], [0, 1, 0, -1, 0, 1, 0, -1])
    frames, _ = windows.frame(np.array([0.0, 2.0, 3.0, 3.0]), 7, 7)
    np.testing.assert_array_equal(frames[0], [0, 2, 3, 3, 3, 4, 6])


def test_integer_series_are_framed_as_floats():
    frames, _ = windows.frame(np.arange(10), 4, 2)
    assert frames.dtype == np.float64
    np.testing.assert_array_equal(frames, windows.frame(np.arange(10.0), 4, 2)[0])
    with pytest.raises(InputError) as err:
        windows.frame(np.ones((2, 20)), 8, 4)
    assert str(err.value) == "Expected a 1-D series; got an array of shape (2, 20)."


def test_bridge_gaps_takes_none_as_a_gap_and_returns_floats():
    np.testing.assert_array_equal(windows.bridge_gaps([1, None, 3]), [1.0, 2.0, 3.0])
    whole = windows.bridge_gaps(np.array([1, 2, 3]))
    assert whole.dtype == np.float64


def test_minmax_scale_is_each_windows_own_range():
    frames = np.array([[0.0, 1.0], [0.0, 3.0], [10.0, 12.0]])
    offset, scale = windows.window_stats(frames, "minmax")
    np.testing.assert_array_equal(offset[:, 0], [0.0, 0.0, 10.0])
    np.testing.assert_array_equal(scale[:, 0], [1.0, 3.0, 2.0])


def test_global_scaling_defaults_to_identity_and_names_the_choices():
    frames = np.array([[4.0, 8.0]])
    offset, scale = windows.window_stats(frames, "global")
    assert offset.tolist() == [[0.0]] and scale.tolist() == [[1.0]]
    with pytest.raises(InputError) as err:
        windows.window_stats(frames, "zscore")
    assert str(err.value) == "Unknown scaling 'zscore'; choose one of standard, minmax, global, global-minmax."
    with pytest.raises(InputError) as err:
        windows.global_stats(frames, "minmax")
    assert str(err.value) == "Scaling 'minmax' has no global statistics; choose one of global, global-minmax."


def test_flatness_threshold_is_1e12_of_the_level_at_least_one():
    # spread must exceed 1e-12 * max(1, |level|): exactly at it is still flat
    frames = np.array([[0.0, 1e-12], [0.0, 1.5e-12], [0.5, 0.5 + 1.5e-12]])
    assert windows.is_flat(frames).tolist() == [True, False, False]
    assert windows.safe_spread(0.0, 1e-12) == 1.0
    assert windows.safe_spread(0.0, 1.5e-12) == 1.5e-12
    assert windows.safe_spread(0.5, 1.5e-12) == 1.5e-12
    assert windows.safe_spread(1e6, 1e-7) == 1.0          # below 1e-12 of a level of 1e6
    assert windows.safe_spread(-1e6, 2e-6) == 2e-6


# ------------------------------------------------------------------ metrics
def test_integer_readings_are_compared_as_floats():
    # uint8 arithmetic would wrap around (16**2 == 0 in uint8)
    ref, est = np.array([16], np.uint8), np.array([15], np.uint8)
    assert metrics.snr_db(ref, est) == pytest.approx(10 * np.log10(256))
    assert metrics.mse(est, ref) == 1.0 and metrics.mae(est, ref) == 1.0


def test_none_in_plain_lists_is_a_missing_pair():
    assert metrics.mse([1.0, None, 3.0], [2.0, 5.0, 3.0]) == 0.5
    assert metrics.mae([1.0, 2.0, 3.0], [2.0, None, 3.0]) == 0.5


def test_no_finite_pair_is_nan_without_warnings():
    nothing = np.array([np.nan, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # no "Mean of empty slice" from an empty channel
        for fn in (metrics.mse, metrics.mae, metrics.rmse, metrics.snr_db):
            assert np.isnan(fn(nothing, np.ones(2))), fn.__name__
        assert np.isnan(metrics.gain_db(nothing, np.ones(2), np.ones(2)))


def test_snr_edge_values():
    assert metrics.snr_db(np.array([1.0, 0.0]), np.array([1.0, 0.1])) == pytest.approx(20.0)   # power exactly 1
    assert metrics.snr_db(np.zeros(3), np.ones(3)) == -np.inf                                  # no signal power
    assert metrics.snr_db(np.ones(3), np.ones(3)) == np.inf


def test_gain_edge_values():
    zero = np.zeros(4)
    assert metrics.gain_db(zero, zero + 2, zero + 1) == pytest.approx(10 * np.log10(4))       # output mse exactly 1
    assert metrics.gain_db(zero, zero + 1, zero) == np.inf                                     # perfect output
    assert metrics.gain_db(zero, zero, zero + 1) == -np.inf                                    # perfect input
    # the input matches the reference where it is finite, but nothing of the output is: NaN, not -inf
    assert np.isnan(metrics.gain_db(zero, zero, np.full(4, np.nan)))
    assert np.isnan(metrics.gain_db(zero, np.full(4, np.nan), zero + 1))


# ------------------------------------------------------------------ classical
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


def test_savgol_window_is_made_odd_and_fits_the_series():
    rng = np.random.default_rng(4)
    x = rng.standard_normal(60)
    np.testing.assert_array_equal(classical.savgol(x, 20), classical.savgol(x, 19))
    for n, odd in [(10, 9), (11, 11), (14, 13)]:
        np.testing.assert_array_equal(classical.savgol(x[:n], 21), classical.savgol(x[:n], odd))
    # a window no longer than the polynomial order fits every point exactly: unchanged
    np.testing.assert_array_equal(classical.savgol(x[:3], 21, order=3), x[:3])
    np.testing.assert_array_equal(classical.savgol(x[:2]), x[:2])


def test_moving_average_window_and_edges():
    impulse = np.zeros(41)
    impulse[20] = 1.0
    out = classical.moving_average(impulse)                       # default: 9 samples
    np.testing.assert_allclose(out[16:25], 1 / 9)
    np.testing.assert_allclose(out[:16], 0.0)
    np.testing.assert_allclose(out[25:], 0.0)
    ramp = np.arange(10.0)
    assert classical.moving_average(ramp, 5)[0] == pytest.approx(0.6)   # edge repeats: (0+0+0+1+2)/5
    np.testing.assert_array_equal(classical.moving_average(ramp, 1), ramp)
    np.testing.assert_array_equal(classical.moving_average(ramp, 0), ramp)
    np.testing.assert_allclose(classical.moving_average(np.array([0, 0, 1, 0, 0]), 3), [0, 1 / 3, 1 / 3, 1 / 3, 0])


@pytest.mark.parametrize("name", list(classical.FILTERS))
def test_filters_on_gaps_lists_and_bad_shapes(name):
    fn = classical.FILTERS[name]
    gone = fn(np.full(50, np.nan))
    assert gone.shape == (50,) and gone.dtype == np.float64 and np.isnan(gone).all()
    values = list(np.sin(np.arange(64) / 5.0))
    values[10] = None                                             # a JSON null: a gap, kept as NaN
    out = fn(values)
    assert np.isnan(out[10]) and np.isfinite(np.delete(out, 10)).all()
    with pytest.raises(InputError) as err:
        fn(np.ones((2, 3)))
    assert str(err.value) == "Expected a 1-D series; got shape (2, 3)."


def test_tune_names_the_tunable_filters():
    with pytest.raises(InputError) as err:
        classical.tune("wavelet", np.ones(10), np.ones(10))
    assert str(err.value) == "Only savgol, moving_average have a window to tune; got 'wavelet'."


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
    long = np.sin(np.arange(4000) / 50) + rng.normal(0, 0.3, 4000)     # sym8 could go to level 8
    default = classical.wavelet(long)
    np.testing.assert_array_equal(default, classical.wavelet(long, level=6))   # capped at 6
    np.testing.assert_array_equal(default, classical.wavelet(long, level=9))
    assert not np.allclose(default, classical.wavelet(long, level=2))
    short = long[:100]                                                   # 2 levels of sym8 only
    np.testing.assert_array_equal(classical.wavelet(short, level=5), classical.wavelet(short))
    tiny = long[:40]                                                     # one level: still denoised
    assert not np.allclose(classical.wavelet(tiny), tiny)
    np.testing.assert_array_equal(classical.wavelet(long[:20]), long[:20])   # no level at all: unchanged


def test_wavelet_keeps_a_constant_and_shrinks_sparse_spikes():
    np.testing.assert_allclose(classical.wavelet(np.full(300, 3.0)), 3.0, rtol=0, atol=1e-9)
    spikes = np.zeros(512)
    spikes[[50, 130, 300, 420]] = 10.0
    out = classical.wavelet(spikes)
    # the median of the finest details is 0 here: the noise level falls back to their spread, so
    # the spikes are shrunk (not returned verbatim as with a noise level of 0)
    assert 1.0 < np.abs(out).max() < 9.0


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


# (mutmut's second run, issue 13: scipy's own filter, edges included, for odd and even short series)
from scipy.signal import savgol_filter  # noqa: E402


def test_savgol_is_scipys_quadratic_fit_with_interpolated_edges():
    x = np.random.default_rng(5).standard_normal(60)
    # Defaults: 21 points, order 2, edges fitted ("interp"): order 3 differs at the edges only.
    np.testing.assert_allclose(classical.savgol(x), savgol_filter(x, 21, 2, mode="interp"), rtol=0, atol=1e-12)
    # An odd series shorter than the window uses all of it; an even one all but one sample.
    np.testing.assert_allclose(classical.savgol(x[:11], 21), savgol_filter(x[:11], 11, 2, mode="interp"),
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(classical.savgol(x[:12], 21), savgol_filter(x[:12], 11, 2, mode="interp"),
                               rtol=0, atol=1e-12)
