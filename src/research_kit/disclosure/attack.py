"""The attacker: the interval a suppressed cell is known to lie in, from everything published.

For a suppressed cell ``k`` the attacker solves two linear programmes over the
suppressed cells ``y`` (published cells are fixed at their values)::

    min / max  y_k   subject to   A y = 0 (every margin relation),   lb <= y <= ub

with ``lb = 0`` (counts are not negative) and ``ub = +inf``, as τ-ARGUS's audit does.
Three guards go beyond the plain LP, for the attacks that users of τ-ARGUS and
sdcTable found:

* **integrality** — counts are whole numbers, so an integer attacker may do better than
  the LP on tables whose relations are not totally unimodular (3-dimensional tables):
  when an optimal vertex is fractional, the bound is re-solved as an integer programme;
* **singletons** — a respondent alone in a suppressed cell knows its value (1): for every
  such cell that the optimal attack moves, the attack is re-solved with that cell fixed;
* **zeros** — a cell cannot go below zero, so a suppressed zero protects nothing from
  below; the bounds carry this.

The programmes are solved with HiGHS through :func:`scipy.optimize.linprog` and
:func:`scipy.optimize.milp`, one connected block of suppressed cells at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse.csgraph import connected_components

from research_kit.disclosure.model import TableError

__all__ = ["Attacker", "Attack", "WarmLP", "solve_lp"]

_TOL = 1e-6

try:  # HiGHS as scipy ships it; its Python layer costs more than small LPs take to solve
    from scipy.optimize._highspy import _core as _highs
except ImportError:  # pragma: no cover - older scipy: use linprog
    _highs = None


def solve_lp(c: np.ndarray, M: sparse.csr_matrix, rhs: np.ndarray, lb: np.ndarray, ub: np.ndarray):
    """``min c @ y`` subject to ``M y = rhs``, ``lb <= y <= ub``, by HiGHS (dual simplex).

    Returns ``(status, y, row_duals)`` with status ``'optimal'``, ``'unbounded'`` or
    ``'infeasible'``; ``row_duals`` are the marginals of the equalities (as
    :func:`scipy.optimize.linprog`'s ``eqlin.marginals``). Uses scipy's bundled HiGHS
    directly when it can (about five times faster than ``linprog`` on the small
    programmes of an audit), ``linprog(method='highs')`` otherwise.
    """
    n = len(c)
    m = M.shape[0]
    if _highs is not None:
        h = _highs._Highs()
        h.setOptionValue("output_flag", False)
        lp = _highs.HighsLp()
        lp.num_col_ = n
        lp.num_row_ = m
        lp.col_cost_ = np.asarray(c, float)
        lp.col_lower_ = np.where(np.isfinite(lb), lb, -_highs.kHighsInf)
        lp.col_upper_ = np.where(np.isfinite(ub), ub, _highs.kHighsInf)
        lp.row_lower_ = np.asarray(rhs, float)
        lp.row_upper_ = np.asarray(rhs, float)
        Mc = M.tocsc()
        lp.a_matrix_.format_ = _highs.MatrixFormat.kColwise
        lp.a_matrix_.start_ = Mc.indptr
        lp.a_matrix_.index_ = Mc.indices
        lp.a_matrix_.value_ = Mc.data
        lp.a_matrix_.num_col_ = n
        lp.a_matrix_.num_row_ = m
        h.passModel(lp)
        h.run()
        st = h.getModelStatus()
        if st == _highs.HighsModelStatus.kOptimal:
            sol = h.getSolution()
            return "optimal", np.asarray(sol.col_value), np.asarray(sol.row_dual)
        if st in (_highs.HighsModelStatus.kUnbounded, _highs.HighsModelStatus.kUnboundedOrInfeasible):
            if st == _highs.HighsModelStatus.kUnboundedOrInfeasible:
                # rare: tell the two apart without presolve
                h.setOptionValue("presolve", "off")
                h.run()
                if h.getModelStatus() == _highs.HighsModelStatus.kInfeasible:
                    return "infeasible", None, None
            return "unbounded", None, None
        if st == _highs.HighsModelStatus.kInfeasible:
            return "infeasible", None, None
    res = linprog(c, A_eq=M if m else None, b_eq=rhs if m else None, bounds=np.column_stack([lb, ub]), method="highs")
    if res.status == 3:
        return "unbounded", None, None
    if res.status != 0:
        return "infeasible", None, None
    return "optimal", res.x, (res.eqlin.marginals if m else np.zeros(0))


class WarmLP:
    """Bounds of one cell after another over the same constraints, ``M y = rhs``, ``lb <= y <= ub``.

    Attacks on the cells of a table differ only in their objective (and an insider's attack in
    one pinned cell), so one HiGHS instance keeps the model and its last optimal basis, and
    each new bound starts from there: a few simplex iterations instead of a solve from
    scratch. Whenever the answer is not a clear optimum or unboundedness, the bound is solved
    afresh with :func:`solve_lp`.

    Examples
    --------
    >>> M = sparse.csr_matrix(np.array([[1.0, 1.0, -1.0]]))
    >>> w = WarmLP(M, np.array([0.0]), np.zeros(3), np.array([np.inf, np.inf, 10.0]))
    >>> w.solve(0, "max")[1].round(6).tolist()
    [10.0, 0.0, 10.0]
    >>> w.solve(2, "min")[0]
    'optimal'
    """

    def __init__(self, M: sparse.spmatrix, rhs: np.ndarray, lb: np.ndarray, ub: np.ndarray):
        self.M, self.rhs = M, np.asarray(rhs, float)
        self.lb, self.ub = np.asarray(lb, float).copy(), np.asarray(ub, float).copy()
        self._h = None
        self._last: int | None = None

    def _model(self):
        h = _highs._Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("presolve", "off")  # keeps the basis between objectives
        n, m = len(self.lb), self.M.shape[0]
        lp = _highs.HighsLp()
        lp.num_col_, lp.num_row_ = n, m
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = np.where(np.isfinite(self.lb), self.lb, -_highs.kHighsInf)
        lp.col_upper_ = np.where(np.isfinite(self.ub), self.ub, _highs.kHighsInf)
        lp.row_lower_ = lp.row_upper_ = self.rhs
        Mc = self.M.tocsc()
        lp.a_matrix_.format_ = _highs.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = Mc.indptr, Mc.indices, Mc.data
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, m
        h.passModel(lp)
        return h

    def set_bounds(self, col: int, lo: float, hi: float) -> None:
        """Change one column's bounds (an insider pins her cell; restore it afterwards)."""
        self.lb[col], self.ub[col] = lo, hi
        if self._h is not None:
            inf = _highs.kHighsInf
            self._h.changeColBounds(int(col), float(lo) if np.isfinite(lo) else -inf,
                                    float(hi) if np.isfinite(hi) else inf)

    def solve(self, k: int, sense: str):
        """``(status, y, row_duals)`` of ``min y_k`` (``sense='min'``) or ``max y_k``, as :func:`solve_lp`."""
        if _highs is not None:
            if self._h is None:
                self._h = self._model()
            h = self._h
            if self._last is not None and self._last != k:
                h.changeColCost(self._last, 0.0)
            h.changeColCost(int(k), 1.0 if sense == "min" else -1.0)
            self._last = int(k)
            h.run()
            st = h.getModelStatus()
            if st == _highs.HighsModelStatus.kOptimal:
                sol = h.getSolution()
                return "optimal", np.asarray(sol.col_value), np.asarray(sol.row_dual)
            if st == _highs.HighsModelStatus.kUnbounded:
                return "unbounded", None, None
            self._h, self._last = None, None  # start afresh next time
        c = np.zeros(len(self.lb))
        c[k] = 1.0 if sense == "min" else -1.0
        return solve_lp(c, self.M, self.rhs, self.lb, self.ub)


@dataclass
class Attack:
    """One bound of one cell: the value, the attacker's solution (cell → value) and the LP duals."""

    value: float
    cells: np.ndarray  # global indices of the block's cells
    solution: np.ndarray | None  # values of those cells at the optimum (None when unbounded)
    rows: np.ndarray  # global indices of the block's relations
    duals: np.ndarray | None  # marginals of those relations (for cuts)
    fixed_cell: int | None = None  # the insider's cell, when the attack was solved with one pinned


class Attacker:
    """Attacks on one suppression pattern of a :class:`~research_kit.disclosure.system.CellSystem`.

    Parameters
    ----------
    equations : sparse matrix
        Relations ``A y = 0`` over all cells.
    values : ndarray
        Cell values; only published ones are read, unless ``shift`` is given.
    suppressed : ndarray of bool
    lower, upper : ndarray
        A-priori bounds of every cell (default 0 and +inf).
    """

    def __init__(self, equations: sparse.csr_matrix, values: np.ndarray, suppressed: np.ndarray,
                 lower: np.ndarray | None = None, upper: np.ndarray | None = None):
        A = equations.tocsc()
        n = A.shape[1]
        self.suppressed = np.asarray(suppressed, dtype=bool)
        self.S = np.flatnonzero(self.suppressed)
        self.lower = np.zeros(n) if lower is None else np.asarray(lower, float)
        self.upper = np.full(n, np.inf) if upper is None else np.asarray(upper, float)
        published = ~self.suppressed
        pub_vals = np.where(published, np.nan_to_num(values, nan=0.0), 0.0)
        if published.any() and np.isnan(values[published]).any():
            raise TableError("A published cell has no value.")
        A_S = A[:, self.S].tocsr()
        touches = np.diff(A_S.indptr) > 0
        rhs_all = -(A @ pub_vals)
        # Relations among published cells only must hold as published.
        bad = ~touches & (np.abs(rhs_all) > _TOL)
        if bad.any():
            raise TableError(f"{int(bad.sum())} published relation(s) do not add up: margins must equal the sum of their parts.")
        self.R = np.flatnonzero(touches)
        self.A_RS = A_S[self.R]
        self.rhs = rhs_all[self.R]
        self.A_csr = equations.tocsr()
        # Blocks: suppressed cells linked through a relation.
        m = len(self.S)
        self.block_of = np.zeros(m, dtype=np.int64)
        if m:
            adj = (self.A_RS.T != 0).astype(np.int8) @ (self.A_RS != 0).astype(np.int8)
            _, self.block_of = connected_components(adj, directed=False)
        self.pos = {int(c): i for i, c in enumerate(self.S)}
        self._blocks: dict[int, tuple] = {}
        self._solvers: dict[int, list] = {}

    def _block(self, b: int):
        if not self._blocks and len(self.S):
            self._split_blocks()
        return self._blocks[b]

    def _split_blocks(self) -> None:
        """Every block's columns, rows and matrix (CSC, as HiGHS takes it), in one pass over the entries.

        A relation's suppressed cells are all in one block (the relation links them), so each row
        belongs to one block too; entries are sorted once by block, column and row, and each
        block's matrix is cut from the sorted arrays without scipy re-sorting it.
        """
        coo = self.A_RS.tocoo()
        n_blocks = int(self.block_of.max()) + 1
        cols_by_block = np.argsort(self.block_of, kind="stable")
        starts = np.searchsorted(self.block_of[cols_by_block], np.arange(n_blocks + 1))
        local_col = np.empty(len(self.S), dtype=np.int64)
        local_col[cols_by_block] = np.arange(len(self.S)) - np.repeat(starts[:-1], np.diff(starts))
        self._local_col = local_col
        eb = self.block_of[coo.col]
        row_block = np.zeros(self.A_RS.shape[0], dtype=np.int64)
        row_block[coo.row] = eb
        rows_by_block = np.argsort(row_block, kind="stable")
        r_starts = np.searchsorted(row_block[rows_by_block], np.arange(n_blocks + 1))
        local_row = np.empty(len(row_block), dtype=np.int64)
        local_row[rows_by_block] = np.arange(len(row_block)) - np.repeat(r_starts[:-1], np.diff(r_starts))
        order = np.lexsort((local_row[coo.row], local_col[coo.col], eb))
        data, index = coo.data[order], local_row[coo.row[order]]
        e_starts = np.searchsorted(eb[order], np.arange(n_blocks + 1))
        per_col = np.bincount(coo.col, minlength=len(self.S))[cols_by_block]
        for b in range(n_blocks):
            lo, hi = e_starts[b], e_starts[b + 1]
            cols = cols_by_block[starts[b]:starts[b + 1]]
            rows = rows_by_block[r_starts[b]:r_starts[b + 1]]
            indptr = np.concatenate(([0], np.cumsum(per_col[starts[b]:starts[b + 1]])))
            M = sparse.csc_matrix((data[lo:hi], index[lo:hi], indptr), shape=(len(rows), len(cols)))
            self._blocks[b] = (cols, rows, M)

    def bound(self, cell: int, sense: str, *, fixed: dict[int, float] | None = None, integer: bool = False,
              lower: np.ndarray | None = None, upper: np.ndarray | None = None) -> Attack:
        """Smallest (``sense='min'``) or largest (``'max'``) value of a suppressed ``cell``.

        ``fixed`` pins other suppressed cells (what an insider knows); ``lower``/``upper``
        replace the a-priori bounds of the block's cells.
        """
        i = self.pos[int(cell)]
        b = self.block_of[i]
        cols, rows, M = self._block(b)
        k = int(self._local_col[i])
        cells = self.S[cols]
        rhs = self.rhs[rows]
        glob_rows = self.R[rows]
        pinned = next(iter(fixed)) if fixed and len(fixed) == 1 else None
        warm = fixed is None and lower is None and upper is None and not integer
        if warm and b in self._solvers:  # the block's programme is set up: only the objective changes
            return self._attack(self._solvers[b].solve(k, sense), k, sense, cells, glob_rows, pinned)
        lb = (self.lower if lower is None else lower)[cells].astype(float).copy()
        ub = (self.upper if upper is None else upper)[cells].astype(float).copy()
        if fixed:
            for c, v in fixed.items():
                j = np.flatnonzero(cells == c)
                if len(j):
                    lb[j] = ub[j] = v
        c = np.zeros(len(cells))
        c[k] = 1.0 if sense == "min" else -1.0
        if integer:
            cons = [LinearConstraint(M, rhs, rhs)] if M.shape[0] else []
            res = milp(c, integrality=np.ones(len(cells)), bounds=Bounds(lb, ub), constraints=cons,
                       options={"mip_rel_gap": 0.0})
            if res.status == 0 or (res.x is not None and res.status in (1,)):
                val = float(res.x[k])
                return Attack(val, cells, res.x, glob_rows, None, pinned)
            if "unbounded" in str(res.message).lower() or res.status == 3:
                return Attack(np.inf if sense == "max" else -np.inf, cells, None, glob_rows, None, pinned)
            raise TableError(f"The published numbers admit no whole-number solution ({res.message}).")
        return self._attack(self._warm_lp(b, k, sense, M, rhs, lb, ub) if warm else solve_lp(c, M, rhs, lb, ub),
                            k, sense, cells, glob_rows, pinned)

    @staticmethod
    def _attack(result, k: int, sense: str, cells, glob_rows, pinned) -> Attack:
        status, x, duals = result
        if status == "unbounded":
            return Attack(np.inf if sense == "max" else -np.inf, cells, None, glob_rows, None, pinned)
        if status != "optimal":
            raise TableError("The published numbers are inconsistent: no table of non-negative counts fits them.")
        return Attack(float(x[k]), cells, x, glob_rows, duals, pinned)

    def _warm_lp(self, b: int, k: int, sense: str, M, rhs, lb, ub):
        """The plain bound of a block's cell, by one :class:`WarmLP` kept per block."""
        w = self._solvers.get(b)
        if w is None:
            w = self._solvers[b] = WarmLP(M, rhs, lb, ub)
        return w.solve(k, sense)

    def interval(self, cell: int, *, integer: str | bool = "auto", insiders: dict[int, float] | None = None,
                 irrelevant=None) -> tuple[float, float, dict]:
        """``(lo, hi, info)``: the attacker's interval for ``cell``.

        Parameters
        ----------
        integer : 'auto', True or False
            ``'auto'`` solves the integer programme only where the LP optimum is fractional.
        insiders : dict, optional
            Cells whose value an insider knows (singletons → 1). The returned interval is the
            narrowest over all single insiders other than ``cell`` itself.
        irrelevant : callable, optional
            ``irrelevant(cell, insider)`` is true when the insider learns nothing about anyone
            else from ``cell`` (it lies inside her own cell).
        """
        info = {"integer": False, "insider": None}
        out = []
        for sense in ("min", "max"):
            att = self.bound(cell, sense, integer=integer is True)
            val = att.value
            if integer == "auto" and att.solution is not None and np.isfinite(val):
                if np.abs(att.solution - np.round(att.solution)).max() > _TOL:
                    att = self.bound(cell, sense, integer=True)
                    info["integer"] = True
                    val = att.value
            if insiders and att.solution is not None:
                sol = dict(zip(att.cells.tolist(), att.solution.tolist()))
                for s, v in insiders.items():
                    if s == cell or s not in sol or abs(sol[s] - v) <= _TOL:
                        continue
                    if irrelevant is not None and irrelevant(cell, s):
                        continue
                    alt = self.bound(cell, sense, fixed={s: v}, integer=integer is True)
                    if integer == "auto" and alt.solution is not None and np.isfinite(alt.value) and \
                            np.abs(alt.solution - np.round(alt.solution)).max() > _TOL:
                        alt = self.bound(cell, sense, fixed={s: v}, integer=True)
                    worse = alt.value > val if sense == "min" else alt.value < val
                    if worse:
                        val = alt.value
                        info["insider"] = s
            out.append(val)
        return out[0], out[1], info
