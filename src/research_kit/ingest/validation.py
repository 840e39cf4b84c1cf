"""Validate a tidy export against its form: accepted rows, a quarantine, and an error table.

:func:`validate` runs the pandera schema generated from the form (:mod:`research_kit.forms.schema`)
lazily, so every failure of every row is gathered at once (pandera's
``SchemaErrors.failure_cases``), maps each failure back to its file, row (``_row``) and column,
and writes a message in the user's language. Rows that break any rule go to the quarantine;
the others are accepted. Nothing is lost, whatever the input:
``len(accepted) + len(quarantine) == rows in``.

Rules between rows look at every row read: a recruiter's coupon must be the coupon of somebody
in the data. When the recruiter's own record is quarantined, her recruits stay accepted (their
answers are fine), each with a warning that points to the record to fix, so that one bad seed
does not take her whole recruitment tree into quarantine.

Examples
--------
>>> import pandas as pd
>>> from research_kit.forms import load_form
>>> form = load_form("health_services")
>>> from research_kit.synth.generic import generate_answers
>>> data = generate_answers(form, 20, seed=3)
>>> data.loc[0, "overall_score"] = "9"
>>> result = validate(data, form, language="en")
>>> len(result.accepted), len(result.quarantine)
(19, 1)
>>> accepted, quarantine, errors = result
>>> result.errors.loc[0, ["file", "row", "column", "value", "rule"]].astype(str).tolist()
['data', '2', 'overall_score', '9', 'constraint: . >= 1 and . <= 5']
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from research_kit.errors import ParameterError
from research_kit.forms import Form, load_form
from research_kit.forms.expressions import parse
from research_kit.forms.schema import Extras, Rule, RuleContext, build_schema, load_extras, schema_spec
from research_kit.ingest._table import Issue
from research_kit.ingest.exceptions import ExportColumnsError
from research_kit.ingest.messages import check_language, message

__all__ = ["validate", "ValidationResult", "validate_export", "ExportValidation", "ERROR_COLUMNS"]

#: Columns of the error table.
ERROR_COLUMNS = ["file", "row", "column", "value", "rule", "message", "severity"]
_OPTIONAL_TYPES = ("dateTime", "date", "calculate")


@dataclass
class ValidationResult:
    """What :func:`validate` found.

    Attributes
    ----------
    accepted : DataFrame
        Rows that keep every rule (pseudonymised when a key was given).
    quarantine : DataFrame
        Rows that break at least one rule, as read, with ``_rules`` listing the rules they break.
    errors : DataFrame
        One row per failure: file, row (line in the file), column, value, rule, message, severity
        (``error`` quarantines the row; ``warning`` is worth a look but keeps it).
    rows_in : int
        Rows given; always ``len(accepted) + len(quarantine)``.
    level : str
        ``submission`` or the repeat's name.
    """

    accepted: pd.DataFrame
    quarantine: pd.DataFrame
    errors: pd.DataFrame
    rows_in: int
    form_id: str
    form_version: str
    level: str = "submission"
    language: str = "es"
    pseudonymised: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every row was accepted."""
        return self.quarantine.empty

    def __iter__(self):
        """``accepted, quarantine, errors = validate(frame, form)``."""
        return iter((self.accepted, self.quarantine, self.errors))

    def __repr__(self) -> str:
        return (f"ValidationResult({self.form_id} {self.level}: {self.rows_in} rows in, {len(self.accepted)} accepted, "
                f"{len(self.quarantine)} quarantined, {int((self.errors['severity'] == 'error').sum())} errors)")


def _spec_for(form: Form, level: str | None, frame: pd.DataFrame) -> dict:
    spec = schema_spec(form, level)
    missing = [c for c in spec["columns"] if c not in frame.columns]
    optional = [c for c in missing if spec["columns"][c]["type"] in _OPTIONAL_TYPES]
    required = [c for c in missing if c not in optional]
    if required:
        shown = ", ".join(required[:8]) + (f" and {len(required) - 8} more" if len(required) > 8 else "")
        raise ExportColumnsError(f"The data lack {len(required)} column(s) of form {form.form_id!r} version "
                                 f"{form.version}: {shown}. Read the export with research_kit.read_export, which names "
                                 "the columns as the form does.")
    for c in optional:
        del spec["columns"][c]
    for m in list(spec["meta"]):
        if m not in frame.columns:
            del spec["meta"][m]
    return spec


def _parent_columns(spec: dict, frame: pd.DataFrame, parent: pd.DataFrame | None, form: Form) -> pd.DataFrame:
    """Add the submission's answers that a repeat's rules refer to (e.g. ``${report_date}``)."""
    needed: set[str] = set()
    for col in spec["columns"].values():
        for key in ("relevant", "constraint", "calculation"):
            if col[key]:
                needed |= parse(col[key]).fields
        if col["required"] not in (True, False):
            needed |= parse(col["required"]).fields
    needed -= set(frame.columns)
    if not needed:
        return frame
    if parent is None:
        raise ParameterError(f"The rules of the repeat {spec['level']!r} refer to {', '.join(sorted(needed))} of the "
                             "submission. Give the submissions as parent=, e.g. validate(rows, form, "
                             f"parent=read_export(path, form)).")
    lookup = parent.drop_duplicates("_uuid").set_index("_uuid")
    out = frame.copy()
    for name in sorted(needed):
        if name not in lookup.columns:
            raise ParameterError(f"The repeat's rules refer to {name!r}, which the submissions frame lacks.")
        out[name] = out["_parent_uuid"].map(lookup[name]).fillna("").astype(object)
    return out


def _repeats(values: pd.Series, sources: pd.Series, rows: pd.Series, language: str) -> dict[str, list[str]]:
    """Where each repeated value appears (file and row, as words), in order; values seen once are left out."""
    word = {"es": "fila", "en": "row", "pt": "linha"}[language]
    dup = values.duplicated(keep=False).to_numpy() & (values != "").to_numpy()
    places: dict[str, list[str]] = {}
    for v, s, r in zip(values[dup], sources[dup], rows[dup]):
        places.setdefault(v, []).append(f"{word} {r} ({s})")
    return places


def validate(frame: pd.DataFrame, form: Form | str | Path, *, language: str = "es", key=None,
             parent: pd.DataFrame | None = None, now: pd.Timestamp | None = None) -> ValidationResult:
    """Check a tidy export against its form; split it into accepted rows and a quarantine.

    Parameters
    ----------
    frame : DataFrame
        As returned by :func:`~research_kit.ingest.read_export` (form names and codes as text,
        ``_source`` and ``_row``). It is not modified.
    form : Form, str or Path
        The form the data were collected with.
    language : {"es", "en", "pt"}
        Language of the messages.
    key : str, Path, bytes, ProjectKey or True, optional
        Pseudonymise respondent ids in the accepted rows and the quarantine (``True``: the default
        project key, created on first use).
    parent : DataFrame, optional
        For a repeat's rows: the submissions they belong to (rows of submissions that are not
        accepted are quarantined; the repeat's rules may refer to the submission's answers).
    now : Timestamp, optional
        The moment "the future" starts after (default: now).

    Returns
    -------
    ValidationResult

    Raises
    ------
    ExportColumnsError
        If the frame lacks columns of the form (read it with ``read_export``).
    ParameterError
        For an unknown language, or a repeat whose rules need ``parent``.
    """
    check_language(language)
    form = load_form(form)
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"The 'frame' parameter of validate must be a pandas DataFrame. Got {type(frame).__name__} instead.")
    level = frame.attrs.get("repeat")
    if level is None and any(c == "_parent_uuid" for c in frame.columns):
        level = next((r for r in form.repeats if any(f.name in frame.columns for f in form.level_fields(r))), None)
    rows_in = len(frame)
    # Plain object columns, blanks as '': the checks compare and factorize them many times.
    data = frame.reset_index(drop=True).astype(object)
    data = data.where(data.notna(), "") if data.isna().to_numpy().any() else data
    data.attrs = {}  # pandas deep-copies attrs on every column access; the reader's notes are read from `frame`
    if "_source" not in data.columns:
        data["_source"] = str(frame.attrs.get("source", "data"))
    if "_row" not in data.columns:
        data["_row"] = np.arange(2, len(data) + 2)

    extras = load_extras(form)
    spec = _spec_for(form, level, data)
    dropped = tuple(c for c in spec["dropped"] if c in data.columns)
    if dropped:  # identifying fields never travel further, even if someone read them in by hand
        data = data.drop(columns=list(dropped))
    already = tuple(frame.attrs.get("pseudonymised", ()))
    if level is not None:
        data = _parent_columns(spec, data, parent, form)
    skip_kinds = ("type", "constraint", "rule", "choices")  # pseudonyms cannot be checked for format; links can
    schema = build_schema(spec, extras if level is None else Extras(),
                          context=lambda df, rules_, now=now: RuleContext(df, rules_, now=now, clean=True),
                          keep=lambda r: not (r.column in already and r.kind in skip_kinds))
    column_rules: dict[str, list[Rule]] = schema.metadata["column_rules"]
    frame_rules = [r for rs in column_rules.values() for r in rs]
    failures = _run(schema, data)
    # ---- failures of the form's rules -> (position, rule)
    hits: list[tuple[int, Rule]] = []
    if failures is not None and len(failures):
        for ctx, col, number, idx in zip(failures["schema_context"], failures["column"], failures["check_number"],
                                         failures["index"]):
            if pd.isna(idx) or pd.isna(number):
                continue
            if ctx != "Column" or col not in column_rules:
                raise ExportColumnsError(f"Unexpected validation failure in {col}: {failures.iloc[0].to_dict()}")
            hits.append((int(idx), column_rules[col][int(number)]))
    bad = np.zeros(len(data), dtype=bool)
    for pos, _ in hits:
        bad[pos] = True

    # ---- what the reader found (bad lines, mixed encodings, unknown columns)
    issues: list[Issue] = list(frame.attrs.get("issues", ()))
    by_place = {(s, int(r)): i for i, (s, r) in enumerate(zip(data["_source"], data["_row"]))} if issues else {}
    read_hits: list[tuple[int | None, Issue]] = []
    for issue in issues:
        pos = by_place.get((issue.source, issue.line))
        if issue.severity == "error":
            if pos is None:
                continue  # the row is not in this frame (filtered out by the caller)
            bad[pos] = True
        read_hits.append((pos, issue))

    # A line that could not be split into its fields has its values in the wrong columns: report the line only.
    broken_lines = {pos for pos, issue in read_hits if pos is not None and issue.key.startswith("line_")}
    if broken_lines:
        hits = [(pos, rule) for pos, rule in hits if pos not in broken_lines]

    # ---- rows whose submission is not accepted (repeats)
    parent_hits: list[int] = []
    if level is not None and parent is not None:
        accepted_parents = set(parent["_uuid"])
        orphan = ~data["_parent_uuid"].isin(accepted_parents).to_numpy()
        for pos in np.flatnonzero(orphan):
            parent_hits.append(int(pos))
        bad |= orphan

    # ---- a link to a quarantined row: the row stays accepted (its own answers are fine), with a warning
    linked: list[tuple[int, Rule, int]] = []
    for r in (r for r in frame_rules if r.kind == "reference"):
        target = data[r.params["target"]].astype(object)
        values = data[r.column].astype(object)
        quarantined_targets = set(target[bad]) - {""} - set(target[~bad])
        hit = (~bad) & values.isin(quarantined_targets).to_numpy()
        if hit.any():
            owner = {v: i for i, v in enumerate(target) if v and bad[i]}
            linked += [(int(pos), r, owner.get(values.iloc[pos], -1)) for pos in np.flatnonzero(hit)]

    errors = _error_table(data, hits, read_hits, parent_hits, linked, language,
                          key_columns=extras.pseudonymised if key is not None else (), key=key)
    rejected_rules = _rules_per_row(len(data), hits, read_hits, parent_hits)
    original = frame.reset_index(drop=True).drop(columns=list(dropped))  # identifiers never travel further
    accepted = original.loc[~bad]
    quarantine = original.loc[bad].copy()
    quarantine["_rules"] = [rejected_rules.get(i, "") for i in np.flatnonzero(bad)]
    pseudonymised = already
    if key is not None and key is not False and extras.pseudonymised:
        from research_kit.ingest.protect import pseudonymise

        secret = _secret(key)
        accepted = pseudonymise(accepted, extras.pseudonymised, secret)
        quarantine = pseudonymise(quarantine, extras.pseudonymised, secret)
        pseudonymised = tuple(sorted(set(already) | {c for c in extras.pseudonymised if c in frame.columns}))
    accepted = accepted.reset_index(drop=True)
    quarantine = quarantine.reset_index(drop=True)
    for out in (accepted, quarantine):
        out.attrs = {**frame.attrs, "pseudonymised": pseudonymised, "issues": []}
    assert len(accepted) + len(quarantine) == rows_in  # the promise of this function: nothing is lost
    return ValidationResult(accepted, quarantine, errors, rows_in, form.form_id, form.version, level or "submission",
                            language, pseudonymised, tuple(spec["dropped"]))


def _secret(key):
    from research_kit.ingest.protect import project_key

    return project_key(None if key is True else key)


def _run(schema, data: pd.DataFrame) -> pd.DataFrame | None:
    import pandera.pandas as pa

    try:
        schema.validate(data, lazy=True, inplace=True)  # lazy: every failure of every row at once
    except pa.errors.SchemaErrors as exc:
        return exc.failure_cases
    return None


def _rules_per_row(n, hits, read_hits, parent_hits) -> dict[int, str]:
    out: dict[int, list[str]] = {}
    for pos, rule in hits:
        out.setdefault(pos, []).append(rule.text)
    for pos, issue in read_hits:
        if pos is not None and issue.severity == "error":
            out.setdefault(pos, []).append(issue.rule)
    for pos in parent_hits:
        out.setdefault(pos, []).append("parent: _parent_uuid → _uuid")
    return {k: "; ".join(dict.fromkeys(v)) for k, v in out.items()}


def _error_table(data: pd.DataFrame, hits, read_hits, parent_hits, linked, language: str, *,
                 key_columns: Iterable[str], key) -> pd.DataFrame:
    sources = data["_source"].to_numpy(dtype=object)
    rows = data["_row"].to_numpy()
    key_columns = set(key_columns)
    masked: dict[str, pd.Series] = {}
    if key_columns:
        from research_kit.ingest.protect import pseudonymise_values

        secret = _secret(key)
        masked = {c: pseudonymise_values(data[c], secret) for c in key_columns if c in data.columns}

    arrays: dict[str, np.ndarray] = {}

    def cell(col: str, pos: int) -> str:
        if col not in arrays:
            arrays[col] = data[col].to_numpy(dtype=object) if col in data.columns else np.full(len(data), "", dtype=object)
        return str(arrays[col][pos])

    def shown(col: str, pos: int, rule_kind: str) -> str:
        value = cell(col, pos)
        # A respondent id in a valid format is shown as its pseudonym; a malformed one as written, to be fixed.
        if col in masked and rule_kind not in ("type", "constraint", "choices"):
            return str(masked[col].iat[pos])
        return value

    records = []
    uniques: dict[str, dict[str, list[str]]] = {}
    for pos, rule in hits:
        col = rule.column
        value = shown(col, pos, rule.kind)
        params: dict = {}
        key_ = rule.kind
        form_message = rule.messages.get(language, "") if rule.messages else ""
        if rule.kind == "choices":
            choices = rule.params["choices"]
            params["choices"] = ", ".join(choices[:8]) + (", ..." if len(choices) > 8 else "")
            if rule.params["multiple"]:
                key_ = "choices_multiple"
                params["unknown"] = ", ".join(t for t in value.split() if t not in choices)
        elif rule.kind == "type":
            params["type"] = rule.params["type"]
        elif rule.kind == "choice_filter":
            params["filter"] = " y ".join(f"{ref} = «{cell(ref, pos)}»" for _, ref in rule.params["terms"]) \
                if language != "en" else " and ".join(f"{ref} = '{cell(ref, pos)}'" for _, ref in rule.params["terms"])
        elif rule.kind == "calculation":
            from research_kit.forms.expressions import _as_str, evaluate

            params["expected"] = _as_str(evaluate(rule.expression, data.iloc[[pos]])).iloc[0]
        elif rule.kind == "unique":
            if col not in uniques:
                vals = masked[col] if col in masked else data[col].astype(object)
                uniques[col] = _repeats(vals, data["_source"], data["_row"], language)
            places = uniques[col]
            if rule.params["keep"] == "first":
                key_ = "unique_copy"
                first = places.get(value, ["?"])[0]
                params["first"] = {"es": "la ", "en": "", "pt": "a "}[language] + first
            else:
                here = f"{ {'es': 'fila', 'en': 'row', 'pt': 'linha'}[language]} {rows[pos]} ({sources[pos]})"
                params["others"] = ", ".join(p for p in places.get(value, []) if p != here)
        elif rule.kind == "reference":
            params["target"] = rule.params["target"]
        records.append((sources[pos], int(rows[pos]), col, value, rule.text,
                        message(key_, language, file=sources[pos], row=int(rows[pos]), column=col, value=value,
                                rule=rule.text, form_message=form_message, **params), "error"))
    for pos, rule, owner in linked:
        col = rule.column
        value = shown(col, pos, rule.kind)
        where = f"{ {'es': 'fila', 'en': 'row', 'pt': 'linha'}[language]} {rows[owner]} ({sources[owner]})" if owner >= 0 else "?"
        records.append((sources[pos], int(rows[pos]), col, value, rule.text,
                        message("reference_quarantined", language, file=sources[pos], row=int(rows[pos]), column=col,
                                value=value, rule=rule.text, target=rule.params["target"], first=where), "warning"))
    for pos in parent_hits:
        value = cell("_parent_uuid", pos)
        rule_text = "parent: _parent_uuid → _uuid"
        records.append((sources[pos], int(rows[pos]), "_parent_uuid", value, rule_text,
                        message("parent", language, file=sources[pos], row=int(rows[pos]), value=value, rule=rule_text),
                        "error"))
    for pos, issue in read_hits:
        records.append((issue.source, issue.line, issue.column, issue.value, issue.rule,
                        message(issue.key, language, file=issue.source, row=issue.line, column=issue.column,
                                value=issue.value, rule=issue.rule, **issue.params), issue.severity))
    table = pd.DataFrame.from_records(records, columns=ERROR_COLUMNS)
    if len(table):
        table = table.sort_values(["severity", "file", "row"], kind="stable", key=lambda s: s if s.name != "severity"
                                  else s.map({"error": 0, "warning": 1})).reset_index(drop=True)
    table["row"] = table["row"].astype("int64")
    return table


# ---- whole exports: read, validate every level, write the outputs -------------------------------

@dataclass
class ExportValidation:
    """The validation of one export (or several files of one study): every level, and the files written."""

    results: dict[str, ValidationResult]
    written: list[Path] = field(default_factory=list)
    key_path: Path | None = None
    key_created: bool = False

    @property
    def submissions(self) -> ValidationResult:
        return self.results["submission"]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results.values())

    @property
    def exit_code(self) -> int:
        """0 when every row was accepted, 1 when some were quarantined."""
        return 0 if self.ok else 1

    @property
    def errors(self) -> pd.DataFrame:
        frames = [r.errors.assign(level=name) for name, r in self.results.items()]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*ERROR_COLUMNS, "level"])


def validate_export(paths: str | Path | Iterable[str | Path], form: Form | str | Path, *, out_dir: str | Path | None = None,
                    language: str = "es", key=True, renames: Mapping[str, str] | None = None,
                    now: pd.Timestamp | None = None) -> ExportValidation:
    """Read an export, validate the submissions and every repeat it holds, and write the results.

    Writes, in ``out_dir``: ``accepted.csv``, ``quarantine.csv``, ``errors.csv`` and
    ``summary.html`` (and ``accepted-<repeat>.csv``, ``quarantine-<repeat>.csv`` per repeat).
    The input files are never modified; the output folder must not hold them.

    Parameters
    ----------
    paths : path or paths
        The export file(s) of one study.
    form : Form, str or Path
    out_dir : path, optional
        Where to write; nothing is written when omitted.
    language : {"es", "en", "pt"}
    key : True, path, bytes, ProjectKey or None
        The pseudonym key (``True``: the default project key, created on first use; ``None``: keep ids).
    renames : mapping, optional
        Old column names of renamed questions → field names.
    now : Timestamp, optional
        The moment "the future" starts after (default: now).

    Raises
    ------
    DataFileError
        When a file cannot be read at all (missing, empty, not an export, lacking the form's columns).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from research_kit.synth.flavours import write_flavours
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> paths = write_flavours("rights_violation", folder / "data", n=8, seed=2)
    >>> outcome = validate_export(paths["kobo_xlsx"], "rights_violation", out_dir=folder / "out", key=None)
    >>> outcome.exit_code, sorted(outcome.results), [p.name for p in outcome.written][-2:]
    (0, ['incidents', 'submission'], ['errors.csv', 'summary.html'])
    """
    from research_kit.ingest.protect import project_key
    from research_kit.ingest.reader import read_export

    check_language(language)
    form = load_form(form)
    paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    secret = None
    if key is not None and key is not False:
        folders = [p.parent for p in paths] + ([Path(out_dir)] if out_dir else [])
        secret = project_key(None if key is True else key, data_folders=folders)
    submissions = read_export(paths, form, renames=renames, on_bad_lines="keep")
    results = {"submission": validate(submissions, form, language=language, key=secret, now=now)}
    for repeat in form.repeats:
        if not all(p.suffix.lower() in (".xlsx", ".zip") or _has_sibling(p, repeat) for p in paths):
            continue
        rows = read_export(paths, form, repeat=repeat, renames=renames, on_bad_lines="keep")
        parent = submissions.loc[submissions["_uuid"].isin(_raw_uuids(submissions, results["submission"]))]
        results[repeat] = validate(rows, form, language=language, key=secret, parent=parent, now=now)
    outcome = ExportValidation(results, key_path=secret.path if secret else None,
                               key_created=bool(secret and secret.created))
    if out_dir is not None:
        from research_kit.ingest.summary import write_outputs

        outcome.written = write_outputs(outcome, Path(out_dir), paths, form, language)
    return outcome


def _has_sibling(path: Path, repeat: str) -> bool:
    return path.with_name(f"{path.stem}-{repeat}.csv").is_file()


def _raw_uuids(submissions: pd.DataFrame, result: ValidationResult) -> set[str]:
    """The raw ``_uuid`` of accepted submissions (the result's copy may carry pseudonyms)."""
    quarantined = set(zip(result.quarantine["_source"], result.quarantine["_row"]))
    keep = [(s, r) not in quarantined for s, r in zip(submissions["_source"], submissions["_row"])]
    return set(submissions.loc[keep, "_uuid"])
