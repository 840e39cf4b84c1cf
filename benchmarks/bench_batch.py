"""The whole batch (country reports + regional report, HTML): research_kit vs a loop of plain papermill calls.

One run times, on the same synthetic data:

* ``research_kit``: ``research-kit reports --force --no-pdf`` (all countries and the regional report;
  shared inputs computed once; warm kernels; the audit of everything published included);
* ``papermill loop``: what an analyst would otherwise script: for each country, then the regional
  report, ``papermill NOTEBOOK out.ipynb -p ...`` followed by ``jupyter nbconvert --to html --no-input``;
* ``no-change rerun``: ``research-kit reports`` again with nothing changed (a new process, as a user runs it);
* ``import research_kit`` in a new interpreter.

Usage::

    python benchmarks/bench_batch.py [--countries all] [--repeats 3] [--pdf]

Prints each run's time, the medians and the ratio (loop / research_kit), and writes them to
``benchmarks/results/bench_batch.json``.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "research_kit.cli", *args]


def run_kit(data: Path, out: Path, countries: str, *, pdf: bool, force: bool = True,
            regional: bool = True) -> tuple[float, dict]:
    """The batch through the command line, in a new process (as a user runs it)."""
    cmd = _cli("reports", "--data", str(data), "--out", str(out / "reports"), "--private-dir", str(out / "private"),
               "--country", countries, *(["--force"] if force else []), *([] if pdf else ["--no-pdf"]),
               *([] if regional else ["--no-regional"]))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"research-kit reports failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    last = json.loads((out / "private" / "last_batch.json").read_text())
    return elapsed, last


def run_loop(data: Path, out: Path, countries: list[str], *, regional: bool) -> float:
    """A sequential loop of the plain papermill and nbconvert commands over the same notebooks."""
    country_nb = REPO / "notebooks" / "country_report.ipynb"
    regional_nb = REPO / "notebooks" / "regional_report.ipynb"
    t0 = time.perf_counter()
    runs = [(country_nb, iso3, ["-p", "country", iso3]) for iso3 in countries]
    if regional:
        runs.append((regional_nb, "regional", ["-p", "countries", ",".join(countries)]))
    for notebook, name, params in runs:
        executed = out / f"{name}.ipynb"
        folder = out / "published"
        subprocess.run([sys.executable, "-m", "papermill", str(notebook), str(executed), *params,
                        "-p", "data_root", str(data), "-p", "output_dir", str(folder), "--no-progress-bar"],
                       check=True, capture_output=True)
        subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--no-input", str(executed)],
                       check=True, capture_output=True)
    return time.perf_counter() - t0


def import_time(repeats: int) -> tuple[list[float], float]:
    """Wall time of ``python -c 'import research_kit'``, minus that of ``python -c 'pass'``."""
    base, full = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        base.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import research_kit"], check=True)
        full.append(time.perf_counter() - t0)
    return full, statistics.median(base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--countries", default="all", help="ISO codes, comma-separated, or 'all'")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pdf", action="store_true", help="also time research_kit with PDFs (not in the peer)")
    parser.add_argument("--no-regional", action="store_true", help="leave the regional report out of both")
    args = parser.parse_args()

    from research_kit import synth
    from research_kit.batch.inputs import regional_available
    from research_kit.countries import parse_countries

    # research_kit's compiled bytecode, as any installed package has it: an editable install run with
    # PYTHONDONTWRITEBYTECODE set would otherwise compile every module again in every process (parent,
    # workers, kernels), which is no part of the work being compared. The loop gets the same files.
    compileall.compile_dir(str(REPO / "src" / "research_kit"), quiet=1)
    selected = [c.alpha_3 for c in parse_countries(args.countries)]
    regional = not args.no_regional and regional_available() and (REPO / "notebooks" / "regional_report.ipynb").is_file()
    work = Path(tempfile.mkdtemp(prefix="rk_bench_"))
    data = work / "data"
    synth.generate(data, selected)
    codes = ",".join(selected)
    kit, loop, kit_pdf, stages = [], [], [], []
    try:
        for i in range(args.repeats):
            out = work / f"kit_{i}"
            seconds, last = run_kit(data, out, codes, pdf=False, regional=regional)
            kit.append(seconds)
            stages.append({"reports": {o["country"]: round(o["seconds"], 2) for o in last["outcomes"]},
                           "regional": round((last.get("regional") or {}).get("seconds", 0.0), 2),
                           "audit": (last.get("audit") or {}).get("seconds"), "batch": round(last["seconds"], 2)})
            print(f"run {i + 1}: research_kit      {seconds:6.1f} s  (audit {stages[-1]['audit']} s)", flush=True)
            # The no-change rerun uses the last full run's folders.
            if i < args.repeats - 1:
                shutil.rmtree(out)
            out = work / f"loop_{i}"
            out.mkdir()
            seconds = run_loop(data, out, selected, regional=regional)
            loop.append(seconds)
            print(f"run {i + 1}: papermill loop    {seconds:6.1f} s", flush=True)
            shutil.rmtree(out)
            if args.pdf:
                out = work / f"pdf_{i}"
                seconds, _ = run_kit(data, out, codes, pdf=True, regional=regional)
                kit_pdf.append(seconds)
                print(f"run {i + 1}: research_kit+PDF  {seconds:6.1f} s", flush=True)
                shutil.rmtree(out)
        rerun = []
        last_out = work / f"kit_{args.repeats - 1}"
        run_kit(data, last_out, codes, pdf=False, force=False, regional=regional)  # settle caches
        for _ in range(max(3, args.repeats)):
            seconds, last = run_kit(data, last_out, codes, pdf=False, force=False, regional=regional)
            rebuilt = [o["country"] for o in last["outcomes"] if o["status"] != "up to date"]
            if rebuilt:  # research_kit's code changed meanwhile (another process editing the checkout)
                print(f"  (rerun rebuilt {', '.join(rebuilt)}: code changed during the benchmark; not counted)")
                continue
            rerun.append(seconds)
        if not rerun:
            rerun = [float("nan")]
        imports, python_alone = import_time(max(5, args.repeats))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    mk, ml = statistics.median(kit), statistics.median(loop)
    results = {
        "benchmark": "bench_batch", "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average_at_end": os.getloadavg()},
        "countries": selected, "regional": regional, "repeats": args.repeats,
        "research_kit_s": kit, "papermill_loop_s": loop, "research_kit_with_pdf_s": kit_pdf,
        "no_change_rerun_s": rerun, "import_research_kit_s": imports, "python_startup_s": python_alone,
        "median": {"research_kit": mk, "papermill_loop": ml, "ratio_loop_over_kit": ml / mk,
                   "research_kit_with_pdf": statistics.median(kit_pdf) if kit_pdf else None,
                   "no_change_rerun": statistics.median(rerun), "import_research_kit": statistics.median(imports),
                   "import_research_kit_minus_python": statistics.median(imports) - python_alone},
        "research_kit_stages": stages,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_batch.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    n = len(selected)
    print(f"\n{n} country reports{' + regional' if regional else ''}, {os.cpu_count()} cores, {args.repeats} runs each")
    print(f"median research_kit reports  : {mk:6.1f} s")
    print(f"median papermill CLI loop    : {ml:6.1f} s")
    print(f"ratio (loop / research_kit)  : {ml / mk:5.2f}x")
    if kit_pdf:
        print(f"median research_kit with PDF : {statistics.median(kit_pdf):6.1f} s")
    print(f"median no-change rerun (CLI) : {statistics.median(rerun):6.2f} s")
    print(f"median 'import research_kit' in a new interpreter: {statistics.median(imports):.3f} s "
          f"(python alone {python_alone:.3f} s)")
    print(f"written to {RESULTS / 'bench_batch.json'}")


if __name__ == "__main__":
    main()
