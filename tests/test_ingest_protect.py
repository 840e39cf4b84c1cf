"""Protection at the door: identifiers never pass the reader, respondent ids become keyed pseudonyms."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from research_kit.design import RDSDesign
from research_kit.forms import FORMS, load_form
from research_kit.ingest import PseudonymKeyError, project_key, read_export, validate, validate_export
from research_kit.ingest.protect import default_key_path, pseudonymise_values
from research_kit.synth.flavours import write_flavours

NOW = pd.Timestamp("2030-01-01")


@pytest.fixture
def key(tmp_path):
    return project_key(tmp_path / "keys" / "project.key")


def test_pseudonyms_are_keyed_deterministic_and_keep_blanks(key, tmp_path):
    values = pd.Series(["1234", "5678", "1234", ""])
    once, again = pseudonymise_values(values, key), pseudonymise_values(values, key)
    other = pseudonymise_values(values, project_key(tmp_path / "other.key"))
    assert once.tolist() == again.tolist()
    assert once[0] == once[2] != once[1] and once[3] == ""
    assert once[0] != other[0]
    assert all(v.startswith("ps-") and len(v) == 19 for v in once[:3])
    assert "1234" not in "".join(once)


def test_the_key_file_is_created_once_for_its_owner_only(tmp_path):
    path = tmp_path / "k" / "project.key"
    first = project_key(path)
    assert first.created and path.is_file()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    second = project_key(path)
    assert not second.created and second.secret == first.secret
    assert "secret" not in repr(first) and first.secret.hex() not in repr(first)


def test_the_key_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RESEARCH_KIT_KEY_FILE", str(tmp_path / "elsewhere.key"))
    assert default_key_path() == tmp_path / "elsewhere.key"
    monkeypatch.delenv("RESEARCH_KIT_KEY_FILE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert default_key_path() == tmp_path / "config" / "research_kit" / "project.key"


@pytest.mark.parametrize(("content", "message"), [(b"zz-not-hex", "cannot be read"), (b"abcd", "too short")])
def test_a_damaged_key_is_refused(tmp_path, content, message):
    path = tmp_path / "project.key"
    path.write_bytes(content)
    with pytest.raises(PseudonymKeyError, match=message):
        project_key(path)


def test_no_key_is_created_when_told_not_to(tmp_path):
    with pytest.raises(PseudonymKeyError, match="There is no pseudonym key"):
        project_key(tmp_path / "missing.key", create=False)


def test_a_key_inside_a_data_folder_is_refused(tmp_path):
    with pytest.raises(PseudonymKeyError, match="inside the data folder"):
        project_key(tmp_path / "data" / "project.key", data_folders=[tmp_path / "data"])


@pytest.mark.parametrize("name", FORMS)
def test_direct_identifiers_never_pass_the_reader_in_any_flavour(name, tmp_path):
    form = load_form(name)
    if name in ("community_survey", "health_services", "rights_violation"):
        assert any(f.identifying for f in form.data_fields())
    paths = write_flavours(name, tmp_path, n=20, seed=3)
    levels = [(None, "answers.csv")] + [(r, f"answers-{r}.csv") for r in form.repeats]
    for repeat, truth in levels:
        identifying = {f.name for f in form.level_fields(repeat) if f.identifying}
        if not identifying:
            continue  # a form about organisations may hold no personal identifier at all
        fake_values = pd.read_csv(tmp_path / truth, dtype=str, keep_default_na=False)[sorted(identifying)]
        secrets = {v for v in fake_values.to_numpy().ravel() if v}
        for flavour, path in paths.items():
            if repeat is not None and flavour not in ("kobo_xlsx", "odk_central_csv", "odk_central_zip"):
                continue  # KoboToolbox CSV exports hold no repeats
            data = read_export(path, name, repeat=repeat)
            assert not identifying & set(data.columns), (flavour, repeat)
            assert not secrets & set(data.astype(str).to_numpy().ravel()), (flavour, repeat)


def test_recruitment_links_survive_pseudonyms(synthetic_root, key):
    data = read_export(synthetic_root / "PRY" / "community_survey.csv", "community_survey")
    result = validate(data, "community_survey", key=key, now=NOW)
    accepted = result.accepted
    assert accepted["coupon"].str.startswith("ps-").all()
    raw_coupons = set(data["coupon"])
    assert not raw_coupons & set(accepted["coupon"]) and not raw_coupons & set(accepted["recruiter_coupon"])
    respondents = accepted[accepted["consent"] == "yes"].copy()
    design = RDSDesign(respondents.assign(network_size=respondents["network_size"].astype(int)),
                       respondent="coupon", recruiter="recruiter_coupon", degree="network_size")
    plain = data[data["consent"] == "yes"]
    reference = RDSDesign(plain.assign(network_size=plain["network_size"].astype(int)),
                          respondent="coupon", recruiter="recruiter_coupon", degree="network_size")
    assert design.n_seeds == reference.n_seeds


def test_waves_link_through_the_same_key(synthetic_root, key, tmp_path):
    path = synthetic_root / "PRY" / "community_survey.csv"
    one = read_export(path, "community_survey", key=key)
    two = read_export(path, "community_survey", key=key)
    assert one["coupon"].tolist() == two["coupon"].tolist()
    assert one.attrs["pseudonymised"] == ("coupon", "recruiter_coupon")


def test_validating_pseudonymised_data_checks_links_not_formats(synthetic_root, key):
    data = read_export(synthetic_root / "PRY" / "community_survey.csv", "community_survey", key=key)
    result = validate(data, "community_survey", now=NOW)
    assert result.ok, result.errors.head().to_string()
    broken = data.copy()
    broken.loc[broken["recruiter_coupon"] != "", "recruiter_coupon"] = "ps-0000000000000000"
    assert (validate(broken, "community_survey", now=NOW).errors["rule"] == "reference: recruiter_coupon → coupon").any()


def test_written_outputs_hold_no_raw_coupon(synthetic_root, key, tmp_path):
    path = synthetic_root / "PRY" / "community_survey.csv"
    raw = set(pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)["rds/coupon"]) - {""}
    outcome = validate_export(path, "community_survey", out_dir=tmp_path / "out", key=key, now=NOW)
    for name in ("accepted.csv", "quarantine.csv", "errors.csv"):
        cells = set(pd.read_csv(tmp_path / "out" / name, dtype=str, keep_default_na=False).to_numpy().ravel())
        assert not raw & cells, name
    assert outcome.submissions.pseudonymised == ("coupon", "recruiter_coupon")


def test_identifiers_read_in_by_hand_never_reach_the_outputs():
    from research_kit.synth.generic import generate_answers

    frame = generate_answers("rights_violation", 12, seed=5)  # as a server holds it: names and phones included
    frame.loc[0, "age"] = "12"
    result = validate(frame, "rights_violation", now=NOW)
    for out in (result.accepted, result.quarantine):
        assert not {"victim_name", "victim_phone", "documenter_id"} & set(out.columns)
    assert set(result.dropped) >= {"victim_name", "victim_phone"}
