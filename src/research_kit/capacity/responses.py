"""Read and check capacity-assessment responses: one per organisation per round, every score on the scale.

The export is read by :func:`research_kit.ingest.read_export` like any other form's, then checked
against the rules of the assessment itself. Every problem is reported at once, each naming the
file, the row, the value and the rule, and saying what to do:

* the organisation must be one of the list (``organisations.csv`` / the form's ``organisation`` list);
* the round must be one of the form's rounds;
* every statement must be scored, on the maturity scale (``1``–``4``);
* the priority of every area must be one of ``high``, ``medium``, ``low``;
* one organisation answers once per round (two responses from one organisation in one round
  cannot both be right, and the data cannot say which one is).

Examples
--------
>>> import pandas as pd
>>> fw = load_framework()
>>> row = {"organisation": "pry", "round": "baseline", "anonymous_regional": "no"}
>>> row.update({i.code: "3" for i in fw.items}); row.update({a.priority_field: "high" for a in fw.areas})
>>> row["governance_2"] = "5"
>>> check_responses(pd.DataFrame([row]))
Traceback (most recent call last):
...
research_kit.errors.DataFileError: The capacity assessment has 1 problem. Fix it in KoboToolbox (or the file) and read the export again:
  - row 1 (organisation pry, round baseline): statement governance_2 has the level '5', outside the maturity scale 1–4 (rule: a statement is scored 1 = No existe … 4 = Plenamente, choices of the list 'maturity' in capacity_assessment.xlsx).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from research_kit.capacity.framework import Framework, load_framework
from research_kit.capacity.organisations import organisations
from research_kit.errors import DataFileError

__all__ = ["read_responses", "check_responses", "DATA_FILE", "MAX_LISTED"]

#: Name of the assessment export in a data folder.
DATA_FILE = "capacity_assessment.csv"
#: Problems listed in one error message (the count says how many there are in all).
MAX_LISTED = 25


def _where(frame: pd.DataFrame, i: int) -> str:
    row = frame.iloc[i]
    if "_row" in frame.columns and str(row["_row"]).strip():
        where = f"row {row['_row']}"
        if "_source" in frame.columns and str(row["_source"]).strip():
            where = f"{row['_source']} {where}"
    else:
        where = f"row {i + 1}"
    org, rnd = str(row.get("organisation", "")).strip(), str(row.get("round", "")).strip()
    who = ", ".join(p for p in (f"organisation {org}" if org else "", f"round {rnd}" if rnd else "") if p)
    return f"{where} ({who})" if who else where


def _form_file(fw: Framework) -> str:
    return fw.form.path.name if fw.form.path else f"{fw.form.form_id}.xlsx"


def check_responses(frame: pd.DataFrame, framework: Framework | None = None) -> pd.DataFrame:
    """Check assessment responses and return them with levels as whole numbers.

    Parameters
    ----------
    frame : DataFrame
        One row per response, one column per field (as :func:`read_responses` or
        :func:`research_kit.ingest.read_export` return it).
    framework : Framework, optional
        The assessment framework (default: the bundled form's).

    Returns
    -------
    DataFrame
        The rows, in their order, with every statement column as ``int``.

    Raises
    ------
    DataFileError
        Listing every problem (up to :data:`MAX_LISTED`), each with its row and rule.
    """
    fw = framework or load_framework()
    if not isinstance(frame, pd.DataFrame):
        raise DataFileError(f"Capacity responses must be a table (DataFrame) or the path of an export, not {type(frame).__name__}.")
    needed = ["organisation", "round", *(i.code for i in fw.items), *(a.priority_field for a in fw.areas)]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataFileError(f"The capacity responses lack the columns {', '.join(missing[:8])}"
                            f"{' …' if len(missing) > 8 else ''}. Export them from KoboToolbox with the form "
                            f"{_form_file(fw)} (XML names as headers).")
    frame = frame.reset_index(drop=True)
    text = frame.astype(object).where(frame.notna(), "").astype(str).apply(lambda s: s.str.strip())
    problems: list[str] = []
    known = {o.code for o in organisations()}
    form_file = _form_file(fw)
    levels = {str(v) for v in fw.levels}
    low, high = fw.min_level, fw.max_level
    scale = (f"a statement is scored {low} = {fw.level_name(low, 'es')} … {high} = {fw.level_name(high, 'es')}, "
             f"choices of the list 'maturity' in {form_file}")
    for i in range(len(frame)):
        org, rnd = text.at[i, "organisation"], text.at[i, "round"]
        if org not in known:
            problems.append(f"{_where(frame, i)}: the organisation {org!r} is not in the list of organisations "
                            f"(rule: choices of the list 'organisation' in {form_file}, from "
                            "research_kit/capacity/organisations.csv). Correct the record, or add the organisation "
                            "to the list and to the form.")
        if rnd not in fw.rounds:
            problems.append(f"{_where(frame, i)}: the round {rnd!r} is not one of {', '.join(fw.rounds)} "
                            f"(rule: choices of the list 'round' in {form_file}).")
        for item in fw.items:
            value = text.at[i, item.code]
            if value == "":
                problems.append(f"{_where(frame, i)}: statement {item.code} has no level (rule: required; {scale}). "
                                "Complete the answer in KoboToolbox.")
            elif value not in levels:
                try:  # "4.0" from a spreadsheet is still level 4
                    number = float(value)
                    if number.is_integer() and str(int(number)) in levels:
                        text.at[i, item.code] = str(int(number))
                        continue
                except ValueError:
                    pass
                problems.append(f"{_where(frame, i)}: statement {item.code} has the level {value!r}, outside the "
                                f"maturity scale {low}–{high} (rule: {scale}).")
        for area in fw.areas:
            value = text.at[i, area.priority_field]
            if value not in fw.priorities:
                problems.append(f"{_where(frame, i)}: {area.priority_field} is {value!r}, not one of "
                                f"{', '.join(fw.priorities)} (rule: required, choices of the list 'priority' in "
                                f"{form_file}).")
    key = text["organisation"] + "\x00" + text["round"]
    for _key, idx in frame.groupby(key.to_numpy(), sort=False).groups.items():
        if len(idx) > 1:
            idx = sorted(idx)
            rows = " and ".join(_where(frame, j).split(" (")[0] for j in idx)
            problems.append(f"{rows}: {len(idx)} responses from organisation {text.at[idx[0], 'organisation']} in "
                            f"round {text.at[idx[0], 'round']} (rule: one response per organisation per round). Keep "
                            "the right one in KoboToolbox (delete the other or mark it not approved) and export again.")
    if problems:
        n = len(problems)
        listed = "\n".join(f"  - {p}" for p in problems[:MAX_LISTED])
        more = f"\n  … and {n - MAX_LISTED} more." if n > MAX_LISTED else ""
        raise DataFileError(f"The capacity assessment has {n} problem{'s' if n > 1 else ''}. Fix "
                            f"{'them' if n > 1 else 'it'} in KoboToolbox (or the file) and read the export again:\n"
                            f"{listed}{more}")
    out = frame.copy()
    for item in fw.items:
        out[item.code] = text[item.code].astype(int)
    for col in ("organisation", "round", *(a.priority_field for a in fw.areas)):
        out[col] = text[col]
    return out


def read_responses(path: str | Path, framework: Framework | None = None) -> pd.DataFrame:
    """Read a capacity-assessment export (KoboToolbox CSV or XLSX, ODK Central) and check it.

    Parameters
    ----------
    path : str or Path
        The export, or a folder holding ``capacity_assessment.csv``.
    framework : Framework, optional
        Default: the bundled form's.

    Raises
    ------
    DataFileError
        If the file is missing or unreadable, or breaks a rule of the assessment (see :func:`check_responses`).
    """
    from research_kit.ingest import read_export

    fw = framework or load_framework()
    path = Path(path)
    if path.is_dir():
        path = path / DATA_FILE
    if not path.is_file():
        raise DataFileError(f"There is no capacity-assessment export at {path}. Export the form from KoboToolbox "
                            f"(CSV, XML names) or create synthetic data with research_kit.synth.capacity.generate_capacity.")
    frame = read_export(path, form=fw.form)
    return check_responses(frame, fw)
