"""Linked tables across a batch: one suppression pattern for everything a batch publishes.

The country reports and the regional report publish overlapping tables: Paraguay's
respondents by age group are also the Paraguay row of the regional table, and the
regional total is the sum of the country totals. Protecting each table on its own lets
the regional report minus the sixteen other country reports give a hidden cell back.
:func:`protect_linked` protects all tables of a batch as one system of cells (shared
cells matched by their keys, see :mod:`~research_kit.disclosure.model`), so a cell is
hidden everywhere or nowhere and no difference between reports recovers anything; its
:class:`BatchRecord` says what was suppressed, and the audit is run on all tables together.

Examples
--------
>>> import numpy as np
>>> from research_kit.disclosure.model import CountTable, Dimension
>>> age = Dimension.flat("age_group", ["u25", "25plus"])
>>> country = Dimension("country", ["LAC", "PRY", "URY"], total="LAC")
>>> regional = CountTable([country, age], [[70, 13, 57], [30, 3, 27], [40, 10, 30]], measure="respondents")
>>> pry = CountTable([age], [30, 3, 27], measure="respondents", fixed={"country": "PRY"})
>>> res = protect_linked({"regional": regional, "PRY/age": pry}, DisclosurePolicy())
>>> res.status["PRY/age"].tolist()
['published', 'primary', 'secondary']
>>> res.audit().ok
True
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from research_kit.disclosure.audit import AuditResult, audit_tables
from research_kit.disclosure.model import CountTable, key_label
from research_kit.disclosure.policy import DisclosurePolicy
from research_kit.disclosure.secondary import Protection, SuppressionResult, suppress
from research_kit.disclosure.system import CellSystem
from research_kit.errors import DisclosureError

__all__ = ["protect_linked", "LinkedResult", "BatchRecord"]


@dataclass
class BatchRecord:
    """What a batch suppressed, for the batch's manifest (plain data, JSON-ready).

    It lists every hidden cell once, by key, with the tables it appears in; it holds no
    hidden value, so it can be kept beside the published reports.
    """

    policy: dict
    method: str
    tables: dict
    cells: list
    seconds: float
    created: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"format": "research_kit.suppression_record/1", "created": self.created, "policy": self.policy,
                "method": self.method, "seconds": round(self.seconds, 3), "tables": self.tables,
                "suppressed": self.cells, "notes": self.notes}

    def write(self, path) -> Path:
        """Write the record as JSON (e.g. ``reports/suppression.json``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path


@dataclass
class LinkedResult:
    """Statuses of every table of a batch, protected together.

    Attributes
    ----------
    tables : dict of table id to CountTable
    status : dict of table id to ndarray of str
        ``published``/``primary``/``secondary``, shaped like the table.
    system : CellSystem
    result : SuppressionResult
    record : BatchRecord
    policy : DisclosurePolicy
    """

    tables: dict
    status: dict
    system: CellSystem
    result: SuppressionResult
    record: BatchRecord
    policy: DisclosurePolicy

    def audit(self, integer: bool = True) -> AuditResult:
        """The owner's audit of all tables together (hidden values known)."""
        return audit_tables(self.tables, self.status, self.policy, integer=integer)

    def frame(self, table_id: str):
        """One table as a tidy frame with ``count`` (NaN where hidden) and ``status``."""
        t = self.tables[table_id]
        out = t.to_frame("count")
        out["status"] = self.status[table_id].ravel()
        out.loc[out["status"] != "published", "count"] = np.nan
        return out

    def protected(self, table_id: str):
        """One table as a :class:`~research_kit.disclosure.tables.ProtectedTable` (kind ``count``)."""
        from research_kit.disclosure.tables import ProtectedTable

        t = self.tables[table_id]
        meta = {**t.spec(), "table_id": table_id,
                "suppression": {"method": self.result.method, "linked": sorted(self.tables)}}
        return ProtectedTable(self.frame(table_id), self.policy, "count", tuple(d.name for d in t.dimensions), meta)


def protect_linked(tables: Mapping[str, CountTable], policy: DisclosurePolicy, *,
                   primary: Mapping[str, np.ndarray] | None = None, keep: Mapping[str, np.ndarray] | None = None,
                   method: str | None = None, time_limit: float | None = 60.0) -> LinkedResult:
    """Protect linked count tables jointly and consistently.

    Parameters
    ----------
    tables : mapping of table id to CountTable
        Every table the batch publishes (country tables with ``fixed={"country": ...}``,
        regional tables with a hierarchical country dimension). Shared cells must agree.
    policy : DisclosurePolicy
    primary : mapping of table id to ndarray of bool, optional
        Extra sensitive cells (e.g. from group disclosure); cells under ``min_count`` always are.
    keep : mapping of table id to ndarray of bool, optional
        Cells that must stay published.
    method : str, optional
        ``'optimal'`` or ``'heuristic'`` (default ``policy.method``).
    time_limit : float, optional
        Seconds for the optimal method's proof of optimality; the pattern returned is safe
        either way.

    Raises
    ------
    TableError
        Two tables give a shared cell different values, or margins do not add up.
    SuppressionError
        No pattern protects the tables with the cells allowed.
    """
    if not tables:
        raise DisclosureError("protect_linked needs at least one table.")
    tables = dict(tables)
    system = CellSystem.from_tables(tables)
    n = system.n_cells
    prim = system.values < policy.min_count
    kp = np.zeros(n, bool)
    for g in system.grids:
        if primary and g.table_id in primary:
            prim[g.cells.ravel()] |= np.asarray(primary[g.table_id], bool).ravel()
        if keep and g.table_id in keep:
            kp[g.cells.ravel()] |= np.asarray(keep[g.table_id], bool).ravel()
    kp &= ~prim
    protection = Protection.from_policy(system.values, prim, policy)
    res = suppress(system, prim, protection, method=method or policy.method, cost=policy.cost, keep=kp,
                   singletons=policy.singletons, time_limit=time_limit)
    st = res.status()
    status = {g.table_id: st[g.cells] for g in system.grids}
    where: dict[int, list[str]] = {}
    for g in system.grids:
        for c in np.unique(g.cells):
            where.setdefault(int(c), []).append(g.table_id)
    cells = [{"cell": key_label(system.keys[c]), "measure": system.keys[c][0],
              "coordinates": dict(system.keys[c][1]), "status": st[c], "tables": where.get(int(c), [])}
             for c in np.flatnonzero(res.suppressed)]
    record = BatchRecord(policy=policy.to_dict(), method=res.method,
                         tables={tid: {**t.spec(), "cells": t.size,
                                       "suppressed": int((status[tid] != "published").sum())}
                                 for tid, t in tables.items()},
                         cells=cells, seconds=res.seconds, notes=list(res.notes))
    return LinkedResult(tables, status, system, res, record, policy)
