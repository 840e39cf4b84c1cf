"""Synthetic community-survey data, shaped like a real KoboToolbox export, with known truth.

For each country the generator draws a population (:func:`simulate_population`), samples
it the way the country's fieldwork does (respondent-driven or time-location sampling),
and writes, in ``<out>/<ISO3>/``:

``community_survey.csv``
    the export, exactly as KoboToolbox writes it;
``study.json``
    how the data were collected: the form and its version, the sampling design and the
    columns that carry it, as an organisation would describe its study;
``venue_frame.csv``
    for time-location samples, the venue sampling frame (selection counts per stratum
    and venue) from which weights are computed;
``truth.json``
    the population values every estimate should recover.

Everything is seeded: the same seed gives byte-identical files.

Examples
--------
>>> import tempfile, pathlib
>>> out = generate_country("UY", tempfile.mkdtemp(), seed=7)
>>> sorted(p.name for p in out.iterdir())
['community_survey.csv', 'study.json', 'truth.json', 'venue_frame.csv']
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from research_kit.countries import Country, get_country, parse_countries
from research_kit.forms import Form, load_form
from research_kit.synth.kobo import make_meta, to_kobo_frame, write_kobo_csv
from research_kit.synth.population import CountryProfile, profile, simulate_population
from research_kit.synth.sampling import rds_sample, tls_sample

__all__ = ["generate_country", "generate", "write_population_sizes", "simulate_population", "profile", "population_truth", "DEFAULT_SEED"]

DEFAULT_SEED = 2026
DATA_FILE = "community_survey.csv"


def population_truth(pop: pd.DataFrame, form: Form) -> dict:
    """Population shares of every answer code and means of numeric answers, among those asked.

    ``pop`` is the output of :func:`simulate_population` (eligible, consenting women only).
    """
    shares: dict[str, dict[str, float]] = {}
    means: dict[str, float] = {}
    for f in form.data_fields():
        if f.name not in pop.columns or f.identifying:
            continue
        asked = pop[f.name].astype(str)
        asked = asked[asked != ""]
        if asked.empty:
            continue
        if f.type == "select_one":
            shares[f.name] = {k: float(v) for k, v in asked.value_counts(normalize=True).sort_index().items()}
        elif f.type == "select_multiple":
            parts = asked.str.split()
            shares[f.name] = {c.name: float(parts.map(lambda p, c=c.name: c in p).mean()) for c in form.choice_list(f.list_name)}
        elif f.type in ("integer", "decimal"):
            means[f.name] = float(pd.to_numeric(asked).mean())
    return {
        "population_size": int(len(pop)),
        "hiv_prevalence": float(pop["_hiv"].mean()),
        "mean_degree": float(pop["_degree"].mean()),
        "shares": shares,
        "means": means,
    }


def _study(prof: CountryProfile, form: Form, n_rows: int, pop_size: int, rng: np.random.Generator) -> dict:
    c = prof.country
    if prof.design == "rds":
        design = {
            "type": "rds",
            "respondent": "coupon",
            "recruiter": "recruiter_coupon",
            "degree": "network_size",
            # The organisation's own population size estimate (mapping), not the true size.
            "population_size": int(round(pop_size * rng.uniform(0.85, 1.2), -1)),
        }
    else:
        design = {
            "type": "tls",
            "psu": "venue_id",
            "strata": "stratum",
            "frame": "venue_frame.csv",
            "stages": "venues (stratified by city), then women present at the venue",
        }
    return {
        "country": c.alpha_3,
        "form": form.form_id,
        "form_version": form.version,
        "data": DATA_FILE,
        "export": "kobo_csv",
        "design": design,
        "rows": n_rows,
        "synthetic": True,
    }


def generate_country(country: str | Country, out_dir: str | Path, seed: int = DEFAULT_SEED,
                     form: Form | str | None = None) -> Path:
    """Generate one country's synthetic survey into ``out_dir/<ISO3>/`` and return that folder.

    Parameters
    ----------
    country : str or Country
        ISO alpha-2 or alpha-3 code, any case.
    out_dir : str or Path
        Parent folder; the country folder is created (files are replaced atomically).
    seed : int
        Random seed; the same seed gives identical files.
    form : Form or str, optional
        The community survey form (bundled one by default).
    """
    c = get_country(country)
    form = load_form(form or "community_survey")
    prof = profile(c)
    rng = np.random.default_rng([seed, int.from_bytes(c.alpha_3.encode(), "big"), 1])
    pop = simulate_population(c, seed=seed, form=form)
    frame = None
    if prof.design == "rds":
        sample = rds_sample(pop, prof, rng)
    else:
        sample, frame = tls_sample(pop, prof, rng)
    version = "v" + hashlib.sha256(f"{form.form_id}{form.version}".encode()).hexdigest()[:22]
    meta = make_meta(len(sample), rng, prof.fieldwork_start, prof.utc_offset, version)
    answers = sample.reset_index(drop=True)
    for col in ("start", "end", "today", "deviceid"):
        answers[col] = meta[col]
    export = to_kobo_frame(answers, form, meta)

    folder = Path(out_dir) / c.alpha_3
    folder.mkdir(parents=True, exist_ok=True)
    write_kobo_csv(export, folder / DATA_FILE)
    if frame is not None:
        frame.to_csv(folder / "venue_frame.csv", index=False, lineterminator="\n")
    study = _study(prof, form, len(export), len(pop), rng)
    (folder / "study.json").write_text(json.dumps(study, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    truth = {"country": c.alpha_3, "seed": seed, "design": prof.design, **population_truth(pop, form)}
    (folder / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return folder


POPULATION_FILE = "population_sizes.csv"


def write_population_sizes(out_dir: str | Path) -> Path:
    """Write ``<out_dir>/population_sizes.csv`` from every country's ``truth.json``.

    The file is what the regional report weights pooled estimates with
    (``country,population_size,source``, see :mod:`research_kit.regional.population`); for
    synthetic data the sizes are the simulated populations' true sizes.
    """
    out_dir = Path(out_dir)
    rows = []
    for c in parse_countries(None):
        truth = out_dir / c.alpha_3 / "truth.json"
        if truth.is_file():
            size = json.loads(truth.read_text(encoding="utf-8"))["population_size"]
            rows.append({"country": c.alpha_3, "population_size": int(size),
                         "source": "tamaño sintético · synthetic size (truth.json)"})
    path = out_dir / POPULATION_FILE
    pd.DataFrame(rows, columns=["country", "population_size", "source"]).to_csv(path, index=False, lineterminator="\n")
    return path


def generate(out_dir: str | Path, countries: str | Iterable[str] | None = None, seed: int = DEFAULT_SEED) -> list[Path]:
    """Generate the synthetic survey of several countries (all 17 by default).

    Also writes ``<out_dir>/population_sizes.csv`` (see :func:`write_population_sizes`) for
    every country with a synthetic study in ``out_dir``.
    """
    folders = [generate_country(c, out_dir, seed=seed) for c in parse_countries(countries)]
    write_population_sizes(out_dir)
    return folders
