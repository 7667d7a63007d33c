"""Fixtures of the end-to-end tests: the running app in a real Chromium, driven by Playwright.

The app is started the way `make run` starts it (`streamlit run app.py`), on a free port, once per
test process (one server for every e2e file a pytest-xdist worker runs); every test opens its own
browser context, so each one is a fresh Streamlit session (fresh ``st.session_state``). Steps that
depend on each other (upload, then download on Compare) run in one test, in one page, moving between
pages with the sidebar links (a URL change would start a new session). Tests of several users at once
take the ``new_page`` factory: each call opens another context, i.e. another session on the same
server, at the same time.

Each test saves a full-page screenshot into ``tests/_artifacts/`` (override with
``DENOISER_SCREENSHOT_DIR``); the server's log is written there too.

Debian's Chromium is used (``/usr/bin/chromium``; Playwright's own download is not needed).
Without it the tests skip, unless ``DENOISER_REQUIRE_BROWSER=1`` (set by CI), which turns the skip
into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.app_timing import (  # one server start for tests and benchmarks
    CHROMIUM_ARGS,
    free_port,
    start_streamlit,
    stop_process,
    wait_health,
)
from tests.e2e.steps import (
    ARTIFACTS,
    STEP_MS,
    VIEWPORT,
    screenshot,
)

CHROMIUM = Path("/usr/bin/chromium")
START_TIMEOUT = 60  # s: the server answers /_stcore/health


# ------------------------------------------------------------------ environment
@pytest.fixture(scope="session")
def browser_required() -> None:
    """Skip when there is no browser to drive; fail instead when the environment demands one (CI)."""
    required = os.environ.get("DENOISER_REQUIRE_BROWSER") == "1"
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} not found (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401 -- only whether it imports
        except ImportError as err:
            problem = f"playwright is not installed ({err})"
    if problem:
        if required:
            pytest.fail(f"DENOISER_REQUIRE_BROWSER=1 but {problem}", pytrace=False)
        pytest.skip(problem)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def app_url(browser_required: None) -> Iterator[str]:
    """The app, started like the README's `make run`, on a free port; stopped (whole group) at the end.
    One server per test process: pytest-xdist's workers each start their own (streamlit-gw0.log, ...)."""
    port = free_port()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    log_path = ARTIFACTS / (f"streamlit-{worker}.log" if worker else "streamlit.log")
    with open(log_path, "wb") as log:
        proc = start_streamlit(port, log)  # own process group: the teardown stops it with all children
    url = f"http://127.0.0.1:{port}"
    try:
        if wait_health(url, proc, timeout=START_TIMEOUT) is None:
            why = (
                f"the app exited with code {proc.returncode}"
                if proc.poll() is not None
                else f"no answer from {url}/_stcore/health within {START_TIMEOUT} s"
            )
            pytest.fail(f"{why}:\n{_tail(log_path)}", pytrace=False)
        yield url
    finally:
        stop_process(proc)


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def browser(browser_required: None):  # playwright's Browser
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _new_page(browser, app_url: str):  # playwright Browser and Page
    """A page in a fresh browser context (so a fresh Streamlit session); script errors are collected."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(STEP_MS)
    pg = context.new_page()
    pg.js_errors = []  # uncaught exceptions in the page's JavaScript
    pg.on("pageerror", lambda err: pg.js_errors.append(str(err)))
    pg.app_url = app_url
    return pg


@pytest.fixture()
def page(browser, app_url: str, request: pytest.FixtureRequest):  # a playwright Page
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
def new_page(browser, app_url: str, request: pytest.FixtureRequest):
    """Several users at once: ``new_page("a")`` opens another browser context, i.e. another
    Streamlit session, each call. All are closed at the end; when the test fails, each one's
    screen is saved as ``<test>-<label>-failed.png``."""
    pages: dict[str, object] = {}
    failed_before = request.session.testsfailed

    def make(label: str):
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
