"""The package's shape: no import cycles, no private name taken from another module."""

from __future__ import annotations

import sys

from tests.support import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import imports  # noqa: E402  (tools/imports.py: the import graph, also runnable alone)


def test_no_import_cycles():
    assert imports.cycles(imports.graph()) == []


def test_no_private_names_across_modules():
    assert imports.private_imports() == []


def test_the_checker_finds_a_cycle_and_a_private_import(tmp_path):
    pkg = tmp_path / "denoiser"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from denoiser.b import _hidden\n")
    (pkg / "b.py").write_text("def f():\n    from denoiser import a\n_hidden = 1\n")
    assert imports.cycles(imports.graph(tmp_path)) == [["denoiser.a", "denoiser.b"]]
    assert imports.private_imports(tmp_path) == ["denoiser.a:1 imports _hidden from denoiser.b"]
