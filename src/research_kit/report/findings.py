"""Findings in plain words, written from protected tables only.

Each sentence reads a :class:`~research_kit.disclosure.ProtectedTable`: a suppressed row
(``primary`` or ``secondary``) has no value there, so it can only be said to be withheld;
a ``caution`` row is said to rest on few respondents; age groups are compared only when
their 95% confidence intervals do not overlap.

Examples
--------
>>> share_phrase(0.62, "en")
'About 6 in 10 women'
>>> share_phrase(0.62, "es")
'Alrededor de 6 de cada 10 mujeres'
>>> share_phrase(0.97, "pt")
'Quase todas as mulheres'
"""

from __future__ import annotations

import math
from typing import Mapping

import pandas as pd

from research_kit.disclosure import ProtectedTable
from research_kit.errors import DisclosureError
from research_kit.i18n import format_number, format_percent, translator
from research_kit.indicators import Indicator

__all__ = ["share_phrase", "interval_text", "indicator_sentence", "age_sentence", "domain_findings"]

_SHOWN = ("published", "caution")


def _value(x) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def share_phrase(p: float, language: str = "es") -> str:
    """A proportion as natural frequencies: "About 6 in 10 women", "Few women", "Almost all women".

    Examples
    --------
    >>> [share_phrase(p, "en") for p in (0.02, 0.05, 0.5, 0.949, 0.95)]
    ['Few women', 'About 1 in 10 women', 'About 5 in 10 women', 'About 9 in 10 women', 'Almost all women']
    """
    _ = translator(language)
    if p < 0.05:
        return _("Few women")
    if p >= 0.95:
        return _("Almost all women")
    k = max(1, min(9, math.floor(p * 10 + 0.5)))
    return _("About {k} in 10 women").format(k=k)


def interval_text(row: Mapping, locale: str, language: str = "es") -> str:
    """"62%, 95% CI 55–69%" in the locale's style (whole percentages).

    Examples
    --------
    >>> interval_text({"estimate": 0.62, "ci_low": 0.551, "ci_high": 0.69}, "en", "en")
    '62%, 95% CI 55–69%'
    >>> interval_text({"estimate": 0.62, "ci_low": 0.551, "ci_high": 0.69}, "es_PY", "es")
    '62%, IC 95 %: 55–69%'
    """
    _ = translator(language)
    return _("{pct}, 95% CI {low}–{high}").format(
        pct=format_percent(row["estimate"], locale, digits=0), low=format_number(round(row["ci_low"] * 100), locale),
        high=format_percent(row["ci_high"], locale, digits=0))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def indicator_sentence(indicator: Indicator, row: Mapping, *, language: str = "es", locale: str | None = None,
                       caution_denominator: int = 50) -> str:
    """One sentence about one indicator's overall figure (a row of a protected table).

    Examples
    --------
    >>> from research_kit.indicators import get
    >>> ind = get("testing_12m")[0]
    >>> indicator_sentence(ind, {"estimate": 0.62, "ci_low": 0.55, "ci_high": 0.69, "status": "published"},
    ...                    language="en", locale="en")
    'About 6 in 10 women (62%, 95% CI 55–69%) had an HIV test in the last 12 months and know the result.'
    >>> indicator_sentence(ind, {"estimate": float("nan"), "status": "primary"}, language="en", locale="en")
    'HIV test in the last 12 months and knows the result: not shown, because too few women answered.'
    """
    _ = translator(language)
    locale = locale or language
    status = row.get("status")
    estimate = _value(row.get("estimate"))
    if status not in _SHOWN or estimate is None or _value(row.get("ci_low")) is None:
        return _("{name}: not shown, because too few women answered.").format(name=indicator.name(language))
    what = _lower_first(indicator.numerator_text(language))
    ci = interval_text(row, locale, language)
    if indicator.subgroup:
        share = _lower_first(share_phrase(estimate, language))
        text = _("Among {population}, {share} ({ci}) {what}.").format(
            population=_lower_first(indicator.denominator_text(language)), share=share, ci=ci, what=what)
    else:
        text = _("{share} ({ci}) {what}.").format(share=share_phrase(estimate, language), ci=ci, what=what)
    if status == "caution":
        text += " " + _("This figure rests on fewer than {n} women: read it with caution.").format(n=caution_denominator)
    return text


def age_sentence(indicator: Indicator, young: Mapping | None, older: Mapping | None, *, language: str = "es",
                 locale: str | None = None) -> str | None:
    """A comparison of women under 25 with women 25 and older, only when their intervals do not overlap.

    Examples
    --------
    >>> from research_kit.indicators import get
    >>> ind = get("org_member")[0]
    >>> y = {"estimate": 0.2, "ci_low": 0.12, "ci_high": 0.3, "status": "published"}
    >>> o = {"estimate": 0.5, "ci_low": 0.42, "ci_high": 0.58, "status": "published"}
    >>> age_sentence(ind, y, o, language="en", locale="en")
    'It was less common among women under 25 (20%) than among women 25 and older (50%).'
    >>> age_sentence(ind, y, {**o, "ci_low": 0.29}, language="en", locale="en") is None  # intervals overlap
    True
    >>> age_sentence(ind, y, {**o, "status": "secondary"}, language="en", locale="en") is None
    True
    """
    if young is None or older is None or young.get("status") not in _SHOWN or older.get("status") not in _SHOWN:
        return None
    vals = [_value(r.get(k)) for r in (young, older) for k in ("estimate", "ci_low", "ci_high")]
    if any(v is None for v in vals):
        return None
    ey, ly, hy, eo, lo, ho = vals
    if not (hy < lo or ho < ly):
        return None
    _ = translator(language)
    locale = locale or language
    a, b = format_percent(ey, locale, digits=0), format_percent(eo, locale, digits=0)
    if ey < eo:
        return _("It was less common among women under 25 ({a}) than among women 25 and older ({b}).").format(a=a, b=b)
    return _("It was more common among women under 25 ({a}) than among women 25 and older ({b}).").format(a=a, b=b)


def domain_findings(overall: ProtectedTable, by_age: ProtectedTable | None = None, *, language: str = "es",
                    locale: str | None = None) -> list[str]:
    """Sentences for every indicator of a protected overall table, with age comparisons where they hold.

    Parameters
    ----------
    overall : ProtectedTable
        Estimates by ``indicator``.
    by_age : ProtectedTable, optional
        Estimates by ``indicator`` and ``age_group`` (codes ``u25`` and ``25plus``).

    Raises
    ------
    DisclosureError
        If a table is not a protected estimate table.

    Examples
    --------
    >>> domain_findings(pd.DataFrame())
    Traceback (most recent call last):
    ...
    research_kit.errors.DisclosureError: Findings are written from protected estimate tables only: pass the estimates through research_kit.disclosure.protect_estimates first.
    """
    from research_kit import indicators

    for t in (overall, by_age):
        if t is not None and (not isinstance(t, ProtectedTable) or t.kind != "estimate"):
            raise DisclosureError("Findings are written from protected estimate tables only: pass the estimates "
                                  "through research_kit.disclosure.protect_estimates first.")
    locale = locale or overall.meta.get("locale") or language
    caution = overall.policy.caution_denominator
    ages: dict[tuple[str, str], Mapping] = {}
    if by_age is not None:
        for r in by_age.data.to_dict("records"):
            ages[(r["indicator"], str(r["age_group"]))] = r
    out = []
    for r in overall.data.to_dict("records"):
        ind = indicators.get(r["indicator"])[0]
        text = indicator_sentence(ind, r, language=language, locale=locale, caution_denominator=caution)
        if r.get("status") in _SHOWN:
            extra = age_sentence(ind, ages.get((ind.id, "u25")), ages.get((ind.id, "25plus")), language=language,
                                 locale=locale)
            if extra:
                text += " " + extra
        out.append(text)
    return out

