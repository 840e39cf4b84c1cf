"""Taylor-linearisation variance for stratified multistage designs.

This is the numpy counterpart of R survey's ``svyrecvar`` → ``multistage`` →
``onestage`` → ``onestrat`` chain (survey 4.x).  Instead of recursing over
clusters with ``tapply`` it works on *unit totals*: the design's finest
variance units (the stage-1 PSUs for a one-stage design, the last-stage
clusters of a multistage design with ``fpc``) are sorted so that every stage's
clusters and strata are contiguous blocks, and each stage is a couple of
``np.add.reduceat`` calls on a ``(units, columns)`` matrix.  One call handles
any number of columns, i.e. many variables × many domains at once.

For stage ``s`` with strata ``h`` and ``n_h`` sampled clusters with totals
``t_hj`` (``onestrat``)::

    v_s = sum_h  m_h * f_h * n_h / (n_h - 1) * sum_j (t_hj - mean_h t)^2

where ``f_h = (N_h - n_h) / N_h`` (1 without ``fpc``) and ``m_h`` is the
product of the sampling fractions ``n/N`` of the earlier stages
(``multistage`` multiplies the within-cluster variance by ``nPSU / fpc``).
Later stages only count when population sizes are given, as in R.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LONELY_POLICIES = ("fail", "adjust", "certainty", "remove", "average")


@dataclass
class Stage:
    """One sampling stage, in the sorted unit order.

    Attributes
    ----------
    unit_starts
        Start of each stage cluster in the finest-unit order (for
        ``np.add.reduceat``); ``None`` when the stage clusters *are* the
        finest units.
    strat_starts
        Start of each stratum in this stage's cluster order.
    n_clusters
        Number of sampled clusters in each stratum (R's ``nPSU``).
    weight
        Per-cluster factor ``multiplier * scale`` (zero for a census stratum).
    lonely
        Per-cluster flag: the cluster is alone in its stratum.
    parent_of_stratum
        Index of the parent group (earlier-stage cluster) of each stratum,
        used by ``lonely_psu="average"``.
    """

    unit_starts: np.ndarray | None
    strat_starts: np.ndarray
    n_clusters: np.ndarray
    weight: np.ndarray
    lonely: np.ndarray
    lonely_stratum: np.ndarray
    parent_of_stratum: np.ndarray
    n_parents: int
    stratum_of_cluster: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.stratum_of_cluster = np.repeat(np.arange(len(self.n_clusters)), self.n_clusters)


def _cluster_totals(stage: Stage, t: np.ndarray) -> np.ndarray:
    if stage.unit_starts is None:
        return t
    return np.add.reduceat(t, stage.unit_starts, axis=0)


def _centred(stage: Stage, tc: np.ndarray, lonely_psu: str) -> np.ndarray:
    """Cluster totals minus their stratum mean (``onestrat``'s ``sweep``)."""
    sums = np.add.reduceat(tc, stage.strat_starts, axis=0)
    means = sums / stage.n_clusters[:, None]
    centred = tc - means[stage.stratum_of_cluster]
    if lonely_psu == "adjust" and stage.lonely.any():
        # R centres a lonely PSU at the grand mean (zero, since the
        # linearisation variable is already a deviation) instead of at
        # itself, so its total counts in full (options(survey.lonely.psu="adjust")).
        centred[stage.lonely] = tc[stage.lonely]
    return centred


def _average_factor(stage: Stage, present: np.ndarray | None, ncol: int) -> np.ndarray:
    """``nstrat / nokstrat`` of R's ``onestage`` for ``lonely_psu="average"``.

    Returns a ``(n_strata, ncol)`` multiplier: every stratum's contribution is
    scaled by the ratio for its parent group.  ``present`` is a
    ``(n_strata, ncol)`` boolean array saying which strata have cases in the
    (domain) subset; ``None`` means all of them.
    """
    nstrata = len(stage.n_clusters)
    if present is None:
        present = np.ones((nstrata, ncol), dtype=bool)
    ok = present & ~stage.lonely_stratum[:, None]
    nstrat = np.zeros((stage.n_parents, ncol))
    nok = np.zeros((stage.n_parents, ncol))
    np.add.at(nstrat, stage.parent_of_stratum, present)
    np.add.at(nok, stage.parent_of_stratum, ok)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = nstrat / nok
    return ratio[stage.parent_of_stratum]


def variance(
    stages: list[Stage],
    totals: np.ndarray,
    lonely_psu: str,
    *,
    full: bool = False,
    present_units: np.ndarray | None = None,
) -> np.ndarray:
    """Variance of the column totals of a linearisation matrix.

    Parameters
    ----------
    stages
        The design's stages (see :class:`Stage`).
    totals
        ``(n_units, k)`` sums of the linearisation variable over each finest
        variance unit.
    lonely_psu
        One of ``"fail"``, ``"adjust"``, ``"certainty"``, ``"remove"``,
        ``"average"`` (R's ``options(survey.lonely.psu)``).
    full
        Return the ``(k, k)`` covariance matrix instead of the ``k`` variances.
    present_units
        ``(n_units, k)`` counts of cases of each column's subset in each unit;
        only needed for ``lonely_psu="average"`` on domains.

    Returns
    -------
    numpy.ndarray
        ``(k,)`` variances, or ``(k, k)`` covariance if ``full``.
    """
    t = np.asarray(totals, dtype=float)
    if t.ndim == 1:
        t = t[:, None]
    k = t.shape[1]
    out = np.zeros((k, k)) if full else np.zeros(k)
    for stage in stages:
        tc = _cluster_totals(stage, t)
        centred = _centred(stage, tc, lonely_psu)
        wts = stage.weight
        if lonely_psu == "average":
            present = None
            if present_units is not None:
                pc = _cluster_totals(stage, present_units)
                present = np.add.reduceat(pc, stage.strat_starts, axis=0) > 0
            factor = _average_factor(stage, present, k)
            wts = np.where(stage.lonely, 0.0, wts)
            with np.errstate(invalid="ignore"):
                if full:
                    # glm and chisq: all columns share one subset, so one
                    # factor per stratum.
                    per = centred * np.sqrt(wts)[:, None]
                    for h in range(len(stage.n_clusters)):
                        block = per[stage.stratum_of_cluster == h]
                        out += (block.T @ block) * factor[h, 0]
                else:
                    per = np.add.reduceat(
                        wts[:, None] * centred * centred, stage.strat_starts, axis=0
                    )
                    out += (per * factor).sum(axis=0)
            continue
        if full:
            scaled = centred * wts[:, None]
            out += centred.T @ scaled
        else:
            out += np.einsum("ij,ij,i->j", centred, centred, wts)
    return out
