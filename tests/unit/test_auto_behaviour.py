"""Behaviour of the automatic pipeline's parts (denoiser.auto), as a user sees them: no TensorFlow.

Each test names a behaviour that a broken constant, comparison or message would change (mutation
testing, docs/TESTING.md, runs them against ``denoiser/auto/*``). ``tests/unit/test_auto.py`` holds
the pipeline's end-to-end promises (never worse than the input, honest about what it knows); this
file pins the parts: how spikes are judged, how the noise level and its range are found, how the
candidates are weighed, and what the result says, word for word. A stand-in network (a plain
moving average with the network's interface) covers the network's candidate without TensorFlow.
"""

from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.ndimage import uniform_filter1d

import denoiser
from denoiser.auto import (
    KINDS,
    Context,
    MethodPart,
    denoise,
    describe_parts,
    despike,
    estimate_noise,
    find_impulses,
    level_sigmas,
    noise_floor,
    offered,
    risk,
)
from denoiser.auto.candidates import Candidate
from denoiser.auto.impulses import _continuous_tail, _poisson_like, _spread, _wide_bumps
from denoiser.auto.noise import NoiseEstimate, residual_sigma
from denoiser.auto.pipeline import _hidden_noise_gain
from denoiser.auto.result import DenoiseResult, compact_method
from denoiser.classical import bayes_shrink
from denoiser.errors import InputError
from tests.support import ar1, x2_demo


def _ar(n: int, phi: float, rng: np.random.Generator) -> np.ndarray:
    """AR(1) (``tests.support.ar1``) scaled to a spread of 1."""
    x = ar1(n, phi, rng)
    return x / x.std()


class _StandIn:
    """A network's interface (``config.window``, ``denoise(v, hop=, invariant=)``) over a moving average."""

    def __init__(self, window: int = 64) -> None:
        self.config = SimpleNamespace(window=window)
        self.calls: list[dict] = []

    def denoise(self, v: np.ndarray, *, hop: int, invariant: bool) -> np.ndarray:
        self.calls.append({"hop": hop, "invariant": invariant, "shape": np.shape(v)})
        return uniform_filter1d(np.asarray(v, dtype=np.float64), 5, axis=-1, mode="nearest")


# ------------------------------------------------------------------------------------------ impulses
def _curve(n: int = 1000) -> np.ndarray:
    return np.sin(2 * np.pi * np.arange(n) / 250)


def test_a_spike_on_a_clean_curve_is_replaced_by_its_neighbours_median():
    x = _curve()
    x[400] += 3.0
    out, mask = despike(x)
    assert np.flatnonzero(mask).tolist() == [400]
    assert out[400] == pytest.approx(0.5 * (x[399] + x[401]), abs=1e-12)
    np.testing.assert_array_equal(np.delete(out, 400), np.delete(x, 400))
    assert x[400] == pytest.approx(_curve()[400] + 3.0)  # the input is not changed in place


def test_despiking_does_not_depend_on_the_datas_units():
    # the same curve in other units (with rounding noise far below the curve's range) loses the same spike
    rng = np.random.default_rng(0)
    for scale in (1e-3, 1.0, 100.0, 1e5):
        x = scale * (_curve() + 1e-6 * rng.standard_normal(1000))
        x[400] += 3.0 * scale
        _, mask = despike(x)
        assert np.flatnonzero(mask).tolist() == [400], scale


def test_despike_takes_an_integer_recording():
    x = np.round(100 * _curve()).astype(np.int64)
    x[300] += 400
    out, mask = despike(x)
    assert out.dtype == np.float64 and np.flatnonzero(mask).tolist() == [300]


def test_a_spike_next_to_a_corner_of_the_curve_is_left_alone():
    # a triangle wave (slope 1) bends by 2 at its corners; a spike of 7 beside a corner has a
    # neighbourhood that does not stay smooth once it is replaced, so it may be signal
    t = np.arange(1000)
    tri = np.abs(((t / 50) % 2) - 1) * 50
    for i in (149, 150, 151):
        x = tri.copy()
        x[i] += 7.0
        assert not despike(x)[1].any(), i
    x = tri.copy()
    x[125] += 7.0  # far from a corner: a lone spike on a clean curve, in any units
    for k in (1.0, 1e-13):
        assert np.flatnonzero(despike(k * x)[1]).tolist() == [125], k


def test_a_spike_with_a_spiky_neighbour_is_predicted_from_the_wider_median():
    x = _curve()
    x[400] += 3.0
    x[401] += 3.0
    mask, pred = find_impulses(x, half=2)
    assert np.flatnonzero(mask).tolist() == [400, 401]
    for i, around in ((400, [398, 399, 401, 402]), (401, [399, 400, 402, 403])):
        middle = np.sort(x[around])[1:3]  # a median of the four: between the middle two
        assert middle[0] <= pred[i] <= middle[1]
    # one neighbour a side cannot see past the spiky neighbour
    assert not find_impulses(x, half=1)[0].any()


def test_a_tall_sample_whose_neighbours_disagree_is_not_an_impulse():
    # an edge with an overshoot: the sample stands 3.5 above the mean of its neighbours, but they
    # differ by 3 (more than half of that) -- a step, not a lone spike
    x = np.zeros(400)
    x[201:] = 3.0
    x[200] = 5.0
    x += 1e-3 * np.sin(np.arange(400))
    assert not find_impulses(x)[0].any()
    x[200] = 9.0  # now far above both sides: a spike on a step
    assert np.flatnonzero(find_impulses(x)[0]).tolist() == [200]


def test_a_burst_of_activity_is_judged_against_its_local_spread():
    rng = np.random.default_rng(0)
    x = _curve() + 1e-3 * rng.standard_normal(1000)
    x[500:600] += rng.standard_normal(100)  # busy: far above the global spread, not above its own
    mask, _ = find_impulses(x)
    assert mask[500:600].sum() <= 2 and not mask[:500].any() and not mask[600:].any()


def test_a_precomputed_spread_gives_the_same_impulses():
    rng = np.random.default_rng(2)
    x = _curve(3000) + 0.01 * rng.standard_normal(3000)
    x[1000:1100] += 0.5 * rng.standard_normal(100)
    x[[200, 1500, 2500]] += [1.0, -1.0, 1.0]
    mask, pred = find_impulses(x)
    given, pred2 = find_impulses(x, spread=_spread(x))
    np.testing.assert_array_equal(given, mask)
    np.testing.assert_array_equal(pred2, pred)
    assert {200, 1500, 2500} <= set(np.flatnonzero(mask).tolist())


def test_the_local_spread_at_chosen_samples_equals_the_full_one():
    rng = np.random.default_rng(1)
    x = np.r_[rng.standard_normal(300), 0.01 * rng.standard_normal(2000), 3 * rng.standard_normal(100)]
    full = _spread(x)
    at = np.arange(x.size)
    np.testing.assert_allclose(_spread(x, at), full, rtol=1e-12)
    some = np.array([0, 1, 150, 299, 300, 1000, 2299, 2350, x.size - 1])
    np.testing.assert_allclose(_spread(x, some), full[some], rtol=1e-12)
    # white noise of std 1: the spread is about 1 (robust std of changes / sqrt 2)
    assert float(np.median(_spread(rng.standard_normal(20_000)))) == pytest.approx(1.0, rel=0.05)


def test_spikes_in_bursts_or_in_rhythm_are_not_like_independent_hits():
    def mask(counts: list[int]) -> np.ndarray:
        m = np.zeros(100 * len(counts), dtype=bool)
        for b, c in enumerate(counts):
            m[100 * b + 3 * np.arange(c)] = True
        return m

    assert _poisson_like(mask([3, 2, 2, 2, 3, 2, 3, 2, 2, 2, 3, 2, 2, 3, 2, 2, 2, 3, 2, 2])) is False  # too regular
    assert _poisson_like(mask([0, 5] * 10)) is False  # bursty: index of dispersion 2.6
    assert _poisson_like(mask([2] * 20)) is False  # a rhythm
    edge = [0, 3, 0, 0, 6, 2, 5, 5, 0, 1, 6, 6, 5, 0, 6, 5, 1, 5, 1, 3]  # dispersion exactly 2.0: still in
    assert np.var(edge, ddof=1) / np.mean(edge) == 2.0 and _poisson_like(mask(edge)) is True
    low = [3, 2, 2, 1, 4, 1, 3, 2, 2, 4, 2, 3, 3, 2, 4, 4, 2, 2, 3, 1]  # exactly 0.4: in too
    assert np.var(low, ddof=1) / np.mean(low) == 0.4 and _poisson_like(mask(low)) is True
    assert _poisson_like(mask([1, 3, 2, 4, 0, 2, 3, 1, 5, 2, 2, 3, 1, 2, 4, 0, 3, 2, 1, 3])) is True  # ~1
    assert _poisson_like(mask([2] * 10 + [0] * 10)) is True  # too few (20) to judge: enough spikes count
    assert _poisson_like(mask([1] * 20)) is True  # evenly spread, but too few to judge
    assert _poisson_like(np.zeros(100, dtype=bool)) is False


def test_two_sample_bumps_are_counted_single_spikes_and_steps_are_not():
    base = 1e-3 * np.sin(np.arange(400))
    one = base.copy()
    one[100:102] += 1.0
    assert _wide_bumps(one) == 1
    spike = base.copy()
    spike[100] += 1.0
    assert _wide_bumps(spike) == 0
    step = base.copy()  # up by 1 for two samples, then back only half way: an edge
    step[100:102] += 1.0
    step[102:] += 0.5
    assert _wide_bumps(step) == 0
    assert _wide_bumps(np.ones(7)) == 0
    # on a falling ramp the baseline under the bump is the straight line between its sides
    ramp = -np.arange(200.0)
    ramp[100:102] += 6.6  # just above 6 spreads of the ramp's steps over that line
    assert _wide_bumps(ramp) == 1
    # where most steps are zero (a held value), the spread comes from the steps there are, in any units
    held = np.zeros(400)
    for i in (50, 150, 250):
        held[i : i + 2] = 10.0
    assert _wide_bumps(held) == _wide_bumps(1e-3 * held) == _wide_bumps(1e3 * held) == 3


def test_a_few_tall_spikes_on_a_noisy_recording_are_left_alone_a_population_is_removed():
    # on a noisy background the noise's own 3-6 spread residuals continue the spikes' sizes down,
    # so a few tall spikes may be signal (footfalls); 5 % of samples is impulse noise
    for rate, removed in ((0.003, False), (0.05, True)):
        rng = np.random.default_rng(2)
        x = np.sin(2 * np.pi * np.arange(4000) / 2000) + 0.05 * rng.standard_normal(4000)
        hit = rng.random(4000) < rate
        x[hit] += rng.choice([-1.0, 1.0], int(hit.sum()))
        mask, pred = find_impulses(x)
        assert _continuous_tail(x, mask, pred) is (not removed)
        out, replaced = despike(x)
        if removed:
            assert replaced.sum() >= 0.85 * hit.sum() and not (replaced & ~hit).any()
        else:
            assert not replaced.any()


# ------------------------------------------------------------------------------------------- result
def _part(name: str, kind: str, weight: float, label: str | None = None) -> MethodPart:
    return MethodPart(name, kind, label or name.capitalize(), weight)


def test_the_description_names_each_share_of_two_percent_or_more_and_the_inputs_share():
    parts = [
        _part("savgol 33", "savgol", 0.7, "Savitzky-Golay, 33 samples wide, order 2"),
        _part("wavelet", "wavelet", 0.02, "wavelet shrinkage"),
        _part("network", "network", 0.0199, "the network"),
        _part("input", "input", 0.2801, "the input kept"),
    ]
    assert describe_parts(parts) == (
        "Savitzky-Golay, 33 samples wide, order 2: 70 %, wavelet shrinkage: 2 %, the input kept: 28 %."
    )
    assert compact_method(parts, 0) == "savgol 33 0.70 + wavelet 0.02 (+ input 0.28)"
    almost = parts[:3] + [_part("input", "input", 0.0199)]
    assert describe_parts(almost) == "Savitzky-Golay, 33 samples wide, order 2: 70 %, wavelet shrinkage: 2 %."
    assert compact_method(almost, 0) == "savgol 33 0.70 + wavelet 0.02"
    assert (
        describe_parts(
            [_part("input", "input", 0.5), _part("input", "input", 0.25), _part("wavelet", "wavelet", 0.25, "w")]
        )
        == "W: 25 %, the input kept: 75 %."
    )


def test_the_description_of_removed_spikes_counts_them_in_words():
    spikes = _part("despike", "despike", 0.01, "spikes replaced")
    wav = _part("wavelet", "wavelet", 0.9, "wavelet shrinkage")
    rest = _part("input", "input", 0.1)
    assert (
        describe_parts([spikes, wav, rest], 1)
        == "Spikes removed (1 sample); then wavelet shrinkage: 90 %, the input kept: 10 %."
    )
    assert describe_parts([spikes, rest], 1234) == "Spikes removed (1,234 samples); nothing else changed."
    assert describe_parts([_part("input", "input", 1.0)]) == "Kept as is: no filter was expected to improve it."
    assert compact_method([spikes, wav, rest], 3) == "despike + wavelet 0.90 (+ input 0.10)"
    many = _part("despike", "despike", 0.05, "spikes replaced")  # 5 % of samples: still not a filter
    assert compact_method([many, wav, rest], 300) == "despike + wavelet 0.90 (+ input 0.10)"
    assert describe_parts([many, wav, rest], 300) == (
        "Spikes removed (300 samples); then wavelet shrinkage: 90 %, the input kept: 10 %."
    )
    assert compact_method([spikes, rest], 3) == "despike + none (kept as is)"
    assert compact_method([_part("input", "input", 1.0)], 0) == "none (kept as is)"


def _result(**changes) -> DenoiseResult:
    fields = dict(
        denoised=np.zeros(3),
        sigma=0.0123456,
        sigma_source="estimated",
        sigma_is_upper_bound=False,
        estimated_mse=1e-4,
        estimated_gain_db=6.04,
        gain_band_db=(4.96, 7.25),
        trusted=True,
        method="wavelet 1.00",
        parts=(MethodPart("wavelet", "wavelet", "wavelet shrinkage", 1.0, {"shifts": 8}),),
    )
    fields.update(changes)
    return DenoiseResult(**fields)


def test_the_one_line_summary_says_what_was_done_and_how_sure_it_is():
    assert _result().summary() == (
        "Wavelet shrinkage: 100 %; noise sigma 0.01235 (estimated); estimated gain +6.0 dB [+5.0, +7.2], trusted"
    )
    assert _result(
        trusted=False, sigma_is_upper_bound=True, estimated_gain_db=-0.04, gain_band_db=(-1.0, 0.5)
    ).summary() == (
        "Wavelet shrinkage: 100 %; noise sigma 0.01235 (estimated (upper bound)); "
        "estimated gain -0.0 dB [-1.0, +0.5], NOT trusted"
    )


def test_a_result_as_plain_values_has_every_field_and_the_parts_in_full():
    res = _result(notes=("a", "b"), impulses=2)
    d = res.as_dict()
    assert d["parts"] == [
        {"name": "wavelet", "kind": "wavelet", "label": "wavelet shrinkage", "weight": 1.0, "params": {"shifts": 8}}
    ]
    assert d["notes"] == ["a", "b"] and d["gain_band_db"] == [4.96, 7.25] and d["impulses"] == 2
    assert d["description"] == "Spikes removed (2 samples); then wavelet shrinkage: 100 %."
    assert set(d) == {
        "sigma",
        "sigma_source",
        "sigma_is_upper_bound",
        "estimated_mse",
        "estimated_gain_db",
        "gain_band_db",
        "trusted",
        "method",
        "notes",
        "whiteness",
        "impulses",
        "weights",
        "sigma_bound",
        "identifiable",
        "direction",
        "parts",
        "description",
    }
    assert not res.kept and _result(parts=(MethodPart("input", "input", "the input kept", 1.0),)).kept


# ---------------------------------------------------------------------------------------- candidates
def test_the_network_candidate_runs_the_model_with_three_quarter_window_hops():
    model = _StandIn(window=64)
    x = np.sin(np.linspace(0, 20, 1000))
    cands = KINDS["network"].offer(Context(x, 0.1, model))
    assert len(cands) == 1
    c = cands[0]
    assert (c.name, c.kind, c.label, c.params, c.costly, c.probe_eps, c.divergence) == (
        "network",
        "network",
        "the neural network",
        {"window": 64},
        True,
        1e-2,
        None,
    )
    np.testing.assert_allclose(c.apply(x), uniform_filter1d(x, 5, mode="nearest"))
    assert model.calls[-1] == {"hop": 48, "invariant": False, "shape": (1000,)}
    tiny = _StandIn(window=1)
    KINDS["network"].offer(Context(x, 0.1, tiny))[0].apply(x)
    assert tiny.calls[-1]["hop"] == 1
    assert KINDS["network"].offer(Context(x, 0.1, None)) == []


def test_the_network_is_weighed_among_the_candidates_of_a_recording():
    rng = np.random.default_rng(5)
    clean = np.sin(2 * np.pi * np.arange(3000) / 300)
    noisy = clean + 0.2 * rng.standard_normal(clean.size)
    model = _StandIn(window=32)
    res = denoise(noisy, model=model)
    assert "network" in res.weights and list(res.weights)[0] == "network"
    assert {c["hop"] for c in model.calls} == {24} and not any(c["invariant"] for c in model.calls)
    assert denoiser.gain_db(clean, noisy, res.denoised) > 8


def test_wavelet_candidates_say_what_they_average():
    x = np.sin(np.linspace(0, 20, 1000))
    (short,) = KINDS["wavelet"].offer(Context(x, 0.1, None))
    assert short.label == "wavelet shrinkage (BayesShrink, sym8, 8 shifts averaged)"
    assert short.params == {"wavelet": "sym8", "sigma": 0.1, "shifts": 8} and short.apply_div is None
    assert (short.name, short.kind, short.divergence) == ("wavelet", "wavelet", None)
    long_x = np.sin(np.linspace(0, 2000, 131_072)) + 0.1 * np.random.default_rng(0).standard_normal(131_072)
    (long,) = KINDS["wavelet"].offer(Context(long_x, 0.1, None))
    assert long.label == "wavelet shrinkage (BayesShrink, sym8)"
    assert long.params == {"wavelet": "sym8", "sigma": 0.1, "shifts": 1}
    out, div = long.apply_div(long_x)
    np.testing.assert_allclose(out, long.apply(long_x))
    # the level it is given, not one of its own: at 0.1 most of the fast oscillation is kept
    np.testing.assert_array_equal(long.apply(long_x), bayes_shrink(long_x, 0.1))
    assert (long.name, long.kind) == ("wavelet", "wavelet")
    assert (
        div.shape == long_x.shape and 0 < div.mean() < 0.5 and set(np.unique(div)) <= {0.0, 1.0} | set(np.unique(div))
    )


def test_savgol_candidates_cover_every_width_and_the_whole_series():
    x = np.sin(np.linspace(0, 20, 100))
    cands = KINDS["savgol"].offer(Context(x, 0.1, None))
    assert [c.name for c in cands] == ["savgol 5", "savgol 9", "savgol 17", "savgol 33", "savgol 65", "savgol 99"]
    assert cands[0].label == "Savitzky-Golay, 5 samples wide, order 2" and cands[0].params == {"width": 5, "order": 2}
    assert cands[-1].label == "a quadratic fitted to the whole series (99 samples)"
    assert cands[0].divergence == pytest.approx(17 / 35)  # the centre weight of a 5-point quadratic fit
    assert [c.name for c in offered(Context(x, 0.1, None))][0] == "wavelet"


# ---------------------------------------------------------------------------------------------- risk
def test_a_candidate_that_changes_nothing_gets_no_weight_and_no_warning():
    rng = np.random.default_rng(3)
    noise = rng.standard_normal(2000)
    r = np.stack([np.zeros(2000), -0.9 * noise], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w = risk.best_single(r, np.array([1.0, 1.0]), 1.0)
        assert w[0] == 0 and w[1] > 0.9
        assert risk.best_single(np.zeros((100, 2)), np.ones(2), 1.0).tolist() == [0.0, 0.0]
        # a region that no candidate changes (a flat stretch): nothing is weighed
        assert risk.region_weights(np.zeros((100, 2)), np.ones(2), 1.0).tolist() == [0.0, 0.0]


def test_the_blend_is_capped_at_the_whole_step_even_when_sure_asks_for_a_little_more():
    rng = np.random.default_rng(4)
    noise = rng.standard_normal((4000, 1))
    w = risk.blend_weights(-0.8 * noise, np.array([1.0]), 1.0)  # unconstrained optimum 1.25
    assert w.sum() == pytest.approx(1.0)
    w = risk.blend_weights(-1.25 * noise, np.array([1.0]), 1.0)  # optimum 1 / 1.5625 = 0.64: kept
    assert w.sum() == pytest.approx(0.64, rel=0.05)


def test_one_candidate_is_preferred_to_a_mix_that_gains_less_than_its_extra_weight_costs():
    rng = np.random.default_rng(5)
    n = 1000
    noise = 0.1 * rng.standard_normal(n)
    a = -noise + 0.001 * rng.standard_normal(n)  # two near-copies of the same good candidate
    b = -noise + 0.001 * rng.standard_normal(n)
    w = risk.region_weights(np.stack([a, b], axis=1), np.array([1.0, 1.0]), 0.01)
    assert np.count_nonzero(w) == 1 and w.max() == pytest.approx(1.0, abs=0.05)
    # with sigma^2 far from 1 the risk keeps its units: the good candidate is still taken whole
    bad = 0.05 * rng.standard_normal(n)
    w = risk.region_weights(np.stack([bad, a], axis=1), np.array([0.0, 1.0]), 0.01)
    assert w[1] == pytest.approx(1.0, abs=0.05) and w[0] < 0.05


def test_each_weight_in_use_is_charged_two_sigma_squared_over_n():
    # two orthogonal candidates (R'R/N = I): the second one's gain sigma^4 c^2 is worth its charge
    # 2 sigma^2 / N at c = 0.05 (0.0025 > 0.002), not at c = 0.04 (0.0016)
    n = 1000
    r = np.stack([np.ones(n), np.tile([1.0, -1.0], n // 2)], axis=1)
    np.testing.assert_allclose(risk.region_weights(r, np.array([0.5, 0.05]), 1.0), [0.5, 0.05], atol=1e-9)
    np.testing.assert_allclose(risk.region_weights(r, np.array([0.5, 0.04]), 1.0), [0.5, 0.0], atol=1e-9)


def test_one_region_blends_with_its_own_weights_and_counts_the_divergence():
    rng = np.random.default_rng(6)
    r, d = rng.standard_normal((500, 2)), rng.random((500, 2))
    w = np.array([0.3, 0.5])
    applied, c, mean_w = risk.apply_weights(r, d, w[None, :], risk.regions(500))
    np.testing.assert_allclose(applied, r @ w)
    assert c == pytest.approx(0.8 - np.mean(d @ w))
    np.testing.assert_array_equal(mean_w, w)


def test_regions_are_about_the_requested_size_and_cover_the_series():
    parts = risk.regions(10_000, 4096)
    assert [(p.start, p.stop) for p in parts] == [(0, 5000), (5000, 10_000)]
    assert risk.regions(100) == [slice(0, 100)]
    assert len(risk.regions(4096 * 5 + 100)) == 5


def test_a_costly_candidate_on_a_long_recording_is_probed_on_spread_chunks():
    n = 140_000
    x = np.sin(np.linspace(0, 300, n)) + 0.1 * np.random.default_rng(7).standard_normal(n)

    def three_tap(v: np.ndarray) -> np.ndarray:  # divergence exactly 1/3 at every sample
        return uniform_filter1d(v, 3, axis=-1, mode="nearest")

    cand = Candidate("network", "network", "stand-in", three_tap, probe_eps=1e-2, costly=True)
    d = risk.divergence(cand, x, three_tap(x), 0.1, np.random.default_rng(0))
    probed = np.isfinite(d)
    assert probed.sum() == risk.PROBE_SAMPLES
    starts = np.flatnonzero(np.diff(probed.astype(int)) == 1) + 1
    assert starts[0] == 512 and starts[-1] == n - risk.PROBE_CHUNK - 512 and len(starts) == 4
    assert float(np.mean(d[probed])) == pytest.approx(1 / 3, abs=0.02)
    # the regions without a probe take the nearest probed region's mean
    parts = risk.regions(n)
    filled = risk.fill_unprobed(np.stack([np.ones(n), d], axis=1), parts)
    assert np.isfinite(filled).all() and (filled[:, 0] == 1).all()
    means = [float(np.nanmean(d[p])) if probed[p].any() else None for p in parts]
    for i, p in enumerate(parts):
        if means[i] is None:
            j = min((k for k in range(len(parts)) if means[k] is not None), key=lambda k: abs(k - i))
            assert filled[p.start, 1] == pytest.approx(means[j])
    # a short recording is probed on every sample
    short = x[:5000]
    assert np.isfinite(risk.divergence(cand, short, three_tap(short), 0.1, np.random.default_rng(0))).all()


def test_unprobed_columns_are_filled_one_by_one_and_untouched_ones_are_kept():
    d = np.ones((8, 3))
    d[4:, 2] = np.nan
    d[:, 1] = np.nan  # never probed: nothing to take from, left as it is
    out = risk.fill_unprobed(d.copy(), [slice(0, 4), slice(4, 8)])
    assert (out[:, 0] == 1).all() and np.isnan(out[:, 1]).all() and (out[:, 2] == 1).all()


def test_the_risk_figures_at_their_edges():
    assert risk.gain_db(0.0, 0.0) == 0.0 and risk.gain_db(0.0, 1.0) == 0.0
    assert risk.gain_db(1.0, 0.0) == pytest.approx(40.0)  # capped at +40 dB
    assert risk.gain_db(1.0, 0.1) == pytest.approx(10.0)
    assert risk.posterior_mse(-1.0, 0.0) == (0.0, 0.0, 0.0)
    assert risk.posterior_mse(2.0, 0.0) == (2.0, 2.0, 2.0)
    mean, lo, hi = risk.posterior_mse(0.0, 0.5)  # SURE at 0: the MSE is still >= 0
    assert mean == pytest.approx(0.5 * math.sqrt(2 / math.pi)) and 0 < lo < mean < hi


def test_removed_noise_scores_white_bursts_do_not():
    rng = np.random.default_rng(8)
    assert risk.whiteness(rng.standard_normal(8192)) > 0.9
    half = np.ones(8192)
    half[(np.arange(8192) // 256) % 2 == 1] = 0.0  # every other block empty: cv = 1
    assert risk.whiteness(half) == pytest.approx(math.exp(-(1 / math.sqrt(2 / 256) - 1.5) / 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert risk.whiteness(np.zeros(4096)) == 1.0  # nothing removed
    assert risk.whiteness(np.ones(1000)) == 1.0  # too short to judge
    assert risk.whiteness(np.r_[np.ones(256), np.zeros(768)]) < 0.1  # four blocks are enough


# --------------------------------------------------------------------------------------------- noise
def test_a_given_or_measured_noise_level_is_its_own_bound():
    est = estimate_noise(np.zeros(100), sigma=0.25)
    assert est == NoiseEstimate(0.25, 0.25, 0.25, "given", bound=0.25)
    rng = np.random.default_rng(9)
    x = np.r_[0.1 * rng.standard_normal(400), np.sin(np.arange(600.0))]
    est = estimate_noise(x, quiet=(0, 400))
    rel = 1.2 / math.sqrt(400)
    assert est.source == "from a quiet segment" and est.bound == est.sigma
    assert est.sigma == pytest.approx(0.1, rel=0.1)
    assert (est.low, est.high) == pytest.approx((est.sigma * (1 - 2 * rel), est.sigma * (1 + 2 * rel)))
    assert estimate_noise(x, quiet=(-50, 20)).sigma > 0  # clipped to the series
    with pytest.raises(InputError, match=r"^The quiet stretch needs at least 16 samples; got 15\. Select a longer"):
        estimate_noise(x, quiet=(985, 2000))
    with pytest.raises(InputError, match=r"^The quiet stretch needs at least 16 samples; got 0\. "):
        estimate_noise(x, quiet=(500, 400))
    with pytest.raises(InputError, match=r"^The noise sigma must be a finite number >= 0; got nan\.$"):
        estimate_noise(x, sigma=float("nan"))


def test_a_recording_without_noise_says_so():
    for x in (np.zeros(500), np.full(500, 3.0)):
        est = estimate_noise(x)
        assert est == NoiseEstimate(
            0.0, 0.0, 0.0, "estimated", notes=("The recording has no measurable noise.",), bound=0.0
        )
    res = denoise(np.full(500, 3.0), model=False)
    assert res.sigma == 0 and res.kept and res.weights == {} and res.estimated_gain_db == 0.0
    assert res.gain_band_db == (0.0, 0.0) and res.estimated_mse == 0.0
    assert res.notes[0] == "The recording has no measurable noise."
    assert res.notes[-1] == "No filter was expected to improve this recording, so it was kept as is."


def test_an_identified_noise_level_has_a_narrow_range_and_is_its_bound():
    rng = np.random.default_rng(10)
    t = np.arange(4000)
    x = np.sin(2 * np.pi * t / 400) + 0.1 * rng.standard_normal(t.size)
    est = estimate_noise(x)
    assert not est.upper_bound and est.bound == est.sigma and est.sigma == pytest.approx(0.1, rel=0.05)
    assert est.sigma < est.high < 1.1 * est.sigma and 0.5 * est.sigma < est.low < est.sigma


def test_a_dead_stretch_of_equal_values_is_left_out_of_the_noise_estimate():
    # A sensor that was off for 8,000 of 20,000 samples: its zeros have no noise, and used to pull
    # the level down to 3e-16, so nothing was smoothed (0 dB where 13 were there).
    rng = np.random.default_rng(0)
    t = np.arange(20_000)
    clean = np.sin(2 * np.pi * t / 500)
    clean[6000:14000] = 0.0
    noisy = clean + 0.1 * rng.standard_normal(t.size)
    noisy[6000:14000] = 0.0
    est = estimate_noise(noisy)
    assert est.sigma == pytest.approx(0.1, rel=0.1)
    assert est.notes[0] == (
        "8,000 samples in stretches of 32 or more equal values (a sensor off, a held value) "
        "were left out of the noise estimate."
    )
    res = denoise(noisy, model=False)
    assert denoiser.gain_db(clean, noisy, res.denoised) > 10


def test_short_runs_of_equal_values_and_a_mostly_dead_recording_are_all_used():
    from denoiser.auto.noise import DEAD_RUN, live_samples

    rng = np.random.default_rng(1)
    x = np.round(rng.standard_normal(1000), 1)  # coarse steps: runs of 2-3 equal values happen
    x[100 : 100 + DEAD_RUN - 1] = 5.0  # one short of a dead stretch
    live, dead = live_samples(x)
    assert dead == 0 and live is x
    x[100 : 100 + DEAD_RUN] = 5.0
    live, dead = live_samples(x)
    assert dead == DEAD_RUN and np.array_equal(live, np.r_[x[:100], x[100 + DEAD_RUN :]])
    mostly = np.zeros(1000)
    mostly[:100] = rng.standard_normal(100)  # too little left to measure on: keep it all
    assert live_samples(mostly)[1] == 0


def test_the_residual_of_a_quadratic_over_the_whole_short_series_shows_the_noise():
    # the docstring's example: a quadratic over 150 samples leaves 147 degrees of freedom
    _, noisy = x2_demo(0)
    sigma, rel = residual_sigma(noisy)
    assert sigma == pytest.approx(0.05, rel=0.1) and rel == pytest.approx(1 / math.sqrt(2 * 147))
    t = np.linspace(-1, 1, 2048)  # up to 2048 samples a series may still be one quadratic
    sigma, rel = residual_sigma(3 * t**2 + 0.05 * np.random.default_rng(1).standard_normal(2048))
    assert sigma == pytest.approx(0.05, rel=0.05) and rel == pytest.approx(1 / math.sqrt(2 * 2045))
    long_sigma, long_rel = residual_sigma(np.zeros(70_000))  # long: left to the wavelet levels
    assert math.isnan(long_sigma) and long_rel == math.inf
    assert residual_sigma(np.arange(4.0))[1] == math.inf  # nothing wider than 3 fits


def test_the_widest_fit_as_good_as_the_best_is_taken_not_one_clearly_worse():
    # a sine of period 60: a 17-wide quadratic follows it, a 65-wide one does not
    rng = np.random.default_rng(11)
    t = np.arange(1500)
    x = np.sin(2 * np.pi * t / 60) + 0.05 * rng.standard_normal(t.size)
    sigma, _ = residual_sigma(x)
    assert sigma == pytest.approx(0.05, rel=0.1)


def test_wavelet_level_spreads_of_white_noise_are_its_std():
    rng = np.random.default_rng(12)
    s = level_sigmas(2.0 * rng.standard_normal(65_536))
    assert s.shape == (5,) and np.allclose(s, 2.0, rtol=0.05)
    assert level_sigmas(rng.standard_normal(4096), levels=3).shape == (3,)
    assert level_sigmas(rng.standard_normal(20)).shape == (1,)  # a short series: its one level


def test_the_noise_floor_of_white_noise_is_its_std():
    rng = np.random.default_rng(13)
    for n in (2000, 20_000):
        assert noise_floor(0.3 * rng.standard_normal(n)) == pytest.approx(0.3, rel=0.04)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = estimate_noise(rng.standard_normal(20))
    assert est.sigma > 0


def test_a_million_sample_recordings_floor_comes_from_every_kth_value():
    rng = np.random.default_rng(14)
    x = np.sin(np.linspace(0, 3000, 600_000)) + 0.2 * rng.standard_normal(600_000)
    assert noise_floor(x) == pytest.approx(0.2, rel=0.03)
    est = estimate_noise(x)  # its checks too (tail counts on every k-th finest-scale value)
    assert est.sigma == pytest.approx(0.2, rel=0.03) and est.reasons == ()


def test_a_sine_at_0_db_is_not_taken_for_a_recording_that_looks_like_noise():
    rng = np.random.default_rng(3)
    t = np.arange(4000)
    x = math.sqrt(2) * np.sin(2 * np.pi * t / 200) + rng.standard_normal(t.size)
    est = estimate_noise(x)
    assert est.reasons == () and not est.upper_bound and est.sigma == pytest.approx(1.0, rel=0.05)


def test_a_recording_that_looks_like_noise_uses_at_most_thirty_percent_of_its_bound():
    rng = np.random.default_rng(4)
    x = _ar(3000, 0.7, rng)
    x = x + 10 ** (-4 / 20) * rng.standard_normal(3000)  # 4 dB: apparent SNR about 3 dB
    est = estimate_noise(x)
    assert est.reasons == ("looks like noise",) and est.upper_bound and not est.clean_floor
    assert 0.1 * est.bound <= est.sigma <= 0.3 * est.bound
    # the part used grows with the apparent SNR: a tenth at most 2 dB, 30 % at 4 dB
    asnr = 10 * math.log10(np.var(x) / est.bound**2)
    assert 2.0 < asnr < 4.0 and est.sigma == pytest.approx(est.bound * 0.3 * (asnr - 1.0) / 3.0)
    assert (est.low, est.high) == (0.1 * est.bound, est.bound)
    assert est.notes == (
        "The noise level could not be told apart from the signal: the recording looks like noise throughout "
        f"(its signal may itself look like noise). {est.bound:.3g} is only an upper bound of the noise, so a "
        f"cautious {est.sigma:.3g} was used: the result may leave noise in place. Give sigma, or select a quiet "
        "stretch, for a full result.",
    )


def test_a_short_recording_whose_finest_detail_has_heavy_tails_is_only_bounded():
    # Student-t noise (3 degrees of freedom) on 300 samples: more values beyond 3 robust spreads than
    # Gaussian noise makes (1 % or more): the bound may hold signal detail, so half of it is used
    rng = np.random.default_rng(0)
    x = denoiser.make_signal("x2", 300, rng) + 0.05 * rng.standard_t(3, 300)
    est = estimate_noise(x)
    assert est.reasons == ("heavy tails",) and est.upper_bound
    assert est.sigma == pytest.approx(0.5 * est.bound)
    assert "its finest detail comes in bursts that noise does not make" in est.notes[0]
    rng = np.random.default_rng(0)
    gauss = denoiser.make_signal("x2", 300, rng) + 0.05 * rng.standard_normal(300)
    assert estimate_noise(gauss).reasons == ()


def test_a_signal_rolled_off_below_the_top_band_leaves_the_floor_visible_above_it():
    # a broadband signal low-passed at 0.36 fs (an anti-aliasing filter) under white noise: every
    # wavelet level and every lower band holds signal; the top band [0.375, 0.5) fs holds noise alone
    from scipy.signal import butter, sosfiltfilt

    sos = butter(10, 0.72, output="sos")
    for seed in range(2):
        rng = np.random.default_rng(seed)
        signal = sosfiltfilt(sos, rng.standard_normal(8192))
        x = 3 * signal / signal.std() + 0.1 * rng.standard_normal(8192)
        est = estimate_noise(x)
        assert est.sigma == pytest.approx(0.1, rel=0.15) and not est.upper_bound


def test_a_spectrum_still_falling_where_the_floor_was_found_is_not_flat_in_any_units():
    # noise low-passed at 0.4 fs (an anti-aliasing roll-off): the floor is found in the top band,
    # where the spectrum keeps falling: no noise floor in sight, whatever the units
    from scipy.signal import butter, filtfilt

    rng = np.random.default_rng(1)
    b, a = butter(8, 0.8)
    x = filtfilt(b, a, rng.standard_normal(4096)) + np.sin(2 * np.pi * np.arange(4096) / 300)
    for k in (1e-3, 1.0, 1e3):
        est = estimate_noise(k * x)
        assert est.reasons == ("not flat",) and est.upper_bound, k
        assert est.sigma == pytest.approx(0.2 * est.bound)


def test_a_recording_failing_two_checks_names_both():
    rng = np.random.default_rng(0)
    est = estimate_noise(rng.standard_t(3, 300))  # heavy-tailed noise alone, 300 samples
    assert est.reasons == ("looks like noise", "heavy tails")
    assert est.notes[0].startswith(
        "The noise level could not be told apart from the signal: the recording looks like noise throughout "
        "(its signal may itself look like noise); its finest detail comes in bursts that noise does not make. "
    )


def test_under_128_samples_no_floor_is_called_clean():
    # too short to split the top octave in two and compare the halves: never a clean floor
    for seed in range(4):
        rng = np.random.default_rng(seed)
        x = denoiser.make_signal("x2", 100, rng) + 0.05 * rng.standard_normal(100)
        est = estimate_noise(x)
        assert not est.upper_bound and not est.clean_floor


def test_short_recordings_get_the_flatness_check_from_128_samples():
    # the tutorial's x² (150 samples) and a 128-sample sine can show a clean white floor
    assert any(estimate_noise(x2_demo(seed)[1]).clean_floor for seed in range(3))
    t = np.linspace(0, 1, 128)
    clean = [
        estimate_noise(np.sin(2 * np.pi * t) + 0.05 * np.random.default_rng(s).standard_normal(128)).clean_floor
        for s in range(4)
    ]
    assert any(clean)


# ------------------------------------------------------------------------------------------ pipeline
def test_the_result_keeps_its_promises_in_any_units():
    rng = np.random.default_rng(15)
    cases = [
        x2_demo(0)[1],
        x2_demo(1, kind="impulse", rate=0.05)[1],
        np.sin(np.arange(3000) / 40) + 0.1 * rng.standard_normal(3000),
        _ar(2000, 0.7, rng) + 0.6 * rng.standard_normal(2000),
    ]
    for x in cases:
        base = denoise(x, model=False)
        for k in (1e-3, 1e4):
            res = denoise(k * x, model=False)
            np.testing.assert_allclose(res.denoised, k * base.denoised, rtol=1e-9, atol=1e-9 * k * np.ptp(x))
            assert res.sigma == pytest.approx(k * base.sigma, rel=1e-9, abs=1e-9 * k)
            assert res.estimated_gain_db == pytest.approx(base.estimated_gain_db, abs=1e-6)
            assert res.gain_band_db == pytest.approx(base.gain_band_db, abs=1e-6)
            assert (res.method, res.trusted, res.impulses, res.identifiable) == (
                base.method,
                base.trusted,
                base.impulses,
                base.identifiable,
            )


def test_values_whose_squares_overflow_or_vanish_are_denoised_in_their_own_units():
    # 1e160 squared overflows and 1e-160 squared vanishes: both once ended in an exception.
    rng = np.random.default_rng(16)
    smooth = np.sin(np.arange(3000) / 40) + 0.1 * rng.standard_normal(3000)
    noise_like = rng.standard_normal(300)  # only bounded: its note gives numbers in units
    for x in (smooth, noise_like):
        base = denoise(x, model=False)
        for k in (1e-160, 1e160, 1e300):
            res = denoise(k * x, model=False)
            np.testing.assert_allclose(res.denoised, k * base.denoised, rtol=1e-9, atol=1e-9 * k * np.ptp(x))
            assert res.sigma == pytest.approx(k * base.sigma, rel=1e-9)
            assert res.sigma_bound == pytest.approx(k * base.sigma_bound, rel=1e-9)
            assert res.estimated_gain_db == pytest.approx(base.estimated_gain_db, abs=1e-6)
            assert res.method == base.method and len(res.notes) == len(base.notes)
            if base.sigma_is_upper_bound:
                assert f"{k * base.sigma_bound:.3g} is only an upper bound" in res.notes[0]
    given = denoise(1e160 * smooth, sigma=1e159, model=False)
    assert given.sigma == 1e159 and given.estimated_gain_db > 10


def test_no_candidate_changing_a_region_gives_it_no_weight():
    for r in (np.zeros((50, 3)), np.full((50, 2), 1e-200)):
        assert np.array_equal(risk.blend_weights(r, np.ones(r.shape[1]), 0.01), np.zeros(r.shape[1]))
        assert np.array_equal(risk.region_weights(r, np.ones(r.shape[1]), 0.01), np.zeros(r.shape[1]))


def test_a_series_of_64_valid_samples_is_denoised_63_are_kept():
    _, noisy = x2_demo(0)
    assert not denoise(noisy[:64], model=False).kept
    x = noisy[:70].copy()
    x[:7] = np.nan
    kept = denoise(x, model=False)
    assert kept.kept and np.array_equal(kept.denoised, x, equal_nan=True)
    assert kept.notes == ("The series has fewer than 64 valid samples; it was kept as is.",)
    assert (kept.trusted, kept.identifiable, kept.sigma_is_upper_bound, kept.sigma_source) == (
        False,
        False,
        False,
        "estimated",
    )
    assert kept.parts == (MethodPart("input", "input", "the input kept", 1.0),) and kept.weights == {}
    assert math.isnan(kept.sigma) and math.isnan(kept.estimated_mse) and kept.gain_band_db == (0.0, 0.0)
    assert denoise(np.full(100, np.nan), model=False).kept


def test_giving_both_a_sigma_and_a_quiet_stretch_is_refused_in_words():
    with pytest.raises(InputError) as err:
        denoise(np.zeros(100), sigma=0.1, quiet=(0, 50), model=False)
    assert str(err.value) == "Give the noise level either as sigma or as a quiet stretch, not both."
    with pytest.raises(InputError) as err:
        denoise(np.zeros((2, 100)), model=False)
    assert str(err.value) == "denoise() takes one 1-D series; got shape (2, 100). Call it once per column."


def test_a_smooth_blind_result_says_how_its_noise_level_was_found():
    rng = np.random.default_rng(16)
    t = np.arange(6000)
    clean = np.sin(2 * np.pi * t / 400) + 0.5 * np.sin(2 * np.pi * t / 97)
    noisy = clean + 0.3 * rng.standard_normal(t.size)
    res = denoise(noisy, model=False)
    lo, hi = res.gain_band_db
    assert res.identifiable and res.direction == "" and res.sigma_bound == res.sigma
    assert 0 < lo < hi
    assert res.notes[-1] == (
        "The noise level was read off the recording's noise floor, assuming white noise. Coloured noise (a slow "
        "drift, 1/f) looks like signal and is left in place; the low end of the range "
        f"({lo:+.1f} dB) is the gain if as much of it hides under the floor. The other way round, a signal whose "
        "own detail reaches the highest frequency as evenly as noise (a rough 1/f or random-walk-like process, a "
        "series sampled with no anti-aliasing filter) has no floor to find: its detail is taken for noise and "
        "removed. Give sigma if it is known."
    )
    assert 0.0 <= res.whiteness <= 1.0 and isinstance(res.whiteness, float)
    assert res.weights and all(w == round(w, 3) for w in res.weights.values())  # shares to 0.1 %
    shares = [p.weight for p in res.parts[:-1]]  # largest share first, the input's last
    assert len(shares) >= 2 and shares == sorted(shares, reverse=True) and res.parts[-1].kind == "input"
    assert [p.name for p in res.parts[:-1]] == [n for n, w in sorted(res.weights.items(), key=lambda i: -i[1]) if w > 0]
    assert any(w != round(w, 2) for w in res.weights.values())
    true_gain = denoiser.gain_db(clean, noisy, res.denoised)
    assert abs(res.estimated_gain_db - true_gain) < 1.0
    # the band's low end is the gain with coloured noise twice the white power under the floor
    assert lo == pytest.approx(_hidden_noise_gain(res.sigma, res.estimated_mse, 0.0))
    assert lo == pytest.approx(10 * math.log10(3 * res.sigma**2 / (res.estimated_mse + 2 * res.sigma**2)))


def test_the_estimated_gain_of_a_short_series_is_cautious_and_its_band_holds_the_truth():
    # 150 samples: SURE scatters by sqrt(2/150) sigma^2, far more than the fit's error, so the MSE
    # given SURE is taken with that scatter (cautious): the band's low end stays below the true gain.
    # sigma 0.05: a formula that confused sigma with sigma^2 would be off by orders of magnitude.
    for seed in range(3):
        clean, noisy = x2_demo(seed)
        for sigma in (None, 0.05):
            res = denoise(noisy, sigma=sigma, model=False)
            true_gain = denoiser.gain_db(clean, noisy, res.denoised)
            lo, hi = res.gain_band_db
            assert 8.0 < res.estimated_gain_db < true_gain, (seed, sigma)
            assert lo < res.estimated_gain_db < hi and lo <= true_gain  # never promises more than it gives
            assert hi < 26


def test_a_band_wider_than_3_db_is_not_trusted_within_1_5_db():
    # "Trusted" promises the figure within 1.5 dB either way, so its band may be 3 dB wide at most:
    # this two-sine recording's band is 3.9 dB wide (a floor that is not plain white noise).
    rng = np.random.default_rng(0)
    n = int(rng.choice([1000, 2000, 4000, 8000]))  # 8000 samples, periods 122.5 and 6.84, sigma 0.028
    long, short, sigma = rng.uniform(20, 400), rng.uniform(5, 50), rng.uniform(0.02, 0.5)
    t = np.arange(n)
    clean = np.sin(2 * np.pi * t / long) + 0.5 * np.sin(2 * np.pi * t / short)
    res = denoise(clean + sigma * rng.standard_normal(n), model=False)
    lo, hi = res.gain_band_db
    assert res.identifiable and res.parts[0].kind != "input" and 3.0 < hi - lo <= 4.0
    assert not res.trusted


def test_with_a_given_level_the_band_is_sures_scatter_only():
    clean, noisy = x2_demo(0)
    res = denoise(noisy, sigma=0.05, model=False)
    lo, hi = res.gain_band_db
    assert lo < res.estimated_gain_db < hi <= denoiser.gain_db(clean, noisy, res.denoised) + 1.0
    blind = denoise(noisy, model=False)
    assert hi - lo < blind.gain_band_db[1] - blind.gain_band_db[0]  # the level's own range is not in it
    # The only reason named is the length: a given level is not "known within a range only".
    assert res.notes == (
        f"The estimate is uncertain (a short recording, 150 samples): the gain could be anywhere "
        f"from {lo:+.1f} to {hi:+.1f} dB.",
    )


def test_a_recording_that_looks_like_noise_is_held_back_and_says_so():
    rng = np.random.default_rng(13)
    clean = _ar(300, 0.2, rng)
    noisy = clean + 0.1 * rng.standard_normal(300)
    res = denoise(noisy, model=False)
    assert not res.identifiable and res.sigma_is_upper_bound and res.direction == "too little"
    assert not res.trusted and res.sigma < 0.35 * res.sigma_bound
    assert res.notes[0].startswith(
        "The noise level could not be told apart from the signal: the recording looks like noise throughout"
    )
    assert not any("plain white noise" in n or "read off the recording" in n for n in res.notes)


def test_spikes_are_counted_in_the_notes_in_the_singular_and_the_plural():
    for count in (1, 2):
        x = _curve(2000) + 1e-3 * np.sin(np.arange(2000) * 1.7)
        for i in range(count):
            x[500 + 700 * i] += 3.0
        res = denoise(x, model=False)
        assert res.impulses == count and res.trusted is False
        word = "spike" if count == 1 else "spikes"
        assert res.notes[0] == (
            f"{count} isolated {word} ({100 * count / 2000:.1f} % of samples) replaced by the "
            "median of their neighbours."
        )
        assert (
            "With impulse noise the estimate covers only the spikes that were found; smaller ones are left in "
            "place and not counted."
        ) in res.notes
        assert res.parts[0] == MethodPart(
            "despike", "despike", "spikes replaced by the median of their neighbours", count / 2000, {"samples": count}
        )
        assert res.parts[-1].name == "input" and res.parts[-1].kind == "input"


def test_with_a_level_of_zero_given_only_the_spikes_are_removed_and_the_gain_is_theirs():
    x = _curve(2000) + 1e-3 * np.sin(np.arange(2000) * 1.7)
    x[[500, 1200]] += 3.0
    res = denoise(x, sigma=0.0, model=False)
    assert res.impulses == 2 and res.weights == {} and res.method == "despike + none (kept as is)"
    assert res.estimated_gain_db > 20 and res.gain_band_db == (res.estimated_gain_db, res.estimated_gain_db)


def test_impulse_noise_that_is_all_found_gets_a_fair_estimate_never_a_trusted_one():
    # spikes of 50 sigma at 4 % of samples, none adjacent: every one is found, so the estimate
    # (noise power = white + impulse power; error = the blend's + the replacements') is fair
    for seed in range(2):
        rng = np.random.default_rng(seed)
        t = np.arange(6000)
        clean = np.sin(2 * np.pi * t / 400) + 0.5 * np.sin(2 * np.pi * t / 97)
        noisy = clean + 0.02 * rng.standard_normal(t.size)
        hit = np.flatnonzero(rng.random(t.size) < 0.04)
        hit = hit[np.r_[True, np.diff(hit) > 2]]
        noisy[hit] += rng.choice([-1.0, 1.0], hit.size)
        for sigma in (0.02, None):
            res = denoise(noisy, sigma=sigma, model=False)
            assert res.impulses == hit.size and res.trusted is False
            true_gain = denoiser.gain_db(clean, noisy, res.denoised)
            lo, hi = res.gain_band_db
            assert abs(res.estimated_gain_db - true_gain) < 2.5, (seed, sigma)
            assert lo - 1.0 <= true_gain <= hi + 0.5
            if sigma is None:
                # the low end: coloured noise twice the white power under the floor, and a fifth of the
                # removed spikes' energy missed or taken from the signal (the spikes' power comes back
                # from the estimated gain: noise power = sigma^2 + impulse power)
                s2, mse = res.sigma**2, res.estimated_mse
                spikes = mse * 10 ** (res.estimated_gain_db / 10) - s2
                assert spikes > 100 * s2
                assert lo == pytest.approx(10 * math.log10((3 * s2 + spikes) / (mse + 2 * s2 + 0.2 * spikes)), abs=1e-6)
                assert lo > 3.0


def test_spikes_on_an_otherwise_trusted_estimate_take_the_trust_away():
    # 20,000 samples with a given level: the band is narrow and what was removed looks like noise,
    # so only the spikes (smaller ones may be left and are not counted) stand between it and trust
    rng = np.random.default_rng(0)
    t = np.arange(20_000)
    clean = np.sin(2 * np.pi * t / 400) + 0.5 * np.sin(2 * np.pi * t / 97)
    noisy = clean + 0.02 * rng.standard_normal(t.size)
    hit = np.flatnonzero(rng.random(t.size) < 0.04)
    hit = hit[np.r_[True, np.diff(hit) > 2]]
    noisy[hit] += rng.choice([-1.0, 1.0], hit.size)
    res = denoise(noisy, sigma=0.02, model=False)
    lo, hi = res.gain_band_db
    assert res.impulses == hit.size and hi - lo <= 4.0 and res.whiteness >= 0.5
    assert res.trusted is False
    clean_run = denoise(clean + 0.02 * rng.standard_normal(t.size), sigma=0.02, model=False)
    assert clean_run.trusted is True


def test_replacing_spikes_on_a_fast_oscillation_counts_the_replacement_error():
    # a sine of period 8: the neighbours' mean misses the curve by 29 % of its amplitude, an error the
    # estimate measures where the median of three replaces clean samples
    rng = np.random.default_rng(1)
    t = np.arange(6000)
    clean = np.sin(2 * np.pi * t / 8)
    noisy = clean + 0.01 * rng.standard_normal(t.size)
    hit = np.flatnonzero(rng.random(t.size) < 0.02)
    hit = hit[np.r_[True, np.diff(hit) > 2]]
    noisy[hit] += rng.choice([-10.0, 10.0], hit.size)
    res = denoise(noisy, sigma=0.01, model=False)
    assert res.impulses == hit.size
    assert abs(res.estimated_gain_db - denoiser.gain_db(clean, noisy, res.denoised)) < 2.5


def test_removing_a_burst_of_fast_detail_is_flagged():
    rng = np.random.default_rng(0)
    t = np.arange(8000)
    clean = np.sin(2 * np.pi * t / 500)
    clean[3000:3400] += np.sin(2 * np.pi * t[3000:3400] / 4)
    res = denoise(clean + 0.1 * rng.standard_normal(t.size), sigma=0.1, model=False)
    assert res.whiteness < 0.5 and res.estimated_gain_db > 0.5 and res.trusted is False
    assert res.notes[-1] == (
        "What was removed is not like stationary noise: it comes in bursts where the signal "
        "changes, so some signal may have been removed with it."
    )


def test_a_floor_that_is_not_plain_white_noise_is_said_to_be_so():
    rng = np.random.default_rng(15)
    t = np.arange(6000)
    clean = np.sin(2 * np.pi * t / 400) + 0.5 * np.sin(2 * np.pi * t / 97)
    res = denoise(clean + denoiser.make_noise(t.size, "pink", 0.3, rng), model=False)
    lo, hi = res.gain_band_db
    assert (
        f"The noise floor is not plain white noise (its top octave is uneven, or its values have heavier tails "
        "than noise): part of it may be signal, or coloured noise may lie below it, so the gain could be "
        f"anywhere from {lo:+.1f} to {hi:+.1f} dB."
    ) in res.notes


def test_a_rough_signal_blind_is_not_trusted_says_why_and_a_given_sigma_does_no_harm():
    # AR(1) with tiny noise (30 dB): the signal's own detail reaches the Nyquist frequency as evenly as
    # white noise, so the floor found is the signal's. Blind cannot know; it must not claim to be sure,
    # must say so, and the fix it names (give sigma) must work.
    rng = np.random.default_rng(0)
    clean = ar1(1000, 0.7, rng)
    sigma = float(np.std(clean)) / 10 ** (30 / 20)
    noisy = clean + sigma * rng.standard_normal(clean.size)
    blind = denoise(noisy, model=False)
    assert blind.identifiable and not blind.trusted
    assert blind.sigma > 5 * sigma  # the floor found is the signal's (what the note warns about)
    assert any("has no floor to find" in n and "Give sigma" in n for n in blind.notes)
    informed = denoise(noisy, sigma=sigma, model=False)
    assert denoiser.gain_db(clean, noisy, informed.denoised) > -0.2
