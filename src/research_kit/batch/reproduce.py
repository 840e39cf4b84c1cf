"""Rerun a batch from its manifest and compare the published tables byte for byte.

An academic partner gets the reports folder (with ``manifest.json``) and the same data files.
:func:`reproduce` first checks that every input file is the one the manifest names (a changed
file is reported with both hashes), reruns the reports with the recorded parameters into a
fresh folder, and compares, table by table, the SHA-256 of every published table.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from research_kit.batch.provenance import code_fingerprint, sha256_file, table_hashes
from research_kit.errors import DataFileError

__all__ = ["ReproduceResult", "reproduce", "InputChangedError"]


class InputChangedError(DataFileError):
    """An input file differs from the one the manifest records."""


@dataclass
class ReproduceResult:
    """Table-by-table comparison of a rerun with the manifest."""

    tables: list[dict] = field(default_factory=list)  # country, table, expected, actual, status
    out_dir: str | None = None
    code_changed: bool = False

    @property
    def identical(self) -> bool:
        return bool(self.tables) and all(t["status"] == "identical" for t in self.tables)


def _entries(manifest: dict) -> dict[str, dict]:
    """Every report of a manifest by key: the countries, then ``regional`` if the batch made it."""
    entries = dict(manifest.get("reports", {}))
    if manifest.get("regional") and manifest["regional"].get("status") != "skipped":
        entries["regional"] = manifest["regional"]
    return entries


def _resolve_inputs(manifest: dict, data_root: Path, surveys: Path) -> list[tuple[str, Path, str]]:
    pop = ((manifest.get("batch_inputs") or {}).get("population_sizes") or {}).get("path")
    out = []
    for key, rep in _entries(manifest).items():
        for rel, expected in rep.get("inputs", {}).items():
            if rel.startswith("surveys/"):
                path = surveys / Path(rel).name
            elif pop and Path(pop).name == rel and not (data_root / rel).is_file():
                path = Path(pop)
            else:
                path = data_root / rel
            out.append((key, path, expected))
    return out


def reproduce(manifest_path: str | Path, *, data_root: str | Path | None = None, out_dir: str | Path | None = None,
              jobs: int | None = None) -> ReproduceResult:
    """Rerun the reports a manifest describes and compare their published tables.

    Parameters
    ----------
    manifest_path : path
        A ``manifest.json`` written by :func:`research_kit.batch.run_reports`.
    data_root : path, optional
        Where the study folders are now (default: the folder the manifest records).
    out_dir : path, optional
        Where to write the rerun (default: a new temporary folder).
    jobs : int, optional
        Reports run at once.

    Raises
    ------
    InputChangedError
        If an input file is missing or differs from the manifest; the message names every such
        file with the recorded and the current SHA-256.
    """
    from research_kit.batch.runner import run_reports
    from research_kit.forms import surveys_dir

    manifest_path = Path(manifest_path)
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError(f"Cannot read the manifest {manifest_path}: {exc}") from None
    params = manifest["parameters"]
    root = Path(data_root or params["data_root"])
    problems = []
    for iso3, path, expected in _resolve_inputs(manifest, root, surveys_dir()):
        if not path.is_file():
            problems.append(f"{iso3}: {path} is missing (manifest SHA-256 {expected[:16]}…)")
            continue
        actual = sha256_file(path)
        if actual != expected:
            problems.append(f"{iso3}: {path} changed: manifest SHA-256 {expected}, now {actual}")
    notebook = Path(manifest["notebook"]["path"])
    if not notebook.is_file() or sha256_file(notebook) != manifest["notebook"]["sha256"]:
        now = sha256_file(notebook) if notebook.is_file() else "missing"
        problems.append(f"notebook {notebook}: manifest SHA-256 {manifest['notebook']['sha256']}, now {now}")
    if problems:
        raise InputChangedError("The inputs differ from the manifest, so the run cannot be reproduced:\n  "
                                + "\n  ".join(problems))

    target = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="rk-reproduce-"))
    entries = _entries(manifest)
    done = [key for key, rep in entries.items() if rep.get("status") in ("built", "up to date")]
    countries = [key for key in done if key != "regional"]
    if not done:
        raise DataFileError(f"{manifest_path}: no report of this batch was produced, so there is nothing to reproduce.")
    regional = "regional" in done
    # The regional report and the shared suppression are computed over every country of the batch.
    batch_countries = ((entries.get("regional") or {}).get("parameters", {}).get("countries")
                       or list(manifest.get("reports", {})) or None)
    pop = ((manifest.get("batch_inputs") or {}).get("population_sizes") or {}).get("path")
    regional_nb = (entries.get("regional") or {}).get("notebook", {}).get("path")
    run_reports(batch_countries if regional else countries, data_root=root, out_dir=target,
                language=params["language"], min_count=params["min_count"], jobs=jobs, notebook=notebook,
                force=True, private_dir=target / ".private", timeout=params.get("timeout"), regional=regional,
                regional_notebook=regional_nb if regional and regional_nb else None,
                population_sizes=pop if pop and Path(pop).is_file() else None, pdf=False, audit=False,
                country_reports=bool(countries))
    result = ReproduceResult(out_dir=str(target), code_changed=manifest.get("code") != code_fingerprint())
    for iso3 in done:
        expected = entries[iso3].get("tables", {})
        actual = table_hashes(target / iso3)
        for name in sorted(set(expected) | set(actual)):
            e, a = expected.get(name), actual.get(name)
            status = "identical" if e == a else ("missing" if a is None else ("new" if e is None else "different"))
            result.tables.append({"country": iso3, "table": name, "expected": e, "actual": a, "status": status})
    return result
