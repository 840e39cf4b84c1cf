"""Warm kernels: one kernel runs report after report, and nothing of one report reaches the next."""

import json

import nbformat
import pytest

from research_kit.batch.jobs import ReportJob, execute_job
from research_kit.batch.kernels import WarmKernel

pytestmark = pytest.mark.slow

_FIRST = """
import os, random, warnings
import matplotlib
import matplotlib.pyplot as plt
leak = "from the first report"
matplotlib.rcParams["lines.linewidth"] = 9.5
os.environ["RK_LEAK"] = "1"
os.chdir(os.path.expanduser("~"))
random.seed(1)
warnings.simplefilter("error")
plt.figure()
"""

_SECOND = """
import json, os, sys, matplotlib
import matplotlib.pyplot as plt
state = {"leak": "leak" in globals(), "linewidth": matplotlib.rcParams["lines.linewidth"],
         "env": os.environ.get("RK_LEAK"), "cwd": os.getcwd(), "figures": len(plt.get_fignums()),
         "count": get_ipython().execution_count, "warm": "research_kit.report.country" in sys.modules}
with open(output_dir + "/state.json", "w") as fh:
    json.dump(state, fh)
"""


def _notebook(path, code):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("output_dir = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_a_warm_kernel_is_reset_between_reports(tmp_path):
    first, second = _notebook(tmp_path / "a.ipynb", _FIRST), _notebook(tmp_path / "b.ipynb", _SECOND)
    kernel = WarmKernel(str(tmp_path / "k"))
    try:
        kernel.ensure()
        pid = kernel.pid
        common = dict(staging=str(tmp_path / "staging"), private_dir=str(tmp_path / "private"), timeout=120)
        a = execute_job(ReportJob(key="AAA", notebook=str(first), **common), kernel)
        assert a.ok, a.error
        b = execute_job(ReportJob(key="BBB", notebook=str(second), **common), kernel)
        assert b.ok, b.error
        assert kernel.pid == pid  # the same kernel ran both
    finally:
        kernel.discard()
    state = json.loads((tmp_path / "staging" / "BBB" / "state.json").read_text())
    assert state["leak"] is False and state["env"] is None and state["figures"] == 0
    assert state["linewidth"] != 9.5
    # Execution counts restart: B runs 3 cells, so its last is number 3 (4 when the engine's own
    # start-up request is counted); without the reset it would follow A's three cells (6 or more).
    assert state["count"] <= 4
    assert state["warm"] is True  # the report code was imported before the first report
    assert (tmp_path / "staging" / "BBB" / "index.html").is_file()


def test_a_failed_report_does_not_poison_the_next_one(tmp_path):
    bad = _notebook(tmp_path / "bad.ipynb", "leak = 1\nraise ValueError('this report fails')")
    good = _notebook(tmp_path / "good.ipynb", _SECOND)
    kernel = WarmKernel(str(tmp_path / "k"))
    common = dict(staging=str(tmp_path / "staging"), private_dir=str(tmp_path / "private"), timeout=120)
    try:
        failed = execute_job(ReportJob(key="BAD", notebook=str(bad), **common), kernel)
        assert not failed.ok and "this report fails" in failed.error and failed.failed_cell == 3
        assert not (tmp_path / "staging" / "BAD").exists()
        ok = execute_job(ReportJob(key="GOOD", notebook=str(good), **common), kernel)
        assert ok.ok, ok.error
    finally:
        kernel.discard()
    assert json.loads((tmp_path / "staging" / "GOOD" / "state.json").read_text())["leak"] is False


def test_kernel_sockets_stay_within_the_unix_path_limit_in_a_deep_folder(tmp_path):
    from research_kit.batch.kernels import ipc_kernel_manager_class

    deep = tmp_path / ("a-long-folder-name-" * 6) / "kernels"
    km = ipc_kernel_manager_class(str(deep))(kernel_name="python3")
    try:
        # The socket of each channel is "<ip>-<port>": at most 107 bytes on Linux.
        assert len(f"{km.ip}-65535".encode()) <= 107
    finally:
        import shutil
        from pathlib import Path

        shutil.rmtree(Path(km.ip).parent, ignore_errors=True)


def _fresh_python(code: str) -> str:
    """What ``code`` prints in a new interpreter (what a worker or the batch's own process starts from)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_workers_start_light_and_still_validate_notebooks():
    """The process workers are forked from imports what running and exporting a notebook needs, not the
    statistics (each kernel has those), and notebook validation works without jsonschema's IRI grammars."""
    code = (
        "import sys\n"
        "import research_kit.batch.worker_preload\n"
        "heavy = sorted(m for m in ('research_kit.disclosure', 'research_kit.report.country', 'scipy', 'pandas',"
        " 'matplotlib', 'rfc3987_syntax') if sys.modules.get(m) is not None)\n"
        "assert not heavy, heavy\n"
        "assert {'nbformat', 'papermill', 'research_kit.report.html'} <= set(sys.modules)\n"
        "import nbformat\n"
        "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1')])\n"
        "nbformat.validate(nb)\n"
        "nb.cells[0]['outputs'] = 'not a list'\n"
        "try:\n"
        "    nbformat.validate(nb)\n"
        "except nbformat.ValidationError:\n"
        "    print('invalid caught')\n"
    )
    assert _fresh_python(code) == "invalid caught"


def test_the_batch_starts_its_workers_before_loading_the_statistics():
    """Importing the runner and checking a report's parameters loads no solver: the workers' kernels start
    while the batch's own process loads what it needs."""
    code = (
        "import sys\n"
        "from research_kit.batch import run_reports\n"
        "from research_kit.report import check_parameters, policy_for\n"
        "check_parameters('PRY', 'es', 5)\n"
        "policy_for(5).to_dict()\n"
        "print(sorted(m for m in ('scipy', 'pandas', 'research_kit.disclosure.secondary') if m in sys.modules))\n"
    )
    assert _fresh_python(code) == "[]"


def test_every_disclosure_name_is_there_when_asked_for():
    import research_kit.disclosure as disclosure

    for name in disclosure.__all__:
        assert getattr(disclosure, name).__name__ == name
    assert set(disclosure.__all__) <= set(dir(disclosure))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        disclosure.nothing  # noqa: B018
