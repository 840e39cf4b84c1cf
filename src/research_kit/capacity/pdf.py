"""PDF and screenshots of report pages with headless Chromium.

The HTML reports are self-contained (nothing is loaded from the network), so Chromium prints them
exactly as a reader sees them, with the stylesheet's print rules. When Chromium is not installed the
PDF is skipped with a warning that says how to install it; nothing else of the report is lost.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

from research_kit.errors import ReportError

__all__ = ["chromium", "html_to_pdf", "screenshot", "ChromiumMissingWarning", "CHROMIUM_FLAGS"]

#: Flags for a headless, offline, sandbox-free run (containers and CI run as root).
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-dev-shm-usage", "--hide-scrollbars")
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class ChromiumMissingWarning(UserWarning):
    """Chromium is not installed: the PDF (or screenshot) was not made."""


def chromium() -> str | None:
    """Path of the Chromium executable (``$RK_CHROMIUM``, else the first found on the PATH), or None."""
    env = os.environ.get("RK_CHROMIUM")
    if env:
        return env if Path(env).is_file() else shutil.which(env)
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], out: Path, what: str, timeout: float) -> Path | None:
    exe = chromium()
    if exe is None:
        warnings.warn(f"Chromium was not found, so {out.name} was not written ({what}). Install it (Debian/Ubuntu: "
                      "apt-get install chromium) or set RK_CHROMIUM to its path.", ChromiumMissingWarning, stacklevel=3)
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part{out.suffix}")
    with tempfile.TemporaryDirectory(prefix="rk-chromium-") as profile:
        cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *[a.replace("{out}", str(tmp)) for a in args]]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            tmp.unlink(missing_ok=True)
            raise ReportError(f"Chromium did not finish {what} within {timeout:g} s.") from None
    if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise ReportError(f"Chromium could not make {out.name} ({what}): exit code {proc.returncode}. {' '.join(tail)}")
    tmp.replace(out)
    return out


def html_to_pdf(html: str | Path, pdf: str | Path | None = None, *, timeout: float = 120) -> Path | None:
    """Print a report page to PDF with headless Chromium.

    Parameters
    ----------
    html : path
        The HTML report.
    pdf : path, optional
        Where to write (default: ``report.pdf`` beside the page).
    timeout : float
        Seconds Chromium may take.

    Returns
    -------
    Path or None
        The PDF, or None (with a :class:`ChromiumMissingWarning`) when Chromium is not installed.

    Raises
    ------
    ReportError
        If Chromium fails or times out.
    """
    html = Path(html).resolve()
    if not html.is_file():
        raise ReportError(f"There is no report page at {html} to print.")
    pdf = Path(pdf) if pdf else html.with_name("report.pdf")
    return _run(["--no-pdf-header-footer", "--print-to-pdf={out}", html.as_uri()], pdf, "printing to PDF", timeout)


def screenshot(html: str | Path, png: str | Path, *, width: int = 1100, height: int = 2400,
               timeout: float = 120) -> Path | None:
    """A PNG of the top of a report page as a reader sees it (``width`` × ``height`` pixels)."""
    html = Path(html).resolve()
    if not html.is_file():
        raise ReportError(f"There is no report page at {html} to capture.")
    return _run([f"--window-size={width},{height}", "--screenshot={out}", html.as_uri()], Path(png),
                "taking a screenshot", timeout)
