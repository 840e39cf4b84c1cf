"""Where report jobs run: a local process pool (the default) or a Dask distributed cluster.

Both take the same :class:`~research_kit.batch.jobs.ReportJob` objects and report each
:class:`~research_kit.batch.jobs.ReportOutcome` as it finishes. A Dask cluster's workers need
research_kit installed and the same paths (data, notebooks, output) on a shared file system.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import time
from typing import Callable, Iterable

from research_kit.batch.jobs import ReportJob, ReportOutcome, execute_job
from research_kit.errors import ParameterError, ReportError

__all__ = ["EXECUTORS", "run_jobs"]

EXECUTORS = ("local", "dask")
#: Seconds a worker gets beyond its report's timeout (the kernel's own cell timeout comes first).
_GRACE = 30.0


def _worker(job: ReportJob, results) -> None:
    # Ctrl-C is the parent's to handle: it stops the workers itself, so none is left half-way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    results.put((job.country, execute_job(job)))


def _local(jobs: list[ReportJob], workers: int, on_done: Callable[[ReportOutcome], None]) -> None:
    """Run jobs in worker processes, at most ``workers`` at once.

    Processes are managed directly (not a ``ProcessPoolExecutor``) so that a report that overruns
    its time, or a Ctrl-C, stops the worker at once instead of waiting for its notebook to end.
    A worker's kernel notices its parent is gone and exits too.
    """
    ctx = mp.get_context()
    results = ctx.Queue()
    pending = list(jobs)
    running: dict[str, tuple] = {}  # country -> (process, job, started)
    try:
        while pending or running:
            while pending and len(running) < workers:
                job = pending.pop(0)
                proc = ctx.Process(target=_worker, args=(job, results), name=f"report-{job.country}")
                proc.start()
                running[job.country] = (proc, job, time.monotonic())
            try:
                country, outcome = results.get(timeout=0.5)
            except queue.Empty:
                now = time.monotonic()
                for country, (proc, job, started) in list(running.items()):
                    overdue = job.timeout is not None and now - started > job.timeout + _GRACE
                    if overdue or (not proc.is_alive() and proc.exitcode not in (0, None)):
                        proc.terminate()
                        proc.join(5)
                        del running[country]
                        why = (f"the report did not finish within {job.timeout:g} s" if overdue
                               else f"the worker process stopped unexpectedly (exit code {proc.exitcode})")
                        on_done(ReportOutcome(country, False, status="failed", error=why,
                                              seconds=now - started))
                continue
            proc, _job, _started = running.pop(country)
            proc.join()
            on_done(outcome)
    except KeyboardInterrupt:
        for proc, _job, _started in running.values():
            proc.terminate()
        for proc, _job, _started in running.values():
            proc.join(10)
        raise
    finally:
        results.close()


def _dask(jobs: list[ReportJob], scheduler: str, on_done: Callable[[ReportOutcome], None]) -> None:
    try:
        from distributed import Client, as_completed as dask_completed
    except ImportError:
        raise ReportError("The Dask executor needs the optional extra: pip install 'research_kit[dask]'.") from None
    try:
        client = Client(scheduler, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ReportError(
            f"Cannot reach the Dask scheduler at {scheduler!r} ({exc}). Check the address (tcp://host:8786) "
            "and that the scheduler is running, or use the local executor."
        ) from None
    try:
        futures = {client.submit(execute_job, job, key=f"report-{job.country}-{job.fingerprint[:12]}", pure=False): job
                   for job in jobs}
        for fut in dask_completed(list(futures), loop=client.loop):
            job = futures[fut]
            try:
                outcome = fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker is one failed country
                outcome = ReportOutcome(job.country, False, status="failed", error=f"{type(exc).__name__}: {exc}")
            on_done(outcome)
    except KeyboardInterrupt:
        client.cancel(list(futures))
        raise
    finally:
        client.close()


def run_jobs(jobs: Iterable[ReportJob], on_done: Callable[[ReportOutcome], None], *, executor: str = "local",
             workers: int | None = None, scheduler: str | None = None) -> None:
    """Run report jobs on the chosen executor, calling ``on_done`` with each outcome as it finishes."""
    jobs = list(jobs)
    if not jobs:
        return
    if executor == "local":
        _local(jobs, max(1, min(workers or os.cpu_count() or 1, len(jobs))), on_done)
    elif executor == "dask":
        if not scheduler:
            raise ParameterError("The Dask executor needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786).")
        _dask(jobs, scheduler, on_done)
    else:
        raise ParameterError(f"No executor named {executor!r}. Choose one of: {', '.join(EXECUTORS)}.")
