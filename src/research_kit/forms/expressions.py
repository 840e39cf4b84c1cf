"""Evaluate XLSForm (ODK XPath) expressions over a whole data frame at once.

XLSForms state skip logic (``relevant``), rules (``constraint``) and derived values
(``calculation``) as ODK XPath expressions such as ``${age} >= 18 and
selected(${services_3m}, 'condoms')``. research_kit evaluates the same expressions to
check exported data, to define indicators and to generate synthetic answers, so a rule
is written once, in the language the organisations already use in their forms.

No Python library evaluates ODK XPath over columns (pyxform only translates it to
XForm XML; ODK's own evaluators run on one record in Java/JavaScript), so this small
evaluator is written by hand. It follows XPath 1.0 as ODK applies it to form data:

* an unanswered field is the empty string ``''``;
* ``=`` / ``!=`` compare as numbers when either side is a number, otherwise as strings
  (so ``${x} != 'positive'`` is true when ``x`` is blank);
* ``<``, ``>``, ``<=``, ``>=`` and arithmetic convert to numbers; blank becomes NaN and
  every comparison with NaN is false;
* ``and``, ``or``, ``not()``, ``if()``, ``selected()``, ``count-selected()``,
  ``regex()``, ``string-length()``, ``number()``, ``int()``, ``coalesce()``,
  ``true()``, ``false()``, ``today()``, ``now()``, ``date()``, ``decimal-date-time()``,
  ``div``, ``mod`` are supported; ``.`` is the field the expression belongs to;
* dates compare as numbers of days since 1970-01-01, so ``. <= today()`` works on a
  ``date`` question.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"age": ["17", "30", ""], "services": ["condoms prep", "", "none"]})
>>> evaluate("${age} >= 18 and not(selected(${services}, 'none'))", df).tolist()
[False, True, False]
>>> evaluate("count-selected(.)", df, current="services").tolist()
[2.0, 0.0, 1.0]
"""

from __future__ import annotations

import contextvars
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import numpy as np
import pandas as pd

from research_kit.errors import FormError

__all__ = ["evaluate", "parse", "referenced_fields", "Expression"]

_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<field>\$\{\s*(?P<fname>[A-Za-z_][A-Za-z0-9_.\-]*)\s*\})
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<number>\d+(?:\.\d*)?|\.\d+)
    | (?P<op>!=|<=|>=|=|<|>|\+|-|\*|\(|\)|,)
    | (?P<dot>\.)
    | (?P<name>[A-Za-z_][A-Za-z0-9_:\-]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Node:
    kind: str  # "field" | "current" | "str" | "num" | "call" | "binop" | "neg"
    value: Any = None
    args: tuple["Node", ...] = ()


def _tokenize(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FormError(f"Cannot read the expression {text!r} at {text[pos:pos + 15]!r}: check quotes and ${{}} references.")
        pos = m.end()
        if m.group("field"):
            out.append(("field", m.group("fname")))
        elif m.group("string") is not None:
            out.append(("str", m.group("string")[1:-1]))
        elif m.group("number") is not None:
            out.append(("num", m.group("number")))
        elif m.group("op"):
            out.append(("op", m.group("op")))
        elif m.group("dot"):
            out.append(("dot", "."))
        else:
            name = m.group("name")
            out.append(("kw", name) if name in ("and", "or", "div", "mod") else ("name", name))
    return out


class _Parser:
    # Precedence climbing over XPath 1.0's operator levels: or < and < equality < relational < additive < multiplicative.
    LEVELS = [("or",), ("and",), ("=", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "div", "mod")]

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if tok[0] is None or (value is not None and tok[1] != value):
            raise FormError(f"Cannot read the expression {self.text!r}: expected {value or 'more'} near token {self.i + 1}.")
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.binary(0)
        if self.i != len(self.tokens):
            raise FormError(f"Cannot read the expression {self.text!r}: unexpected {self.peek()[1]!r}.")
        return node

    def binary(self, level: int) -> Node:
        if level == len(self.LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek()[1] in self.LEVELS[level] and self.peek()[0] in ("op", "kw"):
            op = self.take()[1]
            right = self.binary(level + 1)
            left = Node("binop", op, (left, right))
        return left

    def unary(self) -> Node:
        if self.peek() == ("op", "-"):
            self.take()
            return Node("neg", None, (self.unary(),))
        return self.primary()

    def primary(self) -> Node:
        kind, value = self.take()
        if kind == "field":
            return Node("field", value)
        if kind == "str":
            return Node("str", value)
        if kind == "num":
            return Node("num", float(value))
        if kind == "dot":
            return Node("current")
        if kind == "op" and value == "(":
            node = self.binary(0)
            self.take(")")
            return node
        if kind == "name":
            self.take("(")
            args = []
            if self.peek()[1] != ")":
                args.append(self.binary(0))
                while self.peek()[1] == ",":
                    self.take(",")
                    args.append(self.binary(0))
            self.take(")")
            if value not in _FUNCTIONS:
                raise FormError(
                    f"The expression {self.text!r} uses the function {value}(), which research_kit does not evaluate. "
                    f"Supported: {', '.join(sorted(_FUNCTIONS))}."
                )
            return Node("call", value, tuple(args))
        raise FormError(f"Cannot read the expression {self.text!r}: unexpected {value!r}.")


@dataclass(frozen=True)
class Expression:
    """A parsed XLSForm expression."""

    text: str
    tree: Node

    @property
    def fields(self) -> set[str]:
        """Names of the fields the expression refers to with ``${name}``."""
        found: set[str] = set()

        def walk(n: Node):
            if n.kind == "field":
                found.add(n.value)
            for a in n.args:
                walk(a)

        walk(self.tree)
        return found


@lru_cache(maxsize=4096)
def parse(text: str) -> Expression:
    """Parse an XLSForm expression once; the result is cached."""
    if not isinstance(text, str) or not text.strip():
        raise FormError("An empty expression cannot be evaluated.")
    return Expression(text, _Parser(text).parse())


def referenced_fields(text: str) -> set[str]:
    """Field names referenced as ``${name}`` in an expression.

    >>> sorted(referenced_fields("${a} = 'yes' or ${b} > 2"))
    ['a', 'b']
    """
    return parse(text).fields


# ---- vectorised evaluation -------------------------------------------------------------

#: Set while evaluating over a frame known to hold only text, blanks as '' (no NaN): skips NaN checks.
_CLEAN: contextvars.ContextVar[bool] = contextvars.ContextVar("clean", default=False)


def per_unique(values: pd.Series, fn: Callable[[pd.Series], Any], dtype=None) -> pd.Series:
    """Apply ``fn`` to the distinct values of a column only, and spread the results back.

    Survey answers repeat a few codes over thousands of rows, so string work (splitting,
    regular expressions, number parsing) done once per distinct value instead of once per row is
    what keeps validation of large exports fast. ``fn`` gets a Series of the distinct values.
    """
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=False)
    result = fn(pd.Series(uniques, dtype=object))
    result = np.asarray(result, dtype=dtype) if dtype is not None else np.asarray(result)
    return pd.Series(result[codes] if len(codes) else result[:0], index=values.index)


def _number_text(x) -> str:
    return "" if pd.isna(x) else (str(int(x)) if float(x).is_integer() else repr(float(x)))


def _as_str(v) -> pd.Series | str:
    if isinstance(v, pd.Series):
        if v.dtype == bool:
            return v.map({True: "true", False: "false"}).astype(object)
        if pd.api.types.is_numeric_dtype(v.dtype):
            # Numbers print as XPath does: 3 not 3.0, NaN as blank.
            return per_unique(v, lambda u: [_number_text(x) for x in u], dtype=object)
        if v.dtype == object and _CLEAN.get():
            return v
        return v.astype(object).where(v.notna(), "")
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _number_text(v)
    return str(v)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")
_EPOCH = pd.Timestamp("1970-01-01")


def _date_days(values: pd.Series) -> pd.Series:
    """Days since 1970-01-01 of ISO dates and date-times, as ODK converts dates to numbers; NaN otherwise."""
    text = values.astype(object).map(str)
    looks = text.str.match(_ISO_DATE.pattern).astype(bool)
    out = pd.Series(np.nan, index=values.index, dtype=float)
    if looks.any():
        # Local date and clock time as written: the offset is dropped, as ODK compares dates in the device's zone.
        local = text[looks].str.slice(0, 19).str.replace("T", " ", regex=False)
        stamps = pd.to_datetime(local, format="mixed", errors="coerce")
        out[looks] = (stamps - _EPOCH) / pd.Timedelta(days=1)
    return out


def _to_number(text: pd.Series) -> np.ndarray:
    num = pd.to_numeric(text, errors="coerce").astype(float)
    odd = num.isna() & (text != "")
    if odd.any():  # dates compare as numbers of days, as in ODK
        num[odd] = _date_days(text[odd])
    return num.to_numpy()


def _as_num(v):
    if isinstance(v, pd.Series):
        if v.dtype == bool:
            return v.astype(float)
        if pd.api.types.is_numeric_dtype(v.dtype):
            return v.astype(float)
        text = v if v.dtype == object and _CLEAN.get() else v.astype(object).where(v.notna(), "")
        return per_unique(text, _to_number, dtype=float)
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        if isinstance(v, str) and _ISO_DATE.match(v):
            return float(_date_days(pd.Series([v])).iloc[0])
        return float("nan")


def _today():
    return pd.Timestamp.now().strftime("%Y-%m-%d")


def _now():
    return pd.Timestamp.now().strftime("%Y-%m-%dT%H:%M:%S")


def _date(v):
    """``date()``: a number of days since 1970 becomes a date; a date string stays as it is."""
    if isinstance(v, pd.Series):
        num = pd.to_numeric(v.astype(object), errors="coerce") if not pd.api.types.is_numeric_dtype(v.dtype) else v
        as_date = (_EPOCH + pd.to_timedelta(num, unit="D")).dt.strftime("%Y-%m-%d")
        return as_date.where(num.notna(), _as_str(v))
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (_EPOCH + pd.Timedelta(days=float(v))).strftime("%Y-%m-%d")
    return _as_str(v)


def _as_bool(v):
    # XPath boolean(): non-empty strings and non-zero numbers are true.
    if isinstance(v, pd.Series):
        if v.dtype == bool:
            return v
        if pd.api.types.is_numeric_dtype(v.dtype):
            return (v.fillna(0) != 0)
        return _as_str(v) != ""
    if isinstance(v, str):
        return v != ""
    if isinstance(v, float) and np.isnan(v):
        return False
    return bool(v)


def _is_number(node: Node) -> bool:
    return node.kind in ("num", "neg") or (node.kind == "binop" and node.value in ("+", "-", "*", "div", "mod")) or (
        node.kind == "call" and node.value in ("number", "int", "count-selected", "string-length", "round",
                                             "decimal-date-time")
    )


def _selected(values, option):
    s, opt = _as_str(values), _as_str(option)
    if isinstance(s, pd.Series) and isinstance(opt, pd.Series):
        return pd.Series([o in p.split() for p, o in zip(s, opt)], index=s.index)
    if isinstance(s, pd.Series):
        return per_unique(s, lambda u: [opt in x.split() for x in u], dtype=bool)
    return opt in s.split()


def _count_selected(values):
    s = _as_str(values)
    if isinstance(s, pd.Series):
        return per_unique(s, lambda u: [len(x.split()) for x in u], dtype=float)
    return float(len(s.split()))


def _regex(values, pattern):
    pat = re.compile(_as_str(pattern))
    s = _as_str(values)
    if isinstance(s, pd.Series):
        return per_unique(s, lambda u: [bool(pat.search(x)) for x in u], dtype=bool)
    return bool(pat.search(s))


def _if(cond, a, b):
    c = _as_bool(cond)
    if isinstance(c, pd.Series):
        idx = c.index
        a_s = a if isinstance(a, pd.Series) else pd.Series([a] * len(idx), index=idx, dtype=object)
        b_s = b if isinstance(b, pd.Series) else pd.Series([b] * len(idx), index=idx, dtype=object)
        return a_s.where(c, b_s)
    return a if c else b


def _coalesce(a, b):
    sa = _as_str(a)
    if isinstance(sa, pd.Series):
        return sa.where(sa != "", _as_str(b))
    return sa if sa != "" else b


def _string_length(v):
    s = _as_str(v)
    return per_unique(s, lambda u: [len(x) for x in u], dtype=float) if isinstance(s, pd.Series) else float(len(s))


def _int(v):
    n = _as_num(v)
    return np.trunc(n)


_FUNCTIONS: dict[str, Callable] = {
    "selected": _selected,
    "count-selected": _count_selected,
    "regex": _regex,
    "if": _if,
    "not": lambda v: ~_as_bool(v) if isinstance(_as_bool(v), pd.Series) else not _as_bool(v),
    "true": lambda: True,
    "false": lambda: False,
    "number": _as_num,
    "int": _int,
    "string": _as_str,
    "string-length": _string_length,
    "coalesce": _coalesce,
    "round": lambda v, d=0.0: np.round(_as_num(v), int(d)),
    "boolean": _as_bool,
    "today": _today,
    "now": _now,
    "date": _date,
    "decimal-date-time": _as_num,
}


def _compare(op: str, left, right, numeric: bool):
    if numeric:
        a, b = _as_num(left), _as_num(right)
    else:
        a, b = _as_str(left), _as_str(right)
    if op == "=":
        out = a == b
    elif op == "!=":
        out = a != b  # as in XPath, NaN != x is true
    elif op == "<":
        out = a < b
    elif op == ">":
        out = a > b
    elif op == "<=":
        out = a <= b
    else:
        out = a >= b
    return out


def _eval(node: Node, frame: pd.DataFrame, current: str | None):
    k = node.kind
    if k == "field":
        if node.value not in frame.columns:
            raise FormError(f"The expression refers to ${{{node.value}}}, which is not a column of the data.")
        return frame[node.value]
    if k == "current":
        if current is None:
            raise FormError("The expression uses '.', but no current field was given.")
        return frame[current]
    if k == "str":
        return node.value
    if k == "num":
        return node.value
    if k == "neg":
        return -_as_num(_eval(node.args[0], frame, current))
    if k == "call":
        args = [_eval(a, frame, current) for a in node.args]
        return _FUNCTIONS[node.value](*args)
    # binary operators
    op = node.value
    left = _eval(node.args[0], frame, current)
    right = _eval(node.args[1], frame, current)
    if op == "and":
        return _as_bool(left) & _as_bool(right)
    if op == "or":
        return _as_bool(left) | _as_bool(right)
    if op in ("=", "!="):
        numeric = _is_number(node.args[0]) or _is_number(node.args[1])
        return _compare(op, left, right, numeric)
    if op in ("<", ">", "<=", ">="):
        return _compare(op, left, right, True)
    a, b = _as_num(left), _as_num(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "div":
        with np.errstate(divide="ignore", invalid="ignore"):
            return a / b
    if op == "mod":
        return np.fmod(a, b)
    raise FormError(f"Unknown operator {op!r}.")  # pragma: no cover - the parser admits no other


def evaluate(expression: str, frame: pd.DataFrame, *, current: str | None = None, clean: bool = False) -> pd.Series:
    """Evaluate an XLSForm expression for every row of ``frame``.

    Parameters
    ----------
    expression : str
        ODK XPath as written in an XLSForm, e.g. ``${age} >= 18``.
    frame : pandas.DataFrame
        One column per form field, named as in the form; blank answers are ``''`` or missing.
    current : str, optional
        The field that ``.`` stands for (the row of the form the expression belongs to).
    clean : bool
        Promise that every text column holds ``str`` values only, blanks as ``''`` (no NaN or
        None), as a validator's working frame does; saves the checks for missing values.

    Returns
    -------
    pandas.Series
        One value per row (bool for conditions, float for numbers, str for text), indexed like ``frame``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"hiv_last_result": ["positive", "negative", ""]})
    >>> evaluate("${hiv_last_result} != 'positive'", df).tolist()
    [False, True, True]
    """
    token = _CLEAN.set(clean)
    try:
        result = _eval(parse(expression).tree, frame, current)
    finally:
        _CLEAN.reset(token)
    if not isinstance(result, pd.Series):
        result = pd.Series([result] * len(frame), index=frame.index)
    return result
