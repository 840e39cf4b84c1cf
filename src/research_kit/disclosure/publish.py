"""Published tables as files anyone can audit: ``tables/<table_id>.csv`` and ``tables/<table_id>.json``.

The CSV is tidy: one column per dimension (codes, not labels), then ``value`` and
``status`` (``published``, ``primary`` or ``secondary``; a suppressed value is empty).
The JSON says what the CSV means: each dimension with its levels in order, which level is
its total and its hierarchy (parent → children, e.g. region → nodes → countries); the
measure (a count, or a percentage with the ids of its numerator and denominator count
tables, written beside it); the coordinates the table is fixed at (a country report's
``country``); the rows shown "with caution"; and the disclosure policy that protected it.

:func:`audit_published` reads nothing else — as a partner, a reviewer or an attacker would —
and runs the audit over every table below a folder together.

Examples
--------
>>> import tempfile, pandas as pd
>>> from research_kit.disclosure import DisclosurePolicy, protect_counts
>>> pt = protect_counts(pd.DataFrame({"city": ["a", "b", "c"], "count": [40, 3, 12]}), DisclosurePolicy(),
...                     dimension="city")
>>> folder = tempfile.mkdtemp()
>>> paths = write_table(pt, folder, "sample_city", measure="respondents", fixed={"country": "PRY"})
>>> [p.name for p in paths]
['sample_city.csv', 'sample_city.json']
>>> print(paths[0].read_text(), end="")
city,value,status
a,40,published
b,,primary
c,,secondary
total,55,published
>>> audit_published(folder).ok
True
"""

from __future__ import annotations

import csv as _csv
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from research_kit.disclosure.audit import AuditResult, audit_system
from research_kit.disclosure.model import Dimension, Key, TableError, equations_for
from research_kit.disclosure.policy import DisclosurePolicy
from research_kit.disclosure.system import CellSystem
from research_kit.errors import DisclosureError

__all__ = ["write_table", "read_published", "audit_published", "PublishedTable", "FORMAT", "PublishedTableError"]

FORMAT = "research_kit.published_table/1"
_CSV_STATUS = {"published": "published", "caution": "published", "primary": "primary", "secondary": "secondary"}


class PublishedTableError(DisclosureError):
    """A published table's files are missing, unreadable or do not agree with each other."""


def _dims_of(pt) -> list[Dimension]:
    spec = pt.meta.get("dimensions")
    if spec:
        return [Dimension.from_dict(d) for d in spec]
    return [Dimension(d, [str(v) for v in dict.fromkeys(pt.data[d])]) for d in pt.dimensions]


def _json_dump(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_pair(folder: Path, table_id: str, columns: dict[str, list[str]], dims: list[Dimension], measure: dict,
                fixed: dict, policy: DisclosurePolicy, caution: list, extra: dict | None = None) -> list[Path]:
    csv = folder / f"{table_id}.csv"
    with csv.open("w", encoding="utf-8", newline="") as fh:
        # The standard library's writer, as pandas' ``to_csv`` would write these text columns: a report
        # writes about a hundred small tables, where pandas' per-file set-up costs more than the writing.
        out = _csv.writer(fh, lineterminator="\n")
        out.writerow(columns)
        out.writerows(zip(*columns.values()))
    meta = {"format": FORMAT, "table_id": table_id, "dimensions": [d.to_dict() for d in dims], "measure": measure,
            "fixed": dict(fixed), "caution": caution, "policy": policy.to_dict(), **(extra or {})}
    js = folder / f"{table_id}.json"
    _json_dump(js, meta)
    return [csv, js]


def _tidy(data: pd.DataFrame, dims: list[str], value: pd.Series, status: pd.Series,
          digits: int | None = None) -> dict[str, list[str]]:
    """The CSV's columns as text: the dimensions' codes, ``value`` (empty when hidden) and ``status``.

    Values are written as whole numbers when every value of the table is whole, else as decimals
    (rounded to ``digits`` places when given).
    """
    out = {d: [str(x) for x in data[d].tolist()] for d in dims}
    st = status.map(_CSV_STATUS)
    if st.isna().any():
        raise DisclosureError(f"Unknown status {sorted(set(status[st.isna()]))} in a table to publish.")
    v = pd.to_numeric(value, errors="coerce").to_numpy(float)
    hidden = st.to_numpy() != "published"
    if (~hidden & np.isnan(v)).any():
        raise DisclosureError("A published row has no value.")
    if np.all(np.isnan(v) | (v == np.round(v))):
        text = ["" if h else str(int(x)) for h, x in zip(hidden.tolist(), v.tolist())]
    else:
        if digits is not None:
            v = np.round(v, digits)
        text = ["" if h else repr(x) for h, x in zip(hidden.tolist(), v.tolist())]
    out["value"] = text
    out["status"] = st.tolist()
    return out


def write_table(pt, folder, table_id: str | None = None, *, measure: str | None = None,
                fixed: dict | None = None) -> list[Path]:
    """Write a protected table as ``<folder>/<table_id>.csv`` and ``.json`` (and, for a percentage,
    its numerator and denominator count tables ``<table_id>.n_event`` and ``<table_id>.n``).

    Parameters
    ----------
    pt : ProtectedTable
    folder : path
        The report's ``tables/`` folder (created if missing).
    table_id : str, optional
        Default ``pt.meta['table_id']``.
    measure : str, optional
        What is counted, shared by every table that counts the same people (e.g.
        ``"respondents"``; for percentages the base of ``<measure>:n`` and
        ``<measure>:n_event``). Tables that share cells must use the same measure and codes.
        Default ``pt.meta['measure']`` for counts, the table id for percentages.
    fixed : dict, optional
        Coordinates of the whole table in a batch, e.g. ``{"country": "PRY"}``.

    Returns
    -------
    list of Path

    Raises
    ------
    DisclosureError
        If ``pt`` is not a protected table, or a published row has no value.
    """
    from research_kit.disclosure.tables import ProtectedTable

    if not isinstance(pt, ProtectedTable):
        raise DisclosureError("Only protected tables can be published: pass the table through research_kit.disclosure first.")
    table_id = table_id or pt.meta.get("table_id")
    if not table_id or any(c in str(table_id) for c in "/\\") or str(table_id).startswith("."):
        raise DisclosureError(f"A published table needs an id usable as a file name, not {table_id!r}.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fixed = dict(fixed or pt.meta.get("fixed") or {})
    dims = _dims_of(pt)
    names = [d.name for d in dims]
    caution_rows = pt.data.index[pt.data["status"] == "caution"]
    caution = [[str(pt.data.at[i, d]) for d in names] for i in caution_rows]
    if pt.kind == "count":
        value_col = [c for c in pt.data.columns if c not in (*names, "status")][0]
        frame = _tidy(pt.data, names, pt.data[value_col], pt.data["status"])
        m = {"kind": "count", "name": measure or pt.meta.get("measure") or value_col}
        return _write_pair(folder, table_id, frame, dims, m, fixed, pt.policy, caution)
    if pt.kind != "estimate":
        raise DisclosureError(f"Unknown kind of table {pt.kind!r}.")
    base = measure or table_id
    num = pt.meta.get("numerator")
    den = pt.meta.get("denominator")
    if num is None or den is None:
        raise DisclosureError("This estimate table was protected without its counts; protect it again with protect_estimates.")
    paths = []
    count_dims = dims
    paths += _write_pair(folder, f"{table_id}.n_event", _tidy(num, names, num["n_event"], num["status"]), count_dims,
                         {"kind": "count", "name": f"{base}:n_event"}, fixed, pt.policy, [])
    paths += _write_pair(folder, f"{table_id}.n", _tidy(den, names, den["n"], den["status"]), count_dims,
                         {"kind": "count", "name": f"{base}:n"}, fixed, pt.policy, [])
    pct = _tidy(pt.data, names, pt.data["estimate"] * 100, pt.data["status"], digits=4)
    m = {"kind": "percentage", "numerator": f"{table_id}.n_event", "denominator": f"{table_id}.n"}
    extra = {}
    if {"ci_low", "ci_high"} <= set(pt.data.columns):
        extra["interval"] = "95% confidence interval in the report, not in this file"
    paths = _write_pair(folder, table_id, pct, dims, m, fixed, pt.policy, caution, extra) + paths
    return paths


# ---------------------------------------------------------------------------------------
# Reading and auditing
# ---------------------------------------------------------------------------------------


@dataclass
class PublishedTable:
    """A table as read back from its CSV and JSON.

    ``columns`` holds the CSV's columns as read (codes and statuses as text, ``value`` as floats,
    NaN where hidden); :attr:`frame` is the same as a DataFrame.
    """

    table_id: str
    dimensions: list
    measure: dict
    fixed: dict
    policy: DisclosurePolicy
    columns: dict
    path: Path
    caution: list = field(default_factory=list)
    _cells: tuple | None = field(default=None, repr=False, compare=False)
    _frame: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def kind(self) -> str:
        return self.measure.get("kind", "count")

    @property
    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame, one row per CSV row."""
        if self._frame is None:
            self._frame = pd.DataFrame({name: (np.asarray(col, dtype=float) if name == "value" else
                                               pd.Series(col, dtype=object)) for name, col in self.columns.items()})
        return self._frame

    def cells(self) -> tuple:
        """``(keys, rows)`` of a count table, worked out once: every cell's key in C order, and each CSV
        row's ``(position, status, value)``. The audit assembles its system from these."""
        if self._cells is None:
            shape = tuple(len(d) for d in self.dimensions)
            keys = [_key(self.dimensions, self.fixed, self.measure["name"], [d.levels[j] for d, j in zip(self.dimensions, idx)])
                    for idx in np.ndindex(*shape)]
            n = len(self.columns["status"])
            if shape and n:
                coords = [[d.index(c) for c in self.columns[d.name]] for d in self.dimensions]
                flat = np.ravel_multi_index(coords, shape).tolist()
            else:
                flat = [0] * n
            self._cells = (keys, list(zip(flat, self.columns["status"], self.columns["value"])))
        return self._cells


def _read_csv_text(path: Path) -> dict[str, list[str]]:
    """A small published CSV as text columns. The standard library's reader and plain lists: a batch
    audit reads thousands of these files, where pandas' per-file set-up costs more than the parsing."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(_csv.reader(fh))
    except (OSError, UnicodeDecodeError, _csv.Error) as exc:
        raise PublishedTableError(f"{path}: not readable as CSV ({exc}).") from None
    if not rows:
        raise PublishedTableError(f"{path}: not readable as CSV (the file is empty).")
    header, body = rows[0], rows[1:]
    if len(set(header)) != len(header) or any(len(r) != len(header) for r in body):
        raise PublishedTableError(f"{path}: not readable as CSV (rows and header do not have the same columns).")
    return {h: [r[i] for r in body] for i, h in enumerate(header)}


def _number(text: str) -> float:
    """A CSV value as a number (NaN when empty or not a number, as ``pandas.to_numeric(errors='coerce')``)."""
    try:
        return float(text) if text.strip() else math.nan
    except ValueError:
        return math.nan


@lru_cache(maxsize=4096)
def _dimension(spec: str) -> Dimension:
    # A batch's tables share a few dozen dimensions: each is checked and built once.
    return Dimension.from_dict(json.loads(spec))


@lru_cache(maxsize=256)
def _policy(spec: str) -> DisclosurePolicy:
    return DisclosurePolicy.from_dict(json.loads(spec))


def _read_one(js: Path) -> PublishedTable | None:
    try:
        meta = json.loads(js.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PublishedTableError(f"{js}: not readable as JSON ({exc}).") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        return None
    csv = js.with_suffix(".csv")
    try:
        dims = [_dimension(json.dumps(d, sort_keys=True)) for d in meta["dimensions"]]
        policy = _policy(json.dumps(meta["policy"], sort_keys=True))
        measure = dict(meta["measure"])
        table_id = str(meta["table_id"])
    except (KeyError, TypeError, AttributeError) as exc:
        raise PublishedTableError(f"{js}: missing or malformed entry {exc}.") from None
    except DisclosureError as exc:
        raise PublishedTableError(f"{js}: {exc}") from None
    if not csv.is_file():
        raise PublishedTableError(f"{js}: its table {csv.name} is missing.")
    columns = _read_csv_text(csv)
    names = [d.name for d in dims]
    missing = [c for c in (*names, "value", "status") if c not in columns]
    if missing:
        raise PublishedTableError(f"{csv}: missing column(s) {missing}.")
    status = columns["status"]
    bad = sorted(set(status) - {"published", "primary", "secondary"})
    if bad:
        raise PublishedTableError(f"{csv}: unknown status {bad}; expected published, primary or secondary.")
    for d in dims:
        unknown = sorted(set(columns[d.name]) - set(d.levels))
        if unknown:
            raise PublishedTableError(f"{csv}: {d.name!r} has codes {unknown[:5]} not listed in {js.name}.")
    values = [_number(v) for v in columns["value"]]
    for st, v in zip(status, values):
        if st == "published" and math.isnan(v):
            raise PublishedTableError(f"{csv}: a published row has no value.")
        if st != "published" and not math.isnan(v):
            raise PublishedTableError(f"{csv}: a suppressed row shows a value.")
    columns["value"] = values
    return PublishedTable(table_id, dims, measure, dict(meta.get("fixed") or {}), policy, columns, csv,
                          list(meta.get("caution") or []))


def _read_cached(js: Path, cache: dict) -> PublishedTable | None:
    def stamp(p: Path):
        try:
            st = p.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    key = js.resolve()
    sig = (stamp(js), stamp(js.with_suffix(".csv")))
    hit = cache.get(key)
    if hit is not None and hit[0] == sig and None not in sig:
        return hit[1]
    t = _read_one(js)
    cache[key] = (sig, t)
    return t


def read_published(path, *, cache: dict | None = None) -> dict[str, PublishedTable]:
    """Every published table below ``path`` (a report folder or a whole batch), by ``<folder>/<table_id>``.

    ``cache`` (a dict the caller keeps) holds tables already read, by file, with their files'
    sizes and modification times: a table whose files did not change since is not read again
    (a batch reads each report's tables as it is filed, and audits them all at the end).

    Raises
    ------
    PublishedTableError
        A table's files are unreadable or inconsistent, or none are found.
    """
    root = Path(path)
    if not root.exists():
        raise PublishedTableError(f"{root} does not exist.")
    files = [root] if root.is_file() else sorted(root.rglob("*.json"))
    out: dict[str, PublishedTable] = {}
    for js in files:
        t = _read_one(js) if cache is None else _read_cached(js, cache)
        if t is None:
            continue
        rel = js.parent.relative_to(root) if root.is_dir() else Path(".")
        out[f"{rel.as_posix()}/{t.table_id}" if str(rel) != "." else t.table_id] = t
    if not out:
        raise PublishedTableError(f"No published tables (tables/<id>.json in format {FORMAT}) below {root}.")
    return out


def _key(dims, fixed, measure, codes) -> Key:
    coords = dict(fixed)
    for d, c in zip(dims, codes):
        if not d.is_total(c):
            coords[d.name] = c
    return (measure, tuple(sorted(coords.items())))


def _codes(columns: dict, names: list[str]) -> list[tuple]:
    """Each row's codes in the columns ``names``, as tuples (empty tuples when there are none)."""
    if not names:
        return [()] * len(columns["status"])
    return list(zip(*(columns[c] for c in names)))


def _system(tables: dict[str, PublishedTable]):
    """Cells, relations and statuses of published tables, as an outsider sees them."""
    parts = []
    status_of: dict[Key, set] = {}
    required: dict[Key, float] = {}
    values_of: dict[Key, set] = {}
    problems = []
    by_id = {}
    for name, t in tables.items():
        folder = name.rsplit("/", 1)[0] if "/" in name else ""
        by_id[(folder, t.table_id)] = t
    for name, t in tables.items():
        if t.kind != "count":
            continue
        shape = tuple(len(d) for d in t.dimensions)
        vals = np.full(int(np.prod(shape)) if shape else 1, np.nan)
        keys, rows = t.cells()
        protection = float(t.policy.sliding_protection)
        for i, st, v in rows:
            k = keys[i]
            status_of.setdefault(k, set()).add(st)
            if st == "published":
                vals[i] = v
                values_of.setdefault(k, set()).add(float(v))
            elif st == "primary":
                required[k] = max(required.get(k, 0.0), protection)
        parts.append((name, t.dimensions, t.fixed, t.measure["name"], vals.reshape(shape),
                      equations_for(t.dimensions, shared=True), keys))
    # Percentages: n = n_event + complement, with the complement never published.
    for name, t in tables.items():
        if t.kind != "percentage":
            continue
        folder = name.rsplit("/", 1)[0] if "/" in name else ""
        num, den = by_id.get((folder, t.measure.get("numerator"))), by_id.get((folder, t.measure.get("denominator")))
        if num is None or den is None:
            problems.append(f"{name}: its numerator or denominator table is missing, so its percentages cannot be audited.")
            continue
        names = [d.name for d in t.dimensions]
        base_k, base_n = num.measure["name"], den.measure["name"]
        base_c = base_k.rsplit(":", 1)[0] + ":complement"
        st_num = dict(zip(_codes(num.columns, names), num.columns["status"]))
        st_den = dict(zip(_codes(den.columns, names), den.columns["status"]))
        keys, rows = [], []
        for codes, st in zip(_codes(t.columns, names), t.columns["status"]):
            if st == "published" and (st_num.get(codes) != "published" or st_den.get(codes) != "published"):
                problems.append(f"{name}: the percentage at {dict(zip(names, codes))} is shown but its counts are "
                                "hidden: the percentage gives them back.")
            coords = _key(t.dimensions, t.fixed, "", codes)[1]  # the same cell of three measures
            kk, kn, kc = (base_k, coords), (base_n, coords), (base_c, coords)
            if st_num.get(codes) == "primary":
                required[kc] = max(required.get(kc, 0.0), float(t.policy.sliding_protection))
                status_of.setdefault(kc, set()).add("primary")
            j = len(keys)
            keys += [kn, kk, kc]
            rows.append((j, j + 1, j + 2))
        if rows:
            r_idx = np.repeat(np.arange(len(rows)), 3)
            c_idx = np.array(rows).ravel()
            data = np.tile([1.0, -1.0, -1.0], len(rows))
            eq = sparse.csr_matrix((data, (r_idx, c_idx)), shape=(len(rows), len(keys)))
            parts.append((f"{name}#outcome", (), {}, "", np.full(len(keys), np.nan), eq, keys))
    for k, vs in values_of.items():
        if len(vs) > 1:
            problems.append(f"Published tables disagree on {k[0]} at {dict(k[1])}: {sorted(vs)}.")
    system = CellSystem.build(parts, conflicts="ignore")
    status = np.full(system.n_cells, "absent", dtype=object)
    req = np.zeros(system.n_cells)
    for k, i in system.index.items():
        sts = status_of.get(k, set())
        if "published" in sts:
            status[i] = "published"
            if sts & {"primary", "secondary"}:
                problems.append(f"{k[0]} at {dict(k[1]) or 'total'} is hidden in one table but shown in another.")
        elif "primary" in sts:
            status[i] = "primary"
        elif "secondary" in sts:
            status[i] = "secondary"
        req[i] = required.get(k, 0.0)
    return system, status, req, problems


def audit_published(path, *, integer: bool = True, cache: dict | None = None) -> AuditResult:
    """Audit every published table below ``path`` together, reading only their CSV and JSON.

    For every suppressed cell, the interval an attacker gets from all published cells,
    margins and non-negativity (and whole numbers); a primary cell is safe when the interval
    is at least the policy's sliding protection wide. Also reported: a cell shown in one
    table and hidden in another, tables that disagree on a shared cell, and a percentage
    shown while its counts are hidden.

    Raises
    ------
    PublishedTableError
        When a table cannot be read (missing or malformed files).
    """
    tables = read_published(path, cache=cache)
    system, status, req, problems = _system(tables)
    # Cells no table publishes are unknown to the attacker: variables with no requirement.
    att_status = np.where(status == "absent", "secondary", status)
    vals = np.where(status == "published", system.values, np.nan)
    system.values = vals
    sources = [[] for _ in range(system.n_cells)]
    for g in system.grids:
        if "#" in g.table_id:
            continue
        for c in np.unique(g.cells):
            sources[int(c)].append(g.table_id)
    try:
        res = audit_system(system, att_status, required=req, integer=integer, sources=sources,
                           attack=status != "absent")
    except TableError as exc:
        raise PublishedTableError(f"The published tables below {path} are inconsistent: {exc}") from None
    res.problems = problems
    return res
