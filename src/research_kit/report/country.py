"""The country report: everything the country-report notebook shows, computed by the library.

The notebook only creates a :class:`CountryReport` from its parameters and displays
what its methods return; every number is estimated with the study's sampling design and
passes through disclosure control before it is shown, written or drawn.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path

import pandas as pd

from research_kit import __version__
from research_kit.disclosure import ProtectedTable, protect_counts, protect_estimates
from research_kit.disclosure.publish import write_table
from research_kit.errors import ParameterError, ResearchKitError
from research_kit.i18n import format_date, format_number, translator
from research_kit.report.parameters import check_parameters, policy_for
from research_kit.report.fragments import Html as _Html, esc as _e, figure_html
from research_kit.report.figures import convergence_chart, estimate_chart
from research_kit.report.labels import (age_group_labels, choice_labels, dimension_headers, dimension_labels,
                                        domain_titles, indicator_labels)
from research_kit.report.tables import table_html
from research_kit.study import load_study
from research_kit.batch.provenance import sha256_file

__all__ = ["CountryReport", "check_parameters", "policy_for"]

#: Disaggregations shown in the domain sections, in order (registry ids of form fields or groupings).
DISAGGREGATIONS = ("age_group", "venue_type", "nationality", "city", "years_sw_group")
#: Indicators whose running estimate is shown for respondent-driven samples (the first two measured).
CONVERGENCE_INDICATORS = ("testing_12m", "prevention_coverage", "police_any")


def __getattr__(name: str):
    # Kept for code written against the first report: every registry indicator is now a key indicator.
    if name == "KEY_INDICATORS":
        from research_kit import indicators

        return tuple(indicators.registry())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _version_tuple(v: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in str(v).replace("-", ".").split("."))


class CountryReport:
    """A country's report, computed from its study with its own sampling design.

    Parameters
    ----------
    country : str
        ISO alpha-2 or alpha-3 code, any case.
    data_path : str, optional
        The export file or the study folder (default: ``<data_root>/<ISO3>``).
    data_root : str, optional
        Folder with one study folder per country (default ``data/synthetic``).
    language : str
        ``es`` (default), ``en`` or ``pt``.
    min_count : int
        Smallest count that may be published (default 5).
    output_dir : str, optional
        Where the report's published tables, figures and exports are written (``<output_dir>/<ISO3>/``).
    batch_inputs : str, optional
        When a batch runs the report: the file of :class:`research_kit.regional.RegionalInputs`,
        whose table of respondents by age group was protected jointly with the regional report's
        (so suppression is the same in every report). ``None`` (default): the report protects its
        own tables.

    Examples
    --------
    >>> import research_kit as rk, tempfile
    >>> root = tempfile.mkdtemp()
    >>> _ = rk.synth.generate_country("UY", root, seed=7)
    >>> report = CountryReport("uy", data_root=root, language="en")
    >>> report.indicator_table().kind
    'estimate'
    >>> "HIV testing" in str(report.domain("testing"))
    True
    """

    def __init__(self, country: str, *, data_path=None, data_root=None, language: str = "es", min_count=5,
                 output_dir=None, batch_inputs=None):
        self.country, self.language, self.min_count = check_parameters(country, language, min_count, data_path)
        if batch_inputs is not None and not isinstance(batch_inputs, (str, Path)):
            raise ParameterError(f"batch_inputs must be the path of a regional inputs file or None, not {batch_inputs!r}.")
        self.batch_inputs = Path(batch_inputs) if batch_inputs else None
        self._ = translator(language)
        self.locale = self.country.locale(language)
        self.study = load_study(self.country, data_path, data_root=data_root)
        self.policy = policy_for(self.min_count)
        self.output_dir = Path(output_dir) / self.country.alpha_3 if output_dir else None
        self.created = dt.date.today()
        self._published: dict[str, ProtectedTable] = {}
        self._figures: list[str] = []

    # ---- helpers -----------------------------------------------------------------------
    def _choice_labels(self, field: str) -> dict[str, str]:
        return choice_labels(self.study.form, field, self.language, self.country)

    def _indicator_labels(self) -> dict[str, str]:
        return indicator_labels(self.language)

    def _publish(self, table_id: str, pt: ProtectedTable, caption: str, headers: dict, labels: dict,
                 measure: str | None = None) -> ProtectedTable:
        pt.meta.update({"table_id": table_id, "caption": caption, "headers": headers, "labels": labels,
                        "locale": self.locale, "language": self.language})
        self._published[table_id] = pt
        if self.output_dir is not None:
            # Machine-readable beside the report, so that anyone can audit what was published:
            # counts of respondents share one measure, indicator percentages another.
            write_table(pt, self.output_dir / "tables", table_id,
                        measure=measure or ("respondents" if pt.kind == "count" else "indicator"),
                        fixed={"country": self.country.alpha_3})
        return pt

    def _figure(self, fig, name: str, alt: str) -> str:
        self._figures.append(name)
        return figure_html(fig, alt, self.output_dir / "figures" if self.output_dir else None, name)

    @cached_property
    def not_measured(self) -> dict[str, str]:
        """Indicators this country could not measure, with the reason in the report's language."""
        from research_kit import indicators

        _ = self._
        form = self.study.form
        resp = self.study.respondents
        out = {}
        for ind in indicators.get():
            if ind.form != form.form_id or _version_tuple(form.version) < _version_tuple(ind.form_version):
                out[ind.id] = _("the survey form used does not have these questions")
                continue
            try:
                indicators.check(form, [ind])
            except ResearchKitError:
                out[ind.id] = _("the survey form used does not have these questions")
                continue
            col = resp.get(ind.id)
            if col is None or not col.notna().any():
                out[ind.id] = _("no respondent answered these questions")
        return out

    def _measured(self, ids=None) -> list[str]:
        from research_kit import indicators

        ids = [i.id for i in indicators.get(ids)]
        return [i for i in ids if i not in self.not_measured]

    @cached_property
    def _estimates(self) -> pd.DataFrame:
        from research_kit import indicators

        # One call for every indicator: the same call the regional report makes, so the numbers are identical.
        return indicators.compute(self.study.design, self._measured())

    def _estimates_by(self, dim: str) -> pd.DataFrame:
        from research_kit import indicators

        cache = self.__dict__.setdefault("_by_cache", {})
        if dim not in cache:
            ids = [i for i in self._measured() if dim in indicators.registry()[i].disaggregations]
            cache[dim] = indicators.compute(self.study.design, ids, by=dim) if ids and dim in self.study.respondents \
                else pd.DataFrame(columns=["indicator", dim, "estimate", "n", "n_event"])
        return cache[dim]

    def _dimension_labels(self, dim: str) -> dict[str, str]:
        return dimension_labels(self.study.form, [dim], self.language, self.country).get(dim, {})

    # ---- what the notebook shows ---------------------------------------------------------
    def header(self) -> _Html:
        """Title block (country, sub-regional node, date) and the list of sections."""
        _ = self._
        name = self.country.name(self.language)
        kicker = _("Community survey of female sex workers")
        contents = _("Contents")
        items = [("method", _("How the survey was done")), ("sample", _("Who answered")),
                 ("key", _("Key indicators"))]
        items += [(d, t) for d, t in domain_titles(self.language).items()]
        items += [("limitations", _("Limitations")), ("annex", _("Annex: definitions and sources"))]
        nav = "".join(f"<li><a href='#rk-{k}'>{_e(t)}</a></li>" for k, t in items)
        return _Html(
            f"<header class='rk-header'><p class='rk-kicker'>{_e(kicker)}</p>"
            f"<h1>{_e(name)}</h1>"
            f"<p class='rk-sub'>{_e(self.country.node_name(self.language))} · "
            f"{_e(format_date(self.created, self.locale))}</p></header>"
            f"<nav class='rk-toc'><h2>{_e(contents)}</h2><ol>{nav}</ol></nav>"
        )

    def method(self) -> _Html:
        """How the data were collected, in plain words, with the recruitment or venue summary."""
        _ = self._
        s = self.study
        resp = s.respondents
        n = format_number(len(resp), self.locale)
        cities = resp["city"].nunique()
        if s.design_type == "rds":
            seeds = int((resp["is_seed"] == "yes").sum())
            text = _("{n} women were interviewed in {cities} cities by respondent-driven sampling: the survey started "
                     "with {seeds} women known to the organisation (seeds), and each participant invited others with "
                     "coupons.").format(n=n, cities=cities, seeds=seeds)
            text += " " + _("Estimates weight each woman by the inverse of her network size (RDS-II, Volz–Heckathorn) "
                            "so that women with many contacts, who are more likely to be recruited, do not count more.")
        else:
            venues = resp["venue_id"].nunique()
            text = _("{n} women were interviewed at {venues} venues in {cities} cities by time-location sampling: venues "
                     "were drawn at random in each city, then women present at each venue.").format(
                n=n, venues=venues, cities=cities)
            text += " " + _("Estimates use sampling weights, with cities as strata and venues as clusters.")
        heading = _("How the survey was done")
        text2 = _("Percentages come with 95% confidence intervals that take the sampling design into account.")
        parts = [f"<section id='rk-method'><h2>{_e(heading)}</h2><p>{_e(text)}</p><p>{_e(text2)}</p>",
                 self._response_table()]
        parts.append(self._rds_summary() if s.design_type == "rds" else self._tls_summary())
        parts.append("</section>")
        return _Html("".join(parts))

    def _response_table(self) -> str:
        _ = self._
        data = self.study.data
        keep = data["consent"] == "yes"
        table = pd.DataFrame({"outcome": ["interviewed", "not_interviewed"],
                              "count": [int(keep.sum()), int((~keep).sum())]})
        labels = {"interviewed": _("Eligible, gave consent and were interviewed"),
                  "not_interviewed": _("Not eligible, or did not give consent")}
        pt = protect_counts(table, self.policy, dimension="outcome")
        title = _("Response")
        self._publish("response", pt, _("Women approached, by outcome"), {"outcome": title}, {"outcome": labels},
                      measure="contacts")
        return table_html(pt, self.language, self.locale)

    def _rds_summary(self) -> str:
        from research_kit.design.rds import recruitment_waves

        _ = self._
        design = self.study.design
        waves = recruitment_waves(design)
        counts = waves["wave"].value_counts().sort_index()
        table = pd.DataFrame({"wave": [str(w) for w in counts.index], "count": counts.to_numpy()})
        labels = {str(w): (_("Seeds") if w == 0 else _("Wave {k}").format(k=w)) for w in counts.index}
        pt = protect_counts(table, self.policy, dimension="wave")
        self._publish("rds_waves", pt, _("Respondents by recruitment wave"), {"wave": _("Recruitment wave")},
                      {"wave": labels})
        resp = self.study.respondents
        given = pd.to_numeric(resp.get("coupons_given"), errors="coerce")
        recruits = int((waves["wave"] > 0).sum())
        coupons = pd.DataFrame({"coupon": ["handed_out", "returned"],
                                "count": [int(given.fillna(0).sum()), recruits]})
        pt2 = protect_counts(coupons, self.policy, dimension="coupon", total=False)
        self._publish("rds_coupons", pt2, _("Coupons"), {"coupon": _("Coupons")},
                      {"coupon": {"handed_out": _("Handed out to participants"),
                                  "returned": _("Brought back by a new participant")}}, measure="coupons")
        text = _("Recruitment went through up to {w} waves from the seeds. The longer the chains, the less the "
                 "estimates depend on who the seeds were.").format(w=int(waves["wave"].max()))
        sub = _("Recruitment")
        parts = [f"<h3>{_e(sub)}</h3><p>{_e(text)}</p><div class='rk-pair'>",
                 table_html(pt, self.language, self.locale), table_html(pt2, self.language, self.locale), "</div>"]
        parts.append(self._convergence())
        return "".join(parts)

    def _convergence(self) -> str:
        """Running estimates of one or two key indicators, from the policy's minimum denominator on."""
        from research_kit.design.rds import convergence

        _ = self._
        design = self.study.design
        ids = [i for i in CONVERGENCE_INDICATORS if i not in self.not_measured][:2]
        step = self.policy.min_denominator
        figs = []
        for ind in ids:
            run = convergence(design, ind)
            run = run[run["level"].astype(str).isin(["1", "1.0", "True"])] if run["level"].nunique() > 1 else run
            values = design.data[ind].to_numpy(float)
            seen = (~pd.isna(values)).cumsum()
            events = pd.Series(values).fillna(0).to_numpy().cumsum()
            # A running estimate over the first few women is a percentage of fewer than min_denominator people:
            # start at min_denominator answers and step by as many, so each point adds a group at least as large.
            picks, last = [], 0
            for m in range(len(values)):
                if seen[m] >= step and seen[m] - last >= step or m == len(values) - 1 and seen[m] >= step:
                    picks.append(m)
                    last = seen[m]
            if not picks:
                continue
            est = run.set_index("n")["estimate"]
            frame = pd.DataFrame({"respondents": [m + 1 for m in picks],
                                  "estimate": [float(est.get(m + 1)) for m in picks],
                                  "n": [int(seen[m]) for m in picks], "n_event": [int(events[m]) for m in picks]})
            pt = protect_estimates(frame, self.policy, by=["respondents"])
            name = indicator_labels(self.language)[ind]
            fig = convergence_chart(pt, language=self.language, locale=self.locale, title=name)
            figs.append(self._figure(fig, f"convergence_{ind}", _("Running estimate of {name} as women joined "
                                                                  "the survey").format(name=name)))
        if not figs:
            return ""
        text = _("Convergence: each line shows an estimate recomputed as women joined the survey, starting once "
                 "{d} women had answered. A line that settles near its final value (dashed) suggests the sample "
                 "reached beyond the seeds' own circles.").format(d=step)
        sub = _("Convergence of the estimates")
        return f"<h3>{_e(sub)}</h3><p>{_e(text)}</p><div class='rk-pair'>" + "".join(figs) + "</div>"

    def _tls_summary(self) -> str:
        _ = self._
        resp = self.study.respondents
        labels = self._choice_labels("city")
        venues = resp.groupby("city")["venue_id"].nunique().reindex(list(labels)).dropna()
        table = pd.DataFrame({"city": list(venues.index), "count": venues.astype(int).to_numpy()})
        pt = protect_counts(table, self.policy, dimension="city")
        self._publish("tls_venues", pt, _("Venues visited, by city (stratum)"), {"city": _("City")},
                      {"city": labels}, measure="venues")
        text = _("Each city is a stratum: venues were listed and drawn at random within it, and every woman "
                 "counts with the weight of her chance of being selected.")
        sub = _("Venues and strata")
        return f"<h3>{_e(sub)}</h3><p>{_e(text)}</p>" + table_html(pt, self.language, self.locale)

    def _age_counts(self) -> ProtectedTable:
        resp = self.study.respondents
        labels = age_group_labels(self.language)
        if self.batch_inputs is not None:
            from research_kit.regional import RegionalInputs

            shared = RegionalInputs.load(self.batch_inputs).country_table(self.country.alpha_3, "sample_age_group")
            if shared is not None:
                # Protected jointly with the regional table: the same cells are hidden in every report.
                return ProtectedTable(shared.data.copy(), shared.policy, shared.kind, shared.dimensions,
                                      dict(shared.meta))
        counts = resp["age_group"].value_counts().reindex(list(labels), fill_value=0)
        return protect_counts(pd.DataFrame({"age_group": list(labels), "count": counts.to_numpy()}), self.policy,
                              dimension="age_group")

    def sample_tables(self) -> _Html:
        """Who answered: respondents by city, age group, workplace and nationality (counts, protected)."""
        _ = self._
        resp = self.study.respondents
        heading = _("Who answered")
        parts = [f"<h2>{_e(heading)}</h2>"]
        for field, title in (("city", _("City")), ("age_group", _("Age group")), ("venue_type", _("Main workplace")),
                             ("nationality", _("Migrant status")), ("years_sw_group", _("Years in sex work"))):
            if field not in resp:
                continue
            labels = self._dimension_labels(field)
            if field == "age_group":
                pt = self._age_counts()
            else:
                order = list(labels)
                counts = resp[field].value_counts().reindex(order, fill_value=0)
                pt = protect_counts(pd.DataFrame({field: order, "count": counts.to_numpy()}), self.policy,
                                    dimension=field)
            self._publish(f"sample_{field}", pt, _("Respondents by {what}").format(what=title.lower()),
                          {field: title}, {field: labels})
            parts.append(table_html(pt, self.language, self.locale))
        return _Html("<section class='rk-sample' id='rk-sample'>" + "".join(parts) + "</section>")

    def indicator_table(self) -> ProtectedTable:
        """Every indicator the country measured, with 95% confidence intervals (protected)."""
        _ = self._
        if "key_indicators" in self._published:
            return self._published["key_indicators"]
        pt = protect_estimates(self._estimates, self.policy, by=["indicator"])
        return self._publish("key_indicators", pt, _("Key indicators"), {"indicator": _("Indicator")},
                             {"indicator": self._indicator_labels()})

    def indicator_figure(self) -> _Html:
        """Bar chart of the key indicators; suppressed ones are labelled, not drawn."""
        _ = self._
        pt = self.indicator_table()
        fig = estimate_chart(pt, label_column="indicator", language=self.language, locale=self.locale,
                             title=_("Key indicators"))
        return _Html(self._figure(fig, "key_indicators",
                                  _("Bar chart of the key indicators with 95% confidence intervals")))

    def key_indicators(self) -> _Html:
        """The summary: every indicator in one table and one chart."""
        _ = self._
        heading = _("Key indicators")
        intro = _("The figures below are described domain by domain in the sections that follow.")
        pt = self.indicator_table()
        return _Html(f"<section id='rk-key'><h2>{_e(heading)}</h2><p>{_e(intro)}</p>"
                     f"{table_html(pt, self.language, self.locale)}{self.indicator_figure()}</section>")

    def age_table(self) -> ProtectedTable:
        """Every measured indicator by age group (under 25, 25 and older), protected."""
        _ = self._
        return self._by_table(None, "age_group")

    def _by_table(self, domain: str | None, dim: str) -> ProtectedTable | None:
        from research_kit import indicators

        _ = self._
        table_id = f"{domain}_by_{dim}" if domain else f"indicators_by_{dim}"
        if table_id in self._published:
            return self._published[table_id]
        est = self._estimates_by(dim)
        ids = [i.id for i in indicators.get() if domain is None or i.domain == domain]
        est = est[est["indicator"].isin(ids)]
        if est.empty:
            return None
        overall = self._estimates.set_index("indicator")["n"]
        sums = est.groupby("indicator")["n"].sum()
        # The overall figure is published; if some women have no answer for this characteristic, the overall
        # minus the groups shown would give their figure back: leave such an indicator out of this table.
        ok = [i for i in sums.index if int(sums[i]) == int(overall.get(i, -1))]
        labels = self._dimension_labels(dim)
        order = {code: k for k, code in enumerate(labels)}
        est = est[est["indicator"].isin(ok)].copy()
        if est.empty:
            return None
        est["_i"] = est["indicator"].map({i: k for k, i in enumerate(ids)})
        est["_l"] = est[dim].map(lambda c: order.get(c, len(order)))
        est = est.sort_values(["_i", "_l"]).drop(columns=["_i", "_l"]).reset_index(drop=True)
        pt = protect_estimates(est, self.policy, by=["indicator", dim], group="indicator")
        if not pt.data["status"].isin(("published", "caution")).any():
            return None  # every cell hidden: a table of dashes tells the reader nothing
        header = dimension_headers(self.study.form, [dim], self.language)[dim]
        caption = _("By {what}").format(what=header.lower())
        return self._publish(table_id, pt, caption, {"indicator": _("Indicator"), dim: header},
                             {"indicator": self._indicator_labels(), dim: labels})

    def domain(self, domain: str) -> _Html:
        """One domain (testing, treatment, prevention, stigma, violence, rights, organisation): findings in plain
        words, a table and a chart of its indicators, and tables by age group and the other disaggregations."""
        from research_kit import indicators
        from research_kit.report.findings import domain_findings

        _ = self._
        titles = domain_titles(self.language)
        if domain not in titles:
            raise ParameterError(f"Unknown domain {domain!r}. Domains: {', '.join(titles)}.")
        title = titles[domain]
        ids = [i.id for i in indicators.get() if i.domain == domain]
        measured = [i for i in ids if i not in self.not_measured]
        parts = [f"<section class='rk-domain' id='rk-{domain}'><h2>{_e(title)}</h2>"]
        names = self._indicator_labels()
        missing = [i for i in ids if i in self.not_measured]
        if measured:
            est = self._estimates[self._estimates["indicator"].isin(measured)].reset_index(drop=True)
            pt = protect_estimates(est, self.policy, by=["indicator"])
            pt = self._publish(f"{domain}_indicators", pt, _("{domain}: indicators").format(domain=title),
                               {"indicator": _("Indicator")}, {"indicator": names})
            by_age = self._by_table(domain, "age_group")
            sentences = domain_findings(pt, by_age, language=self.language, locale=self.locale)
            parts.append("<div class='rk-findings'>" + "".join(f"<p>{_e(t)}</p>" for t in sentences) + "</div>")
            parts.append(self._not_measured_note(missing))
            parts.append(table_html(pt, self.language, self.locale))
            if len(measured) > 1:  # one bar would only repeat the table's row (it is in the key indicators chart)
                fig = estimate_chart(pt, label_column="indicator", language=self.language, locale=self.locale,
                                     title=title)
                parts.append(self._figure(fig, f"{domain}_indicators",
                                          _("Bar chart of the indicators of {domain} with 95% confidence "
                                            "intervals").format(domain=title.lower())))
            for dim in DISAGGREGATIONS:
                t = by_age if dim == "age_group" else self._by_table(domain, dim)
                if t is not None:
                    parts.append(table_html(t, self.language, self.locale, group="indicator"))
        else:
            parts.append(self._not_measured_note(missing))
        parts.append("</section>")
        return _Html("".join(parts))

    def _not_measured_note(self, ids: list[str]) -> str:
        if not ids:
            return ""
        _ = self._
        names = self._indicator_labels()
        items = "".join(f"<li>{_e(names[i])}: {_e(self.not_measured[i])}.</li>" for i in ids)
        note = _("This country could not measure:")
        return f"<div class='rk-missing'><p>{_e(note)}</p><ul>{items}</ul></div>"

    def limitations(self) -> _Html:
        """What the numbers cannot say: design assumptions, self-report, hidden cells, unmeasured indicators."""
        _ = self._
        p = self.policy
        items = []
        if self.study.design_type == "rds":
            items.append(_("Respondent-driven sampling rests on assumptions that cannot be fully checked: that women "
                           "know one another as a connected network, report their number of contacts accurately, and "
                           "recruit at random among their contacts. If these do not hold, estimates may be biased in "
                           "ways the intervals do not show."))
        else:
            items.append(_("Time-location sampling reaches women at the venues on the list: women who work only "
                           "online, at home or in places not listed are under-represented or missing."))
        items.append(_("Everything is self-reported: experiences of violence, discrimination or a mandatory test may be "
                       "under-reported out of fear or shame, and recall over 12 months is imperfect."))
        hidden = sum(int(t.suppressed.sum()) for t in self._published.values())
        items.append(_("To protect respondents, {k} figures are not shown in this report (—): counts under {c} and "
                       "percentages based on fewer than {d} women.").format(k=hidden, c=p.min_count,
                                                                          d=p.min_denominator))
        if self.not_measured:
            names = self._indicator_labels()
            listed = "; ".join(names[i] for i in self.not_measured)
            items.append(_("Indicators this country could not measure: {names}.").format(names=listed))
        heading = _("Limitations")
        return _Html(f"<section id='rk-limitations'><h2>{_e(heading)}</h2><ul>"
                     + "".join(f"<li>{_e(t)}</li>" for t in items) + "</ul></section>")

    def annex(self) -> _Html:
        """Definitions of every indicator (GAM number, numerator, denominator, recall) and where the numbers come from."""
        from research_kit import indicators

        _ = self._
        p = self.policy
        rules = _("To protect the women who answered, counts under {k} are not shown (—), nor percentages based on "
                  "fewer than {d} women, or where fewer than {k} women have or do not have the characteristic. "
                  "Percentages based on {d} to {c} women are shown in parentheses: interpret them with caution.").format(
            k=p.min_count, d=p.min_denominator, c=p.caution_denominator - 1)
        head = [_("Indicator"), _("GAM"), _("Numerator"), _("Denominator"), _("Period")]
        rows = []
        for i in indicators.get():
            rows.append("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in (
                i.name(self.language), i.gam or "—", i.numerator_text(self.language),
                i.denominator_text(self.language), indicators.recall_label(i.recall, self.language))) + "</tr>")
        gam_note = _("GAM: indicator number in UNAIDS Global AIDS Monitoring (sex workers), where GAM has the same "
                     "indicator.")
        s = self.study
        data_file = Path(s.data.attrs["source"])
        prov = [
            (_("Data file"), f"{data_file.name} (SHA-256 {sha256_file(data_file)})"),
            (_("Form"), f"{s.form.form_id} {s.form.version}"),
            (_("Design"), s.design_type.upper()),
            (_("Disclosure policy"), p.describe()),
            (_("Software"), f"research_kit {__version__}"),
            (_("Date"), format_date(self.created, self.locale)),
        ]
        t_annex, t_defs, t_where = _("Annex: definitions and sources"), _("Definitions"), _("Where these numbers come from")
        t_rules = _("Disclosure control")
        prov_html = "".join(f"<tr><th scope='row'>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in prov)
        return _Html(
            f"<section class='rk-notes' id='rk-annex'><h2>{_e(t_annex)}</h2>"
            f"<h3>{_e(t_defs)}</h3><table class='rk-defs'><thead><tr>"
            + "".join(f"<th>{_e(h)}</th>" for h in head) + f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<p class='rk-small'>{_e(gam_note)}</p>"
            f"<h3>{_e(t_rules)}</h3><p>{_e(rules)}</p>"
            f"<h3>{_e(t_where)}</h3><table class='rk-prov'>{prov_html}</table></section>"
        )

    def notes(self) -> _Html:
        """The annex (kept under its first name)."""
        return self.annex()

    def exports(self) -> _Html:
        """Write ``tables.xlsx`` (every table the report showed) and show where the downloads are."""
        from research_kit.report.exports import downloads

        return _Html(downloads(self._published, self.output_dir, language=self.language, locale=self.locale))

    @property
    def published(self) -> dict[str, ProtectedTable]:
        """Every table this report has published so far, by table id."""
        return dict(self._published)
