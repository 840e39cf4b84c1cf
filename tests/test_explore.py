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


# ---- cross-tables ----------------------------------------------------------------------------

import re  # noqa: E402

import numpy as np  # noqa: E402
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import research_kit as rk  # noqa: E402
from research_kit.disclosure import DisclosurePolicy, audit_published, protect_crosstab, write_table  # noqa: E402
from research_kit.errors import ResearchKitError  # noqa: E402
from research_kit.report.tables import notebook_html  # noqa: E402


def test_a_small_cell_of_a_cross_table_takes_three_others_with_it():
    # 2×2 with margins: the 3 is primary; its row, its column and the opposite corner must go too,
    # or a published total minus a published cell gives the 3 back.
    f = pd.DataFrame({"city": ["a", "a", "b", "b"], "venue": ["bar", "street", "bar", "street"], "count": [30, 12, 3, 20]})
    t = protect_crosstab(f, DisclosurePolicy(), rows="city", columns="venue")
    status = t.data.set_index(["city", "venue"])["status"]
    assert status[("b", "bar")] == "primary"
    assert {status[("a", "bar")], status[("a", "street")], status[("b", "street")]} == {"secondary"}
    assert (status.xs("total", level="venue") == "published").all() and (status.xs("total", level="city") == "published").all()
    assert t.data.loc[t.data["status"] != "published", "count"].isna().all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(2, 4), st.integers(2, 4), st.data())
def test_random_cross_tables_publish_nothing_small_and_pass_the_public_audit(tmp_path_factory, n_rows, n_cols, data):
    values = data.draw(st.lists(st.integers(0, 40), min_size=n_rows * n_cols, max_size=n_rows * n_cols))
    f = pd.DataFrame({"r": np.repeat([f"r{i}" for i in range(n_rows)], n_cols),
                      "c": np.tile([f"c{j}" for j in range(n_cols)], n_rows), "count": values})
    policy = DisclosurePolicy()
    t = protect_crosstab(f, policy, rows="r", columns="c")
    truth = f.pivot(index="r", columns="c", values="count")
    shown = t.data[t.data["status"] == "published"]
    assert (shown["count"] >= policy.min_count).all()
    for row in shown.itertuples():  # published cells and margins are the true sums
        rs = truth.index if row.r == "total" else [row.r]
        cs = truth.columns if row.c == "total" else [row.c]
        assert row.count == truth.loc[rs, cs].to_numpy().sum()
    folder = tmp_path_factory.mktemp("xt")
    write_table(t, folder, "venue_by_city")
    audit = audit_published(folder)
    assert audit.ok, audit


def test_a_cross_table_renders_across_with_totals_last_and_hidden_cells_marked():
    f = pd.DataFrame({"city": ["a", "a", "b", "b"], "venue": ["bar", "street", "bar", "street"], "count": [30, 12, 3, 20]})
    t = protect_crosstab(f, DisclosurePolicy(), rows="city", columns="venue")
    page = notebook_html(t)
    assert page.count("<tr") == 2 + 3  # two header rows, rows a, b and the total
    assert page.index(">bar<") < page.index(">street<") < page.index(">Total<")
    counts = sorted(int(x) for x in re.findall(r'data-count="(\d+)"', page))
    assert counts == [23, 32, 33, 42, 65]  # only the margins: 3, 12, 20 and 30 never appear
    assert page.count('class="rk-count rk-suppressed') == 4


def test_explore_is_callable_on_a_frame_and_its_form(study):
    ex = rk.explore(study.respondents, study.form, language="en", country="PY")
    t = ex.crosstab("venue_type", "age_group")
    assert t.dimensions == ("venue_type", "age_group") and t.kind == "count"
    assert (t.data.query("status == 'published'")["count"] >= 5).all()
    page = t._repr_html_()
    assert "Street" in page and "Under 25" in page and "Main workplace" in page
    whole = t.data.query("venue_type == 'total' and age_group == 'total'")["count"].item()
    assert whole == study.respondents[["venue_type", "age"]].notna().all(axis=1).sum()


def test_crosstab_of_a_study_in_spanish(study):
    t = explore.crosstab(study, "nationality", "years_sw_group", min_count=5)
    page = t._repr_html_()
    assert "Menos de 2 años" in page and "Total" in page
    hidden = t.data["status"].isin(["primary", "secondary"])
    assert t.data.loc[hidden, "count"].isna().all()


def test_an_exploration_summary_hides_questions_few_answered_or_few_skipped(study):
    resp = study.respondents.copy()
    resp.loc[resp.index[3:], "prep_use"] = None  # only 3 answered
    ex = rk.explore(resp, study.form, language="es")
    page = ex._repr_html_()
    row = page[page.index("<code>prep_use</code>"):]
    assert row[:row.index("</tr>")].endswith("\u2014</td>")
    row = page[page.index("<code>venue_type</code>"):]
    assert f"{len(resp):,}".replace(",", "\u202f") in row[:row.index("</tr>")]
    resp.loc[resp.index[:2], "venue_type"] = None  # 2 did not answer: n minus the answered would show them
    page = rk.explore(resp, study.form)._repr_html_()
    row = page[page.index("<code>venue_type</code>"):]
    assert row[:row.index("</tr>")].endswith("\u2014</td>")


@pytest.mark.parametrize(("rows", "columns", "language", "words"), [
    ("services_3m", "city", "es", "varias respuestas"),
    ("nope", "city", "en", "There is no column 'nope'"),
    ("age", "city", "pt", "não é uma pergunta com opções"),
    ("city", "city", "es", "dos preguntas distintas"),
])
def test_cross_table_mistakes_say_what_to_do_in_the_chosen_language(study, rows, columns, language, words):
    ex = rk.explore(study, language=language)
    with pytest.raises(ResearchKitError, match=words):
        ex.crosstab(rows, columns)


def test_explore_needs_a_frame_and_a_form(study):
    with pytest.raises(ResearchKitError, match="form"):
        rk.explore(study.respondents)
    with pytest.raises(ResearchKitError, match="DataFrame"):
        rk.explore([1, 2], study.form)


def test_showing_a_study_in_a_notebook_never_shows_its_rows(study):
    shown = study._repr_html_() + repr(study)
    assert "Paraguay" in shown and str(len(study.respondents)) in shown
    coupons = study.data["coupon"].dropna().astype(str)
    assert not any(c in shown for c in coupons)  # no respondent id
    assert "DataFrame" not in shown and "Field(" not in shown
