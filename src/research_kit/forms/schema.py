"""From an XLSForm to a pandera schema, in two steps: form → plain dictionary → ``DataFrameSchema``.

The dictionary (:func:`schema_spec`) says, for every column of one level of the form (the
submission, or one repeat), what the form allows: its type, its codes, the range its
``constraint`` sets, whether it is required, when it is relevant, how a ``choice_filter``
ties it to an earlier answer. It is plain data, so it can be read, diffed and tested; the
modules in ``data_schema/`` hold it, written by ``python -m research_kit.forms.schema``.

:func:`build_schema` turns it into a :class:`pandera.api.pandas.container.DataFrameSchema`
whose checks carry the rule as the form writes it (``constraint: . >= 18 and . <= 90``,
``relevant: ${nationality} = 'foreign'``), so a failure reads like the form. Each check is
evaluated once over the whole frame with :func:`research_kit.forms.expressions.evaluate`.

Hand-written checks that the form cannot express (a recruiter's coupon must belong to
somebody in the data; which columns hold respondent ids to pseudonymise) live beside the
generated module, in ``data_schema/<form_id>_checks.py`` (see :class:`Extras`).

Examples
--------
>>> from research_kit.forms import load_form
>>> spec = schema_spec(load_form("community_survey"))
>>> spec["columns"]["age"]["range"], spec["columns"]["age"]["required"]
([18, 90], True)
>>> [r.text for r in rules(spec) if r.column == "age"]
['type: integer', "relevant: ${consent} = 'yes'", 'required', 'constraint: . >= 18 and . <= 90']
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from research_kit.errors import FormError
from research_kit.forms.expressions import evaluate, parse
from research_kit.forms.model import Field, Form

__all__ = ["schema_spec", "schema_specs", "Rule", "rules", "build_schema", "Extras", "load_extras", "schema_dir",
           "module_text", "write_schema_modules", "RuleContext", "META_SPEC"]

#: XLSForm types whose values a type check can verify.
TYPE_PATTERNS = {
    "integer": r"-?[0-9]+",
    "decimal": r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)",
    "date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
    "time": r"[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?",
    "dateTime": r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?",
}
_TYPE_OF = {"start": "dateTime", "end": "dateTime", "today": "date", "datetime": "dateTime", "dateTime": "dateTime"}

#: Submission columns every export carries, and what they must hold.
META_SPEC = {
    "_uuid": {"type": "text", "unique": "first"},
    "_submission_time": {"type": "dateTime", "not_future": True},
}

_RANGE_TERM = re.compile(r"^\s*\.\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")


def _range(constraint: str | None) -> list | None:
    """``[min, max]`` from the ``. >= a`` / ``. <= b`` terms of a constraint joined by ``and`` (None where open)."""
    if not constraint:
        return None
    low = high = None
    for term in re.split(r"\s+and\s+", constraint.strip()):
        m = _RANGE_TERM.match(term)
        if not m:
            continue
        num = float(m.group(2))
        num = int(num) if num.is_integer() else num
        if m.group(1) in (">=", ">"):
            low = num
        else:
            high = num
    return None if low is None and high is None else [low, high]


def _required(f: Field) -> bool | str:
    if not f.required:
        return False
    text = f.required.strip()
    if text.lower() in ("yes", "true", "true()", "1"):
        return True
    if text.lower() in ("no", "false", "false()", "0"):
        return False
    return text


_FILTER_TERM = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _choice_filter(form: Form, f: Field) -> dict | None:
    if not f.choice_filter:
        return None
    terms = _FILTER_TERM.findall(f.choice_filter)
    rest = _FILTER_TERM.sub("", f.choice_filter).replace("and", "").strip()
    if not terms or rest:
        raise FormError(f"The choice_filter of {f.name!r} ({f.choice_filter}) is not of the form column = ${{field}} "
                        "joined by 'and'; research_kit cannot check it. Simplify it or check it by hand.")
    allowed = {c.name: [c.extra.get(col, "") for col, _ in terms] for c in form.choice_list(f.list_name)}
    return {"expression": f.choice_filter, "terms": [list(t) for t in terms], "allowed": allowed}


def _field_type(f: Field) -> str:
    return _TYPE_OF.get(f.type, f.type)


def schema_spec(form: Form, repeat: str | None = None) -> dict:
    """The plain-dictionary schema of one level of ``form``: the submission, or the repeat ``repeat``.

    Parameters
    ----------
    form : Form
    repeat : str, optional
        A repeat's name; by default the submission level (fields outside repeats).

    Returns
    -------
    dict
        ``form_id``, ``version``, ``level``, ``columns`` (one entry per data column, in form order:
        ``type``, ``group``, ``required``, ``relevant``, ``constraint``, ``range``, ``choices``,
        ``choice_filter``, ``calculation``, ``messages``), ``dropped`` (identifying fields, which
        never reach the data) and ``meta``.

    Examples
    --------
    >>> from research_kit.forms import load_form
    >>> spec = schema_spec(load_form("rights_violation"), repeat="incidents")
    >>> spec["level"], list(spec["columns"])[:3], spec["dropped"][:2]
    ('incidents', ['incident_date', 'place_type', 'violation_type'], ['incident_gps', 'violation_other'])
    """
    columns: dict[str, dict] = {}
    dropped: list[str] = []
    for f in form.level_fields(repeat):
        if f.identifying:
            dropped.append(f.name)
            continue
        if f.type in ("deviceid",):
            continue
        entry: dict[str, Any] = {
            "type": _field_type(f),
            "group": "/".join(f.groups),
            "required": _required(f),
            "relevant": f.all_relevant,
            "constraint": f.constraint,
            "range": _range(f.constraint) if f.type in ("integer", "decimal") else None,
            "choices": [c.name for c in form.choice_list(f.list_name)] if f.is_select else None,
            "choice_filter": _choice_filter(form, f),
            "calculation": f.calculation,
        }
        messages = {}
        if f.constraint_messages:
            messages["constraint"] = dict(f.constraint_messages)
        if f.required_messages:
            messages["required"] = dict(f.required_messages)
        entry["messages"] = messages
        columns[f.name] = entry
    meta = dict(META_SPEC) if repeat is None else {"_parent_uuid": {"type": "text", "parent": "_uuid"}}
    return {
        "form_id": form.form_id,
        "version": form.version,
        "level": repeat or "submission",
        "columns": columns,
        "dropped": dropped,
        "meta": meta,
    }


def schema_specs(form: Form) -> dict[str, dict]:
    """Specs of every level of ``form``: ``{"submission": ..., "<repeat>": ...}``."""
    return {"submission": schema_spec(form), **{r: schema_spec(form, r) for r in form.repeats}}


# ---- hand-written extras -----------------------------------------------------------------

@dataclass(frozen=True)
class Extras:
    """Hand-written checks and protection rules of a form (``data_schema/<form_id>_checks.py``).

    Attributes
    ----------
    pseudonymised : tuple of str
        Columns holding respondent ids (coupons, case codes): replaced by keyed pseudonyms.
    unique : tuple of str
        Columns whose non-blank values must not repeat (every row holding a repeated value is
        quarantined: the data cannot tell which one is right).
    references : mapping
        ``{column: target}``: each non-blank value of ``column`` must be a value of ``target`` in
        an accepted row (a recruiter's coupon must be somebody's coupon).
    rules : tuple of dict
        Extra row rules: ``{"column", "expression", "name", "messages": {"es", "en", "pt"}}``; a
        row breaks one where ``column`` is answered and the XLSForm ``expression`` is false.
    """

    pseudonymised: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()
    references: Mapping[str, str] = field(default_factory=dict)
    rules: tuple[dict, ...] = ()
    source: Path | None = None


def schema_dir() -> Path:
    """Folder holding the generated schema modules (``data_schema/`` of the checkout)."""
    here = Path(__file__).resolve()
    repo = here.parents[3] / "data_schema"
    return repo if repo.is_dir() else here.parents[1] / "data_schema"


def _load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def load_extras(form: Form | str, folder: str | Path | None = None) -> Extras:
    """The hand-written :class:`Extras` of a form (none when it has no ``<form_id>_checks.py``).

    Parameters
    ----------
    form : Form or str
        The form, or its ``form_id``.
    folder : str or Path, optional
        Where to look (default :func:`schema_dir`).

    Examples
    --------
    >>> load_extras("community_survey").references
    {'recruiter_coupon': 'coupon'}
    """
    form_id = form if isinstance(form, str) else form.form_id
    path = Path(folder or schema_dir()) / f"{form_id}_checks.py"
    if not path.is_file():
        return Extras()
    module = _load_module(path, f"data_schema.{form_id}_checks")
    return Extras(
        pseudonymised=tuple(getattr(module, "PSEUDONYMISED", ())),
        unique=tuple(getattr(module, "UNIQUE", ())),
        references=dict(getattr(module, "REFERENCES", {})),
        rules=tuple(getattr(module, "RULES", ())),
        source=path,
    )


# ---- rules -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """One check of one column, as it appears in the error table.

    ``kind`` is one of ``type``, ``choices``, ``choice_filter``, ``constraint``, ``relevant``,
    ``required``, ``calculation``, ``unique``, ``reference``, ``not_future``, ``rule`` (a
    hand-written extra); ``text`` is how the rule reads (``constraint: . >= 18``).
    """

    column: str
    kind: str
    text: str
    expression: str | None = None
    messages: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def frame_level(self) -> bool:
        """True when the rule needs other columns than its own (a DataFrame-level pandera check)."""
        return self.kind not in ("type", "choices", "not_future")


def rules(spec: dict, extras: Extras | None = None) -> list[Rule]:
    """Every rule of a level's spec (plus hand-written extras), column by column in form order."""
    out: list[Rule] = []
    for name, col in spec["columns"].items():
        kind = col["type"]
        if kind in TYPE_PATTERNS:
            out.append(Rule(name, "type", f"type: {kind}", params={"type": kind}))
        if col["choices"] is not None:
            out.append(Rule(name, "choices", f"choices: {', '.join(col['choices'][:6])}"
                                             f"{', ...' if len(col['choices']) > 6 else ''}",
                            params={"choices": tuple(col["choices"]), "multiple": kind == "select_multiple"}))
        if col["choice_filter"]:
            out.append(Rule(name, "choice_filter", f"choice_filter: {col['choice_filter']['expression']}",
                            col["choice_filter"]["expression"], params=col["choice_filter"]))
        if col["relevant"]:
            out.append(Rule(name, "relevant", f"relevant: {col['relevant']}", col["relevant"]))
        if col["required"] and kind != "calculate":
            text = "required" if col["required"] is True else f"required: {col['required']}"
            out.append(Rule(name, "required", text, None if col["required"] is True else col["required"],
                            messages=col["messages"].get("required", {})))
        if col["constraint"]:
            out.append(Rule(name, "constraint", f"constraint: {col['constraint']}", col["constraint"],
                            messages=col["messages"].get("constraint", {}), params={"range": col["range"]}))
        if col["calculation"]:
            out.append(Rule(name, "calculation", f"calculation: {col['calculation']}", col["calculation"]))
        if kind == "dateTime" or kind == "date" and name == "today":
            out.append(Rule(name, "not_future", "not in the future", params={"type": kind}))
    for name, meta in spec["meta"].items():
        if meta.get("type") in TYPE_PATTERNS:
            out.append(Rule(name, "type", f"type: {meta['type']}", params={"type": meta["type"]}))
        if meta.get("unique"):
            out.append(Rule(name, "unique", f"unique: {name}", params={"keep": meta["unique"]}))
        if meta.get("not_future"):
            out.append(Rule(name, "not_future", "not in the future", params={"type": meta["type"]}))
    if extras is not None and spec["level"] == "submission":
        for name in extras.unique:
            out.append(Rule(name, "unique", f"unique: {name}", params={"keep": False}))
        for name, target in extras.references.items():
            out.append(Rule(name, "reference", f"reference: {name} → {target}", params={"target": target}))
        for extra in extras.rules:
            out.append(Rule(extra["column"], "rule", f"rule: {extra.get('name') or extra['expression']}",
                            extra["expression"], messages=extra.get("messages", {})))
    return out


class RuleContext:
    """Evaluates rules over one frame, computing each expression and type mask once.

    Examples
    --------
    >>> import pandas as pd
    >>> from research_kit.forms import load_form
    >>> spec = schema_spec(load_form("community_survey"))
    >>> age = next(r for r in rules(spec) if r.text.startswith("constraint") and r.column == "age")
    >>> frame = pd.DataFrame({c: "" for c in spec["columns"]}, index=range(3))
    >>> frame["age"] = ["12", "30", "abc"]
    >>> RuleContext(frame, rules(spec)).passes(age).tolist()   # "abc" fails its type check, not this one
    [False, True, True]
    """

    def __init__(self, frame: pd.DataFrame, all_rules: list[Rule] = (), now: pd.Timestamp | None = None,
                 clean: bool = False):
        self.frame = frame
        self.clean = clean  # every column holds str only, blanks as '' (a validator's working frame)
        self.now = now if now is not None else pd.Timestamp.now()
        self._expr: dict[tuple[str, str | None], pd.Series] = {}
        self._blank: dict[str, np.ndarray] = {}
        self._type_ok: dict[str, np.ndarray] = {}
        self._value_ok: dict[str, np.ndarray] = {}
        self._rules_by_column: dict[str, list[Rule]] = {}
        self.register(list(all_rules))

    # -- cached pieces
    def evaluate(self, expression: str, current: str | None = None) -> pd.Series:
        key = (expression, current)
        if key not in self._expr:
            self._expr[key] = evaluate(expression, self.frame, current=current, clean=self.clean)
        return self._expr[key]

    def truth(self, expression: str, current: str | None = None) -> np.ndarray:
        value = self.evaluate(expression, current)
        if value.dtype == bool:
            return value.to_numpy()
        if pd.api.types.is_numeric_dtype(value.dtype):
            return (value.fillna(0) != 0).to_numpy()
        return (_text(value, False) != "").to_numpy()

    def blank(self, column: str) -> np.ndarray:
        if column not in self._blank:
            values = self.frame[column]
            blank = (values.astype(object) == "").to_numpy()
            if not self.clean:
                blank = blank | values.isna().to_numpy()
            self._blank[column] = blank
        return self._blank[column]

    def register(self, all_rules: list[Rule]) -> None:
        for r in all_rules:
            self._rules_by_column.setdefault(r.column, []).append(r)

    def value_ok(self, column: str) -> np.ndarray:
        """Rows whose value passes the column's own type and choice checks (or is blank)."""
        if column not in self._value_ok:
            ok = np.ones(len(self.frame), dtype=bool)
            for r in self._rules_by_column.get(column, []):
                if r.kind in ("type", "choices"):
                    ok = ok & self.passes(r, self.frame[column])
            self._value_ok[column] = ok
        return self._value_ok[column]

    # -- one rule
    def passes(self, rule: Rule, values: pd.Series | None = None) -> np.ndarray:
        """Boolean array: True where the row keeps the rule."""
        frame = self.frame
        col = rule.column
        if values is None:
            values = frame[col]
        kind = rule.kind
        if kind == "type":
            return _type_ok(values, rule.params["type"], self.clean)
        if kind == "choices":
            return _choices_ok(values, rule.params["choices"], rule.params["multiple"], self.clean)
        blank = self.blank(col)
        if kind == "relevant":
            return blank | self.truth(rule.expression) | ~self.inputs_ok(rule.expression, col)
        if kind == "required":
            relevant = self._relevant(col)
            needed = relevant if rule.expression is None else relevant & self.truth(rule.expression)
            return ~(blank & needed) | ~self._relevant_inputs_ok(col)
        if kind == "constraint":
            return (blank | ~self.value_ok(col) | self.truth(rule.expression, current=col)
                    | ~self.inputs_ok(rule.expression, col))
        if kind == "choice_filter":
            return _choice_filter_ok(frame, col, rule.params, blank | ~self.value_ok(col))
        if kind == "calculation":
            return self._calculation_ok(rule)
        if kind == "not_future":
            return _not_future(values, self.now, self.clean)
        if kind == "unique":
            vals = values.astype(object)
            dup = vals.duplicated(keep=rule.params["keep"]).to_numpy()
            return ~dup | blank
        if kind == "reference":
            target = rule.params["target"]
            known = set(frame[target].astype(object)) - {""}
            return blank | values.astype(object).isin(known).to_numpy()
        if kind == "rule":
            return blank | self.truth(rule.expression, current=col) | ~self.inputs_ok(rule.expression, col)
        raise FormError(f"Unknown rule kind {kind!r}.")  # pragma: no cover

    def inputs_ok(self, expression: str, column: str | None = None) -> np.ndarray:
        """Rows where every other field the expression reads passes its own type and choice checks.

        A rule that reads a broken answer is not judged: the broken answer is reported on its own,
        so one mistake gives one message, not a cascade of them.
        """
        ok = np.ones(len(self.frame), dtype=bool)
        for name in parse(expression).fields:
            if name != column and name in self.frame.columns:
                ok = ok & self.value_ok(name)
        return ok

    def _relevant_inputs_ok(self, column: str) -> np.ndarray:
        for r in self._rules_by_column.get(column, []):
            if r.kind == "relevant":
                return self.inputs_ok(r.expression, column)
        return np.ones(len(self.frame), dtype=bool)

    def _relevant(self, column: str) -> np.ndarray:
        for r in self._rules_by_column.get(column, []):
            if r.kind == "relevant":
                return self.truth(r.expression)
        return np.ones(len(self.frame), dtype=bool)

    def _calculation_ok(self, rule: Rule) -> np.ndarray:
        col = rule.column
        got = _text(self.frame[col], self.clean)
        expected = self.evaluate(rule.expression)
        from research_kit.forms.expressions import _as_str

        exp = _as_str(expected)
        exp = exp.where(self._relevant(col), "") if isinstance(exp, pd.Series) else exp
        same = (got == exp).to_numpy()
        if not same.all():  # numbers compare by value (3 and 3.0 are the same answer)
            from research_kit.forms.expressions import per_unique

            def number(u: pd.Series) -> np.ndarray:
                return pd.to_numeric(u, errors="coerce").to_numpy(dtype=float)

            num_got = per_unique(got.astype(object), number, dtype=float).to_numpy()
            num_exp = per_unique(pd.Series(exp, index=got.index).astype(object), number, dtype=float).to_numpy()
            same = same | np.isclose(num_got, num_exp, equal_nan=False)
        # Rows whose inputs already fail their own checks are reported there, not here.
        return same | ~self.inputs_ok(rule.expression, col)


_TYPE_RE = {kind: re.compile(pattern) for kind, pattern in TYPE_PATTERNS.items()}


def _type_ok_unique(values: pd.Series, kind: str) -> np.ndarray:
    """Type check of distinct values (see :func:`_type_ok`)."""
    pattern = _TYPE_RE[kind]
    ok = np.array([v == "" or bool(pattern.fullmatch(v)) for v in values], dtype=bool)
    if kind in ("date", "dateTime") and ok.any():
        # Real calendar dates only (no 2025-02-30).
        text = pd.Series(values, dtype=object)
        dates = pd.to_datetime(text.str.slice(0, 10).where(ok & (text != "").to_numpy(), None),
                               format="%Y-%m-%d", errors="coerce")
        ok = ok & (dates.notna().to_numpy() | (text == "").to_numpy())
    return ok


def _text(values: pd.Series, clean: bool) -> pd.Series:
    """The column as ``str`` objects, blanks as ``''`` (a clean frame already is)."""
    if clean and values.dtype == object:
        return values
    return values.astype(object).where(values.notna(), "")


def _type_ok(values: pd.Series, kind: str, clean: bool = False) -> np.ndarray:
    """True where the cell is blank or holds a value of the XLSForm type ``kind``."""
    from research_kit.forms.expressions import per_unique

    text = _text(values, clean)
    return per_unique(text, lambda u: _type_ok_unique(u, kind), dtype=bool).to_numpy()


def _choices_ok(values: pd.Series, choices: tuple[str, ...], multiple: bool, clean: bool = False) -> np.ndarray:
    text = _text(values, clean)
    allowed = set(choices) | {""}
    ok = text.isin(allowed).to_numpy()
    if multiple and not ok.all():
        uniques = pd.unique(text[~ok].to_numpy())
        good = {u for u in uniques if set(u.split()) <= allowed and u.split()}
        ok = ok | text.isin(good).to_numpy()
    return ok


def _choice_filter_ok(frame: pd.DataFrame, col: str, params: dict, skip: np.ndarray) -> np.ndarray:
    terms = params["terms"]
    refs = [ref for _, ref in terms]
    if any(ref not in frame.columns for ref in refs):
        return np.ones(len(frame), dtype=bool)
    key = _text(frame[col], False)
    ref_blank = np.zeros(len(frame), dtype=bool)
    for ref in refs:
        values = _text(frame[ref], False)
        key = key + "\x1f" + values
        ref_blank = ref_blank | (values == "").to_numpy()
    allowed = {"\x1f".join([code, *vals]) for code, vals in params["allowed"].items()}
    return skip | ref_blank | key.isin(allowed).to_numpy()


def _not_future(values: pd.Series, now: pd.Timestamp, clean: bool = False) -> np.ndarray:
    """True where the cell is blank, not a date, or a date no later than a day after ``now``."""
    from research_kit.forms.expressions import per_unique

    limit = now + pd.Timedelta(days=1)  # a day of slack covers time zones between device and server

    def check(u: pd.Series) -> np.ndarray:
        # Local date and time as written (the offset is dropped).
        stamps = pd.to_datetime(u.astype(object).str.slice(0, 19).str.replace("T", " ", regex=False), format="mixed",
                                errors="coerce")
        return (stamps.isna() | (stamps <= limit)).to_numpy()

    return per_unique(_text(values, clean), check, dtype=bool).to_numpy()


# ---- pandera ---------------------------------------------------------------------------

class _Binding:
    """The frame a schema is validating, so column checks can read the other columns it refers to."""

    def __init__(self, all_rules: list[Rule], context: Callable[..., RuleContext] | None):
        self.rules = all_rules
        self.context = context
        self.ctx: RuleContext | None = None

    def bind(self, frame: pd.DataFrame) -> RuleContext:
        self.ctx = self.context(frame, self.rules) if self.context else RuleContext(frame, self.rules)
        return self.ctx

    def release(self) -> None:
        self.ctx = None  # the schema must not keep data alive


_FORM_SCHEMA = None


def _form_schema_class():
    """pandera's DataFrameSchema, binding the frame under validation for checks that read other columns."""
    global _FORM_SCHEMA
    if _FORM_SCHEMA is not None:
        return _FORM_SCHEMA
    import pandera.pandas as pa

    class FormSchema(pa.DataFrameSchema):
        """A DataFrameSchema whose checks may read other columns of the frame being validated."""

        @classmethod
        def get_backend(cls, check_obj=None, check_type=None):
            return pa.DataFrameSchema.get_backend(check_obj, check_type)

        def validate(self, check_obj, *args, **kwargs):
            binding: _Binding = self.metadata["binding"]
            binding.bind(check_obj)
            try:
                return super().validate(check_obj, *args, **kwargs)
            finally:
                binding.release()

    _FORM_SCHEMA = FormSchema
    return FormSchema


def build_schema(spec: dict, extras: Extras | None = None, *, context: Callable[..., RuleContext] | None = None,
                 keep: Callable[[Rule], bool] | None = None):
    """A pandera ``DataFrameSchema`` for one level's spec; every rule is a named check of its column.

    Each rule belongs to one column and is a check of that column, named as the rule reads
    (``constraint: . >= 18 and . <= 90``), so pandera's failure cases keep column, row and value.
    Rules that read other columns (``relevant``, cross-field constraints, links between rows)
    evaluate over the whole frame being validated, once. ``schema.metadata["column_rules"]``
    maps ``[column][check_number]`` back to each :class:`Rule`; ``keep`` selects rules.

    Examples
    --------
    >>> import pandas as pd
    >>> import pandera.pandas as pa
    >>> from research_kit.forms import load_form
    >>> spec = schema_spec(load_form("community_survey"))
    >>> schema = build_schema(spec)
    >>> [c.name for c in schema.columns["age"].checks][-1]
    'constraint: . >= 18 and . <= 90'
    >>> frame = pd.DataFrame({c: "" for c in spec["columns"]} | {"_uuid": "", "_submission_time": ""}, index=[0])
    >>> frame[["consent", "age"]] = ["yes", "12"]
    >>> try:
    ...     schema.validate(frame, lazy=True)
    ... except pa.errors.SchemaErrors as exc:
    ...     cases = exc.failure_cases
    >>> cases.loc[cases["column"] == "age", ["check", "failure_case"]].values.tolist()
    [['constraint: . >= 18 and . <= 90', '12']]
    """
    import pandera.pandas as pa

    all_rules = [r for r in rules(spec, extras) if keep is None or keep(r)]
    binding = _Binding(all_rules, context)
    column_checks: dict[str, list] = {}
    column_rules: dict[str, list[Rule]] = {}
    for r in all_rules:
        def check(series, r=r):
            ctx = binding.ctx if binding.ctx is not None else binding.bind(series.to_frame())
            return pd.Series(ctx.passes(r, series), index=series.index)
        # ignore_na=False: blanks are part of the rules (required), and the checks handle them.
        column_checks.setdefault(r.column, []).append(pa.Check(check, name=r.text, error=r.text, ignore_na=False))
        column_rules.setdefault(r.column, []).append(r)
    names = list(spec["columns"]) + [m for m in spec["meta"] if m in column_checks]
    columns = {name: pa.Column(checks=column_checks.get(name, []), nullable=True, required=True, coerce=False)
               for name in dict.fromkeys(names)}
    return _form_schema_class()(
        columns=columns,
        strict=False,
        name=f"{spec['form_id']}:{spec['level']}",
        metadata={"form_id": spec["form_id"], "version": spec["version"], "level": spec["level"],
                  "column_rules": column_rules, "binding": binding},
    )


# ---- generated modules ------------------------------------------------------------------

_MODULE = '''"""Schema of the form {form_id!r} (version {version}), generated from surveys/{source}.

Do not edit by hand: regenerate with ``python -m research_kit.forms.schema`` after changing the
form. Hand-written checks live beside this file, in ``{form_id}_checks.py``.

Examples
--------
>>> schema("submission").name
'{form_id}:submission'
"""

from research_kit.forms.schema import build_schema, load_extras_from

FORM_ID = {form_id!r}
FORM_VERSION = {version!r}

SPECS = {specs}


def schema(level="submission"):
    """The pandera DataFrameSchema of one level ('submission' or a repeat's name), with hand-written checks."""
    return build_schema(SPECS[level], load_extras_from(__file__, FORM_ID))
'''


def load_extras_from(module_file: str, form_id: str) -> Extras:
    """Extras beside a generated module (``<form_id>_checks.py`` in the same folder)."""
    return load_extras(form_id, Path(module_file).parent)


def _format_specs(specs: dict) -> str:
    """The specs as Python source, one line per column, so a change to a question is a one-line diff."""
    lines = ["{"]
    for level, spec in specs.items():
        lines.append(f"    {level!r}: {{")
        for key, value in spec.items():
            if key == "columns":
                lines.append("        'columns': {")
                lines += [f"            {name!r}: {col!r}," for name, col in value.items()]
                lines.append("        },")
            else:
                lines.append(f"        {key!r}: {value!r},")
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines)


def module_text(form: Form) -> str:
    """Source text of the generated schema module of ``form`` (deterministic: same form, same text)."""
    specs = _format_specs(schema_specs(form))
    source = form.path.name if form.path else f"{form.form_id}.xlsx"
    return _MODULE.format(form_id=form.form_id, version=form.version, source=source, specs=specs)


def write_schema_modules(forms: list[str] | None = None, out_dir: str | Path | None = None) -> list[Path]:
    """Write ``data_schema/<form_id>.py`` for the bundled forms (or those named); return the paths.

    Examples
    --------
    >>> import tempfile
    >>> [p.name for p in write_schema_modules(["health_services"], tempfile.mkdtemp())]
    ['health_services.py']
    """
    from research_kit.forms import FORMS, load_form

    out = Path(out_dir or schema_dir())
    out.mkdir(parents=True, exist_ok=True)
    init = out / "__init__.py"
    if not init.exists():
        init.write_text('"""pandera schemas generated from the XLSForms in surveys/ (see research_kit.forms.schema)."""\n',
                        encoding="utf-8")
    written = []
    for name in forms or FORMS:
        form = load_form(name)
        path = out / f"{form.form_id}.py"
        path.write_text(module_text(form), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m research_kit.forms.schema [FORM ...] [--out DIR] [--check]``."""
    parser = argparse.ArgumentParser(prog="python -m research_kit.forms.schema",
                                     description="Write the pandera schema modules generated from the XLSForms.")
    parser.add_argument("forms", nargs="*", help="bundled form names or XLSForm paths (default: every bundled form)")
    parser.add_argument("--out", default=None, help="folder to write into (default: data_schema/)")
    parser.add_argument("--check", action="store_true", help="only check that the modules are up to date")
    args = parser.parse_args(argv)
    from research_kit.forms import FORMS, load_form

    out = Path(args.out or schema_dir())
    if args.check:
        stale = []
        for name in args.forms or FORMS:
            form = load_form(name)
            path = out / f"{form.form_id}.py"
            if not path.is_file() or path.read_text(encoding="utf-8") != module_text(form):
                stale.append(str(path))
        if stale:
            print("Out of date: " + ", ".join(stale) + ". Run: python -m research_kit.forms.schema", file=sys.stderr)
            return 1
        print("Schema modules are up to date.")
        return 0
    for path in write_schema_modules(args.forms or None, out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
