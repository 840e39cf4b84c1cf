"""Reading exports: form names and codes whatever the flavour; identifiers never pass; input untouched."""

import hashlib

import pandas as pd
import pytest

from research_kit.errors import DataFileError
from research_kit.ingest import read_export


@pytest.fixture
def export(synthetic_root):
    return synthetic_root / "URY" / "community_survey.csv"


def test_tidy_frame_with_form_names(export, form):
    data = read_export(export, form)
    assert "age" in data.columns and "demographics/age" not in data.columns
    assert "services_3m" in data.columns and not any("/" in c for c in data.columns)
    assert data["_row"].iloc[0] == 2 and data["_source"].iloc[0] == export.name
    assert set(data["country"]) == {"ury"}


def test_identifying_fields_never_reach_the_data(export, form):
    data = read_export(export, form)
    for f in form.data_fields():
        if f.identifying:
            assert f.name not in data.columns


def test_input_file_is_never_modified(export, form):
    before = hashlib.sha256(export.read_bytes()).hexdigest()
    read_export(export, form)
    assert hashlib.sha256(export.read_bytes()).hexdigest() == before


def test_excel_resaved_comma_latin1_and_bom_flavours(export, form, tmp_path):
    reference = read_export(export, form)
    raw = pd.read_csv(export, sep=";", dtype=str, keep_default_na=False)
    comma = tmp_path / "comma_latin1.csv"
    raw.to_csv(comma, sep=",", index=False, encoding="latin-1", errors="replace")
    bom = tmp_path / "bom.csv"
    raw.to_csv(bom, sep=";", index=False, encoding="utf-8-sig")
    odk = tmp_path / "odk.csv"
    raw.rename(columns=lambda c: c.replace("/", "-") if not c.startswith("_") else c).to_csv(odk, index=False)
    for path in (comma, bom, odk):
        got = read_export(path, form)
        pd.testing.assert_frame_equal(got.drop(columns=["_source"]), reference.drop(columns=["_source"]), check_dtype=False)


def test_missing_file_empty_file_and_missing_columns_are_clear(export, form, tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        read_export(tmp_path / "nope.csv", form)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataFileError, match="empty"):
        read_export(empty, form)
    header_only = tmp_path / "header.csv"
    header_only.write_bytes(export.read_bytes().split(b"\r\n")[0] + b"\r\n")
    with pytest.raises(DataFileError, match="no submissions"):
        read_export(header_only, form)
    raw = pd.read_csv(export, sep=";", dtype=str, keep_default_na=False).drop(columns=["demographics/age"])
    cut = tmp_path / "cut.csv"
    raw.to_csv(cut, sep=";", index=False)
    with pytest.raises(DataFileError, match=r"demographics/age"):
        read_export(cut, form)
