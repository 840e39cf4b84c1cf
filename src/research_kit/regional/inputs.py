"""Everything the regional report needs, computed once per batch: :func:`collect` → :class:`RegionalInputs`.

For each country :func:`collect` loads the study, computes every registry indicator with
the country's own design (the same call the country report makes, so the numbers are
identical) and protects them; it estimates the share of each country's population in
each indicator's denominator (for pooling); it reads the population sizes; and it builds
the respondents by country and age group together with each country's own table
``sample_age_group``, protected **jointly** (:func:`research_kit.disclosure.protect_linked`),
so that the regional table minus the country reports gives no hidden cell back.

A batch calls :func:`collect` once in its parent process, :meth:`RegionalInputs.save`
it, and passes the path to every notebook (parameter ``batch_inputs``): country reports
take their age table from :meth:`RegionalInputs.country_table`, the regional report
everything else.

Examples
--------
>>> import research_kit as rk, tempfile
>>> root = tempfile.mkdtemp()
>>> _ = rk.synth.generate(root, ["UY", "PY"])
>>> inputs = collect(["PRY", "URY", "BOL"], data_root=root)
>>> sorted(inputs.missing)
['BOL']
>>> inputs.country_table("PRY", "sample_age_group").data.columns.tolist()
['age_group', 'count', 'status']
>>> sorted(inputs.linked)
['PRY/sample_age_group', 'URY/sample_age_group', 'regional/respondents']
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from research_kit import __version__
from research_kit.countries import NODES, Country, get_country, parse_countries
from research_kit.disclosure import DisclosurePolicy, ProtectedTable, protect_estimates
from research_kit.disclosure.linked import protect_linked
from research_kit.disclosure.model import CountTable, Dimension
from research_kit.errors import DataFileError, ParameterError, ResearchKitError
from research_kit.regional.population import POPULATION_FILE, read_population_sizes_lenient
from research_kit.study import DEFAULT_DATA_ROOT
from research_kit.batch.provenance import sha256_file

__all__ = ["collect", "RegionalInputs", "REGION", "AGE_GROUPS", "REGIONAL_TABLE", "COUNTRY_TABLE",
           "ESTIMATE_COLUMNS"]

#: Code of the whole region in hierarchical country dimensions.
REGION = "LAC"
#: Age groups of the form's ``age_group`` calculation, in report order.
AGE_GROUPS = ("u25", "25plus")
#: Table ids of the linked count tables.
REGIONAL_TABLE = "regional/respondents"
COUNTRY_TABLE = "sample_age_group"
#: Columns of :attr:`RegionalInputs.estimates`.
ESTIMATE_COLUMNS = ("country", "node", "indicator", "estimate", "se", "ci_low", "ci_high", "deff", "n", "n_event",
                    "status", "design", "form_version")
#: Extra columns: status of each estimate's denominator ``n`` and numerator ``n_event``.
_COUNT_STATUS = ("n_status", "n_event_status")
_FORMAT = "research_kit.regional_inputs/1"


@dataclass
class RegionalInputs:
    """What the regional report shows, already protected; picklable, saved once per batch.

    Attributes
    ----------
    countries : list of str
        The countries asked for (ISO alpha-3), in report order, those missing included.
    estimates : DataFrame
        One row per country and registry indicator: ``country, node, indicator, estimate, se,
        ci_low, ci_high, deff, n, n_event, status, design, form_version`` (then ``n_status`` and
        ``n_event_status``, the statuses of the counts behind each percentage). Suppressed values are NaN;
        ``status`` is ``published``/``caution``/``primary``/``secondary``, or ``not_measured`` when
        the country's form or data do not have the indicator.
    denominator_shares : DataFrame
        ``country, indicator, share``: the design-based estimated share of the country's population
        in the indicator's denominator (1 for indicators of all respondents).
    population_sizes : DataFrame
        ``country, population_size, source`` (usable rows of the population size file).
    population_problems : list of str
        What is wrong with the population size file (missing file, bad rows), for the report.
    population_file : str or None
    linked : dict of str to ProtectedTable
        ``"regional/respondents"`` (country × age group, country hierarchical: LAC → nodes →
        countries) and ``"<ISO3>/sample_age_group"`` for each country, protected jointly.
    record : dict
        The :class:`~research_kit.disclosure.BatchRecord` of the joint protection, as plain data.
    missing : dict of str to str
        Country (ISO alpha-3) → why it has no data in the report.
    policy : DisclosurePolicy
    studies : DataFrame
        ``country, node, design, form_id, form_version, data_file, sha256, cities``: provenance.
    """

    countries: list
    estimates: pd.DataFrame
    denominator_shares: pd.DataFrame
    population_sizes: pd.DataFrame
    linked: dict
    record: dict
    missing: dict
    policy: DisclosurePolicy
    studies: pd.DataFrame
    population_problems: list = field(default_factory=list)
    population_file: str | None = None
    data_root: str = str(DEFAULT_DATA_ROOT)
    min_count: int = 5
    created: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    version: str = __version__

    # ---- access ------------------------------------------------------------------------
    @property
    def present(self) -> list[str]:
        """Countries with data, in report order."""
        return [c for c in self.countries if c not in self.missing]

    def country_table(self, iso3: str, table_id: str = COUNTRY_TABLE) -> ProtectedTable | None:
        """A country's own linked table (e.g. ``"sample_age_group"``), or None if the country has none.

        The table looks like what :func:`~research_kit.disclosure.protect_counts` returns for the
        country alone (columns ``age_group, count, status``, total row ``"total"`` last), but its
        suppression pattern is the one shared with the regional table.

        Examples
        --------
        >>> import research_kit as rk, tempfile
        >>> root = tempfile.mkdtemp()
        >>> _ = rk.synth.generate(root, ["PY"])
        >>> inputs = collect(["PY"], data_root=root)
        >>> inputs.country_table("py", "sample_age_group").data["age_group"].tolist()
        ['u25', '25plus', 'total']
        """
        code = get_country(iso3).alpha_3
        return self.linked.get(f"{code}/{table_id}")

    # ---- persistence -------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the inputs to ``path`` (a pickle; written to a temporary name, then renamed).

        The file holds protected tables only, plus the unrounded estimates of published rows.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
        with open(tmp, "wb") as fh:
            pickle.dump({"format": _FORMAT, "inputs": self}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "RegionalInputs":
        """Read inputs written by :meth:`save`.

        Raises
        ------
        DataFileError
            If the file is missing or is not a file written by :meth:`save`.
        """
        path = Path(path)
        if not path.is_file():
            raise DataFileError(f"The regional inputs file {path} does not exist. Create it with "
                                "research_kit.regional.collect(...).save(path).")
        try:
            with open(path, "rb") as fh:
                payload = pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            raise DataFileError(f"{path} is not a regional inputs file ({exc}). Write it again with "
                                "research_kit.regional.collect(...).save(path).") from None
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT or not isinstance(payload.get("inputs"), cls):
            raise DataFileError(f"{path} is not a regional inputs file of format {_FORMAT}. Write it again with "
                                "research_kit.regional.collect(...).save(path).")
        return payload["inputs"]


# ---------------------------------------------------------------------------------------
# Collection
# ---------------------------------------------------------------------------------------


def _check_min_count(min_count) -> int:
    from research_kit.report.parameters import check_parameters

    # The country report's own check, so both reports accept and refuse the same values.
    return check_parameters("PRY", "es", min_count)[2]


def _estimates(study, ids: list[str]) -> pd.DataFrame:
    """Every registry indicator of one country, with the country report's call; unmeasurable ones left out."""
    from research_kit import indicators

    try:
        return indicators.compute(study.design, ids)
    except ResearchKitError:
        # One indicator the form or data cannot support must not hide the others.
        frames = []
        for i in ids:
            try:
                frames.append(indicators.compute(study.design, [i]))
            except ResearchKitError:
                continue
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["indicator"])


def _version_tuple(v: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in str(v).replace("-", ".").split("."))


def _measured(study, ind) -> bool:
    """The country's form has the indicator's fields, is recent enough, and someone is in its denominator."""
    from research_kit import indicators

    if ind.form != study.form.form_id:
        return False
    try:
        if _version_tuple(study.form.version) < _version_tuple(ind.form_version):
            return False
        indicators.check(study.form, [ind.id])
    except (ResearchKitError, TypeError):
        return False
    col = study.respondents.get(ind.id)
    return col is not None and bool(col.notna().any())


def _design_weights(study) -> np.ndarray:
    """Each respondent's weight in the country's point estimates (survey weights, or RDS-II)."""
    design = study.design
    from research_kit.design import RDSDesign

    if isinstance(design, RDSDesign):
        return design.weights("RDS-II").to_numpy(float)
    return np.asarray(design.weights, float)


def _denominator_shares(study, ids: list[str]) -> dict[str, float]:
    """Design-based share of the population in each indicator's denominator.

    For an indicator of all respondents every row is in the denominator and the share is 1.
    """
    resp = study.respondents
    w = _design_weights(study)
    out = {}
    for i in ids:
        if i not in resp.columns:
            continue
        inside = resp[i].notna().to_numpy()
        out[i] = 1.0 if inside.all() else float(w[inside].sum() / w.sum())
    return out


def _age_counts(study) -> list[int]:
    # Exactly as the country report counts its table "sample_age_group".
    counts = study.respondents["age_group"].value_counts().reindex(list(AGE_GROUPS), fill_value=0)
    return [int(v) for v in counts.to_numpy()]


def _country_dimension(present: list[Country]) -> Dimension:
    hierarchy: dict[str, list[str]] = {REGION: []}
    levels = [REGION]
    for node in NODES:
        members = [c.alpha_3 for c in present if c.node == node]
        if not members:
            continue
        hierarchy[REGION].append(node)
        hierarchy[node] = members
        levels += [node, *members]
    return Dimension("country", levels, total=REGION, hierarchy=hierarchy)


def _age_dimension() -> Dimension:
    # As protect_counts builds it: categories, then the total row "total".
    return Dimension("age_group", [*AGE_GROUPS, "total"], total="total")


def _linked_tables(counts: dict[str, list[int]], present: list[Country], policy: DisclosurePolicy):
    age = _age_dimension()
    tables: dict[str, CountTable] = {}
    if not present:
        return {}, {}
    country = _country_dimension(present)
    rows = []
    for c in present:
        for code, v in zip(AGE_GROUPS, counts[c.alpha_3]):
            rows.append({"country": c.alpha_3, "age_group": code, "count": v})
    tables[REGIONAL_TABLE] = CountTable.from_frame(pd.DataFrame(rows), [country, age], measure="respondents")
    for c in present:
        vals = counts[c.alpha_3]
        tables[f"{c.alpha_3}/{COUNTRY_TABLE}"] = CountTable([age], [*vals, sum(vals)], measure="respondents",
                                                            fixed={"country": c.alpha_3})
    res = protect_linked(tables, policy)
    linked = {}
    for tid in tables:
        pt = res.protected(tid)
        data = pt.data.copy()
        data["count"] = data["count"].astype(float)
        linked[tid] = ProtectedTable(data.reset_index(drop=True), pt.policy, pt.kind, pt.dimensions, pt.meta)
    return linked, res.record.to_dict()


def collect(countries: str | Iterable[str] | None = None, *, data_root: str | Path = DEFAULT_DATA_ROOT,
            min_count: int = 5, population_sizes: str | Path | None = None) -> RegionalInputs:
    """Compute, protect and gather everything the regional report shows.

    Parameters
    ----------
    countries : str or list of str, optional
        ISO codes (``"PRY,URY"`` or a list); all 17 by default.
    data_root : str or Path
        Folder with one study folder per country (default ``data/synthetic``).
    min_count : int
        Smallest count that may be published (the report's threshold, default 5).
    population_sizes : str or Path, optional
        The population size file (default ``<data_root>/population_sizes.csv``). Problems with it
        do not stop the collection: they are kept in :attr:`RegionalInputs.population_problems`
        and pooled estimates that need the missing sizes say so.

    Returns
    -------
    RegionalInputs

    Raises
    ------
    ParameterError, CountryError
        A bad ``min_count`` or an unknown country code. A country with no data folder or with
        unreadable data is not an error: it is listed in :attr:`RegionalInputs.missing`.
    """
    from research_kit import indicators
    from research_kit.report.parameters import policy_for
    from research_kit.study import load_study

    chosen = parse_countries(countries)
    min_count = _check_min_count(min_count)
    if not isinstance(data_root, (str, Path)):
        raise ParameterError(f"data_root must be a folder with one study folder per country, not {data_root!r}.")
    root = Path(data_root)
    policy = policy_for(min_count)
    ids = [i.id for i in indicators.get()]
    missing: dict[str, str] = {}
    est_frames, share_rows, study_rows, present = [], [], [], []
    counts: dict[str, list[int]] = {}
    for c in chosen:
        try:
            study = load_study(c, data_root=root)
            est = _estimates(study, ids)
            age_counts = _age_counts(study)
            shares = _denominator_shares(study, ids)
        except (ResearchKitError, OSError) as exc:
            missing[c.alpha_3] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            continue
        measured = {i.id for i in indicators.get() if _measured(study, i)}
        est = est[est["indicator"].isin(measured)].reset_index(drop=True)
        pt = protect_estimates(est, policy, by=["indicator"])
        data = pt.data.copy()
        num = pt.meta["numerator"]
        data["n_event"] = num["n_event"].to_numpy(float)
        # Statuses of the counts behind each percentage, for the published tables' audit.
        data["n_event_status"] = num["status"].to_numpy(object)
        data["n_status"] = pt.meta["denominator"]["status"].to_numpy(object)
        lost = [i for i in ids if i not in set(data["indicator"])]
        if lost:
            data = pd.concat([data, pd.DataFrame({"indicator": lost, "status": "not_measured"})], ignore_index=True)
        data["country"] = c.alpha_3
        data["node"] = c.node
        data["design"] = study.design_type
        data["form_version"] = str(study.form.version)
        est_frames.append(data)
        for i, s in shares.items():
            if i in measured:
                share_rows.append({"country": c.alpha_3, "indicator": i, "share": s})
        data_file = Path(study.data.attrs.get("source", study.folder / study.spec["data"]))
        study_rows.append({"country": c.alpha_3, "node": c.node, "design": study.design_type,
                           "form_id": study.form.form_id, "form_version": str(study.form.version),
                           "data_file": data_file.name,
                           "sha256": sha256_file(data_file) if data_file.is_file() else "",
                           "cities": int(study.respondents["city"].nunique())})
        counts[c.alpha_3] = age_counts
        present.append(c)
    if est_frames:
        estimates = pd.concat(est_frames, ignore_index=True)
    else:
        estimates = pd.DataFrame(columns=list(ESTIMATE_COLUMNS))
    for col in (*ESTIMATE_COLUMNS, *_COUNT_STATUS):
        if col not in estimates.columns:
            estimates[col] = np.nan
    estimates = estimates[[*ESTIMATE_COLUMNS, *_COUNT_STATUS]]
    order = {i: k for k, i in enumerate(ids)}
    estimates = estimates.sort_values(["country", "indicator"], key=lambda s: s.map(order) if s.name == "indicator"
                                      else s.map({c.alpha_3: k for k, c in enumerate(chosen)})).reset_index(drop=True)
    for col in ("estimate", "se", "ci_low", "ci_high", "deff", "n", "n_event"):
        estimates[col] = pd.to_numeric(estimates[col], errors="coerce").astype(float)
    pop_path = Path(population_sizes) if population_sizes is not None else root / POPULATION_FILE
    sizes, problems = read_population_sizes_lenient(pop_path)
    linked, record = _linked_tables(counts, present, policy)
    return RegionalInputs(
        countries=[c.alpha_3 for c in chosen], estimates=estimates,
        denominator_shares=pd.DataFrame(share_rows, columns=["country", "indicator", "share"]),
        population_sizes=sizes, linked=linked, record=record, missing=missing, policy=policy,
        studies=pd.DataFrame(study_rows, columns=["country", "node", "design", "form_id", "form_version", "data_file",
                                                  "sha256", "cities"]),
        population_problems=problems, population_file=str(pop_path), data_root=str(root), min_count=min_count,
    )
