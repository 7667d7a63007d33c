"""The app's default: the automatic no-harm pipeline, its estimate on screen, and the raw network one click away."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # after importorskip

from denoiser.auto import denoise  # after importorskip
from denoiser.bundled import pretrained  # after importorskip
from denoiser.io import read_series  # after importorskip
from tests.support import metric, start, texts  # after importorskip


def recording(n: int = 3000, sigma: float = 0.2, seed: int = 0) -> tuple[bytes, np.ndarray, np.ndarray]:
    """A CSV with no clean column: what an instrument writes."""
    t = np.arange(n)
    clean = np.sin(2 * np.pi * t / 250)
    noisy = clean + sigma * np.random.default_rng(seed).standard_normal(n)
    return pd.DataFrame({"t": t, "volts": noisy}).to_csv(index=False).encode(), clean, noisy


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.switch_page("app_pages/upload.py").run()
    at.file_uploader(key="uploader").set_value((name, data, "text/csv"))
    return at.run()


def test_home_demo_leads_with_the_network_and_scores_the_automatic_result_beside_it() -> None:
    """Issue 19: the demo teaches the autoencoder. Its output is the headline (trace and cards), the
    automatic result (which knows sigma: the demo added the noise) is drawn and scored beside it, and
    each caption names what was done, not merely the model offered."""
    from denoiser import gain_db, make_signal
    from denoiser.signals import add_noise

    at = start()
    assert at.radio(key="home_method").value == "network"
    clean = make_signal("x2")
    noisy = add_noise(clean, "gaussian", sigma=0.05, rng=0)
    specialist = pretrained("parabola")
    network = specialist.denoise(noisy)
    auto = denoise(noisy, sigma=0.05, model=specialist)
    assert metric(at, "Gain (network)") == f"{gain_db(clean, noisy, network):.3g} dB"
    assert metric(at, "Gain (automatic)") == f"{gain_db(clean, noisy, auto.denoised):.3g} dB"
    captions = texts(at.caption).replace("\\", "")
    assert "**Network** (blue): the bundled x² specialist, alone" in captions
    # The automatic caption says what it applied (here a quadratic, not the network), in plain words.
    assert auto.describe(network="the bundled x² specialist") in captions
    assert "(given)" in captions and "measured against the clean signal" in captions
    traces = sorted(json.loads(at.get("plotly_chart")[0].proto.spec)["data"], key=lambda t: t["legendrank"])
    assert [t["name"] for t in traces] == ["noisy", "clean x²", "network", "automatic (no-harm check)"], traces
    assert traces[2]["line"]["width"] > traces[3]["line"]["width"] and traces[3]["line"]["dash"] == "dot"
    # The automatic result can lead instead: its cards, the network's gain beside them.
    at.radio(key="home_method").set_value("auto").run()
    assert not at.exception
    assert metric(at, "Gain (automatic)") == f"{gain_db(clean, noisy, auto.denoised):.3g} dB"
    assert metric(at, "Gain (network)") == f"{gain_db(clean, noisy, network):.3g} dB"
    assert float(metric(at, "MSE (automatic)")) > 0


def test_compare_on_a_recording_without_clean_reference_shows_the_estimate() -> None:
    data, clean, noisy = recording()
    at = upload(start(), "rec.csv", data)
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception and not at.error
    assert at.radio(key="cmp_method").value == "auto"
    assert "How good is the result?" in texts(at.subheader)
    # The page shows the pipeline's own numbers: the same as calling the package.
    expected = denoise(noisy, model=pretrained("default"))
    assert metric(at, "Noise level σ") == f"{expected.sigma:.3g}"
    assert metric(at, "Estimated gain") == f"{expected.estimated_gain_db:+.1f} dB"
    verdict = texts(at.success) + texts(at.warning)
    assert "estimate can be relied on" in verdict or "Treat the estimate with care" in verdict
    # And the estimate is right: the true gain lies in the band it shows.
    true_gain = 10 * np.log10(np.mean((noisy - clean) ** 2) / np.mean((expected.denoised - clean) ** 2))
    lo, hi = expected.gain_band_db
    assert lo - 1 <= true_gain <= hi + 1


def test_compare_uses_a_typed_sigma_and_the_quiet_stretch() -> None:
    data, _, _ = recording(sigma=0.2)
    at = upload(start(), "rec.csv", data)
    at.switch_page("app_pages/compare.py").run()
    at.radio(key="cmp_noise_mode").set_value("given").run()
    at.number_input(key="cmp_sigma").set_value(0.123).run()
    assert not at.exception
    assert metric(at, "Noise level σ") == "0.123"
    assert "Noise level: given" in texts(at.caption)
    at.radio(key="cmp_noise_mode").set_value("quiet").run()
    at.slider(key="cmp_quiet").set_value((100, 900)).run()
    assert not at.exception
    assert "from a quiet segment" in texts(at.caption)
    assert float(metric(at, "Noise level σ")) == pytest.approx(0.2, rel=0.15)


def test_network_only_is_one_choice_away_and_says_it_is_unchecked() -> None:
    data, _, _ = recording()
    at = upload(start(), "rec.csv", data)
    at.switch_page("app_pages/compare.py").run()
    at.radio(key="cmp_method").set_value("network").run()
    assert not at.exception
    assert "nothing checks that it does no harm" in texts(at.info)
    assert "How good is the result?" not in texts(at.subheader)


def test_the_download_holds_the_automatic_result() -> None:
    data, _, noisy = recording()
    at = upload(start(), "rec.csv", data)
    at.switch_page("app_pages/compare.py").run()
    csv = at.session_state.csv_cache["data"]
    out = read_series(csv)  # the comment lines on top are skipped
    expected = denoise(noisy, model=pretrained("default"))
    np.testing.assert_allclose(out.column("volts_denoised"), expected.denoised, rtol=1e-5, atol=1e-6)
    # The header says what was applied, as the package describes it.
    assert f"# volts: {expected.describe(network='the bundled default model')}" in csv.decode()


def test_plot_names_from_files_are_not_plotly_html() -> None:
    """Plotly renders trace names and axis titles as HTML-like text: a name from a file must not become a link."""
    hostile = "<a href='http://127.0.0.2:9/x'>click</a>"
    t = pd.date_range("2024-01-01", periods=600, freq="s")
    data = pd.DataFrame({hostile: t.strftime("%Y-%m-%d %H:%M:%S"), "v": np.sin(np.arange(600) / 30.0)})
    at = upload(start(), "names.csv", data.to_csv(index=False).encode())
    assert at.session_state.table.report.time_column == hostile  # the axis title comes from the file
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    specs = " ".join(json.dumps(json.loads(chart.proto.spec), ensure_ascii=False) for chart in at.get("plotly_chart"))
    assert "click" in specs and "<a href" not in specs


def test_compare_says_when_the_data_cannot_tell_noise_from_signal_and_offers_the_fixes() -> None:
    # A white-looking signal under a little noise (a quarterly growth rate): only a bound is known.
    rng = np.random.default_rng(13)
    e = rng.standard_normal(300)
    x = np.empty(300)
    x[0] = e[0]
    for i in range(1, 300):
        x[i] = 0.2 * x[i - 1] + e[i]
    noisy = x + 0.1 * np.std(x) * rng.standard_normal(300)
    at = upload(
        start(), "growth.csv", pd.DataFrame({"quarter": np.arange(300), "growth": noisy}).to_csv(index=False).encode()
    )
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    assert "could not tell its noise from its signal" in texts(at.warning)
    # The fixes are buttons, not a footnote: each switches the noise-level control.
    at.button(key="cmp_fix_quiet").click().run()
    assert at.radio(key="cmp_noise_mode").value == "quiet"
    at.radio(key="cmp_noise_mode").set_value("estimate").run()
    at.button(key="cmp_fix_sigma").click().run()
    assert at.radio(key="cmp_noise_mode").value == "given"
    assert not at.exception
    at.number_input(key="cmp_sigma").set_value(0.1).run()
    assert "could not tell" not in texts(at.warning)  # a typed sigma is known: the box goes


def test_compare_on_a_smooth_recording_applies_a_substantial_filter_blind() -> None:
    data, clean, noisy = recording(n=400, sigma=0.2)
    at = upload(start(), "short.csv", data)
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    applied = next(c.value for c in at.caption if c.value.startswith("Applied:"))
    assert "Kept as is" not in applied and "%" in applied
    assert "could not tell" not in texts(at.warning)
