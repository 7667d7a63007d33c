"""Every public name of the package and the app documented: modules, classes, functions and methods.

``python tools/docstrings.py`` prints each public name without a docstring (exit status 1 if
any); ``make lint`` runs it and ``tests/unit/test_structure.py`` asserts there are none. Public:
a name not starting with "_", at a module's top level or in a public class (properties count).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("denoiser", "app_pages")  # the package and the app's shared code and pages
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def undocumented(root: Path = ROOT) -> list[str]:
    """'path:line name' for every public module, class, function or method without a docstring."""
    out = []
    for path in sorted(p for package in PACKAGES for p in (root / package).rglob("*.py")):
        rel = path.relative_to(root)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not ast.get_docstring(tree):
            out.append(f"{rel}:1 (module)")
        for node in tree.body:
            if not isinstance(node, DEFINITIONS) or node.name.startswith("_"):
                continue
            if not ast.get_docstring(node):
                out.append(f"{rel}:{node.lineno} {node.name}")
            if isinstance(node, ast.ClassDef):
                for member in node.body:
                    if (
                        isinstance(member, DEFINITIONS)
                        and not member.name.startswith("_")
                        and not ast.get_docstring(member)
                    ):
                        out.append(f"{rel}:{member.lineno} {node.name}.{member.name}")
    return out


def main() -> int:
    missing = undocumented()
    for m in missing:
        print("undocumented: " + m)
    return int(bool(missing))


if __name__ == "__main__":
    sys.exit(main())
