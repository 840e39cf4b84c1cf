"""Validating a 200,000-row export of the community survey, next to a bare pandas.read_csv of the same file.

The export is built from the synthetic country exports (``research_kit.synth.generate``), copied
until it has the rows asked for, each copy with its own submission ids and coupon numbers (so
the copies do not collide), written exactly as KoboToolbox writes a CSV export. It is kept in
``benchmarks/results/`` (not committed) and reused.

Each measurement runs in a fresh process; its peak memory is the process's peak resident set
size during the timed step (on Linux the high-water mark is reset just before the step, so
``validate`` does not inherit the peak of the read before it):

* ``pandas.read_csv``  — ``pd.read_csv(path, sep=";")``, pandas' defaults: the bare read;
* ``read_export``      — research_kit's reader (names, codes, identifiers dropped);
* ``validate``         — the validation of the frame read (timed alone);
* ``read + validate``  — both, what ``research-kit validate`` does before writing its files.

Usage::

    python benchmarks/bench_validate.py [--rows 200000] [--repeats 3]

Prints every run, then the medians, rows per second, peak memory, and the ratio of each step to
the bare read (target: validation at most 3 times the bare read).
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
TARGET = 3.0


def build_export(rows: int, path: Path, seed: int = 2026) -> Path:
    """A KoboToolbox CSV export of the community survey with ``rows`` submissions (cached)."""
    import numpy as np
    import pandas as pd

    from research_kit import synth

    if path.is_file():
        return path
    with tempfile.TemporaryDirectory() as tmp:
        folders = synth.generate(tmp, seed=seed)
        base = pd.concat([pd.read_csv(f / "community_survey.csv", sep=";", dtype=str, keep_default_na=False)
                          .assign(_country=f.name) for f in folders], ignore_index=True)
    rng = np.random.default_rng(seed)
    copies = -(-rows // len(base))
    numbers = rng.permutation(np.arange(100_000, 1_000_000))  # six-digit coupons, unique across all copies
    used = 0
    parts = []
    for k in range(copies):
        part = base.copy()
        keys = part["_country"] + ":" + part["rds/coupon"]
        distinct = pd.unique(keys[part["rds/coupon"] != ""])
        mapping = dict(zip(distinct, numbers[used:used + len(distinct)].astype(str)))
        used += len(distinct)
        part["rds/coupon"] = keys.map(mapping).fillna("")
        recruiter = part["_country"] + ":" + part["rds/recruiter_coupon"]
        part["rds/recruiter_coupon"] = recruiter.map(mapping).fillna("")
        part["_uuid"] = [f"{k:04x}{u[4:]}" for u in part["_uuid"]]
        parts.append(part)
    big = pd.concat(parts, ignore_index=True).iloc[:rows].drop(columns="_country")
    # A cut recruitment tree would point to recruiters left out: those recruits become seeds.
    known = set(big["rds/coupon"])
    orphan = (big["rds/recruiter_coupon"] != "") & ~big["rds/recruiter_coupon"].isin(known)
    big.loc[orphan, "rds/recruiter_coupon"] = ""
    big.loc[orphan, "rds/is_seed"] = "yes"
    big["_index"] = [str(i) for i in range(1, len(big) + 1)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(big.columns)
        writer.writerows(big.itertuples(index=False, name=None))
    return path


def _reset_peak() -> bool:
    """Reset the process's peak resident memory (Linux: VmHWM), so the timed step's own peak is measured."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    """Peak resident memory since the last reset (Linux), or since the process started."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _measure(step: str, path: str, as_of: str, queue) -> None:
    import pandas as pd

    from research_kit.forms import load_form
    from research_kit.ingest import read_export, validate

    form = load_form("community_survey")
    now = pd.Timestamp(as_of)
    frame = read_export(path, form, on_bad_lines="keep") if step == "validate" else None
    if step in ("validate", "read + validate"):
        # Import pandera and build the form's caches on a few rows first: the step measures validation, not imports
        # (pandas itself is imported before the bare read too).
        from research_kit.synth.generic import generate_answers

        validate(generate_answers(form, 20, seed=1), form, now=now)
    _reset_peak()
    start_mb = _peak_mb()  # what the process holds before the step: interpreter, libraries (and the frame)
    t0 = time.perf_counter()
    extra = ""
    if step == "pandas.read_csv":
        pd.read_csv(path, sep=";")
    elif step == "read_export":
        read_export(path, form, on_bad_lines="keep")
    elif step == "validate":
        result = validate(frame, form, now=now)
        extra = f"{len(result.accepted)} accepted, {len(result.quarantine)} quarantined"
    else:
        result = validate(read_export(path, form, on_bad_lines="keep"), form, now=now)
        extra = f"{len(result.accepted)} accepted, {len(result.quarantine)} quarantined"
    seconds = time.perf_counter() - t0
    queue.put((seconds, _peak_mb(), start_mb, extra))


def measure(step: str, path: Path, as_of: str) -> tuple[float, float, float, str]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_measure, args=(step, str(path), as_of, queue))
    proc.start()
    out = queue.get()
    proc.join()
    if proc.exitcode:
        raise SystemExit(f"{step} failed (exit code {proc.exitcode})")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--as-of", default="2030-01-01",
                        help="'now' for the not-in-the-future rule (the synthetic fieldwork runs into 2027)")
    args = parser.parse_args(argv)

    path = build_export(args.rows, RESULTS / f"community_survey_{args.rows}.csv")
    size = path.stat().st_size / 1e6
    print(f"Export: {path} ({args.rows:,} rows, {size:.0f} MB)")
    steps = ["pandas.read_csv", "read_export", "validate", "read + validate"]
    runs: dict[str, list[tuple]] = {s: [] for s in steps}
    for r in range(args.repeats):
        for step in steps:
            seconds, peak, start, extra = measure(step, path, args.as_of)
            runs[step].append((seconds, peak, start))
            print(f"  run {r + 1}  {step:<16} {seconds:7.2f} s  peak {peak:7.0f} MB (held before: {start:5.0f} MB)  "
                  f"{extra}", flush=True)
    base = statistics.median(s for s, _, _ in runs["pandas.read_csv"])
    print(f"\n{'step':<16} {'median s':>9} {'rows/s':>10} {'peak MB':>8} {'× read_csv':>11}")
    for step in steps:
        median = statistics.median(s for s, _, _ in runs[step])
        peak = max(p for _, p, _ in runs[step])
        print(f"{step:<16} {median:9.2f} {args.rows / median:10,.0f} {peak:8.0f} {median / base:11.2f}")
    ratio = statistics.median(s for s, _, _ in runs["validate"]) / base
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(f"\nValidation takes {ratio:.2f}× the bare read (target ≤ {TARGET:.0f}×): {verdict}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
