"""End-to-end: the running app in a real Chromium, driven by Playwright.

The app is started the way `make run` starts it (`streamlit run app.py`), on a free
port, once for this module; every test opens its own browser context, so each one
is a fresh Streamlit session (fresh ``st.session_state``). Steps that depend on each
other (upload, then download on Compare) run in one test, in one page, moving
between pages with the sidebar links (a URL change would start a new session).
Tests of several users at once take the ``new_page`` factory: each call opens another
context, i.e. another session on the same server, at the same time.

Each test saves a full-page screenshot into ``tests/_artifacts/`` (override with
``DENOISER_SCREENSHOT_DIR``); the server's log is written there too.

Debian's Chromium is used (``/usr/bin/chromium``; Playwright's own download is not
needed). Without it the tests skip, unless ``DENOISER_REQUIRE_BROWSER=1`` (set by
CI), which turns the skip into a failure.

Waiting: never fixed sleeps. Each step polls for the text or element it expects,
then for the app to be idle (``stApp``'s ``data-test-script-state`` is
``notRunning``). Every page is checked for ``stException`` and error alerts.
"""
from __future__ import annotations

import csv
import io
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pytest

from bench.app_timing import CHROMIUM_ARGS  # one list of flags for the tests and the benchmarks
from bench.big_upload import drag_across, write_csv as big_csv  # the benchmark's 1M-row file and zoom drag

from tests.support import ROOT

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("DENOISER_SCREENSHOT_DIR") or ROOT / "tests" / "_artifacts")
VIEWPORT = {"width": 1400, "height": 900}
START_TIMEOUT = 60        # s: the server answers /_stcore/health
FIRST_PAINT_MS = 90_000   # the first run imports TensorFlow and loads the bundled model
STEP_MS = 60_000          # any later step
TRAIN_MS = 180_000        # a 2-epoch training run on 2 slow cores, from click to result

SCRIPT_STATE = '[data-testid="stApp"]'
EXCEPTION = '[data-testid="stException"]'
ERROR_ALERT = '[data-testid="stAlertContentError"]'
METRIC = '[data-testid="stMetric"]'
PLOT = '[data-testid="stPlotlyChart"]'
UPLOAD_INPUT = '[data-testid="stFileUploaderDropzoneInput"]'


# ------------------------------------------------------------------ environment
@pytest.fixture(scope="module")
def browser_required() -> None:
    """Skip when there is no browser to drive; fail instead when the environment demands one (CI)."""
    required = os.environ.get("DENOISER_REQUIRE_BROWSER") == "1"
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} not found (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError as err:
            problem = f"playwright is not installed ({err})"
    if problem:
        if required:
            pytest.fail(f"DENOISER_REQUIRE_BROWSER=1 but {problem}", pytrace=False)
        pytest.skip(problem)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200 and resp.read().decode().strip() == "ok"
    except OSError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the server and everything it started (its own process group)."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def app_url(browser_required: None) -> Iterator[str]:
    """The app, started like the README's `make run`, on a free port; stopped (whole group) at the end."""
    port = _free_port()
    streamlit = Path(sys.executable).parent / "streamlit"
    log_path = ARTIFACTS / "streamlit.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(streamlit), "run", "app.py", "--server.port", str(port), "--server.headless", "true"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # own process group: the teardown kills it with all children
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(f"{url}/_stcore/health"):
            if proc.poll() is not None:
                pytest.fail(f"the app exited with code {proc.returncode}:\n{_tail(log_path)}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"no answer from {url}/_stcore/health within {START_TIMEOUT} s:\n{_tail(log_path)}",
                            pytrace=False)
            time.sleep(0.25)
        yield url
    finally:
        _stop(proc)


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def browser(browser_required: None):  # noqa: ANN201 -- playwright's Browser
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _new_page(browser, app_url: str):  # noqa: ANN001, ANN202 -- playwright Browser and Page
    """A page in a fresh browser context (so a fresh Streamlit session); script errors are collected."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(STEP_MS)
    pg = context.new_page()
    pg.js_errors = []  # uncaught exceptions in the page's JavaScript
    pg.on("pageerror", lambda err: pg.js_errors.append(str(err)))
    pg.app_url = app_url
    return pg


@pytest.fixture()
def page(browser, app_url: str, request: pytest.FixtureRequest):  # noqa: ANN001, ANN201 -- a playwright Page
    """A fresh browser context (so a fresh Streamlit session); browser-side script errors are collected.
    When the test fails, what the page showed is saved as ``<test>-failed.png`` next to the screenshots."""
    pg = _new_page(browser, app_url)
    failed_before = request.session.testsfailed
    try:
        yield pg
    finally:
        if request.session.testsfailed > failed_before:
            try:
                screenshot(pg, f"{request.node.name}-failed.png")
            except Exception:  # noqa: BLE001 -- the evidence is a bonus; the failure is already reported
                pass
        pg.context.close()


@pytest.fixture()
def new_page(browser, app_url: str, request: pytest.FixtureRequest):  # noqa: ANN001, ANN201
    """Several users at once: ``new_page("a")`` opens another browser context, i.e. another
    Streamlit session, each call. All are closed at the end; when the test fails, each one's
    screen is saved as ``<test>-<label>-failed.png``."""
    pages: dict[str, object] = {}
    failed_before = request.session.testsfailed

    def make(label: str):  # noqa: ANN202
        pages[label] = pg = _new_page(browser, app_url)
        return pg

    try:
        yield make
    finally:
        for label, pg in pages.items():
            if request.session.testsfailed > failed_before:
                try:
                    screenshot(pg, f"{request.node.name}-{label}-failed.png")
                except Exception:  # noqa: BLE001 -- the evidence is a bonus
                    pass
            pg.context.close()


# ------------------------------------------------------------------ helpers
def open_page(page, path: str = "/", *, expect: str, timeout: int = STEP_MS) -> None:  # noqa: ANN001
    """Open a page by URL (a new session) and wait until ``expect`` text is on it and the run is over."""
    page.goto(f"{page.app_url}{path}")
    wait_for_text(page, expect, timeout)


def go(page, title: str, *, expect: str, timeout: int = STEP_MS) -> None:  # noqa: ANN001
    """Move to another page with the sidebar link (same session), then wait for ``expect``."""
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first.click()
    wait_for_text(page, expect, timeout)


def wait_for_text(page, text: str, timeout: int = STEP_MS) -> None:  # noqa: ANN001
    """Until ``text`` is shown and the run is over; fail at once, with the traceback, if the page crashes."""
    page.get_by_text(text).first.or_(page.locator(EXCEPTION).first).first.wait_for(timeout=timeout)
    assert_no_exception(page)
    wait_idle(page, timeout)


def wait_idle(page, timeout: int = STEP_MS) -> None:  # noqa: ANN001
    """Until the script run is over (a fragment rerun counts as a run) and the server is connected."""
    page.wait_for_function(
        """sel => { const app = document.querySelector(sel);
                    return app && app.getAttribute('data-test-script-state') === 'notRunning'
                               && app.getAttribute('data-test-connection-state') === 'CONNECTED'; }""",
        arg=SCRIPT_STATE, timeout=timeout)


def poll(what: str, check: Callable[[], object], timeout_ms: int = STEP_MS, every: float = 0.2):  # noqa: ANN201
    """Call ``check`` until it returns something truthy; fail with ``what`` after the timeout."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_ms / 1000:.0f} s waiting for {what}")
        time.sleep(every)


def metrics(page, *expected: str) -> dict[str, str]:  # noqa: ANN001
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


def plot_lines(page, index: int = 0) -> list[str]:  # noqa: ANN001
    """The SVG path data of every line trace of the index-th Plotly chart (what is actually drawn)."""
    chart = page.locator(PLOT).nth(index)
    chart.locator(".main-svg").first.wait_for()
    return [p.get_attribute("d") or "" for p in chart.locator(".scatterlayer path.js-line").all()]


def run_curves(page) -> int:  # noqa: ANN001
    """Loss curves drawn in the Model page's "Training run" section (between its heading and the
    "Model in use" heading, which shows the history of the model in use: not what we look for)."""
    return page.evaluate("""() => {
        const top = title => {
            const h = [...document.querySelectorAll('h1, h2, h3')].find(e => e.textContent.trim().startsWith(title));
            return h ? h.getBoundingClientRect().top : null; };
        const start = top('Training run'), end = top('Model in use');
        if (start === null || end === null) return 0;
        return [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].filter(c => {
            const y = c.getBoundingClientRect().top;
            return y > start && y < end && c.textContent.includes('Loss per epoch'); }).length; }""")


def assert_no_exception(page) -> None:  # noqa: ANN001
    exceptions = page.locator(EXCEPTION)
    if exceptions.count():
        pytest.fail(f"exception on the page:\n{exceptions.first.inner_text()}", pytrace=False)


def assert_healthy(page) -> None:  # noqa: ANN001
    """No Python exception box, no error alert, no uncaught JavaScript error."""
    assert_no_exception(page)
    errors = page.locator(ERROR_ALERT)
    assert errors.count() == 0, f"error message on the page: {errors.all_inner_texts()}"
    assert not page.js_errors, f"JavaScript errors: {page.js_errors}"


def screenshot(page, name: str) -> Path:  # noqa: ANN001
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


def upload(page, path: Path) -> None:  # noqa: ANN001
    """Send a file through the page's real <input type=file> and wait for the read report."""
    page.locator(UPLOAD_INPUT).first.set_input_files(str(path))
    wait_for_text(page, f"Read: {path.name}")
    page.locator(METRIC).filter(has_text="Gaps filled").wait_for()


def sensor_csv(path: Path, rows: int = 400) -> dict[str, np.ndarray]:
    """A semicolon-separated CSV with decimal commas: a time column, two noisy channels, a clean one,
    and one gap in sensor_a (row 10). Returns the columns as written."""
    rng = np.random.default_rng(7)
    t = np.arange(rows) * 0.5
    clean = np.sin(2 * np.pi * t / 40)
    cols = {"time_s": t, "sensor_a": clean + rng.normal(0, 0.2, rows),
            "sensor_b": 0.5 * clean + rng.normal(0, 0.2, rows), "clean_a": clean}
    lines = [";".join(cols)]
    for i in range(rows):
        cells = [f"{cols['time_s'][i]:.1f}"] + [f"{cols[c][i]:.5f}" for c in ("sensor_a", "sensor_b", "clean_a")]
        if i == 10:
            cells[1] = ""
        lines.append(";".join(c.replace(".", ",") for c in cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cols


def numeric_csv(path: Path, names: list[str], rows: int = 300) -> None:
    """A plain comma-separated CSV: an increasing time column ``time_s``, then one noisy sine per name
    (the names go into the header exactly as given)."""
    rng = np.random.default_rng(11)
    lines = [",".join(["time_s", *names])]
    for i in range(rows):
        cells = [f"{i * 0.5:.1f}"] + [f"{math.sin(i / (8 + k)) + rng.normal(0, 0.2):.5f}" for k in range(len(names))]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def pick_column(page, name: str) -> None:  # noqa: ANN001
    """Add ``name`` to the Upload page's "Column(s) to denoise" (typed into its filter, then Enter)."""
    picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Column(s) to denoise")
    picker.locator("input").click()
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    poll(f"{name!r} to be picked", lambda: name in picker.inner_text())
    wait_idle(page)


def send_file(page, name: str, data: bytes) -> None:  # noqa: ANN001
    """Put ``data`` named ``name`` into the page's real <input type=file> (no waiting for a result)."""
    page.locator(UPLOAD_INPUT).first.set_input_files({"name": name, "mimeType": "text/csv", "buffer": data})


def sidebar_text(page) -> str:  # noqa: ANN001
    return page.locator('[data-testid="stSidebar"]').inner_text()


STOP_LABEL = "Stop (keep the best weights so far)"


def start_training(page, *, epochs: int, signals: int) -> None:  # noqa: ANN001
    """On the Model page: the narrowest U-Net, ``epochs`` at most on ``signals`` synthetic signals; start."""
    page.get_by_role("tab", name="Train a new model").click()
    form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_role("button", name="Start training"))
    form.wait_for()
    for label, value in (("Epochs (at most)", str(epochs)), ("Synthetic signals", str(signals))):
        box = form.get_by_label(label, exact=True)
        box.fill(value)
        box.press("Tab")  # commit without submitting the form
    width = form.get_by_role("slider", name="Width (filters, U-Net only)")
    width.focus()
    page.keyboard.press("Home")  # the narrowest network: 8 filters
    poll("width 8", lambda: width.get_attribute("aria-valuetext") == "8")
    form.get_by_role("button", name="Start training").click()


def training_ended(page):  # noqa: ANN001, ANN201 -- a Locator
    return page.get_by_text("Finished:").or_(page.get_by_text("Stopped after"))


def model_options(page) -> list[str]:  # noqa: ANN001
    """The Model page's "Model in use" list: opened, read, closed (the options exist only while open)."""
    wait_idle(page)
    box, options = page.get_by_role("combobox", name="Model in use"), page.get_by_role("option")

    def opened() -> bool:  # a rerun arriving just after the click may close the list again: click again
        if options.count():
            return True
        if box.get_attribute("aria-expanded") != "true":
            box.click()
        return False

    poll("the model list to open", opened, every=0.5)
    names = [o.strip() for o in options.all_inner_texts()]
    page.keyboard.press("Escape")
    return names


# ------------------------------------------------------------------ tests
def test_home_demo_shows_metrics(page) -> None:  # noqa: ANN001
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


def test_generate_noise_level_changes_plot_and_metrics(page) -> None:  # noqa: ANN001
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
        return (now.get("MSE (network)") not in (None, before["MSE (network)"])
                and now.get("MAE (network)") not in (None, before["MAE (network)"])
                and len(lines) == 4 and lines[0] != lines_before[0] and lines[2] != lines_before[2])

    poll("new metrics and a redrawn noisy and denoised trace", redrawn)
    wait_idle(page)
    after = metrics(page, "Gain (network)")
    assert number(after["MSE (network)"]) > number(before["MSE (network)"]), (before, after)
    page.get_by_text("Noisy input: MSE").wait_for()
    assert_healthy(page)
    screenshot(page, "generate.png")


def test_upload_csv_shows_read_report(page, tmp_path: Path) -> None:  # noqa: ANN001
    """Upload: a semicolon/decimal-comma CSV through the real file input gives the read report."""
    csv_path = tmp_path / "sensor_log.csv"
    sensor_csv(csv_path)
    open_page(page, "/upload", expect="No data yet")
    upload(page, csv_path)

    shown = metrics(page, "Rows", "Value columns", "Delimiter", "Decimal mark", "Gaps filled")
    assert number(shown["Rows"]) == 400, shown
    assert number(shown["Value columns"]) == 3, shown
    assert shown["Delimiter"] == "semicolon", shown
    assert shown["Decimal mark"] == "comma", shown
    assert shown["Gaps filled"] == "1 of 1", shown
    page.get_by_text("time column 'time_s'").wait_for()
    assert len(plot_lines(page)) >= 2, "preview: the value column and its clean reference"
    assert_healthy(page)
    screenshot(page, "upload.png")


def test_train_two_epochs_live_then_stop(page) -> None:  # noqa: ANN001
    """Model: a 2-epoch run shows progress and a live loss curve; Stop gives a model to download.

    3000 signals (the form's default), so that epoch 2 lasts seconds on 2 cores and Stop lands
    inside it; on a much faster machine the run may end first, which is accepted.
    """
    from playwright.sync_api import Error as PlaywrightError

    open_page(page, "/model", expect="Model in use", timeout=FIRST_PAINT_MS)
    start_training(page, epochs=2, signals=3000)

    progress = page.locator('[data-testid="stProgress"]')
    stop = page.get_by_role("button", name=STOP_LABEL)
    done = training_ended(page)
    # The first epoch alone takes seconds (graph tracing), so the bar is seen before any epoch ends.
    poll("the progress bar", lambda: progress.count() or done.count() or page.locator(ERROR_ALERT).count()
         or page.locator(EXCEPTION).count(), TRAIN_MS)
    assert_healthy(page)
    assert progress.count(), "training ended without showing a progress bar"
    saw_progress = progress.first.inner_text()
    assert "of at most 2" in saw_progress, saw_progress

    def curve_or_end() -> str | None:
        assert_no_exception(page)
        if done.count():
            return "ended"
        if progress.count() and run_curves(page) and stop.count():
            return "live"
        return None

    state = poll("the live loss curve or the end of training", curve_or_end, TRAIN_MS)
    if state == "live":  # epoch 1 is drawn and epoch 2 runs: stop it
        screenshot(page, "model_training.png")
        try:
            stop.click(timeout=5_000)
        except PlaywrightError:  # the run ended between the look and the click (a fast machine): fine
            pass
    done.first.wait_for(timeout=TRAIN_MS)
    wait_idle(page)

    status = done.first.inner_text()
    assert "Finished" in status or "Stopped" in status, status
    assert run_curves(page) == 1, "no loss curve of the new run"
    sidebar = page.locator('[data-testid="stSidebar"]')
    anyway = page.get_by_role("button", name="Use the new model anyway")

    use_it = page.get_by_role("button", name="Use it", exact=True)
    # Offered, not imposed: unless it is clearly better on the same test signals, the new model
    # waits beside the one in use (with both gains) until the user takes it.
    poll("the new model offered or put in use", lambda: use_it.count() or anyway.count()
         or "clearly better" in page.locator("body").inner_text())
    if use_it.count():
        assert "Model in use: bundled (automatic)" in sidebar.inner_text()
        assert "is ready, not in use" in page.locator("body").inner_text()
        screenshot(page, "model_offer.png")

    def in_use() -> bool:
        # A model stopped after one epoch can be worse than its input: the app then keeps the
        # previous model and offers this one explicitly. Take it, as a user would to inspect it.
        for button in (anyway, use_it):
            if button.count():
                button.first.click()
                wait_idle(page)
                break
        return "epoch" in sidebar.inner_text() and "bundled" not in sidebar.inner_text()

    poll("the new model in use (sidebar)", in_use)
    shown = metrics(page, "Gain on the test split")
    assert "dB" in shown["Gain on the test split"], shown

    with page.expect_download() as info:
        page.get_by_role("button", name="Download this model (.keras)").click()
    data = Path(info.value.path()).read_bytes()
    assert data[:2] == b"PK" and len(data) > 10_000, "a .keras file is a zip archive with the weights"
    assert_healthy(page)
    screenshot(page, "model.png")


def test_upload_then_compare_downloads_denoised_csv(page, tmp_path: Path) -> None:  # noqa: ANN001
    """Upload a semicolon/decimal-comma file → pick two columns → Compare (same session) with a typed sigma
    → the denoised CSV comes back in the file's own form (';', decimal commas, what was applied in '#'
    lines, the filled gap empty and flagged), the network really removed noise, and the page's Python
    script, run on the original file, makes the same file (issue 19, items 1 and 4)."""
    csv_path = tmp_path / "sensor_log.csv"
    written = sensor_csv(csv_path)
    open_page(page, "/upload", expect="No data yet")
    upload(page, csv_path)

    picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Column(s) to denoise")
    picker.locator("input").click()
    page.keyboard.type("sensor_b")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    poll("sensor_b to be picked", lambda: "sensor_b" in picker.inner_text() and "sensor_a" in picker.inner_text())
    wait_idle(page)

    go(page, "Compare", expect="Downloads")
    wait_for_text(page, "Metrics against the clean reference")  # clean_a was recognised
    assert page.get_by_role("radio", name="Uploaded data").is_checked(), "Compare should show the upload"
    assert len(plot_lines(page)) >= 3, "noisy, clean and network traces"
    page.locator('[data-testid="stRadio"]').filter(has_text="Noise level").get_by_text("I know sigma").click()
    box = page.get_by_role("spinbutton", name="Noise sigma (in the data's units)")
    box.wait_for()
    box.fill("0.2")
    box.press("Enter")
    poll("the typed sigma in use", lambda: "given: 0.2" in page.locator('[data-testid="stMain"]').inner_text())
    wait_idle(page)
    assert_healthy(page)
    screenshot(page, "compare.png")

    with page.expect_download() as info:
        page.get_by_role("button", name="Denoised CSV").click()
    download = info.value
    assert download.suggested_filename == "sensor_log_denoised.csv"
    data = Path(download.path()).read_bytes()
    text = data.decode("utf-8")
    lines = text.splitlines()
    comments = [line for line in lines if line.startswith("#")]
    assert comments[0].startswith("# Denoised with denoiser ") and len(comments) == 4, comments
    assert "(given: 0.2)" in comments[1] and comments[1].startswith("# sensor_a: ")
    assert "(estimated from the data)" in comments[2] and comments[2].startswith("# sensor_b: ")
    rows = list(csv.reader(io.StringIO("\n".join(lines[len(comments):])), delimiter=";"))  # the file's own ';'
    header, body = rows[0], rows[1:]
    assert header == ["time_s", "sensor_a", "sensor_b", "clean_a", "sensor_a_denoised", "sensor_b_denoised",
                      "sensor_a_filled"], header
    assert len(body) == 400 and body[1][0] == "0,5" and "." not in "".join(body[1])   # decimal commas
    assert body[10][1] == "" and body[10][-1] == "1" and body[11][-1] == "0"   # the gap: as it came, flagged
    table = {name: np.array([float(r[i].replace(",", ".")) if r[i] else np.nan for r in body])
             for i, name in enumerate(header)}
    assert np.allclose(table["time_s"], written["time_s"])
    assert all(math.isfinite(v) for v in table["sensor_a_denoised"])
    err_noisy = np.nanmean((table["sensor_a"] - written["clean_a"]) ** 2)
    err_denoised = np.mean((table["sensor_a_denoised"] - written["clean_a"]) ** 2)
    assert err_denoised < err_noisy, (err_noisy, err_denoised)

    with page.expect_download() as info:
        page.get_by_role("button", name="Python script").click()
    work = tmp_path / "script_run"
    work.mkdir()
    (work / "sensor_log.csv").write_bytes(csv_path.read_bytes())
    (work / "reproduce.py").write_bytes(Path(info.value.path()).read_bytes())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "reproduce.py"], cwd=work, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    made = (work / "sensor_log_denoised.csv").read_bytes()
    from denoiser.io import read_series

    mine, theirs = read_series(made), read_series(data)
    assert made.splitlines()[:2] == data.splitlines()[:2] and list(mine.values.columns) == list(theirs.values.columns)
    for name in theirs.values.columns:   # to the file's last digit (the network is float32)
        np.testing.assert_allclose(mine.column(name), theirs.column(name), rtol=0, atol=1.01e-6)
    assert_healthy(page)


# ------------------------------------------------------------------ many users, hostile files
def assert_nothing_of(page, secrets: tuple[str, ...], where: str) -> None:  # noqa: ANN001
    """None of ``secrets`` anywhere in the page's DOM (text, attributes, sidebar, hidden tabs)."""
    html = page.content()
    leaked = [s for s in secrets if s in html]
    assert not leaked, f"{where}: this session shows another session's {leaked}"


def test_two_sessions_at_once_see_only_their_own_data_and_model(new_page, tmp_path: Path) -> None:  # noqa: ANN001
    """Many users on one server: session A uploads a file and trains; session B, open at the same time,
    never sees A's file, columns, model or run (Upload, sidebar, Compare, Model), during A's run or
    after it. 20 epochs at most on 3000 signals, so the run is still going while B looks; A then stops it."""
    from playwright.sync_api import Error as PlaywrightError

    secret_file = tmp_path / "private_lab_A.csv"
    numeric_csv(secret_file, ["secret_alpha", "secret_beta"])
    secrets = ("secret_alpha", "secret_beta", "private_lab_A")

    a = new_page("a")
    open_page(a, "/upload", expect="No data yet", timeout=FIRST_PAINT_MS)
    upload(a, secret_file)
    assert "Uploaded data: private_lab_A.csv" in sidebar_text(a)

    b = new_page("b")  # a second user arrives while A has data
    open_page(b, "/upload", expect="No data yet", timeout=FIRST_PAINT_MS)
    assert_nothing_of(b, secrets, "B's Upload page (A has data)")

    go(a, "Model", expect="Model in use", timeout=FIRST_PAINT_MS)
    start_training(a, epochs=20, signals=3000)
    a_progress, a_stop, a_done = (a.locator('[data-testid="stProgress"]'), a.get_by_role("button", name=STOP_LABEL),
                                  training_ended(a))
    poll("A's run to start", lambda: a_progress.count() or a_done.count() or a.locator(ERROR_ALERT).count()
         or a.locator(EXCEPTION).count(), TRAIN_MS)
    assert_healthy(a)
    assert a_progress.count(), "A's run ended before B could look"

    # ---- B looks everywhere while A trains
    go(b, "Model", expect="Model in use")
    assert b.get_by_role("heading", name="Training run").count() == 0, "B's Model page shows a training run"
    assert b.locator('[data-testid="stProgress"]').count() == 0
    assert b.get_by_role("button", name=STOP_LABEL).count() == 0
    b.get_by_role("tab", name="Train a new model").click()
    assert b.get_by_role("button", name="Start training").is_enabled(), "B is blocked by A's run"
    assert b.get_by_text("A training run is in progress").count() == 0
    b_sidebar = sidebar_text(b)
    assert "Model in use: bundled (automatic)" in b_sidebar, b_sidebar
    assert "Uploaded data" not in b_sidebar and "Training" not in b_sidebar, b_sidebar
    assert len(model_options(b)) == 1, "B's model list has more than the bundled models"
    assert_nothing_of(b, secrets, "B's Model page (A trains)")
    assert a_stop.count() and not a_done.count(), "A's run ended while B looked: make it longer"

    go(b, "Compare", expect="Downloads")
    assert b.get_by_role("radio", name="Uploaded data").count() == 0, "B's Compare offers uploaded data"
    assert b.get_by_text("Data: generated signal").count() == 1
    assert_nothing_of(b, secrets, "B's Compare page (A trains)")
    assert_healthy(b)

    go(b, "Upload", expect="No data yet")
    assert b.get_by_text("Read:").count() == 0, "B's Upload page shows a read report"
    assert_nothing_of(b, secrets, "B's Upload page (A trains)")
    assert_healthy(b)
    screenshot(b, "isolation_b.png")

    # ---- A stops its run (or it has ended) and keeps its data and model
    if a_stop.count():
        screenshot(a, "isolation_a_training.png")
        try:
            a_stop.click(timeout=5_000)
        except PlaywrightError:  # the run ended between the look and the click: fine
            pass
    a_done.first.wait_for(timeout=TRAIN_MS)
    wait_idle(a)
    assert_healthy(a)
    assert "Uploaded data: private_lab_A.csv" in sidebar_text(a)
    a_models = model_options(a)
    assert len(a_models) == 2 and "epoch" in a_models[1], a_models
    screenshot(a, "isolation_a.png")

    # ---- B, after A's run: still nothing of A's
    go(b, "Model", expect="Model in use")
    assert b.get_by_role("heading", name="Training run").count() == 0
    assert "Model in use: bundled (automatic)" in sidebar_text(b)
    assert model_options(b) == [a_models[0]], "B's model list has A's model"
    assert b.get_by_role("button", name="Download this model (.keras)").count() == 0
    assert_nothing_of(b, secrets + (a_models[1],), "B's Model page (A's run ended)")
    assert_healthy(b)


def test_bad_file_keeps_the_data_already_loaded(page, tmp_path: Path) -> None:  # noqa: ANN001
    """A good CSV, then a PNG named bad.csv and an empty file through the same file input: each gives
    a specific error message, no traceback, and the good data stays loaded (report, sidebar, Compare)."""
    good = tmp_path / "sensor_log.csv"
    sensor_csv(good)
    open_page(page, "/upload", expect="No data yet")
    upload(page, good)

    bad = [("bad.csv", page.screenshot(), "The file 'bad.csv' looks like a PNG image, not a CSV text file."),
           ("empty.csv", b"", "The file 'empty.csv' is empty.")]  # phrases of denoiser/io/guards.py's _check_magic
    for name, data, phrase in bad:
        send_file(page, name, data)
        alert = page.locator('[data-testid="stAlert"]').filter(has_text=phrase)
        alert.or_(page.locator(EXCEPTION)).first.wait_for()
        assert_no_exception(page)
        wait_idle(page)
        assert alert.locator(ERROR_ALERT).count() == 1, "shown as an error"
        shown = page.locator(ERROR_ALERT).all_inner_texts()
        assert len(shown) == 1, f"one message, the latest: {shown}"
        text = alert.inner_text()
        assert "Your previous data (sensor_log.csv) is still loaded." in text, text
        page.get_by_text("Read: sensor_log.csv").wait_for()
        assert number(metrics(page, "Rows")["Rows"]) == 400
        assert "Uploaded data: sensor_log.csv" in sidebar_text(page)
        assert not page.js_errors, page.js_errors
        screenshot(page, f"upload_bad_{name.split('.')[0]}.png")

    go(page, "Compare", expect="Downloads")
    wait_for_text(page, "Metrics against the clean reference")
    assert page.get_by_role("radio", name="Uploaded data").is_checked(), "Compare should still show the upload"
    column = page.get_by_role("combobox", name="Column").input_value()
    assert column == "sensor_a", column
    assert_healthy(page)


def test_hostile_column_names_are_text_and_neutralised_in_the_download(page, tmp_path: Path) -> None:  # noqa: ANN001
    """Column names with HTML/script and a spreadsheet formula: shown literally, never run (no dialog,
    no <script> element), and the denoised CSV from Compare has the formula cells prefixed with ' ."""
    script, formula = "<script>alert(1)</script>", "=cmd|' /C calc'!A0"
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    path = tmp_path / "hostile_header.csv"
    numeric_csv(path, [script, formula])
    open_page(page, "/upload", expect="No data yet")
    upload(page, path)
    assert number(metrics(page, "Value columns")["Value columns"]) == 2
    pick_column(page, formula)

    def injected() -> dict[str, object]:
        return page.evaluate("""() => ({
            scripts: [...document.querySelectorAll('script')].filter(s => s.textContent.includes('alert(1)')).length,
            raw: document.querySelector('[data-testid="stMain"]').innerHTML.includes('<script>alert(1)') })""")

    for text in (script, formula):
        assert page.get_by_text(text).first.is_visible(), f"{text!r} is not shown as text"
    assert injected() == {"scripts": 0, "raw": False}
    assert_healthy(page)
    screenshot(page, "upload_hostile_header.png")

    go(page, "Compare", expect="Downloads")
    assert page.get_by_role("combobox", name="Column").input_value() == script
    assert injected() == {"scripts": 0, "raw": False}
    with page.expect_download() as info:
        page.get_by_role("button", name="Denoised CSV").click()
    download = info.value
    assert download.suggested_filename == "hostile_header_denoised.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO("".join(line for line in text.splitlines(keepends=True)
                                               if not line.startswith("#")))))   # what was applied: '#' lines
    assert text.startswith("# Denoised with denoiser ")
    header = rows[0]
    assert header == ["time_s", script, "'" + formula, f"{script}_denoised", f"'{formula}_denoised"], header
    assert not [c for c in header if c.startswith(("=", "+", "-", "@"))], header
    assert len(rows) == 301 and all(math.isfinite(float(v)) for v in rows[1][1:]), rows[1]
    assert dialogs == [], f"a dialog opened: {dialogs}"
    assert_healthy(page)


def test_markdown_images_in_file_text_make_no_request(page, tmp_path: Path) -> None:  # noqa: ANN001
    """Issue 9: a Markdown image in a column name, a file name and a model's description (train_info.data)
    is shown as text; the browser makes no request for it. The image points only at a loopback address
    nothing listens on (127.0.0.2:9) and at a relative x.png; every such request is caught and aborted."""
    from tests.hostile import craft

    image = craft.MARKDOWN_IMAGE
    caught: list[str] = []
    page.context.route("http://127.0.0.2:9/**", lambda route: (caught.append(route.request.url), route.abort()))
    page.context.route("**/x.png", lambda route: (caught.append(route.request.url), route.abort()))
    seen: list[str] = []
    page.on("request", lambda req: seen.append(req.url))

    def no_image_anywhere(where: str) -> None:
        imgs = page.evaluate("""() => [...document.querySelectorAll('img')].map(i => i.src)
                                      .filter(s => s.includes('x.png') || s.includes('127.0.0.2'))""")
        assert imgs == [], f"{where}: <img> elements for the file's image: {imgs}"
        leaked = [u for u in seen if "x.png" in u or "127.0.0.2" in u]
        assert caught == [] and leaked == [], f"{where}: requests for the file's image: {caught or leaked}"

    rows = "\n".join(f"{i},{math.sin(i / 7):.4f}" for i in range(300))
    data = f"time {image},value {image}\n{rows}\n".encode()
    open_page(page, "/upload", expect="No data yet")
    name = "![c](x.png).csv"
    send_file(page, name, data)
    wait_for_text(page, f"Read: {name}")
    assert page.get_by_text(f"time {image}").first.is_visible(), "the time column's name is not shown as text"
    assert name in sidebar_text(page)
    no_image_anywhere("Upload")

    model = craft.with_meta(craft.base_model(), lambda m: m["train_info"].update(data=f"{image} data"))
    go(page, "Model", expect="Model in use")
    page.get_by_role("tab", name="Upload a model file").click()
    model_name = "![m](x.png).keras"
    page.locator(UPLOAD_INPUT).first.set_input_files(
        {"name": model_name, "mimeType": "application/octet-stream", "buffer": model})
    wait_for_text(page, f"Trained on: {image} data")
    assert f"Uploaded: {model_name}" in sidebar_text(page)
    no_image_anywhere("Model")
    assert_healthy(page)
    go(page, "Compare", expect="Downloads")  # the column and the model's name in its captions
    assert page.get_by_role("combobox", name="Column").input_value() == f"value {image}"
    assert page.get_by_text(f"your model: Uploaded: {model_name}").first.is_visible()
    no_image_anywhere("Compare")
    assert_healthy(page)
    screenshot(page, "markdown_images_as_text.png")


# ------------------------------------------------------------------ issue 11: a newcomer's first hour
def column_chips(page) -> list[str]:  # noqa: ANN001
    """The chips of the Upload page's "Column(s) to denoise" (what the user sees is picked)."""
    picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Column(s) to denoise")
    picker.wait_for()
    lines = [line.strip() for line in picker.inner_text().splitlines() if line.strip()]
    return [line for line in lines[1:] if line not in ("Choose options", "No results")]  # after the label


POINTS_JS = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')].map(
    el => (el._fullData || el.data || []).reduce((n, t) => n + (t._length || (t.x && t.x.length) || 0), 0))"""


def chart_points(page) -> list[int]:  # noqa: ANN001
    """Points held by each Plotly chart in the tab (every trace's x values, counted in the browser)."""
    return page.evaluate(POINTS_JS)


def headerless_csv(path: Path, rows: int = 300) -> None:
    """No header; the first column is the sample index 0, 1, 2, ... (the axis, not a signal)."""
    rng = np.random.default_rng(5)
    lines = [f"{i},{math.sin(i / 15) + rng.normal(0, 0.1):.5f},{math.cos(i / 9):.5f}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_switching_files_the_column_chips_follow(page, tmp_path: Path) -> None:  # noqa: ANN001
    open_page(page, "/upload", expect="Or try a sample", timeout=FIRST_PAINT_MS)
    sensors = tmp_path / "sensors.csv"
    sensor_csv(sensors)
    upload(page, sensors)
    poll("sensor_a chosen", lambda: column_chips(page) == ["sensor_a"])
    headerless = tmp_path / "counts.csv"
    headerless_csv(headerless)
    upload(page, headerless)
    # The chips name the new file's signal (not its index column, not sensor_a of the first file)
    poll("col2 chosen", lambda: column_chips(page) == ["col2"])
    assert "time column 'col1'" in page.locator('[data-testid="stMain"]').inner_text()
    assert "Clean reference for 'col2'" in page.locator('[data-testid="stMain"]').inner_text()
    page.get_by_role("button", name="Two sensors").click()
    wait_for_text(page, "Read: two_sensors.csv")
    poll("sensor_a chosen after the sample", lambda: column_chips(page) == ["sensor_a"])
    # The uploader was emptied, so the earlier file can be chosen again, and it is read again
    uploader = page.locator('[data-testid="stFileUploader"]').first
    assert "counts.csv" not in uploader.inner_text()
    upload(page, headerless)
    poll("col2 chosen again", lambda: column_chips(page) == ["col2"])
    assert_healthy(page)
    screenshot(page, "upload_columns.png")


def test_a_shared_url_reproduces_the_state_in_a_second_context(new_page) -> None:  # noqa: ANN001
    a = new_page("a")
    open_page(a, "/generate", expect="Generate a signal", timeout=FIRST_PAINT_MS)
    metrics(a, "MSE (network)")
    shared = a.locator('[data-testid="stSidebar"] [data-testid="stCode"]').first

    def link() -> str:
        return shared.inner_text().strip()

    seed = a.get_by_label("Seed", exact=True)
    seed.fill("42")
    seed.press("Enter")
    poll("the seed in the link", lambda: "gen_seed=42" in link())
    wait_idle(a)
    family = a.get_by_role("combobox", name="Signal family")
    family.click()
    a.get_by_role("option", name="Sums of sines").click()
    poll("the family in the link", lambda: "gen_family=sines" in link())
    wait_idle(a)
    # Issue 19: the headline choice is in the link too, and stays there when the user moves on to Compare.
    a.locator('[data-testid="stRadio"]').filter(has_text="Headline result").get_by_text(
        "Automatic (no-harm check)").click()
    poll("the headline in the link", lambda: "gen_method=auto" in link())
    wait_idle(a)
    shown_a = metrics(a, "MSE (automatic)", "MAE (automatic)", "Gain (automatic)", "Gain (network)")
    url = link()
    assert url.startswith(a.app_url) and "model=bundled" in url, url
    # the address bar itself carries the same settings (page.url lags behind history.pushState)
    poll("the address bar", lambda: a.evaluate("location.href") == url)
    go(a, "Compare", expect="Downloads")
    poll("the link on Compare", lambda: "/compare?" in link())
    url = link()
    assert "gen_method=auto" in url and "gen_family=sines" in url and "gen_seed=42" in url, url

    b = new_page("b")  # another browser context: another session, nothing shared but the link
    b.goto(url)
    wait_for_text(b, "Downloads", FIRST_PAINT_MS)
    go(b, "Generate", expect="Generate a signal")
    wait_idle(b)
    shown_b = metrics(b, *shown_a)  # every card A showed (the browser may paint the last one late)
    assert shown_b == shown_a, (shown_a, shown_b)
    assert b.get_by_label("Seed", exact=True).input_value() == "42"
    assert b.get_by_role("radio", name="Automatic (no-harm check)").is_checked()
    b_link = b.locator('[data-testid="stSidebar"] [data-testid="stCode"]').first.inner_text().strip()
    gen = lambda u: sorted(p for p in u.split("?")[1].split("&") if p.startswith("gen_"))  # noqa: E731
    assert gen(b_link) == gen(url), (b_link, url)   # the same Generate settings, headline included
    assert_healthy(b)
    screenshot(b, "shared_link.png")


FONT_JS = """sel => [...document.querySelectorAll(sel)].map(e => parseFloat(getComputedStyle(e).fontSize))"""


def above_the_fold(page, name: str) -> bool:  # noqa: ANN001
    """Whether the button ``name`` is on the first screen, whole (no scrolling needed)."""
    box = page.get_by_role("button", name=name).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]


def at_size(page, width: int, height: int) -> None:  # noqa: ANN001
    """Resize the window and wait for the page to lay itself out again."""
    page.set_viewport_size({"width": width, "height": height})
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def test_the_lesson_steps_and_projection(page) -> None:  # noqa: ANN001
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
    ticks = lambda: page.evaluate(FONT_JS, '[data-testid="stPlotlyChart"] .xtick text')  # noqa: E731
    labels = lambda: page.evaluate(FONT_JS, '[data-testid="stWidgetLabel"] p')  # noqa: E731
    small_ticks, small_labels = max(ticks()), max(labels())
    page.get_by_text("Projection mode").click()
    poll("the sidebar hidden", lambda: not page.locator('[data-testid="stSidebar"]').is_visible())
    wait_idle(page)
    poll("the charts redrawn large", lambda: ticks() and min(ticks()) >= 20)
    assert min(labels()) >= 20 > small_labels and small_ticks < 20, (small_ticks, small_labels, labels())
    legend = page.evaluate(FONT_JS, '[data-testid="stPlotlyChart"] .legendtext')
    assert legend and min(legend) >= 20, legend
    assert "learn_step=7" in page.evaluate("location.href") and "learn_projection=true" in page.evaluate(
        "location.href")
    assert_healthy(page)
    screenshot(page, "learn_projection.png")
    at_size(page, 1280, 720)
    page.get_by_role("radio", name="1. Noise, MSE and MAE").click()
    wait_for_text(page, "Step 1 of 7")
    assert above_the_fold(page, "Next"), "Next is below the fold at 1280x720 in projection mode"
    page.screenshot(path=str(ARTIFACTS / "learn_projection_1280x720.png"))


FIT_JS = """() => [...document.querySelectorAll('[data-testid="stMetric"]')].map(card => {
    const parts = [...card.querySelectorAll('[data-testid="stMetricValue"] div, [data-testid="stMetricDelta"] div')];
    const cut = parts.filter(e => e.scrollWidth > e.clientWidth + 1 || e.innerText.includes('…'));
    return cut.map(e => e.innerText); }).flat()"""


def test_metric_cards_fit_at_common_screen_sizes(page) -> None:  # noqa: ANN001
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


def test_a_link_to_an_upload_the_recipient_lacks(page) -> None:  # noqa: ANN001
    """A link made after an upload (data=upload, the sender's sigma 12.77) opened in a fresh browser: one
    line says the file is missing, the generated signal is shown, and the sender's sigma is not applied."""
    open_page(page, "/compare?data=upload&cmp_noise_mode=given&cmp_sigma=12.77&cmp_method=auto&model=bundled",
              expect="Downloads", timeout=FIRST_PAINT_MS)
    main = page.locator('[data-testid="stMain"]')
    assert "This link refers to an uploaded file you don't have" in main.inner_text()
    assert "σ 12.77" in sidebar_text(page)
    assert page.get_by_role("radio", name="Generated signal").count() == 0 or page.get_by_role(
        "radio", name="Generated signal").is_checked()
    assert page.get_by_role("radio", name="Estimate it from the data").is_checked()
    sigma = metrics(page, "Noise level σ")["Noise level σ"]
    assert number(sigma) < 1, sigma                      # the x² demo's own level, not the sender's 12.77
    assert "cmp_sigma" not in page.evaluate("location.href")
    assert_healthy(page)
    screenshot(page, "link_without_upload.png")


def test_a_million_row_file_stays_interactive(page, tmp_path: Path) -> None:  # noqa: ANN001
    """Upload preview and Compare on 1,000,448 rows: each chart holds a few thousand points (a min/max-
    preserving downsample), zoom redraws a range at full resolution, the download comes. Timings: bench."""
    big = tmp_path / "big.csv"
    big_csv(big)
    open_page(page, "/upload", expect="Or try a sample", timeout=FIRST_PAINT_MS)
    page.locator(UPLOAD_INPUT).first.set_input_files(str(big))
    wait_for_text(page, "Read: big.csv", FIRST_PAINT_MS)
    page.locator(PLOT).first.locator(".main-svg").first.wait_for()
    wait_idle(page)
    assert metrics(page, "Rows")["Rows"] == "1,000,448"
    points = chart_points(page)
    assert points and min(points) > 0 and max(points) <= 50_000, points
    assert "Showing samples 0 to 1,000,448" in page.locator('[data-testid="stMain"]').inner_text()
    # Zoom with the keyboard on the range's upper end: a narrower range, still within the budget
    go(page, "Compare", expect="Downloads", timeout=FIRST_PAINT_MS)
    page.get_by_role("button", name="Denoised CSV").wait_for(timeout=FIRST_PAINT_MS)
    points = chart_points(page)
    assert points and min(points) > 0 and max(points) <= 50_000, points
    # Zoom by dragging across the chart (box select), twice: 10 % of the file, then 2 % of that
    main = page.locator('[data-testid="stMain"]')
    drag_across(page, 0.40, 0.50)
    poll("a zoomed range", lambda: "Showing samples 0 to" not in main.inner_text(), STEP_MS)
    wait_idle(page)
    drag_across(page, 0.40, 0.42)
    poll("a zoomed range drawn at full resolution", lambda: "every sample" in main.inner_text(), STEP_MS)
    wait_idle(page)
    points = chart_points(page)
    assert points and min(points) > 0 and max(points) <= 50_000, points
    with page.expect_download() as info:
        page.get_by_role("button", name="Denoised CSV").click()
    head = [line for line in Path(info.value.path()).read_text(encoding="utf-8").splitlines()[:8]
            if not line.startswith("#")]
    assert head[0].startswith("time_s,signal,signal_denoised"), head
    assert "short recording" not in main.inner_text()   # issue 19: said of a million samples before
    assert_healthy(page)
    screenshot(page, "compare_big.png")
