"""Forest plots: one indicator across countries, grouped by sub-regional node, with pooled diamonds.

Drawn from protected tables only. A country whose estimate is suppressed, or that did not
measure the indicator, keeps its row, labelled, with nothing drawn; pooled estimates that
are not possible are labelled the same way.
"""

from __future__ import annotations


import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.ticker import FuncFormatter

from research_kit.countries import NODES, get_country, node_name
from research_kit.disclosure import ProtectedTable
from research_kit.errors import DisclosureError
from research_kit.i18n import format_percent, translator
from research_kit.report.figures import figure_note, figure_title

__all__ = ["forest_plot", "COLORS"]

#: Country points, caution points and pooled diamonds.
COLORS = {"point": "#6a3d9a", "caution": "#b39ddb", "pooled": "#1f1d29", "muted": "#5b5870", "grid": "#e3e0ea"}


def _hidden(status) -> bool:
    return status in ("primary", "secondary")


def _check(pt, what: str) -> None:
    if not isinstance(pt, ProtectedTable) or pt.kind != "estimate":
        raise DisclosureError(f"Forest plots are drawn from protected estimate tables only ({what}).")


def forest_plot(countries: ProtectedTable, pooled: ProtectedTable | None, indicator: str, *, language: str = "es",
                locale: str = "es_419", title: str | None = None, order: list[str] | None = None,
                missing: dict | None = None) -> Figure:
    """Forest plot of one indicator: countries by node, sorted by estimate, with pooled node and regional diamonds.

    Parameters
    ----------
    countries : ProtectedTable
        Country estimates (dimensions ``indicator, country``), statuses ``published``, ``caution``,
        ``primary`` or ``secondary``; a country absent for the indicator is "not measured".
    pooled : ProtectedTable or None
        Pooled estimates (dimensions ``indicator, area``), see :func:`research_kit.regional.pool`.
    indicator : str
        The indicator id.
    language, locale : str
        Report language and Babel locale of the axis.
    title : str, optional
    order : list of str, optional
        Every country of the report (ISO alpha-3), those without data included.
    missing : dict, optional
        Countries without data (ISO alpha-3 → reason).

    Raises
    ------
    DisclosureError
        If a table is not a protected estimate table.
    """
    _check(countries, "country estimates")
    if pooled is not None:
        _check(pooled, "pooled estimates")
    _ = translator(language)
    missing = dict(missing or {})
    d = countries.data
    d = d[d["indicator"] == indicator]
    by_country = {r.country: r for r in d.itertuples()}
    order = list(order or dict.fromkeys([*d["country"], *missing]))
    pool_rows = {}
    if pooled is not None:
        pp = pooled.data
        pool_rows = {r.area: r for r in pp[pp["indicator"] == indicator].itertuples()}

    # Rows from the top: node heading, countries (drawn ones by estimate, then the others), node diamond.
    rows: list[dict] = []
    for node in NODES:
        members = [c for c in order if get_country(c).node == node]
        if not members:
            continue
        rows.append({"kind": "heading", "label": node_name(node, language)})
        drawn = [c for c in members if c in by_country and not _hidden(by_country[c].status)
                 and not pd.isna(by_country[c].estimate)]
        drawn.sort(key=lambda c: -by_country[c].estimate)
        rest = [c for c in members if c not in drawn]
        for c in drawn + rest:
            r = by_country.get(c)
            name = get_country(c).name(language)
            if c in missing:
                rows.append({"kind": "note", "label": name, "note": _("no data")})
            elif r is None:
                rows.append({"kind": "note", "label": name, "note": _("not measured")})
            elif c not in drawn:
                rows.append({"kind": "note", "label": name, "note": _("not shown (too few respondents)")})
            else:
                rows.append({"kind": "country", "label": name, "row": r})
        rows.append({"kind": "pooled", "label": _("{node}, pooled").format(node=node_name(node, language)),
                     "row": pool_rows.get(node)})
    if pooled is not None and "LAC" in pool_rows:
        rows.append({"kind": "pooled", "label": _("Region, pooled"), "row": pool_rows.get("LAC"), "region": True})

    height = 0.22 * len(rows) + 0.95
    fig = Figure(figsize=(7.4, height), dpi=120, layout="constrained")
    ax = fig.add_subplot()
    n = len(rows)
    labels = []
    points: dict[str, list] = {"point": [], "caution": []}
    for k, item in enumerate(rows):
        y = n - 1 - k
        labels.append(item["label"])
        if item["kind"] == "heading":
            continue
        if item["kind"] == "note":
            ax.text(0.01, y, item["note"], va="center", ha="left", fontsize=7.5, color=COLORS["muted"], style="italic")
            continue
        r = item.get("row")
        if item["kind"] == "pooled":
            if r is None or _hidden(r.status) or pd.isna(r.estimate):
                ax.text(0.01, y, _("pooled estimate not possible"), va="center", ha="left", fontsize=7.5,
                        color=COLORS["muted"], style="italic")
                continue
            half = 0.32 if item.get("region") else 0.26
            diamond = Polygon([(r.ci_low, y), (r.estimate, y + half), (r.ci_high, y), (r.estimate, y - half)],
                              closed=True, facecolor=COLORS["pooled"], edgecolor=COLORS["pooled"], linewidth=0.8)
            ax.add_patch(diamond)
            continue
        points["caution" if r.status == "caution" else "point"].append((y, r.estimate, r.ci_low, r.ci_high))
    # One artist per kind of point (not two per country): the same picture, drawn in a third of the time.
    for kind, marker, face in (("point", "s", COLORS["point"]), ("caution", "o", "white")):
        if points[kind]:
            ys, est, low, high = map(list, zip(*points[kind]))
            ax.hlines(ys, low, high, colors=COLORS[kind], linewidth=1.4, capstyle="butt")
            ax.plot(est, ys, linestyle="none", marker=marker, markersize=4.5, color=COLORS[kind],
                    markerfacecolor=face)
    ax.set_yticks(range(n - 1, -1, -1), labels, fontsize=8)
    ax.yaxis.set_label_coords(0, 0.5)  # no y label: spares placing an empty one beside every row label
    for tick, item in zip(ax.get_yticklabels(), rows):
        if item["kind"] == "heading":
            tick.set_fontweight("bold")
            tick.set_color(COLORS["point"])
        elif item["kind"] == "pooled":
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0, left=False)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: format_percent(x, locale, digits=0)))
    ax.tick_params(axis="x", labelsize=8)
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.grid(axis="x", color=COLORS["grid"], linewidth=0.6)
    ax.set_axisbelow(True)
    for k, item in enumerate(rows):
        if item["kind"] == "heading" and k:
            ax.axhline(n - 1 - k + 0.5, color=COLORS["grid"], linewidth=0.8)
    if title:
        figure_title(fig, title, width=80, fontsize=9.5)
    note = _("Squares: country estimates; circles: few respondents, interpret with caution; lines: 95% confidence "
             "intervals; diamonds: pooled estimates weighted by population size.")
    figure_note(fig, note, width=120, fontsize=7, color=COLORS["muted"])
    return fig


