"""Kernels for report notebooks: private IPC sockets, and warm kernels reused from one report to the next.

Starting a kernel and importing research_kit's report code costs seconds, more than most reports
take to compute. A :class:`WarmKernel` is started once per worker process, imports the heavy
modules once, and runs report after report. Between two reports the kernel is put back to the
state it had after start-up (:func:`reset_kernel`): a new, empty namespace with execution counts
from 1, figures closed, plotting settings, working folder, environment, ``sys.path``, warning
filters and global random states restored. Whatever else goes wrong (a failing or timed-out cell,
a dead kernel), the kernel is discarded and the next report gets a new one.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
import uuid
from pathlib import Path

__all__ = ["ipc_kernel_manager_class", "WarmKernel", "reset_kernel", "ENGINE_NAME", "PRELOAD"]

#: Name under which the engine that runs notebooks on a warm kernel is registered with papermill.
ENGINE_NAME = "research_kit_warm"
#: Modules a warm kernel imports before its first report (those missing are skipped).
#: (Not the HTML export: the worker process runs it, and nbformat's schema validation costs the kernel a second.)
PRELOAD = ("research_kit.report.country", "research_kit.regional.inputs", "research_kit.disclosure.publish",
           "matplotlib.pyplot")
#: Kernel options: no history database (parallel kernels would share one SQLite file).
KERNEL_ARGS = ["--HistoryManager.enabled=False"]

#: Longest folder for kernel sockets: its path + "/rk-kernel-XXXXXXXX/<12 hex>-<port>" must stay
#: under the 107 bytes a Unix socket path may have.
_MAX_SOCKET_DIR = 60

_baseline: dict | None = None  # in the kernel: its state after start-up, see remember_baseline()


def ipc_kernel_manager_class(kernel_dir: str | None = None):
    """Kernels that talk over private IPC sockets instead of TCP ports.

    With TCP, each kernel picks "free" ports that another report's kernel, started a moment later
    in a parallel process, may take first ("Address already in use"; the kernel dies). IPC sockets
    live in a folder of their own per kernel, so parallel reports never collide, and nothing listens
    on the network.
    """
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            base = kernel_dir
            # Unix socket paths are limited to 107 bytes: a folder whose socket paths would be
            # longer (a deep working folder) gives way to the system's temporary folder.
            if base and len(str(Path(base).resolve())) > _MAX_SOCKET_DIR:
                base = None
            if base:
                Path(base).mkdir(parents=True, exist_ok=True)
            folder = tempfile.mkdtemp(prefix="rk-kernel-", dir=base)
            kwargs.setdefault("ip", str(Path(folder) / uuid.uuid4().hex[:12]))
            super().__init__(**kwargs)

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart:
                shutil.rmtree(Path(self.ip).parent, ignore_errors=True)

    return IPCKernelManager


# ---- in the kernel ---------------------------------------------------------------------------------------
def remember_baseline(preload: tuple[str, ...] = PRELOAD) -> list[str]:
    """Import the heavy modules and remember the kernel's state (run in the kernel, once, after start-up).

    Returns the modules that could not be imported (a missing optional package is not an error:
    the notebook that needs it will say so).
    """
    import copy
    import importlib
    import random
    import sys
    import warnings

    missing = []
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - preloading is an optimisation only
            missing.append(name)
    state: dict = {"cwd": os.getcwd(), "environ": dict(os.environ), "path": list(sys.path),
                   "warnings": list(warnings.filters), "random": random.getstate()}
    if "numpy" in sys.modules:
        state["numpy_random"] = sys.modules["numpy"].random.get_state()
    if "matplotlib" in sys.modules:
        import io

        import matplotlib
        from matplotlib.figure import Figure

        # Draw once, so that fonts and the PNG writer are loaded before the first report.
        Figure(figsize=(1, 1)).savefig(io.BytesIO(), format="png")
        state["rc"] = copy.deepcopy(dict(matplotlib.rcParams))
    if "pandas" in sys.modules:
        pd = sys.modules["pandas"]
        state["pandas"] = {k: pd.get_option(k) for k in ("display.max_rows", "display.max_columns",
                                                          "display.width", "display.precision",
                                                          "display.float_format")}
    global _baseline
    _baseline = state
    # What is loaded now lives as long as the kernel: out of the collector's sight, the full
    # collection between reports walks only what a report left behind (0.15 s → 0.01 s).
    import gc

    gc.collect()
    gc.freeze()
    return missing


def reset_kernel() -> None:
    """Put the kernel back to its state after :func:`remember_baseline` (run in the kernel between reports)."""
    import random
    import sys
    import warnings

    from IPython import get_ipython

    state = _baseline or {}
    if "warnings" in state:
        warnings.filters[:] = state["warnings"]  # first: a report may have turned warnings into errors
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    if "rc" in state:
        import matplotlib

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            matplotlib.rcParams.clear()
            matplotlib.rcParams.update(state["rc"])
    if "pandas" in state:
        pd = sys.modules["pandas"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for k, v in state["pandas"].items():
                pd.set_option(k, v)
    ip = get_ipython()
    if ip is not None:
        ip.reset(new_session=True)  # empty namespace, no output history, execution counts from 1
    if "cwd" in state:
        os.chdir(state["cwd"])
        os.environ.clear()
        os.environ.update(state["environ"])
        sys.path[:] = state["path"]
        random.setstate(state["random"])
    if "numpy_random" in state:
        sys.modules["numpy"].random.set_state(state["numpy_random"])
    import gc

    gc.collect()


# ---- in the worker ---------------------------------------------------------------------------------------
class WarmKernel:
    """One kernel, started once and reused for report after report in one worker process.

    Parameters
    ----------
    kernel_dir : str, optional
        Folder for the kernel's IPC sockets.
    start_timeout : float
        Seconds the kernel may take to start and import the heavy modules.
    preload : tuple of str, optional
        Modules to import at start (default :data:`PRELOAD`).
    """

    def __init__(self, kernel_dir: str | None = None, *, start_timeout: float = 120,
                 preload: tuple[str, ...] | None = None):
        self.kernel_dir = kernel_dir
        self.preload = tuple(preload) if preload is not None else PRELOAD
        self.start_timeout = start_timeout
        self.km = None
        self._client = None
        self.fresh = False  # True while no report has run since the last start or reset

    @property
    def pid(self) -> int | None:
        """Process id of the running kernel, or None."""
        try:
            return self.km.provisioner.process.pid if self.km is not None else None
        except AttributeError:
            return None

    def ensure(self) -> None:
        """Have a clean kernel ready: start one if needed, or reset the one that ran the last report."""
        if self.km is not None and not self._alive():
            self.discard()
        if self.km is None:
            self._start()
        elif not self.fresh:
            try:
                self._run("from research_kit.batch.kernels import reset_kernel as __rk_reset\n__rk_reset()",
                          timeout=60)
            except Exception:  # noqa: BLE001 - a kernel that cannot be reset is replaced
                self.discard()
                self._start()
        self.fresh = True

    def used(self) -> None:
        """Mark the kernel as having run a report (it is reset before the next one)."""
        self.fresh = False

    def _alive(self) -> bool:
        from jupyter_core.utils import run_sync

        try:
            return bool(run_sync(self.km.is_alive)())
        except Exception:  # noqa: BLE001
            return False

    def _start(self) -> None:
        from jupyter_core.utils import run_sync

        km = ipc_kernel_manager_class(self.kernel_dir)(kernel_name="python3")
        self.km = km  # set first, so that a kernel that fails half-way is still stopped
        try:
            run_sync(km.start_kernel)(extra_arguments=list(KERNEL_ARGS))
            client = km.blocking_client()
            client.start_channels()
            self._client = client
            client.wait_for_ready(timeout=self.start_timeout)
            self._run("from research_kit.batch.kernels import remember_baseline as __rk_baseline\n"
                      f"__rk_baseline({self.preload!r})\ndel __rk_baseline", timeout=self.start_timeout)
            self._run("get_ipython().reset(new_session=True)", timeout=60)
        except Exception:
            self.discard()
            raise

    def _run(self, code: str, *, timeout: float) -> None:
        reply = self._client.execute_interactive(code, silent=True, store_history=False, timeout=timeout,
                                                 output_hook=lambda _msg: None)
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise RuntimeError(f"{content.get('ename', 'error')}: {content.get('evalue', '')}")

    def discard(self) -> None:
        """Stop the kernel at once (after a failure or a timeout, or at the end)."""
        from jupyter_core.utils import run_sync

        km, client, pid = self.km, self._client, self.pid
        self.km = self._client = None
        self.fresh = False
        if client is not None:
            try:
                client.stop_channels()
            except Exception:  # noqa: BLE001
                pass
        if km is not None:
            try:
                run_sync(km.shutdown_kernel)(now=True)
            except Exception:  # noqa: BLE001 - make sure it is gone
                if pid:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            # Close the manager's ZeroMQ context now. Left to the garbage collector, a context
            # found in a reference cycle with its sockets cannot close them first (their weak
            # references are already cleared) and zmq_ctx_term blocks the process for ever.
            for owner in (client, km):
                try:
                    if owner is not None:
                        owner.context.destroy(linger=0)
                except Exception:  # noqa: BLE001
                    pass

    close = discard


#: Seconds between the intermediate saves of a notebook being run (the final save always happens).
_SAVE_EVERY = 5.0


def _register_engine() -> None:
    """Register the papermill engine that runs a notebook on an already running kernel."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class WarmEngine(NBClientEngine):
        """papermill's nbclient engine, on the kernel given as ``km``; its client is closed afterwards."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
            kwargs = remove_args(["input_path"], **kwargs)
            safe = remove_args(["timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(safe, timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                                 startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
                                 log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file)
            client = PapermillNotebookClient(nb_man, **final)
            # papermill writes the whole notebook (validated against its schema) as each cell starts
            # and ends; the worker keeps one write every few seconds, and the full save papermill
            # makes at the end, on success or failure, once the original is back in place.
            save, last = nb_man.save, [time.monotonic()]

            def sparse_save(**kw):
                if time.monotonic() - last[0] >= _SAVE_EVERY:
                    last[0] = time.monotonic()
                    save(**kw)

            nb_man.save = sparse_save
            try:
                return client.execute()
            finally:
                nb_man.save = save
                if client.kc is not None:
                    client.kc.stop_channels()

    papermill_engines.register(ENGINE_NAME, WarmEngine)
