"""Deterministic RDS estimators, their standard errors and design effects.

Private helpers of :mod:`research_kit.design.rds`. Each function names the R
function of the ``RDS`` package (Handcock, Gile, Fellows & Neely, version
0.9-10) whose formula it mirrors, so that results can be checked against it.
"""

from __future__ import annotations

import numpy as np

from research_kit.errors import EstimationError

__all__ = [
    "vh_weights",
    "transition_counts",
    "stationary_distribution",
    "rds_i_group_estimates",
    "rds_i_weights",
    "el_se",
    "wtd_var",
    "design_effect",
    "homophily_population",
    "homophily_recruitment",
    "differential_activity",
]


def vh_weights(degree: np.ndarray, population_size: float | None = None) -> np.ndarray:
    """Volz–Heckathorn (RDS-II) weights, proportional to 1/degree.

    Mirrors R ``vh.weights`` (Volz & Heckathorn 2008, J. Off. Stat. 24:79-97):
    degrees are first rescaled to average 1 (``n d_i / sum(d)``) and the weight
    is their inverse, so without a population size the weights are on R's
    "raw" scale ``sum(d) / (n d_i)``; with one they sum to it.
    """
    d = np.asarray(degree, dtype=float)
    w = 1.0 / (len(d) * d / d.sum())
    if population_size is not None:
        w = population_size * w / w.sum()
    return w


def transition_counts(parent: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Recruiter-group by recruit-group counts (R ``count.transitions``).

    ``codes`` holds level codes ``0..k-1`` with ``-1`` for missing; pairs where
    either side is missing are not counted. Returns float counts (rows =
    recruiter's level, columns = recruit's level) *without* R's 0.1 fill of
    empty rows, which callers apply where R does.
    """
    has = parent >= 0
    rc = codes[parent[has]]
    cc = codes[has]
    ok = (rc >= 0) & (cc >= 0)
    flat = np.bincount(rc[ok] * k + cc[ok], minlength=k * k)
    return flat.reshape(k, k).astype(float)


def stationary_distribution(p: np.ndarray) -> np.ndarray:
    """Stationary distribution of a row-stochastic matrix.

    Mirrors R ``get.stationary.distribution``: the left eigenvector of the
    transition matrix for the (unique) eigenvalue 1, normalised to sum to 1.
    A periodic chain (eigenvalue -1) or a reducible one (several eigenvalues
    1) has no unique answer and raises :class:`EstimationError`.
    """
    vals, vecs = np.linalg.eig(p.T)
    tol = np.sqrt(np.finfo(float).eps)
    if np.sum(np.abs(vals + 1.0) < tol) == 1:
        raise EstimationError(
            "The recruitment transition matrix is periodic (groups only ever recruit the other group), "
            "so RDS-I has no stationary distribution; use RDS-II or SS."
        )
    ones = np.flatnonzero(np.abs(vals - 1.0) < tol)
    if len(ones) != 1:
        raise EstimationError(
            "Recruitment between the groups is not connected (some group never recruits into another), "
            "so RDS-I has no unique stationary distribution; use RDS-II or SS."
        )
    v = np.real(vecs[:, ones[0]])
    return v / v.sum()


def rds_i_group_estimates(
    parent: np.ndarray, codes: np.ndarray, k: int, degree: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """RDS-I (Salganik–Heckathorn) group proportions.

    Mirrors R ``rds.I.weights`` (Salganik & Heckathorn 2004, Sociol.
    Methodol. 34:193-239): the stationary distribution ``q`` of the
    row-normalised transition counts, divided by each group's harmonic mean
    degree ``h`` and renormalised: ``p_g = (q_g/h_g) / sum(q/h)``.

    Returns ``(p, q, h, counts)``.
    """
    t = transition_counts(parent, codes, k)
    # R fills a recruiter group with no recruits with 0.1 per cell so that its
    # transition row is uniform instead of undefined.
    empty = t.sum(axis=1) == 0
    t[empty, :] = 0.1
    q = stationary_distribution(t / t.sum(axis=1, keepdims=True))
    valid = codes >= 0
    inv_sum = np.bincount(codes[valid], weights=1.0 / degree[valid], minlength=k)
    counts = np.bincount(codes[valid], minlength=k).astype(float)
    # q/h with h the harmonic mean degree; a level absent from this (sub)sample
    # has no degrees and gets share 0.
    ratio = np.zeros(k)
    present = counts > 0
    ratio[present] = q[present] * inv_sum[present] / counts[present]
    h = np.full(k, np.nan)
    h[present] = counts[present] / inv_sum[present]
    p = ratio / ratio.sum()
    return p, q, h, counts


def rds_i_weights(
    parent: np.ndarray,
    codes: np.ndarray,
    k: int,
    degree: np.ndarray,
    population_size: float | None = None,
) -> np.ndarray:
    """Per-respondent RDS-I weights (R ``rds.I.weights``).

    Each member of group ``g`` gets ``p_g / n_g``, so the weights of a group
    add up to its RDS-I proportion; respondents with a missing group get 0.
    With a single observed group R gives every row ``1/n``.
    """
    n = len(codes)
    if k < 2:
        w = np.full(n, 1.0 / n)
    else:
        p, _, _, counts = rds_i_group_estimates(parent, codes, k, degree)
        w = np.zeros(n)
        ok = codes >= 0
        w[ok] = p[codes[ok]] / counts[codes[ok]]
    if population_size is not None:
        w = population_size * w / w.sum()
    return w


def _pair_product_median(w: np.ndarray) -> float:
    """Median of all ``len(w)**2`` products ``w_i * w_j`` (diagonal included).

    RDS weights take few distinct values (one per degree or group), so the
    median is found from the distinct products and their multiplicities
    instead of materialising the n-by-n matrix that R's ``EL.se`` builds.
    The products are the same floating-point numbers R forms, so the result
    is identical, including R's averaging of the two middle values.
    """
    u, cnt = np.unique(w, return_counts=True)
    prod = np.multiply.outer(u, u).ravel()
    mult = np.multiply.outer(cnt, cnt).ravel().astype(np.int64)
    order = np.argsort(prod, kind="stable")
    prod, cum = prod[order], np.cumsum(mult[order])
    total = int(cum[-1])

    def kth(rank: int) -> float:  # 1-based rank
        return float(prod[np.searchsorted(cum, rank)])

    if total % 2:
        return kth((total + 1) // 2)
    return (kth(total // 2) + kth(total // 2 + 1)) / 2.0


def el_se(
    weights: np.ndarray,
    outcome: np.ndarray,
    population_size: float | None = None,
    n_total: int | None = None,
    block: int = 1024,
) -> float | np.ndarray:
    """Standard error of a weighted mean as printed by R's RDS estimators.

    Mirrors R ``EL.se`` with ``use.second.order=TRUE, homophily=1``, which
    ``RDS.I.estimates``, ``RDS.II.estimates`` and ``RDS.SS.estimates`` use
    for their "s.e." column: a linearisation over respondent *pairs*
    (i > j, in row order) with pair weights ``w_ij = w_i w_j`` capped at 10
    times their median, pair outcomes ``o_ij = (y_i + y_j)/2``, and

        est = sum_{i>j} o_ij w_ij / sum_{i>j} w_ij,
        G_i = sum_{j<i} w_ij^2 (o_ij - est),
        var = 4 sum_i G_i^2 / (sum_{i>j} w_ij^2)^2.

    Expanding ``o_ij`` turns every sum into a product of the capped
    lower-triangular pair-weight matrix with ``y``, so all levels of a
    variable share one pass over the pairs, in row blocks of ``block`` rows
    (memory ``O(block * n)``); only the summation order differs from R.

    ``outcome`` may be one vector or a matrix with one column per level
    (NaN = missing; a row missing in any column is dropped, as all columns
    then come from the same variable). The finite-population factor
    ``(N - n)/(N - 1)`` uses ``n = n_total``, all rows including those with
    a missing outcome, as R does (``length(outcome)``).
    """
    w_all = np.asarray(weights, dtype=float)
    y_all = np.asarray(outcome, dtype=float)
    single = y_all.ndim == 1
    y2 = y_all[:, None] if single else y_all
    keep = np.isfinite(w_all) & np.all(np.isfinite(y2), axis=1)
    w, y = w_all[keep], y2[keep]
    m, levels = y.shape
    if m < 2:
        res = np.full(levels, np.nan)
        return float(res[0]) if single else res
    cap = 10.0 * _pair_product_median(w)
    idx = np.arange(m)
    # Per row i (sums over j < i): c = sum w_ij, a = sum w_ij^2,
    # d = sum w_ij y_j, b = sum w_ij^2 y_j.
    c = np.empty(m)
    a = np.empty(m)
    d = np.empty((m, levels))
    b = np.empty((m, levels))
    for lo in range(0, m, block):
        hi = min(m, lo + block)
        wij = np.minimum(np.multiply.outer(w[lo:hi], w[:hi]), cap)
        wij *= idx[lo:hi, None] > idx[None, :hi]
        c[lo:hi] = wij.sum(axis=1)
        d[lo:hi] = wij @ y[:hi]
        wij *= wij
        a[lo:hi] = wij.sum(axis=1)
        b[lo:hi] = wij @ y[:hi]
    # When most weights are 0 (an RDS-I group with stationary share 0) the
    # median pair weight, hence the cap, is 0 and R's formula is 0/0: NaN.
    with np.errstate(invalid="ignore", divide="ignore"):
        est = 0.5 * (np.sum(y * c[:, None], axis=0) + d.sum(axis=0)) / c.sum()
        g = 0.5 * (y * a[:, None] + b) - est[None, :] * a[:, None]
        var = 4.0 * np.sum(g * g, axis=0) / a.sum() ** 2
    if population_size is not None:
        n = len(w_all) if n_total is None else n_total
        var = (population_size - n) * var / (population_size - 1)
    res = np.sqrt(var)
    return float(res[0]) if single else res


def wtd_var(x: np.ndarray, weights: np.ndarray) -> float:
    """Weighted variance with frequency-weight denominator ``sum(w) - 1``.

    Mirrors R ``wtd.var`` (Hmisc's, copied into RDS) with its defaults, which
    ``RDS.estimates.local`` uses for the design effect of numeric outcomes.
    Its value depends on the scale of the weights, which is why callers pass
    weights on the scale R uses.
    """
    ok = np.isfinite(x) & np.isfinite(weights)
    x, w = x[ok], weights[ok]
    sw = w.sum()
    xbar = np.sum(w * x) / sw
    return float(np.sum(w * (x - xbar) ** 2) / (sw - 1.0))


def design_effect(se: float, var_outcome: float, n: int, population_size: float | None) -> float:
    """``se^2`` over the variance of a simple random sample of the same size.

    As in R ``RDS.estimates.local`` / ``RDS.bootstrap.intervals.local``: the SRS
    variance is ``var_outcome / n`` times ``(N - n)/(N - 1)`` when a
    population size is known, with ``n`` the non-missing cases.
    """
    varsrs = var_outcome / n
    if population_size is not None:
        varsrs *= (population_size - n) / (population_size - 1)
    if varsrs <= 0 or not np.isfinite(varsrs):
        return float("nan")
    return float(se**2 / varsrs)


def homophily_population(
    parent: np.ndarray,
    attribute: np.ndarray,
    degree: np.ndarray,
    weights: np.ndarray,
) -> float:
    """Population homophily of a binary attribute (R ``homophily.estimates``).

    Mirrors the ``recruitment=FALSE`` branch of R's
    ``homophily.estimates.local`` (Gile, Beaudry & Handcock 2018, Annu. Rev.
    Stat. Appl.): each recruiter's degree is split into ties to the two
    groups in the proportions of their recruits, respondents who recruited
    nobody (or any recruit with a missing attribute) drop out, and

        H = 2 p (1-p) dbar_0 dbar_1 / (mean cross-group ties * dbar),

    i.e. the ratio of the expected number of cross-group ties under random
    mixing to the estimated number. ``attribute`` is 0/1 with NaN missing.
    """
    n = len(attribute)
    has = parent >= 0
    o = attribute
    child_o = o[has]
    rec = parent[has]
    n_rec = np.bincount(rec, minlength=n).astype(float)
    ones = np.bincount(rec, weights=np.nan_to_num(child_o, nan=0.0), minlength=n)
    nan_child = np.bincount(rec, weights=np.isnan(child_o).astype(float), minlength=n)
    wi = weights.astype(float).copy()
    valid = (n_rec > 0) & (nan_child == 0)
    wi[~valid] = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        deg1 = np.where(valid, ones * degree / n_rec, 0.0)
        deg0 = np.where(valid, (n_rec - ones) * degree / n_rec, 0.0)

    def ht(v: np.ndarray) -> float:
        ok = ~np.isnan(v)
        return float(np.sum(v[ok] * wi[ok]) / np.sum(wi[ok]))

    # R's HT.estimate drops rows whose value is NA; the attribute's missing
    # rows carry that NA into every quantity below.
    p = ht(o)
    d0 = ht(np.where(np.isnan(o), np.nan, degree * (o == 0))) / (1 - p)
    d1 = ht(np.where(np.isnan(o), np.nan, degree * (o == 1))) / p
    dbar = ht(degree.astype(float))
    s01 = np.where(np.isnan(o), np.nan, (o == 1) * deg0 + (o == 0) * deg1)
    ms01 = ht(s01)
    return float(2 * p * d0 * (1 - p) * d1 / (ms01 * dbar))


def homophily_recruitment(t: np.ndarray) -> float:
    """Recruitment homophily from transition counts (R ``homophily.estimates(recruitment=TRUE)``).

    Observed within-group recruitments over those expected if recruits were
    drawn independently of the recruiter's group:
    ``sum(diag T) / (sum_g rowsum_g * colsum_g / sum T)``.
    """
    expected = np.sum(t.sum(axis=1) * t.sum(axis=0)) / t.sum()
    return float(np.trace(t) / expected)


def differential_activity(attribute: np.ndarray, degree: np.ndarray, weights: np.ndarray) -> float:
    """Ratio of weighted mean degree of those with the attribute to those without.

    Mirrors R ``differential.activity.estimates``: Horvitz–Thompson (Hajek)
    means of degree within the two groups, with the chosen estimator's
    weights. ``attribute`` is 0/1 with NaN missing.
    """
    ok = ~np.isnan(attribute)
    a, d, w = attribute[ok], degree[ok], weights[ok]
    p = np.sum(w * a) / np.sum(w)
    m1 = np.sum(w * d * (a == 1)) / np.sum(w) / p
    m0 = np.sum(w * d * (a == 0)) / np.sum(w) / (1 - p)
    return float(m1 / m0)
