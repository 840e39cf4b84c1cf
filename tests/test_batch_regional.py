"""A whole batch: country reports and the regional report from one set of shared inputs, PDFs, the
suppression record, the audit of everything published, and incremental reruns."""

import json
import shutil

import nbformat
import pytest
from typer.testing import CliRunner

from research_kit.batch import run_reports
from research_kit.capacity.pdf import chromium
from research_kit.cli import app

from conftest import FIXTURE_COUNTRIES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def full(synthetic_root, tmp_path_factory):
    """The fixture countries and the regional report, built once (with PDFs)."""
    base = tmp_path_factory.mktemp("full")
    data = base / "data"
    shutil.copytree(synthetic_root, data)
    out, private = base / "reports", base / "private"
    seen = []
    result = run_reports(list(FIXTURE_COUNTRIES), data_root=data, out_dir=out, private_dir=private, jobs=2,
                         on_done=seen.append)
    return result, data, out, private, seen


def _parameters(executed: str) -> dict:
    return nbformat.read(executed, as_version=4).metadata["papermill"]["parameters"]


def test_whole_batch_with_the_regional_report(full):
    result, _data, out, private, seen = full
    assert result.ok, [(o.country, o.error) for o in result.failed]
    assert [o.country for o in result.outcomes] == list(FIXTURE_COUNTRIES)
    assert result.regional.status == "built" and len(seen) == len(FIXTURE_COUNTRIES) + 1
    assert (out / "regional" / "index.html").is_file()
    assert (out / "regional" / "provenance.json").is_file() and (out / "regional" / "tables").is_dir()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging or work folder left
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "regional/index.html" in index and "PRY/index.html" in index
    # Every notebook got the same shared inputs, computed once in the parent.
    inputs = {_parameters(o.executed).get("batch_inputs") for o in result.reports}
    assert len(inputs) == 1
    (path,) = inputs
    assert path and str(private) in path and path.endswith(".pickle")
    from research_kit.regional import RegionalInputs

    assert sorted(RegionalInputs.load(path).countries) == sorted(FIXTURE_COUNTRIES)
    assert _parameters(result.regional.executed)["countries"] == list(FIXTURE_COUNTRIES)


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed")
def test_every_report_has_its_pdf(full):
    result, _data, out, _private, _seen = full
    for key in (*FIXTURE_COUNTRIES, "regional"):
        pdf = out / key / "report.pdf"
        assert pdf.is_file() and pdf.read_bytes()[:5] == b"%PDF-", key
    assert "PRY/report.pdf" in (out / "index.html").read_text(encoding="utf-8")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["reports"]["PRY"]["pdf"] and manifest["regional"]["pdf"]


def test_suppression_record_and_audit_are_in_the_manifest(full):
    from research_kit.batch.provenance import sha256_file

    result, _data, out, _private, _seen = full
    record = json.loads((out / "suppression.json").read_text())
    assert record["format"].startswith("research_kit.suppression_record")
    assert any(t.startswith("regional/") for t in record["tables"])
    assert "PRY/sample_age_group" in record["tables"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["suppression"]["path"] == "suppression.json"
    assert manifest["suppression"]["sha256"] == sha256_file(out / "suppression.json")
    assert manifest["batch_inputs"]["ok"] and manifest["batch_inputs"]["population_sizes"]["sha256"]
    assert manifest["audit"]["ok"] is True and manifest["audit"]["recoverable"] == 0
    assert manifest["audit"]["cells"] > 0 and result.audit == manifest["audit"]
    regional = manifest["regional"]
    assert regional["status"] == "built" and regional["tables"]
    assert "population_sizes.csv" in regional["inputs"] and "PRY/community_survey.csv" in regional["inputs"]


def test_audit_of_every_table_of_the_batch_together_finds_nothing_recoverable(full):
    """End to end: parse every table the batch published (countries and regional), audit them all together."""
    import pandas as pd

    from research_kit.disclosure.publish import audit_published, read_published

    _result, _data, out, _private, _seen = full
    tables = read_published(out)
    countries = {t.fixed.get("country") for t in tables.values()}
    assert set(FIXTURE_COUNTRIES) <= countries
    regional = [p for p in (out / "regional" / "tables").glob("*.json")]
    assert regional
    for meta in out.rglob("tables/*.json"):
        frame = pd.read_csv(meta.with_suffix(".csv"))
        assert {"value", "status"} <= set(frame.columns), meta
        assert frame.loc[frame["status"] != "published", "value"].isna().all(), meta
    audit = audit_published(out)
    assert audit.ok, audit.summary()
    cli = CliRunner().invoke(app, ["audit", str(out)])
    assert cli.exit_code == 0, cli.output


def test_population_sizes_change_rebuilds_the_regional_report_only(full):
    result, data, out, private, _seen = full
    again = run_reports(list(FIXTURE_COUNTRIES), data_root=data, out_dir=out, private_dir=private, jobs=2)
    assert [o.status for o in again.reports] == ["up to date"] * (len(FIXTURE_COUNTRIES) + 1)
    assert json.loads((out / "manifest.json").read_text())["batch_inputs"]["reused"] is True
    sizes = data / "population_sizes.csv"
    lines = sizes.read_text(encoding="utf-8").splitlines()
    head, first = lines[0], lines[1].split(",")
    first[1] = str(int(first[1]) + 1000)
    sizes.write_text("\n".join([head, ",".join(first), *lines[2:]]) + "\n", encoding="utf-8")
    third = run_reports(list(FIXTURE_COUNTRIES), data_root=data, out_dir=out, private_dir=private, jobs=2)
    assert [o.status for o in third.outcomes] == ["up to date"] * len(FIXTURE_COUNTRIES)
    assert third.regional.status == "built" and third.ok
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["batch_inputs"]["reused"] is False
    assert manifest["regional"]["inputs"]["population_sizes.csv"] == manifest["batch_inputs"]["population_sizes"]["sha256"]


def test_when_the_shared_inputs_fail_countries_still_run_and_the_regional_report_fails(synthetic_root, tmp_path,
                                                                                      monkeypatch):
    import research_kit.regional

    def broken(*_args, **_kwargs):
        raise RuntimeError("the population sizes cannot be read")

    monkeypatch.setattr(research_kit.regional, "collect", broken, raising=False)
    out = tmp_path / "reports"
    result = run_reports(["UY"], data_root=synthetic_root, out_dir=out, private_dir=tmp_path / "private",
                         jobs=1, pdf=False)
    assert result.outcomes[0].ok and result.outcomes[0].status == "built"
    assert "batch_inputs" not in _parameters(result.outcomes[0].executed)
    assert not result.regional.ok and result.regional.status == "failed"
    assert "the population sizes cannot be read" in result.regional.error
    assert not result.ok and result.inputs_error
    assert not (out / "regional").exists() and not (out / "suppression.json").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["regional"]["status"] == "failed" and "population sizes" in manifest["regional"]["error"]
    assert manifest["batch_inputs"]["ok"] is False and manifest["suppression"] is None
    assert manifest["reports"]["URY"]["status"] == "built"


def test_cli_options_for_the_batch():
    result = CliRunner().invoke(app, ["reports", "--help"])
    assert result.exit_code == 0
    for option in ("--no-pdf", "--no-regional", "--population-sizes", "--language", "--out"):
        assert option in result.output


def test_a_missing_population_sizes_file_is_a_clear_error(synthetic_root, tmp_path):
    result = CliRunner().invoke(app, ["reports", "--data", str(synthetic_root), "--out", str(tmp_path / "r"),
                                      "--population-sizes", str(tmp_path / "none.csv")])
    assert result.exit_code == 2 and "population sizes file" in result.output
