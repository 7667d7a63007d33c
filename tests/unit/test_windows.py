"""Windowing (denoiser.windows): the framing plan, framing and overlap-add back, the taper, the
padding of short series and gaps, per-window and global scaling, and what counts as a flat window.

Fast and TensorFlow-free: mutation testing (docs/TESTING.md) runs them against every mutant of the module.
"""

from __future__ import annotations

import numpy as np
import pytest

from denoiser import InputError, windows


# ------------------------------------------------------------------ framing and overlap-add
def test_plan_values_and_limits():
    assert windows.plan(1000, 256, 128) == windows.Framing(1000, 1024, 256, 128)  # 7 windows: 6 hops + 1
    assert windows.plan(1000, 256, 128).n_windows == 7
    assert windows.plan(100, 256, 128) == windows.Framing(100, 256, 256, 128)  # one window, padded
    assert windows.plan(2, 2, 1) == windows.Framing(2, 2, 2, 1)  # the smallest allowed
    assert windows.plan(5, 2, 2).padded == 6
    for window, hop in [(1, 1), (8, 0), (8, 9)]:
        with pytest.raises(InputError) as err:
            windows.plan(100, window, hop)
        assert str(err.value) == f"Window must be >= 2 and hop in [1, window]; got window={window}, hop={hop}."
    with pytest.raises(InputError) as err:
        windows.plan(1, 8, 4)
    assert str(err.value) == "The series has 1 sample(s); at least 2 are needed."


@pytest.mark.parametrize(
    "n,window,hop", [(1000, 256, 128), (150, 150, 75), (100, 256, 128), (3, 16, 8), (1001, 64, 17), (5000, 256, 256)]
)
def test_frame_overlap_add_round_trip_is_exact(n, window, hop):
    x = np.random.default_rng(0).standard_normal(n)
    frames, framing = windows.frame(x, window, hop)
    assert frames.shape == (framing.n_windows, window)
    np.testing.assert_allclose(windows.overlap_add(frames, framing), x, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n, window, hop", [(10, 12, 1), (30, 8, 1), (7, 4, 3)])
def test_frames_are_exactly_the_planned_windows_at_any_hop(n, window, hop):
    x = np.random.default_rng(2).standard_normal(n)
    frames, framing = windows.frame(x, window, hop)
    assert frames.shape == (framing.n_windows, window)
    view, _ = windows.frame_view(x, window, hop)
    assert view.shape == frames.shape
    np.testing.assert_allclose(windows.overlap_add(frames, framing), x, rtol=0, atol=1e-12)


def test_integer_series_are_framed_as_floats():
    frames, _ = windows.frame(np.arange(10), 4, 2)
    assert frames.dtype == np.float64
    np.testing.assert_array_equal(frames, windows.frame(np.arange(10.0), 4, 2)[0])
    with pytest.raises(InputError) as err:
        windows.frame(np.ones((2, 20)), 8, 4)
    assert str(err.value) == "Expected a 1-D series; got an array of shape (2, 20)."


def test_bad_framing_is_refused():
    with pytest.raises(InputError):
        windows.frame(np.ones(1), 8, 4)
    with pytest.raises(InputError):
        windows.frame(np.ones(20), 8, 0)
    with pytest.raises(InputError):
        windows.frame(np.ones((2, 20)), 8, 4)


def test_taper_is_positive_and_symmetric():
    w = windows.taper(64)
    assert (w > 0).all()
    np.testing.assert_allclose(w, w[::-1])


def test_overlap_add_blends_with_the_taper():
    # Two windows of 4 at hop 2 over 6 samples, one all zeros and one all ones: where they overlap
    # each sample is the taper-weighted mean, not the plain mean (an untapered blend gives 0.5).
    x = np.arange(6.0)
    frames, framing = windows.frame(x, 4, 2)
    assert framing.n_windows == 2 and framing.padded == 6
    w = windows.taper(4)
    np.testing.assert_allclose(w, np.sin(np.pi * (np.arange(4) + 0.5) / 4) ** 2)
    out = windows.overlap_add(np.array([np.zeros(4), np.ones(4)]), framing)
    np.testing.assert_allclose(out[:2], 0.0)
    np.testing.assert_allclose(out[4:], 1.0)
    np.testing.assert_allclose(out[2:4], w[:2] / (w[2:] + w[:2]))
    assert not np.allclose(out[2:4], 0.5)
    flat = windows.overlap_add(np.array([np.zeros(4), np.ones(4)]), framing, weights=np.ones(4))
    np.testing.assert_allclose(flat[2:4], 0.5)


# ------------------------------------------------------------------ padding and gaps
def test_padding_continues_a_line():
    x = np.arange(10.0)
    frames, _ = windows.frame(x, 16, 8)
    np.testing.assert_allclose(frames[0], np.arange(16.0))


def test_short_series_pad_by_repeated_odd_reflection():
    # Reflected about the last sample, then about the new last sample: a bump continues as a wave.
    frames, framing = windows.frame(np.array([0.0, 1.0, 0.0]), 8, 8)
    assert framing.padded == 8
    np.testing.assert_array_equal(frames[0], [0, 1, 0, -1, 0, 1, 0, -1])
    frames, _ = windows.frame(np.array([0.0, 2.0, 3.0, 3.0]), 7, 7)
    np.testing.assert_array_equal(frames[0], [0, 2, 3, 3, 3, 4, 6])


def test_extend_is_the_padding_of_frame():
    x = np.array([0.0, 2.0, 3.0, 3.0])
    frames, _ = windows.frame(x, 7, 7)
    np.testing.assert_array_equal(windows.extend(x, 7), frames[0])
    np.testing.assert_array_equal(windows.extend(x, 4), x)  # long enough already: unchanged
    np.testing.assert_array_equal(windows.extend(x, 2), x)
    with pytest.raises(InputError, match="at least 2"):
        windows.extend(np.array([1.0]), 5)
    np.testing.assert_array_equal(windows.extend(np.array([1.0]), 1), [1.0])


def test_bridge_gaps_takes_none_as_a_gap_and_returns_floats():
    np.testing.assert_array_equal(windows.bridge_gaps([1, None, 3]), [1.0, 2.0, 3.0])
    whole = windows.bridge_gaps(np.array([1, 2, 3]))
    assert whole.dtype == np.float64


# ------------------------------------------------------------------ scaling
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


def test_window_stats_values():
    frames = np.array([[1.0, 2.0, 3.0, 6.0], [5.0, 5.0, 5.0, 5.0]])
    off, sc = windows.window_stats(frames, "standard")
    assert off.shape == sc.shape == (2, 1)
    np.testing.assert_allclose(off[:, 0], [3.0, 5.0])
    np.testing.assert_allclose(sc[:, 0], [np.std([1, 2, 3, 6.0]), 1.0])  # flat window: scale 1
    off, sc = windows.window_stats(frames, "minmax")
    np.testing.assert_allclose(off[:, 0], [1.0, 5.0])
    np.testing.assert_allclose(sc[:, 0], [5.0, 1.0])
    for scaling in ("global", "global-minmax"):
        off, sc = windows.window_stats(frames, scaling, global_offset=2.5, global_scale=4.0)
        assert off.shape == sc.shape == (2, 1)
        assert (off == 2.5).all() and (sc == 4.0).all()
    with pytest.raises(InputError, match="Unknown scaling 'zscore'"):
        windows.window_stats(frames, "zscore")


def test_minmax_scale_is_each_windows_own_range():
    frames = np.array([[0.0, 1.0], [0.0, 3.0], [10.0, 12.0]])
    offset, scale = windows.window_stats(frames, "minmax")
    np.testing.assert_array_equal(offset[:, 0], [0.0, 0.0, 10.0])
    np.testing.assert_array_equal(scale[:, 0], [1.0, 3.0, 2.0])


def test_global_stats_values():
    frames = np.array([[1.0, 3.0], [5.0, 7.0]])
    assert windows.global_stats(frames, "global") == (4.0, pytest.approx(np.std([1, 3, 5, 7.0])))
    assert windows.global_stats(frames, "global-minmax") == (1.0, 6.0)
    assert windows.global_stats(np.full((2, 3), 1e6), "global") == (1e6, 1.0)  # constant: scale 1
    assert windows.global_stats(np.full((2, 3), -2.0), "global-minmax") == (-2.0, 1.0)
    tiny = np.array([[0.0, 1e-11]])  # above 1e-12 of level 1
    assert windows.global_stats(tiny, "global-minmax") == (0.0, 1e-11)
    assert windows.global_stats(np.array([[0.0, 1e-13]]), "global-minmax") == (0.0, 1.0)
    with pytest.raises(InputError, match="no global statistics"):
        windows.global_stats(frames, "standard")


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


def test_constant_window_does_not_divide_by_zero():
    frames = np.full((2, 8), 3.0)
    offset, scale = windows.window_stats(frames, "standard")
    assert np.all(scale == 1.0)
    np.testing.assert_array_equal(windows.scale(frames, offset, scale), 0.0)


# ------------------------------------------------------------------ flat windows
def test_is_flat_relative_to_the_level():
    frames = np.array([[1e6, 1e6 + 1e-7], [1e6, 1e6 + 1e-3], [0.0, 1e-13], [0.0, 1e-11], [-3e6, -3e6]])
    assert windows.is_flat(frames).tolist() == [True, False, True, False, True]


def test_flatness_threshold_is_1e12_of_the_level_at_least_one():
    # spread must exceed 1e-12 * max(1, |level|): exactly at it is still flat
    frames = np.array([[0.0, 1e-12], [0.0, 1.5e-12], [0.5, 0.5 + 1.5e-12]])
    assert windows.is_flat(frames).tolist() == [True, False, False]
    assert windows.safe_spread(0.0, 1e-12) == 1.0
    assert windows.safe_spread(0.0, 1.5e-12) == 1.5e-12
    assert windows.safe_spread(0.5, 1.5e-12) == 1.5e-12
    assert windows.safe_spread(1e6, 1e-7) == 1.0  # below 1e-12 of a level of 1e6
    assert windows.safe_spread(-1e6, 2e-6) == 2e-6
