"""Microdata extracts for partners: de-identified, k-anonymous, with a risk summary.

The steps follow sdcMicro (Templ, Kowarik & Meindl 2015): drop direct identifiers
(names, phones, GPS, free text, device and interviewer ids); generalise quasi-identifiers
(exact age → age group, city → sub-national region); then local suppression — blank the
least important quasi-identifier of each record whose combination is shared by fewer than
``k`` records, a blank matching any value as in ``sdcMicro::localSuppression`` — until
every record is k-anonymous; and a risk summary before and after, as
``print(sdcObj, "risk")`` reports it (records violating 2-, 3- and k-anonymity, expected
re-identifications).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"name": ["Ana", "Bea", "Cris", "Dora", "Eva", "Fer"],
...                    "age": [19, 23, 24, 31, 33, 58], "city": ["asu", "asu", "asu", "asu", "cde", "asu"],
...                    "hiv_test": [1, 0, 1, 1, 0, 1]})
>>> ex = deidentify(df, quasi_identifiers=["age", "city"], k=2,
...                 generalise={"age": {"bins": [18, 25, 120], "labels": ["18-24", "25+"]}})
>>> ex.dropped
['name']
>>> ex.data[["age", "city"]].to_dict("list")
{'age': ['18-24', '18-24', '18-24', '25+', '25+', '25+'], 'city': ['asu', 'asu', 'asu', 'asu', None, 'asu']}
>>> ex.risk_after["violating_k"]
0
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from research_kit.errors import DisclosureError

__all__ = ["deidentify", "risk_summary", "Extract", "DIRECT_IDENTIFIER_PATTERN", "wildcard_frequencies"]

#: Column names taken as direct identifiers (es / en / pt and KoboToolbox / ODK meta columns).
DIRECT_IDENTIFIER_PATTERN = re.compile(
    r"(^|[_/\-\s])(name|nombre|nome|apellido|surname|phone|tel[eé]fono|telefone|celular|whatsapp|email|correo|"
    r"gps|geopoint|geolocation|latitude|longitude|latitud|longitud|altitude|precision|address|direcci[oó]n|"
    r"endere[cç]o|dni|cedula|c[eé]dula|passport|pasaporte|documento|uuid|instanceid|deviceid|device_id|"
    r"imei|simserial|subscriberid|phonenumber|username|submitted_by|interviewer|encuestador|entrevistador|"
    r"comment|comentario|observacion|observaci[oó]n|notes?|notas?|other_specify|especifique|otro_cual|"
    r"free_text|texto)($|[_/\-\s])", re.IGNORECASE)


@dataclass
class Extract:
    """A de-identified extract and what was done to it.

    Attributes
    ----------
    data : DataFrame
    dropped : list of str
        Direct identifiers removed.
    generalised : list of str
        Quasi-identifiers recoded.
    suppressed : dict of str to int
        Values blanked by local suppression, per quasi-identifier.
    k : int
    risk_before, risk_after : dict
        :func:`risk_summary` of the quasi-identifiers before (after generalisation) and after
        local suppression.
    """

    data: pd.DataFrame
    dropped: list
    generalised: list
    suppressed: dict
    k: int
    quasi_identifiers: list
    risk_before: dict = field(default_factory=dict)
    risk_after: dict = field(default_factory=dict)

    def summary(self) -> str:
        """The risk report in a few lines (for the data-sharing agreement)."""
        b, a = self.risk_before, self.risk_after
        lines = [f"Extract of {len(self.data)} records; quasi-identifiers: {', '.join(self.quasi_identifiers)}; k = {self.k}.",
                 f"Dropped (direct identifiers): {', '.join(self.dropped) or 'none'}.",
                 f"Generalised: {', '.join(self.generalised) or 'none'}.",
                 f"Values suppressed: {sum(self.suppressed.values())} "
                 f"({', '.join(f'{q}: {n}' for q, n in self.suppressed.items())}).",
                 f"Records violating {self.k}-anonymity: {b.get('violating_k')} before, {a.get('violating_k')} after.",
                 f"Expected re-identifications: {b.get('expected_reidentifications'):.2f} before, "
                 f"{a.get('expected_reidentifications'):.2f} after."]
        return "\n".join(lines)


def wildcard_frequencies(frame: pd.DataFrame, quasi_identifiers: Sequence[str], *, weights=None) -> np.ndarray:
    """For each record, how many records share its quasi-identifiers (a missing value matches any).

    With ``weights``, the sum of their weights (an estimate of the population frequency).

    Examples
    --------
    >>> wildcard_frequencies(pd.DataFrame({"a": ["x", "x", None], "b": [1, 2, 2]}), ["a", "b"]).tolist()
    [1.0, 2.0, 2.0]
    """
    n = len(frame)
    codes = []
    for q in quasi_identifiers:
        cat = pd.Categorical(frame[q])
        codes.append(np.asarray(cat.codes, dtype=np.int64))  # -1 for missing
    if not codes:
        return np.full(n, float(n))
    X = np.column_stack(codes)
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    if not (X < 0).any():
        _, inv = np.unique(X, axis=0, return_inverse=True)
        return np.bincount(inv.ravel(), weights=w)[inv.ravel()]
    out = np.empty(n)
    block = max(1, 2_000_000 // max(n * X.shape[1], 1))
    for start in range(0, n, block):
        Xi = X[start:start + block, None, :]
        match = ((Xi == X[None, :, :]) | (Xi < 0) | (X[None, :, :] < 0)).all(axis=2)
        out[start:start + block] = match @ w
    return out


def risk_summary(frame: pd.DataFrame, quasi_identifiers: Sequence[str], *, k: int = 5, weights=None) -> dict:
    """Re-identification risk of the quasi-identifiers, as sdcMicro reports it.

    ``individual_risk`` is ``1 / F`` where ``F`` is the (weighted) frequency of the
    record's combination — the simple estimate without sdcMicro's negative-binomial model.

    Examples
    --------
    >>> r = risk_summary(pd.DataFrame({"a": ["x", "x", "y"]}), ["a"], k=2)
    >>> r["violating_2"], r["expected_reidentifications"]
    (1, 2.0)
    """
    f = wildcard_frequencies(frame, quasi_identifiers)
    F = f if weights is None else wildcard_frequencies(frame, quasi_identifiers, weights=weights)
    risk = 1.0 / np.maximum(F, 1e-12) if len(frame) else np.zeros(0)
    return {"records": int(len(frame)), "violating_2": int((f < 2).sum()), "violating_3": int((f < 3).sum()),
            "violating_k": int((f < k).sum()), "k": int(k),
            "expected_reidentifications": float(risk.sum()),
            "global_risk": float(risk.mean()) if len(risk) else 0.0,
            "max_individual_risk": float(risk.max()) if len(risk) else 0.0}


def _generalise(series: pd.Series, rule) -> pd.Series:
    if callable(rule):
        return rule(series)
    if isinstance(rule, Mapping) and "bins" in rule:
        values = pd.to_numeric(series, errors="coerce")
        out = pd.cut(values, bins=rule["bins"], labels=rule.get("labels"), right=False)
        return out.astype(object).where(out.notna(), None)
    if isinstance(rule, Mapping):
        mapped = series.map(lambda v: rule.get(v, rule.get(str(v))) if pd.notna(v) else None)
        unmapped = series.notna() & mapped.isna()
        if unmapped.any():
            raise DisclosureError(f"Generalising {series.name!r}: no group for {sorted(map(str, series[unmapped].unique()))[:5]}; "
                                  "every value needs one, or it would be published as it is.")
        return mapped
    raise DisclosureError(f"A generalisation of {series.name!r} must be a function, a mapping, or {{'bins': [...]}}.")


def deidentify(frame: pd.DataFrame, *, quasi_identifiers: Sequence[str], k: int = 5,
               drop: Sequence[str] = (), keep: Sequence[str] | None = None,
               generalise: Mapping[str, Callable | Mapping] | None = None,
               importance: Sequence[str] | None = None, weights: str | None = None) -> Extract:
    """A de-identified, k-anonymous extract of survey microdata for a partner.

    Parameters
    ----------
    frame : DataFrame
        One row per respondent.
    quasi_identifiers : sequence of str
        Columns an outsider could know and link (age, city, nationality, workplace...).
    k : int
        Every combination of quasi-identifiers must be shared by at least ``k`` records.
    drop : sequence of str
        More direct identifiers to remove (besides names matching
        :data:`DIRECT_IDENTIFIER_PATTERN` and long free-text columns).
    keep : sequence of str, optional
        Columns to keep (default all others).
    generalise : mapping, optional
        Quasi-identifier → a function, a mapping of values to groups (city → region), or
        ``{"bins": [...], "labels": [...]}`` for numbers (exact age → age group).
    importance : sequence of str, optional
        Quasi-identifiers from most to least important: the least important is blanked first
        (default: the order of ``quasi_identifiers``).
    weights : str, optional
        Sampling weight column, for the risk summary.

    Raises
    ------
    DisclosureError
        ``k`` under 2, a quasi-identifier missing or dropped as a direct identifier, a value
        with no group in a generalisation.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise DisclosureError(f"k must be a whole number of at least 2, not {k!r}.")
    qis = list(quasi_identifiers)
    missing = [q for q in (*qis, *(generalise or {})) if q not in frame.columns]
    if missing:
        raise DisclosureError(f"No column {missing} in the data; the columns are {list(frame.columns)}.")
    dropped = []
    for c in frame.columns:
        if c in qis or c == weights:
            continue
        text = frame[c].dtype == object and frame[c].dropna().astype(str).str.len().mean() > 30 and \
            frame[c].nunique() > 0.5 * max(frame[c].notna().sum(), 1)
        if c in drop or DIRECT_IDENTIFIER_PATTERN.search(str(c)) or text:
            dropped.append(c)
    clash = [q for q in qis if q in drop]
    if clash:
        raise DisclosureError(f"{clash} cannot be both quasi-identifiers and dropped.")
    data = frame.drop(columns=dropped)
    if keep is not None:
        data = data[[c for c in data.columns if c in keep or c in qis]]
    data = data.copy()
    generalised = []
    for q, rule in (generalise or {}).items():
        data[q] = _generalise(data[q], rule)
        generalised.append(q)
    for q in qis:
        data[q] = data[q].astype(object).where(data[q].notna(), None)
    w = frame[weights].to_numpy(float) if weights else None
    before = risk_summary(data, qis, k=k, weights=w)
    order = list(importance or qis)
    if sorted(order) != sorted(qis):
        raise DisclosureError("importance must list the same columns as quasi_identifiers.")
    suppressed = {q: 0 for q in qis}
    f = wildcard_frequencies(data, qis)
    # One pass suffices: blanking values only ever raises other records' frequencies.
    for i in np.flatnonzero(f < k):
        row = data.index[i]
        for q in reversed(order):
            if wildcard_frequencies_one(data, qis, i) >= k:
                break
            if data.at[row, q] is not None:
                data.at[row, q] = None
                suppressed[q] += 1
    after = risk_summary(data, qis, k=k, weights=w)
    return Extract(data.reset_index(drop=True), dropped, generalised, suppressed, k, qis, before, after)


def wildcard_frequencies_one(data: pd.DataFrame, quasi_identifiers: Sequence[str], i: int) -> int:
    """How many records share record ``i``'s quasi-identifiers (missing values match any)."""
    match = np.ones(len(data), bool)
    for q in quasi_identifiers:
        col = data[q].to_numpy(object)
        v = col[i]
        if v is None:
            continue
        match &= (col == v) | pd.isna(col)
    return int(match.sum())
