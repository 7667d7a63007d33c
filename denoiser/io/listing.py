"""Which files a batch reads: file names and glob patterns, listed without following links.

``expand_inputs(["recordings/**/*.csv"])`` lists what a pattern matches with our own walk (not
``glob``): symbolic links met on the way are recorded, never followed (two links pointing back up
made ``glob`` list 2**40 paths; a link to a file elsewhere was read and copied out).
"""
from __future__ import annotations

import fnmatch
import glob
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from denoiser.errors import InputError
from denoiser.text import MAX_PATH_ECHO, quoted

__all__ = ["Inputs", "MAX_INPUTS", "expand_inputs"]

MAX_INPUTS = 100_000  # files one batch lists at most: a listing must end, and the summary stay readable


@dataclass
class Inputs:
    """What the patterns matched: files, the folders they walked, and what was left out (with why)."""

    files: list[Path] = field(default_factory=list)
    trees: list[Path] = field(default_factory=list)     # folders a ** pattern walks: no output folder inside one
    links: list[Path] = field(default_factory=list)     # symbolic links met while listing: never followed


def expand_inputs(patterns: Iterable[str], *, found: Inputs | None = None) -> list[Path]:
    """Expand file names and glob patterns (``**`` matches folders at any depth).

    A pattern is listed with our own walk, not ``glob``: symbolic links met on the way are
    never followed (two links that point back up made ``glob`` list 2**40 paths, and a link
    to a file elsewhere was read and copied out), only recorded in ``found.links``. A file
    named on the command line is taken as given, a link included. Hidden files and folders
    (``.name``) match only a pattern part that starts with a dot, as with ``glob``.

    Parameters
    ----------
    patterns : iterable of str
        Paths or patterns, e.g. ``["recordings/**/*.csv"]``.
    found : Inputs, optional
        Filled in with the files, the folders the patterns list and the links left out.

    Returns
    -------
    list of Path
        Matching regular files, sorted, without duplicates (by real path).

    Raises
    ------
    InputError
        If a pattern matches nothing, a named file does not exist, or more than
        `MAX_INPUTS` files match.
    """
    found = found if found is not None else Inputs()
    seen: dict[str, Path] = {}
    for pattern in patterns:
        if glob.has_magic(pattern):
            base, parts = _split_pattern(pattern)
            links_before = len(found.links)
            files = sorted(_walk(base, parts, found), key=str)
            if "**" in parts:  # a walked tree: no output folder inside it (a rerun would list the outputs)
                found.trees.append(Path(base))
            if not files:
                more = (f" ({len(found.links) - links_before:,} symbolic link(s) there are not followed)"
                        if len(found.links) > links_before else "")
                raise InputError(f"No file matches {quoted(pattern, MAX_PATH_ECHO)}{more}; quote the pattern so the "
                                 "shell does not expand it, and check the folder.")
        else:
            if os.path.isdir(pattern):
                raise InputError(f"{quoted(pattern, MAX_PATH_ECHO)} is a folder; give a pattern such as "
                                 f"{quoted(pattern.rstrip('/') + '/**/*.csv', MAX_PATH_ECHO)}.")
            if not os.path.exists(pattern):
                raise InputError(f"No file named {quoted(pattern, MAX_PATH_ECHO)}.")
            files = [Path(pattern)]
        for f in files:
            seen.setdefault(os.path.realpath(f), f)
        if len(seen) > MAX_INPUTS:
            raise InputError(f"The patterns match more than {MAX_INPUTS:,} files; run the batch on smaller parts.")
    found.files = sorted(seen.values())
    return list(found.files)


def _split_pattern(pattern: str) -> tuple[str, list[str]]:
    """'rec/**/*.csv' -> ('rec', ['**', '*.csv']): the folder before the first wildcard, and the rest."""
    parts = pattern.replace(os.sep, "/").split("/")
    head: list[str] = []
    while parts and not glob.has_magic(parts[0]):
        head.append(parts.pop(0))
    base = "/".join(head) or ("/" if pattern.startswith("/") else ".")
    if pattern.startswith("/") and not base.startswith("/"):
        base = "/" + base
    return base, [p for p in parts if p != ""]


def _walk(folder: str, parts: list[str], found: Inputs) -> Iterable[Path]:
    """Files under ``folder`` whose path below it matches ``parts`` (fnmatch per part; ``**``: any depth)."""
    if not parts:
        return
    head, rest = parts[0], parts[1:]
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return  # unreadable or gone: nothing listed there, like glob
    here = (lambda e: e.name) if folder == "." else (lambda e: e.path)  # 'a.csv', not './a.csv', as glob
    if head == "**":
        yield from _walk(folder, rest, found)  # zero folders
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                if rest and entry.is_dir():  # a linked folder: not entered (loops, other trees)
                    found.links.append(Path(here(entry)))
                continue
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(here(entry), parts, found)  # one more folder, ** still to match
        return
    for entry in entries:
        if not fnmatch.fnmatchcase(entry.name, head) or (entry.name.startswith(".") and not head.startswith(".")):
            continue
        if entry.is_symlink():
            found.links.append(Path(here(entry)))
        elif not rest and entry.is_file(follow_symlinks=False):
            yield Path(here(entry))
        elif rest and entry.is_dir(follow_symlinks=False):
            yield from _walk(here(entry), rest, found)
