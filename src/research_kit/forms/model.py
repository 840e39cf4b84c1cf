"""A small typed model of an XLSForm questionnaire.

The form is read with pyxform (the reference XLSForm parser, which also normalises
type aliases such as ``select one`` / ``select_one``) and turned into frozen
dataclasses: :class:`Form`, :class:`Field` and :class:`Choice`. Everything
downstream (synthetic data, the export reader, validation, codebooks, indicator
checks) reads the questionnaire through this model.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Iterator, Mapping

from research_kit.errors import FormError

__all__ = ["Choice", "Field", "Group", "Form", "read_xlsform", "language_code", "FORM_CACHE_ENV"]

#: Environment variable naming a folder where parsed forms are kept between processes (optional).
FORM_CACHE_ENV = "RESEARCH_KIT_FORM_CACHE"

_LANG = re.compile(r"\((?P<code>[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?)\)\s*$")

# pyxform's JSON names of question types -> XLSForm's own names.
_TYPE_NAMES = {
    "select one": "select_one",
    "select all that apply": "select_multiple",
    "select one external": "select_one_external",
    "group": "begin_group",
    "repeat": "begin_repeat",
}

#: Types that hold no answer and never appear in an export.
NON_DATA_TYPES = frozenset({"note", "begin_group", "begin_repeat"})
#: Metadata captured by the device.
META_TYPES = frozenset({"start", "end", "today", "deviceid", "username", "phonenumber", "audit", "simserial", "subscriberid"})
#: Types that always identify a person or place and never reach analysis data.
IDENTIFYING_TYPES = frozenset({"geopoint", "geotrace", "geoshape", "image", "audio", "video", "file", "phonenumber",
                               "deviceid", "simserial", "subscriberid", "username", "audit"})


def language_code(column_language: str) -> str:
    """The ISO code of an XLSForm language name: ``'Español (es)'`` → ``'es'``.

    >>> language_code("Português (pt)")
    'pt'
    >>> language_code("default")
    'default'
    """
    m = _LANG.search(column_language)
    return m.group("code").lower() if m else column_language


@dataclass(frozen=True)
class Choice:
    """One option of a choice list: its code (``name``), labels by language code, and extra columns."""

    name: str
    labels: Mapping[str, str]
    extra: Mapping[str, str] = field(default_factory=dict)

    def label(self, language: str) -> str:
        return self.labels.get(language) or next(iter(self.labels.values()), self.name)


@dataclass(frozen=True)
class Field:
    """One row of the survey sheet that holds data (or a note).

    Attributes
    ----------
    name : str
        The field's name (the XML name that exports use as column header).
    type : str
        XLSForm type without the list name: ``integer``, ``select_one``, ``select_multiple``, ...
    groups : tuple of str
        Enclosing group (and repeat) names, outermost first.
    repeat : str or None
        Name of the innermost enclosing repeat, if any.
    labels : mapping
        Question label by language code.
    list_name : str or None
        Choice list of a select question.
    relevant, constraint, required, choice_filter, calculation : str or None
        As written in the form (``required`` as the expression or ``yes``).
    group_relevant : tuple of str
        The ``relevant`` expressions of the enclosing groups, outermost first.
    identifying : bool
        A direct identifier or free text flagged in the form (``bind::rk:identifying`` = ``yes``),
        or a type that always identifies (GPS, media, device ids).
    """

    name: str
    type: str
    groups: tuple[str, ...] = ()
    repeat: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    list_name: str | None = None
    relevant: str | None = None
    constraint: str | None = None
    required: str | None = None
    choice_filter: str | None = None
    calculation: str | None = None
    group_relevant: tuple[str, ...] = ()
    identifying: bool = False
    constraint_messages: Mapping[str, str] = field(default_factory=dict)
    hints: Mapping[str, str] = field(default_factory=dict)
    required_messages: Mapping[str, str] = field(default_factory=dict)
    appearance: str | None = None
    default: str | None = None

    @property
    def is_select(self) -> bool:
        return self.type in ("select_one", "select_multiple")

    @property
    def is_required(self) -> bool:
        return bool(self.required) and self.required.strip().lower() in ("yes", "true", "true()", "1")

    @property
    def holds_data(self) -> bool:
        return self.type not in NON_DATA_TYPES

    @property
    def all_relevant(self) -> str | None:
        """The field's own ``relevant`` combined with its groups' (all must hold)."""
        parts = [*self.group_relevant, *( [self.relevant] if self.relevant else [])]
        if not parts:
            return None
        return " and ".join(f"({p})" for p in parts) if len(parts) > 1 else parts[0]

    def export_name(self, separator: str = "/") -> str:
        """Column header in an export that keeps group names, e.g. ``demographics/age``."""
        return separator.join((*self.groups, self.name))

    def label(self, language: str) -> str:
        return self.labels.get(language) or next(iter(self.labels.values()), self.name)

    def hint(self, language: str) -> str:
        """The hint in ``language`` (or the first one written), ``''`` when the form gives none."""
        return self.hints.get(language) or next(iter(self.hints.values()), "")


@dataclass(frozen=True)
class Group:
    """A group or repeat of the survey sheet (``begin_group`` / ``begin_repeat``).

    Attributes
    ----------
    name : str
    labels : mapping
        Group label by language code.
    relevant : str or None
        The group's own ``relevant`` (its fields also carry it in :attr:`Field.group_relevant`).
    repeat : bool
        True for a repeat: its fields hold several rows per submission (own sheet in exports).
    parents : tuple of str
        Enclosing group names, outermost first.
    repeat_count : str or None
        The ``repeat_count`` column of a repeat, as written.
    """

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    relevant: str | None = None
    repeat: bool = False
    parents: tuple[str, ...] = ()
    repeat_count: str | None = None

    def label(self, language: str) -> str:
        return self.labels.get(language) or next(iter(self.labels.values()), self.name)


@dataclass(frozen=True)
class Form:
    """An XLSForm questionnaire.

    Examples
    --------
    >>> from research_kit.forms import load_form
    >>> form = load_form("community_survey")
    >>> form.field("age").type
    'integer'
    >>> form.languages[0]
    'es'
    """

    form_id: str
    title: str
    version: str
    languages: tuple[str, ...]
    default_language: str
    fields: tuple[Field, ...]
    choices: Mapping[str, tuple[Choice, ...]]
    path: Path | None = None
    groups: tuple[Group, ...] = ()
    language_names: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def _index(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def field(self, name: str) -> Field:
        """The field called ``name``; a :class:`FormError` lists close names if there is none."""
        try:
            return self._index[name]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(name, self._index, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise FormError(f"The form {self.form_id!r} has no field {name!r}.{hint}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def data_fields(self) -> Iterator[Field]:
        """Fields that hold an answer (no notes or group markers), in form order."""
        return (f for f in self.fields if f.holds_data)

    @property
    def repeats(self) -> tuple[str, ...]:
        """Names of the form's repeats, in form order (each has its own sheet in an XLSX export)."""
        return tuple(g.name for g in self.groups if g.repeat)

    def group(self, name: str) -> Group:
        """The group or repeat called ``name``."""
        for g in self.groups:
            if g.name == name:
                return g
        raise FormError(f"The form {self.form_id!r} has no group or repeat {name!r}. "
                        f"Its groups: {', '.join(g.name for g in self.groups) or 'none'}.")

    def level_fields(self, repeat: str | None = None) -> tuple[Field, ...]:
        """Data fields of one level: the submission (``repeat=None``) or one repeat, in form order.

        Examples
        --------
        >>> from research_kit.forms import load_form
        >>> [f.name for f in load_form("rights_violation").level_fields("incidents")][:2]
        ['incident_date', 'place_type']
        """
        if repeat is not None and repeat not in self.repeats:
            raise FormError(f"The form {self.form_id!r} has no repeat {repeat!r}. "
                            f"Its repeats: {', '.join(self.repeats) or 'none'}.")
        return tuple(f for f in self.data_fields() if f.repeat == repeat)

    def choice_list(self, list_name: str) -> tuple[Choice, ...]:
        try:
            return self.choices[list_name]
        except KeyError:
            raise FormError(f"The form {self.form_id!r} has no choice list {list_name!r}.") from None

    def choice_names(self, field_name: str) -> tuple[str, ...]:
        """Codes allowed for a select question."""
        f = self.field(field_name)
        if not f.is_select:
            raise FormError(f"{field_name!r} is a {f.type} question, not a select question.")
        return tuple(c.name for c in self.choice_list(f.list_name))

    def choices_for(self, field_name: str, answers: Mapping[str, str]) -> tuple[Choice, ...]:
        """Choices of a select question that its ``choice_filter`` allows, given earlier answers.

        Handles the usual filters of the form ``column = ${field}`` joined by ``and`` (e.g.
        ``country=${country}``); a question without a filter gets its whole list.

        Examples
        --------
        >>> from research_kit.forms import load_form
        >>> form = load_form("community_survey")
        >>> [c.name for c in form.choices_for("city", {"country": "pry"})]
        ['asuncion', 'ciudad_del_este', 'encarnacion']
        """
        f = self.field(field_name)
        options = self.choice_list(f.list_name)
        if not f.choice_filter:
            return options
        terms = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*\$\{([A-Za-z_][A-Za-z0-9_]*)\}", f.choice_filter)
        if not terms:
            raise FormError(f"The choice_filter of {field_name!r} ({f.choice_filter}) is not of the form column = ${{field}}.")
        return tuple(c for c in options if all(c.extra.get(col) == str(answers.get(ref, "")) for col, ref in terms))

    def choice_label(self, field_name: str, code: str, language: str) -> str:
        """Label of one choice of a select question in ``language``."""
        for c in self.choice_list(self.field(field_name).list_name):
            if c.name == code:
                return c.label(language)
        raise FormError(f"{code!r} is not a choice of {field_name!r} in form {self.form_id!r}.")


def _labels(value, default_language: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {language_code(default_language): value}
    return {language_code(k): v for k, v in value.items() if v}


def _text(value) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def read_xlsform(path: str | Path) -> Form:
    """Read an XLSForm (``.xlsx``) into a :class:`Form`.

    Every ``label::<language>`` column (and hints, constraint and required messages) is kept
    by language code; groups and repeats are kept as :class:`Group` records and on each field.

    Parameters
    ----------
    path : str or Path
        The XLSForm file. It is only read, never modified.

    Raises
    ------
    FormError
        If the file is missing or pyxform rejects the form; the message carries pyxform's own
        explanation (sheet and row).

    Examples
    --------
    >>> from research_kit.forms import surveys_dir
    >>> form = read_xlsform(surveys_dir() / "rights_violation.xlsx")
    >>> form.repeats, form.field("incident_date").repeat
    (('incidents',), 'incidents')
    """
    path = Path(path)
    if not path.is_file():
        raise FormError(f"The form file {path} does not exist. Give the path of an XLSForm (.xlsx).")
    st = path.stat()
    return _read_cached(path, path.resolve(), st.st_mtime_ns, st.st_size, os.environ.get(FORM_CACHE_ENV) or None)


# ---- caching: parsing with pyxform is slow (importing it alone takes a third of a second) ----------------
@cache
def _read_cached(path: Path, resolved: Path, mtime_ns: int, size: int, cache_dir: str | None) -> Form:
    """A parsed form, once per process and file version; also kept on disk when ``cache_dir`` is set.

    The in-process key is the path with the file's modification time and size; the on-disk key is
    the SHA-256 of the file's bytes with the path, this module's source and pyxform's version, so a
    changed form or a changed parser never returns an old result.
    """
    if cache_dir is None:
        return _parse(path)
    key = _disk_key(path)
    target = Path(cache_dir) / f"form-{key}.pickle"
    try:
        with open(target, "rb") as fh:
            form = pickle.load(fh)
        if isinstance(form, Form):
            return form
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
        pass
    form = _parse(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
        tmp.write_bytes(pickle.dumps(form, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(target)
    except OSError:
        pass  # a cache that cannot be written only costs time
    return form


def _disk_key(path: Path) -> str:
    from importlib import metadata

    h = hashlib.sha256()
    h.update(f"{path}\n{path.resolve()}\n".encode())
    h.update(path.read_bytes())
    h.update(Path(__file__).read_bytes())
    try:
        h.update(metadata.version("pyxform").encode())
    except metadata.PackageNotFoundError:  # pragma: no cover - pyxform is a dependency
        pass
    return h.hexdigest()[:32]


def _parse(path: Path) -> Form:
    from pyxform import xls2json
    from pyxform.errors import PyXFormError

    try:
        raw = xls2json.parse_file_to_json(str(path))
    except PyXFormError as exc:
        raise FormError(f"{path.name}: {exc}") from exc
    except Exception as exc:  # a file that is not a workbook at all: openpyxl/xlrd errors
        raise FormError(f"{path.name} cannot be read as an XLSForm ({type(exc).__name__}: {exc}). "
                        "Save it as an Excel workbook (.xlsx) with survey, choices and settings sheets.") from exc

    default_language = raw.get("default_language") or "default"
    fields: list[Field] = []
    groups: list[Group] = []
    languages: dict[str, None] = {}
    language_names: dict[str, str] = {}

    def texts(value) -> dict[str, str]:
        if isinstance(value, dict):
            for name in value:
                language_names.setdefault(language_code(name), name)
        return _labels(value, default_language)

    def walk(children, parents: tuple[str, ...], group_relevant: tuple[str, ...], repeat: str | None):
        for child in children:
            ctype = _TYPE_NAMES.get(child.get("type", ""), child.get("type", ""))
            bind = child.get("bind", {}) or {}
            control = child.get("control", {}) or {}
            labels = texts(child.get("label"))
            languages.update(dict.fromkeys(labels))
            if ctype in ("begin_group", "begin_repeat"):
                if child.get("name") == "meta" and control.get("bodyless"):
                    continue  # pyxform's own meta/instanceID; exports carry _uuid instead
                rel = bind.get("relevant")
                groups.append(Group(name=child["name"], labels=labels, relevant=rel, repeat=ctype == "begin_repeat",
                                    parents=parents, repeat_count=_text(control.get("jr:count"))))
                walk(
                    child.get("children", []),
                    (*parents, child["name"]),
                    (*group_relevant, rel) if rel else group_relevant,
                    child["name"] if ctype == "begin_repeat" else repeat,
                )
                continue
            flag = str(bind.get("rk:identifying", child.get("instance", {}).get("rk:identifying", ""))).strip().lower()
            fields.append(
                Field(
                    name=child["name"],
                    type=ctype,
                    groups=parents,
                    repeat=repeat,
                    labels=labels,
                    list_name=child.get("list_name") or child.get("itemset"),
                    relevant=bind.get("relevant"),
                    constraint=bind.get("constraint"),
                    required=bind.get("required"),
                    choice_filter=child.get("choice_filter"),
                    calculation=bind.get("calculate"),
                    group_relevant=group_relevant,
                    identifying=flag in ("yes", "true", "1") or ctype in IDENTIFYING_TYPES,
                    constraint_messages=texts(bind.get("jr:constraintMsg")),
                    hints=texts(child.get("hint")),
                    required_messages=texts(bind.get("jr:requiredMsg")),
                    appearance=_text(control.get("appearance")),
                    default=_text(child.get("default")),
                )
            )

    walk(raw.get("children", []), (), (), None)
    choices = {
        list_name: tuple(
            Choice(
                name=str(c["name"]),
                labels=texts(c.get("label")),
                extra={k: str(v) for k, v in c.items() if k not in ("name", "label")},
            )
            for c in options
        )
        for list_name, options in (raw.get("choices") or {}).items()
    }
    for opts in choices.values():
        for c in opts:
            languages.update(dict.fromkeys(c.labels))
    default_code = language_code(default_language)
    ordered = tuple(sorted(languages, key=lambda code: (code != default_code,)))
    return Form(
        form_id=raw.get("id_string") or path.stem,
        title=raw.get("title") or path.stem,
        version=str(raw.get("version") or ""),
        languages=ordered,
        default_language=default_code,
        fields=tuple(fields),
        choices=choices,
        path=path,
        groups=tuple(groups),
        language_names={code: language_names.get(code, code) for code in ordered},
    )
