"""Synthetic submissions for any XLSForm: valid answers drawn from the form itself.

The community survey has its own population model (:mod:`research_kit.synth.population`),
built for estimation with known truth. Other forms — the health-services assessment, the
human-rights case form, an organisation's own questionnaire — only need data that look like
a real export and keep every rule of the form, so that readers and validation can be tested
on them. :func:`generate_answers` draws such data from the form alone:

* select questions draw among their choices (respecting ``choice_filter``; ``yes`` five times as
  often as any other answer, so that screening and consent let most records go on); select_multiple
  questions draw a few options, or the exclusive ``none`` option alone;
* numbers draw within the range the ``constraint`` sets; dates within the year before a fixed
  reference date (so the data never drift into the future); text that a ``regex()``
  constraint shapes is drawn from that pattern; identifying fields get obviously fake values;
* skip logic is applied in form order with the form's own ``relevant`` expressions;
  ``constraint`` expressions that read other answers are enforced by drawing again;
  ``calculate`` fields are computed; hand-written extras (unique ids, links between rows)
  are honoured.

Everything is seeded: the same seed gives the same data.

Examples
--------
>>> from research_kit.forms import load_form
>>> form = load_form("rights_violation")
>>> cases = generate_answers(form, 5, seed=1)
>>> len(cases), bool(cases["case_code"].str.match(r"^[A-Z]{3}-20[0-9]{2}-[0-9]{3,4}$").all())
(5, True)
>>> incidents = generate_repeat(form, "incidents", cases, seed=1)
>>> set(incidents["_parent_uuid"]) <= set(cases["_uuid"])
True
"""

from __future__ import annotations

import re
import uuid as _uuid
import numpy as np
import pandas as pd

from research_kit.forms import Field, Form, load_form
from research_kit.forms.expressions import evaluate
from research_kit.forms.schema import _range, load_extras

__all__ = ["generate_answers", "generate_repeat", "regex_sample", "REFERENCE_DATE"]

#: The day synthetic fieldwork ends: fixed, so generated data are the same every day and never in the future.
REFERENCE_DATE = pd.Timestamp("2025-06-30")
_TRIES = 40


def regex_sample(pattern: str, rng: np.random.Generator, n: int) -> list[str]:
    """Draw ``n`` strings matching a simple regular expression.

    Handles what XLSForm constraints use for codes: anchors, literals, ``[A-Z]``-style classes,
    ``\\d``, and the quantifiers ``{m}``, ``{m,n}``, ``?``, ``+``, ``*``.

    Examples
    --------
    >>> import numpy as np
    >>> regex_sample("^[A-Z]{3}-V[0-9]{2,3}$", np.random.default_rng(0), 2)
    ['WQN-V30', 'BAE-V695']
    """
    tokens: list[tuple[list[str], int, int]] = []
    i, text = 0, pattern.strip("^$")
    while i < len(text):
        ch = text[i]
        if ch == "[":
            j = text.index("]", i)
            body, chars = text[i + 1:j], []
            k = 0
            while k < len(body):
                if k + 2 < len(body) and body[k + 1] == "-":
                    chars += [chr(c) for c in range(ord(body[k]), ord(body[k + 2]) + 1)]
                    k += 3
                else:
                    chars.append(body[k])
                    k += 1
            i = j + 1
        elif ch == "\\":
            nxt = text[i + 1]
            chars = list("0123456789") if nxt == "d" else [nxt]
            i += 2
        else:
            chars = [ch]
            i += 1
        low = high = 1
        if i < len(text) and text[i] == "{":
            j = text.index("}", i)
            parts = text[i + 1:j].split(",")
            low = int(parts[0])
            high = int(parts[1]) if len(parts) > 1 and parts[1] else (low if len(parts) == 1 else low + 3)
            i = j + 1
        elif i < len(text) and text[i] in "?+*":
            low, high = {"?": (0, 1), "+": (1, 4), "*": (0, 3)}[text[i]]
            i += 1
        tokens.append((chars, low, high))
    out = []
    for _ in range(n):
        s = []
        for chars, low, high in tokens:
            s += [chars[rng.integers(len(chars))] for _ in range(int(rng.integers(low, high + 1)))]
        out.append("".join(s))
    return out


def _stamp(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S")


def _fake_text(f: Field, rng: np.random.Generator, n: int) -> list[str]:
    name = f.name
    if "phone" in name or f.appearance == "numbers":
        return [f"09{rng.integers(10_000_000, 99_999_999)}" for _ in range(n)]
    if f.type == "geopoint":
        return [f"{rng.uniform(-35, 15):.5f} {rng.uniform(-90, -55):.5f} 0 5" for _ in range(n)]
    if "name" in name:
        return [f"Nombre ficticio {rng.integers(1, 999)}" for _ in range(n)]
    if name.endswith("_id"):
        return [f"ENC{rng.integers(1, 99):02d}" for _ in range(n)]
    return [f"Texto ficticio {rng.integers(1, 999)}" for _ in range(n)]


def _draw(form: Form, f: Field, frame: pd.DataFrame, rng: np.random.Generator, n: int) -> list[str] | np.ndarray:
    kind = f.type
    if kind == "select_one":
        options = form.choice_list(f.list_name)
        if f.choice_filter:
            refs = [r for r in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", f.choice_filter) if r in frame.columns]
            out = []
            for values in zip(*(frame[r].to_numpy() for r in refs)) if refs else [()] * n:
                allowed = form.choices_for(f.name, dict(zip(refs, values))) or options
                out.append(allowed[rng.integers(len(allowed))].name)
            return out
        codes = [c.name for c in options]
        weights = np.ones(len(codes))
        if "yes" in codes:  # screening and consent questions are mostly answered yes, so most records go on
            weights[codes.index("yes")] = 5.0 * (len(codes) - 1) if len(codes) > 1 else 1.0
        return [codes[k] for k in rng.choice(len(codes), size=n, p=weights / weights.sum())]
    if kind == "select_multiple":
        codes = [c.name for c in form.choice_list(f.list_name)]
        plain = [c for c in codes if c != "none"]
        out = []
        for _ in range(n):
            chosen = [c for c in plain if rng.random() < 0.3]
            if not chosen:
                chosen = ["none"] if "none" in codes else [plain[rng.integers(len(plain))]]
            out.append(" ".join(chosen))
        return out
    if kind in ("integer", "decimal"):
        low, high = _range(f.constraint) or [None, None]
        low = 0 if low is None else low
        high = low + 60 if high is None else high
        if kind == "integer":
            # Small numbers are the common answers (counts, hours, ages near the lower bound).
            return [str(int(v)) for v in rng.integers(int(np.ceil(low)), int(np.floor(high)) + 1, size=n)]
        return [f"{v:.2f}".rstrip("0").rstrip(".") for v in rng.uniform(max(low, 0.5), high, size=n)]
    if kind == "date":
        days = rng.integers(0, 365, size=n)
        return [(REFERENCE_DATE - pd.Timedelta(days=int(d))).strftime("%Y-%m-%d") for d in days]
    if kind in ("start", "end"):
        base = REFERENCE_DATE - pd.to_timedelta(rng.integers(1, 365, size=n), unit="D") + pd.Timedelta(hours=10)
        shift = pd.Timedelta(minutes=25) if kind == "end" else pd.Timedelta(0)
        return [_stamp(t + shift) + ".000-03:00" for t in base]
    if kind == "today":
        return [REFERENCE_DATE.strftime("%Y-%m-%d")] * n
    if kind == "text" and f.constraint and "regex(" in f.constraint and not f.identifying:
        m = re.search(r"regex\(\s*\.\s*,\s*'([^']*)'\s*\)", f.constraint)
        if m:
            return regex_sample(m.group(1), rng, n)
    if f.identifying or kind in ("text", "geopoint", "deviceid"):
        return _fake_text(f, rng, n)
    return [""] * n


def _search(f: Field, row: pd.DataFrame) -> str:
    """A value of ``f`` that keeps its constraint for this one row ('' if none exists)."""
    if f.type in ("integer", "decimal"):
        low, high = _range(f.constraint) or [0, 100]
        candidates = [str(v) for v in range(int(low if low is not None else 0), int(high if high is not None else 100) + 1)]
    elif f.type == "date":
        candidates = [(REFERENCE_DATE - pd.Timedelta(days=d)).strftime("%Y-%m-%d") for d in range(0, 3 * 365)]
    else:
        return ""
    row = pd.concat([row] * len(candidates), ignore_index=True)
    row[f.name] = candidates
    ok = evaluate(f.constraint, row, current=f.name).astype(bool).to_numpy()
    return candidates[int(np.flatnonzero(ok)[0])] if ok.any() else ""


def _fill(form: Form, fields: tuple[Field, ...], frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Draw every field in form order, applying skip logic and redrawing rows that break a constraint."""
    n = len(frame)
    for f in fields:
        if f.type == "calculate":
            if f.calculation:
                from research_kit.forms.expressions import _as_str

                frame[f.name] = _as_str(evaluate(f.calculation, frame)).astype(object)
            else:
                frame[f.name] = ""
        else:
            frame[f.name] = np.asarray(_draw(form, f, frame, rng, n), dtype=object)
        if f.all_relevant:
            keep = evaluate(f.all_relevant, frame).astype(bool).to_numpy()
            frame.loc[~keep, f.name] = ""
        else:
            keep = np.ones(n, dtype=bool)
        if f.constraint and f.type != "calculate":
            for _ in range(_TRIES):
                ok = evaluate(f.constraint, frame, current=f.name).astype(bool).to_numpy() | (frame[f.name] == "").to_numpy()
                if ok.all():
                    break
                bad = np.flatnonzero(~ok)
                redraw = _draw(form, f, frame.iloc[bad].reset_index(drop=True), rng, len(bad))
                frame.loc[frame.index[bad], f.name] = np.asarray(redraw, dtype=object)
            else:
                ok = evaluate(f.constraint, frame, current=f.name).astype(bool).to_numpy() | (frame[f.name] == "").to_numpy()
                for i in np.flatnonzero(~ok):  # rare: search the whole range for a value that fits this row
                    frame.iat[i, frame.columns.get_loc(f.name)] = _search(f, frame.iloc[[i]].copy())
    return frame


def _meta(n: int, rng: np.random.Generator) -> dict[str, list[str]]:
    times = REFERENCE_DATE - pd.to_timedelta(np.sort(rng.integers(1, 360 * 24, size=n))[::-1], unit="h")
    return {
        "_id": [str(400_000_000 + i) for i in range(1, n + 1)],
        "_uuid": [str(_uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(n)],
        "_submission_time": [_stamp(t) for t in times],
        "_index": [str(i) for i in range(1, n + 1)],
    }


def _honour_extras(form: Form, frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    extras = load_extras(form)
    fields = {f.name: f for f in form.data_fields()}
    for name in extras.unique:
        if name not in frame.columns:
            continue
        for _ in range(_TRIES):
            dup = frame[name].duplicated(keep="first") & (frame[name] != "")
            if not dup.any():
                break
            redraw = _draw(form, fields[name], frame.loc[dup].reset_index(drop=True), rng, int(dup.sum()))
            frame.loc[dup, name] = np.asarray(redraw, dtype=object)
    for name, target in extras.references.items():
        if name not in frame.columns or target not in frame.columns:
            continue
        # Link to an earlier row's id (a recruiter interviewed before her recruit), never one's own.
        for i in np.flatnonzero((frame[name] != "").to_numpy()):
            earlier = [v for v in frame[target].iloc[:i] if v]
            candidates = earlier or [v for j, v in enumerate(frame[target]) if v and j != i]
            frame.iat[i, frame.columns.get_loc(name)] = candidates[rng.integers(len(candidates))] if candidates else ""
    return frame


def generate_answers(form: Form | str, n: int, seed: int = 2026) -> pd.DataFrame:
    """``n`` synthetic submissions of ``form``, every rule of the form kept.

    Returns a tidy frame: one text column per field outside repeats (identifying fields
    included, with fake values, as an export would hold them), then ``_id``, ``_uuid``,
    ``_submission_time`` and ``_index``.
    """
    form = load_form(form)
    rng = np.random.default_rng([seed, int.from_bytes(form.form_id.encode()[:8], "big")])
    frame = pd.DataFrame(index=range(n))
    frame = _fill(form, form.level_fields(None), frame, rng)
    frame = _honour_extras(form, frame, rng)
    for key, values in _meta(n, rng).items():
        frame[key] = values
    return frame


def generate_repeat(form: Form | str, repeat: str, parents: pd.DataFrame, seed: int = 2026,
                    per_parent: tuple[int, int] = (1, 3)) -> pd.DataFrame:
    """Rows of a repeat for the submissions in ``parents`` (from :func:`generate_answers`).

    Each submission where the repeat is relevant gets between ``per_parent`` rows; each row
    carries ``_parent_index`` and ``_parent_uuid`` (its submission's ``_index`` and ``_uuid``)
    and its own ``_index``.
    """
    form = load_form(form)
    group = form.group(repeat)
    rng = np.random.default_rng([seed, int.from_bytes(repeat.encode()[:8], "big"), 7])
    relevant = np.ones(len(parents), dtype=bool)
    rel = [g.relevant for g in form.groups if g.relevant and (g.name == repeat or g.name in group.parents)]
    for expression in rel:
        relevant &= evaluate(expression, parents).astype(bool).to_numpy()
    counts = np.where(relevant, rng.integers(per_parent[0], per_parent[1] + 1, size=len(parents)), 0)
    owner = np.repeat(np.arange(len(parents)), counts)
    # The submission's answers travel along, so the repeat's rules can read them (${report_date}).
    frame = parents.iloc[owner].reset_index(drop=True).copy()
    own = form.level_fields(repeat)
    frame = _fill(form, tuple(f for f in own), frame, rng)
    out = frame[[f.name for f in own]].copy()
    out["_parent_index"] = parents["_index"].to_numpy()[owner]
    out["_parent_uuid"] = parents["_uuid"].to_numpy()[owner]
    out["_index"] = [str(i) for i in range(1, len(out) + 1)]
    return out
