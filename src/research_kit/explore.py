"""Exploring a study in JupyterLab: open the data, estimate with the design, see protected results.

Everything here returns tables that went through disclosure control, labelled in the chosen
language, which render as readable tables in a notebook (suppressed cells are marked).

Examples
--------
>>> import research_kit as rk, tempfile
>>> root = tempfile.mkdtemp()
>>> study = open_study("UY", root)       # no data yet: synthetic data are created  # doctest: +ELLIPSIS
Datos sintéticos creados en ... · Synthetic data created in ...
>>> table = indicators(study, ["testing_12m", "org_member"], by="age_group", language="en")
>>> table.kind, table.dimensions
('estimate', ('indicator', 'age_group'))
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from research_kit.countries import get_country
from research_kit.disclosure import ProtectedTable, protect_counts, protect_estimates
from research_kit.i18n import check_language, translator
from research_kit.report.labels import dimension_headers, dimension_labels
from research_kit.report.parameters import policy_for
from research_kit.study import Study, load_study

__all__ = ["open_study", "check", "indicators", "counts", "chart"]


def open_study(country: str, data_root: str | Path = "data/synthetic", *, create_synthetic: bool = True) -> Study:
    """Open a country's study; with ``create_synthetic``, make synthetic data first if there are none.

    Parameters
    ----------
    country : str
        ISO alpha-2 or alpha-3 code, any case (``"PY"``, ``"pry"``).
    data_root : path
        Folder with one study folder per country.
    create_synthetic : bool
        When the country's folder does not exist, create synthetic data there (and say so) instead of
        failing. Set to False with real data.
    """
    c = get_country(country)
    folder = Path(data_root) / c.alpha_3
    if not folder.exists() and create_synthetic:
        from research_kit import synth

        synth.generate_country(c, data_root)
        print(f"Datos sintéticos creados en {folder} · Synthetic data created in {folder}")
    return load_study(c, data_root=data_root)


class _Summary:
    """A short HTML summary that JupyterLab renders."""

    def __init__(self, html_text: str, text: str):
        self._html, self._text = html_text, text

    def _repr_html_(self) -> str:
        return self._html

    def __repr__(self) -> str:
        return self._text


def check(study: Study, *, language: str = "es") -> _Summary:
    """Validate the study's export against its form and summarise: rows accepted, rows quarantined, rules broken.

    Only counts and rules are shown, never the records themselves; ``research-kit validate`` writes the
    full error table for the people who fix the data at the source.
    """
    import html

    from research_kit.ingest import read_export, validate

    check_language(language)
    result = validate(read_export(study.folder / study.spec["data"], study.form), study.form, language=language)
    _ = translator(language)
    rules = result.errors.groupby(["column", "rule"]).size().reset_index(name="rows") if len(result.errors) else None
    t_accepted, t_quarantined = _("Rows accepted"), _("Rows quarantined")
    head = f"{t_accepted}: {len(result.accepted)} · {t_quarantined}: {len(result.quarantine)}"
    body = "" if rules is None else "<ul>" + "".join(
        f"<li><code>{html.escape(str(r.column))}</code>: {html.escape(str(r.rule))}</li>" for r in rules.itertuples()) + "</ul>"
    return _Summary(f"<p><strong>{html.escape(head)}</strong></p>{body}", head)


def indicators(study: Study, ids: list[str] | None = None, by: str | list[str] | None = None, *,
               language: str = "es", min_count: int = 5) -> ProtectedTable:
    """Estimate registry indicators with the study's design and protect the result.

    Parameters
    ----------
    study : Study
    ids : list of str, optional
        Indicator ids (all by default); see ``rk.indicators.registry()``.
    by : str or list of str, optional
        Disaggregation, e.g. ``"age_group"``, ``"venue_type"``, ``"nationality"``, ``"city"``.
    language : str
        Labels in es, en or pt.
    min_count : int
        Disclosure threshold.
    """
    from research_kit import indicators as registry

    check_language(language)
    by_list = [by] if isinstance(by, str) else list(by or [])
    est = registry.compute(study.design, ids, by=by_list or None)
    dims = ["indicator", *by_list]
    pt = protect_estimates(est, policy_for(min_count), by=dims, group="indicator" if by_list else None)
    pt.meta.update({"language": language, "locale": study.country.locale(language),
                    "labels": dimension_labels(study.form, dims, language, study.country),
                    "headers": dimension_headers(study.form, dims, language)})
    return pt


def counts(study: Study, field: str, *, language: str = "es", min_count: int = 5) -> ProtectedTable:
    """How many respondents gave each answer of a select question (protected, with its total)."""
    check_language(language)
    labels = dimension_labels(study.form, [field], language, study.country).get(field, {})
    resp = study.respondents
    order = list(labels) or sorted(resp[field].unique())
    table = pd.DataFrame({field: order, "count": resp[field].value_counts().reindex(order, fill_value=0).to_numpy()})
    pt = protect_counts(table, policy_for(min_count), dimension=field)
    pt.meta.update({"language": language, "locale": study.country.locale(language), "labels": {field: labels},
                    "headers": dimension_headers(study.form, [field], language)})
    return pt


def chart(table: ProtectedTable, *, title: str | None = None):
    """Bar chart of a protected estimate table with one row per indicator (suppressed bars are labelled, not drawn).

    Returns a :class:`~research_kit.report.figures.Chart`: it shows itself in a notebook and
    ``chart.save("figure.png")`` or ``.svg`` writes it.
    """
    from research_kit.report.figures import Chart, estimate_chart

    language = table.meta.get("language", "es")
    fig = estimate_chart(table, label_column=table.dimensions[0], language=language,
                         locale=table.meta.get("locale"), title=title)
    return Chart(fig, alt=translator(language)("Bar chart of the key indicators with 95% confidence intervals"))
