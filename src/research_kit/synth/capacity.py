"""Synthetic capacity assessments, ODTA plans and programme coverage data, with known truth.

For the 21 organisations of the network (17 national organisations, 3 nodes, the Secretariat)
:func:`generate_capacity` writes, in ``<out>/capacity/``:

``capacity_assessment.csv``
    one response per organisation per round, exactly as KoboToolbox exports the form
    ``surveys/capacity_assessment.xlsx``;
``plans/plan_<organisation>_<round>.xlsx``
    each organisation's plan after the first round, drafted by :func:`research_kit.capacity.draft_plan`
    and then edited as an organisation would (owners named by role, some actions dropped, some
    under way or done) — the following round's scores rise more on planned statements;
``coverage_monitoring.csv``
    routine programme data per site and month for the national organisations (form
    ``surveys/coverage_monitoring.xlsx``), including a few small sites whose counts fall under
    the publication threshold;
``truth.json``
    the seed, the rounds, which organisations asked not to be named in regional outputs, and the
    true coverage of every site and month.

Every field the model does not set is drawn by the generic generator
(:func:`research_kit.synth.generic.generate_answers`) from the form's own rules, and the export
shape comes from :mod:`research_kit.synth.kobo`, as for every other form. The same seed gives the
same files.

Levels follow an ordinal model: a latent capacity (organisation + area + organisation×area
− statement difficulty + noise) cut into the levels 1–4; each organisation gives its weakest
areas high priority (mostly); follow-ups add a general gain and a further gain on the statements
its plan kept.

Examples
--------
>>> import tempfile
>>> folder = generate_capacity(tempfile.mkdtemp(), seed=3)
>>> sorted(p.name for p in folder.iterdir())
['capacity_assessment.csv', 'coverage_monitoring.csv', 'plans', 'truth.json']
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from research_kit.forms import load_form
from research_kit.synth.kobo import make_meta, to_kobo_frame, write_kobo_csv

__all__ = ["generate_capacity", "capacity_answers", "coverage_answers", "DEFAULT_SEED", "ROUND_STARTS", "COVERAGE_MONTHS"]

DEFAULT_SEED = 2026
#: When each round's assessments start (the generic generator's reference date is 2025-06-30).
ROUND_STARTS = {"baseline": "2024-03-04", "followup_1": "2025-03-03", "followup_2": "2026-03-02",
                "followup_3": "2027-03-01", "followup_4": "2028-03-06"}
#: Months of coverage data: July 2023 to June 2025.
COVERAGE_MONTHS = tuple(p.strftime("%Y-%m") for p in pd.period_range("2023-07", "2025-06", freq="M"))
_ROLES = ("Coordinación general", "Tesorería", "Equipo de comunicación", "Comisión directiva", "Equipo de proyectos",
          "Responsable de monitoreo")


def _rng(seed: int, *parts) -> np.random.Generator:
    key = int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")
    return np.random.default_rng([seed, key])


def _version(form) -> str:
    return "v" + hashlib.sha256(f"{form.form_id}{form.version}".encode()).hexdigest()[:22]


def _latent(seed: int):
    """The organisations' latent capacities: organisation, area, organisation × area, statement difficulty."""
    from research_kit.capacity import load_framework, organisations

    fw = load_framework()
    rng = _rng(seed, "capacity-latent")
    orgs = organisations()
    boost = {"national": 0.0, "node": 0.45, "secretariat": 0.75}
    theta = {o.code: rng.normal(0, 0.7) + boost[o.kind] for o in orgs}
    alpha = {a.code: rng.normal(0, 0.45) for a in fw.areas}
    delta = {(o.code, a.code): rng.normal(0, 0.45) for o in orgs for a in fw.areas}
    beta = {i.code: rng.normal(0, 0.4) for i in fw.items}
    growth = {o.code: rng.normal(0.3, 0.2) for o in orgs}
    return fw, orgs, theta, alpha, delta, beta, growth


def capacity_answers(round: str, seed: int = DEFAULT_SEED, *, planned: dict | None = None,
                     anonymous: Iterable[str] = (), step: int = 0) -> pd.DataFrame:
    """Answers of all 21 organisations in one round (one text column per field, plus ``_meta`` columns).

    Parameters
    ----------
    round : str
        A round code of the form.
    seed : int
    planned : dict, optional
        ``{organisation: set of statement codes}`` its plan kept: they gain more in this round.
    anonymous : iterable of str
        Organisations that ask not to be named in regional outputs.
    step : int
        Rounds since the baseline (0 for the baseline).
    """
    form = load_form("capacity_assessment")
    fw, orgs, theta, alpha, delta, beta, growth = _latent(seed)
    rng = _rng(seed, "capacity-round", round)
    base = _generic(form, len(orgs), seed, round)
    anonymous = set(anonymous)
    planned = planned or {}
    rows = []
    for k, o in enumerate(orgs):
        row = base.iloc[k].to_dict()
        row["organisation"], row["round"] = o.code, round
        row["anonymous_regional"] = "yes" if o.code in anonymous else "no"
        row["facilitator"] = {"national": "node", "node": "secretariat", "secretariat": "partner"}[o.kind]
        if o.kind == "national" and rng.random() < 0.2:
            row["facilitator"] = "secretariat"
        row["participants"] = str(int(rng.integers(3, 16)))
        latent_area = {}
        for a in fw.areas:
            latent_area[a.code] = theta[o.code] + alpha[a.code] + delta[(o.code, a.code)]
            levels = []
            for item in a.items:
                x = 2.3 + latent_area[a.code] - beta[item.code] + step * growth[o.code] + rng.normal(0, 0.45)
                if item.code in planned.get(o.code, ()):
                    x += 0.5
                level = int(np.clip(np.rint(x), fw.min_level, fw.max_level))
                row[item.code] = str(level)
                levels.append(level)
            mean = float(np.mean(levels))
            kinds = ["document", "records", "reports", "minutes", "agreements"]
            if mean <= 1.5 and rng.random() < 0.6:
                row[a.evidence_field] = "none"
            else:
                chosen = [e for e in kinds if rng.random() < 0.15 + 0.12 * mean]
                row[a.evidence_field] = " ".join(chosen) or kinds[int(rng.integers(len(kinds)))]
            note = f"{a.evidence_field}_note"
            if row[a.evidence_field] == "none":
                row[note] = ""
        # Priorities: the organisation's weakest areas first, with its own reasons now and then.
        order = sorted(latent_area, key=lambda c: latent_area[c] + rng.normal(0, 0.35))
        for r, code in enumerate(order):
            row[f"{code}_priority"] = "high" if r < 3 else "medium" if r < 7 else "low"
        rows.append(row)
    return pd.DataFrame(rows)


def _generic(form, n: int, seed: int, tag: str) -> pd.DataFrame:
    from research_kit.synth.generic import generate_answers

    return generate_answers(form, n, seed=int(_rng(seed, "generic", tag).integers(1 << 31)))


def _export(answers: pd.DataFrame, form, rng: np.random.Generator, start: str) -> pd.DataFrame:
    meta = make_meta(len(answers), rng, start, "-03:00", _version(form))
    answers = answers.reset_index(drop=True).copy()
    for col in ("start", "end", "today"):
        answers[col] = meta[col]
    if "assessment_date" in answers.columns:
        answers["assessment_date"] = meta["today"]
    return to_kobo_frame(answers, form, meta)


def _edit_plan(plan, rng: np.random.Generator):
    """What an organisation does to its draft: names owners by role, drops some actions, starts others."""
    actions = plan.actions.copy()
    status = rng.choice(["planned", "in_progress", "done", "dropped"], size=len(actions), p=[0.35, 0.3, 0.2, 0.15])
    actions["status"] = status
    actions["owner"] = [_ROLES[int(rng.integers(len(_ROLES)))] for _ in range(len(actions))]
    plan.actions = actions
    return plan


def coverage_answers(seed: int = DEFAULT_SEED, months: tuple[str, ...] = COVERAGE_MONTHS) -> tuple[pd.DataFrame, dict]:
    """Monthly programme data of every national organisation's sites, and the true coverage of each.

    Returns
    -------
    answers : DataFrame
        One row per site and month, one text column per field of ``coverage_monitoring``.
    truth : dict
        ``{"site|YYYY-MM": true coverage}``.
    """
    from research_kit.countries import countries

    form = load_form("coverage_monitoring")
    rng = _rng(seed, "coverage")
    sites_of: dict[str, list[str]] = {}
    for c in form.choice_list("site"):
        sites_of.setdefault(c.extra.get("country", ""), []).append(c.name)
    rows, truth = [], {}
    for country in countries():
        code = country.alpha_3.lower()
        sites = sites_of.get(code, [])[:3]
        for s, site in enumerate(sites):
            size = int(rng.lognormal(np.log(2200 if s == 0 else 500), 0.35))
            if s == len(sites) - 1 and rng.random() < 0.35:
                size = int(rng.integers(8, 25))  # a small town: its monthly counts fall under the threshold
            base = rng.uniform(0.2, 0.5)
            for t, month in enumerate(months):
                year, mm = month.split("-")
                p = float(np.clip(base + 0.15 * t / max(len(months) - 1, 1) + rng.normal(0, 0.03), 0.02, 0.95))
                pse = size if t < 12 else int(round(size * 1.05))  # the mapping was updated after a year
                reached = int(rng.binomial(pse, p))
                referred = int(rng.binomial(reached, 0.35))
                tested = int(rng.binomial(referred, 0.85))
                linked = int(rng.binomial(tested, 0.025))
                rows.append({"country": code, "site": site, "year": year, "month": mm, "reached": str(reached),
                             "condoms": str(int(rng.poisson(reached * 11))), "lubricant": str(int(rng.poisson(reached * 3))),
                             "referred": str(referred), "tested": str(tested), "linked": str(linked),
                             "population_size": str(pse)})
                truth[f"{site}|{month}"] = p
    frame = pd.DataFrame(rows)
    base = _generic(form, len(frame), seed, "coverage")
    for col in frame.columns:
        base[col] = frame[col].to_numpy()
    base["notes"] = ""
    return base, truth


def generate_capacity(out_dir: str | Path, seed: int = DEFAULT_SEED, *,
                      rounds: tuple[str, ...] = ("baseline", "followup_1"),
                      anonymous: Iterable[str] | None = None, plans: bool = True) -> Path:
    """Write synthetic capacity assessments, edited plans and coverage data into ``out_dir/capacity/``.

    Parameters
    ----------
    out_dir : str or Path
        Parent folder (as for :func:`research_kit.synth.generate`).
    seed : int
    rounds : tuple of str
        Rounds to generate, in order (the form has a baseline and up to four follow-ups).
    anonymous : iterable of str, optional
        Organisations that ask not to be named in regional outputs (default: two national
        organisations drawn with the seed, from different nodes).
    plans : bool
        Write each organisation's edited plan after every round but the last, and let the
        next round's scores respond to it.

    Returns
    -------
    Path
        The ``capacity`` folder.
    """
    from research_kit.capacity import draft_plan, organisations, score, write_plan
    from research_kit.capacity.plan import plan_file_name

    form = load_form("capacity_assessment")
    rng = _rng(seed, "capacity-export")
    if anonymous is None:
        national = [o for o in organisations() if o.kind == "national"]
        first = national[int(rng.integers(len(national)))]
        others = [o for o in national if o.node != first.node]
        anonymous = [first.code, others[int(rng.integers(len(others)))].code]
    anonymous = list(anonymous)
    folder = Path(out_dir) / "capacity"
    (folder / "plans").mkdir(parents=True, exist_ok=True)
    exports, planned = [], {}
    for step, rnd in enumerate(rounds):
        answers = capacity_answers(rnd, seed, planned=planned, anonymous=anonymous, step=step)
        export = _export(answers, form, rng, ROUND_STARTS[rnd])
        exports.append(export)
        if plans and step < len(rounds) - 1:
            scores = score(answers)
            planned = {}
            for o in organisations():
                plan = _edit_plan(draft_plan(scores, o.code, rnd, language="es"), _rng(seed, "plan", o.code, rnd))
                write_plan(plan, folder / "plans" / plan_file_name(o.code, rnd))
                kept = plan.actions[plan.actions["status"] != "dropped"]
                planned[o.code] = set(kept["item"])
    export = pd.concat(exports, ignore_index=True)
    export["_index"] = [str(i) for i in range(1, len(export) + 1)]
    write_kobo_csv(export, folder / "capacity_assessment.csv")

    cov_form = load_form("coverage_monitoring")
    cov, truth_cov = coverage_answers(seed)
    meta = make_meta(len(cov), rng, "2023-08-01", "-03:00", _version(cov_form))
    # A monthly report is filed early the next month: dates follow the reported month, not the interview clock.
    month_start = pd.to_datetime(cov["year"] + "-" + cov["month"] + "-01") + pd.offsets.MonthBegin(1)
    filed = month_start + pd.to_timedelta(rng.integers(0, 10, len(cov)), unit="D") + pd.Timedelta(hours=10)
    meta["start"] = [t.strftime("%Y-%m-%dT%H:%M:%S.000-03:00") for t in filed]
    meta["end"] = [(t + pd.Timedelta(minutes=12)).strftime("%Y-%m-%dT%H:%M:%S.000-03:00") for t in filed]
    meta["today"] = [t.strftime("%Y-%m-%d") for t in filed]
    meta["_submission_time"] = [(t + pd.Timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%S") for t in filed]
    for col in ("start", "end", "today"):
        cov[col] = meta[col]
    write_kobo_csv(to_kobo_frame(cov.reset_index(drop=True), cov_form, meta), folder / "coverage_monitoring.csv")

    truth = {"seed": seed, "rounds": list(rounds), "organisations": len(organisations()),
             "anonymous": sorted(anonymous), "coverage": truth_cov}
    (folder / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return folder
