"""Property-based tests (hypothesis) of SurveyDesign invariants."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from research_kit.design.survey import SurveyDesign


@st.composite
def surveys(draw):
    """A small stratified cluster sample with a binary, a numeric and a domain variable."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_strata = draw(st.integers(1, 4))
    rows = []
    venue = 0
    for h in range(n_strata):
        for _ in range(int(rng.integers(2, 5))):
            venue += 1
            for _ in range(int(rng.integers(1, 7))):
                rows.append((h, venue))
    df = pd.DataFrame(rows, columns=["stratum", "venue"])
    n = len(df)
    p = draw(st.floats(0.05, 0.95))
    df["wt"] = rng.uniform(0.5, 20, n)
    df["y"] = (rng.uniform(size=n) < p).astype(float)
    df.loc[rng.uniform(size=n) < 0.1, "y"] = np.nan
    df["x"] = rng.normal(10, 3, n)
    df["dom"] = rng.choice(["a", "b", "c"], n)
    return df


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def design(df: pd.DataFrame, weights: str = "wt") -> SurveyDesign:
    return SurveyDesign(df, weights=weights, strata="stratum", psu="venue", lonely_psu="adjust")


@SETTINGS
@given(surveys(), st.sampled_from(["logit", "beta", "wilson", "likelihood"]))
def test_proportion_ci_contains_estimate_within_unit_interval(df, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = design(df).proportion("y", by="dom", ci=method)
    # (the profile-likelihood interval is NaN where R's is NA: profile too flat)
    t = t[(t["estimate"] > 0) & (t["estimate"] < 1) & (t["se"] > 0)]
    t = t[np.isfinite(t["ci_low"]) & np.isfinite(t["ci_high"])]
    assert (t["ci_low"] >= 0).all() and (t["ci_high"] <= 1).all()
    assert (t["ci_low"] <= t["estimate"] + 1e-12).all()
    assert (t["estimate"] <= t["ci_high"] + 1e-12).all()


@SETTINGS
@given(surveys(), st.floats(0.01, 1000))
def test_estimates_invariant_to_weight_scaling(df, c):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = design(df).proportion("y", by="dom")
        b = design(df.assign(wt=df["wt"] * c)).proportion("y", by="dom")
        m1 = design(df).mean("x")
        m2 = design(df.assign(wt=df["wt"] * c)).mean("x")
        t1 = design(df).total("x")
        t2 = design(df.assign(wt=df["wt"] * c)).total("x")
    for col in ("estimate", "se", "ci_low", "ci_high"):
        np.testing.assert_allclose(a[col], b[col], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(m1[col], m2[col], rtol=1e-9)
        np.testing.assert_allclose(t2[col], c * t1[col], rtol=1e-9)


@SETTINGS
@given(surveys())
def test_domains_recombine_to_the_whole(df):
    d = design(df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole_total = d.total("x")["estimate"].iloc[0]
        by_total = d.total("x", by="dom")
        whole_mean = d.mean("y")["estimate"].iloc[0]
        by_mean = d.mean("y", by="dom")
    np.testing.assert_allclose(by_total["estimate"].sum(), whole_total, rtol=1e-10)
    # domain means weighted by the domains' weight of answered cases
    wt = df.assign(ok=df["y"].notna() * df["wt"]).groupby("dom")["ok"].sum()
    share = wt.reindex(by_mean["dom"]).to_numpy() / wt.sum()
    # (a domain where every answer is missing has weight 0 and a NaN mean)
    np.testing.assert_allclose(np.nansum(share * by_mean["estimate"].to_numpy()), whole_mean, rtol=1e-10)


@SETTINGS
@given(surveys())
def test_domain_total_is_total_of_zero_padded_variable(df):
    """svyby's subpopulation variance equals that of x * 1{domain} over the full design."""
    d = design(df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        by = d.total("x", by="dom").set_index("dom")
        for lev in by.index:
            padded = df.assign(z=np.where(df["dom"] == lev, df["x"], 0.0))
            t = design(padded).total("z")
            np.testing.assert_allclose(t["se"].iloc[0], by.loc[lev, "se"], rtol=1e-9)


@SETTINGS
@given(surveys())
def test_missing_values_dropped_per_variable(df):
    d = design(df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        both = d.mean(["y", "x"])
        alone_x = d.mean("x")
    assert both["estimate"].iloc[1] == pytest.approx(alone_x["estimate"].iloc[0], rel=1e-14)
    assert both["n"].iloc[0] == df["y"].notna().sum()
    assert both["n"].iloc[1] == len(df)
