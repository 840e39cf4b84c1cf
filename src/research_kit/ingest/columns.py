"""Match an export's headers to the form's fields, and its values to the form's codes.

An export names a question in one of several ways, depending on the tool and its export
settings: the XML name alone (``age``), with its groups joined by ``/`` (KoboToolbox,
``demographics/age``) or by ``-`` (ODK Central, ``demographics-age``), or by its label in any
of the form's languages, with or without the group labels. Select questions hold codes
(``yes``) or labels (``Sí``, ``Yes``, ``Sim``); a select_multiple question also comes split
into one 0/1 column per option (``services_3m/condoms``). This module maps all of them back to
the form's names and codes.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from research_kit.forms import Field, Form
from research_kit.ingest._table import normalise

__all__ = ["Target", "HeaderIndex", "header_index", "META_COLUMNS", "is_meta", "code_values", "split_flags",
           "close_names"]

#: Columns exports add after the questions: KoboToolbox (CSV, XLSX and repeat sheets) and ODK Central.
META_COLUMNS = frozenset({
    "_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by", "__version__",
    "_version_", "_tags", "_index", "_attachments", "_geolocation", "_xform_id_string", "_media_count",
    "formhub/uuid", "meta/instanceID", "meta/rootUuid", "meta/deprecatedID", "meta/instanceName",
    "_parent_table_name", "_parent_index", "_submission__id", "_submission__uuid", "_submission__submission_time",
    "_submission__validation_status", "_submission__notes", "_submission__status", "_submission__submitted_by",
    "_submission___version__", "_submission__tags",
    "SubmissionDate", "meta-instanceID", "meta-instanceName", "meta-audit", "meta-deprecatedID", "KEY", "PARENT_KEY",
    "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState", "DeviceID",
    "Edits", "FormVersion", "instanceID",
})
_META_NORMALISED = frozenset(normalise(m) for m in META_COLUMNS)


_CACHE: dict[tuple, tuple[object, object]] = {}


def _cached(fn: Callable) -> Callable:
    """Cache per form object (forms hold dicts, so they cannot be hashed; the form is kept alive with its entry)."""
    def wrapper(form: Form, *args):
        key = (fn.__name__, id(form), *args)
        hit = _CACHE.get(key)
        if hit is not None and hit[0] is form:
            return hit[1]
        value = fn(form, *args)
        _CACHE[key] = (form, value)
        return value
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def is_meta(header: str) -> bool:
    """A column an export tool adds (submission ids, times, review states), not a question of the form."""
    h = header.strip()
    return h.startswith("_") or normalise(h) in _META_NORMALISED


@dataclass(frozen=True)
class Target:
    """What a header holds: a field's answer, or one option's 0/1 flag of a select_multiple field."""

    field: str
    option: str | None = None


@dataclass
class HeaderIndex:
    """Every way an export may name the fields of one level of a form (submission or repeat).

    A header is looked up as written first (XML names, with ``/`` or ``-`` group paths or none),
    then, unless it is a column the export tool adds (``DeviceID``, ``KEY``...), loosely: labels in
    any language, white space and case ignored.
    """

    lookup: dict[str, Target]
    ambiguous: set[str] = field(default_factory=set)
    fields: tuple[Field, ...] = ()
    exact: dict[str, Target] = field(default_factory=dict)

    def match(self, header: str) -> Target | None:
        h = header.strip()
        if h in self.exact:
            return self.exact[h]
        if is_meta(h):
            return None
        return self.lookup.get(normalise(h))


def _label_paths(form: Form, f: Field, language: str) -> list[str]:
    # A field without a label (a calculation) is headed by its name, under its groups' labels.
    label = f.labels.get(language) or f.name
    group_labels = []
    for g in f.groups:
        try:
            group_labels.append(form.group(g).labels.get(language) or g)
        except Exception:  # pragma: no cover - groups always exist in a parsed form
            group_labels.append(g)
    return ["/".join([*group_labels, label]), label]


@_cached
def _index(form: Form, repeat: str | None) -> HeaderIndex:
    lookup: dict[str, Target] = {}
    ambiguous: set[str] = set()

    def add(name: str, target: Target) -> None:
        key = normalise(name)
        if not key or key in ambiguous:
            return
        if key in lookup and lookup[key] != target:
            ambiguous.add(key)
            del lookup[key]
            return
        lookup[key] = target

    fields = form.level_fields(repeat)
    exact: dict[str, Target] = {}
    # XML names first: they are unambiguous; labels only fill what names leave open.
    for f in fields:
        inner = f.groups[f.groups.index(repeat) + 1:] if repeat in f.groups else f.groups
        names = dict.fromkeys((f.export_name("/"), f.export_name("-"), f.name, "/".join([*inner, f.name]),
                               "-".join([*inner, f.name])))
        for name in names:
            add(name, Target(f.name))
            exact[name] = Target(f.name)
            if f.type == "select_multiple":
                for c in form.choice_list(f.list_name):
                    for joined in (f"{name}/{c.name}", f"{name}-{c.name}"):
                        add(joined, Target(f.name, c.name))
                        exact[joined] = Target(f.name, c.name)
    for language in form.languages:
        for f in fields:
            for path in _label_paths(form, f, language):
                if normalise(path) in lookup and lookup[normalise(path)].field != f.name:
                    continue  # a label equal to another field's name: the name wins
                add(path, Target(f.name))
                if f.type == "select_multiple":
                    for c in form.choice_list(f.list_name):
                        add(f"{path}/{c.label(language)}", Target(f.name, c.name))
    return HeaderIndex(lookup, ambiguous, fields, exact)


def header_index(form: Form, repeat: str | None = None) -> HeaderIndex:
    """The :class:`HeaderIndex` of one level of ``form`` (cached).

    Examples
    --------
    >>> from research_kit.forms import load_form
    >>> index = header_index(load_form("community_survey"))
    >>> index.match("demographics/age"), index.match("demographics-age"), index.match("¿Cuántos años cumplidos tiene?")
    (Target(field='age', option=None), Target(field='age', option=None), Target(field='age', option=None))
    >>> index.match("prevention/services_3m/condoms")
    Target(field='services_3m', option='condoms')
    """
    return _index(form, repeat)


@_cached
def _choice_maps(form: Form, list_name: str) -> tuple[frozenset[str], dict[str, str]]:
    codes = frozenset(c.name for c in form.choice_list(list_name))
    by_label: dict[str, str] = {}
    clash: set[str] = set()
    for c in form.choice_list(list_name):
        for text in (c.name, *c.labels.values()):
            key = normalise(text)
            if key in by_label and by_label[key] != c.name:
                clash.add(key)
            by_label.setdefault(key, c.name)
    for key in clash:
        by_label.pop(key, None)
    return codes, by_label


def code_values(values: pd.Series, form: Form, f: Field) -> pd.Series:
    """Codes for a select question's cells that hold codes or labels (any language, any case).

    Cells that are neither stay as they are, so that validation reports them.

    Examples
    --------
    >>> import pandas as pd
    >>> from research_kit.forms import load_form
    >>> form = load_form("community_survey")
    >>> code_values(pd.Series(["yes", "Sí", "Não", "", "maybe", " no "]), form, form.field("has_partner")).tolist()
    ['yes', 'yes', 'no', '', 'maybe', 'no']
    >>> code_values(pd.Series(["Condones Prueba del VIH", "condoms prep"]), form, form.field("services_3m")).tolist()
    ['condoms hiv_test', 'condoms prep']
    """
    codes, by_label = _choice_maps(form, f.list_name)
    uniques = pd.unique(values.to_numpy(dtype=object))
    if all(u == "" or u in codes for u in uniques):
        return values
    mapping: dict[str, str] = {}
    multiple = f.type == "select_multiple"
    pattern = _label_pattern(form, f.list_name) if multiple else None
    for u in uniques:
        if u == "" or u in codes:
            continue
        tidy = " ".join(u.split())  # stray spaces around or between codes
        if tidy != u and (tidy == "" or all(t in codes for t in tidy.split()) and (multiple or tidy in codes)):
            mapping[u] = tidy
            continue
        if not multiple:
            mapped = by_label.get(normalise(u))
            if mapped is not None:
                mapping[u] = mapped
            continue
        tokens = u.split()
        if all(t in codes for t in tokens):
            continue
        found = _split_labels(u, pattern, by_label)
        if found is not None:
            mapping[u] = " ".join(found)
    if not mapping:
        return values
    return values.map(lambda v: mapping.get(v, v)).astype(object)


@_cached
def _label_pattern(form: Form, list_name: str) -> re.Pattern:
    texts = {normalise(t) for c in form.choice_list(list_name) for t in (c.name, *c.labels.values())}
    alternatives = "|".join(re.escape(t) for t in sorted(texts, key=len, reverse=True))
    return re.compile(rf"\s*({alternatives})(?=\s|$)")


def _split_labels(value: str, pattern: re.Pattern, by_label: dict[str, str]) -> list[str] | None:
    """Read a space-joined list of choice labels (labels hold spaces, so match the longest first)."""
    text, pos, found = normalise(value), 0, []
    while pos < len(text):
        m = pattern.match(text, pos)
        if not m:
            return None
        code = by_label.get(m.group(1))
        if code is None:
            return None
        found.append(code)
        pos = m.end()
    return found


_TRUE = frozenset({"1", "true", "yes", "si", "sí", "sim", "x", "1.0"})
_FALSE = frozenset({"0", "false", "no", "não", "", "0.0"})


def split_flags(values: pd.Series) -> pd.Series:
    """Whether each cell of a split select_multiple column marks the option as chosen.

    ``1``/``0`` (KoboToolbox, ODK Central), ``True``/``False``, or the option's label (some label
    exports repeat it instead of 1); blank when the question was not asked. Returns a boolean Series.

    Examples
    --------
    >>> split_flags(pd.Series(["1", "0", "", "True", "Condones"])).tolist()
    [True, False, False, True, True]
    """
    from research_kit.forms.expressions import per_unique

    def flag(u: pd.Series) -> list[bool]:
        return [normalise(x) not in _FALSE for x in u]

    return per_unique(values.astype(object), flag, dtype=bool)


def close_names(unknown: list[str], missing: list[str]) -> dict[str, str]:
    """Pairs (missing export name → unknown header) close enough to be the same question renamed."""
    pairs: dict[str, str] = {}
    pool = {u: u.replace("-", "/").split("/")[-1] for u in unknown}
    for m in missing:
        tail = m.split("/")[-1]
        best = difflib.get_close_matches(tail, list(pool.values()), n=1, cutoff=0.6)
        same_group = [u for u, t in pool.items() if u.replace("-", "/").rsplit("/", 1)[0] == m.rsplit("/", 1)[0] and "/" in m]
        if best:
            pairs[m] = next(u for u, t in pool.items() if t == best[0])
        elif len(same_group) == 1:
            pairs[m] = same_group[0]
    return pairs
