"""Benchmark: complementary suppression and audit of a 17 x 8 x 6 count table with all margins.

Run from the repository root::

    python benchmarks/bench_disclosure.py [--runs 3] [--seed 1] [--time-limit 30]

One seeded table (17 countries x 8 x 6, Poisson(10) counts, every margin: 18 x 9 x 7 =
1,134 cells), one set of rules (minimum frequency 5; protection levels 1 up, 1 down, as
τ-ARGUS's ``FREQ(5,10)`` gives cells under 10; cost = cell value), and side by side in
one run:

* research_kit's heuristic (hypercubes) and its audit;
* research_kit's optimal method (Fischetti–Salazar-González MILP loop, started from the
  pruned heuristic) and its audit, with the singleton guard on (the default) and off
  (τ-ARGUS's own rules);
* pytauargus (τ-ARGUS's engine with HiGHS) ``MOD`` and ``OPT``, each with its audit, when
  pytauargus is installed (``pip install pytauargus``; not a dependency of research_kit).
  Its patterns are also checked with research_kit's audit (LP, whole numbers, singletons).

It prints the median time of ``--runs`` runs and the cells suppressed (number and total
value) of each method. pytauargus's times include writing its microdata and batch files
and building the table, which is how its one-call ``protect()`` works.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time

import numpy as np
import pandas as pd

from research_kit.disclosure import CellSystem, CountTable, Dimension, DisclosurePolicy, Protection
from research_kit.disclosure.audit import audit_system
from research_kit.disclosure.secondary import cell_costs, check_protection, hypercube, optimal


def make_table(seed: int) -> tuple[np.ndarray, CountTable]:
    rng = np.random.default_rng(seed)
    leaves = rng.poisson(10, size=(17, 8, 6))
    dims = [Dimension.flat("A", [f"A{i:02d}" for i in range(17)], total="Total"),
            Dimension.flat("B", [f"B{j}" for j in range(8)], total="Total"),
            Dimension.flat("C", [f"C{k}" for k in range(6)], total="Total")]
    full = np.zeros((18, 9, 7), dtype=int)
    full[1:, 1:, 1:] = leaves
    for ax in range(3):
        sl = [slice(None)] * 3
        sl[ax] = 0
        full[tuple(sl)] = np.take(full, range(1, full.shape[ax]), axis=ax).sum(axis=ax)
    return leaves, CountTable(dims, full, measure="respondents")


def timed(fn, runs):
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def our_audit(system, pattern, primary, prot, singletons):
    status = np.where(pattern, np.where(primary, "primary", "secondary"), "published")
    res = audit_system(system, status, required=prot.sliding, upper_protection=prot.upper,
                       lower_protection=prot.lower, singletons=singletons)
    return res


def run_tau(leaves, method, runs, system, table):
    import contextlib

    from pytauargus import protect

    # τ-ARGUS's engine writes its logs (CSPlogfile.txt, JJUit.dat...) to the working folder.
    with contextlib.chdir(tempfile.mkdtemp(prefix="bench_tau_cwd_")):
        return _run_tau(protect, leaves, method, runs, system, table)


def _run_tau(protect, leaves, method, runs, system, table):
    rows = [(f"A{i:02d}", f"B{j}", f"C{k}") for (i, j, k), v in np.ndenumerate(leaves) for _ in range(v)]
    micro = pd.DataFrame(rows, columns=["A", "B", "C"])
    micro["one"] = 1.0
    times, audit_times, res = [], [], None
    for _ in range(runs):
        work = tempfile.mkdtemp(prefix="bench_tau_")
        t0 = time.perf_counter()
        res = protect(micro, ["A", "B", "C"], response="one", safety_rules="FREQ(5,10)", suppress=f"{method}(1)",
                      workdir=work)
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        audit = res.engine.audit(0)
        audit_times.append(time.perf_counter() - t0)
    df = res.tables[0].dataframe()
    pattern = np.zeros(system.n_cells, bool)
    dims = table.dimensions
    for a, b, c, st in zip(df["A"], df["B"], df["C"], df["status"]):
        if str(st).upper() in ("U", "M", "D"):
            pattern[system.grids[0].cells[dims[0].index(a), dims[1].index(b), dims[2].index(c)]] = True
    unsafe = sum(bool(r.get("unsafe")) for r in audit) if isinstance(audit, list) else None
    return statistics.median(times), statistics.median(audit_times), pattern, unsafe


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=30.0, help="seconds for the optimal method's proof")
    args = ap.parse_args(argv)
    leaves, table = make_table(args.seed)
    system = CellSystem.from_tables([table])
    values = system.values
    policy = DisclosurePolicy()
    primary = values < policy.min_count
    prot = Protection.from_policy(values, primary, policy)
    cost = cell_costs(values, "value")
    singles = primary & (values == 1)
    print(f"Table 17 x 8 x 6 with all margins: {system.n_cells} cells, {int(primary.sum())} primary "
          f"({int(singles.sum())} singletons, {int((values == 0).sum())} zeros), seed {args.seed}.\n")
    rows = []

    def ours(name, fn, sg):
        t, pattern = timed(fn, args.runs)
        ta, audit = timed(lambda: our_audit(system, pattern, primary, prot, sg), 1)
        extra = ""
        rows.append((name, t, ta, int(pattern.sum()), float(values[pattern].sum()), audit.ok, extra))
        return pattern

    for sg, label in ((singles, "singleton guard on"), (None, "singleton guard off")):
        ours(f"research_kit heuristic ({label})",
             lambda sg=sg: hypercube(system, primary, prot, cost=cost, singletons=sg)[0], sg)
        notes = {}

        def opt(sg=sg):
            start = hypercube(system, primary, prot, cost=cost, singletons=sg)[0]
            r = optimal(system, primary, prot, cost=cost, singletons=sg, start=start, time_limit=args.time_limit)
            notes["proven"] = r.proven
            notes["gap"] = r.notes + [f"best pattern found after {r.seconds_to_best:.2f} s"]
            return r.suppressed

        ours(f"research_kit optimal ({label})", opt, sg)
        rows[-1] = rows[-1][:-1] + ("proven optimal" if notes["proven"] else "; ".join(notes["gap"]),)
    try:
        import pytauargus  # noqa: F401
        have_tau = True
    except ImportError as exc:
        have_tau = False
        print(f"pytauargus is not installed ({exc}); timing research_kit only.\n")
    if have_tau:
        for method in ("MOD", "OPT"):
            try:
                t, ta, pattern, unsafe = run_tau(leaves, method, args.runs, system, table)
            except Exception as exc:  # report and go on: the benchmark still times ours
                print(f"pytauargus {method} failed: {exc}")
                continue
            fails_lp = check_protection(system, pattern, prot, singletons=None)
            fails_sg = check_protection(system, pattern, prot, singletons=singles)
            note = (f"its audit: {unsafe} unsafe; ours: {len(fails_lp)} fail without singletons, "
                    f"{len(fails_sg)} with")
            rows.append((f"pytauargus {method}", t, ta, int(pattern.sum()), float(values[pattern].sum()),
                         not fails_sg, note))
    w = max(len(r[0]) for r in rows)
    print(f"{'method':<{w}}  {'protect s':>9}  {'audit s':>8}  {'cells':>5}  {'value':>6}  {'passes our audit':>16}  notes")
    for name, t, ta, cells, val, ok, note in rows:
        print(f"{name:<{w}}  {t:9.3f}  {ta:8.3f}  {cells:5d}  {val:6.0f}  {str(ok):>16}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
