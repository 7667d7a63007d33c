"""The hyperparameter search with its trials as Dask tasks (``python -m denoiser search --workers N``).

Same plan, split, trials, ranking and held-out test as :func:`denoiser.search.search`;
only where the trials run changes. Each trial is one task: it fits on the training
signals and scores on the validation signals on a worker, then sends back its table row
and the fitted model as ``.keras`` bytes (read back through the model-file checks). The
winner is tested once, here, on the test signals no trial has seen.

>>> from distributed import Client                                            # doctest: +SKIP
>>> result = search_on_cluster(noisy, clean, {"learning_rate": [1e-3, 3e-3]}, Client())  # doctest: +SKIP
"""

from __future__ import annotations

import io
import math
import time
from typing import Any

import numpy as np

from denoiser.config import ModelConfig, TrainConfig
from denoiser.search import SearchResult, TrialHook, prepare_search, run_trial, trial_metrics

__all__ = ["search_on_cluster"]


def _remote_trial(
    index: int,
    params: dict[str, Any],
    base: ModelConfig,
    train: TrainConfig,
    parts: dict[str, tuple[np.ndarray, np.ndarray]],
    deadline: float | None,
) -> tuple[dict, bytes]:
    """One trial on a worker: (table row, the fitted model as .keras bytes)."""
    from denoiser.batch import limit_threads

    limit_threads()  # one worker per core: TensorFlow keeps to the worker's threads
    # Wall-clock deadline (time.time, shared by machines with synchronised clocks).
    stop = (lambda: False) if deadline is None else (lambda: time.time() >= deadline)
    den, row = run_trial(index, params, base, train, parts, stop)
    buffer = io.BytesIO()
    den.save(buffer)
    return row, buffer.getvalue()


def search_on_cluster(
    noisy: np.ndarray,
    clean: np.ndarray,
    space: dict[str, list],
    client: Any,
    *,
    base_config: ModelConfig | None = None,
    train: TrainConfig | None = None,
    n_trials: int | None = None,
    budget_seconds: float | None = None,
    on_trial: TrialHook | None = None,
) -> SearchResult:
    """:func:`denoiser.search.search` with every trial a task on ``client``'s cluster.

    Parameters
    ----------
    noisy, clean : ndarray, shape (n_signals, length) or (length,)
        As for `denoiser.search.search`.
    space : dict of str to list
        Parameter name -> values to try.
    client : distributed.Client
        Where the trials run (a LocalCluster or a running scheduler).
    base_config, train, n_trials, budget_seconds, on_trial
        As for `denoiser.search.search`; the budget is a deadline every trial sees.

    Returns
    -------
    SearchResult
        Ranked table (best first), winner, its test figures.
    """
    from distributed import as_completed

    from denoiser.core import Denoiser

    noisy = np.asarray(noisy, dtype=np.float64)
    base_config, train, combos, parts, inner = prepare_search(noisy, clean, space, base_config, train, n_trials)
    deadline = None if budget_seconds is None else time.time() + budget_seconds
    shared = client.scatter(parts, broadcast=True)  # the data goes to each worker once, not once per trial
    futures = {
        client.submit(_remote_trial, i, params, base_config, inner, shared, deadline, pure=False): i
        for i, params in enumerate(combos)
    }
    result = SearchResult(n_planned=len(combos))
    models: dict[int, bytes] = {}
    for done, fut in enumerate(as_completed(futures)):
        row, blob = fut.result()
        result.table.append(row)
        models[row["trial"]] = blob
        result.stopped = result.stopped or row["stopped"]
        if on_trial is not None:
            on_trial(done, len(combos), row)
    result.table.sort(key=lambda r: (not math.isfinite(r["val_mse"]), r["val_mse"], r["trial"]))
    best = next((r for r in result.table if math.isfinite(r["val_mse"])), None)
    if best is None:
        return result
    result.best_ = Denoiser.load(models[best["trial"]])
    result.best_params = dict(combos[best["trial"]])
    n_test = len(parts["test"][0])
    if n_test:
        result.test_metrics = trial_metrics(result.best_, *parts["test"])
    result.best_.test_metrics_ = dict(result.test_metrics)
    result.best_.train_info_["search"] = {
        "params": result.best_params,
        "trials": len(result.table),
        "val_mse": best["val_mse"],
        "test": f"{n_test} held-out {'samples' if noisy.ndim == 1 else 'signals'}",
        "ran_on": "dask",
    }
    return result
