"""Benchmark: many indicators × many domains, research_kit against R's survey and svy.

Workload (the country-report use case, issue 5): 30 binary indicators, each
estimated in 17 countries crossed with each of 5 disaggregation variables (age
group, gender, venue type, migrant, region), with standard errors and logit
intervals, on a 200,000-row design with 100 strata and 2,000 PSUs.  Every tool
runs on the same data in the same run, one after the other (never at the same
time), and only the estimation is timed: reading the data and declaring the
design are not counted (research_kit's and svy's design construction are
printed separately).

- research_kit: ``SurveyDesign.proportion(indicators, by=["country", v],
  ci="logit")`` for each of the 5 variables ``v`` (estimates, SEs, logit CIs).
- R survey, SEs only: ``svyby(~i01 + ... + i30, ~country + v, design,
  svymean)`` for each ``v``, timed inside Rscript.
- R survey, logit intervals for every cell: ``svyby(~i, ~country + v, design,
  svyciprop, method = "logit", vartype = c("se", "ci"))`` for each of the 30
  indicators ``i`` and each ``v`` (``svyciprop`` takes one variable at a
  time), timed inside Rscript.  The slow part: 42 s a run in issue 5, 5-7
  minutes a run on a loaded 2-core machine.
- svy (PyPI ``svy``, the maintained successor of samplics; a benchmark peer,
  not a dependency: ``pip install svy``): ``Sample(data, Design(stratum=,
  psu=, wgt=)).estimation.prop(indicators, by=["country", v],
  ci_method="logit")`` for each ``v`` (estimates, SEs, logit CIs), with each
  result's ``to_polars()`` inside the timing.  The pandas → polars conversion
  is not timed.  About 1.5 minutes a run on a loaded 2-core machine.

Run from the repository root::

    python benchmarks/bench_estimation.py            # 5 runs of research_kit, 3 of svy, 3 of each R timing
                                                     # (25 minutes on a loaded 2-core machine)
    python benchmarks/bench_estimation.py --runs 7 --r-runs 1 --svy-runs 1
    python benchmarks/bench_estimation.py --r-logit-runs 1   # R svymean 3 runs, svyciprop 1
    python benchmarks/bench_estimation.py --no-r     # no R
    python benchmarks/bench_estimation.py --no-svy   # no svy

It prints the median time of each, the ratios peer / research_kit, the
machine's core count, and checks that the numbers agree (largest relative
difference of estimates, standard errors and, where the peer gives them,
interval bounds, over all cells).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
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
INDICATORS = [f"i{i + 1:02d}" for i in range(N_IND)]
TARGET_SPEEDUP, TARGET_SECONDS = 10.0, 1.0


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


def _fmt_times(times: list[float]) -> str:
    return ", ".join(f"{t:.3f}" for t in times)


# --------------------------------------------------------------------------- research_kit


def run_research_kit(df: pd.DataFrame, runs: int):
    from research_kit.design.survey import SurveyDesign

    times, build_times = [], []
    tables = None
    for _ in range(runs):
        t0 = time.perf_counter()
        d = SurveyDesign(df, weights="wt", strata="stratum", psu="psu")
        t1 = time.perf_counter()
        tables = {v: d.proportion(INDICATORS, by=["country", v], ci="logit") for v in DISAGG}
        t2 = time.perf_counter()
        build_times.append(t1 - t0)
        times.append(t2 - t1)
    return times, build_times, tables


def research_kit_long(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """research_kit's tables as one long frame: disagg, variable, country, level, estimate, se, ci_low, ci_high."""
    parts = []
    for v, t in tables.items():
        parts.append(
            pd.DataFrame(
                {
                    "disagg": v,
                    "variable": t["variable"].astype(str).to_numpy(),
                    "country": t["country"].astype(str).to_numpy(),
                    "level": t[v].astype(str).to_numpy(),
                    "estimate": t["estimate"].to_numpy(float),
                    "se": t["se"].to_numpy(float),
                    "ci_low": t["ci_low"].to_numpy(float),
                    "ci_high": t["ci_high"].to_numpy(float),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------- svy


def run_svy(df: pd.DataFrame, runs: int):
    """Time svy on the same workload; returns times, design times, a long table and the conversion time."""
    import polars as pl
    import svy

    t0 = time.perf_counter()
    data = pl.from_pandas(df)
    convert = time.perf_counter() - t0
    times, build_times = [], []
    frames = None
    for _ in range(runs):
        t0 = time.perf_counter()
        sample = svy.Sample(data, svy.Design(stratum="stratum", psu="psu", wgt="wt"))
        t1 = time.perf_counter()
        frames = {}
        for v in DISAGG:
            res = sample.estimation.prop(INDICATORS, by=["country", v], ci_method="logit")
            frames[v] = [(ind, est.to_polars()) for ind, est in zip(INDICATORS, res)]
        t2 = time.perf_counter()
        build_times.append(t1 - t0)
        times.append(t2 - t1)
    # untimed: keep the level-1 rows (the proportion with the attribute), in one long frame
    parts = []
    for v, members in frames.items():
        for ind, t in members:
            t = t.filter(pl.col(ind) == 1)
            parts.append(
                pd.DataFrame(
                    {
                        "disagg": v,
                        "variable": ind,
                        "country": t["country"].cast(pl.String).to_list(),
                        "level": t[v].cast(pl.String).to_list(),
                        "estimate": t["est"].to_numpy(),
                        "se": t["se"].to_numpy(),
                        "ci_low": t["lci"].to_numpy(),
                        "ci_high": t["uci"].to_numpy(),
                    }
                )
            )
    return times, build_times, pd.concat(parts, ignore_index=True), convert


# --------------------------------------------------------------------------- R

R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
df <- read.csv(args[1], stringsAsFactors = FALSE)
runs_mean <- as.integer(args[2])
runs_logit <- as.integer(args[3])
d <- svydesign(ids = ~psu, strata = ~stratum, weights = ~wt, data = df)
ind <- strsplit(args[5], ",")[[1]]
f <- as.formula(paste("~", paste(ind, collapse = "+")))
disagg <- strsplit(args[6], ",")[[1]]

# 1. svyby(svymean): all 30 indicators at once, standard errors only
times_mean <- numeric(runs_mean)
res <- NULL
for (r in seq_len(runs_mean)) {
  t0 <- Sys.time()
  res <- lapply(disagg, function(v) svyby(f, as.formula(paste("~country +", v)), d, svymean))
  times_mean[r] <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
}
mean_out <- NULL
if (runs_mean > 0) {
  mean_out <- lapply(res, function(r1) list(
    country = as.character(r1$country), level = as.character(r1[[2]]),
    estimate = as.matrix(r1[, ind]), se = as.matrix(r1[, paste0("se.", ind)])))
  names(mean_out) <- disagg
}

# 2. svyciprop with logit intervals for every cell: one svyby per indicator
times_logit <- numeric(runs_logit)
res2 <- NULL
for (r in seq_len(runs_logit)) {
  t0 <- Sys.time()
  res2 <- lapply(disagg, function(v) {
    by <- as.formula(paste("~country +", v))
    lapply(ind, function(i) svyby(as.formula(paste("~", i)), by, d, svyciprop,
                                  method = "logit", vartype = c("se", "ci")))
  })
  times_logit[r] <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
}
logit_out <- NULL
if (runs_logit > 0) {
  logit_out <- lapply(res2, function(per_ind) {
    do.call(rbind, lapply(seq_along(ind), function(k) {
      r1 <- per_ind[[k]]
      data.frame(variable = ind[k], country = as.character(r1[[1]]), level = as.character(r1[[2]]),
                 estimate = r1[[3]], se = r1[[4]], ci_low = r1[[5]], ci_high = r1[[6]])
    }))
  })
  names(logit_out) <- disagg
}
out <- list(version = paste(R.version.string, "/ survey", as.character(packageVersion("survey"))),
            times_mean = times_mean, times_logit = times_logit, mean = mean_out, logit = logit_out)
writeLines(jsonlite::toJSON(out, digits = NA, dataframe = "columns", auto_unbox = FALSE), args[4])
"""


def run_r(df: pd.DataFrame, runs_mean: int, runs_logit: int):
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "bench.csv"
        script = Path(tmp) / "bench.R"
        result = Path(tmp) / "result.json"
        df.to_csv(csv, index=False)
        script.write_text(R_SCRIPT)
        proc = subprocess.run(
            [
                "Rscript", str(script), str(csv), str(runs_mean), str(runs_logit), str(result),
                ",".join(INDICATORS), ",".join(DISAGG),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"Rscript failed:\n{proc.stderr}")
        return json.loads(result.read_text())


def r_mean_long(out: dict) -> pd.DataFrame:
    parts = []
    for v, block in out["mean"].items():
        est = np.array(block["estimate"], float)  # cells x indicators
        se = np.array(block["se"], float)
        n = est.shape[0]
        for k, ind in enumerate(INDICATORS):
            parts.append(
                pd.DataFrame(
                    {
                        "disagg": v,
                        "variable": ind,
                        "country": block["country"],
                        "level": block["level"],
                        "estimate": est[:, k],
                        "se": se[:, k],
                    },
                    index=range(n),
                )
            )
    return pd.concat(parts, ignore_index=True)


def r_logit_long(out: dict) -> pd.DataFrame:
    parts = []
    for v, block in out["logit"].items():
        t = pd.DataFrame(block)
        t.insert(0, "disagg", v)
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------- agreement

KEYS = ["disagg", "variable", "country", "level"]


def agreement(rk: pd.DataFrame, peer: pd.DataFrame, label: str) -> str:
    """Largest relative difference of each statistic the peer reports, over all cells."""
    cols = [c for c in ("estimate", "se", "ci_low", "ci_high") if c in peer.columns]
    m = rk.merge(peer, on=KEYS, how="inner", suffixes=("", "_peer"), validate="one_to_one")
    parts = [f"{len(m):,} of {len(rk):,} cells matched"]
    if len(peer) != len(m):
        parts.append(f"{len(peer) - len(m):,} peer cells unmatched")
    for c in cols:
        a, b = m[c].to_numpy(float), m[f"{c}_peer"].to_numpy(float)
        rel = np.abs(a - b) / np.abs(b)
        parts.append(f"{c} {np.nanmax(rel):.1e}")
    return f"agreement research_kit vs {label} (max relative difference): " + ", ".join(parts)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="research_kit runs (default 5)")
    ap.add_argument("--r-runs", type=int, default=3, help="R runs, svymean and svyciprop (default 3)")
    ap.add_argument(
        "--r-logit-runs",
        type=int,
        default=None,
        help="R svyciprop (logit) runs, about a minute each (default: --r-runs; 0 skips it)",
    )
    ap.add_argument("--svy-runs", type=int, default=3, help="svy runs (default 3)")
    ap.add_argument("--no-r", action="store_true", help="skip R")
    ap.add_argument("--no-svy", action="store_true", help="skip svy")
    args = ap.parse_args(argv)
    r_logit_runs = args.r_runs if args.r_logit_runs is None else args.r_logit_runs

    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        affinity = os.cpu_count()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(f"machine: {os.cpu_count()} logical cores ({affinity} usable by this process); "
          f"load average {load}")

    df = make_data()
    cells = len(INDICATORS) * sum(N_COUNTRIES * k for k in DISAGG.values())
    print(
        f"{N_ROWS:,} rows, {df['stratum'].nunique()} strata, {df['psu'].nunique():,} PSUs; "
        f"{len(INDICATORS)} indicators x {N_COUNTRIES} countries x {len(DISAGG)} disaggregations "
        f"({cells:,} estimates with SE and logit CI)"
    )

    medians: dict[str, float] = {}
    times, build, tables = run_research_kit(df, args.runs)
    rk = medians["research_kit"] = statistics.median(times)
    rk_long = research_kit_long(tables)
    print(f"research_kit {_version('research_kit')} proportion(ci='logit'): design construction median "
          f"{statistics.median(build):.3f} s; estimation median {rk:.3f} s over {args.runs} runs "
          f"({_fmt_times(times)})")

    checks: list[str] = []
    labels: dict[str, str] = {}

    # ---- svy
    if args.no_svy:
        pass
    elif importlib.util.find_spec("svy") is None:
        print("svy not installed (pip install svy): svy timing skipped.")
    else:
        labels["svy"] = f"svy {_version('svy')} prop(ci_method='logit')"
        print(f"{labels['svy']}: running {args.svy_runs} runs (estimates, SEs and logit CIs: "
              "svy does the whole workload)...", flush=True)
        s_times, s_build, s_long, convert = run_svy(df, args.svy_runs)
        medians["svy"] = statistics.median(s_times)
        print(f"{labels['svy']}: pandas->polars {convert:.3f} s (not timed); Sample construction median "
              f"{statistics.median(s_build):.3f} s; estimation median {medians['svy']:.3f} s over "
              f"{args.svy_runs} runs ({_fmt_times(s_times)})")
        checks.append(agreement(rk_long, s_long, "svy (estimate, SE, logit CI)"))

    # ---- R
    if not args.no_r and shutil.which("Rscript") is None:
        print("Rscript not found: R timing skipped.")
    elif not args.no_r and (args.r_runs > 0 or r_logit_runs > 0):
        print(f"R: running svyby(svymean) {args.r_runs} runs and svyby(svyciprop, logit) "
              f"{r_logit_runs} runs inside Rscript...", flush=True)
        out = run_r(df, args.r_runs, r_logit_runs)
        version = out["version"][0] if isinstance(out["version"], list) else out["version"]
        if args.r_runs > 0:
            labels["R_mean"] = "R svyby(svymean), SEs only"
            medians["R_mean"] = statistics.median(out["times_mean"])
            print(f"{labels['R_mean']} [{version}]: median {medians['R_mean']:.3f} s over {args.r_runs} runs "
                  f"({_fmt_times(out['times_mean'])})")
            checks.append(agreement(rk_long, r_mean_long(out), "R svymean (estimate, SE)"))
        if r_logit_runs > 0:
            labels["R_logit"] = f"R svyby(svyciprop, logit) x {len(INDICATORS)} indicators"
            medians["R_logit"] = statistics.median(out["times_logit"])
            print(f"{labels['R_logit']}: median {medians['R_logit']:.3f} s over {r_logit_runs} runs "
                  f"({_fmt_times(out['times_logit'])})")
            checks.append(agreement(rk_long, r_logit_long(out), "R svyciprop (estimate, SE, logit CI)"))

    # ---- summary
    print()
    print(f"Summary: medians of estimation time, same data, same run ({affinity} cores usable)")
    print(f"  {'research_kit proportion(ci=logit)':<46} {rk:8.3f} s")
    short = {"R_mean": "R svymean", "R_logit": "R svyciprop-logit", "svy": "svy"}
    for key in ("R_mean", "R_logit", "svy"):
        if key in medians:
            print(f"  {labels[key]:<46} {medians[key]:8.3f} s   ratio {short[key]} / research_kit "
                  f"= {medians[key] / rk:.1f}x")
    for line in checks:
        print(line)
    if "R_logit" in medians:
        speedup = medians["R_logit"] / rk
        met = speedup >= TARGET_SPEEDUP and rk < TARGET_SECONDS
        print(f"target (issue 5): >= {TARGET_SPEEDUP:.0f}x faster than R with logit intervals "
              f"({speedup:.1f}x) and under {TARGET_SECONDS:.0f} s ({rk:.3f} s): "
              f"{'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
