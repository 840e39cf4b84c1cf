"""Confidence intervals for proportions, as R survey's ``svyciprop``.

Every function is vectorised over arrays of estimates.  ``df`` is the design
degrees of freedom R uses (``degf`` of the domain design); ``np.inf`` gives
normal quantiles.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

CI_METHODS = ("logit", "beta", "likelihood", "wilson", "wald")


def qt(p: float | np.ndarray, df: np.ndarray | float) -> np.ndarray:
    """Student-t quantile, normal when ``df`` is infinite; NaN when ``df <= 0``."""
    df = np.asarray(df, dtype=float)
    p = np.broadcast_to(np.asarray(p, dtype=float), np.broadcast_shapes(np.shape(p), df.shape))
    out = np.full(p.shape, np.nan)
    ok = df > 0
    out[ok] = special.stdtrit(np.broadcast_to(df, p.shape)[ok], p[ok])
    return out


def expit(x: np.ndarray) -> np.ndarray:
    # R survey's expit is exp(x)/(1+exp(x)); special.expit is the same value,
    # computed without overflow.
    return special.expit(x)


def wald(p, se, df, level):
    """``svyciprop(method="mean")``: ``p ± t(df) · se``, not clipped to [0, 1] (as R)."""
    q = qt(1 - (1 - level) / 2, df)
    return p - q * se, p + q * se


def logit(p, se, df, level):
    """``svyciprop(method="logit")``: Wald interval on the logit scale.

    R fits ``svyglm(y ~ 1, family = quasibinomial)`` whose intercept has
    standard error ``se / (p (1 - p))`` (the sandwich for an intercept-only
    model is exactly the delta method), then back-transforms
    ``logit(p) ± t(df) · se_logit``.
    """
    p = np.asarray(p, dtype=float)
    q = qt(1 - (1 - level) / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.log(p / (1 - p))
        se_eta = se / (p * (1 - p))
        lo = expit(eta - q * se_eta)
        hi = expit(eta + q * se_eta)
    degenerate = (p <= 0) | (p >= 1)
    lo = np.where(degenerate, np.nan, lo)
    hi = np.where(degenerate, np.nan, hi)
    return lo, hi


def _effective_n(p, se, n_cases):
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = p * (1 - p) / se**2
    # p = 0 or 1 has zero variance: R returns NaN; we use the number of cases,
    # the usual Korn–Graubard convention, so that an all-zero domain still
    # gets an interval [0, upper].
    return np.where((p <= 0) | (p >= 1) | ~np.isfinite(n_eff), n_cases, n_eff)


def beta(p, se, df, level, n_rows, n_cases):
    """``svyciprop(method="beta")``: Korn–Graubard Clopper–Pearson interval.

    The effective sample size ``p (1 - p) / var`` is multiplied by
    ``(t(alpha/2, n_rows - 1) / t(alpha/2, df))^2`` where ``n_rows`` is
    ``nrow(design)`` of the domain design, as in R.
    """
    p = np.asarray(p, dtype=float)
    alpha = 1 - level
    n_eff = _effective_n(p, se, n_cases)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = n_eff * (qt(alpha / 2, np.asarray(n_rows, float) - 1) / qt(alpha / 2, df)) ** 2
        a_lo, b_lo = n_eff * p, n_eff * (1 - p) + 1
        a_hi, b_hi = n_eff * p + 1, n_eff * (1 - p)
        lo = np.where(p <= 0, 0.0, stats.beta.ppf(alpha / 2, np.maximum(a_lo, 1e-300), b_lo))
        hi = np.where(p >= 1, 1.0, stats.beta.ppf(1 - alpha / 2, a_hi, np.maximum(b_hi, 1e-300)))
    return lo, hi


def wilson(p, se, df, level, n_cases):
    """Wilson score interval with the Kish effective sample size.

    R's ``svyciprop`` has no Wilson method.  This follows Stata's
    ``svy: proportion, citype(wilson)``: ``n_eff = p (1 - p) / var`` and the
    ``t`` quantile with the design degrees of freedom.
    """
    p = np.asarray(p, dtype=float)
    z = qt(1 - (1 - level) / 2, df)
    n = _effective_n(p, se, n_cases)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


# --------------------------------------------------------------------------
# Likelihood (profile) interval: svyciprop(method = "likelihood")
# --------------------------------------------------------------------------


def _fmm_spline(x: np.ndarray, y: np.ndarray):
    """Cubic spline coefficients with Forsythe–Malcolm–Moler end conditions.

    Mirrors ``fmm_spline`` in R's ``stats/src/splines.c`` (the default of
    ``spline()``), so that profile intervals interpolate as R does.
    """
    n = len(x)
    b = np.zeros(n)
    c = np.zeros(n)
    d = np.zeros(n)
    if n < 3:
        t = y[1] - y[0]
        b[0] = t / (x[1] - x[0])
        b[1] = b[0]
        return b, c, d
    nm1 = n - 1
    d[0] = x[1] - x[0]
    c[1] = (y[1] - y[0]) / d[0]
    for i in range(1, nm1):
        d[i] = x[i + 1] - x[i]
        b[i] = 2.0 * (d[i - 1] + d[i])
        c[i + 1] = (y[i + 1] - y[i]) / d[i]
        c[i] = c[i + 1] - c[i]
    b[0] = -d[0]
    b[nm1] = -d[n - 2]
    c[0] = c[nm1] = 0.0
    if n > 3:
        c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
        c[nm1] = c[n - 2] / (x[nm1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
        c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
        c[nm1] = -c[nm1] * d[n - 2] * d[n - 2] / (x[nm1] - x[n - 4])
    for i in range(1, n):
        t = d[i - 1] / b[i - 1]
        b[i] = b[i] - t * d[i - 1]
        c[i] = c[i] - t * c[i - 1]
    c[nm1] = c[nm1] / b[nm1]
    for i in range(n - 2, -1, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    b[nm1] = (y[nm1] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[nm1])
    for i in range(nm1):
        b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
        d[i] = (c[i + 1] - c[i]) / d[i]
        c[i] = 3.0 * c[i]
    c[nm1] = 3.0 * c[nm1]
    d[nm1] = d[n - 2]
    return b, c, d


def _r_seq(a: float, b: float, n: int) -> np.ndarray:
    # seq(a, b, length.out = n) in R: interior points a + i * by, ends exact.
    if n == 1:
        return np.array([a])
    by = (b - a) / (n - 1)
    out = a + np.arange(n) * by
    out[-1] = b
    return out


def r_spline(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R's ``spline(x, y)`` (method ``"fmm"``, ``n = 3 * length(x)``, ties averaged)."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    ux, inv = np.unique(x, return_inverse=True)
    if len(ux) < len(x):
        y = np.bincount(inv, weights=y) / np.bincount(inv)
        x = ux
    else:
        o = np.argsort(x, kind="stable")
        x, y = x[o], y[o]
    # spline()'s default n = 3 * length(x) is evaluated after ties are merged.
    n_out = 3 * len(x)
    b, c, d = _fmm_spline(x, y)
    u = _r_seq(x[0], x[-1], n_out)
    idx = np.clip(np.searchsorted(x, u, side="right") - 1, 0, len(x) - 1)
    dx = u - x[idx]
    v = y[idx] + dx * (b[idx] + dx * (c[idx] + dx * d[idx]))
    return u, v


def r_approx(x: np.ndarray, y: np.ndarray, xout: np.ndarray) -> np.ndarray:
    """R's ``approx(x, y, xout)`` (linear, ``rule = 1``, ties averaged)."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    ux, inv = np.unique(x, return_inverse=True)
    uy = np.bincount(inv, weights=y) / np.bincount(inv)
    xout = np.asarray(xout, float)
    out = np.full(xout.shape, np.nan)
    inside = (xout >= ux[0]) & (xout <= ux[-1])
    if len(ux) == 1:
        out[inside] = uy[0]
        return out
    j = np.clip(np.searchsorted(ux, xout[inside], side="left"), 1, len(ux) - 1)
    i = j - 1
    xi, xj = ux[i], ux[j]
    out[inside] = np.where(
        xout[inside] == xj, uy[j], uy[i] + (uy[j] - uy[i]) * ((xout[inside] - xi) / (xj - xi))
    )
    return out


def likelihood_one(p, se, df, level, wsum, n_used, dispersion, *, beta=None, naive=None):
    """Profile-likelihood interval of one proportion, as ``svyciprop(method="likelihood")``.

    R fits the intercept-only quasibinomial ``svyglm`` and calls
    ``confint(..., method = "likelihood")``: the binomial deviance is
    profiled over the intercept on R's grid (``MASS``-style profile with steps
    of ``zmax / 5`` standard errors, at most 9 each way), the signed root is
    spline-interpolated (``spline``/``approx``), and the cut-off is the
    ``t(df)`` quantile scaled by the design effect of the intercept
    (``lambda`` = sandwich variance / model variance).

    Parameters
    ----------
    p, se
        The proportion and its design-based standard error.
    df
        Design degrees of freedom.
    level
        Confidence level.
    wsum
        Sum of the rescaled glm weights (``w / mean(w)`` over the domain
        rows, summed over the cases used).
    n_used
        Number of cases in the fit.
    dispersion
        ``summary(svyglm)$dispersion``: the design-based variance of the
        Pearson residuals.
    beta, naive
        The fitted intercept and its model-based variance as R's IRLS left
        them (see ``_glm.irls_intercept``); default ``logit(p)`` and
        ``1 / (wsum p (1 - p))``.
    """
    if not (0 < p < 1) or not np.isfinite(se) or se <= 0 or df <= 0:
        return np.nan, np.nan
    b0 = np.log(p / (1 - p)) if beta is None else beta
    mu = expit(b0)
    # the sandwich variance of the intercept (svy.varcoef) at the fitted mu
    se_b = se / (mu * (1 - mu))
    if naive is None:
        naive = 1.0 / (wsum * p * (1 - p))
    lam = se_b**2 / naive
    alpha = stats.norm.cdf(qt((1 - level) / 2, df) * np.sqrt(lam)) / 2
    # sqrt(qf(alpha, 1, n - 1, lower.tail = FALSE)) = |qt(alpha / 2, n - 1)|;
    # the t form stays finite for the tiny alpha a large design effect gives.
    zmax = float(np.abs(qt(alpha / 2, n_used - 1)))
    delta = zmax / 5

    def deviance(b):
        m = expit(b)
        return -2 * wsum * (special.xlogy(p, m) + special.xlogy(1 - p, 1 - m))

    dev0 = deviance(b0)

    def dev(b):
        return deviance(b) - dev0

    zs = [0.0]
    bs = [b0]
    for sgn in (-1, 1):
        step = 0
        z = 0.0
        while True:
            step += 1
            if not (step < 10 and abs(z) < zmax):
                break
            bi = b0 + sgn * step * delta * se_b
            zz = dev(bi) / dispersion
            zz = max(zz, 0.0)  # MASS: tiny negative values are rounding
            z = sgn * np.sqrt(zz)
            zs.append(z)
            bs.append(bi)
    zs = np.array(zs)
    bs = np.array(bs)
    o = np.argsort(zs, kind="stable")
    sx, sy = r_spline(bs[o], zs[o])
    cutoff = np.array([stats.norm.ppf(2 * alpha), stats.norm.isf(2 * alpha)])
    lo, hi = r_approx(sy, sx, cutoff)
    return float(expit(lo)), float(expit(hi))
