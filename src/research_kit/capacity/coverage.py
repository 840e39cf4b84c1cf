"""Programme coverage monitoring: routine data per site and month, coverage at every level, protected.

The form ``surveys/coverage_monitoring.xlsx`` collects, per programme site and month: sex workers
reached by peer outreach, condoms and lubricant distributed, people referred to HIV testing,
tested, and linked to care, and the site's population size estimate (SWIT, chapter 6: coverage is
monitored at local, national and regional level).

Indicators, at site, country, node and regional level, for one month:

* **coverage** = reached ÷ population size estimate;
* **condoms per sex worker per month** = condoms distributed ÷ population size estimate.

Publication rules. Counts are protected like any other published count
(:func:`research_kit.disclosure.protect_counts`: counts under the threshold are hidden, and another
cell too when a total would give a hidden one back); an indicator is shown only when the count it
is computed from is shown. Population size estimates are confidential (maps and size estimates
must be kept from law enforcement) and are never published; because a published count divided by
an exact ratio would give the estimate back, a ratio is shown exactly only for a unit that adds up
at least :data:`MIN_SITES_EXACT` sites, and in bands (:data:`COVERAGE_BANDS`,
:data:`CONDOM_BANDS`) for a single site. Countries whose organisation asked not to be named in
regional outputs are left out of node and regional tables and totals (``exclude``).

Examples
--------
>>> import pandas as pd
>>> data = pd.DataFrame({"country": ["PRY", "PRY"], "site": ["asuncion", "encarnacion"], "period": ["2025-06"] * 2,
...                      "reached": [400, 3], "condoms": [4400, 30], "lubricant": [1200, 9], "referred": [140, 1],
...                      "tested": [120, 1], "linked": [3, 0], "population_size": [1000, 25]})
>>> t = coverage_table(data, "country")
>>> float(t.loc[0, "coverage"]), round(float(t.loc[0, "condoms_per_sw"]), 2)
(0.3932, 4.32)
>>> p = protect_coverage(coverage_table(data, "site"), DisclosurePolicy())
>>> p.data[["site", "reached", "reached_status", "coverage"]].values.tolist()  # 3 is hidden, so 400 is too
[['asuncion', nan, 'secondary', nan], ['encarnacion', nan, 'primary', nan], ['total', 403.0, 'published', 0.3932]]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from research_kit.capacity.organisations import get_organisation
from research_kit.countries import NODES, get_country
from research_kit.disclosure import DisclosurePolicy, protect_counts
from research_kit.errors import DataFileError, ParameterError

__all__ = ["read_coverage", "check_coverage", "coverage_table", "protect_coverage", "coverage_trend", "CoverageTable",
           "COUNTS", "LEVELS", "MIN_SITES_EXACT", "COVERAGE_BANDS", "CONDOM_BANDS", "DATA_FILE", "anonymous_countries"]

DATA_FILE = "coverage_monitoring.csv"
FORM_NAME = "coverage_monitoring"
#: Counts reported per site and month, in table order.
COUNTS: tuple[str, ...] = ("reached", "condoms", "lubricant", "referred", "tested", "linked")
#: Levels of aggregation.
LEVELS: tuple[str, ...] = ("site", "country", "node", "region")
#: A ratio is shown exactly only for units made of at least this many sites.
MIN_SITES_EXACT = 2
#: Bands for a single site's coverage (lower bounds, as proportions).
COVERAGE_BANDS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75)
#: Bands for a single site's condoms per sex worker per month.
CONDOM_BANDS: tuple[float, ...] = (0.0, 5.0, 10.0, 20.0)
_KEYS = {"site": ["country", "site"], "country": ["country"], "node": ["node"], "region": ["region"]}


def _where(frame: pd.DataFrame, i: int) -> str:
    row = frame.iloc[i]
    where = f"row {row['_row']}" if "_row" in frame.columns and str(row["_row"]).strip() else f"row {i + 1}"
    if "_source" in frame.columns and str(row.get("_source", "")).strip():
        where = f"{row['_source']} {where}"
    site, year, month = (str(row.get(c, "")).strip() for c in ("site", "year", "month"))
    if "period" in frame.columns and not (year and month):
        return f"{where} (site {site}, {row['period']})"
    return f"{where} (site {site}, {year}-{month})"


def check_coverage(frame: pd.DataFrame) -> pd.DataFrame:
    """Check monthly programme data and return them typed: ``country`` (ISO3), ``site``, ``period`` (YYYY-MM), counts.

    Rules (every problem is listed, each with its row and rule): the country is one of the 17 and
    the site one of that country's sites in the form; year and month are given; counts are whole
    numbers, zero or more; no more referred than reached, nor linked than tested; the population
    size estimate is a whole number greater than zero; one report per site and month.

    Raises
    ------
    DataFileError
        Listing every problem.
    """
    from research_kit.forms import load_form

    form = load_form(FORM_NAME)
    form_file = form.path.name if form.path else f"{FORM_NAME}.xlsx"
    needed = ["country", "site", *COUNTS, "population_size"]
    if "period" not in frame.columns:
        needed += ["year", "month"]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataFileError(f"The coverage data lack the columns {', '.join(missing)}. Export them from KoboToolbox "
                            f"with the form {form_file} (XML names as headers).")
    frame = frame.reset_index(drop=True)
    txt = frame.astype(object).where(frame.notna(), "").astype(str).apply(lambda s: s.str.strip())
    sites = {c.name: c.extra.get("country", "") for c in form.choice_list("site")}
    problems: list[str] = []
    out = pd.DataFrame(index=frame.index)
    iso = []
    for i in range(len(frame)):
        code = txt.at[i, "country"]
        try:
            c = get_country(code)
            iso.append(c.alpha_3)
        except Exception:
            iso.append("")
            problems.append(f"{_where(frame, i)}: the country {code!r} is not one of the network's 17 countries "
                            f"(rule: choices of the list 'country' in {form_file}).")
            continue
        site = txt.at[i, "site"]
        if sites.get(site) != c.alpha_3.lower():
            problems.append(f"{_where(frame, i)}: the site {site!r} is not a site of {c.alpha_3} (rule: choice_filter "
                            f"country=${{country}} of the list 'site' in {form_file}). Add the site to the form's list "
                            "or correct the record.")
    out["country"] = iso
    out["site"] = txt["site"]
    if "period" in frame.columns:
        out["period"] = txt["period"]
    else:
        year = pd.to_numeric(txt["year"], errors="coerce")
        month = pd.to_numeric(txt["month"], errors="coerce")
        bad = year.isna() | month.isna() | ~month.between(1, 12)
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(f"{_where(frame, i)}: year {txt.at[i, 'year']!r} and month {txt.at[i, 'month']!r} do not "
                            "make a month (rule: required; month 01–12).")
        out["period"] = [f"{int(y):04d}-{int(m):02d}" if not b else "" for y, m, b in zip(year.fillna(0), month.fillna(0), bad)]
    for col in (*COUNTS, "population_size"):
        values = pd.to_numeric(txt[col], errors="coerce")
        whole = values.notna() & (values == values.round())
        low = 1 if col == "population_size" else 0
        for i in np.flatnonzero((~whole | (values < low)).to_numpy()):
            if col == "population_size":
                rule = "constraint '. >= 1': the population size estimate must be greater than zero, or coverage cannot be computed"
                todo = "Enter the site's current estimate from mapping."
            else:
                rule = "constraint '. >= 0': a count is a whole number, zero or more"
                todo = "Correct the record in KoboToolbox."
            problems.append(f"{_where(frame, i)}: {col} is {txt.at[i, col]!r} (rule: {rule} in {form_file}). {todo}")
        out[col] = values.where(whole, np.nan)
    for a, b in (("referred", "reached"), ("linked", "tested")):
        over = out[a] > out[b]
        for i in np.flatnonzero(over.to_numpy()):
            problems.append(f"{_where(frame, i)}: {a} ({int(out.at[i, a])}) is more than {b} ({int(out.at[i, b])}) "
                            f"(rule: constraint '. <= ${{{b}}}' of {a} in {form_file}).")
    dup = out.duplicated(["site", "period"], keep=False) & (out["period"] != "")
    for (site, period), idx in out[dup].groupby(["site", "period"]).groups.items():
        rows = " and ".join(_where(frame, j).split(" (")[0] for j in sorted(idx))
        problems.append(f"{rows}: {len(idx)} reports for site {site} in {period} (rule: one report per site and month). "
                        "Keep the right one in KoboToolbox and export again.")
    if problems:
        n = len(problems)
        listed = "\n".join(f"  - {p}" for p in problems[:25])
        more = f"\n  … and {n - 25} more." if n > 25 else ""
        raise DataFileError(f"The coverage data have {n} problem{'s' if n > 1 else ''}. Fix "
                            f"{'them' if n > 1 else 'it'} and read the export again:\n{listed}{more}")
    for col in (*COUNTS, "population_size"):
        out[col] = out[col].astype(int)
    return out.sort_values(["country", "site", "period"]).reset_index(drop=True)


def read_coverage(path: str | Path) -> pd.DataFrame:
    """Read a coverage-monitoring export (or the folder holding ``coverage_monitoring.csv``) and check it.

    Raises
    ------
    DataFileError
        If the file is missing or breaks a rule (see :func:`check_coverage`).
    """
    from research_kit.ingest import read_export

    path = Path(path)
    if path.is_dir():
        path = path / DATA_FILE
    if not path.is_file():
        raise DataFileError(f"There is no coverage-monitoring export at {path}. Export the form coverage_monitoring "
                            "from KoboToolbox (CSV, XML names).")
    return check_coverage(read_export(path, form=FORM_NAME))


def anonymous_countries(anonymous) -> set[str]:
    """ISO3 codes of the national organisations among ``anonymous`` organisation codes."""
    out = set()
    for code in anonymous:
        org = get_organisation(code)
        if org.country is not None:
            out.add(org.country.alpha_3)
    return out


def _with_levels(data: pd.DataFrame) -> pd.DataFrame:
    data = data.copy()
    data["node"] = data["country"].map(lambda c: get_country(c).node)
    data["region"] = "region"
    return data


def coverage_table(data: pd.DataFrame, level: str, period: str | None = None, *, exclude=(),
                   countries=None) -> pd.DataFrame:
    """Counts and coverage indicators of one month at one level (not protected: for computation only).

    Parameters
    ----------
    data : DataFrame
        As :func:`read_coverage` returns it.
    level : {'site', 'country', 'node', 'region'}
    period : str, optional
        ``YYYY-MM`` (default: the latest month in the data).
    exclude : iterable of str
        ISO3 codes of countries left out (their organisation asked not to be named).
    countries : iterable of str, optional
        Keep only these countries (ISO codes).

    Returns
    -------
    DataFrame
        Level keys, ``period``, the counts, ``population_size``, ``sites``, ``coverage`` and
        ``condoms_per_sw`` (rounded to 4 decimals), one row per unit in list order.
    """
    if level not in LEVELS:
        raise ParameterError(f"level must be one of {', '.join(LEVELS)}, not {level!r}.")
    data = _select(data, exclude, countries)
    if data.empty:
        return pd.DataFrame(columns=[*_KEYS[level], "period", *COUNTS, "population_size", "sites", "coverage", "condoms_per_sw"])
    period = period or data["period"].max()
    part = _with_levels(data[data["period"] == period])
    keys = _KEYS[level]
    agg = part.groupby(keys, sort=False).agg(**{c: (c, "sum") for c in (*COUNTS, "population_size")},
                                             sites=("site", "nunique")).reset_index()
    agg.insert(len(keys), "period", period)
    agg["coverage"] = (agg["reached"] / agg["population_size"]).round(4)
    agg["condoms_per_sw"] = (agg["condoms"] / agg["population_size"]).round(4)
    if level in ("country", "node"):
        order = {c: i for i, c in enumerate(_country_order() if level == "country" else NODES)}
        agg = agg.sort_values(keys[0], key=lambda s: s.map(order))
    return agg.reset_index(drop=True)


def _country_order() -> list[str]:
    from research_kit.countries import countries

    return [c.alpha_3 for c in countries()]


def _select(data: pd.DataFrame, exclude, countries) -> pd.DataFrame:
    exclude = {get_country(c).alpha_3 for c in exclude}
    out = data[~data["country"].isin(exclude)]
    if countries is not None:
        keep = {get_country(c).alpha_3 for c in countries}
        out = out[out["country"].isin(keep)]
    return out


def _band(value: float, bands: tuple[float, ...], percent: bool) -> str:
    k = int(np.searchsorted(np.asarray(bands), value, side="right")) - 1
    lo = bands[max(k, 0)]
    hi = bands[k + 1] if k + 1 < len(bands) else None
    if percent:
        return f"{lo * 100:.0f}–{hi * 100 - 1:.0f} %" if hi is not None else f"≥ {lo * 100:.0f} %"
    return f"{lo:.0f}–{hi - 1:.0f}" if hi is not None else f"≥ {lo:.0f}"


@dataclass(frozen=True)
class CoverageTable:
    """A protected coverage table: counts with their statuses, and the indicators that may be shown.

    Attributes
    ----------
    data : DataFrame
        Level keys, then for each count ``<count>`` (NaN when hidden) and ``<count>_status``; then
        ``coverage`` and ``condoms_per_sw``: a number (exact), a band text (single site), or None
        (not shown). A last row ``total`` (the level above) is included. Population sizes are not.
    level : str
    period : str
    counts : dict
        The :class:`~research_kit.disclosure.ProtectedTable` of each count, for publication.
    policy : DisclosurePolicy
    """

    data: pd.DataFrame
    level: str
    period: str
    counts: dict = field(default_factory=dict)
    policy: DisclosurePolicy = field(default_factory=DisclosurePolicy)


def protect_coverage(table: pd.DataFrame, policy: DisclosurePolicy, *, total: bool = True) -> CoverageTable:
    """Protect a :func:`coverage_table`: suppress small counts, and the indicators computed from them.

    Parameters
    ----------
    table : DataFrame
        From :func:`coverage_table` (one month, one level).
    policy : DisclosurePolicy
    total : bool
        Add a ``total`` row (the units together), published, with complementary suppression so that
        no hidden count can be worked out from it.
    """
    if not isinstance(policy, DisclosurePolicy):
        raise ParameterError("policy must be a DisclosurePolicy.")
    level = next(lv for lv in ("site", "country", "node", "region") if _KEYS[lv][-1] in table.columns and
                 (lv != "country" or "site" not in table.columns))
    unit = _KEYS[level][-1]
    period = str(table["period"].iloc[0]) if len(table) else ""
    out = table[_KEYS[level]].astype(str).reset_index(drop=True)
    if total:
        extra = {k: "total" for k in _KEYS[level]}
        out = pd.concat([out, pd.DataFrame([extra])], ignore_index=True)
    counts = {}
    for col in COUNTS:
        frame = pd.DataFrame({unit: table[unit].astype(str).to_numpy(), "count": table[col].to_numpy()})
        if len(frame) == 0:
            continue
        pt = protect_counts(frame, policy, dimension=unit, total=total)
        counts[col] = pt
        out[col] = pt.data["count"].to_numpy()
        out[f"{col}_status"] = pt.data["status"].to_numpy()
    sites = list(table["sites"]) + ([int(table["sites"].sum())] if total else [])
    size = list(table["population_size"]) + ([int(table["population_size"].sum())] if total else [])
    for ratio, count, bands, percent in (("coverage", "reached", COVERAGE_BANDS, True),
                                         ("condoms_per_sw", "condoms", CONDOM_BANDS, False)):
        values = []
        for k in range(len(out)):
            shown = f"{count}_status" in out and out.at[k, f"{count}_status"] in ("published", "caution")
            if not shown:
                values.append(None)
                continue
            value = float(out.at[k, count]) / float(size[k])
            values.append(round(value, 4) if sites[k] >= MIN_SITES_EXACT else _band(value, bands, percent))
        out[ratio] = values
    return CoverageTable(data=out, level=level, period=period, counts=counts, policy=policy)


def coverage_trend(data: pd.DataFrame, level: str, *, exclude=(), countries=None,
                   policy: DisclosurePolicy | None = None) -> pd.DataFrame:
    """Monthly coverage per unit (rows: months; columns: units), for a trend chart.

    A month is left blank (NaN) for a unit when its reached count is under the threshold, or when
    the unit is a single site (its exact coverage would give its size estimate back).

    Parameters
    ----------
    data : DataFrame
    level : {'country', 'node', 'region'}
    exclude, countries : see :func:`coverage_table`
    policy : DisclosurePolicy, optional
        Threshold for the counts (default :class:`DisclosurePolicy`).
    """
    if level not in ("country", "node", "region"):
        raise ParameterError(f"A trend is drawn by country, node or region, not {level!r}: a single site's exact "
                             "coverage would give its size estimate back.")
    policy = policy or DisclosurePolicy()
    part = _with_levels(_select(data, exclude, countries))
    key = _KEYS[level][0]
    agg = part.groupby(["period", key]).agg(reached=("reached", "sum"), size=("population_size", "sum"),
                                            sites=("site", "nunique")).reset_index()
    agg["coverage"] = np.where((agg["reached"] >= policy.min_count) & (agg["sites"] >= MIN_SITES_EXACT),
                               agg["reached"] / agg["size"], np.nan)
    wide = agg.pivot(index="period", columns=key, values="coverage").sort_index()
    if level == "country":
        wide = wide[[c for c in _country_order() if c in wide.columns]]
    elif level == "node":
        wide = wide[[n for n in NODES if n in wide.columns]]
    return wide
