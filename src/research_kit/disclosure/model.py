"""Count tables with hierarchical margins, in any number of dimensions.

A :class:`Dimension` is an ordered list of level codes, one of which may be the total,
with a parent → children hierarchy (``region → nodes → countries``; ``total → age
groups``). A :class:`CountTable` holds one unweighted count for every combination of
levels, margins included, and knows the linear relations between them (every parent
equals the sum of its children, along every dimension): the relations an attacker uses
to recover a suppressed cell, and the ones complementary suppression must defeat.

Cells are identified across tables by a :data:`Key`: the table's *measure* (what is
counted, e.g. ``"respondents"``) and the codes of its cell on every dimension that is
not at its total, together with the coordinates the whole table is *fixed* at (a country
report's tables all sit at ``country = PRY``). So ``respondents`` for
``{country: PRY, age_group: u25}`` is the same number in the regional table and in
Paraguay's table by age group, and the audit treats it as one unknown.

Examples
--------
>>> import pandas as pd
>>> age = Dimension("age_group", ["total", "u25", "25plus"], total="total")
>>> frame = pd.DataFrame({"age_group": ["u25", "25plus"], "count": [3, 40]})
>>> t = CountTable.from_frame(frame, [age], measure="respondents", fixed={"country": "PRY"})
>>> t.values.tolist()
[43, 3, 40]
>>> t.key((1,))
('respondents', (('age_group', 'u25'), ('country', 'PRY')))
>>> t.key((0,))
('respondents', (('country', 'PRY'),))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from research_kit.errors import DisclosureError

__all__ = ["Dimension", "CountTable", "Key", "TableError", "key_label", "equations_for"]

#: A cell's identity across tables: ``(measure, ((dimension, code), ...))``, sorted by dimension,
#: dimensions at their total left out.
Key = tuple[str, tuple[tuple[str, str], ...]]


class TableError(DisclosureError):
    """A table cannot be protected as given: margins that do not add up, negative or fractional counts, bad levels."""


def key_label(key: Key) -> str:
    """A readable name for a cell key, for messages.

    Examples
    --------
    >>> key_label(("respondents", (("age_group", "u25"), ("country", "PRY"))))
    'respondents[age_group=u25, country=PRY]'
    >>> key_label(("respondents", ()))
    'respondents[total]'
    """
    measure, coords = key
    inner = ", ".join(f"{d}={c}" for d, c in coords) or "total"
    return f"{measure}[{inner}]"


@dataclass(frozen=True)
class Dimension:
    """One dimension of a table: its levels in order, its total and its hierarchy.

    Parameters
    ----------
    name : str
        Column name of the dimension (``"country"``, ``"age_group"``).
    levels : sequence of str
        Level codes in the order they are shown, margins included.
    total : str, optional
        The level that is the total of all others (the root of the hierarchy). ``None``
        means the dimension has no margin: its levels are separate tables (e.g. the
        ``indicator`` of a table of indicators), with no relation between them.
    hierarchy : mapping of str to sequence of str, optional
        Parent → children, for hierarchical margins (``{"LAC": ["southern_cone", ...],
        "southern_cone": ["ARG", "CHL", ...]}``). Default: the total is the parent of every
        other level.

    Raises
    ------
    TableError
        If a level is repeated, the total is not a level, the hierarchy names an unknown
        level, gives a level two parents, has a cycle, or leaves a level out.

    Examples
    --------
    >>> d = Dimension("country", ["LAC", "south", "andean", "PRY", "URY", "BOL"], total="LAC",
    ...               hierarchy={"LAC": ["south", "andean"], "south": ["PRY", "URY"], "andean": ["BOL"]})
    >>> d.leaves
    ('PRY', 'URY', 'BOL')
    >>> d.parent("URY"), d.ancestors("URY")
    ('south', ('south', 'LAC'))
    >>> Dimension("age", ["total", "u25", "u25"], total="total")
    Traceback (most recent call last):
    ...
    research_kit.disclosure.model.TableError: Dimension 'age' lists the level 'u25' more than once.
    """

    name: str
    levels: tuple[str, ...]
    total: str | None = None
    hierarchy: Mapping[str, tuple[str, ...]] | None = None
    _parent: dict = field(default=None, init=False, repr=False, compare=False)
    _position: dict = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        levels = tuple(str(v) for v in self.levels)
        object.__setattr__(self, "levels", levels)
        if not levels:
            raise TableError(f"Dimension {self.name!r} has no levels.")
        seen = set()
        for v in levels:
            if v in seen:
                raise TableError(f"Dimension {self.name!r} lists the level {v!r} more than once.")
            seen.add(v)
        total = None if self.total is None else str(self.total)
        object.__setattr__(self, "total", total)
        if total is None:
            if self.hierarchy:
                raise TableError(f"Dimension {self.name!r} has a hierarchy but no total: name the level at its top.")
            object.__setattr__(self, "hierarchy", {})
            object.__setattr__(self, "_parent", {})
        else:
            if total not in seen:
                raise TableError(f"The total {total!r} of dimension {self.name!r} is not one of its levels {list(levels)}.")
            if self.hierarchy is None:
                hierarchy = {total: tuple(v for v in levels if v != total)}
            else:
                hierarchy = {str(p): tuple(str(c) for c in ch) for p, ch in dict(self.hierarchy).items()}
            parent: dict[str, str] = {}
            for p, children in hierarchy.items():
                if p not in seen:
                    raise TableError(f"The hierarchy of {self.name!r} names {p!r}, which is not one of its levels.")
                if not children:
                    raise TableError(f"The hierarchy of {self.name!r} gives {p!r} no children: leave it out instead.")
                for c in children:
                    if c not in seen:
                        raise TableError(f"The hierarchy of {self.name!r} names {c!r}, which is not one of its levels.")
                    if c in parent:
                        raise TableError(f"Level {c!r} of {self.name!r} has two parents, {parent[c]!r} and {p!r}.")
                    if c == total:
                        raise TableError(f"The total {total!r} of {self.name!r} cannot be the child of {p!r}.")
                    parent[c] = p
            for v in levels:
                if v == total:
                    continue
                chain, node = {v}, v
                while node in parent:
                    node = parent[node]
                    if node in chain:
                        raise TableError(f"The hierarchy of {self.name!r} has a cycle through {node!r}.")
                    chain.add(node)
                if node != total:
                    raise TableError(f"Level {v!r} of {self.name!r} is not below the total {total!r} in the hierarchy.")
            object.__setattr__(self, "hierarchy", hierarchy)
            object.__setattr__(self, "_parent", parent)
        object.__setattr__(self, "_position", {v: i for i, v in enumerate(levels)})

    # ---- structure --------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.levels)

    def index(self, code) -> int:
        """Position of a level code."""
        try:
            return self._position[str(code)]
        except KeyError:
            raise TableError(f"{code!r} is not a level of {self.name!r}; its levels are {list(self.levels)}.") from None

    def parent(self, code: str) -> str | None:
        """The level whose sum includes ``code`` (``None`` for the total and in flat dimensions)."""
        return self._parent.get(str(code))

    def children(self, code: str) -> tuple[str, ...]:
        return tuple(self.hierarchy.get(str(code), ()))

    def ancestors(self, code: str) -> tuple[str, ...]:
        """Parents of ``code`` up to the total, nearest first."""
        out, node = [], str(code)
        while node in self._parent:
            node = self._parent[node]
            out.append(node)
        return tuple(out)

    @property
    def leaves(self) -> tuple[str, ...]:
        """Levels that are no one's parent, in order."""
        return tuple(v for v in self.levels if v not in self.hierarchy)

    def is_total(self, code: str) -> bool:
        return self.total is not None and str(code) == self.total

    def equations(self) -> list[tuple[int, tuple[int, ...]]]:
        """``(parent, children)`` positions: each parent equals the sum of its children."""
        return [(self.index(p), tuple(self.index(c) for c in ch)) for p, ch in self.hierarchy.items()]

    def bottom_up(self) -> list[str]:
        """Parents ordered so that every parent comes after all parents below it."""
        depth = {p: len(self.ancestors(p)) for p in self.hierarchy}
        return sorted(self.hierarchy, key=lambda p: -depth[p])

    # ---- plain data -------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The dimension as plain data (what ``tables/<id>.json`` records)."""
        return {"name": self.name, "levels": list(self.levels), "total": self.total,
                "hierarchy": {p: list(ch) for p, ch in self.hierarchy.items()}}

    @classmethod
    def from_dict(cls, data: Mapping) -> "Dimension":
        try:
            return cls(data["name"], data["levels"], total=data.get("total"), hierarchy=data.get("hierarchy") or None)
        except KeyError as exc:
            raise TableError(f"A dimension needs {exc.args[0]!r}; got {sorted(data)}.") from None

    @classmethod
    def flat(cls, name: str, codes: Iterable, total: str | None = "total") -> "Dimension":
        """A dimension with the given codes and, unless ``total`` is None, a total placed first.

        Examples
        --------
        >>> Dimension.flat("age_group", ["u25", "25plus"]).levels
        ('total', 'u25', '25plus')
        """
        codes = [str(c) for c in codes]
        if total is None:
            return cls(name, codes)
        return cls(name, [str(total), *[c for c in codes if c != str(total)]], total=str(total))


def _as_dimension(d, frame: pd.DataFrame | None) -> Dimension:
    if isinstance(d, Dimension):
        return d
    if isinstance(d, Mapping):
        return Dimension.from_dict(d)
    if isinstance(d, str):
        if frame is None or d not in frame.columns:
            raise TableError(f"No column {d!r} to take the levels of dimension {d!r} from.")
        return Dimension.flat(d, pd.unique(frame[d].astype(str)), total=None)
    raise TableError(f"A dimension must be a Dimension, a dict or a column name, not {d!r}.")


def _check_counts(values: np.ndarray, where: str) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    bad = ~np.isfinite(v)
    if bad.any():
        raise TableError(f"{where}: counts must be numbers; found a missing value.")
    if (v < 0).any():
        raise TableError(f"{where}: counts must be non-negative; found {v[v < 0][:3].tolist()}.")
    if (v != np.round(v)).any():
        raise TableError(f"{where}: counts must be whole numbers (unweighted); found {v[v != np.round(v)][:3].tolist()}.")
    return v.astype(np.int64)


class CountTable:
    """Unweighted counts for every combination of levels, margins included.

    Parameters
    ----------
    dimensions : sequence of Dimension
    values : array of int
        Shape ``tuple(len(d) for d in dimensions)``; margins must add up.
    measure : str
        What is counted; part of every cell's key (``"respondents"``, ``"n:testing_12m"``).
    fixed : mapping of str to str, optional
        Coordinates the whole table sits at in a batch (``{"country": "PRY"}``).
    table_id : str, optional

    Raises
    ------
    TableError
        If counts are negative, fractional or missing, or a margin is not the sum of its parts.
    """

    def __init__(self, dimensions: Sequence[Dimension], values, *, measure: str = "count",
                 fixed: Mapping[str, str] | None = None, table_id: str | None = None):
        self.dimensions = tuple(dimensions)
        names = [d.name for d in self.dimensions]
        if len(set(names)) != len(names):
            raise TableError(f"A table cannot use the same dimension twice: {names}.")
        self.fixed = {str(k): str(v) for k, v in (fixed or {}).items()}
        clash = set(self.fixed) & set(names)
        if clash:
            raise TableError(f"{sorted(clash)} cannot be both a dimension and a fixed coordinate of the table.")
        self.measure = str(measure)
        self.table_id = table_id
        shape = tuple(len(d) for d in self.dimensions)
        arr = np.asarray(values)
        if arr.shape != shape:
            raise TableError(f"Values of shape {arr.shape} do not fit dimensions of sizes {shape}.")
        self.values = _check_counts(arr, self._where())
        self._check_margins()

    def _where(self) -> str:
        return f"Table {self.table_id!r}" if self.table_id else f"Table of {self.measure!r}"

    @property
    def shape(self) -> tuple[int, ...]:
        return self.values.shape

    @property
    def size(self) -> int:
        return int(self.values.size)

    # ---- construction -----------------------------------------------------------------
    @classmethod
    def from_frame(cls, frame: pd.DataFrame, dimensions: Sequence, *, count: str = "count", measure: str = "count",
                   fixed: Mapping[str, str] | None = None, table_id: str | None = None,
                   fill_value: int | None = 0) -> "CountTable":
        """Build a table from a tidy frame: one row per cell, one column per dimension, and the count.

        Rows at margins (a dimension at its total, or at a parent level) are optional: missing
        margins are computed from the cells below them; margins that are given must add up.

        Parameters
        ----------
        frame : DataFrame
        dimensions : sequence of Dimension, dict or str
            A plain column name makes a dimension without margin, levels in order of appearance.
        count : str
            The count column.
        measure, fixed, table_id
            See :class:`CountTable`.
        fill_value : int or None
            Count of a bottom-level combination that has no row (0, as in ``value_counts``);
            ``None`` makes a missing combination an error.

        Raises
        ------
        TableError
            Unknown codes, duplicated cells, negative or fractional counts, margins that do not add up.

        Examples
        --------
        >>> import pandas as pd
        >>> f = pd.DataFrame({"sex": ["f", "f", "m", "m"], "age": ["y", "o", "y", "o"], "count": [1, 9, 6, 4]})
        >>> t = CountTable.from_frame(f, [Dimension.flat("sex", ["f", "m"]), Dimension.flat("age", ["y", "o"])])
        >>> t.values.tolist()
        [[20, 7, 13], [10, 1, 9], [10, 6, 4]]
        >>> bad = pd.concat([f, pd.DataFrame({"sex": ["total"], "age": ["total"], "count": [21]})])
        >>> CountTable.from_frame(bad, [Dimension.flat("sex", ["f", "m"]), Dimension.flat("age", ["y", "o"])])
        Traceback (most recent call last):
        ...
        research_kit.disclosure.model.TableError: Table of 'count': margins do not add up: sex=total, age=total is 21 but its parts add up to 20.
        """
        dims = [_as_dimension(d, frame) for d in dimensions]
        names = [d.name for d in dims]
        missing = [c for c in (*names, count) if c not in frame.columns]
        if missing:
            raise TableError(f"The frame has no column {', '.join(map(repr, missing))}; it has {list(frame.columns)}.")
        where = f"Table {table_id!r}" if table_id else f"Table of {measure!r}"
        counts = _check_counts(pd.to_numeric(frame[count], errors="coerce").to_numpy(float), where)
        pos = []
        for d in dims:
            codes = frame[d.name].astype(str).to_numpy()
            unknown = sorted(set(codes) - set(d.levels))
            if unknown:
                raise TableError(f"{where}: {d.name!r} has codes {unknown[:5]} that are not levels {list(d.levels)}.")
            pos.append(np.array([d.index(c) for c in codes], dtype=np.int64))
        shape = tuple(len(d) for d in dims)
        flat = np.ravel_multi_index(tuple(pos), shape) if dims else np.zeros(len(frame), dtype=np.int64)
        uniq, n_rows = np.unique(flat, return_counts=True)
        if (n_rows > 1).any():
            dup = np.unravel_index(uniq[n_rows > 1][0], shape)
            label = ", ".join(f"{d.name}={d.levels[i]}" for d, i in zip(dims, dup))
            raise TableError(f"{where}: the cell {label} appears on more than one row.")
        given = np.zeros(shape, dtype=bool)
        values = np.zeros(shape, dtype=np.int64)
        given.flat[flat] = True
        values.flat[flat] = counts
        bottom = np.ones(shape, dtype=bool)
        for axis, d in enumerate(dims):
            is_leaf = np.array([v not in d.hierarchy for v in d.levels])
            bottom &= is_leaf.reshape([-1 if a == axis else 1 for a in range(len(dims))])
        absent = bottom & ~given
        if absent.any():
            if fill_value is None:
                idx = np.unravel_index(np.flatnonzero(absent)[0], shape)
                label = ", ".join(f"{d.name}={d.levels[i]}" for d, i in zip(dims, idx))
                raise TableError(f"{where}: no row for the cell {label}.")
            values[absent] = int(fill_value)
        full = _fill_margins(values, dims, bottom)
        mismatch = given & (full != values)
        if mismatch.any():
            idx = np.unravel_index(np.flatnonzero(mismatch)[0], shape)
            label = ", ".join(f"{d.name}={d.levels[i]}" for d, i in zip(dims, idx))
            raise TableError(f"{where}: margins do not add up: {label} is {values[idx]} but its parts add up to {full[idx]}.")
        return cls(dims, full, measure=measure, fixed=fixed, table_id=table_id)

    def _check_margins(self) -> None:
        bottom = np.ones(self.shape, dtype=bool)
        for axis, d in enumerate(self.dimensions):
            is_leaf = np.array([v not in d.hierarchy for v in d.levels])
            bottom &= is_leaf.reshape([-1 if a == axis else 1 for a in range(len(self.dimensions))])
        full = _fill_margins(np.where(bottom, self.values, 0), self.dimensions, bottom)
        mismatch = full != self.values
        if mismatch.any():
            idx = np.unravel_index(np.flatnonzero(mismatch)[0], self.shape)
            raise TableError(f"{self._where()}: margins do not add up: {self.cell_label(idx)} is {self.values[idx]} "
                             f"but its parts add up to {full[idx]}.")

    # ---- cells ------------------------------------------------------------------------
    def cell_label(self, idx) -> str:
        return ", ".join(f"{d.name}={d.levels[i]}" for d, i in zip(self.dimensions, idx))

    def key(self, idx) -> Key:
        """The key of the cell at positions ``idx`` (one per dimension)."""
        coords = dict(self.fixed)
        for d, i in zip(self.dimensions, idx):
            code = d.levels[i]
            if not d.is_total(code):
                coords[d.name] = code
        return (self.measure, tuple(sorted(coords.items())))

    def keys(self) -> list[Key]:
        """Keys of every cell, in C order of ``values``."""
        return [self.key(idx) for idx in np.ndindex(*self.shape)]

    def equations(self) -> sparse.csr_matrix:
        """Every margin relation as a row ``parent - sum(children) = 0`` over the cells in C order."""
        return equations_for(self.dimensions)

    def to_frame(self, value: str = "count") -> pd.DataFrame:
        """The table as a tidy frame, one row per cell (margins included), codes as strings."""
        idx = list(np.ndindex(*self.shape))
        data = {d.name: [d.levels[i[a]] for i in idx] for a, d in enumerate(self.dimensions)}
        data[value] = self.values.ravel()
        return pd.DataFrame(data)

    def spec(self) -> dict:
        """Dimensions, measure and fixed coordinates as plain data."""
        return {"dimensions": [d.to_dict() for d in self.dimensions], "measure": self.measure, "fixed": dict(self.fixed)}

    def __repr__(self) -> str:
        dims = " x ".join(f"{d.name}({len(d)})" for d in self.dimensions)
        return f"CountTable({self.measure!r}: {dims}, total {self.values.max() if self.size else 0})"


def equations_for(dimensions: Sequence[Dimension], *, shared: bool = False) -> sparse.csr_matrix:
    """Margin relations of a table with these dimensions: one row ``parent - sum(children) = 0``
    for every parent level of every dimension and every combination of the other dimensions'
    levels, over the cells in C order.

    Parameters
    ----------
    dimensions : sequence of Dimension
    shared : bool
        Return the matrix kept for tables of this shape itself, not a copy (for callers that
        only read it; the batch audit builds thousands of tables' relations).

    Examples
    --------
    >>> equations_for([Dimension.flat("age", ["y", "o"])]).toarray().tolist()
    [[1.0, -1.0, -1.0]]
    """
    # Only the shape and the hierarchy's positions matter: a batch's tables share a few structures.
    eqs = _equations(tuple((len(d), tuple(d.equations())) for d in dimensions))
    return eqs if shared else eqs.copy()


@lru_cache(maxsize=512)
def _equations(structure: tuple) -> sparse.csr_matrix:
    shape = tuple(n for n, _eqs in structure)
    size = int(np.prod(shape)) if shape else 1
    cells = np.arange(size).reshape(shape)
    rows, cols, vals = [], [], []
    n_rows = 0
    for axis, (_n, equations) in enumerate(structure):
        for p, children in equations:
            par = np.take(cells, p, axis=axis).ravel()
            ch = np.stack([np.take(cells, c, axis=axis).ravel() for c in children], axis=1)
            r = n_rows + np.arange(len(par))
            rows += [r, np.repeat(r, len(children))]
            cols += [par, ch.ravel()]
            vals += [np.ones(len(par)), -np.ones(ch.size)]
            n_rows += len(par)
    if not n_rows:
        return sparse.csr_matrix((0, size))
    return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(n_rows, size))


def _fill_margins(values: np.ndarray, dims: Sequence[Dimension], bottom: np.ndarray) -> np.ndarray:
    """Margins recomputed from the bottom-level cells, one dimension after the other."""
    out = np.where(bottom, values, 0).astype(np.int64)
    for axis, d in enumerate(dims):
        for p in d.bottom_up():
            children = [d.index(c) for c in d.children(p)]
            sl = [slice(None)] * len(dims)
            sl[axis] = d.index(p)
            out[tuple(sl)] = np.take(out, children, axis=axis).sum(axis=axis)
    return out
