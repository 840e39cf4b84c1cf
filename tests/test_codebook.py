"""Codebooks in es / en / pt: question, type, codes and labels, skip logic in plain words."""

from __future__ import annotations

import re

import openpyxl
import pytest
from typer.testing import CliRunner

from research_kit.cli import app
from research_kit.errors import ParameterError
from research_kit.forms import FORMS, load_form
from research_kit.forms.codebook import codebook_table, describe, write_codebook


@pytest.mark.parametrize("name", FORMS)
def test_html_and_xlsx_in_three_languages(name, tmp_path):
    written = write_codebook(name, tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{name}_codebook_{lang}.{ext}" for lang in ("es", "en", "pt")
                                                     for ext in ("html", "xlsx"))
    form = load_form(name)
    for lang in ("es", "en", "pt"):
        page = (tmp_path / f"{name}_codebook_{lang}.html").read_text(encoding="utf-8")
        assert f"lang='{lang}'" in page and "<script" not in page and not re.search(r"https?://", page)
        book = openpyxl.load_workbook(tmp_path / f"{name}_codebook_{lang}.xlsx", read_only=True)
        assert book.sheetnames == ["codebook", "choices"]
        rows = list(book["codebook"].iter_rows(values_only=True))
        assert len(rows) == 1 + len(form.fields)
        book.close()


def test_codes_labels_and_types_in_the_users_language():
    table = codebook_table(load_form("community_survey"), "pt").set_index("Coluna")
    assert table.loc["education", "Tipo"] == "Escolha única"
    assert "secondary = Ensino médio" in table.loc["education", "Códigos e rótulos"]
    assert table.loc["age", "Obrigatória"] == "Sim"
    assert "substituído por um pseudônimo" in table.loc["coupon", "Observações"]
    assert "nunca é lido" in table.loc["comments", "Observações"]


def test_skip_logic_in_plain_words_with_the_forms_labels():
    form = load_form("community_survey")
    table = codebook_table(form, "es").set_index("Columna")
    assert table.loc["birth_country", "Salto (cuándo se pregunta)"].endswith(
        "y «¿Usted es de este país o viene de otro país?» es «Vengo de otro país»")
    assert table.loc["country", "Salto (cuándo se pregunta)"] == "Siempre"
    assert describe("${hiv_last_result} != 'positive'", form, "en") == (
        "'What was the result of your most recent HIV test?' is not 'Positive'")
    assert describe("not(selected(${services_3m}, 'none'))", form, "es").startswith("no se cumple que (en «")
    assert describe(". >= 0 and . <= ${age} - 12", form, "en", current="years_sex_work") == (
        "the answer is at least 0 and the answer is at most 'How old are you, in completed years?' − 12")


def test_an_unknown_language_is_refused():
    with pytest.raises(ParameterError, match="must be one of es, en, pt. Got 'fr' instead"):
        codebook_table(load_form("community_survey"), "fr")


def test_the_codebook_command(tmp_path):
    result = CliRunner().invoke(app, ["codebook", "health_services", "--out", str(tmp_path), "--language", "en"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["health_services_codebook_en.html",
                                                          "health_services_codebook_en.xlsx"]
    bad = CliRunner().invoke(app, ["codebook", "nope", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and bad.output.startswith("Error: There is no bundled form called 'nope'")
