"""Capacity reports: per organisation, per node, for the region — what the notebooks show, and how they are run.

:class:`OrganisationReport` is an organisation's own report: radar of its areas, its scores and
statements round by round, its draft ODTA plan (also written as an XLSX to edit), the follow-up of
its previous plan, and, for a national organisation, its programme coverage by site.
:class:`NodeReport` and :class:`RegionReport` compare organisations: heatmaps of organisations ×
areas, median and range by area, change between rounds, coverage by country or node. They are
made from the regional view of the scores only, so an organisation that asked not to be named in
regional outputs appears in none of their text, tables, figures or files.

:func:`organisation_report`, :func:`node_report` and :func:`region_report` run the notebook of
each kind with papermill and write ``index.html`` and ``report.pdf`` into ``<output_dir>/<folder>/``
(the folder is the organisation code, the node code, or ``region``); :func:`run_capacity_reports`
runs them all.

Examples
--------
>>> import tempfile
>>> from research_kit.synth.capacity import generate_capacity
>>> data = generate_capacity(tempfile.mkdtemp(), seed=5)
>>> report = OrganisationReport("py", data_path=data, language="en")
>>> report.area_scores().columns.tolist()
['area', 'baseline', 'followup_1', 'change', 'priority', 'fully', 'n_items']
>>> NodeReport("andean", data_path=data).heatmap_data().shape[1]
11
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import time
import traceback
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from research_kit import __version__
from research_kit.capacity import charts
from research_kit.capacity.coverage import (COUNTS, anonymous_countries, coverage_table, coverage_trend,
                                            protect_coverage, read_coverage)
from research_kit.capacity.coverage import DATA_FILE as COVERAGE_FILE
from research_kit.capacity.framework import load_framework
from research_kit.capacity.messages import text
from research_kit.capacity.organisations import get_organisation, members, node_organisation, organisations
from research_kit.capacity.plan import draft_plan, plan_file_name, read_plan, track_plan, write_plan
from research_kit.capacity.responses import DATA_FILE, read_responses
from research_kit.capacity.scoring import score
from research_kit.countries import NODES, get_country, node_name
from research_kit.disclosure import DisclosurePolicy
from research_kit.errors import ParameterError, ReportError
from research_kit.i18n import check_language, format_date, format_number, format_percent
from research_kit.batch.provenance import sha256_file

__all__ = ["OrganisationReport", "NodeReport", "RegionReport", "organisation_report", "node_report", "region_report",
           "run_capacity_reports", "ReportFiles", "report_folder", "DEFAULT_DATA", "NOTEBOOKS", "KINDS"]

#: Where ``research-kit synth`` puts the synthetic capacity data.
DEFAULT_DATA = "data/synthetic/capacity"
#: Notebook of each report kind.
NOTEBOOKS = {"organisation": "capacity_organisation", "node": "capacity_node", "region": "capacity_region"}
KINDS = tuple(NOTEBOOKS)
#: Actions of the plan shown in the report (the file has them all).
PLAN_ROWS_SHOWN = 15
_NODE_LOCALE = {"southern_cone": "PRY", "andean": "ECU", "central_america_caribbean": "SLV"}  # the host's country
_STYLE = """<style>
.rk-cap td.rk-level { text-align: center; white-space: nowrap; }
.rk-cap .rk-l1 { background: #f3eef9; } .rk-cap .rk-l2 { background: #e0d4ef; }
.rk-cap .rk-l3 { background: #b9a0db; } .rk-cap .rk-l4 { background: #5b2c91; color: #fff; }
.rk-cap tr.rk-group th { background: #f6f4fa; font-weight: 700; color: #6a3d9a; }
.rk-cap .rk-up { color: #3f1f6e; font-weight: 600; } .rk-cap .rk-down { color: #b35806; font-weight: 600; }
.rk-cap dl.rk-scale dt { font-weight: 600; margin-top: .4rem; } .rk-cap dl.rk-scale dd { margin: 0; color: #5b5870; }
.rk-cap .rk-band { font-style: italic; }
.rk-cap th, table.rk-cap thead th.rk-num { white-space: normal; }
table.rk-cap td.rk-suppressed { text-align: right; }
table.rk-cap td.rk-plain { white-space: nowrap; }
</style>"""


class _Html:
    """An HTML fragment that JupyterLab and nbconvert show as such."""

    def __init__(self, text_: str):
        self.text = text_

    def _repr_html_(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


def _e(value) -> str:
    return html.escape(str(value))


def _min_count(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ParameterError(f"min_count must be a whole number of at least 1, not {value!r}.")
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ParameterError(f"min_count must be a whole number of at least 1, not {value!r}.") from None
    if number < 1 or not number.is_integer():
        raise ParameterError(f"min_count must be a whole number of at least 1, not {value!r}.")
    return int(number)


def _data_dir(data_path) -> Path:
    if data_path is None:
        data_path = DEFAULT_DATA
    if not isinstance(data_path, (str, Path)):
        raise ParameterError(f"data_path must be the folder of the capacity data (or its export), not {data_path!r}.")
    return Path(data_path)


def report_folder(kind: str, code: str) -> str:
    """Folder name of a report: the organisation's code, the node's code, or ``region``."""
    if kind == "organisation":
        return get_organisation(code).code
    if kind == "node":
        return _node_code(code)
    if kind == "region":
        return "region"
    raise ParameterError(f"Unknown capacity report kind {kind!r}. Kinds: {', '.join(KINDS)}.")


def _node_code(node: str) -> str:
    if isinstance(node, str):
        key = node.strip().lower().removeprefix("node_")
        if key in NODES:
            return key
    raise ParameterError(f"Unknown sub-regional node {node!r}. Choose one of: {', '.join(NODES)}.")


class _CapacityReport:
    """What every capacity report shares: data, language, locale, tables and figures written beside it."""

    folder: str = ""
    locale: str = "es"

    def __init__(self, *, data_path=None, language: str = "es", output_dir=None, min_count=5):
        self.language = check_language(language)
        self.data_dir = _data_dir(data_path)
        self.min_count = _min_count(min_count)
        self.policy = DisclosurePolicy(min_count=self.min_count, min_denominator=max(25, self.min_count),
                                       caution_denominator=max(50, self.min_count))
        self.framework = load_framework()
        self.responses = read_responses(self.data_dir, self.framework)
        self.scores = score(self.responses, framework=self.framework)
        self.output_dir = Path(output_dir) if output_dir else None
        self.created = dt.date.today()

    # ---- helpers ------------------------------------------------------------------------------
    def _t(self, key: str, **values) -> str:
        return text(key, self.language, **values)

    @property
    def _out(self) -> Path | None:
        return self.output_dir / self.folder if self.output_dir is not None else None

    def _num(self, value, digits: int = 1) -> str:
        return format_number(value, self.locale, digits=digits)

    def _signed(self, value) -> str:
        if value is None or pd.isna(value):
            return "—"
        sign = "+" if value > 0 else ("−" if value < 0 else "")
        return sign + self._num(abs(value))

    def _area_name(self, code: str) -> str:
        return self.framework.area(code).name(self.language)

    def _round_name(self, code: str) -> str:
        return self.framework.round_name(code, self.language)

    def _org_name(self, code: str) -> str:
        return get_organisation(code).name(self.language)

    def _month(self, period: str) -> str:
        from babel.dates import format_skeleton

        y, m = (int(p) for p in period.split("-"))
        return format_skeleton("yMMMM", dt.date(y, m, 1), locale=self.locale)

    def _month_short(self, period: str) -> str:
        from babel.dates import format_skeleton

        y, m = (int(p) for p in period.split("-"))
        return format_skeleton("yMMM", dt.date(y, m, 1), locale=self.locale)

    def _write_csv(self, name: str, frame: pd.DataFrame) -> None:
        if self._out is None:
            return
        folder = self._out / "tables"
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")

    def _figure(self, fig, name: str, alt: str) -> _Html:
        png = charts.save_figure(fig, self._out / "figures" if self._out is not None else None, name)
        data = base64.b64encode(png).decode()
        return _Html(f"<figure class='rk-figure'><img src='data:image/png;base64,{data}' alt='{_e(alt)}'/></figure>")

    @staticmethod
    def _table(caption: str, head: list[str], rows: list[str], table_id: str, numeric: set[int] = frozenset()) -> str:
        th = "".join(f"<th class='rk-num'>{_e(h)}</th>" if k in numeric else f"<th>{_e(h)}</th>" for k, h in enumerate(head))
        return (f"<table class='rk-table rk-cap' data-table-id='{_e(table_id)}' data-kind='capacity'>"
                f"<caption>{_e(caption)}</caption><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def _level_cell(self, level, colour: bool = True) -> str:
        if level is None or pd.isna(level):
            return "<td class='rk-level'>—</td>"
        lv = int(level)
        name = self.framework.level_name(lv, self.language)
        cls = f"rk-level rk-l{lv}" if colour else "rk-level rk-plain"
        return f"<td class='{cls}' title='{_e(self.framework.level_description(lv, self.language))}'>{lv} · {_e(name)}</td>"

    def _score_cell(self, value) -> str:
        if value is None or pd.isna(value):
            return "<td class='rk-num'>—</td>"
        return f"<td class='rk-num'>{self._num(value, 2)}</td>"

    def _change_cell(self, value) -> str:
        if value is None or pd.isna(value):
            return "<td class='rk-num'>—</td>"
        cls = "rk-up" if value > 0 else "rk-down" if value < 0 else ""
        return f"<td class='rk-num {cls}'>{self._signed(value)}</td>"

    def _header(self, title: str, sub: str) -> _Html:
        kicker = self._t("kicker_capacity")
        return _Html(_STYLE + f"<header class='rk-header'><p class='rk-kicker'>{_e(kicker)}</p><h1>{_e(title)}</h1>"
                     f"<p class='rk-sub'>{_e(sub)}</p></header>")

    def _scale_notes(self) -> str:
        fw = self.framework
        scale = "".join(f"<dt>{lv} · {_e(fw.level_name(lv, self.language))}</dt>"
                        f"<dd>{_e(fw.level_description(lv, self.language))}</dd>" for lv in fw.levels)
        return f"<h3>{_e(self._t('scale_heading'))}</h3><dl class='rk-scale'>{scale}</dl>"

    def _provenance(self) -> str:
        rows = []
        for name in (DATA_FILE, COVERAGE_FILE):
            path = self.data_dir / name
            if path.is_file():
                rows.append((self._t("data_file"), f"{name} (SHA-256 {sha256_file(path)[:16]}…)"))
        rows.append((self._t("form"), f"{self.framework.form.form_id} {self.framework.form.version}"))
        rows.append((self._t("software"), f"research_kit {__version__}"))
        body = "".join(f"<tr><th scope='row'>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
        return f"<h3>{_e(self._t('where_heading'))}</h3><table class='rk-prov'>{body}</table>"

    @cached_property
    def coverage_data(self) -> pd.DataFrame | None:
        """The coverage-monitoring data of the folder, or None when there are none."""
        path = self.data_dir / COVERAGE_FILE
        return read_coverage(path) if path.is_file() else None

    def _coverage_html(self, level: str, *, countries=None, exclude=(), unit_labels: dict, table_id: str,
                       unit_header: str) -> str:
        data = self.coverage_data
        table = coverage_table(data, level, exclude=exclude, countries=countries)
        if table.empty:
            return f"<p>{_e(self._t('no_coverage'))}</p>"
        pt = protect_coverage(table, self.policy)
        period = pt.period
        keys = {"site": "site", "country": "country", "node": "node", "region": "region"}
        unit = keys[pt.level]
        head = [unit_header, *(self._t(f"cov_{c}") for c in COUNTS), self._t("cov_coverage"), self._t("cov_condoms_per_sw")]
        rows = []
        suppressed = _e(self._t("suppressed_title"))
        for _, r in pt.data.iterrows():
            is_total = r[unit] == "total"
            label = self._t("cov_total") if is_total else unit_labels.get(r[unit], r[unit])
            cells = [f"<th scope='row'>{_e(label)}</th>"]
            for c in COUNTS:
                if r[f"{c}_status"] in ("published", "caution"):
                    cells.append(f"<td class='rk-count rk-num' data-count='{int(r[c])}'>{self._num(r[c], 0)}</td>")
                else:
                    cells.append(f"<td class='rk-count rk-suppressed rk-{r[f'{c}_status']}' title='{suppressed}'>—</td>")
            for ratio in ("coverage", "condoms_per_sw"):
                v = r[ratio]
                if v is None or (isinstance(v, float) and np.isnan(v)):
                    cells.append(f"<td class='rk-suppressed' title='{suppressed}'>—</td>")
                elif isinstance(v, str):
                    cells.append(f"<td class='rk-num rk-band'>{_e(v)}</td>")
                elif ratio == "coverage":
                    cells.append(f"<td class='rk-num'>{format_percent(v, self.locale, digits=1)}</td>")
                else:
                    cells.append(f"<td class='rk-num'>{self._num(v, 1)}</td>")
            cls = " class='rk-total'" if is_total else ""
            rows.append(f"<tr{cls} data-status='{r['reached_status']}'>{''.join(cells)}</tr>")
        if self._out is not None:
            from research_kit.disclosure.publish import write_table

            for c, count_pt in pt.counts.items():
                count_pt.meta.update({"table_id": f"{table_id}_{c}", "caption": self._t(f"cov_{c}")})
                write_table(count_pt, self._out / "tables", f"{table_id}_{c}", measure=f"coverage_{c}",
                            fixed={"period": period, "scope": self.folder})
            published = pt.data[[unit, "coverage", "condoms_per_sw"]].copy()
            published["period"] = period
            self._write_csv(f"{table_id}_indicators", published)
        caption = self._t("coverage_month", month=self._month(period))
        numeric = set(range(1, len(head)))
        return self._table(caption, head, rows, table_id, numeric)

    def _trend_html(self, level: str, *, countries=None, exclude=(), labels: dict, name: str) -> str:
        trend = coverage_trend(self.coverage_data, level, countries=countries, exclude=exclude, policy=self.policy)
        if trend.empty or not np.isfinite(trend.to_numpy(float)).any():
            return ""
        fig = charts.trend_chart(trend, labels=labels, locale=self.locale,
                                 month_labels={p: self._month_short(p) for p in trend.index},
                                 title=self._t("coverage_trend_title"), ylabel=self._t("coverage_axis"))
        if self._out is not None:
            out = trend.copy()
            out.columns = [str(c) for c in out.columns]
            self._write_csv(name, out.reset_index())
        return self._figure(fig, name, self._t("trend_alt")).text

    def _notes(self, extra: list[str]) -> _Html:
        paras = "".join(f"<p>{_e(p)}</p>" for p in extra)
        return _Html(f"<section class='rk-notes rk-cap'><h2>{_e(self._t('notes_heading'))}</h2>{paras}"
                     f"{self._scale_notes()}{self._provenance()}</section>")


# ---- the organisation's own report -----------------------------------------------------------

class OrganisationReport(_CapacityReport):
    """An organisation's own capacity report.

    Parameters
    ----------
    organisation : str
        Organisation code (``pry``, ``node_andean``, ``secretariat``) or a national organisation's ISO code.
    data_path : str or Path, optional
        Folder with ``capacity_assessment.csv`` (and ``coverage_monitoring.csv``, ``plans/``);
        default ``data/synthetic/capacity``.
    language : {'es', 'en', 'pt'}
    output_dir : str or Path, optional
        Where tables, figures and the plan file are written (``<output_dir>/<code>/``).
    min_count : int
        Smallest count that may be published (coverage).
    round : str, optional
        The round reported (default: the organisation's latest).
    plans_dir : str or Path, optional
        Where edited plans of earlier rounds are (default ``<data_path>/plans``).
    """

    def __init__(self, organisation, *, data_path=None, language: str = "es", output_dir=None, min_count=5,
                 round: str | None = None, plans_dir=None):
        super().__init__(data_path=data_path, language=language, output_dir=output_dir, min_count=min_count)
        self.organisation = get_organisation(organisation)
        self.folder = self.organisation.code
        self.locale = self.organisation.locale(language)
        if not self.scores.rounds_of(self.organisation.code):
            raise ParameterError(f"There are no capacity responses from {self.organisation} in {self.data_dir}.")
        self.round = self.scores._round(round, self.organisation.code)
        order = self.framework.round_order
        self.rounds = tuple(r for r in self.scores.rounds_of(self.organisation.code) if order(r) <= order(self.round))
        self.plans_dir = Path(plans_dir) if plans_dir else self.data_dir / "plans"

    # ---- computed -----------------------------------------------------------------------------
    def area_scores(self) -> pd.DataFrame:
        """Area scores by round, change from the first to the last round shown, priority and statements fully in place."""
        code = self.organisation.code
        wide = self.scores.area_scores(code)[list(self.rounds)]
        out = wide.reset_index()
        out["change"] = (wide[self.rounds[-1]] - wide[self.rounds[0]]).to_numpy() if len(self.rounds) > 1 else np.nan
        now = self.scores.areas[(self.scores.areas["organisation"] == code) & (self.scores.areas["round"] == self.round)]
        now = now.set_index("area")
        out["priority"] = out["area"].map(now["priority"])
        out["fully"] = out["area"].map(now["fully"]).astype(int)
        out["n_items"] = out["area"].map(now["n_items"]).astype(int)
        return out

    @cached_property
    def plan(self):
        """The draft ODTA plan for the round reported."""
        return draft_plan(self.scores, self.organisation.code, self.round, language=self.language)

    # ---- what the notebook shows --------------------------------------------------------------
    def header(self) -> _Html:
        org = self.organisation
        parts = [p for p in (org.node_name(self.language), self._round_name(self.round),
                             format_date(self.created, self.locale)) if p]
        return self._header(org.name(self.language), " · ".join(parts))

    def summary(self) -> _Html:
        a = self.area_scores()
        latest = a.set_index("area")[self.round].sort_values(kind="stable")
        weak = ", ".join(f"{self._area_name(c)} ({self._num(v, 2)})" for c, v in latest.head(2).items())
        strong = ", ".join(f"{self._area_name(c)} ({self._num(v, 2)})" for c, v in latest.iloc[::-1].head(2).items())
        r = self.scores.responses
        date = r.loc[(r["organisation"] == self.organisation.code) & (r["round"] == self.round), "assessment_date"]
        when = str(date.iloc[0]) if len(date) else ""
        try:
            when = format_date(dt.date.fromisoformat(when), self.locale)
        except ValueError:
            pass
        body = self._t("org_summary", round=self._round_name(self.round), date=when, strong=strong, weak=weak)
        return _Html(f"<section class='rk-cap'><h2>{_e(self._t('summary_heading'))}</h2><p>{_e(body)}</p>"
                     f"<p class='rk-sub'>{_e(self._t('own_report'))}</p></section>")

    def radar(self) -> _Html:
        wide = self.scores.area_scores(self.organisation.code)[list(self.rounds)]
        fig = charts.radar_chart(wide, labels={a.code: a.name(self.language) for a in self.framework.areas},
                                 series_labels={r: self._round_name(r) for r in self.rounds}, locale=self.locale,
                                 low=self.framework.min_level, high=self.framework.max_level)
        return _Html(f"<h2>{_e(self._t('radar_heading'))}</h2>" + self._figure(fig, "radar", self._t("radar_alt")).text)

    def areas_table(self) -> _Html:
        a = self.area_scores()
        self._write_csv("area_scores", a)
        head = [self._t("col_area"), *(self._round_name(r) for r in self.rounds), self._t("col_change"),
                self._t("col_priority"), self._t("col_gaps")]
        rows = []
        for _, r in a.iterrows():
            cells = f"<th scope='row'>{_e(self._area_name(r['area']))}</th>"
            cells += "".join(self._score_cell(r[rnd]) for rnd in self.rounds)
            cells += self._change_cell(r["change"])
            cells += f"<td>{_e(self.framework.priority_name(r['priority'], self.language))}</td>"
            cells += f"<td class='rk-num'>{int(r['n_items'] - r['fully'])} / {int(r['n_items'])}</td>"
            rows.append(f"<tr>{cells}</tr>")
        numeric = set(range(1, len(self.rounds) + 2)) | {len(head) - 1}
        caption = self._t("areas_caption")
        return _Html(f"<h2>{_e(self._t('areas_heading'))}</h2>" + self._table(caption, head, rows, "area_scores", numeric))

    def items_table(self) -> _Html:
        levels = self.scores.item_levels(self.organisation.code)[["area", *self.rounds]]
        out = levels.reset_index()
        out.insert(2, "statement", [self.framework.item(i).statement(self.language) for i in out["item"]])
        self._write_csv("statements", out)
        head = [self._t("col_statement"), *(self._round_name(r) for r in self.rounds)]
        rows = []
        for area in self.framework.areas:
            rows.append(f"<tr class='rk-group'><th colspan='{len(head)}' scope='rowgroup'>{_e(area.name(self.language))}</th></tr>")
            for item in area.items:
                cells = f"<th scope='row'>{_e(item.statement(self.language))}</th>"
                cells += "".join(self._level_cell(levels.at[item.code, r]) for r in self.rounds)
                rows.append(f"<tr>{cells}</tr>")
        caption = self._t("items_caption")
        return _Html(f"<h2>{_e(self._t('items_heading'))}</h2>" + self._table(caption, head, rows, "statements"))

    def plan_tables(self) -> _Html:
        """The ranked areas and the proposed actions; writes the plan's XLSX beside the report."""
        plan = self.plan
        file_name = plan_file_name(self.organisation.code, self.round)
        if self._out is not None:
            write_plan(plan, self._out / file_name)
            self._write_csv("plan_areas", plan.areas)
            self._write_csv("plan_actions", plan.actions)
        fw = self.framework
        head = [self._t("col_rank"), self._t("col_area"), self._t("col_score"), self._t("col_priority"),
                self._t("col_need"), self._t("col_gaps"), self._t("col_absent")]
        rows = []
        for _, a in plan.areas.iterrows():
            rows.append(f"<tr><td class='rk-num'>{int(a['rank'])}</td><th scope='row'>{_e(self._area_name(a['area']))}</th>"
                        f"{self._score_cell(a['score'])}<td>{_e(fw.priority_name(a['priority'], self.language))}</td>"
                        f"<td class='rk-num'>{self._num(a['need'], 2)}</td><td class='rk-num'>{int(a['gaps'])}</td>"
                        f"<td class='rk-num'>{int(a['absent'])}</td></tr>")
        areas_html = self._table(self._t("plan_areas_heading"), head, rows, "plan_areas", {0, 2, 4, 5, 6})
        head = [self._t("plan_action_id"), self._t("plan_area_name"), self._t("plan_action"), self._t("plan_level"),
                self._t("plan_target_level"), self._t("plan_provider"), f"{self._t('plan_start')} – {self._t('plan_end')}"]
        rows = []
        for _, a in plan.actions.head(PLAN_ROWS_SHOWN).iterrows():
            provider = text(f"provider_{a['provider']}", self.language)
            rows.append(f"<tr><td>{_e(a['action_id'])}</td><td>{_e(a['area_name'])}</td><td>{_e(a['action'])}</td>"
                        f"{self._level_cell(a['level'], False)}{self._level_cell(a['target_level'], False)}<td>{_e(provider)}</td>"
                        f"<td class='rk-num'>{_e(a['start'])} – {_e(a['end'])}</td></tr>")
        actions_html = self._table(self._t("plan_actions_heading"), head, rows, "plan_actions")
        notes = [self._t("plan_file_note", file=file_name)]
        if len(plan.actions) > PLAN_ROWS_SHOWN:
            notes.append(self._t("plan_more_rows", shown=PLAN_ROWS_SHOWN, total=len(plan.actions)))
        paras = "".join(f"<p>{_e(n)}</p>" for n in notes)
        return _Html(f"<section class='rk-cap'><h2>{_e(self._t('plan_heading'))}</h2>{paras}"
                     f"<h3>{_e(self._t('plan_areas_heading'))}</h3>{areas_html}"
                     f"<h3>{_e(self._t('plan_actions_heading'))}</h3>{actions_html}</section>")

    def previous_plan(self):
        """The edited plan of the round before the one reported, read back from ``plans_dir`` (None if absent)."""
        earlier = self.rounds[:-1]
        if not earlier:
            return None
        path = self.plans_dir / plan_file_name(self.organisation.code, earlier[-1])
        return read_plan(path) if path.is_file() else None

    def tracking(self) -> _Html:
        """Each action of the previous plan against this round's levels."""
        heading = f"<h2>{_e(self._t('tracking_heading'))}</h2>"
        plan = self.previous_plan()
        if plan is None:
            return _Html(f"<section class='rk-cap'>{heading}<p>{_e(self._t('no_previous_plan'))}</p></section>")
        tracked = track_plan(plan, self.scores, round=self.round)
        self._write_csv("plan_tracking", tracked)
        counts = tracked["result"].value_counts()
        summary = " · ".join(f"{self._t('result_' + r)}: {int(counts.get(r, 0))}" for r in
                             ("achieved", "improved", "unchanged", "worse") if counts.get(r, 0))
        head = [self._t("plan_action_id"), self._t("plan_statement"), self._t("plan_status"), self._t("col_then"),
                self._t("col_target"), self._t("col_now"), self._t("col_result")]
        rows = []
        for _, a in tracked.iterrows():
            statement = (self.framework.item(a["item"]).statement(self.language) if a["item"]
                         else self._area_name(a["area"]))
            rows.append(f"<tr><td>{_e(a['action_id'])}</td><td>{_e(statement)}</td>"
                        f"<td>{_e(text('status_' + a['status'], self.language))}</td>"
                        f"{self._level_cell(a['level'], False)}{self._level_cell(a['target_level'], False)}"
                        f"{self._level_cell(a['level_now'] if a['item'] else None, False)}"
                        f"<td>{_e(self._t('result_' + a['result']))}</td></tr>")
        caption = f"{self._round_name(plan.round)} → {self._round_name(self.round)}"
        return _Html(f"<section class='rk-cap'>{heading}<p>{_e(summary)}</p>"
                     + self._table(caption, head, rows, "plan_tracking") + "</section>")

    def coverage(self) -> _Html:
        """Programme coverage of the organisation's sites (national organisations)."""
        heading = f"<h2>{_e(self._t('coverage_heading'))}</h2>"
        org = self.organisation
        if org.country is None:
            return _Html(f"<section class='rk-cap'>{heading}<p>{_e(self._t('not_national'))}</p></section>")
        if self.coverage_data is None or not (self.coverage_data["country"] == org.country.alpha_3).any():
            return _Html(f"<section class='rk-cap'>{heading}<p>{_e(self._t('no_coverage'))}</p></section>")
        from research_kit.forms import load_form

        form = load_form("coverage_monitoring")
        labels = {c.name: c.label(self.language) for c in form.choice_list("site")}
        table = self._coverage_html("site", countries=[org.country.alpha_3], unit_labels=labels,
                                    table_id="coverage_sites", unit_header=self._t("col_site"))
        trend = self._trend_html("country", countries=[org.country.alpha_3],
                                 labels={org.country.alpha_3: org.country.name(self.language)}, name="coverage_trend")
        rule = self._t("coverage_rule", k=self.min_count)
        return _Html(f"<section class='rk-cap'>{heading}{table}{trend}<p class='rk-sub'>{_e(rule)}</p></section>")

    def notes(self) -> _Html:
        return self._notes([self._t("score_rule"), self._t("rank_rule")])


# ---- node and region -----------------------------------------------------------------------------

class _GroupReport(_CapacityReport):
    """Comparisons between organisations: from the regional view only."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.view = self.scores.regional()
        self.excluded_countries = anonymous_countries(self.scores.anonymous)
        if not self.view.rounds:
            raise ParameterError(f"There are no capacity responses that may be shown in regional outputs in {self.data_dir}.")
        self.round = self.view.rounds[-1]

    def _rows(self) -> tuple[list[str], tuple[int, ...]]:
        raise NotImplementedError

    def heatmap_data(self, round: str | None = None) -> pd.DataFrame:
        """Area scores of the organisations shown (rows) by area (columns), for one round (default: latest)."""
        rows, _sep = self._rows()
        return self.view.matrix(round or self.round, rows)

    def _row_labels(self) -> dict:
        # In a chart of organisations, a national organisation is named by its country (shorter, and as clear).
        return {o.code: o.country.name(self.language) if o.country else o.name(self.language) for o in organisations()}

    @staticmethod
    def _separators(rows: list[str], sep: tuple[int, ...], shown) -> tuple[int, ...]:
        """Row positions of the group lines, counting only the rows actually shown."""
        at = [len([r for r in rows[:k] if r in shown]) for k in sep]
        return tuple(dict.fromkeys(k for k in at if 0 < k < len(shown)))

    def heatmap(self) -> _Html:
        rows, sep = self._rows()
        matrix = self.heatmap_data()
        separators = self._separators(rows, sep, matrix.index)
        fig = charts.heatmap_chart(matrix, row_labels=self._row_labels(),
                                   col_labels={a.code: a.name(self.language) for a in self.framework.areas},
                                   locale=self.locale, low=self.framework.min_level, high=self.framework.max_level,
                                   separators=separators)
        out = matrix.reset_index()
        out.insert(1, "name", [self._org_name(c) for c in out["organisation"]])
        out.insert(2, "round", self.round)
        self._write_csv("heatmap", out)
        heading = self._t("heatmap_heading")
        caption = f"{heading} · {self._round_name(self.round)}"
        return _Html(f"<h2>{_e(heading)}</h2><p class='rk-sub'>{_e(caption)}</p>"
                     + self._figure(fig, "heatmap", self._t("heatmap_alt")).text)

    def _summary_table(self, summary: pd.DataFrame, columns: list[tuple[str, str]], caption: str, table_id: str) -> str:
        """Median (minimum–maximum) per area, one column per (group, round); the header says how many organisations."""
        index = summary.set_index(["group", "round", "area"])
        head = [self._t("col_area")]
        for label, key in columns:
            g, r = key.split("|")
            n = summary[(summary["group"] == g) & (summary["round"] == r)]["n"]
            head.append(f"{label} (n = {int(n.max())})" if len(n) else label)
        rows = []
        for area in self.framework.areas:
            cells = f"<th scope='row'>{_e(area.name(self.language))}</th>"
            for _label, key in columns:
                g, r = key.split("|")
                if (g, r, area.code) in index.index:
                    s = index.loc[(g, r, area.code)]
                    cells += (f"<td class='rk-num'>{self._num(s['median'], 2)} "
                              f"<span class='rk-sub'>({self._num(s['min'], 2)}–{self._num(s['max'], 2)})</span></td>")
                else:
                    cells += "<td class='rk-num'>—</td>"
            rows.append(f"<tr>{cells}</tr>")
        return self._table(caption, head, rows, table_id, set(range(1, len(head))))

    def change(self) -> _Html:
        heading = f"<h2>{_e(self._t('change_heading'))}</h2>"
        rows, sep = self._rows()
        ch = self.view.change()
        if ch.empty:
            return _Html(f"<section class='rk-cap'>{heading}<p>{_e(self._t('no_change_yet'))}</p></section>")
        ch = ch[ch["organisation"].isin(rows)]
        wide = ch.pivot(index="organisation", columns="area", values="change")
        wide = wide.reindex(index=[r for r in rows if r in wide.index], columns=[a.code for a in self.framework.areas])
        fig = charts.change_chart(wide, row_labels=self._row_labels(),
                                  col_labels={a.code: a.name(self.language) for a in self.framework.areas},
                                  locale=self.locale, separators=self._separators(rows, sep, wide.index))
        out = ch.copy()
        out.insert(1, "name", [self._org_name(c) for c in out["organisation"]])
        out["from_round"], out["to_round"] = ch.attrs.get("from_round"), ch.attrs.get("to_round")
        self._write_csv("change", out)
        caption = f"{self._round_name(ch.attrs['from_round'])} → {self._round_name(ch.attrs['to_round'])}"
        return _Html(f"<section class='rk-cap'>{heading}<p class='rk-sub'>{_e(caption)}</p>"
                     + self._figure(fig, "change", self._t("change_alt")).text + "</section>")

    def notes(self) -> _Html:
        return self._notes([self._t("left_out"), self._t("score_rule"), self._t("coverage_rule", k=self.min_count)])


class NodeReport(_GroupReport):
    """A sub-regional node's report: its national organisations and the node itself, compared by area.

    Parameters
    ----------
    node : str
        ``southern_cone``, ``andean`` or ``central_america_caribbean`` (or the node's organisation code).
    data_path, language, output_dir, min_count
        As for :class:`OrganisationReport`.
    """

    def __init__(self, node: str, *, data_path=None, language: str = "es", output_dir=None, min_count=5):
        self.node = _node_code(node)
        self.folder = self.node
        self.locale = get_country(_NODE_LOCALE[self.node]).locale(check_language(language))
        super().__init__(data_path=data_path, language=language, output_dir=output_dir, min_count=min_count)

    def _rows(self):
        nationals = [o.code for o in members(self.node)]
        return nationals + [node_organisation(self.node).code], (len(nationals),)

    def header(self) -> _Html:
        title = node_name(self.node, self.language)
        sub = f"{self._round_name(self.round)} · {format_date(self.created, self.locale)}"
        return self._header(title, sub)

    def summary(self) -> _Html:
        rows, _ = self._rows()
        n = int(self.view.responses[(self.view.responses["round"] == self.round)
                                    & self.view.responses["organisation"].isin(rows)].shape[0])
        body = self._t("group_summary", n=n, round=self._round_name(self.round))
        return _Html(f"<section class='rk-cap'><h2>{_e(self._t('summary_heading'))}</h2><p>{_e(body)}</p>"
                     f"<p class='rk-sub'>{_e(self._t('left_out'))}</p></section>")

    def summary_table(self) -> _Html:
        s = self.view.summary(by="node")
        s = s[s["group"] == self.node]
        self._write_csv("summary", s)
        columns = [(self._round_name(r), f"{self.node}|{r}") for r in self.view.rounds]
        caption = self._t("summary_caption")
        return _Html(f"<h2>{_e(self._t('group_summary_heading'))}</h2>"
                     + self._summary_table(s, columns, caption, "summary"))

    def coverage(self) -> _Html:
        heading = f"<h2>{_e(self._t('coverage_heading'))}</h2>"
        if self.coverage_data is None:
            return _Html(f"<section class='rk-cap'>{heading}<p>{_e(self._t('no_coverage'))}</p></section>")
        countries = [o.country.alpha_3 for o in members(self.node)]
        labels = {c: get_country(c).name(self.language) for c in countries}
        table = self._coverage_html("country", countries=countries, exclude=self.excluded_countries, unit_labels=labels,
                                    table_id="coverage_countries", unit_header=self._t("col_country"))
        trend = self._trend_html("country", countries=countries, exclude=self.excluded_countries, labels=labels,
                                 name="coverage_trend")
        return _Html(f"<section class='rk-cap'>{heading}{table}{trend}</section>")


class RegionReport(_GroupReport):
    """The regional report: every organisation that may be shown, the nodes and the Secretariat, by area.

    Parameters
    ----------
    data_path, language, output_dir, min_count
        As for :class:`OrganisationReport`.
    """

    folder = "region"

    def __init__(self, *, data_path=None, language: str = "es", output_dir=None, min_count=5):
        self.locale = get_country("ARG").locale(check_language(language))  # the Secretariat works from Buenos Aires
        super().__init__(data_path=data_path, language=language, output_dir=output_dir, min_count=min_count)

    def _rows(self):
        rows, sep = [], []
        for node in NODES:
            rows += [o.code for o in members(node)]
            sep.append(len(rows))
        rows += [node_organisation(n).code for n in NODES] + ["secretariat"]
        return rows, tuple(sep)

    def header(self) -> _Html:
        sub = f"{self._round_name(self.round)} · {format_date(self.created, self.locale)}"
        return self._header(self._t("region_title"), sub)

    def summary(self) -> _Html:
        n = int((self.view.responses["round"] == self.round).sum())
        body = self._t("group_summary", n=n, round=self._round_name(self.round))
        return _Html(f"<section class='rk-cap'><h2>{_e(self._t('summary_heading'))}</h2><p>{_e(body)}</p>"
                     f"<p class='rk-sub'>{_e(self._t('left_out'))}</p></section>")

    def summary_table(self) -> _Html:
        by_node = self.view.summary(by="node", round=self.round)
        region = self.view.summary(by="region")
        both = pd.concat([by_node, region], ignore_index=True)
        self._write_csv("summary", both)
        columns = [(node_name(n, self.language), f"{n}|{self.round}") for n in NODES]
        columns.append((self._t("region_title"), f"region|{self.round}"))
        caption = f"{self._t('summary_caption')} · {self._round_name(self.round)}"
        table = self._summary_table(both, columns, caption, "summary")
        rounds = [(self._round_name(r), f"region|{r}") for r in self.view.rounds]
        by_round = self._summary_table(region, rounds, f"{self._t('summary_caption')} · {self._t('region_title')}",
                                       "summary_rounds")
        return _Html(f"<h2>{_e(self._t('group_summary_heading'))}</h2>{table}{by_round}")

    def coverage(self) -> _Html:
        heading = f"<h2>{_e(self._t('coverage_heading'))}</h2>"
        if self.coverage_data is None:
            return _Html(f"<section class='rk-cap'>{heading}<p>{_e(self._t('no_coverage'))}</p></section>")
        labels = {n: node_name(n, self.language) for n in NODES}
        table = self._coverage_html("node", exclude=self.excluded_countries, unit_labels=labels,
                                    table_id="coverage_nodes", unit_header=self._t("col_node"))
        trend = self._trend_html("node", exclude=self.excluded_countries, labels=labels, name="coverage_trend")
        return _Html(f"<section class='rk-cap'>{heading}{table}{trend}</section>")


# ---- running the notebooks -----------------------------------------------------------------------

@dataclass
class ReportFiles:
    """What running one capacity report produced."""

    kind: str
    code: str
    ok: bool
    folder: str | None = None
    html: str | None = None
    pdf: str | None = None
    executed: str | None = None
    seconds: float = 0.0
    error: str | None = None


def _titles(kind: str, code: str, language: str) -> str:
    if kind == "organisation":
        return get_organisation(code).name(language)
    if kind == "node":
        return node_name(code, language)
    return text("region_title", language)


def _run(kind: str, code: str, parameters: dict, *, data_path, language: str, output_dir, pdf: bool,
         private_dir, timeout: float | None, raise_errors: bool) -> ReportFiles:
    import papermill as pm

    from research_kit.batch import notebook_path
    from research_kit.batch.kernels import ipc_kernel_manager_class
    from research_kit.capacity.pdf import html_to_pdf
    from research_kit.report.html import notebook_to_html

    t0 = time.perf_counter()
    check_language(language)
    folder = report_folder(kind, code) if kind != "region" else "region"
    out = Path(output_dir)
    private = Path(private_dir) if private_dir else Path(".research_kit") / "runs" / "capacity"
    private.mkdir(parents=True, exist_ok=True)
    executed = private / f"{kind}_{folder}_{language}.ipynb"
    params = {**parameters, "data_path": str(data_path or DEFAULT_DATA), "language": language, "output_dir": str(out)}
    try:
        pm.execute_notebook(str(notebook_path(NOTEBOOKS[kind])), str(executed), parameters=params,
                            kernel_name="python3", progress_bar=False, log_output=False, execution_timeout=timeout,
                            kernel_manager_class=ipc_kernel_manager_class())
        page = notebook_to_html(executed, out / folder / "index.html", language=language,
                                title=f"{_titles(kind, code, language)} · research_kit")
        printed = html_to_pdf(page, out / folder / "report.pdf") if pdf else None
        return ReportFiles(kind, folder, True, folder=str(out / folder), html=str(page),
                           pdf=str(printed) if printed else None, executed=str(executed),
                           seconds=time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - one report's failure must not stop the others
        if raise_errors:
            raise
        name = getattr(exc, "ename", type(exc).__name__)
        value = getattr(exc, "evalue", str(exc))
        traceback.print_exc()
        return ReportFiles(kind, folder, False, executed=str(executed) if executed.exists() else None,
                           seconds=time.perf_counter() - t0, error=f"{name}: {value}".splitlines()[0][:500])


def organisation_report(organisation: str, *, data_path=None, language: str = "es", output_dir="reports/capacity",
                        min_count: int = 5, pdf: bool = True, private_dir=None, timeout: float | None = 600,
                        raise_errors: bool = True) -> ReportFiles:
    """Run ``capacity_organisation.ipynb`` for one organisation; write ``<output_dir>/<code>/index.html`` and ``report.pdf``.

    Parameters
    ----------
    organisation : str
        Organisation code, or a national organisation's ISO code.
    data_path : str or Path, optional
        Folder with the capacity data (default ``data/synthetic/capacity``).
    language : {'es', 'en', 'pt'}
    output_dir : str or Path
        Where the report folder is written (its tables, figures and plan file too).
    min_count : int
    pdf : bool
        Also print the page to PDF with headless Chromium (skipped, with a warning, when Chromium is absent).
    private_dir : str or Path, optional
        Where the executed notebook is kept (default ``.research_kit/runs/capacity``).
    timeout : float, optional
        Seconds a cell may take.
    raise_errors : bool
        Raise on failure (default), or return a :class:`ReportFiles` with ``ok=False`` and the error.
    """
    code = get_organisation(organisation).code
    return _run("organisation", code, {"organisation": code, "min_count": _min_count(min_count)}, data_path=data_path,
                language=language, output_dir=output_dir, pdf=pdf, private_dir=private_dir, timeout=timeout,
                raise_errors=raise_errors)


def node_report(node: str, *, data_path=None, language: str = "es", output_dir="reports/capacity", min_count: int = 5,
                pdf: bool = True, private_dir=None, timeout: float | None = 600, raise_errors: bool = True) -> ReportFiles:
    """Run ``capacity_node.ipynb`` for one node; write ``<output_dir>/<node>/index.html`` and ``report.pdf``."""
    code = _node_code(node)
    return _run("node", code, {"node": code, "min_count": _min_count(min_count)}, data_path=data_path,
                language=language, output_dir=output_dir, pdf=pdf, private_dir=private_dir, timeout=timeout,
                raise_errors=raise_errors)


def region_report(*, data_path=None, language: str = "es", output_dir="reports/capacity", min_count: int = 5,
                  pdf: bool = True, private_dir=None, timeout: float | None = 600, raise_errors: bool = True) -> ReportFiles:
    """Run ``capacity_region.ipynb``; write ``<output_dir>/region/index.html`` and ``report.pdf``."""
    return _run("region", "region", {"min_count": _min_count(min_count)}, data_path=data_path, language=language,
                output_dir=output_dir, pdf=pdf, private_dir=private_dir, timeout=timeout, raise_errors=raise_errors)


def run_capacity_reports(*, data_path=None, output_dir="reports/capacity", language: str = "es", min_count: int = 5,
                         organisations_: list[str] | None = None, nodes: list[str] | None = None, region: bool = True,
                         pdf: bool = True, private_dir=None, timeout: float | None = 600, on_done=None,
                         jobs: int | None = None, force: bool = False) -> list[ReportFiles]:
    """Every capacity report: each organisation with responses, each node, the region.

    Reports run in parallel on the batch engine (:mod:`research_kit.batch.capacity`): warm kernels
    over private IPC sockets, each report built aside and moved into place whole, rebuilt only when
    its inputs changed, and listed in ``<output_dir>/manifest.json``. A report that fails is
    returned with its error; the others still run.

    Parameters
    ----------
    organisations_ : list of str, optional
        Organisation codes (default: every organisation with responses in the data).
    nodes : list of str, optional
        Nodes (default: all three; ``[]`` for none).
    region : bool
        Also the regional report.
    on_done : callable, optional
        Called with each :class:`ReportFiles` as it finishes.
    jobs : int, optional
        Reports run at once (default: the number of cores).
    force : bool
        Rebuild reports whose inputs did not change.
    """
    from research_kit.batch.capacity import run_capacity_batch

    check_language(language)
    min_count = _min_count(min_count)
    folder = _data_dir(data_path)
    responses = read_responses(folder)
    present = set(responses["organisation"])
    orgs = [get_organisation(o).code for o in organisations_] if organisations_ else \
        [o.code for o in organisations() if o.code in present]
    units = [("organisation", o, {"organisation": o, "min_count": min_count}) for o in orgs]
    units += [("node", _node_code(n), {"node": _node_code(n), "min_count": min_count})
              for n in (NODES if nodes is None else nodes)]
    if region:
        units.append(("region", "region", {"min_count": min_count}))
    if not units:
        raise ReportError("No capacity report to run: the data hold no responses.")
    private = Path(private_dir) if private_dir else Path(".research_kit") / "runs" / "capacity"
    return run_capacity_batch(units, data_path=folder, output_dir=Path(output_dir), language=language, pdf=pdf,
                              private_dir=private, timeout=timeout, jobs=jobs, force=force, on_done=on_done)
