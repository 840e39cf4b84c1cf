"""Synthetic data: shaped like a KoboToolbox export of the form, seeded, with known truth."""

import csv
import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from research_kit import synth
from research_kit.forms.expressions import evaluate
from research_kit.ingest import read_export
from research_kit.synth.kobo import KOBO_META_COLUMNS, kobo_columns


def _raw(path):
    return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)


def test_same_seed_gives_identical_files(tmp_path):
    a = synth.generate_country("BZ", tmp_path / "a", seed=11)
    b = synth.generate_country("BZ", tmp_path / "b", seed=11)
    c = synth.generate_country("BZ", tmp_path / "c", seed=12)
    for name in ("community_survey.csv", "study.json", "truth.json"):
        assert hashlib.sha256((a / name).read_bytes()).digest() == hashlib.sha256((b / name).read_bytes()).digest()
    assert (a / "community_survey.csv").read_bytes() != (c / "community_survey.csv").read_bytes()


def test_kobo_csv_format(synthetic_root, form):
    path = synthetic_root / "PRY" / "community_survey.csv"
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    header = next(csv.reader([text.split("\r\n", 1)[0]], delimiter=";"))
    assert header == kobo_columns(form)
    assert header[-len(KOBO_META_COLUMNS):] == list(KOBO_META_COLUMNS)
    assert "prevention/services_3m" in header and "prevention/services_3m/condoms" in header
    # Every field quoted, as KoboToolbox writes them.
    first_data_line = text.split("\r\n")[1]
    assert first_data_line.startswith('"') and '";"' in first_data_line


def test_select_multiple_split_columns_agree(synthetic_root, form):
    raw = _raw(synthetic_root / "URY" / "community_survey.csv")
    joined = raw["prevention/services_3m"]
    for choice in form.choice_list(form.field("services_3m").list_name):
        col = raw[f"prevention/services_3m/{choice.name}"]
        expected = joined.str.split().map(lambda p, c=choice.name: "1" if c in p else "0").where(joined != "", "")
        assert (col == expected).all()


@pytest.mark.parametrize("iso3", ["PRY", "URY", "BLZ"])
def test_answers_follow_skip_logic_required_and_constraints(synthetic_root, form, iso3):
    raw = _raw(synthetic_root / iso3 / "community_survey.csv")
    data = pd.DataFrame({f.name: raw[f.export_name("/")] for f in form.data_fields() if not f.repeat})
    checked = 0
    for f in form.data_fields():
        if f.type in ("start", "end", "today", "deviceid") or f.repeat:
            continue
        relevant = evaluate(f.all_relevant, data).astype(bool) if f.all_relevant else pd.Series(True, index=data.index)
        answered = data[f.name] != ""
        assert not (answered & ~relevant).any(), f"{f.name}: answer where the question was not relevant"
        if f.is_required:
            assert not (relevant & ~answered).any(), f"{f.name}: required answer missing"
        if f.constraint:
            ok = evaluate(f.constraint, data, current=f.name).astype(bool)
            assert ok[answered].all(), f"{f.name}: constraint {f.constraint} broken"
        if f.type == "select_one":
            allowed = set(form.choice_names(f.name))
            assert set(data.loc[answered, f.name]) <= allowed, f.name
        checked += 1
    assert checked > 40


def test_sample_sizes_between_150_and_600(synthetic_root):
    for iso3 in ("PRY", "URY", "BLZ"):
        raw = _raw(synthetic_root / iso3 / "community_survey.csv")
        n = int((raw["eligibility/consent"] == "yes").sum())
        assert 150 <= n <= 600
        assert len(raw) > n  # screen-outs are in the export too


def test_rds_recruitment_tree_is_real(synthetic_root):
    data = read_export(synthetic_root / "PRY" / "community_survey.csv")
    assert data["coupon"].is_unique
    coupons = set(data["coupon"])
    recruited = data[data["is_seed"] == "no"]
    assert recruited["recruiter_coupon"].isin(coupons).all()
    seeds = data[data["is_seed"] == "yes"]
    assert 6 <= len(seeds) <= 40
    # Several waves deep, and recruiters recruit at most three.
    assert recruited["recruiter_coupon"].value_counts().max() <= 3
    depth = {c: 0 for c in seeds["coupon"]}
    parent = dict(zip(recruited["coupon"], recruited["recruiter_coupon"]))
    for c in data["coupon"]:  # interview order: recruiters are interviewed before their recruits
        if c in parent:
            depth[c] = depth[parent[c]] + 1
    assert max(depth.values()) >= 4
    sizes = pd.to_numeric(data["network_size"])
    assert sizes.min() >= 1 and sizes.max() > 5 * sizes.median()  # varied, skewed network sizes


def test_rds_homophily_by_city(synthetic_root):
    data = read_export(synthetic_root / "PRY" / "community_survey.csv")
    city = dict(zip(data["coupon"], data["city"]))
    rec = data[data["is_seed"] == "no"]
    same = np.mean([city[r] == c for r, c in zip(rec["recruiter_coupon"], rec["city"])])
    shares = data["city"].value_counts(normalize=True)
    assert same > (shares**2).sum() + 0.15  # far more same-city recruitment than random mixing


def test_tls_venue_frame_matches_the_data(synthetic_root):
    folder = synthetic_root / "URY"
    frame = pd.read_csv(folder / "venue_frame.csv")
    data = read_export(folder / "community_survey.csv")
    resp = data[data["consent"] == "yes"]
    assert set(resp["venue_id"]) == set(frame["venue_id"])
    counts = resp["venue_id"].value_counts()
    assert (frame.set_index("venue_id")["interviewed"] == counts.reindex(frame["venue_id"]).to_numpy()).all()
    assert (frame["venues_sampled"] >= 2).all() and (frame["venues_sampled"] <= frame["venues_in_stratum"]).all()
    study = json.loads((folder / "study.json").read_text())
    assert study["design"]["type"] == "tls"


def test_truth_is_the_population_written_beside_the_data(synthetic_root, form):
    truth = json.loads((synthetic_root / "PRY" / "truth.json").read_text())
    pop = synth.simulate_population("PRY", seed=truth["seed"], form=form)
    assert truth["population_size"] == len(pop)
    assert truth["shares"]["hiv_test_ever"]["yes"] == pytest.approx((pop["hiv_test_ever"] == "yes").mean())
    assert 0 < truth["hiv_prevalence"] < 0.2


def test_plausible_correlations_in_the_population(form):
    pop = synth.simulate_population("COL", seed=3, form=form, size=20000)
    police = pop[["police_harassment", "police_extortion", "police_arrest", "police_sexual", "police_condoms"]].eq("yes").any(axis=1)
    tested = pop["hiv_test_12m"] == "yes"
    assert tested[police].mean() < tested[~police].mean() - 0.05
    migrant = pop["nationality"] == "foreign"
    tested_ever = pop["hiv_test_ever"] == "yes"
    assert tested_ever[migrant].mean() < tested_ever[~migrant].mean() - 0.05
    street = pop["venue_type"] == "street"
    assert police[street].mean() > police[~street].mean() + 0.05


def test_small_cells_really_occur(synthetic_root):
    data = read_export(synthetic_root / "BLZ" / "community_survey.csv")
    resp = data[data["consent"] == "yes"]
    cells = resp.groupby(["city", "venue_type"]).size()
    assert (cells < 5).any()
    assert ((resp["police_sexual"] == "yes").sum()) < 25


def test_identifying_free_text_is_in_the_export_but_flagged(synthetic_root, form):
    raw = _raw(synthetic_root / "PRY" / "community_survey.csv")
    assert "work/venue_other" in raw.columns and form.field("venue_other").identifying
