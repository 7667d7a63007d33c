"""The metrics (denoiser.metrics): MSE, MAE, RMSE, SNR and the gain, the one report of figures,
missing pairs, and the edge values (no signal, a perfect input or output).

Fast and TensorFlow-free: mutation testing (docs/TESTING.md) runs them against every mutant of the module.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from denoiser import InputError, metrics


def test_metrics_values():
    ref = np.array([0.0, 1.0, 2.0, 3.0])
    est = np.array([0.0, 1.0, 2.0, 5.0])
    assert metrics.mse(ref, est) == 1.0
    assert metrics.mae(ref, est) == 0.5
    assert metrics.rmse(ref, est) == 1.0
    assert metrics.snr_db(ref, est) == pytest.approx(10 * np.log10(14 / 4))
    assert metrics.gain_db(ref, est, ref + 0.1) == pytest.approx(10 * np.log10(1 / 0.01))
    assert metrics.snr_db(ref, ref) == np.inf


def test_report_is_the_one_set_of_figures():
    clean = np.array([0.0, 1.0, 2.0, 3.0])
    noisy = clean + np.array([1.0, -1.0, 1.0, -1.0])
    out = clean + np.array([0.5, 0.0, -0.5, 0.0])
    r = metrics.report(clean, noisy, out)
    assert r == {
        "noisy_mse": 1.0,
        "noisy_mae": 1.0,
        "mse": 0.125,
        "mae": 0.25,
        "gain_db": pytest.approx(10 * math.log10(8)),
    }
    assert metrics.mae(clean, out) == 0.25 and metrics.mae(clean, np.array([np.nan, 1, 2, 4.0])) == pytest.approx(1 / 3)
    assert math.isnan(metrics.mae(np.array([np.nan]), np.array([1.0])))


def test_integer_readings_are_compared_as_floats():
    # uint8 arithmetic would wrap around (16**2 == 0 in uint8)
    ref, est = np.array([16], np.uint8), np.array([15], np.uint8)
    assert metrics.snr_db(ref, est) == pytest.approx(10 * np.log10(256))
    assert metrics.mse(est, ref) == 1.0 and metrics.mae(est, ref) == 1.0


# ------------------------------------------------------------------ missing pairs
def test_metrics_skip_nan_pairs_and_refuse_shape_mismatch():
    ref = np.array([0.0, np.nan, 2.0])
    est = np.array([1.0, 5.0, np.nan])
    assert metrics.mse(ref, est) == 1.0
    assert np.isnan(metrics.mse(np.array([np.nan]), np.array([1.0])))
    with pytest.raises(InputError, match="shapes"):
        metrics.mse(np.zeros(3), np.zeros(4))


def test_none_in_plain_lists_is_a_missing_pair():
    assert metrics.mse([1.0, None, 3.0], [2.0, 5.0, 3.0]) == 0.5
    assert metrics.mae([1.0, 2.0, 3.0], [2.0, None, 3.0]) == 0.5


def test_no_finite_pair_is_nan_without_warnings():
    nothing = np.array([np.nan, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Mean of empty slice" from an empty channel
        for fn in (metrics.mse, metrics.mae, metrics.rmse, metrics.snr_db):
            assert np.isnan(fn(nothing, np.ones(2))), fn.__name__
        assert np.isnan(metrics.gain_db(nothing, np.ones(2), np.ones(2)))


# ------------------------------------------------------------------ edge values
def test_snr_edge_values():
    assert metrics.snr_db(np.array([1.0, 0.0]), np.array([1.0, 0.1])) == pytest.approx(20.0)  # power exactly 1
    assert metrics.snr_db(np.zeros(3), np.ones(3)) == -np.inf  # no signal power
    assert metrics.snr_db(np.ones(3), np.ones(3)) == np.inf


def test_gain_edge_values():
    zero = np.zeros(4)
    assert metrics.gain_db(zero, zero + 2, zero + 1) == pytest.approx(10 * np.log10(4))  # output mse exactly 1
    assert metrics.gain_db(zero, zero + 1, zero) == np.inf  # perfect output
    assert metrics.gain_db(zero, zero, zero + 1) == -np.inf  # perfect input
    # the input matches the reference where it is finite, but nothing of the output is: NaN, not -inf
    assert np.isnan(metrics.gain_db(zero, zero, np.full(4, np.nan)))
    assert np.isnan(metrics.gain_db(zero, np.full(4, np.nan), zero + 1))
