"""The batch: all countries in parallel, failures isolated, nothing half-written, a clear exit code."""

import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from research_kit.batch import run_reports
from research_kit.cli import app
from research_kit.errors import CountryError, DataFileError, ParameterError

from report_checks import check_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def broken_root(synthetic_root, tmp_path_factory):
    """The fixture countries, with Belize's export missing a column of the form."""
    root = tmp_path_factory.mktemp("broken")
    for iso3 in ("PRY", "URY", "BLZ"):
        shutil.copytree(synthetic_root / iso3, root / iso3)
    path = root / "BLZ" / "community_survey.csv"
    raw = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    raw.drop(columns=["demographics/age"]).to_csv(path, sep=";", index=False)
    return root


@pytest.fixture(scope="module")
def batch(broken_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    stale = out / "BLZ" / "index.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("<html>an old report</html>")
    seen = []
    result = run_reports(["PY", "BZ", "UY"], data_root=broken_root, out_dir=out, jobs=2, pdf=False,
                         private_dir=out.parent / (out.name + "_private"), on_done=seen.append)
    return result, out, seen


def test_a_failing_country_does_not_stop_the_others(batch):
    result, out, seen = batch
    assert [o.country for o in result.outcomes] == ["PRY", "BLZ", "URY"]
    ok = {o.country: o.ok for o in result.outcomes}
    assert ok == {"PRY": True, "BLZ": False, "URY": True}
    assert not result.ok
    failed = result.failed[0]
    assert "demographics/age" in failed.error
    assert sorted(o.country for o in seen) == ["BLZ", "PRY", "URY", "regional"]  # progress for every report
    # Belize's data cannot be read: the regional report goes on with the two others.
    assert result.regional.ok and result.regional.status == "built"


def test_failed_country_leaves_no_report_that_looks_done(batch):
    result, out, _ = batch
    assert not (out / "BLZ" / "index.html").exists()
    assert (out / "PRY" / "index.html").is_file() and (out / "URY" / "index.html").is_file()
    assert not list(out.rglob("*.part"))
    executed = result.failed[0].executed
    assert executed and "_private" in executed and not executed.startswith(str(out) + "/")


def test_index_links_only_the_reports_that_exist(batch):
    _result, out, _ = batch
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "PRY/index.html" in page and "URY/index.html" in page
    assert "BLZ/index.html" not in page and "Belice" in page
    assert "<script" not in page and "http" not in page


def test_batch_reports_pass_the_publication_checks(batch, broken_root):
    from research_kit.ingest import read_export

    _result, out, _ = batch
    for iso3 in ("PRY", "URY"):
        data = read_export(broken_root / iso3 / "community_survey.csv")
        check_report(out / iso3 / "index.html", min_count=5, min_denominator=25, data=data)


def test_cli_exit_code_says_something_failed(broken_root, tmp_path):
    result = CliRunner().invoke(app, ["reports", "--data", str(broken_root), "--out", str(tmp_path / "r"),
                                      "--country", "BZ", "--private-dir", str(tmp_path / "p"), "--no-pdf",
                                      "--no-regional"])
    assert result.exit_code == 1
    assert "BLZ" in result.output


@pytest.mark.parametrize("args,message", [
    (["--country", "XX"], "Unknown country code 'XX'"),
    (["--language", "fr"], "Language 'fr' has no catalogue"),
    (["--min-count", "0"], "min_count must be a whole number of at least 1"),
])
def test_bad_input_is_a_one_line_error_and_writes_nothing(synthetic_root, tmp_path, args, message):
    out = tmp_path / "r"
    result = CliRunner().invoke(app, ["reports", "--data", str(synthetic_root), "--out", str(out), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()


def test_missing_data_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataFileError, match="research-kit synth"):
        run_reports("PY", data_root=tmp_path / "none", out_dir=tmp_path / "r")
    with pytest.raises(CountryError):
        run_reports("XX", data_root=tmp_path, out_dir=tmp_path / "r")
    with pytest.raises(ParameterError):
        run_reports("PY", data_root=tmp_path, out_dir=tmp_path / "r", min_count="x")


def test_cli_help_in_plain_words():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("synth", "reports", "countries"):
        assert command in result.output
    result = CliRunner().invoke(app, ["reports", "--help"])
    assert "Smallest count that may be published" in result.output


def test_cli_synth_then_countries(tmp_path):
    result = CliRunner().invoke(app, ["synth", "--out", str(tmp_path), "--country", "uy"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "URY" / "community_survey.csv").is_file()
    listing = CliRunner().invoke(app, ["countries", "--language", "pt"])
    assert "Paraguai" in listing.output and listing.output.count("\n") == 17


def test_audit_of_every_table_the_batch_published_finds_nothing_recoverable(batch):
    from research_kit.disclosure.publish import audit_published, read_published

    _result, out, _ = batch
    tables = read_published(out)
    assert {"PRY", "URY"} <= {t.fixed.get("country") for t in tables.values()}
    assert len(tables) >= 2 * 10
    result = audit_published(out)
    assert result.ok, result
    cli = CliRunner().invoke(app, ["audit", str(out)])
    assert cli.exit_code == 0, cli.output


def test_no_published_csv_count_is_under_the_threshold(batch):
    import json

    _result, out, _ = batch
    checked = 0
    for meta_path in out.rglob("tables/*.json"):
        meta = json.loads(meta_path.read_text())
        table = pd.read_csv(meta_path.with_suffix(".csv"))
        shown = table[table["status"] == "published"]["value"]
        suppressed = table[table["status"] != "published"]["value"]
        assert suppressed.isna().all(), meta_path
        if meta["measure"]["kind"] == "count":
            assert (shown >= meta["policy"]["min_count"]).all(), meta_path
            checked += 1
    assert checked >= 2 * 8


def test_report_kinds(tmp_path):
    result = CliRunner().invoke(app, ["reports", "--kind", "other", "--data", str(tmp_path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "No report kind 'other'" in result.output
    assert "community, regional or capacity" in result.output
    result = CliRunner().invoke(app, ["reports", "--kind", "capacity", "--data", str(tmp_path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "No capacity assessment data" in result.output
