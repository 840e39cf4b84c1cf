"""Write data as KoboToolbox exports them.

The shape follows KoboToolbox's export defaults for CSV: ``;`` as separator, every
field quoted, UTF-8, CRLF line ends, XML names as headers with group names joined by
``/``, a select_multiple question as one space-separated column followed by one 0/1
column per option (``group/question/option``, blank when the question was not asked),
and the submission's meta columns after the questions (``_id``, ``_uuid``,
``_submission_time``, ``_validation_status``, ``_notes``, ``_status``,
``_submitted_by``, ``__version__``, ``_tags``, ``_index``).
"""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from research_kit.forms import Form

__all__ = ["KOBO_META_COLUMNS", "kobo_columns", "to_kobo_frame", "write_kobo_csv"]

KOBO_META_COLUMNS = ("_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status",
                     "_submitted_by", "__version__", "_tags", "_index")


def kobo_columns(form: Form, separator: str = "/") -> list[str]:
    """Column headers of a KoboToolbox CSV export of ``form`` (XML names, groups included)."""
    cols: list[str] = []
    for f in form.data_fields():
        if f.repeat:
            continue  # repeats go to their own sheet in XLSX exports
        name = f.export_name(separator)
        cols.append(name)
        if f.type == "select_multiple":
            cols += [f"{name}/{c.name}" for c in form.choice_list(f.list_name)]
    return cols + list(KOBO_META_COLUMNS)


def to_kobo_frame(answers: pd.DataFrame, form: Form, meta: pd.DataFrame, separator: str = "/") -> pd.DataFrame:
    """Lay out answers (one column per field name) and meta columns as a Kobo export frame of strings."""
    out: dict[str, pd.Series] = {}
    for f in form.data_fields():
        if f.repeat:
            continue
        name = f.export_name(separator)
        values = answers[f.name] if f.name in answers.columns else pd.Series("", index=answers.index)
        values = values.astype(object).where(values.notna(), "").astype(str)
        out[name] = values
        if f.type == "select_multiple":
            parts = values.str.split()
            for c in form.choice_list(f.list_name):
                flag = parts.map(lambda p, code=c.name: "1" if code in p else "0")
                out[f"{name}/{c.name}"] = flag.where(values != "", "")
    for col in KOBO_META_COLUMNS:
        out[col] = meta[col].astype(str).to_numpy() if col in meta else pd.Series("", index=answers.index)
    frame = pd.DataFrame(out)
    frame.index = range(len(frame))
    return frame


def make_meta(n: int, rng: np.random.Generator, start: str, utc_offset: str, version: str) -> pd.DataFrame:
    """Submission meta data and device timestamps for ``n`` interviews done one after another."""
    t0 = pd.Timestamp(f"{start}T09:00:00")
    # Interviews spread over the fieldwork weeks, during working hours, in order.
    # Hours of fieldwork between interviews: a team of interviewers, about six interviews a working day,
    # so that even 600 interviews finish within about four months of the start.
    gaps = rng.exponential(1.5, n).cumsum()
    day = np.floor(gaps / 9.0)
    local_start = t0 + pd.to_timedelta(day, unit="D") + pd.to_timedelta(gaps % 9.0, unit="h")
    duration = pd.to_timedelta(rng.normal(28, 6, n).clip(12, 60), unit="min")
    local_end = local_start + duration
    sign = -1 if utc_offset.startswith("-") else 1
    hh, mm = utc_offset[1:].split(":")
    offset = pd.Timedelta(hours=int(hh), minutes=int(mm)) * sign
    submitted = local_end - offset + pd.to_timedelta(rng.exponential(3, n), unit="h")

    def stamp(ts):
        return [t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}" + utc_offset for t in ts]

    ids = 400_000_000 + np.cumsum(rng.integers(1, 40, n))
    uuids = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(n)]
    return pd.DataFrame({
        "start": stamp(local_start),
        "end": stamp(local_end),
        "today": [t.strftime("%Y-%m-%d") for t in local_start],
        "deviceid": [f"collect:{rng.integers(10**15, 10**16):x}"[:24] for _ in range(n)],
        "_id": ids.astype(str),
        "_uuid": uuids,
        "_submission_time": [t.strftime("%Y-%m-%dT%H:%M:%S") for t in submitted],
        "_validation_status": "",
        "_notes": "",
        "_status": "submitted_via_web",
        "_submitted_by": "",
        "__version__": version,
        "_tags": "",
        "_index": np.arange(1, n + 1).astype(str),
    })


def write_kobo_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a Kobo export frame exactly as KoboToolbox does: ``;``, all quoted, UTF-8, CRLF."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(frame.columns)
        writer.writerows(frame.itertuples(index=False, name=None))
    tmp.replace(path)
    return path
