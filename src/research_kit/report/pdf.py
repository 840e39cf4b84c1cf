"""A printable PDF of a report page, made by headless Chromium from the report's HTML.

The page's stylesheet carries the print rules (A4 margins, no table or figure split across
pages, headings kept with what follows, link targets written out), so the PDF is the page as
printed. Without Chromium the PDF is skipped with a warning saying how to install it.

Examples
--------
>>> report_pdf("/nonexistent/index.html", "/tmp/x.pdf")
Traceback (most recent call last):
...
research_kit.errors.ReportError: There is no report page at /nonexistent/index.html to print.
"""

from __future__ import annotations

from pathlib import Path

from research_kit.capacity.pdf import html_to_pdf
from research_kit.errors import ReportError

__all__ = ["report_pdf"]


def report_pdf(html_path: str | Path, pdf_path: str | Path | None = None, *, timeout: float = 120) -> Path | None:
    """Print a report page to PDF.

    Parameters
    ----------
    html_path : path
        The self-contained report page (e.g. ``reports/PRY/index.html``).
    pdf_path : path, optional
        Where to write the PDF (default ``report.pdf`` beside the page).
    timeout : float
        Seconds Chromium may take.

    Returns
    -------
    Path or None
        The PDF, or None when Chromium is not installed (a ``ChromiumMissingWarning`` says how to install it).

    Raises
    ------
    ReportError
        If the page does not exist, or Chromium fails or times out.
    """
    html_path = Path(html_path)
    if not html_path.is_file():
        raise ReportError(f"There is no report page at {html_path} to print.")
    pdf_path = Path(pdf_path) if pdf_path is not None else html_path.with_name("report.pdf")
    return html_to_pdf(html_path, pdf_path, timeout=timeout)
