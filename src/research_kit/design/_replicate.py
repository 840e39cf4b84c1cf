"""Replicate-weight variance (R survey's ``svrepdesign``, ``as.svrepdesign``, ``svrVar``).

A :class:`Replicates` object holds the replicate weights of a design, either
*compressed* — one factor per stage-1 PSU and replicate, multiplied by the
sampling weight, as ``as.svrepdesign`` makes them (JK1, JKn, bootstrap) — or as
full per-row weight columns supplied by the data producer.  Replicate
estimates of many (domain, variable) cells are computed with one sparse matrix
product, and their variance is ``svrVar``::

    v = scale * sum_r rscales_r (theta_r - theta_bar)^2

with ``theta_bar`` the mean of the replicates (or the full-sample estimate
when ``mse=True``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import sparse

REPLICATE_TYPES = ("bootstrap", "JK1", "JKn", "BRR", "Fay", "successive-difference", "ACS", "other")


@dataclass
class Replicates:
    """Replicate weights and the constants of their variance formula.

    Attributes
    ----------
    type
        One of :data:`REPLICATE_TYPES`.
    scale, rscales
        ``svrVar``'s overall and per-replicate multipliers.
    mse
        Centre at the full-sample estimate instead of the replicate mean.
    factors
        ``(n_psu, R)`` PSU factors (compressed), or ``None``.
    weights
        ``(n, R)`` full replicate weights, or ``None``.
    """

    type: str
    scale: float
    rscales: np.ndarray
    mse: bool
    factors: np.ndarray | None = None
    weights: np.ndarray | None = None
    degf: int = 0

    @property
    def n_replicates(self) -> int:
        return len(self.rscales)

    # -- sums -----------------------------------------------------------
    def sums(self, design, A: np.ndarray) -> np.ndarray:
        """Replicate totals ``sum_i w_ri A_i`` of the columns of ``A`` (n × c) → (R, c)."""
        if self.factors is not None:
            per_psu = design._g_psu @ (design.weights[:, None] * A)
            return self.factors.T @ per_psu
        return self.weights.T @ A

    def domain_sums(self, design, A: np.ndarray, m: dict) -> np.ndarray:
        """Replicate totals of ``A`` (n × k) in every domain → ``(R, D, k)``."""
        D, k = m["D"], A.shape[1]
        dom = m["dom"]
        if self.factors is not None:
            per_unit = np.asarray(m["g_unit"] @ (design.weights[:, None] * A))  # (units*D, k)
            per_unit = per_unit.reshape(design.n_units, D * k)
            per_psu = design._units_to_psu @ per_unit
            return (self.factors.T @ per_psu).reshape(-1, D, k)
        rows = np.flatnonzero(dom >= 0)
        r = np.repeat(rows, k)
        c = (dom[rows][:, None] * k + np.arange(k)[None, :]).ravel()
        B = sparse.csr_matrix((A[rows].ravel(), (c, r)), shape=(D * k, design.n))
        return np.asarray(B @ self.weights).T.reshape(-1, D, k)

    # -- variance ---------------------------------------------------------
    def variance(self, thetas: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """``svrVar`` of replicate estimates ``thetas`` (R, ...) around ``theta`` (...).

        Replicates giving NaN for a cell are dropped for that cell, with a
        warning, as R's ``svrVar`` does (``na.action = na.omit``).
        """
        rs = self.rscales.reshape((-1,) + (1,) * (thetas.ndim - 1))
        ok = np.isfinite(thetas)
        if self.mse:
            centre = theta
        else:
            use = ok & (rs > 0)
            with np.errstate(invalid="ignore", divide="ignore"):
                centre = np.where(use, thetas, 0).sum(0) / use.sum(0)
        dev2 = np.where(ok, (thetas - centre) ** 2, 0.0)
        if not ok.all():
            bad = (~ok).any(axis=0) & np.isfinite(theta)
            if bad.any():
                warnings.warn(
                    "Some replicates gave no estimate (e.g. a domain with no weight in a "
                    "replicate) and were discarded for those cells, as R does.",
                    stacklevel=4,
                )
        return self.scale * (dev2 * rs).sum(0)

    def full_variance(self, thetas: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Covariance matrix of replicate estimates ``thetas`` (R, p)."""
        centre = theta if self.mse else thetas[self.rscales > 0].mean(0)
        dev = (thetas - centre) * np.sqrt(self.rscales)[:, None]
        return self.scale * dev.T @ dev


def rank_degf(analysis_rows: np.ndarray) -> int:
    """``degf`` of a replicate design: rank of the analysis weights minus one.

    R uses ``qr(weights, tol = 1e-5)$rank - 1``.  Rows that are multiples of
    each other (all the rows of one PSU) add nothing to the rank, so the
    rows are normalised and de-duplicated first.
    """
    A = np.asarray(analysis_rows, dtype=float)
    if A.shape[0] == 0:
        return -1
    norms = np.linalg.norm(A, axis=1)
    A = A[norms > 0] / norms[norms > 0][:, None]
    A = np.unique(np.round(A, 12), axis=0)
    if A.shape[0] == 0:
        return -1
    s = np.linalg.svd(A, compute_uv=False)
    return int((s > 1e-5 * s[0]).sum()) - 1


# ----------------------------------------------------------------------
# Making replicate weights from a design (as.svrepdesign)
# ----------------------------------------------------------------------


def jk1(design) -> Replicates:
    """Delete-one-PSU jackknife for an unstratified design (``jk1weights``)."""
    n = design.n_psu
    F = np.full((n, n), n / (n - 1))
    np.fill_diagonal(F, 0.0)
    f = design._f_psu if design._popsize is not None else None
    fpc = 1.0 if f is None else float(np.unique(f)[0])
    return Replicates(type="JK1", scale=fpc * (n - 1) / n, rscales=np.ones(n), mse=False, factors=F)


def jkn(design) -> Replicates:
    """Stratified delete-one-PSU jackknife (``jknweights``)."""
    n_h = design._stages[0].n_clusters
    strat = design._stratum_of_psu
    n = design.n_psu
    F = np.ones((n, n))
    rscales = np.empty(n)
    f = design._f_psu if design._popsize is not None else None
    for j in range(n):
        h = strat[j]
        nh = n_h[h]
        same = strat == h
        F[same, j] = nh / (nh - 1)
        F[j, j] = 0.0
        fpc = 1.0 if f is None else f[j]
        rscales[j] = fpc * (nh - 1) / nh
    return Replicates(type="JKn", scale=1.0, rscales=rscales, mse=False, factors=F)


def bootstrap(design, replicates: int, rng: np.random.Generator) -> Replicates:
    """Rao–Wu style bootstrap as R's ``bootweights``: in each stratum draw
    ``n_h`` PSUs with replacement; a PSU's factor is how often it was drawn."""
    n_h = design._stages[0].n_clusters
    starts = design._stages[0].strat_starts
    F = np.zeros((design.n_psu, replicates))
    for h, (s, nh) in enumerate(zip(starts, n_h)):
        draws = rng.integers(0, nh, size=(nh, replicates))
        for r in range(replicates):
            F[s : s + nh, r] = np.bincount(draws[:, r], minlength=nh)
    hm = 1 / np.mean(1 / n_h)  # psu.per.strata: harmonic mean of PSUs per stratum
    return Replicates(
        type="bootstrap",
        scale=hm / ((hm - 1) * (replicates - 1)),
        rscales=np.ones(replicates),
        mse=False,
        factors=F,
    )


def user_constants(type_: str, R: int, scale, rscales, rho) -> tuple[float, np.ndarray]:
    """``scale`` and ``rscales`` for user-supplied replicate weights, as ``svrepdesign``."""
    if type_ not in REPLICATE_TYPES:
        raise ValueError(f"replicate type {type_!r} is not one of {', '.join(REPLICATE_TYPES)}")
    if type_ == "BRR":
        scale = 1.0 / R
    elif type_ == "Fay":
        if rho is None:
            raise ValueError("type='Fay' needs rho (the Fay coefficient).")
        scale = 1.0 / (R * (1 - rho) ** 2)
    elif type_ in ("successive-difference", "ACS"):
        scale, rscales = 4.0 / R, None
    elif type_ == "bootstrap" and scale is None:
        scale = 1.0 / (R - 1)
    elif type_ == "JK1" and scale is None:
        scale = (R - 1) / R
        warnings.warn(
            "scale (n-1)/n not provided: guessing n = number of replicates, as R does. "
            "Give scale= to silence this.",
            stacklevel=3,
        )
    elif type_ == "JKn" and rscales is None:
        raise ValueError("type='JKn' needs rscales ((n_h - 1) / n_h for each replicate).")
    elif type_ == "other" and (scale is None or rscales is None):
        warnings.warn("scale or rscales not specified, set to 1 (as R).", stacklevel=3)
    if scale is None:
        scale = 1.0
    rs = np.ones(R) if rscales is None else np.broadcast_to(np.asarray(rscales, float), (R,)).copy()
    return float(scale), rs
