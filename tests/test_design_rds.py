"""RDSDesign against the values printed by R's RDS package (0.9-10), and input validation.

Reference data and figures live in ``shared/reference/rds`` beside the repository
(see its README.md). The fixture fails, not skips, when that folder is missing:
CI provides it, and a silently skipped comparison would prove nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research_kit.design import RDSDesign
from research_kit.design import _rds_estimators as est
from research_kit.errors import DesignError, EstimationError, ParameterError

REPO = Path(__file__).resolve().parents[1]
REF_DIR = REPO.parent / "shared" / "reference" / "rds"


@pytest.fixture(scope="module")
def ref() -> Path:
    if not (REF_DIR / "README.md").is_file():
        pytest.fail(f"RDS reference folder not found at {REF_DIR}; it must sit beside the repository (shared/reference/rds).")
    return REF_DIR


def _load(ref: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(ref / f"{name}.csv")


@pytest.fixture(scope="module")
def madrona(ref) -> RDSDesign:
    return RDSDesign(_load(ref, "fauxmadrona"), "id", "recruiter.id", "degree", population_size=1000)


@pytest.fixture(scope="module")
def faux(ref) -> RDSDesign:
    return RDSDesign(_load(ref, "faux"), "id", "recruiter.id", "network.size", population_size=1000)


# --------------------------------------------------------------------------- R reference values
# Point estimates must agree to 1e-8 relative; R's s.e. and design effect are
# deterministic (EL.se, wtd.var), so they are held to the digits printed.


def test_rds_ii_fauxmadrona_matches_r(madrona):
    row = madrona.proportion("disease", estimator="RDS-II").iloc[0]
    assert row["estimate"] == pytest.approx(0.164149290445, rel=1e-8)
    assert row["se"] == pytest.approx(0.0140095846023, rel=1e-10)
    assert row["deff"] == pytest.approx(1.4276237611, rel=1e-9)
    assert (row["n"], row["n_event"]) == (500, 129)


def test_rds_i_fauxmadrona_matches_r(madrona):
    row = madrona.proportion("disease", estimator="RDS-I").iloc[0]
    assert row["estimate"] == pytest.approx(0.15919809381, rel=1e-8)
    assert row["se"] == pytest.approx(0.0100101159589, rel=1e-10)
    assert row["deff"] == pytest.approx(0.747098118047, rel=1e-10)


def test_rds_ii_fauxsycamore_matches_r_printed_digits(ref):
    d = RDSDesign(_load(ref, "fauxsycamore"), "id", "recruiter.id", "degree", population_size=1000)
    row = d.proportion("disease").iloc[0]
    assert round(row["estimate"], 4) == 0.1455
    assert round(row["se"], 4) == 0.0155


def test_rds_ii_faux_categorical_matches_r(faux):
    out = faux.proportion("X", estimator="RDS-II").set_index("level")
    assert list(out.index) == ["blue", "red"]
    assert out.loc["blue", "estimate"] == pytest.approx(0.310334112778454, rel=1e-8)
    assert out.loc["red", "estimate"] == pytest.approx(0.689665887221546, rel=1e-8)
    assert out["se"].to_numpy() == pytest.approx([0.0307908010808] * 2, rel=1e-10)
    assert out["n_event"].tolist() == [118, 271]
    assert (out["n"] == 389).all()


def test_rds_i_faux_categorical_matches_r(faux):
    out = faux.proportion("X", estimator="RDS-I").set_index("level")
    assert out.loc["blue", "estimate"] == pytest.approx(0.310913285564, rel=1e-8)
    assert out.loc["red", "estimate"] == pytest.approx(0.689086714436, rel=1e-8)
    assert out["se"].to_numpy() == pytest.approx([0.0218516630408] * 2, rel=1e-10)


def test_weights_match_r_compute_weights(faux):
    # First five of the vectors in R's tests/testthat/test-weights.R (N = 1000).
    rds_i = faux.weights("RDS-I", "X", scale="population").to_numpy()[:2]
    assert rds_i == pytest.approx([2.54275540382339, 2.63485835223612], rel=1e-10)
    rds_ii = faux.weights("RDS-II", scale="population").to_numpy()[:5]
    assert rds_ii == pytest.approx(
        [2.39047483002056, 1.91237986401645, 2.24985866354876, 1.19523741501028, 2.73197123430921], rel=1e-10
    )


def test_analytic_interval_is_estimate_plus_minus_z_se(madrona):
    row = madrona.proportion("disease", level=0.9).iloc[0]
    assert row["ci_high"] - row["estimate"] == pytest.approx(1.6448536269514722 * row["se"], rel=1e-12)
    assert row["estimate"] - row["ci_low"] == pytest.approx(1.6448536269514722 * row["se"], rel=1e-12)


def test_without_population_size_no_fpc(ref):
    # Without N, R's EL.se has no finite-population factor: se_N^2 = se^2 (N-n)/(N-1).
    df = _load(ref, "fauxmadrona")
    se_inf = RDSDesign(df, "id", "recruiter.id", "degree").proportion("disease").iloc[0]["se"]
    se_n = RDSDesign(df, "id", "recruiter.id", "degree", population_size=1000).proportion("disease").iloc[0]["se"]
    assert se_n**2 == pytest.approx(se_inf**2 * (1000 - 500) / 999, rel=1e-12)


def test_zero_one_and_boolean_give_same_estimate(madrona, ref):
    df = _load(ref, "fauxmadrona")
    df["disease_bool"] = df["disease"].astype(bool)
    d = RDSDesign(df, "id", "recruiter.id", "degree", population_size=1000)
    a = d.proportion("disease").iloc[0]
    b = d.proportion("disease_bool").iloc[0]
    assert b["level"] is True or b["level"] == True  # noqa: E712 - numpy bool
    assert a["estimate"] == pytest.approx(b["estimate"], rel=1e-13)
    assert a["se"] == pytest.approx(b["se"], rel=1e-13)
    # R: numeric -> weighted variance with sum(w) = N, factor -> p(1-p); ratio N/(N-1).
    assert a["deff"] == pytest.approx(b["deff"] * 999 / 1000, rel=1e-10)


def test_missing_outcome_rows_are_left_out(ref):
    df = _load(ref, "faux")
    df.loc[df.index[:20], "X"] = None
    d = RDSDesign(df, "id", "recruiter.id", "network.size", population_size=1000)
    out = d.proportion("X")
    assert (out["n"] == 369).all()
    assert out["n_event"].sum() == 369
    assert out["estimate"].sum() == pytest.approx(1.0, abs=1e-12)
    w = d.weights("RDS-II").to_numpy()
    obs = df["X"].notna().to_numpy()
    expected = np.sum(w[obs] * (df["X"][obs] == "blue")) / np.sum(w[obs])
    assert out.iloc[0]["estimate"] == pytest.approx(expected, rel=1e-13)


def test_mean_of_zero_one_equals_proportion(madrona):
    assert madrona.mean("disease").iloc[0]["estimate"] == pytest.approx(
        madrona.proportion("disease").iloc[0]["estimate"], rel=1e-13
    )
    assert madrona.mean("disease").iloc[0]["se"] == pytest.approx(0.0140095846023, rel=1e-10)


def test_mean_rejects_rds_i_and_text(madrona, faux):
    with pytest.raises(ParameterError):
        madrona.mean("disease", estimator="RDS-I")
    with pytest.raises(EstimationError):
        faux.mean("X")


def test_by_groups_match_manual_subset(ref):
    df = _load(ref, "faux")
    d = RDSDesign(df, "id", "recruiter.id", "network.size", population_size=1000)
    out = d.proportion("Y", by="X")
    assert set(out["X"]) == {"blue", "red"}
    blue = df[df["X"] == "blue"].copy()
    # R's subset: respondents whose recruiter is outside the group become seeds.
    blue.loc[~blue["recruiter.id"].isin(blue["id"].astype(str)), "recruiter.id"] = "seed"
    w = est.vh_weights(df["network.size"].to_numpy(float))
    n_sub = round(1000 * w[(df["X"] == "blue").to_numpy()].sum() / w.sum())
    sub = RDSDesign(blue, "id", "recruiter.id", "network.size", population_size=n_sub)
    expected = sub.proportion("Y")
    got = out[out["X"] == "blue"].drop(columns="X").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)


# --------------------------------------------------------------------------- EL.se internals


def _el_se_naive(w, y, n_pop=None):
    """Direct transcription of the n x n computation R's EL.se performs."""
    wij = np.outer(w, w)
    wij = np.minimum(wij, 10 * np.median(wij))
    lower = np.tri(len(w), k=-1, dtype=bool)
    oij = 0.5 * np.add.outer(y, y)
    e = np.sum(oij * wij * lower) / np.sum(wij * lower)
    g = np.sum(wij * wij * (oij - e) * lower, axis=1)
    v = 4 * np.sum(g**2) / np.sum(wij * wij * lower) ** 2
    return np.sqrt(v if n_pop is None else (n_pop - len(w)) * v / (n_pop - 1))


@pytest.mark.parametrize("n", [2, 3, 7, 50, 129])
def test_el_se_blocked_equals_full_matrix(n):
    rng = np.random.default_rng(n)
    w = 1 / rng.integers(1, 6, n).astype(float)  # few distinct values, like real weights
    w[: n // 3] = rng.random(n // 3) + 0.01  # and some continuous ones
    y = (rng.random(n) < 0.3).astype(float)
    assert est.el_se(w, y, block=4) == pytest.approx(_el_se_naive(w, y), rel=1e-12)
    assert est.el_se(w, y, 5000, block=16) == pytest.approx(_el_se_naive(w, y, 5000), rel=1e-12)


def test_el_se_levels_at_once_equal_one_at_a_time():
    rng = np.random.default_rng(9)
    w = rng.choice([0.2, 0.5, 1.0, 1.7], 80)
    codes = rng.integers(0, 3, 80)
    y = (codes[:, None] == np.arange(3)[None, :]).astype(float)
    y[::7] = np.nan  # missing rows drop out of every column
    together = est.el_se(w, y, 900, block=16)
    for g in range(3):
        assert together[g] == pytest.approx(est.el_se(w, y[:, g], 900), rel=1e-12)
        # R's finite-population factor counts all 80 rows, missing ones included.
        obs = ~np.isnan(y[:, g])
        expected = _el_se_naive(w[obs], y[obs, g]) * np.sqrt((900 - 80) / 899)
        assert together[g] == pytest.approx(expected, rel=1e-12)


def test_pair_product_median_equals_numpy_median():
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 10, 33):
        w = rng.choice([0.5, 1.0, 2.0, 3.5], n)
        assert est._pair_product_median(w) == np.median(np.outer(w, w))


# --------------------------------------------------------------------------- construction / validation


def _tiny(**overrides) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "coupon": ["A", "B", "C", "D", "E"],
            "recruiter_coupon": ["seed", "A", "A", "B", None],
            "network_size": [10, 5, 20, 8, 4],
            "hiv": [1, 0, 1, 0, 0],
        }
    )
    for k, v in overrides.items():
        df[k] = v
    return df


def test_seed_markers_missing_empty_and_custom():
    df = _tiny(recruiter_coupon=["seed", "A", "A", "B", ""])
    d = RDSDesign(df, "coupon", "recruiter_coupon", "network_size")
    assert d.n_seeds == 2
    assert d.wave.tolist() == [0, 1, 1, 2, 0]
    df = _tiny(recruiter_coupon=["0", "A", "A", "B", "0"])
    assert RDSDesign(df, "coupon", "recruiter_coupon", "network_size", seed_marker="0").n_seeds == 2


def test_integer_ids_with_float_recruiter_column():
    df = pd.DataFrame({"id": [101, 102, 103], "rec": [np.nan, 101.0, 102.0], "deg": [3, 3, 3]})
    d = RDSDesign(df, "id", "rec", "deg")
    assert d.wave.tolist() == [0, 1, 2]


def test_recruiter_pointing_to_nobody_names_row_and_id():
    df = _tiny(recruiter_coupon=["seed", "A", "Z", "B", None])
    with pytest.raises(DesignError, match=r"point to nobody.*row 2.*'C'.*'Z'"):
        RDSDesign(df, "coupon", "recruiter_coupon", "network_size")


def test_recruitment_cycle_names_ids():
    df = _tiny(recruiter_coupon=["seed", "D", "A", "B", None])
    with pytest.raises(DesignError, match=r"cycle.*'B'.*'D'") as info:
        RDSDesign(df, "coupon", "recruiter_coupon", "network_size")
    assert "rows" in str(info.value)


def test_self_recruitment_is_an_error():
    df = _tiny(recruiter_coupon=["seed", "B", "A", "B", None])
    with pytest.raises(DesignError, match="own recruiter"):
        RDSDesign(df, "coupon", "recruiter_coupon", "network_size")


def test_no_seed_at_all():
    df = _tiny(recruiter_coupon=["E", "A", "A", "B", "D"])
    with pytest.raises(DesignError, match="no seed"):
        RDSDesign(df, "coupon", "recruiter_coupon", "network_size")


@pytest.mark.parametrize("bad", [0, np.nan, -3])
def test_bad_degree_names_row_and_id(bad):
    df = _tiny(network_size=[10, 5, bad, 8, 4])
    with pytest.raises(DesignError, match=r"missing or not positive.*'C'.*rows \[2\]"):
        RDSDesign(df, "coupon", "recruiter_coupon", "network_size")


def test_non_numeric_degree():
    df = _tiny(network_size=["10", "five", "20", "8", "4"])
    with pytest.raises(DesignError, match="not a number.*five"):
        RDSDesign(df, "coupon", "recruiter_coupon", "network_size")


def test_duplicated_ids_name_ids_and_rows():
    df = _tiny(coupon=["A", "B", "B", "D", "E"])
    with pytest.raises(DesignError, match=r"'B'.*more than once.*rows 1, 2"):
        RDSDesign(df, "coupon", "recruiter_coupon", "network_size")


def test_missing_id_and_missing_column():
    with pytest.raises(DesignError, match="missing"):
        RDSDesign(_tiny(coupon=["A", None, "C", "D", "E"]), "coupon", "recruiter_coupon", "network_size")
    with pytest.raises(DesignError, match="degree column 'netsize' is not in the data"):
        RDSDesign(_tiny(), "coupon", "recruiter_coupon", "netsize")


def test_population_smaller_than_sample():
    with pytest.raises(DesignError, match="smaller than the sample size"):
        RDSDesign(_tiny(), "coupon", "recruiter_coupon", "network_size", population_size=3)


def test_bad_parameters():
    d = RDSDesign(_tiny(), "coupon", "recruiter_coupon", "network_size")
    with pytest.raises(ParameterError, match="Unknown RDS estimator"):
        d.proportion("hiv", estimator="RDS-III")
    with pytest.raises(ParameterError, match="population size"):
        d.proportion("hiv", estimator="SS")
    with pytest.raises(ParameterError, match="ci="):
        d.proportion("hiv", ci="jackknife")
    with pytest.raises(EstimationError, match="No variable"):
        d.proportion("nope")
    with pytest.raises(ParameterError, match="variable"):
        d.weights("RDS-I")


def test_rds_i_absorbing_group_gets_zero_share_like_r():
    # b never recruits a: the chain's stationary distribution is all b, so RDS-I
    # (as R's rds.I.weights) gives group a share 0 and its members weight 0.
    df = pd.DataFrame(
        {"id": [f"c{i}" for i in range(9)], "rec": ["seed"] + ["c0"] * 7 + ["c3"], "deg": 1, "g": list("aaabaaaab")}
    )
    d = RDSDesign(df, "id", "rec", "deg")
    out = d.proportion("g", estimator="RDS-I", ci=None).set_index("level")["estimate"]
    assert out.to_dict() == {"a": 0.0, "b": 1.0}
    w = d.weights("RDS-I", "g")
    assert w.sum() == pytest.approx(9) and (w[df["g"] == "a"] == 0).all()


def test_rds_i_periodic_chain_is_an_estimation_error():
    # a only recruits b and b only recruits a: no stationary distribution.
    df = pd.DataFrame({"id": [1, 2, 3, 4], "rec": [None, 1, 2, 3], "deg": 2, "g": ["a", "b", "a", "b"]})
    with pytest.raises(EstimationError, match="periodic"):
        RDSDesign(df, "id", "rec", "deg").proportion("g", estimator="RDS-I")
