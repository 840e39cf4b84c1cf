"""The batch runner: every country's report, in parallel, incremental, atomic, with a manifest.

* Parallel: reports run in a local process pool sized to the cores, or on a Dask cluster.
* Isolated: a country that fails is reported with its error and the failing cell, its partial
  notebook and log are kept in the private folder; the others finish; the result says something
  failed (the CLI exits non-zero).
* Atomic: each report is built in a staging folder and moved into place in one rename, so a
  report appears only when complete; Ctrl-C stops cleanly and leaves no half report.
* Incremental: a report is rebuilt only when its fingerprint (data, form, notebook, parameters,
  disclosure policy, research_kit code) changed; ``force=True`` rebuilds everything.
* Reproducible: ``manifest.json`` beside the reports records inputs, versions and the SHA-256 of
  every published table; :func:`reproduce` reruns a manifest and compares table by table.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

from research_kit import __version__
from research_kit.batch.executors import run_jobs
from research_kit.batch.jobs import ReportJob, ReportOutcome
from research_kit.batch.provenance import (MANIFEST_NAME, PROVENANCE_NAME, code_fingerprint, git_commit,
                                           package_versions, report_fingerprint, sha256_file, study_inputs,
                                           table_hashes)
from research_kit.countries import NODES, Country, countries, node_name, parse_countries
from research_kit.errors import DataFileError, ReportError
from research_kit.i18n import translator
from research_kit.report.parameters import check_parameters, policy_for

__all__ = ["ReportOutcome", "BatchResult", "run_reports", "notebook_path", "write_index", "DEFAULT_PRIVATE_DIR"]

#: Executed notebooks and logs: working files, kept out of the published reports folder.
DEFAULT_PRIVATE_DIR = Path(".research_kit") / "runs"


def notebook_path(name: str = "country_report") -> Path:
    """Path of a bundled notebook (the repository's ``notebooks/`` folder)."""
    here = Path(__file__).resolve()
    for base in (here.parents[3] / "notebooks", here.parents[1] / "notebooks"):
        p = base / f"{name}.ipynb"
        if p.is_file():
            return p
    raise ReportError(f"The notebook {name}.ipynb was not found next to research_kit.")


@dataclass
class BatchResult:
    """All outcomes of a batch, in the order the countries were given."""

    outcomes: list[ReportOutcome] = field(default_factory=list)
    index: str | None = None
    manifest: str | None = None
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(o.ok for o in self.outcomes)

    @property
    def failed(self) -> list[ReportOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def built(self) -> list[ReportOutcome]:
        return [o for o in self.outcomes if o.status == "built"]

    def to_dict(self) -> dict:
        return {"ok": self.ok, "interrupted": self.interrupted, "seconds": self.seconds, "index": self.index,
                "manifest": self.manifest, "outcomes": [asdict(o) for o in self.outcomes]}


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


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_reports(countries: str | Iterable[str] | None = None, *, data_root: str | Path = "data/synthetic",
                out_dir: str | Path = "reports", language: str = "es", min_count: int = 5, jobs: int | None = None,
                private_dir: str | Path | None = None, notebook: str | Path | None = None,
                timeout: float | None = 600, force: bool = False, executor: str = "local",
                scheduler: str | None = None,
                on_done: Callable[[ReportOutcome], None] | None = None) -> BatchResult:
    """Produce the country reports, the index page and the run manifest.

    Parameters
    ----------
    countries : str or list, optional
        ISO codes (``"PY,BO"``, ``["pry", "bol"]``); all 17 by default.
    data_root : path
        Folder with one study folder per country.
    out_dir : path
        Where ``<ISO3>/index.html``, ``index.html`` and ``manifest.json`` are written.
    language : str
        ``es``, ``en`` or ``pt``.
    min_count : int
        Disclosure threshold: smallest count that may be published.
    jobs : int, optional
        Reports run at once on the local executor (default: the number of cores).
    private_dir : path, optional
        Where executed notebooks and logs go (default ``.research_kit/runs``).
    notebook : path, optional
        The notebook to run (default: the bundled ``country_report.ipynb``).
    timeout : float, optional
        Seconds one report may take; a report that runs longer is stopped and reported failed.
    force : bool
        Rebuild every report, even those whose inputs did not change.
    executor : str
        ``"local"`` (process pool) or ``"dask"`` (needs ``scheduler``).
    scheduler : str, optional
        Address of a Dask scheduler, e.g. ``tcp://127.0.0.1:8786``.
    on_done : callable, optional
        Called with each :class:`ReportOutcome` as it finishes (progress display).

    Raises
    ------
    CountryError, ParameterError, DataFileError
        Before anything runs, if a country code, the language or the threshold is invalid, or the
        data folder does not exist.
    KeyboardInterrupt
        After a clean stop: finished reports are kept, nothing half-built is left, and the manifest
        records what was done, so a rerun resumes.
    """
    selected = parse_countries(countries)
    _country, language, min_count = check_parameters(selected[0].alpha_3, language, min_count)
    data_root, out_dir = Path(data_root).resolve(), Path(out_dir).resolve()
    if not data_root.is_dir():
        raise DataFileError(
            f"The data folder {data_root} does not exist. Run 'research-kit synth' to create synthetic data, "
            "or give the folder that holds one study folder per country with --data."
        )
    private = Path(private_dir or DEFAULT_PRIVATE_DIR).resolve()
    nb = Path(notebook).resolve() if notebook else notebook_path()
    nb_sha = sha256_file(nb)
    policy = policy_for(min_count).to_dict()
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = out_dir / f".staging-{uuid.uuid4().hex[:8]}"
    kernels = tempfile.mkdtemp(prefix="rk-")  # kernels' sockets; removed even if a worker is stopped
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()

    outcomes: dict[str, ReportOutcome] = {}
    records: dict[str, dict] = {}
    todo: list[ReportJob] = []
    for c in selected:
        folder = data_root / c.alpha_3
        inputs = study_inputs(folder)
        params = {"country": c.alpha_3, "language": language, "min_count": min_count}
        fp = report_fingerprint(inputs, nb_sha, params, policy)
        records[c.alpha_3] = {"fingerprint": fp, "parameters": params, "seed": _seed(folder),
                              "inputs": {_relative(p, data_root): h for p, h in inputs.items()}}
        previous = _read_json(out_dir / c.alpha_3 / PROVENANCE_NAME)
        if not force and previous and previous.get("fingerprint") == fp and (out_dir / c.alpha_3 / "index.html").is_file():
            o = ReportOutcome(c.alpha_3, True, status="up to date", html=str(out_dir / c.alpha_3 / "index.html"))
            outcomes[c.alpha_3] = o
            if on_done:
                on_done(o)
            continue
        todo.append(ReportJob(country=c.alpha_3, notebook=str(nb), data_root=str(data_root), staging=str(staging),
                              private_dir=str(private), language=language, min_count=min_count, timeout=timeout,
                              fingerprint=fp, kernel_dir=kernels))

    def finished(o: ReportOutcome) -> None:
        if o.ok:
            staged = staging / o.country
            provenance = {"country": o.country, "research_kit": __version__, "code": code_fingerprint(),
                          "notebook": {"name": nb.name, "sha256": nb_sha}, "policy": policy,
                          "built": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                          **records[o.country], "tables": table_hashes(staged)}
            (staged / PROVENANCE_NAME).write_text(json.dumps(provenance, indent=2, ensure_ascii=False) + "\n",
                                                  encoding="utf-8")
            _publish(staged, out_dir / o.country)
            o.html = str(out_dir / o.country / "index.html")
        elif o.status == "failed":
            old = out_dir / o.country
            if old.exists():
                shutil.rmtree(old)  # an old report would look like this run's result
        outcomes[o.country] = o
        if on_done:
            on_done(o)

    result = BatchResult()
    try:
        run_jobs(todo, finished, executor=executor, workers=jobs, scheduler=scheduler)
    except KeyboardInterrupt:
        result.interrupted = True
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(kernels, ignore_errors=True)
        result.outcomes = [outcomes.get(c.alpha_3) or ReportOutcome(c.alpha_3, False, status="interrupted",
                                                                     error="not run: the batch was interrupted")
                           for c in selected]
        result.seconds = time.perf_counter() - t0
        result.index = str(write_index(out_dir, language))
        manifest = {
            "research_kit": __version__, "code": code_fingerprint(), "git_commit": git_commit(),
            "packages": package_versions(),
            "started": started.isoformat(timespec="seconds"),
            "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "parameters": {"data_root": str(data_root), "language": language, "min_count": min_count,
                           "timeout": timeout, "executor": executor},
            "notebook": {"path": str(nb), "sha256": nb_sha},
            "policy": policy,
            "interrupted": result.interrupted,
            "reports": {},
        }
        for o in result.outcomes:
            entry = {"status": o.status, **records.get(o.country, {})}
            if o.ok:
                entry["tables"] = table_hashes(out_dir / o.country)
            else:
                entry["error"] = o.error
            manifest["reports"][o.country] = entry
        path = out_dir / MANIFEST_NAME
        tmp = path.with_name(f".{MANIFEST_NAME}.{os.getpid()}.part")
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(path)
        result.manifest = str(path)
        private.mkdir(parents=True, exist_ok=True)
        (private / "last_batch.json").write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
    return result


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
                lis.append(f"<li><a href='{c.alpha_3}/index.html'>{name}</a></li>")
            else:
                lis.append(f"<li>{name} <span class='rk-sub'>({html.escape(t_missing)})</span></li>")
        sections.append(f"<h2>{html.escape(node_name(node, language))}</h2><ul>{''.join(lis)}</ul>")
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
