"""Generalised linear models on survey designs (R's ``svyglm``), and the
profile-likelihood interval of a proportion that rests on one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from research_kit.design import _ci

if TYPE_CHECKING:  # pragma: no cover
    from research_kit.design.survey import SurveyDesign


_THRESH = 30.0
_EPS = np.finfo(float).eps


def _linkinv(eta):
    # R's C_logit_linkinv: clamps far tails to eps / 1/eps before expit.
    tmp = np.where(eta < -_THRESH, _EPS, np.where(eta > _THRESH, 1 / _EPS, np.exp(np.clip(eta, -_THRESH, _THRESH))))
    return tmp / (1 + tmp)


def _mu_eta(eta):
    # R's C_logit_mu_eta
    e = np.exp(np.clip(eta, -_THRESH, _THRESH))
    return np.where(np.abs(eta) > _THRESH, _EPS, e / (1 + e) ** 2)


def _binomial_dev(sy, sw, mu):
    """Binomial deviance of 0/1 data with weighted count ``sy`` out of weight ``sw``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return -2 * (special.xlogy(sy, mu) + special.xlogy(sw - sy, 1 - mu))


def irls_intercept(y, wt, cell, n_cells, epsilon=1e-8, maxit=25):
    """Emulate ``glm.fit`` for ``y ~ 1`` (binomial, logit) in many cells at once.

    Returns the final coefficient and the sum of the working weights of the
    last iteration (whose inverse is ``summary(glm)$cov.unscaled``).  Both
    differ from ``logit(p)`` and ``W p (1 - p)`` by the IRLS convergence
    error, which R's profile-likelihood interval inherits.

    Parameters
    ----------
    y, wt
        0/1 responses and prior weights of the cases used.
    cell
        Cell index of each case.
    n_cells
        Number of cells.
    """
    mustart = (wt * y + 0.5) / (wt + 1)
    eta = np.log(mustart / (1 - mustart))
    mu = _linkinv(eta)
    me = _mu_eta(eta)
    z = eta + (y - mu) / me
    wz = wt * me**2 / (mu * (1 - mu))

    def csum(a):
        return np.bincount(cell, weights=a, minlength=n_cells)

    devold = csum(-2 * (special.xlogy(y, mu) + special.xlogy(1 - y, 1 - mu)) * wt)
    sw = csum(wt)
    sy = csum(wt * y)
    wz_sum = csum(wz)
    beta = csum(wz * z) / wz_sum
    last_wz = wz_sum.copy()
    done = np.zeros(n_cells, dtype=bool)
    for _ in range(maxit):
        mu = _linkinv(beta)
        dev = _binomial_dev(sy, sw, mu)
        conv = np.abs(dev - devold) / (np.abs(dev) + 0.1) < epsilon
        done = done | conv
        if done.all():
            break
        devold = np.where(done, devold, dev)
        me = _mu_eta(beta)
        wz_sum = sw * me**2 / (mu * (1 - mu))
        zbar = beta + (sy / sw - mu) / me
        new_beta = zbar  # weighted mean of the working response
        last_wz = np.where(done, last_wz, wz_sum)
        beta = np.where(done, beta, new_beta)
    return beta, last_wz, sy, sw


def likelihood_cells(design: SurveyDesign, p, se, df, level, X, by):
    """``svyciprop(method = "likelihood")`` for every (domain, column) cell.

    The quantities R's intercept-only ``svyglm`` needs are sums over each
    cell's rows: the glm weights are ``w / mean(w)`` over the domain's rows
    (``svyglm(rescale = TRUE)``), and the dispersion is ``svyvar`` of the
    Pearson residuals over the cases used.
    """
    m = design._group_matrices(by)
    g_dom, dom = m["g_dom"], m["dom"]
    w = design.weights
    valid = ~np.isnan(X)
    y = np.nan_to_num(X)
    in_dom = (dom >= 0).astype(float)
    w_all = np.asarray(g_dom @ (w * in_dom)).ravel()  # every row of the domain design
    n_rows = np.asarray(m["n_rows"], float)
    k = n_rows / w_all  # rescaling factor of the glm weights in each domain

    W = np.asarray(g_dom @ (valid * w[:, None]))
    n_used = np.asarray(g_dom @ valid.astype(float))
    D, K = p.shape
    lo = np.full(p.shape, np.nan)
    hi = np.full(p.shape, np.nan)
    for j in range(K):
        use = valid[:, j] & (dom >= 0)
        cell = dom[use]
        wt = w[use] * k[cell]  # svyglm's rescaled prior weights
        beta, wz_last, sy, sw = irls_intercept(y[use, j], wt, cell, D)
        for d in range(D):
            pj = p[d, j]
            if not (0 < pj < 1):
                continue
            nn = n_used[d, j]
            # residuals.svyglm scales the Pearson residuals by
            # sqrt(prior weight / design weight), both normalised to mean 1;
            # their ratio is the same for every case, so for 0/1 data
            # svyvar() of the residuals is ratio * n / (n - 1).
            if design._calibration:
                # R keeps every row of a calibrated design (zero weight
                # outside the domain): the glm has all complete rows and the
                # design weights are normalised over all rows.
                n_norm, n_glm = design.n, int(valid[:, j].sum())
            else:
                n_norm = n_glm = nn
            ratio = k[d] * W[d, j] / n_norm
            disp = ratio * nn / (nn - 1)
            lo[d, j], hi[d, j] = _ci.likelihood_one(
                pj, se[d, j], df[d, j], level, sw[d], n_glm, disp,
                beta=beta[d], naive=1.0 / wz_last[d],
            )
    return lo, hi


# --------------------------------------------------------------------------
# svyglm
# --------------------------------------------------------------------------

FAMILIES = ("gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson")


def _family(name: str):
    import statsmodels.api as sm

    if name in ("binomial", "quasibinomial"):
        return sm.families.Binomial()
    if name in ("poisson", "quasipoisson"):
        return sm.families.Poisson()
    return sm.families.Gaussian()


def fit_glm(design: SurveyDesign, formula: str, family: str, level: float):
    """Fit ``formula`` with design weights and the design-based variance of ``svyglm``.

    Returns ``(terms, beta, vcov, df_residual, rows_used)``.

    The point estimates are the weighted maximum-likelihood estimates
    (statsmodels IRLS run to tight tolerance, where R's ``glm`` stops at a
    relative deviance change of 1e-8).  The variance is ``svy.varcoef``: the
    estimating functions ``x_i w_i r_i`` (working residual times working
    weight) multiplied by the inverse information, summed into PSU totals by
    ``svyrecvar``; for replicate designs every replicate is refitted, as
    ``svyglm.svyrep.design``.
    """
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    from research_kit.errors import EstimationError

    data = design.data.reset_index(drop=True)
    fam = _family(family)
    try:
        spec = smf.glm(formula, data=data, family=fam)
    except Exception as exc:  # formula errors come from formulaic/patsy
        raise EstimationError(f"Cannot build the model {formula!r}: {exc}") from exc
    y = np.asarray(spec.endog, dtype=float)
    if y.ndim != 1:
        raise EstimationError(
            f"The response of {formula!r} must be one numeric column (0/1 for binomial); "
            "recode it before fitting."
        )
    X = np.asarray(spec.exog, dtype=float)
    names = list(spec.exog_names)
    rows = np.asarray(spec.data.row_labels, dtype=np.int64)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise EstimationError(
            f"The model matrix of {formula!r} is rank deficient (collinear terms or an empty "
            "category); drop or merge the offending terms."
        )
    if family in ("binomial", "quasibinomial") and ((y < 0) | (y > 1)).any():
        raise EstimationError("A binomial response must lie in [0, 1] (0/1 data).")
    w_all = design.weights
    wt = w_all[rows] / w_all.mean()  # svyglm(rescale = TRUE)
    fit = sm.GLM(y, X, family=fam, var_weights=wt).fit(tol=1e-13, maxiter=200)
    beta = np.asarray(fit.params)
    p = len(beta)
    used = np.zeros(design.n, dtype=bool)
    used[rows] = True
    if design._replicate is not None:
        rep = design._replicate
        W = _replicate_weight_columns(design)[rows]
        betas = np.empty((W.shape[1], p))
        for r in range(W.shape[1]):
            wr = W[:, r]
            betas[r] = sm.GLM(y, X, family=fam, var_weights=wr / wr.sum()).fit(
                start_params=beta, tol=1e-13, maxiter=200
            ).params
        vcov = rep.full_variance(betas, beta)
        # svyglm.svyrep.design takes degf() of the design before dropping
        # incomplete cases.
        dfres = design.df + 1 - p
    else:
        mu = np.asarray(fit.mu)
        deriv = fam.link.deriv(mu)
        wwork = wt / (deriv**2 * fam.variance(mu))
        estfun = X * ((y - mu) * deriv * wwork)[:, None]
        ainv = np.linalg.inv(X.T @ (X * wwork[:, None]))
        Z = np.zeros((design.n, p))
        Z[rows] = estfun @ ainv
        vcov = design._row_variance(Z, full=True, rows_used=used)
        dfres = design._degf_rows(used) + 1 - p
    return names, beta, vcov, dfres, used


def _replicate_weight_columns(design: SurveyDesign) -> np.ndarray:
    rep = design._replicate
    if rep.factors is not None:
        return design.weights[:, None] * rep.factors[design._psu_of_row]
    return rep.weights
