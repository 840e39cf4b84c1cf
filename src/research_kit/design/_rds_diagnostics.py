"""RDS diagnostics: waves, transitions, homophily, differential activity, convergence, bottlenecks.

Private module; the public names are re-exported by :mod:`research_kit.design.rds`.
Every function takes an :class:`~research_kit.design.rds.RDSDesign` and returns a
tidy :class:`pandas.DataFrame`; the ``plot_*`` functions return a matplotlib
:class:`~matplotlib.figure.Figure` whose title and axis labels the caller can
pass (English defaults; reports translate them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from research_kit.design import _rds_estimators as est
from research_kit.errors import EstimationError, ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from research_kit.design.rds import RDSDesign

__all__ = [
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


def _ids(design: "RDSDesign") -> np.ndarray:
    return design._tree.ids


def recruitment_waves(design: "RDSDesign") -> pd.DataFrame:
    """Wave, seed and number of recruits of each respondent.

    Mirrors R ``get.wave`` / ``get.seed.id`` / ``get.number.of.recruits``.

    Returns
    -------
    pandas.DataFrame
        Indexed like the data, columns ``respondent``, ``recruiter`` (missing
        for seeds), ``seed`` (id of the seed at the root of the tree),
        ``wave`` (0 for seeds) and ``n_recruits``.

    Examples
    --------
    >>> import pandas as pd
    >>> from research_kit.design import RDSDesign
    >>> from research_kit.design.rds import recruitment_waves
    >>> df = pd.DataFrame({"id": ["a", "b", "c", "d"], "rec": ["seed", "a", "b", "seed"],
    ...                    "deg": [3, 2, 4, 5]})
    >>> recruitment_waves(RDSDesign(df, "id", "rec", "deg"))
      respondent recruiter seed  wave  n_recruits
    0          a       NaN    a     0           1
    1          b         a    a     1           1
    2          c         b    a     2           0
    3          d       NaN    d     0           0
    """
    c = design._core
    ids = _ids(design)
    rec = np.array([ids[p] if p >= 0 else None for p in c.parent], dtype=object)
    return pd.DataFrame(
        {
            "respondent": ids,
            "recruiter": rec,
            "seed": ids[c.seed_row],
            "wave": c.wave,
            "n_recruits": np.diff(c.child_ptr),
        },
        index=design.data.index,
    )


def wave_counts(design: "RDSDesign") -> pd.DataFrame:
    """Number of respondents per recruitment wave.

    Returns
    -------
    pandas.DataFrame
        Columns ``wave``, ``n``, ``cumulative_n`` and ``share`` (of the sample).

    Examples
    --------
    >>> import pandas as pd
    >>> from research_kit.design import RDSDesign
    >>> from research_kit.design.rds import wave_counts
    >>> df = pd.DataFrame({"id": [1, 2, 3], "rec": [None, 1, 1], "deg": [3, 2, 4]})
    >>> wave_counts(RDSDesign(df, "id", "rec", "deg"))
       wave  n  cumulative_n     share
    0     0  1             1  0.333333
    1     1  2             3  0.666667
    """
    w = design._core.wave
    n = np.bincount(w)
    return pd.DataFrame(
        {"wave": np.arange(len(n)), "n": n, "cumulative_n": np.cumsum(n), "share": n / n.sum()}
    )


def _categorical(design: "RDSDesign", variable: str):
    outcome = design._outcome(variable)
    return outcome, len(outcome.levels)


def transition_counts(design: "RDSDesign", variable: str) -> pd.DataFrame:
    """Recruiter-to-recruit transition counts between the levels of a variable.

    Mirrors R ``count.transitions``: pairs where either side is missing are
    not counted (R's 0.1 fill for a level that recruited nobody is an
    estimator detail and is not shown here).

    Returns
    -------
    pandas.DataFrame
        Long format: ``recruiter_level``, ``recruit_level``, ``count`` and
        ``row_share`` (the transition probability, count over the recruiter
        level's total).

    Examples
    --------
    >>> import pandas as pd
    >>> from research_kit.design import RDSDesign
    >>> from research_kit.design.rds import transition_counts
    >>> df = pd.DataFrame({"id": [1, 2, 3, 4], "rec": [None, 1, 1, 2], "deg": [3, 2, 4, 2],
    ...                    "g": ["x", "x", "y", "y"]})
    >>> transition_counts(RDSDesign(df, "id", "rec", "deg"), "g")
      recruiter_level recruit_level  count  row_share
    0               x             x      1   0.333333
    1               x             y      2   0.666667
    2               y             x      0        NaN
    3               y             y      0        NaN
    """
    outcome, k = _categorical(design, variable)
    t = est.transition_counts(design._core.parent, outcome.codes, k)
    with np.errstate(invalid="ignore"):
        share = t / t.sum(axis=1, keepdims=True)
    levels = outcome.levels
    return pd.DataFrame(
        {
            "recruiter_level": np.repeat(np.array(levels, dtype=object), k),
            "recruit_level": np.tile(np.array(levels, dtype=object), k),
            "count": t.ravel().astype(np.int64),
            "row_share": share.ravel(),
        }
    )


def transition_matrix(design: "RDSDesign", variable: str, normalize: bool = True) -> pd.DataFrame:
    """Transition matrix (rows = recruiter's level, columns = recruit's level).

    ``normalize=True`` gives row proportions (R ``prop.table(count.transitions(...), 1)``),
    ``False`` the counts.
    """
    tc = transition_counts(design, variable)
    value = "row_share" if normalize else "count"
    m = tc.pivot(index="recruiter_level", columns="recruit_level", values=value)
    levels = list(dict.fromkeys(tc["recruiter_level"]))
    return m.loc[levels, levels]


def stationary_distribution(design: "RDSDesign", variable: str) -> pd.DataFrame:
    """Stationary distribution of the recruitment Markov chain (R ``get.stationary.distribution``).

    Returns
    -------
    pandas.DataFrame
        Columns ``level`` and ``share``.
    """
    outcome, k = _categorical(design, variable)
    t = est.transition_counts(design._core.parent, outcome.codes, k)
    t[t.sum(axis=1) == 0] = 0.1  # as R's count.transitions
    q = est.stationary_distribution(t / t.sum(axis=1, keepdims=True))
    return pd.DataFrame({"level": outcome.levels, "share": q})


def _indicator_rows(outcome) -> list[tuple[Any, np.ndarray]]:
    """(level, 0/1 indicator with NaN) pairs as R's homophily/activity functions define them."""
    codes = outcome.codes
    observed = codes >= 0
    present = sorted(set(codes[observed].tolist()))
    if len(present) < 2:
        raise EstimationError(f"{outcome.name!r} needs at least two observed levels.")
    if len(present) == 2:
        # R turns a two-level variable into 0/1 with 1 = the larger (last sorted) level.
        targets = [present[1]]
    else:
        targets = present
    out = []
    for g in targets:
        out.append((outcome.levels[g], np.where(observed, (codes == g).astype(float), np.nan)))
    return out


def homophily(
    design: "RDSDesign", variable: str, estimator: str = "RDS-II", *, seed: Any = None
) -> pd.DataFrame:
    """Estimated population homophily (R ``homophily.estimates``, ``recruitment = FALSE``).

    Ratio of cross-group ties expected under random mixing to the estimated
    number of cross-group ties; 1 means no homophily, larger values mean
    people mostly know people of their own group. A two-level variable gives
    one row (for its larger level, as R does); more levels give one row per
    level against all others.

    Returns
    -------
    pandas.DataFrame
        Columns ``level`` and ``homophily``.
    """
    from research_kit.design.rds import _estimator_name

    name = _estimator_name(estimator)
    outcome = design._outcome(variable)
    c = design._core
    rows = []
    for level, y in _indicator_rows(outcome):
        w = c.weights(name, outcome, seed)
        rows.append({"level": level, "homophily": est.homophily_population(c.parent, y, c.degree, w)})
    return pd.DataFrame(rows, columns=["level", "homophily"])


def recruitment_homophily(design: "RDSDesign", variable: str) -> float:
    """Recruitment homophily (R ``homophily.estimates(recruitment = TRUE)``).

    Within-group recruitments observed over those expected if recruits were
    drawn independently of their recruiter's group.
    """
    outcome, k = _categorical(design, variable)
    return est.homophily_recruitment(est.transition_counts(design._core.parent, outcome.codes, k))


def differential_activity(
    design: "RDSDesign", variable: str, estimator: str = "RDS-II", *, seed: Any = None
) -> pd.DataFrame:
    """Mean network size of one group divided by that of the rest (R ``differential.activity.estimates``).

    As in R, the group is the alphabetically later of the two most frequent
    levels (for a 0/1 variable: those with 1), and means are weighted with
    the estimator's weights.

    Returns
    -------
    pandas.DataFrame
        One row: ``level`` (the group), ``ratio``.
    """
    from research_kit.design.rds import _estimator_name

    name = _estimator_name(estimator)
    outcome = design._outcome(variable)
    codes = outcome.codes
    observed = codes >= 0
    counts = np.bincount(codes[observed], minlength=len(outcome.levels))
    if np.sum(counts > 0) < 2:
        raise EstimationError(f"{variable!r} needs at least two observed levels.")
    top2 = np.argsort(-counts, kind="stable")[:2]
    # R compares the two level names as strings (table names), even for numbers.
    target = int(max(top2, key=lambda g: str(outcome.levels[g])))
    y = np.where(observed, (codes == target).astype(float), np.nan)
    c = design._core
    w = c.weights(name, outcome, seed)
    ratio = est.differential_activity(y, c.degree, w)
    return pd.DataFrame({"level": [outcome.levels[target]], "ratio": [ratio]})


def _order(design: "RDSDesign", order_by: str | None) -> np.ndarray:
    if order_by is None:
        return np.arange(design.n)
    if order_by not in design.data.columns:
        raise ParameterError(f"order_by column {order_by!r} is not in the data.")
    return np.argsort(design.data[order_by].to_numpy(), kind="stable")


def _cumulative(
    design: "RDSDesign",
    rows: np.ndarray,
    outcome,
    name: str,
    n_points: int | None,
    seed: Any,
) -> pd.DataFrame:
    """Estimates on the first m of ``rows`` for growing m."""
    codes_all = outcome.codes
    k = len(outcome.levels)
    m_total = len(rows)
    report = list(outcome.report)
    if not outcome.numeric and len(report) == 2:
        # Like R's convergence/bottleneck plots, a two-level factor shows its second level only.
        report = report[1:]
    if name == "RDS-II":
        # RDS-II on a prefix only rescales 1/degree, so cumulative sums are exact.
        inv = 1.0 / design._core.degree[rows]
        codes = codes_all[rows]
        obs = codes >= 0
        wo = np.where(obs, inv, 0.0)
        den = np.cumsum(wo)
        sizes = np.arange(1, m_total + 1)
        if n_points is not None and n_points < m_total:
            pick = np.unique(np.linspace(1, m_total, n_points).round().astype(int)) - 1
        else:
            pick = np.arange(m_total)
        frames = []
        for g in report:
            with np.errstate(invalid="ignore", divide="ignore"):
                e = np.cumsum(wo * (codes == g)) / den
            frames.append(pd.DataFrame({"n": sizes[pick], "level": outcome.levels[g], "estimate": e[pick]}))
        return pd.concat(frames, ignore_index=True)
    npts = 25 if n_points is None else n_points
    sizes = np.unique(np.linspace(1, m_total, min(npts, m_total)).round().astype(int))
    out = []
    for m in sizes:
        sub = design._sub_core(np.sort(rows[:m]), None)
        sub_codes = codes_all[np.sort(rows[:m])]
        o = type(outcome)(outcome.name, outcome.levels, sub_codes, outcome.numeric, outcome.report)
        obs = sub_codes >= 0
        try:
            w = sub.weights(name, o, seed)
            wo = np.where(obs, w, 0.0)
            shares = np.bincount(sub_codes[obs], weights=wo[obs], minlength=k) / wo.sum()
        except EstimationError:
            shares = np.full(k, np.nan)
        for g in report:
            out.append({"n": int(m), "level": outcome.levels[g], "estimate": float(shares[g])})
    return pd.DataFrame(out, columns=["n", "level", "estimate"])


def convergence(
    design: "RDSDesign",
    variable: str,
    estimator: str = "RDS-II",
    *,
    order_by: str | None = None,
    n_points: int | None = None,
    seed: Any = None,
) -> pd.DataFrame:
    """Estimate as a cumulative function of sample order (R ``convergence.plot``'s data).

    Parameters
    ----------
    order_by : str, optional
        Column giving the order of recruitment (e.g. interview date); data
        order by default.
    n_points : int, optional
        Number of sample sizes at which to evaluate. RDS-II is evaluated at
        every respondent by default (it is a cumulative sum); RDS-I and SS,
        which re-estimate on each prefix, at 25 points as R does.

    Returns
    -------
    pandas.DataFrame
        Columns ``n`` (respondents so far), ``level``, ``estimate``.
    """
    from research_kit.design.rds import _estimator_name

    name = _estimator_name(estimator)
    outcome = design._outcome(variable)
    return _cumulative(design, _order(design, order_by), outcome, name, n_points, seed)


def bottleneck(
    design: "RDSDesign",
    variable: str,
    estimator: str = "RDS-II",
    *,
    order_by: str | None = None,
    n_points: int | None = None,
    seed: Any = None,
) -> pd.DataFrame:
    """Cumulative estimate within each seed's recruitment tree (R ``bottleneck.plot``'s data).

    Trees whose estimates settle at clearly different values point to a
    bottleneck: recruitment that stays within parts of the network.

    Returns
    -------
    pandas.DataFrame
        Columns ``seed`` (seed id), ``n``, ``level``, ``estimate``.
    """
    from research_kit.design.rds import _estimator_name

    name = _estimator_name(estimator)
    outcome = design._outcome(variable)
    order = _order(design, order_by)
    seed_of = design._core.seed_row[order]
    ids = _ids(design)
    frames = []
    for s in np.unique(design._core.seed_row):
        rows = order[seed_of == s]
        f = _cumulative(design, rows, outcome, name, n_points, seed)
        f.insert(0, "seed", ids[s])
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------ figures


def _figure(figsize=(6.4, 4.2)) -> "Figure":
    # A bare Figure (no pyplot state) so batch report runs never open windows
    # or leak figures.
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def plot_waves(
    design: "RDSDesign",
    *,
    title: str = "Respondents per recruitment wave",
    xlabel: str = "Wave",
    ylabel: str = "Respondents",
) -> "Figure":
    """Bar chart of respondents per recruitment wave.

    Examples
    --------
    >>> import pandas as pd
    >>> from research_kit.design import RDSDesign
    >>> from research_kit.design.rds import plot_waves
    >>> df = pd.DataFrame({"id": [1, 2, 3], "rec": [None, 1, 1], "deg": [3, 2, 4]})
    >>> fig = plot_waves(RDSDesign(df, "id", "rec", "deg"), title="Olas")
    >>> fig.axes[0].get_title()
    'Olas'
    """
    wc = wave_counts(design)
    fig = _figure()
    ax = fig.add_subplot()
    ax.bar(wc["wave"], wc["n"], color="#4c72b0")
    ax.set_xticks(wc["wave"])
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig


def plot_convergence(
    design: "RDSDesign",
    variable: str,
    estimator: str = "RDS-II",
    *,
    order_by: str | None = None,
    n_points: int | None = None,
    seed: Any = None,
    title: str | None = None,
    xlabel: str = "Number of respondents",
    ylabel: str = "Estimate",
    legend_title: str | None = None,
) -> "Figure":
    """Convergence plot: cumulative estimate against sample size, final value dashed.

    Examples
    --------
    >>> import pandas as pd
    >>> from research_kit.design import RDSDesign
    >>> from research_kit.design.rds import plot_convergence
    >>> df = pd.DataFrame({"id": [1, 2, 3, 4], "rec": [None, 1, 1, 2], "deg": [3, 2, 4, 2],
    ...                    "hiv": [0, 1, 0, 1]})
    >>> fig = plot_convergence(RDSDesign(df, "id", "rec", "deg"), "hiv")
    >>> fig.axes[0].get_title(), fig.axes[0].get_xlabel()
    ('Convergence plot of hiv', 'Number of respondents')
    """
    data = convergence(design, variable, estimator, order_by=order_by, n_points=n_points, seed=seed)
    fig = _figure()
    ax = fig.add_subplot()
    levels = list(dict.fromkeys(data["level"]))
    for i, lev in enumerate(levels):
        d = data[data["level"] == lev]
        color = f"C{i % 10}"
        ax.plot(d["n"], d["estimate"], color=color, label=str(lev))
        ax.axhline(d["estimate"].iloc[-1], color=color, linestyle="--", alpha=0.5)
    ax.set_ylim(0, 1)
    ax.set_title(title if title is not None else f"Convergence plot of {variable}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if len(levels) > 1:
        ax.legend(title=legend_title if legend_title is not None else variable)
    return fig


def plot_bottleneck(
    design: "RDSDesign",
    variable: str,
    estimator: str = "RDS-II",
    *,
    order_by: str | None = None,
    n_points: int | None = None,
    seed: Any = None,
    title: str | None = None,
    xlabel: str = "Number of respondents",
    ylabel: str = "Estimate",
    legend_title: str = "Seed",
) -> "Figure":
    """Bottleneck plot: one cumulative-estimate line per seed's tree (one panel per level).

    Examples
    --------
    >>> import pandas as pd
    >>> from research_kit.design import RDSDesign
    >>> from research_kit.design.rds import plot_bottleneck
    >>> df = pd.DataFrame({"id": [1, 2, 3, 4], "rec": [None, 1, None, 3], "deg": [3, 2, 4, 2],
    ...                    "hiv": [0, 1, 0, 1]})
    >>> fig = plot_bottleneck(RDSDesign(df, "id", "rec", "deg"), "hiv", title="Cuellos")
    >>> fig.axes[0].get_title()
    'Cuellos'
    """
    data = bottleneck(design, variable, estimator, order_by=order_by, n_points=n_points, seed=seed)
    levels = list(dict.fromkeys(data["level"]))
    ncol = min(3, len(levels))
    nrow = int(np.ceil(len(levels) / ncol))
    fig = _figure(figsize=(5.0 * ncol, 3.8 * nrow))
    axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
    seeds = list(dict.fromkeys(data["seed"]))
    for ax, lev in zip(axes, levels):
        d = data[data["level"] == lev]
        for i, s in enumerate(seeds):
            ds = d[d["seed"] == s]
            ax.plot(ds["n"], ds["estimate"], color=f"C{i % 10}", label=str(s))
        ax.set_ylim(0, 1)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        default = f"Bottleneck plot of {variable}" + (f" = {lev}" if len(levels) > 1 else "")
        ax.set_title(default if title is None else (title if len(levels) == 1 else f"{title}: {lev}"))
    for ax in axes[len(levels):]:
        ax.set_visible(False)
    if len(seeds) <= 20:
        axes[0].legend(title=legend_title, fontsize="small")
    return fig


def plot_transitions(
    design: "RDSDesign",
    variable: str,
    *,
    title: str | None = None,
    xlabel: str = "Recruit's group",
    ylabel: str = "Recruiter's group",
) -> "Figure":
    """Heat map of the transition matrix (row proportions, counts annotated)."""
    counts = transition_matrix(design, variable, normalize=False)
    props = transition_matrix(design, variable, normalize=True)
    fig = _figure()
    ax = fig.add_subplot()
    im = ax.imshow(props.to_numpy(dtype=float), vmin=0, vmax=1, cmap="Blues")
    k = len(props)
    ax.set_xticks(range(k), [str(v) for v in props.columns])
    ax.set_yticks(range(k), [str(v) for v in props.index])
    for i in range(k):
        for j in range(k):
            p = props.iat[i, j]
            txt = f"{int(counts.iat[i, j])}" + ("" if np.isnan(p) else f"\n{p:.0%}")
            ax.text(j, i, txt, ha="center", va="center", color="white" if (p > 0.6) else "black")
    fig.colorbar(im, ax=ax)
    ax.set_title(title if title is not None else f"Recruitment transitions: {variable}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig
