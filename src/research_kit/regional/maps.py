"""Choropleth maps of Latin America and the Caribbean, drawn offline from the shipped boundaries.

Drawn from protected tables only. A country whose estimate is suppressed is hatched
and labelled "not shown"; one that did not measure the indicator (or has no data) is
hatched differently; countries outside the network are light grey. The colour scale is
fixed at 0–100% so maps of different indicators read alike.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from research_kit.disclosure import ProtectedTable
from research_kit.errors import DisclosureError
from research_kit.i18n import format_percent, translator
from research_kit.regional.geo import ATTRIBUTION, MAP_EXTENT, boundaries

__all__ = ["choropleth", "CMAP"]

#: Sequential colour map, light to the report's purple.
CMAP = "Purples"
_OTHER = "#e4e4e4"
_EDGE = "#ffffff"
_HATCH_EDGE = "#8a8699"


def _check(pt) -> None:
    if not isinstance(pt, ProtectedTable) or pt.kind != "estimate":
        raise DisclosureError("Maps are drawn from protected estimate tables only.")


def _panel(ax, world, values: dict, hidden: set, unmeasured: set, title: str, cmap, norm) -> None:
    other = world[~world["project"]]
    other.plot(ax=ax, color=_OTHER, edgecolor=_EDGE, linewidth=0.4)
    proj = world[world["project"]]
    shown = proj[proj["iso_a3"].isin(values)]
    if len(shown):
        colors = [cmap(norm(values[c])) for c in shown["iso_a3"]]
        shown.plot(ax=ax, color=colors, edgecolor=_EDGE, linewidth=0.5)
    for codes, hatch in ((hidden, "////"), (unmeasured, "....")):
        part = proj[proj["iso_a3"].isin(codes)]
        if len(part):
            part.plot(ax=ax, facecolor="white", edgecolor=_HATCH_EDGE, hatch=hatch, linewidth=0.5)
    points = world[world["point"]]
    for r in points.itertuples():
        # A country too small for the map's scale: a marker in its colour (or hatch colour).
        color = cmap(norm(values[r.iso_a3])) if r.iso_a3 in values else "white"
        ax.plot(r.geometry.x, r.geometry.y, marker="o", markersize=5, color=color, markeredgecolor=_HATCH_EDGE)
    ax.set_xlim(MAP_EXTENT[0], MAP_EXTENT[1])
    ax.set_ylim(MAP_EXTENT[2], MAP_EXTENT[3])
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title("\n".join(textwrap.wrap(title, 44)), fontsize=8.5, fontweight="bold", y=1.0, loc="left")


def choropleth(countries: ProtectedTable, indicators: list[str], *, titles: dict[str, str] | None = None,
               language: str = "es", locale: str = "es_419", order: list[str] | None = None,
               missing: dict | None = None) -> Figure:
    """Maps of one or more indicators, side by side, sharing one colour scale and one legend.

    Parameters
    ----------
    countries : ProtectedTable
        Country estimates (dimensions ``indicator, country``).
    indicators : list of str
        One map per indicator (two fit the width of an A4 page).
    titles : dict, optional
        Indicator id → map title.
    language, locale : str
        Report language and Babel locale of the legend.
    order : list of str, optional
        Countries of the report (ISO alpha-3), those without data included; other network
        countries are drawn as "not in this report" (light grey, like non-members).
    missing : dict, optional
        Countries without data.

    Raises
    ------
    DisclosureError
        If the table is not a protected estimate table.
    """
    _check(countries)
    _ = translator(language)
    titles = titles or {}
    world = boundaries()
    order = list(order or dict.fromkeys(countries.data["country"]))
    # Network countries that are not part of this report are drawn like non-members.
    world.loc[~world["iso_a3"].isin(order), "project"] = False
    # The palest purples are cut off, so that a low percentage never looks like a grey non-member.
    cmap = ListedColormap(colormaps[CMAP](np.linspace(0.18, 1.0, 256)))
    norm = Normalize(0.0, 1.0)
    cols = min(2, len(indicators)) or 1
    rows_n = int(np.ceil(len(indicators) / cols))
    fig = Figure(figsize=(7.4, 3.7 * rows_n + 0.75), dpi=120, layout="constrained")
    axes = fig.subplots(rows_n, cols, squeeze=False)
    d = countries.data
    for k, ind in enumerate(indicators):
        ax = axes[k // cols][k % cols]
        sub = d[d["indicator"] == ind]
        status = dict(zip(sub["country"], sub["status"]))
        values = {c: float(e) for c, e, s in zip(sub["country"], sub["estimate"], sub["status"])
                  if s in ("published", "caution") and pd.notna(e)}
        hidden = {c for c, s in status.items() if s in ("primary", "secondary")}
        unmeasured = {c for c in order if c not in status or c in (missing or {})} - hidden - set(values)
        _panel(ax, world, values, hidden, unmeasured, titles.get(ind, ind), cmap, norm)
    for k in range(len(indicators), rows_n * cols):
        axes[k // cols][k % cols].set_axis_off()
    from matplotlib.cm import ScalarMappable

    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=axes, orientation="horizontal", fraction=0.05,
                       shrink=0.55, aspect=40, pad=0.02, location="bottom")
    bar.ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: format_percent(x, locale, digits=0)))
    bar.ax.tick_params(labelsize=7.5)
    bar.set_label(_("Percentage (country estimate)"), fontsize=8)
    handles = [Patch(facecolor="white", edgecolor=_HATCH_EDGE, hatch="////", label=_("Not shown (too few respondents)")),
               Patch(facecolor="white", edgecolor=_HATCH_EDGE, hatch="....", label=_("Not measured or no data")),
               Patch(facecolor=_OTHER, edgecolor=_HATCH_EDGE, label=_("Not in the network or not in this report"))]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=7.5, frameon=False)
    fig.text(0.995, 0.002, _("Boundaries: {source}").format(source=ATTRIBUTION), ha="right", va="bottom",
             fontsize=6, color="#777777")
    return fig
