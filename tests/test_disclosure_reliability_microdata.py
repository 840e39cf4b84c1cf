"""Reliability rules for percentages (NCHS, Korn–Graubard), the policy object, and microdata extracts."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from research_kit.disclosure import (
    DisclosurePolicy,
    deidentify,
    effective_sample_size,
    estimate_rules,
    korn_graubard,
    protect_estimates,
    risk_summary,
)
from research_kit.disclosure.microdata import wildcard_frequencies
from research_kit.errors import DisclosureError


def test_korn_graubard_matches_svyciprop_beta():
    from research_kit.design import _ci

    p = np.array([0.1, 0.35, 0.5, 0.8])
    se = np.array([0.03, 0.05, 0.04, 0.06])
    n = np.array([400, 300, 500, 350])
    df = np.array([40, 25, 60, 12])
    lo_ref, hi_ref = _ci.beta(p, se, df, 0.95, n, n)
    lo, hi = korn_graubard(p, p * (1 - p) / se**2, n, df)
    np.testing.assert_allclose(lo, lo_ref, rtol=1e-10)
    np.testing.assert_allclose(hi, hi_ref, rtol=1e-10)


def test_effective_sample_size_never_exceeds_the_sample():
    assert effective_sample_size([100, 100], [0.5, 4.0]).tolist() == [100.0, 25.0]


def test_nchs_rules_hide_unreliable_percentages():
    policy = DisclosurePolicy(reliability="nchs")
    t = pd.DataFrame({"estimate": [0.5, 0.5, 0.5, 0.04], "deff": [1.0, 3.0, 1.0, 1.0],
                      "n": [400, 60, 30, 500], "n_event": [200, 30, 15, 20]})
    r = estimate_rules(t, policy)
    assert r["hidden"].tolist() == [False, True, True, False]
    assert "effective_n" in r["reasons"][1] and "ci_width" in r["reasons"][2]
    default = estimate_rules(t, DisclosurePolicy())
    assert default["hidden"].tolist() == [False, False, False, False]  # reliability is opt-in


def test_nchs_relative_width_and_review_flags():
    policy = DisclosurePolicy(reliability="nchs")
    t = pd.DataFrame({"estimate": [0.06], "deff": [2.5], "n": [300], "n_event": [18], "df": [5]})
    r = estimate_rules(t, policy)
    assert r["hidden"].tolist() == [True]
    assert "relative_ci_width" in r["reasons"][0] and "review_df" in r["reasons"][0]


def test_reliability_needs_a_standard_error_or_design_effect():
    with pytest.raises(DisclosureError, match="se"):
        estimate_rules(pd.DataFrame({"estimate": [0.5], "n": [100], "n_event": [50]}), DisclosurePolicy(reliability="nchs"))


@pytest.mark.parametrize("column, values", [("n", [-1]), ("n_event", [2.5]), ("n_event", [200])])
def test_estimate_tables_with_bad_counts_are_refused(column, values):
    t = pd.DataFrame({"estimate": [0.5], "n": [100], "n_event": [50]})
    t[column] = values
    with pytest.raises(DisclosureError):
        protect_estimates(t, DisclosurePolicy())


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 120), st.floats(0, 1)), min_size=2, max_size=5))
def test_shown_percentages_cannot_be_recovered_from_the_group_total(rows):
    """Within a disaggregation, hidden numerators cannot be the overall numerator minus the shown ones."""
    n = np.array([r[0] for r in rows])
    k = np.floor(n * np.array([r[1] for r in rows])).astype(int)
    est = pd.DataFrame({"indicator": "a", "age": [f"g{i}" for i in range(len(rows))], "estimate": k / np.maximum(n, 1),
                        "n": n, "n_event": k})
    pt = protect_estimates(est, DisclosurePolicy(), by=["indicator", "age"], group="indicator")
    num = pt.meta["numerator"]
    hidden = num["n_event"].isna().to_numpy()
    sensitive = (k < 5) | (n - k < 5)
    assert hidden[sensitive].all()
    if sensitive.any():
        assert hidden.sum() >= 2  # one hidden numerator would be the overall numerator minus the others
    assert (num["status"][sensitive] == "primary").all()


@pytest.mark.parametrize("kwargs", [{"upper_protection": -1}, {"sliding_protection": 0}, {"method": "fast"},
                                    {"cost": "money"}, {"reliability": "dhs"}, {"max_ci_width": 2}])
def test_bad_protection_settings_are_refused(kwargs):
    with pytest.raises(DisclosureError):
        DisclosurePolicy(**kwargs)


def test_a_policy_round_trips_through_plain_data_and_refuses_unknown_settings():
    p = DisclosurePolicy(min_count=10, min_denominator=30, reliability="nchs", cost="cells")
    assert DisclosurePolicy.from_dict(p.to_dict()) == p
    with pytest.raises(DisclosureError, match="min_cuont"):
        DisclosurePolicy.from_dict({"min_cuont": 3})


# ---- microdata ---------------------------------------------------------------------------------


def _survey(rng, n=300):
    return pd.DataFrame({
        "nombre": [f"persona {i}" for i in range(n)],
        "telefono": rng.integers(10**8, 10**9, n).astype(str),
        "_geolocation": "[-25.3, -57.6]",
        "comentario": [f"texto libre muy largo numero {i} con detalles que identifican" for i in range(n)],
        "age": rng.integers(18, 70, n),
        "city": rng.choice(["asu", "cde", "enc", "pjc", "con"], n, p=[0.5, 0.2, 0.15, 0.1, 0.05]),
        "nationality": rng.choice(["py", "br", "ar"], n, p=[0.9, 0.07, 0.03]),
        "hiv_test": rng.integers(0, 2, n),
    })


def test_a_microdata_extract_drops_identifiers_generalises_and_is_k_anonymous():
    df = _survey(np.random.default_rng(2))
    regions = {"asu": "central", "cde": "east", "enc": "south", "pjc": "north", "con": "north"}
    ex = deidentify(df, quasi_identifiers=["age", "city", "nationality"], k=5, importance=["age", "city", "nationality"],
                    generalise={"age": {"bins": [18, 25, 35, 50, 120], "labels": ["18-24", "25-34", "35-49", "50+"]},
                                "city": regions})
    assert set(ex.dropped) == {"nombre", "telefono", "_geolocation", "comentario"}
    assert set(ex.data.columns) == {"age", "city", "nationality", "hiv_test"}
    assert set(ex.data["city"].dropna()) <= set(regions.values())
    assert (wildcard_frequencies(ex.data, ex.quasi_identifiers) >= 5).all()
    assert ex.risk_after["violating_k"] == 0 and ex.risk_before["violating_k"] > 0
    assert ex.risk_after["expected_reidentifications"] < ex.risk_before["expected_reidentifications"]
    assert "k = 5" in ex.summary()


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 6))
def test_every_extract_is_k_anonymous(seed, k):
    df = _survey(np.random.default_rng(seed), n=80)
    ex = deidentify(df, quasi_identifiers=["age", "city", "nationality"], k=k)
    assert (wildcard_frequencies(ex.data, ["age", "city", "nationality"]) >= k).all()


def test_microdata_bad_input_is_refused():
    df = _survey(np.random.default_rng(1), n=20)
    with pytest.raises(DisclosureError, match="k must"):
        deidentify(df, quasi_identifiers=["age"], k=1)
    with pytest.raises(DisclosureError, match="No column"):
        deidentify(df, quasi_identifiers=["edad"])
    with pytest.raises(DisclosureError, match="no group"):
        deidentify(df, quasi_identifiers=["city"], generalise={"city": {"asu": "central"}})


def test_risk_summary_counts_unique_records():
    r = risk_summary(pd.DataFrame({"a": ["x", "x", "y", "z"]}), ["a"], k=2)
    assert r["violating_2"] == 2 and r["expected_reidentifications"] == pytest.approx(3.0)
