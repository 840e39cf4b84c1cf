"""The country-report notebook, executed for real through papermill, and its HTML."""

import re
import subprocess
import sys

import nbformat
import pytest

from research_kit.errors import CountryError, ParameterError
from research_kit.ingest import read_export
from research_kit.report import CountryReport
from research_kit.report.html import notebook_to_html

from report_checks import check_report

pytestmark = pytest.mark.slow


def test_notebook_has_a_parameters_cell_and_no_logic(repo_root):
    nb = nbformat.read(repo_root / "notebooks" / "country_report.ipynb", as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    params = tagged[0].source
    for name in ("country", "data_path", "language", "min_count", "output_dir"):
        assert f"\n{name} =" in "\n" + params
    code = [c.source for c in nb.cells if c.cell_type == "code" and c is not tagged[0]]
    for source in code:
        for line in source.splitlines():
            line = line.strip()
            assert not line or line.startswith(("import research_kit", "report", "rk.", "country,", ")")), line
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


@pytest.fixture(scope="module")
def executed_py(synthetic_root, repo_root, tmp_path_factory):
    """Paraguay (respondent-driven sample), run with the plain papermill command line."""
    out = tmp_path_factory.mktemp("report_py")
    executed = out / "PRY.ipynb"
    cmd = [sys.executable, "-m", "papermill", str(repo_root / "notebooks" / "country_report.ipynb"), str(executed),
           "-p", "country", "py", "-p", "data_root", str(synthetic_root), "-p", "output_dir", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = notebook_to_html(executed, out / "PRY" / "index.html")
    return out, html


def test_plain_papermill_run_produces_a_safe_report(executed_py, synthetic_root):
    _out, html = executed_py
    data = read_export(synthetic_root / "PRY" / "community_survey.csv")
    cells = check_report(html, min_count=5, min_denominator=25, data=data)
    page = html.read_text(encoding="utf-8")
    assert "Paraguay" in page and "Indicadores clave" in page
    assert re.search(r"<img[^>]+src=[\"']data:image/png;base64,", page)  # the figure is embedded
    assert 'lang="es"' in page
    assert any(r["status"] == "primary" for r in cells.rows)  # small cells really are suppressed


def test_published_tables_are_written_beside_the_report(executed_py):
    out, _html = executed_py
    tables = sorted(p.name for p in (out / "PRY" / "tables").glob("*.csv"))
    assert "key_indicators.csv" in tables and "sample_city.csv" in tables
    figures = {p.name for p in (out / "PRY" / "figures").iterdir()}
    assert {"key_indicators.png", "key_indicators.svg"} <= figures


@pytest.mark.parametrize("language,heading", [("en", "Key indicators"), ("pt", "Indicadores-chave")])
def test_report_in_other_languages_with_a_higher_threshold(synthetic_root, tmp_path, language, heading):
    import papermill as pm

    from research_kit.batch import notebook_path

    executed = tmp_path / "URY.ipynb"
    pm.execute_notebook(str(notebook_path()), str(executed), progress_bar=False,
                        parameters={"country": "URY", "data_root": str(synthetic_root), "language": language,
                                    "min_count": 30})
    html = notebook_to_html(executed, tmp_path / "URY.html", language=language)
    data = read_export(synthetic_root / "URY" / "community_survey.csv")
    check_report(html, min_count=30, min_denominator=30, data=data)
    page = html.read_text(encoding="utf-8")
    assert heading in page and f'lang="{language}"' in page


def test_bad_parameters_are_one_line_errors(synthetic_root):
    with pytest.raises(CountryError, match="'XX'"):
        CountryReport("XX", data_root=synthetic_root)
    with pytest.raises(ParameterError, match="fr"):
        CountryReport("PY", data_root=synthetic_root, language="fr")
    with pytest.raises(ParameterError, match="min_count"):
        CountryReport("PY", data_root=synthetic_root, min_count="abc")
    with pytest.raises(ParameterError, match="min_count"):
        CountryReport("PY", data_root=synthetic_root, min_count=0)


def test_papermill_parameter_of_the_wrong_type_fails_clearly(synthetic_root, repo_root, tmp_path):
    cmd = [sys.executable, "-m", "papermill", str(repo_root / "notebooks" / "country_report.ipynb"),
           str(tmp_path / "out.ipynb"), "-p", "country", "PY", "-p", "data_root", str(synthetic_root),
           "-p", "min_count", "many"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "min_count must be a whole number of at least 1, not 'many'" in proc.stderr + proc.stdout
