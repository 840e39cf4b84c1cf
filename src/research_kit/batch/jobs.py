"""One report job: execute the notebook for one country into a private staging folder.

A job is plain data (picklable), so the same job runs in a local process pool or on a Dask
cluster. It never writes into the published reports folder: the runner moves a finished
report there in one rename, so a report appears only when complete.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ReportJob", "ReportOutcome", "execute_job"]


@dataclass(frozen=True)
class ReportJob:
    """Everything needed to produce one country's report."""

    country: str  # ISO alpha-3
    notebook: str
    data_root: str
    staging: str  # folder the report is built in (its <ISO3>/ subfolder)
    private_dir: str  # executed notebooks and logs
    language: str = "es"
    min_count: int = 5
    timeout: float | None = 600.0  # seconds for the whole report
    fingerprint: str = ""
    kernel_dir: str | None = None  # where kernels' IPC sockets go; the runner removes it at the end


@dataclass
class ReportOutcome:
    """What happened to one country's report."""

    country: str
    ok: bool
    status: str = "built"  # built | up to date | failed | interrupted
    html: str | None = None
    executed: str | None = None
    log: str | None = None
    seconds: float = 0.0
    error: str | None = None
    failed_cell: int | None = None  # position of the failing cell in the executed notebook, from 1


def _kernel_manager_class(kernel_dir: str | None = None):
    """Kernels that talk over private IPC sockets instead of TCP ports.

    With TCP, each kernel picks "free" ports that another report's kernel, started a moment later
    in a parallel process, may take first ("Address already in use"; the kernel dies). IPC sockets
    live in a folder of their own per kernel, so parallel reports never collide, and nothing listens
    on the network.
    """
    import tempfile
    import uuid

    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            if kernel_dir:
                Path(kernel_dir).mkdir(parents=True, exist_ok=True)
            # Unix socket paths are limited to ~100 characters: keep the folder short.
            folder = tempfile.mkdtemp(prefix="rk-kernel-", dir=kernel_dir)
            kwargs.setdefault("ip", str(Path(folder) / uuid.uuid4().hex[:12]))
            super().__init__(**kwargs)

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart:
                shutil.rmtree(Path(self.ip).parent, ignore_errors=True)

    return IPCKernelManager


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


def execute_job(job: ReportJob) -> ReportOutcome:
    """Run one country's notebook with papermill and export its HTML into the staging folder.

    Never raises for a problem of the report itself: the outcome carries the error, the number
    of the cell that failed, and where the partial notebook and the log are kept.
    """
    import papermill as pm

    from research_kit.countries import get_country
    from research_kit.report.html import notebook_to_html

    t0 = time.perf_counter()
    c = get_country(job.country)
    private = Path(job.private_dir)
    private.mkdir(parents=True, exist_ok=True)
    executed = private / f"{c.alpha_3}.ipynb"
    log = private / f"{c.alpha_3}.log"
    staging = Path(job.staging)
    shutil.rmtree(staging / c.alpha_3, ignore_errors=True)
    deadline = time.monotonic() + job.timeout if job.timeout else None

    def cell_timeout(_cell) -> int | None:
        # One budget for the whole report: each cell may use what the earlier ones left.
        return None if deadline is None else max(1, int(deadline - time.monotonic()))

    with _stderr_to(log):  # the kernel's own chatter goes to the country's log, not the terminal
        try:
            pm.execute_notebook(
                job.notebook, str(executed),
                parameters={"country": c.alpha_3, "data_root": job.data_root, "language": job.language,
                            "min_count": job.min_count, "output_dir": str(staging)},
                kernel_name="python3", progress_bar=False, log_output=False,
                kernel_manager_class=_kernel_manager_class(job.kernel_dir), timeout_func=cell_timeout,
            )
            page = notebook_to_html(executed, staging / c.alpha_3 / "index.html", language=job.language,
                                    title=f"{c.name(job.language)} · research_kit")
            return ReportOutcome(c.alpha_3, True, html=str(page), executed=str(executed), log=str(log),
                                 seconds=time.perf_counter() - t0)
        except KeyboardInterrupt:
            shutil.rmtree(staging / c.alpha_3, ignore_errors=True)
            return ReportOutcome(c.alpha_3, False, status="interrupted", error="interrupted",
                                 seconds=time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001 - one country's failure must never stop the batch
            shutil.rmtree(staging / c.alpha_3, ignore_errors=True)
            traceback.print_exc()
            name = getattr(exc, "ename", type(exc).__name__)
            value = getattr(exc, "evalue", str(exc))
            if "Timeout" in name or "timed out" in str(exc).lower():
                value = f"the report did not finish within {job.timeout:g} s ({value})"
            message = f"{name}: {value}".strip().splitlines()[0][:500]
            cell = getattr(exc, "cell_index", None)
            if cell is None:
                cell = _last_executed_cell(executed)
            return ReportOutcome(c.alpha_3, False, status="failed", executed=str(executed) if executed.exists() else None,
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
