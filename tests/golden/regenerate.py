"""Rewrite ``tests/golden/digests.json`` from the current code: ``python -m tests.golden.regenerate``.

Prints which digests changed. Commit the file only when the change to the seeded draws is deliberate
(it changes what ``make model`` retrains), and say why.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from tests.golden.digests import STORED, compute, stored


def main() -> int:
    new = compute()
    old = stored() if STORED.exists() else {}
    changed = [name for name in new if name not in old or not np.allclose(new[name], old[name], rtol=1e-9, atol=1e-10)]
    gone = sorted(set(old) - set(new))
    STORED.write_text(json.dumps(new, indent=1) + "\n", encoding="utf-8")
    print(
        f"{STORED}: {len(new)} digests; changed: {', '.join(changed) or 'none'}"
        + (f"; removed: {', '.join(gone)}" if gone else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
