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
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from research_kit.errors import FormError, ParameterError
from research_kit.forms import Form
from research_kit.forms.expressions import evaluate, referenced_fields

__all__ = ["Indicator", "registry", "get", "check", "add_indicator_columns", "compute"]

DOMAINS = ("testing", "treatment", "prevention", "stigma", "violence", "rights", "organisation")


@dataclass(frozen=True)
class Indicator:
    """One indicator of the registry."""

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

    def name(self, language: str = "es") -> str:
        return self.names[language]

    def definition(self, language: str = "es") -> str:
        return self.definitions[language]

    @property
    def fields(self) -> set[str]:
        """Form fields the numerator and denominator use."""
        return referenced_fields(self.numerator) | referenced_fields(self.denominator)


@cache
def registry() -> dict[str, Indicator]:
    """All indicators, keyed by id, in registry order."""
    raw = tomllib.loads(resources.files("research_kit.indicators").joinpath("registry.toml").read_text(encoding="utf-8"))
    out = {}
    for key, d in raw.items():
        if d["domain"] not in DOMAINS:
            raise FormError(f"registry.toml: indicator {key!r} has unknown domain {d['domain']!r}; use one of {DOMAINS}.")
        out[key] = Indicator(
            id=key, domain=d["domain"], form=d["form"], form_version=d["form_version"], recall=d["recall"],
            numerator=d["numerator"], denominator=d["denominator"],
            disaggregations=tuple(d.get("disaggregations", ())), names=d["name"], definitions=d["definition"],
        )
    return out


def get(ids: str | Iterable[str] | None = None) -> list[Indicator]:
    """Indicators by id (all of them when ``ids`` is None); an unknown id is an error listing the valid ones."""
    reg = registry()
    if ids is None:
        return list(reg.values())
    if isinstance(ids, str):
        ids = [ids]
    out = []
    for i in ids:
        if i not in reg:
            raise ParameterError(f"Unknown indicator {i!r}. Indicators in the registry: {', '.join(reg)}.")
        out.append(reg[i])
    return out


def check(form: Form, ids: Iterable[str] | None = None) -> None:
    """Raise :class:`FormError` if an indicator refers to a field the form does not have."""
    for ind in get(ids):
        missing = sorted(f for f in ind.fields | set(ind.disaggregations) if f not in form)
        if missing:
            raise FormError(
                f"Indicator {ind.id!r} uses {', '.join(missing)}, which form {form.form_id!r} "
                f"(version {form.version}) does not have. Fix the indicator in registry.toml or use a form that has them."
            )


def add_indicator_columns(frame: pd.DataFrame, form: Form, ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Add one column per indicator: 1.0 with the attribute, 0.0 without, NaN outside the denominator.

    The frame holds the form's answers as text codes (as :func:`research_kit.ingest.read_export`
    returns them).
    """
    inds = get(ids)
    check(form, [i.id for i in inds])
    out = frame.copy()
    for ind in inds:
        den = evaluate(ind.denominator, frame).astype(bool).to_numpy()
        num = evaluate(ind.numerator, frame).astype(bool).to_numpy()
        out[ind.id] = np.where(den, num.astype(float), np.nan)
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
