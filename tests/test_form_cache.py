"""Parsed forms are cached in the process and, when asked, on disk; a changed file is read again."""

import os
import shutil

import pytest

from research_kit.forms import model, surveys_dir
from research_kit.forms.model import FORM_CACHE_ENV, read_xlsform


@pytest.fixture()
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(FORM_CACHE_ENV, str(folder))
    return folder


def test_the_parsed_form_is_kept_on_disk_and_reused(tmp_path, cache_dir, monkeypatch):
    form_file = tmp_path / "form.xlsx"
    shutil.copy(surveys_dir() / "rights_violation.xlsx", form_file)
    first = read_xlsform(form_file)
    assert len(list(cache_dir.glob("form-*.pickle"))) == 1
    assert read_xlsform(form_file) is first  # the same file version: the same object, from memory

    def no_parsing(_path):
        raise AssertionError("the form was parsed again")

    model._read_cached.cache_clear()  # as a new process would start
    monkeypatch.setattr(model, "_parse", no_parsing)
    again = read_xlsform(form_file)
    assert again == first and again.field("incident_date").repeat == "incidents"


def test_a_changed_form_file_is_read_again(tmp_path, cache_dir):
    form_file = tmp_path / "form.xlsx"
    shutil.copy(surveys_dir() / "rights_violation.xlsx", form_file)
    before = read_xlsform(form_file)
    shutil.copy(surveys_dir() / "health_services.xlsx", form_file)
    stat = form_file.stat()
    os.utime(form_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    after = read_xlsform(form_file)
    assert after.form_id != before.form_id
    model._read_cached.cache_clear()
    assert read_xlsform(form_file).form_id == after.form_id  # from the disk cache, under the new content
    assert len(list(cache_dir.glob("form-*.pickle"))) == 2


def test_without_a_cache_folder_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.delenv(FORM_CACHE_ENV, raising=False)
    form_file = tmp_path / "form.xlsx"
    shutil.copy(surveys_dir() / "rights_violation.xlsx", form_file)
    read_xlsform(form_file)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["form.xlsx"]


def test_errors_are_unchanged(tmp_path, cache_dir):
    from research_kit.errors import FormError

    with pytest.raises(FormError, match="does not exist"):
        read_xlsform(tmp_path / "none.xlsx")
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a workbook")
    with pytest.raises(FormError, match="bad.xlsx"):
        read_xlsform(bad)
    assert not list(cache_dir.glob("form-*.pickle"))  # a form that fails is not cached
