"""The validator's message catalogue: every message in es / en / pt, each naming file, row, column, value, rule."""

from __future__ import annotations

import doctest
import importlib
import string

import pytest

from research_kit.errors import ParameterError
from research_kit.ingest.messages import LANGUAGES, MESSAGES, UI, check_language, message


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_in_every_language_with_the_same_placeholders(key):
    assert set(MESSAGES[key]) == set(LANGUAGES)
    placeholders = {lang: _fields(" ".join(MESSAGES[key][lang])) for lang in LANGUAGES}
    assert placeholders["es"] == placeholders["en"] == placeholders["pt"], placeholders
    for lang in LANGUAGES:
        problem, action = MESSAGES[key][lang]
        assert problem and action.endswith(".")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_message_names_file_row_column_value_and_rule(language):
    text = message("choices", language, file="w1.csv", row=17, column="education", value="phd",
                   rule="choices: none, primary", choices="none, primary")
    for part in ("w1.csv", "17", "education", "phd", "choices: none, primary"):
        assert part in text


def test_the_summary_words_exist_in_every_language():
    for key, words in UI.items():
        assert set(words) == set(LANGUAGES), key


def test_an_unknown_language_reads_like_every_parameter_error():
    with pytest.raises(ParameterError, match=r"^The 'language' parameter must be one of es, en, pt. Got 'de' instead.$"):
        check_language("de")


@pytest.mark.parametrize("module", ["research_kit.ingest", "research_kit.ingest.reader", "research_kit.ingest.validation",
                                    "research_kit.ingest.protect", "research_kit.ingest.messages",
                                    "research_kit.ingest.columns"])
def test_docstring_examples_run(module, monkeypatch, tmp_path):
    monkeypatch.setenv("RESEARCH_KIT_KEY_FILE", str(tmp_path / "project.key"))
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
