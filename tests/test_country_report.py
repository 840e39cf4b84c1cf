"""The full country report: every section, in three languages, safe to publish, printable, with exports."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from research_kit import indicators
from research_kit.disclosure import DisclosurePolicy, protect_counts, protect_estimates
from research_kit.errors import DisclosureError
from research_kit.i18n import catalogue, translator
from research_kit.ingest import read_export
from research_kit.report import CountryReport
from research_kit.report.exports import write_xlsx
from research_kit.report.findings import age_sentence, domain_findings, indicator_sentence, share_phrase
from research_kit.report.html import notebook_to_html

from report_checks import check_report, visible_text

pytestmark = pytest.mark.slow

#: (country, language): a respondent-driven sample in Spanish, a time-location one in Portuguese, the smallest in English.
RUNS = (("PRY", "es"), ("URY", "pt"), ("BLZ", "en"))


@pytest.fixture(scope="module")
def rendered(synthetic_root, repo_root, tmp_path_factory):
    import papermill as pm

    out = tmp_path_factory.mktemp("country_reports")
    pages = {}
    for iso, lang in RUNS:
        executed = out / f"{iso}-{lang}.ipynb"
        pm.execute_notebook(str(repo_root / "notebooks" / "country_report.ipynb"), str(executed), progress_bar=False,
                            parameters={"country": iso, "data_root": str(synthetic_root), "language": lang,
                                        "output_dir": str(out)})
        pages[(iso, lang)] = notebook_to_html(executed, out / iso / "index.html", language=lang)
    return out, pages


@pytest.mark.parametrize("iso,lang", RUNS)
def test_the_full_report_passes_the_publication_checks(rendered, synthetic_root, iso, lang):
    _out, pages = rendered
    data = read_export(synthetic_root / iso / "community_survey.csv")
    check_report(pages[(iso, lang)], min_count=5, min_denominator=25, data=data)


@pytest.mark.parametrize("iso,lang", RUNS)
def test_the_report_has_every_section(rendered, iso, lang):
    _out, pages = rendered
    page = pages[(iso, lang)].read_text(encoding="utf-8")
    _ = translator(lang)
    for heading in ("How the survey was done", "Who answered", "Key indicators", "HIV testing", "Treatment",
                    "Prevention", "Stigma in health services", "Violence", "Rights", "Organisation", "Limitations",
                    "Annex: definitions and sources", "Downloads"):
        assert f">{_(heading)}</h2>" in page, heading
    assert f'lang="{lang}"' in page
    for ind in indicators.get():  # the annex defines every indicator
        assert ind.numerator_text(lang) in page.replace("&#x27;", "'")


def test_rds_report_shows_recruitment_and_convergence_from_the_minimum_denominator(rendered):
    out, pages = rendered
    page = pages[("PRY", "es")].read_text(encoding="utf-8")
    assert {"rds_waves", "rds_coupons"} <= _table_ids(page)
    assert (out / "PRY" / "figures" / "convergence_testing_12m.svg").is_file()
    run = pd.read_csv(out / "PRY" / "tables" / "rds_waves.csv")
    assert len(run)


def test_tls_report_shows_venues_by_stratum(rendered):
    _out, pages = rendered
    assert "tls_venues" in _table_ids(pages[("URY", "pt")].read_text(encoding="utf-8"))


def _table_ids(page: str) -> set[str]:
    return set(re.findall(r"data-table-id=[\"']([^\"']+)[\"']", page))


def _source_strings(lang: str) -> set[str]:
    """English strings long enough to be unambiguous whose translation differs: they must not appear in `lang`."""
    out = set()
    cat = catalogue(lang)
    for m in cat:
        if not m.id or not m.string or m.string == m.id:
            continue
        for part in re.split(r"\{\w+\}", m.id):
            part = part.strip(" .,:;()")
            if len(part) >= 18 and " " in part:
                out.add(part)
    for ind in indicators.get():
        if ind.name("en") != ind.name(lang):
            out.add(ind.name("en"))
        if ind.numerator_text("en") != ind.numerator_text(lang):
            out.add(ind.numerator_text("en"))
    for key in ("12 months", "3 months", "last test", "last paid sex"):
        out.add(indicators.recall_label(key, "en"))
    return out


@pytest.mark.parametrize("iso,lang", [r for r in RUNS if r[1] != "en"])
def test_no_untranslated_string_in_spanish_or_portuguese(rendered, iso, lang):
    import html as html_lib

    _out, pages = rendered
    text = html_lib.unescape(visible_text(pages[(iso, lang)].read_text(encoding="utf-8")))
    text = re.sub(r"\s+", " ", text)
    found = sorted(s for s in _source_strings(lang) if s in text)
    assert not found, f"English in the {lang} report: {found}"
    assert len(_source_strings(lang)) > 100


def test_tables_and_figures_are_written_and_the_workbook_has_every_shown_table(rendered):
    import openpyxl

    out, pages = rendered
    folder = out / "PRY"
    page = pages[("PRY", "es")].read_text(encoding="utf-8")
    shown = _table_ids(page)
    written = {p.stem for p in (folder / "tables").glob("*.csv") if "." not in p.stem}
    assert shown <= written
    for table_id in shown & {"key_indicators", "testing_indicators", "violence_indicators"}:
        assert (folder / "figures" / f"{table_id}.png").is_file() and (folder / "figures" / f"{table_id}.svg").is_file()
    wb = openpyxl.load_workbook(folder / "tables.xlsx")
    assert wb.sheetnames[0] == "notes"
    assert len(wb.sheetnames) - 1 == len(shown)
    assert all(len(name) <= 31 for name in wb.sheetnames)
    assert "tables.xlsx" in page and "report.pdf" in page


def test_the_workbook_holds_no_small_count_and_no_suppressed_value(rendered):
    import openpyxl

    out, _pages = rendered
    wb = openpyxl.load_workbook(out / "PRY" / "tables.xlsx")
    hidden = 0
    for ws in wb.worksheets[1:]:
        header = [c.value for c in ws[2]]
        estimate = "%" in header
        for r in ws.iter_rows(min_row=3, values_only=True):
            status, count = r[-1], r[-2]
            if estimate:
                pct = r[header.index("%"):header.index("%") + 3]
                if status in ("primary", "secondary"):
                    hidden += 1
                    assert pct == (None, None, None), (ws.title, r)
            elif status in ("primary", "secondary"):
                hidden += 1
                assert count is None, (ws.title, r)
            assert count is None or count >= 5, (ws.title, r)
    assert hidden > 0


def test_export_refuses_an_unprotected_table(tmp_path):
    with pytest.raises(DisclosureError, match="not protected"):
        write_xlsx({"raw": pd.DataFrame({"a": [1]})}, tmp_path / "x.xlsx", language="es")


def test_pdf_is_printed_from_the_html(rendered):
    from research_kit.capacity.pdf import chromium
    from research_kit.report.pdf import report_pdf

    if chromium() is None:
        pytest.skip("Chromium is not installed")
    _out, pages = rendered
    pdf = report_pdf(pages[("URY", "pt")])
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    assert len(reader.pages) >= 5
    assert "Testagem de HIV" in "".join(p.extract_text() for p in reader.pages)


def test_a_country_that_could_not_measure_an_indicator_still_renders(synthetic_root):
    report = CountryReport("URY", data_root=synthetic_root, language="en")
    report.study.respondents["sw_id_card"] = np.nan  # e.g. no such card exists in the country
    assert "sw_id_card" in report.not_measured
    page = str(report.domain("rights"))
    assert "This country could not measure" in page and "Has the sex-worker identification card" in page
    assert "could not measure: " in str(report.limitations())
    assert "sw_id_card" not in set(report.indicator_table().data["indicator"])


def test_batch_inputs_give_the_jointly_protected_age_table(synthetic_root, tmp_path):
    from research_kit.regional import RegionalInputs
    from research_kit.regional.inputs import collect

    path = collect(["PRY", "URY", "BLZ"], data_root=synthetic_root).save(tmp_path / "inputs.pkl")
    report = CountryReport("BLZ", data_root=synthetic_root, batch_inputs=str(path))
    report.sample_tables()
    shared = RegionalInputs.load(path).country_table("BLZ", "sample_age_group")
    mine = report.published["sample_age_group"].data
    assert mine["status"].tolist() == shared.data["status"].tolist()
    assert mine["count"].fillna(-1).tolist() == shared.data["count"].fillna(-1).tolist()


# ---- findings ------------------------------------------------------------------------------------------------


def _row(p, lo, hi, status="published"):
    return {"estimate": p, "ci_low": lo, "ci_high": hi, "status": status}


def test_findings_say_the_number_in_plain_words_in_each_language():
    ind = indicators.get("testing_12m")[0]
    row = _row(0.62, 0.55, 0.69)
    assert indicator_sentence(ind, row, language="en", locale="en").startswith("About 6 in 10 women (62%, 95% CI 55–69%)")
    es = indicator_sentence(ind, row, language="es", locale="es_PY")
    assert es.startswith("Alrededor de 6 de cada 10 mujeres (62%") and "se hicieron la prueba" in es
    assert indicator_sentence(ind, row, language="pt", locale="pt_BR").startswith("Cerca de 6 em cada 10 mulheres")


def test_findings_name_the_subgroup_of_a_restricted_denominator():
    ind = indicators.get("test_mandatory")[0]
    text = indicator_sentence(ind, _row(0.31, 0.25, 0.38), language="en", locale="en")
    assert text.startswith("Among respondents ever tested who answered the question, about 3 in 10 women")


def test_suppressed_numbers_are_never_used_in_a_sentence():
    ind = indicators.get("police_sexual")[0]
    text = indicator_sentence(ind, {"estimate": 0.07, "ci_low": 0.02, "ci_high": 0.1, "status": "secondary"},
                              language="en", locale="en")
    assert not re.search(r"\d", text) and "not shown" in text
    assert age_sentence(ind, _row(0.1, 0.05, 0.15), _row(0.5, 0.4, 0.6, "primary"), language="en") is None


def test_caution_figures_say_so():
    ind = indicators.get("org_member")[0]
    text = indicator_sentence(ind, _row(0.4, 0.3, 0.5, "caution"), language="en", locale="en", caution_denominator=50)
    assert "read it with caution" in text


def test_age_groups_are_compared_only_when_intervals_do_not_overlap():
    ind = indicators.get("org_member")[0]
    assert age_sentence(ind, _row(0.2, 0.1, 0.3), _row(0.5, 0.4, 0.6), language="en") .startswith("It was less common")
    assert age_sentence(ind, _row(0.6, 0.5, 0.7), _row(0.3, 0.2, 0.4), language="en").startswith("It was more common")
    assert age_sentence(ind, _row(0.2, 0.1, 0.41), _row(0.5, 0.4, 0.6), language="en") is None


def test_share_phrases_cover_the_whole_range():
    assert [share_phrase(p, "en") for p in (0.0, 0.1, 0.55, 0.99)] == [
        "Few women", "About 1 in 10 women", "About 6 in 10 women", "Almost all women"]


def test_domain_findings_read_protected_tables_only():
    est = pd.DataFrame({"indicator": ["org_member"], "estimate": [0.4], "ci_low": [0.3], "ci_high": [0.5],
                        "n": [200], "n_event": [80]})
    pt = protect_estimates(est, DisclosurePolicy(), by=["indicator"])
    assert domain_findings(pt, language="en", locale="en")[0].startswith("About 4 in 10 women (40%")
    with pytest.raises(DisclosureError):
        domain_findings(est, language="en")
    counts = protect_counts(pd.DataFrame({"a": ["x", "y"], "count": [10, 10]}), DisclosurePolicy(), dimension="a")
    with pytest.raises(DisclosureError):
        domain_findings(counts, language="en")
