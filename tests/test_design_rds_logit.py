"""RDS intervals on the logit scale: the same standard error as R prints, bounds always within 0–1."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from research_kit.design import RDSDesign

REF = Path(__file__).resolve().parents[2] / "shared" / "reference" / "rds"


@pytest.fixture(scope="module")
def madrona():
    df = pd.read_csv(REF / "fauxmadrona.csv", dtype={"id": str, "recruiter.id": str})
    return RDSDesign(df, respondent="id", recruiter="recruiter.id", degree="degree", population_size=1000)


def test_logit_interval_keeps_the_analytic_standard_error(madrona):
    a = madrona.proportion("disease", ci="analytic").iloc[0]
    g = madrona.proportion("disease", ci="logit").iloc[0]
    assert g["estimate"] == a["estimate"] and g["se"] == a["se"] and g["deff"] == a["deff"]
    assert g["se"] == pytest.approx(0.0140095846023, rel=1e-8)  # R's RDS.II.estimates
    # Delta method on the logit scale, by hand.
    p, se = g["estimate"], g["se"]
    lo = 1 / (1 + np.exp(-(np.log(p / (1 - p)) - 1.959963984540054 * se / (p * (1 - p)))))
    assert g["ci_low"] == pytest.approx(lo, rel=1e-12)
    assert g["ci_low"] < p < g["ci_high"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 12), st.integers(0, 2**31 - 1))
def test_logit_interval_stays_within_zero_and_one_for_rare_attributes(madrona, k, seed):
    df = madrona.data.copy()
    df["rare"] = 0
    rows = np.random.default_rng(seed).choice(len(df), size=k, replace=False)
    df.loc[df.index[rows], "rare"] = 1
    d = RDSDesign(df, respondent="id", recruiter="recruiter.id", degree="degree")
    logit = d.proportion("rare", ci="logit").iloc[0]
    assert 0 < logit["ci_low"] <= logit["estimate"] <= logit["ci_high"] < 1
