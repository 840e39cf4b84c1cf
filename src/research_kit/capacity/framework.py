"""The assessment framework — areas, statements, maturity scale, rounds — read from the XLSForm.

The form ``surveys/capacity_assessment.xlsx`` is the single source: every group that holds
questions answered on the ``maturity`` list is an **area** (its label is the area's name); its
``maturity`` questions are the area's **items** (the statement is the question's label); the
area's ``<area>_priority`` and ``<area>_evidence`` questions hold the organisation's own priority
and the evidence behind its answers. The scale's levels are the ``maturity`` choice names
(whole numbers, consecutive), each labelled ``"N · name — description"``. An organisation that
adds a statement to an area in the form gets it scored, planned and reported with no code change.

Examples
--------
>>> fw = load_framework()
>>> len(fw.areas), sum(len(a.items) for a in fw.areas)
(11, 44)
>>> fw.areas[0].name("en"), fw.levels
('Administrative and financial systems', (1, 2, 3, 4))
>>> fw.level_name(4, "es"), fw.round_name("followup_1", "pt")
('Plenamente', 'Acompanhamento 1')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping

from research_kit.errors import FormError
from research_kit.forms import Form, load_form

__all__ = ["Item", "Area", "Framework", "load_framework", "FORM_NAME", "SCALE_LIST", "PRIORITIES"]

#: The bundled assessment form.
FORM_NAME = "capacity_assessment"
#: The choice list of the maturity scale.
SCALE_LIST = "maturity"
#: The organisation's priority for an area, highest first (codes of the form's ``priority`` list).
PRIORITIES: tuple[str, ...] = ("high", "medium", "low")


@dataclass(frozen=True)
class Item:
    """One statement of an area, scored on the maturity scale."""

    code: str
    area: str
    number: int
    labels: Mapping[str, str] = field(default_factory=dict)

    def statement(self, language: str = "es") -> str:
        return self.labels.get(language) or next(iter(self.labels.values()), self.code)


@dataclass(frozen=True)
class Area:
    """One capacity area: its statements, and the fields holding priority and evidence."""

    code: str
    labels: Mapping[str, str]
    items: tuple[Item, ...]
    priority_field: str
    evidence_field: str | None = None

    def name(self, language: str = "es") -> str:
        return self.labels.get(language) or next(iter(self.labels.values()), self.code)


@dataclass(frozen=True)
class Framework:
    """Areas, items, scale, priorities and rounds of an assessment form."""

    form: Form
    areas: tuple[Area, ...]
    levels: tuple[int, ...]
    rounds: tuple[str, ...]
    priorities: tuple[str, ...] = PRIORITIES

    @property
    def min_level(self) -> int:
        return self.levels[0]

    @property
    def max_level(self) -> int:
        return self.levels[-1]

    @cached_property
    def _areas(self) -> dict[str, Area]:
        return {a.code: a for a in self.areas}

    @cached_property
    def _items(self) -> dict[str, Item]:
        return {i.code: i for a in self.areas for i in a.items}

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(self._items.values())

    def area(self, code: str) -> Area:
        try:
            return self._areas[code]
        except KeyError:
            raise FormError(f"{code!r} is not an area of the form {self.form.form_id!r}. "
                            f"Areas: {', '.join(self._areas)}.") from None

    def item(self, code: str) -> Item:
        try:
            return self._items[code]
        except KeyError:
            raise FormError(f"{code!r} is not a statement of the form {self.form.form_id!r} "
                            f"(statements are named <area>_<number>, e.g. {self.items[0].code}).") from None

    def _level_label(self, level: int, language: str) -> str:
        return self.form.choice_label(self.areas[0].items[0].code, str(int(level)), language)

    def level_name(self, level: int, language: str = "es") -> str:
        """Short name of a level (``'Fully in place'``), from its choice label ``"N · name — description"``."""
        label = self._level_label(level, language)
        head = label.split(" — ")[0]
        return head.split(" · ", 1)[-1].strip()

    def level_description(self, level: int, language: str = "es") -> str:
        """What a level means, from its choice label."""
        label = self._level_label(level, language)
        return label.split(" — ", 1)[1].strip() if " — " in label else label

    def round_name(self, code: str, language: str = "es") -> str:
        return self.form.choice_label("round", code, language)

    def priority_name(self, code: str, language: str = "es") -> str:
        return self.form.choice_label(self.areas[0].priority_field, code, language)

    def round_order(self, code: str) -> int:
        return self.rounds.index(code)


def _framework(form: Form) -> Framework:
    areas = []
    for group in form.groups:
        items = [f for f in form.data_fields() if f.groups and f.groups[-1] == group.name and f.list_name == SCALE_LIST]
        if not items:
            continue
        priority = f"{group.name}_priority"
        if priority not in form:
            raise FormError(f"The area {group.name!r} of {form.form_id!r} has no question {priority!r} "
                            "(the organisation's priority for the area). Add it to the group.")
        evidence = f"{group.name}_evidence"
        area_items = []
        for k, f in enumerate(items, start=1):
            if f.type != "select_one":
                raise FormError(f"{f.name!r} uses the {SCALE_LIST!r} list but is a {f.type}; a statement is a select_one.")
            area_items.append(Item(code=f.name, area=group.name, number=k, labels=dict(f.labels)))
        areas.append(Area(code=group.name, labels=dict(group.labels), items=tuple(area_items),
                          priority_field=priority, evidence_field=evidence if evidence in form else None))
    if not areas:
        raise FormError(f"The form {form.form_id!r} has no questions on the {SCALE_LIST!r} list: it is not a capacity "
                        "assessment form.")
    try:
        levels = tuple(sorted(int(c.name) for c in form.choice_list(SCALE_LIST)))
    except ValueError:
        raise FormError(f"The {SCALE_LIST!r} choices of {form.form_id!r} must be whole numbers (1, 2, 3, 4).") from None
    if levels != tuple(range(levels[0], levels[0] + len(levels))) or len(levels) < 2:
        raise FormError(f"The {SCALE_LIST!r} levels of {form.form_id!r} must be consecutive whole numbers, not {levels}.")
    if "round" not in form or "organisation" not in form:
        raise FormError(f"The form {form.form_id!r} needs the questions 'organisation' and 'round'.")
    rounds = form.choice_names("round")
    return Framework(form=form, areas=tuple(areas), levels=levels, rounds=rounds)


def load_framework(form: str | Form = FORM_NAME) -> Framework:
    """The framework of an assessment form (the bundled one by default).

    Raises
    ------
    FormError
        If the form has no scored statements, an area has no priority question, or the scale
        is not made of consecutive whole numbers.
    """
    form = load_form(form)
    return _framework(form)
