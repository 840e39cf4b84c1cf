"""Fingerprints of everything a report depends on, and the run manifest.

A report is rebuilt only when its fingerprint changes: the content of its data files
(export, study description, venue frame, form), the notebook, the parameters, the
disclosure policy, and the research_kit code. The manifest written beside the reports
records all of it, with the SHA-256 of every published table, so that an academic
partner can rerun the batch and check, table by table, that the numbers come out the same.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from functools import cache
from importlib import metadata, resources
from pathlib import Path

__all__ = ["sha256_file", "code_fingerprint", "study_inputs", "report_fingerprint", "package_versions",
           "git_commit", "table_hashes", "MANIFEST_NAME", "PROVENANCE_NAME"]

MANIFEST_NAME = "manifest.json"
PROVENANCE_NAME = "provenance.json"
_PACKAGES = ("research_kit", "numpy", "pandas", "scipy", "statsmodels", "pandera", "matplotlib", "papermill",
             "nbconvert", "nbclient", "ipykernel", "pyxform", "pycountry", "babel")


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@cache
def code_fingerprint() -> str:
    """SHA-256 over research_kit's own files (code, templates, catalogues, registry, data).

    A change to any of them changes every report's fingerprint, so a rerun after a code change
    rebuilds the reports; the version number alone would miss edits between releases.
    """
    root = Path(str(resources.files("research_kit")))
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                       and p.suffix in {".py", ".toml", ".csv", ".json", ".po", ".j2", ".css", ".xlsx"}):
        h.update(str(path.relative_to(root)).encode())
        h.update(sha256_file(path).encode())
    return h.hexdigest()


def study_inputs(folder: Path) -> dict[str, str]:
    """The files a country's report reads, with their SHA-256: study.json, the export, the frame, the form."""
    from research_kit.forms import surveys_dir

    spec_path = folder / "study.json"
    files = [spec_path]
    if spec_path.is_file():
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        files.append(folder / spec.get("data", "community_survey.csv"))
        if spec.get("design", {}).get("frame"):
            files.append(folder / spec["design"]["frame"])
        form = spec.get("form", "community_survey")
        files.append(Path(form) if str(form).endswith(".xlsx") else surveys_dir() / f"{form}.xlsx")
    return {str(p.resolve()): sha256_file(p) for p in files if p.is_file()}


def report_fingerprint(inputs: dict[str, str], notebook_sha: str, parameters: dict, policy: dict) -> str:
    """One hash for everything a report depends on."""
    blob = json.dumps({"inputs": sorted(inputs.values()), "notebook": notebook_sha, "parameters": parameters,
                       "policy": policy, "code": code_fingerprint()}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages that shape the numbers and the reports."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - all are dependencies
            out[name] = "not installed"
    return out


def git_commit(path: Path | None = None) -> str | None:
    """The git commit of the research_kit checkout, if it is one (with ``-dirty`` when modified)."""
    where = path or Path(__file__).resolve().parents[3]
    try:
        commit = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "") if commit else None


def table_hashes(country_folder: Path) -> dict[str, str]:
    """SHA-256 of every published table file of one report (``tables/*``), by file name."""
    tables = country_folder / "tables"
    if not tables.is_dir():
        return {}
    return {p.name: sha256_file(p) for p in sorted(tables.iterdir()) if p.is_file()}


def runtime() -> dict[str, str]:
    return {"python": sys.version.split()[0], "platform": platform.platform()}
