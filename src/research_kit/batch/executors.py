"""Where report jobs run: local worker processes (the default) or a Dask distributed cluster.

Both take the same :class:`~research_kit.batch.jobs.ReportJob` objects and report each
:class:`~research_kit.batch.jobs.ReportOutcome` as it finishes. A Dask cluster's workers need
research_kit installed and the same paths (data, notebooks, output) on a shared file system.

Local workers live for the whole batch: each starts one kernel, imports the report code in it
once (while the batch is still preparing its inputs) and runs report after report on it
(:class:`~research_kit.batch.kernels.WarmKernel`). A worker whose report overruns its time, or
dies, is stopped with its kernel and replaced; Ctrl-C stops them all at once.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from multiprocessing.connection import wait as wait_for
from typing import Callable, Iterable

from research_kit.batch.jobs import ReportJob, ReportOutcome, execute_job
from research_kit.errors import ParameterError, ReportError

__all__ = ["EXECUTORS", "run_jobs", "LocalPool"]

EXECUTORS = ("local", "dask")
#: Seconds a worker gets beyond its report's timeout (the kernel's own cell timeout comes first).
_GRACE = 30.0


def _skip_iri_grammars() -> None:
    """Keep jsonschema from compiling its optional IRI grammars in this (worker) process.

    Importing nbformat imports jsonschema, which, when the optional ``rfc3987_syntax`` package is installed
    (Jupyter pulls it in), builds 38 parser grammars for its "iri" format checks: about a second per process.
    Notebook validation never checks formats (nbformat's schemas have none and it passes no format checker),
    so worker processes go without them. Only the batch's own processes call this, never a user's.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # None in sys.modules: "import" raises ImportError


def preload_worker_modules() -> None:
    """What every worker needs, imported once in the process the workers are forked from."""
    _skip_iri_grammars()
    import nbformat  # noqa: F401
    import papermill  # noqa: F401

    import research_kit.report.html  # noqa: F401


def _worker(tasks, results, kernel_dir: str | None, warm: bool, preload: tuple[str, ...] | None = None,
            env: dict | None = None) -> None:
    """A worker process: take jobs from ``tasks`` until told to stop, send outcomes to ``results``."""
    # Ctrl-C is the parent's to handle: it stops the workers itself, so none is left half-way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _skip_iri_grammars()  # started without the fork server (spawn): the same saving
    os.environ.update(env or {})  # e.g. where parsed forms are cached; the kernels inherit it
    kernel = None
    if warm:
        from research_kit.batch.kernels import WarmKernel

        kernel = WarmKernel(kernel_dir, preload=preload)
        try:
            kernel.ensure()  # start and preload now, while the parent prepares the batch's inputs
        except Exception:  # noqa: BLE001 - the first job tries again and reports the error
            kernel.discard()
        results.send(("kernel", kernel.pid))
    _warm_up_worker(kernel_dir)
    try:
        while True:
            try:
                job = tasks.recv()
            except EOFError:
                break
            if job is None:
                break
            results.send(("done", execute_job(job, kernel)))
            if kernel is not None:
                # Reset (or restart) the kernel now, while the parent files the report and picks the
                # next one; the parent learns which kernel to stop should the next report overrun.
                try:
                    kernel.ensure()
                except Exception:  # noqa: BLE001 - execute_job tries again and reports the error
                    kernel.discard()
                results.send(("kernel", kernel.pid))
    finally:
        if kernel is not None:
            kernel.discard()


def _warm_up_worker(scratch: str | None) -> None:
    """Import what running and exporting a notebook needs, and load the HTML templates once."""
    import tempfile

    try:
        import nbformat
        import papermill  # noqa: F401

        from research_kit.report.html import notebook_to_html

        with tempfile.TemporaryDirectory(dir=scratch) as tmp:
            notebook_to_html(nbformat.v4.new_notebook(), Path(tmp) / "warm.html")
    except Exception:  # noqa: BLE001 - an optimisation only: the first report does the same and reports errors
        pass


def _process_context():
    """Workers start from a clean server process, never as forks of the caller.

    The caller may hold Jupyter kernel sockets (a JupyterLab kernel, a notebook run in-process): a
    forked child inherits their ZeroMQ contexts, and when its garbage collector finalises one the
    child blocks for ever in ``zmq_ctx_term``. A fork server imports research_kit's batch code, papermill
    and nbconvert once, and each worker is forked from it, so starting workers stays cheap.
    """
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["research_kit.batch.worker_preload"])
        return ctx
    return mp.get_context("spawn")


@dataclass
class _Slot:
    proc: mp.Process
    tasks: object  # sending end of the worker's job pipe
    results: object  # receiving end of the worker's result pipe
    job: ReportJob | None = None
    started: float = 0.0
    kernel_pid: int | None = None


class LocalPool:
    """Worker processes that keep a warm kernel each and run report jobs on it.

    Parameters
    ----------
    workers : int
        Processes (reports run at once).
    kernel_dir : str, optional
        Folder for the kernels' IPC sockets.
    warm : bool
        Reuse one kernel per worker (default); ``False`` gives every report a new kernel.
    preload : tuple of str, optional
        Modules each warm kernel imports before its first report (default: the country report's).
    env : dict, optional
        Environment variables for the workers and their kernels.

    The pool starts its workers as soon as it is created, so their kernels start while the
    caller does other work; :meth:`run` then hands out the jobs.
    """

    def __init__(self, workers: int, kernel_dir: str | None = None, *, warm: bool = True,
                 preload: tuple[str, ...] | None = None, env: dict | None = None):
        self.ctx = _process_context()
        self.kernel_dir, self.warm, self.preload, self.env = kernel_dir, warm, preload, dict(env or {})
        self.slots: list[_Slot] = [self._spawn() for _ in range(max(1, workers))]

    def _spawn(self) -> _Slot:
        task_r, task_w = self.ctx.Pipe(duplex=False)
        res_r, res_w = self.ctx.Pipe(duplex=False)
        proc = self.ctx.Process(target=_worker, args=(task_r, res_w, self.kernel_dir, self.warm, self.preload, self.env),
                                name="research-kit-report-worker", daemon=True)
        proc.start()
        task_r.close()
        res_w.close()
        return _Slot(proc, task_w, res_r)

    def _stop(self, slot: _Slot) -> None:
        """Stop a worker and its kernel at once."""
        if slot.proc.is_alive():
            slot.proc.terminate()
        slot.proc.join(5)
        if slot.proc.is_alive():
            slot.proc.kill()
            slot.proc.join(5)
        if slot.kernel_pid:
            try:
                os.kill(slot.kernel_pid, signal.SIGKILL)
            except OSError:
                pass
        for conn in (slot.tasks, slot.results):
            try:
                conn.close()
            except OSError:
                pass

    def _hand_out(self, pending: list) -> int:
        """Send the next pending jobs to idle workers (replacing a worker whose pipe is broken); how many went."""
        sent = 0
        for i, slot in enumerate(self.slots):
            if slot.job is None and pending and slot.proc.is_alive():
                job = pending.pop(0)
                try:
                    slot.tasks.send(job)
                except OSError:
                    pending.insert(0, job)
                    self._stop(slot)
                    self.slots[i] = self._spawn()
                    continue
                slot.job, slot.started = job, time.monotonic()
                sent += 1
        return sent

    def run(self, jobs: Iterable[ReportJob], on_done: Callable[[ReportOutcome], None]) -> None:
        """Run ``jobs`` (in the order given), calling ``on_done`` with each outcome as it finishes."""
        pending = list(jobs)
        busy = 0
        while pending or busy:
            busy += self._hand_out(pending)
            ready = wait_for([s.results for s in self.slots], timeout=0.5)
            done = []
            for slot in self.slots:
                if slot.results not in ready:
                    continue
                try:
                    kind, value = slot.results.recv()
                except (EOFError, OSError):
                    continue  # a dead worker: handled below
                if kind == "kernel":
                    slot.kernel_pid = value
                elif kind == "done" and slot.job is not None:
                    slot.job = None
                    busy -= 1
                    done.append(value)
            if done:  # hand out the next reports before filing the finished ones: workers do not wait on it
                busy += self._hand_out(pending)
            for outcome in done:
                on_done(outcome)
            now = time.monotonic()
            for i, slot in enumerate(self.slots):
                job = slot.job
                alive = slot.proc.is_alive()
                overdue = job is not None and job.timeout is not None and now - slot.started > job.timeout + _GRACE
                if job is None and alive:
                    continue
                if job is None and not (pending or busy):
                    continue
                if job is not None and alive and not overdue:
                    continue
                exitcode = slot.proc.exitcode
                self._stop(slot)
                self.slots[i] = self._spawn()
                if job is not None:
                    busy -= 1
                    why = (f"the report did not finish within {job.timeout:g} s" if overdue
                           else f"the worker process stopped unexpectedly (exit code {exitcode})")
                    on_done(ReportOutcome(job.key, False, status="failed", error=why, seconds=now - slot.started))

    def close(self, *, now: bool = False) -> None:
        """Stop the workers: let them shut their kernels down (or at once, ``now=True``, e.g. after Ctrl-C)."""
        if not now:
            for slot in self.slots:
                try:
                    slot.tasks.send(None)
                except OSError:
                    pass
            deadline = time.monotonic() + 10
            for slot in self.slots:
                slot.proc.join(max(0.1, deadline - time.monotonic()))
        for slot in self.slots:
            self._stop(slot)
        self.slots = []

    def __enter__(self) -> "LocalPool":
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        self.close(now=exc_type is not None)


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
    futures: dict = {}
    try:
        futures = {client.submit(execute_job, job, key=f"report-{job.key}-{job.fingerprint[:12]}", pure=False): job
                   for job in jobs}
        for fut in dask_completed(list(futures), loop=client.loop):
            job = futures[fut]
            try:
                outcome = fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker is one failed report
                outcome = ReportOutcome(job.key, False, status="failed", error=f"{type(exc).__name__}: {exc}")
            on_done(outcome)
    except KeyboardInterrupt:
        client.cancel(list(futures))
        raise
    finally:
        client.close()


def check_executor(executor: str, scheduler: str | None) -> None:
    """Raise a clear error for an unknown executor or a Dask executor without a scheduler address."""
    if executor not in EXECUTORS:
        raise ParameterError(f"No executor named {executor!r}. Choose one of: {', '.join(EXECUTORS)}.")
    if executor == "dask" and not scheduler:
        raise ParameterError("The Dask executor needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786).")


def run_jobs(jobs: Iterable[ReportJob], on_done: Callable[[ReportOutcome], None], *, executor: str = "local",
             workers: int | None = None, scheduler: str | None = None, pool: LocalPool | None = None,
             warm: bool = True) -> None:
    """Run report jobs on the chosen executor, calling ``on_done`` with each outcome as it finishes.

    Parameters
    ----------
    pool : LocalPool, optional
        Workers already started (local executor); they are used and left open for the caller to close.
    warm : bool
        Local executor: reuse one kernel per worker process.
    """
    jobs = list(jobs)
    check_executor(executor, scheduler)
    if not jobs:
        return
    if executor == "local":
        if pool is not None:
            pool.run(jobs, on_done)
            return
        kernel_dir = jobs[0].kernel_dir
        with LocalPool(max(1, min(workers or os.cpu_count() or 1, len(jobs))), kernel_dir, warm=warm) as own:
            own.run(jobs, on_done)
    else:
        _dask(jobs, scheduler, on_done)
