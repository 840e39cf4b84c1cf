"""Scores per area, organisation and round; summaries; change; bad input named by row and rule."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research_kit.capacity import load_framework, organisations, read_responses, score
from research_kit.errors import DataFileError, ParameterError
from research_kit.synth.capacity import generate_capacity

FW = load_framework()
ITEMS = [i.code for i in FW.items]


def response(org: str, rnd: str = "baseline", level: int = 2, priority: str = "medium", anonymous: str = "no", **levels):
    row = {"organisation": org, "round": rnd, "assessment_date": "2025-03-10", "anonymous_regional": anonymous}
    row.update({i: str(level) for i in ITEMS})
    row.update({a.priority_field: priority for a in FW.areas})
    row.update({k: str(v) for k, v in levels.items()})
    return row


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return generate_capacity(tmp_path_factory.mktemp("capacity"), seed=11)


def test_scores_equal_a_hand_computation_on_a_small_case():
    rows = [
        response("pry", governance_1=4, governance_2=3, governance_3=1, governance_4=1, governance_priority="high"),
        response("pry", "followup_1", level=3, governance_1=4, governance_2=4, governance_3=2, governance_4=1),
        response("ury", level=1, communications_1=4, communications_2=4),
    ]
    s = score(pd.DataFrame(rows))
    a = s.areas.set_index(["organisation", "round", "area"])
    # pry, baseline, governance: (4 + 3 + 1 + 1) / 4 = 2.25; one at 4, three below 4, two at 1.
    assert a.loc[("pry", "baseline", "governance"), ["score", "n_items", "fully", "gaps", "absent"]].tolist() == [2.25, 4, 1, 3, 2]
    assert a.loc[("pry", "baseline", "governance"), "priority"] == "high"
    assert a.loc[("pry", "followup_1", "governance"), "score"] == (4 + 4 + 2 + 1) / 4
    assert a.loc[("pry", "baseline", "advocacy"), "score"] == 2.0
    assert a.loc[("ury", "baseline", "communications"), "score"] == (4 + 4 + 1 + 1) / 4
    # The statements behind each score are kept.
    items = s.items.set_index(["organisation", "round", "item"])["level"]
    assert items.loc[("pry", "baseline", "governance_3")] == 1
    assert len(s.items) == 3 * len(ITEMS) and len(s.areas) == 3 * len(FW.areas)
    # Change: governance 2.25 -> 2.75, two statements up (governance_2, governance_3), none down.
    ch = s.change(organisation="pry").set_index("area")
    assert ch.loc["governance", ["score_from", "score_to", "change", "improved", "worsened"]].tolist() == [2.25, 2.75, 0.5, 2, 0]
    assert ch.loc["advocacy", "change"] == 1.0


def test_node_and_regional_summaries_are_median_and_range_not_means():
    rows = [response("arg", level=1), response("chl", level=2), response("pry", level=4), response("ury", level=4),
            response("bol", level=3), response("node_southern_cone", level=1)]
    s = score(pd.DataFrame(rows))
    sc = s.summary(by="node").query("group == 'southern_cone' and area == 'governance'").iloc[0]
    assert (sc["n"], sc["median"], sc["min"], sc["max"]) == (4, 3.0, 1.0, 4.0)  # the node itself is not mixed in
    assert set(s.summary(by="node").columns) == {"group", "round", "area", "n", "median", "min", "max"}
    region = s.summary(by="region").query("area == 'advocacy'").iloc[0]
    assert (region["n"], region["median"]) == (5, 3.0)
    with pytest.raises(ParameterError, match="by must be one of node, region"):
        s.summary(by="country")


def test_anonymous_organisations_are_left_out_of_every_regional_view():
    rows = [response("arg", level=1), response("chl", level=2, anonymous="yes"), response("pry", level=4),
            response("chl", "followup_1", level=3)]  # asked once: anonymous in every round
    s = score(pd.DataFrame(rows))
    assert s.anonymous == frozenset({"chl"})
    view = s.regional()
    assert "chl" not in set(view.areas["organisation"]) | set(view.items["organisation"]) | set(view.responses["organisation"])
    assert s.summary(by="node").query("area == 'governance' and round == 'baseline'")["n"].tolist() == [2]
    assert "chl" not in set(s.change()["organisation"])
    assert "chl" not in s.matrix("baseline").index
    # Its own report still sees it.
    assert len(s.organisation("chl").areas) == 2 * len(FW.areas)


def test_score_outside_the_scale_is_named_with_its_row_and_rule():
    with pytest.raises(DataFileError) as err:
        score(pd.DataFrame([response("pry"), response("ury", governance_2=5)]))
    msg = str(err.value)
    assert "row 2 (organisation ury, round baseline): statement governance_2 has the level '5'" in msg
    assert "outside the maturity scale 1–4" in msg and "rule:" in msg


def test_organisation_not_in_the_list_is_named_with_its_row_and_rule():
    with pytest.raises(DataFileError, match=r"row 1 \(organisation brazil, round baseline\): the organisation 'brazil' "
                                            r"is not in the list of organisations \(rule: choices of the list 'organisation'"):
        score(pd.DataFrame([response("brazil")]))


def test_two_responses_from_one_organisation_in_one_round_are_named():
    with pytest.raises(DataFileError, match=r"row 1 and row 3: 2 responses from organisation pry in round baseline "
                                            r"\(rule: one response per organisation per round\)"):
        score(pd.DataFrame([response("pry"), response("ury"), response("pry", level=3)]))


def test_every_problem_is_listed_at_once_with_the_file_row(synthetic):
    path = synthetic / "capacity_assessment.csv"
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    header = lines[0].split(";")
    col = header.index('"advocacy/advocacy_3"')
    cells = lines[3].split(";")
    cells[col] = '"9"'
    lines[3] = ";".join(cells)
    org = header.index('"identification/organisation"')
    cells = lines[5].split(";")
    cells[org] = '"bra"'
    lines[5] = ";".join(cells)
    bad = synthetic.parent / "bad.csv"
    bad.write_bytes("\r\n".join(lines).encode("utf-8"))
    with pytest.raises(DataFileError) as err:
        read_responses(bad)
    msg = str(err.value)
    assert "2 problems" in msg
    assert "bad.csv row 4 (organisation" in msg and "advocacy_3 has the level '9'" in msg
    assert "bad.csv row 6 (organisation bra" in msg


def test_missing_columns_and_blank_levels_say_what_to_do():
    with pytest.raises(DataFileError, match="lack the columns governance_1"):
        score(pd.DataFrame([response("pry")]).drop(columns=["governance_1"]))
    with pytest.raises(DataFileError, match="statement networking_1 has no level .rule: required"):
        score(pd.DataFrame([response("pry", networking_1="")]))
    with pytest.raises(DataFileError, match="governance_priority is 'urgent', not one of high, medium, low"):
        score(pd.DataFrame([response("pry", governance_priority="urgent")]))


def test_synthetic_data_have_21_organisations_in_two_rounds(synthetic):
    s = score(synthetic)
    assert s.rounds == ("baseline", "followup_1")
    counts = s.responses.groupby("round")["organisation"].nunique()
    assert counts.tolist() == [21, 21]
    assert s.organisations == tuple(o.code for o in organisations())
    assert len(s.anonymous) == 2
    # Follow-ups improve on average, as the model says.
    means = s.areas.groupby("round")["score"].median()
    assert means["followup_1"] > means["baseline"]


def test_rounds_must_be_in_order_and_present():
    s = score(pd.DataFrame([response("pry"), response("pry", "followup_1")]))
    with pytest.raises(ParameterError, match="must come before"):
        s.change("followup_1", "baseline")
    with pytest.raises(ParameterError, match="Round 'followup_3' is not in the data"):
        s.summary(round="followup_3")


levels_st = st.lists(st.integers(1, 4), min_size=len(ITEMS), max_size=len(ITEMS))


@settings(max_examples=40, deadline=None)
@given(st.lists(levels_st, min_size=1, max_size=6))
def test_an_area_score_is_the_mean_of_its_statements_within_the_scale(levels_per_org):
    codes = [o.code for o in organisations()][:len(levels_per_org)]
    rows = [response(code, **dict(zip(ITEMS, levels))) for code, levels in zip(codes, levels_per_org)]
    s = score(pd.DataFrame(rows))
    for code, levels in zip(codes, levels_per_org):
        by_item = dict(zip(ITEMS, levels))
        part = s.areas[s.areas["organisation"] == code].set_index("area")
        for area in FW.areas:
            values = [by_item[i.code] for i in area.items]
            assert part.loc[area.code, "score"] == pytest.approx(np.mean(values))
            assert 1 <= part.loc[area.code, "score"] <= 4
            assert part.loc[area.code, "fully"] + part.loc[area.code, "gaps"] == len(values)
    summary = s.summary(by="region")
    assert ((summary["min"] <= summary["median"]) & (summary["median"] <= summary["max"])).all()


@settings(max_examples=25, deadline=None)
@given(st.lists(levels_st, min_size=2, max_size=5), st.randoms(use_true_random=False))
def test_scores_do_not_depend_on_the_order_of_the_rows(levels_per_org, rnd):
    codes = [o.code for o in organisations()][:len(levels_per_org)]
    rows = [response(code, **dict(zip(ITEMS, levels))) for code, levels in zip(codes, levels_per_org)]
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    a, b = score(pd.DataFrame(rows)), score(pd.DataFrame(shuffled))
    pd.testing.assert_frame_equal(a.areas, b.areas)
    pd.testing.assert_frame_equal(a.items, b.items)


@pytest.mark.parametrize("module", ["research_kit.capacity.scoring", "research_kit.capacity.responses"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
