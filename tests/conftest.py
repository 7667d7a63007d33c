"""Fixtures for every test folder (helpers that are not fixtures live in tests/support.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hostile import craft


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, craft.Crafted]]:
    """Every file of tests/hostile/craft.py (crafted model files and CSVs), made once per test module
    into a folder of its own: (the folder, name -> what each file is and whether it must be refused)."""
    folder = tmp_path_factory.mktemp("hostile")
    return folder, {c.name: c for c in craft.craft_all(folder)}


@dataclass
class CliResult:
    """What a command line run left behind: like ``subprocess.CompletedProcess``."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., CliResult]:
    """``python -m denoiser ARGS`` run in this process, in ``cwd`` (default: the test's tmp_path).

    The same ``denoiser.cli.main`` the entry point calls, with its exit status and what it printed;
    only TensorFlow's start-up (seconds per call) is saved. A few tests still run the real
    ``python -m denoiser`` in a subprocess (``tests.support.cli_subprocess``): the entry point itself, TensorFlow's
    own C++ logging kept off stderr, and a read that must not hang the test run if it does.
    """
    from denoiser import cli as cli_module

    def run(*args: str, cwd: Path = tmp_path) -> CliResult:
        monkeypatch.chdir(cwd)
        capsys.readouterr()  # drop what the test printed before
        try:
            code = cli_module.main(list(args))
        except SystemExit as stop:  # argparse: --help, or a usage error
            code = stop.code if isinstance(stop.code, int) else 2
        out = capsys.readouterr()
        return CliResult(code, out.out, out.err)

    return run


# The longest files first: `make test` hands whole files to parallel workers (pytest-xdist,
# --dist loadfile) in collection order, so a long file started last would run on alone at the end.
# (Measured with --durations=0 on 2 cores, issue 20: 45 s for test_app.py down to 11 s for test_modelfile.py.)
LONGEST_FIRST = (
    "test_app.py",
    "test_distribute.py",
    "test_training.py",
    "test_upload_compare.py",
    "test_batch.py",
    "test_core.py",
    "test_script_matrix.py",
    "test_demo.py",
    "test_cli.py",
    "test_file_text.py",
    "test_stream.py",
    "test_lstm_search.py",
    "test_selfsup.py",
    "test_links.py",
    "test_script.py",
    "test_modelfile.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: order within a file kept
