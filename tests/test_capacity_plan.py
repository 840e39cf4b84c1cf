"""ODTA plans: ranked as documented, drafted from the gaps, round-tripped through XLSX, checked when read back, tracked."""

from __future__ import annotations

import doctest
import importlib

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from research_kit.capacity import (draft_plan, load_framework, rank_areas, read_plan, score, track_plan,
                                   write_plan)
from research_kit.capacity.plan import FIXED_COLUMNS, PLAN_COLUMNS
from research_kit.errors import DataFileError
from research_kit.synth.capacity import generate_capacity

FW = load_framework()
ITEMS = [i.code for i in FW.items]
AREAS = [a.code for a in FW.areas]


def response(org="pry", rnd="baseline", level=4, priority="low", **values):
    row = {"organisation": org, "round": rnd, "assessment_date": "2025-03-10", "anonymous_regional": "no"}
    row.update({i: str(level) for i in ITEMS})
    row.update({a.priority_field: priority for a in FW.areas})
    row.update({k: str(v) for k, v in values.items()})
    return row


def test_areas_are_ranked_as_documented():
    row = response(
        # governance: score 1.75, priority low -> after every high and medium area with gaps
        governance_1=1, governance_2=2, governance_3=2, governance_4=2,
        # communications: 3.0, high;  advocacy: 2.0, high (more need, ranks first); networking: 3.0, high, one absent
        communications_1=3, communications_2=3, communications_3=3, communications_4=3, communications_priority="high",
        advocacy_1=2, advocacy_2=2, advocacy_3=2, advocacy_4=2, advocacy_priority="high",
        networking_1=1, networking_2=4, networking_3=3, networking_4=4, networking_priority="high",
        # admin_finance: 3.5, medium; data_protection fully in place but high priority -> with the areas with no gaps
        admin_finance_1=3, admin_finance_priority="medium", data_protection_priority="high")
    ranked = rank_areas(score(pd.DataFrame([row])), "pry")
    assert ranked["area"].tolist()[:6] == ["advocacy", "networking", "communications", "admin_finance", "governance",
                                           "data_protection"]
    assert ranked["rank"].tolist() == list(range(1, len(AREAS) + 1))
    assert ranked.loc[0, "need"] == 2.0 and ranked.loc[1, "absent"] == 1
    # Areas with no gap keep the form's order after the priority: data_protection (high) first, then the rest.
    rest = [a for a in AREAS if a not in ("advocacy", "networking", "communications", "admin_finance", "governance",
                                          "data_protection")]
    assert ranked["area"].tolist()[6:] == rest


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=len(ITEMS), max_size=len(ITEMS)),
       st.lists(st.sampled_from(["high", "medium", "low"]), min_size=len(AREAS), max_size=len(AREAS)))
def test_the_ranking_rule_holds_for_every_input(levels, priorities):
    row = response(**dict(zip(ITEMS, levels)), **{f"{a}_priority": p for a, p in zip(AREAS, priorities)})
    ranked = rank_areas(score(pd.DataFrame([row])), "pry")
    key = [(r.gaps == 0, ["high", "medium", "low"].index(r.priority), -r.need, -r.absent, AREAS.index(r.area))
           for r in ranked.itertuples()]
    assert key == sorted(key)
    plan = draft_plan(score(pd.DataFrame([row])), "pry")
    # One action per statement not fully in place, in the areas' rank order.
    gaps = sum(level < 4 for level in levels)
    assert len(plan.actions) == gaps
    ranks = plan.actions["area"].map(dict(zip(ranked["area"], ranked["rank"])))
    assert ranks.is_monotonic_increasing
    assert (plan.actions["target_level"] == plan.actions["level"] + 1).all()
    assert (plan.actions["start"] <= plan.actions["end"]).all()


def test_actions_ask_technical_assistance_from_the_node_unless_the_node_is_weak_there():
    rows = [response("pry", governance_1=1, communications_1=2, networking_1=3),
            response("node_southern_cone", level=4, communications_1=1, communications_2=1, communications_3=2),
            response("node_andean", governance_1=1), response("secretariat", governance_1=2)]
    s = score(pd.DataFrame(rows))
    plan = draft_plan(s, "pry").actions.set_index("item")
    assert plan.loc["governance_1", "provider"] == "node"
    assert plan.loc["communications_1", "provider"] == "secretariat"  # the node scores 2.0 there: below 3
    assert plan.loc["networking_1", "provider"] == "none" and plan.loc["networking_1", "technical_assistance"] == ""
    assert plan.loc["governance_1", "action"].startswith("Poner en marcha:")
    assert draft_plan(s, "node_andean").actions["provider"].tolist() == ["secretariat"]
    assert draft_plan(s, "secretariat", language="en").actions["provider"].tolist() == ["partner"]
    assert draft_plan(s, "secretariat", language="en").actions["action"].iloc[0].startswith("Strengthen:")


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    return score(generate_capacity(tmp_path_factory.mktemp("capacity"), seed=5))


@pytest.mark.parametrize("language", ["es", "en", "pt"])
def test_the_plan_file_round_trips_through_xlsx(scores, tmp_path, language):
    plan = draft_plan(scores, "bol", "baseline", language=language)
    assert len(plan.actions) > 5
    path = write_plan(plan, tmp_path / "plan.xlsx")
    back = read_plan(path)
    pd.testing.assert_frame_equal(back.actions, plan.actions)
    pd.testing.assert_frame_equal(back.areas, plan.areas.assign(score=plan.areas["score"].round(2),
                                                                need=plan.areas["need"].round(2)), check_dtype=False)
    assert (back.organisation, back.round, back.language, back.form_version) == ("bol", "baseline", language, FW.form.version)


def _edit(path, edit):
    wb = load_workbook(path)
    edit(wb[wb.sheetnames[0]])
    wb.save(path)


def test_an_edited_plan_is_read_back_with_its_edits(scores, tmp_path):
    plan = draft_plan(scores, "pry", "baseline")
    path = write_plan(plan, tmp_path / "plan.xlsx")

    def edit(ws):
        ws["I2"] = "Tesorería"                      # owner
        ws["K2"] = "Secretaría"                     # provider, from the drop-down list in Spanish
        ws["O2"] = "En curso"                       # status
        ws.delete_rows(3)                           # an action the organisation does not want
        ws.append([None, "governance", None, None, None, None, 3, "Elegir nueva comisión directiva", "Asamblea", "",
                   "Ninguno", "2025-06", "2025-12", "Acta de la asamblea", "Planificada", "nueva"])
    _edit(path, edit)
    back = read_plan(path)
    assert len(back.actions) == len(plan.actions)
    first = back.actions.iloc[0]
    assert (first["owner"], first["provider"], first["status"]) == ("Tesorería", "secretariat", "in_progress")
    assert plan.actions.iloc[1]["action_id"] not in set(back.actions["action_id"])
    new = back.actions.iloc[-1]
    assert new["action_id"] == f"A{len(plan.actions) + 1:02d}" and new["area"] == "governance" and new["item"] == ""
    assert new["area_name"] == "Gobernanza"


def test_a_plan_whose_columns_no_longer_match_is_refused_with_the_rule(scores, tmp_path):
    path = write_plan(draft_plan(scores, "pry", "baseline"), tmp_path / "plan.xlsx")

    def edit(ws):
        ws["I1"] = "Encargada"
        ws.insert_cols(3)
        ws["C1"] = "Comentario"
    _edit(path, edit)
    with pytest.raises(DataFileError) as err:
        read_plan(path)
    msg = str(err.value)
    assert "row 1: the columns no longer match the plan template" in msg
    assert "missing 'Responsable'" in msg and "unexpected 'Comentario', 'Encargada'" in msg
    assert "rule: the header row is not edited" in msg


def test_rows_that_break_a_rule_are_named(scores, tmp_path):
    path = write_plan(draft_plan(scores, "pry", "baseline"), tmp_path / "plan.xlsx")

    def edit(ws):
        ws["K2"] = "ONG amiga"          # provider not in the list
        ws["G3"] = 0                    # target off the scale
        ws["L4"] = "marzo"              # not a month
        ws["B5"] = "finanzas"           # not an area
        ws["H6"] = None                 # no action
    _edit(path, edit)
    with pytest.raises(DataFileError) as err:
        read_plan(path)
    msg = str(err.value)
    assert "5 problems" in msg
    assert "row 2, column 'Quién la brinda': 'ONG amiga' is not one of Nodo, Secretaría, Socio, Ninguno" in msg
    assert "row 3, column 'Nivel meta': '0' is not a level of the scale" in msg
    assert "row 4, column 'Inicio (AAAA-MM)': 'marzo' is not a month written YYYY-MM" in msg
    assert "row 5, column 'Código del área': 'finanzas' is not an area code" in msg
    assert "row 6, column 'Acción': the action is blank" in msg


def test_a_file_that_is_not_a_plan_is_refused(tmp_path):
    bad = tmp_path / "notes.xlsx"
    bad.write_text("not a workbook")
    with pytest.raises(DataFileError, match="cannot be read as an Excel workbook"):
        read_plan(bad)
    with pytest.raises(DataFileError, match="no plan file"):
        read_plan(tmp_path / "missing.xlsx")


def test_fixed_columns_are_grey_and_editable_columns_have_lists(scores, tmp_path):
    path = write_plan(draft_plan(scores, "pry", "baseline", language="en"), tmp_path / "plan.xlsx")
    wb = load_workbook(path)
    ws = wb["actions"]
    assert [c.value for c in ws[1]] == [c for c in (
        "No.", "Area code", "Area", "Statement code", "Statement", "Current level", "Target level", "Action", "Owner",
        "Technical assistance needed", "Provided by", "Start (YYYY-MM)", "End (YYYY-MM)", "Indicator of progress",
        "Status", "Notes")]
    grey = {PLAN_COLUMNS[k] for k, c in enumerate(ws[2]) if c.fill.fgColor.rgb.endswith("E4E1EC")}
    assert grey == set(FIXED_COLUMNS)
    lists = [dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert '"Node,Secretariat,Partner,None"' in lists and '"Planned,In progress,Done,Dropped"' in lists


def test_tracking_compares_each_action_with_the_next_round():
    rows = [response(governance_1=1, governance_2=2, governance_3=2, communications_1=3),
            response(rnd="followup_1", governance_1=3, governance_2=2, governance_3=1, communications_1=4)]
    s = score(pd.DataFrame(rows))
    plan = draft_plan(s, "pry", "baseline")
    tracked = track_plan(plan, s).set_index("item")
    assert tracked.attrs["round"] == "followup_1"
    assert tracked.loc["governance_1", ["level", "target_level", "level_now", "result"]].tolist() == [1, 2, 3.0, "achieved"]
    assert tracked.loc["governance_2", "result"] == "unchanged"
    assert tracked.loc["governance_3", "result"] == "worse"
    assert tracked.loc["communications_1", "result"] == "achieved"
    only_baseline = score(pd.DataFrame(rows[:1]))
    assert set(track_plan(plan, only_baseline)["result"]) == {"not_assessed"}


def test_synthetic_plans_are_edited_and_read_back(tmp_path):
    folder = generate_capacity(tmp_path, seed=8)
    plans = sorted((folder / "plans").glob("*.xlsx"))
    assert len(plans) == 21
    plan = read_plan(folder / "plans" / "plan_pry_baseline.xlsx")
    assert set(plan.actions["status"]) <= {"planned", "in_progress", "done", "dropped"}
    assert (plan.actions["owner"] != "").all()
    tracked = track_plan(plan, score(folder))
    assert set(tracked["result"]) <= {"achieved", "improved", "unchanged", "worse"}


def test_docstring_examples_run():
    result = doctest.testmod(importlib.import_module("research_kit.capacity.plan"), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
