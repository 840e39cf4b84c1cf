"""The batch runner: papermill executes the country-report notebook once per country.

* Parallel: one process per report, as many at once as there are cores (``jobs``).
* Isolated: a country that fails is reported with its error; the others finish, and the
  result says something failed (the CLI exits non-zero).
* Private by default: executed notebooks go to a private folder (they are working files),
  only the HTML reports go to the output folder.
* Atomic: a report's ``index.html`` appears only when complete; a failed country leaves
  no page behind that looks done.
"""

from __future__ import annotations

import html
import json
import os
import sys
import time
import traceback
from contextlib import contextmanager
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

from research_kit.countries import NODES, Country, countries, node_name, parse_countries
from research_kit.errors import DataFileError, ReportError
from research_kit.i18n import translator
from research_kit.report.country import check_parameters

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
class ReportOutcome:
    """What happened to one country's report."""

    country: str
    ok: bool
    html: str | None = None
    executed: str | None = None
    seconds: float = 0.0
    error: str | None = None
    failed_cell: int | None = None


@dataclass
class BatchResult:
    """All outcomes of a batch, in the order the countries were given."""

    outcomes: list[ReportOutcome] = field(default_factory=list)
    index: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    @property
    def failed(self) -> list[ReportOutcome]:
        return [o for o in self.outcomes if not o.ok]

    def to_dict(self) -> dict:
        return {"ok": self.ok, "seconds": self.seconds, "index": self.index, "outcomes": [asdict(o) for o in self.outcomes]}


def _run_one(alpha_3: str, notebook: str, data_root: str, out_dir: str, private_dir: str, language: str,
             min_count: int, timeout: int | None) -> ReportOutcome:
    """Execute one country's notebook and export its HTML (runs in a worker process)."""
    import papermill as pm

    from research_kit.countries import get_country
    from research_kit.report.html import notebook_to_html

    t0 = time.perf_counter()
    c = get_country(alpha_3)
    executed = Path(private_dir) / f"{c.alpha_3}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    log = executed.with_suffix(".log")
    page = Path(out_dir) / c.alpha_3 / "index.html"
    with _stderr_to(log):  # the kernel's own chatter goes to the country's log, not the terminal
        try:
            pm.execute_notebook(
                notebook, str(executed),
                parameters={"country": c.alpha_3, "data_root": data_root, "language": language,
                            "min_count": min_count, "output_dir": out_dir},
                kernel_name="python3", progress_bar=False, log_output=False, execution_timeout=timeout,
                kernel_manager_class=_kernel_manager_class(),
            )
            title = f"{c.name(language)} · research_kit"
            notebook_to_html(executed, page, language=language, title=title)
            return ReportOutcome(c.alpha_3, True, html=str(page), executed=str(executed), seconds=time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001 - one country's failure must never stop the batch
            if page.exists():
                page.unlink()  # an old page would look like this run's result
            cell = getattr(exc, "exec_count", None)
            message = f"{getattr(exc, 'ename', type(exc).__name__)}: {getattr(exc, 'evalue', str(exc))}".strip()
            traceback.print_exc()
            return ReportOutcome(c.alpha_3, False, executed=str(executed) if executed.exists() else None,
                                 seconds=time.perf_counter() - t0, error=message.splitlines()[0][:500], failed_cell=cell)


def _kernel_manager_class():
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
            kwargs.setdefault("ip", str(Path(tempfile.mkdtemp(prefix="rk-kernel-")) / uuid.uuid4().hex[:12]))
            super().__init__(**kwargs)

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart:
                import shutil

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


def run_reports(countries: str | Iterable[str] | None = None, *, data_root: str | Path = "data/synthetic",
                out_dir: str | Path = "reports", language: str = "es", min_count: int = 5, jobs: int | None = None,
                private_dir: str | Path | None = None, notebook: str | Path | None = None,
                timeout: int | None = 600, on_done: Callable[[ReportOutcome], None] | None = None) -> BatchResult:
    """Produce the country reports and the index page.

    Parameters
    ----------
    countries : str or list, optional
        ISO codes (``"PY,BO"``, ``["pry", "bol"]``); all 17 by default.
    data_root : path
        Folder with one study folder per country.
    out_dir : path
        Where ``<ISO3>/index.html`` and ``index.html`` are written.
    language : str
        ``es``, ``en`` or ``pt``.
    min_count : int
        Disclosure threshold: smallest count that may be published.
    jobs : int, optional
        Reports run at once (default: the number of cores).
    private_dir : path, optional
        Where executed notebooks and logs go (default ``.research_kit/runs``).
    notebook : path, optional
        The notebook to run (default: the bundled ``country_report.ipynb``).
    timeout : int, optional
        Seconds a notebook cell may run.
    on_done : callable, optional
        Called with each :class:`ReportOutcome` as it finishes (progress display).

    Raises
    ------
    CountryError, ParameterError, DataFileError
        Before anything runs, if a country code, the language or the threshold is invalid, or the
        data folder does not exist.
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
    nb = str(Path(notebook).resolve() if notebook else notebook_path())
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(selected)))
    t0 = time.perf_counter()
    outcomes: dict[str, ReportOutcome] = {}
    args = (nb, str(data_root), str(out_dir), str(private), language, min_count, timeout)
    if jobs == 1:
        for c in selected:
            outcomes[c.alpha_3] = o = _run_one(c.alpha_3, *args)
            if on_done:
                on_done(o)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_run_one, c.alpha_3, *args): c for c in selected}
            for fut in as_completed(futures):
                c = futures[fut]
                try:
                    o = fut.result()
                except Exception as exc:  # noqa: BLE001 - a crashed worker is one failed country
                    o = ReportOutcome(c.alpha_3, False, error=f"{type(exc).__name__}: {exc}")
                outcomes[c.alpha_3] = o
                if on_done:
                    on_done(o)
    result = BatchResult([outcomes[c.alpha_3] for c in selected], seconds=time.perf_counter() - t0)
    result.index = str(write_index(out_dir, language))
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
