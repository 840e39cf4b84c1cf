"""Organisational capacity assessment, ODTA plans, and programme coverage monitoring.

The network's first regional step was a Capacity Assessment Study of its national organisations,
turned into Organisational Development and Technical Assistance (ODTA) plans for each organisation,
node and the Secretariat. This package carries that cycle, round after round::

    import research_kit as rk
    responses = rk.capacity.read_responses("data/synthetic/capacity")   # one per organisation and round
    scores = rk.capacity.score(responses)              # area scores with the statements behind them
    scores.summary(by="node")                          # median and range, never a mean alone
    scores.change()                                    # between the first and the last round
    plan = rk.capacity.draft_plan(scores, "pry")       # areas ranked by need and priority, actions
    rk.capacity.write_plan(plan, "plan_pry.xlsx")      # the organisation edits it in Excel
    rk.capacity.track_plan(rk.capacity.read_plan("plan_pry.xlsx"), scores)   # next round: done?
    rk.capacity.coverage.read_coverage("data/synthetic/capacity")             # programme coverage

Reports: :class:`OrganisationReport`, :class:`NodeReport`, :class:`RegionReport` are what the
notebooks ``capacity_organisation.ipynb``, ``capacity_node.ipynb`` and ``capacity_region.ipynb``
show; :func:`organisation_report`, :func:`node_report`, :func:`region_report` run a notebook and
write its HTML and PDF (:mod:`research_kit.capacity.reports`).

Organisations that ask not to be named in regional outputs never appear in node or regional
reports, tables or figures (see :mod:`research_kit.capacity.scoring`).
"""

from __future__ import annotations

import importlib

from research_kit.capacity.framework import Area, Framework, Item, load_framework
from research_kit.capacity.organisations import Organisation, get_organisation, members, node_organisation, organisations
from research_kit.capacity.plan import Plan, draft_plan, rank_areas, read_plan, track_plan, write_plan
from research_kit.capacity.responses import check_responses, read_responses
from research_kit.capacity.scoring import Scores, score

__all__ = [
    "Area", "Framework", "Item", "load_framework",
    "Organisation", "organisations", "get_organisation", "members", "node_organisation",
    "read_responses", "check_responses", "score", "Scores",
    "Plan", "draft_plan", "rank_areas", "write_plan", "read_plan", "track_plan",
    "coverage", "reports",
    "OrganisationReport", "NodeReport", "RegionReport",
    "organisation_report", "node_report", "region_report", "run_capacity_reports", "html_to_pdf",
]

_LAZY = {
    "OrganisationReport": "research_kit.capacity.reports",
    "NodeReport": "research_kit.capacity.reports",
    "RegionReport": "research_kit.capacity.reports",
    "organisation_report": "research_kit.capacity.reports",
    "node_report": "research_kit.capacity.reports",
    "region_report": "research_kit.capacity.reports",
    "run_capacity_reports": "research_kit.capacity.reports",
    "html_to_pdf": "research_kit.capacity.pdf",
}


def __getattr__(name: str):
    # Reports pull in matplotlib and nbconvert; load them only when a report is made.
    if name in ("coverage", "reports", "charts", "pdf"):
        return importlib.import_module(f"research_kit.capacity.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'research_kit.capacity' has no attribute {name!r}")
