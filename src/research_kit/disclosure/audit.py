"""The audit: what an attacker can learn about every suppressed cell from everything published.

For each suppressed cell the audit computes the feasible interval ``[lower, upper]`` an
attacker gets by linear programming (integer programming where the LP optimum is
fractional) from every published cell of every table together, their margin relations and
non-negativity. A primary cell is safe only if its interval is at least its protection
interval wide; with the hidden values at hand (:func:`audit_tables`) the audit also checks
the upper and lower protection levels and the insider attack of a respondent alone in a
suppressed cell. :func:`research_kit.disclosure.publish.audit_published` runs the same
audit on published CSV/JSON files only, as an outsider would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from research_kit.disclosure.attack import Attacker
from research_kit.disclosure.model import CountTable
from research_kit.disclosure.policy import DisclosurePolicy
from research_kit.disclosure.system import CellSystem

__all__ = ["AuditResult", "audit_system", "audit_tables"]

_TOL = 1e-6


@dataclass
class AuditResult:
    """The audit of a set of published tables.

    Attributes
    ----------
    cells : DataFrame
        One row per suppressed cell: ``cell`` (readable key), ``tables``, ``status``
        (``primary``/``secondary``), ``value`` (NaN when auditing published files),
        ``lower``, ``upper``, ``width``, ``required`` (protection interval width; 0 for
        secondary cells), ``safe`` and ``reason``.
    problems : list of str
        Findings that are not about one interval (a cell hidden in one table and shown in
        another, a percentage shown without its counts).
    """

    cells: pd.DataFrame
    problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no suppressed cell can be narrowed below its protection interval."""
        if "safe" not in self.cells.columns:  # nothing suppressed, nothing to recover
            return not self.problems
        return bool(self.cells["safe"].all()) and not self.problems

    @property
    def unsafe(self) -> pd.DataFrame:
        if "safe" not in self.cells.columns:
            return self.cells
        return self.cells[~self.cells["safe"].astype(bool)]

    def summary(self) -> str:
        """A few lines for a terminal or a log.

        Examples
        --------
        >>> AuditResult(pd.DataFrame(columns=["safe"]), []).summary()
        'Audit: 0 suppressed cells checked; nothing recoverable.'
        >>> AuditResult(pd.DataFrame(), []).ok
        True
        """
        n = len(self.cells)
        if self.ok:
            return f"Audit: {n} suppressed cells checked; nothing recoverable."
        lines = [f"Audit: {len(self.unsafe)} of {n} suppressed cells recoverable or too narrowly protected."]
        for _, r in self.unsafe.head(20).iterrows():
            lines.append(f"  {r['cell']}: [{r['lower']:g}, {r['upper']:g}] width {r['width']:g} < {r['required']:g} "
                         f"({r['reason']}) in {r['tables']}")
        lines += [f"  {p}" for p in self.problems[:20]]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        cells = self.cells.replace({np.inf: None, -np.inf: None}).astype(object).where(self.cells.notna(), None)
        return {"ok": self.ok, "cells": cells.to_dict("records"), "problems": list(self.problems)}


def audit_system(system: CellSystem, status: np.ndarray, *, required: np.ndarray | None = None,
                 upper_protection: np.ndarray | None = None, lower_protection: np.ndarray | None = None,
                 singletons: np.ndarray | None = None, integer: bool = True, sources: list | None = None,
                 attack: np.ndarray | None = None) -> AuditResult:
    """Attack every suppressed cell of a system of linked tables.

    Parameters
    ----------
    system : CellSystem
        Cells and relations; ``values`` of suppressed cells may be NaN (unknown).
    status : ndarray of str
        ``published``, ``primary`` or ``secondary`` for every cell.
    required : ndarray, optional
        Width each primary cell's interval must reach (default 0: only exact disclosure fails).
    upper_protection, lower_protection : ndarray, optional
        With known values: the interval must reach ``value + upper`` and ``value - lower``.
    singletons : ndarray of bool, optional
        Cells whose respondent knows their value; each such insider attacks the others.
    integer : bool
        Re-solve as an integer programme where the LP optimum is fractional.
    sources : list, optional
        For each cell, the tables it appears in (for the report).
    attack : ndarray of bool, optional
        The suppressed cells to attack and report (default: all). The others still count as
        unknowns in every attack (e.g. cells no table publishes, whose own interval matters to
        nobody).
    """
    status = np.asarray(status, dtype=object)
    suppressed = np.isin(status, ["primary", "secondary"])
    n = system.n_cells
    required = np.zeros(n) if required is None else np.asarray(required, float)
    values = system.values.copy()
    known_all = not np.isnan(values[suppressed]).any()
    attacker = Attacker(system.equations, np.where(suppressed, np.nan, values), suppressed)
    insiders = {}
    if singletons is not None and known_all:
        insiders = {int(s): float(values[s]) for s in np.flatnonzero(np.asarray(singletons, bool) & suppressed)}
    rows = []
    targets = suppressed if attack is None else suppressed & np.asarray(attack, bool)
    for c in np.flatnonzero(targets):
        lo, hi, info = attacker.interval(int(c), integer="auto" if integer else False, insiders=insiders or None,
                                         irrelevant=system.insider_irrelevant)
        need = required[c] if status[c] == "primary" else 0.0
        width = hi - lo
        reasons = []
        if width < need - _TOL or (status[c] == "primary" and width <= _TOL):
            reasons.append("exact" if width <= _TOL else "narrow")
        v = values[c]
        if known_all and status[c] == "primary":
            if upper_protection is not None and hi < v + upper_protection[c] - _TOL:
                reasons.append("upper")
            if lower_protection is not None and lo > v - lower_protection[c] + _TOL:
                reasons.append("lower")
        if info.get("insider") is not None and reasons:
            reasons.append(f"insider {system.label(info['insider'])}")
        rows.append({"cell": system.label(c), "tables": ", ".join(sources[c]) if sources else "",
                     "status": status[c], "value": v, "lower": lo, "upper": hi, "width": width,
                     "required": need, "safe": not reasons, "reason": "; ".join(reasons)})
    cols = ["cell", "tables", "status", "value", "lower", "upper", "width", "required", "safe", "reason"]
    return AuditResult(pd.DataFrame(rows, columns=cols), [])


def _sources(system: CellSystem) -> list[list[str]]:
    out = [[] for _ in range(system.n_cells)]
    for g in system.grids:
        for c in np.unique(g.cells):
            out[int(c)].append(g.table_id)
    return out


def audit_tables(tables: Mapping[str, CountTable], status: Mapping[str, np.ndarray], policy: DisclosurePolicy, *,
                 integer: bool = True) -> AuditResult:
    """Audit count tables with their statuses, knowing the hidden values (the owner's audit).

    Checks the upper, lower and sliding protection levels of ``policy`` for every primary
    cell, the insider attack of every suppressed singleton (when ``policy.singletons``), and
    that a cell shown in one table is not hidden in another.

    Parameters
    ----------
    tables : mapping of table id to CountTable
    status : mapping of table id to ndarray of str
        Shaped like each table's values.
    policy : DisclosurePolicy

    Examples
    --------
    >>> from research_kit.disclosure.model import Dimension
    >>> t = CountTable([Dimension.flat("city", ["a", "b", "c"])], [55, 40, 3, 12])
    >>> st = np.array(["published", "published", "primary", "published"])
    >>> audit_tables({"t": t}, {"t": st}, DisclosurePolicy()).ok
    False
    """
    system = CellSystem.from_tables(dict(tables))
    merged = np.full(system.n_cells, "published", dtype=object)
    problems = []
    seen_shown = np.zeros(system.n_cells, bool)
    for g in system.grids:
        st = np.asarray(status[g.table_id], dtype=object)
        if st.shape != g.cells.shape:
            raise ValueError(f"Status of {g.table_id!r} has shape {st.shape}, not {g.cells.shape}.")
        for c, s in zip(g.cells.ravel(), st.ravel()):
            if s in ("primary", "secondary"):
                if merged[c] != "primary":
                    merged[c] = s
            else:
                seen_shown[c] = True
    both = seen_shown & np.isin(merged, ["primary", "secondary"])
    for c in np.flatnonzero(both):
        problems.append(f"{system.label(c)} is hidden in one table but shown in another.")
    values = system.values
    primary = merged == "primary"
    from research_kit.disclosure.secondary import Protection

    prot = Protection.from_policy(values, primary, policy)
    singles = (primary & (values == 1)) if policy.singletons else None
    status_eff = np.where(both, "published", merged)
    res = audit_system(system, status_eff, required=prot.sliding, upper_protection=prot.upper,
                       lower_protection=prot.lower, singletons=singles, integer=integer, sources=_sources(system))
    res.problems += problems
    return res
