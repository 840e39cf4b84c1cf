"""Exploring in a notebook: protected, labelled tables and charts; empty domains are not errors."""

import pandas as pd
import pytest

from research_kit import explore
from research_kit.design import RDSDesign
from research_kit.disclosure import ProtectedTable


@pytest.fixture(scope="module")
def study(synthetic_root):
    return explore.open_study("PY", synthetic_root, create_synthetic=False)


def test_indicators_are_protected_and_labelled(study):
    t = explore.indicators(study, ["testing_12m", "on_art", "prep_use"], by="age_group", language="pt")
    assert isinstance(t, ProtectedTable) and t.dimensions == ("indicator", "age_group")
    assert "n_event" not in t.data.columns
    assert (t.data.loc[t.data["status"] == "primary", "estimate"].isna()).all()
    page = t._repr_html_()
    assert "Teste de HIV nos últimos 12 meses" in page and "Menos de 25" in page
    assert "rk-suppressed" in page  # on_art in a small group is hidden, and marked


def test_counts_hide_small_cells(study):
    t = explore.counts(study, "city", min_count=40)
    shown = t.data[t.data["status"] == "published"]["count"]
    assert (shown >= 40).all()
    assert t.data["status"].isin(["primary", "secondary"]).sum() != 1


def test_chart_shows_itself_as_an_image_with_alt_text(study, tmp_path):
    t = explore.indicators(study, ["testing_12m", "on_art"], language="en")
    chart = explore.chart(t)
    html = chart._repr_html_()
    assert html.startswith("<figure") and "data:image/png;base64," in html and "alt='Bar chart" in html
    chart.save(tmp_path / "c.svg")
    assert (tmp_path / "c.svg").read_text().lstrip().startswith("<?xml")


def test_open_study_without_data_and_without_synthetic_is_a_clear_error(tmp_path):
    from research_kit.errors import DataFileError

    with pytest.raises(DataFileError, match="study.json"):
        explore.open_study("BO", tmp_path, create_synthetic=False)


def test_rds_domain_without_cases_is_a_row_with_n_zero():
    df = pd.DataFrame({"id": [1, 2, 3, 4], "rec": [None, 1, 1, 2], "deg": [5, 6, 7, 8],
                       "g": ["a", "a", "b", "b"], "y": [1.0, 0.0, None, None]})
    out = RDSDesign(df, respondent="id", recruiter="rec", degree="deg").proportion("y", by="g", ci=None)
    b = out[out["g"] == "b"].iloc[0]
    assert b["n"] == 0 and b["n_event"] == 0 and pd.isna(b["estimate"])
    a = out[out["g"] == "a"].iloc[0]
    assert a["n"] == 2 and a["n_event"] == 1
