"""Write a validation's results: accepted rows, quarantine, error table and an HTML summary.

The files are written next to each other in one folder (never over the input files):
``accepted.csv``, ``quarantine.csv``, ``errors.csv`` (UTF-8 with BOM, so Excel shows accents)
and ``summary.html`` (self-contained: no script, nothing loaded from the network). A repeat's
rows go to ``accepted-<repeat>.csv`` and ``quarantine-<repeat>.csv``; the error table holds
every level, with a ``level`` column.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from research_kit.forms import Form
from research_kit.ingest.exceptions import ExportFormatError
from research_kit.ingest.messages import UI

if TYPE_CHECKING:  # pragma: no cover
    from research_kit.ingest.validation import ExportValidation

__all__ = ["write_outputs", "summary_html"]

_DETAIL_ROWS = 200
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:72rem;color:#222;
line-height:1.4;padding:0 1rem}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;
text-align:left;vertical-align:top}th{background:#f2f2f2}.num{text-align:right}.ok{color:#1b5e20}.bad{color:#b71c1c}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ccc;border-radius:.4rem;padding:.6rem 1rem}
.card b{display:block;font-size:1.4rem}
"""


def _t(key: str, language: str, **kw) -> str:
    return UI[key][language].format(**kw)


def _table(frame: pd.DataFrame, headers: list[str], numeric: set[str] = frozenset()) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for row in frame.itertuples(index=False):
        cells = "".join(f"<td class='num'>{html.escape(str(v))}</td>" if c in numeric else f"<td>{html.escape(str(v))}</td>"
                        for c, v in zip(frame.columns, row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def summary_html(outcome: "ExportValidation", paths: list[Path], form: Form, language: str,
                 written: list[Path] = ()) -> str:
    """The HTML summary of a validation (see the module docs)."""
    t = lambda key, **kw: _t(key, language, **kw)  # noqa: E731
    parts = [f"<!DOCTYPE html><html lang='{language}'><head><meta charset='utf-8'>",
             f"<title>{html.escape(t('title'))}: {html.escape(form.form_id)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(t('title'))}</h1>",
             f"<p>{html.escape(t('form'))}: <b>{html.escape(form.title)}</b> ({html.escape(form.form_id)}, "
             f"{html.escape(form.version)})<br>{html.escape(t('files'))}: {html.escape(', '.join(p.name for p in paths))}</p>"]
    for level, result in outcome.results.items():
        name = t("submission") if level == "submission" else level
        errors = result.errors
        n_warn = int((errors["severity"] == "warning").sum())
        status = "ok" if result.ok else "bad"
        parts.append(f"<h2>{html.escape(t('level'))}: {html.escape(name)}</h2><div class='cards'>"
                     f"<div class='card'>{html.escape(t('rows_in'))}<b>{result.rows_in}</b></div>"
                     f"<div class='card ok'>{html.escape(t('accepted'))}<b>{len(result.accepted)}</b></div>"
                     f"<div class='card {status}'>{html.escape(t('quarantined'))}<b>{len(result.quarantine)}</b></div>"
                     f"<div class='card'>{html.escape(t('warnings'))}<b>{n_warn}</b></div></div>")
        if result.dropped:
            parts.append(f"<p>{html.escape(t('dropped', cols=', '.join(result.dropped)))}</p>")
        if result.pseudonymised:
            parts.append(f"<p>{html.escape(t('pseudonyms', cols=', '.join(result.pseudonymised)))}</p>")
        if errors.empty:
            parts.append(f"<p class='ok'>{html.escape(t('all_ok'))}</p>")
            continue
        by_rule = errors.groupby(["rule", "severity"], sort=False).size().reset_index(name="n")
        by_rule = by_rule.sort_values("n", ascending=False, kind="stable")
        parts.append(f"<h3>{html.escape(t('by_rule'))}</h3>")
        parts.append(_table(by_rule, [t("rule"), "", t("count")], {"n"}))
        by_col = errors.loc[errors["column"] != ""].groupby("column", sort=False).size().reset_index(name="n")
        if len(by_col):
            parts.append(f"<h3>{html.escape(t('by_column'))}</h3>")
            parts.append(_table(by_col.sort_values("n", ascending=False, kind="stable"), [t("column"), t("count")], {"n"}))
        detail = errors.head(_DETAIL_ROWS)[["file", "row", "column", "value", "rule", "message"]]
        parts.append(f"<h3>{html.escape(t('details', n=min(_DETAIL_ROWS, len(errors))))}</h3>")
        parts.append(_table(detail, [t("file"), t("row"), t("column"), t("value"), t("rule"), t("message")], {"row"}))
    if written:
        parts.append(f"<h2>{html.escape(t('outputs'))}</h2><ul>"
                     + "".join(f"<li>{html.escape(p.name)}</li>" for p in written) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    tmp = path.with_name(path.name + ".part")
    frame.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    tmp.replace(path)
    return path


def write_outputs(outcome: "ExportValidation", out_dir: Path, paths: list[Path], form: Form, language: str) -> list[Path]:
    """Write the accepted rows, quarantine, error table and summary of ``outcome`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    inputs = {p.resolve() for p in paths}
    planned = []
    for level in outcome.results:
        suffix = "" if level == "submission" else f"-{level}"
        planned += [out_dir / f"accepted{suffix}.csv", out_dir / f"quarantine{suffix}.csv"]
    planned += [out_dir / "errors.csv", out_dir / "summary.html"]
    clash = [p for p in planned if p.resolve() in inputs]
    if clash:
        raise ExportFormatError(f"Writing {clash[0].name} into {out_dir} would replace the input file. The input is never "
                                "modified: choose another --out folder.")
    written = []
    for level, result in outcome.results.items():
        suffix = "" if level == "submission" else f"-{level}"
        written.append(_write_csv(result.accepted, out_dir / f"accepted{suffix}.csv"))
        written.append(_write_csv(result.quarantine, out_dir / f"quarantine{suffix}.csv"))
    written.append(_write_csv(outcome.errors, out_dir / "errors.csv"))
    page = out_dir / "summary.html"
    page.write_text(summary_html(outcome, paths, form, language, [*written, page]), encoding="utf-8")
    written.append(page)
    return written
