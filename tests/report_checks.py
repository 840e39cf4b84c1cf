"""Checks every published report must pass: no code, nothing from the network, no small count, no respondent id."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.counts: list[tuple[str, int | None]] = []  # (classes, published count or None)
        self.rows: list[dict] = []
        self.scripts: list[dict] = []
        self.links: list[str] = []
        self._table_kind = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table_kind = a.get("data-kind")
        if tag == "tr" and "data-status" in a:
            self.rows.append({"status": a["data-status"], "kind": self._table_kind, "counts": []})
        if tag == "td" and "rk-count" in (a.get("class") or ""):
            value = int(a["data-count"]) if "data-count" in a else None
            self.counts.append((a.get("class"), value))
            if self.rows:
                self.rows[-1]["counts"].append(value)
        if tag == "script":
            self.scripts.append(a)
        if tag in ("link", "img", "iframe", "source") and (a.get("href") or a.get("src")):
            self.links.append(a.get("href") or a.get("src"))


def visible_text(page: str) -> str:
    """The page without embedded images (base64 could contain any digits) and without tags."""
    page = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "", page)
    page = re.sub(r"<style.*?</style>", "", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page)


def check_report(path: Path, *, min_count: int, min_denominator: int, data: pd.DataFrame | None = None) -> _Cells:
    """Assert the report at ``path`` is safe to publish; return the parsed cells for further checks."""
    page = path.read_text(encoding="utf-8")
    cells = _Cells()
    cells.feed(page)
    # No code, no prompts, no notebook machinery.
    for needle in ("import research_kit", "CountryReport(", "report.method()", "jp-InputArea", "In&nbsp;[", "Traceback"):
        assert needle not in page, f"{path}: {needle!r} appears in the report"
    # Nothing is loaded from the network.
    assert cells.scripts == [], f"{path}: script tags {cells.scripts}"
    assert all(link.startswith("data:") for link in cells.links), f"{path}: external resources {cells.links}"
    assert not re.search(r"https?://", visible_text(page) + "".join(cells.links)), f"{path}: a URL in the page"
    # Every published count reaches the threshold; percentages only on large enough denominators.
    published = [v for _, v in cells.counts if v is not None]
    assert published, f"{path}: no count cells found"
    assert min(published) >= min_count, f"{path}: a count under {min_count}: {sorted(published)[:5]}"
    for row in cells.rows:
        if row["kind"] == "estimate" and row["status"] in ("published", "caution"):
            assert row["counts"] and row["counts"][0] is not None and row["counts"][0] >= min_denominator, row
    # No respondent identifier.
    if data is not None:
        text = visible_text(page)
        tokens = set(re.findall(r"[A-Za-z0-9-]+", text))
        for column in ("_uuid", "coupon", "recruiter_coupon"):
            if column in data.columns:
                ids = {v for v in data[column].astype(str) if v}
                ids.discard(str(pd.Timestamp.today().year))  # a coupon that happens to equal the report's year
                leaked = ids & tokens
                assert not leaked, f"{path}: respondent ids from {column} appear: {sorted(leaked)[:5]}"
    return cells
