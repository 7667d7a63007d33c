"""Security (issue 9): every crafted hostile file through the CLI, each in its own process; and the
server's health endpoint while a hostile upload is being read.

CLI part: ``python -m denoiser denoise`` on each crafted CSV (``FILE -o out.csv``), and on a
good CSV with each crafted model (``--model FILE --raw``). Per file: exit status, lines on
stderr, seconds, peak RSS of that process (``os.wait4``). Target: refused (one line, exit 2)
or handled (exit 0), no traceback, within 10 s and 1.5 GB.

App part: ``streamlit run app.py`` and headless Chromium upload hostile files (a CSV on the
Upload page, a model on the Model page) while another thread asks ``/_stcore/health`` every
50 ms; the worst answer time during each read is the figure (target < 1 s).

Files are crafted by ``tests/hostile/craft.py`` into ``bench/_out/hostile`` (``--quick``:
the small bombs; full: bombs that expand to gigabytes, 1M-row and 10 MB CSVs).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.app_timing import CHROMIUM_ARGS, find_chromium, free_port, start_streamlit, stop_process, wait_health
from bench.common import OUT, PY, ROOT, Report, fixed, log
from denoiser.text import printable

LIMIT_S, LIMIT_MB = 10.0, 1500.0
MAX_LINE = 600  # characters of one line of output (issue 21: a summary of 2,000,366 characters before)
UPLOAD_INPUT = '[data-testid="stFileUploaderDropzoneInput"]'
ERROR_ALERT = '[data-testid="stAlertContentError"]'


def _run_cli(args: list[str], timeout: float = 120) -> dict[str, Any]:
    """One CLI process under /usr/bin/time: exit status, stderr, wall and CPU seconds, peak RSS.

    /usr/bin/time forks the CLI from its own small process: a child forked from this one
    (TensorFlow loaded) would report this process's RSS as its own peak (Linux keeps the
    high-water mark across fork and exec).
    """
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    err_path, time_path = OUT / "security_stderr.txt", OUT / "security_time.txt"
    with open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            ["/usr/bin/time", "-f", "%e %U %S %M", "-o", str(time_path), PY, "-m", "denoiser", *args],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        seconds = time.perf_counter() - t0
    text = err_path.read_text(errors="replace")
    try:
        wall, user, system, kb = time_path.read_text().split()[-4:]
        seconds, cpu, mb = float(wall), float(user) + float(system), float(kb) / 1024
    except (OSError, ValueError):
        cpu, mb = float("nan"), float("nan")
    # /usr/bin/time passes the exit status on, and adds a line when it is not 0
    lines = [ln for ln in text.splitlines() if not ln.startswith("Command exited with non-zero status")]
    return {"rc": proc.returncode, "stderr": "\n".join(lines), "s": seconds, "cpu": cpu, "mb": mb}


def cli_table(files: list[Any], folder: Path, report: Report) -> None:
    good = folder / "good_input.csv"
    good.write_text("t,v\n" + "\n".join(f"{i},{(i * 37) % 11 - 5}" for i in range(400)) + "\n")
    out = OUT / "security_out.csv"
    rows, bad = [], []
    worst_s = worst_mb = 0.0
    longest, longest_name = 0, ""
    for c in files:
        path = folder / c.name
        if c.kind == "csv":  # not -q: what a handled file prints (its read report, the results) counts too
            args = ["denoise", str(path), "-o", str(out)]
        else:
            args = ["denoise", str(good), "--model", str(path), "--raw", "-q", "-o", str(out)]
        log(f"security: {c.name}")
        r = _run_cli(args)
        lines = [ln for ln in r["stderr"].splitlines() if ln.strip()]
        traceback = "Traceback" in r["stderr"]
        refused = r["rc"] == 2 and len(lines) == 1 and lines[0].startswith("error: ")
        handled = r["rc"] == 0
        outcome = "refused" if refused else "handled" if handled else f"exit {r['rc']}"
        if traceback or outcome != c.expect:
            bad.append(f"{c.name} ({outcome}, expected {c.expect})")
        worst_s, worst_mb = max(worst_s, r["s"]), max(worst_mb, r["mb"])
        if lines and max(map(len, lines)) > longest:
            longest, longest_name = max(map(len, lines)), c.name
        first = (lines[0] if lines else "").removeprefix("error: ")
        first = first if len(first) <= 90 else first[:89] + "…"
        rows.append(
            [
                printable(c.name)[:60],
                f"{path.stat().st_size:,}",
                c.what,
                outcome,
                len(lines),
                fixed(r["s"], 1),
                fixed(r["cpu"], 1),
                f"{r['mb']:.0f}",
                printable(first).replace("|", "/"),
            ]
        )
    report.table(
        "Crafted files through the CLI, each in its own process",
        ["file", "bytes", "what", "outcome", "stderr lines", "wall s", "CPU s", "peak RSS MB", "message (first line)"],
        rows,
        note="CSVs: `python -m denoiser denoise FILE -o out.csv` (what it prints counts: the longest "
        "line of all is a target); models: a good 400-row CSV "
        "with `--model FILE --raw -q`. Seconds include starting Python and importing "
        "TensorFlow where the file gets that far (a model file's archive and a CSV up to 16 MB are "
        "checked before TensorFlow loads; the shape check needs the built network). CPU s = "
        "user + system: the wall time depends on the machine's load.",
    )
    report.target(
        "security: longest line a crafted file makes the CLI print (issue 21)",
        f"{longest:,} characters",
        f"<= {MAX_LINE} (a few hundred)",
        longest <= MAX_LINE,
        f"from {printable(longest_name)[:60]}",
    )
    report.target(
        "security: every crafted file refused (1 line, exit 2) or handled, no traceback",
        f"{len(files) - len(bad)}/{len(files)}",
        "all",
        not bad,
        "; ".join(bad[:5]),
    )
    slow = [r for r in rows if float(r[5]) > LIMIT_S]
    report.target(
        "security: slowest crafted file through the CLI",
        f"{worst_s:.1f} s",
        f"≤ {LIMIT_S:.0f} s",
        worst_s <= LIMIT_S,
        f"{len(slow)} over {LIMIT_S:.0f} s (wall; see CPU s and the load average)",
    )
    report.target(
        "security: largest peak RSS of a CLI run", f"{worst_mb:.0f} MB", f"≤ {LIMIT_MB:.0f} MB", worst_mb <= LIMIT_MB
    )


class HealthProbe:
    """Ask /_stcore/health every 50 ms in a thread; keep each answer's latency."""

    def __init__(self, url: str) -> None:
        self.url, self.samples, self._stop = f"{url}/_stcore/health", [], threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=30) as r:
                    r.read()
            except OSError:
                pass
            self.samples.append(time.perf_counter() - t0)
            self._stop.wait(0.05)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(60)


def app_health(uploads: list[tuple[str, Path]], report: Report) -> None:
    chromium = find_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        chromium = None
    if chromium is None:
        report.target(
            "security: health endpoint during a hostile upload", "n/a", "< 1 s", None, "no Chromium or Playwright"
        )
        return
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = OUT / "security_streamlit.log"
    with open(log_path, "wb") as server_log:
        proc = start_streamlit(port, server_log)
    rows = []
    try:
        if wait_health(url, proc, timeout=120) is None:
            report.target(
                "security: health endpoint during a hostile upload",
                "n/a",
                "< 1 s",
                None,
                "the server did not start (see security_streamlit.log)",
            )
            return
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                # Control first: the server's first model load imports TensorFlow (seconds of a held
                # GIL, whatever the file); measured apart so the hostile rows show the reads alone.
                rows.append(_one_upload(browser, url, "model", uploads[0][1].parent / "valid.keras"))
                rows[-1][0] += " (control: first TF import)"
                for where, path in uploads:
                    rows.append(_one_upload(browser, url, where, path))
            finally:
                browser.close()
    finally:
        stop_process(proc)
    report.table(
        "Health endpoint of the running app while a hostile upload is read",
        ["upload", "page", "bytes", "read s", "health probes", "median ms", "worst ms", "shown"],
        rows,
        note="Another thread asks /_stcore/health every 50 ms from the moment the file is handed to "
        "the page until the page shows the result (the read report or the error).",
    )
    worst = max((r[6] for r in rows), default=float("nan"))
    report.target(
        "security: health endpoint during a hostile upload (worst answer)", f"{worst:.0f} ms", "< 1000 ms", worst < 1000
    )


def _one_upload(browser: Any, url: str, where: str, path: Path) -> list[Any]:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.set_default_timeout(180_000)
    try:
        if where == "upload":
            page.goto(f"{url}/upload")
            page.get_by_text("No data yet").first.wait_for()
            done = page.get_by_text(f"Read: {path.name}").or_(page.locator(ERROR_ALERT)).first
        else:
            page.goto(f"{url}/model")
            page.get_by_text("Model in use").first.wait_for()
            page.get_by_role("tab", name="Upload a model file").click()
            done = page.locator(ERROR_ALERT).or_(page.get_by_text(f"Uploaded: {path.name}")).first
        with HealthProbe(url) as probe:
            t0 = time.perf_counter()
            page.locator(UPLOAD_INPUT).first.set_input_files(str(path))
            done.wait_for()
            seconds = time.perf_counter() - t0
        shown = done.inner_text().strip().splitlines()[0][:70]
    finally:
        page.context.close()
    ms = sorted(s * 1000 for s in probe.samples) or [float("nan")]
    return [
        path.name,
        where,
        f"{path.stat().st_size:,}",
        fixed(seconds, 2),
        len(ms),
        round(ms[len(ms) // 2]),
        round(ms[-1]),
        shown.replace("|", "/"),
    ]


def run(quick: bool, report: Report) -> None:
    import sys

    sys.path.insert(0, str(ROOT))
    from tests.hostile import craft

    folder = OUT / "hostile"
    log("security: crafting hostile files" + ("" if quick else " (big bombs: about a minute)"))
    files = craft.craft_all(folder, big=not quick)
    report.note(
        f"{len(files)} crafted files ({sum((folder / c.name).stat().st_size for c in files) / 1024**2:.0f} MB "
        "in all), made by `tests/hostile/craft.py`" + ("" if quick else " with `--big`") + "."
    )
    cli_table(files, folder, report)
    uploads = [
        ("upload", folder / "digit_run.csv"),
        ("model", folder / "shape_bomb_1gb.keras"),
        ("model", folder / "million_entries.keras"),
    ]
    if not quick:
        uploads += [
            ("upload", folder / "digit_run_10mb.csv"),
            ("upload", folder / "dates_1m.csv"),
            ("model", folder / "bzip2_bomb_lie.keras"),
        ]
    app_health(uploads, report)
