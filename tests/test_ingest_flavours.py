"""The reader gives back the same tidy frame, with the form's names and codes, whatever the export flavour."""

from __future__ import annotations

import csv
import hashlib
import io

import pandas as pd
import pytest

from research_kit.forms import FORMS, load_form
from research_kit.ingest import read_export
from research_kit.synth.flavours import flavour_names, write_flavours

N = 45


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Every form written in every flavour, from the same synthetic answers."""
    out = {}
    for name in FORMS:
        folder = tmp_path_factory.mktemp(name)
        out[name] = (folder, write_flavours(name, folder, n=N, seed=5))
    return out


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["_source", "_row"]).astype(str).reset_index(drop=True)


CASES = [(name, flavour) for name in FORMS for flavour in flavour_names(load_form(name))]


@pytest.mark.parametrize(("name", "flavour"), CASES, ids=[f"{n}-{f}" for n, f in CASES])
def test_every_flavour_reads_to_the_same_tidy_frame(exports, name, flavour):
    folder, paths = exports[name]
    reference = read_export(paths["kobo_csv"], name)
    got = read_export(paths[flavour], name)
    pd.testing.assert_frame_equal(_comparable(got), _comparable(reference))
    assert got.attrs["issues"] == []


@pytest.mark.parametrize("name", FORMS)
def test_the_tidy_frame_holds_the_true_answers(exports, name):
    folder, paths = exports[name]
    form = load_form(name)
    truth = pd.read_csv(folder / "answers.csv", dtype=str, keep_default_na=False)
    got = read_export(paths["odk_central_zip"], name)
    for f in form.level_fields():
        if f.identifying:
            assert f.name not in got.columns
        elif f.type not in ("deviceid",):
            assert got[f.name].tolist() == truth[f.name].tolist(), f.name
    assert got["_uuid"].tolist() == truth["_uuid"].tolist()


@pytest.mark.parametrize("flavour", ["kobo_xlsx", "odk_central_csv", "odk_central_zip"])
def test_repeats_read_from_their_sheet_or_file_and_link_to_their_submission(exports, flavour):
    folder, paths = exports["rights_violation"]
    truth = pd.read_csv(folder / "answers-incidents.csv", dtype=str, keep_default_na=False)
    rows = read_export(paths[flavour], "rights_violation", repeat="incidents")
    assert len(rows) == len(truth) > N // 2
    for column in ("incident_date", "place_type", "violation_type", "perpetrator", "_parent_uuid", "_parent_index"):
        assert rows[column].tolist() == truth[column].tolist(), column
    for identifying in ("incident_gps", "violation_other", "perpetrator_other"):
        assert identifying not in rows.columns


def test_a_kobo_csv_has_no_repeats_and_says_what_to_do(exports):
    folder, paths = exports["rights_violation"]
    with pytest.raises(Exception, match="exports repeats only in XLSX"):
        read_export(paths["kobo_csv"], "rights_violation", repeat="incidents")


def test_label_headers_with_line_breaks_keep_true_line_numbers(exports):
    folder, paths = exports["community_survey"]
    path = paths["kobo_labels_es"]
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""), delimiter=";")
    next(reader)
    header_end = reader.line_num
    assert header_end > 1  # the consent question's label holds line breaks
    got = read_export(path, "community_survey")
    assert got["_row"].tolist()[:2] == [header_end + 1, header_end + 2]


def test_several_files_combine_with_a_source_column(exports):
    folder, paths = exports["health_services"]
    both = read_export([paths["kobo_csv"], paths["kobo_xlsx"]], "health_services")
    assert len(both) == 2 * N
    assert both["_source"].unique().tolist() == ["health_services.csv", "health_services.xlsx"]
    assert both["_row"].tolist()[:2] == [2, 3] and both["_row"].iloc[N] == 2


def test_files_with_the_same_name_are_told_apart_by_their_folder(exports, tmp_path):
    folder, paths = exports["health_services"]
    (tmp_path / "wave1").mkdir()
    (tmp_path / "wave2").mkdir()
    for wave in ("wave1", "wave2"):
        (tmp_path / wave / "export.csv").write_bytes(paths["kobo_csv"].read_bytes())
    both = read_export([tmp_path / "wave1" / "export.csv", tmp_path / "wave2" / "export.csv"], "health_services")
    assert both["_source"].unique().tolist() == ["wave1/export.csv", "wave2/export.csv"]


@pytest.mark.parametrize("flavour", ["kobo_csv", "kobo_xlsx", "odk_central_zip", "excel_csv"])
def test_input_files_are_never_modified(exports, flavour):
    folder, paths = exports["rights_violation"]
    before = hashlib.sha256(paths[flavour].read_bytes()).hexdigest()
    read_export(paths[flavour], "rights_violation")
    assert hashlib.sha256(paths[flavour].read_bytes()).hexdigest() == before


def test_the_country_exports_read_as_before(synthetic_root, form):
    """The reports' own data (generate_country) still read to the frame they always did."""
    path = synthetic_root / "PRY" / "community_survey.csv"
    data = read_export(path, form)
    raw = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    assert len(data) == len(raw)
    assert data["age"].tolist() == raw["demographics/age"].str.strip().tolist()
    assert data["_uuid"].tolist() == raw["_uuid"].tolist()
