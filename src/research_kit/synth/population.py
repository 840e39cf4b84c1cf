"""A synthetic population of female sex workers for one country, with known truth.

The population is what a survey samples from. Every person in it has an answer to
every question of the community survey, drawn from a model with the correlations the
field reports (police violence lowers HIV testing, migrants have less access, street
work carries more violence, members of an organisation reach more services) and with
rare categories, so that small cells really occur. Skip logic is then applied with the
form's own ``relevant`` expressions, so a population record reads exactly as a form
filled in on a phone would.

Because the population is known, so is the truth every estimator should recover.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from research_kit.countries import Country, get_country
from research_kit.forms import Form, load_form
from research_kit.forms.expressions import evaluate

__all__ = ["CountryProfile", "profile", "simulate_population", "apply_skip_logic"]


@dataclass(frozen=True)
class CountryProfile:
    """Parameters of one country's synthetic survey (``synth/profiles.csv``)."""

    country: Country
    design: str  # "rds" | "tls"
    n: int
    hiv_prevalence: float
    migrant_share: float
    mandatory_testing: float
    free_testing: float
    prep_available: bool
    id_card_available: bool
    police_level: float
    utc_offset: str
    fieldwork_start: str


@cache
def _profiles() -> dict[str, CountryProfile]:
    text = resources.files("research_kit.synth").joinpath("profiles.csv").read_text(encoding="utf-8")
    out = {}
    for r in csv.DictReader(text.splitlines()):
        c = get_country(r["alpha_3"])
        out[c.alpha_3] = CountryProfile(
            country=c,
            design=r["design"],
            n=int(r["n"]),
            hiv_prevalence=float(r["hiv_prevalence"]),
            migrant_share=float(r["migrant_share"]),
            mandatory_testing=float(r["mandatory_testing"]),
            free_testing=float(r["free_testing"]),
            prep_available=r["prep_available"] == "1",
            id_card_available=r["id_card_available"] == "1",
            police_level=float(r["police_level"]),
            utc_offset=r["utc_offset"],
            fieldwork_start=r["fieldwork_start"],
        )
    return out


def profile(country: str | Country) -> CountryProfile:
    """The synthetic-survey profile of a country (design, sample size, rates)."""
    return _profiles()[get_country(country).alpha_3]


def _logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def _yes_no(rng, p) -> np.ndarray:
    return np.where(rng.random(np.shape(p)) < p, "yes", "no")


def _with_refusals(rng, values: np.ndarray, rate: float) -> np.ndarray:
    """Some respondents prefer not to answer sensitive questions."""
    out = values.astype(object).copy()
    out[rng.random(len(out)) < rate] = "no_answer"
    return out


# Where foreign-born sex workers come from, by destination sub-region.
_ORIGINS = {
    "southern_cone": (["ven", "pry", "per", "bol", "dom", "col", "other"], [0.30, 0.20, 0.15, 0.12, 0.10, 0.08, 0.05]),
    "andean": (["ven", "col", "per", "cub", "dom", "other"], [0.70, 0.10, 0.06, 0.05, 0.04, 0.05]),
    "central_america_caribbean": (["ven", "nic", "hnd", "gtm", "slv", "hti", "col", "cub", "other"],
                                  [0.25, 0.18, 0.14, 0.12, 0.08, 0.08, 0.07, 0.05, 0.03]),
}
_VENUES = ["street", "bar", "brothel", "hotel", "online", "other"]
_VENUE_P = [0.33, 0.27, 0.15, 0.09, 0.13, 0.03]
_OTHER_VENUE_TEXT = ["departamento privado", "salón de masajes", "casa particular", "plaza", "agencia"]
_SERVICES = ["condoms", "lubricant", "sti_check", "hiv_test", "prep", "peer_outreach", "counselling"]


def simulate_population(country: str | Country, seed: int = 2026, form: Form | None = None,
                        size: int | None = None) -> pd.DataFrame:
    """Draw a country's population of sex workers, every person with every answer.

    Parameters
    ----------
    country : str or Country
        ISO alpha-2 or alpha-3 code.
    seed : int
        Seed of the random generator; the same seed gives the same population.
    form : Form, optional
        The community survey form (the bundled one by default); its city list and skip
        logic are used.
    size : int, optional
        Population size; by default about eight times the country's sample size.

    Returns
    -------
    pandas.DataFrame
        One row per person with the form's fields (codes as text, ``''`` where a question
        does not apply) plus latent columns that start with ``_``: ``_degree`` (true number
        of sex-worker contacts), ``_venue`` (the venue where she works), ``_hiv`` (true HIV
        status) and ``_person`` (a population index).

    Examples
    --------
    >>> pop = simulate_population("PY", seed=1, size=500)
    >>> len(pop), pop["country"].iloc[0]
    (500, 'pry')
    >>> set(pop.loc[pop["hiv_test_ever"] == "no", "hiv_test_12m"])
    {''}
    """
    prof = profile(country)
    c = prof.country
    form = load_form(form or "community_survey")
    rng = np.random.default_rng([seed, int.from_bytes(c.alpha_3.encode(), "big")])
    N = int(size or prof.n * rng.uniform(6.0, 10.0))

    cities = [ch.name for ch in form.choice_list(form.field("city").list_name) if ch.extra.get("country") == c.alpha_3.lower()]
    # The capital holds most of the population; the last city is small, so rare cells occur.
    city_w = np.array([0.50, 0.24, 0.16, 0.10, 0.06][: len(cities)], dtype=float)
    city_w[-1] = min(city_w[-1], 0.05)
    city = rng.choice(cities, size=N, p=city_w / city_w.sum())

    age = np.clip(18 + np.round(rng.gamma(2.2, 6.5, N)), 18, 72).astype(int)
    migrant = rng.random(N) < prof.migrant_share * np.where(age < 30, 1.3, 0.8)
    origins, origin_p = _ORIGINS[c.node]
    origin_p = np.array(origin_p) / np.sum(origin_p)
    birth_country = np.where(migrant, rng.choice(origins, size=N, p=origin_p), "")
    birth_country = np.where(birth_country == c.alpha_3.lower(), "other", birth_country)
    years_in_country = np.where(migrant, np.minimum(age - 16, rng.geometric(0.25, N) - 1), -1)
    education = rng.choice(["none", "primary", "secondary", "technical", "university"], size=N,
                           p=[0.06, 0.35, 0.40, 0.10, 0.09])
    venue_type = rng.choice(_VENUES, size=N, p=_VENUE_P)
    venue_other = np.where(venue_type == "other", rng.choice(_OTHER_VENUE_TEXT, size=N), "")
    years_sw = np.minimum(age - 12, np.round(rng.gamma(1.6, 4.0, N))).astype(int)
    clients_week = np.minimum(150, rng.negative_binomial(3, 3 / (3 + 12), N))

    # Venues: the clusters of time-location sampling, and the social circles of RDS recruitment.
    venue = np.empty(N, dtype=object)
    for ci, name in enumerate(cities):
        idx = np.flatnonzero(city == name)
        n_venues = max(3, int(np.ceil(len(idx) / 35)))
        venue[idx] = [f"{c.alpha_3}-V{ci + 1}{v:02d}" for v in rng.integers(0, n_venues, len(idx))]
    venue_codes, venue_idx = np.unique(venue.astype(str), return_inverse=True)
    venue_effect = rng.normal(0, 0.45, len(venue_codes))[venue_idx]  # intra-venue correlation

    street = venue_type == "street"
    online = venue_type == "online"
    degree = np.exp(rng.normal(2.2, 0.75, N)) * np.where(street | (venue_type == "bar"), 1.3, 1.0) * np.where(online, 0.6, 1.0)
    degree = np.clip(np.round(degree), 1, 400).astype(int)
    org_member = rng.random(N) < _logistic(-1.3 + 0.35 * np.log(degree) + 0.3 * venue_effect)

    # Violence: a latent propensity raised by street work, migration and the country's policing.
    v = rng.normal(0, 0.8, N) + 0.8 * street + 0.5 * migrant - 0.4 * online + prof.police_level + venue_effect
    p_harass, p_extort = _logistic(-1.3 + v), _logistic(-2.2 + v)
    p_arrest, p_psex = _logistic(-2.5 + v + 0.4 * migrant), _logistic(-3.9 + v)
    p_pcond = _logistic(-2.6 + v)
    police = {k: rng.random(N) < p for k, p in [("police_harassment", p_harass), ("police_extortion", p_extort),
                                                 ("police_arrest", p_arrest), ("police_sexual", p_psex),
                                                 ("police_condoms", p_pcond)]}
    any_police = np.any(np.column_stack(list(police.values())), axis=1)
    w = 0.6 * v - 0.3 * prof.police_level
    clients = {k: rng.random(N) < p for k, p in [("client_physical", _logistic(-1.7 + w)),
                                                  ("client_sexual", _logistic(-2.5 + w)),
                                                  ("client_robbery", _logistic(-1.8 + 0.5 * w))]}

    # HIV testing: police violence and migration keep women away; organisations bring them in.
    t = 1.6 - 0.7 * any_police - 0.8 * migrant + 0.7 * org_member + 0.4 * venue_effect + 0.8 * (prof.mandatory_testing - 0.4)
    tested_ever = rng.random(N) < _logistic(t)
    tested_12m = tested_ever & (rng.random(N) < _logistic(0.8 - 0.5 * any_police - 0.5 * migrant + 0.5 * org_member))
    got_result = tested_ever & (rng.random(N) < 0.9)
    mandatory = tested_ever & (rng.random(N) < prof.mandatory_testing)
    free = rng.random(N) < np.clip(prof.free_testing - 0.15 * mandatory - 0.1 * migrant, 0.05, 0.98)
    confidential = rng.random(N) < np.where(mandatory, 0.55, 0.85)
    voluntary = rng.random(N) < np.where(mandatory, 0.25, 0.92)

    hiv = rng.random(N) < np.clip(prof.hiv_prevalence * np.where(age >= 35, 1.6, 0.7) * np.where(street, 1.3, 1.0)
                                  * np.where(clients["client_sexual"], 1.6, 1.0), 0, 0.5)
    last_result = np.where(hiv, np.where(rng.random(N) < 0.85, "positive", "negative"),
                           np.where(rng.random(N) < 0.006, "indeterminate", "negative"))
    last_result = np.where(rng.random(N) < 0.03, "no_answer", last_result)
    on_art = rng.random(N) < 0.72

    condom_client = _yes_no(rng, 0.88 - 0.15 * clients["client_sexual"] - 0.05 * migrant)
    has_partner = rng.random(N) < 0.45
    condom_partner = _yes_no(rng, np.full(N, 0.28))

    # Prevention services in the last three months; 'none' only when nothing was received.
    base = {"condoms": 0.55, "lubricant": 0.30, "sti_check": 0.25, "hiv_test": 0.22,
            "prep": 0.06 if prof.prep_available else 0.0, "peer_outreach": 0.30, "counselling": 0.18}
    got = {s: rng.random(N) < np.clip(p * np.where(org_member, 1.6, 1.0) * np.where(migrant, 0.7, 1.0), 0, 0.97)
           for s, p in base.items()}
    services = [" ".join(s for s in _SERVICES if got[s][i]) or "none" for i in range(N)]
    prep_use = rng.random(N) < (0.08 if prof.prep_available else 0.01) * np.where(org_member, 1.8, 1.0)

    stigma_p = {"denied_care": 0.08 + 0.08 * migrant, "avoided_care": 0.16 + 0.12 * any_police,
                "disclosed_without_consent": np.full(N, 0.07), "verbal_abuse_health": 0.14 + 0.05 * street}

    id_card = np.where(prof.id_card_available,
                       np.where(rng.random(N) < (0.5 if c.alpha_3 == "BOL" else 0.3), "yes", "no"),
                       np.where(rng.random(N) < 0.85, "not_available", "no"))

    times = rng.integers(0, 3, N)
    df = pd.DataFrame({
        "country": c.alpha_3.lower(),
        "city": city,
        "sampling": prof.design,
        "interviewer_id": [f"ENC{k:02d}" for k in rng.integers(1, 9, N)],
        "coupon": "", "is_seed": "", "recruiter_coupon": "",
        "network_size": np.clip(np.round(degree * np.exp(rng.normal(0, 0.25, N))), 1, 500).astype(int).astype(str),
        "coupons_given": "",
        "venue_id": np.where(prof.design == "tls", venue.astype(str), ""),
        "time_slot": np.where(prof.design == "tls", np.where(times == 0, "day", "night"), ""),
        "elig_age": "yes", "elig_sold_sex": "yes", "consent": "yes",
        "age": age.astype(str),
        "education": education,
        "nationality": np.where(migrant, "foreign", "national"),
        "birth_country": birth_country,
        "years_in_country": np.where(migrant, years_in_country.astype(str), ""),
        "venue_type": venue_type,
        "venue_other": venue_other,
        "years_sex_work": years_sw.astype(str),
        "clients_week": clients_week.astype(str),
        "hiv_test_ever": np.where(tested_ever, "yes", "no"),
        "hiv_test_12m": np.where(tested_12m, "yes", "no"),
        "hiv_test_result": np.where(got_result, "yes", "no"),
        "test_mandatory": np.where(mandatory, "yes", "no"),
        "test_free": np.where(free, "yes", "no"),
        "test_confidential": np.where(confidential, "yes", "no"),
        "test_voluntary": np.where(voluntary, "yes", "no"),
        "hiv_last_result": last_result,
        "on_art": np.where(on_art, "yes", "no"),
        "condom_last_client": _with_refusals(rng, condom_client, 0.02),
        "has_partner": np.where(has_partner, "yes", "no"),
        "condom_last_partner": _with_refusals(rng, condom_partner, 0.03),
        "services_3m": services,
        "prep_use": np.where(prep_use, "yes", "no"),
        **{k: _with_refusals(rng, _yes_no(rng, p), 0.02) for k, p in stigma_p.items()},
        **{k: _with_refusals(rng, np.where(x, "yes", "no"), 0.015) for k, x in police.items()},
        **{k: _with_refusals(rng, np.where(x, "yes", "no"), 0.015) for k, x in clients.items()},
        "knows_rights": _yes_no(rng, 0.5 + 0.2 * org_member),
        "reported_violence": _yes_no(rng, np.full(N, 0.18) + 0.1 * org_member),
        "legal_support": _with_refusals(rng, _yes_no(rng, 0.12 + 0.12 * org_member), 0.02),
        "sw_id_card": id_card,
        "org_member": np.where(org_member, "yes", "no"),
        "comments": np.where(rng.random(N) < 0.04, "Gracias por preguntarnos.", ""),
        "_degree": degree,
        "_venue": venue.astype(str),
        "_hiv": hiv,
        "_person": np.arange(N),
    })
    return apply_skip_logic(df, form)


def apply_skip_logic(frame: pd.DataFrame, form: Form) -> pd.DataFrame:
    """Blank every answer whose question was not relevant, and fill ``calculate`` fields.

    Fields are processed in form order, so a later question sees earlier answers exactly
    as the phone would.
    """
    out = frame.copy()
    for f in form.data_fields():
        if f.name not in out.columns and f.type != "calculate":
            continue
        rel = f.all_relevant
        if f.type == "calculate" and f.calculation:
            value = evaluate(f.calculation, out).astype(str)
            out[f.name] = value if rel is None else value.where(evaluate(rel, out).astype(bool), "")
            continue
        if rel is not None and f.name in out.columns:
            keep = evaluate(rel, out).astype(bool).to_numpy()
            out.loc[~keep, f.name] = ""
    return out
