"""Disclosure control: no published number may expose a respondent.

Every table a report, an export or a figure shows is a :class:`ProtectedTable`, made by
:func:`protect_estimates` (percentages with intervals) or :func:`protect_counts`
(frequencies). Report helpers accept nothing else, and every protected table carries
the :class:`DisclosurePolicy` that protected it.

Examples
--------
>>> import pandas as pd
>>> policy = DisclosurePolicy(min_count=5)
>>> counts = pd.DataFrame({"city": ["a", "b", "c"], "count": [40, 3, 12]})
>>> t = protect_counts(counts, policy, dimension="city", total=True)
>>> t.data[["city", "count", "status"]].to_dict("list")
{'city': ['a', 'b', 'c', 'total'], 'count': [40.0, nan, nan, 55.0], 'status': ['published', 'primary', 'secondary', 'published']}
"""

from research_kit.disclosure.policy import DisclosurePolicy
from research_kit.disclosure.tables import ProtectedTable, protect_counts, protect_estimates

__all__ = ["DisclosurePolicy", "ProtectedTable", "protect_counts", "protect_estimates"]
