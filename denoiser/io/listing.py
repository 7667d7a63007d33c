"""Which files a batch reads, and where their outputs go.

``expand_inputs(["recordings/**/*.csv"])`` lists what a pattern matches with our own walk (not
``glob``): symbolic links met on the way are recorded, never followed (two links pointing back up
made ``glob`` list 2**40 paths; a link to a file elsewhere was read and copied out).
:func:`plan` pairs each input with its output under the output folder, mirroring the inputs'
folders, and keeps the output folder and the input tree apart.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from denoiser.errors import InputError
from denoiser.text import MAX_PATH_ECHO, quoted

__all__ = ["Inputs", "MAX_INPUTS", "SUMMARY_NAME", "expand_inputs", "plan"]

SUMMARY_NAME = "summary.csv"  # the batch summary in the output folder: no output may take its name

MAX_INPUTS = 100_000  # files one batch lists at most: a listing must end, and the summary stay readable


@dataclass
class Inputs:
    """What the patterns matched: files, the folders they walked, and what was left out (with why)."""

    files: list[Path] = field(default_factory=list)
    trees: list[Path] = field(default_factory=list)  # folders a ** pattern walks: no output folder inside one
    links: list[Path] = field(default_factory=list)  # symbolic links met while listing: never followed


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
                more = (
                    f" ({len(found.links) - links_before:,} symbolic link(s) there are not followed)"
                    if len(found.links) > links_before
                    else ""
                )
                raise InputError(
                    f"No file matches {quoted(pattern, MAX_PATH_ECHO)}{more}; quote the pattern so the "
                    "shell does not expand it, and check the folder."
                )
        else:
            if os.path.isdir(pattern):
                raise InputError(
                    f"{quoted(pattern, MAX_PATH_ECHO)} is a folder; give a pattern such as "
                    f"{quoted(pattern.rstrip('/') + '/**/*.csv', MAX_PATH_ECHO)}."
                )
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


def _output_for(path: Path, root: Path, out_dir: Path, fmt: str) -> Path:
    rel = Path(os.path.abspath(path)).relative_to(root)  # the name as listed: a link is not resolved
    from denoiser.io.formats import output_suffix  # each file keeps its format where a writer exists

    return out_dir / (rel.with_suffix(".parquet") if fmt == "parquet" else rel.with_suffix(output_suffix(rel.suffix)))


def _inside(path: Path, folder: Path) -> bool:
    """``path`` is ``folder`` or below it (both absolute, normalised)."""
    return path == folder or folder in path.parents


def plan(inputs: list[Path], out_dir: Path, fmt: str = "csv", trees: Iterable[Path] = ()) -> list[tuple[Path, Path]]:
    """Pair every input with its output path: the inputs' folder layout, mirrored under ``out_dir``.

    The output folder and the input tree are kept apart: an output folder that is a folder
    the inputs come from, or is inside a folder that a ``**`` pattern walks (``trees``), or
    that holds an input, is refused; so is any output path that resolves (links followed) to
    an input file. (``denoise 'in/**/*.csv' -o in/a`` once wrote ``in/b/x.csv``'s output over
    ``in/a/x.csv``.) Explicit files or ``dir/*.csv`` with ``-o dir/denoised`` stay allowed:
    nothing there can be an input, now or on a rerun.

    Raises
    ------
    InputError
        If the output folder overlaps the input tree, an output would be an input, or
        two inputs map to one output.
    """
    if not inputs:
        raise InputError("No input files; nothing to do.")
    out_abs = Path(os.path.abspath(out_dir))
    out_real = Path(os.path.realpath(out_dir))
    parents = {Path(os.path.abspath(p)).parent for p in inputs}
    walked = {Path(os.path.abspath(t)) for t in trees}
    parents |= {Path(os.path.realpath(f)) for f in parents}
    walked |= {Path(os.path.realpath(f)) for f in walked}
    for folder in sorted(parents | walked):
        inside = _inside if folder in walked else (lambda a, b: a == b)
        if inside(out_abs, folder) or inside(out_real, folder):
            raise InputError(
                f"The output folder {quoted(str(out_dir), MAX_PATH_ECHO)} is inside the input tree "
                f"{quoted(str(folder), MAX_PATH_ECHO)}: outputs could replace input files, and a "
                "rerun would read them as inputs. Choose an output folder outside it."
            )
    real_inputs = {os.path.realpath(p): p for p in inputs}
    for real, src in real_inputs.items():
        if _inside(Path(real), out_real) or _inside(Path(os.path.abspath(src)), out_abs):
            raise InputError(
                f"The input {quoted(str(src), MAX_PATH_ECHO)} is inside the output folder "
                f"{quoted(str(out_dir), MAX_PATH_ECHO)}; choose an output folder that holds no input."
            )
    root = Path(os.path.commonpath([str(Path(os.path.abspath(p)).parent) for p in inputs]))
    pairs = [(p, _output_for(p, root, out_abs, fmt)) for p in inputs]
    seen: dict[Path, Path] = {}
    for src, dst in pairs:
        if os.path.realpath(dst) in real_inputs:
            raise InputError(
                f"The output for {quoted(str(src), MAX_PATH_ECHO)} would be the input file "
                f"{quoted(real_inputs[os.path.realpath(dst)], MAX_PATH_ECHO)}; choose another output "
                "folder."
            )
        if dst in seen:
            raise InputError(
                f"{quoted(str(seen[dst]), MAX_PATH_ECHO)} and {quoted(str(src), MAX_PATH_ECHO)} would "
                f"both be written to {quoted(str(dst), MAX_PATH_ECHO)}."
            )
        if dst.name == SUMMARY_NAME and dst.parent == out_abs:
            raise InputError(f"An input named {SUMMARY_NAME} would be overwritten by the batch summary; rename it.")
        seen[dst] = src
    return pairs
