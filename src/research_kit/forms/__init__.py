"""XLSForm questionnaires: the form model, the bundled forms and XLSForm expressions.

* :mod:`research_kit.forms.model` — the typed model (:class:`Form`, :class:`Field`, :class:`Group`,
  :class:`Choice`) read with pyxform;
* :mod:`research_kit.forms.expressions` — ODK XPath evaluated over whole columns;
* :mod:`research_kit.forms.schema` — form → plain dictionary → pandera schema (``data_schema/``);
* :mod:`research_kit.forms.codebook` — codebooks in es / en / pt, skip logic in plain words.

Examples
--------
>>> from research_kit.forms import load_form
>>> form = load_form("community_survey")
>>> form.field("venue_type").label("en")
'Where do you mainly find your clients?'
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from research_kit.errors import FormError
from research_kit.forms.model import Choice, Field, Form, Group, language_code, read_xlsform

__all__ = ["Choice", "Field", "Form", "Group", "read_xlsform", "language_code", "load_form", "surveys_dir", "FORMS"]

def surveys_dir() -> Path:
    """Folder holding the bundled XLSForms.

    In a checkout (editable install) that is the repository's ``surveys/`` folder; in a wheel,
    the copy packaged under ``research_kit/surveys``.
    """
    here = Path(__file__).resolve()
    repo = here.parents[3] / "surveys"
    if repo.is_dir():
        return repo
    return here.parents[1] / "surveys"


def _bundled() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in surveys_dir().glob("*.xlsx") if not p.name.startswith(("~$", "."))))


#: Forms shipped in ``surveys/`` (every XLSForm there: each has its schema in ``data_schema/``).
FORMS: tuple[str, ...] = _bundled()


@cache
def _load(path: Path, mtime: float) -> Form:
    return read_xlsform(path)


def load_form(form: str | Path | Form) -> Form:
    """A form by bundled name (``'community_survey'``) or by path to an XLSForm; cached per file version."""
    if isinstance(form, Form):
        return form
    path = Path(form)
    if path.suffix.lower() not in (".xlsx", ".xls"):
        path = surveys_dir() / f"{form}.xlsx"
        if not path.is_file():
            raise FormError(f"There is no bundled form called {form!r}. Bundled forms: {', '.join(FORMS)}; or give the path of an XLSForm.")
    path = path.resolve()
    if not path.is_file():
        raise FormError(f"The form file {path} does not exist.")
    return _load(path, path.stat().st_mtime)
