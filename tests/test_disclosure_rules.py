"""The first suppression rules: no small count, no percentage on a tiny or one-sided group."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from research_kit.disclosure import DisclosurePolicy, ProtectedTable, protect_counts, protect_estimates
from research_kit.errors import DisclosureError


@given(st.lists(st.integers(0, 60), min_size=1, max_size=12), st.integers(1, 20))
def test_no_published_count_below_the_minimum(counts, k):
    policy = DisclosurePolicy(min_count=k, min_denominator=max(25, k))
    t = protect_counts(pd.DataFrame({"c": range(len(counts)), "count": counts}), policy, dimension="c")
    published = t.data[t.data["status"] == "published"]
    assert (published["count"] >= k).all()
    assert t.data.loc[t.suppressed, "count"].isna().all()


@given(st.lists(st.integers(0, 60), min_size=2, max_size=12), st.integers(1, 20))
def test_a_hidden_cell_cannot_be_recovered_from_the_total(counts, k):
    policy = DisclosurePolicy(min_count=k, min_denominator=max(25, k))
    t = protect_counts(pd.DataFrame({"c": range(len(counts)), "count": counts}), policy, dimension="c")
    body = t.data.iloc[:-1]
    total_published = t.data.iloc[-1]["status"] == "published"
    if total_published:
        assert body["status"].isin(["primary", "secondary"]).sum() != 1


@given(st.lists(st.tuples(st.integers(0, 400), st.floats(0, 1)), min_size=1, max_size=20), st.integers(1, 15))
@settings(max_examples=200)
def test_published_percentages_meet_every_rule(rows, k):
    policy = DisclosurePolicy(min_count=k, min_denominator=max(25, k))
    n = np.array([r[0] for r in rows])
    n_event = np.floor(n * np.array([r[1] for r in rows])).astype(int)
    est = pd.DataFrame({"estimate": n_event / np.maximum(n, 1), "se": 0.01, "ci_low": 0.0, "ci_high": 1.0,
                        "n": n, "n_event": n_event})
    t = protect_estimates(est, policy)
    shown = t.data["status"].isin(["published", "caution"]).to_numpy()
    assert (n[shown] >= policy.min_denominator).all()
    assert (n_event[shown] >= k).all() and ((n - n_event)[shown] >= k).all()
    assert t.data.loc[~shown, ["estimate", "se", "ci_low", "ci_high"]].isna().all().all()
    assert "n_event" not in t.data.columns
    published_n = t.data["n"].dropna()
    assert (published_n >= k).all()


def test_zero_and_hundred_percent_of_a_small_group_are_suppressed():
    est = pd.DataFrame({"estimate": [0.0, 1.0, 0.5], "n": [60, 60, 60], "n_event": [0, 60, 30]})
    assert protect_estimates(est, DisclosurePolicy()).data["status"].tolist() == ["primary", "primary", "published"]


def test_caution_band():
    est = pd.DataFrame({"estimate": [0.5, 0.5, 0.5], "n": [24, 30, 50], "n_event": [12, 15, 25]})
    assert protect_estimates(est, DisclosurePolicy()).data["status"].tolist() == ["primary", "caution", "published"]


def test_denominators_within_a_disaggregation_are_protected_together():
    est = pd.DataFrame({"indicator": ["a", "a", "a"], "age": ["u25", "25plus", "x"], "estimate": 0.5,
                        "n": [3, 200, 60], "n_event": [1, 100, 30]})
    t = protect_estimates(est, DisclosurePolicy(), by=["indicator", "age"], group="indicator")
    assert t.data["n"].isna().sum() == 2  # the small one, and one more so that no total gives it back


@pytest.mark.parametrize("kwargs", [{"min_count": 0}, {"min_count": -3}, {"min_count": 2.5}, {"min_denominator": 3, "min_count": 5}])
def test_bad_policies_are_refused(kwargs):
    with pytest.raises(DisclosureError):
        DisclosurePolicy(**kwargs)


def test_tables_without_counts_cannot_be_protected():
    with pytest.raises(DisclosureError, match="n_event"):
        protect_estimates(pd.DataFrame({"estimate": [0.2], "n": [100]}), DisclosurePolicy())
    with pytest.raises(DisclosureError, match="non-negative"):
        protect_counts(pd.DataFrame({"c": ["a"], "count": [-1]}), DisclosurePolicy(), dimension="c")


def test_report_helpers_accept_only_protected_tables():
    from research_kit.report.tables import table_html

    with pytest.raises(DisclosureError):
        table_html(pd.DataFrame({"estimate": [0.1]}))
    with pytest.raises(DisclosureError):
        ProtectedTable(pd.DataFrame({"estimate": [0.1]}), DisclosurePolicy(), "estimate")
