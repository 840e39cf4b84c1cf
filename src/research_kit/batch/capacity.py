"""Capacity assessment reports on the batch engine: parallel, warm IPC kernels, atomic, incremental.

Each organisation, node and the region is one :class:`~research_kit.batch.jobs.ReportJob`
running its capacity notebook; reports are built in a staging folder and moved into place
whole, rebuilt only when their fingerprint (every capacity data file, the notebook, the
parameters, research_kit's code) changed, and listed in ``<output_dir>/manifest.json``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable

from research_kit import __version__
from research_kit.batch.executors import LocalPool, run_jobs
from research_kit.batch.jobs import ReportJob, ReportOutcome
from research_kit.batch.provenance import (MANIFEST_NAME, PROVENANCE_NAME, code_fingerprint, git_commit,
                                           read_json as _read_json, write_json as _write_json,
                                           package_versions, report_fingerprint, sha256_file, table_hashes)

__all__ = ["run_capacity_batch", "CAPACITY_PRELOAD"]

#: Modules a warm kernel imports before its first capacity report.
CAPACITY_PRELOAD = ("research_kit.capacity.reports", "research_kit.report.html", "matplotlib.pyplot")


def _data_files(folder: Path) -> dict[str, str]:
    """Every file of the capacity data folder (responses, coverage, earlier plans), with its SHA-256."""
    if folder.is_file():
        return {str(folder.resolve()): sha256_file(folder)}
    if not folder.is_dir():
        return {}
    return {str(p.resolve()): sha256_file(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith((".", "~$"))}


def _relative(inputs: dict[str, str], data: Path) -> dict[str, str]:
    base = data if data.is_dir() else data.parent
    return {Path(p).relative_to(base).as_posix(): h for p, h in inputs.items()}


def run_capacity_batch(units: list[tuple[str, str, dict]], *, data_path: Path, output_dir: Path, language: str,
                       pdf: bool, private_dir: Path, timeout: float | None, jobs: int | None = None,
                       force: bool = False, on_done: Callable | None = None) -> list:
    """Run capacity reports in parallel on warm kernels; return their ``ReportFiles`` in the order given.

    Parameters
    ----------
    units : list of (kind, code, parameters)
        ``kind`` is ``organisation``, ``node`` or ``region``; ``parameters`` the notebook's own
        (``organisation``/``node``, ``min_count``).
    data_path : path
        The capacity data folder.
    output_dir : path
        Where ``<folder>/index.html`` (and ``report.pdf``, tables, figures, plan) and ``manifest.json`` go.
    language : str
    pdf : bool
        Also print ``report.pdf`` with headless Chromium.
    private_dir : path
        Executed notebooks and logs.
    timeout : float, optional
        Seconds one report may take.
    jobs : int, optional
        Reports run at once (default: the number of cores).
    force : bool
        Rebuild reports whose inputs did not change.
    on_done : callable, optional
        Called with each ``ReportFiles`` as it finishes.
    """
    from research_kit.batch.runner import _find_notebook, _publish
    from research_kit.capacity.reports import NOTEBOOKS, ReportFiles, _titles, report_folder

    out, private, data = Path(output_dir).resolve(), Path(private_dir).resolve(), Path(data_path).resolve()
    out.mkdir(parents=True, exist_ok=True)
    private.mkdir(parents=True, exist_ok=True)
    code = code_fingerprint(private / "cache")
    inputs = _data_files(data)
    staging = out / f".staging-{uuid.uuid4().hex[:8]}"
    kernels = tempfile.mkdtemp(prefix="rk-")
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    meta: dict[str, dict] = {}
    done: dict[str, object] = {}
    todo: list[ReportJob] = []

    def files(o: ReportOutcome) -> object:
        kind = meta[o.country]["kind"]
        return ReportFiles(kind, o.country, o.ok, folder=str(out / o.country) if o.ok else None, html=o.html,
                           pdf=o.pdf, executed=o.executed, seconds=o.seconds, error=o.error)

    for kind, unit_code, params in units:
        folder = report_folder(kind, unit_code) if kind != "region" else "region"
        notebook = _find_notebook(NOTEBOOKS[kind])
        if notebook is None:
            raise FileNotFoundError(f"The notebook {NOTEBOOKS[kind]}.ipynb was not found next to research_kit.")
        nb_sha = sha256_file(notebook)
        fp = report_fingerprint(inputs, nb_sha, {**params, "language": language}, {}, code=code)
        meta[folder] = {"kind": kind, "code": unit_code, "fingerprint": fp, "parameters": params,
                        "notebook": {"name": notebook.name, "sha256": nb_sha}}
        previous = _read_json(out / folder / PROVENANCE_NAME)
        if (not force and previous and previous.get("fingerprint") == fp and (out / folder / "index.html").is_file()
                and (not pdf or (out / folder / "report.pdf").is_file() or not previous.get("pdf_possible", True))):
            o = ReportOutcome(folder, True, status="up to date", html=str(out / folder / "index.html"),
                              pdf=str(out / folder / "report.pdf") if (out / folder / "report.pdf").is_file() else None)
            done[folder] = files(o)
            if on_done:
                on_done(done[folder])
            continue
        todo.append(ReportJob(key=folder, notebook=str(notebook), staging=str(staging), private_dir=str(private),
                              parameters={**params, "data_path": str(data), "language": language},
                              title=f"{_titles(kind, unit_code, language)} · research_kit", language=language,
                              timeout=timeout, fingerprint=fp, kernel_dir=kernels, pdf=pdf))
    statuses: dict[str, ReportOutcome] = {}

    def finished(o: ReportOutcome) -> None:
        if o.ok:
            staged = staging / o.country
            _write_json(staged / PROVENANCE_NAME, {
                "report": o.country, "research_kit": __version__, "code": code, "pdf_possible": bool(o.pdf) or not pdf,
                "built": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **meta[o.country],
                "inputs": _relative(inputs, data)})
            _publish(staged, out / o.country)
            o.html = str(out / o.country / "index.html")
            o.pdf = str(out / o.country / "report.pdf") if o.pdf else None
        elif o.status == "failed" and (out / o.country).exists():
            shutil.rmtree(out / o.country)  # an old report would look like this run's result
        statuses[o.country] = o
        done[o.country] = files(o)
        if on_done:
            on_done(done[o.country])

    interrupted = False
    try:
        if todo:
            workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
            with LocalPool(workers, kernels, preload=CAPACITY_PRELOAD) as pool:
                run_jobs(todo, finished, pool=pool)
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(kernels, ignore_errors=True)
        results = []
        for folder, m in meta.items():
            if folder not in done:
                done[folder] = ReportFiles(m["kind"], folder, False, error="not run: the batch was interrupted")
            results.append(done[folder])
        manifest = {
            "kind": "capacity", "research_kit": __version__, "code": code, "git_commit": git_commit(),
            "packages": package_versions(), "started": started.isoformat(timespec="seconds"),
            "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "parameters": {"data_path": str(data), "language": language, "timeout": timeout, "pdf": pdf},
            "inputs": _relative(inputs, data),
            "interrupted": interrupted, "seconds": round(time.perf_counter() - t0, 3),
            "reports": {},
        }
        for r in results:
            entry = {"status": statuses[r.code].status if r.code in statuses else ("up to date" if r.ok else "interrupted"),
                     **{k: v for k, v in meta[r.code].items() if k != "notebook"},
                     "notebook": meta[r.code]["notebook"]}
            if r.ok:
                entry["tables"] = table_hashes(out / r.code)
            else:
                entry["error"] = r.error
            manifest["reports"][r.code] = entry
        _write_json(out / MANIFEST_NAME, manifest)
    return results
