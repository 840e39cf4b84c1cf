"""One report job: execute a report notebook into a private staging folder, export HTML (and PDF).

A job is plain data (picklable), so the same job runs in a local worker process or on a Dask
cluster. It never writes into the published reports folder: the runner moves a finished report
there in one rename, so a report appears only when complete.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from research_kit.batch.kernels import ipc_kernel_manager_class

if TYPE_CHECKING:  # pragma: no cover
    from research_kit.batch.kernels import WarmKernel

__all__ = ["ReportJob", "ReportOutcome", "execute_job", "REGIONAL"]

#: Key (and folder name) of the regional report.
REGIONAL = "regional"


@dataclass(frozen=True)
class ReportJob:
    """Everything needed to produce one report (a country's, or the regional one).

    Attributes
    ----------
    key : str
        ISO alpha-3 of a country, or ``"regional"``; also the report's folder name.
    notebook : str
        The notebook to run.
    staging : str
        Folder the report is built in (its ``<key>/`` subfolder).
    private_dir : str
        Where the executed notebook and the log are kept.
    parameters : dict
        The notebook's parameters, except ``output_dir`` (set by the job).
    title : str
        The HTML page's title.
    language : str
        Language of the page (its ``lang`` attribute).
    timeout : float, optional
        Seconds for the whole report.
    fingerprint : str
        Hash of everything the report depends on.
    kernel_dir : str, optional
        Where kernels' IPC sockets go; the runner removes it at the end.
    pdf : bool
        Also print ``report.pdf`` with headless Chromium.
    """

    key: str
    notebook: str
    staging: str
    private_dir: str
    parameters: dict = field(default_factory=dict)
    title: str = ""
    language: str = "es"
    timeout: float | None = 600.0
    fingerprint: str = ""
    kernel_dir: str | None = None
    pdf: bool = False

    @property
    def country(self) -> str:
        """The report's key (kept for callers that name reports by country)."""
        return self.key


@dataclass
class ReportOutcome:
    """What happened to one report (``country`` is the ISO alpha-3, or ``"regional"``)."""

    country: str
    ok: bool
    status: str = "built"  # built | up to date | failed | interrupted | skipped
    html: str | None = None
    executed: str | None = None
    log: str | None = None
    seconds: float = 0.0
    error: str | None = None
    failed_cell: int | None = None  # position of the failing cell in the executed notebook, from 1
    pdf: str | None = None


def _kernel_manager_class(kernel_dir: str | None = None):
    """Kept for callers of the earlier name: see :func:`research_kit.batch.kernels.ipc_kernel_manager_class`."""
    return ipc_kernel_manager_class(kernel_dir)


@contextmanager
def _stderr_to(path: Path):
    """Send this process's standard error (and that of the kernels it starts) to ``path``."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "w", encoding="utf-8") as fh:
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _print_pdf(html: Path, pdf: Path, timeout: float) -> Path | None:
    """Print the report page with headless Chromium (None when Chromium is not installed)."""
    try:
        from research_kit.report.pdf import report_pdf
    except ImportError:
        report_pdf = None
    if report_pdf is not None:
        return report_pdf(html, pdf)
    from research_kit.capacity.pdf import html_to_pdf

    return html_to_pdf(html, pdf, timeout=timeout)


def execute_job(job: ReportJob, kernel: "WarmKernel | None" = None) -> ReportOutcome:
    """Run one report's notebook with papermill, export its HTML (and PDF) into the staging folder.

    Parameters
    ----------
    job : ReportJob
    kernel : WarmKernel, optional
        A kernel kept by the worker and reused from report to report; without one, the notebook
        gets a kernel of its own.

    Never raises for a problem of the report itself: the outcome carries the error, the number
    of the cell that failed, and where the partial notebook and the log are kept.
    """
    import papermill as pm

    from research_kit.report.html import notebook_to_html

    t0 = time.perf_counter()
    key = job.key
    private = Path(job.private_dir)
    private.mkdir(parents=True, exist_ok=True)
    executed = private / f"{key}.ipynb"
    log = private / f"{key}.log"
    staging = Path(job.staging)
    target = staging / key
    work = staging / f".work-{key}"  # the notebook's output_dir: it writes <output_dir>/<key>/ (or into it)
    for folder in (target, work):
        shutil.rmtree(folder, ignore_errors=True)
    work.mkdir(parents=True)
    deadline = time.monotonic() + job.timeout if job.timeout else None

    def remaining() -> float | None:
        return None if deadline is None else deadline - time.monotonic()

    def cell_timeout(_cell) -> int | None:
        # One budget for the whole report: each cell may use what the earlier ones left.
        left = remaining()
        return None if left is None else max(1, int(left))

    with _stderr_to(log):  # the kernel's own chatter goes to the report's log, not the terminal
        try:
            options: dict = {"kernel_name": "python3", "progress_bar": False, "log_output": False,
                             "timeout_func": cell_timeout}
            if kernel is not None:
                from research_kit.batch.kernels import ENGINE_NAME, _register_engine

                _register_engine()
                kernel.ensure()
                kernel.used()
                options.update(engine_name=ENGINE_NAME, km=kernel.km)
            else:
                options["kernel_manager_class"] = ipc_kernel_manager_class(job.kernel_dir)
            pm.execute_notebook(job.notebook, str(executed),
                                parameters={**job.parameters, "output_dir": str(work)}, **options)
            produced = work / key if (work / key).is_dir() else work
            os.replace(produced, target)
            shutil.rmtree(work, ignore_errors=True)
            page = notebook_to_html(executed, target / "index.html", language=job.language,
                                    title=job.title or None)
            pdf = None
            if job.pdf:
                left = remaining()
                if left is not None and left <= 1:
                    raise TimeoutError(f"the report did not finish within {job.timeout:g} s (no time left for the PDF)")
                made = _print_pdf(page, target / "report.pdf", min(120.0, left) if left else 120.0)
                pdf = str(made) if made else None
            return ReportOutcome(key, True, html=str(page), executed=str(executed), log=str(log),
                                 seconds=time.perf_counter() - t0, pdf=pdf)
        except KeyboardInterrupt:
            if kernel is not None:
                kernel.discard()
            for folder in (target, work):
                shutil.rmtree(folder, ignore_errors=True)
            return ReportOutcome(key, False, status="interrupted", error="interrupted",
                                 seconds=time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001 - one report's failure must never stop the batch
            if kernel is not None and type(exc).__name__ != "PapermillExecutionError":
                # A cell that raised leaves an idle kernel, reset before the next report; anything
                # else (a timed-out cell still running, a dead kernel) needs a new kernel.
                kernel.discard()
            for folder in (target, work):
                shutil.rmtree(folder, ignore_errors=True)
            traceback.print_exc()
            name = getattr(exc, "ename", type(exc).__name__)
            value = getattr(exc, "evalue", str(exc))
            if "Timeout" in name or "timed out" in str(exc).lower():
                value = f"the report did not finish within {job.timeout:g} s ({value})"
            message = f"{name}: {value}".strip().splitlines()[0][:500]
            cell = getattr(exc, "cell_index", None)
            if cell is None:
                cell = _last_executed_cell(executed)
            return ReportOutcome(key, False, status="failed", executed=str(executed) if executed.exists() else None,
                                 log=str(log), seconds=time.perf_counter() - t0, error=message,
                                 failed_cell=None if cell is None else int(cell) + 1)


def _last_executed_cell(executed: Path) -> int | None:
    """Index of the cell that was running when execution stopped (papermill marks executed cells)."""
    import nbformat

    try:
        nb = nbformat.read(str(executed), as_version=4)
    except (OSError, ValueError):
        return None
    ran = [i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("papermill", {}).get("exception") is not None]
    return ran[-1] if ran else None
