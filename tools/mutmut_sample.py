"""Seeded sample of mutmut mutants, and the kill rate of a module from mutmut's own results.

mutmut 3 writes one ``<file>.meta`` per mutated file under ``mutants/`` with the exit code of
every mutant it has checked (``null`` = not checked). This script

* ``names PREFIX [-k N] [--seed S]``: prints N mutant names of PREFIX (e.g. ``denoiser.signals``),
  drawn with ``random.Random(S).sample`` from the sorted names (all of them when N >= their count).
  Pass them to ``mutmut run`` (``xargs``) to check only the sample.
* ``report PREFIX [-k N] [--seed S]``: the status counts of those same N names (the same seed gives
  the same sample) and the kill rate with a 95 % Wilson interval; ``-k 0`` counts every mutant of
  PREFIX that has been checked.
* ``report PREFIX --log FILE``: the same figures from the "Mutant results" list that ``mutmut run``
  prints at the end when it is given names (robust when ``mutants/*.meta`` was reset meanwhile:
  mutmut 3.8 resets every stored verdict when the test selection in pyproject.toml changes).

Run ``mutmut run`` once first (a run with any name glob generates every mutant).
Example (docs/TESTING.md):

    python tools/mutmut_sample.py names denoiser.signals -k 300 --seed 13 \\
        | xargs nice -n 15 .venv/bin/mutmut run --max-children 1
    python tools/mutmut_sample.py report denoiser.signals -k 300 --seed 13
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections import Counter
from pathlib import Path

KILLED = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    36: "timeout",
    24: "timeout",
    -24: "timeout",
    152: "timeout",
    255: "timeout",
    37: "type check",
    None: "not checked",
}


def exit_codes(root: Path = Path("mutants")) -> dict[str, int | None]:
    codes: dict[str, int | None] = {}
    for meta in sorted(root.rglob("*.py.meta")):
        codes.update(json.loads(meta.read_text())["exit_code_by_key"])
    return codes


def sample(codes: dict[str, int | None], prefix: str, k: int, seed: int) -> list[str]:
    names = sorted(n for n in codes if n.startswith(prefix + "."))
    if k <= 0 or k >= len(names):
        return names
    return sorted(random.Random(seed).sample(names, k))


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return float("nan"), float("nan")
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("names", "report"))
    parser.add_argument("prefix", help="module of the mutants, e.g. denoiser.signals or denoiser.io")
    parser.add_argument("-k", type=int, default=0, help="sample size (0 = all)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--log", type=Path, help="read the verdicts from a mutmut run's output instead of mutants/")
    args = parser.parse_args()
    if args.log:
        emoji = {
            "\N{PARTY POPPER}": 1,
            "\N{SLIGHTLY FROWNING FACE}": 0,
            "\N{ALARM CLOCK}": 36,
            "\N{DOTTED LINE FACE}": 33,
            "\N{THINKING FACE}": 35,
            "\N{SPEAKER WITH CANCELLATION STROKE}": 34,
        }
        text = args.log.read_text(errors="replace").split("Mutant results", 1)[-1]
        codes = {}
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].startswith(args.prefix + ".") and parts[0] in emoji:
                codes[parts[1]] = emoji[parts[0]]
        args.k = 0
    else:
        codes = exit_codes()
    names = sample(codes, args.prefix, args.k, args.seed)
    if args.action == "names":
        print("\n".join(names))
        return
    status = Counter(KILLED.get(codes[n], "suspicious") for n in names)
    if args.k <= 0:
        names = [n for n in names if codes[n] is not None]
        status.pop("not checked", None)
    killed = status["killed"] + status["timeout"]
    reached = killed + status["survived"]
    total = sum(status.values()) - status["not checked"]
    lo, hi = wilson(killed, total)
    source = f"sample k={args.k} seed={args.seed}" if args.k > 0 else f"from {args.log}" if args.log else "all"
    print(
        f"{args.prefix}: {len(names)} mutants ({source}): "
        + ", ".join(f"{key} {value}" for key, value in sorted(status.items()))
    )
    print(
        f"kill rate over all checked {killed}/{total} = {killed / max(total, 1):.1%} (95 % CI {lo:.1%}-{hi:.1%}); "
        f"over reached {killed}/{reached} = {killed / max(reached, 1):.1%}"
    )


if __name__ == "__main__":
    main()
