"""The capacity-assessment and coverage forms, the framework read from them, and the list of organisations."""

from __future__ import annotations

import doctest
import importlib

import pytest
from pyxform.xls2xform import convert

from research_kit.capacity import get_organisation, load_framework, members, node_organisation, organisations
from research_kit.countries import NODES, countries
from research_kit.errors import ParameterError
from research_kit.forms import load_form, surveys_dir

FORMS = ("capacity_assessment", "coverage_monitoring")


@pytest.mark.parametrize("name", FORMS)
def test_pyxform_converts_the_form_without_warnings_in_three_languages(name):
    warnings: list[str] = []
    result = convert(xlsform=str(surveys_dir() / f"{name}.xlsx"), validate=False, warnings=warnings)
    assert warnings == []
    assert 'lang="Português (pt)"' in result.xform and 'lang="English (en)"' in result.xform
    form = load_form(name)
    assert form.languages == ("es", "en", "pt")
    for f in form.data_fields():
        if f.type not in ("start", "end", "today"):
            assert set(f.labels) == {"es", "en", "pt"}, f.name
    for options in form.choices.values():
        for c in options:
            assert set(c.labels) == {"es", "en", "pt"}, c.name


def test_the_assessment_has_the_eleven_areas_of_the_issue():
    fw = load_framework()
    assert [a.name("en") for a in fw.areas] == [
        "Administrative and financial systems", "Political advocacy", "Communications", "Project management",
        "Monitoring and evaluation", "Governance", "Resource mobilisation", "Networking and alliances",
        "Engagement with government", "Engagement with NGOs and institutions", "Confidentiality and data protection"]
    form = fw.form
    for area in fw.areas:
        assert len(area.items) >= 3
        assert form.field(area.priority_field).is_required
        assert form.field(area.evidence_field).type == "select_multiple"
        for item in area.items:
            assert form.field(item.code).is_required and item.statement("pt")


def test_every_level_of_the_scale_has_a_name_and_a_description():
    fw = load_framework()
    assert fw.levels == (1, 2, 3, 4)
    for lang in ("es", "en", "pt"):
        names = [fw.level_name(lv, lang) for lv in fw.levels]
        assert len(set(names)) == 4
        assert all(len(fw.level_description(lv, lang)) > 20 for lv in fw.levels)
    assert fw.level_name(1, "en") == "Not in place" and fw.level_name(4, "en") == "Fully in place"
    assert fw.rounds[0] == "baseline" and len(fw.rounds) >= 3


def test_organisations_are_17_national_3_nodes_and_the_secretariat():
    orgs = organisations()
    assert [o.kind for o in orgs].count("national") == 17
    assert [o.kind for o in orgs].count("node") == 3 and [o.kind for o in orgs].count("secretariat") == 1
    assert {o.country.alpha_3 for o in orgs if o.country} == {c.alpha_3 for c in countries()}
    for o in orgs:
        if o.kind == "national":
            assert o.node == o.country.node  # node membership comes from research_kit.countries
            for lang in ("es", "en", "pt"):
                assert o.country.name(lang) in o.name(lang)
    assert sum(len(members(n)) for n in NODES) == 17
    assert {node_organisation(n).hosted_by for n in NODES} == {"pry", "ecu", "slv"}


def test_the_form_lists_the_same_organisations_as_the_data_file():
    form = load_form("capacity_assessment")
    choices = form.choice_list("organisation")
    assert [c.name for c in choices] == [o.code for o in organisations()]
    for c in choices:
        org = get_organisation(c.name)
        assert c.labels == dict(org.names)
        assert c.extra.get("kind") == org.kind
        assert (c.extra.get("node") or None) == org.node


def test_organisations_are_found_by_code_or_country_and_unknown_ones_are_named():
    assert get_organisation("PY") is get_organisation("pry") is get_organisation("PRY")
    with pytest.raises(ParameterError, match="Unknown organisation 'brazil'.*pry"):
        get_organisation("brazil")
    with pytest.raises(ParameterError, match="Unknown sub-regional node"):
        members("caribbean")


def test_the_forms_get_their_schema_and_synthetic_data_from_the_common_machinery(tmp_path):
    from research_kit.forms.schema import write_schema_modules
    from research_kit.ingest import validate
    from research_kit.synth.generic import generate_answers

    written = write_schema_modules(list(FORMS), tmp_path)
    assert [p.name for p in written] == ["capacity_assessment.py", "coverage_monitoring.py"]
    for name in FORMS:
        data = generate_answers(name, 12, seed=4)
        result = validate(data, name)
        assert len(result.accepted) == 12, result.errors.head().to_string()


@pytest.mark.parametrize("module", ["research_kit.capacity.organisations", "research_kit.capacity.framework",
                                    "research_kit.capacity.messages"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
