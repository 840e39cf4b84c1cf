"""Protected tables and the first suppression rules.

Rules applied here:

* counts: a cell under ``min_count`` (zero included) is suppressed (``primary``); when a
  table shows its total and exactly one cell of it is suppressed, the smallest other cell
  is suppressed too (``secondary``), so that the total minus the published cells does not
  give the hidden one back;
* percentages: suppressed when the unweighted denominator ``n`` is under
  ``min_denominator`` or when the numerator ``n_event`` or its complement ``n - n_event``
  is under ``min_count``; flagged ``caution`` when ``n`` is under ``caution_denominator``.
  The denominators of a disaggregation are themselves protected as a count table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from research_kit.disclosure.policy import DisclosurePolicy
from research_kit.errors import DisclosureError

__all__ = ["ProtectedTable", "protect_counts", "protect_estimates", "STATUSES"]

STATUSES = ("published", "caution", "primary", "secondary")
_ESTIMATE_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "deff")


@dataclass(frozen=True)
class ProtectedTable:
    """A table that went through disclosure control, with the policy that protected it.

    Attributes
    ----------
    data : DataFrame
        The table as it may be published: suppressed values are NaN and a ``status`` column
        says ``published``, ``caution``, ``primary`` or ``secondary`` for each row.
        Unweighted numerators (``n_event``) are never kept.
    policy : DisclosurePolicy
    kind : str
        ``'estimate'`` (percentages with intervals) or ``'count'`` (frequencies).
    dimensions : tuple of str
        The columns that identify a cell.
    """

    data: pd.DataFrame
    policy: DisclosurePolicy
    kind: str
    dimensions: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        if "status" not in self.data.columns or not self.data["status"].isin(STATUSES).all():
            raise DisclosureError("A protected table needs a status for every row.")

    @property
    def suppressed(self) -> pd.Series:
        return self.data["status"].isin(("primary", "secondary"))

    def _repr_html_(self) -> str:
        from research_kit.report.tables import table_html

        return table_html(self, language=self.meta.get("language", "es"))


def _suppress_counts(values: np.ndarray, min_count: int, total_shown: bool) -> np.ndarray:
    """Status of each count of one line of a table (cells that add up to one total)."""
    status = np.where(values < min_count, "primary", "published").astype(object)
    hidden = status == "primary"
    if total_shown and hidden.sum() == 1 and len(values) > 1:
        # One hidden cell would be the total minus the others: hide the smallest published one as well.
        candidates = np.where(hidden, np.inf, values.astype(float))
        status[int(np.argmin(candidates))] = "secondary"
    return status


def protect_counts(table: pd.DataFrame, policy: DisclosurePolicy, *, dimension: str, count: str = "count",
                   total: bool = True, total_label: str = "total") -> ProtectedTable:
    """Protect a one-way frequency table (with its total row added when ``total`` is true).

    Parameters
    ----------
    table : DataFrame
        One row per category: the ``dimension`` column and an unweighted ``count`` column.
    policy : DisclosurePolicy
    dimension : str
        The category column.
    count : str
        The count column.
    total : bool
        Add and publish the total row (then at least two cells are suppressed, or none).
    """
    if count not in table.columns or dimension not in table.columns:
        raise DisclosureError(f"A count table needs the columns {dimension!r} and {count!r}.")
    values = pd.to_numeric(table[count], errors="coerce").to_numpy(float)
    if np.isnan(values).any() or (values < 0).any():
        raise DisclosureError(f"Counts must be non-negative numbers; found {table[count].tolist()!r}.")
    out = table[[dimension, count]].copy()
    out[count] = values
    out["status"] = _suppress_counts(values, policy.min_count, total)
    if total:
        total_value = values.sum()
        out = pd.concat([out, pd.DataFrame({dimension: [total_label], count: [total_value],
                                            "status": ["published" if total_value >= policy.min_count else "primary"]})],
                        ignore_index=True)
    out.loc[out["status"].isin(("primary", "secondary")), count] = np.nan
    return ProtectedTable(out.reset_index(drop=True), policy, "count", (dimension,))


def protect_estimates(table: pd.DataFrame, policy: DisclosurePolicy, *, by: list[str] | None = None,
                      group: str | None = None) -> ProtectedTable:
    """Protect a table of proportions (as returned by the estimation API).

    Parameters
    ----------
    table : DataFrame
        Needs ``estimate``, ``n`` and ``n_event``; usually also ``se``, ``ci_low``, ``ci_high``.
    policy : DisclosurePolicy
    by : list of str, optional
        Dimension columns (e.g. ``["indicator", "age_group"]``).
    group : str, optional
        Column whose rows are separate tables (e.g. ``"indicator"``): the denominators ``n``
        of the other dimensions within one group add up to the group's total and are
        protected as one count line.

    Raises
    ------
    DisclosureError
        If ``n`` or ``n_event`` is missing: an estimate table cannot be protected without them.

    Examples
    --------
    >>> import pandas as pd
    >>> est = pd.DataFrame({"estimate": [0.5, 0.96], "n": [100, 30], "n_event": [50, 29]})
    >>> protect_estimates(est, DisclosurePolicy()).data["status"].tolist()
    ['published', 'primary']
    """
    missing = [c for c in ("estimate", "n", "n_event") if c not in table.columns]
    if missing:
        raise DisclosureError(
            f"The estimate table has no {', '.join(missing)} column: without unweighted counts it cannot be protected. "
            "Use the tables returned by the estimation functions."
        )
    out = table.copy().reset_index(drop=True)
    n = out["n"].to_numpy(float)
    k = out["n_event"].to_numpy(float)
    small_group = (k < policy.min_count) | (n - k < policy.min_count)
    status = np.where((n < policy.min_denominator) | small_group, "primary",
                      np.where(n < policy.caution_denominator, "caution", "published")).astype(object)
    out["status"] = status
    # The denominators shown beside the estimates are counts too.
    n_status = np.where(n < policy.min_count, "primary", "published").astype(object)
    if group is not None and by:
        others = [b for b in by if b != group]
        if others:
            for _, idx in out.groupby(group, sort=False).groups.items():
                idx = np.asarray(idx)
                n_status[idx] = _suppress_counts(n[idx], policy.min_count, total_shown=True)
    suppressed = out["status"].isin(("primary", "secondary")).to_numpy()
    for col in _ESTIMATE_COLUMNS:
        if col in out.columns:
            out.loc[suppressed, col] = np.nan
    out["n"] = np.where(n_status == "published", n, np.nan)
    out = out.drop(columns=["n_event"])
    return ProtectedTable(out, policy, "estimate", tuple(by or ()))
