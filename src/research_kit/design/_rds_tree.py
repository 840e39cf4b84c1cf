"""Recruitment-tree construction and validation for respondent-driven samples.

Private helpers of :mod:`research_kit.design.rds`. The tree is stored as plain
numpy arrays (parent row, seed row, wave, children in CSR form) so that every
estimator and bootstrap can work on integer indices instead of id strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from research_kit.errors import DesignError

__all__ = ["RecruitmentTree", "build_tree", "normalise_ids", "forest_arrays"]

# How many offending rows/ids an error message lists before saying "and N more".
_MAX_LISTED = 10


def _listing(items: Sequence[Any]) -> str:
    shown = ", ".join(repr(x) for x in items[:_MAX_LISTED])
    if len(items) > _MAX_LISTED:
        shown += f" and {len(items) - _MAX_LISTED} more"
    return shown


def normalise_ids(values: pd.Series) -> np.ndarray:
    """Return ids as an object array of stripped strings, ``None`` where missing.

    Respondent ids are often integers while the recruiter column, which holds
    missing values for seeds, is read as float (``134.0``). Comparing them as
    strings would then never match, so integral floats are written without
    their ``.0`` before comparison.
    """
    out = np.empty(len(values), dtype=object)
    for k, v in enumerate(values.tolist()):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
            out[k] = None
            continue
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            s = str(int(v))
        elif isinstance(v, (bool, np.bool_)):
            s = str(v)
        else:
            s = str(v).strip()
        out[k] = s if s != "" else None
    return out


@dataclass(frozen=True)
class RecruitmentTree:
    """Integer representation of a validated recruitment forest.

    Attributes
    ----------
    ids : ndarray of str
        Normalised respondent ids, in data order.
    parent : ndarray of int
        Row of each respondent's recruiter, ``-1`` for seeds.
    seed_row : ndarray of int
        Row of the seed at the root of each respondent's tree.
    wave : ndarray of int
        Recruitment wave (0 for seeds).
    child_ptr, child_idx : ndarray of int
        Children of row ``i`` are ``child_idx[child_ptr[i]:child_ptr[i+1]]``
        (in data order).
    """

    ids: np.ndarray
    parent: np.ndarray
    seed_row: np.ndarray
    wave: np.ndarray
    child_ptr: np.ndarray
    child_idx: np.ndarray

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def seeds(self) -> np.ndarray:
        return np.flatnonzero(self.parent < 0)

    @property
    def n_recruits(self) -> np.ndarray:
        return np.diff(self.child_ptr)

    def wave_order(self) -> np.ndarray:
        """Rows sorted by wave (stable, like R's ``order(get.wave(x))``)."""
        return np.argsort(self.wave, kind="stable")


def build_tree(
    ids: np.ndarray,
    recruiters: np.ndarray,
    index_labels: Sequence[Any],
    seed_marker: str | None,
) -> RecruitmentTree:
    """Validate ids and recruiter links and build the recruitment forest.

    Raises :class:`DesignError` naming the rows and ids for missing or
    duplicated respondent ids, recruiter ids that point to nobody,
    self-recruitment and recruitment cycles.
    """
    n = len(ids)
    labels = list(index_labels)

    missing = [labels[k] for k in range(n) if ids[k] is None]
    if missing:
        raise DesignError(
            f"{len(missing)} respondent id(s) are missing (rows {_listing(missing)}). "
            "Every respondent needs a unique id (coupon number); fill them in or drop those rows."
        )

    id_series = pd.Series(ids, dtype=object)
    dup_mask = id_series.duplicated(keep=False).to_numpy()
    if dup_mask.any():
        dup_ids = list(dict.fromkeys(ids[dup_mask].tolist()))
        rows = [labels[k] for k in np.flatnonzero(dup_mask)]
        raise DesignError(
            f"Respondent id(s) {_listing(dup_ids)} appear more than once (rows {_listing(rows)}). "
            "Each respondent must have exactly one row; remove duplicate interviews or correct the coupon numbers."
        )

    row_of = {v: k for k, v in enumerate(ids.tolist())}
    marker = None if seed_marker is None else str(seed_marker).strip()
    parent = np.full(n, -1, dtype=np.int64)
    dangling: list[tuple[Any, str, str]] = []
    for k, r in enumerate(recruiters.tolist()):
        if r is None or (marker is not None and r == marker):
            continue
        p = row_of.get(r)
        if p is None:
            dangling.append((labels[k], ids[k], r))
        else:
            parent[k] = p
    if dangling:
        desc = [f"row {lab} (id {i!r}) -> recruiter {r!r}" for lab, i, r in dangling]
        raise DesignError(
            f"{len(dangling)} recruiter id(s) point to nobody in the data: {_listing(desc)}. "
            "Correct the recruiter's coupon number, add the missing recruiter's row, or mark a seed "
            f"with an empty recruiter or {marker!r}."
        )

    self_rec = np.flatnonzero(parent == np.arange(n))
    if len(self_rec):
        raise DesignError(
            f"Respondent(s) {_listing(ids[self_rec].tolist())} (rows {_listing([labels[k] for k in self_rec])}) "
            "are recorded as their own recruiter. Check the coupon numbers of these rows."
        )

    # Waves by pointer jumping: each pass resolves the rows whose recruiter's
    # wave is known, so a forest of depth D takes D passes of vector work.
    wave = np.where(parent < 0, 0, -1)
    seed_row = np.where(parent < 0, np.arange(n), -1)
    for _ in range(n + 1):
        todo = wave < 0
        if not todo.any():
            break
        ready = todo & (wave[np.maximum(parent, 0)] >= 0) & (parent >= 0)
        if not ready.any():
            break
        wave[ready] = wave[parent[ready]] + 1
        seed_row[ready] = seed_row[parent[ready]]
    unresolved = np.flatnonzero(wave < 0)
    if len(unresolved):
        cycles = _find_cycles(parent, unresolved, ids)
        if not (parent < 0).any():
            lead = "The data have no seed (every row has a recruiter), so recruitment runs in circles. "
        else:
            lead = ""
        rows = [labels[k] for k in unresolved]
        raise DesignError(
            lead
            + f"Recruitment cycle(s) found: {'; '.join(cycles[:_MAX_LISTED])}. "
            f"{len(unresolved)} row(s) cannot be traced back to a seed (rows {_listing(rows)}). "
            "A respondent cannot (indirectly) recruit their own recruiter; correct the recruiter ids in these rows."
        )

    order = np.argsort(parent, kind="stable")
    order = order[parent[order] >= 0]
    counts = np.bincount(parent[parent >= 0], minlength=n)
    child_ptr = np.concatenate([[0], np.cumsum(counts)])
    return RecruitmentTree(
        ids=ids,
        parent=parent,
        seed_row=seed_row,
        wave=wave.astype(np.int64),
        child_ptr=child_ptr.astype(np.int64),
        child_idx=order.astype(np.int64),
    )


def _find_cycles(parent: np.ndarray, unresolved: np.ndarray, ids: np.ndarray) -> list[str]:
    """Describe each distinct cycle among rows that never reach a seed."""
    seen: set[int] = set()
    out: list[str] = []
    for start in unresolved.tolist():
        if start in seen:
            continue
        path: list[int] = []
        pos: dict[int, int] = {}
        k = start
        while k >= 0 and k not in seen and k not in pos:
            pos[k] = len(path)
            path.append(k)
            k = int(parent[k])
        if k in pos:
            loop = path[pos[k]:]
            # parent = recruiter, so walking the path reads "a recruited by b".
            out.append(" recruited by ".join(repr(ids[j]) for j in loop + [loop[0]]))
        seen.update(path)
    return out


def forest_arrays(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Wave, seed row and CSR children of an already validated forest.

    Used for sub-designs (``by`` groups), where respondents whose recruiter
    falls outside the group become seeds, as in R's subsetting of an
    ``rds.data.frame``.
    """
    n = len(parent)
    wave = np.where(parent < 0, 0, -1)
    seed_row = np.where(parent < 0, np.arange(n), -1)
    while (wave < 0).any():
        ready = (wave < 0) & (wave[np.maximum(parent, 0)] >= 0)
        wave[ready] = wave[parent[ready]] + 1
        seed_row[ready] = seed_row[parent[ready]]
    order = np.argsort(parent, kind="stable")
    order = order[parent[order] >= 0]
    counts = np.bincount(parent[parent >= 0], minlength=n)
    child_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return wave.astype(np.int64), seed_row, child_ptr, order.astype(np.int64)
