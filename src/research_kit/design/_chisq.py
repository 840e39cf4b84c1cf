"""Design-based test of association in a two-way table (R survey's ``svychisq``).

The default statistic of ``svychisq`` is Rao and Scott's second-order
correction: Pearson's X² of the weighted table (scaled to the number of rows),
divided by the mean generalised design effect, referred to an F distribution
with ``d0`` and ``d0 * nu`` degrees of freedom, where
``d0 = tr(Delta)^2 / tr(Delta^2)`` and ``nu`` is the design degrees of freedom.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from research_kit.errors import EstimationError

if TYPE_CHECKING:  # pragma: no cover
    from research_kit.design.survey import SurveyDesign


def _levels(s: pd.Series) -> list:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [c for c in s.cat.categories if (s == c).any()]
    return sorted(pd.unique(s.dropna()))


def rao_scott(design: SurveyDesign, row: str, col: str) -> dict:
    """Rao–Scott second-order corrected F test, as ``svychisq(~row + col, design)``."""
    a, b = design._column(row), design._column(col)
    la, lb = _levels(a), _levels(b)
    nr, nc = len(la), len(lb)
    if nr < 2 or nc < 2:
        raise EstimationError(
            f"chisq needs at least two observed categories in each variable; {row!r} has "
            f"{nr} and {col!r} has {nc}."
        )
    ok = (a.notna() & b.notna()).to_numpy()
    ia = pd.Categorical(a, categories=la).codes
    ib = pd.Categorical(b, categories=lb).codes
    cell = np.where(ok, ia + nr * ib, -1)  # rows vary fastest, as interaction()
    mm = np.full((design.n, nr * nc), np.nan)
    mm[ok] = 0.0
    mm[np.flatnonzero(ok), cell[ok]] = 1.0
    N = design.n  # nrow(model.matrix) counts rows with missing values too
    if design._replicate is not None:
        nu = design.df
    else:
        nu = design.n_psu - design.n_strata
    st = design._domain_stats(mm, None, kind="mean", full_cov=True)
    mean2 = st["estimate"][0]
    V = st["cov"]
    # Contrasts for interaction: residuals of the interaction columns on the
    # main effects (qr.resid(qr(X1), X12[, -(1:(nr+nc-1))])).
    r_idx = np.tile(np.arange(nr), nc)
    c_idx = np.repeat(np.arange(nc), nr)
    X1 = np.column_stack(
        [np.ones(nr * nc)]
        + [(r_idx == i).astype(float) for i in range(1, nr)]
        + [(c_idx == j).astype(float) for j in range(1, nc)]
    )
    X12 = np.column_stack(
        [(r_idx == i) & (c_idx == j) for j in range(1, nc) for i in range(1, nr)]
    ).astype(float)
    q, _ = np.linalg.qr(X1)
    C = X12 - q @ (q.T @ X12)
    with np.errstate(divide="ignore"):
        inv = np.where(mean2 == 0, 0.0, 1.0 / mean2)
    iD = np.diag(inv)
    denom = C.T @ (iD / N) @ C
    numr = C.T @ iD @ V @ iD @ C
    Delta = np.linalg.solve(denom, numr)
    tr = np.trace(Delta)
    d0 = tr**2 / np.trace(Delta @ Delta)
    # Pearson X^2 of the weighted table scaled to N (svytable(Ntotal = N)).
    w = design.weights
    tab = np.bincount(cell[ok], weights=w[ok], minlength=nr * nc).reshape(nc, nr).T
    tab = tab * N / tab.sum()
    expected = np.outer(tab.sum(1), tab.sum(0)) / tab.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        x2 = np.nansum((tab - expected) ** 2 / expected)
    F = x2 / tr
    df1, df2 = d0, d0 * nu
    return dict(
        statistic=F,
        df1=df1,
        df2=df2,
        p_value=float(stats.f.sf(F, df1, df2)),
        pearson=x2,
        rows=la,
        cols=lb,
    )
