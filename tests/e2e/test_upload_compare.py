"""Uploading and comparing in the browser: the read report, Compare's download of the denoised CSV,
a bad file that keeps the data already loaded, the column chips following the file, and a
million-row file that stays interactive (downsampled charts, zoom, the download).
"""

from __future__ import annotations

import csv
import io
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.big_upload import drag_across  # the benchmark's 1M-row file and zoom drag
from bench.big_upload import write_csv as big_csv
from tests.e2e.steps import (
    ERROR_ALERT,
    EXCEPTION,
    FIRST_PAINT_MS,
    PLOT,
    STEP_MS,
    UPLOAD_INPUT,
    assert_healthy,
    assert_no_exception,
    go,
    metrics,
    number,
    open_page,
    plot_lines,
    poll,
    screenshot,
    send_file,
    sidebar_text,
    upload,
    wait_for_text,
    wait_idle,
)
from tests.support import ROOT

pytestmark = pytest.mark.browser


def sensor_csv(path: Path, rows: int = 400) -> dict[str, np.ndarray]:
    """A semicolon-separated CSV with decimal commas: a time column, two noisy channels, a clean one,
    and one gap in sensor_a (row 10). Returns the columns as written."""
    rng = np.random.default_rng(7)
    t = np.arange(rows) * 0.5
    clean = np.sin(2 * np.pi * t / 40)
    cols = {
        "time_s": t,
        "sensor_a": clean + rng.normal(0, 0.2, rows),
        "sensor_b": 0.5 * clean + rng.normal(0, 0.2, rows),
        "clean_a": clean,
    }
    lines = [";".join(cols)]
    for i in range(rows):
        cells = [f"{cols['time_s'][i]:.1f}"] + [f"{cols[c][i]:.5f}" for c in ("sensor_a", "sensor_b", "clean_a")]
        if i == 10:
            cells[1] = ""
        lines.append(";".join(c.replace(".", ",") for c in cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cols


def test_upload_csv_shows_read_report(page, tmp_path: Path) -> None:
    """Upload: a semicolon/decimal-comma CSV through the real file input gives the read report."""
    csv_path = tmp_path / "sensor_log.csv"
    sensor_csv(csv_path)
    open_page(page, "/upload", expect="No data yet")
    upload(page, csv_path)

    shown = metrics(page, "Rows", "Value columns", "Delimiter", "Decimal mark", "Gaps filled")
    assert number(shown["Rows"]) == 400, shown
    assert number(shown["Value columns"]) == 3, shown
    assert shown["Delimiter"] == "semicolon", shown
    assert shown["Decimal mark"] == "comma", shown
    assert shown["Gaps filled"] == "1 of 1", shown
    page.get_by_text("time column 'time_s'").wait_for()
    assert len(plot_lines(page)) >= 2, "preview: the value column and its clean reference"
    assert_healthy(page)
    screenshot(page, "upload.png")


def test_upload_then_compare_downloads_denoised_csv(page, tmp_path: Path) -> None:
    """Upload a semicolon/decimal-comma file → pick two columns → Compare (same session) with a typed sigma
    → the denoised CSV comes back in the file's own form (';', decimal commas, what was applied in '#'
    lines, the filled gap empty and flagged), the network really removed noise, and the page's Python
    script, run on the original file, makes the same file (issue 19, items 1 and 4)."""
    csv_path = tmp_path / "sensor_log.csv"
    written = sensor_csv(csv_path)
    open_page(page, "/upload", expect="No data yet")
    upload(page, csv_path)

    picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Column(s) to denoise")
    picker.locator("input").click()
    page.keyboard.type("sensor_b")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    poll("sensor_b to be picked", lambda: "sensor_b" in picker.inner_text() and "sensor_a" in picker.inner_text())
    wait_idle(page)

    go(page, "Compare", expect="Downloads")
    wait_for_text(page, "Metrics against the clean reference")  # clean_a was recognised
    assert page.get_by_role("radio", name="Uploaded data").is_checked(), "Compare should show the upload"
    assert len(plot_lines(page)) >= 3, "noisy, clean and network traces"
    page.locator('[data-testid="stRadio"]').filter(has_text="Noise level").get_by_text("I know sigma").click()
    box = page.get_by_role("spinbutton", name="Noise sigma (in the data's units)")
    box.wait_for()
    box.fill("0.2")
    box.press("Enter")
    poll("the typed sigma in use", lambda: "given: 0.2" in page.locator('[data-testid="stMain"]').inner_text())
    wait_idle(page)
    assert_healthy(page)
    screenshot(page, "compare.png")

    with page.expect_download() as info:
        page.get_by_role("button", name="Denoised CSV").click()
    download = info.value
    assert download.suggested_filename == "sensor_log_denoised.csv"
    data = Path(download.path()).read_bytes()
    text = data.decode("utf-8")
    lines = text.splitlines()
    comments = [line for line in lines if line.startswith("#")]
    assert comments[0].startswith("# Denoised with denoiser ") and len(comments) == 4, comments
    assert "(given: 0.2)" in comments[1] and comments[1].startswith("# sensor_a: ")
    assert "(estimated from the data)" in comments[2] and comments[2].startswith("# sensor_b: ")
    rows = list(csv.reader(io.StringIO("\n".join(lines[len(comments) :])), delimiter=";"))  # the file's own ';'
    header, body = rows[0], rows[1:]
    assert header == [
        "time_s",
        "sensor_a",
        "sensor_b",
        "clean_a",
        "sensor_a_denoised",
        "sensor_b_denoised",
        "sensor_a_filled",
    ], header
    assert len(body) == 400 and body[1][0] == "0,5" and "." not in "".join(body[1])  # decimal commas
    assert body[10][1] == "" and body[10][-1] == "1" and body[11][-1] == "0"  # the gap: as it came, flagged
    table = {
        name: np.array([float(r[i].replace(",", ".")) if r[i] else np.nan for r in body])
        for i, name in enumerate(header)
    }
    assert np.allclose(table["time_s"], written["time_s"])
    assert all(math.isfinite(v) for v in table["sensor_a_denoised"])
    err_noisy = np.nanmean((table["sensor_a"] - written["clean_a"]) ** 2)
    err_denoised = np.mean((table["sensor_a_denoised"] - written["clean_a"]) ** 2)
    assert err_denoised < err_noisy, (err_noisy, err_denoised)

    with page.expect_download() as info:
        page.get_by_role("button", name="Python script").click()
    work = tmp_path / "script_run"
    work.mkdir()
    (work / "sensor_log.csv").write_bytes(csv_path.read_bytes())
    (work / "reproduce.py").write_bytes(Path(info.value.path()).read_bytes())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "reproduce.py"], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    made = (work / "sensor_log_denoised.csv").read_bytes()
    from denoiser.io import read_series

    mine, theirs = read_series(made), read_series(data)
    assert made.splitlines()[:2] == data.splitlines()[:2] and list(mine.values.columns) == list(theirs.values.columns)
    for name in theirs.values.columns:  # to the file's last digit (the network is float32)
        np.testing.assert_allclose(mine.column(name), theirs.column(name), rtol=0, atol=1.01e-6)
    assert_healthy(page)


def test_bad_file_keeps_the_data_already_loaded(page, tmp_path: Path) -> None:
    """A good CSV, then a PNG named bad.csv and an empty file through the same file input: each gives
    a specific error message, no traceback, and the good data stays loaded (report, sidebar, Compare)."""
    good = tmp_path / "sensor_log.csv"
    sensor_csv(good)
    open_page(page, "/upload", expect="No data yet")
    upload(page, good)

    bad = [
        ("bad.csv", page.screenshot(), "The file 'bad.csv' looks like a PNG image, not a CSV text file."),
        ("empty.csv", b"", "The file 'empty.csv' is empty."),
    ]  # phrases of denoiser/io/guards.py's _check_magic
    for name, data, phrase in bad:
        send_file(page, name, data)
        alert = page.locator('[data-testid="stAlert"]').filter(has_text=phrase)
        alert.or_(page.locator(EXCEPTION)).first.wait_for()
        assert_no_exception(page)
        wait_idle(page)
        assert alert.locator(ERROR_ALERT).count() == 1, "shown as an error"
        shown = page.locator(ERROR_ALERT).all_inner_texts()
        assert len(shown) == 1, f"one message, the latest: {shown}"
        text = alert.inner_text()
        assert "Your previous data (sensor_log.csv) is still loaded." in text, text
        page.get_by_text("Read: sensor_log.csv").wait_for()
        assert number(metrics(page, "Rows")["Rows"]) == 400
        assert "Uploaded data: sensor_log.csv" in sidebar_text(page)
        assert not page.js_errors, page.js_errors
        screenshot(page, f"upload_bad_{name.split('.')[0]}.png")

    go(page, "Compare", expect="Downloads")
    wait_for_text(page, "Metrics against the clean reference")
    assert page.get_by_role("radio", name="Uploaded data").is_checked(), "Compare should still show the upload"
    column = page.get_by_role("combobox", name="Column").input_value()
    assert column == "sensor_a", column
    assert_healthy(page)


# ------------------------------------------------------------------ columns
def column_chips(page) -> list[str]:
    """The chips of the Upload page's "Column(s) to denoise" (what the user sees is picked)."""
    picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Column(s) to denoise")
    picker.wait_for()
    lines = [line.strip() for line in picker.inner_text().splitlines() if line.strip()]
    return [line for line in lines[1:] if line not in ("Choose options", "No results")]  # after the label


def headerless_csv(path: Path, rows: int = 300) -> None:
    """No header; the first column is the sample index 0, 1, 2, ... (the axis, not a signal)."""
    rng = np.random.default_rng(5)
    lines = [f"{i},{math.sin(i / 15) + rng.normal(0, 0.1):.5f},{math.cos(i / 9):.5f}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_switching_files_the_column_chips_follow(page, tmp_path: Path) -> None:
    open_page(page, "/upload", expect="Or try a sample", timeout=FIRST_PAINT_MS)
    sensors = tmp_path / "sensors.csv"
    sensor_csv(sensors)
    upload(page, sensors)
    poll("sensor_a chosen", lambda: column_chips(page) == ["sensor_a"])
    headerless = tmp_path / "counts.csv"
    headerless_csv(headerless)
    upload(page, headerless)
    # The chips name the new file's signal (not its index column, not sensor_a of the first file)
    poll("col2 chosen", lambda: column_chips(page) == ["col2"])
    assert "time column 'col1'" in page.locator('[data-testid="stMain"]').inner_text()
    assert "Clean reference for 'col2'" in page.locator('[data-testid="stMain"]').inner_text()
    page.get_by_role("button", name="Two sensors").click()
    wait_for_text(page, "Read: two_sensors.csv")
    poll("sensor_a chosen after the sample", lambda: column_chips(page) == ["sensor_a"])
    # The uploader was emptied, so the earlier file can be chosen again, and it is read again
    uploader = page.locator('[data-testid="stFileUploader"]').first
    assert "counts.csv" not in uploader.inner_text()
    upload(page, headerless)
    poll("col2 chosen again", lambda: column_chips(page) == ["col2"])
    assert_healthy(page)
    screenshot(page, "upload_columns.png")


# ------------------------------------------------------------------ a million rows
POINTS_JS = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')].map(
    el => (el._fullData || el.data || []).reduce((n, t) => n + (t._length || (t.x && t.x.length) || 0), 0))"""


def chart_points(page) -> list[int]:
    """Points held by each Plotly chart in the tab (every trace's x values, counted in the browser)."""
    return page.evaluate(POINTS_JS)


def test_a_million_row_file_stays_interactive(page, tmp_path: Path) -> None:
    """Upload preview and Compare on 1,000,448 rows: each chart holds a few thousand points (a min/max-
    preserving downsample), zoom redraws a range at full resolution, the download comes. Timings: bench."""
    big = tmp_path / "big.csv"
    big_csv(big)
    open_page(page, "/upload", expect="Or try a sample", timeout=FIRST_PAINT_MS)
    page.locator(UPLOAD_INPUT).first.set_input_files(str(big))
    wait_for_text(page, "Read: big.csv", FIRST_PAINT_MS)
    page.locator(PLOT).first.locator(".main-svg").first.wait_for()
    wait_idle(page)
    assert metrics(page, "Rows")["Rows"] == "1,000,448"
    points = chart_points(page)
    assert points and min(points) > 0 and max(points) <= 50_000, points
    assert "Showing samples 0 to 1,000,448" in page.locator('[data-testid="stMain"]').inner_text()
    # Zoom with the keyboard on the range's upper end: a narrower range, still within the budget
    go(page, "Compare", expect="Downloads", timeout=FIRST_PAINT_MS)
    page.get_by_role("button", name="Denoised CSV").wait_for(timeout=FIRST_PAINT_MS)
    points = chart_points(page)
    assert points and min(points) > 0 and max(points) <= 50_000, points
    # Zoom by dragging across the chart (box select), twice: 10 % of the file, then 2 % of that
    main = page.locator('[data-testid="stMain"]')
    drag_across(page, 0.40, 0.50)
    poll("a zoomed range", lambda: "Showing samples 0 to" not in main.inner_text(), STEP_MS)
    wait_idle(page)
    drag_across(page, 0.40, 0.42)
    poll("a zoomed range drawn at full resolution", lambda: "every sample" in main.inner_text(), STEP_MS)
    wait_idle(page)
    points = chart_points(page)
    assert points and min(points) > 0 and max(points) <= 50_000, points
    with page.expect_download() as info:
        page.get_by_role("button", name="Denoised CSV").click()
    head = [
        line
        for line in Path(info.value.path()).read_text(encoding="utf-8").splitlines()[:8]
        if not line.startswith("#")
    ]
    assert head[0].startswith("time_s,signal,signal_denoised"), head
    assert "short recording" not in main.inner_text()  # issue 19: said of a million samples before
    assert_healthy(page)
    screenshot(page, "compare_big.png")
