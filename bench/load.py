"""Many users on one server (issue 5): concurrent sessions, and training bounded by the queue.

One ``streamlit run app.py`` on a free loopback port, one headless Chromium, one browser
context per simulated user, all driven at once with Playwright's async API.

* **Home**: 10 sessions (quick 4) open the Home page at the same moment and wait until the
  demo's three metrics (``stMetricValue``) are painted: the demo denoises with a bundled
  model. Round 1 is *cold* (the server has just started: TensorFlow and the model load while
  every session waits), round 2 *warm* (the same again). Per-session seconds, p50 / p95; a
  session that shows an ``stException`` or times out counts as an error.
* **Training**: first one session trains alone (the baseline); then 4 sessions set the
  smallest training the Model form allows (U-Net, window 32, width 8, 1 epoch, 100 synthetic
  signals) and press "Start training" together. Each page is polled every 0.25 s for the
  run's state ("Queued, position N", preparing, epoch progress, finished); we report the
  positions seen, the most runs shown training at once against the configured limit, whether
  all finished, the total time, and one run's time against the baseline. The page redraws the
  run once a second, so one session can still show "training" for up to ~1 s after the next
  one started: an overlap shorter than ``LAG_S`` is counted as display lag, not as two runs.

Everything has a timeout; the server and the browser are always stopped. Measures and reports;
nothing asserts on time.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.app_timing import (
    CHROMIUM_ARGS,
    EXCEPTIONS_JS,
    find_chromium,
    free_port,
    start_streamlit,
    stop_process,
    wait_health,
)
from bench.common import OUT, ROOT, Report, fixed, log

LAG_S = 1.5  # Model page redraws the run every 1 s (+ our 0.25 s polling)
POLL_S = 0.25
VIEWPORT = {"width": 1280, "height": 900}
METRICS_OR_ERROR_JS = """() => {
  const vals = [...document.querySelectorAll('[data-testid="stMetricValue"]')].filter(e => e.innerText.trim());
  return vals.length >= 3 || document.querySelector('[data-testid="stException"]') !== null;
}"""
CAPTION_JS = """() => ([...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
  .map(e => e.innerText).find(t => t.startsWith('Denoised by')) || '')"""
STATE_JS = """() => document.body.innerText"""


# ------------------------------------------------------------------ server + browser (shared with soak.py)
@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    health_s: float | None
    log_path: Path

    def rss_mb(self, key: str = "VmRSS") -> float:
        """Resident memory of the server process (MB) from /proc/<pid>/status; NaN when unreadable."""
        return proc_status_mb(self.proc.pid, key)


def proc_status_mb(pid: int, key: str = "VmRSS") -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return float(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


@contextmanager
def streamlit_server(log_name: str, health_timeout: float = 120.0) -> Iterator[Server]:
    """``streamlit run app.py`` on a free loopback port; always stopped (its whole process group) on exit."""
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = OUT / log_name
    with open(log_path, "w") as logf:
        proc = start_streamlit(port, logf)
        log(f"streamlit pid {proc.pid} on {url}")
        try:
            yield Server(proc, url, wait_health(url, proc, timeout=health_timeout), log_path)
        finally:
            stop_process(proc)


def browser_missing() -> str | None:
    """Why the browser part cannot run, or None."""
    if not (ROOT / "app.py").exists():
        return "app.py is not there"
    if find_chromium() is None:
        return "no Chromium found (/usr/bin/chromium)"
    try:
        import playwright.async_api  # noqa: F401 -- only whether it imports
    except ImportError:
        return "playwright (python) is not installed"
    return None


def short(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:160] if text else ''}"


def pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


# ------------------------------------------------------------------ the Model page's training form
async def fill_tiny_training(page: Any, timeout_ms: int) -> dict[str, str]:
    """On an open Model page: the Train tab, and the smallest settings the form allows. Returns them as shown."""
    await page.get_by_role("tab", name="Train a new model").click(timeout=timeout_ms)
    shown: dict[str, str] = {}
    for label in ("Window", "Width"):  # select_sliders: the smallest number (past an "auto" option)
        box = page.locator('[data-testid="stSlider"]', has_text=label).first
        thumb = box.get_by_role("slider").first
        value = box.locator('[data-testid="stSliderThumbValue"]').first
        await thumb.focus(timeout=timeout_ms)
        for _ in range(10):
            await page.keyboard.press("ArrowLeft")
        for _ in range(10):
            shown[label.lower()] = (await value.inner_text(timeout=timeout_ms)).strip()
            if shown[label.lower()].isdigit():
                break
            await page.keyboard.press("ArrowRight")
    for label, value in (("Epochs (at most)", "1"), ("Synthetic signals", "100")):
        box = page.locator(f'input[aria-label="{label}"]').first
        await box.fill(value, timeout=timeout_ms)
        await box.press("Tab")
        shown[label.split(" ")[0].lower()] = await box.input_value(timeout=timeout_ms)
    return shown


def start_button(page: Any) -> Any:
    return page.locator('[data-testid="stFormSubmitButton"] button', has_text="Start training").first


def run_state(text: str) -> tuple[str, int | None]:
    """The training run's state as the Model page shows it (main area, not the sidebar badge)."""
    m = re.search(r"Queued, position (\d+)", text)
    if m:
        return "queued", int(m.group(1))
    if "Preparing the training data" in text:
        return "preparing", None
    if re.search(r"Epoch \d+ of at most", text):
        return "training", None
    if re.search(r"Finished: \d+ epochs? in", text):
        return "finished", None
    if "Training failed" in text or "Cancelled while waiting" in text:
        return "failed", None
    if re.search(r"Stopped after (epoch )?\d+", text):
        return "stopped", None
    return "none", None


# ------------------------------------------------------------------ part 1: many sessions open Home
async def _home_session(browser: Any, url: str, go: asyncio.Event, timeout_ms: int) -> dict[str, Any]:
    from playwright.async_api import Error as PwError

    res: dict[str, Any] = {"s": None, "error": None, "model": ""}
    ctx = await browser.new_context(viewport=VIEWPORT)
    try:
        page = await ctx.new_page()
        await go.wait()
        t0 = time.perf_counter()
        try:
            await page.goto(url, wait_until="commit", timeout=timeout_ms)
            await page.wait_for_function(METRICS_OR_ERROR_JS, timeout=timeout_ms, polling=100)
            elapsed = time.perf_counter() - t0
            errors = await page.evaluate(EXCEPTIONS_JS)
            if errors:
                res["error"] = f"exception on the page: {errors[0][:160]!r}"
            else:
                res["s"] = elapsed
                res["model"] = await page.evaluate(CAPTION_JS)
        except PwError as err:
            res["error"] = f"after {time.perf_counter() - t0:.0f} s: {short(err)}"
    finally:
        await ctx.close()
    return res


async def _home_round(browser: Any, url: str, n: int, timeout_ms: int) -> tuple[list[dict[str, Any]], float]:
    go = asyncio.Event()
    tasks = [asyncio.create_task(_home_session(browser, url, go, timeout_ms)) for _ in range(n)]
    await asyncio.sleep(1.0)  # contexts and pages created; now all at once
    t0 = time.perf_counter()
    go.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    wall = time.perf_counter() - t0
    return [r if isinstance(r, dict) else {"s": None, "error": short(r), "model": ""} for r in results], wall


# ------------------------------------------------------------------ part 2: many sessions press "Start training"
async def _train_session(
    browser: Any, url: str, ready: list[int], go: asyncio.Event, timeout_s: float
) -> dict[str, Any]:
    from playwright.async_api import Error as PwError

    res: dict[str, Any] = {"timeline": [], "settings": {}, "error": None, "final": "none", "clicked": None}
    ctx = await browser.new_context(viewport=VIEWPORT)
    try:
        page = await ctx.new_page()
        try:
            await page.goto(f"{url}/model", wait_until="commit", timeout=int(timeout_s * 1000))
            await page.locator("h1", has_text="Model").first.wait_for(state="visible", timeout=int(timeout_s * 1000))
            res["settings"] = await fill_tiny_training(page, 30_000)
        except Exception as err:  # noqa: BLE001 - reported; the other sessions go on
            res["error"] = f"setting up: {short(err)}"
        ready.append(1)  # set up (or failed); all press together once every session is here
        await go.wait()
        if res["error"]:
            return res
        try:
            await start_button(page).click(timeout=10_000)
            res["clicked"] = time.perf_counter()
            deadline = res["clicked"] + timeout_s
            last = None
            while time.perf_counter() < deadline:
                text = await page.evaluate(STATE_JS)
                state = run_state(text)
                if state != last:
                    res["timeline"].append((time.perf_counter(), *state))
                    last = state
                if state[0] in ("finished", "failed", "stopped"):
                    break
                await asyncio.sleep(POLL_S)
            res["final"] = last[0] if last else "none"
            res["stopped_at"] = time.perf_counter()
            if res["final"] == "finished":
                await page.wait_for_timeout(1000)  # the page reruns and shows the new model: any exception?
            errors = await page.evaluate(EXCEPTIONS_JS)
            if errors:
                res["error"] = f"exception on the page: {errors[0][:160]!r}"
            elif res["final"] in ("queued", "preparing", "training", "none"):
                res["timed_out"] = True
                res["error"] = f"still {res['final']} at the time limit ({time.perf_counter() - res['clicked']:.0f} s)"
            elif res["final"] != "finished":
                res["error"] = f"ended as {res['final']!r} after {time.perf_counter() - res['clicked']:.0f} s"
        except PwError as err:
            res["error"] = f"training: {short(err)}"
    finally:
        await ctx.close()
    return res


def overlap_stats(sessions: list[dict[str, Any]], limit: int) -> tuple[int, float]:
    """Most sessions shown preparing/training at one time, and the seconds during which more than ``limit`` were."""
    events = sorted({t for s in sessions for t, *_ in s["timeline"]})
    if not events:
        return 0, 0.0

    def active(s: dict[str, Any], t: float) -> bool:
        cur = None
        for te, state, _ in s["timeline"]:
            if te <= t:
                cur = state
        return cur in ("preparing", "training")

    counts = [sum(active(s, t) for s in sessions) for t in events]
    over = sum(t1 - t0 for t0, t1, c in zip(events, events[1:], counts) if c > limit)
    return max(counts), over


def configured_slots() -> tuple[int, str]:
    """How many runs may train at once in the app's process-wide queue (the app's own constructor, not a guess)."""
    try:
        import logging

        logging.getLogger("streamlit").setLevel(logging.ERROR)  # "no runtime" warnings outside a server
        from app_pages import _training

        return _training.training_slots(), "from app_pages/_training.training_slots() (what training_queue() uses)"
    except Exception as err:  # noqa: BLE001 - the figure is reported, not judged, when it cannot be read
        return 1, f"assumed 1 (could not read the app's queue: {type(err).__name__})"


# ------------------------------------------------------------------ the section
async def _train_group(browser: Any, url: str, n: int, timeout_s: float) -> tuple[list[dict[str, Any]], float]:
    """``n`` sessions set up the form, then press "Start training" at the same moment; t0 is that moment."""
    ready: list[int] = []
    go = asyncio.Event()
    tasks = [asyncio.create_task(_train_session(browser, url, ready, go, timeout_s)) for _ in range(n)]
    t_ready = time.perf_counter()
    while len(ready) < n and time.perf_counter() - t_ready < 90 and not all(t.done() for t in tasks):
        await asyncio.sleep(0.05)
    go.set()
    t0 = time.perf_counter()
    res = await asyncio.gather(*tasks, return_exceptions=True)
    return [
        r
        if isinstance(r, dict)
        else {"timeline": [], "settings": {}, "error": short(r), "final": "none", "clicked": None}
        for r in res
    ], t0


async def _drive(server: Server, quick: bool, n_home: int, n_train: int, deadline: float) -> dict[str, Any]:
    """Cold and warm Home rounds, one training alone (the baseline), then n_train sessions training together."""
    from playwright.async_api import async_playwright

    out: dict[str, Any] = {"cold": None, "solo": None, "train": None, "warm": None}
    home_timeout = 75 if quick else 150
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        try:
            for rnd in ("cold", "warm"):
                left = deadline - time.perf_counter()
                if left > 20:
                    log(f"load: {n_home} sessions open Home ({rnd} server)")
                    out[rnd] = await _home_round(browser, server.url, n_home, int(min(home_timeout, left - 10) * 1000))
            if deadline - time.perf_counter() > 60:
                log("load: one session trains alone (baseline)")
                out["solo"] = await _train_group(browser, server.url, 1, min(60.0, deadline - time.perf_counter() - 40))
            left = deadline - time.perf_counter()
            if left > 30:
                log(f"load: {n_train} sessions press 'Start training' together")
                out["train"] = await _train_group(browser, server.url, n_train, min(240.0, left - 10))
        finally:
            await browser.close()
    return out


def run(quick: bool, report: Report) -> None:
    n_home, n_train = (4, 4) if quick else (10, 4)
    budget = 100 if quick else 280  # seconds for the whole section (< 2 min / < 5 min)
    t_start = time.perf_counter()
    home_name = f"{n_home} concurrent sessions denoise with the default model: all complete, none errors"
    train_name = "training bounded: concurrent runs ≤ limit, rest queued with position"
    reason = browser_missing()
    if reason:
        report.target(home_name, "n/a", "all complete, 0 errors; p50/p95 reported", None, reason)
        report.target(train_name, "n/a", "≤ limit at once, others queued", None, reason)
        return
    limit, limit_note = configured_slots()
    with streamlit_server("load_streamlit.log") as server:
        if server.health_s is None:
            why = f"the server did not become healthy (see {server.log_path.relative_to(ROOT)})"
            report.target(home_name, "n/a", "all complete, 0 errors", None, why)
            report.target(train_name, "n/a", "≤ limit at once, others queued", None, why)
            return
        out = asyncio.run(_drive(server, quick, n_home, n_train, t_start + budget))
        rss = server.rss_mb(), server.rss_mb("VmHWM")
    _report_home(report, home_name, out, n_home, server)
    _report_train(report, train_name, out.get("train"), out.get("solo"), n_train, limit, limit_note)
    report.note(
        f"Server: health after {fixed(server.health_s)} s; RSS at the end {fixed(rss[0], 0)} MB, "
        f"peak {fixed(rss[1], 0)} MB. Section wall time {time.perf_counter() - t_start:.0f} s. "
        f"Server log: {server.log_path.relative_to(ROOT)}."
    )


def _report_home(report: Report, name: str, out: dict[str, Any], n: int, server: Server) -> None:
    rows, figures = [], {}
    for rnd in ("cold", "warm"):
        got = out.get(rnd)
        if got is None:
            rows.append([rnd, "not run (time budget)", "", "", "", "", "", ""])
            continue
        results, wall = got
        ok = [r["s"] for r in results if r["s"] is not None]
        errs = [r["error"] for r in results if r["error"]]
        figures[rnd] = (len(ok), errs, pct(ok, 50), pct(ok, 95))
        models = sorted(
            {
                re.sub(r"\*\*", "", r["model"]).split("(")[0].replace("Denoised by", "").strip()
                for r in results
                if r["model"]
            }
        )
        rows.append(
            [
                rnd,
                f"{len(ok)}/{n}",
                len(errs),
                fixed(pct(ok, 50)),
                fixed(pct(ok, 95)),
                fixed(max(ok) if ok else None),
                fixed(wall),
                " ".join(fixed(v, 1) for v in sorted(ok)),
            ]
        )
        if errs:
            report.note(f"{rnd} round errors: " + "; ".join(errs[:4]))
        if models:
            figures.setdefault("models", set()).update(models)
    report.table(
        f"{n} sessions open Home at once and wait for the demo's metrics (seconds from page.goto)",
        ["round", "completed", "errors", "p50", "p95", "max", "wall", "each"],
        rows,
        "cold: the server had just started (TensorFlow and the bundled model load while all wait); "
        "warm: the same again right after. Demo denoised by: "
        + (", ".join(sorted(figures.get("models", []))) or "n/a")
        + ".",
    )
    cold, warm = figures.get("cold"), figures.get("warm")
    if cold is None and warm is None:
        report.target(name, "n/a", "all complete, 0 errors; p50/p95 reported", None, "not run")
        return
    main = warm or cold
    met = all(f[0] == n and not f[1] for f in (cold, warm) if f is not None)
    measured = f"{main[0]}/{n} complete, {len(main[1])} errors; p50 {fixed(main[2])} s, p95 {fixed(main[3])} s" + (
        " (warm)" if warm else " (cold)"
    )
    note = (
        f"cold: {cold[0]}/{n}, {len(cold[1])} errors, p50 {fixed(cold[2])} s, p95 {fixed(cold[3])} s"
        if cold and warm
        else ""
    )
    report.target(name, measured, "all complete, 0 errors; p50/p95 reported", met, note)


def _run_seconds(s: dict[str, Any]) -> float | None:
    """Seconds from the run first shown preparing/training to finished (None when either was not seen)."""
    start = next((t for t, st, _ in s["timeline"] if st in ("preparing", "training")), None)
    end = next((t for t, st, _ in s["timeline"] if st in ("finished", "failed", "stopped")), None)
    return end - start if start is not None and end is not None else None


def _report_train(report: Report, name: str, got: Any, solo: Any, n: int, limit: int, limit_note: str) -> None:
    solo_s = _run_seconds(solo[0][0]) if solo and solo[0] else None
    solo_err = solo[0][0]["error"] if solo and solo[0] else "not run (time budget)"
    if got is None:
        report.target(name, "n/a", f"≤ {limit} at once, others queued with position", None, "not run (time budget)")
        return
    sessions, t0 = got
    rows = []
    for k, s in enumerate(sessions, 1):
        positions = sorted({pos for _, st, pos in s["timeline"] if st == "queued"}, reverse=True)
        path = " → ".join(dict.fromkeys(st for _, st, _ in s["timeline"])) or "none"
        end = next((t for t, st, _ in s["timeline"] if st in ("finished", "failed", "stopped")), None)
        start = next((t for t, st, _ in s["timeline"] if st in ("preparing", "training")), None)
        rows.append(
            [
                k,
                path,
                ", ".join(map(str, positions)) or "never queued",
                fixed(start - t0 if start else None, 1),
                fixed(end - t0 if end else None, 1),
                fixed(_run_seconds(s), 1),
                s["error"] or "",
            ]
        )
    settings = next((s["settings"] for s in sessions if s["settings"]), {})
    report.table(
        f"{n} sessions press 'Start training' together (seconds after the clicks)",
        ["session", "states seen", "queue positions shown", "training from", "ended at", "run s", "error"],
        rows,
        "Settings set through the form: "
        + (", ".join(f"{k} {v}" for k, v in settings.items()) or "n/a")
        + f"; U-Net, default batch and noise. Limit: {limit} ({limit_note}). The same run alone on this "
        f"server, just before: {fixed(solo_s, 1)} s" + (f" ({solo_err})" if solo_err else "") + ".",
    )
    runs = [v for v in map(_run_seconds, sessions) if v is not None]
    ran = [s for s in sessions if s["timeline"]]
    most, over = overlap_stats(ran, limit)
    queued = [s for s in ran if any(st == "queued" for _, st, _ in s["timeline"])]
    with_pos = [s for s in queued if any(st == "queued" and (pos or 0) >= 1 for _, st, pos in s["timeline"])]
    zero = [s for s in queued if any(st == "queued" and pos == 0 for _, st, pos in s["timeline"])]
    finished = [s for s in sessions if s["final"] == "finished"]
    ends = [t for s in sessions for t, st, _ in s["timeline"] if st in ("finished", "failed", "stopped")]
    total = max(ends) - t0 if ends and len(ends) == len(sessions) else None
    positions = sorted({pos for s in ran for _, st, pos in s["timeline"] if st == "queued"})
    bounded = most <= limit or over <= LAG_S
    enough_queued = len(queued) >= len(ran) - limit
    hard = [s for s in sessions if s["error"] and not s.get("timed_out")]  # failures, not the time limit
    met = bool(ran) and bounded and enough_queued and len(with_pos) == len(queued) and not hard
    measured = (
        f"max {most} shown training at once (> {limit} for {over:.1f} s); {len(queued)}/{len(ran)} queued, "
        f"positions seen {', '.join(map(str, positions)) or 'none'}; all finished: "
        f"{'yes' if len(finished) == n else f'no ({len(finished)}/{n})'}; total {fixed(total, 1)} s"
    )
    notes = [f"limit {limit} ({limit_note})", f"overlaps ≤ {LAG_S} s count as display lag (page redraws every 1 s)"]
    if hard:
        notes.append(f"{len(hard)} session(s) failed: {hard[0]['error']}")
    if len(finished) < n and not hard:
        notes.append("the rest were still queued or training when the section's time limit came")
    if zero:
        notes.append(f"{len(zero)} session(s) briefly showed 'Queued, position 0'")
    if not runs and solo_s and sessions and sessions[0]["clicked"]:
        waited = max((s.get("stopped_at") or t0) for s in sessions) - t0
        notes.append(f"no run of the group finished within {waited:.0f} s; the same run alone took {solo_s:.1f} s")
    if runs and solo_s:
        notes.append(
            f"one run took {fixed(float(np.median(runs)), 1)} s (median) with the others waiting, "
            f"{fixed(solo_s, 1)} s alone (x{float(np.median(runs)) / solo_s:.1f})"
        )
    report.target(name, measured, f"≤ {limit} at once, the others queued with position", met, "; ".join(notes))


if __name__ == "__main__":  # python -m bench.load [--quick]: this section alone
    import sys

    r = Report("load")
    run(quick="--quick" in sys.argv, report=r)
    for t in r.targets:
        print(t)
