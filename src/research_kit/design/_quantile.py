"""Weighted quantiles and Woodruff intervals (R survey's ``svyquantile``, survey >= 4.1).

Defaults as R: ``qrule = "math"`` (the smallest value whose cumulative weight
share reaches ``p``, with R's exact tie rule) and ``interval.type = "mean"``
(Woodruff: a Wald interval for the proportion below the estimate, mapped back
through the same quantile rule).
"""

from __future__ import annotations

import numpy as np


def qrule_math(x_sorted: np.ndarray, cumw: np.ndarray, total: float, p: float) -> float:
    """R's ``qrule_math`` on data already sorted by value.

    ``cumw`` are cumulative weights; R's ``qs()`` takes the last position
    with ``cumw <= p * sum(w)`` (the first one if there is none) and returns
    that value if its weight share equals ``p`` exactly, else the next value.
    """
    n = len(x_sorted)
    if n == 0 or not np.isfinite(p):
        return np.nan
    target = p * total
    pos = int(np.searchsorted(cumw, target, side="right")) - 1  # last cumw <= target
    if pos < 0:
        pos = 0  # survey:::last() returns 1 when no position qualifies
    posnext = pos if pos == n - 1 else pos + 1
    wlow = p - cumw[pos] / total
    return float(x_sorted[pos] if wlow == 0 else x_sorted[posnext])


def sorted_cumw(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Sort by value (stable, as R's ``order``) and accumulate weights.

    R's ``cumsum`` and ``sum`` accumulate in long double; so do we, so that
    the exact-equality test of ``qrule_math`` agrees with R.
    """
    keep = w != 0
    x, w = x[keep], w[keep]
    o = np.argsort(x, kind="stable")
    xs = x[o]
    cumw = np.cumsum(w[o].astype(np.longdouble)).astype(float)
    total = float(np.sum(w.astype(np.longdouble)))
    return xs, cumw, total
