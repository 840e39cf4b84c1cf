"""Synthetic capacity assessments and coverage data: seeded, shaped like KoboToolbox exports, valid for their forms."""

from __future__ import annotations

import doctest
import importlib
import json

import pytest

from research_kit.capacity import read_responses
from research_kit.capacity.coverage import read_coverage
from research_kit.ingest import read_export, validate
from research_kit.synth.capacity import generate_capacity


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return generate_capacity(tmp_path_factory.mktemp("a"), seed=21)


def test_the_same_seed_gives_the_same_files(folder, tmp_path):
    again = generate_capacity(tmp_path, seed=21)
    for name in ("capacity_assessment.csv", "coverage_monitoring.csv", "truth.json"):
        assert (folder / name).read_bytes() == (again / name).read_bytes(), name
    other = generate_capacity(tmp_path / "other", seed=22)
    assert (other / "capacity_assessment.csv").read_bytes() != (folder / "capacity_assessment.csv").read_bytes()


@pytest.mark.parametrize("name", ["capacity_assessment", "coverage_monitoring"])
def test_exports_are_shaped_like_kobotoolbox_and_pass_the_forms_schema(folder, name):
    raw = (folder / f"{name}.csv").read_bytes()
    header = raw.split(b"\r\n")[0].decode("utf-8")
    assert header.startswith('"start";"end";"today";') and '"_uuid"' in header and header.endswith('"_index"')
    assert b"\r\n" in raw
    data = read_export(folder / f"{name}.csv", form=name)
    result = validate(data, name)
    assert len(result.quarantine) == 0, result.errors.head().to_string()


def test_one_response_per_organisation_per_round_and_the_anonymous_flag(folder):
    responses = read_responses(folder)
    assert len(responses) == 42
    assert responses.groupby(["organisation", "round"]).size().max() == 1
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    asked = set(responses.loc[responses["anonymous_regional"] == "yes", "organisation"])
    assert asked == set(truth["anonymous"]) and len(asked) == 2
    assert "comments" not in responses.columns  # free text is dropped when the export is read


def test_coverage_data_cover_every_country_for_two_years(folder):
    data = read_coverage(folder)
    assert data["period"].nunique() == 24 and data["country"].nunique() == 17
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))["coverage"]
    row = data.iloc[100]
    assert abs(row["reached"] / row["population_size"] - truth[f"{row['site']}|{row['period']}"]) < 0.2


def test_docstring_examples_run():
    result = doctest.testmod(importlib.import_module("research_kit.synth.capacity"), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
