"""Wording shared by the reader's messages: counts and the file's name."""

from __future__ import annotations

from denoiser.text import quoted


def _count(n: int, word: str, plural: str | None = None) -> str:
    """'1 value', '3 values': notes are read by people."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def _the_file(name: str | None, capital: bool = True) -> str:
    text = f"the file {quoted(name)}" if name else "the file"  # a name cut at 80 characters, on one line
    return text[0].upper() + text[1:] if capital else text
