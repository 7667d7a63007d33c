"""Long sessions (issue 5): resident memory of ONE server process over 20 train-and-denoise cycles.

**UI mode** (preferred): one ``streamlit run app.py`` on a free loopback port, one headless
Chromium. Each cycle is a new browser context (a new user): open the Model page, set the
smallest training the form allows (U-Net, window 32, width 8, 1 epoch, 100 synthetic
signals), press "Start training", wait for "Finished" (a model worse than its input is not put
in use by the app: "Use the new model anyway" is pressed then), open Generate from the sidebar
(the new model denoises there), wait for its metrics, close the context. After each cycle the
server's VmRSS is read from ``/proc/<pid>/status``. Growth is RSS after the last cycle minus
RSS after cycle 1 (cycle 1 pays for TensorFlow, the bundled models and the first tracing).

**In-process mode** (fallback, when the UI cycles would take longer than the budget or the
browser part cannot run): a fresh Python process runs the same number of cycles of
``Denoiser(ModelConfig(window=64, filters=4, depth=2)).fit`` on tiny data, ``.denoise``,
``del`` and ``gc.collect()``, and reports its own VmRSS per cycle.

Released sessions: Streamlit keeps a disconnected session (with its ``st.session_state``:
the trained model, the job) for 2 minutes in case the browser reconnects, and drops expired
ones only when the session store is next written (another session disconnects). Full runs
read the RSS 60 s after the last context closed, then once more after that 2-minute window
plus one more connect/close (which lets Streamlit drop the expired sessions). Quick runs
skip this (reported as not measured).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from typing import Any

from bench.app_timing import CHROMIUM_ARGS, EXCEPTIONS_JS, find_chromium
from bench.common import PY, ROOT, Report, fixed, log
from bench.load import (
    CAPTION_JS,
    METRICS_OR_ERROR_JS,
    STATE_JS,
    VIEWPORT,
    Server,
    browser_missing,
    fill_tiny_training,
    proc_status_mb,
    run_state,
    short,
    start_button,
    streamlit_server,
)

GOAL_MB = 200.0
RECONNECT_TTL_S = 120  # streamlit.runtime.memory_session_storage: disconnected sessions kept this long
IN_USE_OR_WORSE_JS = """() => document.body.innerText.includes('The new model is now in use') ||
  document.querySelector('.st-key-use_worse_model button') !== null"""
GENERATED_JS = f"""() => document.querySelector('[data-testid="stException"]') !== null ||
  (({CAPTION_JS})().startsWith('Denoised by') && ({METRICS_OR_ERROR_JS})())"""


def _threads(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(ln.split()[1]) for ln in f if ln.startswith("Threads:"))
    except (OSError, StopIteration, ValueError):
        return None


# ------------------------------------------------------------------ UI mode
async def _cycle(browser: Any, url: str, timeout_s: float) -> dict[str, Any]:
    """One user: train a tiny model on the Model page, denoise with it on Generate, leave."""
    from playwright.async_api import Error as PwError

    res: dict[str, Any] = {"error": None, "train_s": None, "denoised_by": "", "worse": False}
    ctx = await browser.new_context(viewport=VIEWPORT)
    t0 = time.perf_counter()
    try:
        page = await ctx.new_page()
        ms = int(timeout_s * 1000)
        await page.goto(f"{url}/model", wait_until="commit", timeout=ms)
        await page.locator("h1", has_text="Model").first.wait_for(state="visible", timeout=ms)
        await fill_tiny_training(page, 30_000)
        await start_button(page).click(timeout=10_000)
        t1 = time.perf_counter()
        state = ("none", None)
        while time.perf_counter() - t0 < timeout_s:
            state = run_state(await page.evaluate(STATE_JS))
            if state[0] in ("finished", "failed", "stopped"):
                break
            await asyncio.sleep(0.25)
        res["train_s"] = time.perf_counter() - t1
        if state[0] != "finished":
            res["error"] = f"training ended as {state[0]!r} after {res['train_s']:.0f} s"
            return res
        # The page reruns once the run ends. A model worse than its input is not put in use by itself:
        # then "Use the new model anyway" is pressed, so Generate denoises with this cycle's model.
        await page.wait_for_function(IN_USE_OR_WORSE_JS, timeout=30_000, polling=200)
        worse = page.locator(".st-key-use_worse_model button").first
        if await worse.count():
            res["worse"] = True
            await worse.click(timeout=10_000)
            await page.wait_for_function(
                "() => document.body.innerText.includes('The new model is now in use')", timeout=30_000, polling=200
            )
        await page.locator('[data-testid="stSidebarNavLink"]', has_text="Generate").first.click(timeout=10_000)
        await page.locator("h1", has_text="Generate").first.wait_for(state="visible", timeout=ms)
        # The Model page's own three metrics linger in the DOM until the rerun replaces them: wait for
        # Generate's caption ("Denoised by ...") next to its metrics, or an exception.
        await page.wait_for_function(
            GENERATED_JS, timeout=max(1000, int((timeout_s - (time.perf_counter() - t0)) * 1000)), polling=100
        )
        res["denoised_by"] = await page.evaluate(CAPTION_JS)
        errors = await page.evaluate(EXCEPTIONS_JS)
        if errors:
            res["error"] = f"exception on the page: {errors[0][:160]!r}"
        elif "your model" not in res["denoised_by"]:
            res["error"] = f"Generate did not use the trained model ({res['denoised_by'][:80]!r})"
    except PwError as err:
        res["error"] = short(err)
    finally:
        await ctx.close()
        res["s"] = time.perf_counter() - t0
    return res


async def _ui_cycles(server: Server, cycles: int, budget_s: float, probe_release: bool) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    pid = server.proc.pid
    out: dict[str, Any] = {"rows": [], "aborted": None, "release": []}
    t_start = time.perf_counter()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        try:
            for k in range(1, cycles + 1):
                res = await _cycle(browser, server.url, timeout_s=150)
                await asyncio.sleep(0.5)
                row = {
                    "cycle": k,
                    "s": res["s"],
                    "train_s": res["train_s"],
                    "rss": proc_status_mb(pid),
                    "threads": _threads(pid),
                    "worse": res["worse"],
                    "error": res["error"],
                }
                out["rows"].append(row)
                log(
                    f"soak: cycle {k}/{cycles}: {res['s']:.1f} s, RSS {row['rss']:.0f} MB"
                    + (f", error: {res['error']}" if res["error"] else "")
                )
                if server.proc.poll() is not None:
                    out["aborted"] = f"the server exited (code {server.proc.returncode}) during cycle {k}"
                    break
                elapsed = time.perf_counter() - t_start
                if k < cycles and elapsed / k * cycles > budget_s:
                    out["aborted"] = (
                        f"{k} cycles took {elapsed:.0f} s: {cycles} would take about "
                        f"{elapsed / k * cycles:.0f} s > {budget_s:.0f} s"
                    )
                    break
            if probe_release and out["aborted"] is None:
                t_closed = time.perf_counter()
                await asyncio.sleep(60)
                out["release"].append(("60 s after the last context closed", proc_status_mb(pid)))
                await asyncio.sleep(max(0.0, RECONNECT_TTL_S + 5 - (time.perf_counter() - t_closed)))
                ctx = await browser.new_context(viewport=VIEWPORT)  # a connect + disconnect: expired sessions go
                try:
                    page = await ctx.new_page()
                    await page.goto(server.url, wait_until="commit", timeout=60_000)
                    await page.locator("h1", has_text="Denoiser").first.wait_for(state="visible", timeout=60_000)
                except Exception as err:  # noqa: BLE001 - the probe is only a figure
                    out["release"].append((f"probe page failed: {short(err)}", float("nan")))
                finally:
                    await ctx.close()
                await asyncio.sleep(5)
                out["release"].append(
                    (
                        f"{time.perf_counter() - t_closed:.0f} s after (past the "
                        f"{RECONNECT_TTL_S} s reconnect window, one more session closed)",
                        proc_status_mb(pid),
                    )
                )
        finally:
            await browser.close()
    return out


# ------------------------------------------------------------------ in-process mode
def in_process_cycles(cycles: int) -> None:
    """Run in a fresh process (``python -m bench.soak --in-process N``): one JSON line per cycle."""
    import gc

    import numpy as np

    from bench.common import rss_mb
    from denoiser.config import ModelConfig, TrainConfig
    from denoiser.core import Denoiser
    from denoiser.signals import training_pairs

    print(json.dumps({"cycle": 0, "rss": rss_mb()}), flush=True)
    for k in range(1, cycles + 1):
        t0 = time.perf_counter()
        noisy, clean = training_pairs("mixed", 200, 64, ("gaussian",), (0.02, 0.3), rng=k)
        model = Denoiser(ModelConfig(window=64, filters=4, depth=2)).fit(noisy, clean, TrainConfig(epochs=1, seed=k))
        model.denoise(np.sin(np.linspace(0, 20, 5000)) + 0.1 * np.random.default_rng(k).standard_normal(5000))
        del model, noisy, clean
        gc.collect()
        print(json.dumps({"cycle": k, "s": time.perf_counter() - t0, "rss": rss_mb()}), flush=True)


def _run_in_process(cycles: int, timeout_s: float) -> dict[str, Any]:
    env = {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    import os

    proc = subprocess.run(
        [PY, "-m", "bench.soak", "--in-process", str(cycles)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, **env},
    )
    rows = []
    for line in proc.stdout.splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            pass
    err = None if proc.returncode == 0 else " | ".join(proc.stderr.strip().splitlines()[-2:])
    return {
        "rows": [r for r in rows if r["cycle"] > 0],
        "start": next((r["rss"] for r in rows if r["cycle"] == 0), None),
        "error": err,
    }


# ------------------------------------------------------------------ the section
def run(quick: bool, report: Report) -> None:
    cycles = 5 if quick else 20
    budget = 150.0 if quick else 480.0  # UI cycles longer than this: in-process instead
    name = f"RSS growth over {cycles} cycles ≤ {GOAL_MB:.0f} MB"
    goal = f"≤ {GOAL_MB:.0f} MB after cycle 1"
    ui: dict[str, Any] | None = None
    why_not_ui = browser_missing()
    start_rss = health = None
    log_rel = ""
    if why_not_ui is None:
        with streamlit_server("soak_streamlit.log") as server:
            log_rel = str(server.log_path.relative_to(ROOT))
            health = server.health_s
            if server.health_s is None:
                why_not_ui = f"the server did not become healthy (see {log_rel})"
            else:
                start_rss = server.rss_mb()
                log(f"soak: {cycles} UI cycles (server RSS at start {start_rss:.0f} MB)")
                ui = asyncio.run(_ui_cycles(server, cycles, budget, probe_release=not quick))
                peak = server.rss_mb("VmHWM")
        if ui is not None:
            rows = ui["rows"]
            report.table(
                "Soak, UI mode: one server, a new browser context per cycle (train 1 tiny epoch, "
                "denoise on Generate, close)",
                [
                    "cycle",
                    "s",
                    "training s",
                    "server RSS MB",
                    "growth since cycle 1 MB",
                    "threads",
                    "worse than input",
                    "error",
                ],
                [
                    [
                        r["cycle"],
                        fixed(r["s"], 1),
                        fixed(r["train_s"], 1),
                        fixed(r["rss"], 0),
                        fixed(r["rss"] - rows[0]["rss"], 0),
                        r["threads"],
                        "yes" if r["worse"] else "no",
                        r["error"] or "",
                    ]
                    for r in rows
                ],
                f"Server RSS before the first page: {fixed(start_rss, 0)} MB (healthy after {fixed(health)} s);"
                f" peak (VmHWM) {fixed(peak, 0)} MB. Server log: {log_rel}.",
            )
            if ui["aborted"]:
                why_not_ui = ui["aborted"]
    release_note = "quick run: RSS after closing not measured"
    if ui is not None and why_not_ui is None:
        rows = ui["rows"]
        growth = rows[-1]["rss"] - rows[0]["rss"]
        errors = [r for r in rows if r["error"]]
        if ui["release"]:
            release_note = "; ".join(
                f"{label}: {fixed(v, 0)} MB ({fixed(v - rows[-1]['rss'], 0)} MB vs last cycle)"
                for label, v in ui["release"]
            )
            report.note(f"After the last cycle: {release_note}.")
        report.target(
            name,
            f"{growth:+.0f} MB ({fixed(rows[0]['rss'], 0)} → {fixed(rows[-1]['rss'], 0)} MB), UI mode",
            goal,
            growth <= GOAL_MB if not errors else False,
            (f"{len(errors)} cycle(s) failed: {errors[0]['error']}; " if errors else "")
            + f"max RSS over cycles {max(r['rss'] for r in rows):.0f} MB; {release_note}",
        )
        return
    # in-process fallback
    log(f"soak: in-process mode ({why_not_ui})")
    got = _run_in_process(cycles, timeout_s=300 if quick else 600)
    rows = got["rows"]
    if not rows:
        report.target(name, "n/a", goal, None, f"UI mode not used ({why_not_ui}); in-process failed: {got['error']}")
        return
    report.table(
        "Soak, in-process mode: Denoiser(window 64, filters 4, depth 2).fit 1 epoch + denoise + del + gc",
        ["cycle", "s", "RSS MB", "growth since cycle 1 MB"],
        [[r["cycle"], fixed(r["s"], 1), fixed(r["rss"], 0), fixed(r["rss"] - rows[0]["rss"], 0)] for r in rows],
        f"RSS after imports: {fixed(got['start'], 0)} MB. UI mode not used: {why_not_ui}.",
    )
    growth = rows[-1]["rss"] - rows[0]["rss"]
    complete = len(rows) == cycles and got["error"] is None
    report.target(
        name,
        f"{growth:+.0f} MB ({fixed(rows[0]['rss'], 0)} → {fixed(rows[-1]['rss'], 0)} MB), in-process mode",
        goal,
        (growth <= GOAL_MB) if complete else False,
        f"UI mode not used: {why_not_ui}; {len(rows)}/{cycles} cycles"
        + (f"; error: {got['error']}" if got["error"] else "")
        + "; session release not measured",
    )


if __name__ == "__main__":  # python -m bench.soak [--quick] | --in-process N
    if len(sys.argv) == 3 and sys.argv[1] == "--in-process":
        in_process_cycles(int(sys.argv[2]))
    else:
        r = Report("soak")
        run(quick="--quick" in sys.argv, report=r)
        for t in r.targets:
            print(t)
