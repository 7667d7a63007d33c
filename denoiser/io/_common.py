"""What the io modules share below all of them: the wording of counts and of the file's name, and the
chunk size of byte scans. It imports nothing of the package, so every module can use it."""

from __future__ import annotations

from denoiser.text import quoted

SCAN_CHUNK = (
    8 * 1024**2
)  # bytes per step of a scan over a whole file (UTF-8 check, line lengths): temporaries stay small


def counted(n: int, word: str, plural: str | None = None) -> str:
    """'1 value', '3 values', '2,500 lines': a count with its word, for notes read by people.

    Parameters
    ----------
    n : int
        How many.
    word : str
        The singular.
    plural : str, optional
        The plural where it is not ``word + "s"`` ("entries").
    """
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def the_file(name: str | None, capital: bool = True) -> str:
    """The file as a message names it: "The file 'a.csv'" (quoted, cut at 80 characters, one line), or "The file".

    ``capital=False`` for the middle of a sentence ("the file 'a.csv'").
    """
    text = f"the file {quoted(name)}" if name else "the file"  # a name cut at 80 characters, on one line
    return text[0].upper() + text[1:] if capital else text
