"""Complementary suppression and its audit: tables with margins, hierarchies, singletons, zeros, whole numbers."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from research_kit.disclosure import (
    CellSystem,
    CountTable,
    Dimension,
    DisclosurePolicy,
    Protection,
    TableError,
    audit_tables,
    protect_count_table,
    suppress,
)
from research_kit.disclosure.attack import Attacker
from research_kit.disclosure.secondary import cell_costs, check_protection, hypercube

POLICY = DisclosurePolicy()


def _table(leaves: np.ndarray, hierarchical_first: bool = False) -> CountTable:
    """A table with every margin, from its bottom-level cells."""
    dims = []
    for axis, size in enumerate(leaves.shape):
        codes = [f"d{axis}_{i}" for i in range(size)]
        if axis == 0 and hierarchical_first and size >= 4:
            half = size // 2
            dims.append(Dimension(f"d{axis}", ["T", "g1", "g2", *codes], total="T",
                                  hierarchy={"T": ["g1", "g2"], "g1": codes[:half], "g2": codes[half:]}))
        else:
            dims.append(Dimension.flat(f"d{axis}", codes, total="T"))
    frame = pd.DataFrame([dict({f"d{a}": dims[a].leaves[i] for a, i in enumerate(idx)}, count=int(v))
                          for idx, v in np.ndenumerate(leaves)])
    return CountTable.from_frame(frame, dims)


@st.composite
def tables(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(2, 4 if ndim < 3 else 3), min_size=ndim, max_size=ndim)))
    leaves = np.array(draw(st.lists(st.integers(0, 30), min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))))
    return _table(leaves.reshape(shape), hierarchical_first=draw(st.booleans()))


def _run(t: CountTable, method: str, policy=POLICY):
    status, res = protect_count_table(t, policy, method=method)
    return status, res


# ---- properties ------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.integers(2, 8))
def test_no_published_cell_is_below_the_minimum_and_every_hidden_cell_passes_the_audit(t, k):
    policy = DisclosurePolicy(min_count=k, min_denominator=max(25, k), caution_denominator=max(50, k))
    for method in ("heuristic", "optimal"):
        status, _ = _run(t, method, policy)
        assert (t.values[status == "published"] >= k).all()
        assert (status[t.values < k] == "primary").all()
        audit = audit_tables({"t": t}, {"t": status}, policy)
        assert audit.ok, audit.summary()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.sampled_from(["value", "cells"]))
def test_the_optimal_method_never_suppresses_more_than_the_heuristic(t, cost):
    policy = DisclosurePolicy(cost=cost)
    st_h, _ = _run(t, "heuristic", policy)
    st_o, _ = _run(t, "optimal", policy)
    hidden_h, hidden_o = st_h != "published", st_o != "published"
    if cost == "cells":
        assert hidden_o.sum() <= hidden_h.sum()
    else:
        assert t.values[hidden_o].sum() <= t.values[hidden_h].sum()


@settings(max_examples=30, deadline=None)
@given(tables())
def test_published_margins_stay_consistent(t):
    status, _ = _run(t, "optimal")
    system = CellSystem.from_tables([t])
    shown = system.values.copy()
    shown[(status != "published").ravel()[np.argsort(system.grids[0].cells.ravel())]] = np.nan
    system.values = shown
    system.check_consistent()  # every relation among published cells holds as published


# ---- worked cases with known answers ------------------------------------------------------------


def test_one_primary_in_a_two_by_two_table_forces_three_complementary_cells():
    rows, cols = Dimension.flat("r", ["a", "b"]), Dimension.flat("c", ["x", "y"])
    t = CountTable([rows, cols], [[33, 13, 20], [13, 3, 10], [20, 10, 10]])
    for method in ("heuristic", "optimal"):
        status, res = _run(t, method)
        assert status[1:, 1:].tolist() == [["primary", "secondary"], ["secondary", "secondary"]]
        assert (status[0, :] == "published").all() and (status[:, 0] == "published").all()  # margins stay
    assert res.proven


def test_suppression_propagates_to_the_sub_regional_level():
    country = Dimension("country", ["LAC", "south", "andean", "PRY", "URY", "BOL", "PER"], total="LAC",
                        hierarchy={"LAC": ["south", "andean"], "south": ["PRY", "URY"], "andean": ["BOL", "PER"]})
    age = Dimension.flat("age", ["u25", "25plus"])
    f = pd.DataFrame({"country": ["PRY", "PRY", "URY", "URY", "BOL", "BOL", "PER", "PER"], "age": ["u25", "25plus"] * 4,
                      "count": [2, 30, 1, 40, 20, 30, 25, 35]})
    t = CountTable.from_frame(f, [country, age], measure="respondents")
    assert t.values[country.index("south"), age.index("u25")] == 3  # the node's own cell is small
    status, res = _run(t, "optimal")
    frame = pd.DataFrame(status, index=country.levels, columns=age.levels)
    assert frame.loc["south", "u25"] == "primary"
    # The node's hidden cell is protected by other node-level cells: it cannot be the region minus the other node.
    assert frame.loc["andean", "u25"] == "secondary" and frame.loc["south", "25plus"] == "secondary"
    assert (frame["total"] == "published").all()
    assert res.proven
    assert audit_tables({"t": t}, {"t": status}, POLICY).ok


def test_a_singleton_cannot_recover_the_other_hidden_cell_of_its_line():
    t = CountTable([Dimension.flat("city", ["a", "b", "c", "d"])], [114, 1, 3, 50, 60])
    plain, _ = protect_count_table(t, DisclosurePolicy(singletons=False))
    guarded, _ = protect_count_table(t, DisclosurePolicy())
    assert (plain != "published").sum() == 2  # 1 and 3: the woman counted as 1 gets 3 = 114 - 50 - 60 - 1
    assert not audit_tables({"t": t}, {"t": plain}, DisclosurePolicy()).ok
    assert (guarded != "published").sum() == 3
    assert audit_tables({"t": t}, {"t": guarded}, DisclosurePolicy()).ok


def test_hidden_zeros_protect_nothing_from_below():
    t = CountTable([Dimension.flat("city", ["a", "b", "c"])], [40, 0, 0, 40])
    status, _ = protect_count_table(t, POLICY)
    # Two hidden zeros next to a published total and a published 40 would both be exactly 0.
    assert (status != "published").sum() >= 3
    assert audit_tables({"t": t}, {"t": status}, POLICY).ok


def test_the_attacker_uses_whole_numbers():
    # 2x + 2y + z = 5 with x, y, z >= 0: the LP reaches z = 0, whole numbers only z = 1.
    from scipy import sparse

    keys = [("m", (("c", v),)) for v in ("x", "y", "z", "t")]
    eq = sparse.csr_matrix(np.array([[2.0, 2.0, 1.0, -1.0]]))
    system = CellSystem.build([("t", (), {}, "m", np.array([np.nan, np.nan, np.nan, 5.0]), eq, keys)])
    attacker = Attacker(system.equations, system.values, np.array([True, True, True, False]))
    assert attacker.interval(2, integer=False)[0] == pytest.approx(0.0)
    assert attacker.interval(2, integer="auto")[0] == pytest.approx(1.0)


def test_protection_levels_are_met_as_tau_argus_defines_them():
    rng = np.random.default_rng(5)
    t = _table(rng.poisson(9, size=(5, 4, 3)))
    policy = DisclosurePolicy(upper_protection=3, lower_protection=2, sliding_protection=6)
    status, _ = _run(t, "optimal", policy)
    audit = audit_tables({"t": t}, {"t": status}, policy)
    assert audit.ok
    prim = audit.cells[audit.cells["status"] == "primary"]
    assert (prim["upper"] >= prim["value"] + 3 - 1e-9).all()
    assert (prim["lower"] <= prim["value"] - np.minimum(2, prim["value"]) + 1e-9).all()
    assert (prim["width"] >= 6 - 1e-9).all()


def test_the_heuristic_protects_a_17_by_8_by_6_table():
    # Its speed is measured in benchmarks/bench_disclosure.py, not here.
    t = _table(np.random.default_rng(1).poisson(10, size=(17, 8, 6)))
    system = CellSystem.from_tables([t])
    primary = system.values < 5
    prot = Protection.from_policy(system.values, primary, POLICY)
    pattern, unresolved = hypercube(system, primary, prot, cost=cell_costs(system.values, "value"),
                                    singletons=primary & (system.values == 1))
    assert not unresolved
    assert not check_protection(system, pattern, prot, singletons=primary & (system.values == 1))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.integers(0, 2**16))
def test_cuts_from_the_linear_relaxation_never_cut_off_a_protected_pattern(t, seed):
    # Every cut the LP phase adds must hold for every safe pattern: here the heuristic's
    # pattern and random safe supersets of it (protection only grows with suppression).
    from research_kit.disclosure.secondary import _lp_cuts, _row_cuts

    system = CellSystem.from_tables([t])
    values = np.nan_to_num(system.values.astype(float))
    primary = values < POLICY.min_count
    if not primary.any():
        return
    prot = Protection.from_policy(values, primary, POLICY)
    singles = primary & (values == 1)
    cost = cell_costs(values, "value")
    keep = np.zeros(len(values), bool)
    pattern, unresolved = hypercube(system, primary, prot, cost=cost, singletons=singles)
    if unresolved or check_protection(system, pattern, prot, singletons=singles):
        return
    cuts = _row_cuts(system, primary, prot, values, prot.largest, singles)
    _lp_cuts(system, primary, prot, cost, keep, values, prot.largest, cuts, singleton=singles)
    rng = np.random.default_rng(seed)
    for candidate in (pattern, pattern | (rng.random(len(values)) < 0.3)):
        x = candidate.astype(float)
        for idx, coef, rhs in cuts:
            assert x[idx] @ coef >= rhs - 1e-6


# ---- bad input ---------------------------------------------------------------------------------


def test_margins_that_do_not_add_up_are_refused():
    f = pd.DataFrame({"age": ["u25", "25plus", "total"], "count": [3, 40, 44]})
    with pytest.raises(TableError, match="do not add up"):
        CountTable.from_frame(f, [Dimension.flat("age", ["u25", "25plus"])])
    with pytest.raises(TableError, match="do not add up"):
        CountTable([Dimension.flat("age", ["u25", "25plus"])], [44, 3, 40])


@pytest.mark.parametrize("values, match", [([-1, 3], "non-negative"), ([1.5, 3], "whole"), ([np.nan, 3], "missing")])
def test_bad_counts_are_refused(values, match):
    f = pd.DataFrame({"age": ["u25", "25plus"], "count": values})
    with pytest.raises(TableError, match=match):
        CountTable.from_frame(f, [Dimension.flat("age", ["u25", "25plus"])])


def test_bad_hierarchies_are_refused():
    with pytest.raises(TableError, match="two parents"):
        Dimension("c", ["T", "a", "b", "x"], total="T", hierarchy={"T": ["a", "b"], "a": ["x"], "b": ["x"]})
    with pytest.raises(TableError, match="not below the total"):
        Dimension("c", ["T", "a", "b"], total="T", hierarchy={"T": ["a"]})
    with pytest.raises(TableError, match="not levels"):
        CountTable.from_frame(pd.DataFrame({"c": ["zz"], "count": [3]}), [Dimension.flat("c", ["a"])])


def test_suppression_that_cannot_succeed_says_so():
    from research_kit.disclosure import SuppressionError

    t = CountTable([Dimension.flat("c", ["a", "b"])], [13, 3, 10])
    system = CellSystem.from_tables([t])
    primary = system.values < 5
    keep = ~primary  # nothing else may be hidden
    with pytest.raises(SuppressionError):
        suppress(system, primary, Protection.from_policy(system.values, primary, POLICY), keep=keep)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.data())
def test_the_attackers_kept_solvers_give_the_same_intervals_as_solving_each_bound_afresh(t, data):
    # The attacker keeps one solver per block and starts each bound from the last basis; every
    # interval must be the one a fresh linear programme gives, in whatever order cells are attacked.
    from scipy.optimize import linprog

    s = CellSystem.from_tables([t])
    hidden = np.array(data.draw(st.lists(st.booleans(), min_size=s.n_cells, max_size=s.n_cells)))
    if not hidden.any():
        return
    att = Attacker(s.equations, np.where(hidden, np.nan, s.values), hidden)
    cells = np.flatnonzero(hidden)
    order = data.draw(st.permutations(list(cells)))
    A = s.equations.toarray()
    pub = np.where(hidden, 0.0, s.values)
    for c in order:
        lo, hi, _ = att.interval(int(c), integer=False)
        expect = []
        for sign in (1.0, -1.0):
            cost = np.zeros(len(cells))
            cost[list(cells).index(c)] = sign
            res = linprog(cost, A_eq=A[:, cells], b_eq=-(A @ pub), bounds=[(0, None)] * len(cells), method="highs")
            expect.append(np.inf if res.status == 3 else sign * res.fun)
        assert lo == pytest.approx(expect[0], abs=1e-6)
        assert hi == pytest.approx(expect[1], abs=1e-6) or (np.isinf(hi) and np.isinf(expect[1]))


def _problem(t: CountTable):
    """System, primary cells, protection, costs and singletons of a table under the default policy (None: no primary)."""
    s = CellSystem.from_tables([t])
    primary = s.values < POLICY.min_count
    if not primary.any():
        return None
    return s, primary, Protection.from_policy(s.values, primary, POLICY), cell_costs(s.values, "value"), \
        primary & (s.values == 1)


@st.composite
def small_tables(draw):
    shape = draw(st.sampled_from([(2,), (3,), (4,), (2, 2)]))
    leaves = np.array(draw(st.lists(st.integers(0, 12), min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))))
    return _table(leaves.reshape(shape))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_tables())
def test_on_small_tables_the_optimal_pattern_is_the_cheapest_of_all_safe_patterns(t):
    # Small tables skip the LP phase and the pruning; the master loop alone must still find the
    # cheapest safe pattern, which enumeration of every pattern confirms.
    import itertools

    problem = _problem(t)
    if problem is None:
        return
    s, primary, prot, cost, singleton = problem
    res = suppress(s, primary, prot, method="optimal", singletons=singleton)
    assert res.proven
    free = np.flatnonzero(~primary)
    best = np.inf
    for k in range(len(free) + 1):
        for extra in itertools.combinations(free, k):
            pattern = primary.copy()
            pattern[list(extra)] = True
            if cost[pattern].sum() < best and not check_protection(s, pattern, prot, singletons=singleton):
                best = cost[pattern].sum()
    assert cost[res.suppressed].sum() == pytest.approx(best)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_small_tables_get_the_same_optimum_with_or_without_the_lp_phase_and_pruning(t):
    # Both paths prove optimality, so their costs must agree; the shortcut for small tables must
    # never return a costlier pattern than the full method (nor the heuristic's, unproven).
    import research_kit.disclosure.secondary as secondary

    problem = _problem(t)
    if problem is None:
        return
    s, primary, prot, cost, singleton = problem
    saved = secondary._PRUNE_FROM_CELLS
    try:
        secondary._PRUNE_FROM_CELLS = 10**9
        small = suppress(s, primary, prot, method="optimal", singletons=singleton)
        secondary._PRUNE_FROM_CELLS = 0
        full = suppress(s, primary, prot, method="optimal", singletons=singleton)
    finally:
        secondary._PRUNE_FROM_CELLS = saved
    if small.proven and full.proven:
        assert cost[small.suppressed].sum() == pytest.approx(cost[full.suppressed].sum())
    assert not check_protection(s, small.suppressed, prot, singletons=singleton)
