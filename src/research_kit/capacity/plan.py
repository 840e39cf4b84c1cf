"""Organisational Development and Technical Assistance (ODTA) plans: drafted, edited in Excel, read back, tracked.

From an organisation's scores and its own priorities, :func:`draft_plan` ranks the areas and writes
one action per statement not yet fully in place, with who owns it, the technical assistance it
needs and from whom, a timeline and an indicator of progress. :func:`write_plan` saves it as an
XLSX that the organisation edits; :func:`read_plan` reads the edited file back, checking that its
columns still match and every row keeps the rules; :func:`track_plan` compares a plan's actions
with the next round's scores.

How areas are ranked (:func:`rank_areas`), the rule documented in every plan and report:

1. areas with statements not yet fully in place come first (an area already fully in place needs
   no action and comes last);
2. then the organisation's own priority for the area: ``high``, ``medium``, ``low`` — the plan is
   the organisation's, and it knows its context;
3. then need, ``4 − score`` (largest first);
4. then the number of statements not in place at all (level 1; more first);
5. then the order of the form.

Drafted actions, one per statement below the top level, in the order of the ranked areas and,
within an area, lowest level first:

* the action: *Put in place: <statement>* for a statement not in place, *Strengthen: <statement>*
  otherwise; the target is the next level (one level per round);
* technical assistance is drafted for statements at levels 1 and 2, from the **node** for a
  national organisation — unless the node's own score in that area, in the same round, is below 3,
  then from the **Secretariat**; a node gets it from the Secretariat, the Secretariat from a
  **partner**;
* the timeline follows the area's rank: the first three areas start the month after the
  assessment and run six months, the next four start three months later, the rest six months later;
* the owner is left blank: the organisation names her.

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> from research_kit.capacity import load_framework, score
>>> fw = load_framework()
>>> row = {"organisation": "pry", "round": "baseline", "assessment_date": "2025-03-10", "anonymous_regional": "no"}
>>> row.update({i.code: "4" for i in fw.items}); row.update({a.priority_field: "low" for a in fw.areas})
>>> row.update({"governance_1": "1", "governance_priority": "high", "communications_2": "3"})
>>> plan = draft_plan(score(pd.DataFrame([row])), "pry")
>>> plan.areas["area"].tolist()[:3]
['governance', 'communications', 'admin_finance']
>>> plan.actions[["action_id", "item", "level", "target_level", "provider", "start", "end"]].values.tolist()
[['A01', 'governance_1', 1, 2, 'node', '2025-04', '2025-09'], ['A02', 'communications_2', 3, 4, 'none', '2025-04', '2025-09']]
>>> path = write_plan(plan, pathlib.Path(tempfile.mkdtemp()) / "plan.xlsx")
>>> read_plan(path).actions.equals(plan.actions)
True
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from research_kit.capacity.framework import Framework, load_framework
from research_kit.capacity.messages import MESSAGES, text
from research_kit.capacity.organisations import get_organisation, node_organisation
from research_kit.capacity.scoring import Scores
from research_kit.errors import DataFileError, ParameterError
from research_kit.i18n import check_language

__all__ = ["Plan", "draft_plan", "rank_areas", "write_plan", "read_plan", "track_plan", "PLAN_COLUMNS",
           "FIXED_COLUMNS", "PROVIDERS", "STATUSES", "RESULTS", "plan_file_name"]

#: Columns of the plan's actions, in file order.
PLAN_COLUMNS: tuple[str, ...] = ("action_id", "area", "area_name", "item", "statement", "level", "target_level",
                                 "action", "owner", "technical_assistance", "provider", "start", "end", "indicator",
                                 "status", "notes")
#: Columns the organisation does not edit (grey in the file).
FIXED_COLUMNS: tuple[str, ...] = ("action_id", "area", "area_name", "item", "statement", "level")
#: Who provides technical assistance.
PROVIDERS: tuple[str, ...] = ("node", "secretariat", "partner", "none")
#: Where an action stands.
STATUSES: tuple[str, ...] = ("planned", "in_progress", "done", "dropped")
#: Results of an action in the next round (:func:`track_plan`).
RESULTS: tuple[str, ...] = ("achieved", "improved", "unchanged", "worse", "not_assessed")
#: Keys of the ``about`` sheet.
ABOUT_KEYS: tuple[str, ...] = ("organisation", "round", "language", "form_version", "created")
_TIERS = ((3, 0, 6), (7, 3, 6), (None, 6, 6))  # (last rank of the tier, start offset, months) — see module docs
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass
class Plan:
    """An organisation's ODTA plan for one assessment round.

    Attributes
    ----------
    organisation, round : str
        Codes of the organisation and of the round whose scores the plan answers.
    language : str
        Language of the texts and of the file's headers.
    areas : DataFrame
        ``rank, area, score, priority, need, gaps, absent`` — the areas in rank order.
    actions : DataFrame
        One row per action, columns :data:`PLAN_COLUMNS` (codes for area, item, provider, status).
    form_version : str
    created : str
        ``YYYY-MM-DD``.
    """

    organisation: str
    round: str
    language: str
    areas: pd.DataFrame
    actions: pd.DataFrame
    form_version: str = ""
    created: str = field(default_factory=lambda: dt.date.today().isoformat())


def plan_file_name(organisation: str, round: str) -> str:
    """File name of a plan: ``plan_<organisation>_<round>.xlsx``."""
    return f"plan_{get_organisation(organisation).code}_{round}.xlsx"


def _month(value: dt.date, offset: int) -> str:
    y, m = value.year, value.month - 1 + offset
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def rank_areas(scores: Scores, organisation: str, round: str | None = None) -> pd.DataFrame:
    """The organisation's areas ranked by need and priority (the rule in this module's docs).

    Returns
    -------
    DataFrame
        ``rank, area, score, priority, need, gaps, absent``, best-first order.
    """
    fw = scores.framework
    code = get_organisation(organisation).code
    rnd = scores._round(round, code)
    part = scores.areas[(scores.areas["organisation"] == code) & (scores.areas["round"] == rnd)].copy()
    part["need"] = fw.max_level - part["score"]
    part["_done"] = part["gaps"] == 0
    part["_p"] = part["priority"].map({p: k for k, p in enumerate(fw.priorities)}).fillna(len(fw.priorities))
    part["_f"] = part["area"].map({a.code: k for k, a in enumerate(fw.areas)})
    part = part.sort_values(["_done", "_p", "need", "absent", "_f"], ascending=[True, True, False, False, True])
    part["rank"] = np.arange(1, len(part) + 1)
    return part[["rank", "area", "score", "priority", "need", "gaps", "absent"]].reset_index(drop=True)


def _provider(scores: Scores, org, area: str, rnd: str) -> str:
    if org.kind == "secretariat":
        return "partner"
    if org.kind == "node":
        return "secretariat"
    node = node_organisation(org.node).code
    row = scores.areas[(scores.areas["organisation"] == node) & (scores.areas["round"] == rnd) & (scores.areas["area"] == area)]
    if not row.empty and float(row["score"].iloc[0]) < 3:
        return "secretariat"  # the node is not yet strong enough in this area to support others
    return "node"


def _assessment_date(scores: Scores, code: str, rnd: str) -> dt.date:
    r = scores.responses
    if "assessment_date" in r.columns:
        value = r.loc[(r["organisation"] == code) & (r["round"] == rnd), "assessment_date"]
        parsed = pd.to_datetime(value, errors="coerce").dropna()
        if not parsed.empty:
            return parsed.iloc[0].date()
    return dt.date.today()


def draft_plan(scores: Scores, organisation: str, round: str | None = None, *, language: str = "es") -> Plan:
    """A draft ODTA plan for one organisation from its scores and priorities in ``round`` (default: its latest).

    Parameters
    ----------
    scores : Scores
    organisation : str
        Organisation code (or a national organisation's ISO code).
    round : str, optional
    language : {'es', 'en', 'pt'}
        Language of the drafted texts and of the file's headers.

    Returns
    -------
    Plan
    """
    check_language(language)
    fw = scores.framework
    org = get_organisation(organisation)
    rnd = scores._round(round, org.code)
    ranked = rank_areas(scores, org.code, rnd)
    when = _assessment_date(scores, org.code, rnd)
    levels = scores.items[(scores.items["organisation"] == org.code) & (scores.items["round"] == rnd)].set_index("item")["level"]
    rows = []
    gap_rank = 0
    for _, a in ranked.iterrows():
        if a["gaps"] == 0:
            continue
        gap_rank += 1
        start_offset, months = next((s, m) for last, s, m in _TIERS if last is None or gap_rank <= last)
        start, end = _month(when, 1 + start_offset), _month(when, start_offset + months)
        area = fw.area(a["area"])
        items = sorted((i for i in area.items if int(levels[i.code]) < fw.max_level),
                       key=lambda i: (int(levels[i.code]), i.number))
        for item in items:
            level = int(levels[item.code])
            target = level + 1
            needs_ta = level <= fw.min_level + 1
            statement = item.statement(language)
            key = "action_put_in_place" if level == fw.min_level else "action_strengthen"
            rows.append({
                "area": area.code, "area_name": area.name(language), "item": item.code, "statement": statement,
                "level": level, "target_level": target, "action": text(key, language, statement=statement),
                "owner": "", "technical_assistance": text("ta_in_area", language, area=area.name(language).lower())
                if needs_ta else "",
                "provider": _provider(scores, org, area.code, rnd) if needs_ta else "none",
                "start": start, "end": end,
                "indicator": text("indicator_item", language, level=target, name=fw.level_name(target, language)),
                "status": "planned", "notes": "",
            })
    actions = pd.DataFrame(rows, columns=[c for c in PLAN_COLUMNS if c != "action_id"])
    actions.insert(0, "action_id", [f"A{k:02d}" for k in range(1, len(actions) + 1)])
    actions = _typed(actions)
    return Plan(organisation=org.code, round=rnd, language=language, areas=ranked, actions=actions,
                form_version=fw.form.version)


def _typed(actions: pd.DataFrame) -> pd.DataFrame:
    out = actions.copy()
    for c in ("level", "target_level"):
        out[c] = pd.to_numeric(out[c]).astype("Int64")
    for c in PLAN_COLUMNS:
        if c not in ("level", "target_level"):
            out[c] = out[c].fillna("").astype(str)
    return out.reset_index(drop=True)[list(PLAN_COLUMNS)]


# ---- the XLSX file -------------------------------------------------------------------------

def _header(column: str, language: str) -> str:
    return text(f"plan_{column}", language)


def _vocab(kind: str, code: str, language: str) -> str:
    return text(f"{kind}_{code}", language)


def _from_vocab(kind: str, codes: tuple[str, ...], value: str) -> str | None:
    v = value.strip().lower()
    for code in codes:
        if v == code or v == code.replace("_", " ") or v in (s.lower() for s in MESSAGES[f"{kind}_{code}"]):
            return code
    return None


def write_plan(plan: Plan, path: str | Path) -> Path:
    """Save a plan as an XLSX workbook for the organisation to edit.

    Three sheets (names in the plan's language): the actions (one row each; grey columns are fixed,
    white ones editable, with drop-down lists for provider, status and target level), the ranked
    areas, and *about* (organisation, round, language, form version, date, and how to edit).

    Returns
    -------
    Path
        The file written (written to a temporary name, then renamed).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    lang = plan.language
    fw = load_framework()
    wb = Workbook()
    ws = wb.active
    ws.title = text("sheet_actions", lang)
    ws.append([_header(c, lang) for c in PLAN_COLUMNS])
    for _, r in plan.actions.iterrows():
        values = []
        for c in PLAN_COLUMNS:
            v = r[c]
            if c == "provider" and v:
                v = _vocab("provider", v, lang)
            elif c == "status" and v:
                v = _vocab("status", v, lang)
            elif c in ("level", "target_level"):
                v = None if pd.isna(v) else int(v)
            values.append(v)
        ws.append(values)
    grey = PatternFill("solid", fgColor="E4E1EC")
    bold = Font(bold=True)
    widths = {"action_id": 7, "area": 18, "area_name": 24, "item": 20, "statement": 48, "level": 9, "target_level": 9,
              "action": 48, "owner": 18, "technical_assistance": 30, "provider": 14, "start": 12, "end": 12,
              "indicator": 40, "status": 14, "notes": 30}
    for k, c in enumerate(PLAN_COLUMNS, start=1):
        letter = ws.cell(row=1, column=k).column_letter
        ws.column_dimensions[letter].width = widths[c]
        ws.cell(row=1, column=k).font = bold
        ws.cell(row=1, column=k).alignment = Alignment(wrap_text=True, vertical="top")
        for row in range(2, ws.max_row + 1):
            cell = ws.cell(row=row, column=k)
            cell.alignment = Alignment(wrap_text=c in ("statement", "action", "indicator", "technical_assistance"), vertical="top")
            if c in FIXED_COLUMNS:
                cell.fill = grey
            if c in ("start", "end"):
                cell.number_format = "@"  # stop Excel from turning 2025-08 into a date
    ws.freeze_panes = "B2"
    last = max(ws.max_row, 2) + 200  # room for actions the organisation adds
    col = {c: ws.cell(row=1, column=k).column_letter for k, c in enumerate(PLAN_COLUMNS, start=1)}
    for kind, codes in (("provider", PROVIDERS), ("status", STATUSES)):
        options = ",".join(_vocab(kind, c, lang) for c in codes)
        dv = DataValidation(type="list", formula1=f'"{options}"', allow_blank=True)
        dv.add(f"{col[kind]}2:{col[kind]}{last}")
        ws.add_data_validation(dv)
    dv = DataValidation(type="whole", operator="between", formula1=str(fw.min_level), formula2=str(fw.max_level),
                        allow_blank=True)
    dv.add(f"{col['target_level']}2:{col['target_level']}{last}")
    ws.add_data_validation(dv)

    wa = wb.create_sheet(text("sheet_areas", lang))
    wa.append([text("col_rank", lang), text("plan_area", lang), text("col_area", lang), text("col_score", lang),
               text("col_priority", lang), text("col_need", lang), text("col_gaps", lang), text("col_absent", lang)])
    for _, a in plan.areas.iterrows():
        wa.append([int(a["rank"]), a["area"], fw.area(a["area"]).name(lang), round(float(a["score"]), 2),
                   fw.priority_name(a["priority"], lang) if a["priority"] in fw.priorities else a["priority"],
                   round(float(a["need"]), 2), int(a["gaps"]), int(a["absent"])])
    for k, w in enumerate((7, 22, 36, 10, 12, 12, 16, 16), start=1):
        wa.column_dimensions[wa.cell(row=1, column=k).column_letter].width = w
        wa.cell(row=1, column=k).font = bold

    ab = wb.create_sheet(text("sheet_about", lang))
    org = get_organisation(plan.organisation)
    values = {"organisation": plan.organisation, "round": plan.round, "language": lang,
              "form_version": plan.form_version, "created": plan.created}
    shown = {"organisation": org.name(lang), "round": fw.round_name(plan.round, lang)}
    for key in ABOUT_KEYS:
        ab.append([text(f"about_{key}", lang), shown.get(key, values[key]), key, values[key]])
    ab.append([])
    ab.append([text("about_instructions", lang)])
    ab.column_dimensions["A"].width = 24
    ab.column_dimensions["B"].width = 48
    ab.column_dimensions["C"].hidden = True  # machine keys and codes, read back by read_plan
    ab.column_dimensions["D"].hidden = True

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    wb.save(tmp)
    tmp.replace(path)
    return path


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y-%m")  # Excel turned a typed 2025-08 into a date
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sheet(wb, key: str, path: Path):
    names = {n.lower(): n for n in wb.sheetnames}
    for candidate in MESSAGES[f"sheet_{key}"]:
        if candidate.lower() in names:
            return wb[names[candidate.lower()]]
    expected = " / ".join(dict.fromkeys(MESSAGES[f"sheet_{key}"]))
    raise DataFileError(f"Plan file {path.name}: there is no sheet {expected!r} (its sheets: {', '.join(wb.sheetnames)}). "
                        "Start again from the file research_kit wrote, and keep its sheets and their names.")


def read_plan(path: str | Path) -> Plan:
    """Read back a plan file the organisation edited, checking its columns and every row.

    Rules checked (each problem names the sheet, the row, the column and the rule): the sheets and
    the *about* entries are there; the header row of the actions still matches the plan template
    (same columns, same order, in any of the three languages); each action has an area of the form
    and, when it names a statement, one of that area's statements; levels and targets are on the
    scale and a target is not below the current level; provider and status come from their lists;
    start and end are months (``YYYY-MM``), the end not before the start; an action is written.
    Rows left blank are skipped; new rows get the next free action number.

    Raises
    ------
    DataFileError
        If the file cannot be read as a plan, listing every problem found.
    """
    from openpyxl import load_workbook

    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"There is no plan file at {path}.")
    try:
        wb = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise DataFileError(f"Plan file {path.name} cannot be read as an Excel workbook ({type(exc).__name__}: {exc}). "
                            "Save it as .xlsx.") from exc
    fw = load_framework()
    about_ws = _sheet(wb, "about", path)
    about = {}
    for row in about_ws.iter_rows(values_only=True):
        if len(row) >= 4 and row[2] in ABOUT_KEYS:
            about[row[2]] = _cell(row[3])
    missing = [k for k in ABOUT_KEYS if not about.get(k)]
    if missing:
        raise DataFileError(f"Plan file {path.name}, sheet {about_ws.title!r}: the entries {', '.join(missing)} are "
                            "missing (rule: hidden columns C and D of the about sheet hold the plan's organisation, "
                            "round, language, form version and date). Start again from the file research_kit wrote.")
    try:
        org = get_organisation(about["organisation"])
    except ParameterError as exc:
        raise DataFileError(f"Plan file {path.name}, sheet {about_ws.title!r}: {exc}") from None
    if about["round"] not in fw.rounds:
        raise DataFileError(f"Plan file {path.name}, sheet {about_ws.title!r}: round {about['round']!r} is not one of "
                            f"{', '.join(fw.rounds)}.")
    language = about["language"] if about["language"] in ("es", "en", "pt") else "es"

    ws = _sheet(wb, "actions", path)
    rows = list(ws.iter_rows(values_only=True))
    header = [_cell(v) for v in (rows[0] if rows else ())]
    while header and header[-1] == "":
        header.pop()
    accepted = [[_header(c, lang) for c in PLAN_COLUMNS] for lang in ("es", "en", "pt")] + [list(PLAN_COLUMNS)]
    if not any([h.lower() for h in header] == [a.lower() for a in acc] for acc in accepted):
        expected = [_header(c, language) for c in PLAN_COLUMNS]
        known = {a.lower(): PLAN_COLUMNS[k] for acc in accepted for k, a in enumerate(acc)}
        found = [known.get(h.lower()) for h in header]
        lacking = [expected[k] for k, c in enumerate(PLAN_COLUMNS) if c not in found]
        unexpected = [h for h, f in zip(header, found) if f is None]
        detail = []
        if lacking:
            detail.append(f"missing {', '.join(repr(c) for c in lacking)}")
        if unexpected:
            detail.append(f"unexpected {', '.join(repr(c) for c in unexpected)}")
        if not detail:
            detail.append("the same columns in another order")
        raise DataFileError(
            f"Plan file {path.name}, sheet {ws.title!r}, row 1: the columns no longer match the plan template "
            f"({'; '.join(detail)}). Expected, in this order: {', '.join(repr(c) for c in expected)} (rule: the header "
            "row is not edited). Put the header back as research_kit wrote it; add notes in the 'notes' column.")
    problems: list[str] = []
    records = []
    levels = set(fw.levels)
    for n, raw in enumerate(rows[1:], start=2):
        values = [_cell(v) for v in raw[:len(PLAN_COLUMNS)]] + [""] * max(0, len(PLAN_COLUMNS) - len(raw))
        rec = dict(zip(PLAN_COLUMNS, values))
        if not any(values):
            continue
        where = f"Plan file {path.name}, sheet {ws.title!r}, row {n}"

        def bad(column: str, message: str) -> None:
            problems.append(f"{where}, column {_header(column, language)!r}: {message}")

        try:
            area = fw.area(rec["area"])
        except Exception:
            bad("area", f"{rec['area']!r} is not an area code of the form (rule: one of {', '.join(a.code for a in fw.areas)}).")
            area = None
        if rec["item"]:
            if area is not None and rec["item"] not in {i.code for i in area.items}:
                bad("item", f"{rec['item']!r} is not a statement of the area {rec['area']!r} (rule: one of "
                            f"{', '.join(i.code for i in area.items)}, or blank for an action on the whole area).")
        for column in ("level", "target_level"):
            value = rec[column]
            if value == "" and (column == "level" and not rec["item"]):
                rec[column] = None
                continue
            try:
                number = int(float(value))
                if number not in levels or float(value) != number:
                    raise ValueError
                rec[column] = number
            except ValueError:
                bad(column, f"{value!r} is not a level of the scale (rule: a whole number from {fw.min_level} to "
                            f"{fw.max_level}).")
                rec[column] = None
        if isinstance(rec["level"], int) and isinstance(rec["target_level"], int) and rec["target_level"] < rec["level"]:
            bad("target_level", f"the target {rec['target_level']} is below the current level {rec['level']} "
                                "(rule: a target is not below the current level).")
        for column, codes in (("provider", PROVIDERS), ("status", STATUSES)):
            code = _from_vocab(column, codes, rec[column]) if rec[column] else ("none" if column == "provider" else "planned")
            if code is None:
                options = ", ".join(_vocab(column, c, language) for c in codes)
                bad(column, f"{rec[column]!r} is not one of {options} (rule: the {column} list). Choose from the "
                            "drop-down list.")
            rec[column] = code or rec[column]
        for column in ("start", "end"):
            if not _MONTH.match(rec[column]):
                bad(column, f"{rec[column]!r} is not a month written YYYY-MM (rule: months as 2026-03).")
        if _MONTH.match(rec["start"]) and _MONTH.match(rec["end"]) and rec["end"] < rec["start"]:
            bad("end", f"the end {rec['end']} is before the start {rec['start']} (rule: end not before start).")
        if not rec["action"]:
            bad("action", "the action is blank (rule: every row says what will be done; delete rows not needed).")
        if area is not None:
            rec["area_name"] = rec["area_name"] or area.name(language)
            if rec["item"] and not rec["statement"] and rec["item"] in {i.code for i in area.items}:
                rec["statement"] = fw.item(rec["item"]).statement(language)
        records.append(rec)
    ids = [r["action_id"] for r in records if r["action_id"]]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        problems.append(f"Plan file {path.name}, sheet {ws.title!r}: the action numbers {', '.join(dupes)} repeat "
                        "(rule: each action has its own number; leave the number blank on a new row).")
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems[:25])
        more = f"\n  … and {len(problems) - 25} more." if len(problems) > 25 else ""
        raise DataFileError(f"The plan file {path.name} has {len(problems)} problem{'s' if len(problems) > 1 else ''}:\n"
                            f"{listed}{more}")
    used = {int(i[1:]) for i in ids if re.fullmatch(r"A\d+", i)}
    nxt = max(used, default=0)
    for r in records:
        if not r["action_id"]:
            nxt += 1
            r["action_id"] = f"A{nxt:02d}"
    actions = _typed(pd.DataFrame(records, columns=list(PLAN_COLUMNS)))
    areas_ws = _sheet(wb, "areas", path)
    area_rows = [r for r in areas_ws.iter_rows(min_row=2, values_only=True) if r and r[0] is not None]
    areas = pd.DataFrame({
        "rank": [int(r[0]) for r in area_rows], "area": [str(r[1]) for r in area_rows],
        "score": [float(r[3]) for r in area_rows],
        "priority": [_priority_code(fw, r[4]) for r in area_rows],
        "need": [float(r[5]) for r in area_rows], "gaps": [int(r[6]) for r in area_rows],
        "absent": [int(r[7]) for r in area_rows]})
    return Plan(organisation=org.code, round=about["round"], language=language, areas=areas, actions=actions,
                form_version=about["form_version"], created=about["created"])


def _priority_code(fw: Framework, value) -> str:
    value = _cell(value)
    for p in fw.priorities:
        if value == p or value in (fw.priority_name(p, lang) for lang in ("es", "en", "pt")):
            return p
    return value


def track_plan(plan: Plan, scores: Scores, round: str | None = None) -> pd.DataFrame:
    """Compare a plan's actions with a later round's scores.

    Parameters
    ----------
    plan : Plan
        Usually as read back with :func:`read_plan`.
    scores : Scores
        Scores that include the organisation's later round.
    round : str, optional
        The round to compare with (default: the first of the organisation's rounds after the plan's).

    Returns
    -------
    DataFrame
        ``action_id, area, item, level, target_level, status, level_now, result`` — ``result`` is
        ``achieved`` (at or above the target), ``improved`` (up, below the target), ``unchanged``,
        ``worse``, or ``not_assessed`` (no later round yet). An action on a whole area is compared
        through the area's score. Dropped actions are kept, with their result, so nothing disappears
        from the record. ``attrs['round']`` is the round compared with.
    """
    fw = scores.framework
    code = get_organisation(plan.organisation).code
    later = [r for r in scores.rounds_of(code) if fw.round_order(r) > fw.round_order(plan.round)]
    if round is not None and round not in later:
        raise ParameterError(f"Round {round!r} is not a round of {code} after the plan's round {plan.round!r}. "
                             f"Later rounds in the data: {', '.join(later) or 'none'}.")
    rnd = round or (later[0] if later else None)
    out = plan.actions[["action_id", "area", "item", "level", "target_level", "status"]].copy()
    now = []
    for _, a in out.iterrows():
        if rnd is None:
            now.append(np.nan)
            continue
        if a["item"]:
            sel = scores.items[(scores.items["organisation"] == code) & (scores.items["round"] == rnd) & (scores.items["item"] == a["item"])]
            now.append(float(sel["level"].iloc[0]) if not sel.empty else np.nan)
        else:
            sel = scores.areas[(scores.areas["organisation"] == code) & (scores.areas["round"] == rnd) & (scores.areas["area"] == a["area"])]
            now.append(float(sel["score"].iloc[0]) if not sel.empty else np.nan)
    out["level_now"] = now
    then = pd.to_numeric(out["level"], errors="coerce").astype(float)
    if then.isna().any() and rnd is not None:  # whole-area actions: the area's score in the plan's round
        for k in np.flatnonzero(then.isna().to_numpy()):
            sel = scores.areas[(scores.areas["organisation"] == code) & (scores.areas["round"] == plan.round)
                               & (scores.areas["area"] == out.at[k, "area"])]
            then.iat[k] = float(sel["score"].iloc[0]) if not sel.empty else np.nan
    target = pd.to_numeric(out["target_level"], errors="coerce").astype(float)
    level_now = out["level_now"].astype(float)
    result = np.select(
        [level_now.isna(), level_now >= target, level_now > then, level_now == then],
        ["not_assessed", "achieved", "improved", "unchanged"], default="worse")
    out["result"] = result
    out.attrs["round"] = rnd
    return out
