"""Linked tables as one linear system: every distinct cell once, every margin relation once.

Tables that share cells (a country's table and the country's row in the regional table,
the same total in four tables of one report) are protected and audited together: the
cells are matched by their :data:`~research_kit.disclosure.model.Key`, and the margin
relations of all tables are stacked. An attacker who holds every published table sees
exactly this system.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
from scipy import sparse

from research_kit.disclosure.model import CountTable, Dimension, Key, TableError, key_label

__all__ = ["CellSystem", "Grid"]


@dataclass
class Grid:
    """Where one table's cells sit in the system (for the hypercube heuristic and for writing back)."""

    table_id: str
    dimensions: tuple[Dimension, ...]
    cells: np.ndarray  # global cell index of every cell of the table, shape = table shape


@dataclass
class CellSystem:
    """Distinct cells of one or more linked tables and the linear relations between them.

    Attributes
    ----------
    keys : list of Key
    values : ndarray of float
        Cell values; NaN where unknown (a suppressed cell read from published files).
    equations : scipy.sparse.csr_matrix
        One row per distinct relation ``sum(coef * cell) = 0``.
    grids : list of Grid
    """

    keys: list
    values: np.ndarray
    equations: sparse.csr_matrix
    grids: list = field(default_factory=list)
    index: dict = field(default_factory=dict)
    _where: dict | None = field(default=None, repr=False)

    @property
    def n_cells(self) -> int:
        return len(self.keys)

    def label(self, i: int) -> str:
        return key_label(self.keys[i])

    @classmethod
    def build(cls, tables: Sequence[tuple[str, Sequence[Dimension], Mapping, str, np.ndarray, sparse.csr_matrix, list]],
              *, conflicts: str = "error") -> "CellSystem":
        """Assemble a system from ``(table_id, dimensions, fixed, measure, values, equations, keys)`` tuples.

        ``values`` may hold NaN for unknown cells. Two tables that give the same cell
        different known values raise :class:`TableError` (``conflicts='error'``).
        """
        index: dict[Key, int] = {}
        keys: list[Key] = []
        vals: list[float] = []
        grids = []
        eq_rows: dict[tuple, None] = {}
        for table_id, dims, _fixed, _measure, values, eqs, tkeys in tables:
            flat_vals = np.asarray(values, dtype=float).ravel()
            glob = np.empty(len(tkeys), dtype=np.int64)
            for j, k in enumerate(tkeys):
                i = index.get(k)
                v = flat_vals[j]
                if i is None:
                    i = len(keys)
                    index[k] = i
                    keys.append(k)
                    vals.append(v)
                else:
                    old = vals[i]
                    if np.isnan(old):
                        vals[i] = v
                    elif not np.isnan(v) and old != v and conflicts == "error":
                        raise TableError(f"Table {table_id!r} gives {key_label(k)} the value {v:g}, but another table "
                                         f"gives {old:g}: linked tables must agree on shared cells.")
                glob[j] = i
            grids.append(Grid(table_id, tuple(dims), glob.reshape(np.shape(values))))
            # Each relation in a canonical form (cells in order, first coefficient positive), so that a
            # relation two tables share is kept once: all rows sorted in one pass, then one key per row.
            eqs = eqs.tocsr()  # (already CSR: no copy)
            if not eqs.nnz:
                continue
            n_rows = eqs.shape[0]
            gcols = glob[eqs.indices]
            order = np.lexsort((gcols, np.repeat(np.arange(n_rows), np.diff(eqs.indptr))))
            r = np.repeat(np.arange(n_rows), np.diff(eqs.indptr))[order]
            c, v = gcols[order], eqs.data[order].astype(float)
            starts = np.searchsorted(r, np.arange(n_rows + 1))
            filled = np.flatnonzero(np.diff(starts))
            sign = np.ones(n_rows)
            sign[filled] = np.where(v[starts[filled]] < 0, -1.0, 1.0)
            v = v * np.repeat(sign, np.diff(starts))
            for row in filled.tolist():
                lo, hi = starts[row], starts[row + 1]
                eq_rows.setdefault((c[lo:hi].tobytes(), v[lo:hi].tobytes()), (c[lo:hi], v[lo:hi]))
        n = len(keys)
        parts = list(eq_rows.values())
        if parts:
            rows = np.repeat(np.arange(len(parts)), [len(pc) for pc, _pv in parts])
            cols = np.concatenate([pc for pc, _pv in parts])
            data = np.concatenate([pv for _pc, pv in parts])
        else:
            rows, cols, data = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        A = sparse.csr_matrix((data, (rows, cols)), shape=(len(parts), n))
        return cls(keys=keys, values=np.asarray(vals, dtype=float), equations=A, grids=grids, index=index)

    @classmethod
    def from_tables(cls, tables: Mapping[str, CountTable] | Sequence[CountTable]) -> "CellSystem":
        """The system of one or more :class:`CountTable` (a mapping gives their ids).

        Examples
        --------
        >>> from research_kit.disclosure.model import CountTable, Dimension
        >>> age = Dimension.flat("age", ["y", "o"])
        >>> a = CountTable(([age]), [10, 4, 6], measure="respondents", table_id="a")
        >>> b = CountTable(([age]), [10, 4, 6], measure="respondents", table_id="b")
        >>> s = CellSystem.from_tables([a, b])
        >>> s.n_cells, s.equations.shape[0]
        (3, 1)
        """
        items = tables.items() if isinstance(tables, Mapping) else [(t.table_id or f"table{i}", t) for i, t in enumerate(tables)]
        parts = [(tid, t.dimensions, t.fixed, t.measure, t.values, t.equations(), t.keys()) for tid, t in items]
        return cls.build(parts)

    def contains(self, outer: int, inner: int) -> bool:
        """Whether cell ``outer`` counts everyone in cell ``inner`` (a margin above it, or itself).

        Known only for cells of one table: in some table, ``outer``'s level is ``inner``'s
        or one of its ancestors on every dimension.
        """
        if outer == inner:
            return True
        if self._where is None:
            where: dict[int, list] = {}
            for g in self.grids:
                for local in np.ndindex(*g.cells.shape):
                    where.setdefault(int(g.cells[local]), []).append((g, local))
            self._where = where
        for g, lo in self._where.get(int(outer), []):
            for g2, li in self._where.get(int(inner), []):
                if g2 is not g:
                    continue
                ok = True
                for d, a, b in zip(g.dimensions, lo, li):
                    if a != b and d.levels[a] not in d.ancestors(d.levels[b]):
                        ok = False
                        break
                if ok:
                    return True
        return False

    def insider_irrelevant(self, target: int, insider: int) -> bool:
        """An insider learns nothing about anyone else from ``target``: it lies inside her own
        cell, or it contains her cell and no one else."""
        v = self.values
        return self.contains(insider, target) or (self.contains(target, insider) and v[target] <= v[insider])

    def check_consistent(self, known: np.ndarray | None = None, tol: float = 1e-6) -> None:
        """Raise if relations whose cells are all known do not hold (margins that do not add up)."""
        known = ~np.isnan(self.values) if known is None else known
        A = self.equations
        full = np.asarray((A[:, ~known] != 0).sum(axis=1)).ravel() == 0
        if not full.any():
            return
        v = np.where(known, self.values, 0.0)
        resid = A @ v
        bad = np.flatnonzero(full & (np.abs(resid) > tol))
        if len(bad):
            r = bad[0]
            lo, hi = A.indptr[r], A.indptr[r + 1]
            terms = " + ".join(f"{A.data[j]:+g}*{self.label(A.indices[j])}" for j in range(lo, hi))
            raise TableError(f"Published numbers do not add up: {terms} = {resid[r]:g}, not 0.")
