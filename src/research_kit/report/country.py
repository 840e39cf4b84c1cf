"""The country report: everything the country-report notebook shows, computed by the library.

The notebook only creates a :class:`CountryReport` from its parameters and displays
what its methods return; every number is estimated with the study's sampling design and
passes through disclosure control before it is shown, written or drawn.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import io
from functools import cached_property
from pathlib import Path

import pandas as pd

from research_kit import __version__
from research_kit.disclosure import ProtectedTable, protect_counts, protect_estimates
from research_kit.disclosure.publish import write_table
from research_kit.i18n import format_date, format_number, translator
from research_kit.report.parameters import check_parameters, policy_for
from research_kit.report.figures import estimate_chart
from research_kit.report.labels import age_group_labels, choice_labels, indicator_labels
from research_kit.report.tables import table_html
from research_kit.study import load_study

__all__ = ["CountryReport", "check_parameters", "policy_for"]

#: Indicators of the key-indicator table and chart, in the order shown.
KEY_INDICATORS = ("testing_12m", "status_awareness", "on_art", "condom_last_client", "condom_last_partner",
                  "prevention_coverage", "prep_use", "avoided_care", "test_mandatory", "police_any",
                  "client_violence", "legal_support", "org_member")
#: Indicators shown by age group.
AGE_INDICATORS = ("testing_12m", "prevention_coverage", "police_any", "client_violence")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class _Html:
    """An HTML fragment that JupyterLab and nbconvert render as such."""

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


class CountryReport:
    """A country's report, computed from its study with its own sampling design.

    Parameters
    ----------
    country : str
        ISO alpha-2 or alpha-3 code, any case.
    data_path : str, optional
        The export file or the study folder (default: ``<data_root>/<ISO3>``).
    data_root : str, optional
        Folder with one study folder per country (default ``data/synthetic``).
    language : str
        ``es`` (default), ``en`` or ``pt``.
    min_count : int
        Smallest count that may be published (default 5).
    output_dir : str, optional
        Where the report's published tables and figures are written (``<output_dir>/<ISO3>/``).

    Examples
    --------
    >>> import research_kit as rk, tempfile
    >>> root = tempfile.mkdtemp()
    >>> _ = rk.synth.generate_country("UY", root, seed=7)
    >>> report = CountryReport("uy", data_root=root, language="en")
    >>> report.indicator_table().kind
    'estimate'
    """

    def __init__(self, country: str, *, data_path=None, data_root=None, language: str = "es", min_count=5,
                 output_dir=None):
        self.country, self.language, self.min_count = check_parameters(country, language, min_count, data_path)
        self._ = translator(language)
        self.locale = self.country.locale(language)
        self.study = load_study(self.country, data_path, data_root=data_root)
        self.policy = policy_for(self.min_count)
        self.output_dir = Path(output_dir) / self.country.alpha_3 if output_dir else None
        self.created = dt.date.today()
        self._published: dict[str, ProtectedTable] = {}

    # ---- helpers -----------------------------------------------------------------------
    def _choice_labels(self, field: str) -> dict[str, str]:
        return choice_labels(self.study.form, field, self.language, self.country)

    def _indicator_labels(self) -> dict[str, str]:
        return indicator_labels(self.language)

    def _publish(self, table_id: str, pt: ProtectedTable, caption: str, headers: dict, labels: dict) -> ProtectedTable:
        pt.meta.update({"table_id": table_id, "caption": caption, "headers": headers, "labels": labels,
                        "locale": self.locale, "language": self.language})
        self._published[table_id] = pt
        if self.output_dir is not None:
            # Machine-readable beside the report, so that anyone can audit what was published:
            # counts of respondents share one measure, indicator percentages another.
            write_table(pt, self.output_dir / "tables", table_id,
                        measure="respondents" if pt.kind == "count" else "indicator",
                        fixed={"country": self.country.alpha_3})
        return pt

    @cached_property
    def _estimates(self) -> pd.DataFrame:
        from research_kit import indicators

        return indicators.compute(self.study.design, list(KEY_INDICATORS))

    # ---- what the notebook shows ---------------------------------------------------------
    def header(self) -> _Html:
        """Title block: country, sub-regional node, date, form version."""
        _ = self._
        name = self.country.name(self.language)
        kicker = _("Community survey of female sex workers")
        return _Html(
            f"<header class='rk-header'><p class='rk-kicker'>{html.escape(kicker)}</p>"
            f"<h1>{html.escape(name)}</h1>"
            f"<p class='rk-sub'>{html.escape(self.country.node_name(self.language))} · "
            f"{html.escape(format_date(self.created, self.locale))}</p></header>"
        )

    def method(self) -> _Html:
        """How the data were collected, in plain words."""
        _ = self._
        s = self.study
        resp = s.respondents
        n = format_number(len(resp), self.locale)
        cities = resp["city"].nunique()
        if s.design_type == "rds":
            seeds = int((resp["is_seed"] == "yes").sum())
            text = _("{n} women were interviewed in {cities} cities by respondent-driven sampling: the survey started "
                     "with {seeds} women known to the organisation (seeds), and each participant invited others with "
                     "coupons.").format(n=n, cities=cities, seeds=seeds)
            text += " " + _("Estimates weight each woman by the inverse of her network size (RDS-II, Volz–Heckathorn) "
                            "so that women with many contacts, who are more likely to be recruited, do not count more.")
        else:
            venues = resp["venue_id"].nunique()
            text = _("{n} women were interviewed at {venues} venues in {cities} cities by time-location sampling: venues "
                     "were drawn at random in each city, then women present at each venue.").format(
                n=n, venues=venues, cities=cities)
            text += " " + _("Estimates use sampling weights, with cities as strata and venues as clusters.")
        heading = _("How the survey was done")
        text2 = _("Percentages come with 95% confidence intervals that take the sampling design into account.")
        return _Html(f"<section><h2>{html.escape(heading)}</h2>"
                     f"<p>{html.escape(text)}</p><p>{html.escape(text2)}</p></section>")

    def sample_tables(self) -> _Html:
        """Who answered: respondents by city, age group, workplace and nationality (counts, protected)."""
        _ = self._
        resp = self.study.respondents
        heading = _("Who answered")
        parts = [f"<h2>{html.escape(heading)}</h2>"]
        for field, title in (("city", _("City")), ("age_group", _("Age group")), ("venue_type", _("Main workplace")),
                             ("nationality", _("Nationality"))):
            labels = self._choice_labels(field) if field != "age_group" else age_group_labels(self.language)
            order = list(labels)
            counts = resp[field].value_counts().reindex(order, fill_value=0)
            table = pd.DataFrame({field: order, "count": counts.to_numpy()})
            pt = protect_counts(table, self.policy, dimension=field)
            self._publish(f"sample_{field}", pt, _("Respondents by {what}").format(what=title.lower()),
                          {field: title}, {field: labels})
            parts.append(table_html(pt, self.language, self.locale))
        return _Html("<section class='rk-sample'>" + "".join(parts) + "</section>")

    def indicator_table(self) -> ProtectedTable:
        """Key indicators for the country, with 95% confidence intervals (protected)."""
        _ = self._
        pt = protect_estimates(self._estimates, self.policy, by=["indicator"])
        return self._publish("key_indicators", pt, _("Key indicators"), {"indicator": _("Indicator")},
                             {"indicator": self._indicator_labels()})

    def indicator_figure(self) -> _Html:
        """Bar chart of the key indicators; suppressed ones are labelled, not drawn."""
        _ = self._
        pt = self._published.get("key_indicators") or self.indicator_table()
        fig = estimate_chart(pt, label_column="indicator", language=self.language, locale=self.locale,
                             title=_("Key indicators"))
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        if self.output_dir is not None:
            folder = self.output_dir / "figures"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "key_indicators.png").write_bytes(buf.getvalue())
            fig.savefig(folder / "key_indicators.svg", format="svg")
        data = base64.b64encode(buf.getvalue()).decode()
        alt = html.escape(_("Bar chart of the key indicators with 95% confidence intervals"))
        return _Html(f"<figure class='rk-figure'><img src='data:image/png;base64,{data}' alt='{alt}'/></figure>")

    def age_table(self) -> ProtectedTable:
        """Selected indicators by age group (under 25, 25 and older), protected."""
        from research_kit import indicators

        _ = self._
        est = indicators.compute(self.study.design, list(AGE_INDICATORS), by="age_group")
        pt = protect_estimates(est, self.policy, by=["indicator", "age_group"], group="indicator")
        return self._publish("indicators_by_age", pt, _("Indicators by age group"),
                             {"indicator": _("Indicator"), "age_group": _("Age group")},
                             {"indicator": self._indicator_labels(), "age_group": age_group_labels(self.language)})

    def notes(self) -> _Html:
        """Disclosure rules applied, definitions, and where the numbers come from."""
        from research_kit import indicators

        _ = self._
        p = self.policy
        rules = _("To protect the women who answered, counts under {k} are not shown (—), nor percentages based on "
                  "fewer than {d} women, or where fewer than {k} women have or do not have the characteristic. "
                  "Percentages based on {d} to {c} women are shown in parentheses: interpret them with caution.").format(
            k=p.min_count, d=p.min_denominator, c=p.caution_denominator - 1)
        defs = "".join(f"<dt>{html.escape(i.name(self.language))}</dt><dd>{html.escape(i.definition(self.language))}</dd>"
                       for i in indicators.get(KEY_INDICATORS))
        s = self.study
        data_file = Path(s.data.attrs["source"])
        prov = [
            (_("Data file"), f"{data_file.name} (SHA-256 {_sha256(data_file)[:16]}…)"),
            (_("Form"), f"{s.form.form_id} {s.form.version}"),
            (_("Design"), s.design_type.upper()),
            (_("Disclosure policy"), f"min_count={p.min_count}, min_denominator={p.min_denominator}"),
            (_("Software"), f"research_kit {__version__}"),
        ]
        t_notes, t_defs, t_where = _("Notes"), _("Definitions"), _("Where these numbers come from")
        prov_html = "".join(f"<tr><th scope='row'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in prov)
        return _Html(
            f"<section class='rk-notes'><h2>{html.escape(t_notes)}</h2><p>{html.escape(rules)}</p>"
            f"<h3>{html.escape(t_defs)}</h3><dl>{defs}</dl>"
            f"<h3>{html.escape(t_where)}</h3><table class='rk-prov'>{prov_html}</table></section>"
        )

    @property
    def published(self) -> dict[str, ProtectedTable]:
        """Every table this report has published so far, by table id."""
        return dict(self._published)
