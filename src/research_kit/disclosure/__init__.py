"""Disclosure control: no published number may expose a respondent.

Every table a report, an export or a figure shows is a :class:`ProtectedTable`, made by
:func:`protect_estimates` (percentages with intervals) or :func:`protect_counts`
(frequencies). Report helpers accept nothing else, and every protected table carries
the :class:`DisclosurePolicy` that protected it.

The engine underneath, in the order data flows:

* :class:`Dimension`, :class:`CountTable` — count tables in any number of dimensions with
  hierarchical margins, validated (margins add up, counts are whole and not negative);
* :mod:`~research_kit.disclosure.primary` — which cells are sensitive (small counts, group
  disclosure, NCHS reliability with Korn–Graubard intervals);
* :func:`suppress` — complementary suppression of one or more linked tables, by the
  hypercube heuristic or the optimal mixed-integer programme, with protection levels and
  guards for singletons, zeros and whole numbers;
* :func:`protect_linked` — every table of a batch protected as one, with a
  :class:`BatchRecord` of what was suppressed;
* :func:`audit_tables`, :func:`audit_published` — the attacker's interval for every
  suppressed cell, from the owner's tables or from published files only;
* :func:`write_table` — ``tables/<table_id>.csv`` and ``.json`` for every published table;
* :func:`deidentify` — microdata extracts for partners, k-anonymous, with a risk summary.

Examples
--------
>>> import pandas as pd
>>> from research_kit.disclosure import DisclosurePolicy, protect_counts
>>> policy = DisclosurePolicy(min_count=5)
>>> counts = pd.DataFrame({"city": ["a", "b", "c"], "count": [40, 3, 12]})
>>> t = protect_counts(counts, policy, dimension="city", total=True)
>>> t.data[["city", "count", "status"]].to_dict("list")
{'city': ['a', 'b', 'c', 'total'], 'count': [40.0, nan, nan, 55.0], 'status': ['published', 'primary', 'secondary', 'published']}
"""

import importlib

from research_kit.disclosure.policy import DisclosurePolicy

# Everything else is imported on first use: the policy alone (what checking a report's parameters needs)
# must not pull in the solvers and scipy.
_LAZY = {
    "AuditResult": "audit",
    "audit_system": "audit",
    "audit_tables": "audit",
    "BatchRecord": "linked",
    "LinkedResult": "linked",
    "protect_linked": "linked",
    "Extract": "microdata",
    "deidentify": "microdata",
    "risk_summary": "microdata",
    "CountTable": "model",
    "Dimension": "model",
    "TableError": "model",
    "effective_sample_size": "primary",
    "estimate_rules": "primary",
    "korn_graubard": "primary",
    "PublishedTableError": "publish",
    "audit_published": "publish",
    "read_published": "publish",
    "write_table": "publish",
    "Protection": "secondary",
    "SuppressionError": "secondary",
    "SuppressionResult": "secondary",
    "suppress": "secondary",
    "CellSystem": "system",
    "ProtectedTable": "tables",
    "estimate_count_table": "tables",
    "protect_count_table": "tables",
    "protect_counts": "tables",
    "protect_crosstab": "tables",
    "protect_estimates": "tables",
}


__all__ = [
    "DisclosurePolicy",
    "ProtectedTable",
    "protect_counts",
    "protect_crosstab",
    "protect_estimates",
    "protect_count_table",
    "estimate_count_table",
    "Dimension",
    "CountTable",
    "TableError",
    "CellSystem",
    "Protection",
    "suppress",
    "SuppressionResult",
    "SuppressionError",
    "protect_linked",
    "LinkedResult",
    "BatchRecord",
    "audit_tables",
    "audit_system",
    "audit_published",
    "AuditResult",
    "write_table",
    "read_published",
    "PublishedTableError",
    "estimate_rules",
    "effective_sample_size",
    "korn_graubard",
    "deidentify",
    "risk_summary",
    "Extract",
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'research_kit.disclosure' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"research_kit.disclosure.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
