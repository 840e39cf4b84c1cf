"""Benchmark: many indicators × many domains, research_kit against R's survey.

Workload (the country-report use case): 30 binary indicators, each estimated
in 17 countries crossed with each of 5 disaggregation variables (age group,
gender, venue type, migrant, region), with standard errors and logit
intervals, on a 200,000-row design with 100 strata and 2,000 PSUs.

research_kit: ``SurveyDesign.proportion(indicators, by=["country", v], ci="logit")``
for each of the 5 variables ``v``.  R: ``svyby(~i01 + ... + i30, ~country + v,
design, svymean)`` for each ``v`` (standard errors only), timed inside Rscript
so that start-up and reading the data are not counted.

Run from the repository root::

    python benchmarks/bench_estimation.py            # 5 runs of research_kit, 3 of R
    python benchmarks/bench_estimation.py --runs 7 --r-runs 1
    python benchmarks/bench_estimation.py --no-r     # research_kit only

It prints the median time of each and their ratio, and checks that the two
agree (largest relative difference of estimates and standard errors).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

N_ROWS, N_STRATA, N_PSU, N_COUNTRIES, N_IND = 200_000, 100, 2_000, 17, 30
DISAGG = {"age_group": 5, "gender": 3, "venue_type": 3, "migrant": 2, "region": 4}


def make_data(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    psu = np.sort(rng.integers(0, N_PSU, N_ROWS))
    psu[:N_PSU] = np.arange(N_PSU)  # every PSU present
    psu.sort()
    stratum = psu // (N_PSU // N_STRATA)
    country = stratum * N_COUNTRIES // N_STRATA
    df = pd.DataFrame(
        {
            "stratum": stratum,
            "psu": psu,
            "country": np.array([f"C{c:02d}" for c in range(N_COUNTRIES)])[country],
            "wt": rng.uniform(5, 60, N_ROWS),
        }
    )
    for name, k in DISAGG.items():
        df[name] = np.array([f"{name[:3]}{j}" for j in range(k)])[rng.integers(0, k, N_ROWS)]
    psu_effect = rng.normal(0, 0.7, N_PSU)[psu]
    for i in range(N_IND):
        base = rng.uniform(-2, 1)
        p = 1 / (1 + np.exp(-(base + psu_effect + rng.normal(0, 0.3))))
        df[f"i{i + 1:02d}"] = (rng.uniform(size=N_ROWS) < p).astype(np.int8)
    return df


def run_research_kit(df: pd.DataFrame, runs: int):
    from research_kit.design.survey import SurveyDesign

    indicators = [f"i{i + 1:02d}" for i in range(N_IND)]
    times, build_times = [], []
    tables = None
    for _ in range(runs):
        t0 = time.perf_counter()
        d = SurveyDesign(df, weights="wt", strata="stratum", psu="psu")
        t1 = time.perf_counter()
        tables = {v: d.proportion(indicators, by=["country", v], ci="logit") for v in DISAGG}
        t2 = time.perf_counter()
        build_times.append(t1 - t0)
        times.append(t2 - t1)
    return times, build_times, tables


R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
df <- read.csv(args[1], stringsAsFactors = FALSE)
runs <- as.integer(args[2])
d <- svydesign(ids = ~psu, strata = ~stratum, weights = ~wt, data = df)
ind <- sprintf("i%02d", 1:30)
f <- as.formula(paste("~", paste(ind, collapse = "+")))
disagg <- c("age_group", "gender", "venue_type", "migrant", "region")
times <- numeric(runs)
res <- NULL
for (r in seq_len(runs)) {
  t0 <- Sys.time()
  res <- lapply(disagg, function(v) svyby(f, as.formula(paste("~country +", v)), d, svymean))
  times[r] <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
}
# first disaggregation, for the agreement check
r1 <- res[[1]]
out <- list(times = times, country = as.character(r1$country), level = as.character(r1[[2]]),
            estimate = as.matrix(r1[, ind]), se = as.matrix(r1[, paste0("se.", ind)]))
cat(jsonlite::toJSON(out, digits = NA))
"""


def run_r(df: pd.DataFrame, runs: int):
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "bench.csv"
        script = Path(tmp) / "bench.R"
        df.to_csv(csv, index=False)
        script.write_text(R_SCRIPT)
        proc = subprocess.run(
            ["Rscript", str(script), str(csv), str(runs)], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"Rscript failed:\n{proc.stderr}")
        return json.loads(proc.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="research_kit runs (default 5)")
    ap.add_argument("--r-runs", type=int, default=3, help="R runs (default 3)")
    ap.add_argument("--no-r", action="store_true", help="skip R")
    args = ap.parse_args(argv)

    df = make_data()
    cells = N_IND * sum(N_COUNTRIES * k for k in DISAGG.values())
    print(
        f"{N_ROWS:,} rows, {df['stratum'].nunique()} strata, {df['psu'].nunique():,} PSUs; "
        f"{N_IND} indicators x {N_COUNTRIES} countries x {len(DISAGG)} disaggregations "
        f"({cells:,} estimates with SE and logit CI)"
    )
    times, build, tables = run_research_kit(df, args.runs)
    rk = statistics.median(times)
    print(f"research_kit: design construction median {statistics.median(build):.3f} s; "
          f"estimation median {rk:.3f} s over {args.runs} runs "
          f"({', '.join(f'{t:.3f}' for t in times)})")
    if args.no_r or shutil.which("Rscript") is None:
        if not args.no_r:
            print("Rscript not found: R timing skipped.")
        return 0
    out = run_r(df, args.r_runs)
    r_med = statistics.median(out["times"])
    print(f"R survey svyby(svymean): median {r_med:.3f} s over {args.r_runs} runs "
          f"({', '.join(f'{t:.3f}' for t in out['times'])})")
    print(f"ratio R / research_kit: {r_med / rk:.1f}x")
    # agreement on the first disaggregation
    t = tables["age_group"]
    est = t.pivot_table(index=["country", "age_group"], columns="variable", values="estimate")
    se = t.pivot_table(index=["country", "age_group"], columns="variable", values="se")
    keys = list(zip(out["country"], out["level"]))
    ind = [f"i{i + 1:02d}" for i in range(N_IND)]
    e_r = np.array(out["estimate"], float)
    s_r = np.array(out["se"], float)
    e_p = est.loc[keys, ind].to_numpy()
    s_p = se.loc[keys, ind].to_numpy()
    print(f"agreement (country x age_group): max relative difference estimate "
          f"{np.max(np.abs(e_p / e_r - 1)):.1e}, se {np.max(np.abs(s_p / s_r - 1)):.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
