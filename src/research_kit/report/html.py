"""Turn an executed notebook into a self-contained HTML report.

The page has no code and no prompts, embeds its images, inlines its stylesheet and
loads nothing from the network (the ``rk_report`` template replaces JupyterLab's
require.js, MathJax and mermaid blocks). Warnings a cell printed to stderr go to the
log, not into the report. The file appears only when complete.
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from pathlib import Path

import nbformat

__all__ = ["notebook_to_html", "TEMPLATE_NAME", "REMOVE_TAG"]

TEMPLATE_NAME = "rk_report"
#: Cells tagged with this are for notebook readers only and never reach a report.
REMOVE_TAG = "remove-in-report"


def _templates_dir() -> str:
    return str(resources.files("research_kit.report").joinpath("templates"))


@cache
def _exporter(language: str):
    """One exporter per language for the process: its compiled templates serve every report a worker exports."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    cfg = Config()
    cfg.TagRemovePreprocessor.remove_cell_tags = {REMOVE_TAG}
    cfg.TagRemovePreprocessor.enabled = True
    exporter = HTMLExporter(
        config=cfg,
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[_templates_dir()],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        language_code=language,
    )
    exporter.register_preprocessor(TagRemovePreprocessor(config=cfg), enabled=True)
    return exporter


def notebook_to_html(notebook: str | Path | nbformat.NotebookNode, out: str | Path, *, language: str = "es",
                     title: str | None = None) -> Path:
    """Export an executed notebook to ``out`` as a report page.

    Parameters
    ----------
    notebook : path or NotebookNode
        The executed notebook.
    out : path
        The HTML file to write (written to a temporary name, then renamed).
    language : str
        Value of the page's ``lang`` attribute.
    title : str, optional
        The page title (default: the notebook's name).
    """
    nb = nbformat.read(str(notebook), as_version=4) if not isinstance(notebook, nbformat.NotebookNode) else notebook
    nb = nbformat.from_dict(nb)  # a copy: the caller's notebook keeps its outputs
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in cell.get("outputs", [])
                               if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    if title:
        nb.metadata["title"] = title
    body, _resources = _exporter(language).from_notebook_node(nb)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(out)
    return out
