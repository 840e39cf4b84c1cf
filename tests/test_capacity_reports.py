"""Capacity reports run through papermill, as the batch runs them: safe pages, PDFs, and no anonymous organisation named."""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import nbformat
import pytest

from research_kit.capacity import get_organisation
from research_kit.capacity.reports import (NodeReport, OrganisationReport, RegionReport, ReportFiles, node_report,
                                           organisation_report, region_report, run_capacity_reports)
from research_kit.errors import ParameterError
from research_kit.synth.capacity import generate_capacity

from report_checks import check_report, visible_text

pytestmark = pytest.mark.slow

#: Organisations that ask not to be named: one national organisation in each of two nodes, and one that hosts a node.
ANONYMOUS = ("pry", "gtm", "ecu")
HAVE_CHROMIUM = shutil.which("chromium") is not None or shutil.which("chromium-browser") is not None


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return generate_capacity(tmp_path_factory.mktemp("data"), seed=2026, anonymous=ANONYMOUS)


def _build_regional(data, out, private):
    files = [node_report("southern_cone", data_path=data, output_dir=out / "es", private_dir=private),
             node_report("andean", data_path=data, output_dir=out / "en", language="en", private_dir=private, pdf=False),
             region_report(data_path=data, output_dir=out / "es", private_dir=private),
             region_report(data_path=data, output_dir=out / "pt", language="pt", private_dir=private, pdf=False)]
    return files


@pytest.fixture(scope="module")
def regional(tmp_path_factory, worker_id):
    """Two node reports (es, en) and the regional report (es, pt), built once for all test workers.

    Running notebooks is the slow part of this suite, so the first worker that needs these reports
    builds them in the run's shared folder and the others wait for it (an atomic mkdir is the lock).
    """
    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        root = root.parent
    target, lock = root / "capacity_regional", root / "capacity_regional.lock"
    try:
        lock.mkdir()
    except FileExistsError:
        deadline = time.monotonic() + 900
        while not (target / "done.json").exists() and not (target / "failed").exists():
            if time.monotonic() > deadline:
                pytest.fail("Waited 15 minutes for another worker to build the regional reports.")
            time.sleep(1)
        if (target / "failed").exists():
            pytest.fail("Another worker failed to build the regional reports: " + (target / "failed").read_text())
        return target, [ReportFiles(**f) for f in json.loads((target / "done.json").read_text())]
    target.mkdir(exist_ok=True)
    try:
        data = generate_capacity(target / "data", seed=2026, anonymous=ANONYMOUS)
        files = _build_regional(data, target / "reports", target / "runs")
    except BaseException as exc:
        (target / "failed").write_text(repr(exc))
        raise
    (target / "done.json").write_text(json.dumps([asdict(f) for f in files]))
    return target, files


@pytest.fixture(scope="module")
def own(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("own")
    return out, organisation_report("pry", data_path=data, output_dir=out, private_dir=tmp_path_factory.mktemp("runs"))


def _patterns(org) -> list[re.Pattern]:
    return [re.compile(rf"(?<![A-Za-z0-9_]){re.escape(s)}(?![A-Za-z0-9_])", re.IGNORECASE) for s in org.identifiers()]


def _text_of(path) -> str:
    if path.suffix == ".pdf":
        pypdf = pytest.importorskip("pypdf")
        return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(str(path)).pages)
    if path.suffix in (".png", ".xlsx"):
        return ""
    text = path.read_text(encoding="utf-8")
    return visible_text(text) + " ".join(re.findall(r"(?:alt|title)='([^']*)'", text)) if path.suffix == ".html" else text


def test_anonymous_organisations_never_appear_by_name_in_any_regional_output(regional):
    root, files = regional
    out = root / "reports"
    assert all(f.ok for f in files), [f.error for f in files if not f.ok]
    scanned = [p for p in out.rglob("*") if p.is_file()]
    kinds = {p.suffix for p in scanned}
    # Every output: pages, published tables (CSV and JSON), figures (SVG keeps the PNG's text as text), PDFs.
    assert {".html", ".csv", ".svg", ".json", ".png"} <= kinds
    assert len(scanned) > 60
    for path in scanned:
        body = _text_of(path)
        for code in ANONYMOUS:
            for pattern in _patterns(get_organisation(code)):
                assert not pattern.search(body), f"{path.relative_to(out)} names {code}: {pattern.pattern}"
        if path.suffix == ".png":  # each PNG has its SVG twin, which was scanned
            assert path.with_suffix(".svg").is_file()
    # The scan can see names: the organisations that did not ask are in the same outputs.
    assert "Honduras" in (out / "es" / "region" / "figures" / "heatmap.svg").read_text(encoding="utf-8")
    assert "Argentina" in (out / "es" / "region" / "tables" / "heatmap.csv").read_text(encoding="utf-8")
    assert "Uruguay" in _text_of(out / "es" / "southern_cone" / "index.html")  # the coverage table


@pytest.mark.skipif(not HAVE_CHROMIUM, reason="headless Chromium is not installed")
def test_pdfs_are_printed_and_name_no_anonymous_organisation(regional):
    pypdf = pytest.importorskip("pypdf")
    _root, files = regional
    pdfs = [f.pdf for f in files if f.pdf]
    assert len(pdfs) == 2
    for pdf in pdfs:
        reader = pypdf.PdfReader(pdf)
        assert len(reader.pages) >= 2
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
        assert "Mediana" in text
        for code in ANONYMOUS:
            for pattern in _patterns(get_organisation(code)):
                assert not pattern.search(text), f"{pdf} names {code}"


def test_regional_pages_are_safe_to_publish_in_three_languages(regional):
    root, files = regional
    out = root / "reports"
    for f in files:
        check_report(Path(f.html), min_count=5, min_denominator=25)
    en = (out / "en" / "andean" / "index.html").read_text(encoding="utf-8")
    pt = (out / "pt" / "region" / "index.html").read_text(encoding="utf-8")
    assert "Median and range by area" in en and 'lang="en"' in en and "Andean region" in en
    assert "Mediana e intervalo por área" in pt and "América Latina e Caribe" in pt


def test_node_report_shows_its_organisations_and_the_node(regional):
    root, _files = regional
    out = root / "reports"
    page = (out / "es" / "southern_cone" / "index.html").read_text(encoding="utf-8")
    assert "Cono Sur" in page and "Cambio entre rondas" in page
    heatmap = (out / "es" / "southern_cone" / "tables" / "heatmap.csv").read_text(encoding="utf-8")
    assert "ury" in heatmap and "node_southern_cone" in heatmap
    figures = {p.name for p in (out / "en" / "andean" / "figures").iterdir()}
    assert {"heatmap.png", "heatmap.svg", "change.svg", "coverage_trend.svg"} <= figures


def test_the_organisation_report_names_the_organisation_and_writes_its_plan(own):
    out, files = own
    assert files.ok, files.error
    page = (out / "pry" / "index.html").read_text(encoding="utf-8")
    assert "Organización nacional de Paraguay" in page  # its own report may name it
    assert "Seguimiento del plan anterior" in page and "Meta alcanzada" in page
    assert "Cobertura del programa" in page
    assert (out / "pry" / "plan_pry_followup_1.xlsx").is_file()
    check_report(out / "pry" / "index.html", min_count=5, min_denominator=25)
    if HAVE_CHROMIUM:
        assert files.pdf and (out / "pry" / "report.pdf").stat().st_size > 10_000


def test_notebooks_have_a_parameters_cell_and_only_call_the_library(repo_root):
    expected = {"capacity_organisation": ("organisation", "data_path", "language", "output_dir", "min_count"),
                "capacity_node": ("node", "data_path", "language", "output_dir", "min_count"),
                "capacity_region": ("data_path", "language", "output_dir", "min_count")}
    for name, params in expected.items():
        nb = nbformat.read(repo_root / "notebooks" / f"{name}.ipynb", as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1
        for p in params:
            assert f"\n{p} =" in "\n" + tagged[0].source
        for cell in nb.cells:
            if cell.cell_type != "code" or cell is tagged[0]:
                continue
            assert not cell.get("outputs")
            for line in cell.source.splitlines():
                line = line.strip()
                assert not line or line.startswith(("import research_kit.capacity", "report", "capacity.", "organisation,",
                                                     "round=", ")")), line


def test_bad_parameters_fail_with_one_clear_line(data):
    with pytest.raises(ParameterError, match="Unknown organisation 'xx'"):
        OrganisationReport("xx", data_path=data)
    with pytest.raises(ParameterError, match="Unknown sub-regional node 'caribe'"):
        NodeReport("caribe", data_path=data)
    with pytest.raises(ParameterError, match="Language 'fr' has no catalogue"):
        RegionReport(data_path=data, language="fr")
    with pytest.raises(ParameterError, match="min_count must be a whole number"):
        RegionReport(data_path=data, min_count=0)


def test_the_batch_can_run_every_report_and_keeps_going_after_a_failure(data, tmp_path):
    seen = []
    results = run_capacity_reports(data_path=data, output_dir=tmp_path, organisations_=["secretariat"], nodes=[],
                                   region=False, pdf=False, private_dir=tmp_path / "runs", on_done=seen.append)
    assert [(r.kind, r.code, r.ok) for r in results] == [("organisation", "secretariat", True)]
    assert seen == results
    page = (tmp_path / "secretariat" / "index.html").read_text(encoding="utf-8")
    assert "Los datos de cobertura son de los programas de las organizaciones nacionales." in page
    failed = organisation_report("ury", data_path=tmp_path / "nowhere", output_dir=tmp_path, pdf=False,
                                 private_dir=tmp_path / "runs", raise_errors=False)
    assert not failed.ok and "no capacity-assessment export" in failed.error


@pytest.mark.parametrize("module", ["research_kit.capacity.reports", "research_kit.capacity.charts"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def test_without_chromium_the_pdf_is_skipped_with_a_clear_warning(tmp_path, monkeypatch):
    from research_kit.capacity.pdf import ChromiumMissingWarning, html_to_pdf

    page = tmp_path / "index.html"
    page.write_text("<html><body><p>x</p></body></html>", encoding="utf-8")
    monkeypatch.setenv("RK_CHROMIUM", "no-such-chromium")
    with pytest.warns(ChromiumMissingWarning, match="Chromium was not found, so report.pdf was not written.*apt-get install chromium"):
        assert html_to_pdf(page) is None
    assert not (tmp_path / "report.pdf").exists()
