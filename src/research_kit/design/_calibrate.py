"""Post-stratification and raking (R survey's ``postStratify``, ``rake``).

Calibration changes the weights and, for Taylor-linearisation designs, the
variance: ``svyrecvar`` replaces the linearisation variable by its residual
from the post-stratum means before summing it into PSU totals.  Each
calibration step is recorded as a dict and :func:`adjust` replays them.
Replicate designs post-stratify every replicate's weights instead, as
``postStratify.svyrep.design`` does.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from research_kit.errors import DesignError, ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from research_kit.design.survey import SurveyDesign


def _population_table(columns: list[str], population: Any) -> pd.DataFrame:
    """Normalise the known totals to a frame with the ``columns`` and ``Freq``."""
    if isinstance(population, pd.Series):
        pop = population.rename("Freq").reset_index()
        if len(columns) == 1 and pop.columns[0] != columns[0]:
            pop = pop.rename(columns={pop.columns[0]: columns[0]})
    elif isinstance(population, Mapping):
        if len(columns) != 1:
            keys = list(population.keys())
            pop = pd.DataFrame([tuple(k) for k in keys], columns=columns)
            pop["Freq"] = list(population.values())
        else:
            pop = pd.DataFrame({columns[0]: list(population.keys()), "Freq": list(population.values())})
    elif isinstance(population, pd.DataFrame):
        pop = population.copy()
        if "Freq" not in pop.columns:
            others = [c for c in pop.columns if c not in columns]
            if len(others) != 1:
                raise ParameterError(
                    "The population table needs the stratifying column(s) "
                    f"{columns} and one column of totals (named 'Freq', as in R)."
                )
            pop = pop.rename(columns={others[0]: "Freq"})
    else:
        raise ParameterError(
            "population must be a dict {level: total}, a pandas Series indexed by level, or a "
            "DataFrame with the stratifying column(s) and 'Freq'."
        )
    missing = [c for c in columns if c not in pop.columns]
    if missing:
        raise ParameterError(f"The population table lacks column(s) {missing}.")
    return pop[columns + ["Freq"]]


def _post_index(design: SurveyDesign, columns: list[str], population: Any, partial: bool,
                weights: np.ndarray):
    """Post-stratum of every row and the reweighting factor of each post-stratum."""
    data = design.data
    for c in columns:
        if c not in data.columns:
            raise DesignError(f"Post-stratification column {c!r} is not in the data.")
    bad = data[columns].isna().any(axis=1).to_numpy()
    if bad.any():
        from research_kit.design.survey import _rows

        raise DesignError(
            f"Missing values in post-stratification column(s) {columns} (rows "
            f"{_rows(design.data.index, bad)}); R's postStratify fails on them too. Impute or "
            "recode them (e.g. an 'unknown' category with its own population total)."
        )
    pop = _population_table(columns, population)
    keys = data[columns].astype(object)
    sample = (
        pd.DataFrame({**{c: keys[c].to_numpy() for c in columns}, "w": weights})
        .groupby(columns, sort=True, dropna=False)["w"].sum().rename("Sample").reset_index()
    )
    popk = pop.copy()
    for c in columns:
        popk[c] = popk[c].astype(object)
        sample[c] = sample[c].astype(object)
    both = sample.merge(popk, on=columns, how="outer")
    samplezero = both["Sample"].isna() | (both["Sample"] == 0)
    popzero = both["Freq"].isna() | (both["Freq"] == 0)
    both = both[~(samplezero & popzero)]
    samplezero = both["Sample"].isna() | (both["Sample"] == 0)
    popzero = both["Freq"].isna() | (both["Freq"] == 0)
    if (popzero & ~samplezero).any():
        lab = both.loc[popzero & ~samplezero, columns].to_dict("records")
        raise DesignError(
            f"Post-strata in the sample have no population total: {lab[:5]}. Add their totals "
            "to the population table (or merge them with a neighbouring category)."
        )
    if (samplezero & ~popzero).any():
        lab = both.loc[samplezero & ~popzero, columns].to_dict("records")
        if not partial:
            raise DesignError(
                f"Post-strata with a population total have no respondents: {lab[:5]}. Use "
                "partial=True to ignore them (as R's partial=TRUE), or merge categories."
            )
        warnings.warn("Some strata absent from sample: ignored (partial=True).", stacklevel=3)
        both = both[~(samplezero & ~popzero)]
    both = both.reset_index(drop=True)
    lookup = pd.MultiIndex.from_frame(both[columns])
    index = lookup.get_indexer(pd.MultiIndex.from_frame(keys))
    return index, both["Freq"].to_numpy(float), both


def post_stratify(design: SurveyDesign, columns: list[str], population: Any, partial: bool) -> SurveyDesign:
    """New design with weights post-stratified to ``population`` (``postStratify``)."""
    new = design._copy()
    oldw = design.weights
    index, pop_freq, _ = _post_index(design, columns, population, partial, oldw)
    sample_freq = np.bincount(index, weights=oldw, minlength=len(pop_freq))
    reweight = pop_freq / sample_freq
    neww = oldw * reweight[index]
    new._w = neww
    if design._replicate is not None:
        new._replicate = _post_stratify_replicates(design, index, pop_freq)
    else:
        new._calibration = design._calibration + [
            dict(kind="poststrat", index=index, psw=neww, oldw=oldw)
        ]
    return new


def _full_replicate_weights(design: SurveyDesign) -> np.ndarray:
    rep = design._replicate
    if rep.factors is not None:
        return design.weights[:, None] * rep.factors[design._psu_of_row]
    return rep.weights


def _post_stratify_replicates(design: SurveyDesign, index: np.ndarray, pop_freq: np.ndarray):
    rep = copy.copy(design._replicate)
    W = _full_replicate_weights(design)
    G = np.zeros((len(pop_freq), W.shape[1]))
    np.add.at(G, index, W)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = pop_freq[:, None] / G
    rep.weights = W * np.nan_to_num(factor[index], nan=0.0, posinf=0.0)
    rep.factors = None
    return rep


def rake(design: SurveyDesign, margins: Mapping[Any, Any], maxit: int, epsilon: float) -> SurveyDesign:
    """New design raked to several margins (``rake``): iterated post-stratification."""
    specs = []
    for key, pop in margins.items():
        cols = [key] if isinstance(key, str) else list(key)
        specs.append((cols, pop))
    allcols = list(dict.fromkeys(c for cols, _ in specs for c in cols))
    w0 = design.weights
    # R: epsilon < 1 is a fraction of the total weight, otherwise absolute
    eps = epsilon * w0.sum() if epsilon < 1 else epsilon

    def table(w):
        return pd.Series(w).groupby([design.data[c].to_numpy() for c in allcols], dropna=False).sum()

    w = w0.copy()
    rep_design = design
    old = table(w)
    converged = False
    steps: list[dict] = []
    it = 0
    while it < maxit:
        steps = []
        # Each sweep starts from the current weights and records only its own
        # steps (R sets design$postStrata <- NULL before every sweep).
        cur = design._copy()
        cur._w = w.copy()
        cur._replicate = rep_design._replicate
        for cols, pop in specs:
            oldw = cur.weights
            index, pop_freq, _ = _post_index(cur, cols, pop, False, oldw)
            sample_freq = np.bincount(index, weights=oldw, minlength=len(pop_freq))
            neww = oldw * (pop_freq / sample_freq)[index]
            if cur._replicate is not None:
                cur._replicate = _post_stratify_replicates(cur, index, pop_freq)
            cur._w = neww
            steps.append(dict(index=index, psw=neww))
        w = cur.weights
        rep_design = cur
        new = table(w)
        delta = float(np.max(np.abs(old.to_numpy() - new.to_numpy())))
        if delta < eps:
            converged = True
            break
        old = new
        it += 1
    if not converged:
        warnings.warn(f"Raking did not converge after {it} iterations (as R would warn).", stacklevel=3)
    out = design._copy()
    out._w = w
    if design._replicate is not None:
        out._replicate = rep_design._replicate
    else:
        out._calibration = design._calibration + [dict(kind="raking", margins=steps)]
    return out


def _cell_matrix(step: dict, idx: np.ndarray):
    from scipy import sparse

    if "_G" not in step:
        n = len(idx)
        step["_G"] = sparse.csr_matrix(
            (np.ones(n), (idx, np.arange(n))), shape=(int(idx.max()) + 1, n)
        )
    return step["_G"]


def adjust(calibration: list[dict], Z: np.ndarray) -> np.ndarray:
    """Residualise a row-level linearisation matrix on the calibration steps.

    Mirrors the ``postStrata`` loop of R's ``svyrecvar``: for
    post-stratification, subtract ``psw`` times the ``oldw``-weighted mean of
    ``Z / psw`` in each post-stratum; for raking, ten sweeps over the margins
    subtracting ``psw`` times the plain mean of ``Z / psw`` in each margin cell.
    """
    Z = np.array(Z, dtype=float, copy=True)
    for step in calibration:
        if step["kind"] == "poststrat":
            idx, psw, oldw = step["index"], step["psw"], step["oldw"]
            G = _cell_matrix(step, idx)
            num = G @ (Z * (oldw / psw)[:, None])
            den = G @ oldw
            Z -= (num / den[:, None])[idx] * psw[:, None]
        else:
            for _ in range(10):
                for margin in step["margins"]:
                    idx, psw = margin["index"], margin["psw"]
                    G = _cell_matrix(margin, idx)
                    num = G @ (Z / psw[:, None])
                    cnt = G @ np.ones(len(idx))
                    Z -= (num / cnt[:, None])[idx] * psw[:, None]
    return Z
