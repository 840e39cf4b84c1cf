"""SurveyDesign: validation, output shape, rendering, CI helpers, replicate generation.

Numerical agreement with R is in ``test_design_survey_reference.py``; invariants
in ``test_design_survey_properties.py``; interval coverage in
``test_design_survey_coverage.py``.
"""

from __future__ import annotations

import doctest
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import research_kit.design.survey as survey_module
from research_kit.design import SurveyDesign as LazySurveyDesign
from research_kit.design import _ci, _quantile
from research_kit.design.survey import SurveyDesign
from research_kit.errors import DesignError, EstimationError, ParameterError

DATA = pd.read_csv(Path(__file__).parent / "reference" / "survey" / "survey_data.csv")
MAIN = dict(weights="wt", strata="stratum", psu="venue")


@pytest.fixture(scope="module")
def d() -> SurveyDesign:
    return SurveyDesign(DATA, **MAIN)


def small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "stratum": ["a"] * 4 + ["b"] * 4,
            "venue": [1, 1, 2, 2, 3, 3, 4, 4],
            "wt": [10.0, 10, 12, 12, 8, 8, 9, 9],
            "y": [1, 0, 1, 1, 0, 0, 1, 0],
        },
        index=[f"r{i}" for i in range(8)],
    )


# ---------------------------------------------------------------- construction


def test_lazy_export_is_the_same_class():
    assert LazySurveyDesign is SurveyDesign


def test_no_arguments_is_simple_random_sample():
    df = pd.DataFrame({"y": [1.0, 2, 3, 4]})
    d = SurveyDesign(df)
    assert d.n_psu == 4 and d.n_strata == 1 and d.df == 3
    t = d.mean("y")
    assert t["estimate"].iloc[0] == 2.5
    # SRS with replacement: se = s / sqrt(n)
    assert t["se"].iloc[0] == pytest.approx(np.std([1, 2, 3, 4], ddof=1) / 2)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan])
def test_bad_weights_name_the_rows(bad):
    df = small()
    df.loc["r3", "wt"] = bad
    with pytest.raises(DesignError, match=r"r3") as e:
        SurveyDesign(df, weights="wt", strata="stratum", psu="venue")
    assert "weight" in str(e.value)


def test_missing_column():
    with pytest.raises(DesignError, match="not found"):
        SurveyDesign(small(), weights="weight")


def test_missing_psu_values():
    df = small().astype({"venue": float})
    df.loc["r5", "venue"] = np.nan
    with pytest.raises(DesignError, match="r5"):
        SurveyDesign(df, weights="wt", strata="stratum", psu="venue")


def test_clusters_not_nested_suggests_nest():
    df = small()
    df["venue"] = [1, 1, 2, 2, 1, 1, 2, 2]
    with pytest.raises(DesignError, match="nest=True"):
        SurveyDesign(df, weights="wt", strata="stratum", psu="venue")
    d = SurveyDesign(df, weights="wt", strata="stratum", psu="venue", nest=True)
    assert d.n_psu == 4


def test_lonely_psu_fails_naming_the_stratum():
    with pytest.raises(DesignError, match=r"BR-0.*lonely_psu='adjust'"):
        SurveyDesign(DATA, weights="wt", strata="stratum_lonely", psu="venue")


def test_lonely_psu_policies_differ():
    ses = {}
    for policy in ("adjust", "certainty", "remove", "average"):
        d = SurveyDesign(DATA, weights="wt", strata="stratum_lonely", psu="venue", lonely_psu=policy)
        ses[policy] = d.mean("age")["se"].iloc[0]
    assert ses["certainty"] == ses["remove"]
    assert ses["adjust"] > ses["certainty"]
    assert ses["average"] > ses["certainty"]


def test_unknown_lonely_policy():
    with pytest.raises(ParameterError):
        SurveyDesign(small(), weights="wt", lonely_psu="skip")


def test_single_psu():
    df = small().assign(venue=1)
    with pytest.raises(DesignError, match="only one primary sampling unit"):
        SurveyDesign(df, weights="wt", psu="venue")


def test_fpc_mixed_and_too_small():
    df = small().assign(fpc=[10.0, 10, 10, 10, 0.5, 0.5, 0.5, 0.5])
    with pytest.raises(DesignError, match="sampling fractions"):
        SurveyDesign(df, weights="wt", strata="stratum", psu="venue", fpc="fpc")
    df = small().assign(fpc=1.5)
    with pytest.raises(DesignError, match="100%"):
        SurveyDesign(df, weights="wt", strata="stratum", psu="venue", fpc="fpc")


def test_fpc_varying_within_stratum_warns():
    df = small().assign(fpc=[10.0, 10, 11, 11, 10, 10, 10, 10])
    with pytest.warns(UserWarning, match="varies within strata"):
        SurveyDesign(df, weights="wt", strata="stratum", psu="venue", fpc="fpc")


def test_census_stratum_has_no_variance():
    df = small().assign(fpc=[2.0] * 4 + [10.0] * 4)  # stratum a: both venues sampled
    d = SurveyDesign(df, weights="wt", strata="stratum", psu="venue", fpc="fpc")
    only_b = SurveyDesign(df.assign(y=np.where(df["stratum"] == "a", 0, df["y"])), weights="wt",
                          strata="stratum", psu="venue", fpc="fpc")
    assert d.total("y")["se"].iloc[0] == pytest.approx(only_b.total("y")["se"].iloc[0])


def test_fpc_count_must_match_stages():
    with pytest.raises(DesignError, match="one fpc column per stage"):
        SurveyDesign(DATA, weights="wt", strata="stratum", psu=["venue", "respondent"], fpc="fpc1")


# ---------------------------------------------------------------- output


def test_single_variable_columns(d):
    t = d.proportion("tested_12m", by="country")
    assert list(t.columns) == ["country", "estimate", "se", "ci_low", "ci_high", "deff", "n", "n_event"]
    assert t.attrs["variables"] == ["tested_12m"] and t.attrs["ci_method"] == "logit"
    assert t.attrs["by"] == ["country"] and t.attrs["statistic"] == "proportion"
    assert isinstance(t, pd.DataFrame)


def test_several_variables_put_variable_first(d):
    t = d.proportion(["tested_12m", "age_group", "condom_always"], by=["country", "gender"])
    assert list(t.columns[:4]) == ["variable", "country", "gender", "level"]
    assert set(t["variable"]) == {"tested_12m", "age_group", "condom_always"}
    assert t.loc[t["variable"] == "age_group", "level"].notna().all()
    assert t.loc[t["variable"] == "tested_12m", "level"].isna().all()
    # every domain: the age-group levels add up to one
    sums = t[t["variable"] == "age_group"].groupby(["country", "gender"])["estimate"].sum()
    np.testing.assert_allclose(sums, 1.0)


def test_counts(d):
    t = d.proportion("tested_12m", by="country")
    sub = DATA[DATA["country"] == "BR"]["tested_12m"]
    row = t[t["country"] == "BR"].iloc[0]
    assert row["n"] == sub.notna().sum() and row["n_event"] == (sub == 1).sum()


def test_categorical_keeps_category_order_and_empty_levels():
    df = small().assign(g=pd.Categorical(["x", "y"] * 4, categories=["z", "y", "x"]))
    t = SurveyDesign(df, weights="wt", strata="stratum", psu="venue").proportion("g")
    assert list(t["level"]) == ["z", "y", "x"]
    assert t["estimate"].iloc[0] == 0 and t["n_event"].iloc[0] == 0


def test_not_binary_is_an_error(d):
    with pytest.raises(EstimationError, match=r"n_clients.*0/1"):
        d.proportion("n_clients")


def test_unknown_variable_and_method(d):
    with pytest.raises(EstimationError, match="not in the data"):
        d.mean("nope")
    with pytest.raises(EstimationError, match="not in the data"):
        d.mean("age", by="nope")
    with pytest.raises(ParameterError):
        d.proportion("tested_12m", ci="exact")
    with pytest.raises(ParameterError):
        d.mean("age", level=95)


def test_missing_by_values_form_no_domain(d):
    t = d.mean("age", by="gender")
    assert t["gender"].notna().all() and len(t) == 3


def test_bool_and_object_bool_columns():
    df = small().assign(b=[True, False] * 4)
    d = SurveyDesign(df, weights="wt", strata="stratum", psu="venue")
    t1 = d.proportion("b")
    df2 = df.assign(b=df["b"].astype(object))
    df2.loc["r1", "b"] = None
    t2 = SurveyDesign(df2, weights="wt", strata="stratum", psu="venue").proportion("b")
    assert t1["n"].iloc[0] == 8 and t2["n"].iloc[0] == 7


def test_formatted_and_html(d):
    t = d.proportion("tested_12m", by="country")
    f = t.formatted()
    col = "estimate (95% CI)"
    assert f[col].iloc[0].endswith(")") and "%" in f[col].iloc[0]
    html = t._repr_html_()
    assert "<table" in html and "%" in html
    m = d.mean("age").formatted()
    assert "(" in m["estimate (95% CI)"].iloc[0]


def test_glm_output(d):
    t = d.glm("tested_12m ~ police_violence + C(age_group)", family="binomial")
    assert list(t.columns) == ["term", "estimate", "se", "ci_low", "ci_high", "p_value"]
    assert t.attrs["vcov"].shape == (len(t), len(t))
    with pytest.raises(ParameterError):
        d.glm("tested_12m ~ age", family="gamma")


def test_chisq_output(d):
    t = d.chisq("tested_12m", "venue_type")
    assert list(t.columns) == ["statistic", "df1", "df2", "p_value"]
    assert 0 <= t["p_value"].iloc[0] <= 1


def test_quantile_several_q(d):
    t = d.quantile("age", [0.25, 0.5, 0.75], by="country")
    assert list(t.columns[:2]) == ["country", "quantile"]
    wide = t.pivot(index="country", columns="quantile", values="estimate")
    assert (wide[0.25] <= wide[0.5]).all() and (wide[0.5] <= wide[0.75]).all()


def test_docstring_examples_run():
    result = doctest.testmod(survey_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 10


# ---------------------------------------------------------------- CI helpers


def test_wilson_formula():
    p, se, df, n = 0.2, 0.03, 40.0, 300
    lo, hi = _ci.wilson(np.array(p), np.array(se), df, 0.95, n)
    z = stats.t.ppf(0.975, df)
    ne = p * (1 - p) / se**2
    centre = (p + z**2 / (2 * ne)) / (1 + z**2 / ne)
    half = z / (1 + z**2 / ne) * np.sqrt(p * (1 - p) / ne + z**2 / (4 * ne**2))
    assert lo == pytest.approx(centre - half) and hi == pytest.approx(centre + half)


def test_zero_proportion_intervals():
    df = small().assign(y=0)
    d = SurveyDesign(df, weights="wt", strata="stratum", psu="venue")
    for ci in ("beta", "wilson"):
        t = d.proportion("y", ci=ci)
        assert t["ci_low"].iloc[0] == 0 and 0 < t["ci_high"].iloc[0] < 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(d.proportion("y", ci="logit")["ci_low"].iloc[0])


def test_r_spline_reproduces_cubic():
    x = np.linspace(-2, 3, 9)
    y = x**3 - x
    u, v = _ci.r_spline(x, y)
    assert len(u) == 27
    np.testing.assert_allclose(v, u**3 - u, atol=1e-10)  # fmm end conditions are exact for cubics


def test_qrule_math_ties_and_first_value():
    x, cw, tot = _quantile.sorted_cumw(np.array([1.0, 2, 3, 4]), np.ones(4))
    assert _quantile.qrule_math(x, cw, tot, 0.5) == 2.0  # share exactly 0.5 at 2
    assert _quantile.qrule_math(x, cw, tot, 0.6) == 3.0
    # no cumulative share below p: R's qs() starts from position 1 and steps on
    assert _quantile.qrule_math(x, cw, tot, 0.1) == 2.0


# ---------------------------------------------------------------- replicate weights


def test_bootstrap_variance_close_to_taylor(d):
    b = d.to_replicate("bootstrap", replicates=400, seed=1)
    se_t = d.mean(["age", "cd4"])["se"].to_numpy()
    se_b = b.mean(["age", "cd4"])["se"].to_numpy()
    np.testing.assert_allclose(se_b, se_t, rtol=0.15)
    assert b.df == d.df


def test_jk1_on_stratified_design_is_an_error(d):
    with pytest.raises(DesignError, match="JKn"):
        d.to_replicate("JK1")


def test_replicate_columns_by_list_and_regex():
    mult = pd.read_csv(Path(__file__).parent / "reference" / "survey" / "bootstrap_multiplicities.csv")
    data = DATA.merge(mult, on="venue", how="left")
    cols = [c for c in mult.columns if c.startswith("rw")]
    data[cols] = data[cols].to_numpy() * data[["wt"]].to_numpy()
    a = SurveyDesign.from_replicate_weights(data, weights="wt", repweights=cols, scale=0.03)
    b = SurveyDesign.from_replicate_weights(data, weights="wt", repweights="^rw", scale=0.03)
    pd.testing.assert_frame_equal(a.mean("age"), b.mean("age"))
    with pytest.raises(DesignError):
        SurveyDesign.from_replicate_weights(data, weights="wt", repweights="^zz")
    with pytest.raises(EstimationError, match="likelihood"):
        a.proportion("tested_12m", ci="likelihood")


# ---------------------------------------------------------------- calibration


def test_post_stratify_hits_population_totals(d):
    pop = {"bar": 26000, "online": 11000, "street": 31000}
    ps = d.post_stratify("venue_type", pop)
    t = ps.total("age").iloc[0]
    assert t["estimate"] > 0
    tot = pd.Series(ps.weights).groupby(DATA["venue_type"].to_numpy()).sum()
    assert tot.to_dict() == pytest.approx(pop)
    # the original design is unchanged
    assert d.weights.sum() == pytest.approx(DATA["wt"].sum())


def test_post_stratify_errors(d):
    with pytest.raises(DesignError, match="no population total"):
        d.post_stratify("venue_type", {"bar": 1, "street": 2})
    with pytest.raises(DesignError, match="partial=True"):
        d.post_stratify("venue_type", {"bar": 1, "street": 2, "online": 3, "sauna": 4})
    with pytest.warns(UserWarning):
        d.post_stratify("venue_type", {"bar": 1, "street": 2, "online": 3, "sauna": 4}, partial=True)
    with pytest.raises(DesignError, match="Missing values"):
        d.post_stratify("gender", {"man": 1, "cis woman": 2, "trans woman": 3})


def test_rake_matches_both_margins(d):
    pv = {"bar": 26000, "online": 11000, "street": 31000}
    pm = {"no": 63000, "yes": 5000}
    r = d.rake({"venue_type": pv, "migrant": pm})
    w = pd.Series(r.weights)
    assert w.groupby(DATA["migrant"].to_numpy()).sum().to_dict() == pytest.approx(pm)
    assert w.groupby(DATA["venue_type"].to_numpy()).sum().to_dict() == pytest.approx(pv, rel=1e-3)
