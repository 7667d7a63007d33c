"""The package's import graph: cycles and private names imported across modules.

``python tools/imports.py`` prints both (exit status 1 if any); ``tests/unit/test_structure.py``
asserts there are none. Every import counts, at module level or inside a function: a lazy
import hides a cycle from Python, not from a reader.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "denoiser"


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every package import in one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    base = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE and alias.name in known:
                    found.append((alias.name, [], node.lineno))
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:  # relative import
                anchor = base.split(".")[: len(base.split(".")) - node.level + 1]
                mod = ".".join([*anchor, mod] if mod else anchor)
            if mod.split(".")[0] != PACKAGE:
                continue
            taken = []
            for alias in node.names:
                sub = f"{mod}.{alias.name}"
                if sub in known:  # "from denoiser import selfsup": a module
                    found.append((sub, [], node.lineno))
                else:
                    taken.append(alias.name)
            if taken and mod in known:
                found.append((mod, taken, node.lineno))
    return found


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    known = modules(root)
    g: dict[str, set[str]] = {m: set() for m in known}
    for name, path in known.items():
        for target, _, _ in imports(name, path, known):
            # a package's __init__ re-exporting its own modules is not a dependency of theirs
            if target != name and not (target.startswith(name + ".") and known[name].name == "__init__.py"):
                if not name.startswith(target + ".") or known[target].name != "__init__.py":
                    g[name].add(target)
    return g


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def private_imports(root: Path = ROOT) -> list[str]:
    """'module:line imports _name from other.module' for every private name taken across modules."""
    known = modules(root)
    out = []
    for name, path in known.items():
        for target, taken, line in imports(name, path, known):
            for t in taken:
                if t.startswith("_") and not t.endswith("__") and target != name:  # a dunder (__version__) is public
                    out.append(f"{name}:{line} imports {t} from {target}")
    return out


def main() -> int:
    found = cycles(graph())
    private = private_imports()
    for c in found:
        print("cycle: " + " -> ".join(c))
    for p in private:
        print("private: " + p)
    return int(bool(found or private))


if __name__ == "__main__":
    sys.exit(main())
