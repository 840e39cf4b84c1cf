"""HTML rendering of protected tables, in the report's language and the country's locale.

Only :class:`~research_kit.disclosure.ProtectedTable` objects can be rendered: the unsafe
path (an unprotected frame in a report) does not exist. Suppressed cells show a dash
with an explanation; percentages on few respondents are shown in parentheses.
Every count cell carries ``class="rk-count"`` and, when published, ``data-count``, so the
published numbers can be checked mechanically.
"""

from __future__ import annotations

import html
import math

from research_kit.disclosure import ProtectedTable
from research_kit.errors import DisclosureError
from research_kit.i18n import format_number, format_percent, translator

__all__ = ["table_html", "notebook_html"]

_DASH = "\u2014"


def _label(pt: ProtectedTable, column: str, value) -> str:
    labels = pt.meta.get("labels", {}).get(column, {})
    return str(labels.get(value, value))


def _suppressed_cell(_, status: str) -> str:
    why = _("Not shown: too few respondents") if status == "primary" else _("Not shown: protects another hidden cell")
    return f'<td class="rk-suppressed rk-{status}" title="{html.escape(why)}">{_DASH}</td>'


def _count_cell(value, locale: str, _) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _suppressed_cell(_, "primary").replace('class="rk-suppressed', 'class="rk-count rk-suppressed')
    return f'<td class="rk-count rk-num" data-count="{int(value)}">{format_number(value, locale)}</td>'


def table_html(pt: ProtectedTable, language: str = "es", locale: str | None = None, *,
               group: str | None = None) -> str:
    """Render a protected table as an HTML ``<table>`` with a caption.

    Parameters
    ----------
    pt : ProtectedTable
    language : str
        Report language (es, en, pt) for headers and notes.
    locale : str, optional
        Babel locale for numbers (default: the table's ``meta['locale']``, else the language).
    group : str, optional
        A dimension of an estimate table (e.g. ``"indicator"``) shown once, as a heading row above
        its rows, instead of in a column of its own.

    Examples
    --------
    >>> import pandas as pd
    >>> from research_kit.disclosure import DisclosurePolicy, protect_counts
    >>> pt = protect_counts(pd.DataFrame({"city": ["a", "b"], "count": [40, 12]}), DisclosurePolicy(), dimension="city")
    >>> "data-count='52'" in table_html(pt, "en").replace('"', "'")
    True
    """
    if not isinstance(pt, ProtectedTable):
        raise DisclosureError("Only protected tables can be shown in a report: pass the table through research_kit.disclosure first.")
    _ = translator(language)
    locale = locale or pt.meta.get("locale") or language
    headers = pt.meta.get("headers", {})
    dims = list(pt.dimensions)
    rows_html = []
    t_respondents, t_ci, t_n = _("Respondents"), _("95% confidence interval"), _("Respondents (n)")
    if pt.kind == "count" and len(dims) == 2:
        head, rows_html = _crosstab_rows(pt, locale, _, headers)
    elif pt.kind == "count":
        dim, count = dims[0], [c for c in pt.data.columns if c not in (*dims, "status")][0]
        head = f"<th>{html.escape(headers.get(dim, dim))}</th><th class='rk-num'>{html.escape(t_respondents)}</th>"
        for _i, r in pt.data.iterrows():
            label = _("Total") if r[dim] == "total" else _label(pt, dim, r[dim])
            cls = ' class="rk-total"' if r[dim] == "total" else ""
            cell = _count_cell(r[count], locale, _) if r["status"] in ("published", "caution") else \
                _suppressed_cell(_, r["status"]).replace('class="rk-suppressed', 'class="rk-count rk-suppressed')
            rows_html.append(f"<tr{cls} data-status='{r['status']}'><th scope='row'>{html.escape(label)}</th>{cell}</tr>")
    else:
        shown = [d for d in dims if d != group] if group in dims and len(dims) > 1 else dims
        group = group if shown is not dims else None
        head = "".join(f"<th>{html.escape(headers.get(d, d))}</th>" for d in shown)
        head += (f"<th class='rk-num'>%</th><th class='rk-num'>{html.escape(t_ci)}</th>"
                 f"<th class='rk-num'>{html.escape(t_n)}</th>")
        current = object()
        for _i, r in pt.data.iterrows():
            if group is not None and r[group] != current:
                current = r[group]
                rows_html.append(f"<tr class='rk-group'><th colspan='{len(shown) + 3}' scope='rowgroup'>"
                                 f"{html.escape(_label(pt, group, current))}</th></tr>")
            cells = "".join(f"<th scope='row'>{html.escape(_label(pt, d, r[d]))}</th>" for d in shown)
            status = r["status"]
            if status in ("primary", "secondary"):
                cells += _suppressed_cell(_, status) + f"<td class='rk-suppressed'>{_DASH}</td>"
            else:
                pct = format_percent(r["estimate"], locale)
                ci = f"{format_percent(r['ci_low'], locale)} – {format_percent(r['ci_high'], locale)}"
                if status == "caution":
                    pct = f"({pct})"
                    title = html.escape(_("Few respondents: interpret with caution"))
                    cells += f"<td class='rk-num rk-caution' title='{title}'>{pct}</td>"
                else:
                    cells += f"<td class='rk-num'>{pct}</td>"
                cells += f"<td class='rk-num rk-ci'>{ci}</td>"
            cells += _count_cell(r["n"], locale, _)
            rows_html.append(f"<tr data-status='{status}'>{cells}</tr>")
    caption = pt.meta.get("caption", "")
    table_id = pt.meta.get("table_id", "")
    return (
        f"<table class='rk-table' data-table-id='{html.escape(table_id)}' data-kind='{pt.kind}'>"
        f"<caption>{html.escape(caption)}</caption><thead>{head if head.startswith('<tr') else f'<tr>{head}</tr>'}</thead>"
        f"<tbody>{''.join(rows_html)}</tbody></table>"
    )


def _crosstab_rows(pt: ProtectedTable, locale: str, _, headers: dict) -> tuple[str, list[str]]:
    """Header rows and body rows of a two-way count table: categories across, totals last."""
    rows, cols = pt.dimensions
    count = [c for c in pt.data.columns if c not in (rows, cols, "status")][0]
    total = pt.meta.get("total_label", "total")
    cells = {(str(r[rows]), str(r[cols])): (r[count], r["status"]) for r in pt.data.to_dict("records")}

    def order(name):
        levels = list(dict.fromkeys(str(v) for v in pt.data[name]))
        return [v for v in levels if v != total] + ([total] if total in levels else [])

    def label(name, code):
        return _("Total") if code == total else _label(pt, name, code)

    r_levels, c_levels = order(rows), order(cols)
    head = (f"<tr><th></th><th colspan='{len(c_levels)}' scope='colgroup'>{html.escape(headers.get(cols, cols))}</th></tr>"
            f"<tr><th>{html.escape(headers.get(rows, rows))}</th>"
            + "".join(f"<th class='rk-num{' rk-total' if c == total else ''}' scope='col'>{html.escape(label(cols, c))}</th>"
                      for c in c_levels) + "</tr>")
    body = []
    for r in r_levels:
        tds = []
        for c in c_levels:
            value, status = cells.get((r, c), (float("nan"), "primary"))
            cell = _count_cell(value, locale, _) if status in ("published", "caution") else \
                _suppressed_cell(_, status).replace('class="rk-suppressed', 'class="rk-count rk-suppressed')
            tds.append(cell.replace("<td", f"<td data-status='{status}'", 1))
        cls = " class='rk-total'" if r == total else ""
        body.append(f"<tr{cls}><th scope='row'>{html.escape(label(rows, r))}</th>{''.join(tds)}</tr>")
    return head, body


# Notebooks do not load the report stylesheet: a few rules, scoped to protected tables, travel with each table.
_NOTEBOOK_CSS = (
    "<style>"
    ".rk-table{border-collapse:collapse;margin:.4em 0;font-size:.95em}"
    ".rk-table caption{text-align:left;font-weight:600;padding:.2em 0}"
    ".rk-table th,.rk-table td{text-align:left!important;padding:.25em .6em;border-bottom:1px solid #ddd}"
    ".rk-table thead th{border-bottom:2px solid #6a3d9a}"
    ".rk-table .rk-num,.rk-table .rk-suppressed{text-align:right!important;font-variant-numeric:tabular-nums}"
    ".rk-table .rk-suppressed,.rk-table .rk-caution,.rk-legend{color:#666}"
    ".rk-table tr.rk-total th,.rk-table tr.rk-total td{font-weight:700}"
    ".rk-table tr.rk-group th{font-weight:600;background:#f6f4fa}"
    "</style>"
)


def notebook_html(pt: ProtectedTable) -> str:
    """A protected table as shown in JupyterLab: the table, its styling, and a one-line key to the marks."""
    language = pt.meta.get("language", "es")
    _ = translator(language)
    key = f"{_DASH} {_('Not shown: too few respondents')} · ( ) {_('Few respondents: interpret with caution')}"
    group = "indicator" if pt.kind == "estimate" and len(pt.dimensions) > 1 and "indicator" in pt.dimensions else None
    return f"{_NOTEBOOK_CSS}{table_html(pt, language, group=group)}<div class='rk-legend'>{html.escape(key)}</div>"
