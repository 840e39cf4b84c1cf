"""The form model: every form in surveys/ converts with pyxform and reads into the typed model."""

from __future__ import annotations

import doctest
import importlib
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from pyxform.xls2xform import convert

from research_kit.errors import FormError
from research_kit.forms import FORMS, Group, load_form, read_xlsform, surveys_dir
from research_kit.forms.expressions import evaluate

ALL_FORMS = sorted(p.stem for p in surveys_dir().glob("*.xlsx"))


def test_every_form_in_surveys_is_bundled():
    assert set(ALL_FORMS) == set(FORMS) and {"health_services", "rights_violation"} <= set(ALL_FORMS)


@pytest.mark.parametrize("name", ALL_FORMS)
def test_pyxform_converts_every_form_without_warnings(name):
    warnings: list[str] = []
    result = convert(xlsform=str(surveys_dir() / f"{name}.xlsx"), validate=False, warnings=warnings)
    assert warnings == []
    root = ET.fromstring(result.xform)
    langs = {t.get("lang") for t in root.iter("{http://www.w3.org/2002/xforms}translation")}
    assert langs == {"Español (es)", "English (en)", "Português (pt)"}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("xls2xform") is None or shutil.which("java") is None,
                    reason="xls2xform with ODK Validate needs Java")
@pytest.mark.parametrize("name", ALL_FORMS)
def test_xls2xform_with_odk_validate_accepts_every_form(name, tmp_path):
    out = subprocess.run(["xls2xform", str(surveys_dir() / f"{name}.xlsx"), str(tmp_path / f"{name}.xml")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Conversion complete" in out.stdout + out.stderr
    assert "Warning" not in out.stdout + out.stderr


@pytest.mark.parametrize("name", ALL_FORMS)
def test_every_question_has_labels_in_three_languages(name):
    form = load_form(name)
    assert form.languages == ("es", "en", "pt")
    assert form.language_names == {"es": "Español (es)", "en": "English (en)", "pt": "Português (pt)"}
    for f in form.data_fields():
        if f.type in ("start", "end", "today", "deviceid", "calculate"):
            continue
        assert set(f.labels) == {"es", "en", "pt"}, f.name
    for options in form.choices.values():
        for c in options:
            assert set(c.labels) == {"es", "en", "pt"}, c.name


def test_groups_and_repeats_are_in_the_model():
    form = load_form("rights_violation")
    assert form.repeats == ("incidents",)
    incidents = form.group("incidents")
    assert isinstance(incidents, Group) and incidents.repeat and incidents.relevant == "${consent_record} = 'yes'"
    assert incidents.label("pt") == "Ocorrências de violência"
    assert [f.name for f in form.level_fields("incidents")] == [
        "incident_date", "place_type", "incident_gps", "violation_type", "violation_other", "perpetrator",
        "perpetrator_other"]
    assert all(f.repeat is None for f in form.level_fields())
    with pytest.raises(FormError, match="no repeat 'cases'"):
        form.level_fields("cases")


def test_types_constraints_required_messages_hints_and_filters_are_read():
    form = load_form("health_services")
    assert form.field("visit_date").type == "date"
    assert form.field("test_fee_usd").type == "decimal"
    assert form.field("discrimination").type == "select_multiple"
    assert form.field("test_fcv").type == "calculate" and form.field("test_fcv").calculation.startswith("if(")
    assert form.field("city").choice_filter == "country=${country}"
    assert form.field("closes_at").constraint == ". >= 1 and . <= 24 and . > ${opens_at}"
    assert form.field("visit_date").required_messages["en"] == "This answer is required."
    assert form.field("method").hint("es").startswith("Visita:")
    assert form.field("notes").appearance == "multiline"
    assert form.field("wait_minutes").group_relevant == ("${method} = 'mystery_client'",)


def test_direct_identifiers_are_flagged():
    form = load_form("rights_violation")
    flagged = {f.name for f in form.data_fields() if f.identifying}
    assert {"victim_name", "victim_phone", "incident_gps", "documenter_id", "violation_other"} <= flagged
    assert not form.field("case_code").identifying  # a respondent id: pseudonymised, not dropped


def test_a_file_that_is_not_a_form_fails_clearly(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a workbook")
    with pytest.raises(FormError, match="bad.xlsx"):
        read_xlsform(bad)


def test_date_functions_of_expressions():
    df = pd.DataFrame({"d": ["2020-05-01", "2999-01-01", "", "2019-12-31"], "r": ["2020-06-01"] * 4})
    assert evaluate(". <= today()", df, current="d").tolist() == [True, False, False, True]
    assert evaluate(". >= date('2020-01-01') and . <= ${r}", df, current="d").tolist() == [True, False, False, False]


@pytest.mark.parametrize("module", ["research_kit.forms.model", "research_kit.forms.schema",
                                    "research_kit.forms.expressions", "research_kit.forms.codebook",
                                    "research_kit.synth.generic", "research_kit.synth.flavours"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
