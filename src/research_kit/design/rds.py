"""Respondent-driven sampling (RDS): design, estimators and diagnostics.

:class:`RDSDesign` holds an RDS sample (who recruited whom, and each
respondent's network size) and returns tidy tables of estimates matching R's
``RDS`` package (Handcock, Gile, Fellows & Neely, version 0.9-10):

* RDS-I (Salganik & Heckathorn 2004) — R ``RDS.I.estimates``;
* RDS-II (Volz & Heckathorn 2008) — R ``RDS.II.estimates``;
* SS, Gile's successive-sampling estimator (Gile 2011) — R ``RDS.SS.estimates``;
* standard errors and design effects as R prints them (R's ``EL.se``
  linearisation), and bootstrap intervals as R's ``RDS.bootstrap.intervals``
  (Salganik's chain bootstrap; also the tree bootstrap);
* diagnostics: recruitment waves, transition counts and matrix, homophily,
  differential activity, convergence and bottleneck plots.

Conventions that differ from R are listed in :class:`RDSDesign`'s notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from research_kit.design import _rds_estimators as est
from research_kit.design import _rds_diagnostics as _diag
from research_kit.design._rds_bootstrap import salganik_replicates, tree_replicates
from research_kit.design._rds_diagnostics import (
    bottleneck,
    convergence,
    differential_activity,
    homophily,
    plot_bottleneck,
    plot_convergence,
    plot_transitions,
    plot_waves,
    recruitment_homophily,
    recruitment_waves,
    stationary_distribution,
    transition_counts,
    transition_matrix,
    wave_counts,
)
from research_kit.design._rds_ss import SSMapping, ss_inclusion, ss_weights
from research_kit.design._rds_tree import RecruitmentTree, build_tree, forest_arrays, normalise_ids
from research_kit.errors import DesignError, EstimationError, ParameterError

__all__ = [
    "RDSDesign",
    "ESTIMATORS",
    "recruitment_waves",
    "wave_counts",
    "transition_counts",
    "transition_matrix",
    "stationary_distribution",
    "homophily",
    "recruitment_homophily",
    "differential_activity",
    "convergence",
    "bottleneck",
    "plot_waves",
    "plot_convergence",
    "plot_bottleneck",
    "plot_transitions",
]

#: Estimator names accepted by :meth:`RDSDesign.proportion` and friends.
ESTIMATORS = ("RDS-I", "RDS-II", "SS")
_CI_METHODS = ("analytic", "logit", "bootstrap", "treeboot", None)
_ESTIMATOR_ALIASES = {
    "rds-i": "RDS-I",
    "rdsi": "RDS-I",
    "rds1": "RDS-I",
    "rds-ii": "RDS-II",
    "rdsii": "RDS-II",
    "rds2": "RDS-II",
    "vh": "RDS-II",
    "ss": "SS",
    "gile's ss": "SS",
    "gile": "SS",
}
_CI_ALIASES = {"el": "analytic", "salganik": "bootstrap", "tree": "treeboot"}


def _estimator_name(estimator: str) -> str:
    if not isinstance(estimator, str) or estimator.lower() not in _ESTIMATOR_ALIASES:
        raise ParameterError(
            f"Unknown RDS estimator {estimator!r}; use one of {', '.join(ESTIMATORS)}."
        )
    return _ESTIMATOR_ALIASES[estimator.lower()]


def _ci_name(ci: str | None) -> str | None:
    if ci is None:
        return None
    key = str(ci).lower()
    key = _CI_ALIASES.get(key, key)
    if key not in _CI_METHODS:
        raise ParameterError(
            f"Unknown ci={ci!r}; use 'analytic' (R's printed s.e.), 'logit' (the same s.e., interval on the "
            "logit scale), 'bootstrap' (Salganik), 'treeboot' or None."
        )
    return key


def _interval(p: float, se: float, z: float, method: str | None) -> tuple[float, float]:
    """Wald interval, or for ``"logit"`` the interval on the logit scale (delta method, as svyciprop)."""
    if not np.isfinite(se):
        return np.nan, np.nan
    if method != "logit":
        return p - z * se, p + z * se
    if p <= 0 or p >= 1:
        return p, p  # nothing to spread on the logit scale; disclosure control hides such groups
    half = z * se / (p * (1 - p))
    centre = np.log(p / (1 - p))
    return float(1 / (1 + np.exp(-(centre - half)))), float(1 / (1 + np.exp(-(centre + half))))


def _z(level: float) -> float:
    from scipy.stats import norm

    if not 0 < level < 1:
        raise ParameterError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}.")
    return float(norm.ppf(0.5 + level / 2))


@dataclass
class _Outcome:
    """A variable coded for estimation.

    ``codes`` are level codes 0..k-1 (``-1`` = missing) in R's order (sorted
    levels). ``numeric`` marks a 0/1 numeric variable, which R estimates as a
    mean and whose design effect it computes from the weighted variance;
    ``report`` lists the level codes that appear as rows of the result.
    """

    name: str
    levels: list[Any]
    codes: np.ndarray
    numeric: bool
    report: list[int]
    values: np.ndarray | None = None  # numeric values for means


def _code_variable(series: pd.Series, name: str) -> _Outcome:
    s = series
    missing = s.isna().to_numpy()
    if pd.api.types.is_bool_dtype(s.dtype) or _is_bool_object(s):
        vals = s.map(lambda v: None if pd.isna(v) else bool(v))
        levels = sorted({v for v in vals.tolist() if v is not None})
        code_of = {v: i for i, v in enumerate(levels)}
        codes = np.array([-1 if v is None else code_of[v] for v in vals.tolist()], dtype=np.int64)
        report = [code_of[True]] if True in code_of else []
        return _Outcome(name, levels, codes, numeric=False, report=report)
    if pd.api.types.is_numeric_dtype(s.dtype):
        x = s.to_numpy(dtype=float, na_value=np.nan)
        observed = np.unique(x[~np.isnan(x)])
        if set(observed.tolist()) <= {0.0, 1.0}:
            # R treats a numeric 0/1 variable as numeric: the result is the
            # share of 1s, with its design effect from the weighted variance.
            levels = [0, 1]
            codes = np.where(np.isnan(x), -1, x).astype(np.int64)
            return _Outcome(name, levels, codes, numeric=True, report=[1], values=x)
        levels = observed.tolist()
        levels = [int(v) if float(v).is_integer() else v for v in levels]
        code_of = {float(v): i for i, v in enumerate(levels)}
        codes = np.array([-1 if np.isnan(v) else code_of[v] for v in x], dtype=np.int64)
        return _Outcome(name, levels, codes, numeric=False, report=list(range(len(levels))))
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = set(s.dropna().tolist())
        levels = [c for c in s.cat.categories.tolist() if c in present]
    else:
        # R sorts factor levels alphabetically.
        levels = sorted(set(s.dropna().tolist()), key=lambda v: str(v))
    code_of = {v: i for i, v in enumerate(levels)}
    codes = np.array([-1 if m else code_of[v] for v, m in zip(s.tolist(), missing)], dtype=np.int64)
    return _Outcome(name, levels, codes, numeric=False, report=list(range(len(levels))))


def _is_bool_object(s: pd.Series) -> bool:
    if s.dtype != object:
        return False
    vals = s.dropna()
    return len(vals) > 0 and all(isinstance(v, (bool, np.bool_)) for v in vals.tolist())


@dataclass
class _Core:
    """Arrays of one (sub-)sample: everything the estimators need."""

    parent: np.ndarray
    degree: np.ndarray
    wave: np.ndarray
    seed_row: np.ndarray
    child_ptr: np.ndarray
    child_idx: np.ndarray
    population_size: float | None  # rounded as R rounds a subset's N
    population_size_exact: float | None  # unrounded, as R's bootstrap uses it
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return len(self.parent)

    def vh(self, scaled: bool = True) -> np.ndarray:
        key = ("vh", scaled)
        if key not in self._cache:
            self._cache[key] = est.vh_weights(self.degree, self.population_size if scaled else None)
        return self._cache[key]

    def ss_mapping(self, seed: Any, n_draws: int, n_iterations: int) -> SSMapping:
        if self.population_size is None:
            raise ParameterError(
                "The SS estimator needs the population size: give RDSDesign(..., population_size=N)."
            )
        key = ("ss", _seed_key(seed), n_draws, n_iterations)
        if key not in self._cache:
            rng = np.random.default_rng(seed)
            self._cache[key] = ss_inclusion(
                self.degree, self.population_size, rng, n_iterations=n_iterations, n_draws=n_draws
            )
        return self._cache[key]

    def weights(
        self, estimator: str, outcome: _Outcome | None, seed: Any = None, n_draws: int = 500, n_iterations: int = 5
    ) -> np.ndarray:
        """Weights on R's scale: summing to N when it is known.

        Without N, RDS-II keeps R's raw scale (``sum(d)/(n d_i)``) and RDS-I
        weights sum to the number of observed cases (R's sum to 1 makes its
        numeric design effect degenerate: see ``RDSDesign`` notes).
        """
        n_pop = self.population_size
        if estimator == "RDS-II":
            return self.vh()
        if estimator == "SS":
            return ss_weights(self.degree, self.ss_mapping(seed, n_draws, n_iterations))
        if outcome is None:
            raise ParameterError("RDS-I weights depend on the variable: pass variable=... .")
        key = ("rds-i", outcome.name, id(outcome.codes))
        if key not in self._cache:
            k = len(outcome.levels)
            w = est.rds_i_weights(self.parent, outcome.codes, k, self.degree, n_pop)
            if n_pop is None:
                w = w * np.sum(outcome.codes >= 0) / w.sum()
            self._cache[key] = w
        return self._cache[key]


def _as_method(func):
    """Expose a diagnostics function as a method of :class:`RDSDesign`."""

    def method(self, *args, **kwargs):
        return func(self, *args, **kwargs)

    method.__name__ = func.__name__
    method.__qualname__ = f"RDSDesign.{func.__name__}"
    method.__doc__ = f"Same as :func:`research_kit.design.rds.{func.__name__}` applied to this design."
    return method


def _seed_key(seed: Any) -> Any:
    if seed is None or isinstance(seed, (int, np.integer, str)):
        return seed
    return id(seed)


class RDSDesign:
    """A respondent-driven sample: recruitment tree, network sizes and estimators.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    respondent : str
        Column with each respondent's id (usually the coupon they brought).
    recruiter : str
        Column with the recruiter's id. Seeds have it missing, empty or equal
        to ``seed_marker``.
    degree : str
        Column with the network size (number of people the respondent knows in
        the target population). Must be a positive number for every row.
    population_size : float, optional
        Size ``N`` of the target population. Needed by SS; when given, the
        standard errors and design effects include the finite-population
        correction ``(N - n)/(N - 1)`` as R applies it.
    seed_marker : str or None, default "seed"
        Recruiter value that marks a seed (R's example data use ``"seed"``).

    Raises
    ------
    DesignError
        For a missing column, missing or duplicated respondent ids, a
        recruiter id that matches nobody, self-recruitment, a recruitment
        cycle, a missing, non-numeric or non-positive network size, or a
        population size smaller than the sample. The message names the rows
        and ids and says what to fix.

    Notes
    -----
    Where R's RDS package and this class differ:

    * R silently replaces a missing or zero network size with the largest
      one; here it is an error, because the weight of that respondent would
      be invented.
    * Confidence intervals use the exact normal quantile for ``level``; R's
      ``RDS.*.estimates`` print ``estimate ± 1.96 s.e.`` (the s.e. itself is
      identical).
    * Without a population size R's RDS-I weights sum to 1, which makes its
      design effect for a numeric 0/1 variable print as 0; here they sum to
      the number of observed cases so the design effect is meaningful.
    * The Salganik bootstrap follows the method; R's implementation (0.9-10)
      walks a relabelled chain when the first row's level is not the
      alphabetically first (``r_compat=True`` reproduces it, see
      :meth:`proportion`).
    * A 0/1 numeric variable is, as in R, estimated as a mean (design effect
      from the weighted variance); a boolean or text variable as a factor
      (design effect from ``p(1-p)``).

    Examples
    --------
    >>> import pandas as pd
    >>> from research_kit.design import RDSDesign
    >>> df = pd.DataFrame({
    ...     "coupon": ["A", "B", "C", "D", "E", "F"],
    ...     "recruiter_coupon": ["seed", "A", "A", "B", None, "E"],
    ...     "network_size": [10, 5, 20, 8, 4, 10],
    ...     "hiv_positive": [1, 0, 1, 0, 0, 1],
    ... })
    >>> r = RDSDesign(df, respondent="coupon", recruiter="recruiter_coupon",
    ...                         degree="network_size")
    >>> r.n, r.n_seeds
    (6, 2)
    >>> r.proportion("hiv_positive")[["level", "estimate", "n", "n_event"]].round(4)
       level  estimate  n  n_event
    0      1     0.303  6        3
    """

    def __init__(
        self,
        data: pd.DataFrame,
        respondent: str,
        recruiter: str,
        degree: str,
        population_size: float | None = None,
        *,
        seed_marker: str | None = "seed",
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise DesignError(f"RDSDesign needs a pandas DataFrame, got {type(data).__name__}.")
        for role, col in (("respondent", respondent), ("recruiter", recruiter), ("degree", degree)):
            if col not in data.columns:
                raise DesignError(
                    f"The {role} column {col!r} is not in the data; columns are {list(map(str, data.columns))}. "
                    f"Pass {role}=<column name>."
                )
        if len(data) == 0:
            raise DesignError("The data have no rows: an RDS design needs at least one respondent.")
        # A view of the caller's frame without its metadata (``attrs``), which pandas would
        # deep-copy into every intermediate result of every estimate.
        self._data = data.copy(deep=False)
        self._data.attrs = {}
        self.respondent = respondent
        self.recruiter = recruiter
        self.degree_column = degree
        self.seed_marker = seed_marker
        labels = list(data.index)

        deg_raw = data[degree]
        deg = pd.to_numeric(deg_raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad_type = np.flatnonzero(np.isnan(deg) & deg_raw.notna().to_numpy())
        if len(bad_type):
            rows = [labels[k] for k in bad_type]
            vals = [deg_raw.iloc[k] for k in bad_type]
            raise DesignError(
                f"Network size ({degree!r}) is not a number in rows {rows[:10]} (values {vals[:10]}). "
                "Enter the number of people the respondent knows in the population."
            )

        ids = normalise_ids(data[respondent])
        rec = normalise_ids(data[recruiter])
        self._tree: RecruitmentTree = build_tree(ids, rec, labels, seed_marker)

        bad = np.flatnonzero(~(deg > 0))  # catches NaN too
        if len(bad):
            rows = [labels[k] for k in bad]
            which = [ids[k] for k in bad]
            raise DesignError(
                f"Network size ({degree!r}) is missing or not positive for {len(bad)} respondent(s): "
                f"ids {which[:10]} (rows {rows[:10]}){' ...' if len(bad) > 10 else ''}. "
                "Every respondent must report at least 1 contact (they were recruited by one); "
                "correct the values, or impute them explicitly before building the design."
            )
        if not np.all(np.isfinite(deg)):
            raise DesignError(f"Network size ({degree!r}) has infinite values; correct them.")

        n = len(data)
        if population_size is not None:
            try:
                population_size = float(population_size)
            except (TypeError, ValueError):
                raise DesignError(f"population_size must be a number, got {population_size!r}.") from None
            if not np.isfinite(population_size) or population_size < n:
                raise DesignError(
                    f"The population size, {population_size:g}, is smaller than the sample size, {n}. "
                    "It must be at least as large as the sample; check the size estimate."
                )
        self.population_size = population_size
        t = self._tree
        self._core = _Core(
            parent=t.parent,
            degree=deg,
            wave=t.wave,
            seed_row=t.seed_row,
            child_ptr=t.child_ptr,
            child_idx=t.child_idx,
            population_size=population_size,
            population_size_exact=population_size,
        )

    # ------------------------------------------------------------------ basics
    @property
    def data(self) -> pd.DataFrame:
        """The data the design was built from (a view of the same columns, not a copy)."""
        return self._data

    @property
    def n(self) -> int:
        """Number of respondents."""
        return self._core.n

    @property
    def n_seeds(self) -> int:
        """Number of seeds."""
        return int(np.sum(self._core.parent < 0))

    @property
    def wave(self) -> pd.Series:
        """Recruitment wave of each respondent (0 for seeds), indexed like the data."""
        return pd.Series(self._core.wave, index=self._data.index, name="wave")

    def __repr__(self) -> str:
        n_pop = "unknown" if self.population_size is None else f"{self.population_size:g}"
        return (
            f"RDSDesign(n={self.n}, seeds={self.n_seeds}, max wave={int(self._core.wave.max())}, "
            f"population size={n_pop})"
        )

    def _outcome(self, variable: str, frame: pd.DataFrame | None = None) -> _Outcome:
        frame = self._data if frame is None else frame
        if variable not in frame.columns:
            raise EstimationError(
                f"No variable called {variable!r} in the data; columns are {list(map(str, frame.columns))}."
            )
        return _code_variable(frame[variable], variable)

    # ---------------------------------------------------------------- weights
    def weights(
        self,
        estimator: str = "RDS-II",
        variable: str | None = None,
        *,
        scale: str = "sample",
        seed: Any = None,
        n_ss_samples: int = 500,
        n_ss_iterations: int = 5,
    ) -> pd.Series:
        """Per-respondent weights of an estimator.

        Parameters
        ----------
        estimator : {"RDS-II", "RDS-I", "SS"}
        variable : str, optional
            Needed for RDS-I, whose weights depend on the grouping variable
            (R ``rds.I.weights``); respondents with it missing get weight 0.
        scale : {"sample", "population"}
            ``"sample"`` makes the weights sum to the number of respondents
            they cover (``n``; for RDS-I those with ``variable`` observed);
            ``"population"`` to the population size.
        seed : int or numpy Generator, optional
            Random seed for SS's simulation (R ``gile.ss.weights``).
        n_ss_samples, n_ss_iterations : int
            R's ``number.ss.samples.per.iteration`` and ``number.ss.iterations``.

        Returns
        -------
        pandas.Series
            Indexed like the data, named ``weight``.

        Examples
        --------
        >>> import pandas as pd
        >>> from research_kit.design import RDSDesign
        >>> df = pd.DataFrame({"id": [1, 2, 3], "rec": [None, 1, 1], "deg": [2, 4, 4]})
        >>> RDSDesign(df, "id", "rec", "deg").weights().tolist()
        [1.5, 0.75, 0.75]
        """
        name = _estimator_name(estimator)
        outcome = self._outcome(variable) if variable is not None else None
        w = self._core.weights(name, outcome, seed, n_ss_samples, n_ss_iterations).astype(float)
        if scale == "sample":
            # RDS-I gives no weight to respondents with the variable missing.
            n_used = self.n if outcome is None or name != "RDS-I" else int(np.sum(outcome.codes >= 0))
            w = w * n_used / w.sum()
        elif scale == "population":
            if self.population_size is None:
                raise ParameterError("scale='population' needs RDSDesign(..., population_size=N).")
            w = w * self.population_size / w.sum()
        else:
            raise ParameterError(f"scale must be 'sample' or 'population', got {scale!r}.")
        return pd.Series(w, index=self._data.index, name="weight")

    # --------------------------------------------------------------- estimates
    def _subdesigns(self, by: Sequence[str] | str | None,
                    columns: Sequence[str] | None = None) -> list[tuple[tuple, _Core, pd.DataFrame]]:
        """Each group's key, sub-sample and rows; only ``columns`` of the rows when given (the
        data are wide, and an estimate reads one column)."""
        if by is None:
            return [((), self._core, self._data)]
        data = self._data if columns is None else self._data[[c for c in dict.fromkeys(columns) if c in self._data]]
        cols = [by] if isinstance(by, str) else list(by)
        for c in cols:
            if c not in self._data.columns:
                raise EstimationError(f"by column {c!r} is not in the data.")
        # The groups and their sub-samples are the same for every variable: worked out once per ``by``.
        cache = self.__dict__.setdefault("_subdesign_cache", {})
        if tuple(cols) not in cache:
            groups = self._data.groupby(cols, sort=True, dropna=True, observed=True).indices
            vh = est.vh_weights(self._core.degree)
            vh = vh / vh.sum()
            parts = []
            for key, rows in groups.items():
                key = key if isinstance(key, tuple) else (key,)
                rows = np.sort(rows)
                parts.append((key, rows, self._sub_core(rows, vh)))
            cache[tuple(cols)] = parts
        return [(key, core, data.iloc[rows]) for key, rows, core in cache[tuple(cols)]]

    def _sub_core(self, rows: np.ndarray, vh_share: np.ndarray | None) -> _Core:
        """Sub-sample as R's ``rds.data.frame`` subsetting builds it.

        Respondents whose recruiter is outside the subset become seeds, and
        the sub-population size is ``N`` times the RDS-II estimated share of
        the subset (rounded for the estimates, unrounded for the bootstrap,
        as in R's ``RDS.estimates.local`` and ``RDS.bootstrap.intervals``).
        With ``vh_share=None`` the population size is kept (R's cumulative
        estimates subset the data frame and keep its N).
        """
        c = self._core
        pos = np.full(c.n, -1)
        pos[rows] = np.arange(len(rows))
        par = c.parent[rows]
        new_parent = np.where(par >= 0, pos[np.maximum(par, 0)], -1)
        wave, seed_row, child_ptr, child_idx = forest_arrays(new_parent)
        n_pop = n_exact = None
        if self.population_size is not None and vh_share is None:
            n_pop = n_exact = self.population_size
        elif self.population_size is not None:
            n_exact = self.population_size * float(np.sum(vh_share[rows]))
            n_pop = float(round(n_exact))
            if n_pop < len(rows):
                raise EstimationError(
                    f"Estimated sub-population size {n_pop:g} is smaller than the subgroup's sample size {len(rows)}."
                )
        return _Core(new_parent, c.degree[rows], wave, seed_row, child_ptr, child_idx, n_pop, n_exact)

    def proportion(
        self,
        variable: str,
        by: str | Sequence[str] | None = None,
        estimator: str = "RDS-II",
        ci: str | None = "analytic",
        n_boot: int = 1000,
        seed: Any = None,
        level: float = 0.95,
        *,
        r_compat: bool = False,
        n_ss_samples: int = 500,
        n_ss_iterations: int = 5,
    ) -> pd.DataFrame:
        """Estimated population proportions of a categorical or 0/1 variable.

        Parameters
        ----------
        variable : str
            Column to estimate. A 0/1 or boolean variable gives one row (the
            share with the attribute); any other variable one row per
            observed level, in sorted order. Missing values are left out.
        by : str or list of str, optional
            Estimate separately within each group of these columns. As R's
            ``subset``: respondents whose recruiter is in another group become
            seeds of the subgroup, and the subgroup's population size is ``N``
            times its RDS-II estimated share.
        estimator : {"RDS-II", "RDS-I", "SS"}
            RDS-II (Volz–Heckathorn, R ``RDS.II.estimates``), RDS-I
            (Salganik–Heckathorn, ``RDS.I.estimates``) or Gile's SS
            (``RDS.SS.estimates``, needs ``population_size``).
        ci : {"analytic", "logit", "bootstrap", "treeboot", None}
            ``"analytic"``: the standard error R's ``RDS.*.estimates`` print
            (``EL.se``), interval ``estimate ± z s.e.``. ``"logit"``: the same
            standard error, with the interval built on the logit scale
            (``expit(logit(p) ± z s.e. / (p(1 − p)))``, as R's ``svyciprop``
            method ``"logit"`` does for survey designs), so it stays within
            0–1 for rare attributes; reports use it. ``"bootstrap"``:
            Salganik's bootstrap as R's ``RDS.bootstrap.intervals(uncertainty
            = "Salganik")`` (s.e. = standard deviation of the replicates,
            interval ``estimate ± z s.e.``). ``"treeboot"``: tree bootstrap
            (Baraff et al. 2016). ``None``: estimates only.
        n_boot : int
            Bootstrap replicates.
        seed : int or numpy Generator, optional
            Random seed for the bootstrap and for SS's simulation.
        level : float
            Confidence level of the interval.
        r_compat : bool, default False
            Reproduce R 0.9-10's relabelled bootstrap chain (see
            :func:`research_kit.design._rds_bootstrap.salganik_replicates`);
            only to compare with R's output.
        n_ss_samples, n_ss_iterations : int
            SS simulation size (R's defaults 500 and 5).

        Returns
        -------
        pandas.DataFrame
            Columns: the ``by`` columns, ``level``, ``estimate``, ``se``,
            ``ci_low``, ``ci_high``, ``deff`` (design effect: ``se^2`` over the
            variance of a simple random sample of ``n``), ``n`` (non-missing
            cases used) and ``n_event`` (cases at that level).

        Examples
        --------
        >>> import pandas as pd
        >>> from research_kit.design import RDSDesign
        >>> df = pd.DataFrame({
        ...     "coupon": [1, 2, 3, 4, 5, 6],
        ...     "recruiter_coupon": [None, 1, 1, 2, None, 5],
        ...     "network_size": [10, 5, 20, 8, 4, 10],
        ...     "site": ["a", "b", "a", "b", "a", "b"],
        ... })
        >>> r = RDSDesign(df, "coupon", "recruiter_coupon", "network_size")
        >>> out = r.proportion("site", ci=None)
        >>> out[["level", "estimate", "n_event"]].round(4)
          level  estimate  n_event
        0     a    0.4848        3
        1     b    0.5152        3
        """
        name = _estimator_name(estimator)
        method = _ci_name(ci)
        z = _z(level)
        if method in ("bootstrap", "treeboot") and (not isinstance(n_boot, (int, np.integer)) or n_boot < 2):
            raise ParameterError(f"n_boot must be an integer of at least 2, got {n_boot!r}.")
        rng = np.random.default_rng(seed)
        by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
        records = []
        self._outcome(variable)  # a clear error for a variable that is not in the data
        for key, core, frame in self._subdesigns(by, columns=[variable]):
            outcome = self._outcome(variable, frame)
            for row in self._estimate_one(
                core, outcome, name, method, n_boot, rng, z, r_compat, seed, n_ss_samples, n_ss_iterations
            ):
                records.append(dict(zip(by_cols, key)) | row)
        cols = by_cols + ["level", "estimate", "se", "ci_low", "ci_high", "deff", "n", "n_event"]
        out = pd.DataFrame.from_records(records, columns=cols)
        out["n"] = out["n"].astype("int64")
        out["n_event"] = out["n_event"].astype("int64")
        return out

    def _estimate_one(
        self,
        core: _Core,
        outcome: _Outcome,
        name: str,
        method: str | None,
        n_boot: int,
        rng: np.random.Generator,
        z: float,
        r_compat: bool,
        seed: Any,
        n_ss_samples: int,
        n_ss_iterations: int,
    ) -> list[dict]:
        codes = outcome.codes
        k = len(outcome.levels)
        observed = codes >= 0
        n_obs = int(observed.sum())
        if n_obs == 0:
            # An empty domain (e.g. no one under 25 reports living with HIV) is a fact, not an error:
            # report it with n = 0, as SurveyDesign does, and let disclosure control hide it.
            nan = float("nan")
            return [{"level": outcome.levels[g], "estimate": nan, "se": nan, "ci_low": nan, "ci_high": nan,
                     "deff": nan, "n": 0, "n_event": 0} for g in outcome.report]
        ss_seed = seed if seed is not None else rng
        w = core.weights(name, outcome, ss_seed, n_ss_samples, n_ss_iterations)
        wo = np.where(observed, w, 0.0)
        shares = np.bincount(codes[observed], weights=wo[observed], minlength=k) / wo.sum()
        counts = np.bincount(codes[observed], minlength=k)

        boot_se = None
        if method in ("bootstrap", "treeboot") and k >= 2:
            ss_weight = None
            if name == "SS":
                mapping = core.ss_mapping(ss_seed, n_ss_samples, n_ss_iterations)
                ss_weight = mapping.weights_for
            if method == "bootstrap":
                reps = salganik_replicates(
                    codes, core.parent, core.wave, core.degree, k, name, n_boot, rng, ss_weight, r_compat
                )
            else:
                reps = tree_replicates(
                    codes, np.flatnonzero(core.parent < 0), core.child_ptr, core.child_idx,
                    core.degree, k, name, n_boot, rng, ss_weight,
                )
            # R drops replicates where the estimator failed (NaN) before taking sd.
            reps = reps[np.all(np.isfinite(reps), axis=1)]
            if len(reps) < 2:
                raise EstimationError("Fewer than two bootstrap replicates gave an estimate.")
            boot_se = reps.std(axis=0, ddof=1)
        elif method in ("bootstrap", "treeboot"):
            boot_se = np.zeros(k)

        rows = []
        if method in ("analytic", "logit"):
            indicators = np.where(observed[:, None], codes[:, None] == np.asarray(outcome.report)[None, :], np.nan)
            el = np.atleast_1d(est.el_se(w, indicators, core.population_size, n_total=core.n))
        for i, g in enumerate(outcome.report):
            p = float(shares[g])
            y = np.where(observed, (codes == g).astype(float), np.nan)
            if method is None:
                se = np.nan
            elif method in ("analytic", "logit"):
                se = float(el[i])
            else:
                se = float(boot_se[g])
            n_for_fpc = core.population_size if method in (None, "analytic", "logit") else core.population_size_exact
            if outcome.numeric:
                var_y = est.wtd_var(y, w)
            else:
                var_y = p * (1 - p)
            deff = est.design_effect(se, var_y, n_obs, n_for_fpc) if np.isfinite(se) else np.nan
            rows.append(
                {
                    "level": outcome.levels[g],
                    "estimate": p,
                    "se": se,
                    "ci_low": _interval(p, se, z, method)[0],
                    "ci_high": _interval(p, se, z, method)[1],
                    "deff": deff,
                    "n": n_obs,
                    "n_event": int(counts[g]),
                }
            )
        return rows

    def mean(
        self,
        variable: str,
        by: str | Sequence[str] | None = None,
        estimator: str = "RDS-II",
        ci: str | None = "analytic",
        level: float = 0.95,
        *,
        seed: Any = None,
    ) -> pd.DataFrame:
        """Estimated population mean of a numeric variable.

        Mirrors R ``RDS.II.estimates`` on a numeric variable: the weighted
        (Hajek) mean, R's ``EL.se`` standard error and a design effect from
        the weighted variance (R ``wtd.var``). ``estimator`` may be
        ``"RDS-II"`` (default) or ``"SS"``; RDS-I needs groups and is not
        defined for a continuous variable.

        Returns
        -------
        pandas.DataFrame
            ``by`` columns, then ``estimate``, ``se``, ``ci_low``, ``ci_high``,
            ``deff`` and ``n`` (non-missing cases).

        Examples
        --------
        >>> import pandas as pd
        >>> from research_kit.design import RDSDesign
        >>> df = pd.DataFrame({"id": [1, 2, 3, 4], "rec": ["seed", 1, 1, 2],
        ...                    "deg": [2, 4, 4, 2], "age": [30, 20, 40, 30]})
        >>> r = RDSDesign(df, "id", "rec", "deg")
        >>> float(r.mean("age")["estimate"].iloc[0])
        30.0
        """
        name = _estimator_name(estimator)
        if name == "RDS-I":
            raise ParameterError("mean() supports estimator='RDS-II' or 'SS'; RDS-I is defined for groups only.")
        method = _ci_name(ci)
        if method not in ("analytic", None):
            raise ParameterError("mean() supports ci='analytic' or None.")
        z = _z(level)
        by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
        records = []
        for key, core, frame in self._subdesigns(by):
            if variable not in frame.columns:
                raise EstimationError(f"No variable called {variable!r} in the data.")
            col = frame[variable]
            if not pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
                raise EstimationError(f"{variable!r} is not numeric; use proportion() for categories.")
            y = col.to_numpy(dtype=float, na_value=np.nan)
            ok = np.isfinite(y)
            if not ok.any():
                raise EstimationError(f"{variable!r} has no observed values.")
            w = core.weights(name, None, seed)
            m = float(np.sum(w[ok] * y[ok]) / np.sum(w[ok]))
            se = est.el_se(w, y, core.population_size, n_total=core.n) if method else np.nan
            deff = est.design_effect(se, est.wtd_var(y, w), int(ok.sum()), core.population_size) if method else np.nan
            records.append(
                dict(zip(by_cols, key))
                | {
                    "estimate": m,
                    "se": se,
                    "ci_low": m - z * se if method else np.nan,
                    "ci_high": m + z * se if method else np.nan,
                    "deff": deff,
                    "n": int(ok.sum()),
                }
            )
        return pd.DataFrame.from_records(records, columns=by_cols + ["estimate", "se", "ci_low", "ci_high", "deff", "n"])

    # ------------------------------------------------------------ diagnostics
    recruitment_waves = _as_method(_diag.recruitment_waves)
    wave_counts = _as_method(_diag.wave_counts)
    transition_counts = _as_method(_diag.transition_counts)
    transition_matrix = _as_method(_diag.transition_matrix)
    stationary_distribution = _as_method(_diag.stationary_distribution)
    homophily = _as_method(_diag.homophily)
    recruitment_homophily = _as_method(_diag.recruitment_homophily)
    differential_activity = _as_method(_diag.differential_activity)
    convergence = _as_method(_diag.convergence)
    bottleneck = _as_method(_diag.bottleneck)
    plot_waves = _as_method(_diag.plot_waves)
    plot_convergence = _as_method(_diag.plot_convergence)
    plot_bottleneck = _as_method(_diag.plot_bottleneck)
    plot_transitions = _as_method(_diag.plot_transitions)
