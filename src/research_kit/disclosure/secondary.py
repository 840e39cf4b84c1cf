"""Complementary (secondary) suppression: hide more cells so the primary ones cannot be recovered.

Two methods work on a :class:`~research_kit.disclosure.system.CellSystem` (one table, or
linked tables together):

* :func:`hypercube` — fast. For each primary cell it picks, in one of its tables, the
  cheapest *hypercube*: a set of cells whose alternating-sign perturbation keeps every
  margin relation of the table, so that the attacker can move the primary cell up and
  down along it (GHMITER, Repsilber 1994 / Giessing & Repsilber 2002, extended here to
  hierarchical margins with parent chains). Each hypercube is a proof of protection in its
  own table; linked tables are then audited together and repaired.
* :func:`optimal` — minimises the information lost (total suppressed value, or number of
  cells) as a mixed-integer programme (Fischetti & Salazar-González).

Both protect to the policy's protection levels (upper, lower, sliding, as τ-ARGUS
defines them), also against an insider alone in a suppressed cell (a singleton), and
against an attacker who knows that counts are whole numbers; both are checked by the
same attacker as :func:`research_kit.disclosure.audit.audit_system`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from research_kit.disclosure.attack import _highs, Attack, Attacker, solve_lp
from research_kit.disclosure.model import TableError
from research_kit.disclosure.system import CellSystem, Grid
from research_kit.errors import DisclosureError

__all__ = ["Protection", "SuppressionResult", "SuppressionError", "hypercube", "optimal", "suppress", "cell_costs",
           "check_protection"]

_TOL = 1e-6
_MAX_COMBOS = 200_000


class SuppressionError(DisclosureError):
    """No suppression pattern can protect the table under the given constraints."""


@dataclass
class Protection:
    """Protection levels of every cell of a system (0 where a cell needs none).

    ``upper[i]``: the attacker's upper bound must reach ``value + upper``;
    ``lower[i]``: the lower bound must reach ``value - lower``; ``sliding[i]``: the interval
    must be at least that wide.
    """

    upper: np.ndarray
    lower: np.ndarray
    sliding: np.ndarray

    @classmethod
    def from_policy(cls, values: np.ndarray, primary: np.ndarray, policy) -> "Protection":
        values = np.asarray(values, float)
        primary = np.asarray(primary, bool)
        return cls(upper=np.where(primary, float(policy.upper_protection), 0.0),
                   lower=np.where(primary, np.minimum(float(policy.lower_protection), values), 0.0),
                   sliding=np.where(primary, float(policy.sliding_protection), 0.0))

    @property
    def largest(self) -> float:
        return float(max(1.0, self.upper.max(initial=0), self.lower.max(initial=0), self.sliding.max(initial=0)))


@dataclass
class SuppressionResult:
    """What complementary suppression did.

    Attributes
    ----------
    suppressed : ndarray of bool
        Every hidden cell of the system (primary and secondary).
    primary : ndarray of bool
    method : str
    seconds : float
    iterations : int
        Master problems solved (optimal) or repair rounds (heuristic).
    notes : list of str
    """

    suppressed: np.ndarray
    primary: np.ndarray
    method: str
    seconds: float = 0.0
    iterations: int = 0
    notes: list = field(default_factory=list)
    proven: bool = False
    lower_bound: float | None = None
    seconds_to_best: float | None = None

    @property
    def secondary(self) -> np.ndarray:
        return self.suppressed & ~self.primary

    def status(self) -> np.ndarray:
        """``'published'``, ``'primary'`` or ``'secondary'`` for every cell."""
        out = np.full(len(self.suppressed), "published", dtype=object)
        out[self.secondary] = "secondary"
        out[self.primary] = "primary"
        return out

    def cost(self, values: np.ndarray) -> dict:
        """Cells and total value suppressed, all and secondary only."""
        v = np.asarray(values, float)
        return {"cells": int(self.suppressed.sum()), "value": float(v[self.suppressed].sum()),
                "secondary_cells": int(self.secondary.sum()), "secondary_value": float(v[self.secondary].sum())}


def cell_costs(values: np.ndarray, cost: str) -> np.ndarray:
    """Cost of suppressing each cell, in whole numbers (so the solver can use integrality of the objective).

    ``'value'``: the cell's value, with one more unit per cell so that of two patterns of equal
    total the one with fewer cells wins (values are scaled by the number of cells plus one, so
    the per-cell unit never outweighs a whole count). ``'cells'``: one per cell, ties broken
    by value (scaled by the grand sum plus one, so value never outweighs a cell).
    """
    v = np.maximum(np.nan_to_num(np.asarray(values, float)), 0.0)
    if cost == "value":
        return v * (len(v) + 1) + 1.0
    if cost == "cells":
        return (v.sum() + 1.0) + v
    raise DisclosureError(f"cost must be 'value' or 'cells', not {cost!r}.")


# ---------------------------------------------------------------------------------------
# Hypercube heuristic
# ---------------------------------------------------------------------------------------


def _down_path(dim, level: int, value_at) -> list[int]:
    """From ``level`` down to a bottom level, following the largest child (most room to move)."""
    path = [level]
    code = dim.levels[level]
    while dim.children(code):
        kids = [dim.index(c) for c in dim.children(code)]
        best = max(kids, key=value_at)
        path.append(best)
        code = dim.levels[best]
    return path


def _options(dim, level: int, value_at) -> list[tuple[list[int], list[int]]]:
    """Perturbation vectors of one dimension through ``level``: (levels moving with it, levels moving against it)."""
    if dim.total is None:
        return [([level], [])]
    own = _down_path(dim, level, value_at)
    ups = [dim.index(a) for a in dim.ancestors(dim.levels[level])]
    opts = [(own + ups, [])]  # the chain to the total: every margin above moves with the cell
    parent = dim.parent(dim.levels[level])
    if parent is not None:
        for sib in dim.children(parent):
            j = dim.index(sib)
            if j != level:
                opts.append((own, _down_path(dim, j, value_at)))
    return opts


def _grid_candidates(grid: Grid, p_local: tuple, values, suppressed, cost, keep, singleton, p_global):
    """Every hypercube of ``grid`` through the cell ``p_local``: cells, signs and scores."""
    dims = grid.dimensions
    N = len(dims)
    shape = grid.cells.shape
    per_dim = []
    for d, dim in enumerate(dims):
        def value_at(level, d=d):
            idx = list(p_local)
            idx[d] = level
            return values[grid.cells[tuple(idx)]]
        per_dim.append(_options(dim, p_local[d], value_at))
    # Keep the product of option counts manageable on wide tables: the cheapest partners first.
    while np.prod([len(o) for o in per_dim], dtype=float) > _MAX_COMBOS:
        d = int(np.argmax([len(o) for o in per_dim]))
        def partner_cost(opt, d=d):
            idx = list(p_local)
            moved = opt[1] or opt[0][1:]
            return sum(cost[grid.cells[tuple(idx[:d] + [lv] + idx[d + 1:])]] for lv in moved)
        per_dim[d] = sorted(per_dim[d], key=partner_cost)[: max(2, len(per_dim[d]) // 2)]
    levs, sgns = [], []
    for d, opts in enumerate(per_dim):
        L = max(len(pos) + len(neg) for pos, neg in opts)
        lev = np.full((len(opts), L), -1, dtype=np.int64)
        sgn = np.zeros((len(opts), L))
        for o, (pos, neg) in enumerate(opts):
            row = pos + neg
            lev[o, : len(row)] = row
            sgn[o, : len(pos)] = 1
            sgn[o, len(pos): len(row)] = -1
        shape_d = [1] * (2 * N)
        shape_d[d] = len(opts)
        shape_d[N + d] = L
        levs.append(lev.reshape(shape_d))
        sgns.append(sgn.reshape(shape_d))
    valid = np.ones(1, dtype=bool)
    flat = np.zeros(1, dtype=np.int64)
    sign = np.ones(1)
    strides = np.cumprod((shape[1:] + (1,))[::-1])[::-1] if N else []
    for d in range(N):
        valid = valid & (levs[d] >= 0)
        flat = flat + np.maximum(levs[d], 0) * int(strides[d])
        sign = sign * sgns[d]
    cells = grid.cells.ravel()[flat]
    sum_axes = tuple(range(N, 2 * N))
    v = values[cells]
    new = valid & ~suppressed[cells]
    new_cost = np.where(new, cost[cells], 0.0).sum(axis=sum_axes)
    up_cap = np.where(valid & (sign < 0), v, np.inf).min(axis=sum_axes)
    down_cap = np.where(valid & (sign > 0), v, np.inf).min(axis=sum_axes)
    blocked = (new & keep[cells]).any(axis=sum_axes)
    singles = valid & singleton[cells] & (cells != p_global)
    total_value = np.where(valid, v, 0.0).sum(axis=sum_axes)
    return cells, valid, up_cap, down_cap, blocked, singles, new_cost, total_value


def _pick(cand, need_up, need_down, need_slide, suppressed, cost, avoid: set[int] = frozenset()):
    cells, valid, up_cap, down_cap, blocked, singles, _, total_value = cand
    sum_axes = tuple(range(up_cap.ndim, cells.ndim))
    ok = ~blocked & (up_cap >= need_up - _TOL) & (down_cap >= need_down - _TOL) & (up_cap + down_cap >= need_slide - _TOL)
    if avoid:
        ok &= ~(valid & np.isin(cells, list(avoid))).any(axis=sum_axes)
    if not ok.any():
        return None
    new_cost = np.where(valid & ~suppressed[cells], cost[cells], 0.0).sum(axis=sum_axes)
    n_single = singles.sum(axis=sum_axes)
    score = np.where(ok, new_cost + 1e6 * (n_single > 0) * (1 + new_cost) + 1e-9 * total_value, np.inf)
    best = np.unravel_index(int(np.argmin(score)), score.shape)
    chosen = cells[best][valid[best]]
    return chosen, set(cells[best][singles[best]].tolist())


def hypercube(system: CellSystem, primary: np.ndarray, protection: Protection, *, cost: np.ndarray,
              keep: np.ndarray | None = None, singletons: np.ndarray | None = None) -> tuple[np.ndarray, list[int]]:
    """Hypercube suppression of every primary cell; returns the pattern and cells left unresolved.

    A cell is unresolved when no hypercube of any of its tables has room enough, or when
    every hypercube left for it contains a singleton.
    """
    values = np.nan_to_num(system.values, nan=0.0)
    n = system.n_cells
    suppressed = np.asarray(primary, bool).copy()
    keep = np.zeros(n, bool) if keep is None else np.asarray(keep, bool)
    singleton = np.zeros(n, bool) if singletons is None else np.asarray(singletons, bool)
    where: dict[int, list[tuple[Grid, tuple]]] = {}
    for g in system.grids:
        for local in np.ndindex(*g.cells.shape):
            c = int(g.cells[local])
            if primary[c]:
                where.setdefault(c, []).append((g, local))
    unresolved = []
    order = sorted(where, key=lambda c: (values[c], c))
    for p in order:
        need = (protection.upper[p], protection.lower[p], protection.sliding[p])
        best = None
        for g, local in where[p]:
            cand = _grid_candidates(g, local, values, suppressed, cost, keep, singleton, p)
            got = _pick(cand, *need, suppressed, cost)
            if got is None:
                continue
            new_cost = cost[got[0]][~suppressed[got[0]]].sum()
            if best is None or new_cost < best[0]:
                best = (new_cost, got, cand)
        if best is None:
            unresolved.append(p)
            continue
        _, (chosen, singles), cand = best
        suppressed[chosen] = True
        chosen_sets = [set(chosen.tolist())]
        # An insider alone in a cell of the hypercube fixes that cell: protect p with another
        # hypercube that avoids her, until every such insider is avoided by one of them.
        for _round in range(20):
            exposed = [s for s in set().union(*chosen_sets) if singleton[s] and s != p and all(s in h for h in chosen_sets)
                       and not system.insider_irrelevant(p, s)]
            if not exposed:
                break
            got = _pick(cand, *need, suppressed, cost, avoid={exposed[0]})
            if got is None:
                unresolved.append(p)
                break
            suppressed[got[0]] = True
            chosen_sets.append(set(got[0].tolist()))
    return suppressed, unresolved


# ---------------------------------------------------------------------------------------
# Checking a pattern, and cuts from failed attacks
# ---------------------------------------------------------------------------------------


@dataclass
class _Failure:
    cell: int
    sense: str  # 'max', 'min' or 'slide'
    coefs: np.ndarray | None  # cut coefficients over all cells (None: integer no-good)
    rhs: float
    insider: int | None = None


def _cut(attacker: Attacker, att, A_csr, cell: int, sense: str, values, U: float, fixed: int | None):
    """Coefficients of the Benders cut from an attack's LP duals (see :func:`optimal`)."""
    n = A_csr.shape[1]
    c = np.zeros(n)
    c[cell] = 1.0 if sense == "min" else -1.0
    y = np.zeros(A_csr.shape[0])
    y[att.rows] = att.duals
    z = c - A_csr.T @ y
    coef = np.maximum(z, 0) * values + np.maximum(-z, 0) * U
    if fixed is not None:
        coef[fixed] = 0.0
    return coef


def check_protection(system: CellSystem, suppressed: np.ndarray, protection: Protection, *, singletons=None,
                     upper_room: float | None = None, witnesses: dict | None = None, cuts: bool = False,
                     integer: bool = True) -> list[_Failure]:
    """Attack every primary cell of a pattern; return the failures (with cuts when asked).

    For each primary cell the attacker maximises and minimises it; then, for every
    singleton cell the optimal attacks moved, an insider who knows that cell attacks
    again with it fixed (a scenario). In every scenario the interval must meet the upper,
    lower and sliding protection levels, also for an attacker who knows counts are whole
    numbers (an integer programme where the LP optimum is fractional).

    ``upper_room`` bounds how far above its value a cell may go in an attack (the finite
    bound of the optimal method's cuts; the audit uses +inf). ``witnesses`` caches
    whole-number attacker solutions between calls: they stay feasible while the cells they
    move stay suppressed, and then prove the requirements again without solving.
    """
    values = np.nan_to_num(system.values, nan=0.0)
    U = np.inf if upper_room is None else float(upper_room)
    engine = Attacker(system.equations, values, suppressed, lower=np.zeros(len(values)), upper=values + U)
    A_csr = system.equations.tocsr()
    singleton = np.zeros(len(values), bool) if singletons is None else np.asarray(singletons, bool)
    insiders = {int(s): float(values[s]) for s in np.flatnonzero(singleton & suppressed)}
    witnesses = {} if witnesses is None else witnesses
    failures: list[_Failure] = []
    targets = np.flatnonzero((protection.upper > 0) | (protection.lower > 0) | (protection.sliding > 0))

    def meets(sense, val, k):
        if sense == "max":
            return val >= values[k] + protection.upper[k] - _TOL
        return val <= values[k] - protection.lower[k] + _TOL

    def moved_cells(att):
        return att.cells[np.abs(att.solution - values[att.cells]) > _TOL]

    def whole(att):
        return att.solution is None or np.abs(att.solution - np.round(att.solution)).max() <= _TOL

    def cached_ok(k):
        w = witnesses.get(k)
        if w is None:
            return False
        for (_s, _sense), (moved, _val) in w.items():
            if not suppressed[moved].all():
                return False
        plain = {sense: w.get((None, sense)) for sense in ("max", "min")}
        if None in plain.values():
            return False
        scen = {None} | {int(c) for sense in plain for c in plain[sense][0] if int(c) in insiders and int(c) != k
                         and not system.insider_irrelevant(k, int(c))}
        for sc in scen:
            got = {}
            for sense in ("max", "min"):
                key = (sc, sense) if sc is not None and sc in set(plain[sense][0].tolist()) else (None, sense)
                if key not in w:
                    return False
                got[sense] = w[key][1]
            if not (meets("max", got["max"], k) and meets("min", got["min"], k)
                    and got["max"] - got["min"] >= protection.sliding[k] - _TOL):
                return False
        return True

    for k in targets:
        k = int(k)
        if not suppressed[k]:
            failures.append(_Failure(k, "published", None, 0.0))
            continue
        if cached_ok(k):
            continue
        plain = {sense: engine.bound(k, sense) for sense in ("max", "min")}
        scen = [None]
        for sense in ("max", "min"):
            if plain[sense].solution is not None:
                scen += [int(c) for c in moved_cells(plain[sense]) if int(c) in insiders and int(c) != k
                         and int(c) not in scen and not system.insider_irrelevant(k, int(c))]
        found: dict = {}
        failure = None
        for sc in scen:
            atts = {}
            for sense in ("max", "min"):
                att = plain[sense]
                if sc is not None and att.solution is not None and sc in set(moved_cells(att).tolist()):
                    att = engine.bound(k, sense, fixed={sc: insiders[sc]})
                if integer and att.solution is not None and np.isfinite(att.value) and not whole(att):
                    iatt = engine.bound(k, sense, integer=True, fixed=None if sc is None else {sc: insiders[sc]})
                    if not meets(sense, iatt.value, k) and meets(sense, att.value, k):
                        failure = _Failure(k, sense, None, 1.0, insider=sc)  # only the integer attacker wins
                        break
                    att = iatt if iatt.solution is not None else att
                atts[sense] = att
            if failure is not None:
                break
            for sense in ("max", "min"):
                att = atts[sense]
                if not meets(sense, att.value, k):
                    coefs = _cut(engine, att, A_csr, k, sense, values, U, sc) if cuts and att.duals is not None else None
                    rhs = protection.upper[k] if sense == "max" else protection.lower[k]
                    failure = _Failure(k, sense, coefs, rhs, insider=sc)
                    break
            if failure is not None:
                break
            if atts["max"].value - atts["min"].value < protection.sliding[k] - _TOL:
                coefs = None
                if cuts and atts["max"].duals is not None and atts["min"].duals is not None:
                    coefs = _cut(engine, atts["max"], A_csr, k, "max", values, U, sc) + \
                        _cut(engine, atts["min"], A_csr, k, "min", values, U, sc)
                failure = _Failure(k, "slide", coefs, protection.sliding[k], insider=sc)
                break
            for sense in ("max", "min"):
                att = atts[sense]
                if att.solution is not None and whole(att):
                    found[(sc, sense)] = (moved_cells(att), att.value)
        if failure is not None:
            failures.append(failure)
            witnesses.pop(k, None)
        elif all((None, sense) in found for sense in ("max", "min")):
            witnesses[k] = found
    return failures


# ---------------------------------------------------------------------------------------
# Optimal suppression
# ---------------------------------------------------------------------------------------


def _row_cuts(system: CellSystem, primary, protection: Protection, values, U, singleton):
    """Cuts from one relation at a time: a hidden cell needs room to move in every line it is on."""
    A = system.equations.tocsc()
    A_r = system.equations.tocsr()
    cuts = []
    for k in np.flatnonzero(primary):
        rows = A[:, k].indices
        for r in rows:
            lo, hi = A_r.indptr[r], A_r.indptr[r + 1]
            cols, coefs = A_r.indices[lo:hi], A_r.data[lo:hi]
            sk = coefs[cols == k][0]
            others = cols != k
            oc, osg = cols[others], np.sign(coefs[others]) == np.sign(sk)
            up_cap = np.where(osg, values[oc], U)  # to raise k, a same-sign cell falls or an opposite one rises
            down_cap = np.where(osg, U, values[oc])
            fixed_sets = [None] + [int(s) for s in oc if singleton[s] and not system.insider_irrelevant(int(k), int(s))]
            for fixed in fixed_sets:
                mask = oc != fixed if fixed is not None else np.ones(len(oc), bool)
                for caps, rhs in ((up_cap, protection.upper[k]), (down_cap, protection.lower[k]),
                                  (up_cap + down_cap, protection.sliding[k])):
                    if rhs <= 0:
                        continue
                    cuts.append((oc[mask], np.minimum(caps[mask], rhs), float(rhs)))
    return cuts


def _solve_master(cuts, cost, primary, keep, budget, time_limit, t0, incumbent: float = np.inf):
    """Solve the master MILP over the cells that appear in a cut (the others stay published).

    Primary cells are hidden in every pattern, so their share of each cut moves to the
    right-hand side and satisfied cuts drop out; HiGHS then works on a model of a few
    hundred columns instead of the whole table. Only patterns cheaper than ``incumbent``
    (the cost of the best safe pattern known) are sought, so HiGHS prunes every branch that
    cannot beat it. Returns the pattern, None when there is none (cheaper than the
    incumbent), or ``'time'`` when the time limit was reached.
    """
    n = len(cost)
    free = ~primary & ~keep
    rows, cols, data, rhs = [], [], [], []
    r = 0
    for idx, coef, b in cuts:
        idx = np.asarray(idx)
        coef = np.asarray(coef, float)
        b = b - coef[primary[idx]].sum()
        if b <= _TOL:
            continue
        m = free[idx]
        if not m.any():
            return None
        rows.append(np.full(int(m.sum()), r))
        cols.append(idx[m])
        data.append(coef[m])
        rhs.append(b)
        r += 1
    x = primary.copy()
    if not r:
        return x
    cols_all = np.concatenate(cols)
    used = np.unique(cols_all)
    pos = np.full(n, -1)
    pos[used] = np.arange(len(used))
    M = sparse.csr_matrix((np.concatenate(data), (np.concatenate(rows), pos[cols_all])), shape=(r, len(used)))
    opts_time = None if time_limit is None else max(1.0, time_limit - (time.perf_counter() - t0))
    if budget is None and _highs is not None:
        whole = np.all(cost == np.round(cost))
        bound = incumbent - cost[primary].sum() - (0.5 if whole else 1e-9) if np.isfinite(incumbent) else None
        got = _master_highs(cost[used], M, np.asarray(rhs) - 1e-7, opts_time, bound)
        if got is not _FALLBACK:
            if isinstance(got, np.ndarray):
                x[used[got > 0.5]] = True
                return x
            return got
    cons = [LinearConstraint(M, np.asarray(rhs) - 1e-7, np.inf)]
    if budget is not None:
        cons.append(LinearConstraint(cost[used].reshape(1, -1), -np.inf, budget - cost[primary].sum()))
    opts = {"mip_rel_gap": 1e-7, "disp": False}
    if time_limit is not None:
        opts["time_limit"] = max(1.0, time_limit - (time.perf_counter() - t0))
    res = milp(cost[used], integrality=np.ones(len(used)), bounds=Bounds(0, 1), constraints=cons, options=opts)
    if res.x is None:
        return "time" if res.status == 1 else None
    if res.status == 1:
        return "time"
    x[used[res.x > 0.5]] = True
    return x


_FALLBACK = object()


def _master_highs(c, M, lower, time_limit, bound):
    """``min c x`` over binary x with ``M x >= lower``, by HiGHS, stopping branches that cannot go
    under ``bound``. Returns x, None (no such x), ``'time'``, or ``_FALLBACK`` for anything else."""
    h = _highs._Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 1e-7)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if bound is not None:
        h.setOptionValue("objective_bound", float(bound))
    n = len(c)
    lp = _highs.HighsLp()
    lp.num_col_, lp.num_row_ = n, M.shape[0]
    lp.col_cost_ = np.asarray(c, float)
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
    lp.row_lower_ = np.asarray(lower, float)
    lp.row_upper_ = np.full(M.shape[0], _highs.kHighsInf)
    Mc = M.tocsc()
    lp.a_matrix_.format_ = _highs.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = Mc.indptr, Mc.indices, Mc.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, M.shape[0]
    lp.integrality_ = [_highs.HighsVarType.kInteger] * n
    h.passModel(lp)
    h.run()
    st = h.getModelStatus()
    S = _highs.HighsModelStatus
    if st == S.kOptimal:
        return np.asarray(h.getSolution().col_value)
    if st in (S.kInfeasible, getattr(S, "kObjectiveBound", S.kInfeasible)):
        return None
    if st == S.kTimeLimit:
        return "time"
    return _FALLBACK


def _master_lp(cuts, cost, primary, keep):
    """The master's linear relaxation: fractional x in [0, 1] (primary cells 1, kept cells 0)."""
    n = len(cost)
    rows, cols, data, rhs = [], [], [], []
    for r, (idx, coef, b) in enumerate(cuts):
        rows.append(np.full(len(idx), r))
        cols.append(np.asarray(idx))
        data.append(np.asarray(coef, float))
        rhs.append(b)
    lb = primary.astype(float)
    ub = np.where(keep, 0.0, 1.0)
    if not cuts:
        return lb
    M = sparse.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=(len(cuts), n))
    res = milp(cost, integrality=np.zeros(n), bounds=Bounds(lb, ub),
               constraints=[LinearConstraint(M, np.asarray(rhs) - 1e-7, np.inf)], options={"disp": False})
    if res.x is None:
        return None
    x = np.clip(res.x, lb, ub)
    x[x < 1e-6] = 0.0  # the solver's tolerance, not a fraction of a cell
    x[x > 1 - 1e-6] = 1.0
    return x


def _lp_cuts(system, primary, protection, cost, keep, values, U, cuts, *, singleton=None, deadline=None,
             max_rounds=60):
    """Strengthen the master with cuts separated at its linear relaxation (Fischetti–Salazar's LP phase).

    At a fractional pattern ``x*`` each cell may move down by ``x*_i`` times its value and up by
    ``x*_i`` times ``U``; an attack on a primary cell that stays short of its protection level
    gives, from its duals, a cut that ``x*`` violates and every protected pattern satisfies.
    Looping until no attack succeeds raises the master's lower bound before any branching, so
    the integer master that follows is solved much faster. Insiders (``singleton`` cells, whose
    value the respondent knows) attack with their own cell pinned, which gives cuts of their own;
    whole-number attacks are left to the integer loop (their cuts need integral patterns).
    """
    A = system.equations.tocsr()
    zeros, rows_all, cells = np.zeros(A.shape[0]), np.arange(A.shape[0]), np.arange(A.shape[1])
    targets = np.flatnonzero(primary & ((protection.upper > 0) | (protection.lower > 0) | (protection.sliding > 0)))
    insiders = [] if singleton is None else [int(s) for s in np.flatnonzero(singleton)]
    scenarios = [(int(k), None) for k in targets] + [
        (int(k), s) for k in targets for s in insiders if s != k and not system.insider_irrelevant(int(k), s)]
    history: list[float] = []
    for _ in range(max_rounds):
        if deadline is not None and time.perf_counter() > deadline:
            break
        x = _master_lp(cuts, cost, primary, keep)
        if x is None:
            return
        history.append(float(cost @ x))
        if len(history) > 3 and history[-1] - history[-4] <= 1e-3 * max(history[-1], 1.0):
            break  # tailing off: the branch-and-cut loop does the rest
        lb, ub = values - x * values, values + x * U
        added = 0
        for k, sc in scenarios:
            lo, hi = lb, ub
            if sc is not None:
                if x[sc] == 0:
                    continue  # her cell is published: the plain attack already covers her
                lo, hi = lb.copy(), ub.copy()
                lo[sc] = hi[sc] = values[sc]
            got, atts = {}, {}
            for sense in ("max", "min"):
                c = np.zeros(len(values))
                c[k] = -1.0 if sense == "max" else 1.0
                status, y, duals = solve_lp(c, A, zeros, lo, hi)
                if status != "optimal":
                    break
                got[sense] = y[k]
                atts[sense] = Attack(float(y[k]), cells, y, rows_all, duals)
            if len(got) < 2:
                continue
            new = []
            if got["max"] < values[k] + protection.upper[k] - 1e-4:
                new.append((_cut(None, atts["max"], A, k, "max", values, U, sc), protection.upper[k]))
            if got["min"] > values[k] - protection.lower[k] + 1e-4:
                new.append((_cut(None, atts["min"], A, k, "min", values, U, sc), protection.lower[k]))
            if got["max"] - got["min"] < protection.sliding[k] - 1e-4:
                new.append((_cut(None, atts["max"], A, k, "max", values, U, sc)
                            + _cut(None, atts["min"], A, k, "min", values, U, sc), protection.sliding[k]))
            for coef, rhs in new:
                coef = np.minimum(coef, rhs)
                nz = np.flatnonzero(coef > _TOL)
                cuts.append((nz, coef[nz], float(rhs)))
                added += 1
        if not added:
            break
    # Keep the cuts that bind at the relaxation's optimum: the integer master on a few hundred
    # binding rows solves several times faster than on every cut ever found, and a dropped cut
    # comes back from its attack if the master ever needs it.
    x = _master_lp(cuts, cost, primary, keep)
    if x is not None:
        slack = [float(x[idx] @ coef) - b for idx, coef, b in cuts]
        cuts[:] = [c for c, sl in zip(cuts, slack) if sl <= 1e-6]


def _prune(system, pattern, primary, protection, cost, singleton, U, deadline=None):
    """Drop secondary cells one at a time, most costly first, while every attack still fails.

    Attacker solutions are cached: removing a cell only re-opens the attacks that moved it.
    """
    pattern = pattern.copy()
    witnesses: dict = {}
    if check_protection(system, pattern, protection, singletons=singleton, upper_room=U, witnesses=witnesses):
        return pattern
    for c in sorted(np.flatnonzero(pattern & ~primary), key=lambda i: -cost[i]):
        if deadline is not None and time.perf_counter() > deadline:
            break
        pattern[c] = False
        trial = dict(witnesses)
        if check_protection(system, pattern, protection, singletons=singleton, upper_room=U, witnesses=trial):
            pattern[c] = True
        else:
            witnesses = trial
    return pattern


def _add_cuts(cuts: list, fails, x, keep) -> None:
    for f in fails:
        if f.coefs is None:
            # The integer (or insider) attacker won where no LP cut applies: forbid this
            # pattern and every subset of it (protection only grows with suppression).
            outside = np.flatnonzero(~x & ~keep)
            if not len(outside):
                raise SuppressionError("These tables cannot be protected even with every cell suppressed.")
            cuts.append((outside, np.ones(len(outside)), 1.0))
            continue
        coef = np.minimum(f.coefs, f.rhs)
        nz = np.flatnonzero(coef > _TOL)
        cuts.append((nz, coef[nz], float(f.rhs)))


def _complete(system, x, protection, cost, keep, singleton, U, witnesses, max_rounds=100):
    """Greedy completion of a pattern along failed attacks; returns (safe pattern or None, [(failure, pattern)])."""
    y = x.copy()
    seen = []
    for _ in range(max_rounds):
        fails = check_protection(system, y, protection, singletons=singleton, upper_room=U, witnesses=witnesses, cuts=True)
        if not fails:
            return y, seen
        seen += [(f, y.copy()) for f in fails]
        y = _greedy_add(system, y, fails, cost, keep)
        if y is None:
            return None, seen
    return None, seen


def _greedy_add(system, y, fails, cost, keep):
    y = y.copy()
    for f in fails:
        if f.coefs is None:
            cand = np.flatnonzero(~y & ~keep)
            if not len(cand):
                return None
            rows = system.equations.tocsc()[:, f.cell].indices
            near = np.unique(system.equations.tocsr()[rows].indices) if len(rows) else cand
            near = np.intersect1d(near, cand)
            pool = near if len(near) else cand
            y[pool[np.argmin(cost[pool])]] = True
            continue
        coef = np.minimum(f.coefs, f.rhs)
        have = coef[y].sum()
        cand = np.flatnonzero(~y & ~keep & (coef > _TOL))
        for c in cand[np.argsort(-coef[cand] / cost[cand], kind="stable")]:
            if have >= f.rhs - _TOL:
                break
            y[c] = True
            have += coef[c]
        if have < f.rhs - _TOL:
            return None
    return y


#: Systems with more cells than this get the LP phase's cuts and the heuristic's pattern pruned
#: before the master's first round.
_PRUNE_FROM_CELLS = 60


def optimal(system: CellSystem, primary: np.ndarray, protection: Protection, *, cost: np.ndarray,
            keep: np.ndarray | None = None, singletons: np.ndarray | None = None,
            start: np.ndarray | None = None, time_limit: float | None = 30.0,
            max_iterations: int = 500) -> SuppressionResult:
    """Suppression pattern of least cost that passes every attack (Fischetti & Salazar-González).

    Parameters
    ----------
    system : CellSystem
    primary : ndarray of bool
    protection : Protection
    cost : ndarray
        Cost of hiding each cell (see :func:`cell_costs`).
    keep : ndarray of bool, optional
        Cells that must stay published.
    singletons : ndarray of bool, optional
        Cells whose value an insider knows.
    start : ndarray of bool, optional
        A pattern known to be safe (the heuristic's): the optimum is never costlier, and it is
        returned if the time limit is reached first.
    """
    # Why by hand: no Python (or R) library solves cell suppression of linked, hierarchical
    # tables exactly with an open solver: sdcTable's linked-table method was found unsafe by
    # its users, and τ-ARGUS's engine protects one table at a time. This is the model of
    # Fischetti & Salazar-González, "Models and algorithms for the 2-dimensional cell
    # suppression problem in statistical disclosure control", Math. Programming 84 (1999),
    # and "Solving the cell suppression problem on tabular data with linear constraints",
    # Management Science 47 (2001): a master MILP over x (1 = hidden) and, for every primary
    # cell and direction, an attacker LP whose duals give a cut sum(coef * x) >= protection;
    # the loop ends when no attack succeeds (here also with the integer and insider attacks).
    t0 = time.perf_counter()
    values = np.nan_to_num(system.values, nan=0.0)
    n = system.n_cells
    primary = np.asarray(primary, bool)
    keep = np.zeros(n, bool) if keep is None else np.asarray(keep, bool)
    singleton = np.zeros(n, bool) if singletons is None else np.asarray(singletons, bool)
    if (primary & keep).any():
        raise SuppressionError("A primary cell cannot also be kept published.")
    U = protection.largest
    notes = []
    if not primary.any():
        return SuppressionResult(primary.copy(), primary.copy(), "optimal", time.perf_counter() - t0, 0, notes)
    cuts = _row_cuts(system, primary, protection, values, U, singleton)
    if system.n_cells > _PRUNE_FROM_CELLS:  # the LP phase, like pruning, pays off on large tables only
        _lp_cuts(system, primary, protection, cost, keep, values, U, cuts, singleton=singleton,
                 deadline=None if time_limit is None else t0 + time_limit / 2)
    best = None if start is None else np.asarray(start, bool) | primary
    # Pruning the start gives the master a cheaper incumbent to beat: worth it on large tables,
    # where it shortens the proof; on small ones the master finds the optimum at once anyway.
    if best is not None and system.n_cells > _PRUNE_FROM_CELLS:
        deadline = None if time_limit is None else t0 + time_limit
        best = _prune(system, best, primary, protection, cost, singleton, U, deadline)
    found_at = time.perf_counter() - t0
    upper_bound = np.inf if best is None else float(cost[best].sum())
    witnesses: dict = {}
    it = 0
    proven = False
    lower_bound_seen = [float(cost[primary].sum())]
    while it < max_iterations:
        it += 1
        x = _solve_master(cuts, cost, primary, keep, None, time_limit, t0, incumbent=upper_bound)
        if x is None:
            if best is None:
                raise SuppressionError("No suppression pattern can protect these tables with the cells allowed: "
                                       "allow margins to be suppressed, or lower the protection levels.")
            proven = True  # nothing cheaper than the incumbent satisfies the cuts
            break
        if isinstance(x, str):
            break
        lower_bound = float(cost[x].sum())
        lower_bound_seen[0] = lower_bound
        if lower_bound >= upper_bound - 0.5:  # costs are whole numbers: the incumbent is optimal
            proven = True
            break
        fails = check_protection(system, x, protection, singletons=singleton, upper_room=U, witnesses=witnesses, cuts=True)
        if not fails:
            best, upper_bound, proven = x, lower_bound, True
            found_at = time.perf_counter() - t0
            break
        _add_cuts(cuts, fails, x, keep)
        # Complete the master's pattern greedily along the failed attacks: every attack on the
        # way gives one more cut, and the completed pattern is a safe incumbent (an upper bound).
        y, more = _complete(system, x, protection, cost, keep, singleton, U, witnesses)
        for f in more:
            _add_cuts(cuts, [f[0]], f[1], keep)
        if y is not None and cost[y].sum() < upper_bound - 1e-9:
            best, upper_bound = y, float(cost[y].sum())
            found_at = time.perf_counter() - t0
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            break
    if best is None:
        raise SuppressionError(f"Optimal suppression did not finish within {time_limit:g} s or {max_iterations} rounds; "
                               "use the heuristic.")
    best = best | primary
    if not proven:
        gap = float(cost[best].sum()) / max(lower_bound_seen[0], 1e-9) - 1
        notes.append(f"stopped at the time limit: the pattern is safe, and its cost is at most {100 * gap:.1f} % "
                     "above the cheapest possible")
    out = SuppressionResult(best, primary.copy(), "optimal", time.perf_counter() - t0, it, notes)
    out.proven = proven
    out.lower_bound = lower_bound_seen[0]
    out.seconds_to_best = found_at
    return out


# ---------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------


def _repair(system, suppressed, protection, cost, keep, singleton, U, max_rounds=200):
    """Add cells along failed attacks until every attack fails (linked tables, leftover singletons)."""
    suppressed = suppressed.copy()
    witnesses: dict = {}
    for rounds in range(1, max_rounds + 1):
        fails = check_protection(system, suppressed, protection, singletons=singleton, upper_room=U,
                                 witnesses=witnesses, cuts=True)
        if not fails:
            return suppressed, rounds
        for f in fails:
            if f.coefs is None:
                cand = np.flatnonzero(~suppressed & ~keep)
                if not len(cand):
                    raise SuppressionError("These tables cannot be protected even with every cell suppressed.")
                # the cheapest cell sharing a relation with the failing one
                A = system.equations.tocsc()
                rows = A[:, f.cell].indices
                near = np.unique(system.equations.tocsr()[rows].indices) if len(rows) else cand
                near = np.intersect1d(near, cand) if len(np.intersect1d(near, cand)) else cand
                suppressed[near[np.argmin(cost[near])]] = True
                continue
            coef = np.minimum(f.coefs, f.rhs)
            have = coef[suppressed].sum()
            if have >= f.rhs - _TOL:
                continue
            cand = np.flatnonzero(~suppressed & ~keep & (coef > _TOL))
            if not len(cand):
                raise SuppressionError(f"{system.label(f.cell)} cannot be protected with the cells allowed.")
            for c in cand[np.argsort(-coef[cand] / cost[cand], kind="stable")]:
                suppressed[c] = True
                have += coef[c]
                if have >= f.rhs - _TOL:
                    break
    raise SuppressionError("Heuristic suppression could not be repaired; use the optimal method.")


def suppress(system: CellSystem, primary: np.ndarray, protection: Protection, *, method: str = "optimal",
             cost: str | np.ndarray = "value", keep: np.ndarray | None = None, singletons: bool | np.ndarray = True,
             time_limit: float | None = 30.0, verify: bool | None = None) -> SuppressionResult:
    """Complementary suppression of a system of one or more linked tables.

    Parameters
    ----------
    system : CellSystem
    primary : ndarray of bool
        Primary (sensitive) cells.
    protection : Protection
    method : {'optimal', 'heuristic'}
    cost : {'value', 'cells'} or ndarray
    keep : ndarray of bool, optional
        Cells that must stay published (e.g. a grand total).
    singletons : bool or ndarray of bool
        ``True`` treats every primary cell of value 1 as known to its respondent.
    time_limit : float, optional
        Seconds for the optimal method; past it the (safe) heuristic pattern is returned.
    verify : bool, optional
        Attack the heuristic's pattern and repair it. Default: only when tables are linked
        or a singleton could not be avoided (otherwise each hypercube is its own proof).

    Returns
    -------
    SuppressionResult

    Examples
    --------
    >>> import numpy as np
    >>> from research_kit.disclosure.model import CountTable, Dimension
    >>> rows, cols = Dimension.flat("r", ["a", "b"]), Dimension.flat("c", ["x", "y"])
    >>> t = CountTable([rows, cols], [[33, 13, 20], [13, 3, 10], [20, 10, 10]])
    >>> s = CellSystem.from_tables([t])
    >>> primary = s.values < 5
    >>> from research_kit.disclosure.policy import DisclosurePolicy
    >>> r = suppress(s, primary, Protection.from_policy(s.values, primary, DisclosurePolicy()))
    >>> r.status().reshape(3, 3)[1:, 1:].tolist()
    [['primary', 'secondary'], ['secondary', 'secondary']]
    """
    t0 = time.perf_counter()
    values = np.nan_to_num(system.values, nan=0.0)
    if np.isnan(system.values).any():
        raise TableError("Suppression needs the value of every cell.")
    n = system.n_cells
    primary = np.asarray(primary, bool)
    keep = np.zeros(n, bool) if keep is None else np.asarray(keep, bool)
    if isinstance(singletons, np.ndarray):
        singleton = singletons.astype(bool)
    else:
        singleton = (primary & (values == 1)) if singletons else np.zeros(n, bool)
    costs = cell_costs(values, cost) if isinstance(cost, str) else np.asarray(cost, float)
    if method not in ("optimal", "heuristic"):
        raise DisclosureError(f"method must be 'optimal' or 'heuristic', not {method!r}.")
    if not primary.any():
        return SuppressionResult(primary.copy(), primary.copy(), method, time.perf_counter() - t0)
    pattern, unresolved = hypercube(system, primary, protection, cost=costs, keep=keep, singletons=singleton)
    rounds = 0
    notes = []
    must_verify = verify if verify is not None else (len(system.grids) > 1 or bool(unresolved))
    if must_verify or unresolved:
        pattern, rounds = _repair(system, pattern, protection, costs, keep, singleton, protection.largest)
        if unresolved:
            notes.append(f"{len(unresolved)} cell(s) protected by repair rather than by a hypercube")
    if method == "heuristic":
        return SuppressionResult(pattern, primary.copy(), "heuristic", time.perf_counter() - t0, rounds, notes)
    res = optimal(system, primary, protection, cost=costs, keep=keep, singletons=singleton, start=pattern,
                  time_limit=time_limit)
    res.seconds = time.perf_counter() - t0
    res.notes = notes + res.notes
    return res
