"""The sample files in assets/samples (CSV, EDF, WAV): listed, and read once per process."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLES = ROOT / "assets" / "samples"


@st.cache_resource(show_spinner=False)
def sample_bytes(name: str) -> bytes:
    """A sample file (CSV, EDF, WAV) from assets/samples, read once per process (shared, read-only bytes)."""
    return (SAMPLES / name).read_bytes()


def sample_names() -> list[str]:
    """The sample files' names, sorted (hidden files left out)."""
    return sorted(p.name for p in SAMPLES.iterdir() if p.is_file() and not p.name.startswith("."))
