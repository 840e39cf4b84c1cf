"""Write the same submissions as every export flavour the reader must take.

One set of answers (form names and codes, identifying fields included, as a server holds
them) is written as:

``kobo_csv``
    KoboToolbox's default CSV: ``;``, every field quoted, UTF-8, CRLF, XML names with groups
    joined by ``/``, select_multiple as one column plus 0/1 columns, meta columns after.
``kobo_labels_<lang>``
    KoboToolbox CSV with headers and values as labels in one of the form's languages.
``kobo_bare``
    KoboToolbox CSV without group names in the headers, ``,``-separated, UTF-8 with BOM.
``excel_csv``
    The KoboToolbox CSV after a round trip through Excel: Windows-1252, ``,``, quotes only
    where needed.
``kobo_xlsx``
    KoboToolbox XLSX: the submissions on the first sheet, each repeat on its own sheet linked
    by ``_parent_index``.
``odk_central_csv``
    ODK Central's CSV: ``,``, ``SubmissionDate`` first, groups joined by ``-``, ``meta-instanceID``,
    ``KEY`` and the review columns; each repeat in ``<form_id>-<repeat>.csv`` with ``PARENT_KEY``.
``odk_central_zip``
    The ZIP ODK Central downloads, holding those CSV files.

``python -m research_kit.synth.flavours OUT`` writes every bundled form in every flavour.

Examples
--------
>>> import tempfile, pathlib
>>> paths = write_flavours("health_services", tempfile.mkdtemp(), n=5, seed=1)
>>> sorted(paths)[:3]
['excel_csv', 'kobo_bare', 'kobo_csv']
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pandas as pd

from research_kit.forms import Form, load_form
from research_kit.synth.kobo import KOBO_META_COLUMNS, to_kobo_frame, write_kobo_csv

__all__ = ["FLAVOURS", "flavour_names", "write_export", "write_flavours", "write_all", "kobo_meta"]

FLAVOURS = ("kobo_csv", "kobo_labels", "kobo_bare", "excel_csv", "kobo_xlsx", "odk_central_csv", "odk_central_zip")
_CENTRAL_TAIL = ("KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status",
                 "ReviewState", "DeviceID", "Edits", "FormVersion")


def flavour_names(form: Form) -> list[str]:
    """Every flavour for ``form``: label exports once per language of the form."""
    out = []
    for flavour in FLAVOURS:
        if flavour == "kobo_labels":
            out += [f"kobo_labels_{lang}" for lang in form.languages]
        else:
            out.append(flavour)
    return out


def kobo_meta(answers: pd.DataFrame) -> pd.DataFrame:
    """KoboToolbox's meta columns for ``answers`` (``_uuid``, ``_submission_time``, ``_index`` kept as given)."""
    n = len(answers)
    meta = pd.DataFrame(index=answers.index)
    for col in KOBO_META_COLUMNS:
        meta[col] = answers[col].astype(str) if col in answers.columns else ""
    if "_id" not in answers.columns:
        meta["_id"] = [str(400_000_000 + i) for i in range(1, n + 1)]
    meta["_status"] = "submitted_via_web"
    return meta


def _label_frame(kobo: pd.DataFrame, form: Form, language: str) -> pd.DataFrame:
    """A Kobo frame with headers and select values as labels in ``language``."""
    out: dict[str, pd.Series] = {}
    group_label = {g.name: g.label(language) for g in form.groups}
    for f in form.level_fields(None):
        name = f.export_name("/")
        if name not in kobo.columns:
            continue
        header = "/".join([group_label.get(g, g) for g in f.groups] + [f.label(language)])
        values = kobo[name]
        if f.is_select:
            labels = {c.name: c.label(language) for c in form.choice_list(f.list_name)}
            if f.type == "select_one":
                values = values.map(lambda v: labels.get(v, v))
            else:
                values = values.map(lambda v: " ".join(labels.get(t, t) for t in v.split()))
        out[header] = values
        if f.type == "select_multiple":
            for c in form.choice_list(f.list_name):
                out[f"{header}/{c.label(language)}"] = kobo[f"{name}/{c.name}"]
    for col in KOBO_META_COLUMNS:
        out[col] = kobo[col]
    return pd.DataFrame(out)


def _central_frames(answers: pd.DataFrame, form: Form, repeats: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    kobo = to_kobo_frame(answers, form, kobo_meta(answers), separator="-")
    split = [c for c in kobo.columns if c not in KOBO_META_COLUMNS]
    main = pd.DataFrame({"SubmissionDate": answers["_submission_time"].astype(str) + ".000Z"})
    for c in split:
        main[c] = kobo[c].to_numpy()
    keys = "uuid:" + answers["_uuid"].astype(str)
    main["meta-instanceID"] = keys.to_numpy()
    main["KEY"] = keys.to_numpy()
    main["SubmitterID"] = "5"
    main["SubmitterName"] = "Encuestadora 5"
    main["AttachmentsPresent"] = "0"
    main["AttachmentsExpected"] = "0"
    main["Status"] = ""
    main["ReviewState"] = ""
    main["DeviceID"] = "collect:3f2a9c"
    main["Edits"] = "0"
    main["FormVersion"] = form.version
    frames = {form.form_id: main}
    for repeat, rows in repeats.items():
        key_of = dict(zip(answers["_uuid"], keys))
        out = pd.DataFrame(index=rows.index)
        for f in form.level_fields(repeat):
            inner = f.groups[f.groups.index(repeat) + 1:]
            name = "-".join([*inner, f.name])
            values = rows[f.name].astype(str) if f.name in rows.columns else pd.Series("", index=rows.index)
            out[name] = values
            if f.type == "select_multiple":
                parts = values.str.split()
                for c in form.choice_list(f.list_name):
                    out[f"{name}/{c.name}"] = parts.map(lambda p, code=c.name: "1" if code in p else "0").where(values != "", "")
        parent = rows["_parent_uuid"].map(key_of)
        number = rows.groupby("_parent_uuid").cumcount() + 1
        out["PARENT_KEY"] = parent.to_numpy()
        out["KEY"] = (parent + f"/{repeat}[" + number.astype(str) + "]").to_numpy()
        frames[f"{form.form_id}-{repeat}"] = out
    return frames


def _kobo_repeat_sheet(rows: pd.DataFrame, form: Form, repeat: str, answers: pd.DataFrame) -> pd.DataFrame:
    meta = pd.DataFrame({"_index": rows["_index"].astype(str).to_numpy()}, index=rows.index)
    body = pd.DataFrame(index=rows.index)
    for f in form.level_fields(repeat):
        name = f.export_name("/")
        values = rows[f.name].astype(str) if f.name in rows.columns else pd.Series("", index=rows.index)
        body[name] = values
        if f.type == "select_multiple":
            parts = values.str.split()
            for c in form.choice_list(f.list_name):
                body[f"{name}/{c.name}"] = parts.map(lambda p, code=c.name: "1" if code in p else "0").where(values != "", "")
    by_uuid = answers.set_index("_uuid")
    body["_index"] = meta["_index"]
    body["_parent_table_name"] = form.form_id
    body["_parent_index"] = rows["_parent_index"].astype(str).to_numpy()
    body["_submission__id"] = rows["_parent_uuid"].map(by_uuid["_id"]).astype(str).to_numpy() if "_id" in by_uuid else ""
    body["_submission__uuid"] = rows["_parent_uuid"].astype(str).to_numpy()
    body["_submission__submission_time"] = rows["_parent_uuid"].map(by_uuid["_submission_time"]).astype(str).to_numpy()
    return body


def _write_csv(frame: pd.DataFrame, path: Path, *, sep: str, encoding: str, quoting: int, bom: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, quoting=quoting, lineterminator="\r\n")
    writer.writerow(frame.columns)
    writer.writerows(frame.astype(str).itertuples(index=False, name=None))
    data = buffer.getvalue().encode(encoding, errors="replace")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_export(answers: pd.DataFrame, form: Form | str, path: str | Path, flavour: str,
                 repeats: dict[str, pd.DataFrame] | None = None) -> list[Path]:
    """Write ``answers`` (and repeat rows) as one export flavour; return the files written.

    Parameters
    ----------
    answers : DataFrame
        One text column per field (form names, codes), plus ``_uuid``, ``_submission_time``,
        ``_index`` (as from :func:`research_kit.synth.generic.generate_answers`).
    form : Form or str
    path : path
        The file to write (its suffix is replaced as the flavour needs: ``.xlsx``, ``.zip``).
    flavour : str
        One of :func:`flavour_names`.
    repeats : dict, optional
        ``{repeat: rows}`` with ``_parent_uuid``, ``_parent_index`` and ``_index`` columns.
    """
    form = load_form(form)
    path = Path(path)
    repeats = repeats or {}
    kobo = to_kobo_frame(answers, form, kobo_meta(answers))
    if flavour == "kobo_csv":
        return [write_kobo_csv(kobo, path.with_suffix(".csv"))]
    if flavour.startswith("kobo_labels"):
        language = flavour.rsplit("_", 1)[-1] if flavour != "kobo_labels" else form.default_language
        return [write_kobo_csv(_label_frame(kobo, form, language), path.with_suffix(".csv"))]
    if flavour == "kobo_bare":
        rename = {}
        for f in form.level_fields(None):
            rename[f.export_name("/")] = f.name
            if f.type == "select_multiple":
                rename.update({f"{f.export_name('/')}/{c.name}": f"{f.name}/{c.name}" for c in form.choice_list(f.list_name)})
        bare = kobo.rename(columns=rename)
        return [_write_csv(bare, path.with_suffix(".csv"), sep=",", encoding="utf-8", quoting=csv.QUOTE_MINIMAL, bom=True)]
    if flavour == "excel_csv":
        return [_write_csv(kobo, path.with_suffix(".csv"), sep=",", encoding="cp1252", quoting=csv.QUOTE_MINIMAL)]
    if flavour == "kobo_xlsx":
        target = path.with_suffix(".xlsx")
        target.parent.mkdir(parents=True, exist_ok=True)
        with pd.ExcelWriter(target, engine="openpyxl") as xl:
            kobo.to_excel(xl, sheet_name=(form.title or form.form_id)[:31].replace("/", "-"), index=False)
            for repeat, rows in repeats.items():
                _kobo_repeat_sheet(rows, form, repeat, answers).to_excel(xl, sheet_name=repeat[:31], index=False)
        return [target]
    if flavour in ("odk_central_csv", "odk_central_zip"):
        frames = _central_frames(answers, form, repeats)
        if flavour == "odk_central_csv":
            written = []
            for name, frame in frames.items():
                stem = path.stem if name == form.form_id else f"{path.stem}-{name.split('-', 1)[1]}"
                written.append(_write_csv(frame, path.with_name(f"{stem}.csv"), sep=",", encoding="utf-8",
                                          quoting=csv.QUOTE_MINIMAL))
            return written
        target = path.with_suffix(".zip")
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, frame in frames.items():
                buffer = io.StringIO()
                frame.to_csv(buffer, index=False, lineterminator="\n")
                archive.writestr(f"{name}.csv", buffer.getvalue())
        return [target]
    raise ValueError(f"No export flavour named {flavour!r}. Flavours: {', '.join(flavour_names(form))}.")


def write_flavours(form: Form | str, out_dir: str | Path, n: int = 60, seed: int = 2026,
                   flavours: list[str] | None = None) -> dict[str, Path]:
    """Generate ``n`` synthetic submissions of ``form`` (and its repeats) and write every flavour.

    Files go to ``out_dir/<flavour>/<form_id>.<ext>``; returns ``{flavour: main file}``. The
    answers themselves are written beside them as ``out_dir/answers.csv`` (and
    ``answers-<repeat>.csv``), the truth the readers must give back.
    """
    from research_kit.synth.generic import generate_answers, generate_repeat

    form = load_form(form)
    out = Path(out_dir)
    answers = generate_answers(form, n, seed=seed)
    repeats = {r: generate_repeat(form, r, answers, seed=seed) for r in form.repeats}
    out.mkdir(parents=True, exist_ok=True)
    answers.to_csv(out / "answers.csv", index=False)
    for r, rows in repeats.items():
        rows.to_csv(out / f"answers-{r}.csv", index=False)
    written = {}
    for flavour in flavours or flavour_names(form):
        files = write_export(answers, form, out / flavour / form.form_id, flavour, repeats)
        written[flavour] = files[0]
    return written


def write_all(out_dir: str | Path, n: int = 60, seed: int = 2026) -> dict[str, dict[str, Path]]:
    """Every bundled form's synthetic data in every flavour: ``out_dir/<form_id>/<flavour>/...``."""
    from research_kit.forms import FORMS

    return {name: write_flavours(name, Path(out_dir) / name, n=n, seed=seed) for name in FORMS}


def main(argv: list[str] | None = None) -> int:
    """``python -m research_kit.synth.flavours OUT [--rows N] [--seed S]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m research_kit.synth.flavours",
                                     description="Write every bundled form's synthetic data in every export flavour.")
    parser.add_argument("out", help="folder to write into")
    parser.add_argument("--rows", type=int, default=60, help="submissions per form")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    for name, paths in write_all(args.out, args.rows, args.seed).items():
        print(f"{name}: {len(paths)} flavours in {Path(args.out) / name}/")
    return 0


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(main())
