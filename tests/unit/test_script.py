"""The Compare page's reproducing script (denoiser.script) stays inert whatever the names in it: every
user-controlled field (file, column, clean column and file, model) with text that ends a line or a
string somewhere (LF, CR, NEL, LINE SEPARATOR, quotes, backslashes) gives a script that runs, writes
its output and runs no payload; its literals and comments are one printable line each.

The scripts run in one fresh Python process (tests.support.run_scripts). The path from a hostile
upload through the app to the script is tested in tests/app/test_script_matrix.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.hostile import craft
from tests.support import run_scripts

# Text that ends a line (or a string) in some reader of the script: LF, CR, NEL, LINE SEPARATOR,
# quotes and backslashes; each carries a statement that would leave a file behind if it ran.
SCRIPT_PAYLOADS = [
    "a\nimport os; open('PWNED', 'w').close()\n#",
    "b\rimport os; open('PWNED', 'w').close()\r#",
    "c\u2028import os; open('PWNED', 'w').close()\u2028#",
    "d\x85import os; open('PWNED', 'w').close()\x85#",
    "e'\"); open('PWNED', 'w').close(); ('\\",
    "f\\\nopen('PWNED', 'w').close()\n'''",
]


def _script_case(folder: Path, payload: str, field: str, model: bytes) -> str:
    """One upload with ``payload`` in ``field`` (file, column, clean, clean_file, model), written to
    ``folder`` as the user would have it (data, clean file, model file); returns the script the
    Compare page writes for it (the same recipe as its download: a typed sigma on the column shown)."""
    from denoiser.apply import Level, Recipe
    from denoiser.io import read_series
    from denoiser.script import MODEL_FILE, file_script

    folder.mkdir()
    safe = "recording"
    file = f"{payload.replace('/', '_')}.csv" if field == "file" else f"{safe}.csv"
    clean_file = f"{payload.replace('/', '_')}_clean.csv" if field == "clean_file" else f"{safe}_clean.csv"
    column = payload if field == "column" else "v"
    clean = payload if field == "clean" else "truth"
    rows = "\n".join(f"{i},{np.sin(i / 4) + 0.1 * ((i * 7) % 5 - 2):.4f}" for i in range(96))
    quote = lambda name: '"' + name.replace('"', '""') + '"'  # noqa: E731 -- a CSV header cell
    (folder / file).write_bytes(f"t,{quote(column)}\n{rows}\n".encode())
    (folder / clean_file).write_bytes(f"t,{quote(clean)}\n{rows}\n".encode())
    (folder / MODEL_FILE).write_bytes(model)
    # the names as the app has them (the reader reads a CR inside quotes as a newline)
    column = read_series(folder / file).values.columns[0]
    clean = read_series(folder / clean_file).values.columns[0]
    if field in ("column", "clean"):
        name = column if field == "column" else clean
        assert len(name.splitlines()) > 1 or "'" in name, name  # still hostile
    label = payload if field == "model" else "my model"
    recipe = Recipe(model=MODEL_FILE, columns=(column,), levels=((column, Level(sigma=0.1)),))
    return file_script(recipe, file, model_label=label, clean=(column, clean, clean_file))


def test_no_header_file_or_model_name_can_put_code_into_the_script(tmp_path: Path) -> None:
    """Every user-controlled field of the Compare page's script, with every payload: the scripts run,
    write their output, and no payload statement runs (issue 21, item 1)."""
    import ast

    model = craft.base_model()
    cases = []
    for i, payload in enumerate(SCRIPT_PAYLOADS):
        for field in ("file", "column", "clean", "clean_file", "model"):
            folder = tmp_path / f"case{i}_{field}"
            script = _script_case(folder, payload, field, model)
            tree = ast.parse(script)  # it parses, and holds only the statements a plain name gives:
            kinds = [type(node).__name__ for node in tree.body]
            assert kinds == [
                "Expr",
                "Import",
                "ImportFrom",
                "Assign",
                "Assign",
                "Assign",
                "With",
                "Expr",
                "Assign",
                "Assign",
                "Assign",
                "Expr",
            ], (field, payload, script)
            (folder / "reproduce.py").write_text(script, encoding="utf-8")
            cases.append(folder)
    done = run_scripts(cases, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not list(tmp_path.rglob("PWNED")), "a payload ran"
    from denoiser.script import out_name

    for folder in cases:
        data = next(
            p
            for p in folder.iterdir()
            if p.suffix == ".csv" and "_clean" not in p.name and not p.name.endswith("_denoised.csv")
        )
        assert (folder / out_name(data.name)).stat().st_size > 0, folder
    assert done.stdout.count("MSE noisy") == len(cases)


def test_script_literals_and_comments_are_inert() -> None:
    from denoiser.text import inert_comment, py_literal

    for payload in SCRIPT_PAYLOADS + ["\x1b[2J", "\x00", "\u2029", "\x0b\x0c\x1c\x1d\x1e", "x" * 10_000]:
        comment = inert_comment(f"model {payload}")
        assert comment.startswith("# ") and len(comment.splitlines()) == 1 and comment.isprintable()
        assert len(comment) <= 202
        literal = py_literal(payload)
        assert ast_literal(literal) == payload and len(literal.splitlines()) == 1
    assert ast_literal(py_literal({"a": [1, 2.5, None, True], "b": ("x",)})) == {"a": [1, 2.5, None, True], "b": ("x",)}
    assert py_literal(float("inf")) == "float('inf')" and py_literal((0, 3)) == "(0, 3)"
    assert np.isnan(ast_literal(py_literal(float("nan"))))
    with pytest.raises(TypeError):
        py_literal(object())


def ast_literal(text: str) -> object:
    """A literal as Python reads it (``float('nan')`` and ``float('inf')`` included)."""
    import ast

    tree = ast.parse(text, mode="eval")
    if isinstance(tree.body, ast.Call):
        return float(tree.body.args[0].value)
    return ast.literal_eval(tree)
