"""Batch of country reports: research_kit vs a sequential loop of the plain papermill and nbconvert commands.

Both produce the same thing for the same countries: an executed notebook and an HTML page without code.
The peer is what an analyst would otherwise script: for each country,
``papermill notebooks/country_report.ipynb out.ipynb -p country XX`` then
``jupyter nbconvert --to html --no-input out.ipynb``.

Usage::

    python benchmarks/bench_batch.py [--countries all] [--repeats 3]

Prints each run's wall time, the medians and the ratio (peer / research_kit).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_kit(data: Path, out: Path, countries: str) -> float:
    from research_kit.batch import run_reports

    t0 = time.perf_counter()
    result = run_reports(countries, data_root=data, out_dir=out / "reports", private_dir=out / "private")
    elapsed = time.perf_counter() - t0
    assert result.ok, [o.error for o in result.failed]
    return elapsed


def run_loop(data: Path, out: Path, countries: list[str]) -> float:
    notebook = REPO / "notebooks" / "country_report.ipynb"
    t0 = time.perf_counter()
    for iso3 in countries:
        executed = out / f"{iso3}.ipynb"
        subprocess.run([sys.executable, "-m", "papermill", str(notebook), str(executed), "-p", "country", iso3,
                        "-p", "data_root", str(data), "--no-progress-bar"], check=True, capture_output=True)
        subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--no-input", str(executed)],
                       check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--countries", default="all", help="ISO codes, comma-separated, or 'all'")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from research_kit import synth
    from research_kit.countries import parse_countries

    selected = [c.alpha_3 for c in parse_countries(args.countries)]
    work = Path(tempfile.mkdtemp(prefix="rk_bench_"))
    data = work / "data"
    synth.generate(data, selected)
    kit, loop = [], []
    for i in range(args.repeats):
        for name, fn, store in (("research_kit", lambda d: run_kit(data, d, ",".join(selected)), kit),
                                ("papermill loop", lambda d: run_loop(data, d, selected), loop)):
            out = work / f"{name.replace(' ', '_')}_{i}"
            out.mkdir()
            seconds = fn(out)
            store.append(seconds)
            print(f"run {i + 1}: {name:<15} {seconds:6.1f} s", flush=True)
            shutil.rmtree(out)
    # A rerun with nothing changed, and the cost of importing the package (every report pays it).
    out = work / "rerun"
    out.mkdir()
    run_kit(data, out, ",".join(selected))
    rerun = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "research_kit.cli", "reports", "--data", str(data), "--out",
                        str(out / "reports"), "--private-dir", str(out / "private"), "--country", ",".join(selected)],
                       check=True, capture_output=True)
        rerun.append(time.perf_counter() - t0)
    imports = []
    for _ in range(max(5, args.repeats)):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import research_kit"], check=True)
        imports.append(time.perf_counter() - t0)
    mk, ml = statistics.median(kit), statistics.median(loop)
    print(f"\n{len(selected)} countries, {os.cpu_count()} cores, {args.repeats} runs each")
    print(f"median research_kit reports : {mk:6.1f} s")
    print(f"median papermill CLI loop   : {ml:6.1f} s")
    print(f"ratio (loop / research_kit) : {ml / mk:5.2f}x")
    print(f"median no-change rerun (CLI): {statistics.median(rerun):6.2f} s")
    print(f"median 'import research_kit' in a new interpreter: {statistics.median(imports):.3f} s")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
