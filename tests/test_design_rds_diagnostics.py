"""RDS diagnostics (waves, transitions, homophily, activity, convergence, bottlenecks) and figures."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from research_kit.design import RDSDesign
from research_kit.design import rds

matplotlib.use("Agg")

REF_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "rds"


@pytest.fixture(scope="module")
def ref() -> Path:
    if not (REF_DIR / "README.md").is_file():
        pytest.fail(f"RDS reference folder not found at {REF_DIR}; it must sit beside the repository.")
    return REF_DIR


@pytest.fixture(scope="module")
def madrona(ref) -> RDSDesign:
    return RDSDesign(pd.read_csv(ref / "fauxmadrona.csv"), "id", "recruiter.id", "degree", population_size=1000)


@pytest.fixture(scope="module")
def faux(ref) -> RDSDesign:
    return RDSDesign(pd.read_csv(ref / "faux.csv"), "id", "recruiter.id", "network.size", population_size=1000)


def test_transition_counts_faux_exact(faux):
    # R: count.transitions(faux, "X") is structure(c(39L, 79L, 82L, 188L), .Dim = c(2L, 2L))
    # with rows = recruiter (rgrp), columns = recruit (grp); R fills column-major, so
    # blue->blue 39, red->blue 79, blue->red 82, red->red 188.
    m = rds.transition_matrix(faux, "X", normalize=False)
    assert m.loc["blue", "blue"] == 39
    assert m.loc["red", "blue"] == 79
    assert m.loc["blue", "red"] == 82
    assert m.loc["red", "red"] == 188
    tc = rds.transition_counts(faux, "X")
    assert tc["count"].tolist() == [39, 82, 79, 188]
    assert tc["row_share"].tolist() == pytest.approx([39 / 121, 82 / 121, 79 / 267, 188 / 267], rel=1e-15)


def test_stationary_distribution_faux(faux):
    q = rds.stationary_distribution(faux, "X")
    assert q["level"].tolist() == ["blue", "red"]
    assert q["share"].to_numpy() == pytest.approx([0.303913776110387, 0.696086223889613], rel=1e-13)


def test_homophily_matches_r(madrona):
    h = madrona.homophily("disease", estimator="RDS-II")
    assert h["level"].tolist() == [1]
    assert h["homophily"].iloc[0] == pytest.approx(1.60397806961622, rel=1e-10)


def test_differential_activity_matches_r(madrona, faux):
    a = rds.differential_activity(madrona, "disease", estimator="RDS-II")
    assert a["ratio"].iloc[0] == pytest.approx(1.770539036, rel=1e-9)
    b = rds.differential_activity(faux, "X", estimator="RDS-II")  # R's test-differential-activity.R
    assert b["level"].iloc[0] == "red"
    assert b["ratio"].iloc[0] == pytest.approx(1.03342283930911, rel=1e-10)


def test_recruitment_homophily_from_counts(faux):
    expected = (39 + 188) / ((121 * 118 + 267 * 270) / 388)
    assert rds.recruitment_homophily(faux, "X") == pytest.approx(expected, rel=1e-14)


def test_waves_and_seeds_match_r_columns(ref, faux, madrona):
    for design, name in ((faux, "faux"), (madrona, "fauxmadrona")):
        df = pd.read_csv(ref / f"{name}.csv")
        w = rds.recruitment_waves(design)
        assert w["wave"].tolist() == df["wave"].tolist()
        assert w["seed"].tolist() == df["seed"].astype(str).tolist()
        assert w["n_recruits"].sum() == len(df) - design.n_seeds


def test_wave_counts(madrona):
    wc = rds.wave_counts(madrona)
    assert wc["n"].tolist() == [10, 20, 40, 77, 149, 204]
    assert wc["cumulative_n"].iloc[-1] == 500
    assert wc["share"].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("estimator", ["RDS-II", "RDS-I", "SS"])
def test_convergence_ends_at_full_estimate(madrona, estimator):
    conv = rds.convergence(madrona, "disease", estimator=estimator, seed=1)
    full = madrona.proportion("disease", estimator=estimator, seed=1, ci=None).iloc[0]["estimate"]
    assert conv["n"].iloc[-1] == 500
    assert conv["estimate"].iloc[-1] == pytest.approx(full, rel=1e-12)
    assert conv["n"].is_monotonic_increasing


def test_convergence_rds_ii_prefix_is_prefix_estimate(madrona):
    conv = rds.convergence(madrona, "disease")
    df = madrona.data
    sub = df.iloc[:100]
    w = 1 / sub["degree"]
    assert conv.set_index("n").loc[100, "estimate"] == pytest.approx((w * sub["disease"]).sum() / w.sum(), rel=1e-12)


def test_convergence_order_by_column(madrona):
    df = madrona.data.assign(when=np.arange(500)[::-1])
    d = RDSDesign(df, "id", "recruiter.id", "degree")
    conv = rds.convergence(d, "disease", order_by="when")
    last = df.iloc[-1]
    assert conv["estimate"].iloc[0] == last["disease"]


def test_bottleneck_one_tree_per_seed(madrona):
    b = rds.bottleneck(madrona, "disease")
    sizes = b.groupby("seed", sort=False)["n"].max()
    waves = rds.recruitment_waves(madrona)
    assert sizes.to_dict() == waves.groupby("seed")["respondent"].count().to_dict()
    assert len(sizes) == 10


def test_two_level_factor_convergence_shows_second_level(faux):
    conv = rds.convergence(faux, "X")
    assert set(conv["level"]) == {"red"}


def test_figures_take_caller_labels(madrona, faux):
    fig = rds.plot_convergence(madrona, "disease", title="Convergencia", xlabel="Encuestadas", ylabel="Estimación")
    ax = fig.axes[0]
    assert isinstance(fig, Figure)
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("Convergencia", "Encuestadas", "Estimación")
    fig = rds.plot_bottleneck(madrona, "disease")
    assert fig.axes[0].get_title() == "Bottleneck plot of disease"
    assert len(fig.axes[0].get_lines()) == 10
    fig = rds.plot_waves(madrona)
    assert fig.axes[0].get_xlabel() == "Wave"
    assert len(fig.axes[0].patches) == 6
    fig = faux.plot_transitions("X", title="Transiciones")
    assert fig.axes[0].get_title() == "Transiciones"
    fig = rds.plot_bottleneck(faux, "Z", title="Cuello")
    assert fig.axes[0].get_title() == "Cuello"


def test_figures_render(madrona, tmp_path):
    for fig in (rds.plot_waves(madrona), rds.plot_convergence(madrona, "disease", "RDS-I")):
        out = tmp_path / "f.png"
        fig.savefig(out)
        assert out.stat().st_size > 1000
