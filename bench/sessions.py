"""What one session may cost, and whether it is given back (issue 21, item 3): ``python -m bench --only sessions``.

**Sessions that end** (a real server, headless Chromium): ``streamlit run app.py`` as ``make run``
starts it (no malloc variables: the app tunes glibc itself), with
``--server.disconnectedSessionTTL 10`` (the reconnection window, 120 s by default, shortened so a
run takes minutes) and the janitor sweeping every 2 s. After a warm-up (the Home page: TensorFlow
and the bundled models) the server's RSS is the start. A wave is 8 browser contexts (8 users),
each uploading a 50 MB CSV of one-digit rows (25 million values) on the Upload page, one after
another, all kept open; then all 8 tabs are closed, and the server's RSS is read every 2 s until
it stops falling (at most 60 s after the window has passed). Target: back within 300 MB of the
start after every wave. ``--baseline DIR`` runs the same against another checkout (the code
before the fix: ``git archive <commit> | tar -x -C DIR``).

**The largest upload that survives self-supervised training** (in-process, AppTest: the app's own
scripts, in one fresh process per size, so its peak RSS is what a server spends): upload an
N MB CSV of one-digit rows, then Model -> "Learn from my uploaded recording" -> 1 epoch, until the
run ends. Sizes 50, 100 and 198 MB (the upload limit is 200 MB). The figure is the process's
peak RSS (VmHWM). Before the fix the issue measured 5.2 GB to read the 198 MB file and a request
for one 8.3 GiB array to train (about 43 GB in all: the server was OOM-killed); that is not rerun
here, on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.app_timing import CHROMIUM_ARGS, find_chromium, free_port, start_streamlit, stop_process, wait_health
from bench.common import OUT, PY, ROOT, Report, log
from bench.load import proc_status_mb

GOAL_MB = 300.0
TTL_S = 10  # --server.disconnectedSessionTTL for the run
SWEEP_S = 2  # DENOISER_SESSION_SWEEP_S for the run
SESSIONS = 8


def write_digits(path: Path, mb: int, seed: int = 0) -> Path:
    """A CSV of one-digit rows ("v", then "7\\n" ...): ``mb`` MB, mb/2 million values."""
    if path.exists() and path.stat().st_size == mb * 1_000_000 + 2:
        return path
    rng = np.random.default_rng(seed)
    n = mb * 500_000
    buf = np.empty(2 * n, np.uint8)
    buf[0::2] = rng.integers(0, 10, n).astype(np.uint8) + 48
    buf[1::2] = 10
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(b"v\n")
        fh.write(buf.tobytes())
    return path


class Sampler:
    """The peak of a process's RSS, sampled every 0.2 s in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, proc_status_mb(self.pid))
            self._stop.wait(0.2)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(5)


def _server(root: Path, log_name: str, arenas: str | None = None) -> tuple[subprocess.Popen, str]:
    """The app as `make run` starts it; ``arenas``: a MALLOC_ARENA_MAX to try (None: glibc and the app decide)."""
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    logf = open(OUT / log_name, "w")  # closed with the process by the OS; bench only
    proc = start_streamlit(
        port,
        logf,
        root=root,
        # an inherited MALLOC_ARENA_MAX would skew the comparison: only the one asked for is set
        env={"DENOISER_SESSION_SWEEP_S": str(SWEEP_S), "MALLOC_ARENA_MAX": arenas or None},
        options=("--server.disconnectedSessionTTL", str(TTL_S)),
    )
    if wait_health(url, proc, timeout=180) is None:
        stop_process(proc)
        raise RuntimeError(f"the server did not start (see {OUT / log_name})")
    return proc, url


def _settled_rss(pid: int, wait_s: float, limit_s: float = 60.0) -> float:
    """RSS once it has stopped falling: read every 2 s after ``wait_s``, for at most ``limit_s`` more."""
    time.sleep(wait_s)
    last, t0 = proc_status_mb(pid), time.perf_counter()
    while time.perf_counter() - t0 < limit_s:
        time.sleep(2)
        now = proc_status_mb(pid)
        if now > last - 5:  # less than 5 MB lower: settled
            return min(now, last)
        last = now
    return last


def sessions_run(root: Path, csv: Path, waves: int, label: str, arenas: str | None = None) -> dict[str, Any]:
    """Start a server on ``root``, warm it, run ``waves`` waves of 8 upload sessions; RSS figures in MB."""
    from playwright.sync_api import sync_playwright

    proc, url = _server(root, f"sessions_{label}.log", arenas)
    out: dict[str, Any] = {"label": label, "waves": []}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
            try:
                ctx = browser.new_context()
                page = ctx.new_page()
                page.set_default_timeout(240_000)
                page.goto(url)
                page.get_by_text("MSE (network)").first.wait_for()  # TensorFlow and the bundled model
                ctx.close()
                out["start"] = _settled_rss(proc.pid, TTL_S + 5 + 2 * SWEEP_S)
                log(f"sessions[{label}]: start RSS {out['start']:.0f} MB")
                for wave in range(waves):
                    contexts = []
                    with Sampler(proc.pid) as peak:
                        t0 = time.perf_counter()
                        for i in range(SESSIONS):
                            ctx = browser.new_context()
                            page = ctx.new_page()
                            page.set_default_timeout(300_000)
                            page.goto(f"{url}/upload")
                            page.get_by_text("No data yet").first.wait_for()
                            page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(csv))
                            page.get_by_text(f"Read: {csv.name}").first.wait_for()
                            contexts.append(ctx)
                            log(
                                f"sessions[{label}]: wave {wave + 1}, session {i + 1} read; "
                                f"RSS {proc_status_mb(proc.pid):.0f} MB"
                            )
                        held = proc_status_mb(proc.pid)
                        upload_s = time.perf_counter() - t0
                    for ctx in contexts:
                        ctx.close()
                    after = _settled_rss(proc.pid, TTL_S + 5 + 2 * SWEEP_S)
                    out["waves"].append({"held": held, "peak": peak.peak, "after": after, "upload_s": upload_s})
                    log(
                        f"sessions[{label}]: wave {wave + 1}: held {held:.0f}, peak {peak.peak:.0f}, "
                        f"after the sessions ended {after:.0f} MB"
                    )
            finally:
                browser.close()
    finally:
        stop_process(proc)
    return out


# ------------------------------------------------------------------ the largest upload, with training
TRAIN_CODE = r"""
import json, os, sys, time
from streamlit.testing.v1 import AppTest

def status(key):
    with open("/proc/self/status") as f:
        return next(float(l.split()[1]) / 1024 for l in f if l.startswith(key + ":"))

path, root = sys.argv[1], sys.argv[2]
res = {"mb": os.path.getsize(path) / 1e6}
at = AppTest.from_file(os.path.join(root, "app.py"), default_timeout=900).run()
res["start"] = status("VmRSS")
at.switch_page("app_pages/upload.py").run()
with open(path, "rb") as fh:
    data = fh.read()
t0 = time.perf_counter()
at.file_uploader(key="uploader").set_value((os.path.basename(path), data, "text/csv")).run()
del data
res["read_s"] = time.perf_counter() - t0
res["rows"] = at.session_state.table.report.rows
res["rows_left"] = at.session_state.table.report.rows_left
res["after_read"] = status("VmRSS")
res["peak_read"] = status("VmHWM")
at.switch_page("app_pages/model.py").run()
at.radio(key="tr_source").set_value("selfsup")
at.number_input(key="tr_epochs").set_value(1)
next(b for b in at.button if b.label == "Start training").click().run()
job = at.session_state.job
t0 = time.perf_counter()
job.thread.join(timeout=1800)
res["train_s"] = time.perf_counter() - t0
res["status"], res["error"] = job.status, job.error
res["trained_on"] = int(job.request.series.size)
res["peak"] = status("VmHWM")
print(json.dumps(res))
"""


def largest_upload(root: Path, sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for mb in sizes:
        csv = write_digits(OUT / f"digits_{mb}mb.csv", mb)
        log(f"sessions: {mb} MB upload + self-supervised training (in-process AppTest)")
        env = {**os.environ, "PYTHONPATH": str(root), "TF_CPP_MIN_LOG_LEVEL": "3"}
        t0 = time.perf_counter()
        done = subprocess.run(
            [PY, "-c", TRAIN_CODE, str(csv), str(root)], cwd=root, env=env, capture_output=True, text=True, timeout=3600
        )
        line = next((ln for ln in done.stdout.splitlines()[::-1] if ln.startswith("{")), None)
        res = (
            json.loads(line)
            if line
            else {"mb": mb, "status": f"process ended {done.returncode}", "error": done.stderr[-300:]}
        )
        res["wall_s"] = time.perf_counter() - t0
        rows.append(res)
        log(f"sessions: {mb} MB -> {res.get('status')}, peak {res.get('peak', float('nan')):.0f} MB")
    return rows


# ------------------------------------------------------------------ the section
def run(quick: bool, report: Report, baseline: Path | None = None) -> None:
    from bench.load import browser_missing

    csv = write_digits(OUT / "digits_50mb.csv", 50)
    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    report.note(
        f"Server: `streamlit run app.py --server.disconnectedSessionTTL {TTL_S}`, janitor every {SWEEP_S} s "
        f"(`DENOISER_SESSION_SWEEP_S`); {SESSIONS} sessions per wave each upload {csv.name} "
        f"({csv.stat().st_size / 1e6:.0f} MB, 25 million one-digit values) and stay open; then all close. "
        f"Load average at the start: {load}."
    )
    why = browser_missing()
    runs = []
    if why is None:
        waves = 1 if quick else 3
        if baseline is not None:
            runs.append(sessions_run(baseline, csv, 1, "before"))
        runs.append(sessions_run(ROOT, csv, waves, "now"))
        rows = []
        for r in runs:
            for i, w in enumerate(r["waves"], 1):
                rows.append(
                    [
                        r["label"],
                        i,
                        f"{r['start']:.0f}",
                        f"{w['held']:.0f}",
                        f"{w['peak']:.0f}",
                        f"{w['after']:.0f}",
                        f"{w['after'] - r['start']:+.0f}",
                        f"{w['upload_s']:.0f}",
                    ]
                )
        report.table(
            "Server RSS (MB) before, during and after waves of 8 x 50 MB upload sessions",
            ["code", "wave", "start", "8 sessions open", "peak", "after they ended", "after - start", "uploads s"],
            rows,
            note="`after they ended`: read every 2 s from the end of the reconnection window until it stops "
            "falling. `before`: the code before issue 21 (`--baseline`), one wave.",
        )
        for now in runs[1 if baseline is not None else 0 :]:
            worst = max(w["after"] - now["start"] for w in now["waves"])
            report.target(
                f"sessions: server RSS after 8 x 50 MB sessions have ended, vs the start ({now['label']})",
                f"{worst:+.0f} MB (worst of {len(now['waves'])} waves)",
                f"<= {GOAL_MB:.0f} MB",
                worst <= GOAL_MB,
            )
    else:
        report.target(
            "sessions: server RSS after 8 x 50 MB sessions have ended", "n/a", f"<= {GOAL_MB:.0f} MB", None, why
        )
    sizes = [50] if quick else [50, 100, 198]
    big = largest_upload(ROOT, sizes)
    report.table(
        "One upload, then self-supervised training on it (1 epoch), in one process (AppTest)",
        [
            "upload MB",
            "values read",
            "rows left out",
            "read s",
            "peak RSS reading MB",
            "trained on",
            "train s",
            "peak RSS MB",
            "run",
        ],
        [
            [
                f"{r['mb']:.0f}",
                f"{r.get('rows', 0):,}",
                f"{r.get('rows_left', 0):,}",
                f"{r.get('read_s', float('nan')):.1f}",
                f"{r.get('peak_read', float('nan')):.0f}",
                f"{r.get('trained_on', 0):,}",
                f"{r.get('train_s', float('nan')):.0f}",
                f"{r.get('peak', float('nan')):.0f}",
                r.get("status"),
            ]
            for r in big
        ],
        note="Peak RSS = VmHWM of the process (Python, Streamlit, TensorFlow, the bundled models, the upload's "
        "bytes, the table and the training run).",
    )
    ok = [r for r in big if r.get("status") == "finished"]
    largest = max(ok, key=lambda r: r["mb"]) if ok else None
    report.target(
        "sessions: largest upload that survives self-supervised training (2 cores, 24 GB)",
        f"{largest['mb']:.0f} MB, peak RSS {largest['peak']:.0f} MB" if largest else "none",
        "the upload limit (200 MB)",
        bool(largest and largest["mb"] >= max(sizes) - 1),
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.sessions", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="one wave, one upload size (50 MB)")
    p.add_argument("--baseline", type=Path, help="also run one wave against this checkout (the code before)")
    args = p.parse_args(argv)
    report = Report("sessions")
    run(args.quick, report, args.baseline)
    for t in report.targets:
        print(f"{t.name}: {t.measured} (goal {t.goal}) -> {t.status}")


if __name__ == "__main__":
    main(sys.argv[1:])
