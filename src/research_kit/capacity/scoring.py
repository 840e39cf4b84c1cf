"""Scores per area, organisation and round; node and regional summaries; change between rounds.

The score of an area is the **mean of the levels of its statements** (1–4), as the USAID/JSI
Organizational Capacity Assessment scores a domain; it always travels with the statements behind
it (:attr:`Scores.items`), and with counts that need no averaging: statements fully in place,
not yet fully in place (the plan's gaps) and not in place at all.

Across organisations, levels are ordinal, so summaries are the **median and the range**
(minimum–maximum) of the organisations' area scores, with the number of organisations — never a
mean alone. Comparisons are of organisations, not of respondents, so no disclosure suppression
applies to them; but an organisation that asked not to be named in node or regional outputs
(the ``anonymous`` flag of ``organisations.csv``, or ``anonymous_regional = yes`` in any of its
responses) is left out of every regional view: :meth:`Scores.regional` drops it, and
:meth:`Scores.summary` and :meth:`Scores.change` without an organisation use that view only. Its
results are not pseudonymised instead: the membership of each node is public, so a pseudonymous
row would be named by elimination, and a median or range that includes it, beside the named
organisations, would give its score back.

Examples
--------
>>> import pandas as pd
>>> fw = load_framework()
>>> row = {"organisation": "pry", "round": "baseline", "anonymous_regional": "no"}
>>> row.update({i.code: "2" for i in fw.items}); row.update({a.priority_field: "medium" for a in fw.areas})
>>> row.update({"governance_1": "4", "governance_2": "3", "governance_3": "1", "governance_4": "1"})
>>> s = score(pd.DataFrame([row]))
>>> gov = s.areas.set_index("area").loc["governance"]
>>> float(gov["score"]), int(gov["fully"]), int(gov["gaps"]), int(gov["absent"])
(2.25, 1, 3, 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from research_kit.capacity.framework import Framework, load_framework
from research_kit.capacity.organisations import get_organisation, members, organisations
from research_kit.capacity.responses import check_responses, read_responses
from research_kit.countries import NODES
from research_kit.errors import ParameterError

__all__ = ["Scores", "score", "GROUPINGS"]

#: How :meth:`Scores.summary` can group organisations.
GROUPINGS = ("node", "region")


def _yes(values: pd.Series) -> pd.Series:
    return values.astype(str).str.strip().str.lower().isin(("yes", "1", "true"))


@dataclass(frozen=True)
class Scores:
    """Capacity scores of organisations across rounds.

    Attributes
    ----------
    items : DataFrame
        One row per organisation, round and statement: ``organisation, round, area, item, level``.
    areas : DataFrame
        One row per organisation, round and area: ``organisation, kind, node, round, area, score``
        (mean of the statements' levels), ``n_items``, ``fully`` (statements at the top level),
        ``gaps`` (statements below it), ``absent`` (statements at the lowest level), ``priority``,
        ``evidence``.
    responses : DataFrame
        One row per organisation and round: ``organisation, round, assessment_date, facilitator,
        participants, anonymous_regional``.
    framework : Framework
    anonymous : frozenset of str
        Codes of the organisations that asked not to be named in regional outputs.
    regional_view : bool
        True when anonymous organisations have been dropped (:meth:`regional`).
    """

    items: pd.DataFrame
    areas: pd.DataFrame
    responses: pd.DataFrame
    framework: Framework
    anonymous: frozenset = field(default_factory=frozenset)
    regional_view: bool = False

    # ---- what is in the data --------------------------------------------------------------
    @property
    def rounds(self) -> tuple[str, ...]:
        """Rounds present in the data, in the form's order."""
        present = set(self.responses["round"])
        return tuple(r for r in self.framework.rounds if r in present)

    @property
    def organisations(self) -> tuple[str, ...]:
        """Codes of the organisations present, in list order."""
        present = set(self.responses["organisation"])
        return tuple(o.code for o in organisations() if o.code in present)

    def rounds_of(self, organisation: str) -> tuple[str, ...]:
        """Rounds in which ``organisation`` answered, in order."""
        code = get_organisation(organisation).code
        present = set(self.responses.loc[self.responses["organisation"] == code, "round"])
        return tuple(r for r in self.framework.rounds if r in present)

    def _round(self, round: str | None, organisation: str | None = None) -> str:
        rounds = self.rounds_of(organisation) if organisation else self.rounds
        if not rounds:
            who = f" for {organisation}" if organisation else ""
            raise ParameterError(f"There are no capacity responses{who}.")
        if round is None:
            return rounds[-1]
        if round not in rounds:
            raise ParameterError(f"Round {round!r} is not in the data{' of ' + organisation if organisation else ''}. "
                                 f"Rounds present: {', '.join(rounds)}.")
        return round

    # ---- views ----------------------------------------------------------------------------
    def regional(self) -> "Scores":
        """The scores without the organisations that asked not to be named in regional outputs.

        Every node and regional output is made from this view.
        """
        if self.regional_view:
            return self
        keep = lambda df: df[~df["organisation"].isin(self.anonymous)].reset_index(drop=True)  # noqa: E731
        return replace(self, items=keep(self.items), areas=keep(self.areas), responses=keep(self.responses),
                       regional_view=True)

    def organisation(self, organisation: str) -> "Scores":
        """The scores of one organisation (its own report may name it, whatever its flag)."""
        code = get_organisation(organisation).code
        pick = lambda df: df[df["organisation"] == code].reset_index(drop=True)  # noqa: E731
        return replace(self, items=pick(self.items), areas=pick(self.areas), responses=pick(self.responses))

    def area_scores(self, organisation: str) -> pd.DataFrame:
        """One organisation's area scores, one row per area (form order), one column per round it answered."""
        code = get_organisation(organisation).code
        rounds = self.rounds_of(code)
        part = self.areas[self.areas["organisation"] == code]
        wide = part.pivot(index="area", columns="round", values="score")
        order = [a.code for a in self.framework.areas]
        return wide.reindex(index=order, columns=list(rounds))

    def item_levels(self, organisation: str) -> pd.DataFrame:
        """One organisation's statement levels: rows ``(area, item)`` in form order, one column per round."""
        code = get_organisation(organisation).code
        part = self.items[self.items["organisation"] == code]
        wide = part.pivot(index="item", columns="round", values="level")
        order = [i.code for i in self.framework.items]
        wide = wide.reindex(index=order, columns=list(self.rounds_of(code)))
        wide.insert(0, "area", [self.framework.item(i).area for i in wide.index])
        return wide

    def matrix(self, round: str | None = None, organisations_: list[str] | None = None) -> pd.DataFrame:
        """Area scores of many organisations in one round: organisations × areas (regional view only)."""
        view = self.regional()
        rnd = view._round(round)
        part = view.areas[view.areas["round"] == rnd]
        wide = part.pivot(index="organisation", columns="area", values="score")
        order = [o for o in (organisations_ or view.organisations) if o in wide.index]
        return wide.reindex(index=order, columns=[a.code for a in self.framework.areas])

    # ---- summaries ------------------------------------------------------------------------
    def summary(self, by: str = "node", *, round: str | None = None, kinds: tuple[str, ...] = ("national",)) -> pd.DataFrame:
        """Median and range of the area scores across organisations, per group, round and area.

        Parameters
        ----------
        by : {'node', 'region'}
            One summary per sub-regional node, or one for the whole region.
        round : str, optional
            One round (default: every round in the data).
        kinds : tuple of str
            Kinds of organisation summarised (default national organisations only: nodes and the
            Secretariat are shown on their own rows, not mixed with the organisations they support).

        Returns
        -------
        DataFrame
            ``group, round, area, n, median, min, max``; anonymous organisations are never included.
        """
        if by not in GROUPINGS:
            raise ParameterError(f"by must be one of {', '.join(GROUPINGS)}, not {by!r}.")
        view = self.regional()
        data = view.areas[view.areas["kind"].isin(kinds)]
        if round is not None:
            data = data[data["round"] == view._round(round)]
        data = data.assign(group=data["node"] if by == "node" else "region")
        g = data.groupby(["group", "round", "area"], sort=False)["score"]
        out = g.agg(n="count", median="median", min="min", max="max").reset_index()
        groups = list(NODES) if by == "node" else ["region"]
        out["_g"] = out["group"].map({k: i for i, k in enumerate(groups)})
        out["_r"] = out["round"].map(self.framework.round_order)
        out["_a"] = out["area"].map({a.code: i for i, a in enumerate(self.framework.areas)})
        return out.sort_values(["_g", "_r", "_a"]).drop(columns=["_g", "_r", "_a"]).reset_index(drop=True)

    def change(self, from_round: str | None = None, to_round: str | None = None, *,
               organisation: str | None = None) -> pd.DataFrame:
        """Change in area scores between two rounds, per organisation and area.

        Parameters
        ----------
        from_round, to_round : str, optional
            Default: the first and the last round in the data.
        organisation : str, optional
            One organisation (its own report). Without it, every organisation of the regional view.

        Returns
        -------
        DataFrame
            ``organisation, area, score_from, score_to, change, improved, worsened`` (statements whose
            level went up or down); organisations without both rounds are left out.
        """
        view = self.organisation(organisation) if organisation else self.regional()
        rounds = view.rounds
        if len(rounds) < 2 and from_round is None and to_round is None:
            return pd.DataFrame(columns=["organisation", "area", "score_from", "score_to", "change", "improved", "worsened"])
        a = view._round(from_round) if from_round else rounds[0]
        b = view._round(to_round) if to_round else rounds[-1]
        if self.framework.round_order(a) >= self.framework.round_order(b):
            raise ParameterError(f"from_round ({a}) must come before to_round ({b}).")
        keys = ["organisation", "area"]
        s_a = view.areas[view.areas["round"] == a].set_index(keys)["score"]
        s_b = view.areas[view.areas["round"] == b].set_index(keys)["score"]
        i_a = view.items[view.items["round"] == a].set_index(["organisation", "item"])["level"]
        i_b = view.items[view.items["round"] == b].set_index(["organisation", "item"])["level"]
        diff = (i_b - i_a).dropna().reset_index()
        diff["area"] = diff["item"].map(lambda c: self.framework.item(c).area)
        moves = diff.groupby(keys).agg(improved=("level", lambda d: int((d > 0).sum())),
                                       worsened=("level", lambda d: int((d < 0).sum())))
        out = pd.concat({"score_from": s_a, "score_to": s_b}, axis=1).dropna()
        out["change"] = out["score_to"] - out["score_from"]
        out = out.join(moves).reset_index()
        order = {o.code: i for i, o in enumerate(organisations())}
        area_order = {ar.code: i for i, ar in enumerate(self.framework.areas)}
        out = out.sort_values(["organisation", "area"], key=lambda s: s.map(order if s.name == "organisation" else area_order))
        out.attrs.update({"from_round": a, "to_round": b})
        return out.reset_index(drop=True)[["organisation", "area", "score_from", "score_to", "change", "improved", "worsened"]]

    def node_members(self, node: str) -> list[str]:
        """Codes of the node's national organisations present in the regional view, then the node itself."""
        view = self.regional()
        codes = [o.code for o in members(node)] + [f"node_{node}"]
        return [c for c in codes if c in view.organisations]


def score(responses, *, framework: Framework | None = None) -> Scores:
    """Score capacity-assessment responses: per area, organisation and round, with the statements behind it.

    Parameters
    ----------
    responses : DataFrame, str or Path
        Responses as :func:`~research_kit.capacity.read_responses` returns them (checked again
        here), or the path of the export or of its folder.
    framework : Framework, optional
        Default: the bundled form's.

    Returns
    -------
    Scores

    Raises
    ------
    DataFileError
        If a score is outside the scale, an organisation is not in the list, an organisation
        answered twice in one round… (each problem named with its row and rule).
    """
    fw = framework or load_framework()
    if isinstance(responses, (str, Path)):
        frame = read_responses(responses, fw)
    else:
        frame = check_responses(responses, fw)
    item_codes = [i.code for i in fw.items]
    long = frame.melt(id_vars=["organisation", "round"], value_vars=item_codes, var_name="item", value_name="level")
    item_area = {i.code: i.area for i in fw.items}
    long["area"] = long["item"].map(item_area)
    long["level"] = long["level"].astype(int)
    org_order = {o.code: k for k, o in enumerate(organisations())}
    item_order = {c: k for k, c in enumerate(item_codes)}
    long = long.sort_values(["organisation", "round", "item"], key=lambda s: s.map(
        org_order if s.name == "organisation" else fw.round_order if s.name == "round" else item_order))
    items = long[["organisation", "round", "area", "item", "level"]].reset_index(drop=True)

    top, bottom = fw.max_level, fw.min_level
    g = items.groupby(["organisation", "round", "area"], sort=False)["level"]
    areas = g.agg(score="mean", n_items="count",
                  fully=lambda v: int((v == top).sum()), gaps=lambda v: int((v < top).sum()),
                  absent=lambda v: int((v == bottom).sum())).reset_index()
    pri = frame.melt(id_vars=["organisation", "round"], value_vars=[a.priority_field for a in fw.areas],
                     var_name="field", value_name="priority")
    pri["area"] = pri["field"].str.removesuffix("_priority")
    areas = areas.merge(pri[["organisation", "round", "area", "priority"]], on=["organisation", "round", "area"], how="left")
    ev_fields = [a.evidence_field for a in fw.areas if a.evidence_field and a.evidence_field in frame.columns]
    if ev_fields:
        ev = frame.melt(id_vars=["organisation", "round"], value_vars=ev_fields, var_name="field", value_name="evidence")
        ev["area"] = ev["field"].str.removesuffix("_evidence")
        areas = areas.merge(ev[["organisation", "round", "area", "evidence"]], on=["organisation", "round", "area"], how="left")
        areas["evidence"] = areas["evidence"].fillna("").astype(str)
    else:
        areas["evidence"] = ""
    kinds = {o.code: o.kind for o in organisations()}
    nodes = {o.code: o.node for o in organisations()}
    areas.insert(1, "kind", areas["organisation"].map(kinds))
    areas.insert(2, "node", areas["organisation"].map(nodes))
    area_order = {a.code: k for k, a in enumerate(fw.areas)}
    areas = areas.sort_values(["organisation", "round", "area"], key=lambda s: s.map(
        org_order if s.name == "organisation" else fw.round_order if s.name == "round" else area_order)).reset_index(drop=True)
    areas["score"] = areas["score"].astype(float)

    cols = ["organisation", "round", *[c for c in ("assessment_date", "facilitator", "participants",
                                                   "anonymous_regional") if c in frame.columns]]
    responses_ = frame[cols].copy()
    asked = set(responses_.loc[_yes(responses_["anonymous_regional"]), "organisation"]) if "anonymous_regional" in responses_ else set()
    registry = {o.code for o in organisations() if o.anonymous}
    responses_["_o"] = responses_["organisation"].map(org_order)
    responses_["_r"] = responses_["round"].map(fw.round_order)
    responses_ = responses_.sort_values(["_o", "_r"]).drop(columns=["_o", "_r"]).reset_index(drop=True)
    return Scores(items=items, areas=areas, responses=responses_, framework=fw,
                  anonymous=frozenset(asked | registry))


def level_counts(levels: pd.Series, framework: Framework) -> dict[int, int]:
    """How many statements at each level (for tables that need no averaging)."""
    counts = levels.value_counts()
    return {lv: int(counts.get(lv, 0)) for lv in framework.levels}


def need(score_: float | np.ndarray, framework: Framework) -> float | np.ndarray:
    """Distance from the top of the scale: 0 when every statement is fully in place."""
    return framework.max_level - score_
