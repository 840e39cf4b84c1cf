"""Capacity reports on the batch engine: parallel, atomic, incremental, with a manifest."""

import json

import pytest

from research_kit.capacity.reports import run_capacity_reports
from research_kit.synth.capacity import generate_capacity

pytestmark = pytest.mark.slow


def test_capacity_reports_run_in_parallel_incrementally_with_a_manifest(tmp_path):
    data = generate_capacity(tmp_path / "data", seed=2026)
    out, private = tmp_path / "capacity", tmp_path / "runs"
    kw = dict(data_path=data, output_dir=out, organisations_=["ury", "secretariat"], nodes=["southern_cone"],
              region=False, pdf=False, private_dir=private, jobs=2)
    seen = []
    first = run_capacity_reports(on_done=seen.append, **kw)
    assert [(r.kind, r.ok) for r in first] == [("organisation", True), ("organisation", True), ("node", True)]
    assert sorted(r.code for r in seen) == sorted(r.code for r in first)
    for r in first:
        assert (out / r.code / "index.html").is_file() and (out / r.code / "provenance.json").is_file()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # nothing half-built left
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "capacity" and set(manifest["reports"]) == {r.code for r in first}
    assert all(rep["status"] == "built" for rep in manifest["reports"].values())
    assert manifest["inputs"] and all(len(h) == 64 for h in manifest["inputs"].values())
    page = (out / "ury" / "index.html").stat().st_mtime_ns
    second = run_capacity_reports(**kw)
    assert all(r.ok for r in second) and (out / "ury" / "index.html").stat().st_mtime_ns == page
    statuses = json.loads((out / "manifest.json").read_text())["reports"]
    assert {rep["status"] for rep in statuses.values()} == {"up to date"}
    forced = run_capacity_reports(force=True, **{**kw, "organisations_": ["ury"], "nodes": []})
    assert forced[0].ok and (out / "ury" / "index.html").stat().st_mtime_ns != page
