"""Read KoboToolbox and ODK Central exports into one tidy frame named and coded as the form says.

Flavours read (detected from the file, never asked for):

* **KoboToolbox CSV** — ``;`` or ``,``, UTF-8 with or without BOM, or Windows-1252 as Excel
  re-saves it; headers as XML names with ``/``-joined groups or bare, or as labels in any of the
  form's languages; values as codes or labels; select_multiple as one column, its split 0/1
  columns, or both.
* **KoboToolbox XLSX** — the submissions on the first sheet, each repeat on its own sheet,
  linked by ``_parent_index`` = ``_index``.
* **ODK Central CSV** (or the ZIP Central downloads) — ``,``, ``SubmissionDate`` first, groups
  joined by ``-``, ``meta-instanceID`` as the submission id, repeats in ``<form>-<repeat>.csv``
  linked by ``PARENT_KEY`` = ``KEY``.

Whatever the flavour, the result has one text column per field of the form (identifying
fields never read), the form's codes, ``_uuid``, ``_submission_time``, ``_index``,
``_source`` (the file) and ``_row`` (the line in a CSV, the row in a sheet).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Iterable, Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from research_kit.forms import Form, load_form
from research_kit.ingest._table import Issue, RawTable, read_csv_table, strip_cells
from research_kit.ingest.columns import close_names, code_values, header_index, is_meta, split_flags
from research_kit.ingest.exceptions import (EmptyExportError, ExportColumnsError, ExportFormatError,
                                            MalformedLinesError)

__all__ = ["read_export", "KEPT_META", "REPEAT_META"]

#: Submission meta columns kept for data management (never shown in reports).
KEPT_META = ("_uuid", "_submission_time", "_index")
#: Link columns of a repeat's rows.
REPEAT_META = ("_parent_index", "_parent_uuid", "_index")
#: Field types that exports may leave out (device metadata, calculations switched off).
_OPTIONAL_TYPES = frozenset({"start", "end", "today", "deviceid", "calculate"})


# ---- raw tables from each container ---------------------------------------------------------

def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value)


def _sheet_table(ws, source: str) -> RawTable:
    rows = ws.iter_rows(values_only=True)
    try:
        header = [_cell_text(h) for h in next(rows)]
    except StopIteration:
        raise EmptyExportError(f"{source}: the sheet is empty. Download the export again.") from None
    while header and header[-1] == "":
        header.pop()
    n = len(header)
    data, lines = [], []
    for number, values in enumerate(rows, start=2):
        cells = [_cell_text(v) for v in values[:n]]
        if not any(cells):
            continue  # empty rows at the end of a sheet
        data.append(cells + [""] * (n - len(cells)))
        lines.append(number)
    frame = pd.DataFrame(data, columns=range(n), dtype=object) if data else pd.DataFrame(columns=range(n), dtype=object)
    return RawTable(frame, np.asarray(lines, dtype=np.int64), "", "xlsx", [], header)


def _open_workbook(path: Path):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException...
        raise ExportFormatError(f"{path}: the file cannot be opened as an Excel workbook ({type(exc).__name__}). "
                                "Download the XLSX export again, or export as CSV.") from exc


def _xlsx_tables(path: Path, form: Form, repeat: str | None, label: str) -> tuple[RawTable, RawTable | None]:
    """The submissions sheet and, if asked, a repeat's sheet of a KoboToolbox XLSX export."""
    wb = _open_workbook(path)
    try:
        names = wb.sheetnames
        repeat_sheets = {r[:31].casefold(): r for r in form.repeats}
        main_name = next((s for s in names if s.casefold() not in repeat_sheets), names[0])
        main = _sheet_table(wb[main_name], label)
        child = None
        if repeat is not None:
            sheet = next((s for s in names if s.casefold() == repeat[:31].casefold()), None)
            if sheet is None:
                raise ExportFormatError(f"{path}: no sheet for the repeat {repeat!r} (sheets: {', '.join(names)}). "
                                        "Export again as XLSX with all repeat groups.")
            child = _sheet_table(wb[sheet], f"{label}[{sheet}]")
    finally:
        wb.close()
    if not len(main.frame):
        raise EmptyExportError(f"{path}: the sheet {main_name!r} has a header but no submissions.")
    return main, child


def _zip_tables(path: Path, form: Form, repeat: str | None, label: str) -> tuple[RawTable, RawTable | None, str, str | None]:
    """The submissions CSV and a repeat's CSV inside the ZIP ODK Central downloads."""
    import tempfile

    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ExportFormatError(f"{path}: the file is not a readable ZIP archive. Download it again.") from exc
    with archive, tempfile.TemporaryDirectory() as tmp:
        csvs = [n for n in archive.namelist() if n.lower().endswith(".csv")]
        if not csvs:
            raise ExportFormatError(f"{path}: the archive holds no CSV file.")
        main_name = next((n for n in csvs if Path(n).stem == form.form_id), min(csvs, key=len))
        main_path = Path(tmp) / "main.csv"
        main_path.write_bytes(archive.read(main_name))
        main = read_csv_table(main_path, f"{label}/{main_name}")
        child, child_name = None, None
        if repeat is not None:
            child_name = next((n for n in csvs if Path(n).stem.endswith(f"-{repeat}")), None)
            if child_name is None:
                raise ExportFormatError(f"{path}: no file for the repeat {repeat!r} in the archive "
                                        f"({', '.join(csvs)}).")
            child_path = Path(tmp) / "child.csv"
            child_path.write_bytes(archive.read(child_name))
            child = read_csv_table(child_path, f"{label}/{child_name}")
    return main, child, f"{label}/{main_name}", child_name and f"{label}/{child_name}"


def _sibling_repeat_csv(path: Path, repeat: str) -> Path:
    candidates = [path.with_name(f"{path.stem}-{repeat}.csv"), *sorted(path.parent.glob(f"*-{repeat}.csv"))]
    for c in candidates:
        if c.is_file():
            return c
    raise ExportFormatError(
        f"{path}: the repeat {repeat!r} is not in a CSV export of KoboToolbox (it exports repeats only in XLSX), and "
        f"no ODK Central file {path.stem}-{repeat}.csv lies beside it. Export as XLSX, or give the ODK Central ZIP.")


# ---- raw table → tidy frame ---------------------------------------------------------------------

def _is_central(header: Sequence[str]) -> bool:
    names = {h.strip() for h in header}
    return bool(names & {"SubmissionDate", "meta-instanceID", "KEY", "PARENT_KEY", "ReviewState"})


def _tidy(table: RawTable, form: Form, repeat: str | None, source: str, renames: Mapping[str, str],
          path: Path) -> tuple[pd.DataFrame, list[Issue], dict[str, pd.Series]]:
    """Name and code the columns of one raw table; return the frame, issues, and link columns."""
    index = header_index(form, repeat)
    header = [h.strip() for h in table.header]
    raw = table.frame
    issues: list[Issue] = []
    header_line = 1

    # Renames given by the user: an old name (or label) of a question → its name in this form.
    if renames:
        wanted = {k.strip(): v.strip() for k, v in renames.items()}
        header = [wanted.get(h, h) for h in header]

    positions: dict[str, int] = {}
    split: dict[str, dict[str, int]] = {}
    unknown: list[str] = []
    seen_headers: dict[str, int] = {}
    for pos, h in enumerate(header):
        if h in seen_headers and not is_meta(h):
            raise ExportColumnsError(f"{source}: the column {h!r} appears twice (columns {seen_headers[h] + 1} and "
                                     f"{pos + 1}). Remove the copy, or export again from the server.")
        seen_headers.setdefault(h, pos)
        target = index.match(h)
        if target is None:
            if not is_meta(h) and h:
                unknown.append(h)
            continue
        if target.option is not None:
            split.setdefault(target.field, {})[target.option] = pos
            continue
        if target.field in positions:
            first = header[positions[target.field]]
            if not raw[positions[target.field]].equals(raw[pos]):
                raise ExportColumnsError(f"{source}: the columns {first!r} and {h!r} both hold the question "
                                         f"{target.field!r}, with different answers. Keep one of them.")
            continue
        positions[target.field] = pos

    missing = []
    for f in index.fields:
        if f.name in positions or f.identifying or f.type in _OPTIONAL_TYPES:
            continue
        if f.type == "select_multiple" and f.name in split:
            continue
        missing.append(f)
    if missing:
        names = [f.export_name("/") for f in missing]
        renamed = close_names(unknown, names)
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        hint = ""
        if renamed:
            pairs = "; ".join(f"{v!r} may be {k!r}" for k, v in list(renamed.items())[:3])
            hint = (f" The export has columns the form does not know ({pairs}): was the question renamed in another "
                    "version of the form? Validate against the form version the data were collected with, or map the "
                    "old name with renames={'old': 'new'} (--rename old=new).")
        level = f"repeat {repeat!r} of " if repeat else ""
        raise ExportColumnsError(
            f"{source}: the export lacks {len(names)} column(s) of {level}form {form.form_id!r} version "
            f"{form.version}: {shown}.{hint or ' Export again with all questions, or check that the data come from this form.'}")

    for h in unknown:
        issues.append(Issue(source, header_line, h, "", "columns: unknown", "column_unknown", {}, "warning"))

    columns: dict[str, pd.Series] = {}
    for f in index.fields:
        if f.identifying:
            continue  # never read into analysis data
        if f.name in positions:
            # Codes are matched loosely (white space, case, labels) by code_values; other answers are stripped.
            values = raw[positions[f.name]] if f.is_select else strip_cells(raw[positions[f.name]])
        elif f.name in split:
            values = None
        else:
            continue
        if f.type == "select_multiple" and f.name in split:
            flags = {code: split_flags(raw[pos]) for code, pos in split[f.name].items()}
            rebuilt, mask = _rebuild_multiple(flags, form, f)
            if values is None:
                values = rebuilt
            else:
                values = code_values(values, form, f)
                order = [c.name for c in form.choice_list(f.list_name) if c.name in flags]
                issues += _split_disagreements(values, rebuilt, mask, order, table.lines, source, f)
        elif f.is_select:
            values = code_values(values, form, f)
        columns[f.name] = values

    out = pd.DataFrame(columns, index=raw.index)
    get = {h: pos for pos, h in reversed(list(enumerate(header)))}

    def column(*names: str) -> pd.Series | None:
        for name in names:
            if name in get:
                return strip_cells(raw[get[name]])
        return None

    central = _is_central(header)
    if central:
        uuid = _strip_uuid(column("meta-instanceID", "instanceID", "KEY"))
        when = column("SubmissionDate")
        if when is not None:  # UTC either way: Central writes 2025-03-01T12:00:00.000Z, KoboToolbox 2025-03-01T12:00:00
            when = when.str.replace(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?Z$", r"\1", regex=True)
        number = None
        version = column("FormVersion")
        if version is not None and form.version:
            other = sorted(set(version) - {"", form.version})
            if other:
                issues.append(Issue(source, header_line, "FormVersion", ", ".join(other[:3]), "form version",
                                    "form_version", {"expected": form.version}, "warning"))
    else:
        uuid = _strip_uuid(column("_uuid", "meta/instanceID", "_submission__uuid"))
        when = column("_submission_time")
        number = column("_index")
    links: dict[str, pd.Series] = {}
    if repeat is None:
        out["_uuid"] = uuid if uuid is not None else ""
        out["_submission_time"] = when if when is not None else ""
        out["_index"] = number if number is not None else pd.Series(np.arange(1, len(raw) + 1).astype(str), index=raw.index)
        if central and column("KEY") is not None:
            links["KEY"] = column("KEY")
    else:
        if central:
            links["PARENT_KEY"] = column("PARENT_KEY")
            links["KEY"] = column("KEY")
        else:
            links["_parent_index"] = column("_parent_index")
            links["_submission__uuid"] = column("_submission__uuid")
        out["_index"] = number if number is not None else pd.Series(np.arange(1, len(raw) + 1).astype(str), index=raw.index)
    out["_source"] = source
    out["_row"] = table.lines
    return out, issues, links


def _strip_uuid(values: pd.Series | None) -> pd.Series | None:
    """Submission ids without ODK's ``uuid:`` prefix (KoboToolbox leaves it off, ODK Central keeps it)."""
    if values is None or "uuid:" not in "\x00".join(values.to_numpy(dtype=object)):  # one C-speed scan
        return values
    return values.str.replace(r"^uuid:", "", regex=True)


def _rebuild_multiple(flags: dict[str, pd.Series], form: Form, f) -> tuple[pd.Series, np.ndarray]:
    """The space-joined codes that split 0/1 columns mark, and the same as a bit mask per row."""
    order = [c.name for c in form.choice_list(f.list_name) if c.name in flags]
    index = next(iter(flags.values())).index
    mask = np.zeros(len(index), dtype=np.int64)
    for bit, code in enumerate(order):
        mask |= flags[code].to_numpy(dtype=bool).astype(np.int64) << bit
    uniques, codes = np.unique(mask, return_inverse=True)
    texts = np.array([" ".join(code for bit, code in enumerate(order) if m >> bit & 1) for m in uniques], dtype=object)
    return pd.Series(texts[codes.ravel()], index=index, dtype=object), mask


def _split_disagreements(values: pd.Series, rebuilt: pd.Series, mask: np.ndarray, order: list[str],
                         lines: np.ndarray, source: str, f) -> list[Issue]:
    """Rows whose space-joined select_multiple column and 0/1 columns say different things."""
    from research_kit.forms.expressions import per_unique

    bits = {code: bit for bit, code in enumerate(order)}

    def to_mask(u: pd.Series) -> list[int]:
        return [sum(1 << bits[t] for t in set(x.split()) if t in bits) if all(t in bits for t in x.split()) else -1
                for x in u]

    joined = per_unique(values.astype(object), to_mask, dtype=np.int64).to_numpy()
    # Unknown codes (-1) are reported by validation; a blank row with no flags agrees.
    differ = (joined >= 0) & (joined != mask)
    return [Issue(source, int(lines[pos]), f.name, values.iloc[pos], "select_multiple: split columns", "split_mismatch",
                  {"split": rebuilt.iloc[pos] or "—"}) for pos in np.flatnonzero(differ)]


def _raise_bad_lines(issues: list[Issue], path: Path) -> None:
    bad = [i for i in issues if i.severity == "error" and i.key.startswith("line_")]
    if bad:
        shown = "; ".join(f"line {i.line}: {i.params.get('found', '?')} fields instead of {i.params.get('expected')}"
                          if i.key != "line_truncated" else f"line {i.line}: cut off before its end" for i in bad[:5])
        raise MalformedLinesError(
            f"{path}: {len(bad)} line(s) do not have as many fields as the header ({shown}). The file was cut off, or a "
            "value holds an unquoted separator. Download the export again; or validate it (research-kit validate) to "
            "quarantine those lines and keep the rest.")


def _read_one(path: Path, form: Form, repeat: str | None, renames: Mapping[str, str],
              on_bad_lines: str, label: str) -> tuple[pd.DataFrame, list[Issue]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        main, child = _xlsx_tables(path, form, repeat, label)
        main_source, child_source = label, child and f"{label}[{repeat[:31]}]"
    elif suffix == ".zip":
        main, child, main_source, child_source = _zip_tables(path, form, repeat, label)
    elif suffix == ".xls":
        raise ExportFormatError(f"{path}: old Excel workbooks (.xls) are not read. Export again as XLSX or CSV.")
    else:
        main = read_csv_table(path, label)
        main_source = label
        child = child_source = None
        if repeat is not None:
            child_path = _sibling_repeat_csv(path, repeat)
            child_source = str(Path(label).with_name(child_path.name))
            child = read_csv_table(child_path, child_source)
    issues = list(main.issues)
    frame, more, links = _tidy(main, form, None, main_source, renames, path)
    issues += more
    if repeat is not None:
        issues = [i for i in issues if i.severity == "warning"]  # the submissions' own problems belong to them
        rows, more, child_links = _tidy(child, form, repeat, child_source, renames, path)
        issues += list(child.issues) + more
        rows = _link_parents(rows, child_links, frame, links)
        frame = rows
    if on_bad_lines == "raise":
        _raise_bad_lines(issues, path)
        issues = [i for i in issues if i.severity == "warning"]
    return frame, issues


def _link_parents(rows: pd.DataFrame, child_links: dict, parents: pd.DataFrame, parent_links: dict) -> pd.DataFrame:
    """Give each repeat row its submission's ``_uuid`` and ``_index``."""
    if "PARENT_KEY" in child_links and child_links["PARENT_KEY"] is not None:
        # ODK Central: PARENT_KEY is the submission's KEY (or, for a nested repeat, the parent row's KEY).
        keys = parent_links.get("KEY")
        root = child_links["PARENT_KEY"].str.split("/").str[0]
        lookup_uuid = dict(zip(keys, parents["_uuid"])) if keys is not None else {}
        lookup_index = dict(zip(keys, parents["_index"])) if keys is not None else {}
        rows["_parent_uuid"] = root.map(lambda k: lookup_uuid.get(k, k.replace("uuid:", ""))).astype(object)
        rows["_parent_index"] = root.map(lambda k: lookup_index.get(k, "")).astype(object)
    else:
        parent_index = child_links.get("_parent_index")
        rows["_parent_index"] = parent_index if parent_index is not None else ""
        by_index = dict(zip(parents["_index"], parents["_uuid"]))
        given = child_links.get("_submission__uuid")
        mapped = rows["_parent_index"].map(lambda i: by_index.get(i, "")).astype(object)
        rows["_parent_uuid"] = mapped.where(mapped != "", given if given is not None else "")
    meta = ["_parent_index", "_parent_uuid", "_index", "_source", "_row"]
    return rows[[c for c in rows.columns if c not in meta] + meta]


def _labels(paths: list[Path]) -> list[str]:
    """How each file is named in ``_source`` and messages: its name, with as many folders as tell it apart."""
    parts = [p.resolve().parts for p in paths]
    depth = 1
    while depth < max(len(x) for x in parts):
        labels = ["/".join(x[-depth:]) for x in parts]
        if len(set(labels)) == len(labels):
            return labels
        depth += 1
    return [str(p) for p in paths]


# ---- the public reader ----------------------------------------------------------------------------

def read_export(path: str | Path | Iterable[str | Path], form: Form | str | Path = "community_survey", *,
                repeat: str | None = None, renames: Mapping[str, str] | None = None,
                on_bad_lines: Literal["raise", "keep"] = "raise", key=None) -> pd.DataFrame:
    """Read survey exports into one tidy frame with the form's field names and codes.

    Parameters
    ----------
    path : str, Path, or several
        The export: a KoboToolbox CSV or XLSX, an ODK Central CSV or ZIP. Several files (waves,
        sites) are read one after the other into one frame, each row keeping its ``_source``.
        Files are only read, never modified.
    form : Form, str or Path
        The form the data were collected with: a :class:`~research_kit.forms.Form`, the name of
        a bundled form, or the path of an XLSForm.
    repeat : str, optional
        Read the rows of this repeat instead of the submissions (XLSX sheet, or ODK Central's
        ``<form>-<repeat>.csv``); they carry ``_parent_uuid`` and ``_parent_index``.
    renames : mapping, optional
        ``{old column: field name}`` for questions renamed between versions of the form.
    on_bad_lines : {"raise", "keep"}
        What to do with CSV lines that do not have as many fields as the header (a truncated
        download, a stray separator): raise :class:`MalformedLinesError` (default), or keep them
        so that :func:`~research_kit.ingest.validate` quarantines them.
    key : str, Path, bytes or ProjectKey, optional
        Replace respondent ids (the form's ``PSEUDONYMISED`` columns) with keyed pseudonyms; ``True``
        uses the default project key (see :mod:`research_kit.ingest.protect`).

    Returns
    -------
    pandas.DataFrame
        One row per submission (or repeat row), in file order; one text column (``str`` objects,
        ``''`` where unanswered) per data field of the form (identifying fields dropped), then ``_uuid``, ``_submission_time``, ``_index``,
        ``_source`` (file name) and ``_row`` (line in the file, or row in the sheet).
        ``attrs["issues"]`` holds what the reader noticed (unknown columns, mixed encodings, kept
        bad lines), for :func:`~research_kit.ingest.validate`.

    Raises
    ------
    DataFileError
        If a file is missing, empty, not an export, or lacks columns of the form; the message
        names the file and the columns, and says what to do.

    Examples
    --------
    >>> import research_kit as rk, tempfile
    >>> folder = rk.synth.generate_country("UY", tempfile.mkdtemp(), seed=7)
    >>> data = read_export(folder / "community_survey.csv", form="community_survey")
    >>> "age" in data.columns, "comments" in data.columns, int(data["_row"].iloc[0])
    (True, False, 2)
    """
    from research_kit.errors import DataFileError

    form = load_form(form)
    paths = [Path(path)] if isinstance(path, (str, Path)) else [Path(p) for p in path]
    if not paths:
        raise DataFileError("No export file was given.")
    if on_bad_lines not in ("raise", "keep"):
        from research_kit.errors import ParameterError

        raise ParameterError(f"on_bad_lines must be 'raise' or 'keep'. Got {on_bad_lines!r} instead.")
    frames, issues = [], []
    for p, label in zip(paths, _labels(paths)):
        if not p.is_file():
            raise DataFileError(f"The data file {p} does not exist. Check the path, or run 'research-kit synth' "
                                "to create synthetic data.")
        frame, more = _read_one(p, form, repeat, renames or {}, on_bad_lines, label)
        frames.append(frame)
        issues += more
    out = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    out = out.reset_index(drop=True)
    # Plain Python strings (object columns), as parsed: converting 200,000 rows to pandas' string dtype
    # (Arrow-backed when pyarrow is installed) would cost more than the parsing itself.
    text_cols = [c for c in out.columns if c != "_row" and out[c].dtype != object]
    if text_cols:
        out[text_cols] = out[text_cols].astype(object)
    out["_row"] = out["_row"].astype("int64")
    out.attrs = {"form_id": form.form_id, "form_version": form.version,
                 "source": str(paths[0]) if len(paths) == 1 else [str(p) for p in paths],
                 "repeat": repeat, "issues": issues, "pseudonymised": ()}
    if key is not None and key is not False:
        from research_kit.forms.schema import load_extras
        from research_kit.ingest.protect import project_key, pseudonymise

        columns = load_extras(form).pseudonymised
        secret = project_key(None if key is True else key, data_folders=[p.parent for p in paths])
        out = pseudonymise(out, columns, secret)
    return out
