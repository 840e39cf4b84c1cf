"""Every report message is translated into Spanish and Portuguese; numbers follow the country's locale."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from research_kit.i18n import catalogue, format_percent, translator

SRC = Path(__file__).resolve().parents[1] / "src" / "research_kit"


def _messages() -> set[str]:
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(SRC), method_map=[("**.py", "python")], keywords={"_": None}):
        found.add(message)
    return found


@pytest.mark.parametrize("language", ["es", "pt"])
def test_every_message_in_the_code_is_translated(language):
    messages = _messages()
    assert len(messages) > 30
    cat = catalogue(language)
    missing = sorted(m for m in messages if not (cat.get(m) and cat.get(m).string))
    assert not missing, f"untranslated in {language}: {missing}"


def test_translations_keep_their_placeholders():
    import re

    for language in ("es", "pt"):
        _ = translator(language)
        for message in _messages():
            assert set(re.findall(r"\{\w+\}", _(message))) == set(re.findall(r"\{\w+\}", message)), message


def test_numbers_follow_the_country_locale():
    assert format_percent(0.4567, "es_PY") == "45,7%"
    assert format_percent(0.4567, "es_DO") == "45.7%"
    assert format_percent(0.4567, "pt_BR") == "45,7%"
