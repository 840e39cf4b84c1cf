"""Pooled node and regional estimates: the formula, its properties, disclosure, and R's survey package."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research_kit.disclosure import DisclosurePolicy
from research_kit.regional.pooled import pool, pooled_estimate

REFERENCE = Path(__file__).parent / "reference" / "pooled"


def test_pooled_estimate_matches_a_hand_computation():
    # N = 1000 and 3000, all respondents in the denominator: W = 0.25, 0.75.
    r = pooled_estimate([0.2, 0.4], [0.02, 0.03], [1000, 3000])
    assert r.weights.tolist() == [0.25, 0.75]
    assert r.estimate == pytest.approx(0.25 * 0.2 + 0.75 * 0.4)  # 0.35
    assert r.se == pytest.approx(math.sqrt(0.25**2 * 0.02**2 + 0.75**2 * 0.03**2))  # 0.0230489
    # Logit interval: expit(logit(0.35) ± 1.96 se / (0.35 × 0.65)).
    half = 1.959963984540054 * r.se / (0.35 * 0.65)
    lo = 1 / (1 + math.exp(-(math.log(0.35 / 0.65) - half)))
    assert r.ci_low == pytest.approx(lo) and r.ci_low < 0.35 < r.ci_high


def test_denominator_shares_reweight_countries():
    # Second country: only a third of its 3000 women are in the denominator → 1000 vs 1000.
    r = pooled_estimate([0.2, 0.4], [0.02, 0.03], [1000, 3000], share=[1.0, 1 / 3])
    assert r.weights == pytest.approx([0.5, 0.5])
    assert r.estimate == pytest.approx(0.3)


countries = st.integers(min_value=1, max_value=8)


@st.composite
def cases(draw):
    k = draw(countries)
    p = draw(st.lists(st.floats(0.01, 0.99), min_size=k, max_size=k))
    se = draw(st.lists(st.floats(0.0, 0.2), min_size=k, max_size=k))
    n = draw(st.lists(st.floats(10, 1e6), min_size=k, max_size=k))
    share = draw(st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k))
    return p, se, n, share


@settings(max_examples=200, deadline=None)
@given(cases())
def test_pooled_estimate_lies_between_the_countries(case):
    p, se, n, share = case
    r = pooled_estimate(p, se, n, share)
    assert min(p) - 1e-12 <= r.estimate <= max(p) + 1e-12
    assert r.weights.sum() == pytest.approx(1.0)
    assert (r.weights >= 0).all()
    assert r.se <= max(se) + 1e-12  # a weighted average is never less precise than its least precise part
    assert 0.0 <= r.ci_low <= r.estimate <= r.ci_high <= 1.0


@settings(max_examples=100, deadline=None)
@given(st.floats(0.01, 0.99), st.floats(0.0, 0.2), st.floats(1, 1e6), st.floats(0.01, 1.0))
def test_one_country_pools_to_itself(p, se, n, share):
    r = pooled_estimate([p], [se], [n], [share])
    assert r.estimate == pytest.approx(p) and r.se == pytest.approx(se) and r.weights.tolist() == [1.0]


def _frame(status=("published", "published", "published")):
    est = pd.DataFrame({"country": ["PRY", "URY", "BOL"], "indicator": "x", "estimate": [0.2, 0.4, 0.3],
                        "se": [0.02, 0.03, 0.04], "n": [300.0, 200, 250], "n_event": [60.0, 80, 75],
                        "status": list(status)})
    hidden = est["status"].isin(["primary", "secondary"])
    est.loc[hidden, ["estimate", "se", "n_event"]] = np.nan
    sizes = pd.DataFrame({"country": ["PRY", "URY", "BOL"], "population_size": [1000.0, 3000, 2000]})
    shares = pd.DataFrame({"country": ["PRY", "URY", "BOL"], "indicator": "x", "share": 1.0})
    return est, sizes, shares


def test_pooled_estimate_is_secondary_when_a_country_is_suppressed():
    est, sizes, shares = _frame(("published", "primary", "published"))
    t = pool(est, sizes, shares, policy=DisclosurePolicy())
    d = t.data.set_index("area")
    # Southern Cone (PRY, URY) and the region contain Uruguay: pooled minus Paraguay would give Uruguay back.
    for area in ("southern_cone", "LAC"):
        assert d.loc[area, "status"] == "secondary"
        assert np.isnan(d.loc[area, "estimate"]) and np.isnan(d.loc[area, "ci_low"])
        assert d.loc[area, "reasons"] == (("suppressed", ("URY",)),)
    # The Andean node has only Bolivia, whose estimate is published.
    assert d.loc["andean", "status"] == "published"
    assert d.loc["andean", "estimate"] == pytest.approx(0.3)
    assert t.meta["numerator"].set_index("area").loc["LAC", "status"] != "published"


def test_pooled_estimate_says_why_it_is_not_possible():
    est, sizes, shares = _frame()
    t = pool(est, sizes[sizes["country"] != "PRY"], shares, policy=DisclosurePolicy(),
             countries=["PRY", "URY", "BOL", "ECU"], missing=["ECU"])
    d = t.data.set_index("area")
    assert d.loc["southern_cone", "reasons"] == (("no_population_size", ("PRY",)),)
    assert d.loc["andean", "reasons"] == (("no_data", ("ECU",)),)
    assert d.loc["LAC", "reasons"] == (("no_data", ("ECU",)), ("no_population_size", ("PRY",)))
    assert (d["status"] == "secondary").all()


def test_unmeasured_indicator_stops_pooling():
    est, sizes, shares = _frame()
    est.loc[est["country"] == "URY", ["estimate", "se", "n", "n_event"]] = np.nan
    est.loc[est["country"] == "URY", "status"] = "not_measured"
    t = pool(est, sizes, shares[shares["country"] != "URY"], policy=DisclosurePolicy())
    assert t.data.set_index("area").loc["LAC", "reasons"] == (("not_measured", ("URY",)),)


def test_pooled_estimate_rejects_bad_values():
    from research_kit.errors import ParameterError

    with pytest.raises(ParameterError, match="positive"):
        pooled_estimate([0.2], [0.01], [0])
    with pytest.raises(ParameterError, match="one estimate"):
        pooled_estimate([0.2, 0.3], [0.01], [10, 20])


def _make_reference():
    spec = importlib.util.spec_from_file_location("make_reference", REFERENCE / "make_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def tls_inputs(tmp_path_factory):
    from research_kit import synth
    from research_kit.regional import collect

    ref = json.loads((REFERENCE / "values.json").read_text())
    root = tmp_path_factory.mktemp("tls")
    synth.generate(root, ref["countries"])
    return ref, root, collect(ref["countries"], data_root=root)


def test_reference_data_are_the_ones_r_saw(tls_inputs):
    ref, root, _inputs = tls_inputs
    mod = _make_reference()
    data = mod.csv_bytes(mod.respondents_frame(root))
    assert hashlib.sha256(data).hexdigest() == ref["input_sha256"], (
        "The synthetic TLS studies changed: run python tests/reference/pooled/make_reference.py again.")


def test_pooled_estimate_equals_r_survey_post_stratified_mean(tls_inputs):
    """All-respondent indicators: svymean after postStratify(~country) is exactly the stratified pooled estimate."""
    ref, _root, inputs = tls_inputs
    t = pool(inputs.estimates, inputs.population_sizes, inputs.denominator_shares, policy=inputs.policy)
    d = t.data[t.data["area"] == "LAC"].set_index("indicator")
    assert dict(zip(inputs.population_sizes["country"], inputs.population_sizes["population_size"])) == \
        ref["population_sizes"]
    for ind in ref["all_respondents"]:
        r = ref["r"]["estimates"][ind]
        assert d.loc[ind, "estimate"] == pytest.approx(r["estimate"], rel=1e-8)
        assert d.loc[ind, "se"] == pytest.approx(r["se"], rel=1e-8)


def test_subpopulation_indicators_agree_with_r_on_the_estimate_only(tls_inputs):
    """Sub-population indicators: R's domain mean is the same ratio Σ N_c δ_c p_c / Σ N_c δ_c, so the estimates
    agree exactly; R's standard error also counts the sampling error of the shares δ_c, which the pooled formula
    treats as known, so the standard errors differ slightly (here under 1%)."""
    ref, _root, inputs = tls_inputs
    t = pool(inputs.estimates, inputs.population_sizes, inputs.denominator_shares, policy=inputs.policy)
    d = t.data[t.data["area"] == "LAC"].set_index("indicator")
    for ind in ref["subpopulation"]:
        r = ref["r"]["estimates"][ind]
        assert d.loc[ind, "estimate"] == pytest.approx(r["estimate"], rel=1e-8)
        assert d.loc[ind, "se"] == pytest.approx(r["se"], rel=0.01)
