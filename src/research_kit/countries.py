"""The network's 17 countries, their ISO codes, sub-regional nodes and names.

The list of countries, their node and their number locale live in
``research_kit/data/countries.csv``; names in Spanish, English and Portuguese come
from pycountry's ISO 3166 translations, never typed by hand.

Sub-regional nodes. The network has three nodes: Southern Cone (Unidas en la
Esperanza, Paraguay), Andean region (Red de Trabajadoras Sexuales del Ecuador) and
Central America & Caribbean (Orquídeas del Mar, El Salvador). The sources do not say
where Mexico and Belize, which joined in the project's second phase, belong. We put
both in **Central America & Caribbean**: Belize is a Central American and Caribbean
(CARICOM) country, and Mexico's sex-worker organisations work with the
Mesoamerican networks coordinated from El Salvador. The Dominican Republic is the
network's Caribbean member and sits in the same node. Change the ``node`` column of
``countries.csv`` if the network decides otherwise.

Examples
--------
>>> from research_kit.countries import get_country
>>> py = get_country("py")
>>> py.alpha_3, py.node, py.name("pt")
('PRY', 'southern_cone', 'Paraguai')
>>> get_country("DOM").name("es")
'República Dominicana'
"""

from __future__ import annotations

import csv
import gettext
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Iterable

import pycountry

from research_kit.errors import CountryError

__all__ = [
    "LANGUAGES",
    "Country",
    "countries",
    "get_country",
    "parse_countries",
    "node_name",
    "NODES",
]

#: Report languages, Spanish first.
LANGUAGES: tuple[str, ...] = ("es", "en", "pt")

#: The three sub-regional nodes, in the order reports list them.
NODES: tuple[str, ...] = ("southern_cone", "andean", "central_america_caribbean")


@cache
def _translation(language: str) -> gettext.NullTranslations:
    if language == "en":  # ISO 3166 names are written in English; there is no en catalogue.
        return gettext.NullTranslations()
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])


@cache
def _nodes() -> dict[str, dict]:
    text = resources.files("research_kit.data").joinpath("nodes.json").read_text(encoding="utf-8")
    return json.loads(text)


def _check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise CountryError(
            f"Language {language!r} is not available. Choose one of: {', '.join(LANGUAGES)}."
        )
    return language


def node_name(node: str, language: str = "es") -> str:
    """Name of a sub-regional node in a report language.

    Examples
    --------
    >>> node_name("andean", "en")
    'Andean region'
    """
    _check_language(language)
    try:
        return _nodes()[node]["name"][language]
    except KeyError:
        raise CountryError(f"Unknown sub-regional node {node!r}. Choose one of: {', '.join(NODES)}.") from None


@dataclass(frozen=True, slots=True)
class Country:
    """One of the network's countries.

    Attributes
    ----------
    alpha_2, alpha_3 : str
        ISO 3166-1 codes (upper case).
    node : str
        Sub-regional node: ``southern_cone``, ``andean`` or ``central_america_caribbean``.
    locale_es : str
        Babel locale used to format numbers in Spanish for this country (e.g. ``es_PY``).
    """

    alpha_2: str
    alpha_3: str
    node: str
    locale_es: str

    @property
    def _iso(self):
        return pycountry.countries.get(alpha_3=self.alpha_3)

    def name(self, language: str = "es") -> str:
        """Short country name in ``language`` (``es``, ``en`` or ``pt``), from pycountry."""
        _check_language(language)
        iso = self._iso
        # common_name ("Bolivia") rather than the official long form ("Bolivia, Plurinational State of").
        english = getattr(iso, "common_name", None) or iso.name
        return _translation(language).gettext(english)

    def locale(self, language: str = "es") -> str:
        """Babel locale for formatting numbers and dates of this country's report.

        Spanish uses the country's own locale (``es_PY`` writes ``1.234,5``, ``es_DO`` writes
        ``1,234.5``); Portuguese uses ``pt_BR``; English uses ``en`` (``en_BZ`` for Belize).
        """
        _check_language(language)
        if language == "es":
            return self.locale_es
        if language == "pt":
            return "pt_BR"
        return "en_BZ" if self.alpha_3 == "BLZ" else "en"

    def node_name(self, language: str = "es") -> str:
        """Name of this country's sub-regional node in ``language``."""
        return node_name(self.node, language)

    def __str__(self) -> str:
        return f"{self.name('es')} ({self.alpha_3})"


@cache
def countries() -> tuple[Country, ...]:
    """The 17 countries of the network, in the order of ``countries.csv`` (alphabetical in English).

    Examples
    --------
    >>> len(countries())
    17
    >>> [c.alpha_3 for c in countries()][:3]
    ['ARG', 'BLZ', 'BOL']
    """
    text = resources.files("research_kit.data").joinpath("countries.csv").read_text(encoding="utf-8")
    out = []
    for row in csv.DictReader(text.splitlines()):
        iso = pycountry.countries.get(alpha_3=row["alpha_3"])
        if iso is None:  # pragma: no cover - guards a hand edit of the data file
            raise CountryError(f"countries.csv: {row['alpha_3']!r} is not an ISO 3166 alpha-3 code.")
        if row["node"] not in NODES:  # pragma: no cover - guards a hand edit of the data file
            raise CountryError(f"countries.csv: node {row['node']!r} of {row['alpha_3']} is not one of {NODES}.")
        out.append(Country(alpha_2=iso.alpha_2, alpha_3=iso.alpha_3, node=row["node"], locale_es=row["locale_es"]))
    return tuple(out)


@cache
def _by_code() -> dict[str, Country]:
    index: dict[str, Country] = {}
    for c in countries():
        index[c.alpha_2] = c
        index[c.alpha_3] = c
    return index


def get_country(code: str | Country) -> Country:
    """Find a country by ISO 3166 alpha-2 or alpha-3 code, in any case.

    Raises
    ------
    CountryError
        If the code is not one of the network's 17 countries; the message lists the valid codes.

    Examples
    --------
    >>> get_country("bo").alpha_3
    'BOL'
    >>> get_country("Hnd").alpha_2
    'HN'
    """
    if isinstance(code, Country):
        return code
    if not isinstance(code, str):
        raise CountryError(f"A country must be given as an ISO code such as 'PY' or 'PRY', not {code!r}.")
    key = code.strip().upper()
    try:
        return _by_code()[key]
    except KeyError:
        valid = ", ".join(f"{c.alpha_2}/{c.alpha_3}" for c in countries())
        raise CountryError(
            f"Unknown country code {code!r}. Use an ISO code of one of the network's 17 countries: {valid}."
        ) from None


def parse_countries(codes: str | Iterable[str] | None) -> list[Country]:
    """Countries from a comma-separated string or a list of codes; ``None`` or ``"all"`` gives all 17.

    Duplicates are removed, the order given is kept.

    Examples
    --------
    >>> [c.alpha_3 for c in parse_countries("PY, bol,PRY")]
    ['PRY', 'BOL']
    >>> len(parse_countries(None))
    17
    """
    if codes is None or (isinstance(codes, str) and codes.strip().lower() in ("", "all")):
        return list(countries())
    items = codes.split(",") if isinstance(codes, str) else list(codes)
    seen: dict[str, Country] = {}
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        c = get_country(item)
        seen.setdefault(c.alpha_3, c)
    if not seen:
        raise CountryError("No country was given. Use codes such as 'PY,BO' or 'all'.")
    return list(seen.values())
