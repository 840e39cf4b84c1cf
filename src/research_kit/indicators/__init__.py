"""The indicator registry: one definition per indicator, the same for every country.

Definitions live in ``registry.toml`` beside this module (data, not code). Numerators
and denominators are XLSForm expressions over the form's fields, so an indicator is
checked against the form it needs and computed the same way whatever the country's
sampling design.

Examples
--------
>>> import research_kit as rk, tempfile
>>> root = tempfile.mkdtemp()
>>> _ = rk.synth.generate_country("UY", root, seed=7)
>>> study = rk.load_study("UY", data_root=root)
>>> table = compute(study.design, ["testing_12m", "org_member"])
>>> table[["indicator", "n"]].to_dict("records")[0]["indicator"]
'testing_12m'
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from research_kit.errors import FormError, ParameterError
from research_kit.forms import Form
from research_kit.forms.expressions import evaluate, referenced_fields

__all__ = ["Indicator", "Grouping", "registry", "groupings", "parse_registry", "get", "check",
           "add_indicator_columns", "compute", "recall_label", "DOMAINS"]

DOMAINS = ("testing", "treatment", "prevention", "stigma", "violence", "rights", "organisation")
_LANGUAGES = ("es", "en", "pt")
#: Top-level tables of registry.toml that are not indicators.
_RESERVED = ("groupings", "recall")
_REQUIRED = ("domain", "form", "form_version", "recall", "numerator", "denominator", "name", "definition",
             "numerator_text", "denominator_text")


@dataclass(frozen=True)
class Indicator:
    """One indicator of the registry.

    Attributes
    ----------
    id, domain : str
    form, form_version : str
        The form the expressions refer to, and the first version that has every field.
    recall : str
        Recall period (a key of the registry's ``[recall]`` table; see :func:`recall_label`).
    gam : str
        UNAIDS Global AIDS Monitoring indicator number, ``""`` where there is none.
    numerator, denominator : str
        XLSForm expressions over the form's fields.
    disaggregations : tuple of str
        Default disaggregations: form fields or registry groupings.
    names, definitions, numerator_texts, denominator_texts : mapping
        Texts by language (es, en, pt).
    subgroup : bool
        True when the denominator is a subgroup of the respondents (e.g. women living with HIV).
    """

    id: str
    domain: str
    form: str
    form_version: str
    recall: str
    numerator: str
    denominator: str
    disaggregations: tuple[str, ...]
    names: Mapping[str, str]
    definitions: Mapping[str, str]
    gam: str = ""
    numerator_texts: Mapping[str, str] = field(default_factory=dict)
    denominator_texts: Mapping[str, str] = field(default_factory=dict)
    subgroup: bool = False

    def name(self, language: str = "es") -> str:
        return self.names[language]

    def definition(self, language: str = "es") -> str:
        return self.definitions[language]

    def numerator_text(self, language: str = "es") -> str:
        """The numerator in plain words."""
        return self.numerator_texts[language]

    def denominator_text(self, language: str = "es") -> str:
        """The denominator in plain words."""
        return self.denominator_texts[language]

    @property
    def fields(self) -> set[str]:
        """Form fields the numerator and denominator use."""
        return referenced_fields(self.numerator) | referenced_fields(self.denominator)


@dataclass(frozen=True)
class Grouping:
    """A disaggregation derived from a numeric field: whole-number groups by their lower bounds.

    Examples
    --------
    >>> g = groupings()["years_sw_group"]
    >>> g.field, g.codes
    ('years_sex_work', ('lt2', '2to4', '5plus'))
    >>> g.assign(pd.Series(["0", "3", "12", "", "x"])).tolist()
    ['lt2', '2to4', '5plus', None, None]
    >>> g.labels("en")["5plus"]
    '5 years or more'
    """

    id: str
    field: str
    lower: tuple[float, ...]
    codes: tuple[str, ...]
    names: Mapping[str, str]
    label_lists: Mapping[str, tuple[str, ...]]

    def name(self, language: str = "es") -> str:
        return self.names[language]

    def labels(self, language: str = "es") -> dict[str, str]:
        """Code → label, in group order."""
        return dict(zip(self.codes, self.label_lists[language]))

    def assign(self, values: pd.Series) -> pd.Series:
        """The group code of each value (None where the value is missing, not a number or below the first bound)."""
        x = pd.to_numeric(values, errors="coerce").to_numpy(float)
        pos = np.searchsorted(np.asarray(self.lower, float), x, side="right") - 1
        ok = ~np.isnan(x) & (pos >= 0)
        codes = np.asarray(self.codes, dtype=object)
        return pd.Series(np.where(ok, codes[np.clip(pos, 0, None)], None), index=values.index, dtype=object)


def _texts(key: str, what: str, value) -> dict[str, str]:
    if not isinstance(value, Mapping) or any(not value.get(lang) for lang in _LANGUAGES):
        raise FormError(f"registry.toml: {key!r} needs {what}.es, {what}.en and {what}.pt.")
    return {lang: value[lang] for lang in _LANGUAGES}


def parse_registry(raw: Mapping) -> tuple[dict[str, Indicator], dict[str, Grouping], dict[str, dict[str, str]]]:
    """Indicators, groupings and recall labels from the registry's parsed TOML, checked for completeness.

    Examples
    --------
    >>> parse_registry({"x": {"domain": "testing"}})
    Traceback (most recent call last):
    ...
    research_kit.errors.FormError: registry.toml: indicator 'x' lacks form, form_version, recall, numerator, denominator, name, definition, numerator_text, denominator_text. Add them (see the comments at the top of registry.toml).
    """
    recall = {k: _texts(k, "recall", v) for k, v in dict(raw.get("recall", {})).items()}
    groups = {}
    for key, g in dict(raw.get("groupings", {})).items():
        lower, codes = tuple(g.get("lower", ())), tuple(g.get("codes", ()))
        labels = {lang: tuple(g.get("labels", {}).get(lang, ())) for lang in _LANGUAGES}
        if not g.get("field") or not codes or len(lower) != len(codes) or list(lower) != sorted(lower) or \
                any(len(v) != len(codes) for v in labels.values()):
            raise FormError(f"registry.toml: grouping {key!r} needs a field, increasing lower bounds, and as many "
                            "codes and labels (es, en, pt) as bounds.")
        groups[key] = Grouping(key, g["field"], lower, codes, _texts(key, "name", g.get("name")), labels)
    out = {}
    for key, d in raw.items():
        if key in _RESERVED:
            continue
        missing = [k for k in _REQUIRED if k not in d]
        if missing:
            raise FormError(f"registry.toml: indicator {key!r} lacks {', '.join(missing)}. "
                            "Add them (see the comments at the top of registry.toml).")
        if d["domain"] not in DOMAINS:
            raise FormError(f"registry.toml: indicator {key!r} has unknown domain {d['domain']!r}; use one of {DOMAINS}.")
        if recall and d["recall"] not in recall:
            raise FormError(f"registry.toml: indicator {key!r} has recall {d['recall']!r}, which the [recall] table "
                            f"does not define; use one of {', '.join(recall)} or add it there.")
        out[key] = Indicator(
            id=key, domain=d["domain"], form=d["form"], form_version=d["form_version"], recall=d["recall"],
            numerator=d["numerator"], denominator=d["denominator"], gam=str(d.get("gam", "")),
            disaggregations=tuple(d.get("disaggregations", ())), names=_texts(key, "name", d["name"]),
            definitions=_texts(key, "definition", d["definition"]),
            numerator_texts=_texts(key, "numerator_text", d["numerator_text"]),
            denominator_texts=_texts(key, "denominator_text", d["denominator_text"]),
            subgroup=bool(d.get("subgroup", False)),
        )
    return out, groups, recall


@cache
def _parsed():
    raw = tomllib.loads(resources.files("research_kit.indicators").joinpath("registry.toml").read_text(encoding="utf-8"))
    return parse_registry(raw)


def registry() -> dict[str, Indicator]:
    """All indicators, keyed by id, in registry order."""
    return _parsed()[0]


def groupings() -> dict[str, Grouping]:
    """Disaggregations derived from numeric fields (e.g. ``years_sw_group``), keyed by id."""
    return _parsed()[1]


def recall_label(recall: str, language: str = "es") -> str:
    """The recall period as reports write it.

    Examples
    --------
    >>> recall_label("12 months", "es")
    'Últimos 12 meses'
    """
    return _parsed()[2].get(recall, {}).get(language, recall)


def get(ids: str | Iterable[str] | None = None) -> list[Indicator]:
    """Indicators by id (all of them when ``ids`` is None); an unknown id is an error listing the valid ones.

    :class:`Indicator` objects are passed through, so a definition outside the registry can be checked too.
    """
    reg = registry()
    if ids is None:
        return list(reg.values())
    if isinstance(ids, (str, Indicator)):
        ids = [ids]
    out = []
    for i in ids:
        if isinstance(i, Indicator):
            out.append(i)
            continue
        if i not in reg:
            raise ParameterError(f"Unknown indicator {i!r}. Indicators in the registry: {', '.join(reg)}.")
        out.append(reg[i])
    return out


def check(form: Form, ids: Iterable[str | Indicator] | None = None) -> None:
    """Raise :class:`FormError` if an indicator refers to a field the form does not have.

    The numerator, the denominator and every disaggregation (a form field, or a registry grouping
    whose source field) must be in the form.

    Examples
    --------
    >>> from research_kit.forms import load_form
    >>> check(load_form("community_survey"))  # every registry indicator fits the bundled form
    >>> bad = Indicator("x", "testing", "community_survey", "2026.1", "current", "${shoe_size} = 'yes'",
    ...                 "${consent} = 'yes'", (), {}, {})
    >>> check(load_form("community_survey"), [bad])
    Traceback (most recent call last):
    ...
    research_kit.errors.FormError: Indicator 'x' uses shoe_size, which form 'community_survey' (version 2026.1) does not have. Fix the indicator in registry.toml or use a form that has them.
    """
    groups = groupings()
    for ind in get(ids):
        needed = set(ind.fields)
        for d in ind.disaggregations:
            needed.add(groups[d].field if d in groups else d)
        missing = sorted(f for f in needed if f not in form)
        if missing:
            raise FormError(
                f"Indicator {ind.id!r} uses {', '.join(missing)}, which form {form.form_id!r} "
                f"(version {form.version}) does not have. Fix the indicator in registry.toml or use a form that has them."
            )


def add_indicator_columns(frame: pd.DataFrame, form: Form, ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Add one column per indicator: 1.0 with the attribute, 0.0 without, NaN outside the denominator.

    The frame holds the form's answers as text codes (as :func:`research_kit.ingest.read_export`
    returns them). The registry's groupings whose field the form has (e.g. ``years_sw_group``) are
    added too, as text codes (None where the answer is missing).
    """
    inds = get(ids)
    check(form, inds)
    out = frame.copy()
    # The expressions run on a view without the frame's metadata (``attrs``): pandas deep-copies
    # it into every intermediate result, which costs more than the expressions themselves.
    frame = frame.copy(deep=False)
    frame.attrs = {}
    # Blank answers as '' once per text column the expressions read (as a validator's working frame
    # has them), instead of once per comparison: the expressions then run with ``clean=True``.
    for name in sorted(set().union(*(ind.fields for ind in inds)) & set(frame.columns)):
        col = frame[name]
        if col.dtype == object:
            frame[name] = col.where(col.notna(), "")
    for ind in inds:
        den = evaluate(ind.denominator, frame, clean=True).astype(bool).to_numpy()
        num = evaluate(ind.numerator, frame, clean=True).astype(bool).to_numpy()
        out[ind.id] = np.where(den, num.astype(float), np.nan)
    for g in groupings().values():
        if g.field in frame.columns and g.id not in frame.columns:
            out[g.id] = g.assign(frame[g.field])
    return out


def compute(design, ids: str | Iterable[str] | None = None, by: str | list[str] | None = None, **options) -> pd.DataFrame:
    """Estimate indicators with a design (survey or RDS).

    Parameters
    ----------
    design : SurveyDesign or RDSDesign
        Built on data that carry the indicator columns (see :func:`add_indicator_columns`;
        :class:`research_kit.Study` adds them for every registry indicator).
    ids : str or list of str, optional
        Indicator ids; all registry indicators by default.
    by : str or list of str, optional
        Disaggregation columns.
    **options
        Passed to the design's ``proportion`` (e.g. ``ci="logit"``).

    Returns
    -------
    DataFrame
        ``indicator``, the ``by`` columns, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``deff``,
        ``n`` (unweighted denominator) and ``n_event`` (unweighted numerator).
    """
    inds = get(ids)
    by_list = [by] if isinstance(by, str) else list(by or [])
    names = [ind.id for ind in inds]
    if len(names) > 1 and _estimates_many_at_once(design):
        # One vectorised pass over every indicator and domain.
        out = design.proportion(names, by=by_list or None, **options)
        out = out.rename(columns={"variable": "indicator"}).drop(columns=["level"], errors="ignore")
    else:
        from research_kit.design import RDSDesign

        if isinstance(design, RDSDesign):
            # Intervals within 0–1 for rare attributes (R's analytic s.e., logit-scale interval).
            options.setdefault("ci", "logit")
        frames = []
        for name in names:
            t = design.proportion(name, by=by_list or None, **options)
            t = t.drop(columns=[c for c in ("variable", "level") if c in t.columns])
            t.insert(0, "indicator", name)
            frames.append(t)
        out = pd.concat(frames, ignore_index=True)
    cols = ["indicator", *by_list, "estimate", "se", "ci_low", "ci_high", "deff", "n", "n_event"]
    return pd.DataFrame(out[[c for c in cols if c in out.columns]]).reset_index(drop=True)


def _estimates_many_at_once(design) -> bool:
    from research_kit.design import SurveyDesign

    return isinstance(design, SurveyDesign)
