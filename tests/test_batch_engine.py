"""The batch engine: incremental reruns, the manifest and reproduce, timeouts, Ctrl-C, Dask."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from research_kit.batch import reproduce, run_reports
from research_kit.batch.reproduce import InputChangedError
from research_kit.errors import ParameterError, ReportError

pytestmark = pytest.mark.slow


@pytest.fixture()
def data(synthetic_root, tmp_path):
    """A private copy of two countries' studies, so tests may change files."""
    root = tmp_path / "data"
    for iso3 in ("PRY", "BLZ"):
        shutil.copytree(synthetic_root / iso3, root / iso3)
    return root


def _run(data, out, **kw):
    kw.setdefault("pdf", False)
    kw.setdefault("regional", False)
    return run_reports(["PY", "BZ"], data_root=data, out_dir=out, private_dir=out.parent / "private", jobs=2, **kw)


def test_rerun_with_nothing_changed_does_no_work_and_force_rebuilds(data, tmp_path):
    out = tmp_path / "reports"
    first = _run(data, out)
    assert [o.status for o in first.outcomes] == ["built", "built"]
    page = (out / "PRY" / "index.html").stat().st_mtime_ns
    t0 = time.perf_counter()
    second = _run(data, out)
    assert [o.status for o in second.outcomes] == ["up to date", "up to date"]
    assert time.perf_counter() - t0 < 5
    assert (out / "PRY" / "index.html").stat().st_mtime_ns == page
    # A changed data file rebuilds that country only.
    path = data / "BLZ" / "community_survey.csv"
    path.write_bytes(path.read_bytes().replace(b'"ENC01"', b'"ENC09"', 1))
    third = _run(data, out)
    assert [o.status for o in third.outcomes] == ["up to date", "built"]
    # Another threshold is another report.
    fourth = _run(data, out, min_count=10)
    assert [o.status for o in fourth.outcomes] == ["built", "built"]
    assert [o.status for o in _run(data, out, min_count=10, force=True).outcomes] == ["built", "built"]


def test_manifest_records_everything_needed_to_reproduce(data, tmp_path):
    out = tmp_path / "reports"
    result = _run(data, out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert result.manifest == str(out / "manifest.json")
    for key in ("research_kit", "code", "packages", "started", "finished", "parameters", "notebook", "policy"):
        assert key in manifest
    rep = manifest["reports"]["PRY"]
    assert rep["status"] == "built" and rep["seed"] == 2026
    assert set(rep["inputs"]) == {"PRY/study.json", "PRY/community_survey.csv", "surveys/community_survey.xlsx"}
    assert rep["tables"] and all(len(h) == 64 for h in rep["tables"].values())
    assert rep["tables"] == json.loads((out / "PRY" / "provenance.json").read_text())["tables"]


def test_reproduce_gives_byte_identical_tables(data, tmp_path):
    out = tmp_path / "reports"
    _run(data, out)
    result = reproduce(out / "manifest.json", out_dir=tmp_path / "again", jobs=2)
    assert result.identical
    assert {t["country"] for t in result.tables} == {"PRY", "BLZ"}
    assert len(result.tables) >= 12


def test_reproduce_names_a_changed_input_with_both_hashes(data, tmp_path):
    out = tmp_path / "reports"
    _run(data, out)
    path = data / "PRY" / "community_survey.csv"
    path.write_bytes(path.read_bytes() + b"\r\n")
    with pytest.raises(InputChangedError, match=r"PRY/community_survey.csv changed: manifest SHA-256 [0-9a-f]{64}, now [0-9a-f]{64}"):
        reproduce(out / "manifest.json", out_dir=tmp_path / "again")


def _hanging_notebook(repo_root, tmp_path):
    nb = nbformat.read(repo_root / "notebooks" / "country_report.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell("import time\nif country == 'BLZ':\n    time.sleep(600)"))
    path = tmp_path / "hanging.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_hanging_report_times_out_and_the_others_finish(data, tmp_path, repo_root):
    out = tmp_path / "reports"
    t0 = time.perf_counter()
    result = _run(data, out, notebook=_hanging_notebook(repo_root, tmp_path), timeout=25)
    assert time.perf_counter() - t0 < 120
    status = {o.country: o for o in result.outcomes}
    assert status["PRY"].ok and not status["BLZ"].ok
    assert "did not finish within 25 s" in status["BLZ"].error
    assert status["BLZ"].failed_cell == 5  # the sleeping cell, counted from 1 in the executed notebook
    assert not (out / "BLZ").exists() and (out / "PRY" / "index.html").is_file()
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]


def test_ctrl_c_stops_cleanly_and_a_rerun_resumes(data, tmp_path, repo_root):
    out = tmp_path / "reports"
    nb = nbformat.read(repo_root / "notebooks" / "country_report.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell(
        "import os, time\nif country == 'BLZ' and os.environ.get('RK_TEST_HANG'):\n    time.sleep(600)"))
    nb_path = tmp_path / "maybe_hanging.ipynb"
    nbformat.write(nb, nb_path)
    code = ("from research_kit.batch import run_reports\n"
            f"r = run_reports(['PY','BZ'], data_root={str(data)!r}, out_dir={str(out)!r}, jobs=1, pdf=False, regional=False, "
            f"private_dir={str(tmp_path / 'private')!r}, notebook={str(nb_path)!r})\n"
            "print(' '.join(f'{o.country}={o.status}' for o in r.outcomes))\n")
    env = {**os.environ, "RK_TEST_HANG": "1"}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, env=env)
    deadline = time.monotonic() + 120
    while not (out / "PRY" / "index.html").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
    assert (out / "PRY" / "index.html").exists(), proc.stderr.read().decode()[-2000:]
    time.sleep(3)  # Belize is now sleeping in its kernel
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group, as in a terminal
    proc.wait(timeout=60)
    assert proc.returncode != 0  # KeyboardInterrupt ends the program
    assert not (out / "BLZ").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["interrupted"] is True and manifest["reports"]["PRY"]["status"] == "built"
    assert manifest["reports"]["BLZ"]["status"] == "interrupted"
    # The rerun resumes: Paraguay is up to date, Belize is built.
    env.pop("RK_TEST_HANG")
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.strip().splitlines()[-1] == "PRY=up to date BLZ=built"


def test_ctrl_c_in_the_cli_exits_130(data, tmp_path):
    out = tmp_path / "reports"
    cmd = [sys.executable, "-m", "research_kit.cli", "reports", "--data", str(data), "--out", str(out),
           "--country", "PY,BZ", "--jobs", "1", "--private-dir", str(tmp_path / "private"), "--no-pdf", "--no-regional"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, text=True)
    time.sleep(4)
    os.killpg(proc.pid, signal.SIGINT)
    _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Finished reports are kept" in stderr
    assert out.is_dir() and not [p for p in out.iterdir() if p.name.startswith(".staging")]


def test_dask_executor_runs_the_same_batch(data, tmp_path):
    distributed = pytest.importorskip("distributed", reason="the dask extra is part of the test install")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as cluster:
        result = _run(data, tmp_path / "reports", executor="dask", scheduler=cluster.scheduler_address)
    assert result.ok and [o.status for o in result.outcomes] == ["built", "built"]
    manifest = json.loads((tmp_path / "reports" / "manifest.json").read_text())
    assert manifest["parameters"]["executor"] == "dask"


def test_unreachable_scheduler_is_a_clear_error_without_hanging(data, tmp_path):
    t0 = time.perf_counter()
    with pytest.raises(ReportError, match="Cannot reach the Dask scheduler"):
        _run(data, tmp_path / "reports", executor="dask", scheduler="tcp://127.0.0.1:9")
    assert time.perf_counter() - t0 < 60
    with pytest.raises(ParameterError, match="No executor named 'spark'"):
        _run(data, tmp_path / "reports", executor="spark")


def test_jobs_run_longest_first(tmp_path):
    """The previous batch's times order the jobs; without them, regional, then respondent-driven samples."""
    import json

    from research_kit.batch.jobs import REGIONAL, ReportJob
    from research_kit.batch.runner import _longest_first

    data, private = tmp_path / "data", tmp_path / "private"
    for iso3, design in (("ARG", {"type": "tls"}), ("PRY", {"type": "rds"}), ("URY", "tls"), ("BOL", {"type": "rds"})):
        (data / iso3).mkdir(parents=True)
        (data / iso3 / "study.json").write_text(json.dumps({"design": design}))
    jobs = [ReportJob(key=k, notebook="nb", parameters={}, staging="s", private_dir=str(private), language="es",
                      timeout=1, kernel_dir=None, pdf=False, title="t", fingerprint="f")
            for k in ("ARG", "PRY", REGIONAL, "URY", "BOL")]
    assert [j.key for j in _longest_first(jobs, private, data)] == [REGIONAL, "PRY", "BOL", "ARG", "URY"]
    private.mkdir()
    last = {"outcomes": [{"country": "ARG", "ok": True, "seconds": 9.0}, {"country": "URY", "ok": True, "seconds": 1.0},
                         {"country": "PRY", "ok": False, "seconds": 50.0}],
            "regional": {"country": REGIONAL, "ok": True, "seconds": 5.0}}
    (private / "last_batch.json").write_text(json.dumps(last))
    # PRY failed last time (its time says nothing) and BOL has none: they go first; then the times decide.
    assert [j.key for j in _longest_first(jobs, private, data)] == ["PRY", "BOL", "ARG", REGIONAL, "URY"]
