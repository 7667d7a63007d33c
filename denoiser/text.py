"""Text that came from a file or a user, made safe for where it goes: one place for every rule.

Column headers, file names, model names and notes are written by someone else. Wherever
such text is echoed (a message, a summary line, the app, a comment in generated code) it
goes through one of these functions, never through an f-string alone:

* :func:`one_line` -- every run of whitespace (newlines, CR, tabs, U+0085, U+2028, U+2029,
  NBSP...) becomes one space, other unprintable characters (ANSI escapes, NUL, bidi
  overrides) are shown escaped (``\\x1b``); nothing can start a new line or hide text.
* :func:`cut` -- :func:`one_line`, at most ``limit`` characters (default :data:`MAX_ECHO`),
  ending in "…" when cut: a million-digit column name costs 80 characters of a message.
* :func:`quoted` -- ``repr()`` of a name, cut the same way: ``'a\\nb'`` in a message.
* :func:`listed` -- a few quoted names and how many more: ``'a', 'b', 'c' and 997 more``.
* :func:`markdown` -- text for Streamlit's Markdown elements, every sign escaped.
* :func:`py_literal` and :func:`inert_comment` -- the only ways text enters generated
  Python code: a literal (``repr`` for strings) or a comment that nothing can end early.

Nothing here imports anything but the standard library.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "MAX_ECHO",
    "MAX_PATH_ECHO",
    "cut",
    "inert_comment",
    "listed",
    "markdown",
    "one_line",
    "printable",
    "py_literal",
    "quoted",
]

MAX_ECHO = 80  # characters of one echoed name or cell (the "80 characters with an ellipsis")
MAX_PATH_ECHO = 300  # characters of an echoed path: the user's own folders come before the file's name
ELLIPSIS = "…"
_MARKDOWN_SIGNS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$=&^\"'])")


def _escaped(char: str) -> str:
    """An unprintable character as Python writes it in a string literal (``\\x1b``, ``\\u202e``)."""
    return repr(char)[1:-1]


def one_line(text: object) -> str:
    """``text`` on one line of printable characters.

    Every run of whitespace, line breaks of any kind included (``str.split`` knows all of
    Unicode's: LF, CR, VT, FF, FS/GS/RS, NEL U+0085, U+2028, U+2029), becomes one space;
    any other unprintable character (controls, ANSI escapes, zero-width and bidi
    formatting characters) is written as its escape, so it is seen and does nothing.
    """
    line = " ".join(str(text).split())
    if line.isprintable():
        return line
    return "".join(c if c.isprintable() else _escaped(c) for c in line)


def printable(text: object) -> str:
    """``text`` with every unprintable character (line breaks and tabs included) written as its escape.

    Unlike :func:`one_line` nothing is merged: ``a\rb.csv`` stays tellable from ``a b.csv``
    (file paths in a summary, where the row must stay one row and the path recognisable).
    """
    line = str(text)
    return line if line.isprintable() else "".join(c if c.isprintable() else _escaped(c) for c in line)


def cut(text: object, limit: int = MAX_ECHO) -> str:
    """:func:`one_line` of ``text``, at most ``limit`` characters, "…" at the end when cut."""
    raw = str(text)
    # A huge text is cut before it is cleaned: the escapes only make it longer.
    line = one_line(raw[: 4 * limit] if len(raw) > 4 * limit else raw)
    if len(line) <= limit and len(raw) <= 4 * limit:
        return line
    return line[: max(0, limit - 1)] + ELLIPSIS


def quoted(value: object, limit: int = MAX_ECHO) -> str:
    """``repr(value)`` for a message, at most ``limit`` characters: ``'sensor a'``, ``'a\\nb'``, ``'xxxx…'``.

    ``repr`` escapes line breaks and unprintable characters, so the result is one line.
    """
    text = str(value)
    if isinstance(value, str) and len(text) > 4 * limit:
        value = text[: 4 * limit]  # repr of a million characters only to cut it: cut first
        long = True
    else:
        long = False
    shown = repr(value)
    if len(shown) <= limit and not long:
        return shown
    close = shown[-1] if isinstance(value, str) else ""
    return shown[: max(1, limit - 1 - len(close))] + ELLIPSIS + close


def listed(names: Iterable[object], limit: int = MAX_ECHO, most: int = 5) -> str:
    """At most ``most`` quoted names and how many more: ``'a', 'b', 'c' and 997 more``."""
    items = list(names)
    shown = ", ".join(quoted(n, limit) for n in items[:most])
    return shown if len(items) <= most else f"{shown} and {len(items) - most:,} more"


def markdown(text: object, limit: int | None = None) -> str:
    """Text from a file (file, column or model names, notes, messages) for a Markdown element.

    st.markdown, st.caption, st.error and widget labels render Markdown, and a Markdown
    image makes every viewer's browser fetch a URL chosen by whoever wrote the file.
    Every ASCII punctuation sign is backslash-escaped (CommonMark shows it literally)
    and the text is put on one line (:func:`one_line`; cut at ``limit`` characters when
    given), so it is shown as written and nothing else.
    """
    line = one_line(text) if limit is None else cut(text, limit)
    return _MARKDOWN_SIGNS.sub(r"\\\1", line)


# ------------------------------------------------------------ generated code
_LITERALS = (type(None), bool, int, float, str)


def py_literal(value: Any) -> str:
    """``value`` as a Python literal for generated code; the only way a value enters a script.

    Strings through ``repr`` (every quote, backslash, line break and unprintable character
    escaped: a header cannot close the string or start a statement); numbers as numbers
    (NaN and infinities as ``float('nan')``, since ``repr`` gives a bare name); tuples,
    lists and dicts of those, recursively. Anything else is refused: generated code never
    holds an object's own ``repr``.

    Raises
    ------
    TypeError
        For a value that is not a literal of these types.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, _LITERALS):
        return repr(value)
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # a NumPy scalar
        return py_literal(value.item())
    if isinstance(value, tuple):
        inner = ", ".join(py_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no literal for generated code from {type(value).__name__}")


def inert_comment(text: object, limit: int = 200) -> str:
    """A ``# ...`` comment of ``text`` that ends where the line ends, whatever the text holds.

    Built only from :func:`cut` text: no line break of any kind (a newline, CR, U+0085 or
    U+2028 in a column name would otherwise end the comment and start a statement), no
    unprintable character, at most ``limit`` characters.
    """
    return "# " + cut(text, limit)
