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
import os
import platform
import subprocess
import sys
from importlib import metadata, resources
from pathlib import Path

__all__ = ["sha256_file", "code_fingerprint", "study_inputs", "report_fingerprint", "package_versions",
           "git_commit", "table_hashes", "read_json", "write_json", "MANIFEST_NAME", "PROVENANCE_NAME"]

MANIFEST_NAME = "manifest.json"
PROVENANCE_NAME = "provenance.json"
_PACKAGES = ("research_kit", "numpy", "pandas", "scipy", "statsmodels", "pandera", "matplotlib", "papermill",
             "nbconvert", "nbclient", "ipykernel", "pyxform", "pycountry", "babel")


def read_json(path: Path) -> dict | None:
    """A JSON file's contents, or None when it is missing or unreadable (a manifest, a record)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json(path: Path, data: dict) -> None:
    """Write JSON under a temporary name, then rename it: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _code_files() -> tuple[Path, list[Path]]:
    root = Path(str(resources.files("research_kit")))
    return root, sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                        and p.suffix in {".py", ".toml", ".csv", ".json", ".po", ".j2", ".css", ".xlsx"})


def code_fingerprint(cache_dir: str | Path | None = None) -> str:
    """SHA-256 over research_kit's own files (code, templates, catalogues, registry, data).

    A change to any of them changes every report's fingerprint, so a rerun after a code change
    rebuilds the reports; the version number alone would miss edits between releases.

    With ``cache_dir``, the result is kept there under the files' names, sizes and modification
    times, so that a rerun with no change only looks at the files instead of reading them.
    """
    root, files = _code_files()
    listing = hashlib.sha256()
    for path in files:
        st = path.stat()
        listing.update(f"{path.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    stats = listing.hexdigest()
    if stats in _CODE_SEEN:
        return _CODE_SEEN[stats]
    cached = Path(cache_dir) / "code_fingerprint.json" if cache_dir else None
    if cached is not None:
        try:
            saved = json.loads(cached.read_text(encoding="utf-8"))
            if saved.get("stats") == stats and len(saved.get("fingerprint", "")) == 64:
                _CODE_SEEN[stats] = saved["fingerprint"]
                return saved["fingerprint"]
        except (OSError, ValueError, AttributeError):
            pass
    h = hashlib.sha256()
    for path in files:
        h.update(str(path.relative_to(root)).encode())
        h.update(sha256_file(path).encode())
    fingerprint = _CODE_SEEN[stats] = h.hexdigest()
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_name(f".{cached.name}.{os.getpid()}.part")
            tmp.write_text(json.dumps({"stats": stats, "fingerprint": fingerprint}), encoding="utf-8")
            tmp.replace(cached)
        except OSError:
            pass
    return fingerprint


#: Fingerprints already computed in this process, by the files' names, sizes and modification times.
_CODE_SEEN: dict[str, str] = {}


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


def report_fingerprint(inputs: dict[str, str], notebook_sha: str, parameters: dict, policy: dict,
                       extra: dict | None = None, code: str | None = None) -> str:
    """One hash for everything a report depends on.

    ``extra`` holds what else it depends on, e.g. the digest of the batch's suppression pattern
    (``linked``); ``code`` is :func:`code_fingerprint` when already known.
    """
    blob = json.dumps({"inputs": sorted(inputs.values()), "notebook": notebook_sha, "parameters": parameters,
                       "policy": policy, "code": code if code is not None else code_fingerprint(), **({"extra": extra} if extra else {})},
                      sort_keys=True)
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
