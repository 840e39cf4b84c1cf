"""Benchmark: RDS-II with a 1,000-replicate Salganik bootstrap on ``fauxmadrona``.

Run from the repository root::

    python benchmarks/bench_rds.py [--runs 7] [--n-boot 1000]

It times ``RDSDesign.proportion("disease", estimator="RDS-II", ci="bootstrap")``
(design construction excluded, as R's figure excludes loading the package) and
prints the median of several runs next to R's time.

R's RDS package cannot be installed here, so R's time is a *quoted* figure:
5.1 s for ``RDS.bootstrap.intervals(fauxmadrona, weight.type = "RDS-II",
uncertainty = "Salganik", outcome.variable = "disease", N = 1000,
number.of.bootstrap.samples = 500)``, as stated in
``shared/reference/rds/README.md``. Note it is for 500 replicates, half of ours.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

from research_kit.design import RDSDesign

R_SECONDS_500 = 5.1  # quoted from shared/reference/rds/README.md (not measured here)
REF = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "rds"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--n-boot", type=int, default=1000)
    args = ap.parse_args(argv)
    path = REF / "fauxmadrona.csv"
    if not path.is_file():
        print(f"reference data not found: {path}", file=sys.stderr)
        return 1
    df = pd.read_csv(path)
    design = RDSDesign(df, "id", "recruiter.id", "degree", population_size=1000)
    design.proportion("disease", ci="bootstrap", n_boot=50, seed=0)  # warm-up (imports, caches)

    times = []
    for run in range(args.runs):
        t0 = time.perf_counter()
        out = design.proportion("disease", estimator="RDS-II", ci="bootstrap", n_boot=args.n_boot, seed=run)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    row = out.iloc[0]
    print(f"research_kit RDS-II + Salganik bootstrap, {args.n_boot} replicates, fauxmadrona (n = {len(df)})")
    print(f"  runs: {args.runs}; median {med:.3f} s (min {min(times):.3f}, max {max(times):.3f})")
    print(f"  last run: estimate {row['estimate']:.6f}, se {row['se']:.5f}, "
          f"interval {row['ci_low']:.4f}-{row['ci_high']:.4f}")
    print(f"R RDS 0.9-10, 500 replicates: {R_SECONDS_500:.1f} s  [QUOTED from shared/reference/rds/README.md; "
          "R cannot run here]")
    per_rep_r = R_SECONDS_500 / 500
    per_rep_py = med / args.n_boot
    print(f"  ratio, whole call (ours {args.n_boot} reps / R 500 reps): {med / R_SECONDS_500:.4f} "
          f"({R_SECONDS_500 / med:.0f}x faster)")
    print(f"  ratio per replicate: {per_rep_py / per_rep_r:.4f} ({per_rep_r / per_rep_py:.0f}x faster)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
