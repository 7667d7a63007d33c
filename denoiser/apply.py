"""One service for denoising a table: the recipe, the model it names, the columns, the output.

The one-file CLI, each file of a batch and the app's Compare download all go through
:func:`denoise_table` with a :class:`Recipe`, and the app's reproducing script is written from
the same recipe (:func:`denoiser.script.file_script`), so the file, the script and the caption
describe one computation.

>>> import numpy as np, denoiser
>>> from denoiser.apply import Recipe, denoise_table
>>> t = np.arange(3000)
>>> table = denoiser.read_series(("t,v\\n" + "\\n".join(f"{i},{np.sin(i / 50) + 0.1 * np.cos(7 * i):.4f}"
...                                                    for i in t)).encode())
>>> out = denoise_table(table, Recipe(model="none"))
>>> out.columns, out.denoised["v"].shape
(['v'], (3000,))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from denoiser.errors import InputError
from denoiser.text import cut, listed, quoted

__all__ = [
    "BUNDLED",
    "Level",
    "METHODS",
    "Recipe",
    "TableResult",
    "denoise_table",
    "model_words",
    "output_bytes",
    "resolve_model",
]

from denoiser.assets import BUNDLED  # model specs that name a bundled model: ``pretrained(name)``

METHODS = ("auto", "network")  # the automatic no-harm pipeline, or the network alone
MOST_DESCRIBED = 20  # columns a file's header describes one by one (the reader sniffs 400 lines for the table)


@dataclass(frozen=True)
class Level:
    """Where one column's noise level comes from: given, a quiet stretch, or (both None) the data."""

    sigma: float | None = None  # a known noise std, in the column's units
    quiet: tuple[int, int] | None = None  # (start, stop) samples of a stretch with only noise

    def __post_init__(self) -> None:
        if self.sigma is not None and self.quiet is not None:
            raise InputError("Give the noise level either as sigma or as a quiet stretch, not both.")
        if self.sigma is not None and not (math.isfinite(self.sigma) and self.sigma >= 0):
            raise InputError(f"The noise sigma must be a finite number >= 0; got {self.sigma!r}.")

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`denoiser.denoise` this level means."""
        return (
            {"sigma": self.sigma}
            if self.sigma is not None
            else ({"quiet": tuple(self.quiet)} if self.quiet is not None else {})
        )

    def describe(self) -> str:
        """Where the noise level comes from, in words: "given: 0.1", "measured on samples 0-800", "estimated"."""
        if self.sigma is not None:
            return f"given: {self.sigma:.6g}"
        if self.quiet is not None:
            return f"measured on the quiet stretch of samples {self.quiet[0]:,}-{self.quiet[1]:,}"
        return "estimated from the data"


@dataclass(frozen=True)
class Recipe:
    """How a table is denoised: everything the output, its description and the script need.

    Attributes
    ----------
    model : "default" or "parabola" (a bundled model), "none" (the automatic mode's classical
        filters only, no TensorFlow), or a ``.keras`` file
    method : "auto" (the automatic no-harm pipeline) or "network" (the network alone)
    columns : the columns to denoise; None: the table's signal columns (no index, time, year or
        clean reference column)
    level : the noise level of every column ...
    levels : ... except these: ``((column, Level), ...)`` (the app: the column on screen)
    seed : seed of the risk estimate's random probes
    part : the sheet, group or rate group of a file with several (``read_series(part=...)``)
    max_samples : values read at most (``read_series(max_samples=...)``: the app's per-upload cap)
    """

    model: str = "default"
    method: str = "auto"
    columns: tuple[str, ...] | None = None
    level: Level = field(default_factory=Level)
    levels: tuple[tuple[str, Level], ...] = ()
    seed: int = 0
    part: str | None = None
    max_samples: int | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"The method is one of {', '.join(METHODS)}; got {self.method!r}.")
        if self.method == "network" and self.model == "none":
            raise InputError("The network alone needs a model, not 'none' (--raw with --model none).")

    def level_for(self, column: str) -> Level:
        """The noise level of ``column``: its own, if the recipe names one, else the common one."""
        return dict(self.levels).get(column, self.level)

    def describe(self) -> str:
        """What the recipe asks for, in plain words (the first line of a file's header)."""
        if self.method == "network":
            return f"the network alone ({model_words(self.model)}), unchecked"
        if self.model == "none":
            return "automatic (no-harm check), classical filters only (no network)"
        return f"automatic (no-harm check), weighing {model_words(self.model)} against classical filters"


@dataclass
class TableResult:
    """What :func:`denoise_table` did.

    Attributes
    ----------
    columns : the columns denoised, in order
    denoised : column -> ndarray of shape (rows,)
    results : column -> :class:`denoiser.auto.DenoiseResult` (empty for the network alone)
    recipe : the recipe it followed
    filled : the table had gaps filled on reading (its file's header says how they are flagged)
    """

    columns: list[str]
    denoised: dict[str, np.ndarray]
    results: dict[str, Any]
    recipe: Recipe
    filled: bool = False

    def describe(self, most: int = MOST_DESCRIBED) -> list[str]:
        """One line per column (at most ``most``, then how many more): what was applied, in plain
        words (``DenoiseResult.describe``), and where its noise level came from."""
        network = model_words(self.recipe.model)
        if self.recipe.method == "network":
            lines = [f"{cut(name)}: {network}, unchecked." for name in self.columns]
        else:
            lines = [
                f"{cut(name)}: {res.describe(network=network)} Noise sigma {res.sigma:.4g} "
                f"({self.recipe.level_for(name).describe()})."
                for name, res in self.results.items()
            ]
        more = len(lines) - most
        return lines[:most] + ([f"... and {more:,} more columns."] if more > 0 else [])

    def header(self) -> list[str]:
        """The comment lines a written file starts with: the version, the recipe, each column's result."""
        from denoiser import __version__

        return [
            f"Denoised with denoiser {__version__}: {self.recipe.describe()}.",
            *self.describe(),
            "NAME_denoised columns hold the results"
            + (
                "; NAME_filled flags gaps filled by interpolation (1 = filled, the input's cell left empty)."
                if self.filled
                else "."
            ),
        ]


def model_words(spec: str) -> str:
    """A model spec in words: "the bundled default model", "the bundled x² specialist", "the model in 'mine.keras'"."""
    return {"default": "the bundled default model", "parabola": "the bundled x² specialist", "none": "no network"}.get(
        spec, f"the model in {quoted(spec)}"
    )


def resolve_model(spec: str) -> Any:
    """The model a recipe names: a bundled one, a model file (loaded safely), or False for "none".

    Returns
    -------
    denoiser.core.Denoiser, or False (the automatic pipeline's classical candidates only)
    """
    if spec == "none":
        return False
    from denoiser.bundled import pretrained
    from denoiser.core import Denoiser

    return pretrained(spec) if spec in BUNDLED else Denoiser.load(spec)


def pick_columns(table: Any, columns: tuple[str, ...] | list[str] | None) -> list[str]:
    """The columns to denoise: those named (each must exist), else the table's signal columns."""
    names = list(columns) if columns else list(table.signal_columns)
    unknown = [n for n in names if n not in table.values.columns]
    if unknown:
        raise InputError(f"No column named {listed(unknown)}; value columns are: {listed(table.values.columns)}.")
    return names


def denoise_table(table: Any, recipe: Recipe, model: Any = None, known: dict[str, Any] | None = None) -> TableResult:
    """Denoise the recipe's columns of a table.

    Parameters
    ----------
    table : :class:`denoiser.io.SeriesTable`
    recipe : :class:`Recipe`
    model : the model object, when the caller holds it already (the app's session model, a
        worker's cached one); None: ``resolve_model(recipe.model)``
    known : column -> what was computed for it with this recipe already (the app's column on
        screen): a :class:`~denoiser.auto.DenoiseResult` (method "auto") or the network's output
        (method "network"), so it is not computed twice

    Returns
    -------
    TableResult
    """
    from denoiser.auto import denoise

    names = pick_columns(table, recipe.columns)
    model = resolve_model(recipe.model) if model is None else model
    known = known or {}
    filled = any(n in table.filled_at for n in table.values.columns)
    if recipe.method == "network":
        if model is False:
            raise InputError("The network alone needs a model, not 'none'.")
        return TableResult(
            names,
            {n: np.asarray(known[n]) if n in known else model.denoise(table.column(n)) for n in names},
            {},
            recipe,
            filled,
        )
    results = {
        n: known[n]
        if n in known
        else denoise(table.column(n), model=model, rng=recipe.seed, **recipe.level_for(n).kwargs())
        for n in names
    }
    return TableResult(names, {n: r.denoised for n, r in results.items()}, results, recipe, filled)


def output_bytes(
    table: Any, result: TableResult | dict[str, np.ndarray], suffix: str = ".csv", *, plain: bool = False
) -> bytes:
    """The output file for a denoised table, in the format ``suffix`` names (the input's own where a
    writer exists; CSV otherwise and for CSV-like input).

    A CSV is written back as it came in (the input's delimiter, decimal mark, encoding, line ends
    and time text), with ``# `` lines on top that say what was applied (:meth:`TableResult.header`;
    ``read_series`` skips them); a value column's filled gaps are left empty as they came and
    flagged in ``NAME_filled``. ``plain``: comma, decimal point, UTF-8, ISO 8601 times and no
    comment lines (the form of earlier versions; the flags stay).
    """
    from denoiser.io.formats import by_suffix
    from denoiser.io.formats import output_bytes as write
    from denoiser.io.writer import to_csv_bytes

    denoised = result.denoised if isinstance(result, TableResult) else result
    if by_suffix(suffix) is not None:
        return write(table, denoised, suffix)
    comment = result.header() if isinstance(result, TableResult) and not plain else ()
    return to_csv_bytes(table, denoised, form="plain" if plain else "input", comment=comment, filled=True)
