"""What a user does in the browser, and what the end-to-end tests check on the page: the selectors,
time limits and steps that tests/e2e's files share (``from tests.e2e.steps import ...``; the server,
the browser and the pages are fixtures in tests/e2e/conftest.py).

Waiting: never fixed sleeps. Each step polls for the text or element it expects, then for the app
to be idle (``stApp``'s ``data-test-script-state`` is ``notRunning``). Every page is checked for
``stException`` and error alerts.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.support import ROOT

ARTIFACTS = Path(os.environ.get("DENOISER_SCREENSHOT_DIR") or ROOT / "tests" / "_artifacts")
VIEWPORT = {"width": 1400, "height": 900}
FIRST_PAINT_MS = 90_000  # the first run imports TensorFlow and loads the bundled model
STEP_MS = 60_000  # any later step

SCRIPT_STATE = '[data-testid="stApp"]'
EXCEPTION = '[data-testid="stException"]'
ERROR_ALERT = '[data-testid="stAlertContentError"]'
METRIC = '[data-testid="stMetric"]'
PLOT = '[data-testid="stPlotlyChart"]'
UPLOAD_INPUT = '[data-testid="stFileUploaderDropzoneInput"]'


# ------------------------------------------------------------------ moving and waiting
def open_page(page, path: str = "/", *, expect: str, timeout: int = STEP_MS) -> None:
    """Open a page by URL (a new session) and wait until ``expect`` text is on it and the run is over."""
    page.goto(f"{page.app_url}{path}")
    wait_for_text(page, expect, timeout)


def go(page, title: str, *, expect: str, timeout: int = STEP_MS) -> None:
    """Move to another page with the sidebar link (same session), then wait for ``expect``."""
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first.click()
    wait_for_text(page, expect, timeout)


def wait_for_text(page, text: str, timeout: int = STEP_MS) -> None:
    """Until ``text`` is shown and the run is over; fail at once, with the traceback, if the page crashes."""
    page.get_by_text(text).first.or_(page.locator(EXCEPTION).first).first.wait_for(timeout=timeout)
    assert_no_exception(page)
    wait_idle(page, timeout)


def wait_idle(page, timeout: int = STEP_MS) -> None:
    """Until the script run is over (a fragment rerun counts as a run) and the server is connected."""
    page.wait_for_function(
        """sel => { const app = document.querySelector(sel);
                    return app && app.getAttribute('data-test-script-state') === 'notRunning'
                               && app.getAttribute('data-test-connection-state') === 'CONNECTED'; }""",
        arg=SCRIPT_STATE,
        timeout=timeout,
    )


def poll(what: str, check: Callable[[], object], timeout_ms: int = STEP_MS, every: float = 0.2):
    """Call ``check`` until it returns something truthy; fail with ``what`` after the timeout."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_ms / 1000:.0f} s waiting for {what}")
        time.sleep(every)


# ------------------------------------------------------------------ what the page shows
def metrics(page, *expected: str) -> dict[str, str]:
    """Every st.metric on the page: label -> displayed value; first waits for the ``expected`` labels
    (the browser may paint them a moment after the script run has ended)."""
    for label in expected:
        page.locator(METRIC).filter(has_text=label).first.wait_for()
    out = {}
    for card in page.locator(METRIC).all():
        label = card.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        out[label] = card.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return out


def number(text: str) -> float:
    """A displayed number ('0.00101', '1.2e-05', '1,440', '3.6 dB') as a float."""
    return float(text.split()[0].replace(",", ""))


def plot_lines(page, index: int = 0) -> list[str]:
    """The SVG path data of every line trace of the index-th Plotly chart (what is actually drawn)."""
    chart = page.locator(PLOT).nth(index)
    chart.locator(".main-svg").first.wait_for()
    return [p.get_attribute("d") or "" for p in chart.locator(".scatterlayer path.js-line").all()]


def sidebar_text(page) -> str:
    return page.locator('[data-testid="stSidebar"]').inner_text()


def assert_no_exception(page) -> None:
    exceptions = page.locator(EXCEPTION)
    if exceptions.count():
        pytest.fail(f"exception on the page:\n{exceptions.first.inner_text()}", pytrace=False)


def assert_healthy(page) -> None:
    """No Python exception box, no error alert, no uncaught JavaScript error."""
    assert_no_exception(page)
    errors = page.locator(ERROR_ALERT)
    assert errors.count() == 0, f"error message on the page: {errors.all_inner_texts()}"
    assert not page.js_errors, f"JavaScript errors: {page.js_errors}"


def screenshot(page, name: str) -> Path:
    """A screenshot of the whole page. Streamlit scrolls inside its main area, not the document,
    so the viewport is stretched to the content's height for the shot and restored after."""
    height = page.evaluate("""() => Math.max(
        ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stSidebarContent"]')]
            .map(e => e.scrollHeight), window.innerHeight)""")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(int(height), 10_000)})
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(VIEWPORT)
    return path


# ------------------------------------------------------------------ files
def upload(page, path: Path) -> None:
    """Send a file through the page's real <input type=file> and wait for the read report."""
    page.locator(UPLOAD_INPUT).first.set_input_files(str(path))
    wait_for_text(page, f"Read: {path.name}")
    page.locator(METRIC).filter(has_text="Gaps filled").wait_for()


def send_file(page, name: str, data: bytes) -> None:
    """Put ``data`` named ``name`` into the page's real <input type=file> (no waiting for a result)."""
    page.locator(UPLOAD_INPUT).first.set_input_files({"name": name, "mimeType": "text/csv", "buffer": data})


def numeric_csv(path: Path, names: list[str], rows: int = 300) -> None:
    """A plain comma-separated CSV: an increasing time column ``time_s``, then one noisy sine per name
    (the names go into the header exactly as given)."""
    rng = np.random.default_rng(11)
    lines = [",".join(["time_s", *names])]
    for i in range(rows):
        cells = [f"{i * 0.5:.1f}"] + [f"{math.sin(i / (8 + k)) + rng.normal(0, 0.2):.5f}" for k in range(len(names))]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
