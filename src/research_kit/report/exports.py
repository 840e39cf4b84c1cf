"""Exports for partners: every published table in one spreadsheet, in the report's language.

Only :class:`~research_kit.disclosure.ProtectedTable` objects are written: a suppressed value
is an empty cell with its status beside it, so the workbook holds nothing the report does not
show. The first sheet, ``notes``, states the disclosure policy and a key to the marks.

Examples
--------
>>> import tempfile, pathlib, pandas as pd
>>> from research_kit.disclosure import DisclosurePolicy, protect_counts
>>> pt = protect_counts(pd.DataFrame({"city": ["a", "b", "c"], "count": [40, 3, 12]}), DisclosurePolicy(),
...                     dimension="city")
>>> path = write_xlsx({"sample_city": pt}, pathlib.Path(tempfile.mkdtemp()) / "t.xlsx", language="en", locale="en")
>>> import openpyxl
>>> wb = openpyxl.load_workbook(path)
>>> wb.sheetnames
['notes', 'sample_city']
>>> [[c.value for c in row] for row in wb["sample_city"].iter_rows(min_row=3)]
[['a', 40, 'published'], ['b', None, 'primary'], ['c', None, 'secondary'], ['Total', 55, 'published']]
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Mapping

from research_kit.disclosure import ProtectedTable
from research_kit.errors import DisclosureError
from research_kit.i18n import check_language, translator

__all__ = ["write_xlsx", "sheet_name", "downloads"]

_MAX_SHEET = 31
_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_name(table_id: str, taken: set[str] | None = None) -> str:
    """An Excel sheet name (at most 31 characters, none of ``[]:*?/\\``) for a table id, unique among ``taken``.

    Examples
    --------
    >>> sheet_name("violence_by_years_sw_group_and_a_long_tail")
    'violence_by_years_sw_group_and_'
    >>> sheet_name("a" * 40, {"a" * 31})
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaa~2'
    """
    taken = taken or set()
    base = _BAD.sub("_", str(table_id))[:_MAX_SHEET] or "table"
    name, k = base, 2
    while name.lower() in {t.lower() for t in taken} or name.lower() == "notes":
        suffix = f"~{k}"
        name = base[:_MAX_SHEET - len(suffix)] + suffix
        k += 1
    return name


def _number(value):
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def write_xlsx(tables: Mapping[str, ProtectedTable], path, *, language: str = "es", locale: str | None = None) -> Path:
    """Write protected tables to an XLSX workbook: a ``notes`` sheet, then one sheet per table.

    Parameters
    ----------
    tables : mapping of str to ProtectedTable
        Table id → protected table (its ``meta`` captions, headers and labels are used when present).
    path : path
        The ``.xlsx`` file (written to a temporary name, then renamed).
    language : str
        es, en or pt: headers, labels and notes.
    locale : str, optional
        Kept for symmetry with the HTML tables; numbers are stored as numbers, and the spreadsheet
        shows them in the reader's own locale.

    Returns
    -------
    Path

    Raises
    ------
    DisclosureError
        If any value is not a ProtectedTable.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    check_language(language)
    _ = translator(language)
    for key, pt in tables.items():
        if not isinstance(pt, ProtectedTable):
            raise DisclosureError(f"Table {key!r} is not protected: only tables that went through "
                                  "research_kit.disclosure can be exported.")
    wb = Workbook()
    notes = wb.active
    notes.title = "notes"
    bold = Font(bold=True)
    policies = {pt.policy for pt in tables.values()}
    notes.append([_("Notes")])
    notes["A1"].font = bold
    notes.append([])
    notes.append([_("Every table of the report, after disclosure control. Percentages are weighted estimates for the "
                    "population, with 95% confidence intervals; counts are numbers of respondents.")])
    for policy in policies:
        notes.append([_("Disclosure policy"), policy.describe()])
    notes.append([])
    notes.append([_("Status"), _("Meaning")])
    for code, meaning in (("published", _("Shown")),
                          ("caution", _("Few respondents: interpret with caution")),
                          ("primary", _("Not shown: too few respondents")),
                          ("secondary", _("Not shown: protects another hidden cell"))):
        notes.append([code, meaning])
    notes.append([])
    notes.append([_("Sheet"), _("Table")])
    taken: set[str] = set()
    names = {}
    for key in tables:
        names[key] = sheet_name(key, taken)
        taken.add(names[key])
        notes.append([names[key], tables[key].meta.get("caption", key)])
    notes.column_dimensions["A"].width = 34
    notes.column_dimensions["B"].width = 90

    t_pct, t_low, t_high, t_n = _("%"), _("95% CI, lower"), _("95% CI, upper"), _("Respondents (n)")
    t_count, t_status, t_total = _("Respondents"), _("Status"), _("Total")
    for key, pt in tables.items():
        ws = wb.create_sheet(names[key])
        ws.append([pt.meta.get("caption", key)])
        ws["A1"].font = bold
        headers = pt.meta.get("headers", {})
        labels = pt.meta.get("labels", {})
        dims = list(pt.dimensions)
        if pt.kind == "count":
            value_col = [c for c in pt.data.columns if c not in (*dims, "status")][0]
            ws.append([headers.get(d, d) for d in dims] + [t_count, t_status])
            for r in pt.data.to_dict("records"):
                shown = r["status"] in ("published", "caution")
                value = _number(r[value_col]) if shown else None
                cells = [t_total if r[d] == "total" else labels.get(d, {}).get(r[d], r[d]) for d in dims]
                ws.append(cells + [int(value) if value is not None else None, r["status"]])
        else:
            ws.append([headers.get(d, d) for d in dims] + [t_pct, t_low, t_high, t_n, t_status])
            for r in pt.data.to_dict("records"):
                shown = r["status"] in ("published", "caution")
                vals = [_number(r.get(c)) if shown else None for c in ("estimate", "ci_low", "ci_high")]
                n = _number(r.get("n"))
                cells = [labels.get(d, {}).get(r[d], r[d]) for d in dims]
                ws.append(cells + [round(v * 100, 1) if v is not None else None for v in vals]
                          + [int(n) if n is not None else None, r["status"]])
        for cell in ws[2]:
            cell.font = bold
        ws.column_dimensions["A"].width = 48
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.part{path.suffix}")
    wb.save(tmp)
    tmp.replace(path)
    return path


def downloads(tables: Mapping[str, ProtectedTable], output_dir, *, language: str = "es",
              locale: str | None = None) -> str:
    """Write ``tables.xlsx`` into a report's folder and return its "Downloads" section as HTML.

    The links are relative to the report's ``index.html``: the workbook, the ``tables/`` (CSV and
    JSON), the ``figures/`` (PNG and SVG) and ``report.pdf``. Without ``output_dir`` nothing is
    written and the section says how to get the files.

    Examples
    --------
    >>> "output_dir" in downloads({}, None, language="en")
    True
    """
    import html

    _ = translator(check_language(language))
    heading = html.escape(_("Downloads"))
    if output_dir is None:
        note = _("This run did not save files: set output_dir to get the tables and figures.")
        return f"<section id='rk-downloads'><h2>{heading}</h2><p>{html.escape(note)}</p></section>"
    write_xlsx(tables, Path(output_dir) / "tables.xlsx", language=language, locale=locale)
    links = [("tables.xlsx", _("All tables of this report (Excel)")),
             ("tables/", _("Each table as CSV, with its disclosure metadata (JSON)")),
             ("figures/", _("Figures as PNG and SVG")),
             ("report.pdf", _("This report, ready to print (PDF)"))]
    items = "".join(f"<li><a href='{html.escape(h)}'>{html.escape(t)}</a></li>" for h, t in links)
    return f"<section id='rk-downloads'><h2>{heading}</h2><ul>{items}</ul></section>"
