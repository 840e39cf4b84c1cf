"""data_schema/: pandera schemas generated from the forms, reproducible, with named checks from the form."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pandera.pandas as pa
import pytest

from research_kit.forms import FORMS, load_form
from research_kit.forms.schema import (build_schema, load_extras, main, module_text, rules, schema_dir, schema_spec,
                                       write_schema_modules)
from research_kit.synth.generic import generate_answers


@pytest.mark.parametrize("name", FORMS)
def test_regenerating_the_schema_modules_changes_nothing(name, tmp_path):
    committed = schema_dir() / f"{name}.py"
    assert committed.is_file(), f"{committed} is missing: run python -m research_kit.forms.schema"
    (fresh,) = write_schema_modules([name], tmp_path)
    assert fresh.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8"), (
        f"{committed} is out of date with surveys/{name}.xlsx: run python -m research_kit.forms.schema")


def test_the_check_command_says_the_modules_are_up_to_date(capsys):
    assert main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_the_check_command_notices_a_stale_module(tmp_path, capsys):
    write_schema_modules(["health_services"], tmp_path)
    stale = tmp_path / "health_services.py"
    stale.write_text(stale.read_text(encoding="utf-8").replace("'integer'", "'decimal'", 1), encoding="utf-8")
    assert main(["health_services", "--out", str(tmp_path), "--check"]) == 1
    assert "Out of date" in capsys.readouterr().err


def test_module_text_is_deterministic():
    form = load_form("community_survey")
    assert module_text(form) == module_text(form)


def test_spec_holds_types_codes_ranges_required_and_skip_logic():
    spec = schema_spec(load_form("community_survey"))
    cols = spec["columns"]
    assert cols["age"]["type"] == "integer" and cols["age"]["range"] == [18, 90] and cols["age"]["required"] is True
    assert cols["education"]["choices"] == ["none", "primary", "secondary", "technical", "university"]
    assert cols["services_3m"]["type"] == "select_multiple"
    assert cols["birth_country"]["relevant"] == "(${consent} = 'yes') and (${nationality} = 'foreign')"
    assert cols["city"]["choice_filter"]["allowed"]["asuncion"] == ["pry"]
    assert cols["age"]["messages"]["constraint"]["pt"] == "A idade deve estar entre 18 e 90 anos."
    assert "comments" not in cols and "comments" in spec["dropped"]  # identifying fields never reach the data
    assert spec["meta"]["_uuid"]["unique"] == "first"


def test_repeat_levels_have_their_own_spec():
    spec = schema_spec(load_form("rights_violation"), "incidents")
    assert spec["level"] == "incidents"
    assert spec["columns"]["incident_date"]["constraint"] == ". <= today() and . <= ${report_date}"
    assert "_parent_uuid" in spec["meta"]


def test_checks_are_named_as_the_form_writes_the_rule():
    schema = build_schema(schema_spec(load_form("community_survey")), load_extras(load_form("community_survey")))
    names = {c.name for c in schema.columns["age"].checks}
    assert {"type: integer", "required", "constraint: . >= 18 and . <= 90"} <= names
    assert "reference: recruiter_coupon → coupon" in {c.name for c in schema.columns["recruiter_coupon"].checks}


def test_hand_written_checks_live_beside_the_generated_ones():
    extras = load_extras(load_form("community_survey"))
    assert extras.source == schema_dir() / "community_survey_checks.py"
    assert extras.pseudonymised == ("coupon", "recruiter_coupon")
    assert extras.references == {"recruiter_coupon": "coupon"}
    assert any(r.kind == "rule" for r in rules(schema_spec(load_form("community_survey")), extras))


@pytest.mark.parametrize("name", FORMS)
def test_generated_module_validates_the_forms_synthetic_data(name):
    spec = importlib.util.spec_from_file_location(f"data_schema.{name}", schema_dir() / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data = generate_answers(name, 80, seed=11)
    module.schema("submission").validate(data, lazy=True)  # raises SchemaErrors on any failure
    bad = data.copy()
    form = load_form(name)
    # A number question with an upper bound, answered in some row: push it past the bound.
    column, high = next((f.name, col["range"][1]) for f in form.level_fields()
                        if (col := schema_spec(form)["columns"].get(f.name)) and col["range"] and col["range"][1]
                        is not None and (data[f.name] != "").any())
    answered = bad.index[bad[column] != ""][0]
    bad.loc[answered, column] = str(int(high) + 1)
    with pytest.raises(pa.errors.SchemaErrors) as info:
        module.schema("submission").validate(bad, lazy=True)
    cases = info.value.failure_cases
    assert cases["check"].str.startswith("constraint:").any()
    assert set(cases.loc[cases["column"] == column, "index"]) == {answered}


@pytest.mark.parametrize("name", FORMS)
def test_the_generated_module_holds_exactly_the_forms_spec(name):
    from research_kit.forms.schema import schema_specs

    spec = importlib.util.spec_from_file_location(f"data_schema.{name}", schema_dir() / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.SPECS == schema_specs(load_form(name))
    assert module.FORM_VERSION == load_form(name).version
