"""The ``research-kit`` command. It only gathers options and calls the library."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from research_kit.errors import ResearchKitError

app = typer.Typer(
    name="research-kit",
    help=(
        "Tools for community-led research on sex work and HIV: synthetic survey data, "
        "country reports with protected numbers, and more. Run a command with --help to see its options."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(exc: Exception, code: int = 2) -> None:
    typer.secho(f"Error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@app.command()
def synth(
    out: Path = typer.Option(Path("data/synthetic"), "--out", help="Folder to write one study folder per country into."),
    country: Optional[str] = typer.Option(None, "--country", help="Countries as ISO codes, e.g. PY,BO (default: all 17)."),
    seed: int = typer.Option(2026, "--seed", help="Random seed: the same seed gives the same files."),
) -> None:
    """Create synthetic survey data, shaped like KoboToolbox exports, for each country."""
    from research_kit import synth as _synth

    try:
        folders = _synth.generate(out, country, seed=seed)
    except ResearchKitError as exc:
        _fail(exc)
    typer.echo(f"Synthetic data for {len(folders)} countries written to {out}/")


@app.command()
def reports(
    data: Path = typer.Option(Path("data/synthetic"), "--data", help="Folder with one study folder per country."),
    out: Path = typer.Option(Path("reports"), "--out", help="Where the HTML reports, index.html and manifest.json are written."),
    country: Optional[str] = typer.Option(None, "--country", help="Countries as ISO codes, e.g. PY,BO (default: all 17)."),
    language: str = typer.Option("es", "--language", help="Report language: es, en or pt."),
    min_count: int = typer.Option(5, "--min-count", help="Smallest count that may be published (disclosure control)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", help="Reports produced at once (default: number of cores)."),
    force: bool = typer.Option(False, "--force", help="Rebuild every report, even those whose inputs did not change."),
    timeout: float = typer.Option(600, "--timeout", help="Seconds one report may take before it is stopped."),
    executor: str = typer.Option("local", "--executor", help="Where reports run: local (process pool) or dask."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786."),
    private_dir: Optional[Path] = typer.Option(None, "--private-dir", help="Where executed notebooks and logs are kept (default .research_kit/runs)."),
) -> None:
    """Produce the country reports (one HTML page per country), an index page and a run manifest.

    Only reports whose data, form, notebook, parameters or code changed are rebuilt.
    """
    from research_kit.batch import run_reports

    def progress(o):
        if o.ok:
            mark = typer.style("done      ", fg=typer.colors.GREEN) if o.status == "built" else "up to date"
            detail = f"{o.seconds:5.1f} s" if o.status == "built" else ""
        else:
            mark = typer.style("FAILED    ", fg=typer.colors.RED)
            where = f" (cell {o.failed_cell})" if o.failed_cell else ""
            detail = f"{o.error}{where}"
        typer.echo(f"  {mark} {o.country}  {detail}")

    try:
        result = run_reports(country, data_root=data, out_dir=out, language=language, min_count=min_count,
                             jobs=jobs, private_dir=private_dir, on_done=progress, force=force, timeout=timeout,
                             executor=executor, scheduler=scheduler)
    except KeyboardInterrupt:
        typer.secho("Stopped. Finished reports are kept; run the same command again to do the rest.",
                    fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(130)
    except ResearchKitError as exc:
        _fail(exc)
    built, fresh = len(result.built), sum(o.status == "up to date" for o in result.outcomes)
    typer.echo(f"{built} reports built, {fresh} up to date, {len(result.failed)} failed, in {result.seconds:.1f} s. "
               f"Index: {result.index}")
    if not result.ok:
        names = ", ".join(o.country for o in result.failed)
        typer.secho(f"Some reports failed: {names}. Executed notebooks and logs are in the private folder.",
                    fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


@app.command()
def reproduce(
    manifest: Path = typer.Argument(..., help="The manifest.json written beside the reports."),
    data: Optional[Path] = typer.Option(None, "--data", help="Where the study folders are now (default: as recorded)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write the rerun (default: a temporary folder)."),
) -> None:
    """Rerun the reports of a manifest and check, table by table, that the published tables are byte-identical."""
    from research_kit.batch import reproduce as _reproduce

    try:
        result = _reproduce(manifest, data_root=data, out_dir=out)
    except ResearchKitError as exc:
        _fail(exc)
    if result.code_changed:
        typer.secho("Note: research_kit's code differs from the run that wrote the manifest.", fg=typer.colors.YELLOW)
    for t in result.tables:
        color = typer.colors.GREEN if t["status"] == "identical" else typer.colors.RED
        status = typer.style(f"{t['status']:<10}", fg=color)
        typer.echo(f"  {status} {t['country']}/{t['table']}")
    same = sum(t["status"] == "identical" for t in result.tables)
    typer.echo(f"{same} of {len(result.tables)} tables identical. Rerun in {result.out_dir}")
    if not result.identical:
        raise typer.Exit(1)


@app.command()
def countries(language: str = typer.Option("es", "--language", help="Names in es, en or pt.")) -> None:
    """List the network's countries with their codes and sub-regional node."""
    from research_kit.countries import countries as _countries

    try:
        for c in _countries():
            typer.echo(f"{c.alpha_2}  {c.alpha_3}  {c.name(language):<22} {c.node_name(language)}")
    except ResearchKitError as exc:
        _fail(exc)


def main() -> None:
    """Entry point of the ``research-kit`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
