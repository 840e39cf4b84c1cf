"""A country's study: its data, the form it was collected with, and its sampling design.

A study folder holds the export and a ``study.json`` that says how the data were
collected (see :mod:`research_kit.synth` for the layout). :func:`load_study` reads the
export through :func:`research_kit.ingest.read_export`, keeps the eligible consenting
respondents, and builds the sampling design that every estimate uses.

Examples
--------
>>> import research_kit as rk, tempfile
>>> root = tempfile.mkdtemp()
>>> _ = rk.synth.generate_country("UY", root, seed=7)
>>> study = load_study("uy", data_root=root)
>>> study.country.alpha_3, study.design_type
('URY', 'tls')
>>> len(study.respondents) + study.screened_out == len(study.data)
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from research_kit.countries import Country, get_country
from research_kit.errors import DataFileError, DesignError
from research_kit.forms import Form, load_form
from research_kit.ingest import read_export

__all__ = ["Study", "load_study", "DEFAULT_DATA_ROOT"]

#: Where ``research-kit synth`` writes and ``research-kit reports`` reads by default.
DEFAULT_DATA_ROOT = Path("data") / "synthetic"


@dataclass(repr=False)
class Study:
    """One country's survey: data, form, design description.

    Attributes
    ----------
    country : Country
    folder : Path
        The study folder.
    spec : dict
        The contents of ``study.json``.
    form : Form
    data : DataFrame
        Every submission, as read (identifying fields already dropped).
    """

    country: Country
    folder: Path
    spec: dict
    form: Form
    data: pd.DataFrame
    venue_frame: pd.DataFrame | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        # Never the data: a notebook that shows the study must not show respondents' rows.
        return (f"<Study {self.country.alpha_3}: {self.design_type.upper()}, {len(self.data)} submissions, "
                f"form {self.form.form_id!r}, folder {str(self.folder)!r}>")

    def _repr_html_(self) -> str:
        """What JupyterLab shows for a study, in Spanish with English alongside: never the data."""
        import html

        from research_kit.i18n import translator

        words = []
        for language in ("es", "en"):
            _ = translator(language)
            words.append({"country": _("Country"), "design": _("Design"), "respondents": _("Respondents"),
                          "form": _("Form"), "folder": _("Folder"), "rds": _("Respondent-driven sampling (RDS)"),
                          "tls": _("Time-location sampling (TLS)")})
        es, en = words
        t = self.design_type
        values = {"country": f"{self.country.name('es')} ({self.country.alpha_3})",
                  "design": f"{es[t]} · {en[t]}" if t in es else t,
                  "respondents": str(len(self.respondents)),
                  "form": f"{self.form.form_id} {self.form.version}".strip(), "folder": str(self.folder)}
        body = "".join(f"<tr><th scope='row'>{html.escape(es[k])} · {html.escape(en[k])}</th>"
                       f"<td>{html.escape(v)}</td></tr>" for k, v in values.items())
        return f"<table class='rk-table'><tbody>{body}</tbody></table>"

    @property
    def design_type(self) -> str:
        """``'rds'`` (respondent-driven) or ``'tls'`` (time-location, venue clusters)."""
        return self.spec["design"]["type"]

    @cached_property
    def respondents(self) -> pd.DataFrame:
        """Eligible women who gave consent, with one column per registry indicator (1, 0 or NaN)."""
        from research_kit.indicators import add_indicator_columns

        keep = self.data["consent"] == "yes"
        out = add_indicator_columns(self.data.loc[keep].reset_index(drop=True), self.form)
        if self.design_type == "tls":
            out = self._with_tls_weights(out)
        return out

    @property
    def screened_out(self) -> int:
        """Submissions of people who were not eligible or did not consent."""
        return int((self.data["consent"] != "yes").sum())

    def _with_tls_weights(self, resp: pd.DataFrame) -> pd.DataFrame:
        d = self.spec["design"]
        frame = self.venue_frame
        if frame is None:
            raise DesignError(f"{self.folder}: a time-location study needs its venue frame ({d.get('frame')}).")
        unknown = sorted(set(resp[d["psu"]]) - set(frame["venue_id"]))
        if unknown:
            raise DesignError(
                f"{self.folder}: venue(s) {', '.join(unknown[:5])} appear in the data but not in {d.get('frame')}. "
                "Add them to the venue frame with their selection counts."
            )
        f = frame.set_index("venue_id")
        v = resp[d["psu"]]
        # Two-stage selection: venues by simple random sampling within the city, then women at the venue.
        p1 = f.loc[v, "venues_sampled"].to_numpy(float) / f.loc[v, "venues_in_stratum"].to_numpy(float)
        p2 = f.loc[v, "interviewed"].to_numpy(float) / f.loc[v, "attendees"].to_numpy(float)
        out = resp.copy()
        out["stratum"] = f.loc[v, "stratum"].to_numpy()
        out["_weight"] = 1.0 / (p1 * p2)
        return out

    @cached_property
    def design(self):
        """The sampling design of :attr:`respondents`.

        * time-location samples: :class:`~research_kit.design.SurveyDesign` with city strata,
          venue clusters and selection weights; venues are treated as sampled with replacement
          (the usual, conservative approximation of biobehavioural surveys);
        * respondent-driven samples: :class:`~research_kit.design.RDSDesign` from coupons,
          recruiters' coupons and network sizes.
        """
        d = self.spec["design"]
        resp = self.respondents
        if self.design_type == "tls":
            from research_kit.design import SurveyDesign

            return SurveyDesign(resp, weights="_weight", strata="stratum", psu=d["psu"])
        if self.design_type == "rds":
            from research_kit.design import RDSDesign

            return RDSDesign(resp, respondent=d["respondent"], recruiter=d["recruiter"], degree=d["degree"],
                             population_size=d.get("population_size"))
        raise DesignError(f"{self.folder}/study.json: unknown design type {self.design_type!r}; use 'rds' or 'tls'.")


def _find_folder(country: Country, data_path: str | Path | None, data_root: str | Path | None) -> tuple[Path, Path | None]:
    if data_path is None:
        folder = Path(data_root or DEFAULT_DATA_ROOT) / country.alpha_3
        return folder, None
    p = Path(data_path)
    if p.is_dir():
        return p, None
    return p.parent, p


def load_study(country: str | Country, data_path: str | Path | None = None, *, data_root: str | Path | None = None) -> Study:
    """Load a country's study.

    Parameters
    ----------
    country : str or Country
        ISO alpha-2 or alpha-3 code, any case.
    data_path : str or Path, optional
        The export file, or the study folder. By default ``<data_root>/<ISO3>/``.
    data_root : str or Path, optional
        Folder holding one study folder per country (default ``data/synthetic``).

    Raises
    ------
    DataFileError
        If the folder, ``study.json`` or the export is missing, or the study is of another country.
    """
    c = get_country(country)
    folder, data_file = _find_folder(c, data_path, data_root)
    spec_path = folder / "study.json"
    if not spec_path.is_file():
        raise DataFileError(
            f"No study description found at {spec_path}. Each country folder needs a study.json beside its export "
            "(run 'research-kit synth' to create synthetic studies)."
        )
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    if get_country(spec["country"]).alpha_3 != c.alpha_3:
        raise DataFileError(f"{spec_path} describes {spec['country']}, not {c.alpha_3}.")
    form = load_form(spec.get("form", "community_survey"))
    data = read_export(data_file or folder / spec["data"], form)
    frame = None
    if spec["design"].get("frame"):
        frame_path = folder / spec["design"]["frame"]
        if not frame_path.is_file():
            raise DataFileError(f"The venue frame {frame_path} named in {spec_path} does not exist.")
        frame = pd.read_csv(frame_path, dtype={"venue_id": str, "stratum": str})
    return Study(country=c, folder=folder, spec=spec, form=form, data=data, venue_frame=frame)
