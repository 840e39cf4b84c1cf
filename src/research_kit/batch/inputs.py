"""The batch's shared inputs: every country's estimates and the linked protection, computed once.

Before any notebook runs, the batch calls :func:`research_kit.regional.collect` in its own process:
one pass that estimates every country's indicators and protects the count tables of all reports
together (a cell is hidden everywhere or nowhere, so no difference between a country report and
the regional report recovers anything). The result is saved in the private run folder and its
path given to every notebook as ``batch_inputs``, so every report of a batch uses the same
suppression. The result is kept under a hash of everything it depends on, so a rerun with the
same inputs does not compute it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BatchInputs", "batch_inputs", "inputs_fingerprint", "record_digest", "regional_available",
           "SUPPRESSION_NAME"]

#: The batch's suppression record, written beside the reports.
SUPPRESSION_NAME = "suppression.json"
#: Keys of a suppression record that change from run to run without changing what was suppressed.
_VOLATILE = ("created", "seconds", "finished", "started")


@dataclass
class BatchInputs:
    """Where the batch's shared inputs are, or why there are none.

    Attributes
    ----------
    path : Path or None
        The saved :class:`~research_kit.regional.RegionalInputs` (pickle), given to notebooks.
    record : dict or None
        Its suppression record (what was hidden, by key; no hidden value).
    error : str or None
        Why they could not be computed.
    fingerprint : str
        Hash of everything they depend on.
    reused : bool
        Taken from an earlier run with the same fingerprint.
    seconds : float
        Time spent computing them.
    """

    path: Path | None
    record: dict | None
    error: str | None
    fingerprint: str
    reused: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.path is not None and self.error is None


def regional_available() -> bool:
    """True when :mod:`research_kit.regional` can be imported (it provides ``collect``)."""
    import importlib.util

    try:
        return importlib.util.find_spec("research_kit.regional") is not None
    except (ImportError, ValueError):
        return False


def inputs_fingerprint(inputs: dict[str, dict[str, str]], population_sha: str | None, min_count: int,
                       policy: dict, code: str) -> str:
    """One hash for the batch's inputs: every country's files, the population sizes, threshold, policy, code."""
    blob = json.dumps({"countries": {k: sorted(v.values()) for k, v in sorted(inputs.items())},
                       "population_sizes": population_sha, "min_count": min_count, "policy": policy,
                       "code": code}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def record_digest(record: dict | None) -> str | None:
    """Hash of what a suppression record says was suppressed (times and durations left out)."""
    if record is None:
        return None
    stable = {k: v for k, v in record.items() if k not in _VOLATILE}
    return hashlib.sha256(json.dumps(stable, sort_keys=True, default=str).encode()).hexdigest()


def _as_dict(record) -> dict:
    if isinstance(record, dict):
        return record
    if hasattr(record, "to_dict"):
        return record.to_dict()
    raise TypeError(f"the suppression record is a {type(record).__name__}, not a dict")


def _folder(private: Path) -> Path:
    return private / "batch_inputs"


def _paths(private: Path, fingerprint: str) -> tuple[Path, Path]:
    stem = fingerprint[:24]
    return _folder(private) / f"{stem}.pickle", _folder(private) / f"{stem}.record.json"


def batch_inputs(countries: list[str], *, data_root: Path, min_count: int, population_sizes: Path | None,
                 private: Path, fingerprint: str, force: bool = False) -> BatchInputs:
    """Compute the batch's shared inputs once (or reuse those of an earlier run with the same fingerprint).

    Never raises for a problem of the data: the result carries the error instead, and the batch
    runs the country reports without shared inputs and reports the regional report failed.
    """
    pickle_path, record_path = _paths(private, fingerprint)
    if not force and pickle_path.is_file() and record_path.is_file():
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
            return BatchInputs(pickle_path, record, None, fingerprint, reused=True)
        except (OSError, ValueError):
            pass
    t0 = time.perf_counter()
    try:
        from research_kit.regional import collect
    except ImportError as exc:
        return BatchInputs(None, None, f"research_kit.regional is not available ({exc})", fingerprint)
    try:
        inputs = collect(countries, data_root=data_root, min_count=min_count,
                         population_sizes=None if population_sizes is None else population_sizes)
        record = _as_dict(inputs.record)
        folder = _folder(private)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():  # only the latest inputs are kept
            if old.name not in (pickle_path.name, record_path.name):
                old.unlink(missing_ok=True)
        tmp = pickle_path.with_name(f".{pickle_path.name}.{os.getpid()}.part")
        inputs.save(tmp)
        tmp.replace(pickle_path)
        tmp = record_path.with_name(f".{record_path.name}.{os.getpid()}.part")
        tmp.write_text(json.dumps(record, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        tmp.replace(record_path)
    except Exception as exc:  # noqa: BLE001 - the country reports still run without shared inputs
        message = f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:500]
        return BatchInputs(None, None, message, fingerprint, seconds=time.perf_counter() - t0)
    return BatchInputs(pickle_path, record, None, fingerprint, seconds=time.perf_counter() - t0)
