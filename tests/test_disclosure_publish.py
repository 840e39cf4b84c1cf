"""Published tables as CSV + JSON, linked tables across a batch, and the audit of everything published."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from research_kit.cli import app
from research_kit.disclosure import (
    CountTable,
    Dimension,
    DisclosurePolicy,
    PublishedTableError,
    audit_published,
    protect_count_table,
    protect_counts,
    protect_estimates,
    protect_linked,
    read_published,
    write_table,
)
from research_kit.disclosure.tables import ProtectedTable

POLICY = DisclosurePolicy()
AGES = ["u25", "25plus", "x"]


def _batch(rng):
    """A small batch: five countries in two nodes, respondents by age group, and the regional table."""
    countries = {"south": ["PRY", "URY", "ARG"], "andean": ["BOL", "PER"]}
    leaves = {c: rng.integers(0, 25, size=len(AGES)) for node in countries.values() for c in node}
    leaves["PRY"] = np.array([3, 9, 30])
    leaves["URY"] = np.array([20, 60, 5])
    country = Dimension("country", ["LAC", *countries, *[c for n in countries.values() for c in n]], total="LAC",
                        hierarchy={"LAC": list(countries), **countries})
    age = Dimension.flat("age_group", AGES)
    rows = [{"country": c, "age_group": a, "count": int(v)} for c, vals in leaves.items() for a, v in zip(AGES, vals)]
    regional = CountTable.from_frame(pd.DataFrame(rows), [country, age], measure="respondents")
    per_country = {c: CountTable.from_frame(pd.DataFrame({"age_group": AGES, "count": v}), [age],
                                            measure="respondents", fixed={"country": c})
                   for c, v in leaves.items()}
    return regional, per_country


def _write(folder, table_id, ct, status, fixed=None):
    frame = ct.to_frame("count")
    frame["status"] = status.ravel()
    frame.loc[frame["status"] != "published", "count"] = np.nan
    pt = ProtectedTable(frame, POLICY, "count", tuple(d.name for d in ct.dimensions), {"dimensions": ct.spec()["dimensions"]})
    return write_table(pt, folder, table_id, measure=ct.measure, fixed=fixed if fixed is not None else ct.fixed)


def test_a_protected_count_table_is_written_as_tidy_csv_and_json(tmp_path):
    pt = protect_counts(pd.DataFrame({"city": ["asu", "cde", "enc"], "count": [40, 3, 12]}), POLICY, dimension="city")
    write_table(pt, tmp_path / "tables", "sample_city", measure="respondents", fixed={"country": "PRY"})
    csv = pd.read_csv(tmp_path / "tables" / "sample_city.csv", dtype=str, keep_default_na=False)
    assert list(csv.columns) == ["city", "value", "status"]
    assert csv["status"].tolist() == ["published", "primary", "secondary", "published"]
    assert csv["value"].tolist() == ["40", "", "", "55"]  # a suppressed value is empty
    meta = json.loads((tmp_path / "tables" / "sample_city.json").read_text())
    assert meta["dimensions"][0] == {"name": "city", "levels": ["asu", "cde", "enc", "total"], "total": "total",
                                     "hierarchy": {"total": ["asu", "cde", "enc"]}}
    assert meta["measure"] == {"kind": "count", "name": "respondents"}
    assert meta["fixed"] == {"country": "PRY"} and meta["policy"] == POLICY.to_dict()


def test_a_percentage_is_written_with_its_count_and_denominator_tables(tmp_path):
    est = pd.DataFrame({"indicator": ["a"] * 3, "age_group": AGES, "estimate": [1 / 3, 0.5, 0.5], "se": 0.05,
                        "ci_low": 0.1, "ci_high": 0.9, "n": [3, 200, 60], "n_event": [1, 100, 30]})
    pt = protect_estimates(est, POLICY, by=["indicator", "age_group"], group="indicator")
    paths = write_table(pt, tmp_path, "indicators_by_age", measure="indicator")
    assert [p.name for p in paths] == ["indicators_by_age.csv", "indicators_by_age.json", "indicators_by_age.n_event.csv",
                                       "indicators_by_age.n_event.json", "indicators_by_age.n.csv", "indicators_by_age.n.json"]
    meta = json.loads((tmp_path / "indicators_by_age.json").read_text())
    assert meta["measure"] == {"kind": "percentage", "numerator": "indicators_by_age.n_event",
                               "denominator": "indicators_by_age.n"}
    tables = read_published(tmp_path)
    assert set(tables) == {"indicators_by_age", "indicators_by_age.n_event", "indicators_by_age.n"}
    pct = tables["indicators_by_age"].frame
    assert pct["status"].tolist() == ["primary", "published", "secondary"]
    assert pct["value"].tolist()[1] == pytest.approx(50.0)
    assert audit_published(tmp_path).ok


def test_linked_tables_of_a_batch_are_protected_consistently_and_pass_the_audit_together(tmp_path):
    regional, per_country = _batch(np.random.default_rng(3))
    tables = {"regional/respondents_by_age": regional,
              **{f"{c}/sample_age_group": t for c, t in per_country.items()}}
    res = protect_linked(tables, POLICY)
    assert res.audit().ok
    for tid, t in tables.items():
        folder, name = tid.split("/")
        _write(tmp_path / folder / "tables", name, t, res.status[tid])
    record = res.record.write(tmp_path / "suppression.json")
    data = json.loads(record.read_text())
    assert data["suppressed"] and all("value" not in c for c in data["suppressed"])  # no hidden value in the record
    audit = audit_published(tmp_path)  # parse every published table, audit them all together
    assert audit.ok, audit.summary()
    assert len(audit.cells) > 0


def test_tables_protected_one_by_one_leak_through_their_links(tmp_path):
    regional, per_country = _batch(np.random.default_rng(3))
    st, _ = protect_count_table(regional, POLICY)
    _write(tmp_path / "regional" / "tables", "respondents_by_age", regional, st)
    for c, t in per_country.items():
        st_c, _ = protect_count_table(t, POLICY)
        _write(tmp_path / c / "tables", "sample_age_group", t, st_c)
    audit = audit_published(tmp_path)
    assert not audit.ok  # Paraguay's report and the regional report hide different cells: together they give u25 = 3


def test_the_audit_command_exits_0_when_safe_1_when_recoverable_2_when_unreadable(tmp_path):
    runner = CliRunner()
    pt = protect_counts(pd.DataFrame({"city": ["asu", "cde", "enc"], "count": [40, 3, 12]}), POLICY, dimension="city")
    write_table(pt, tmp_path / "ok" / "tables", "sample_city", measure="respondents")
    r = runner.invoke(app, ["audit", str(tmp_path / "ok")])
    assert r.exit_code == 0, r.output
    # Publish the secondary cell: the primary one is the total minus the others.
    bad = tmp_path / "bad" / "tables"
    write_table(pt, bad, "sample_city", measure="respondents")
    csv = (bad / "sample_city.csv").read_text().replace("enc,,secondary", "enc,12,published")
    (bad / "sample_city.csv").write_text(csv)
    r = runner.invoke(app, ["audit", str(tmp_path / "bad"), "--json", str(tmp_path / "audit.json")])
    assert r.exit_code == 1, r.output
    assert "recoverable" in r.output
    assert json.loads((tmp_path / "audit.json").read_text())["ok"] is False
    (bad / "sample_city.json").write_text("{not json")
    r = runner.invoke(app, ["audit", str(tmp_path / "bad")])
    assert r.exit_code == 2
    assert r.output.strip().startswith("Error:") and len(r.output.strip().splitlines()) == 1
    r = runner.invoke(app, ["audit", str(tmp_path / "nothing-here")])
    assert r.exit_code == 2


def test_published_files_that_contradict_themselves_are_refused(tmp_path):
    pt = protect_counts(pd.DataFrame({"city": ["asu", "cde"], "count": [40, 30]}), POLICY, dimension="city")
    write_table(pt, tmp_path, "t")
    (tmp_path / "t.csv").write_text("city,value,status\nasu,40,published\ncde,30,published\ntotal,71,published\n")
    with pytest.raises(PublishedTableError, match="inconsistent"):
        audit_published(tmp_path)
    (tmp_path / "t.csv").write_text("city,value,status\nasu,40,hidden\n")
    with pytest.raises(PublishedTableError, match="unknown status"):
        audit_published(tmp_path)


@pytest.mark.parametrize("body, message", [
    ("city,value,status\nasu,40,published\ncde,,published\ntotal,70,published\n", "a published row has no value"),
    ("city,value,status\nasu,40,published\ncde,30,primary\ntotal,70,published\n", "a suppressed row shows a value"),
    ("city,value,status\nasu,40,published\nxyz,30,published\ntotal,70,published\n", "codes \\['xyz'\\] not listed"),
    ("city,status\nasu,published\n", r"missing column\(s\) \['value'\]"),
    ("city,value,status\nasu,40\n", "rows and header do not have the same columns"),
    ("", "the file is empty"),
    ("city,value,status\nasu,forty,published\ncde,30,published\ntotal,70,published\n", "a published row has no value"),
])
def test_published_files_that_break_the_format_are_refused_with_the_file_named(tmp_path, body, message):
    pt = protect_counts(pd.DataFrame({"city": ["asu", "cde"], "count": [40, 30]}), POLICY, dimension="city")
    write_table(pt, tmp_path, "t")
    assert read_published(tmp_path)["t"].frame["value"].tolist() == [40.0, 30.0, 70.0]
    (tmp_path / "t.csv").write_text(body)
    with pytest.raises(PublishedTableError, match=message) as err:
        read_published(tmp_path)
    assert str(tmp_path / "t.csv") in str(err.value)


def test_only_protected_tables_can_be_written(tmp_path):
    from research_kit.errors import DisclosureError

    with pytest.raises(DisclosureError):
        write_table(pd.DataFrame({"a": [1]}), tmp_path, "x")


from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 150), st.floats(0, 1)), min_size=2, max_size=4), st.booleans())
def test_every_published_estimate_table_passes_the_public_audit(tmp_path_factory, rows, nchs):
    n = np.array([r[0] for r in rows])
    k = np.floor(n * np.array([r[1] for r in rows])).astype(int)
    est = pd.DataFrame({"indicator": "a", "age_group": [f"g{i}" for i in range(len(rows))],
                        "estimate": k / np.maximum(n, 1), "deff": 1.5, "n": n, "n_event": k})
    overall = pd.DataFrame({"indicator": ["a"], "estimate": [k.sum() / max(n.sum(), 1)], "deff": [1.5],
                            "n": [n.sum()], "n_event": [k.sum()]})
    policy = DisclosurePolicy(reliability="nchs" if nchs else None)
    folder = tmp_path_factory.mktemp("pub")
    write_table(protect_estimates(est, policy, by=["indicator", "age_group"], group="indicator"), folder, "by_age",
                measure="indicator")
    write_table(protect_estimates(overall, policy, by=["indicator"]), folder, "key", measure="indicator")
    audit = audit_published(folder)
    assert audit.ok, audit.summary()


def test_tables_read_ahead_are_read_again_when_their_files_change(tmp_path):
    # A batch reads each report's tables as it is filed and audits them all at the end: a table
    # whose files changed in between must be audited as it is now, never as it was read.
    pt = protect_counts(pd.DataFrame({"city": ["asu", "cde", "enc"], "count": [40, 3, 12]}), POLICY, dimension="city")
    write_table(pt, tmp_path / "PRY" / "tables", "sample_city", measure="respondents", fixed={"country": "PRY"})
    cache: dict = {}
    first = read_published(tmp_path, cache=cache)
    assert read_published(tmp_path, cache=cache)["PRY/tables/sample_city"] is first["PRY/tables/sample_city"]
    assert audit_published(tmp_path, cache=cache).ok
    csv = tmp_path / "PRY" / "tables" / "sample_city.csv"
    assert "enc,,secondary" in csv.read_text()
    csv.write_text(csv.read_text().replace("enc,,secondary", "enc,12,published"))  # the 3's partner is shown
    again = read_published(tmp_path, cache=cache)["PRY/tables/sample_city"]
    assert again is not first["PRY/tables/sample_city"]
    assert not audit_published(tmp_path, cache=cache).ok  # the total minus the others now gives the 3
