"""Primary suppression: which cells are sensitive in themselves.

* counts: under ``min_count`` (zero included);
* percentages (from the estimation API, with unweighted ``n`` and ``n_event``): on fewer
  than ``min_denominator`` respondents, or — group disclosure — when fewer than
  ``min_count`` have the attribute or fewer than ``min_count`` do not (0 % and 100 % of a
  small group disclose everyone in it);
* reliability (``policy.reliability='nchs'``), as the NCHS Data Presentation Standards for
  Proportions (Parker et al. 2017, Vital Health Stat 2(175)): not shown when the effective
  sample size ``n / deff`` is under 30, when the Korn–Graubard interval is 0.30 wide or
  wider, or when it is wider than 0.05 and its width relative to the estimate exceeds
  130 %. The NCHS also asks for review (not suppression) when the degrees of freedom are
  under 8 or the estimate is 0 or 100 %; those rows are flagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from research_kit.disclosure.policy import DisclosurePolicy
from research_kit.errors import DisclosureError

__all__ = ["primary_counts", "effective_sample_size", "korn_graubard", "estimate_rules", "REASONS"]

#: Reasons a percentage is not shown (or flagged), as recorded in a protected table's metadata.
REASONS = {
    "denominator": "based on fewer respondents than the minimum denominator",
    "group": "fewer than the minimum count have, or do not have, the characteristic",
    "effective_n": "effective sample size under the NCHS minimum",
    "ci_width": "Korn–Graubard interval too wide (NCHS)",
    "relative_ci_width": "Korn–Graubard interval too wide relative to the estimate (NCHS)",
    "complementary": "hidden so that another hidden number cannot be recovered",
    "review_df": "fewer than 8 degrees of freedom: review (NCHS)",
    "review_extreme": "estimate of 0 % or 100 %: review (NCHS)",
}


def primary_counts(values, policy: DisclosurePolicy) -> np.ndarray:
    """Cells under the minimum count (zero included).

    Examples
    --------
    >>> primary_counts([0, 3, 5, 12], DisclosurePolicy()).tolist()
    [True, True, False, False]
    """
    return np.asarray(values, float) < policy.min_count


def effective_sample_size(n, deff=None) -> np.ndarray:
    """``n / deff``, with the design effect taken as 1 where it is under 1 or unknown (NCHS).

    Examples
    --------
    >>> effective_sample_size([100, 100, 100], [2.0, 0.5, float("nan")]).tolist()
    [50.0, 100.0, 100.0]
    """
    n = np.asarray(n, float)
    if deff is None:
        return n.copy()
    d = np.asarray(deff, float)
    d = np.where(np.isfinite(d) & (d > 1), d, 1.0)
    return n / d


def _qt(p, df):
    df = np.asarray(df, float)
    out = np.full(np.broadcast(p, df).shape, np.nan)
    ok = df > 0
    out[ok] = special.stdtrit(np.broadcast_to(df, out.shape)[ok], np.broadcast_to(p, out.shape)[ok])
    return out


def korn_graubard(estimate, n_eff, n, df=None, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Korn–Graubard (1998) interval of a proportion from its effective sample size.

    As R's ``svyciprop(method = "beta")``: the effective sample size is multiplied by
    ``(t(alpha/2, n - 1) / t(alpha/2, df))^2`` when the design degrees of freedom ``df`` are
    known, then a Clopper–Pearson interval is computed with ``x = p * n_eff``. As the NCHS
    standard, the adjusted effective sample size is capped at ``n``.

    Parameters
    ----------
    estimate : array
        Proportions in [0, 1].
    n_eff : array
        Effective sample sizes (``p (1 - p) / se^2``, or ``n / deff``).
    n : array
        Unweighted sample sizes.
    df : array, optional
        Design degrees of freedom; without them no adjustment is made.
    level : float

    Examples
    --------
    >>> lo, hi = korn_graubard([0.5], [100], [100])
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.3983, 0.6017)
    """
    p = np.asarray(estimate, float)
    n = np.asarray(n, float)
    m = np.asarray(n_eff, float).copy()
    alpha = 1 - level
    if df is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (_qt(alpha / 2, n - 1) / _qt(alpha / 2, np.asarray(df, float))) ** 2
        m = np.where(np.isfinite(ratio), m * ratio, m)
    m = np.minimum(m, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = p * m
        lo = np.where(p <= 0, 0.0, stats.beta.ppf(alpha / 2, np.maximum(x, 1e-300), m - x + 1))
        hi = np.where(p >= 1, 1.0, stats.beta.ppf(1 - alpha / 2, x + 1, np.maximum(m - x, 1e-300)))
    return lo, hi


def estimate_rules(table: pd.DataFrame, policy: DisclosurePolicy, *, df=None) -> pd.DataFrame:
    """Primary rules for every row of an estimate table.

    Parameters
    ----------
    table : DataFrame
        ``estimate``, ``n``, ``n_event``; ``se`` or ``deff`` for the reliability rule;
        optionally ``df`` (design degrees of freedom).
    policy : DisclosurePolicy
    df : array, optional
        Degrees of freedom when the table has no ``df`` column.

    Returns
    -------
    DataFrame
        One row per input row: ``disclosive`` (a disclosure rule: the counts are sensitive),
        ``hidden`` (not shown for any reason), ``caution``, and ``reasons`` (list of keys of
        :data:`REASONS`).

    Raises
    ------
    DisclosureError
        If ``n`` or ``n_event`` is missing, negative, fractional, or ``n_event > n``; or if the
        reliability rule is asked for and neither ``se`` nor ``deff`` is given.

    Examples
    --------
    >>> t = pd.DataFrame({"estimate": [0.5, 0.96, 0.5], "n": [100, 30, 20], "n_event": [50, 29, 10]})
    >>> r = estimate_rules(t, DisclosurePolicy())
    >>> r["hidden"].tolist(), r["reasons"].tolist()
    ([False, True, True], [[], ['group'], ['denominator']])
    """
    missing = [c for c in ("estimate", "n", "n_event") if c not in table.columns]
    if missing:
        raise DisclosureError(
            f"The estimate table has no {', '.join(missing)} column: without unweighted counts it cannot be protected. "
            "Use the tables returned by the estimation functions."
        )
    n = pd.to_numeric(table["n"], errors="coerce").to_numpy(float)
    k = pd.to_numeric(table["n_event"], errors="coerce").to_numpy(float)
    for name, v in (("n", n), ("n_event", k)):
        if np.isnan(v).any() or (v < 0).any() or (v != np.round(v)).any():
            raise DisclosureError(f"The column {name!r} must hold unweighted counts (whole numbers, not negative); "
                                  f"found {v[np.isnan(v) | (v < 0) | (v != np.round(v))][:3].tolist()}.")
    if (k > n).any():
        raise DisclosureError("n_event is larger than n on some rows: the numerator cannot exceed the denominator.")
    reasons = [[] for _ in range(len(table))]
    small_n = n < policy.min_denominator
    group = ((k < policy.min_count) | (n - k < policy.min_count)) if policy.group_disclosure else np.zeros(len(n), bool)
    hidden = small_n | group
    for i in np.flatnonzero(small_n):
        reasons[i].append("denominator")
    for i in np.flatnonzero(group):
        reasons[i].append("group")
    if policy.reliability == "nchs":
        p = pd.to_numeric(table["estimate"], errors="coerce").to_numpy(float)
        if "se" in table.columns:
            se = pd.to_numeric(table["se"], errors="coerce").to_numpy(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                deff = se ** 2 / (p * (1 - p) / n)
            if "deff" in table.columns:
                deff = np.where(np.isfinite(deff), deff, pd.to_numeric(table["deff"], errors="coerce").to_numpy(float))
        elif "deff" in table.columns:
            deff = pd.to_numeric(table["deff"], errors="coerce").to_numpy(float)
        else:
            raise DisclosureError("The NCHS reliability rule needs the standard error (se) or the design effect (deff) "
                                  "of every estimate.")
        n_eff = effective_sample_size(n, deff)
        dfs = table["df"].to_numpy(float) if "df" in table.columns else (None if df is None else np.asarray(df, float))
        lo, hi = korn_graubard(p, n_eff, n, dfs, policy.ci_level)
        width = hi - lo
        low_neff = n_eff < policy.min_effective_n
        wide = width >= policy.max_ci_width - 1e-12
        rel = np.zeros(len(n), bool)
        if policy.max_relative_ci_width is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                rel = (width > 0.05) & (width / p > policy.max_relative_ci_width)
            rel = np.nan_to_num(rel, nan=False).astype(bool)
        for mask, why in ((low_neff, "effective_n"), (wide, "ci_width"), (rel & ~wide, "relative_ci_width")):
            for i in np.flatnonzero(mask):
                reasons[i].append(why)
        hidden = hidden | low_neff | wide | rel
        if dfs is not None:
            for i in np.flatnonzero(np.asarray(dfs, float) < 8):
                reasons[i].append("review_df")
        for i in np.flatnonzero((p <= 0) | (p >= 1)):
            reasons[i].append("review_extreme")
    caution = ~hidden & (n < policy.caution_denominator)
    return pd.DataFrame({"disclosive": group | (n < policy.min_count), "hidden": hidden, "caution": caution,
                         "reasons": reasons}, index=table.index)
