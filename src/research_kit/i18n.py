"""Report languages: message catalogues and locale-aware number and date formatting.

Messages are written in English in the code, marked with ``_()``, and translated in
gettext catalogues managed with Babel (``research_kit/locale/<lang>/LC_MESSAGES/
research_kit.po``). Question and choice labels are never translated here: they come
from the XLSForm's own label columns. Numbers and dates are formatted with Babel for
the country's locale, because Paraguay writes ``1.234,5`` and the Dominican Republic
``1,234.5`` although both speak Spanish.

Examples
--------
>>> _ = translator("es")
>>> _("Key indicators")
'Indicadores clave'
>>> format_percent(0.4567, "es_PY"), format_percent(0.4567, "es_DO")
('45,7%', '45.7%')
"""

from __future__ import annotations

import datetime as _dt
import re
from functools import cache
from importlib import resources
from typing import Callable

from babel import Locale
from babel.dates import format_date as _format_date
from babel.messages.pofile import read_po
from babel.numbers import parse_pattern

from research_kit.errors import ParameterError

__all__ = ["LANGUAGES", "translator", "catalogue", "format_percent", "format_number", "format_date", "check_language"]

#: Report languages; English is the source language of the messages.
LANGUAGES: tuple[str, ...] = ("es", "en", "pt")
DOMAIN = "research_kit"


def check_language(language: str) -> str:
    """Return ``language`` if it is a report language, else raise a clear error."""
    if language not in LANGUAGES:
        raise ParameterError(
            f"Language {language!r} has no catalogue. Choose one of: {', '.join(LANGUAGES)} (es = español, en = English, pt = português)."
        )
    return language


@cache
def catalogue(language: str):
    """The Babel catalogue of a language (``None`` for English, the source language)."""
    check_language(language)
    if language == "en":
        return None
    ref = resources.files("research_kit").joinpath("locale", language, "LC_MESSAGES", f"{DOMAIN}.po")
    with ref.open("rb") as fh:
        return read_po(fh, locale=language, domain=DOMAIN)


@cache
def _messages(language: str) -> dict[str, str]:
    cat = catalogue(language)
    if cat is None:
        return {}
    return {m.id: m.string for m in cat if m.id and m.string and not m.fuzzy}


def translator(language: str) -> Callable[[str], str]:
    """A ``_()`` function for ``language``; an untranslated message falls back to English.

    Use ``_("...").format(...)`` for messages with values, so the catalogue holds the pattern.
    """
    messages = _messages(check_language(language))
    return lambda message: messages.get(message, message)


@cache
def _percent_pattern(locale: str, digits: int) -> str:
    # The locale's own percent pattern (CLDR: es_PY writes "45,7%", es_DO "45.7%"),
    # with the number of decimals the report uses.
    pattern = Locale.parse(locale).percent_formats[None].pattern
    return re.sub(r"0(?![0-9])", "0" + ("." + "0" * digits if digits else ""), pattern, count=1)


@cache
def _parsed(pattern: str):
    return parse_pattern(pattern)


@cache
def _locale(locale: str) -> Locale:
    return Locale.parse(locale)


def format_percent(value: float, locale: str, digits: int = 1) -> str:
    """A proportion (0–1) as a percentage in the locale's style.

    Examples
    --------
    >>> format_percent(0.4567, "es_PY"), format_percent(0.4567, "en")
    ('45,7%', '45.7%')
    """
    # Patterns and locales parsed once: a report formats a few thousand numbers.
    return _parsed(_percent_pattern(locale, digits)).apply(value, _locale(locale))


def format_number(value: float, locale: str, digits: int = 0) -> str:
    """A number with the locale's grouping and decimal marks.

    Examples
    --------
    >>> format_number(12345, "pt_BR"), format_number(0.5, "en", 2)
    ('12.345', '0.50')
    """
    return _parsed("#,##0" + ("." + "0" * digits if digits else "")).apply(value, _locale(locale))


def format_date(value: _dt.date, locale: str) -> str:
    """A date written out in the locale (e.g. ``24 de noviembre de 2026``)."""
    return _format_date(value, format="long", locale=Locale.parse(locale))
