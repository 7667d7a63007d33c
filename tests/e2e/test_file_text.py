"""Text from files in the browser: hostile column names are shown as text and neutralised in the
download, and Markdown images in file text make no request.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pytest

from tests.e2e.steps import (
    UPLOAD_INPUT,
    assert_healthy,
    go,
    metrics,
    number,
    numeric_csv,
    open_page,
    poll,
    screenshot,
    send_file,
    sidebar_text,
    upload,
    wait_for_text,
    wait_idle,
)

pytestmark = pytest.mark.browser


def pick_column(page, name: str) -> None:
    """Add ``name`` to the Upload page's "Column(s) to denoise" (typed into its filter, then Enter)."""
    picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Column(s) to denoise")
    picker.locator("input").click()
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    poll(f"{name!r} to be picked", lambda: name in picker.inner_text())
    wait_idle(page)


def test_hostile_column_names_are_text_and_neutralised_in_the_download(page, tmp_path: Path) -> None:
    """Column names with HTML/script and a spreadsheet formula: shown literally, never run (no dialog,
    no <script> element), and the denoised CSV from Compare has the formula cells prefixed with ' ."""
    script, formula = "<script>alert(1)</script>", "=cmd|' /C calc'!A0"
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    path = tmp_path / "hostile_header.csv"
    numeric_csv(path, [script, formula])
    open_page(page, "/upload", expect="No data yet")
    upload(page, path)
    assert number(metrics(page, "Value columns")["Value columns"]) == 2
    pick_column(page, formula)

    def injected() -> dict[str, object]:
        return page.evaluate("""() => ({
            scripts: [...document.querySelectorAll('script')].filter(s => s.textContent.includes('alert(1)')).length,
            raw: document.querySelector('[data-testid="stMain"]').innerHTML.includes('<script>alert(1)') })""")

    for text in (script, formula):
        assert page.get_by_text(text).first.is_visible(), f"{text!r} is not shown as text"
    assert injected() == {"scripts": 0, "raw": False}
    assert_healthy(page)
    screenshot(page, "upload_hostile_header.png")

    go(page, "Compare", expect="Downloads")
    assert page.get_by_role("combobox", name="Column").input_value() == script
    assert injected() == {"scripts": 0, "raw": False}
    with page.expect_download() as info:
        page.get_by_role("button", name="Denoised CSV").click()
    download = info.value
    assert download.suggested_filename == "hostile_header_denoised.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = list(
        csv.reader(io.StringIO("".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))))
    )  # what was applied: '#' lines
    assert text.startswith("# Denoised with denoiser ")
    header = rows[0]
    assert header == ["time_s", script, "'" + formula, f"{script}_denoised", f"'{formula}_denoised"], header
    assert not [c for c in header if c.startswith(("=", "+", "-", "@"))], header
    assert len(rows) == 301 and all(math.isfinite(float(v)) for v in rows[1][1:]), rows[1]
    assert dialogs == [], f"a dialog opened: {dialogs}"
    assert_healthy(page)


def test_markdown_images_in_file_text_make_no_request(page, tmp_path: Path) -> None:
    """Issue 9: a Markdown image in a column name, a file name and a model's description (train_info.data)
    is shown as text; the browser makes no request for it. The image points only at a loopback address
    nothing listens on (127.0.0.2:9) and at a relative x.png; every such request is caught and aborted."""
    from tests.hostile import craft

    image = craft.MARKDOWN_IMAGE
    caught: list[str] = []
    page.context.route("http://127.0.0.2:9/**", lambda route: (caught.append(route.request.url), route.abort()))
    page.context.route("**/x.png", lambda route: (caught.append(route.request.url), route.abort()))
    seen: list[str] = []
    page.on("request", lambda req: seen.append(req.url))

    def no_image_anywhere(where: str) -> None:
        imgs = page.evaluate("""() => [...document.querySelectorAll('img')].map(i => i.src)
                                      .filter(s => s.includes('x.png') || s.includes('127.0.0.2'))""")
        assert imgs == [], f"{where}: <img> elements for the file's image: {imgs}"
        leaked = [u for u in seen if "x.png" in u or "127.0.0.2" in u]
        assert caught == [] and leaked == [], f"{where}: requests for the file's image: {caught or leaked}"

    rows = "\n".join(f"{i},{math.sin(i / 7):.4f}" for i in range(300))
    data = f"time {image},value {image}\n{rows}\n".encode()
    open_page(page, "/upload", expect="No data yet")
    name = "![c](x.png).csv"
    send_file(page, name, data)
    wait_for_text(page, f"Read: {name}")
    assert page.get_by_text(f"time {image}").first.is_visible(), "the time column's name is not shown as text"
    assert name in sidebar_text(page)
    no_image_anywhere("Upload")

    model = craft.with_meta(craft.base_model(), lambda m: m["train_info"].update(data=f"{image} data"))
    go(page, "Model", expect="Model in use")
    page.get_by_role("tab", name="Upload a model file").click()
    model_name = "![m](x.png).keras"
    page.locator(UPLOAD_INPUT).first.set_input_files(
        {"name": model_name, "mimeType": "application/octet-stream", "buffer": model}
    )
    wait_for_text(page, f"Trained on: {image} data")
    assert f"Uploaded: {model_name}" in sidebar_text(page)
    no_image_anywhere("Model")
    assert_healthy(page)
    go(page, "Compare", expect="Downloads")  # the column and the model's name in its captions
    assert page.get_by_role("combobox", name="Column").input_value() == f"value {image}"
    assert page.get_by_text(f"your model: Uploaded: {model_name}").first.is_visible()
    no_image_anywhere("Compare")
    assert_healthy(page)
    screenshot(page, "markdown_images_as_text.png")
