"""The regional report: everything ``notebooks/regional_report.ipynb`` shows, computed by the library.

The notebook creates a :class:`RegionalReport` from its parameters and displays what its
methods return. Every number comes from :class:`~research_kit.regional.RegionalInputs`
(protected country estimates and linked count tables) or from the pooled estimates made
from them; figures and tables are drawn from protected tables only.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path

import numpy as np

from research_kit.countries import NODES, get_country, node_name
from research_kit.disclosure import ProtectedTable
from research_kit.disclosure.model import Dimension
from research_kit.disclosure.publish import write_table
from research_kit.errors import ParameterError
from research_kit.i18n import check_language, format_date, format_number, format_percent, translator
from research_kit.report.fragments import Html as _Html, esc as _e, figure_html
from research_kit.regional.geo import ATTRIBUTION
from research_kit.regional.inputs import AGE_GROUPS, REGION, REGIONAL_TABLE, RegionalInputs, collect
from research_kit.regional.population import read_population_sizes_lenient
from research_kit.regional.pooled import PUBLISHED, pool

__all__ = ["RegionalReport", "MAP_INDICATORS", "LOCALES"]

#: Indicators drawn as maps (those in the registry), two per figure.
MAP_INDICATORS = ("testing_12m", "prevention_coverage", "condom_last_client", "avoided_care", "police_any",
                  "client_violence")
#: Number locale of the regional report per language (Latin-American Spanish, Brazilian Portuguese).
LOCALES = {"es": "es_419", "en": "en", "pt": "pt_BR"}
_DASH = "\u2014"
_CSS = (
    "<style>"
    ".rk-regional table.rk-matrix{border-collapse:collapse;font-size:.8rem;margin:.6rem 0 1.2rem;width:100%}"
    ".rk-regional table.rk-matrix th,.rk-regional table.rk-matrix td{border-bottom:1px solid #dcd8e6;padding:.2rem .25rem;"
    "text-align:center}"
    ".rk-regional table.rk-matrix tbody th{text-align:left;font-weight:400}"
    ".rk-regional table.rk-matrix td.rk-count{text-align:right;font-variant-numeric:tabular-nums}"
    ".rk-regional table.rk-matrix thead th{background:#f6f4fa;font-weight:600}"
    ".rk-regional .rk-domain{font-weight:700;color:#6a3d9a;text-align:left!important;background:#fbfafd}"
    ".rk-regional .rk-mark-shown{color:#6a3d9a}.rk-regional .rk-mark-hidden{color:#8a8699}"
    ".rk-regional .rk-mark-none{color:#b0adb9}"
    ".rk-regional td.rk-pooled{white-space:nowrap;text-align:right;font-variant-numeric:tabular-nums}"
    ".rk-regional td.rk-why{color:#5b5870;font-size:.82rem;text-align:left}"
    ".rk-regional .rk-ci-small{display:block;color:#5b5870;font-size:.8rem}"
    ".rk-regional .rk-level-region th,.rk-regional .rk-level-region td{font-weight:700}"
    ".rk-regional .rk-level-node th,.rk-regional .rk-level-node td{font-weight:600;background:#fbfafd}"
    ".rk-regional .rk-level-country th{padding-left:1.2rem!important}"
    ".rk-regional .rk-legend{color:#5b5870;font-size:.85rem}"
    ".rk-regional h3{margin:1.4rem 0 .2rem;font-size:1.02rem}"
    "@media print{.rk-regional figure{break-inside:avoid}}"
    "</style>"
)


class RegionalReport:
    """The regional comparison: countries side by side, pooled by node and region, on maps.

    Parameters
    ----------
    countries : str or list of str, optional
        ISO codes of the countries to compare (all 17 by default).
    data_root : str
        Folder with one study folder per country (default ``data/synthetic``).
    language : str
        ``es`` (default), ``en`` or ``pt``.
    min_count : int
        Smallest count that may be published (default 5).
    output_dir : str, optional
        Where published tables and figures go (``<output_dir>/regional/tables`` and ``figures``).
    population_sizes : str, optional
        The population size file (default ``<data_root>/population_sizes.csv``).
    batch_inputs : str, optional
        A file written by :meth:`RegionalInputs.save` (a batch collects once for every report);
        when given, nothing is recomputed and ``countries``, ``data_root`` and ``min_count`` come
        from it.

    Examples
    --------
    >>> import research_kit as rk, tempfile
    >>> from research_kit.regional import RegionalReport
    >>> root = tempfile.mkdtemp()
    >>> _ = rk.synth.generate(root, ["UY", "PY"])
    >>> report = RegionalReport(["UY", "PY"], data_root=root, language="en")
    >>> report.pooled.data.query("area == 'LAC'")["status"].iloc[0]
    'published'
    """

    def __init__(self, countries=None, *, data_root="data/synthetic", language: str = "es", min_count=5,
                 output_dir=None, population_sizes=None, batch_inputs=None):
        self.language = check_language(language)
        self._ = translator(language)
        self.locale = LOCALES[language]
        if batch_inputs is not None:
            if not isinstance(batch_inputs, (str, Path)):
                raise ParameterError(f"batch_inputs must be the path of a regional inputs file, not {batch_inputs!r}.")
            self.inputs = RegionalInputs.load(batch_inputs)
            if population_sizes is not None:
                sizes, problems = read_population_sizes_lenient(population_sizes)
                self.inputs.population_sizes, self.inputs.population_problems = sizes, problems
                self.inputs.population_file = str(population_sizes)
        else:
            self.inputs = collect(countries, data_root=data_root, min_count=min_count,
                                  population_sizes=population_sizes)
        self.policy = self.inputs.policy
        self.output_dir = Path(output_dir) / "regional" if output_dir else None
        self.created = dt.date.today()
        self._published: dict[str, ProtectedTable] = {}

    # ---- data --------------------------------------------------------------------------
    @cached_property
    def _indicators(self):
        from research_kit import indicators

        return indicators.get()

    @cached_property
    def _names(self) -> dict[str, str]:
        from research_kit.report.labels import indicator_labels

        return indicator_labels(self.language)

    def _country(self, iso3: str) -> str:
        return get_country(iso3).name(self.language)

    @cached_property
    def country_estimates(self) -> ProtectedTable:
        """Every country's protected estimates as one table (dimensions ``indicator, country``)."""
        est = self.inputs.estimates
        est = est[est["status"] != "not_measured"].reset_index(drop=True)
        data = est[["indicator", "country", "estimate", "se", "ci_low", "ci_high", "deff", "n", "status"]].copy()
        num = est[["indicator", "country"]].copy()
        num["n_event"] = est["n_event"]
        num["status"] = est["n_event_status"].fillna("secondary")
        den = est[["indicator", "country"]].copy()
        den["n"] = est["n"]
        den["status"] = est["n_status"].fillna("secondary")
        meta = {"measure": "percentage", "numerator": num, "denominator": den,
                "dimensions": [Dimension("indicator", list(dict.fromkeys(est["indicator"])) or ["-"]).to_dict(),
                               Dimension("country", list(dict.fromkeys(est["country"])) or ["-"]).to_dict()]}
        pt = ProtectedTable(data, self.policy, "estimate", ("indicator", "country"), meta)
        return self._publish("indicators_by_country", pt, measure="indicator")

    @cached_property
    def pooled(self) -> ProtectedTable:
        """Pooled node and regional estimates (see :func:`research_kit.regional.pool`)."""
        i = self.inputs
        pt = pool(i.estimates, i.population_sizes, i.denominator_shares, policy=self.policy, countries=i.countries,
                  missing=list(i.missing))
        return self._publish("pooled", pt, measure="pooled_indicator")

    def _publish(self, table_id: str, pt: ProtectedTable, *, measure: str) -> ProtectedTable:
        pt.meta.update({"table_id": table_id, "locale": self.locale, "language": self.language})
        self._published[table_id] = pt
        if self.output_dir is not None:
            write_table(pt, self.output_dir / "tables", table_id, measure=measure)
        return pt

    def _figure(self, fig, name: str, alt: str) -> _Html:
        return _Html(figure_html(fig, alt, self.output_dir / "figures" if self.output_dir else None, name))

    def _total(self, code: str) -> float | None:
        """Protected respondent count of a country, node or the region (None when hidden or absent)."""
        t = self.inputs.linked.get(REGIONAL_TABLE)
        if t is None:
            return None
        d = t.data
        row = d[(d["country"] == code) & (d["age_group"] == "total")]
        if row.empty or row["status"].iloc[0] not in PUBLISHED:
            return None
        return float(row["count"].iloc[0])

    def _count_cell(self, value) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            why = self._("Not shown: too few respondents")
            return f"<td class='rk-count rk-suppressed rk-num' title='{_e(why)}'>{_DASH}</td>"
        return f"<td class='rk-count rk-num' data-count='{int(value)}'>{_e(format_number(value, self.locale))}</td>"

    def _domain_names(self) -> dict[str, str]:
        _ = self._
        return {"testing": _("HIV testing"), "treatment": _("HIV treatment"), "prevention": _("Prevention"),
                "stigma": _("Stigma in health services"), "violence": _("Violence"), "rights": _("Rights"),
                "organisation": _("Organisation")}

    def _by_domain(self) -> list[tuple[str, list]]:
        names = self._domain_names()
        out: dict[str, list] = {}
        for ind in self._indicators:
            out.setdefault(ind.domain, []).append(ind)
        return [(names.get(d, d), inds) for d, inds in out.items()]

    # ---- what the notebook shows ---------------------------------------------------------
    def header(self) -> _Html:
        """Title block: the network's regional comparison, the date."""
        _ = self._
        kicker = _("Community survey of female sex workers")
        title = _("Latin America and the Caribbean: regional comparison")
        n = len(self.inputs.present)
        sub = _("{n} countries · {date}").format(n=format_number(n, self.locale),
                                                  date=format_date(self.created, self.locale))
        return _Html(f"{_CSS}<header class='rk-header rk-regional'><p class='rk-kicker'>{_e(kicker)}</p>"
                     f"<h1>{_e(title)}</h1><p class='rk-sub'>{_e(sub)}</p></header>")

    def method(self) -> _Html:
        """What is compared and how: countries, designs, form versions, sample sizes, pooling, what is missing."""
        _ = self._
        i = self.inputs
        st = i.studies
        rds = [self._country(c) for c in st.loc[st["design"] == "rds", "country"]]
        tls = [self._country(c) for c in st.loc[st["design"] == "tls", "country"]]
        total = self._total(REGION)
        heading = _("What this report compares")
        parts = [f"<h2>{_e(heading)}</h2>"]
        text = _("This report puts side by side the community surveys of {n} countries of the network, each "
                 "analysed with its own sampling design and the same indicator definitions.").format(
            n=format_number(len(i.present), self.locale))
        if total is not None:
            text += " " + _("In all, {n} women answered.").format(n=format_number(total, self.locale))
        parts.append(f"<p>{_e(text)}</p>")
        if rds:
            parts.append("<p>" + _e(_("Respondent-driven sampling: {countries}.").format(countries=", ".join(rds)))
                         + "</p>")
        if tls:
            parts.append("<p>" + _e(_("Time-location sampling (venues): {countries}.").format(countries=", ".join(tls)))
                         + "</p>")
        versions = sorted(set(st["form_version"]))
        if versions:
            parts.append("<p>" + _e(_("Questionnaire version(s): {versions}.").format(versions=", ".join(versions)))
                         + "</p>")
        pooled = _("Pooled estimates for each sub-regional node and for the region treat each country as a separate "
                   "stratum: country percentages are averaged with weights proportional to the estimated number of "
                   "sex workers in the country (its population size estimate) who belong to the indicator's "
                   "denominator. A pooled estimate is shown only when every country of the node or region has data, "
                   "measured the indicator, has a population size estimate, and has its own estimate shown.")
        parts.append(f"<p>{_e(pooled)}</p>")
        parts.append(self._missing_html())
        return _Html("<section class='rk-regional'>" + "".join(parts) + "</section>")

    def _missing_html(self) -> str:
        _ = self._
        i = self.inputs
        items = []
        for c in i.missing:
            items.append("<li>" + _e(_("{country}: no data (the study folder was not found or could not be read).")
                                      .format(country=self._country(c))) + "</li>")
        have = set(i.population_sizes["country"])
        lacking = [c for c in i.present if c not in have]
        if lacking:
            items.append("<li>" + _e(_("No population size estimate for: {countries}. Pooled estimates that need them "
                                       "are not shown.").format(countries=", ".join(self._country(c) for c in lacking)))
                         + "</li>")
        if not items and not i.population_problems:
            return ""
        t_missing = _("What is missing")
        t_problems = _("Problems in the population size file (fix them and run the report again):")
        out = f"<div class='rk-error'><p><strong>{_e(t_missing)}</strong></p><ul>{''.join(items)}</ul>"
        if i.population_problems:
            out += (f"<p>{_e(t_problems)}</p>"
                    "<ul>" + "".join(f"<li><code>{_e(p)}</code></li>" for p in i.population_problems) + "</ul>")
        return out + "</div>"

    def comparability(self) -> _Html:
        """Which countries measured which indicator, with which design and form version; and who is missing."""
        _ = self._
        i = self.inputs
        st = i.studies.set_index("country")
        sizes = i.population_sizes.set_index("country")
        labels = [_("Country"), _("Design"), _("Form version"), _("Respondents"), _("Population size estimate"),
                  _("Source")]
        head = "".join(f"<th{' class=rk-num' if k in (3, 4) else ''}>{_e(t)}</th>" for k, t in enumerate(labels))
        t_nodata = _("no data")
        rows = []
        for node in NODES:
            members = [c for c in i.countries if get_country(c).node == node]
            if not members:
                continue
            rows.append(f"<tr><th colspan='6' class='rk-domain'>{_e(node_name(node, self.language))}</th></tr>")
            for c in members:
                name = self._country(c)
                if c in i.missing:
                    rows.append(f"<tr data-status='missing'><th scope='row'>{_e(name)}</th>"
                                f"<td colspan='5' class='rk-why'>{_e(t_nodata)}</td></tr>")
                    continue
                s = st.loc[c]
                size = sizes.loc[c] if c in sizes.index else None
                size_txt = format_number(size["population_size"], self.locale) if size is not None else _DASH
                source = str(size["source"]) if size is not None and str(size["source"]) not in ("", "nan") else ""
                rows.append(f"<tr><th scope='row'>{_e(name)}</th><td>{_e(s['design'].upper())}</td>"
                            f"<td>{_e(s['form_version'])}</td>{self._count_cell(self._total(c))}"
                            f"<td class='rk-pooled'>{_e(size_txt)}</td><td class='rk-why'>{_e(source)}</td></tr>")
        caption = _("Countries, designs and questionnaires")
        key = _("RDS: respondent-driven sampling. TLS: time-location sampling (venues).")
        table = (f"<table class='rk-matrix' data-kind='count' data-table-id='countries'><caption>{_e(caption)}</caption>"
                 f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
                 f"<p class='rk-legend'>{_e(key)}</p>")
        # Indicator × country matrix.
        est = i.estimates.set_index(["country", "indicator"])["status"].to_dict()
        cols = "".join(f"<th title='{_e(self._country(c))}'>{_e(c)}</th>" for c in i.countries)
        body = []
        marks = {"shown": ("\u25cf", "rk-mark-shown", _("shown")), "hidden": ("\u25cb", "rk-mark-hidden",
                 _("measured, not shown (too few respondents)")), "none": ("\u2013", "rk-mark-none", _("not measured")),
                 "missing": ("", "rk-mark-none", _("no data"))}
        for domain, inds in self._by_domain():
            body.append(f"<tr><th colspan='{len(i.countries) + 1}' class='rk-domain'>{_e(domain)}</th></tr>")
            for ind in inds:
                cells = []
                for c in i.countries:
                    s = est.get((c, ind.id))
                    key = ("missing" if c in i.missing else "none" if s in (None, "not_measured") else
                           "hidden" if s in ("primary", "secondary") else "shown")
                    sym, cls, title = marks[key]
                    cells.append(f"<td class='{cls}' title='{_e(title)}'>{sym}</td>")
                body.append(f"<tr><th scope='row'>{_e(self._names.get(ind.id, ind.id))}</th>{''.join(cells)}</tr>")
        blank = _("blank")
        legend = " · ".join(f"{sym or '(' + blank + ')'} {title}" for sym, _c, title in marks.values())
        t_indicator = _("Indicator")
        caption2 = _("Which country measured which indicator")
        matrix = (f"<table class='rk-matrix' data-kind='comparability'><caption>{_e(caption2)}</caption>"
                  f"<thead><tr><th>{_e(t_indicator)}</th>{cols}</tr></thead><tbody>{''.join(body)}</tbody></table>"
                  f"<p class='rk-legend'>{_e(legend)}</p>")
        heading = _("Comparability")
        return _Html(f"<section class='rk-regional'><h2>{_e(heading)}</h2>{table}{matrix}</section>")

    def maps(self, indicators=None) -> _Html:
        """Choropleth maps of key indicators (two per row), drawn from protected estimates."""
        from research_kit.regional.maps import choropleth

        _ = self._
        chosen = [i for i in (indicators or MAP_INDICATORS) if i in self._names]
        heading = _("Maps of key indicators")
        intro = _("Each country is coloured by its own estimate. Hatched countries: the estimate is not shown (too few "
                  "respondents) or the indicator was not measured.")
        parts = [f"<h2>{_e(heading)}</h2>", f"<p>{_e(intro)}</p>"]
        for k in range(0, len(chosen), 2):
            pair = chosen[k:k + 2]
            fig = choropleth(self.country_estimates, pair, titles=self._names, language=self.language,
                             locale=self.locale, order=self.inputs.countries, missing=self.inputs.missing)
            alt = _("Map of Latin America and the Caribbean: {indicators}").format(
                indicators="; ".join(self._names[p] for p in pair))
            parts.append(str(self._figure(fig, "map_" + "_".join(pair), alt)))
        return _Html("<section class='rk-regional'>" + "".join(parts) + "</section>")

    def indicators(self) -> _Html:
        """A forest plot for every registry indicator, grouped by domain."""
        from research_kit.regional.forest import forest_plot

        _ = self._
        heading = _("Indicators country by country")
        intro = _("Countries are grouped by sub-regional node and sorted by their estimate. Diamonds show the pooled "
                  "estimate of each node and of the region.")
        parts = [f"<h2>{_e(heading)}</h2>", f"<p>{_e(intro)}</p>"]
        for domain, inds in self._by_domain():
            parts.append(f"<h3>{_e(domain)}</h3>")
            for ind in inds:
                name = self._names.get(ind.id, ind.id)
                fig = forest_plot(self.country_estimates, self.pooled, ind.id, language=self.language,
                                  locale=self.locale, title=name, order=self.inputs.countries,
                                  missing=self.inputs.missing)
                alt = _("Forest plot by country: {indicator}").format(indicator=name)
                parts.append(str(self._figure(fig, f"forest_{ind.id}", alt)))
        return _Html("<section class='rk-regional'>" + "".join(parts) + "</section>")

    def _reason_text(self, reasons) -> str:
        _ = self._
        texts = {"no_data": _("no data: {countries}"), "not_measured": _("not measured: {countries}"),
                 "no_population_size": _("no population size: {countries}"),
                 "suppressed": _("not shown, to protect the hidden estimate of {countries}")}
        return "; ".join(texts[code].format(countries=", ".join(self._country(c) for c in cs)) for code, cs in reasons)

    def pooled_table(self) -> _Html:
        """Pooled estimates of each node and the region, with the reason when one is not possible."""
        _ = self._
        pt = self.pooled
        d = pt.data
        areas = [a for a in [*NODES, REGION] if a in set(d["area"])]
        area_name = {a: (_("Region") if a == REGION else node_name(a, self.language)) for a in areas}
        t_indicator = _("Indicator")
        head = f"<th>{_e(t_indicator)}</th>" + "".join(f"<th class='rk-num'>{_e(area_name[a])}</th>" for a in areas)
        body = []
        notes: dict[str, int] = {}
        cell_of = {(r.indicator, r.area): r for r in d.itertuples()}
        for domain, inds in self._by_domain():
            body.append(f"<tr><th colspan='{len(areas) + 1}' class='rk-domain'>{_e(domain)}</th></tr>")
            for ind in inds:
                cells = []
                for a in areas:
                    r = cell_of.get((ind.id, a))
                    if r is None:
                        cells.append(f"<td class='rk-suppressed'>{_DASH}</td>")
                    elif r.status in PUBLISHED:
                        pct = format_percent(r.estimate, self.locale)
                        ci = f"{format_percent(r.ci_low, self.locale)} – {format_percent(r.ci_high, self.locale)}"
                        cells.append(f"<td class='rk-pooled' data-status='{r.status}'>{_e(pct)}"
                                     f"<span class='rk-ci-small'>{_e(ci)}</span></td>")
                    else:
                        text = self._reason_text(r.reasons)
                        k = notes.setdefault(text, len(notes) + 1)
                        cells.append(f"<td class='rk-pooled rk-suppressed' data-status='{r.status}' title='{_e(text)}'>"
                                     f"{_DASH}<sup>{k}</sup></td>")
                body.append(f"<tr><th scope='row'>{_e(self._names.get(ind.id, ind.id))}</th>{''.join(cells)}</tr>")
        caption = _("Pooled estimates by sub-regional node and for the region (%, with 95% confidence interval)")
        pattern = _("Not possible: {reason}.")
        foot = "".join(f"<li value='{k}'>{_e(pattern.format(reason=t))}</li>" for t, k in notes.items())
        heading = _("Pooled estimates")
        return _Html(f"<section class='rk-regional'><h2>{_e(heading)}</h2>"
                     f"<table class='rk-matrix' data-kind='pooled' data-table-id='pooled'><caption>{_e(caption)}"
                     f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
                     + (f"<ol class='rk-legend'>{foot}</ol>" if foot else "") + "</section>")

    def respondents_table(self) -> _Html:
        """Respondents by country and age group (protected jointly with each country's own table)."""
        from research_kit.report.labels import age_group_labels

        _ = self._
        heading = _("Who answered")
        pt = self.inputs.linked.get(REGIONAL_TABLE)
        if pt is None:
            nothing = _("No country has data.")
            return _Html(f"<section class='rk-regional'><h2>{_e(heading)}</h2><p>{_e(nothing)}</p>"
                         "</section>")
        self._publish("respondents", pt, measure="respondents")
        ages = age_group_labels(self.language)
        d = pt.data.set_index(["country", "age_group"])
        t_country, t_total = _("Country"), _("Total")
        head = (f"<th>{_e(t_country)}</th>" + "".join(f"<th class='rk-num'>{_e(ages[a])}</th>" for a in AGE_GROUPS)
                + f"<th class='rk-num'>{_e(t_total)}</th>")
        dim = Dimension.from_dict(pt.meta["dimensions"][0])
        rows = []
        for code in dim.levels:
            level = "region" if code == REGION else "node" if code in NODES else "country"
            label = _("Latin America and the Caribbean") if level == "region" else (
                node_name(code, self.language) if level == "node" else self._country(code))
            cells = ""
            for a in (*AGE_GROUPS, "total"):
                r = d.loc[(code, a)]
                if r["status"] in PUBLISHED:
                    cells += self._count_cell(float(r["count"]))
                else:
                    why = _("Not shown: too few respondents") if r["status"] == "primary" else \
                        _("Not shown: protects another hidden cell")
                    cells += f"<td class='rk-count rk-suppressed rk-num' title='{_e(why)}'>{_DASH}</td>"
            rows.append(f"<tr class='rk-level-{level}' data-status='count'><th scope='row'>{_e(label)}</th>{cells}</tr>")
        caption = _("Respondents by country and age group")
        key = _("— not shown: too few respondents, or hidden so that another hidden number cannot be worked out.")
        return _Html(f"<section class='rk-regional'><h2>{_e(heading)}</h2>"
                     f"<table class='rk-table' data-kind='count' data-table-id='respondents'><caption>{_e(caption)}"
                     f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
                     f"<p class='rk-legend'>{_e(key)}</p></section>")

    def notes(self) -> _Html:
        """Disclosure rules, pooling method, map source and where the numbers come from."""
        from research_kit import indicators

        _ = self._
        p = self.policy
        rules = _("To protect the women who answered, counts under {k} are not shown (—), nor percentages based on "
                  "fewer than {d} women, or where fewer than {k} women have or do not have the characteristic. "
                  "Percentages based on {d} to {c} women are shown in lighter colour: interpret them with caution. "
                  "The respondents by country and age group are protected together with every country report, so "
                  "that no hidden number can be worked out by comparing reports.").format(
            k=p.min_count, d=p.min_denominator, c=p.caution_denominator - 1)
        pooling = _("Pooled estimate p = Σ W_c p_c, with W_c = N_c δ_c / Σ N_k δ_k, where p_c is the country's "
                    "estimate, N_c its population size estimate and δ_c the estimated share of its population in the "
                    "indicator's denominator; standard error √(Σ W_c² SE_c²), treating N_c and δ_c as known; 95% "
                    "interval on the logit scale. A pooled estimate is not shown when a country's own estimate is "
                    "hidden, because the pooled figure and the other countries' figures would give it back.")
        maps = _("Map boundaries: {source}. Boundaries do not imply any position on disputed territories.").format(
            source=ATTRIBUTION)
        defs = "".join(f"<dt>{_e(i.name(self.language))}</dt><dd>{_e(i.definition(self.language))}</dd>"
                       for i in indicators.get())
        st = self.inputs.studies
        prov_rows = [(self._country(r.country), f"{r.data_file} (SHA-256 {r.sha256[:16]}…) · {r.form_id} "
                      f"{r.form_version} · {r.design.upper()}") for r in st.itertuples()]
        prov_rows += [(_("Disclosure policy"), f"min_count={p.min_count}, min_denominator={p.min_denominator}"),
                      (_("Software"), f"research_kit {self.inputs.version}"),
                      (_("Computed on"), format_date(dt.date.fromisoformat(self.inputs.created[:10]), self.locale))]
        prov = "".join(f"<tr><th scope='row'>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in prov_rows)
        t_notes, t_how, t_defs, t_where = (_("Notes"), _("How pooled estimates are made"), _("Definitions"),
                                           _("Where these numbers come from"))
        return _Html(
            f"<section class='rk-notes rk-regional'><h2>{_e(t_notes)}</h2><p>{_e(rules)}</p>"
            f"<h3>{_e(t_how)}</h3><p>{_e(pooling)}</p><p>{_e(maps)}</p>"
            f"<h3>{_e(t_defs)}</h3><dl>{defs}</dl>"
            f"<h3>{_e(t_where)}</h3><table class='rk-prov'>{prov}</table></section>"
        )

    def exports(self) -> _Html:
        """Write ``tables.xlsx`` (every table the report showed) and show where the downloads are."""
        from research_kit.report.exports import downloads

        return _Html(downloads(self._published, self.output_dir, language=self.language, locale=self.locale))

    @property
    def published(self) -> dict[str, ProtectedTable]:
        """Every table this report has published so far, by table id."""
        return dict(self._published)
