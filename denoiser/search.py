"""Hyperparameter search: grid or random trials, ranked on validation, the winner tested once.

The signals are split once, up front, into train / validation / test (the same
split for every trial). Each trial fits a fresh :class:`~denoiser.core.Denoiser`
on the training signals only (its own inner validation split serves early
stopping), is scored by denoising the validation signals, and only the best
trial is ever run on the test signals -- so the test figures are not chosen by
the search and stay an honest estimate.

>>> result = search(noisy, clean, {"preset": ["unet", "lstm"], "learning_rate": [1e-3, 3e-3]},
...                 train=TrainConfig(epochs=5), budget_seconds=600)     # doctest: +SKIP
>>> result.to_frame()           # one row per trial, best first             # doctest: +SKIP
>>> result.best_.save("best.keras")                                         # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from denoiser import metrics
from denoiser.config import ModelConfig, TrainConfig
from denoiser.core import Denoiser
from denoiser.errors import InputError
from denoiser.presets import PRESETS
from denoiser.train import StopFlag, split_indices

if TYPE_CHECKING:
    import pandas as pd

TrialHook = Callable[[int, int, dict[str, Any]], None]

MODEL_KEYS = frozenset(f.name for f in fields(ModelConfig))
TRAIN_KEYS = frozenset(f.name for f in fields(TrainConfig))
# They define the split every trial must share. (Learned values, such as the global
# scaling's offset and scale, are fitted attributes, not config, so nothing else is excluded.)
SPLIT_KEYS = frozenset({"val_fraction", "test_fraction"})
MAX_GRID = 10_000  # a larger grid must be sampled (n_trials)


@dataclass
class SearchResult:
    """What a search found.

    Attributes
    ----------
    table : one dict per finished trial, best (lowest ``val_mse``) first: ``trial``
        (run order), the searched parameters, ``val_mse``, ``val_mae`` (validation
        signals, data units), ``epochs``, ``seconds`` and ``stopped`` (cut short mid-way)
    best_params : the searched parameters of the winner ({} when no trial finished)
    best_ : the winner's fitted Denoiser (None when no trial finished)
    test_metrics : noisy and denoised ``mse``/``mae`` (and ``gain_db``) of the winner
        on the test signals; {} when there is no test split or no winner
    stopped : True when the time budget or the stop flag ended the search early
    n_planned : trials the search would have run without stopping
    """

    table: list[dict[str, Any]] = field(default_factory=list)
    best_params: dict[str, Any] = field(default_factory=dict)
    best_: Denoiser | None = None
    test_metrics: dict[str, float] = field(default_factory=dict)
    stopped: bool = False
    n_planned: int = 0

    def to_frame(self) -> pd.DataFrame:
        """The table as a pandas DataFrame, best first."""
        import pandas as pd  # only here: importing the search stays light

        return pd.DataFrame(self.table)


def search(
    noisy: np.ndarray,
    clean: np.ndarray,
    space: dict[str, list],
    *,
    base_config: ModelConfig | None = None,
    train: TrainConfig | None = None,
    n_trials: int | None = None,
    budget_seconds: float | None = None,
    on_trial: TrialHook | None = None,
    should_stop: StopFlag | None = None,
) -> SearchResult:
    """Train one Denoiser per combination of ``space``, rank on validation, test the best.

    Parameters
    ----------
    noisy, clean : ndarrays, shape (n_signals, length) -- split by signal (seeded by
        ``train.seed``); or shape (length,), one recording split in time order
    space : parameter name -> list of values to try; names are fields of
        :class:`ModelConfig` (preset, window, filters, units, scaling, ...) or of
        :class:`TrainConfig` (learning_rate, loss, batch_size, ...)
    base_config, train : the values of everything not searched; ``train.val_fraction``
        and ``train.test_fraction`` size the signal split
    n_trials : None tries the whole grid; otherwise that many distinct combinations
        drawn at random (seeded by ``train.seed``)
    budget_seconds : no new trial starts after this many seconds, and a running one
        stops (keeping its best epoch)
    on_trial : ``on_trial(trial_index, n_total, row)`` after every trial
    should_stop : polled between trials and during training; True ends the search

    Returns
    -------
    SearchResult
    """
    base_config, train, combos, parts, inner = prepare_search(noisy, clean, space, base_config, train, n_trials)

    stop = _stopper(should_stop, budget_seconds)
    result = SearchResult(n_planned=len(combos))
    best_mse = math.inf
    for index, params in enumerate(combos):
        if stop():
            result.stopped = True
            break
        den, row = run_trial(index, params, base_config, inner, parts, stop)
        result.table.append(row)
        result.stopped = result.stopped or row["stopped"]
        if row["val_mse"] < best_mse:  # NaN never wins
            best_mse, result.best_, result.best_params = row["val_mse"], den, dict(params)
        if on_trial is not None:
            on_trial(index, len(combos), row)
    result.table.sort(key=lambda r: (not math.isfinite(r["val_mse"]), r["val_mse"]))
    if result.best_ is None:
        return result

    n_test = len(parts["test"][0])
    if n_test:
        result.test_metrics = trial_metrics(result.best_, *parts["test"])
    # Carried into the saved model, so a downloaded winner says how it was chosen and tested.
    result.best_.test_metrics_ = dict(result.test_metrics)
    result.best_.train_info_["search"] = {
        "params": result.best_params,
        "trials": len(result.table),
        "val_mse": best_mse,
        "test": f"{n_test} held-out {'samples' if noisy.ndim == 1 else 'signals'}",
    }
    return result


# ------------------------------------------------------------ planning
def prepare_search(
    noisy: np.ndarray,
    clean: np.ndarray,
    space: dict[str, list],
    base_config: ModelConfig | None,
    train: TrainConfig | None,
    n_trials: int | None,
) -> tuple:
    """What every search needs before its trials: defaults, checked data, the plan, the splits.

    Returns ``(base_config, train, combos, parts, inner)``: ``parts`` maps train/val/test to
    (noisy, clean) rows; ``inner`` is ``train`` without an inner test split (the search has
    its own test signals, so no training window is held back for one).
    """
    base_config = base_config or ModelConfig()
    train = train or TrainConfig()
    noisy, clean = _check_data(noisy, clean)
    combos = _plan(space, base_config, train, n_trials)
    rows = _split(len(noisy), noisy.ndim == 1, train)
    parts = {name: (noisy[r], clean[r]) for name, r in rows.items()}
    return base_config, train, combos, parts, replace(train, test_fraction=0.0)


def _check_data(noisy: np.ndarray, clean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    noisy, clean = np.asarray(noisy, np.float64), np.asarray(clean, np.float64)
    if noisy.shape != clean.shape or noisy.ndim not in (1, 2):
        raise InputError(f"noisy and clean must have the same 1-D or 2-D shape; got {noisy.shape} and {clean.shape}.")
    if not (np.isfinite(noisy).all() and np.isfinite(clean).all()):
        raise InputError("The data contains NaN or infinite values; fill or drop them first.")
    return noisy, clean


def _plan(space: dict[str, list], base: ModelConfig, train: TrainConfig, n_trials: int | None) -> list[dict[str, Any]]:
    """The trials to run, in order: every combination, or ``n_trials`` drawn at random."""
    if not isinstance(space, dict) or not space:
        raise InputError("The search space is empty: give at least one parameter and its values.")
    for key, values in space.items():
        if key in SPLIT_KEYS or key not in MODEL_KEYS | TRAIN_KEYS:
            searchable = ", ".join(sorted((MODEL_KEYS | TRAIN_KEYS) - SPLIT_KEYS))
            raise InputError(f"{key!r} cannot be searched; choose from {searchable}.")
        if not isinstance(values, (list, tuple)) or not values:
            raise InputError(f"Give {key!r} a non-empty list of values to try; got {values!r}.")
    if n_trials is not None and not (isinstance(n_trials, int) and n_trials >= 1):
        raise InputError(f"n_trials must be a whole number >= 1 (or None for the full grid); got {n_trials!r}.")
    keys, axes = list(space), [list(v) for v in space.values()]
    total = math.prod(len(a) for a in axes)
    if n_trials is None and total > MAX_GRID:
        raise InputError(f"The grid has {total:,} combinations; give n_trials to try a random sample of them.")
    picks: Sequence[int] | np.ndarray
    if n_trials is None or n_trials >= total:
        picks = range(total)
    else:  # distinct combinations, decoded from their index in the grid (the grid is never built)
        picks = np.random.default_rng(train.seed).choice(total, size=n_trials, replace=False)
    combos = [dict(zip(keys, _decode(int(i), axes))) for i in picks]
    for params in combos:  # a bad value fails now, not after an hour of trials
        _configs(params, base, train)
    return combos


def _decode(index: int, axes: list[list]) -> list:
    """The ``index``-th combination of the grid, in itertools.product order."""
    out = []
    for axis in reversed(axes):
        index, k = divmod(index, len(axis))
        out.append(axis[k])
    return out[::-1]


def _configs(params: dict[str, Any], base: ModelConfig, train: TrainConfig) -> tuple[ModelConfig, TrainConfig]:
    """The model and training configs of one trial (validated by the dataclasses).

    A trial of another preset than ``base``'s brings that preset's fixed settings (its record's
    defaults no form may change, e.g. the tutorial net's min-max scaling), unless they are searched.
    """
    model_changes = {k: v for k, v in params.items() if k in MODEL_KEYS}
    preset = model_changes.get("preset", base.preset)
    if preset != base.preset and isinstance(preset, str) and preset in PRESETS:
        model_changes = {**PRESETS[preset].fixed, **model_changes}
    train_changes = {k: v for k, v in params.items() if k in TRAIN_KEYS}
    return replace(base, **model_changes), replace(train, **train_changes)


def _split(n: int, contiguous: bool, train: TrainConfig) -> dict[str, np.ndarray]:
    """Indices of the train / val / test signals (rows), or sample ranges of one recording.

    A recording is split in time order (contiguous ranges), so no window straddles two splits.
    """
    try:
        parts = split_indices(n, train, contiguous=contiguous)
    except ValueError as err:
        what = "samples" if contiguous else "signals"
        raise InputError(f"Too few {what} ({n}) to split into training, validation and test; give more.") from err
    return {name: np.sort(idx) for name, idx in zip(("train", "val", "test"), parts)}


def _stopper(should_stop: StopFlag | None, budget_seconds: float | None) -> StopFlag:
    """One flag for the user's Stop and the time budget (counted from now)."""
    if budget_seconds is not None and not budget_seconds > 0:
        raise InputError(f"budget_seconds must be > 0 (or None for no limit); got {budget_seconds!r}.")
    t0 = time.perf_counter()

    def stop() -> bool:
        if should_stop is not None and should_stop():
            return True
        return budget_seconds is not None and time.perf_counter() - t0 >= budget_seconds

    return stop


# ------------------------------------------------------------ trials
def run_trial(
    index: int,
    params: dict[str, Any],
    base: ModelConfig,
    train: TrainConfig,
    parts: dict[str, tuple[np.ndarray, np.ndarray]],
    stop: StopFlag,
) -> tuple[Denoiser, dict[str, Any]]:
    """Fit on the training signals, score on the validation signals; returns the model and its row."""
    config, trial_train = _configs(params, base, train)
    t0 = time.perf_counter()
    den = Denoiser(config).fit(*parts["train"], trial_train, should_stop=stop, data_note=f"search trial {index}")
    scores = trial_metrics(den, *parts["val"])
    row = {
        "trial": index,
        **params,
        "val_mse": scores["mse"],
        "val_mae": scores["mae"],
        "epochs": den.train_info_["epochs_run"],
        "seconds": time.perf_counter() - t0,
        "stopped": bool(den.train_info_["stopped_by_user"]),
    }
    return den, row


def trial_metrics(den: Denoiser, noisy: np.ndarray, clean: np.ndarray) -> dict[str, float]:
    """MSE/MAE of noisy input and denoised output against clean, in the data's units."""
    return metrics.report(clean, noisy, den.denoise(noisy))
