"""Figures drawn from protected tables only.

A suppressed estimate is not drawn: its place on the chart is labelled as not shown,
so a reader sees that the value exists but is withheld, and nothing in the figure
(bar length, interval, label) can give it back.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from research_kit.disclosure import ProtectedTable
from research_kit.errors import DisclosureError
from research_kit.i18n import format_percent, translator

__all__ = ["estimate_chart", "convergence_chart", "Chart", "figure_title", "figure_note"]

_BAR = "#6a3d9a"


def _wrap(text: str, width: int = 42) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def figure_title(fig: Figure, text: str, *, width: int, **style) -> None:
    """The figure's title, wrapped to ``width`` characters and aligned with the figure's left edge.

    Not the axes' title: an axes title starts where the plot starts, after the row labels, and the
    layout makes room for its height but not its width, so a long one ran off the figure.

    Examples
    --------
    >>> fig = Figure(figsize=(4, 3), layout="constrained")
    >>> figure_title(fig, "Prueba de VIH en los últimos 12 meses y conoce el resultado", width=30, fontsize=10)
    >>> print(fig.get_suptitle())
    Prueba de VIH en los últimos
    12 meses y conoce el resultado
    """
    fig.suptitle(_wrap(text, width), x=0.01, ha="left", fontweight="bold", **style)


def figure_note(fig: Figure, text: str, *, width: int, **style) -> None:
    """A note under the figure (what its marks mean), wrapped and aligned with the figure's left edge.

    Examples
    --------
    >>> fig = Figure(figsize=(4, 3), layout="constrained")
    >>> figure_note(fig, "Lines: 95% confidence intervals.", width=22, fontsize=7)
    >>> print(fig.get_supxlabel())
    Lines: 95% confidence
    intervals.
    """
    fig.supxlabel(_wrap(text, width), x=0.01, ha="left", **style)

_CAUTION = "#b39ddb"


def estimate_chart(pt: ProtectedTable, *, label_column: str, language: str = "es", locale: str | None = None,
                   title: str | None = None) -> Figure:
    """Horizontal bar chart of percentages with 95% intervals, one bar per row of the table.

    Parameters
    ----------
    pt : ProtectedTable
        An estimate table (``kind='estimate'``).
    label_column : str
        Column whose (labelled) values name the bars.
    language, locale : str
        Report language and Babel locale for the axis.
    title : str, optional
        Figure title.
    """
    if not isinstance(pt, ProtectedTable) or pt.kind != "estimate":
        raise DisclosureError("Charts are drawn from protected estimate tables only.")
    _ = translator(language)
    locale = locale or pt.meta.get("locale") or language
    labels = pt.meta.get("labels", {}).get(label_column, {})
    data = pt.data.iloc[::-1].reset_index(drop=True)  # first row on top
    fig = Figure(figsize=(8.5, 0.42 * len(data) + 1.4), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    names = []
    drawn: list[tuple] = []
    for i, r in data.iterrows():
        names.append(_wrap(str(labels.get(r[label_column], r[label_column]))))
        if r["status"] in ("primary", "secondary") or r["estimate"] is None or math.isnan(r["estimate"]):
            ax.text(0.005, i, _("not shown (too few respondents)"), va="center", ha="left", fontsize=8.5,
                    color="#555555", style="italic")
        else:
            drawn.append((i, r["estimate"], r["ci_low"], r["ci_high"], _CAUTION if r["status"] == "caution" else _BAR))
    if drawn:
        # All bars in one call and all intervals in another (not two calls per bar): the same picture, faster.
        ys, est, low, high, colors = map(list, zip(*drawn))
        ax.barh(ys, est, color=colors, height=0.62)
        ax.errorbar(est, ys, xerr=[[e - lo for e, lo in zip(est, low)], [hi - e for e, hi in zip(est, high)]],
                    fmt="none", ecolor="#222222", elinewidth=1, capsize=3)
    ax.set_yticks(range(len(data)), names, fontsize=9)
    ax.yaxis.set_label_coords(0, 0.5)  # no y label: spares placing an empty one beside every bar label
    ax.tick_params(axis="y", length=0, left=False)
    ax.set_ylim(-0.7, len(data) - 0.3)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: format_percent(x, locale, digits=0)))
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    if title:
        figure_title(fig, title, width=80, fontsize=11)
    figure_note(fig, _("Percentage, with 95% confidence interval. Light bars: few respondents, interpret with caution."),
                width=110, fontsize=8.5)
    return fig


class Chart:
    """A figure that shows itself in JupyterLab as an image with a text alternative, and saves as PNG or SVG.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    alt : str
        Text alternative for screen readers.
    """

    def __init__(self, figure: Figure, alt: str = ""):
        self.figure = figure
        self.alt = alt

    def png(self) -> bytes:
        import io

        buf = io.BytesIO()
        self.figure.savefig(buf, format="png")
        return buf.getvalue()

    def _repr_html_(self) -> str:
        import base64
        import html

        data = base64.b64encode(self.png()).decode()
        return f"<figure class='rk-figure'><img src='data:image/png;base64,{data}' alt='{html.escape(self.alt)}'/></figure>"

    def save(self, path) -> None:
        """Write the chart; the format follows the file's suffix (``.png`` or ``.svg``)."""
        self.figure.savefig(path)


def convergence_chart(pt: ProtectedTable, *, language: str = "es", locale: str | None = None,
                      title: str | None = None) -> Figure:
    """Running estimate of an indicator as respondents accumulate (RDS convergence), from a protected table.

    The table has one row per sample size (dimension ``respondents``); only published or caution rows are
    drawn, so the line starts where the running estimate rests on enough women (the policy's minimum
    denominator). The final estimate is drawn dashed.

    Examples
    --------
    >>> import pandas as pd
    >>> from research_kit.disclosure import DisclosurePolicy, protect_estimates
    >>> est = pd.DataFrame({"respondents": [25, 50, 75], "estimate": [0.4, 0.5, 0.45], "n": [25, 50, 75],
    ...                     "n_event": [10, 25, 34]})
    >>> pt = protect_estimates(est, DisclosurePolicy(), by=["respondents"])
    >>> fig = convergence_chart(pt, language="en", title="Test")
    >>> fig.axes[0].get_xlabel()
    'Number of respondents so far'
    """
    if not isinstance(pt, ProtectedTable) or pt.kind != "estimate":
        raise DisclosureError("Charts are drawn from protected estimate tables only.")
    _ = translator(language)
    locale = locale or pt.meta.get("locale") or language
    d = pt.data[pt.data["status"].isin(("published", "caution"))]
    fig = Figure(figsize=(6.4, 3.4), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    if len(d):
        ax.plot(d["respondents"].astype(float), d["estimate"].astype(float), color=_BAR, marker="o", markersize=3)
        ax.axhline(float(d["estimate"].iloc[-1]), color=_BAR, linestyle="--", alpha=0.5)
    else:
        ax.text(0.5, 0.5, _("not shown (too few respondents)"), ha="center", va="center", transform=ax.transAxes,
                color="#555555", style="italic")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: format_percent(y, locale, digits=0)))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_xlabel(_("Number of respondents so far"), fontsize=9)
    if title:
        figure_title(fig, title, width=70, fontsize=10)
    return fig
