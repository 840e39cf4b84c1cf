"""Charts of the capacity reports: radar of areas, heatmaps of organisations × areas, coverage trends.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (safe in a batch of
parallel reports). Numbers on charts are written in the report's locale. Charts receive what a
report may show — the regional view of the scores, protected coverage — never raw data.

Examples
--------
>>> import pandas as pd
>>> fig = radar_chart(pd.DataFrame({"baseline": [2.0, 3.5, 1.25]}, index=["a", "b", "c"]),
...                   labels={"a": "Governance", "b": "Communications", "c": "Networking"},
...                   series_labels={"baseline": "Baseline"}, locale="en")
>>> len(fig.axes)
1
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from research_kit.i18n import format_number, format_percent

__all__ = ["radar_chart", "heatmap_chart", "change_chart", "trend_chart", "save_figure", "LEVEL_COLORS"]

_ACCENT = "#6a3d9a"
_SOFT = "#b39ddb"
_GREY = "#8c8799"
#: Colours of the levels 1–4, light to dark (the report's purple).
LEVEL_COLORS = ("#f3eef9", "#cbb8e3", "#9a76c6", "#5b2c91")
_LEVELS = LinearSegmentedColormap.from_list("rk_levels", LEVEL_COLORS)
_CHANGE = LinearSegmentedColormap.from_list("rk_change", ["#b35806", "#f7f7f7", "#542788"])
_LINES = ("#6a3d9a", "#1b9e77", "#d95f02", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4", "#666666")


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def radar_chart(scores: pd.DataFrame, *, labels: dict, series_labels: dict, locale: str, title: str | None = None,
                low: int = 1, high: int = 4) -> Figure:
    """Radar chart: one axis per area (scale ``low``–``high``), one polygon per round.

    Parameters
    ----------
    scores : DataFrame
        Areas as rows (codes), rounds as columns, in order; the last column is drawn strongest.
    labels : dict
        Area code → name.
    series_labels : dict
        Column → legend text.
    locale : str
    title : str, optional
    """
    n = len(scores.index)
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    fig = Figure(figsize=(8.6, 7.4), dpi=110, layout="constrained")
    ax = fig.add_subplot(projection="polar")
    ax.set_theta_offset(np.pi / 2)
    ax.set_theta_direction(-1)
    ax.set_ylim(low - 1 + 0.5, high)
    ax.set_yticks(range(low, high + 1), [format_number(v, locale) for v in range(low, high + 1)], fontsize=8, color=_GREY)
    ax.set_xticks(angles, [_wrap(labels.get(a, a), 18) for a in scores.index], fontsize=8.5)
    ax.tick_params(axis="x", pad=14)
    cols = list(scores.columns)
    for k, col in enumerate(cols):
        values = scores[col].to_numpy(float)
        if np.isnan(values).all():
            continue
        last = k == len(cols) - 1
        color = _ACCENT if last else _SOFT
        closed_a, closed_v = np.append(angles, angles[0]), np.append(values, values[0])
        ax.plot(closed_a, closed_v, color=color, linewidth=2.2 if last else 1.5, linestyle="-" if last else "--",
                label=series_labels.get(col, col), marker="o", markersize=3.5)
        if last:
            ax.fill(closed_a, closed_v, color=color, alpha=0.16)
    ax.grid(color="#dddddd")
    ax.spines["polar"].set_color("#cccccc")
    ax.legend(loc="upper right", bbox_to_anchor=(1.18, 1.12), frameon=False, fontsize=9)
    if title:
        ax.set_title(title, loc="left", fontsize=11, fontweight="bold", pad=24)
    return fig


def heatmap_chart(matrix: pd.DataFrame, *, row_labels: dict, col_labels: dict, locale: str, title: str | None = None,
                  low: int = 1, high: int = 4, separators: tuple[int, ...] = ()) -> Figure:
    """Heatmap of area scores: organisations as rows, areas as columns, the score written in each cell.

    Parameters
    ----------
    matrix : DataFrame
        Organisations × areas (codes), scores; NaN cells are left white.
    row_labels, col_labels : dict
        Code → name.
    separators : tuple of int
        Row positions before which a line is drawn (between national organisations and nodes).
    """
    data = matrix.to_numpy(float)
    rows, cols = data.shape
    fig = Figure(figsize=(min(2.6 + 0.62 * cols, 10.5), 2.6 + 0.36 * rows), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(data), cmap=_LEVELS, vmin=low, vmax=high, aspect="auto")
    for i in range(rows):
        for j in range(cols):
            if not np.isnan(data[i, j]):
                dark = data[i, j] >= low + 0.6 * (high - low)
                ax.text(j, i, format_number(data[i, j], locale, digits=2), ha="center", va="center", fontsize=7,
                        color="white" if dark else "#1f1d29")
    ax.set_xticks(range(cols), [_wrap(col_labels.get(c, c), 22) for c in matrix.columns], fontsize=7.5, rotation=40,
                  ha="left", rotation_mode="anchor")
    ax.xaxis.tick_top()
    ax.set_yticks(range(rows), [row_labels.get(r, r) for r in matrix.index], fontsize=8.5)
    ax.tick_params(length=0)
    for s in separators:
        ax.axhline(s - 0.5, color="#1f1d29", linewidth=1.2)
    for spine in ax.spines.values():
        spine.set_visible(False)
    bar = fig.colorbar(image, ax=ax, shrink=0.6, pad=0.01, ticks=range(low, high + 1))
    bar.ax.set_yticklabels([format_number(v, locale) for v in range(low, high + 1)], fontsize=8)
    bar.outline.set_visible(False)
    if title:
        ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
    return fig


def change_chart(matrix: pd.DataFrame, *, row_labels: dict, col_labels: dict, locale: str, title: str | None = None,
                 limit: float = 2.0, separators: tuple[int, ...] = ()) -> Figure:
    """Heatmap of the change in area scores between two rounds (diverging: orange down, purple up)."""
    data = matrix.to_numpy(float)
    rows, cols = data.shape
    fig = Figure(figsize=(min(2.6 + 0.62 * cols, 10.5), 2.6 + 0.36 * rows), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(data), cmap=_CHANGE, norm=TwoSlopeNorm(0, -limit, limit), aspect="auto")
    for i in range(rows):
        for j in range(cols):
            v = data[i, j]
            if not np.isnan(v):
                sign = "+" if v > 0 else ""
                ax.text(j, i, sign + format_number(v, locale, digits=2), ha="center", va="center", fontsize=7,
                        color="white" if abs(v) >= 0.6 * limit else "#1f1d29")
    ax.set_xticks(range(cols), [_wrap(col_labels.get(c, c), 22) for c in matrix.columns], fontsize=7.5, rotation=40,
                  ha="left", rotation_mode="anchor")
    ax.xaxis.tick_top()
    ax.set_yticks(range(rows), [row_labels.get(r, r) for r in matrix.index], fontsize=8.5)
    ax.tick_params(length=0)
    for s in separators:
        ax.axhline(s - 0.5, color="#1f1d29", linewidth=1.2)
    for spine in ax.spines.values():
        spine.set_visible(False)
    bar = fig.colorbar(image, ax=ax, shrink=0.6, pad=0.01)
    bar.ax.tick_params(labelsize=8)
    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_number(v, locale, digits=1)))
    bar.outline.set_visible(False)
    if title:
        ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
    return fig


def trend_chart(trend: pd.DataFrame, *, labels: dict, locale: str, month_labels: dict, title: str | None = None,
                ylabel: str = "") -> Figure:
    """Monthly coverage, one line per unit; months left blank (hidden counts) are gaps in the line.

    Parameters
    ----------
    trend : DataFrame
        Months (``YYYY-MM``) as rows, units as columns, coverage as proportions.
    labels : dict
        Unit code → name.
    month_labels : dict
        ``YYYY-MM`` → short label for the axis.
    """
    fig = Figure(figsize=(8.6, 4.2), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(trend.index))
    for k, col in enumerate(trend.columns):
        ax.plot(x, trend[col].to_numpy(float), color=_LINES[k % len(_LINES)], linewidth=1.8, marker="o", markersize=2.5,
                label=labels.get(col, col))
    step = max(1, len(x) // 8)
    ax.set_xticks(x[::step], [month_labels.get(p, p) for p in trend.index[::step]], fontsize=8)
    top = np.nanmax(trend.to_numpy(float)) if np.isfinite(trend.to_numpy(float)).any() else 1.0
    ax.set_ylim(0, min(1.0, max(0.1, top * 1.15)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_percent(v, locale, digits=0)))
    ax.tick_params(axis="y", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
    ax.set_ylabel(ylabel, fontsize=8.5)
    if len(trend.columns) > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    if title:
        ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
    return fig


def save_figure(fig: Figure, folder, name: str) -> bytes:
    """Write ``name.png`` and ``name.svg`` (text kept as text, so it can be searched) and return the PNG bytes."""
    import io
    from pathlib import Path

    from matplotlib import rc_context

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    if folder is not None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.png").write_bytes(buf.getvalue())
        with rc_context({"svg.fonttype": "none"}):
            fig.savefig(folder / f"{name}.svg", format="svg")
    return buf.getvalue()
