"""The batch runner: every country's report and the regional report, in parallel, incremental, atomic.

* Shared inputs: before any notebook runs, every country's estimates and the linked protection
  of all count tables are computed once (:mod:`research_kit.batch.inputs`) and given to every
  notebook as ``batch_inputs``, so every report of the batch uses the same suppression; the
  suppression record is written as ``suppression.json`` beside the reports.
* Parallel: reports run in local worker processes sized to the cores, each reusing one warm
  kernel, or on a Dask cluster.
* Isolated: a report that fails is reported with its error and the failing cell, its partial
  notebook and log are kept in the private folder; the others finish; the result says something
  failed (the CLI exits non-zero). If the shared inputs cannot be computed, the country reports
  still run (each protecting its own tables) and the regional report is reported failed.
* Atomic: each report (HTML, PDF, tables, figures) is built in a staging folder and moved into
  place in one rename, so a report appears only when complete; Ctrl-C stops cleanly.
* Incremental: a report is rebuilt only when its fingerprint changed (country: its data, form,
  notebook, parameters, disclosure policy, research_kit code and the batch's suppression
  pattern; regional: every country's inputs and the population sizes file); ``force=True``
  rebuilds everything.
* Checked: at the end the audit runs over every table published below the output folder, as an
  attacker would; its result is in ``manifest.json`` and a recoverable cell fails the batch.
* Reproducible: ``manifest.json`` records inputs, versions and the SHA-256 of every published
  table; :func:`~research_kit.batch.reproduce` reruns a manifest and compares table by table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import shutil
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

from research_kit import __version__
from research_kit.batch.executors import LocalPool, check_executor, run_jobs
from research_kit.batch.inputs import (SUPPRESSION_NAME, BatchInputs, batch_inputs, inputs_fingerprint,
                                       record_digest, regional_available)
from research_kit.batch.jobs import REGIONAL, ReportJob, ReportOutcome
from research_kit.batch.provenance import (MANIFEST_NAME, PROVENANCE_NAME, code_fingerprint, git_commit,
                                           read_json as _read_json, write_json as _write_json,
                                           package_versions, report_fingerprint, sha256_file, study_inputs,
                                           table_hashes)
from research_kit.countries import NODES, Country, countries, node_name, parse_countries
from research_kit.errors import DataFileError, ReportError
from research_kit.forms.model import FORM_CACHE_ENV
from research_kit.i18n import translator
from research_kit.report.parameters import check_parameters, policy_for

__all__ = ["ReportOutcome", "BatchResult", "run_reports", "notebook_path", "write_index", "DEFAULT_PRIVATE_DIR",
           "POPULATION_SIZES_NAME"]

#: Executed notebooks and logs: working files, kept out of the published reports folder.
DEFAULT_PRIVATE_DIR = Path(".research_kit") / "runs"
#: The population sizes file looked for in the data folder when none is given.
POPULATION_SIZES_NAME = "population_sizes.csv"


def notebook_path(name: str = "country_report") -> Path:
    """Path of a bundled notebook (the repository's ``notebooks/`` folder)."""
    found = _find_notebook(name)
    if found is None:
        raise ReportError(f"The notebook {name}.ipynb was not found next to research_kit.")
    return found


def _find_notebook(name: str) -> Path | None:
    here = Path(__file__).resolve()
    for base in (here.parents[3] / "notebooks", here.parents[1] / "notebooks"):
        p = base / f"{name}.ipynb"
        if p.is_file():
            return p
    return None


@dataclass
class BatchResult:
    """All outcomes of a batch: the country reports in the order given, then the regional report.

    Attributes
    ----------
    outcomes : list of ReportOutcome
        One per country.
    regional : ReportOutcome or None
        The regional report (None when not asked for).
    audit : dict or None
        The audit of everything published (``ok``, ``summary``, ``cells``, ``recoverable``).
    suppression : str or None
        Path of ``suppression.json``.
    """

    outcomes: list[ReportOutcome] = field(default_factory=list)
    index: str | None = None
    manifest: str | None = None
    seconds: float = 0.0
    interrupted: bool = False
    regional: ReportOutcome | None = None
    audit: dict | None = None
    suppression: str | None = None
    inputs_error: str | None = None

    @property
    def reports(self) -> list[ReportOutcome]:
        """Every report's outcome: the countries', then the regional one."""
        return self.outcomes + ([self.regional] if self.regional is not None else [])

    @property
    def audit_ok(self) -> bool:
        return self.audit is None or bool(self.audit.get("ok"))

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(o.ok for o in self.reports) and self.audit_ok

    @property
    def failed(self) -> list[ReportOutcome]:
        return [o for o in self.reports if not o.ok]

    @property
    def built(self) -> list[ReportOutcome]:
        return [o for o in self.reports if o.status == "built"]

    def to_dict(self) -> dict:
        return {"ok": self.ok, "interrupted": self.interrupted, "seconds": self.seconds, "index": self.index,
                "manifest": self.manifest, "suppression": self.suppression, "audit": self.audit,
                "inputs_error": self.inputs_error, "outcomes": [asdict(o) for o in self.outcomes],
                "regional": asdict(self.regional) if self.regional else None}


def _publish(staged: Path, target: Path) -> None:
    """Move a finished report folder into place: the old one (if any) goes, the new one appears whole."""
    trash = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
    if target.exists():
        os.replace(target, trash)
    os.replace(staged, target)
    shutil.rmtree(trash, ignore_errors=True)


def _relative(path: str, data_root: Path) -> str:
    p = Path(path)
    try:
        return str(p.relative_to(data_root))
    except ValueError:
        return f"surveys/{p.name}" if p.suffix == ".xlsx" else p.name


def _seed(folder: Path) -> int | None:
    truth = folder / "truth.json"
    if truth.is_file():
        return json.loads(truth.read_text(encoding="utf-8")).get("seed")
    return None


def _population_sizes(given: str | Path | None, data_root: Path) -> Path | None:
    if given is not None:
        path = Path(given).resolve()
        if not path.is_file():
            raise DataFileError(f"The population sizes file {path} does not exist. Give the CSV with one estimated "
                                "population size per country, or leave the option out.")
        return path
    default = data_root / POPULATION_SIZES_NAME
    return default if default.is_file() else None


def _up_to_date(out_dir: Path, key: str, fingerprint: str, pdf: bool) -> bool:
    """The report on disk was built from the same inputs (and has its PDF, when one is asked for)."""
    previous = _read_json(out_dir / key / PROVENANCE_NAME)
    return bool(previous and previous.get("fingerprint") == fingerprint and (out_dir / key / "index.html").is_file()
                and (not pdf or not previous.get("pdf_possible", True) or (out_dir / key / "report.pdf").is_file()))


def _audit(out_dir: Path, previous: dict | None, code: str, cache: dict | None = None) -> dict:
    """Audit every table published below ``out_dir`` together.

    The last audit is reused when neither the published files nor research_kit's code changed.
    """
    tables = {str(p.relative_to(out_dir)): sha256_file(p) for p in sorted(out_dir.rglob("tables/*"))
              if p.is_file() and p.suffix in (".csv", ".json") and not any(part.startswith(".") for part in
                                                                             p.relative_to(out_dir).parts)}
    digest = hashlib.sha256(json.dumps({"tables": tables, "code": code}, sort_keys=True).encode()).hexdigest()
    if previous and previous.get("digest") == digest and "ok" in previous:
        return {**previous, "reused": True}
    t0 = time.perf_counter()
    if not tables:
        return {"ok": True, "summary": "Audit: no published table.", "tables": 0, "cells": 0, "recoverable": 0,
                "digest": digest, "seconds": 0.0}
    from research_kit.disclosure.publish import audit_published

    try:
        res = audit_published(out_dir, cache=cache)
    except Exception as exc:  # noqa: BLE001 - a table that cannot be read fails the audit, with the reason
        return {"ok": False, "summary": f"The audit could not run: {type(exc).__name__}: {exc}",
                "tables": len(tables) // 2, "digest": digest, "seconds": time.perf_counter() - t0}
    return {"ok": bool(res.ok), "summary": res.summary(), "tables": len(tables) // 2, "cells": int(len(res.cells)),
            "recoverable": int(len(res.unsafe)), "problems": list(res.problems)[:50], "digest": digest,
            "seconds": round(time.perf_counter() - t0, 3)}


def run_reports(countries: str | Iterable[str] | None = None, *, data_root: str | Path = "data/synthetic",
                out_dir: str | Path = "reports", language: str = "es", min_count: int = 5, jobs: int | None = None,
                private_dir: str | Path | None = None, notebook: str | Path | None = None,
                timeout: float | None = 600, force: bool = False, executor: str = "local",
                scheduler: str | None = None, regional: bool = True, regional_notebook: str | Path | None = None,
                population_sizes: str | Path | None = None, country_reports: bool = True, pdf: bool = True,
                warm_kernels: bool = True,
                audit: bool = True, on_done: Callable[[ReportOutcome], None] | None = None) -> BatchResult:
    """Produce the country reports, the regional report, the index page, the suppression record and the manifest.

    Parameters
    ----------
    countries : str or list, optional
        ISO codes (``"PY,BO"``, ``["pry", "bol"]``); all 17 by default.
    data_root : path
        Folder with one study folder per country.
    out_dir : path
        Where ``<ISO3>/``, ``regional/``, ``index.html``, ``suppression.json`` and ``manifest.json`` are written.
    language : str
        ``es``, ``en`` or ``pt``.
    min_count : int
        Disclosure threshold: smallest count that may be published.
    jobs : int, optional
        Reports run at once on the local executor (default: the number of cores).
    private_dir : path, optional
        Where executed notebooks, logs and the batch's shared inputs go (default ``.research_kit/runs``).
    notebook : path, optional
        The country notebook (default: the bundled ``country_report.ipynb``).
    timeout : float, optional
        Seconds one report may take; a report that runs longer is stopped and reported failed.
    force : bool
        Rebuild every report (and the shared inputs), even when nothing changed.
    executor : str
        ``"local"`` (worker processes) or ``"dask"`` (needs ``scheduler``).
    scheduler : str, optional
        Address of a Dask scheduler, e.g. ``tcp://127.0.0.1:8786``.
    regional : bool
        Also produce the regional report over the countries given (``<out_dir>/regional/``).
    regional_notebook : path, optional
        The regional notebook (default: the bundled ``regional_report.ipynb``).
    population_sizes : path, optional
        CSV of population size estimates per country for the pooled regional estimates
        (default: ``<data_root>/population_sizes.csv`` when it exists).
    country_reports : bool
        Produce the country reports (``False``: the regional report only).
    pdf : bool
        Also print each report to ``report.pdf`` with headless Chromium.
    warm_kernels : bool
        Local executor: start one kernel per worker and reuse it from report to report.
    audit : bool
        Audit every published table together at the end (a recoverable cell fails the batch).
    on_done : callable, optional
        Called with each :class:`ReportOutcome` as it finishes (progress display).

    Raises
    ------
    CountryError, ParameterError, DataFileError
        Before anything runs, if a country code, the language, the threshold or the executor is
        invalid, or the data folder or population sizes file does not exist.
    KeyboardInterrupt
        After a clean stop: finished reports are kept, nothing half-built is left, and the manifest
        records what was done, so a rerun resumes.
    """
    selected = parse_countries(countries)
    _country, language, min_count = check_parameters(selected[0].alpha_3, language, min_count)
    check_executor(executor, scheduler)
    data_root, out_dir = Path(data_root).resolve(), Path(out_dir).resolve()
    if not data_root.is_dir():
        raise DataFileError(
            f"The data folder {data_root} does not exist. Run 'research-kit synth' to create synthetic data, "
            "or give the folder that holds one study folder per country with --data."
        )
    pop_path = _population_sizes(population_sizes, data_root)
    private = Path(private_dir or DEFAULT_PRIVATE_DIR).resolve()
    nb = Path(notebook).resolve() if notebook else notebook_path()
    nb_sha = sha256_file(nb)
    regional_nb = None
    if regional:
        regional_nb = Path(regional_notebook).resolve() if regional_notebook else _find_notebook("regional_report")
    policy = policy_for(min_count).to_dict()
    out_dir.mkdir(parents=True, exist_ok=True)
    private.mkdir(parents=True, exist_ok=True)
    code = code_fingerprint(private / "cache")
    # Parsed forms are kept between processes (workers, kernels) of this and later runs.
    cache_env = {FORM_CACHE_ENV: os.environ.get(FORM_CACHE_ENV) or str(private / "cache")}
    staging = out_dir / f".staging-{uuid.uuid4().hex[:8]}"
    kernels = tempfile.mkdtemp(prefix="rk-")  # kernels' sockets; removed even if a worker is stopped
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    previous_manifest = _read_json(out_dir / MANIFEST_NAME) or {}

    # ---- what each report depends on ------------------------------------------------------------------
    study: dict[str, dict[str, str]] = {c.alpha_3: study_inputs(data_root / c.alpha_3) for c in selected}
    pop_sha = sha256_file(pop_path) if pop_path else None
    shared_fp = inputs_fingerprint(study, pop_sha, min_count, policy, code)
    iso3s = [c.alpha_3 for c in selected]

    outcomes: dict[str, ReportOutcome] = {}
    records: dict[str, dict] = {}
    audit_cache: dict = {}  # each report's published tables, read while the others are still running
    result = BatchResult()
    pool: LocalPool | None = None
    shared: BatchInputs | None = None

    def report(o: ReportOutcome) -> None:
        outcomes[o.country] = o
        if on_done:
            on_done(o)

    def plan(shared: BatchInputs | None) -> list[ReportJob]:
        """Jobs for the reports whose fingerprint changed; up-to-date ones are reported at once."""
        todo: list[ReportJob] = []
        linked = record_digest(shared.record) if shared is not None and shared.ok else None
        extra = {"batch_inputs": str(shared.path)} if linked else {}
        common = dict(staging=str(staging), private_dir=str(private), language=language, timeout=timeout,
                      kernel_dir=kernels, pdf=pdf)
        if regional_nb is not None:
            params = {"countries": iso3s, "language": language, "min_count": min_count,
                      "population_sizes": pop_path.name if pop_path else None}
            files = {k: v for c in iso3s for k, v in study[c].items()}
            if pop_path:
                files[str(pop_path)] = pop_sha
            fp = report_fingerprint(files, sha256_file(regional_nb), params, policy, extra=None, code=code)
            records[REGIONAL] = {"fingerprint": fp, "parameters": params,
                                 "inputs": {_relative(p, data_root): h for p, h in sorted(files.items())},
                                 "notebook": {"path": str(regional_nb), "sha256": sha256_file(regional_nb)}}
            if not force and _up_to_date(out_dir, REGIONAL, fp, pdf):
                report(ReportOutcome(REGIONAL, True, status="up to date", html=str(out_dir / REGIONAL / "index.html")))
            elif shared is not None and not shared.ok:
                report(ReportOutcome(REGIONAL, False, status="failed",
                                     error=f"the batch's shared inputs could not be computed: {shared.error}"))
            else:
                nb_params = {"countries": iso3s, "data_root": str(data_root), "language": language,
                             "min_count": min_count, "population_sizes": str(pop_path) if pop_path else None,
                             "batch_inputs": str(shared.path) if shared is not None and shared.ok else None}
                todo.append(ReportJob(key=REGIONAL, notebook=str(regional_nb), parameters=nb_params,
                                      title=_regional_title(language), fingerprint=fp, **common))
        for c in selected if country_reports else []:
            params = {"country": c.alpha_3, "language": language, "min_count": min_count}
            fp = report_fingerprint(study[c.alpha_3], nb_sha, params, policy, extra={"linked": linked}, code=code)
            records[c.alpha_3] = {"fingerprint": fp, "parameters": params, "seed": _seed(data_root / c.alpha_3),
                                  "inputs": {_relative(p, data_root): h for p, h in study[c.alpha_3].items()},
                                  "linked": linked}
            if not force and _up_to_date(out_dir, c.alpha_3, fp, pdf):
                report(ReportOutcome(c.alpha_3, True, status="up to date",
                                     html=str(out_dir / c.alpha_3 / "index.html")))
                continue
            todo.append(ReportJob(key=c.alpha_3, notebook=str(nb),
                                  parameters={**params, "data_root": str(data_root), **extra},
                                  title=f"{c.name(language)} · research_kit", fingerprint=fp, **common))
        return todo

    def finished(o: ReportOutcome) -> None:
        if o.ok:
            staged = staging / o.country
            provenance = {"report": o.country, "research_kit": __version__, "code": code,
                          "notebook": {"name": Path(nb if o.country != REGIONAL else regional_nb).name},
                          "policy": policy,
                          # A PDF asked for but not made means Chromium is missing: do not rebuild for it.
                          "pdf_possible": bool(o.pdf) or not pdf,
                          "built": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                          **records[o.country], "tables": table_hashes(staged)}
            if o.country != REGIONAL:
                provenance["country"] = o.country
                provenance["notebook"]["sha256"] = nb_sha
            _write_json(staged / PROVENANCE_NAME, provenance)
            _publish(staged, out_dir / o.country)
            o.html = str(out_dir / o.country / "index.html")
            if audit:
                _read_for_audit(out_dir / o.country, audit_cache)
            if o.pdf:
                o.pdf = str(out_dir / o.country / "report.pdf")
        elif o.status == "failed":
            old = out_dir / o.country
            if old.exists():
                shutil.rmtree(old)  # an old report would look like this run's result
        report(o)

    try:
        # Reuse the shared inputs of an earlier run with the same fingerprint; else compute them once,
        # while the workers start their kernels.
        candidates = (len(selected) if country_reports else 0) + (1 if regional_nb is not None else 0)
        wanted = regional_nb is not None or regional_available()
        if wanted:
            cached = None if force else _cached_inputs(private, shared_fp)
            if cached is not None:
                shared = cached
            else:
                if executor == "local":
                    pool = LocalPool(max(1, min(jobs or os.cpu_count() or 1, candidates)), kernels,
                                     warm=warm_kernels, env=cache_env)
                with _environ(cache_env):
                    shared = batch_inputs(iso3s, data_root=data_root, min_count=min_count,
                                          population_sizes=pop_path, private=private, fingerprint=shared_fp,
                                          force=force)
        result.inputs_error = shared.error if shared is not None else None
        todo = _longest_first(plan(shared), private, data_root)
        if todo and executor == "local" and pool is None:
            pool = LocalPool(max(1, min(jobs or os.cpu_count() or 1, len(todo))), kernels, warm=warm_kernels,
                             env=cache_env)
        run_jobs(todo, finished, executor=executor, workers=jobs, scheduler=scheduler, pool=pool)
    except KeyboardInterrupt:
        result.interrupted = True
        raise
    finally:
        if pool is not None:
            pool.close(now=result.interrupted)
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(kernels, ignore_errors=True)
        result.outcomes = [outcomes.get(c) or ReportOutcome(c, False, status="interrupted",
                                                            error="not run: the batch was interrupted")
                           for c in (iso3s if country_reports else [])]
        if regional_nb is not None:
            result.regional = outcomes.get(REGIONAL) or ReportOutcome(
                REGIONAL, False, status="interrupted", error="not run: the batch was interrupted")
        elif regional:
            result.regional = ReportOutcome(REGIONAL, True, status="skipped",
                                            error="regional_report.ipynb is not part of this installation")
        if shared is not None and shared.ok and shared.record is not None:
            _write_json(out_dir / SUPPRESSION_NAME, shared.record)
            result.suppression = str(out_dir / SUPPRESSION_NAME)
        if audit and not result.interrupted:
            result.audit = _audit(out_dir, previous_manifest.get("audit"), code, audit_cache)
        result.seconds = time.perf_counter() - t0
        result.index = str(write_index(out_dir, language))
        manifest = {
            "research_kit": __version__, "code": code, "git_commit": git_commit(),
            "packages": package_versions(),
            "started": started.isoformat(timespec="seconds"),
            "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "parameters": {"data_root": str(data_root), "language": language, "min_count": min_count,
                           "timeout": timeout, "executor": executor, "regional": regional_nb is not None,
                           "population_sizes": str(pop_path) if pop_path else None, "pdf": pdf},
            "notebook": {"path": str(nb), "sha256": nb_sha},
            "policy": policy,
            "interrupted": result.interrupted,
            "batch_inputs": {"fingerprint": shared_fp, "ok": bool(shared and shared.ok),
                             "reused": bool(shared and shared.reused),
                             "seconds": round(shared.seconds, 3) if shared else 0.0,
                             "error": shared.error if shared else None,
                             "population_sizes": {"path": str(pop_path), "sha256": pop_sha} if pop_path else None},
            "suppression": {"path": SUPPRESSION_NAME, "sha256": sha256_file(out_dir / SUPPRESSION_NAME),
                            "digest": record_digest(shared.record)}
            if result.suppression and shared is not None else None,
            "audit": result.audit,
            "reports": {},
        }
        for o in result.outcomes:
            manifest["reports"][o.country] = _entry(o, records, out_dir)
        if result.regional is not None:
            manifest["regional"] = _entry(result.regional, records, out_dir)
        path = out_dir / MANIFEST_NAME
        _write_json(path, manifest)
        result.manifest = str(path)
        private.mkdir(parents=True, exist_ok=True)
        (private / "last_batch.json").write_text(json.dumps(result.to_dict(), indent=2, default=str),
                                                 encoding="utf-8")
    return result


@contextmanager
def _environ(values: dict):
    """Set environment variables for the duration of a block."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _read_for_audit(folder: Path, cache: dict) -> None:
    """Read a filed report's published tables now, for the audit at the end (which reads what changed since)."""
    from research_kit.disclosure.publish import read_published

    try:
        for table in read_published(folder, cache=cache).values():
            if table.kind == "count":
                table.cells()  # the audit's part of the work that needs this table alone
    except Exception:  # noqa: BLE001 - the audit reads the files again and reports any problem
        pass


def _longest_first(todo: list[ReportJob], private: Path, data_root: Path) -> list[ReportJob]:
    """The jobs, longest first, so that the last ones to finish are short and no worker idles long at the end.

    How long each report took in the previous batch (``last_batch.json``) decides. Reports without such a
    time (new, or failed last time) go first, since their length is unknown: the regional report, then
    respondent-driven samples (their reports also draw convergence charts), then the others.
    """
    last = _read_json(private / "last_batch.json") or {}
    took = {o.get("country"): o.get("seconds") for o in [*(last.get("outcomes") or []), last.get("regional") or {}]
            if isinstance(o, dict) and o.get("ok") and isinstance(o.get("seconds"), (int, float))}

    def order(job: ReportJob) -> tuple:
        if job.key in took:
            return (1, -float(took[job.key]))
        if job.key == REGIONAL:
            return (0, 0)
        design = (_read_json(data_root / job.key / "study.json") or {}).get("design")
        kind = design.get("type") if isinstance(design, dict) else design
        return (0, 1 if str(kind).lower() == "rds" else 2)

    return sorted(todo, key=order)  # stable: ties keep the order given


def _cached_inputs(private: Path, fingerprint: str) -> BatchInputs | None:
    from research_kit.batch.inputs import _paths

    pickle_path, record_path = _paths(private, fingerprint)
    if pickle_path.is_file() and record_path.is_file():
        record = _read_json(record_path)
        if record is not None:
            return BatchInputs(pickle_path, record, None, fingerprint, reused=True)
    return None


def _entry(o: ReportOutcome, records: dict, out_dir: Path) -> dict:
    entry = {"status": o.status, **records.get(o.country, {})}
    if o.ok and o.status != "skipped":
        entry["tables"] = table_hashes(out_dir / o.country)
        entry["pdf"] = (out_dir / o.country / "report.pdf").is_file()
    elif o.error:
        entry["error"] = o.error
    return entry


def _word(key: str, language: str) -> str:
    _ = translator(language)
    return {"regional": _("Regional report"), "regional_sub": _("The countries side by side, by sub-regional node")}[key]


def _regional_title(language: str) -> str:
    return f"{_word('regional', language)} · research_kit"


def _css() -> str:
    return resources.files("research_kit.report").joinpath("templates", "rk_report", "report.css").read_text(encoding="utf-8")


def write_index(out_dir: str | Path, language: str = "es") -> Path:
    """Write ``index.html`` listing the 17 countries by sub-regional node, linking each report on disk.

    Only reports that exist are linked (a failed country's page is removed, so the index never
    points at a missing or stale page). Errors are not shown here (they may quote data): they are
    in the batch result and the logs.
    """
    _ = translator(language)
    t_missing, t_title, t_kicker = _("report not produced"), _("Country reports"), _("Community survey of female sex workers")
    out_dir = Path(out_dir)
    by_node: dict[str, list[Country]] = {n: [] for n in NODES}
    for c in countries():
        by_node[c.node].append(c)
    sections = []
    for node, items in by_node.items():
        lis = []
        for c in sorted(items, key=lambda x: x.name(language)):
            name = html.escape(c.name(language))
            if (out_dir / c.alpha_3 / "index.html").is_file():
                pdf = (f" <a class='rk-sub' href='{c.alpha_3}/report.pdf'>PDF</a>"
                       if (out_dir / c.alpha_3 / "report.pdf").is_file() else "")
                lis.append(f"<li><a href='{c.alpha_3}/index.html'>{name}</a>{pdf}</li>")
            else:
                lis.append(f"<li>{name} <span class='rk-sub'>({html.escape(t_missing)})</span></li>")
        sections.append(f"<h2>{html.escape(node_name(node, language))}</h2><ul>{''.join(lis)}</ul>")
    if (out_dir / REGIONAL / "index.html").is_file():
        pdf = (f" <a class='rk-sub' href='{REGIONAL}/report.pdf'>PDF</a>"
               if (out_dir / REGIONAL / "report.pdf").is_file() else "")
        sections.insert(0, f"<h2>{html.escape(_word('regional', language))}</h2><ul><li>"
                           f"<a href='{REGIONAL}/index.html'>{html.escape(_word('regional_sub', language))}</a>"
                           f"{pdf}</li></ul>")
    page = (
        f"<!DOCTYPE html><html lang='{language}'><head><meta charset='utf-8'/>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1.0'/>"
        f"<title>{html.escape(t_title)} · research_kit</title><style>{_css()}</style></head>"
        f"<body class='rk-report'><main><header class='rk-header'>"
        f"<p class='rk-kicker'>{html.escape(t_kicker)}</p>"
        f"<h1>{html.escape(t_title)}</h1></header>"
        f"<nav class='rk-index'>{''.join(sections)}</nav></main></body></html>"
    )
    path = out_dir / "index.html"
    tmp = path.with_name(f".index.html.{os.getpid()}.part")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path
