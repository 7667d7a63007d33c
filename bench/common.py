"""Shared pieces of the benchmarks: the report (tables + targets), timers, machine facts.

Every section gets a :class:`Report`; it prints each table as aligned text as soon as
it is ready, keeps a Markdown copy for ``bench/_out/summary.md``, and collects the
issue's targets as :class:`Target` rows for the final summary table.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "_out"
PY = sys.executable


def fmt(value: Any, digits: int = 3) -> str:
    """A number for a table: 3 significant digits, 'n/a' for None/NaN."""
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    v = float(value)
    if np.isnan(v):
        return "n/a"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1e5 or a < 1e-3:
        return f"{v:.{digits - 1}e}"
    if a >= 10 ** (digits - 1):
        return f"{v:.0f}"
    return f"{v:.{digits}g}"


def fixed(value: Any, decimals: int = 2) -> str:
    """A number with fixed decimals (dB, seconds, ratios)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return f"{float(value):.{decimals}f}"


@dataclass
class Target:
    """One target of the issue with its measured figure."""

    section: str
    name: str
    measured: str
    goal: str
    met: bool | None  # None: nothing to judge (a report-only figure, or not measured)
    note: str = ""

    @property
    def status(self) -> str:
        if self.met is None:
            return "n/a" if self.measured == "n/a" else "report"
        return "met" if self.met else "NOT MET"


def text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    right = [all(_numeric(r[i]) for r in cells[1:]) for i in range(len(headers))]

    def line(r: list[str]) -> str:
        return "  ".join(c.rjust(w) if a else c.ljust(w) for c, w, a in zip(r, widths, right)).rstrip()

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells[1:]])


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def esc(c: Any) -> str:
        return fmt(c).replace("|", "\\|")

    right = [bool(rows) and all(_numeric(fmt(r[i])) for r in rows) for i in range(len(headers))]
    out = [
        "| " + " | ".join(esc(h) for h in headers) + " |",
        "|" + "|".join("---:" if a else "---" for a in right) + "|",
    ]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _numeric(s: str) -> bool:
    try:
        float(s.replace("×", "").replace("x", "").rstrip("%"))
        return True
    except ValueError:
        return s in ("n/a", "inf", "-inf")


@dataclass
class Report:
    """Tables and targets of one section."""

    section: str
    markdown: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    def table(self, title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], note: str = "") -> None:
        print(f"\n## {title}\n{text_table(headers, rows)}" + (f"\n{note}" if note else ""), flush=True)
        self.markdown.append(f"### {title}\n\n{md_table(headers, rows)}\n" + (f"\n{note}\n" if note else ""))

    def note(self, text: str) -> None:
        print(text, flush=True)
        self.markdown.append(text + "\n")

    def target(self, name: str, measured: str, goal: str, met: bool | None, note: str = "") -> Target:
        t = Target(self.section, name, measured, goal, met, note)
        self.targets.append(t)
        return t


class Timer:
    """``with Timer() as t: ...``; ``t.s`` is the elapsed wall time in seconds."""

    def __enter__(self) -> Timer:
        self.t0 = time.perf_counter()
        self.s = float("nan")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.s = time.perf_counter() - self.t0


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    """Current resident set size of this process in MB (Linux), NaN elsewhere."""
    return _status_kb("VmRSS") / 1024


def hwm_mb() -> float:
    """Peak resident set size of this process in MB since start or the last :func:`reset_hwm`."""
    return _status_kb("VmHWM") / 1024


def reset_hwm() -> bool:
    """Reset the peak-RSS mark (Linux >= 4.0: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _status_kb(key: str) -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float("nan")


def machine() -> dict[str, str]:
    """Facts to record beside the figures: CPU, cores, load, versions, commit, model files."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        commit = (
            subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or "unknown"
        )
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        commit += " (+ uncommitted changes)" if dirty else ""
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    assets = []
    for p in sorted((ROOT / "assets").glob("*.keras")):
        st = p.stat()
        assets.append(
            f"{p.name} {st.st_size / 1e6:.2f} MB, {time.strftime('%Y-%m-%d %H:%M', time.localtime(st.st_mtime))}"
        )
    try:
        from importlib.metadata import version

        versions = ", ".join(f"{m} {version(m)}" for m in ("tensorflow-cpu", "keras", "numpy", "streamlit"))
    except Exception:  # noqa: BLE001 - a missing package only shortens this line
        versions = "unknown"
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": cpu,
        "cores": f"{len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} usable"
        f" ({os.cpu_count()} online)",
        "load average at start": " ".join(f"{v:.2f}" for v in load),
        "memory": _meminfo(),
        "python": platform.python_version(),
        "packages": versions,
        "commit": commit,
        "bundled models": "; ".join(assets) or "none",
    }


def _meminfo() -> str:
    try:
        with open("/proc/meminfo") as f:
            kb = float(next(ln.split()[1] for ln in f if ln.startswith("MemTotal")))
        return f"{kb / 1024**2:.1f} GiB"
    except (OSError, StopIteration):
        return "unknown"


def median_ms(samples: Sequence[float]) -> float:
    return float(np.median(samples) * 1e3) if len(samples) else float("nan")
