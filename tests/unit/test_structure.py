"""The package's shape: no import cycles, no private name taken from another module, every public name documented."""

from __future__ import annotations

import sys

from tests.support import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import docstrings  # tools/docstrings.py: public names without a docstring, also runnable alone
import imports  # tools/imports.py: the import graph, also runnable alone


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


def test_every_public_name_is_documented():
    assert docstrings.undocumented() == []


def test_the_docstring_checker_finds_each_kind_of_public_name(tmp_path):
    pkg = tmp_path / "denoiser"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('"""A package."""\n')
    (pkg / "a.py").write_text(
        "def f():\n    pass\n\n\ndef _private():\n    pass\n\n\n"
        'class C:\n    """Documented."""\n\n    def method(self):\n        pass\n\n    def _own(self):\n        pass\n'
    )
    assert docstrings.undocumented(tmp_path) == [
        "denoiser/a.py:1 (module)",
        "denoiser/a.py:1 f",
        "denoiser/a.py:12 C.method",
    ]
