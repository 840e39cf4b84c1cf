"""A community researcher opens explore.ipynb in a real JupyterLab, runs it, and sees protected results.

Drives JupyterLab in headless Chromium (Debian packages chromium and chromium-driver) with selenium.
The server listens on 127.0.0.1 only; the browser is started with its background networking off.
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab_server(repo_root, tmp_path_factory):
    assert Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), (
        "This test needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver); "
        ".ci/run installs them."
    )
    work = tmp_path_factory.mktemp("lab")
    notebooks = work / "notebooks"
    notebooks.mkdir()
    shutil.copy(repo_root / "notebooks" / "explore.ipynb", notebooks / "explore.ipynb")
    token, port = secrets.token_hex(16), _free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(work / "cfg"), "JUPYTER_RUNTIME_DIR": str(work / "rt")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--ServerApp.root_dir={notebooks}",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
         "--LabApp.expose_app_in_browser=True", "--ServerApp.open_browser=False",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=work,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode()[-3000:])
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("JupyterLab did not start within 90 s")
    yield base, token, work
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()


def test_explore_notebook_runs_in_jupyterlab_and_shows_protected_tables(lab_server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    base, token, work = lab_server
    browser.get(f"{base}/lab/tree/explore.ipynb?token={token}")
    wait = WebDriverWait(browser, 120)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")))
    # Wait until the kernel is ready, then run every cell as a user would from the Run menu.
    wait.until(lambda d: d.execute_script(
        "const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        "return !!(w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
        " && w.sessionContext.session.kernel.status === 'idle');"))
    browser.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")

    def rendered(d):
        found = d.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output table.rk-table")
        return found if len(found) >= 2 and d.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output img") else False

    try:
        tables = WebDriverWait(browser, 240).until(rendered)
    except Exception:
        browser.save_screenshot(str(tmp_path / "timeout.png"))
        n_tables = len(browser.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output table.rk-table"))
        n_img = len(browser.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output img"))
        raise AssertionError(f"after 240 s: {n_tables} protected tables, {n_img} images; screenshot {tmp_path / 'timeout.png'}")
    assert not browser.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'] .ansi-red-fg")
    text = " ".join(t.text for t in tables)
    assert "Prueba de VIH en los últimos 12 meses" in text  # labels in the chosen language
    assert browser.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output td.rk-suppressed")  # suppressed cells are marked
    assert not browser.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output .jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
    shot = tmp_path / "explore.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    # Synthetic practice data were created beside the notebooks, as the notebook says.
    assert (work / "data" / "synthetic" / "PRY" / "community_survey.csv").is_file()
