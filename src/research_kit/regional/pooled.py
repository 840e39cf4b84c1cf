"""Pooled node and regional estimates: each country an independent stratum, weighted to its population.

Method
------
Country ``c`` has an estimate ``p_c`` with standard error ``s_c`` from its own design
(respondent-driven or time-location), a population size estimate ``N_c`` supplied by the
user, and ``δ_c``, the estimated share of its population in the indicator's denominator
(1 when the denominator is every respondent; otherwise the design-based share of
respondents in the denominator, see :func:`research_kit.regional.collect`). The
population in the denominator is ``N_c δ_c``, so

    p = Σ_c W_c p_c,   W_c = N_c δ_c / Σ_k N_k δ_k,   SE(p) = sqrt(Σ_c W_c² s_c²).

Countries are sampled independently, so their covariances are zero. The sizes ``N_c``
and the shares ``δ_c`` are treated as known constants: the standard error leaves out
their uncertainty. For an indicator of all respondents (``δ_c = 1``) this is exactly the
stratified estimator of a combined design whose strata are the countries, post-stratified
to ``N_c`` (R: ``svymean`` after ``postStratify(design, ~country, N)``; checked against
R's ``survey`` in ``tests/reference/pooled/``).

The 95% interval is built on the logit scale, as the country reports' RDS intervals are:
``expit(logit(p) ± z SE / (p (1 - p)))``; it stays within 0–100% and is asymmetric near
the bounds. Where ``p`` is 0 or 1 (which disclosure control never lets through) the Wald
interval clipped to [0, 1] is used.

When a pooled estimate is not possible
--------------------------------------
A node or the region is pooled over **every** country of it in the report. A pooled row is
withheld, with its reasons, when a country has no data (``no_data``), did not measure the
indicator (``not_measured``), or has no usable population size (``no_population_size``).

Disclosure
----------
A pooled estimate is published only if every contributing country's estimate is
published (``published`` or ``caution``). Otherwise it is suppressed as ``secondary``
(reason ``suppressed``): the pooled figure and the other countries' published figures would
give the hidden country's estimate back.

Examples
--------
>>> r = pooled_estimate([0.2, 0.4], [0.02, 0.03], [1000, 3000])
>>> round(r.estimate, 4), round(r.se, 6), r.weights.tolist()
(0.35, 0.023049, [0.25, 0.75])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from scipy.stats import norm

from research_kit.countries import NODES, get_country
from research_kit.disclosure import DisclosurePolicy, ProtectedTable
from research_kit.errors import EstimationError, ParameterError

__all__ = ["pooled_estimate", "PooledEstimate", "pool", "REASONS", "PUBLISHED"]

#: Why a pooled estimate is withheld, in the order the report lists them.
REASONS = ("no_data", "not_measured", "no_population_size", "suppressed")
#: Country statuses whose estimate is shown.
PUBLISHED = ("published", "caution")


@dataclass(frozen=True)
class PooledEstimate:
    """A pooled proportion with its standard error, interval and the countries' weights."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    weights: np.ndarray


def _interval(p: float, se: float, z: float) -> tuple[float, float]:
    if 0.0 < p < 1.0 and se > 0:
        half = z * se / (p * (1.0 - p))
        lg = float(logit(p))
        # min/max: with a vanishing SE, rounding in logit/expit must not put p outside its interval
        return min(float(expit(lg - half)), p), max(float(expit(lg + half)), p)
    return max(0.0, p - z * se), min(1.0, p + z * se)


def pooled_estimate(p: Sequence[float], se: Sequence[float], population_size: Sequence[float],
                    share: Sequence[float] | None = None, *, level: float = 0.95) -> PooledEstimate:
    """Pool independent country proportions, weighted by their populations in the denominator.

    Parameters
    ----------
    p, se : sequence of float
        Each country's estimate (0–1) and standard error.
    population_size : sequence of float
        Each country's population size estimate ``N_c`` (positive).
    share : sequence of float, optional
        Each country's estimated share ``δ_c`` of its population in the indicator's denominator
        (default 1: the denominator is every respondent).
    level : float
        Confidence level of the interval (logit scale).

    Returns
    -------
    PooledEstimate

    Raises
    ------
    ParameterError
        Lengths differ, or a value is missing or out of range.

    Examples
    --------
    >>> r = pooled_estimate([0.3], [0.05], [500])
    >>> r.estimate, r.se, r.weights.tolist()
    (0.3, 0.05, [1.0])
    >>> round(pooled_estimate([0.2, 0.4], [0.02, 0.03], [1000, 3000], share=[1.0, 1/3]).estimate, 4)
    0.3
    """
    p_ = np.asarray(p, float)
    s_ = np.asarray(se, float)
    n_ = np.asarray(population_size, float)
    d_ = np.ones_like(p_) if share is None else np.asarray(share, float)
    if not (len(p_) == len(s_) == len(n_) == len(d_)) or len(p_) == 0:
        raise ParameterError("pooled_estimate needs one estimate, standard error, population size and share per "
                             f"country; got {len(p_)}, {len(s_)}, {len(n_)} and {len(d_)}.")
    for name, arr, low, high in (("estimate", p_, 0, 1), ("standard error", s_, 0, math.inf),
                                 ("denominator share", d_, 0, 1)):
        if not np.all(np.isfinite(arr) | (arr == math.inf)) or np.any(arr < low) or np.any(arr > high):
            raise ParameterError(f"Every {name} must be a number in [{low}, {high}]; got {arr.tolist()}.")
    if not np.all(np.isfinite(n_)) or np.any(n_ <= 0):
        raise ParameterError(f"Every population size must be a positive number; got {n_.tolist()}.")
    if not 0 < level < 1:
        raise ParameterError(f"level must be between 0 and 1, not {level!r}.")
    mass = n_ * d_
    if mass.sum() <= 0:
        raise EstimationError("No country has anyone in the indicator's denominator: nothing to pool.")
    w = mass / mass.sum()
    est = float(np.dot(w, p_))
    se_ = float(np.sqrt(np.dot(w ** 2, s_ ** 2)))
    lo, hi = _interval(est, se_, float(norm.ppf(0.5 + level / 2)))
    return PooledEstimate(est, se_, lo, hi, w)


def _areas(countries: list[str]) -> list[tuple[str, str, list[str]]]:
    """(area code, kind, member countries): each node with countries in the report, then the region."""
    out = []
    for node in NODES:
        members = [c for c in countries if get_country(c).node == node]
        if members:
            out.append((node, "node", members))
    if countries:
        from research_kit.regional.inputs import REGION

        out.append((REGION, "region", list(countries)))
    return out


def pool(estimates: pd.DataFrame, population_sizes: pd.DataFrame, denominator_shares: pd.DataFrame, *,
         policy: DisclosurePolicy, countries: Iterable[str] | None = None, missing: Iterable[str] = (),
         level: float = 0.95) -> ProtectedTable:
    """Pooled estimates of every indicator for each node and the region, as a protected table.

    Parameters
    ----------
    estimates : DataFrame
        Protected country estimates (:attr:`RegionalInputs.estimates`): ``country, indicator,
        estimate, se, n, n_event, status`` (``not_measured`` for an indicator a country lacks).
    population_sizes : DataFrame
        ``country, population_size`` (see :func:`research_kit.regional.read_population_sizes`).
    denominator_shares : DataFrame
        ``country, indicator, share``.
    policy : DisclosurePolicy
        The policy the country estimates were protected with (carried by the result).
    countries : iterable of str, optional
        Every country of the report, those without data included (default: those in ``estimates``
        and ``missing``).
    missing : iterable of str
        Countries without data.
    level : float
        Confidence level.

    Returns
    -------
    ProtectedTable
        Kind ``estimate``, dimensions ``("indicator", "area")``: ``area`` is a node code or ``"LAC"``,
        ``area_type`` ``node``/``region``; ``estimate, se, ci_low, ci_high, n`` (sum of the countries'
        respondents in the denominator), ``countries`` (the area's countries), ``status`` and
        ``reasons`` (a tuple of ``(reason, countries)`` pairs, empty when published; reasons from
        :data:`REASONS`). Withheld rows have NaN values and status ``secondary``.

    Examples
    --------
    >>> est = pd.DataFrame({"country": ["PRY", "URY"], "indicator": ["x", "x"], "estimate": [0.2, 0.4],
    ...                     "se": [0.02, 0.03], "n": [300, 200], "n_event": [60, 80],
    ...                     "status": ["published", "primary"]})
    >>> sizes = pd.DataFrame({"country": ["PRY", "URY"], "population_size": [1000, 3000]})
    >>> shares = pd.DataFrame({"country": ["PRY", "URY"], "indicator": ["x", "x"], "share": [1.0, 1.0]})
    >>> t = pool(est, sizes, shares, policy=DisclosurePolicy())
    >>> t.data[["area", "status", "reasons"]].values.tolist()
    [['southern_cone', 'secondary', (('suppressed', ('URY',)),)], ['LAC', 'secondary', (('suppressed', ('URY',)),)]]
    """
    est = estimates.copy()
    est["country"] = est["country"].astype(str)
    missing = [get_country(c).alpha_3 for c in missing]
    if countries is None:
        countries = list(dict.fromkeys([*est["country"], *missing]))
    countries = [get_country(c).alpha_3 for c in countries]
    sizes = {get_country(r.country).alpha_3: float(r.population_size)
             for r in population_sizes.itertuples() if pd.notna(r.population_size) and float(r.population_size) > 0}
    shares = {(r.country, r.indicator): float(r.share) for r in denominator_shares.itertuples()}
    rows = {(r.country, r.indicator): r for r in est.itertuples()}
    indicators = list(dict.fromkeys(est["indicator"]))
    out = []
    for ind in indicators:
        for area, kind, members in _areas(countries):
            reasons: dict[str, list[str]] = {r: [] for r in REASONS}
            for c in members:
                r = rows.get((c, ind))
                if c in missing or (r is None and c not in est["country"].values):
                    reasons["no_data"].append(c)
                elif r is None or r.status == "not_measured" or (c, ind) not in shares:
                    reasons["not_measured"].append(c)
                elif c not in sizes:
                    reasons["no_population_size"].append(c)
                elif r.status not in PUBLISHED or pd.isna(r.estimate) or pd.isna(r.se):
                    reasons["suppressed"].append(c)
            found = tuple((k, tuple(v)) for k, v in reasons.items() if v)
            row = {"indicator": ind, "area": area, "area_type": kind, "countries": tuple(members),
                   "estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": np.nan,
                   "n_event": np.nan, "status": "secondary", "reasons": found}
            if not found:
                sub = [rows[(c, ind)] for c in members]
                r = pooled_estimate([s.estimate for s in sub], [s.se for s in sub], [sizes[c] for c in members],
                                    [shares[(c, ind)] for c in members], level=level)
                n = float(sum(s.n for s in sub))
                k = float(sum(s.n_event for s in sub)) if all(pd.notna(s.n_event) for s in sub) else np.nan
                row.update(estimate=r.estimate, se=r.se, ci_low=r.ci_low, ci_high=r.ci_high, n=n, n_event=k,
                           status="caution" if n < policy.caution_denominator else "published")
            out.append(row)
    cols = ["indicator", "area", "area_type", "countries", "estimate", "se", "ci_low", "ci_high", "n", "n_event",
            "status", "reasons"]
    data = pd.DataFrame(out, columns=cols)
    shown = data["status"].isin(PUBLISHED)
    numerator = data[["indicator", "area"]].copy()
    numerator["n_event"] = data["n_event"].where(shown & data["n_event"].notna())
    numerator["status"] = np.where(numerator["n_event"].notna(), "published", "secondary")
    denominator = data[["indicator", "area"]].copy()
    denominator["n"] = data["n"].where(shown)
    denominator["status"] = np.where(shown, "published", "secondary")
    from research_kit.disclosure.model import Dimension

    meta = {"measure": "percentage", "numerator": numerator, "denominator": denominator,
            "dimensions": [Dimension("indicator", [str(v) for v in dict.fromkeys(data["indicator"])]).to_dict(),
                           Dimension("area", [str(v) for v in dict.fromkeys(data["area"])]).to_dict()] if len(data)
            else [], "method": "stratified by country, weighted to population size × denominator share"}
    return ProtectedTable(data.drop(columns=["n_event"]), policy, "estimate", ("indicator", "area"), meta)
