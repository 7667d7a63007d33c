"""File-derived text (file, column and model names, notes, messages) made safe for the page.

One rule for all of it, :mod:`denoiser.text`: here only its two uses in the app, Markdown
elements (:func:`plain`) and widget option lists (:func:`short`).
"""

from __future__ import annotations

from denoiser.text import MAX_ECHO, cut, markdown

NAME = MAX_ECHO  # characters of a name shown on a page (80, then "…")


def plain(text: object, limit: int | None = None) -> str:
    """Text from a file (file, column or model names, notes, messages) for a Markdown element.

    :func:`denoiser.text.markdown` (the one place for the rule): every sign escaped, one line;
    ``limit``: cut at that many characters (names: ``NAME``, 80), messages whole.
    """
    return markdown(text, limit)


def short(name: object) -> str:
    """A name from a file for a widget's option list (plain text there): one line, at most NAME characters."""
    return cut(name, NAME)
