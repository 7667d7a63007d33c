"""The teaching pages in the browser: Home's demo, Generate's noise level on the plot and the cards,
the lesson's seven steps and projection mode, and metric cards that fit at common screen sizes.
"""

from __future__ import annotations

import pytest

from tests.e2e.steps import (
    ARTIFACTS,
    FIRST_PAINT_MS,
    METRIC,
    VIEWPORT,
    assert_healthy,
    assert_no_exception,
    go,
    metrics,
    number,
    open_page,
    plot_lines,
    poll,
    screenshot,
    wait_for_text,
    wait_idle,
)

pytestmark = pytest.mark.browser


def test_home_demo_shows_metrics(page) -> None:
    """Home: the x² demo paints with the network's MSE/MAE/gain and the automatic result's gain beside
    them, four traces (noisy, clean, network, automatic), no training."""
    open_page(page, "/", expect="MSE (network)", timeout=FIRST_PAINT_MS)
    shown = metrics(page, "MSE (network)", "MAE (network)", "Gain (network)", "Gain (automatic)")
    assert number(shown["MSE (network)"]) > 0, shown
    assert number(shown["MAE (network)"]) > 0, shown
    assert "dB" in shown["Gain (network)"] and "dB" in shown["Gain (automatic)"], shown
    assert len(plot_lines(page)) == 4, "noisy, clean, network and automatic traces"
    page.get_by_text("Noisy input: MSE").wait_for()
    assert_healthy(page)
    screenshot(page, "home.png")


def test_generate_noise_level_changes_plot_and_metrics(page) -> None:
    """Generate: moving the noise sigma slider redraws the plot and changes the metrics."""
    open_page(page, "/generate", expect="MSE (network)", timeout=FIRST_PAINT_MS)
    before, lines_before = metrics(page, "MSE (network)", "MAE (network)", "Gain (network)"), plot_lines(page)
    assert len(lines_before) == 4, "noisy, clean, network and automatic traces"

    sigma = page.get_by_role("slider", name="Noise sigma")
    assert sigma.get_attribute("aria-valuetext") == "0.050"
    sigma.focus()
    page.keyboard.press("End")  # one key, one value (1.000), one rerun
    poll("the slider to reach 1.000", lambda: sigma.get_attribute("aria-valuetext") == "1.000")

    def redrawn() -> bool:
        assert_no_exception(page)
        now, lines = metrics(page), plot_lines(page)
        return (
            now.get("MSE (network)") not in (None, before["MSE (network)"])
            and now.get("MAE (network)") not in (None, before["MAE (network)"])
            and len(lines) == 4
            and lines[0] != lines_before[0]
            and lines[2] != lines_before[2]
        )

    poll("new metrics and a redrawn noisy and denoised trace", redrawn)
    wait_idle(page)
    after = metrics(page, "Gain (network)")
    assert number(after["MSE (network)"]) > number(before["MSE (network)"]), (before, after)
    page.get_by_text("Noisy input: MSE").wait_for()
    assert_healthy(page)
    screenshot(page, "generate.png")


# ------------------------------------------------------------------ the lesson
FONT_JS = """sel => [...document.querySelectorAll(sel)].map(e => parseFloat(getComputedStyle(e).fontSize))"""


def above_the_fold(page, name: str) -> bool:
    """Whether the button ``name`` is on the first screen, whole (no scrolling needed)."""
    box = page.get_by_role("button", name=name).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]


def at_size(page, width: int, height: int) -> None:
    """Resize the window and wait for the page to lay itself out again."""
    page.set_viewport_size({"width": width, "height": height})
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def test_the_lesson_steps_and_projection(page) -> None:
    """Seven steps with Back / Next; at 1280x720 Next is above the fold on every step's first screen; in
    projection mode the charts (ticks, legends, axis titles) and the widgets' labels are enlarged too,
    not only the text; the step and the mode are in the link (issue 19, items 3 and 6)."""
    open_page(page, "/learn", expect="Step 1 of 7", timeout=FIRST_PAINT_MS)
    assert_healthy(page)
    screenshot(page, "learn.png")
    at_size(page, 1280, 720)
    assert above_the_fold(page, "Next"), "Next is below the fold at 1280x720"
    at_size(page, VIEWPORT["width"], VIEWPORT["height"])
    for k in range(2, 8):
        page.get_by_role("button", name="Next").click()
        wait_for_text(page, f"Step {k} of 7", FIRST_PAINT_MS)
        assert_healthy(page)
        if k == 2:
            assert metrics(page, "Inputs that reach this output")["Inputs that reach this output"] == "11"
            screenshot(page, "learn_receptive_field.png")
    assert page.get_by_role("button", name="Next").is_disabled()
    ticks = lambda: page.evaluate(FONT_JS, '[data-testid="stPlotlyChart"] .xtick text')  # noqa: E731 -- read again after each change
    labels = lambda: page.evaluate(FONT_JS, '[data-testid="stWidgetLabel"] p')  # noqa: E731 -- read again after each change
    small_ticks, small_labels = max(ticks()), max(labels())
    page.get_by_text("Projection mode").click()
    poll("the sidebar hidden", lambda: not page.locator('[data-testid="stSidebar"]').is_visible())
    wait_idle(page)
    poll("the charts redrawn large", lambda: ticks() and min(ticks()) >= 20)
    assert min(labels()) >= 20 > small_labels and small_ticks < 20, (small_ticks, small_labels, labels())
    legend = page.evaluate(FONT_JS, '[data-testid="stPlotlyChart"] .legendtext')
    assert legend and min(legend) >= 20, legend
    assert "learn_step=7" in page.evaluate("location.href") and "learn_projection=true" in page.evaluate(
        "location.href"
    )
    assert_healthy(page)
    screenshot(page, "learn_projection.png")
    at_size(page, 1280, 720)
    page.get_by_role("radio", name="1. Noise, MSE and MAE").click()
    wait_for_text(page, "Step 1 of 7")
    assert above_the_fold(page, "Next"), "Next is below the fold at 1280x720 in projection mode"
    page.screenshot(path=str(ARTIFACTS / "learn_projection_1280x720.png"))


# ------------------------------------------------------------------ layout
FIT_JS = """() => [...document.querySelectorAll('[data-testid="stMetric"]')].map(card => {
    const parts = [...card.querySelectorAll('[data-testid="stMetricValue"] div, [data-testid="stMetricDelta"] div')];
    const cut = parts.filter(e => e.scrollWidth > e.clientWidth + 1 || e.innerText.includes('…'));
    return cut.map(e => e.innerText); }).flat()"""


def test_metric_cards_fit_at_common_screen_sizes(page) -> None:
    """No card is cut ("+19.1 … +…" at 1400 px before): Compare's estimate on a recording without a clean
    version, Home's and Generate's four cards, at 1280x720, 1400x900 and 1920x1080 (issue 19, item 6)."""
    open_page(page, "/upload", expect="Or try a sample", timeout=FIRST_PAINT_MS)
    page.get_by_role("button", name="Temperature log").click()
    wait_for_text(page, "Read: temperature_semicolon.csv")
    go(page, "Compare", expect="How good is the result?", timeout=FIRST_PAINT_MS)
    shown = metrics(page, "Noise level σ", "Estimated gain", "Removal like noise")
    assert "likely" in page.locator(METRIC).filter(has_text="Estimated gain").inner_text(), shown
    for width, height in ((1280, 720), (1400, 900), (1920, 1080)):
        at_size(page, width, height)
        assert page.evaluate(FIT_JS) == [], (width, page.evaluate(FIT_JS))
        page.screenshot(path=str(ARTIFACTS / f"compare_estimate_{width}.png"), full_page=False)
    for path, title in (("Generate", "Generate a signal"), ("Home", "Demo: the tutorial")):
        at_size(page, *VIEWPORT.values())
        go(page, path, expect=title)
        metrics(page, "Gain (network)", "Gain (automatic)")
        for width, height in ((1280, 720), (1400, 900), (1920, 1080)):
            at_size(page, width, height)
            assert page.evaluate(FIT_JS) == [], (path, width, page.evaluate(FIT_JS))
            page.screenshot(path=str(ARTIFACTS / f"{path.lower()}_{width}.png"), full_page=True)
    at_size(page, *VIEWPORT.values())
    assert_healthy(page)
