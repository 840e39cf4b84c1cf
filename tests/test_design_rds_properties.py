"""Property-based tests of RDS invariants on random recruitment forests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from research_kit.design import RDSDesign
from research_kit.errors import DesignError, EstimationError

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def samples(draw, min_n: int = 3, max_n: int = 40, equal_degree: bool = False):
    """A random RDS sample: every row's recruiter is an earlier row or none (a forest)."""
    n = draw(st.integers(min_n, max_n))
    parent = [-1] + [draw(st.integers(-1, i - 1)) for i in range(1, n)]
    if equal_degree:
        d = draw(st.integers(1, 50))
        degree = [d] * n
    else:
        degree = draw(st.lists(st.integers(1, 60), min_size=n, max_size=n))
    group = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    hiv = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    ids = [f"c{k:03d}" for k in range(n)]
    return pd.DataFrame(
        {
            "id": ids,
            "rec": [ids[p] if p >= 0 else "seed" for p in parent],
            "deg": degree,
            "group": group,
            "hiv": hiv,
        }
    )


def _design(df: pd.DataFrame, n_pop: float | None = None) -> RDSDesign:
    return RDSDesign(df, "id", "rec", "deg", population_size=n_pop)


@SETTINGS
@given(samples(), st.sampled_from(["RDS-II", "SS", "RDS-I"]), st.floats(1.0, 20.0))
def test_weights_positive_and_sum_to_n(df, estimator, ratio):
    d = _design(df, n_pop=len(df) * ratio)
    try:
        w = d.weights(estimator, "group" if estimator == "RDS-I" else None, seed=1)
    except EstimationError:
        assume(False)  # RDS-I undefined for this chain (periodic / unconnected)
    if estimator == "RDS-I":
        # A group the chain never returns to (e.g. nobody outside it recruits into
        # it) has stationary share 0, as in R; its members then get weight 0.
        shares = d.proportion("group", estimator="RDS-I", ci=None).set_index("level")["estimate"]
        positive = df["group"].map(shares).to_numpy() > 0
        assert np.all(w[positive] > 0) and np.all(w[~positive] == 0)
    else:
        assert np.all(w > 0)
    assert w.sum() == pytest.approx(len(df), rel=1e-12)
    wp = d.weights(estimator, "group" if estimator == "RDS-I" else None, seed=1, scale="population")
    assert wp.sum() == pytest.approx(len(df) * ratio, rel=1e-12)


@SETTINGS
@given(samples(equal_degree=True))
def test_rds_ii_with_equal_degrees_is_sample_proportion(df):
    d = _design(df)
    out = d.proportion("group", ci=None).set_index("level")
    share = df["group"].value_counts(normalize=True)
    for level, row in out.iterrows():
        assert row["estimate"] == pytest.approx(share[level], rel=1e-12)
    assert d.proportion("hiv", ci=None).iloc[0]["estimate"] == pytest.approx(df["hiv"].mean(), abs=1e-12)


@SETTINGS
@given(samples(), st.sampled_from(["RDS-II", "SS", "RDS-I"]))
def test_proportions_over_levels_sum_to_one(df, estimator):
    d = _design(df, n_pop=10 * len(df))
    try:
        out = d.proportion("group", estimator=estimator, seed=2)
    except EstimationError:
        assume(False)
    assert out["estimate"].sum() == pytest.approx(1.0, abs=1e-12)
    assert out["n_event"].sum() == len(df)
    assert (out["n"] == len(df)).all()
    assert np.all((out["estimate"] >= 0) & (out["estimate"] <= 1))


@SETTINGS
@given(samples(), st.randoms(use_true_random=False), st.sampled_from(["RDS-II", "RDS-I"]))
def test_relabelling_ids_changes_nothing(df, rnd, estimator):
    n = len(df)
    new = [f"x{v}" for v in rnd.sample(range(10 * n), n)]
    mapping = dict(zip(df["id"], new))
    relabelled = df.assign(id=df["id"].map(mapping), rec=df["rec"].map(lambda r: mapping.get(r, "seed")))
    try:
        a = _design(df, 5 * n).proportion("group", estimator=estimator, ci="bootstrap", n_boot=30, seed=4)
    except EstimationError:
        assume(False)
    b = _design(relabelled, 5 * n).proportion("group", estimator=estimator, ci="bootstrap", n_boot=30, seed=4)
    pd.testing.assert_frame_equal(a, b)
    a = _design(df, 5 * n).proportion("group", estimator=estimator)
    b = _design(relabelled, 5 * n).proportion("group", estimator=estimator)
    pd.testing.assert_frame_equal(a, b)


@SETTINGS
@given(samples(), st.randoms(use_true_random=False), st.sampled_from(["RDS-II", "RDS-I"]))
def test_row_order_does_not_change_point_estimates(df, rnd, estimator):
    # The point estimates are functions of the tree, not of row order. (R's
    # EL.se sums over pairs i > j in row order, so its s.e. may change.)
    order = list(range(len(df)))
    rnd.shuffle(order)
    try:
        a = _design(df).proportion("group", estimator=estimator, ci=None)
    except EstimationError:
        assume(False)
    b = _design(df.iloc[order]).proportion("group", estimator=estimator, ci=None)
    assert a["estimate"].to_numpy() == pytest.approx(b["estimate"].to_numpy(), rel=1e-10, abs=1e-14)


@SETTINGS
@given(samples(min_n=4), st.data())
def test_any_broken_link_is_reported(df, data):
    k = data.draw(st.integers(1, len(df) - 1))
    broken = df.copy()
    broken.loc[k, "rec"] = "nobody"
    with pytest.raises(DesignError, match="nobody"):
        _design(broken)
    # pointing row 0 (a seed) at one of its descendants closes a cycle
    descendants = {df.loc[0, "id"]}
    for i in range(1, len(df)):
        if df.loc[i, "rec"] in descendants:
            descendants.add(df.loc[i, "id"])
    assume(len(descendants) > 1)
    cyc = df.copy()
    cyc.loc[0, "rec"] = data.draw(st.sampled_from(sorted(descendants - {df.loc[0, "id"]})))
    with pytest.raises(DesignError, match="cycle"):
        _design(cyc)
