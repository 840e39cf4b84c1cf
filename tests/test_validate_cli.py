"""`research-kit validate`: three outputs and a summary, exit 0 / 1 / 2, the input untouched."""

from __future__ import annotations

import hashlib
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from research_kit.cli import app
from research_kit.ingest import validate_export
from research_kit.synth.flavours import write_export
from research_kit.synth.generic import generate_answers, generate_repeat
from research_kit.synth.kobo import write_kobo_csv


@pytest.fixture
def env(tmp_path):
    return {"RESEARCH_KIT_KEY_FILE": str(tmp_path / "keys" / "project.key")}


@pytest.fixture
def clean(tmp_path):
    return write_export(generate_answers("community_survey", 50, seed=8), "community_survey",
                        tmp_path / "data" / "export", "kobo_csv")[0]


def _run(args, env):
    return CliRunner().invoke(app, ["validate", *map(str, args)], env=env)


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_everything_accepted_exits_0_and_writes_the_outputs(clean, env, tmp_path):
    out = tmp_path / "out"
    result = _run([clean, "--form", "community_survey", "--out", out], env)
    assert result.exit_code == 0, result.output
    assert "50 rows read, 50 accepted, 0 quarantined" in result.output
    assert {p.name for p in out.iterdir()} == {"accepted.csv", "quarantine.csv", "errors.csv", "summary.html"}
    accepted = pd.read_csv(out / "accepted.csv", dtype=str, keep_default_na=False)
    assert len(accepted) == 50 and "age" in accepted.columns
    assert list(pd.read_csv(out / "errors.csv").columns) == ["file", "row", "column", "value", "rule", "message",
                                                             "severity", "level"]


def test_some_rows_quarantined_exits_1(clean, env, tmp_path):
    raw = pd.read_csv(clean, sep=";", dtype=str, keep_default_na=False)
    pos = int((raw["eligibility/consent"] == "yes").to_numpy().nonzero()[0][0])
    raw.loc[pos, "demographics/age"] = "12"
    write_kobo_csv(raw, clean)
    before = _sha(clean)
    out = tmp_path / "out"
    result = _run([clean, "--form", "community_survey", "--out", out, "--language", "en"], env)
    assert result.exit_code == 1, result.output
    assert "1 quarantined" in result.output
    quarantine = pd.read_csv(out / "quarantine.csv", dtype=str, keep_default_na=False)
    assert quarantine["_row"].tolist() == [str(pos + 2)] and "constraint" in quarantine["_rules"].iloc[0]
    errors = pd.read_csv(out / "errors.csv", dtype=str, keep_default_na=False)
    assert errors.loc[0, "message"].startswith(f"export.csv, row {pos + 2}, column 'age': the value '12'")
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert "<script" not in page and not re.search(r"https?://", page) and "Quarantined" in page
    assert _sha(clean) == before  # the input is never modified


@pytest.mark.parametrize("content", [b"", b"%PDF-1.4 binary"])
def test_a_file_that_cannot_be_read_exits_2_with_one_line(content, env, tmp_path):
    (tmp_path / "data").mkdir()
    bad = tmp_path / "data" / "export.csv"
    bad.write_bytes(content)
    result = _run([bad, "--form", "community_survey", "--out", tmp_path / "out"], env)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "export.csv" in lines[0]


@pytest.mark.parametrize(("args", "message"), [
    (["--form", "no_such_form"], "There is no bundled form called 'no_such_form'"),
    (["--form", "community_survey", "--language", "fr"], "must be one of es, en, pt. Got 'fr' instead"),
    (["--form", "community_survey", "--rename", "edad"], "--rename takes OLD=NEW"),
    (["--form", "community_survey", "--as-of", "yesterday"], "--as-of takes a date"),
])
def test_bad_options_exit_2_with_a_clear_message(clean, env, tmp_path, args, message):
    result = _run([clean, *args, "--out", tmp_path / "out"], env)
    assert result.exit_code == 2
    assert message in result.output


def test_the_key_is_created_on_first_use_and_said_so(clean, env, tmp_path):
    first = _run([clean, "--form", "community_survey", "--out", tmp_path / "a"], env)
    assert "Created a new pseudonym key" in first.output
    second = _run([clean, "--form", "community_survey", "--out", tmp_path / "b"], env)
    assert "Created" not in second.output
    a = pd.read_csv(tmp_path / "a" / "accepted.csv", dtype=str, keep_default_na=False)
    b = pd.read_csv(tmp_path / "b" / "accepted.csv", dtype=str, keep_default_na=False)
    assert a["coupon"].tolist() == b["coupon"].tolist()  # the same key: the same pseudonyms, waves link


def test_a_key_inside_the_data_folder_is_refused(clean, tmp_path):
    env = {"RESEARCH_KIT_KEY_FILE": str(clean.parent / "project.key")}
    result = _run([clean, "--form", "community_survey", "--out", tmp_path / "out"], env)
    assert result.exit_code == 2 and "inside the data folder" in result.output
    assert not (tmp_path / "out").exists()


def test_a_renamed_column_can_be_mapped(clean, env, tmp_path):
    raw = pd.read_csv(clean, sep=";", dtype=str, keep_default_na=False).rename(columns={"demographics/age": "demographics/edad"})
    write_kobo_csv(raw, clean)
    refused = _run([clean, "--form", "community_survey", "--out", tmp_path / "a"], env)
    assert refused.exit_code == 2 and "demographics/edad" in refused.output
    mapped = _run([clean, "--form", "community_survey", "--out", tmp_path / "b", "--rename", "demographics/edad=age"], env)
    assert mapped.exit_code == 0, mapped.output


def test_several_exports_and_repeats(env, tmp_path):
    answers = generate_answers("rights_violation", 30, seed=4)
    incidents = generate_repeat("rights_violation", "incidents", answers, seed=4)
    wave1 = write_export(answers.iloc[:15], "rights_violation", tmp_path / "w1" / "cases", "kobo_xlsx",
                         {"incidents": incidents[incidents["_parent_uuid"].isin(answers["_uuid"].iloc[:15])]})[0]
    wave2 = write_export(answers.iloc[15:], "rights_violation", tmp_path / "w2" / "cases", "kobo_xlsx",
                         {"incidents": incidents[incidents["_parent_uuid"].isin(answers["_uuid"].iloc[15:])]})[0]
    out = tmp_path / "out"
    result = _run([wave1, wave2, "--form", "rights_violation", "--out", out], env)
    assert result.exit_code == 0, result.output
    assert (out / "accepted-incidents.csv").is_file()
    cases = pd.read_csv(out / "accepted.csv", dtype=str, keep_default_na=False)
    assert cases["_source"].unique().tolist() == ["w1/cases.xlsx", "w2/cases.xlsx"]
    assert cases["case_code"].str.startswith("ps-").all()
    assert "victim_name" not in cases.columns and "victim_phone" not in cases.columns


def test_outputs_never_replace_the_input(clean, tmp_path):
    from research_kit.ingest import ExportFormatError

    renamed = clean.with_name("accepted.csv")
    clean.rename(renamed)
    with pytest.raises(ExportFormatError, match="would replace the input file"):
        validate_export(renamed, "community_survey", out_dir=renamed.parent, key=None)
