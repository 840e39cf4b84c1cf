"""Properties that hold for every input: random corruptions of valid exports.

* rows in = accepted + quarantined, exactly;
* no accepted row breaks a rule (checked by independent, hand-written oracles, not by the
  validator's own rule engine);
* every quarantined row has an error that names its file and row;
* the input file is never modified.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from functools import lru_cache
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from research_kit.forms import load_form
from research_kit.ingest import read_export, validate
from research_kit.synth.flavours import write_export
from research_kit.synth.generic import generate_answers
from research_kit.synth.kobo import write_kobo_csv

NOW = pd.Timestamp("2026-01-01")
FORM = load_form("community_survey")
NASTY = ["", " ", "abc", "12", "17", "18", "90", "91", "-1", "0", "999", "25.5", "1.2E+05", "yes", "no", "none",
         "none condoms", "condoms magic", "phd", "national", "foreign", "rds", "tls", "1234", "99999", "12345678",
         "ury", "montevideo", "asuncion", "2031-01-01T00:00:00", "2025-02-30", "Sí", "NO", "ñandú", "a;b", '"', "\t"]


@lru_cache(maxsize=1)
def clean_export() -> tuple[pd.DataFrame, list[str]]:
    folder = Path(tempfile.mkdtemp())
    path = write_export(generate_answers(FORM, 40, seed=99), FORM, folder / "export", "kobo_csv")[0]
    raw = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    return raw, list(raw.columns)


corruption = st.tuples(st.integers(0, 39), st.integers(0, 200), st.sampled_from(NASTY))
row_ops = st.lists(st.tuples(st.sampled_from(["duplicate", "drop", "copy_uuid", "copy_coupon"]), st.integers(0, 39),
                             st.integers(0, 39)), max_size=3)


def _write(raw: pd.DataFrame) -> Path:
    path = Path(tempfile.mkdtemp()) / "export.csv"
    write_kobo_csv(raw, path)
    return path


def _corrupt(cells, ops) -> pd.DataFrame:
    raw, columns = clean_export()
    raw = raw.copy()
    answer_columns = [c for c in columns if not c.startswith("_") or c in ("_uuid", "_submission_time")]
    for row, col, value in cells:
        raw.iat[row, raw.columns.get_loc(answer_columns[col % len(answer_columns)])] = value
    for op, a, b in ops:
        if op == "duplicate":
            raw = pd.concat([raw, raw.iloc[[a % len(raw)]]], ignore_index=True)
        elif op == "drop" and len(raw) > 2:
            raw = raw.drop(index=raw.index[a % len(raw)]).reset_index(drop=True)
        elif op == "copy_uuid":
            raw.loc[a % len(raw), "_uuid"] = raw.loc[b % len(raw), "_uuid"]
        elif op == "copy_coupon":
            raw.loc[a % len(raw), "rds/coupon"] = raw.loc[b % len(raw), "rds/coupon"]
    return raw


def _blank(v) -> bool:
    return v == ""


def _int_between(v, low, high) -> bool:
    try:
        return str(int(v)) == v.lstrip("+") and low <= int(v) <= high
    except ValueError:
        return False


def _oracle_violations(accepted: pd.DataFrame, everything: pd.DataFrame) -> list[str]:
    """Rules of the community survey, written by hand, independent of the validator's rule engine."""
    bad = []
    choices = {f.name: set(FORM.choice_names(f.name)) for f in FORM.data_fields() if f.is_select}
    for row in accepted.to_dict("records"):
        consent = row["consent"] == "yes"
        if not (_blank(row["age"]) or _int_between(row["age"], 18, 90)):
            bad.append(f"age {row['age']!r}")
        if consent and _blank(row["age"]):
            bad.append("age missing")
        if not consent and not _blank(row["age"]):
            bad.append("age answered without consent")
        for name, allowed in choices.items():
            value = row.get(name, "")
            tokens = value.split() if FORM.field(name).type == "select_multiple" else [value]
            if value and not set(tokens) <= allowed:
                bad.append(f"{name} {value!r}")
        services = row["services_3m"].split()
        if "none" in services and len(services) > 1:
            bad.append("none with others")
        if not _blank(row["birth_country"]) and not (consent and row["nationality"] == "foreign"):
            bad.append("birth_country where not asked")
        if row["sampling"] == "rds" and _blank(row["coupon"]):
            bad.append("coupon missing")
        if row["coupon"] and not (row["coupon"].isdigit() and 3 <= len(row["coupon"]) <= 6):
            bad.append(f"coupon {row['coupon']!r}")
        if row["recruiter_coupon"] and row["recruiter_coupon"] not in set(everything["coupon"]):
            bad.append("recruiter points to nobody")
        when = row["_submission_time"]
        if when and not (re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", when) and when[:10] <= "2026-01-02"):
            bad.append(f"submission time {when!r}")
    for column in ("_uuid", "coupon"):
        values = accepted.loc[accepted[column] != "", column]
        if values.duplicated().any():
            bad.append(f"{column} repeated among accepted rows")
    return bad


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(corruption, max_size=8), ops=row_ops)
def test_random_corruptions_lose_nothing_and_accept_nothing_broken(cells, ops):
    raw = _corrupt(cells, ops)
    path = _write(raw)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    frame = read_export(path, FORM, on_bad_lines="keep")
    result = validate(frame, FORM, now=NOW)
    # Nothing is lost.
    assert len(frame) == len(raw)
    assert len(result.accepted) + len(result.quarantine) == result.rows_in == len(raw)
    # No accepted row breaks a rule.
    assert _oracle_violations(result.accepted, frame) == []
    # Every quarantined row is explained, with its file and row.
    errors = result.errors[result.errors["severity"] == "error"]
    explained = set(zip(errors["file"], errors["row"]))
    for source, row in zip(result.quarantine["_source"], result.quarantine["_row"]):
        assert (source, row) in explained
    for message, row in zip(errors["message"], errors["row"]):
        assert "export.csv" in message and f"fila {row}" in message
    # The input is untouched.
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(1, 4000), sep=st.sampled_from([";", ","]), encoding=st.sampled_from(["utf-8", "cp1252"]))
def test_cut_or_re_saved_files_lose_no_row_that_was_read(cut, sep, encoding):
    raw, _ = clean_export()
    path = Path(tempfile.mkdtemp()) / "export.csv"
    raw.to_csv(path, sep=sep, index=False, encoding=encoding, errors="replace")
    data = path.read_bytes()
    path.write_bytes(data[: max(len(data) - cut, data.index(b"\n") + 2)])
    try:
        frame = read_export(path, FORM, on_bad_lines="keep")
    except Exception as exc:  # a cut inside the header leaves no submissions: a clear file error, never a crash
        assert "export.csv" in str(exc)
        return
    result = validate(frame, FORM, now=NOW)
    assert len(result.accepted) + len(result.quarantine) == len(frame)
    assert _oracle_violations(result.accepted, frame) == []
