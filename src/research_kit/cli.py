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
    out: Path = typer.Option(Path("reports"), "--out", help="Where the HTML reports and index.html are written."),
    country: Optional[str] = typer.Option(None, "--country", help="Countries as ISO codes, e.g. PY,BO (default: all 17)."),
    language: str = typer.Option("es", "--language", help="Report language: es, en or pt."),
    min_count: int = typer.Option(5, "--min-count", help="Smallest count that may be published (disclosure control)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", help="Reports produced at once (default: number of cores)."),
    private_dir: Optional[Path] = typer.Option(None, "--private-dir", help="Where executed notebooks and logs are kept (default .research_kit/runs)."),
) -> None:
    """Produce the country reports (one HTML page per country) and an index page."""
    from research_kit.batch import run_reports

    def progress(o):
        mark = typer.style("done  ", fg=typer.colors.GREEN) if o.ok else typer.style("FAILED", fg=typer.colors.RED)
        detail = f"{o.seconds:5.1f} s" if o.ok else (o.error or "")
        typer.echo(f"  {mark} {o.country}  {detail}")

    try:
        result = run_reports(country, data_root=data, out_dir=out, language=language, min_count=min_count,
                             jobs=jobs, private_dir=private_dir, on_done=progress)
    except ResearchKitError as exc:
        _fail(exc)
    done = sum(o.ok for o in result.outcomes)
    typer.echo(f"{done} of {len(result.outcomes)} reports written in {result.seconds:.1f} s. Index: {result.index}")
    if not result.ok:
        names = ", ".join(o.country for o in result.failed)
        typer.secho(f"Some reports failed: {names}. Executed notebooks and logs are in the private folder.",
                    fg=typer.colors.RED, err=True)
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
