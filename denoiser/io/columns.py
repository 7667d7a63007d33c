"""Which value columns are signals worth denoising, and which are an axis or a clean reference.

One place for the decision that the app's column choice, the CLI's ``denoise`` and a batch
take when no column is named: an index, time or year column is the axis of a recording,
and a column named like a clean reference is what a result is scored against; neither is
denoised by default. An explicit column choice always wins.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_REFERENCE_WORDS = ("clean", "truth", "reference")
_MIN_AXIS = 16  # fewer finite values than this: too short to call a ramp an axis


def axis_like(values: np.ndarray) -> bool:
    """Whether a value column is really an axis: counts up evenly (an index or a time), or holds years.

    Parameters
    ----------
    values : numpy.ndarray, shape (n,)
        The column (NaN ignored).

    Returns
    -------
    bool
        True for ``0, 1, 2, ...``, ``t0 + k*dt`` and non-decreasing whole years (1000-2200).
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size < _MIN_AXIS:
        return False
    steps = np.diff(v)
    if steps[0] > 0 and np.allclose(steps, steps[0], rtol=1e-6, atol=0):
        return True  # 0, 1, 2, ... or t0 + k*dt: a ramp is never a recording worth denoising
    years = v.min() >= 1000 and v.max() <= 2200 and np.all(v == np.round(v))
    return bool(years and (steps >= 0).all())


def is_reference(column: str) -> bool:
    """A column named like a clean reference ('clean', 'truth', 'reference'), in any case."""
    return any(w in column.lower() for w in _REFERENCE_WORDS)


def is_flag(column: str, values: np.ndarray) -> bool:
    """A ``NAME_filled`` column of 0 and 1 that a write-back added (which cells were filled gaps).

    ``values``: the column, shape (rows,) (NaN ignored).
    """
    if not str(column).endswith("_filled"):
        return False
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return bool(np.isin(v, (0.0, 1.0)).all())


def signal_columns(values: pd.DataFrame) -> list[str]:
    """Value columns worth denoising: not a clean reference, not an index, time or year column,
    nor the ``NAME_filled`` flags of a denoised file read back.

    Parameters
    ----------
    values : pandas.DataFrame, shape (rows, columns)
        A table's value columns (`SeriesTable.values`).

    Returns
    -------
    list of str
        In file order. When every column is excluded, the non-reference columns (or, failing
        those, all value columns): a caller always gets at least one column to offer.
    """
    names = list(values.columns)
    signals = [c for c in names if not is_reference(str(c)) and not is_flag(c, values[c].to_numpy())]
    return [c for c in signals if not axis_like(values[c].to_numpy())] or signals or names
