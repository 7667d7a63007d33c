"""App timing with a real browser: start-up to the home page painted, slider to new metrics.

Chromium (Debian's ``/usr/bin/chromium``, headless) is launched first and kept out of the
timing. Then ``streamlit run app.py`` starts (t = 0); we poll ``/_stcore/health``, open the
page and wait until the home page's title is visible, then until the demo's metrics are
(that needs TensorFlow and a model). On the Generate page, a keyboard step of the "Noise
sigma" slider is timed until the metric values change (median of several steps).

Also checked without a browser: importing the modules app.py and the home page import at
the top must not import TensorFlow (it is needed only when a model runs).

Everything is defensive: a missing app, browser or page element gives "n/a" and the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from typing import Any

import numpy as np

from bench.common import OUT, PY, ROOT, Report, fixed, log

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
METRICS_JS = """() => [...document.querySelectorAll('[data-testid="stMetricValue"]')].map(e => e.innerText).join('|')"""
CHANGED_JS = """(before) => {
  const v = [...document.querySelectorAll('[data-testid="stMetricValue"]')].map(e => e.innerText).join('|');
  return v !== before && v.split('|').length >= 3;
}"""
EXCEPTIONS_JS = (
    """() => [...document.querySelectorAll('[data-testid="stException"]')].map(e => e.innerText.slice(0, 200))"""
)


def find_chromium() -> str | None:
    """Path of the Chromium to drive (BENCH_CHROMIUM, Debian's /usr/bin/chromium, or on PATH), else None."""
    for path in (
        os.environ.get("BENCH_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if path and os.path.exists(path):
            return path
    return None


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_streamlit(
    port: int,
    log: Any,
    *,
    root: Any = ROOT,
    env: dict[str, str | None] | None = None,
    options: tuple[str, ...] = (),
) -> subprocess.Popen:
    """``streamlit run app.py`` as ``make run`` starts it, headless on 127.0.0.1:``port``: the one command line.

    Parameters
    ----------
    port : from :func:`free_port`
    log : an open file the server's output goes to
    root : the checkout to run (its ``app.py``; it is also put on ``PYTHONPATH``)
    env : environment variables to set, or to leave out where the value is None (TensorFlow's log
        level is quiet unless given)
    options : further ``--name value`` Streamlit options, e.g. a session TTL

    Returns
    -------
    the server process, in a session of its own (:func:`stop_process` stops its group)
    """
    return subprocess.Popen(
        [
            PY,
            "-m",
            "streamlit",
            "run",
            str(root / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            *options,
        ],
        cwd=root,
        env={
            k: v
            for k, v in {**os.environ, "PYTHONPATH": str(root), "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}.items()
            if v is not None
        },
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM the process group we started, SIGKILL after 15 s."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_health(url: str, proc: subprocess.Popen, timeout: float) -> float | None:
    """Seconds of polling until /_stcore/health answers 200 (None on timeout or exit)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            return None
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(0.02)
    return None


def import_check(report: Report) -> None:
    """Does importing what app.py and the home page import at the top pull in TensorFlow?"""
    code = (
        "import sys, time, json; t = time.perf_counter(); import streamlit; "
        "import app_pages.ui.runtime, app_pages._training, denoiser.signals, denoiser.metrics; "
        "print(json.dumps({'tf': 'tensorflow' in sys.modules, 'keras': 'keras' in sys.modules, "
        "'s': time.perf_counter() - t}))"
    )
    proc = subprocess.run(
        [PY, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    try:
        res = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        report.target(
            "TensorFlow not imported before it is needed",
            "n/a",
            "not imported by the app's shell",
            None,
            "import failed: " + " | ".join(proc.stderr.strip().splitlines()[-2:]),
        )
        return
    loaded = res["tf"] or res["keras"]
    report.target(
        "TensorFlow not imported before it is needed",
        "imported at start" if loaded else f"not imported (app modules load in {res['s']:.2f} s)",
        "not imported by the app's shell",
        not loaded,
        "modules imported by app.py/home.py at the top: streamlit, app_pages.ui.runtime, app_pages._training, "
        "denoiser.signals/metrics",
    )


def run(quick: bool, report: Report) -> None:
    import_check(report)
    app = ROOT / "app.py"
    reason = None
    if not app.exists():
        reason = "app.py is not there yet"
    chromium = find_chromium()
    if chromium is None:
        reason = "no Chromium found (/usr/bin/chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright (python) is not installed"
    if reason:
        report.target("app: streamlit run -> home title painted", "n/a", "≤ 3 s", None, reason)
        report.target("app: Generate slider -> metrics updated", "n/a", "≤ 0.5 s", None, reason)
        return

    steps = 3 if quick else 7
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    OUT.mkdir(parents=True, exist_ok=True)
    server_log = OUT / "streamlit.log"
    res: dict[str, Any] = {}
    notes: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto("about:blank")  # the browser is warm before the clock starts
        with open(server_log, "w") as logf:
            t0 = time.perf_counter()
            proc = start_streamlit(port, logf)
            try:
                res = _drive(page, proc, url, t0, steps, notes)
            finally:
                stop_process(proc)
        browser.close()

    rows = [
        [k, v]
        for k, v in (
            ("server healthy (/_stcore/health)", fixed(res.get("health"))),
            ("home page title painted", fixed(res.get("title"))),
            ("home demo metrics painted (TensorFlow + model load)", fixed(res.get("demo"))),
            ("Generate page: click -> metrics painted (first visit)", fixed(res.get("generate"))),
            (
                f"Generate: slider step -> metrics changed, median of {len(res.get('slider', []))}",
                fixed(float(np.median(res["slider"]))) if res.get("slider") else "n/a",
            ),
            ("  each step", " / ".join(fixed(v) for v in res.get("slider", [])) or "n/a"),
        )
    ]
    report.table(
        "App timing: Streamlit + headless Chromium (seconds from `streamlit run`)",
        ["moment", "s"],
        rows,
        " ".join(notes) + f" Server log: {server_log.relative_to(ROOT)}.",
    )
    title, slider = res.get("title"), res.get("slider")
    report.target(
        "app: streamlit run -> home title painted",
        f"{title:.2f} s" if title else "n/a",
        "≤ 3 s",
        None if title is None else title <= 3.0,
        res.get("title_error", "") or (f"demo with metrics at {res['demo']:.1f} s" if res.get("demo") else ""),
    )
    med = float(np.median(slider)) if slider else None
    report.target(
        "app: Generate slider -> metrics updated",
        f"{med:.2f} s (median)" if med is not None else "n/a",
        "≤ 0.5 s",
        None if med is None else med <= 0.5,
        res.get("slider_error", "") or (f"max {max(slider):.2f} s over {len(slider)} steps" if slider else ""),
    )


def _drive(page: Any, proc: subprocess.Popen, url: str, t0: float, steps: int, notes: list[str]) -> dict[str, Any]:
    """Open the app and time the moments; errors end up as ``*_error`` entries."""
    from playwright.sync_api import Error as PwError

    res: dict[str, Any] = {}
    log("app: waiting for the server")
    health = wait_health(url, proc, timeout=120)
    if health is None:
        res["title_error"] = res["slider_error"] = "the server did not become healthy (see the server log)"
        return res
    res["health"] = time.perf_counter() - t0
    try:
        page.goto(url, wait_until="commit", timeout=60_000)
        page.locator("h1", has_text="Denoiser").first.wait_for(state="visible", timeout=60_000)
        res["title"] = time.perf_counter() - t0
        page.locator('[data-testid="stMetricValue"]').nth(2).wait_for(state="visible", timeout=180_000)
        res["demo"] = time.perf_counter() - t0
    except PwError as err:
        res.setdefault("title_error", f"home page: {str(err).splitlines()[0][:160]}")
    errors = page.evaluate(EXCEPTIONS_JS)
    if errors:
        notes.append(f"Exceptions on the home page: {errors[0]!r}.")
    log("app: Generate page")
    try:
        t1 = time.perf_counter()
        link = page.locator('[data-testid="stSidebarNavLink"]', has_text="Generate")
        if link.count():
            link.first.click()
        else:
            notes.append("No sidebar link 'Generate': opened /generate directly.")
            page.goto(f"{url}/generate", wait_until="commit")
        page.locator("h1", has_text="Generate").first.wait_for(state="visible", timeout=60_000)
        page.locator('[data-testid="stMetricValue"]').nth(2).wait_for(state="visible", timeout=120_000)
        res["generate"] = time.perf_counter() - t1
        slider = page.locator('[data-testid="stSlider"]', has_text="Noise sigma").first.get_by_role("slider").first
        slider.wait_for(state="attached", timeout=30_000)
        page.wait_for_timeout(1000)  # let the first run settle
        times = []
        for _ in range(steps):
            before = page.evaluate(METRICS_JS)
            slider.focus()
            t = time.perf_counter()
            page.keyboard.press("ArrowRight")
            page.wait_for_function(CHANGED_JS, arg=before, timeout=30_000, polling="raf")
            times.append(time.perf_counter() - t)
            page.wait_for_timeout(400)
        res["slider"] = times
        errors = page.evaluate(EXCEPTIONS_JS)
        if errors:
            notes.append(f"Exceptions on the Generate page: {errors[0]!r}.")
    except PwError as err:
        res["slider_error"] = f"Generate page: {str(err).splitlines()[0][:160]}"
    return res


if __name__ == "__main__":  # python -m bench.app_timing: this section alone
    r = Report("app")
    run(quick=True, report=r)
    for t in r.targets:
        print(t)
