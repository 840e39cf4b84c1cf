"""Design-based estimation for probability surveys, matching R's ``survey`` package.

:class:`SurveyDesign` carries a sampling design — weights, strata, (multistage)
clusters, finite population corrections, post-stratification or raking, or
replicate weights — and small estimator methods return tidy tables:

- :meth:`SurveyDesign.mean`, :meth:`~SurveyDesign.total`,
  :meth:`~SurveyDesign.proportion`, :meth:`~SurveyDesign.ratio`,
  :meth:`~SurveyDesign.quantile` (``svymean``, ``svytotal``, ``svyciprop``,
  ``svyratio``, ``svyquantile``, all through ``svyby`` with ``by=``);
- :meth:`~SurveyDesign.glm` (``svyglm``) and :meth:`~SurveyDesign.chisq`
  (``svychisq``).

Variance is by Taylor linearisation (``svyrecvar``) or, for replicate designs,
from the replicate estimates (``svrVar``).  Domains (``by=``) use the
subpopulation variance over the whole design, as ``svyby`` does; missing values
are dropped per variable, as ``na.rm = TRUE`` does.  The numbers agree with R
survey 4.x to about 1e-10 relative; the tests in ``tests/test_design_survey*.py``
compare them with values R computed (``tests/reference/survey/``).

Where research_kit chooses differently from R, R's choice is followed and the
method's docstring says so.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, stats

from research_kit.design import _ci
from research_kit.design._render import EstimateTable
from research_kit.design._variance import LONELY_POLICIES, Stage, variance
from research_kit.errors import DesignError, EstimationError, ParameterError

__all__ = ["SurveyDesign"]

_MAX_LISTED = 8


def _as_list(x: str | Sequence[str] | None) -> list[str]:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    return list(x)


def _rows(index: pd.Index, mask: np.ndarray) -> str:
    """Name at most a few rows of ``index`` selected by ``mask``."""
    labels = list(index[np.asarray(mask)])
    shown = ", ".join(map(str, labels[:_MAX_LISTED]))
    more = f" and {len(labels) - _MAX_LISTED} more" if len(labels) > _MAX_LISTED else ""
    return f"{shown}{more}"


def _codes(frame: pd.DataFrame) -> np.ndarray:
    """Integer codes of the distinct combinations of the columns of ``frame``."""
    if frame.shape[1] == 1:
        return pd.factorize(frame.iloc[:, 0], sort=True)[0].astype(np.int64)
    return frame.groupby(list(frame.columns), sort=True, dropna=False).ngroup().to_numpy(np.int64)


def _combine(*codes: np.ndarray) -> np.ndarray:
    """Codes of the interaction of several integer code arrays."""
    out = codes[0]
    for c in codes[1:]:
        out = pd.factorize(out * (int(c.max()) + 1) + c, sort=True)[0].astype(np.int64)
    return out


class SurveyDesign:
    """A complex survey design, and design-based estimates from it.

    Parameters
    ----------
    data
        One row per respondent.
    weights
        Column of sampling weights (inverse inclusion probabilities). Every
        weight must be positive and present.  ``None``: from ``fpc`` if given
        (``N/n`` at each stage), else all 1 (a simple random sample; R warns
        in that case, research_kit does not, because no-weights is a
        deliberate choice here).
    strata
        Stratum column (a list of columns is crossed into one stratification
        of the first stage).  ``None``: unstratified.
    psu
        Cluster column, or a list of columns for a multistage design
        (``["venue", "respondent"]`` is R's ``ids = ~venue + respondent``).
        ``None``: each row is its own PSU (R's ``ids = ~1``).
    fpc
        Finite population correction, one column per stage: either the
        population size of the stratum (all values > 1) or the sampling
        fraction (all values <= 1), as in R.  Later stages only enter the
        variance when ``fpc`` is given, as in R.
    lonely_psu
        What to do with a stratum that has one PSU, R's
        ``options(survey.lonely.psu)``: ``"fail"`` (default, raise at
        construction), ``"adjust"`` (centre it at the grand mean),
        ``"certainty"`` or ``"remove"`` (it contributes no variance),
        ``"average"`` (the variance is scaled up by the share of strata that
        have more than one PSU).
    nest
        Cluster identifiers are only unique within strata (R's
        ``nest = TRUE``).  Without it, a cluster found in two strata is an
        error.

    Notes
    -----
    Differences from R's ``svydesign``, by choice: a weight that is zero is an
    error (R accepts it; drop those rows, or use ``by=`` for a subgroup); a
    stratum with one PSU under ``lonely_psu="fail"`` is an error at
    construction rather than when a variance is first computed; domain rows
    come sorted by the ``by`` columns with the first one varying slowest
    (``svyby`` varies the first fastest).  Everything else, including the
    defaults, follows R survey 4.x (``survey.lonely.psu = "fail"``,
    ``survey.adjust.domain.lonely = FALSE``, ``survey.ultimate.cluster =
    FALSE``).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({
    ...     "stratum": ["a"] * 4 + ["b"] * 4,
    ...     "venue": [1, 1, 2, 2, 3, 3, 4, 4],
    ...     "wt": [10, 10, 12, 12, 8, 8, 9, 9],
    ...     "tested": [1, 0, 1, 1, 0, 0, 1, 0],
    ... })
    >>> d = SurveyDesign(df, weights="wt", strata="stratum", psu="venue")
    >>> d
    SurveyDesign(8 rows, 2 strata, 4 PSUs, Taylor linearisation)
    >>> round(float(d.mean("tested")["estimate"].iloc[0]), 4)
    0.5513
    """

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        weights: str | None = None,
        strata: str | Sequence[str] | None = None,
        psu: str | Sequence[str] | None = None,
        fpc: str | Sequence[str] | None = None,
        lonely_psu: str = "fail",
        nest: bool = False,
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise ParameterError(
                f"SurveyDesign needs a pandas DataFrame, got {type(data).__name__}; "
                "read the data with pandas first."
            )
        if len(data) == 0:
            raise DesignError("The data have no rows; a design needs at least two PSUs.")
        if lonely_psu not in LONELY_POLICIES:
            raise ParameterError(
                f"lonely_psu={lonely_psu!r} is not one of {', '.join(LONELY_POLICIES)}."
            )
        self._data = data.copy(deep=False)
        self._data.attrs = {}  # metadata pandas would deep-copy into every intermediate result
        self._index = data.index
        self.n = len(data)
        self.lonely_psu = lonely_psu
        self.nest = bool(nest)
        self.weights_column = weights
        self.strata_columns = _as_list(strata)
        self.psu_columns = _as_list(psu)
        self.fpc_columns = _as_list(fpc)
        self._check_columns()
        self._replicate = None  # set by replicate designs (research_kit.design._replicate)
        self._calibration: list[dict[str, Any]] = []
        self._cache: dict[Any, Any] = {}
        self._build()

    # ------------------------------------------------------------------
    # Construction and validation (svydesign.default, as.fpc)
    # ------------------------------------------------------------------

    def _check_columns(self) -> None:
        wanted = (
            ([self.weights_column] if self.weights_column else [])
            + self.strata_columns
            + self.psu_columns
            + self.fpc_columns
        )
        missing = [c for c in wanted if c not in self._data.columns]
        if missing:
            raise DesignError(
                f"Column(s) {', '.join(map(repr, missing))} not found in the data. "
                f"Available columns: {', '.join(map(str, self._data.columns))}."
            )
        if self.fpc_columns and self.psu_columns and len(self.fpc_columns) != len(self.psu_columns):
            raise DesignError(
                f"fpc has {len(self.fpc_columns)} column(s) but psu has {len(self.psu_columns)} "
                "stage(s); give one fpc column per stage (R's ids = ~a + b, fpc = ~fa + fb)."
            )
        if self.fpc_columns and not self.psu_columns and len(self.fpc_columns) != 1:
            raise DesignError("Without psu the design has one stage; give a single fpc column.")

    def _numeric(self, col: str, what: str) -> np.ndarray:
        s = self._data[col]
        if not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)):
            raise DesignError(f"The {what} column {col!r} must be numeric, not {s.dtype}.")
        v = s.to_numpy(dtype=float, na_value=np.nan)
        bad = np.isnan(v)
        if bad.any():
            raise DesignError(
                f"Missing values in the {what} column {col!r} (rows {_rows(self._index, bad)}). "
                f"Every respondent needs a {what}; fill them in or drop those rows before "
                "building the design."
            )
        return v

    def _ids(self, cols: list[str], what: str) -> pd.DataFrame:
        frame = self._data[cols]
        bad = frame.isna().any(axis=1).to_numpy()
        if bad.any():
            raise DesignError(
                f"Missing values in the {what} column(s) {', '.join(map(repr, cols))} "
                f"(rows {_rows(self._index, bad)}). Fill them in or drop those rows."
            )
        return frame

    def _build(self) -> None:
        n = self.n
        # -- weights -----------------------------------------------------
        w = None
        if self.weights_column is not None:
            w = self._numeric(self.weights_column, "weight")
            bad = ~(w > 0) | ~np.isfinite(w)
            if bad.any():
                raise DesignError(
                    f"Weights in {self.weights_column!r} must be positive and finite; rows "
                    f"{_rows(self._index, bad)} have {', '.join(map(str, np.unique(w[bad])[:5]))}. "
                    "Drop respondents with zero weight (or fix the weights) before building "
                    "the design; to estimate for a subgroup use by= instead."
                )
        # -- strata ------------------------------------------------------
        self.has_strata = bool(self.strata_columns)
        if self.has_strata:
            strat0 = _codes(self._ids(self.strata_columns, "strata"))
        else:
            strat0 = np.zeros(n, dtype=np.int64)
        # -- clusters ----------------------------------------------------
        if self.psu_columns:
            idframe = self._ids(self.psu_columns, "psu")
            raw = [_codes(idframe[[c]]) for c in self.psu_columns]
        else:
            raw = [np.arange(n, dtype=np.int64)]
        if len(np.unique(raw[0])) == 1 and not (self.nest and self.has_strata):
            raise DesignError(
                "The design has only one primary sampling unit; variance cannot be estimated. "
                "Check the psu column, or use nest=True if PSU labels restart in each stratum."
            )
        # Later-stage ids are nested in the earlier ones (R's interaction(ids[, 1:i])).
        ids = [raw[0]]
        for r in raw[1:]:
            ids.append(_combine(ids[-1], r))
        if self.nest and self.has_strata:
            ids = [_combine(strat0, i) for i in ids]
        elif self.has_strata:
            # check.strata: a cluster label used in two strata is ambiguous.
            pairs = pd.DataFrame({"c": ids[0], "s": strat0}).drop_duplicates()
            dup = pairs["c"].duplicated(keep=False).to_numpy()
            if dup.any():
                bad_ids = np.unique(pairs["c"].to_numpy()[dup])
                rows = np.isin(ids[0], bad_ids)
                col = self.psu_columns[0] if self.psu_columns else "row"
                labels = pd.unique(self._data.loc[rows, col])[:_MAX_LISTED] if self.psu_columns else []
                raise DesignError(
                    "Clusters not nested in strata at top level: "
                    f"{col} {', '.join(map(str, labels))} appear(s) in more than one stratum "
                    f"(rows {_rows(self._index, rows)}). If PSU labels restart within each "
                    "stratum, use nest=True; otherwise fix the stratum or PSU column."
                )
        nstage = len(ids)
        strata = [strat0] + [_combine(strat0, ids[i - 1]) for i in range(1, nstage)]
        # sampsize: number of distinct clusters in each row's stratum, per stage.
        sampsize = np.empty((n, nstage))
        for s in range(nstage):
            pairs = pd.DataFrame({"h": strata[s], "c": ids[s]}).drop_duplicates()
            counts = pairs.groupby("h").size()
            sampsize[:, s] = counts.reindex(strata[s]).to_numpy()
        # -- fpc (as.fpc) ------------------------------------------------
        popsize = None
        if self.fpc_columns:
            fpc = np.column_stack([self._numeric(c, "fpc") for c in self.fpc_columns])
            any_big = (fpc > 1).any()
            if any_big != (fpc >= 1).all():
                raise DesignError(
                    "fpc must be all population sizes (every value >= 1, some > 1) or all "
                    "sampling fractions (every value <= 1, some < 1); "
                    f"{', '.join(self.fpc_columns)} mixes the two."
                )
            if any_big:
                popsize = fpc
            else:
                with np.errstate(divide="ignore"):
                    popsize = sampsize / fpc
            too_big = popsize < sampsize
            if too_big.any():
                r = too_big.any(axis=1)
                raise DesignError(
                    f"fpc implies more than 100% sampling in some strata (rows "
                    f"{_rows(self._index, r)}): the population size is smaller than the number "
                    "of PSUs sampled. Check the fpc column(s)."
                )
            for s in range(nstage):
                per = pd.Series(popsize[:, s]).groupby(strata[s]).nunique()
                if (per > 1).any():
                    warnings.warn(
                        f"fpc varies within strata at stage {s + 1} (column "
                        f"{self.fpc_columns[s]!r}); R uses each PSU's own value, and so does "
                        "research_kit.",
                        stacklevel=3,
                    )
                    break
        if w is None:
            if popsize is not None:
                w = np.prod(popsize / sampsize, axis=1)
            else:
                w = np.ones(n)
        self._w = w.astype(float)
        self._strata_codes = strata
        self._id_codes = ids
        self._sampsize = sampsize
        self._popsize = popsize
        self._build_stages()

    def _build_stages(self) -> None:
        """Sort the finest variance units and describe every stage (see ``_variance``)."""
        ids, strata = self._id_codes, self._strata_codes
        sampsize, popsize = self._sampsize, self._popsize
        # Later stages count only with population sizes (R's multistage).
        nvar = len(ids) if popsize is not None else 1
        finest = ids[nvar - 1]
        uniq, first_row, unit_raw = np.unique(finest, return_index=True, return_inverse=True)
        keys = [strata[0][first_row]] + [ids[s][first_row] for s in range(nvar)]
        order = np.lexsort(keys[::-1])
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        self._unit_of_row = rank[unit_raw]
        self.n_units = len(uniq)
        unit_first_row = first_row[order]
        # per-row f and the product of earlier sampling fractions.
        if popsize is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                f_row = np.where(np.isinf(popsize), 1.0, (popsize - sampsize) / popsize)
                frac_row = sampsize / popsize
        else:
            f_row = np.ones_like(sampsize)
            frac_row = None
        stages: list[Stage] = []
        lonely_report: list[str] = []
        multiplier_row = np.ones(self.n)
        for s in range(nvar):
            cl_of_unit = ids[s][unit_first_row]
            change = np.r_[True, cl_of_unit[1:] != cl_of_unit[:-1]]
            unit_starts = np.flatnonzero(change)
            cluster_ids = cl_of_unit[unit_starts]
            # First row (in data order) of each cluster: R takes fpc and the
            # multistage factor from the first row.
            _, cl_first = np.unique(ids[s], return_index=True)
            first_of_cluster = cl_first[np.searchsorted(np.unique(ids[s]), cluster_ids)]
            st_of_cluster = strata[s][first_of_cluster]
            schange = np.r_[True, st_of_cluster[1:] != st_of_cluster[:-1]]
            strat_starts = np.flatnonzero(schange)
            n_clusters = np.diff(np.r_[strat_starts, len(cluster_ids)])
            nh = np.repeat(n_clusters, n_clusters).astype(float)
            f = f_row[first_of_cluster, s]
            scale = np.where(nh > 1, f * nh / np.maximum(nh - 1, 1), f)
            # A stratum whose every row has f < 1e-7 is a census: no variance
            # and no lonely-PSU question (onestrat returns 0 first).
            census_row = pd.Series(f_row[:, s] < 1e-7).groupby(strata[s]).all()
            census = census_row.reindex(st_of_cluster).to_numpy()
            scale = np.where(census, 0.0, scale)
            weight = scale * multiplier_row[first_of_cluster]
            lonely = (nh == 1) & ~census
            lonely_stratum = lonely[strat_starts]
            if s == 0:
                parent = np.zeros(len(strat_starts), dtype=np.int64)
                n_parents = 1
            else:
                prev = ids[s - 1][first_of_cluster[strat_starts]]
                parent = pd.factorize(prev)[0].astype(np.int64)
                n_parents = int(parent.max()) + 1
            if lonely.any():
                rows = np.isin(strata[s], st_of_cluster[lonely])
                lonely_report.append(self._describe_lonely(s, rows))
            stages.append(
                Stage(
                    unit_starts=None if s == nvar - 1 else unit_starts,
                    strat_starts=strat_starts,
                    n_clusters=n_clusters,
                    weight=weight,
                    lonely=lonely,
                    lonely_stratum=lonely_stratum,
                    parent_of_stratum=parent,
                    n_parents=n_parents,
                )
            )
            if frac_row is not None and s + 1 < nvar:
                cl_frac = pd.Series(frac_row[:, s]).groupby(ids[s]).first()
                multiplier_row = multiplier_row * cl_frac.reindex(ids[s]).to_numpy()
        if lonely_report and self.lonely_psu == "fail":
            raise DesignError(
                "Stratum with only one PSU: "
                + "; ".join(lonely_report)
                + ". Variance needs at least two PSUs per stratum. Merge the stratum with a "
                "similar one, or choose lonely_psu='adjust' (conservative, R's usual choice), "
                "'certainty', 'remove' or 'average'."
            )
        self._stages = stages
        self._lonely_report = lonely_report
        # Stage-1 PSU of each finest unit, and stratum of each PSU, for degf.
        st1 = stages[0]
        if st1.unit_starts is None:
            self._psu_of_unit = np.arange(self.n_units)
        else:
            self._psu_of_unit = np.repeat(
                np.arange(len(st1.unit_starts)), np.diff(np.r_[st1.unit_starts, self.n_units])
            )
        self.n_psu = int(st1.n_clusters.sum())
        self.n_strata = len(st1.n_clusters)
        self._stratum_of_psu = st1.stratum_of_cluster
        self._psu_of_row = self._psu_of_unit[self._unit_of_row]
        # Stage-1 (N - n) / N of each PSU (1 without fpc), for jackknife weights.
        nh = np.repeat(st1.n_clusters, st1.n_clusters).astype(float)
        self._f_psu = np.where(nh > 1, st1.weight * (nh - 1) / np.maximum(nh, 1), st1.weight)

    def _describe_lonely(self, stage: int, rows: np.ndarray) -> str:
        if stage == 0 and self.strata_columns:
            labels = pd.unique(
                self._data.loc[rows, self.strata_columns].astype(str).agg("/".join, axis=1)
            )
            return (
                f"stratum {', '.join(map(str, labels[:_MAX_LISTED]))} "
                f"({'/'.join(self.strata_columns)}; rows {_rows(self._index, rows)})"
            )
        col = self.psu_columns[stage - 1] if stage > 0 else "design"
        labels = pd.unique(self._data.loc[rows, col]) if stage > 0 else []
        return (
            f"stage {stage + 1} within {col} {', '.join(map(str, labels[:_MAX_LISTED]))} "
            f"(rows {_rows(self._index, rows)})"
        )

    # ------------------------------------------------------------------
    # Small accessors
    # ------------------------------------------------------------------

    @property
    def data(self) -> pd.DataFrame:
        """The respondent data the design was built on."""
        return self._data

    @property
    def weights(self) -> np.ndarray:
        """Current analysis weights (after any post-stratification or raking)."""
        return self._w.copy()

    @property
    def df(self) -> int:
        """Design degrees of freedom: PSUs minus strata (R's ``degf``)."""
        if self._replicate is not None:
            return self._replicate.degf
        return self.n_psu - self.n_strata

    def __repr__(self) -> str:
        kind = "replicate weights" if self._replicate is not None else "Taylor linearisation"
        extra = ", calibrated" if self._calibration else ""
        return (
            f"SurveyDesign({self.n} rows, {self.n_strata} strata, {self.n_psu} PSUs, {kind}{extra})"
        )

    # ------------------------------------------------------------------
    # Domains (svyby)
    # ------------------------------------------------------------------

    def _domains(self, by: str | Sequence[str] | None) -> tuple[np.ndarray, pd.DataFrame]:
        """Domain code of every row (-1: missing ``by`` value) and the domain keys.

        Rows whose ``by`` value is missing belong to no domain but stay in the
        design, as ``svyby`` leaves them.
        """
        cols = _as_list(by)
        key = ("dom", tuple(cols))
        if key in self._cache:
            return self._cache[key]
        if not cols:
            out = (np.zeros(self.n, dtype=np.int64), pd.DataFrame(index=range(1)))
            self._cache[key] = out
            return out
        missing = [c for c in cols if c not in self._data.columns]
        if missing:
            raise EstimationError(
                f"by column(s) {', '.join(map(repr, missing))} not in the data. "
                f"Available: {', '.join(map(str, self._data.columns))}."
            )
        # Factorise each column once (cached) and combine the codes: much
        # faster than a groupby for a new combination of by columns.
        facs = [self._factor(c) for c in cols]
        sizes = [len(u) for _, u in facs]
        combined = np.zeros(self.n, dtype=np.int64)
        missing_any = np.zeros(self.n, dtype=bool)
        for (codes_j, _), size in zip(facs, sizes):
            combined = combined * size + np.maximum(codes_j, 0)
            missing_any |= codes_j < 0
        total = int(np.prod(sizes, dtype=np.int64))
        ok = ~missing_any
        if total <= 50 * self.n + 1_000_000:
            # observed combinations in sorted order, without sorting n codes
            seen = np.bincount(combined[ok], minlength=total) > 0
            present = np.flatnonzero(seen)
            rank = np.cumsum(seen) - 1
            inverse = rank[combined[ok]]
        else:
            present, inverse = np.unique(combined[ok], return_inverse=True)
        codes = np.full(self.n, -1, dtype=np.int64)
        codes[ok] = inverse
        parts = {}
        rem = present.copy()
        for c, (_, uniq), size in reversed(list(zip(cols, facs, sizes))):
            parts[c] = np.asarray(uniq, dtype=object)[rem % size]
            rem = rem // size
        keys = pd.DataFrame({c: parts[c] for c in cols})
        for c in cols:
            src = self._data[c]
            if isinstance(src.dtype, pd.CategoricalDtype):
                keys[c] = pd.Categorical(keys[c], categories=src.cat.categories, ordered=src.cat.ordered)
            elif not (src.dtype == object or pd.api.types.is_string_dtype(src)):
                keys[c] = keys[c].astype(src.dtype)
        out = (codes, keys)
        self._cache[key] = out
        return out

    def _factor(self, col: str) -> tuple[np.ndarray, Any]:
        """Sorted integer codes (-1 for missing) and levels of one column, cached."""
        key = ("factor", col)
        if key not in self._cache:
            s = self._data[col]
            if isinstance(s.dtype, pd.CategoricalDtype):
                self._cache[key] = (s.cat.codes.to_numpy().astype(np.int64), s.cat.categories)
            else:
                codes, uniq = pd.factorize(s, sort=True)
                self._cache[key] = (codes.astype(np.int64), uniq)
        return self._cache[key]

    def _group_matrices(self, by: str | Sequence[str] | None):
        """Sparse row→domain and row→(unit, domain) summing matrices."""
        cols = _as_list(by)
        key = ("mats", tuple(cols))
        if key in self._cache:
            return self._cache[key]
        dom, keys = self._domains(cols)
        D = len(keys)
        rows = np.flatnonzero(dom >= 0)
        ones = np.ones(len(rows))
        g_dom = sparse.csr_matrix((ones, (dom[rows], rows)), shape=(D, self.n))
        g_unit = sparse.csr_matrix(
            (ones, (self._unit_of_row[rows] * D + dom[rows], rows)), shape=(self.n_units * D, self.n)
        )
        # Degrees of freedom of each domain design: PSUs minus strata with
        # at least one row in the domain (degf() of svyby's subset).
        per_unit = np.asarray(g_unit.sum(axis=1)).reshape(self.n_units, D)
        has_psu = (self._units_to_psu @ per_unit) > 0
        # PSUs are sorted by stratum, so strata are contiguous blocks
        per_stratum = np.add.reduceat(has_psu.astype(np.int64), self._stages[0].strat_starts, axis=0)
        degf = has_psu.sum(axis=0) - (per_stratum > 0).sum(axis=0)
        if self._replicate is not None:
            degf = np.array([self._replicate_degf(dom == d) for d in range(D)])
        n_rows = np.bincount(dom[rows], minlength=D)
        if self._calibration:
            # R subsets a calibrated design by zero-weighting rows, so
            # nrow(design) of a domain is still every row.
            n_rows = np.full(D, self.n)
        out = dict(dom=dom, keys=keys, D=D, g_dom=g_dom, g_unit=g_unit, degf=degf, n_rows=n_rows)
        self._cache[key] = out
        return out

    # ------------------------------------------------------------------
    # Variables
    # ------------------------------------------------------------------

    def _column(self, name: str) -> pd.Series:
        if name not in self._data.columns:
            raise EstimationError(
                f"Variable {name!r} not in the data. Available: "
                f"{', '.join(map(str, self._data.columns))}."
            )
        return self._data[name]

    def _numeric_variable(self, name: str) -> np.ndarray:
        s = self._column(name)
        if pd.api.types.is_bool_dtype(s):
            return s.to_numpy(dtype=float)
        if isinstance(s.dtype, pd.BooleanDtype) or (
            s.dtype == object and s.dropna().map(type).isin([bool, np.bool_]).all() and s.notna().any()
        ):
            return s.astype("boolean").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        if not pd.api.types.is_numeric_dtype(s):
            raise EstimationError(
                f"Variable {name!r} is not numeric ({s.dtype}). Use proportion() for a "
                "categorical variable, or convert it with pd.to_numeric."
            )
        return s.to_numpy(dtype=float, na_value=np.nan)

    def _proportion_columns(self, name: str) -> tuple[np.ndarray, list[Any]]:
        """Indicator columns of a variable for ``proportion``: one for a binary
        variable (``level`` None), one per level for a categorical one."""
        s = self._column(name)
        if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_string_dtype(s):
            nonnull = s.dropna()
            if s.dtype == object and len(nonnull) and nonnull.map(type).isin([bool, np.bool_]).all():
                return self._numeric_variable(name)[:, None], [None]
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = list(s.cat.categories)
            else:
                levels = sorted(pd.unique(nonnull), key=lambda v: (str(type(v)), v))
            miss = s.isna().to_numpy()
            values = s.to_numpy(dtype=object)
            cols = np.empty((self.n, len(levels)))
            for j, lev in enumerate(levels):
                cols[:, j] = values == lev
            cols[miss, :] = np.nan
            return cols, levels
        x = self._numeric_variable(name)
        bad = ~np.isnan(x) & (x != 0) & (x != 1)
        if bad.any():
            vals = ", ".join(map(lambda v: f"{v:g}", np.unique(x[bad])[:5]))
            raise EstimationError(
                f"proportion() needs a 0/1 (or True/False) variable, but {name!r} has values "
                f"{vals} (rows {_rows(self._index, bad)}). Recode it to 0/1, use mean() for a "
                "numeric variable, or make it a pandas Categorical to get one row per level."
            )
        return x[:, None], [None]

    # ------------------------------------------------------------------
    # Core: means and totals of many columns over many domains at once
    # ------------------------------------------------------------------

    def _domain_stats(
        self, X: np.ndarray, by, *, kind: str, full_cov: bool = False, binary: bool = False
    ) -> dict[str, np.ndarray]:
        """Estimates, variances and deff of column means or totals in every domain.

        ``X`` is ``(n, k)`` with NaN for missing.  Returns ``(D, k)`` arrays.
        Mirrors ``svyby(~x, ~by, design, svymean/svytotal, na.rm = TRUE,
        deff = TRUE)`` one column at a time, computed together.  With
        ``full_cov`` (no domains, one common set of cases) the ``(k, k)``
        covariance is returned as ``cov``, as ``svymean(x, na.rm = TRUE)`` of a
        matrix.
        """
        m = self._group_matrices(by)
        if self._replicate is None and not self._calibration and not full_cov:
            return self._domain_stats_fast(X, m, kind, binary=binary)
        m = self._group_matrices(by)
        dom, D, g_dom, g_unit = m["dom"], m["D"], m["g_dom"], m["g_unit"]
        k = X.shape[1]
        valid = ~np.isnan(X)
        Xz = np.where(valid, X, 0.0)
        w = self._w
        wv = w[:, None] * valid
        W = np.asarray(g_dom @ wv)  # (D, k) weight of non-missing cases
        n_cases = np.asarray(g_dom @ valid.astype(float))
        S = np.asarray(g_dom @ (wv * Xz))
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = S / W
        # Deviations from the domain mean: exact (no cancellation) linearisation.
        dsafe = np.where(dom >= 0, dom, 0)
        R = np.where(valid & (dom >= 0)[:, None], Xz - np.nan_to_num(mean)[dsafe], 0.0)
        wR = wv * R
        s2num = np.asarray(g_dom @ (wR * R))
        if kind == "mean":
            estimate = mean
            Z = wR
            scale_cols = W
        else:
            estimate = S
            Z = wv * Xz
            scale_cols = None
        out: dict[str, Any] = {}
        if self._replicate is not None:
            rep = self._replicate
            Sr = rep.domain_sums(self, valid * Xz, m)
            if kind == "mean":
                Wr = rep.domain_sums(self, valid.astype(float), m)
                with np.errstate(divide="ignore", invalid="ignore"):
                    thetas = Sr / Wr
            else:
                thetas = Sr
            var = rep.variance(thetas, estimate)
            out["replicates"] = thetas
            if full_cov:
                out["cov"] = rep.full_variance(thetas[:, 0, :], estimate[0])
        else:
            if full_cov:
                Zc = Z / W[0][None, :] if kind == "mean" else Z
                out["cov"] = self._row_variance(Zc, full=True, rows_used=valid.all(axis=1))
            T = self._domain_unit_totals(Z, m, scale_cols)
            present = None
            if self.lonely_psu == "average" and not self._calibration:
                present = np.asarray(g_unit @ valid.astype(float)).reshape(self.n_units, D * k)
            var = variance(self._stages, T, self.lonely_psu, present_units=present).reshape(D, k)
        var = np.where(W > 0, var, np.nan)
        # deff: v / v_srs with svyvar's n/(n-1) and the (N - n)/N correction
        # (svymean/svytotal with deff = TRUE, not "replace").
        with np.errstate(divide="ignore", invalid="ignore"):
            s2 = s2num / W * n_cases / (n_cases - 1)
            vsrs = s2 * (W - n_cases) / (W * n_cases)
            if kind == "total":
                vsrs = vsrs * W**2
            deff = var / vsrs
        if kind == "mean" and self._replicate is None:
            small = (W < n_cases) & (n_cases > 0)
            if small.any():
                deff = np.where(small, np.nan, deff)
                warnings.warn(
                    "Sample size greater than population size (sum of weights) in some "
                    "domains: are the weights correctly scaled? deff is NaN there (as in R).",
                    stacklevel=3,
                )
        out.update(
            estimate=estimate,
            var=var,
            deff=deff,
            n=n_cases,
            W=W,
            degf=m["degf"],
            n_rows=m["n_rows"],
            keys=m["keys"],
        )
        return out

    def _domain_stats_fast(
        self, X: np.ndarray, m: dict, kind: str, *, binary: bool = False
    ) -> dict[str, Any]:
        """``_domain_stats`` for plain Taylor designs, from (unit, domain) sums.

        Sparse products give, for every (unit, domain) pair and column, the
        sums of ``w`` and ``w x`` over the non-missing cases; the
        linearisation total of a domain mean in a unit is
        ``(sum w x - mean * sum w) / W``.  Non-0/1 columns are first shifted by
        their overall mean so that this difference loses no precision.
        Columns without missing values share one ``sum w`` column.
        """
        D, g_unit, g_dom = m["D"], m["g_unit"], m["g_dom"]
        n, k = X.shape
        U_n = self.n_units
        valid = ~np.isnan(X)
        complete = valid.all(axis=0)
        xz = np.where(valid, X, 0.0) if not complete.all() else X
        if binary:  # the caller checked that every column is 0/1
            binary = np.ones(k, dtype=bool)
            shift = np.zeros(k)
        else:
            binary = np.all((xz == 0) | (xz == 1), axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                means = np.where(binary, 0.0, np.nan_to_num(xz.sum(axis=0) / valid.sum(axis=0)))
            shift = np.where(binary, 0.0, means)
        if (shift != 0).any():
            xz = xz - shift[None, :] * valid
        w = self._w
        wx = w[:, None] * xz
        U1 = np.asarray(g_unit @ wx).reshape(U_n, D, k)
        # sum of w over the non-missing cases, per (unit, domain)
        key = ("w_unit", id(g_unit))
        if key not in self._cache:
            self._cache[key] = np.asarray(g_unit @ w).reshape(U_n, D)
        U0 = np.empty((U_n, D, k))
        U0[:] = self._cache[key][:, :, None]
        n_cases = np.empty((D, k))
        if not complete.all():
            miss = np.flatnonzero(~complete)
            vm = valid[:, miss]
            U0[:, :, miss] = np.asarray(g_unit @ (w[:, None] * vm)).reshape(U_n, D, len(miss))
            n_cases[:, miss] = np.asarray(g_dom @ vm.astype(float))
        n_cases[:, complete] = np.bincount(m["dom"][m["dom"] >= 0], minlength=D)[:, None]
        W = U0.sum(axis=0)
        S1 = U1.sum(axis=0)
        Q = S1.copy()  # x^2 = x for 0/1 data
        if not binary.all():
            nb = np.flatnonzero(~binary)
            Q[:, nb] = np.asarray(g_dom @ (wx[:, nb] * xz[:, nb]))
        with np.errstate(divide="ignore", invalid="ignore"):
            mshift = S1 / W
            s2num = Q - W * mshift**2
        if kind == "mean":
            num = U1 - np.nan_to_num(mshift)[None] * U0
            T = np.divide(num, W[None], out=np.zeros_like(num), where=W[None] > 0)
            estimate = mshift + shift[None, :]
        else:
            T = U1 + shift[None, None, :] * U0
            estimate = S1 + shift[None, :] * W
        present = None
        if self.lonely_psu == "average":
            present = np.asarray(g_unit @ valid.astype(float)).reshape(U_n, D * k)
        var = variance(self._stages, T.reshape(U_n, D * k), self.lonely_psu, present_units=present)
        var = np.where(W > 0, var.reshape(D, k), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            s2 = s2num / W * n_cases / (n_cases - 1)
            vsrs = s2 * (W - n_cases) / (W * n_cases)
            if kind == "total":
                vsrs = vsrs * W**2
            deff = var / vsrs
        if kind == "mean":
            small = (W < n_cases) & (n_cases > 0)
            if small.any():
                deff = np.where(small, np.nan, deff)
                warnings.warn(
                    "Sample size greater than population size (sum of weights) in some "
                    "domains: are the weights correctly scaled? deff is NaN there (as in R).",
                    stacklevel=4,
                )
        out = dict(
            estimate=estimate,
            var=var,
            deff=deff,
            n=n_cases,
            W=W,
            degf=m["degf"],
            n_rows=m["n_rows"],
            keys=m["keys"],
        )
        if binary.all():
            out["n_event"] = np.asarray(g_dom @ xz)
        return out

    @property
    def _g_units(self) -> sparse.csr_matrix:
        """Sparse (units × rows) matrix summing rows into finest variance units."""
        if "g_units" not in self._cache:
            self._cache["g_units"] = sparse.csr_matrix(
                (np.ones(self.n), (self._unit_of_row, np.arange(self.n))), shape=(self.n_units, self.n)
            )
        return self._cache["g_units"]

    def _domain_unit_totals(self, Z: np.ndarray, m: dict, divisor: np.ndarray | None) -> np.ndarray:
        """Unit totals of the domain linearisation variables, ``(units, D * k)``.

        Column ``d * k + j`` is variable ``j`` in domain ``d``: ``Z[:, j]`` on
        the domain's rows, zero elsewhere, divided by ``divisor[d, j]``.
        """
        D, k = m["D"], Z.shape[1]
        if not self._calibration:
            T = np.asarray(m["g_unit"] @ Z).reshape(self.n_units, D, k)
            if divisor is not None:
                with np.errstate(divide="ignore", invalid="ignore"):
                    T = T / divisor[None]
            return np.nan_to_num(T, nan=0.0, posinf=0.0, neginf=0.0).reshape(self.n_units, D * k)
        # Calibrated designs adjust the row-level linearisation variable
        # (svyrecvar's postStrata step), so build it in column chunks.
        dom = m["dom"]
        out = np.empty((self.n_units, D * k))
        chunk = max(1, 2_000_000 // max(self.n, 1))
        for start in range(0, D * k, chunk):
            cols = np.arange(start, min(start + chunk, D * k))
            d, j = cols // k, cols % k
            Zc = Z[:, j] * (dom[:, None] == d[None, :])
            if divisor is not None:
                with np.errstate(divide="ignore", invalid="ignore"):
                    Zc = np.nan_to_num(Zc / divisor[d, j][None, :], nan=0.0, posinf=0.0, neginf=0.0)
            out[:, cols] = self._g_units @ self._calibration_adjust(Zc)
        return out

    def _calibration_adjust(self, Z: np.ndarray) -> np.ndarray:
        from research_kit.design._calibrate import adjust

        return adjust(self._calibration, Z)

    def _row_variance(
        self, Z: np.ndarray, *, full: bool = False, rows_used: np.ndarray | None = None
    ) -> np.ndarray:
        """``svyrecvar`` of a row-level linearisation matrix ``Z`` (n × k)."""
        Z = np.asarray(Z, dtype=float)
        if Z.ndim == 1:
            Z = Z[:, None]
        if self._calibration:
            Z = self._calibration_adjust(Z)
        T = self._g_units @ Z
        present = None
        if self.lonely_psu == "average" and rows_used is not None and not self._calibration:
            present = self._g_units @ np.repeat(rows_used.astype(float)[:, None], Z.shape[1], axis=1)
        return variance(self._stages, T, self.lonely_psu, full=full, present_units=present)

    # ------------------------------------------------------------------
    # Output
    # ------------------------------------------------------------------

    def _table(
        self,
        variables: list[str],
        columns: list[tuple[str, Any]],
        keys: pd.DataFrame,
        stats_: dict[str, np.ndarray],
        by_cols: list[str],
        *,
        statistic: str,
        several: bool,
        ci_method: str | None,
        level: float,
        extra_cols: dict[str, np.ndarray] | None = None,
    ) -> pd.DataFrame:
        """Assemble the tidy table: (variable), by columns, (level), statistics."""
        D = len(keys)
        k = len(columns)
        parts: dict[str, Any] = {}
        if several:
            parts["variable"] = np.repeat([c[0] for c in columns], D)
        for c in by_cols:
            parts[c] = np.tile(keys[c].to_numpy(), k)
        has_level = any(c[1] is not None for c in columns)
        if has_level:
            parts["level"] = np.repeat(np.array([c[1] for c in columns], dtype=object), D)
        for name, arr in stats_.items():
            parts[name] = np.asarray(arr).T.reshape(-1)  # column-major: variable, then domain
        if extra_cols:
            for name, arr in extra_cols.items():
                parts[name] = np.asarray(arr).T.reshape(-1)
        out = EstimateTable(parts)
        for c in ("n", "n_event"):
            if c in out:
                out[c] = out[c].round().astype("int64")
        out.attrs.update(
            statistic=statistic,
            variables=list(variables),
            by=list(by_cols),
            ci_method=ci_method,
            level=level,
        )
        return out

    # ------------------------------------------------------------------
    # Public estimators
    # ------------------------------------------------------------------

    def mean(
        self,
        variables: str | Sequence[str],
        by: str | Sequence[str] | None = None,
        *,
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Design-based means (R's ``svymean``, with ``svyby`` for ``by=``).

        Parameters
        ----------
        variables
            A numeric column, or a list of them (0/1 and bool columns give
            proportions, with a Wald interval; see :meth:`proportion`).
        by
            Domain column(s).  Domain variances use the whole design
            (subpopulation estimation), as ``svyby``.
        level
            Confidence level.

        Returns
        -------
        pandas.DataFrame
            ``variable`` (several variables only), the ``by`` columns,
            ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``deff``, ``n``.

        Notes
        -----
        The interval is ``estimate ± z · se`` with the normal quantile, as R's
        ``confint`` of a ``svymean`` (``df = Inf``).  ``deff`` is the design
        effect against simple random sampling without replacement
        (``deff = TRUE``).  Missing values are dropped per variable
        (``na.rm = TRUE``).

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"age": [20, 30, 40, None], "wt": [1.0, 2, 1, 1],
        ...                    "site": ["a", "a", "b", "b"]})
        >>> SurveyDesign(df, weights="wt").mean("age")[["estimate", "n"]]
           estimate  n
        0      30.0  3
        """
        return self._mean_or_total(variables, by, level=level, kind="mean")

    def total(
        self,
        variables: str | Sequence[str],
        by: str | Sequence[str] | None = None,
        *,
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Design-based totals (R's ``svytotal``, with ``svyby`` for ``by=``).

        Same parameters and columns as :meth:`mean`; the interval uses the
        normal quantile as R's ``confint`` of a ``svytotal``.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"tested": [1, 0, 1, 1], "wt": [10.0, 20, 10, 5]})
        >>> float(SurveyDesign(df, weights="wt").total("tested")["estimate"].iloc[0])
        25.0
        """
        return self._mean_or_total(variables, by, level=level, kind="total")

    def _mean_or_total(self, variables, by, *, level: float, kind: str) -> pd.DataFrame:
        _check_level(level)
        names = _as_list(variables)
        if not names:
            raise ParameterError("Give at least one variable.")
        X = np.column_stack([self._numeric_variable(v) for v in names])
        st = self._domain_stats(X, by, kind=kind)
        se = np.sqrt(st["var"])
        z = stats.norm.ppf(1 - (1 - level) / 2)
        table = self._table(
            names,
            [(v, None) for v in names],
            st["keys"],
            dict(
                estimate=st["estimate"],
                se=se,
                ci_low=st["estimate"] - z * se,
                ci_high=st["estimate"] + z * se,
                deff=st["deff"],
                n=st["n"],
            ),
            _as_list(by),
            statistic=kind,
            several=len(names) > 1,
            ci_method="wald (normal)",
            level=level,
        )
        return table

    def proportion(
        self,
        variables: str | Sequence[str],
        by: str | Sequence[str] | None = None,
        *,
        ci: str = "logit",
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Proportions with confidence intervals (R's ``svyciprop`` through ``svyby``).

        Parameters
        ----------
        variables
            A 0/1 or True/False column (one row per domain), or a categorical
            (string or pandas Categorical) column (one row per level, in a
            ``level`` column), or a list of such columns.
        by
            Domain column(s); subpopulation variance over the whole design.
        ci
            ``"logit"`` (default, as R), ``"beta"`` (Korn–Graubard),
            ``"likelihood"`` (profile likelihood of the quasibinomial
            ``svyglm``), ``"wilson"``, or ``"wald"`` (R's ``method = "mean"``).
        level
            Confidence level.

        Returns
        -------
        pandas.DataFrame
            ``variable`` (several variables only), the ``by`` columns,
            ``level`` (categorical variables), ``estimate``, ``se``,
            ``ci_low``, ``ci_high``, ``deff``, ``n`` (cases with a non-missing
            answer) and ``n_event`` (cases with the attribute).

        Notes
        -----
        The intervals use ``t`` quantiles with the degrees of freedom of the
        domain design, ``degf()``: PSUs minus strata among the domain's rows
        (rows missing the variable included), as ``svyciprop`` does inside
        ``svyby``.  ``"wald"`` is not clipped to [0, 1] (as R).  Where R gives
        no interval, research_kit differs: for a proportion of exactly 0 or 1
        ``"beta"`` and ``"wilson"`` use the number of cases as the effective
        sample size (R returns NaN); ``"logit"`` and ``"likelihood"`` give NaN.
        R has no Wilson interval in ``svyciprop``; ours follows Stata's
        ``svy: proportion, citype(wilson)``.  The ``estimate`` is the weighted
        proportion (``svymean``); with ``"logit"`` and ``"likelihood"`` R's
        ``svyciprop`` prints ``expit()`` of an IRLS fit of the same quantity,
        which agrees to about 1e-8.  On replicate-weight designs the logit
        interval uses the replicate variance of the logit (as ``svyglm`` on a
        replicate design does) and ``"likelihood"`` is not available.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"tested": [1, 0, 1, 1, 0, 1], "wt": [1.0, 2, 1, 1, 1, 2],
        ...                    "site": ["a", "a", "a", "b", "b", "b"]})
        >>> t = SurveyDesign(df, weights="wt").proportion("tested", by="site")
        >>> t[["site", "n", "n_event"]]
          site  n  n_event
        0    a  3        2
        1    b  3        2
        """
        _check_level(level)
        ci = {"mean": "wald"}.get(ci, ci)  # R's svyciprop name for the Wald interval
        if ci not in _ci.CI_METHODS:
            raise ParameterError(f"ci={ci!r} is not one of {', '.join(_ci.CI_METHODS)}.")
        names = _as_list(variables)
        if not names:
            raise ParameterError("Give at least one variable.")
        blocks, columns = [], []
        for v in names:
            cols, levels = self._proportion_columns(v)
            blocks.append(cols)
            columns += [(v, lev) for lev in levels]
        X = np.empty((self.n, len(columns)))
        j = 0
        for b in blocks:
            X[:, j : j + b.shape[1]] = b
            j += b.shape[1]
        st = self._domain_stats(X, by, kind="mean", binary=True)
        m = self._group_matrices(by)
        n_event = st.get("n_event")
        if n_event is None:
            n_event = np.asarray(m["g_dom"] @ np.where(np.isnan(X), 0.0, X))
        p = st["estimate"]
        se = np.sqrt(st["var"])
        df = np.broadcast_to(np.asarray(st["degf"], float)[:, None], p.shape)
        lo, hi = self._proportion_ci(ci, p, se, df, level, st, X, by)
        return self._table(
            names,
            columns,
            st["keys"],
            dict(estimate=p, se=se, ci_low=lo, ci_high=hi, deff=st["deff"], n=st["n"]),
            _as_list(by),
            statistic="proportion",
            several=len(names) > 1,
            ci_method=ci,
            level=level,
            extra_cols=dict(n_event=n_event),
        )

    def _proportion_ci(self, method, p, se, df, level, st, X, by):
        if method == "wald":
            return _ci.wald(p, se, df, level)
        if method == "logit":
            if self._replicate is not None:
                # svyglm on a replicate design refits every replicate: the
                # variance of the logit is that of the replicate logits.
                with np.errstate(divide="ignore", invalid="ignore"):
                    eta_r = np.log(st["replicates"] / (1 - st["replicates"]))
                    eta = np.log(p / (1 - p))
                    se_eta = np.sqrt(self._replicate.variance(eta_r, eta))
                return _ci.logit(p, se_eta * p * (1 - p), df, level)
            return _ci.logit(p, se, df, level)
        n_rows = np.broadcast_to(np.asarray(st["n_rows"], float)[:, None], p.shape)
        if method == "beta":
            return _ci.beta(p, se, df, level, n_rows, st["n"])
        if method == "wilson":
            return _ci.wilson(p, se, df, level, st["n"])
        if self._replicate is not None:
            raise EstimationError(
                "ci='likelihood' is not available for replicate-weight designs; use 'logit' "
                "or 'beta'."
            )
        # likelihood: per cell, it needs the rescaled weights and the
        # design-based dispersion of the Pearson residuals.
        from research_kit.design._glm import likelihood_cells

        return likelihood_cells(self, p, se, df, level, X, by)

    # ------------------------------------------------------------------
    # Helpers shared by the estimators below
    # ------------------------------------------------------------------

    def _copy(self) -> SurveyDesign:
        """Shallow copy with its own cache (for calibrated or replicate versions)."""
        import copy

        new = copy.copy(self)
        new._cache = {}
        new._calibration = list(self._calibration)
        return new

    @property
    def _g_psu(self) -> sparse.csr_matrix:
        """Sparse (PSUs × rows) summing matrix."""
        if "g_psu" not in self._cache:
            self._cache["g_psu"] = sparse.csr_matrix(
                (np.ones(self.n), (self._psu_of_row, np.arange(self.n))), shape=(self.n_psu, self.n)
            )
        return self._cache["g_psu"]

    @property
    def _units_to_psu(self) -> sparse.csr_matrix:
        """Sparse (PSUs × units) summing matrix."""
        if "u2p" not in self._cache:
            self._cache["u2p"] = sparse.csr_matrix(
                (np.ones(self.n_units), (self._psu_of_unit, np.arange(self.n_units))),
                shape=(self.n_psu, self.n_units),
            )
        return self._cache["u2p"]

    def _replicate_degf(self, rows: np.ndarray) -> int:
        """``degf`` of a replicate design restricted to ``rows`` (rank - 1, as R)."""
        rep = self._replicate
        if rep.factors is not None:
            # Rows of one PSU are proportional; the PSU factor rows span the same space.
            from research_kit.design._replicate import rank_degf

            return rank_degf(rep.factors[np.unique(self._psu_of_row[rows])])
        from research_kit.design._replicate import rank_degf

        return rank_degf(rep.weights[rows])

    def _degf_rows(self, rows: np.ndarray) -> int:
        """``degf`` of the design restricted to ``rows``: PSUs minus strata among them."""
        if self._replicate is not None:
            return self._replicate_degf(rows)
        psus = np.unique(self._psu_of_row[rows])
        return len(psus) - len(np.unique(self._stratum_of_psu[psus]))

    def _degf_cells(self, valid: np.ndarray, m: dict) -> np.ndarray:
        """``degf`` of every (domain, column) design restricted to its valid rows → (D, k)."""
        D, k = m["D"], valid.shape[1]
        dom = m["dom"]
        if self._replicate is not None:
            return np.array(
                [[self._replicate_degf((dom == d) & valid[:, j]) for j in range(k)] for d in range(D)],
                dtype=float,
            )
        per_unit = np.asarray(m["g_unit"] @ valid.astype(float)).reshape(self.n_units, D * k)
        has_psu = (self._units_to_psu @ per_unit) > 0
        per_stratum = np.add.reduceat(has_psu.astype(np.int64), self._stages[0].strat_starts, axis=0)
        out = has_psu.sum(axis=0) - (per_stratum > 0).sum(axis=0)
        return out.reshape(D, k).astype(float)

    # ------------------------------------------------------------------
    # Ratio, quantile, glm, chisq
    # ------------------------------------------------------------------

    def ratio(
        self,
        numerator: str | Sequence[str],
        denominator: str,
        by: str | Sequence[str] | None = None,
        *,
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Ratio of two totals (R's ``svyratio``, with ``svyby`` for ``by=``).

        Parameters
        ----------
        numerator
            Numeric column(s) on top.
        denominator
            Numeric column below.
        by
            Domain column(s).
        level
            Confidence level.

        Returns
        -------
        pandas.DataFrame
            ``variable`` (several numerators), the ``by`` columns,
            ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``deff``, ``n``.

        Notes
        -----
        Rows missing either variable are dropped (``na.rm = TRUE``).  The
        interval uses the normal quantile (R's ``confint.svyratio``); ``deff``
        is that of the total of the linearisation variable, as ``svyratio``.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"condoms": [10, 4, 6, 0], "clients": [5, 4, 3, 2], "wt": [1.0, 1, 2, 2]})
        >>> round(float(SurveyDesign(df, weights="wt").ratio("condoms", "clients")["estimate"].iloc[0]), 4)
        1.3684
        """
        _check_level(level)
        nums = _as_list(numerator)
        if not nums:
            raise ParameterError("Give at least one numerator.")
        x = self._numeric_variable(denominator)
        Y = np.column_stack([self._numeric_variable(v) for v in nums])
        valid = ~np.isnan(Y) & ~np.isnan(x)[:, None]
        m = self._group_matrices(by)
        dom, D, g_dom = m["dom"], m["D"], m["g_dom"]
        Yz = np.where(valid, Y, 0.0)
        Xz = np.where(valid, x[:, None], 0.0)
        w = self._w
        wv = w[:, None] * valid
        SY = np.asarray(g_dom @ (wv * Yz))
        SX = np.asarray(g_dom @ (wv * Xz))
        W = np.asarray(g_dom @ wv)
        n_cases = np.asarray(g_dom @ valid.astype(float))
        with np.errstate(divide="ignore", invalid="ignore"):
            est = SY / SX
        dsafe = np.where(dom >= 0, dom, 0)
        inside = valid & (dom >= 0)[:, None]
        resid = np.where(inside, Yz - np.nan_to_num(est)[dsafe] * Xz, 0.0)
        if self._replicate is not None:
            rep = self._replicate
            with np.errstate(divide="ignore", invalid="ignore"):
                thetas = rep.domain_sums(self, valid * Yz, m) / rep.domain_sums(self, valid * Xz, m)
            var = rep.variance(thetas, est)
        else:
            T = self._domain_unit_totals(w[:, None] * resid, m, SX)
            var = variance(self._stages, T, self.lonely_psu).reshape(D, len(nums))
        var = np.where(SX != 0, var, np.nan)
        # deff of svytotal(r) with r = resid / X: svyvar(r) * N^2 (N - n) / (N n)
        with np.errstate(divide="ignore", invalid="ignore"):
            s2 = np.asarray(g_dom @ (wv * resid**2)) / SX**2 / W * n_cases / (n_cases - 1)
            deff = var / (s2 * W**2 * (W - n_cases) / (W * n_cases))
        se = np.sqrt(var)
        z = stats.norm.ppf(1 - (1 - level) / 2)
        table = self._table(
            nums,
            [(v, None) for v in nums],
            m["keys"],
            dict(estimate=est, se=se, ci_low=est - z * se, ci_high=est + z * se, deff=deff, n=n_cases),
            _as_list(by),
            statistic="ratio",
            several=len(nums) > 1,
            ci_method="wald (normal)",
            level=level,
        )
        table.attrs["denominator"] = denominator
        return table

    def quantile(
        self,
        variables: str | Sequence[str],
        q: float | Sequence[float] = 0.5,
        by: str | Sequence[str] | None = None,
        *,
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Quantiles with Woodruff intervals (R's ``svyquantile``, survey >= 4.1 defaults).

        Parameters
        ----------
        variables
            Numeric column(s).
        q
            Quantile(s) in [0, 1]; several give a ``quantile`` column.
        by
            Domain column(s).
        level
            Confidence level.

        Returns
        -------
        pandas.DataFrame
            ``variable`` (several variables), the ``by`` columns,
            ``quantile`` (several ``q``), ``estimate``, ``se``, ``ci_low``,
            ``ci_high``, ``deff`` (always NaN: R gives none for quantiles),
            ``n``.

        Notes
        -----
        ``qrule = "math"``: the smallest value whose weight share reaches
        ``q`` (no interpolation).  ``interval.type = "mean"``: the Wald
        interval of the proportion below the estimate, with the ``t``
        quantile on the degrees of freedom of the domain design after
        dropping missing values, mapped back through the same rule; the
        ``se`` is the interval's width over ``2 t``, as R reports it.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"age": [18, 22, 25, 30, 41, 19], "wt": [1.0, 1, 1, 1, 1, 1]})
        >>> float(SurveyDesign(df, weights="wt").quantile("age", 0.5)["estimate"].iloc[0])
        22.0
        """
        from research_kit.design import _quantile

        _check_level(level)
        names = _as_list(variables)
        qs = [float(v) for v in np.atleast_1d(q)]
        if any(not (0 <= v <= 1) for v in qs):
            raise ParameterError(f"Quantiles must lie in [0, 1]; got {qs}.")
        m = self._group_matrices(by)
        dom, D = m["dom"], m["D"]
        w = self._w
        cols, est_list = [], []
        X_ind = []
        sorted_cache = {}
        for v in names:
            x = self._numeric_variable(v)
            for d in range(D):
                rows = (dom == d) & ~np.isnan(x)
                sorted_cache[(v, d)] = _quantile.sorted_cumw(x[rows], w[rows])
            for p in qs:
                qhat = np.array([_quantile.qrule_math(*sorted_cache[(v, d)], p) for d in range(D)])
                ind = np.where(np.isnan(x), np.nan, 0.0)
                inside = (dom >= 0) & ~np.isnan(x)
                ind[inside] = (x[inside] <= qhat[dom[inside]]).astype(float)
                X_ind.append(ind)
                est_list.append(qhat)
                cols.append((v, p))
        X = np.column_stack(X_ind)
        st = self._domain_stats(X, by, kind="mean")
        valid = ~np.isnan(X)
        df = self._degf_cells(valid, m)
        pm = st["estimate"]
        sep = np.sqrt(st["var"])
        tq = _ci.qt(1 - (1 - level) / 2, df)
        plo, phi = pm - tq * sep, pm + tq * sep
        est = np.column_stack(est_list)
        lo = np.full_like(est, np.nan)
        hi = np.full_like(est, np.nan)
        for j, (v, _) in enumerate(cols):
            for d in range(D):
                sc = sorted_cache[(v, d)]
                if np.isfinite(plo[d, j]) and plo[d, j] >= 0:
                    lo[d, j] = _quantile.qrule_math(*sc, plo[d, j])
                if np.isfinite(phi[d, j]) and phi[d, j] <= 1:
                    hi[d, j] = _quantile.qrule_math(*sc, phi[d, j])
        se = (hi - lo) / (2 * tq)
        several_q = len(qs) > 1
        table = self._table(
            names,
            [(v, None) for v, _ in cols],
            m["keys"],
            dict(estimate=est, se=se, ci_low=lo, ci_high=hi, deff=np.full_like(est, np.nan), n=st["n"]),
            _as_list(by),
            statistic="quantile",
            several=len(names) > 1,
            ci_method="woodruff (mean)",
            level=level,
        )
        if several_q:
            pos = len(_as_list(by)) + (1 if len(names) > 1 else 0)
            table.insert(pos, "quantile", np.repeat([p for _, p in cols], D))
        table.attrs["quantiles"] = qs
        return table

    def glm(
        self,
        formula: str,
        family: str = "gaussian",
        *,
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Generalised linear model with design-based standard errors (R's ``svyglm``).

        Parameters
        ----------
        formula
            A model formula such as ``"tested_12m ~ police_violence + C(age_group)"``
            (statsmodels/formulaic syntax; ``C(x)`` for categorical terms,
            treatment coding with the first level as reference, as R).
        family
            ``"gaussian"``, ``"binomial"`` (logistic; ``"quasibinomial"``
            gives the same estimates and standard errors in ``svyglm``) or
            ``"poisson"`` (``"quasipoisson"``).
        level
            Confidence level.

        Returns
        -------
        pandas.DataFrame
            One row per coefficient: ``term``, ``estimate``, ``se``,
            ``ci_low``, ``ci_high``, ``p_value``.  ``attrs`` holds the
            residual degrees of freedom, the family, the number of cases and
            the covariance matrix (``attrs["vcov"]``).

        Notes
        -----
        Rows with a missing value in any model variable are dropped.  Tests
        and intervals use ``t`` with ``degf(design) + 1 - p`` degrees of
        freedom, as ``summary.svyglm`` and ``confint.svyglm``; for Taylor
        designs ``degf`` counts the PSUs and strata of the cases used (R drops
        the incomplete rows first), for replicate designs it is that of the
        whole design (R computes it before dropping them).

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 7], "x": [0, 1, 2, 3, 4, 5],
        ...                    "wt": [1.0, 1, 1, 1, 1, 1]})
        >>> t = SurveyDesign(df, weights="wt").glm("y ~ x")
        >>> [round(v, 3) for v in t["estimate"]]
        [0.81, 1.143]
        """
        from research_kit.design import _glm

        _check_level(level)
        if family not in _glm.FAMILIES:
            raise ParameterError(f"family={family!r} is not one of {', '.join(_glm.FAMILIES)}.")
        names, beta, vcov, dfres, used = _glm.fit_glm(self, formula, family, level)
        se = np.sqrt(np.diag(vcov))
        tq = _ci.qt(1 - (1 - level) / 2, dfres)
        with np.errstate(divide="ignore", invalid="ignore"):
            tval = beta / se
        pval = 2 * stats.t.sf(np.abs(tval), dfres) if dfres > 0 else np.full_like(beta, np.nan)
        out = EstimateTable(
            dict(term=names, estimate=beta, se=se, ci_low=beta - tq * se, ci_high=beta + tq * se,
                 p_value=pval)
        )
        out.attrs.update(
            statistic="glm",
            formula=formula,
            family=family,
            df_residual=int(dfres),
            n=int(used.sum()),
            level=level,
            vcov=pd.DataFrame(vcov, index=names, columns=names),
        )
        return out

    def chisq(self, row: str, col: str) -> pd.DataFrame:
        """Test of association in a two-way table (R's ``svychisq``, default ``"F"``).

        Parameters
        ----------
        row, col
            The two categorical (or 0/1) columns.

        Returns
        -------
        pandas.DataFrame
            One row: ``statistic`` (Rao–Scott second-order corrected F),
            ``df1``, ``df2`` (non-integer, as R), ``p_value``.

        Notes
        -----
        Pearson's X² is computed on the weighted table of complete cases
        scaled to the total number of rows (``svytable(Ntotal = N)``), and the
        design effects come from the covariance of the cell proportions,
        exactly as ``svychisq(~row + col, design)``.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"a": [0, 1] * 10, "b": [0, 0, 1, 1, 1] * 4, "wt": [1.0] * 20})
        >>> t = SurveyDesign(df, weights="wt").chisq("a", "b")
        >>> list(t.columns)
        ['statistic', 'df1', 'df2', 'p_value']
        """
        from research_kit.design._chisq import rao_scott

        r = rao_scott(self, row, col)
        out = EstimateTable(
            dict(statistic=[r["statistic"]], df1=[r["df1"]], df2=[r["df2"]], p_value=[r["p_value"]])
        )
        out.attrs.update(statistic="chisq", variables=[row, col], pearson=r["pearson"],
                         method="Pearson's X^2: Rao & Scott adjustment")
        return out

    # ------------------------------------------------------------------
    # Calibration and replicate weights
    # ------------------------------------------------------------------

    def post_stratify(
        self, by: str | Sequence[str], population: Any, *, partial: bool = False
    ) -> SurveyDesign:
        """Post-stratify the weights to known population counts (R's ``postStratify``).

        Parameters
        ----------
        by
            Post-stratification column(s).
        population
            Known totals: a dict ``{level: total}`` (or ``{(level1, level2): total}``
            for several columns), a Series indexed by level, or a DataFrame
            with the ``by`` columns and ``Freq`` (as R).
        partial
            Ignore population cells with no respondents (R's ``partial = TRUE``).

        Returns
        -------
        SurveyDesign
            A new design; this one is unchanged.  Its Taylor variances
            account for the calibration as ``svyrecvar`` does.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"g": ["a", "a", "b", "b"], "y": [1, 0, 1, 1],
        ...                    "wt": [1.0, 1, 1, 1]})
        >>> d = SurveyDesign(df, weights="wt").post_stratify("g", {"a": 30, "b": 10})
        >>> float(d.total("y")["estimate"].iloc[0])
        25.0
        """
        from research_kit.design._calibrate import post_stratify

        return post_stratify(self, _as_list(by), population, partial)

    def rake(self, margins: dict, *, maxit: int = 10, epsilon: float = 1.0) -> SurveyDesign:
        """Rake the weights to several known margins (R's ``rake``).

        Parameters
        ----------
        margins
            ``{column: population}`` for each margin, each population as in
            :meth:`post_stratify` (a tuple of columns as key for a joint margin).
        maxit, epsilon
            As R's ``control = list(maxit = 10, epsilon = 1)``: stop when no
            cell of the joint weighted table moves by ``epsilon`` (a fraction
            of the total weight if < 1).

        Returns
        -------
        SurveyDesign
            A new, raked design.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"g": ["a", "a", "b", "b"], "h": ["x", "y", "x", "y"],
        ...                    "wt": [1.0, 1, 1, 1]})
        >>> d = SurveyDesign(df, weights="wt").rake({"g": {"a": 30, "b": 10}, "h": {"x": 20, "y": 20}})
        >>> round(float(d.weights.sum()), 6)
        40.0
        """
        from research_kit.design._calibrate import rake

        if not margins:
            raise ParameterError("Give at least one margin to rake to.")
        return rake(self, margins, maxit, epsilon)

    def to_replicate(
        self,
        type: str = "auto",
        *,
        replicates: int = 50,
        seed: int | np.random.Generator | None = None,
        mse: bool = False,
    ) -> SurveyDesign:
        """Replicate-weight version of this design (R's ``as.svrepdesign``).

        Parameters
        ----------
        type
            ``"JK1"`` (unstratified designs), ``"JKn"`` (stratified),
            ``"bootstrap"``, or ``"auto"`` (JK1 without strata, JKn with, as R).
        replicates
            Number of bootstrap replicates.
        seed
            Random seed (or generator) for the bootstrap.  The draws cannot
            match R's, whose random numbers differ; the scheme is R's
            (``bootweights``: ``n_h`` PSUs drawn with replacement per stratum).
        mse
            Centre the variance at the full-sample estimate.

        Returns
        -------
        SurveyDesign
            A design whose estimators use replicate variance.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"venue": [1, 1, 2, 2, 3, 3], "y": [1, 0, 1, 1, 0, 0],
        ...                    "wt": [1.0] * 6})
        >>> SurveyDesign(df, weights="wt", psu="venue").to_replicate("JK1")
        SurveyDesign(6 rows, 1 strata, 3 PSUs, replicate weights)
        """
        from research_kit.design import _replicate

        if self._calibration:
            raise DesignError(
                "Convert to replicate weights before post-stratifying or raking (R's "
                "as.svrepdesign also starts from the uncalibrated design)."
            )
        if type == "auto":
            type = "JKn" if self.has_strata else "JK1"
        if type == "JK1":
            if self.has_strata:
                raise DesignError("Can't use JK1 for a stratified design; use type='JKn' (as R).")
            rep = _replicate.jk1(self)
        elif type == "JKn":
            if not self.has_strata:
                raise DesignError("Must use JK1 or bootstrap for an unstratified design (as R).")
            if (self._stages[0].n_clusters < 2).any():
                raise DesignError("JKn needs at least two PSUs in every stratum.")
            rep = _replicate.jkn(self)
        elif type == "bootstrap":
            rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
            rep = _replicate.bootstrap(self, int(replicates), rng)
        else:
            raise ParameterError(f"type={type!r}: choose 'JK1', 'JKn', 'bootstrap' or 'auto'.")
        rep.mse = bool(mse)
        new = self._copy()
        new._replicate = rep
        rep.degf = new._replicate_degf(np.ones(self.n, dtype=bool))
        return new

    @classmethod
    def from_replicate_weights(
        cls,
        data: pd.DataFrame,
        *,
        weights: str,
        repweights: str | Sequence[str],
        type: str = "bootstrap",
        scale: float | None = None,
        rscales: float | Sequence[float] | None = None,
        rho: float | None = None,
        mse: bool = False,
        combined_weights: bool = True,
    ) -> SurveyDesign:
        """A design from replicate weight columns supplied with the data (R's ``svrepdesign``).

        Parameters
        ----------
        data
            One row per respondent.
        weights
            Full-sample weight column.
        repweights
            Replicate weight columns: a list, or a regular expression
            matched against the column names (as R's ``repweights = "rw[0-9]+"``).
        type
            ``"bootstrap"``, ``"JK1"``, ``"JKn"``, ``"BRR"``, ``"Fay"``,
            ``"successive-difference"``, ``"ACS"`` or ``"other"``.
        scale, rscales, rho
            Variance constants, with R's defaults for each type
            (bootstrap ``1 / (R - 1)``, BRR ``1 / R``, Fay ``1 / (R (1 - rho)^2)``).
        mse
            Centre at the full-sample estimate (R's ``mse = TRUE``).
        combined_weights
            The columns are full weights (True, R's default) rather than
            factors to multiply the sampling weight by.

        Returns
        -------
        SurveyDesign

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1, 0, 1, 1], "wt": [2.0, 2, 2, 2],
        ...                    "r1": [4.0, 0, 2, 2], "r2": [0.0, 4, 2, 2], "r3": [2.0, 2, 4, 0]})
        >>> d = SurveyDesign.from_replicate_weights(df, weights="wt", repweights="r[0-9]")
        >>> d
        SurveyDesign(4 rows, 1 strata, 4 PSUs, replicate weights)
        """
        import re

        from research_kit.design import _replicate

        if isinstance(repweights, str):
            cols = [c for c in data.columns if re.search(repweights, str(c))]
            if not cols:
                raise DesignError(f"No column matches the replicate weight pattern {repweights!r}.")
        else:
            cols = list(repweights)
            missing = [c for c in cols if c not in data.columns]
            if missing:
                raise DesignError(f"Replicate weight column(s) {missing} not in the data.")
        design = cls(data, weights=weights)
        W = data[cols].to_numpy(dtype=float, na_value=np.nan)
        if np.isnan(W).any():
            bad = np.isnan(W).any(axis=1)
            raise DesignError(
                f"Missing replicate weights (rows {_rows(data.index, bad)}); every replicate "
                "needs a weight for every respondent (0 if excluded)."
            )
        if not combined_weights:
            W = W * design.weights[:, None]
        try:
            sc, rs = _replicate.user_constants(type, W.shape[1], scale, rscales, rho)
        except ValueError as exc:
            raise DesignError(str(exc)) from exc
        design._replicate = _replicate.Replicates(
            type=type, scale=sc, rscales=rs, mse=bool(mse), weights=W
        )
        design._replicate.degf = design._replicate_degf(np.ones(design.n, dtype=bool))
        design.replicate_columns = cols
        return design


def _check_level(level: float) -> None:
    if not (0 < level < 1):
        raise ParameterError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}.")
