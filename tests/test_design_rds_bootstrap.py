"""Bootstrap intervals and Gile's SS estimator: agreement with R in distribution.

R's figures come from random draws, so these tests compare within Monte-Carlo
error, with fixed seeds on our side so that each test is deterministic.
"""

from __future__ import annotations

from itertools import permutations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research_kit.design import RDSDesign
from research_kit.design import _rds_bootstrap as boot
from research_kit.design import _rds_estimators as est
from research_kit.design import _rds_ss as ss
from research_kit.errors import ParameterError

REF_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "rds"
Z975 = 1.959963984540054


@pytest.fixture(scope="module")
def ref() -> Path:
    if not (REF_DIR / "README.md").is_file():
        pytest.fail(f"RDS reference folder not found at {REF_DIR}; it must sit beside the repository.")
    return REF_DIR


@pytest.fixture(scope="module")
def madrona_df(ref) -> pd.DataFrame:
    return pd.read_csv(ref / "fauxmadrona.csv")


@pytest.fixture(scope="module")
def madrona(madrona_df) -> RDSDesign:
    return RDSDesign(madrona_df, "id", "recruiter.id", "degree", population_size=1000)


@pytest.fixture(scope="module")
def faux(ref) -> RDSDesign:
    return RDSDesign(pd.read_csv(ref / "faux.csv"), "id", "recruiter.id", "network.size", population_size=1000)


# --------------------------------------------------------------------------- Salganik bootstrap


def test_r_compatible_bootstrap_reproduces_r_interval(madrona):
    # R: RDS.bootstrap.intervals(fauxmadrona, "RDS-II", "Salganik", N = 1000, 500 samples)
    # printed 0.164149290445, interval 0.0904-0.2379, i.e. s.e. 0.03763.
    r_se = (0.2379 - 0.0904) / (2 * Z975)
    row = madrona.proportion("disease", ci="bootstrap", n_boot=4000, seed=11, r_compat=True).iloc[0]
    assert row["estimate"] == pytest.approx(0.164149290445, rel=1e-8)
    # Monte-Carlo s.d. of a 500-replicate bootstrap s.e. is about se/sqrt(2*499);
    # ours (4000 replicates) adds a little. Allow three combined s.d.
    mc_sd = np.hypot(r_se / np.sqrt(2 * 499), r_se / np.sqrt(2 * 3999))
    assert abs(row["se"] - r_se) < 3 * mc_sd
    assert abs(row["ci_low"] - 0.0904) < 3 * Z975 * mc_sd + 5e-5
    assert abs(row["ci_high"] - 0.2379) < 3 * Z975 * mc_sd + 5e-5


def test_default_bootstrap_walks_the_observed_chain(madrona):
    # The method's chain gives a clearly smaller s.e. on this data set, where
    # R's implementation relabels the two states (see RDSDesign notes).
    correct = madrona.proportion("disease", ci="bootstrap", n_boot=2000, seed=3).iloc[0]["se"]
    compat = madrona.proportion("disease", ci="bootstrap", n_boot=2000, seed=3, r_compat=True).iloc[0]["se"]
    assert 0.018 < correct < 0.025
    assert compat > correct + 0.008


def test_r_compat_equals_default_when_first_row_has_first_level(madrona_df):
    # R's relabelling is the identity when the first row carries the
    # alphabetically first level and rows are sorted by wave: then both
    # modes must give identical replicates for the same seed.
    df = madrona_df.sort_values(["wave", "disease"], kind="stable").reset_index(drop=True)
    d = RDSDesign(df, "id", "recruiter.id", "degree", population_size=1000)
    a = d.proportion("disease", ci="bootstrap", n_boot=300, seed=5)
    b = d.proportion("disease", ci="bootstrap", n_boot=300, seed=5, r_compat=True)
    pd.testing.assert_frame_equal(a, b)


def test_bootstrap_interval_and_design_effect_formulas(madrona):
    row = madrona.proportion("disease", ci="bootstrap", n_boot=500, seed=2, level=0.9).iloc[0]
    z90 = 1.6448536269514722
    assert row["ci_low"] == pytest.approx(row["estimate"] - z90 * row["se"], rel=1e-12)
    assert row["ci_high"] == pytest.approx(row["estimate"] + z90 * row["se"], rel=1e-12)
    # R's numeric design effect: se^2 / (FPC * wtd.var(y, w) / n), weights summing to N.
    w = madrona.weights("RDS-II", scale="population").to_numpy()
    y = madrona.data["disease"].to_numpy(float)
    varsrs = (1000 - 500) / 999 * est.wtd_var(y, w) / 500
    assert row["deff"] == pytest.approx(row["se"] ** 2 / varsrs, rel=1e-12)


def test_bootstrap_is_reproducible_and_seed_sensitive(faux):
    a = faux.proportion("X", ci="bootstrap", n_boot=200, seed=7)
    b = faux.proportion("X", ci="bootstrap", n_boot=200, seed=7)
    c = faux.proportion("X", ci="bootstrap", n_boot=200, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["se"], c["se"])
    # two levels: shares sum to 1 in every replicate, so their s.e. are equal
    assert a["se"].iloc[0] == pytest.approx(a["se"].iloc[1], rel=1e-10)


@pytest.mark.parametrize("estimator", ["RDS-I", "RDS-II", "SS"])
@pytest.mark.parametrize("ci", ["bootstrap", "treeboot"])
def test_every_estimator_bootstraps(faux, estimator, ci):
    out = faux.proportion("X", estimator=estimator, ci=ci, n_boot=200, seed=1)
    assert np.all(np.isfinite(out["se"])) and np.all(out["se"] > 0.005) and np.all(out["se"] < 0.1)
    assert out["estimate"].sum() == pytest.approx(1.0)


def test_batched_rds_i_on_a_chain_equals_scalar_estimator():
    rng = np.random.default_rng(0)
    k, length = 3, 60
    out = rng.integers(0, k, (4, length))
    deg = rng.integers(1, 30, (4, length)).astype(float)
    got = boot._estimate_chain(out, deg, k, "RDS-I", None)
    for r in range(4):
        parent = np.arange(length) - 1  # each respondent recruited by the previous one
        p, *_ = est.rds_i_group_estimates(parent, out[r], k, deg[r])
        assert got[r] == pytest.approx(p, rel=1e-10)


def test_tree_bootstrap_of_independent_seeds_is_the_iid_bootstrap():
    # With no recruitment, the tree bootstrap resamples respondents with
    # replacement; with equal degrees RDS-II is the sample mean, whose
    # bootstrap s.e. is sqrt(p(1-p)/n).
    n = 400
    df = pd.DataFrame({"id": range(n), "rec": [None] * n, "deg": 5, "y": (np.arange(n) % 10 < 3).astype(int)})
    out = RDSDesign(df, "id", "rec", "deg").proportion("y", ci="treeboot", n_boot=4000, seed=1).iloc[0]
    assert out["se"] == pytest.approx(np.sqrt(0.3 * 0.7 / n), rel=0.05)


def test_bad_bootstrap_parameters(faux):
    with pytest.raises(ParameterError):
        faux.proportion("X", ci="bootstrap", n_boot=1)
    with pytest.raises(ParameterError):
        faux.proportion("X", level=95)


def test_batched_stationary_matches_eigen():
    rng = np.random.default_rng(4)
    p = rng.random((20, 4, 4))
    p /= p.sum(axis=2, keepdims=True)
    q = boot._batched_stationary(p)
    for i in range(20):
        assert q[i] == pytest.approx(est.stationary_distribution(p[i]), rel=1e-10)


# --------------------------------------------------------------------------- SS


def test_ss_faux_matches_r_within_package_tolerance(faux):
    # R's tests/testthat/test-rds-ss.R: estimate 0.308679056967587, allowed 0.001;
    # s.e. 0.0278244979385139 and design effect 2.30749981181808 (also random).
    out = faux.proportion("X", estimator="SS", seed=1).set_index("level")
    assert abs(out.loc["blue", "estimate"] - 0.308679056967587) < 0.001
    assert abs(out.loc["blue", "se"] - 0.0278244979385139) < 0.0005
    assert abs(out.loc["blue", "deff"] - 2.30749981181808) < 0.1
    means = np.mean([faux.proportion("X", estimator="SS", seed=s, ci=None).iloc[0]["estimate"] for s in range(5)])
    assert abs(means - 0.308679056967587) < 0.0005


def test_ss_fauxmadrona_matches_r(madrona):
    row = madrona.proportion("disease", estimator="SS", seed=1).iloc[0]
    assert abs(row["estimate"] - 0.1947) < 0.001


def test_ss_weights_close_to_r(faux):
    # First twelve of R's gile.wts (test-weights.R, 1000 samples per iteration,
    # N = 1000); R's own test allows a mean absolute difference of 0.02 over all 389.
    r_w = np.array([2.43439535132526, 2.06264239672522, 2.31958142874284, 1.50939780983865,
                    2.66306096642275, 1.76806835398565, 1.33981767248718, 1.6334888106475,
                    3.29341477208004, 3.54002750199834, 1.72845726958708, 1.99073333292842])
    w = faux.weights("SS", seed=1, scale="population", n_ss_samples=1000).to_numpy()
    assert np.mean(np.abs(w[:12] - r_w)) < 0.04
    assert w.sum() == pytest.approx(1000)


def test_ss_reduces_to_rds_ii_for_small_sampling_fraction(faux):
    # Below R's SS.infinity (n/N < 0.01) the SS weights are the RDS-II weights.
    big = RDSDesign(faux.data, "id", "recruiter.id", "network.size", population_size=100_000)
    a = big.proportion("X", estimator="SS", seed=1)
    b = big.proportion("X", estimator="RDS-II")
    assert a["estimate"].to_numpy() == pytest.approx(b["estimate"].to_numpy(), rel=1e-12)


def test_ss_weights_reproducible(faux):
    a = faux.weights("SS", seed=3).to_numpy()
    assert np.array_equal(a, faux.weights("SS", seed=3).to_numpy())
    assert not np.array_equal(a, faux.weights("SS", seed=4).to_numpy())


def _exact_ppswor_inclusion(sizes: list[float], n: int) -> np.ndarray:
    """Inclusion probabilities of successive sampling by enumerating all orders."""
    incl = np.zeros(len(sizes))
    for order in permutations(range(len(sizes)), n):
        p, left = 1.0, float(sum(sizes))
        for u in order:
            p *= sizes[u] / left
            left -= sizes[u]
        incl[list(order)] += p
    return incl


def test_exponential_clock_sampler_is_successive_sampling():
    # Population: class sizes 1, 3, 7 with 2, 1, 2 members; samples of 3.
    classes = np.array([1.0, 3.0, 7.0])
    nby = np.array([2, 1, 2])
    draws = 200_000
    counts = ss._simulated_counts(classes, nby, 3, draws, np.random.default_rng(0))
    exact = _exact_ppswor_inclusion([1, 1, 3, 7, 7], 3)
    per_class = np.array([exact[:2].sum(), exact[2], exact[3:].sum()])
    assert counts / draws == pytest.approx(per_class, abs=0.006)
