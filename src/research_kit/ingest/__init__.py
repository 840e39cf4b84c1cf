"""Read survey exports into one tidy frame named and coded as the form says.

:func:`read_export` reads a KoboToolbox CSV export (``;`` or ``,`` separated, UTF-8
with or without BOM, or Latin-1 as Excel re-saves it; headers with ``/``-joined group
names, ODK Central's ``-``-joined ones, or bare names) and returns one column per
form field, in form order, holding the XML codes as text (``''`` where unanswered).

Direct identifiers never pass the reader: fields the form flags as identifying
(free text, names, phones, GPS, device ids) are dropped here, so no analysis, table or
report downstream can show them.

Examples
--------
>>> import research_kit as rk, tempfile
>>> folder = rk.synth.generate_country("UY", tempfile.mkdtemp(), seed=7)
>>> data = read_export(folder / "community_survey.csv", form="community_survey")
>>> "age" in data.columns, "comments" in data.columns
(True, False)
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from research_kit.errors import DataFileError
from research_kit.forms import Form, load_form

__all__ = ["read_export", "KEPT_META"]

#: Submission meta columns kept for data management (never shown in reports).
KEPT_META = ("_uuid", "_submission_time", "_index")


def _decode(raw: bytes, path: Path) -> str:
    if not raw.strip():
        raise DataFileError(f"{path}: the file is empty. Download the export again from KoboToolbox or ODK Central.")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataFileError(f"{path}: cannot read the text encoding.")  # pragma: no cover - latin-1 decodes any bytes


def _separator(text: str) -> str:
    header = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=";,\t").delimiter
    except csv.Error:
        return ";" if header.count(";") >= header.count(",") else ","


def read_export(path: str | Path, form: Form | str | Path = "community_survey") -> pd.DataFrame:
    """Read one survey export into a tidy frame with the form's field names.

    Parameters
    ----------
    path : str or Path
        The export file (CSV). It is only read, never modified.
    form : Form, str or Path
        The form the data were collected with: a :class:`~research_kit.forms.Form`, the
        name of a bundled form, or the path of an XLSForm.

    Returns
    -------
    pandas.DataFrame
        One row per submission, in file order; one text column per data field of the form
        (identifying fields dropped), then ``_uuid``, ``_submission_time``, ``_index``,
        ``_source`` (file name) and ``_row`` (the row's line number in the file).

    Raises
    ------
    DataFileError
        If the file is missing, empty, or lacks columns of the form; the message names the
        file and the columns.
    """
    path = Path(path)
    form = load_form(form)
    if not path.is_file():
        raise DataFileError(f"The data file {path} does not exist. Check the path, or run 'research-kit synth' to create synthetic data.")
    text = _decode(path.read_bytes(), path)
    sep = _separator(text)
    try:
        raw = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False)
    except pd.errors.ParserError as exc:
        raise DataFileError(f"{path}: the file is not a readable CSV export ({exc}).") from exc
    if raw.empty:
        raise DataFileError(f"{path}: the file has a header but no submissions.")

    headers = {h.strip(): h for h in raw.columns}
    columns: dict[str, pd.Series] = {}
    missing: list[str] = []
    for f in form.data_fields():
        if f.repeat:
            continue
        candidates = (f.export_name("/"), f.export_name("-"), f.name)
        found = next((headers[c] for c in candidates if c in headers), None)
        if f.identifying:
            continue  # never read into analysis data
        if found is None:
            if f.type in ("start", "end", "today", "deviceid", "calculate"):
                continue  # meta and calculations may be switched off in an export
            missing.append(f.export_name("/"))
            continue
        columns[f.name] = raw[found].str.strip()
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise DataFileError(
            f"{path}: the export lacks {len(missing)} column(s) of form {form.form_id!r} version {form.version}: {shown}. "
            "Export again with XML values and headers, or check that the data come from this form."
        )
    out = pd.DataFrame(columns, index=raw.index)
    for meta in KEPT_META:
        out[meta] = raw[meta] if meta in raw.columns else ""
    out["_source"] = path.name
    out["_row"] = raw.index + 2  # line number in the file: the header is line 1
    out.attrs.update({"form_id": form.form_id, "form_version": form.version, "source": str(path)})
    return out.reset_index(drop=True)
