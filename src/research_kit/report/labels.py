"""Labels for codes, in the report's language: choice labels from the form, indicator names from the registry."""

from __future__ import annotations

from research_kit.countries import Country
from research_kit.forms import Form
from research_kit.i18n import translator

__all__ = ["choice_labels", "indicator_labels", "age_group_labels", "dimension_labels", "dimension_headers",
           "domain_titles", "grouping_labels"]


def choice_labels(form: Form, field: str, language: str, country: Country | None = None) -> dict[str, str]:
    """Code → label of a select question, in ``language``, from the XLSForm's own label columns.

    A ``choice_filter`` (e.g. cities by country) keeps only the choices of ``country``.

    Examples
    --------
    >>> from research_kit.countries import get_country
    >>> from research_kit.forms import load_form
    >>> choice_labels(load_form("community_survey"), "city", "es", get_country("PY"))["asuncion"]
    'Asunción'
    """
    answers = {"country": country.alpha_3.lower()} if country is not None else {}
    return {c.name: c.label(language) for c in form.choices_for(field, answers)}


def indicator_labels(language: str) -> dict[str, str]:
    """Indicator id → name in ``language``, from the registry.

    Examples
    --------
    >>> indicator_labels("en")["org_member"]
    'Member of a sex-worker organisation'
    """
    from research_kit import indicators

    return {i.id: i.name(language) for i in indicators.get()}


def age_group_labels(language: str) -> dict[str, str]:
    """The age groups of the ``age_group`` calculation (under 25, 25 and older)."""
    _ = translator(language)
    return {"u25": _("Under 25"), "25plus": _("25 and older")}


def grouping_labels(grouping: str, language: str) -> dict[str, str]:
    """Labels of a registry grouping's codes (e.g. years in sex work), from the registry.

    Examples
    --------
    >>> grouping_labels("years_sw_group", "pt")["lt2"]
    'Menos de 2 anos'
    """
    from research_kit import indicators

    return indicators.groupings()[grouping].labels(language)


def domain_titles(language: str) -> dict[str, str]:
    """Headings of the report's domains, in registry order.

    Examples
    --------
    >>> list(domain_titles("en").values())[:2]
    ['HIV testing', 'Treatment']
    """
    _ = translator(language)
    return {"testing": _("HIV testing"), "treatment": _("Treatment"), "prevention": _("Prevention"),
            "stigma": _("Stigma in health services"), "violence": _("Violence"), "rights": _("Rights"),
            "organisation": _("Organisation")}


def dimension_labels(form: Form, columns: list[str], language: str, country: Country | None = None) -> dict[str, dict]:
    """Labels for the codes of each column of a table: indicators, age groups, or the form's choices."""
    out: dict[str, dict] = {}
    for col in columns:
        if col == "indicator":
            out[col] = indicator_labels(language)
        elif col == "age_group":
            out[col] = age_group_labels(language)
        elif col in _groupings():
            out[col] = grouping_labels(col, language)
        elif col in form and form.field(col).is_select:
            out[col] = choice_labels(form, col, language, country)
    return out


def dimension_headers(form: Form, columns: list[str], language: str) -> dict[str, str]:
    """Column headers: "Indicator", "Age group", or the question's label in the form.

    Examples
    --------
    >>> from research_kit.forms import load_form
    >>> dimension_headers(load_form("community_survey"), ["indicator", "age_group"], "pt")
    {'indicator': 'Indicador', 'age_group': 'Faixa etária'}
    """
    _ = translator(language)
    fixed = {"indicator": _("Indicator"), "age_group": _("Age group"), "city": _("City"),
             "venue_type": _("Main workplace"), "nationality": _("Migrant status"),
             "years_sw_group": _("Years in sex work")}
    return {c: fixed.get(c) or (form.field(c).label(language) if c in form else c) for c in columns}


def _groupings() -> dict:
    from research_kit import indicators

    return indicators.groupings()
