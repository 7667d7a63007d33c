"""Which columns are signals (`SeriesTable.signal_columns`), and that the CLI and a batch denoise only those.

An index column (``n``, ``Nr``, ``frame``, ``Messpunkt``), a year column or a clean reference is never
denoised by default (it was: ``n_denoised``); an explicit ``--column`` still wins.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from denoiser.batch import BatchOptions, process_file
from denoiser.io import read_series
from denoiser.io.columns import axis_like, is_reference


def _csv(path: Path, rows: int = 400) -> Path:
    """An index 'n' (not a time word), a year column, a clean reference and two noisy signals."""
    rng = np.random.default_rng(0)
    t = np.arange(rows)
    clean = np.sin(2 * np.pi * t / 80)
    pd.DataFrame(
        {
            "n": t,  # 0, 1, 2, ...: an index the time detector does not take
            "Jahr": 1900 + t // 12,  # whole years, non-decreasing
            "sensor": np.round(clean + 0.2 * rng.standard_normal(rows), 4),
            "Clean_sensor": np.round(clean, 4),
            "other": np.round(np.cos(t / 9) + 0.2 * rng.standard_normal(rows), 4),
        }
    ).to_csv(path, index=False)
    return path


def test_signal_columns_leave_out_index_year_and_clean(tmp_path: Path) -> None:
    table = read_series(_csv(tmp_path / "r.csv"))
    assert "n" in table.values.columns and "Jahr" in table.values.columns  # value columns, as before
    assert table.signal_columns == ["sensor", "other"]


@pytest.mark.parametrize("name", ["Nr", "frame", "Messpunkt"])
def test_index_columns_of_any_name_are_an_axis(tmp_path: Path, name: str) -> None:
    path = tmp_path / "i.csv"
    pd.DataFrame({name: np.arange(1, 101), "v": np.sin(np.arange(100) / 5)}).to_csv(path, index=False)
    assert read_series(path).signal_columns == ["v"]


def test_every_column_excluded_falls_back_to_the_others(tmp_path: Path) -> None:
    path = tmp_path / "ramp.csv"
    pd.DataFrame({"a": np.arange(50.0), "clean": np.arange(50.0) ** 2}).to_csv(path, index=False)
    assert read_series(path).signal_columns == ["a"]  # the non-reference column: something to offer


def test_axis_like_and_is_reference() -> None:
    assert axis_like(np.arange(20) * 0.5 + 3) and axis_like(np.repeat(np.arange(1990, 1995), 4))
    assert not axis_like(np.arange(10))  # too short to tell
    assert not axis_like(np.sin(np.arange(40)))
    assert is_reference("TRUTH_a") and is_reference("my reference") and not is_reference("sensor")


def test_ui_helpers_are_the_package_ones() -> None:
    pytest.importorskip("streamlit")
    from app_pages.ui import data

    assert data.is_reference is is_reference  # the Upload page's clean-reference guess (data.clean_guess)


def test_cli_denoises_only_signal_columns_unless_told(tmp_path: Path, cli) -> None:
    _csv(tmp_path / "r.csv")
    res = cli("denoise", "r.csv", "-o", "out.csv", "--model", "none", "-q")
    assert res.returncode == 0, res.stderr
    out = pd.read_csv(tmp_path / "out.csv", comment="#")
    assert [c for c in out.columns if c.endswith("_denoised")] == ["sensor_denoised", "other_denoised"]
    res = cli("denoise", "r.csv", "-o", "n.csv", "--model", "none", "-q", "--column", "n")
    assert res.returncode == 0, res.stderr
    assert [c for c in pd.read_csv(tmp_path / "n.csv", comment="#").columns if c.endswith("_denoised")] == [
        "n_denoised"
    ]


def test_batch_file_denoises_only_signal_columns(tmp_path: Path) -> None:
    src = _csv(tmp_path / "r.csv")
    row = process_file(str(src), str(tmp_path / "o.csv"), BatchOptions(model="none"))
    assert row["status"] == "ok", row["error"]
    assert row["columns"] == "sensor | other"
    cols = pd.read_csv(tmp_path / "o.csv", comment="#").columns
    assert [c for c in cols if c.endswith("_denoised")] == ["sensor_denoised", "other_denoised"]
    row = process_file(str(src), str(tmp_path / "p.csv"), BatchOptions(model="none", columns=("Jahr",)))
    assert row["status"] == "ok" and row["columns"] == "Jahr"
