"""The organisations that take the capacity assessment: 17 national organisations, 3 nodes, the Secretariat.

The list is data (``research_kit/capacity/organisations.csv``): one row per organisation with
its code (the choice name in the assessment form), its kind (``national``, ``node`` or
``secretariat``), its country (national organisations), its names in Spanish, English and
Portuguese, and ``anonymous`` — ``yes`` when the organisation has asked that its results never
appear under its name in node or regional outputs. National organisations are named by their
country ("Organización nacional de Paraguay") until the network records their own names; their
node comes from :mod:`research_kit.countries`, never from this file, so the two cannot disagree.
A node row says which national organisation hosts it (``hosted_by``), as the network's
agreements record (Southern Cone: Paraguay; Andean region: Ecuador; Central America and the
Caribbean: El Salvador).

Examples
--------
>>> org = get_organisation("PY")
>>> org.code, org.kind, org.node, org.name("pt")
('pry', 'national', 'southern_cone', 'Organização nacional do Paraguai')
>>> [o.code for o in members("andean")]
['bol', 'col', 'ecu', 'per']
>>> get_organisation("node_andean").name("en")
'Andean region node'
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Mapping

from research_kit.countries import NODES, Country, get_country, node_name
from research_kit.errors import CountryError, ParameterError
from research_kit.i18n import check_language

__all__ = ["Organisation", "organisations", "get_organisation", "members", "node_organisation", "KINDS"]

#: Kinds of organisation, in the order reports list them.
KINDS: tuple[str, ...] = ("national", "node", "secretariat")


@dataclass(frozen=True)
class Organisation:
    """One organisation of the network.

    Attributes
    ----------
    code : str
        Its code: the choice name in the assessment form (``pry``, ``node_andean``, ``secretariat``).
    kind : str
        ``national``, ``node`` or ``secretariat``.
    country : Country or None
        The country of a national organisation.
    node : str or None
        The sub-regional node it belongs to (a node: the node it is); ``None`` for the Secretariat.
    hosted_by : str or None
        For a node, the code of the national organisation that hosts it.
    anonymous : bool
        The organisation asked never to be named in node or regional outputs.
    names : mapping
        Name by language code.
    """

    code: str
    kind: str
    country: Country | None = None
    node: str | None = None
    hosted_by: str | None = None
    anonymous: bool = False
    names: Mapping[str, str] = field(default_factory=dict)

    def name(self, language: str = "es") -> str:
        """The organisation's name in ``language`` (``es``, ``en`` or ``pt``)."""
        return self.names[check_language(language)]

    def node_name(self, language: str = "es") -> str:
        """Name of its sub-regional node ('' for the Secretariat)."""
        return node_name(self.node, language) if self.node else ""

    def locale(self, language: str = "es") -> str:
        """Babel locale for numbers in its reports: its country's, else the language's."""
        if self.country is not None:
            return self.country.locale(language)
        return {"es": "es_AR", "en": "en", "pt": "pt_BR"}[check_language(language)]

    def identifiers(self) -> tuple[str, ...]:
        """Every string that names it: its code, names in three languages, and its country's names and codes.

        Used to check that an anonymous organisation appears nowhere in a regional output.
        """
        out = [self.code, *self.names.values()]
        if self.country is not None:
            out += [self.country.alpha_3, *(self.country.name(lang) for lang in ("es", "en", "pt"))]
        return tuple(dict.fromkeys(out))

    def __str__(self) -> str:
        return f"{self.name('es')} ({self.code})"


def _yes(value: str) -> bool:
    return str(value).strip().lower() in ("yes", "sí", "si", "true", "1")


@cache
def organisations() -> tuple[Organisation, ...]:
    """The 21 organisations, in the order of ``organisations.csv`` (national, nodes, Secretariat).

    Examples
    --------
    >>> orgs = organisations()
    >>> len(orgs), sum(o.kind == "national" for o in orgs)
    (21, 17)
    """
    text = resources.files("research_kit.capacity").joinpath("organisations.csv").read_text(encoding="utf-8")
    out = []
    for row in csv.DictReader(text.splitlines()):
        kind = row["kind"]
        if kind not in KINDS:  # pragma: no cover - guards a hand edit of the data file
            raise ParameterError(f"organisations.csv: kind {kind!r} of {row['code']!r} is not one of {', '.join(KINDS)}.")
        country = get_country(row["country"]) if row["country"] else None
        if kind == "national":
            node = country.node  # from countries.csv: one source of node membership
        else:
            node = row["node"] or None
            if kind == "node" and node not in NODES:  # pragma: no cover - guards a hand edit
                raise ParameterError(f"organisations.csv: node {node!r} of {row['code']!r} is not one of {', '.join(NODES)}.")
        out.append(Organisation(code=row["code"], kind=kind, country=country, node=node,
                                hosted_by=row["hosted_by"] or None, anonymous=_yes(row["anonymous"]),
                                names={"es": row["name_es"], "en": row["name_en"], "pt": row["name_pt"]}))
    return tuple(out)


@cache
def _index() -> dict[str, Organisation]:
    index: dict[str, Organisation] = {}
    for o in organisations():
        index[o.code.lower()] = o
        if o.country is not None:
            index[o.country.alpha_2.lower()] = o
            index[o.country.alpha_3.lower()] = o
    return index


def get_organisation(code: str | Organisation) -> Organisation:
    """An organisation by its code, or a national organisation by its country's ISO code (any case).

    Raises
    ------
    ParameterError
        If no organisation has that code; the message lists the codes.

    Examples
    --------
    >>> get_organisation("secretariat").kind
    'secretariat'
    >>> get_organisation("xx")
    Traceback (most recent call last):
    ...
    research_kit.errors.ParameterError: Unknown organisation 'xx'. Use the code of one of the 21 organisations: arg, blz, bol, chl, col, cri, dom, ecu, slv, gtm, hnd, mex, nic, pan, pry, per, ury, node_southern_cone, node_andean, node_central_america_caribbean, secretariat (or a national organisation's ISO country code).
    """
    if isinstance(code, Organisation):
        return code
    if not isinstance(code, str):
        raise ParameterError(f"An organisation must be given by its code, such as 'pry' or 'secretariat', not {code!r}.")
    try:
        return _index()[code.strip().lower()]
    except KeyError:
        codes = ", ".join(o.code for o in organisations())
        raise ParameterError(f"Unknown organisation {code!r}. Use the code of one of the {len(organisations())} "
                             f"organisations: {codes} (or a national organisation's ISO country code).") from None


def _node(node: str) -> str:
    try:
        node_name(node, "es")
    except CountryError as exc:
        raise ParameterError(str(exc)) from None
    return node


def members(node: str) -> tuple[Organisation, ...]:
    """The national organisations of a sub-regional node, in list order."""
    node = _node(node)
    return tuple(o for o in organisations() if o.kind == "national" and o.node == node)


def node_organisation(node: str) -> Organisation:
    """The organisation that is the node itself (its own assessment and plan)."""
    node = _node(node)
    return next(o for o in organisations() if o.kind == "node" and o.node == node)
