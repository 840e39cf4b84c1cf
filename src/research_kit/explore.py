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

The module is also callable: ``rk.explore(frame, form)`` explores any validated data frame
(for instance ``rk.validate(...).accepted``) with the form it answers:

>>> ex = rk.explore(study.respondents, study.form, language="en", country="UY")
>>> ex.crosstab("venue_type", "age_group").dimensions
('venue_type', 'age_group')
"""

from __future__ import annotations

import html
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd

from research_kit.countries import get_country
from research_kit.countries import Country
from research_kit.disclosure import ProtectedTable, protect_counts, protect_crosstab, protect_estimates
from research_kit.errors import ResearchKitError
from research_kit.forms import Form
from research_kit.i18n import check_language, translator
from research_kit.report.labels import dimension_headers, dimension_labels
from research_kit.report.parameters import policy_for
from research_kit.study import Study, load_study

__all__ = ["open_study", "check", "indicators", "counts", "crosstab", "chart", "Exploration"]


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
    return Exploration(study, language=language, min_count=min_count).counts(field)


def crosstab(study: Study, rows: str, columns: str, *, language: str = "es", min_count: int = 5) -> ProtectedTable:
    """How many respondents gave each pair of answers to two questions, with row, column and grand totals.

    Small counts are hidden, and so are the cells that would give them back from the totals;
    respondents who did not answer one of the two questions are not counted.

    Parameters
    ----------
    study : Study
    rows, columns : str
        Select-one questions of the form (``"venue_type"``, ``"city"``), or the groupings
        ``"age_group"`` and ``"years_sw_group"``.
    language : str
        Labels in es, en or pt.
    min_count : int
        Disclosure threshold.

    Examples
    --------
    >>> import tempfile
    >>> study = open_study("UY", tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Datos sintéticos creados en ...
    >>> t = crosstab(study, "venue_type", "age_group", language="en")
    >>> t.dimensions, bool((t.data.query("status == 'published'")["count"] >= 5).all())
    (('venue_type', 'age_group'), True)
    """
    return Exploration(study, language=language, min_count=min_count).crosstab(rows, columns)


class Exploration:
    """A validated data frame and its form, ready to summarise and cross-tabulate, with disclosure control.

    ``rk.explore(frame, form)`` makes one. Every table it returns is a
    :class:`~research_kit.disclosure.ProtectedTable`, labelled in ``language``, which JupyterLab
    shows as a table with hidden cells marked; shown on its own, the exploration summarises
    which questions were answered by how many respondents.

    Parameters
    ----------
    data : DataFrame or Study
        One row per respondent, with the form's field names as columns (the ``accepted``
        frame of :func:`research_kit.validate`, or ``study.respondents``). A :class:`Study`
        brings its own form and country.
    form : Form, optional
        The questionnaire the data answer (required unless ``data`` is a Study).
    language : str
        es (default), en or pt, for headers and answer labels.
    country : str or Country, optional
        Keeps the country's own choices where the form filters them (cities).
    min_count : int
        Disclosure threshold: smaller counts are never shown.

    Examples
    --------
    >>> import pandas as pd
    >>> from research_kit.forms import load_form
    >>> form = load_form("community_survey")
    >>> frame = pd.DataFrame({"venue_type": ["street"] * 30 + ["bar"] * 12 + ["brothel"] * 3,
    ...                       "age": [22] * 20 + [30] * 25})
    >>> ex = Exploration(frame, form, language="en")
    >>> t = ex.counts("venue_type")
    >>> t.data.set_index("venue_type")["status"].to_dict()["brothel"]
    'primary'
    >>> ex.crosstab("venue_type", "age_group").dimensions
    ('venue_type', 'age_group')
    """

    def __init__(self, data, form: Form | None = None, *, language: str = "es", country: str | Country | None = None,
                 min_count: int = 5):
        check_language(language)
        if isinstance(data, Study):
            form = form or data.form
            country = country or data.country
            data = data.respondents
        if not isinstance(data, pd.DataFrame):
            raise ResearchKitError("rk.explore needs a table of respondents (a pandas DataFrame or a Study), "
                                   f"not {type(data).__name__}.")
        if not isinstance(form, Form):
            raise ResearchKitError("rk.explore needs the form the data answer: rk.explore(frame, rk.load_form(\"community_survey\")).")
        self.data, self.form, self.language = data, form, language
        self.country = get_country(country) if isinstance(country, str) else country
        self.policy = policy_for(min_count)

    # ---- columns ------------------------------------------------------------------
    def _column(self, name: str) -> tuple[pd.Series, list[str]]:
        """The codes of a categorical column (missing answers as NaN) and its levels in form order."""
        from research_kit import indicators

        _ = translator(self.language)
        groupings = indicators.groupings()
        usable = ", ".join(self._categorical())
        if name in self.data.columns and name in self.form and self.form.field(name).type == "select_multiple":
            raise ResearchKitError(_(
                "'{name}' allows several answers, so its answers do not split the respondents into groups. "
                "Use rk.explore.indicators for the registry's indicators.").format(name=name))
        if name == "age_group" and name not in self.data.columns and "age" in self.data.columns:
            age = pd.to_numeric(self.data["age"], errors="coerce")
            values = pd.Series(np.where(age.isna(), None, np.where(age < 25, "u25", "25plus")), index=self.data.index)
        elif name in groupings and name not in self.data.columns and groupings[name].field in self.data.columns:
            values = groupings[name].assign(pd.to_numeric(self.data[groupings[name].field], errors="coerce"))
        elif name in self.data.columns:
            values = self.data[name]
        else:
            raise ResearchKitError(_("There is no column '{name}' in the data. Questions you can use: {usable}.")
                                   .format(name=name, usable=usable))
        if name not in self.form and name not in groupings and name != "age_group":
            raise ResearchKitError(_("'{name}' is not a question of the form '{form}'. Questions you can use: {usable}.")
                                   .format(name=name, form=self.form.form_id, usable=usable))
        if name in self.form and not self.form.field(name).is_select and name not in groupings and name != "age_group":
            raise ResearchKitError(_("'{name}' is not a question with options: counts need categories. "
                                     "Questions you can use: {usable}.").format(name=name, usable=usable))
        values = values.astype(object).where(values.notna(), None)
        labels = dimension_labels(self.form, [name], self.language, self.country).get(name, {})
        present = [str(v) for v in dict.fromkeys(values.dropna())]
        order = [c for c in labels if c in present or not present] + sorted(set(present) - set(labels))
        return values.map(lambda v: None if v is None else str(v)), order

    def _categorical(self) -> list[str]:
        out = [f.name for f in self.form.data_fields() if f.type == "select_one" and f.name in self.data.columns]
        return out + [g for g in ("age_group", "years_sw_group") if g not in out]

    def _finish(self, pt: ProtectedTable, dims: list[str]) -> ProtectedTable:
        pt.meta.update({"language": self.language,
                        "locale": self.country.locale(self.language) if self.country else self.language,
                        "labels": dimension_labels(self.form, dims, self.language, self.country),
                        "headers": dimension_headers(self.form, dims, self.language)})
        return pt

    # ---- tables -------------------------------------------------------------------
    def counts(self, field: str) -> ProtectedTable:
        """Respondents by answer to one question, with the total of those who answered (protected)."""
        values, order = self._column(field)
        n = values.value_counts().reindex(order, fill_value=0)
        table = pd.DataFrame({field: order, "count": n.to_numpy()})
        return self._finish(protect_counts(table, self.policy, dimension=field), [field])

    def crosstab(self, rows: str, columns: str) -> ProtectedTable:
        """Respondents by answers to two questions, with totals (protected; see :func:`crosstab`)."""
        r, r_order = self._column(rows)
        c, c_order = self._column(columns)
        if rows == columns:
            _ = translator(self.language)
            raise ResearchKitError(_("Choose two different questions for a cross-table, not '{name}' twice.")
                                   .format(name=rows))
        both = r.notna() & c.notna()
        grid = pd.crosstab(pd.Categorical(r[both], r_order), pd.Categorical(c[both], c_order), dropna=False)
        long = grid.stack().rename("count").reset_index()
        long.columns = [rows, columns, "count"]
        return self._finish(protect_crosstab(long, self.policy, rows=rows, columns=columns), [rows, columns])

    def summary(self) -> "_Summary":
        """Each question and how many respondents answered it (hidden when few answered, or few did not)."""
        _ = translator(self.language)
        n = len(self.data)
        t_answered, t_question = _("Respondents"), _("Question")
        rows = []
        for f in self.form.data_fields():
            if f.name not in self.data.columns or f.identifying or f.type in ("calculate", "start", "end", "today", "deviceid"):
                continue
            k = int(self.data[f.name].notna().sum())
            # The few respondents who did not answer (often those a skip rule sent past the question,
            # who share an answer) would be given away by n minus the answered, so both sides must be
            # large. Nobody skipping is the sample's design (eligibility, consent), not a disclosure.
            gap = n - k
            hidden = k < self.policy.min_count or 0 < gap < self.policy.min_count
            value = "\u2014" if hidden else f"{k:,}".replace(",", "\u202f")
            rows.append(f"<tr><th scope='row'>{html.escape(_short(f.label(self.language)))} <code>{html.escape(f.name)}</code>"
                        f"</th><td class='rk-num'>{value}</td></tr>")
        total = "\u2014" if n < self.policy.min_count else f"{n:,}".replace(",", "\u202f")
        head = f"{_('Respondents')}: {total}"
        table = (f"<table class='rk-table'><caption>{html.escape(head)}</caption><thead><tr><th>{html.escape(t_question)}"
                 f"</th><th class='rk-num'>{html.escape(t_answered)}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")
        from research_kit.report.tables import _NOTEBOOK_CSS

        return _Summary(_NOTEBOOK_CSS + table, head)

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def __repr__(self) -> str:
        return f"<Exploration: {len(self.data)} rows, form {self.form.form_id!r}, language {self.language!r}>"


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


def _short(label: str, width: int = 110) -> str:
    """A question label on one line, without markdown emphasis, cut at a word near ``width`` characters."""
    text = " ".join(label.replace("**", "").replace("__", "").split())
    return text if len(text) <= width else text[:width].rsplit(" ", 1)[0] + " …"


class _CallableModule(types.ModuleType):
    """Lets ``rk.explore(frame, form)`` make an :class:`Exploration` while ``rk.explore.counts`` etc. stay functions."""

    def __call__(self, data, form: Form | None = None, **kwargs) -> Exploration:
        return Exploration(data, form, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
