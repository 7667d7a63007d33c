"""``python -m bench [--quick] [--only SECTIONS]``: run the benchmarks and print one summary table."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before anything imports TensorFlow

from bench.common import OUT, Report, log, machine, md_table, text_table

SECTIONS = (
    "quality",
    "losses",
    "real",
    "selfsup",
    "speed",
    "scaling",
    "app",
    "load",
    "soak",
    "security",
    "batch",
    "sessions",
)
SPEED_PARTS = ("train", "latency", "csv")


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="smaller sets and sizes: under 5 minutes on 2 cores")
    p.add_argument(
        "--only",
        default="",
        help=f"comma-separated sections: {', '.join(SECTIONS)} (or the speed parts {', '.join(SPEED_PARTS)})",
    )
    args = p.parse_args(argv)
    chosen = {s.strip() for s in args.only.split(",") if s.strip()} or set(SECTIONS)
    unknown = chosen - set(SECTIONS) - set(SPEED_PARTS)
    if unknown:
        p.error(f"unknown section(s): {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS + SPEED_PARTS)}")
    args.parts = set(SPEED_PARTS) if "speed" in chosen else chosen & set(SPEED_PARTS)
    args.sections = [s for s in SECTIONS if s in chosen or (s == "speed" and args.parts)]
    return args


def run_section(name: str, args: argparse.Namespace, report: Report) -> None:
    if name == "quality":
        from bench import quality

        quality.run(args.quick, report)
    elif name == "losses":
        from bench import losses

        losses.run(args.quick, report)
    elif name == "real":
        from bench import real

        real.run(args.quick, report)
    elif name == "selfsup":
        from bench import selfsup

        selfsup.run(args.quick, report)
    elif name == "speed":
        from bench import speed

        speed.run(args.quick, report, args.parts)
    elif name == "scaling":
        from bench import scaling

        scaling.run(args.quick, report)
    elif name == "app":
        from bench import app_timing

        app_timing.run(args.quick, report)
    elif name == "load":
        from bench import load

        load.run(args.quick, report)
    elif name == "soak":
        from bench import soak

        soak.run(args.quick, report)
    elif name == "security":
        from bench import security

        security.run(args.quick, report)
    elif name == "batch":
        from bench import batch

        batch.run(args.quick, report)
    elif name == "sessions":
        from bench import sessions

        sessions.run(args.quick, report)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    facts = machine()
    mode = "quick" if args.quick else "full"
    print(f"# Denoiser benchmarks ({mode}: {', '.join(args.sections)})")
    for k, v in facts.items():
        print(f"- {k}: {v}")
    t_start = time.perf_counter()
    reports: list[Report] = []
    seconds: dict[str, float] = {}
    for name in args.sections:
        report = Report(name)
        reports.append(report)
        print(f"\n# {name}", flush=True)
        log(f"section {name} starts")
        t0 = time.perf_counter()
        try:
            run_section(name, args, report)
        except Exception as err:  # noqa: BLE001 - one broken section must not hide the others' figures
            traceback.print_exc()
            report.target(
                f"{name} section ran", "n/a", "runs to the end", False, f"crashed: {type(err).__name__}: {err}"
            )
        seconds[name] = time.perf_counter() - t0
        log(f"section {name} took {seconds[name]:.0f} s")
    total = time.perf_counter() - t_start

    headers = ["section", "target", "measured", "goal", "status", "note"]
    rows = [[t.section, t.name, t.measured, t.goal, t.status, t.note] for r in reports for t in r.targets]
    timing = ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items())
    print(f"\n# Summary ({mode} run, {total:.0f} s: {timing})\n{text_table(headers, rows)}")
    n_met = sum(t.met is True for r in reports for t in r.targets)
    n_not = sum(t.met is False for r in reports for t in r.targets)
    print(f"\n{n_met} met, {n_not} not met, {len(rows) - n_met - n_not} report-only / n/a.")

    md = [
        f"# Denoiser benchmarks: {mode} run ({', '.join(args.sections)})",
        "",
        *[f"- **{k}**: {v}" for k, v in facts.items()],
        f"- **run time**: {total:.0f} s ({timing})",
        "",
        "## Summary",
        "",
        md_table(headers, rows),
        "",
        f"{n_met} met, {n_not} not met, {len(rows) - n_met - n_not} report-only / n/a.",
        "",
    ]
    for r in reports:
        md += [f"## {r.section}", "", *r.markdown]
    (OUT / "summary.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print(f"\nWrote {OUT / 'summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
