"""The ``research-kit`` command. It only gathers options and calls the library."""

from __future__ import annotations

import os
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
        if country is None:  # the whole network: also the organisations' capacity assessments
            from research_kit.synth.capacity import generate_capacity

            generate_capacity(out, seed=seed)
    except ResearchKitError as exc:
        _fail(exc)
    typer.echo(f"Synthetic data for {len(folders)} countries written to {out}/")


@app.command()
def reports(
    data: Path = typer.Option(Path("data/synthetic"), "--data", "--data-root", help="Folder with one study folder per country."),
    out: Path = typer.Option(Path("reports"), "--out", "--output", "-o", help="Where the reports, index.html, suppression.json and manifest.json are written."),
    country: Optional[str] = typer.Option(None, "--country", "--countries", help="Countries as ISO codes, e.g. PY,BO (default: all 17)."),
    language: str = typer.Option("es", "--language", "--lang", "-l", help="Report language: es, en or pt."),
    min_count: int = typer.Option(5, "--min-count", help="Smallest count that may be published (disclosure control)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", help="Reports produced at once (default: number of cores)."),
    force: bool = typer.Option(False, "--force", help="Rebuild every report, even those whose inputs did not change."),
    timeout: float = typer.Option(600, "--timeout", help="Seconds one report may take before it is stopped."),
    executor: str = typer.Option("local", "--executor", help="Where reports run: local (worker processes) or dask."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786."),
    private_dir: Optional[Path] = typer.Option(None, "--private-dir", help="Where executed notebooks, logs and the batch's shared inputs are kept (default .research_kit/runs)."),
    kind: str = typer.Option("community", "--kind", help="community: the country reports and the regional report; regional: the regional report only; capacity: capacity assessment reports per organisation, node and region (in OUT/capacity)."),
    no_regional: bool = typer.Option(False, "--no-regional", help="Produce the country reports only, not the regional report."),
    population_sizes: Optional[Path] = typer.Option(None, "--population-sizes", help="CSV with each country's estimated population size, for the pooled regional estimates (default: DATA/population_sizes.csv)."),
    no_pdf: bool = typer.Option(False, "--no-pdf", help="Do not print report.pdf beside each report (PDFs need Chromium)."),
) -> None:
    """Produce the country reports and the regional report (HTML and PDF), an index page and a run manifest.

    Every count table of the batch is protected together, so no difference between reports recovers a
    hidden cell; the audit of everything published runs at the end. Only reports whose inputs changed are rebuilt.
    """
    from research_kit.batch import run_reports

    if kind == "capacity":
        _capacity_reports(data, out, language, min_count, private_dir, timeout, jobs=jobs, force=force,
                          pdf=not no_pdf)
        return
    if kind not in ("community", "regional"):
        _fail(ResearchKitError(f"No report kind {kind!r}. Choose community, regional or capacity."))

    def progress(o):
        if o.ok:
            mark = {"built": typer.style("done      ", fg=typer.colors.GREEN),
                    "skipped": typer.style("skipped   ", fg=typer.colors.YELLOW)}.get(o.status, "up to date")
            detail = f"{o.seconds:5.1f} s" if o.status == "built" else (o.error or "")
        else:
            mark = typer.style("FAILED    ", fg=typer.colors.RED)
            where = f" (cell {o.failed_cell})" if o.failed_cell else ""
            detail = f"{o.error}{where}"
        typer.echo(f"  {mark} {o.country}  {detail}")

    try:
        result = run_reports(country, data_root=data, out_dir=out, language=language, min_count=min_count,
                             jobs=jobs, private_dir=private_dir, on_done=progress, force=force, timeout=timeout,
                             executor=executor, scheduler=scheduler, regional=not no_regional,
                             country_reports=kind != "regional", population_sizes=population_sizes,
                             pdf=not no_pdf)
    except KeyboardInterrupt:
        typer.secho("Stopped. Finished reports are kept; run the same command again to do the rest.",
                    fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(130)
    except ResearchKitError as exc:
        _fail(exc)
    if result.inputs_error:
        typer.secho(f"The batch's shared inputs could not be computed ({result.inputs_error}); the country reports "
                    "protected their tables one by one.", fg=typer.colors.YELLOW, err=True)
    built, fresh = len(result.built), sum(o.status == "up to date" for o in result.reports)
    typer.echo(f"{built} reports built, {fresh} up to date, {len(result.failed)} failed, in {result.seconds:.1f} s. "
               f"Index: {result.index}")
    if result.audit is not None:
        color = typer.colors.GREEN if result.audit_ok else typer.colors.RED
        typer.secho(result.audit.get("summary", ""), fg=color, err=not result.audit_ok)
    if not result.ok:
        names = ", ".join(o.country for o in result.failed)
        if names:
            typer.secho(f"Some reports failed: {names}. Executed notebooks and logs are in the private folder.",
                        fg=typer.colors.RED, err=True)
        if not result.audit_ok:
            typer.secho("The audit found published cells that can be recovered: do not publish this folder. "
                        f"Details: research-kit audit {out} --json audit.json", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


def _capacity_reports(data: Path, out: Path, language: str, min_count: int, private_dir, timeout: float, *,
                      jobs: Optional[int] = None, force: bool = False, pdf: bool = True) -> None:
    from research_kit.capacity.reports import run_capacity_reports

    folder = data / "capacity"
    if not folder.is_dir():
        _fail(ResearchKitError(f"No capacity assessment data in {folder}. Run 'research-kit synth' to create synthetic data."))

    def progress(r):
        mark = typer.style("done  ", fg=typer.colors.GREEN) if r.ok else typer.style("FAILED", fg=typer.colors.RED)
        detail = f"{r.seconds:5.1f} s" if r.ok and r.seconds else ("up to date" if r.ok else r.error)
        typer.echo(f"  {mark} {r.kind} {r.code} {detail}")

    try:
        results = run_capacity_reports(data_path=folder, output_dir=out / "capacity", language=language,
                                       min_count=min_count, private_dir=private_dir, timeout=timeout, on_done=progress,
                                       jobs=jobs, force=force, pdf=pdf)
    except ResearchKitError as exc:
        _fail(exc)
    failed = [r for r in results if not r.ok]
    typer.echo(f"{len(results) - len(failed)} of {len(results)} capacity reports written to {out / 'capacity'}")
    if failed:
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


@app.command()
def lab(
    port: int = typer.Option(8888, "--port", help="Port for JupyterLab on this computer."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open a browser window."),
) -> None:
    """Open JupyterLab on the kit's notebooks; start with explore.ipynb to walk through your data."""
    import subprocess

    from research_kit.batch import notebook_path

    folder = notebook_path("explore").parent
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={folder}", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--LabApp.default_url=/lab/tree/explore.ipynb"]
    if no_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI machines often run as root
    typer.echo(f"Opening JupyterLab on {folder} (stop it with Ctrl-C)")
    raise typer.Exit(subprocess.call(cmd))


@app.command("validate")
def validate_cmd(
    exports: list[Path] = typer.Argument(..., help="The export file(s) of one study: KoboToolbox CSV or XLSX, "
                                                   "ODK Central CSV or ZIP. Several files (waves, sites) are combined."),
    form: str = typer.Option(..., "--form", help="The form: a bundled name (community_survey) or the XLSForm's path."),
    out: Path = typer.Option(..., "--out", help="Folder for accepted.csv, quarantine.csv, errors.csv and summary.html."),
    language: str = typer.Option("es", "--language", help="Language of the messages: es, en or pt."),
    key: Optional[Path] = typer.Option(None, "--key", help="Pseudonym key file (default: ~/.config/research_kit/"
                                                           "project.key, or $RESEARCH_KIT_KEY_FILE; created on first use)."),
    rename: Optional[list[str]] = typer.Option(None, "--rename", help="OLD=NEW: a question renamed between form "
                                                                      "versions (repeat the option for several)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Date after which answers count as 'in the future' "
                                                              "(YYYY-MM-DD; default: now)."),
) -> None:
    """Check exports against their form: accepted rows, a quarantine and an error table (exit 0: all accepted,
    1: some rows quarantined, 2: a file could not be read)."""
    import logging

    import pandas as pd

    from research_kit.ingest import validate_export

    renames = {}
    for item in rename or []:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            _fail(ResearchKitError(f"--rename takes OLD=NEW (e.g. demographics/edad=age). Got {item!r} instead."))
        renames[old.strip()] = new.strip()
    try:
        now = pd.Timestamp(as_of) if as_of else None
    except ValueError:
        _fail(ResearchKitError(f"--as-of takes a date as YYYY-MM-DD. Got {as_of!r} instead."))
    protect_log = logging.getLogger("research_kit.ingest.protect")
    level = protect_log.level
    protect_log.setLevel(logging.ERROR)  # the command says it itself, below
    try:
        outcome = validate_export(exports, form, out_dir=out, language=language, key=key if key else True,
                                  renames=renames, now=now)
    except ResearchKitError as exc:
        _fail(exc)
    finally:
        protect_log.setLevel(level)
    if outcome.key_created:
        typer.secho(f"Created a new pseudonym key at {outcome.key_path}. Keep a copy in a safe place, outside the data "
                    "folders: later waves need the same key to link respondents.", fg=typer.colors.YELLOW, err=True)
    for level_name, result in outcome.results.items():
        n_err = int((result.errors["severity"] == "error").sum())
        n_warn = int((result.errors["severity"] == "warning").sum())
        typer.echo(f"{level_name}: {result.rows_in} rows read, {len(result.accepted)} accepted, "
                   f"{len(result.quarantine)} quarantined ({n_err} errors, {n_warn} warnings)")
    typer.echo(f"Written to {out}/: " + ", ".join(p.name for p in outcome.written))
    raise typer.Exit(outcome.exit_code)


@app.command("codebook")
def codebook_cmd(
    form: str = typer.Argument(..., help="The form: a bundled name (community_survey) or the XLSForm's path."),
    out: Path = typer.Option(Path("codebooks"), "--out", help="Folder to write the HTML and XLSX codebooks into."),
    language: Optional[str] = typer.Option(None, "--language", help="es, en or pt (default: all three)."),
) -> None:
    """Write the form's codebook (questions, types, codes and labels, skip logic in plain words) as HTML and XLSX."""
    from research_kit.forms.codebook import LANGUAGES, write_codebook

    try:
        written = write_codebook(form, out, languages=[language] if language else list(LANGUAGES))
    except ResearchKitError as exc:
        _fail(exc)
    typer.echo(f"Codebook written to {out}/: " + ", ".join(p.name for p in written))


@app.command("audit")
def audit_cmd(
    folder: Path = typer.Argument(..., help="A report folder or a whole batch (e.g. reports/): every tables/<id>.csv + .json below it."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the full audit (every suppressed cell's interval) as JSON."),
) -> None:
    """Audit every published table below FOLDER together, as an attacker would: exit 0 when nothing
    is recoverable, 1 when a suppressed cell can be recovered or narrowed, 2 when the files cannot be read."""
    import json as _json

    from research_kit.disclosure import audit_published

    try:
        result = audit_published(folder)
    except ResearchKitError as exc:
        _fail(exc)
    if json_out is not None:
        json_out.write_text(_json.dumps(result.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    typer.echo(result.summary())
    raise typer.Exit(0 if result.ok else 1)


def main() -> None:
    """Entry point of the ``research-kit`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
