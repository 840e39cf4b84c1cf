"""Protected tables, and the two calls that make them from counts and from estimates.

Rules applied here (see :mod:`~research_kit.disclosure.primary` and
:mod:`~research_kit.disclosure.secondary`):

* counts: a cell under ``min_count`` (zero included) is suppressed (``primary``); when a
  table shows its total, more cells are suppressed (``secondary``), chosen by the policy's
  method, until no hidden cell can be narrowed below its protection interval from the
  published ones;
* percentages: suppressed when the unweighted denominator ``n`` is under
  ``min_denominator`` or when the numerator ``n_event`` or its complement ``n - n_event``
  is under ``min_count``, or (``reliability='nchs'``) when unreliable; flagged ``caution``
  when ``n`` is under ``caution_denominator``. Within a disaggregation (``group``), the
  numerators, complements and denominators are protected together as one table whose
  total (the group's overall figure) is taken to be published elsewhere, so that the
  overall figure minus the shown ones gives nothing back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from research_kit.disclosure.model import CountTable, Dimension, TableError, _fill_margins
from research_kit.disclosure.policy import DisclosurePolicy
from research_kit.disclosure.primary import estimate_rules
from research_kit.disclosure.secondary import Protection, SuppressionError, suppress
from research_kit.disclosure.system import CellSystem
from research_kit.errors import DisclosureError

__all__ = ["ProtectedTable", "protect_counts", "protect_crosstab", "protect_estimates", "protect_count_table", "STATUSES",
           "estimate_count_table", "OUTCOME"]

STATUSES = ("published", "caution", "primary", "secondary")
_ESTIMATE_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "deff")
#: The dimension that splits a percentage's respondents into those with and without the attribute.
OUTCOME = "outcome"


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
    meta : dict
        ``'dimensions'`` (each dimension's levels, total and hierarchy), ``'measure'``,
        ``'suppression'`` (method, cells hidden), ``'reasons'`` (why each row is hidden);
        for estimates, ``'numerator'`` and ``'denominator'`` (the protected counts behind each
        percentage, with their own status: ``n_event`` and ``n`` where they may be published,
        NaN where not). The report adds captions and labels.
    """

    data: pd.DataFrame
    policy: DisclosurePolicy
    kind: str
    dimensions: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        if "status" not in self.data.columns or not self.data["status"].isin(STATUSES).all():
            raise DisclosureError("A protected table needs a status for every row.")
        if not isinstance(self.policy, DisclosurePolicy):
            raise DisclosureError("A protected table carries the DisclosurePolicy that protected it.")

    @property
    def suppressed(self) -> pd.Series:
        return self.data["status"].isin(("primary", "secondary"))

    def _repr_html_(self) -> str:
        from research_kit.report.tables import notebook_html

        return notebook_html(self)


def _strategy(policy: DisclosurePolicy, method: str | None) -> str:
    method = method or policy.method
    if method not in ("optimal", "heuristic"):
        raise DisclosureError(f"method must be 'optimal' or 'heuristic', not {method!r}.")
    return method


def protect_count_table(table: CountTable, policy: DisclosurePolicy, *, primary=None, keep=None,
                        method: str | None = None) -> tuple[np.ndarray, object]:
    """Statuses (``published``/``primary``/``secondary``, shaped like ``table.values``) of one count table.

    Parameters
    ----------
    table : CountTable
    policy : DisclosurePolicy
    primary : array of bool, optional
        Sensitive cells (default: under ``policy.min_count``).
    keep : array of bool, optional
        Cells that must stay published.
    method : str, optional
        Overrides ``policy.method``.

    Returns
    -------
    status : ndarray of str
    result : SuppressionResult

    Examples
    --------
    >>> t = CountTable([Dimension.flat("city", ["a", "b", "c"])], [55, 40, 3, 12])
    >>> protect_count_table(t, DisclosurePolicy())[0].tolist()
    ['published', 'published', 'primary', 'secondary']
    """
    system = CellSystem.from_tables([table])
    grid = system.grids[0].cells
    vals = system.values
    prim = np.zeros(system.n_cells, bool)
    p_local = (table.values < policy.min_count) if primary is None else np.asarray(primary, bool)
    prim[grid.ravel()] = p_local.ravel()
    kp = None
    if keep is not None:
        kp = np.zeros(system.n_cells, bool)
        kp[grid.ravel()] = np.asarray(keep, bool).ravel()
    protection = Protection.from_policy(vals, prim, policy)
    res = suppress(system, prim, protection, method=_strategy(policy, method), cost=policy.cost, keep=kp,
                   singletons=policy.singletons)
    return res.status()[grid], res


def _suppression_meta(res, table: CountTable) -> dict:
    return {"method": res.method, "seconds": round(res.seconds, 4), "primary_cells": int(res.primary.sum()),
            "secondary_cells": int(res.secondary.sum()), "proven_optimal": bool(getattr(res, "proven", False)),
            "notes": list(res.notes)}


def protect_counts(table: pd.DataFrame, policy: DisclosurePolicy, *, dimension: str, count: str = "count",
                   total: bool = True, total_label: str = "total", method: str | None = None) -> ProtectedTable:
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
    total_label : str
        Code of the total row.
    method : str, optional
        Complementary suppression method (default ``policy.method``).

    Examples
    --------
    >>> t = protect_counts(pd.DataFrame({"city": ["a", "b", "c"], "count": [40, 3, 12]}), DisclosurePolicy(),
    ...                    dimension="city")
    >>> t.data["status"].tolist()
    ['published', 'primary', 'secondary', 'published']
    """
    if count not in table.columns or dimension not in table.columns:
        raise DisclosureError(f"A count table needs the columns {dimension!r} and {count!r}.")
    values = pd.to_numeric(table[count], errors="coerce").to_numpy(float)
    if np.isnan(values).any() or (values < 0).any():
        raise DisclosureError(f"Counts must be non-negative numbers; found {table[count].tolist()!r}.")
    codes = [str(c) for c in table[dimension]]
    if total:
        dim = Dimension(dimension, [*codes, total_label], total=total_label)
        vals = np.append(values, values.sum())
    else:
        dim = Dimension(dimension, codes)
        vals = values
    try:
        ct = CountTable([dim], vals, measure=count)
    except TableError as exc:
        raise DisclosureError(f"Counts must be non-negative whole numbers: {exc}") from None
    status, res = protect_count_table(ct, policy, method=method)
    out = pd.DataFrame({dimension: list(table[dimension]) + ([total_label] if total else []), count: vals})
    out["status"] = status
    out.loc[out["status"].isin(("primary", "secondary")), count] = np.nan
    meta = {"dimensions": [dim.to_dict()], "measure": count, "suppression": _suppression_meta(res, ct)}
    return ProtectedTable(out.reset_index(drop=True), policy, "count", (dimension,), meta)


def protect_crosstab(table: pd.DataFrame, policy: DisclosurePolicy, *, rows: str, columns: str,
                     count: str = "count", total_label: str = "total", method: str | None = None) -> ProtectedTable:
    """Protect a two-way frequency table, published with its row, column and grand totals.

    Every cell and every margin under ``policy.min_count`` (zero included) is suppressed
    (``primary``), then more cells are hidden (``secondary``) until no hidden cell can be
    recovered, or narrowed below its protection interval, from the published cells and
    totals of its row and its column.

    Parameters
    ----------
    table : DataFrame
        One row per combination: the ``rows`` and ``columns`` code columns and an unweighted
        ``count`` column. A combination with no row counts zero; rows at a total are not
        expected (they are computed).
    policy : DisclosurePolicy
    rows, columns : str
        The two category columns.
    count : str
        The count column.
    total_label : str
        Code of the totals.
    method : str, optional
        Complementary suppression method (default ``policy.method``).

    Returns
    -------
    ProtectedTable
        ``kind='count'``, ``dimensions=(rows, columns)``; one row per cell, margins included
        (their code is ``total_label``), totals first as in ``meta['dimensions']``.

    Raises
    ------
    DisclosureError
        Missing columns, negative or fractional counts, a code equal to ``total_label``.

    Examples
    --------
    >>> f = pd.DataFrame({"city": ["a", "a", "b", "b"], "venue": ["bar", "street", "bar", "street"],
    ...                   "count": [30, 12, 3, 20]})
    >>> t = protect_crosstab(f, DisclosurePolicy(), rows="city", columns="venue")
    >>> t.data.pivot(index="city", columns="venue", values="status").loc[["a", "b"], ["bar", "street"]].values.tolist()
    [['secondary', 'secondary'], ['primary', 'secondary']]
    """
    for c in (rows, columns, count):
        if c not in table.columns:
            raise DisclosureError(f"A cross-table needs the columns {rows!r}, {columns!r} and {count!r}; "
                                  f"it has {list(table.columns)}.")
    if rows == columns:
        raise DisclosureError(f"A cross-table needs two different columns, not {rows!r} twice.")
    dims = []
    for name in (rows, columns):
        codes = list(dict.fromkeys(str(v) for v in table[name]))
        if total_label in codes:
            raise DisclosureError(f"{name!r} already has a level {total_label!r}; choose another total_label.")
        dims.append(Dimension.flat(name, codes, total=total_label))
    frame = table[[rows, columns, count]].astype({rows: str, columns: str})
    try:
        ct = CountTable.from_frame(frame, dims, count=count, measure=count)
    except TableError as exc:
        raise DisclosureError(f"Counts must be non-negative whole numbers, one row per cell: {exc}") from None
    status, res = protect_count_table(ct, policy, method=method)
    r_idx, c_idx = np.meshgrid(np.arange(len(dims[0])), np.arange(len(dims[1])), indexing="ij")
    out = pd.DataFrame({rows: np.array(dims[0].levels, dtype=object)[r_idx.ravel()],
                        columns: np.array(dims[1].levels, dtype=object)[c_idx.ravel()],
                        count: ct.values.ravel().astype(float), "status": status.ravel()})
    out.loc[out["status"].isin(("primary", "secondary")), count] = np.nan
    meta = {"dimensions": [d.to_dict() for d in dims], "measure": count, "suppression": _suppression_meta(res, ct),
            "total_label": total_label}
    return ProtectedTable(out, policy, "count", (rows, columns), meta)


def estimate_count_table(table: pd.DataFrame, *, by: list[str] | None = None, group: str | None = None,
                         measure: str = "respondents", fixed=None, total_label: str = "total") -> CountTable:
    """The counts behind a table of proportions: respondents with and without the attribute, and all.

    The dimensions are the ``by`` columns (``group`` without a total: each group is its own
    table; the others with a total level ``total_label``, whose value is the sum of the rows)
    and :data:`OUTCOME`, with levels ``n`` (the total: the denominator), ``n_event`` (the
    numerator) and ``complement`` (``n - n_event``).

    Examples
    --------
    >>> est = pd.DataFrame({"age": ["u25", "25plus"], "estimate": [0.5, 0.2], "n": [10, 40], "n_event": [5, 8]})
    >>> t = estimate_count_table(est, by=["age"])
    >>> t.values.tolist()
    [[50, 13, 37], [10, 5, 5], [40, 8, 32]]
    """
    by = list(by or [])
    dims = []
    frame = table.copy()
    for b in by:
        codes = list(dict.fromkeys(str(v) for v in frame[b]))
        if b == group:
            dims.append(Dimension(b, codes))
        else:
            if total_label in codes:
                raise TableError(f"{b!r} already has a level {total_label!r}; choose another total_label.")
            dims.append(Dimension.flat(b, codes, total=total_label))
    outcome = Dimension(OUTCOME, ["n", "n_event", "complement"], total="n")
    n = pd.to_numeric(frame["n"]).to_numpy(np.int64)
    k = pd.to_numeric(frame["n_event"]).to_numpy(np.int64)
    if (k < 0).any() or (n - k < 0).any():
        raise TableError(f"Counts must not be negative: n_event must lie between 0 and n (got n={n.tolist()}, "
                         f"n_event={k.tolist()}).")
    # The cells are placed directly (a report builds some eighty of these tables): each row's
    # numerator and complement at its codes, then every margin summed from them.
    all_dims = [*dims, outcome]
    shape = tuple(len(d) for d in all_dims)
    pos = [np.array([d.index(str(v)) for v in frame[d.name]], dtype=np.int64) for d in dims]
    flat = np.ravel_multi_index(tuple(pos), shape[:-1]) if dims else np.zeros(len(frame), dtype=np.int64)
    if len(np.unique(flat)) != len(flat):
        raise TableError(f"The rows of {', '.join(by)} are not unique: one percentage per group is expected.")
    values = np.zeros(shape, dtype=np.int64)
    values[(*pos, np.ones(len(frame), np.int64))] = k
    values[(*pos, np.full(len(frame), 2, np.int64))] = n - k
    bottom = np.ones(shape, dtype=bool)
    for axis, d in enumerate(all_dims):
        is_leaf = np.array([v not in d.hierarchy for v in d.levels])
        bottom &= is_leaf.reshape([-1 if a == axis else 1 for a in range(len(all_dims))])
    return CountTable(all_dims, _fill_margins(values, all_dims, bottom), measure=measure, fixed=fixed)


def _estimate_statuses(table: pd.DataFrame, rules: pd.DataFrame, counts: CountTable, status: np.ndarray,
                       by: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row status of each estimate, of its denominator ``n`` and of its numerator, from the count table's statuses."""
    pos = []
    for d in counts.dimensions[:-1]:
        pos.append(np.array([d.index(str(v)) for v in table[d.name]]))
    st_n = status[(*pos, np.zeros(len(table), int))] if by else np.array([status[0]] * len(table))
    st_k = status[(*pos, np.ones(len(table), int))] if by else np.array([status[1]] * len(table))
    st_c = status[(*pos, np.full(len(table), 2))] if by else np.array([status[2]] * len(table))
    hidden_counts = (st_k != "published") | (st_c != "published") | (st_n != "published")
    row = np.where(rules["hidden"].to_numpy(), "primary",
                   np.where(hidden_counts, "secondary", np.where(rules["caution"].to_numpy(), "caution", "published")))
    # A count the rules call sensitive is primary whatever else happened to it.
    row = np.where(rules["disclosive"].to_numpy(), "primary", row).astype(object)
    return row, st_n, st_k


def protect_estimates(table: pd.DataFrame, policy: DisclosurePolicy, *, by: list[str] | None = None,
                      group: str | None = None, method: str | None = None, df=None) -> ProtectedTable:
    """Protect a table of proportions (as returned by the estimation API).

    Parameters
    ----------
    table : DataFrame
        Needs ``estimate``, ``n`` and ``n_event``; usually also ``se``, ``ci_low``, ``ci_high``,
        ``deff`` (``se`` or ``deff`` for the reliability rule).
    policy : DisclosurePolicy
    by : list of str, optional
        Dimension columns (e.g. ``["indicator", "age_group"]``).
    group : str, optional
        Column whose rows are separate tables (e.g. ``"indicator"``): within one group the
        other dimensions split the group's respondents, whose overall figure is taken to be
        published elsewhere; numerators, complements and denominators are then protected
        together so that the overall figure minus the shown ones gives nothing back.
    method : str, optional
        Complementary suppression method (default ``policy.method``).
    df : array, optional
        Design degrees of freedom of each row, for the Korn–Graubard interval of the
        reliability rule (default: a ``df`` column, else no adjustment).

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
    rules = estimate_rules(table, policy, df=df)
    out = table.copy().reset_index(drop=True)
    rules = rules.reset_index(drop=True)
    by = list(by or [])
    for b in by:
        if b not in out.columns:
            raise DisclosureError(f"The estimate table has no column {b!r} named in by=.")
    if group is not None and group not in by:
        raise DisclosureError(f"group={group!r} must be one of the by columns {by}.")
    n = out["n"].to_numpy(float)
    k = out["n_event"].to_numpy(float)
    others = [b for b in by if b != group]
    meta: dict = {"measure": "percentage"}
    if group is not None and others:
        # Disaggregations: protect numerators, complements and denominators as one table per group,
        # with the group's overall figure (its total) published.
        row_status = np.empty(len(out), dtype=object)
        n_status = np.empty(len(out), dtype=object)
        k_status = np.empty(len(out), dtype=object)
        methods = []
        for _, idx in out.groupby(group, sort=False).groups.items():
            idx = np.asarray(idx)
            part = out.loc[idx]
            counts = estimate_count_table(part, by=others)
            prim = np.zeros(counts.shape, bool)
            pos = [np.array([d.index(str(v)) for v in part[d.name]]) for d in counts.dimensions[:-1]]
            disclosive = rules.loc[idx, "disclosive"].to_numpy()
            group_rule = disclosive & (n[idx] >= policy.min_count)
            prim[(*pos, np.ones(len(idx), int))] = group_rule | (k[idx] < policy.min_count) & policy.group_disclosure
            prim[(*pos, np.full(len(idx), 2))] = group_rule | ((n[idx] - k[idx]) < policy.min_count) & policy.group_disclosure
            prim[(*pos, np.zeros(len(idx), int))] = n[idx] < policy.min_count
            keep = np.zeros(counts.shape, bool)
            keep[tuple(0 for _ in others) + (slice(None),)] = True  # the overall figure is published elsewhere
            keep &= ~prim
            try:
                status, res = protect_count_table(counts, policy, primary=prim, keep=keep, method=method)
                methods.append(_suppression_meta(res, counts))
            except SuppressionError:
                status = np.where(prim, "primary", "secondary").astype(object)
                status[tuple(0 for _ in others) + (slice(None),)] = "published"
            rs, ns, ks = _estimate_statuses(part, rules.loc[idx], counts, status, others)
            row_status[idx], n_status[idx], k_status[idx] = rs, ns, ks
        meta["suppression"] = methods
    else:
        row_status = np.where(rules["hidden"].to_numpy(), "primary",
                              np.where(rules["caution"].to_numpy(), "caution", "published")).astype(object)
        n_status = np.where(n < policy.min_count, "primary", "published").astype(object)
        k_status = np.where(rules["disclosive"].to_numpy(), "primary", "published").astype(object)
    # A percentage whose denominator is hidden is hidden too: p and n give the numerator back.
    row_status = np.where((n_status != "published") & ~np.isin(row_status, ["primary"]), "secondary", row_status)
    out["status"] = row_status
    suppressed = out["status"].isin(("primary", "secondary")).to_numpy()
    for col in _ESTIMATE_COLUMNS:
        if col in out.columns:
            out.loc[suppressed, col] = np.nan
    out["n"] = np.where(n_status == "published", n, np.nan)
    shown = ~suppressed & (k_status == "published")
    numerator = out[by].copy() if by else pd.DataFrame(index=out.index)
    numerator["n_event"] = np.where(shown, k, np.nan)
    # Hidden numerators are primary only when sensitive themselves; one hidden because its percentage is
    # unreliable, or to protect another, needs no protection of its own.
    numerator["status"] = np.where(shown, "published", np.where(k_status == "primary", "primary", "secondary"))
    meta["numerator"] = numerator
    denominator = out[by].copy() if by else pd.DataFrame(index=out.index)
    denominator["n"] = np.where(n_status == "published", n, np.nan)
    denominator["status"] = np.where(n_status == "published", "published",
                                     np.where(n_status == "primary", "primary", "secondary"))
    meta["denominator"] = denominator
    meta["reasons"] = [list(r) for r in rules["reasons"]]
    dims = []
    for b in by:
        codes = [str(v) for v in dict.fromkeys(out[b])]
        dims.append(Dimension(b, codes).to_dict() if (b == group or not group) else
                    Dimension.flat(b, codes).to_dict())
    meta["dimensions"] = dims
    out = out.drop(columns=["n_event"])
    return ProtectedTable(out, policy, "estimate", tuple(by), meta)
