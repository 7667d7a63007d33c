"""Hostile instrument files (issue 22) through the CLI: ``python -m bench.formats [--quick]``.

Every file of ``tests/hostile/formats.py`` (full: the bombs expand to a gigabyte) goes through
``python -m denoiser denoise FILE -o out.csv --model none -q``, each in its own process under
/usr/bin/time (bench.security's runner): exit status, lines on stderr, wall and CPU seconds,
peak RSS. Target: refused (one line, exit 2) or handled (exit 0), no traceback, within 10 s
and 1.5 GB. Also one read of each valid control file in this process, timed.

Prints a Markdown section for bench/RESULTS.md and writes it to bench/_out/formats.md.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench.common import OUT, Report, fixed, log, machine
from bench.security import LIMIT_MB, LIMIT_S, _run_cli


def run(quick: bool, report: Report) -> None:
    from tests.hostile.formats import craft_formats

    folder = OUT / "hostile_formats"
    t0 = time.perf_counter()
    files = craft_formats(folder, big=not quick)
    log(f"formats: crafted {len(files)} files in {time.perf_counter() - t0:.0f} s")
    out = OUT / "formats_out.csv"
    rows, bad = [], []
    worst_s = worst_mb = 0.0
    for c in files:
        path = folder / c.name
        log(f"formats: {c.name}")
        r = _run_cli(["denoise", str(path), "-o", str(out), "--model", "none", "-q"])
        lines = [ln for ln in r["stderr"].splitlines() if ln.strip()]
        refused = r["rc"] == 2 and len(lines) == 1 and lines[0].startswith("error: ")
        outcome = "refused" if refused else "handled" if r["rc"] == 0 else f"exit {r['rc']}"
        if "Traceback" in r["stderr"] or outcome != c.expect:
            bad.append(f"{c.name} ({outcome}, expected {c.expect})")
        worst_s, worst_mb = max(worst_s, r["s"]), max(worst_mb, r["mb"])
        first = (lines[0] if lines else "").removeprefix("error: ")
        first = first if len(first) <= 100 else first[:99] + "…"
        rows.append(
            [
                c.name,
                f"{path.stat().st_size:,}",
                c.what,
                outcome,
                len(lines),
                fixed(r["s"], 1),
                fixed(r["cpu"], 1),
                f"{r['mb']:.0f}",
                first.replace("|", "/"),
            ]
        )
    report.table(
        "Hostile instrument files through the CLI, each in its own process",
        ["file", "bytes", "what", "outcome", "stderr lines", "wall s", "CPU s", "peak RSS MB", "message (first line)"],
        rows,
        note="`python -m denoiser denoise FILE -o out.csv --model none -q` (no TensorFlow: the "
        "classical candidates). Seconds include starting Python and importing pandas; the valid "
        "controls include denoising them.",
    )
    report.target(
        "formats: every hostile file refused (1 line, exit 2), controls handled, no traceback",
        f"{len(files) - len(bad)}/{len(files)}",
        "all",
        not bad,
        "; ".join(bad[:5]),
    )
    report.target("formats: slowest file through the CLI", f"{worst_s:.1f} s", f"≤ {LIMIT_S:.0f} s", worst_s <= LIMIT_S)
    report.target(
        "formats: largest peak RSS of a CLI run", f"{worst_mb:.0f} MB", f"≤ {LIMIT_MB:.0f} MB", worst_mb <= LIMIT_MB
    )


def main(argv: list[str]) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    report = Report("formats")
    quick = "--quick" in argv
    facts = machine()
    report.note(
        "Machine: " + "; ".join(f"{k}: {v}" for k, v in facts.items()) + f" ({'quick' if quick else 'full'} run)"
    )
    run(quick, report)
    for t in report.targets:
        report.note(f"- {t.name}: {t.measured} (goal {t.goal}) {t.status}")
    text = "\n".join(report.markdown)
    Path(OUT / "formats.md").write_text(text)
    print(text)
    return 0 if all(t.met is not False for t in report.targets) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
