"""HTML pieces shared by the country and regional reports: fragments, escaping, embedded figures."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

__all__ = ["Html", "esc", "figure_html"]


class Html:
    """An HTML fragment that JupyterLab and nbconvert render as such.

    Examples
    --------
    >>> Html("<p>Hola</p>")._repr_html_()
    '<p>Hola</p>'
    """

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


def esc(text) -> str:
    """Text made safe to put inside HTML.

    Examples
    --------
    >>> esc("5 < 25 & 'x'")
    '5 &lt; 25 &amp; &#x27;x&#x27;'
    """
    return html.escape(str(text))


def figure_html(fig, alt: str, folder: Path | None = None, name: str | None = None) -> str:
    """A figure embedded as PNG (nothing is loaded from elsewhere), also saved as PNG and SVG in ``folder``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Drawn from protected tables only (the callers' figure functions refuse anything else).
    alt : str
        Text alternative for screen readers.
    folder, name : optional
        Where the report's figures go (``<folder>/<name>.png`` and ``.svg``); nothing is written without them.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> figure_html(Figure(figsize=(1, 1)), "empty").startswith("<figure class='rk-figure'><img src='data:image/png")
    True
    """
    from matplotlib import rc_context

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    if folder is not None and name:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.png").write_bytes(buf.getvalue())
        # The layout was worked out for the PNG and stays in the axes' positions: the SVG need not
        # work it out again (a quarter of the drawing time).
        fig.set_layout_engine("none")
        # Text stays text (editable and searchable in the partners' publications, and quicker to write);
        # no date and fixed element ids, so the same figure gives the same file on every run.
        with rc_context({"svg.fonttype": "none", "svg.hashsalt": "research_kit"}):
            fig.savefig(folder / f"{name}.svg", format="svg", metadata={"Date": None})
    data = base64.b64encode(buf.getvalue()).decode()
    return f"<figure class='rk-figure'><img src='data:image/png;base64,{data}' alt='{esc(alt)}'/></figure>"
