"""The Upload page with instrument files (issue 22): an EDF upload, its rate groups offered, a part chosen;
the two non-CSV samples one click away. Streamlit's AppTest, no browser."""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit")
from tests.hostile import formats as craft  # after importorskip
from tests.support import metric, start  # after importorskip


def test_an_edf_upload_offers_its_rate_groups_and_reads_the_one_chosen() -> None:
    at = start("upload")
    at.file_uploader(key="uploader").set_value(("night.edf", craft.edf_file(30), "application/octet-stream")).run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    assert metric(at, "Format") == "EDF/BDF recording" and metric(at, "Sample rate") == "256 Hz"
    assert metric(at, "Rows") == "7,680"
    text = "\n".join(t.value for t in at.text)
    assert "uV" in text  # the unit, as plain text
    choice = next(s for s in at.selectbox if s.label.startswith("Rate group"))
    assert choice.options == ["256 Hz: 'EEG Fpz'", "1 Hz: 'Temp'"] and choice.value == "256 Hz: 'EEG Fpz'"
    choice.set_value("1 Hz: 'Temp'").run()
    assert not at.exception and not at.error
    assert at.session_state.table.report.part == "1 Hz: 'Temp'"
    assert metric(at, "Sample rate") == "1 Hz" and metric(at, "Rows") == "30"
    assert at.session_state.upload_columns == ["Temp"]


def test_the_wav_and_edf_samples_are_one_click_away() -> None:
    at = start("upload")
    next(b for b in at.button if b.label == "Vibration (WAV)").click().run()
    assert not at.exception and not at.error
    assert metric(at, "Format") == "WAV audio" and metric(at, "Sample rate") == "8,000 Hz"
    assert at.session_state.upload_columns == ["ch1"]
    next(b for b in at.button if b.label == "EEG (EDF)").click().run()
    assert not at.exception and at.session_state.table.report.format == "edf"
    assert at.session_state.upload_columns == ["EEG O1"]
