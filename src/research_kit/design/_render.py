"""Display of estimate tables in JupyterLab and the terminal.

:class:`EstimateTable` is a plain :class:`pandas.DataFrame` (every pandas
operation works and returns one) that knows how to show itself: proportions as
percentages with their interval, means and totals with their interval, rounded
for reading.  The numbers in the frame are never rounded.
"""

from __future__ import annotations

import html
import math

import pandas as pd

_STAT_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "deff")


def _fmt_number(x: float, digits: int) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.{digits}f}"


def _interval(lo: float, hi: float, fmt) -> str:
    sep = " to " if (lo is not None and lo < 0) or (hi is not None and hi < 0) else "–"
    return f"({fmt(lo)}{sep}{fmt(hi)})"


def _digits_for(values: pd.Series) -> int:
    finite = values[pd.notna(values)].abs()
    if finite.empty:
        return 2
    m = float(finite.median())
    if m >= 1000:
        return 0
    if m >= 10:
        return 1
    if m >= 1:
        return 2
    return 3


def formatted(table: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of an estimate table with the statistics as readable text.

    Proportions become ``"53.9% (49.0–58.8)"``; means, totals and ratios
    ``"31.2 (30.5–31.9)"``.  Tables without the standard columns are returned
    unchanged.

    Parameters
    ----------
    table
        A table returned by a :class:`~research_kit.design.SurveyDesign` estimator.

    Returns
    -------
    pandas.DataFrame
        The identifying columns, an ``estimate (95% CI)`` text column, and the
        ``se``, ``deff``, ``n`` (and ``n_event``) columns rounded.
    """
    if not {"estimate", "ci_low", "ci_high"}.issubset(table.columns):
        return pd.DataFrame(table)
    statistic = table.attrs.get("statistic", "")
    level = table.attrs.get("level", 0.95)
    keys = [c for c in table.columns if c not in _STAT_COLUMNS + ("n", "n_event", "p_value")]
    out = pd.DataFrame(table[keys]).copy()
    label = f"estimate ({round(100 * level)}% CI)"
    if statistic == "proportion":
        def cell(r):
            return f"{_fmt_number(100 * r.estimate, 1)}% " + _interval(
                100 * r.ci_low, 100 * r.ci_high, lambda v: _fmt_number(v, 1)
            )
        se = (100 * table["se"]).map(lambda v: _fmt_number(v, 1))
    else:
        d = _digits_for(table["estimate"])

        def cell(r):
            return f"{_fmt_number(r.estimate, d)} " + _interval(
                r.ci_low, r.ci_high, lambda v: _fmt_number(v, d)
            )
        se = table["se"].map(lambda v: _fmt_number(v, d + 1))
    out[label] = [cell(r) for r in table[["estimate", "ci_low", "ci_high"]].itertuples()]
    if "se" in table:
        out["se" + (" (pp)" if statistic == "proportion" else "")] = se.to_numpy()
    if "deff" in table:
        out["deff"] = table["deff"].map(lambda v: _fmt_number(v, 2)).to_numpy()
    for c in ("n", "n_event", "p_value"):
        if c in table:
            out[c] = table[c].to_numpy()
    return out


class EstimateTable(pd.DataFrame):
    """A :class:`pandas.DataFrame` of estimates that displays itself readably.

    The frame holds full-precision numbers; only its notebook (HTML) display
    is formatted.  ``table.attrs`` records the statistic, variables, ``by``
    columns, interval method and level.
    """

    @property
    def _constructor(self):
        return EstimateTable

    def formatted(self) -> pd.DataFrame:
        """Readable text version of the table (see :func:`formatted`)."""
        return formatted(self)

    def _repr_html_(self) -> str | None:  # pragma: no cover - exercised in notebooks
        try:
            shown = formatted(self)
        except Exception:
            return super()._repr_html_()
        caption = self.attrs.get("title") or _caption(self.attrs)
        body = shown.to_html(index=False, escape=True, na_rep="–")
        if caption:
            body = body.replace(
                "<thead>", f"<caption style='text-align:left'>{html.escape(caption)}</caption><thead>", 1
            )
        return body


def _caption(attrs: dict) -> str:
    stat = attrs.get("statistic")
    if not stat:
        return ""
    variables = attrs.get("variables") or []
    text = f"{stat} of {', '.join(map(str, variables))}"
    if attrs.get("by"):
        text += f" by {', '.join(attrs['by'])}"
    if attrs.get("ci_method"):
        text += f"; {attrs['ci_method']} interval"
    return text
