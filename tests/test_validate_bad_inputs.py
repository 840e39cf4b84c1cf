"""Bad inputs: each gives a clear message naming file, row, column, value and rule, and nothing is lost.

Every case starts from a clean synthetic export of a bundled form (KoboToolbox CSV unless the
case is about another flavour), breaks one thing, and checks the error table and the message,
and that rows in = accepted + quarantined.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest

from research_kit.errors import DataFileError
from research_kit.ingest import (EmptyExportError, ExportColumnsError, ExportFormatError, MalformedLinesError,
                                 read_export, validate)
from research_kit.synth.flavours import write_export
from research_kit.synth.generic import generate_answers, generate_repeat
from research_kit.synth.kobo import write_kobo_csv

N = 60
SEED = 21
NOW = pd.Timestamp("2026-01-01")


@pytest.fixture(scope="module")
def answers():
    return {name: generate_answers(name, N, seed=SEED) for name in ("community_survey", "health_services",
                                                                      "rights_violation")}


def _raw(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)


def _clean(tmp_path: Path, answers, name: str, flavour: str = "kobo_csv", repeats=None) -> Path:
    return write_export(answers[name], name, tmp_path / "export", flavour, repeats)[0]


def _pick(raw: pd.DataFrame, **conditions) -> int:
    """Position of the first row matching ``column=value`` conditions (Kobo headers, / for ~)."""
    mask = pd.Series(True, index=raw.index)
    for column, value in conditions.items():
        column = column.replace("__", "/")
        mask &= raw[column] == value if not callable(value) else raw[column].map(value)
    return int(mask.to_numpy().nonzero()[0][0])


def _check(path: Path, form: str, language: str = "es"):
    frame = read_export(path, form, on_bad_lines="keep")
    result = validate(frame, form, language=language, now=NOW)
    assert len(result.accepted) + len(result.quarantine) == result.rows_in == len(frame)
    return result


def _assert_reported(result, path: Path, line: int, column: str, value: str, rule: str, severity: str = "error",
                     language_words=("fila", "columna")):
    errors = result.errors
    hit = errors[(errors["row"] == line) & (errors["column"] == column) & errors["rule"].str.startswith(rule)]
    assert len(hit) >= 1, errors[["row", "column", "value", "rule"]].head(20).to_string()
    e = hit.iloc[0]
    assert e["value"] == value and e["severity"] == severity and e["file"] == path.name
    message = e["message"]
    for part in (path.name, str(line), value, e["rule"]):
        assert part in message, (part, message)
    if column:
        assert column in message
    quarantined = set(result.quarantine["_row"])
    assert (line in quarantined) == (severity == "error")
    return e


# ---------------------------------------------------------------------------------------------- rows


@dataclass
class Case:
    form: str
    where: dict           # conditions picking the row (Kobo headers, "__" for "/")
    column: str           # tidy column reported
    header: str | None    # Kobo header to change (None: no change by header)
    new: str | None       # new value written
    value: str            # value the error table shows
    rule: str             # how the rule reads (prefix)
    severity: str = "error"
    extra: Callable[[pd.DataFrame, int], None] | None = None


def _consenting(v):
    return v == "yes"


ROW_CASES = {
    "age_below_minimum": Case("community_survey", {"eligibility__consent": "yes"}, "age", "demographics/age", "12", "12",
                              "constraint: . >= 18 and . <= 90"),
    "age_not_a_number": Case("community_survey", {"eligibility__consent": "yes"}, "age", "demographics/age", "abc",
                             "abc", "type: integer"),
    "age_with_decimals": Case("community_survey", {"eligibility__consent": "yes"}, "age", "demographics/age", "25.5",
                              "25.5", "type: integer"),
    "code_not_in_choices": Case("community_survey", {"eligibility__consent": "yes"}, "education",
                                "demographics/education", "phd", "phd", "choices:"),
    "select_multiple_unknown_option": Case("community_survey", {"eligibility__consent": "yes"}, "services_3m",
                                           "prevention/services_3m", "condoms magic", "condoms magic", "choices:"),
    "select_multiple_none_with_others": Case("community_survey", {"eligibility__consent": "yes"}, "services_3m",
                                             "prevention/services_3m", "none condoms", "none condoms", "constraint: not("),
    "answer_where_skip_logic_says_none": Case("community_survey", {"eligibility__consent": "yes",
                                                                   "demographics__nationality": "national"},
                                              "birth_country", "demographics/birth_country", "ven", "ven", "relevant:"),
    "missing_required_answer": Case("community_survey", {"eligibility__consent": "yes"}, "education",
                                    "demographics/education", "", "", "required"),
    "city_not_in_the_country": Case("community_survey", {"intro__country": lambda v: v != "ury"}, "city", "intro/city",
                                    "montevideo", "montevideo", "choice_filter: country=${country}"),
    "cross_field_constraint": Case("community_survey", {"eligibility__consent": "yes"}, "years_sex_work",
                                   "work/years_sex_work", "80", "80", "constraint: . >= 0 and . <= ${age} - 12"),
    "negative_count": Case("community_survey", {"eligibility__consent": "yes"}, "clients_week", "work/clients_week", "-5",
                           "-5", "constraint: . >= 0 and . <= 150"),
    "calculation_disagrees": Case("community_survey", {"eligibility__consent": "yes"}, "age_group", "closing/age_group",
                                  "u99", "u99", "calculation:"),
    "excel_mangled_coupon": Case("community_survey", {"rds__coupon": lambda v: v != ""}, "coupon", "rds/coupon",
                                 "1.2E+05", "1.2E+05", "constraint: regex("),
    "recruiter_coupon_points_to_nobody": Case("community_survey", {"rds__is_seed": "no"}, "recruiter_coupon",
                                              "rds/recruiter_coupon", "4242", "4242", "reference: recruiter_coupon"),
    "submission_time_in_the_future": Case("community_survey", {}, "_submission_time", "_submission_time",
                                          "2031-05-01T10:00:00", "2031-05-01T10:00:00", "not in the future"),
    "device_clock_in_the_future": Case("community_survey", {}, "start", "start", "2031-05-01T10:00:00.000-03:00",
                                       "2031-05-01T10:00:00.000-03:00", "not in the future"),
    "date_in_the_future": Case("rights_violation", {"case__consent_record": "yes"}, "report_date", "case/report_date",
                               "2030-02-01", "2030-02-01", "constraint: . <= today()"),
    "impossible_date": Case("health_services", {}, "visit_date", "visit/visit_date", "2025-02-30", "2025-02-30",
                            "type: date"),
    "decimal_with_a_comma": Case("health_services", {"testing__test_free": "no"}, "test_fee_usd", "testing/test_fee_usd",
                                 "12,5", "12,5", "type: decimal"),
    "facility_code_in_the_wrong_format": Case("health_services", {}, "facility_code", "visit/facility_code", "PRY F7",
                                              "PRY F7", "constraint: regex("),
    "closing_before_opening": Case("health_services", {"hours__opens_at": lambda v: int(v) > 2}, "closes_at",
                                   "hours/closes_at", "1", "1", "constraint: . >= 1 and . <= 24 and . > ${opens_at}"),
    "fee_although_the_test_is_free": Case("health_services", {"testing__test_free": "yes"}, "test_fee_usd",
                                          "testing/test_fee_usd", "5", "5", "relevant:"),
    "age_of_a_case_too_low": Case("rights_violation", {"case__consent_record": "yes"}, "age", "person/age", "15", "15",
                                  "constraint: . >= 18 and . <= 90"),
    "follow_up_before_the_case": Case("rights_violation", {"response__follow_up_date": lambda v: v != ""},
                                      "follow_up_date", "response/follow_up_date", "2000-01-01", "2000-01-01",
                                      "constraint: . >= ${report_date}"),
}


@pytest.mark.parametrize("case_id", sorted(ROW_CASES))
def test_a_bad_value_is_reported_and_its_row_quarantined(case_id, answers, tmp_path):
    case = ROW_CASES[case_id]
    path = _clean(tmp_path, answers, case.form)
    raw = _raw(path)
    pos = _pick(raw, **case.where) if case.where else 3
    raw.loc[pos, case.header] = case.new
    write_kobo_csv(raw, path)
    result = _check(path, case.form)
    _assert_reported(result, path, pos + 2, case.column, case.value, case.rule, case.severity)


def test_a_duplicated_uuid_quarantines_the_copy_and_names_the_first(answers, tmp_path):
    path = _clean(tmp_path, answers, "community_survey")
    raw = _raw(path)
    raw.loc[9, "_uuid"] = raw.loc[4, "_uuid"]
    write_kobo_csv(raw, path)
    result = _check(path, "community_survey")
    e = _assert_reported(result, path, 11, "_uuid", raw.loc[4, "_uuid"], "unique: _uuid")
    assert "fila 6" in e["message"]
    assert 6 not in set(result.quarantine["_row"])  # the first one stays


def test_a_repeated_coupon_quarantines_every_row_holding_it(answers, tmp_path):
    path = _clean(tmp_path, answers, "community_survey")
    raw = _raw(path)
    with_coupon = raw.index[raw["rds/coupon"] != ""]
    a, b = int(with_coupon[0]), int(with_coupon[1])
    raw.loc[b, "rds/coupon"] = raw.loc[a, "rds/coupon"]
    write_kobo_csv(raw, path)
    result = _check(path, "community_survey")
    for line, other in ((a + 2, b + 2), (b + 2, a + 2)):
        e = _assert_reported(result, path, line, "coupon", raw.loc[a, "rds/coupon"], "unique: coupon")
        assert f"fila {other}" in e["message"]


def test_a_recruiter_coupon_equal_to_her_own(answers, tmp_path):
    path = _clean(tmp_path, answers, "community_survey")
    raw = _raw(path)
    pos = _pick(raw, rds__is_seed="no")
    raw.loc[pos, "rds/recruiter_coupon"] = raw.loc[pos, "rds/coupon"]
    write_kobo_csv(raw, path)
    result = _check(path, "community_survey")
    e = _assert_reported(result, path, pos + 2, "recruiter_coupon", raw.loc[pos, "rds/coupon"], "rule: recruiter_coupon")
    assert "propia reclutadora" in e["message"]


def test_an_excel_mangled_number_says_to_avoid_excel(answers, tmp_path):
    path = _clean(tmp_path, answers, "community_survey")
    raw = _raw(path)
    pos = _pick(raw, rds__coupon=lambda v: v != "")
    raw.loc[pos, "rds/coupon"] = "1.2E+05"
    write_kobo_csv(raw, path)
    e = _assert_reported(_check(path, "community_survey", "en"), path, pos + 2, "coupon", "1.2E+05", "constraint:")
    assert "Excel" in e["message"] and "scientific notation" in e["message"]


def test_recruits_of_a_quarantined_recruiter_are_kept_with_a_warning(answers, tmp_path):
    path = _clean(tmp_path, answers, "community_survey")
    raw = _raw(path)
    recruit = _pick(raw, rds__recruiter_coupon=lambda v: v != "")
    recruiter = int(raw.index[raw["rds/coupon"] == raw.loc[recruit, "rds/recruiter_coupon"]][0])
    raw.loc[recruiter, "rds/network_size"] = "0"
    write_kobo_csv(raw, path)
    result = _check(path, "community_survey")
    assert recruiter + 2 in set(result.quarantine["_row"])
    e = _assert_reported(result, path, recruit + 2, "recruiter_coupon", raw.loc[recruit, "rds/recruiter_coupon"],
                         "reference:", severity="warning")
    assert f"fila {recruiter + 2}" in e["message"]


def test_one_broken_answer_gives_one_message_not_a_cascade(answers, tmp_path):
    path = _clean(tmp_path, answers, "community_survey")
    raw = _raw(path)
    pos = _pick(raw, eligibility__consent="yes")
    raw.loc[pos, "demographics/age"] = "abc"
    write_kobo_csv(raw, path)
    result = _check(path, "community_survey")
    assert result.errors.loc[result.errors["row"] == pos + 2, "column"].tolist() == ["age"]


def test_split_select_multiple_columns_that_disagree(answers, tmp_path):
    path = _clean(tmp_path, answers, "community_survey")
    raw = _raw(path)
    pos = _pick(raw, prevention__services_3m=lambda v: v != "" and "prep" not in v.split() and "none" not in v.split())
    raw.loc[pos, "prevention/services_3m/prep"] = "1"
    write_kobo_csv(raw, path)
    result = _check(path, "community_survey")
    e = _assert_reported(result, path, pos + 2, "services_3m", raw.loc[pos, "prevention/services_3m"],
                         "select_multiple: split columns")
    assert "prep" in e["message"]


def test_an_unknown_column_is_a_warning_and_every_row_is_kept(answers, tmp_path):
    path = _clean(tmp_path, answers, "health_services")
    raw = _raw(path)
    raw.insert(5, "visit/weather", "sunny")
    write_kobo_csv(raw, path)
    result = _check(path, "health_services")
    e = _assert_reported(result, path, 1, "visit/weather", "", "columns: unknown", severity="warning")
    assert "no es del formulario" in e["message"]
    assert result.ok


def test_a_label_instead_of_a_code_is_read_as_the_code(answers, tmp_path):
    path = _clean(tmp_path, answers, "health_services")
    raw = _raw(path)
    raw.loc[2, "attitudes/staff_attitude"] = "Hostil o agresivo"
    write_kobo_csv(raw, path)
    result = _check(path, "health_services")
    assert result.ok and read_export(path, "health_services")["staff_attitude"].iloc[2] == "hostile"


def test_a_row_of_blanks_is_quarantined_for_its_missing_answers(answers, tmp_path):
    path = _clean(tmp_path, answers, "health_services")
    text = path.read_bytes().decode("utf-8")
    n_fields = len(next(csv.reader(io.StringIO(text), delimiter=";")))
    path.write_bytes((text + ";".join(['""'] * n_fields) + "\r\n").encode("utf-8"))
    result = _check(path, "health_services")
    e = _assert_reported(result, path, N + 2, "country", "", "required")
    assert result.rows_in == N + 1


# ---------------------------------------------------------------------------------------------- lines


def test_a_truncated_last_line_is_quarantined_and_the_rest_kept(answers, tmp_path):
    path = _clean(tmp_path, answers, "health_services")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 120])
    result = _check(path, "health_services")
    e = _assert_reported(result, path, N + 1, "", result.errors.iloc[0]["value"], "line:")
    assert "corta" in e["message"] or "cortó" in e["message"]
    assert len(result.accepted) == N - 1
    with pytest.raises(MalformedLinesError, match=f"line {N + 1}"):
        read_export(path, "health_services")


def test_a_stray_separator_is_quarantined_with_its_line(answers, tmp_path):
    path = _clean(tmp_path, answers, "health_services")
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    lines[7] = lines[7].replace('";"', '";"stray";"', 1)
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    result = _check(path, "health_services")
    e = _assert_reported(result, path, 8, "", result.errors.iloc[0]["value"], "line:")
    assert "separador suelto" in e["message"] and "stray" in e["message"]
    assert len(result.quarantine) == 1 and len(result.errors) == 1  # the line is reported, not its shifted values


def test_mixed_encodings_are_read_right_and_warned_about(answers, tmp_path):
    path = _clean(tmp_path, answers, "health_services", "kobo_labels_es")
    lines = path.read_bytes().split(b"\r\n")
    assert not any(b"\n" in line for line in lines)  # one line per record in this form's label export
    target = next(i for i in range(1, len(lines)) if not lines[i].isascii())  # a record with accented labels
    lines[target] = lines[target].decode("utf-8").encode("cp1252")
    path.write_bytes(b"\r\n".join(lines))
    result = _check(path, "health_services")
    e = _assert_reported(result, path, target + 1, "", "", "encoding", severity="warning")
    assert "Windows-1252" in e["message"]
    assert result.ok  # every label still maps to its code: nothing quarantined


def test_blank_lines_do_not_shift_row_numbers(answers, tmp_path):
    path = _clean(tmp_path, answers, "health_services")
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    lines.insert(3, "")
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    frame = read_export(path, "health_services")
    assert frame["_row"].tolist()[:4] == [2, 3, 5, 6]


# ---------------------------------------------------------------------------------------------- files


def test_an_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(EmptyExportError, match=r"empty\.csv: the file is empty"):
        read_export(path, "community_survey")


def test_a_file_of_white_space_and_a_bom(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_bytes(b"\xef\xbb\xbf \r\n\r\n")
    with pytest.raises(EmptyExportError, match="empty"):
        read_export(path, "community_survey")


def test_a_header_and_no_submissions(answers, tmp_path):
    path = _clean(tmp_path, answers, "community_survey")
    path.write_bytes(path.read_bytes().split(b"\r\n")[0] + b"\r\n")
    with pytest.raises(EmptyExportError, match="header but no submissions"):
        read_export(path, "community_survey")


def test_a_missing_column_names_the_column(answers, tmp_path):
    path = _clean(tmp_path, answers, "community_survey")
    write_kobo_csv(_raw(path).drop(columns=["demographics/education"]), path)
    with pytest.raises(ExportColumnsError, match=r"export\.csv: the export lacks 1 column\(s\).*demographics/education"):
        read_export(path, "community_survey")


def test_a_column_renamed_by_a_new_form_version_is_named_and_can_be_mapped(answers, tmp_path):
    path = _clean(tmp_path, answers, "community_survey")
    write_kobo_csv(_raw(path).rename(columns={"demographics/age": "demographics/edad"}), path)
    with pytest.raises(ExportColumnsError, match=r"'demographics/edad' may be 'demographics/age'.*renamed") as info:
        read_export(path, "community_survey")
    assert "--rename" in str(info.value)
    mapped = read_export(path, "community_survey", renames={"demographics/edad": "age"})
    assert mapped["age"].tolist() == answers["community_survey"]["age"].tolist()


def test_a_duplicated_column_with_other_answers(answers, tmp_path):
    path = _clean(tmp_path, answers, "health_services")
    raw = _raw(path)
    raw.insert(3, "dup", raw["visit/country"].iloc[::-1].to_numpy())
    raw = raw.rename(columns={"dup": "visit/country"})
    write_kobo_csv(raw, path)
    with pytest.raises(ExportColumnsError, match="'visit/country' appears twice"):
        read_export(path, "health_services")


def test_a_pdf_or_a_zip_sent_as_csv(tmp_path):
    pdf = tmp_path / "export.csv"
    pdf.write_bytes(b"%PDF-1.7\n%binary")
    with pytest.raises(ExportFormatError, match="a PDF document"):
        read_export(pdf, "community_survey")
    zipped = tmp_path / "zipped.csv"
    zipped.write_bytes(b"PK\x03\x04rest")
    with pytest.raises(ExportFormatError, match="Give it the .xlsx extension"):
        read_export(zipped, "community_survey")


def test_a_broken_workbook(tmp_path):
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"not really a workbook")
    with pytest.raises(ExportFormatError, match="cannot be opened as an Excel workbook"):
        read_export(path, "community_survey")


def test_the_export_of_another_form(answers, tmp_path):
    path = _clean(tmp_path, answers, "health_services")
    with pytest.raises(ExportColumnsError, match="form 'community_survey'"):
        read_export(path, "community_survey")


def test_a_missing_file(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        read_export(tmp_path / "nowhere.csv", "community_survey")


def test_a_form_version_mismatch_in_odk_central_is_a_warning(answers, tmp_path):
    path = _clean(tmp_path, answers, "health_services", "odk_central_csv")
    text = path.read_bytes().decode("utf-8").replace(",2026.1\r\n", ",2025.3\r\n")
    path.write_bytes(text.encode("utf-8"))
    result = _check(path, "health_services")
    e = _assert_reported(result, path, 1, "FormVersion", "2025.3", "form version", severity="warning")
    assert "2026.1" in e["message"]


# ---------------------------------------------------------------------------------------------- repeats


def test_a_repeat_row_whose_submission_is_quarantined(answers, tmp_path):
    form = "rights_violation"
    cases = answers[form].copy()
    incidents = generate_repeat(form, "incidents", cases, seed=SEED)
    owner = incidents["_parent_uuid"].iloc[0]
    cases.loc[cases["_uuid"] == owner, "age"] = "12"
    path = write_export(cases, form, tmp_path / "export", "kobo_xlsx", {"incidents": incidents})[0]
    from research_kit.ingest import validate_export

    outcome = validate_export(path, form, key=None, now=NOW)
    rows = outcome.results["incidents"]
    assert len(rows.accepted) + len(rows.quarantine) == len(incidents)
    e = _assert_reported(rows, Path("export.xlsx[incidents]"), 2, "_parent_uuid", owner, "parent:")
    assert "no está entre los envíos aceptados" in e["message"]


def test_an_incident_after_the_case_was_recorded(answers, tmp_path):
    form = "rights_violation"
    cases = answers[form]
    incidents = generate_repeat(form, "incidents", cases, seed=SEED)
    incidents.loc[0, "incident_date"] = "2025-06-29"
    report = cases.set_index("_uuid").loc[incidents.loc[0, "_parent_uuid"], "report_date"]
    assert report < "2025-06-29"
    path = write_export(cases, form, tmp_path / "export", "kobo_xlsx", {"incidents": incidents})[0]
    rows = read_export(path, form, repeat="incidents")
    result = validate(rows, form, parent=read_export(path, form), now=NOW)
    _assert_reported(result, Path("export.xlsx[incidents]"), 2, "incident_date", "2025-06-29",
                     "constraint: . <= today() and . <= ${report_date}")


# ---------------------------------------------------------------------------------------------- languages


@pytest.mark.parametrize(("language", "words"), [("es", "fila"), ("en", "row"), ("pt", "linha")])
def test_messages_speak_the_users_language(answers, tmp_path, language, words):
    path = _clean(tmp_path, answers, "community_survey")
    raw = _raw(path)
    pos = _pick(raw, eligibility__consent="yes")
    raw.loc[pos, "demographics/age"] = "12"
    write_kobo_csv(raw, path)
    e = _assert_reported(_check(path, "community_survey", language), path, pos + 2, "age", "12", "constraint:")
    assert f"{words} {pos + 2}" in e["message"]
    form_message = {"es": "La edad debe estar entre 18 y 90 años.", "en": "Age must be between 18 and 90.",
                    "pt": "A idade deve estar entre 18 e 90 anos."}[language]
    assert form_message in e["message"]


# ---------------------------------------------------------------------------------------------- frames


def test_validate_never_modifies_the_frame_it_is_given(answers):
    frame = answers["health_services"].copy()
    frame.loc[0, "overall_score"] = "9"
    before = frame.copy()
    result = validate(frame, "health_services", now=NOW)
    pd.testing.assert_frame_equal(frame, before)
    assert len(result.quarantine) == 1


def test_missing_values_count_as_blanks_in_a_hand_built_frame(answers):
    frame = answers["health_services"].replace("", None)
    with_nan = validate(frame, "health_services", now=NOW)
    with_blanks = validate(answers["health_services"], "health_services", now=NOW)
    assert with_nan.ok and with_blanks.ok


def test_a_frame_lacking_a_column_of_the_form_is_refused_clearly(answers):
    with pytest.raises(ExportColumnsError, match="lack 1 column.*overall_score.*read_export"):
        validate(answers["health_services"].drop(columns="overall_score"), "health_services")
