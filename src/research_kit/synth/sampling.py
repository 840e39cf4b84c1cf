"""Draw survey samples from a synthetic population the way fieldwork does.

* :func:`rds_sample` — respondent-driven sampling: seeds chosen through the
  organisation, three coupons each, recruits drawn in proportion to their network size
  with homophily (same city, same migrant status, same kind of venue), new seeds when
  chains die out.
* :func:`tls_sample` — time-location sampling: venues stratified by city, a simple
  random sample of venues in each city, then of the women present at each venue.

Both also add the people who were screened out (not eligible, or no consent): real
exports hold their rows too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research_kit.synth.population import CountryProfile

__all__ = ["rds_sample", "tls_sample"]


def _screen_outs(rng, pop: pd.DataFrame, k: int) -> pd.DataFrame:
    """People who came to an interview but were not eligible or did not consent."""
    rows = pop.sample(n=k, random_state=int(rng.integers(2**31))).copy()
    reason = rng.choice(["age", "sold_sex", "consent"], size=k, p=[0.2, 0.45, 0.35])
    keep = ["country", "city", "sampling", "interviewer_id", "coupon", "is_seed", "recruiter_coupon", "network_size",
            "coupons_given", "venue_id", "time_slot", "_degree", "_venue", "_hiv", "_person"]
    blank = [c for c in rows.columns if c not in keep]
    rows[blank] = ""
    rows["elig_age"] = np.where(reason == "age", "no", "yes")
    rows["elig_sold_sex"] = np.where(reason == "sold_sex", "no", np.where(reason == "age", rng.choice(["yes", "no"], k), "yes"))
    rows["consent"] = np.where(reason == "consent", "no", "")
    rows["_person"] = -1
    return rows


def rds_sample(pop: pd.DataFrame, prof: CountryProfile, rng: np.random.Generator) -> pd.DataFrame:
    """Respondent-driven sample of ``prof.n`` eligible respondents, in interview order.

    Returns the population rows of the respondents (and screen-outs) with ``coupon``,
    ``is_seed``, ``recruiter_coupon``, ``coupons_given`` filled and a ``_wave`` column.
    """
    N = len(pop)
    degree = pop["_degree"].to_numpy(float)
    city = pop["city"].to_numpy()
    migrant = (pop["nationality"] == "foreign").to_numpy()
    venue_group = pop["venue_type"].isin(["street"]).to_numpy()
    member = (pop["org_member"] == "yes").to_numpy()
    available = np.ones(N, dtype=bool)
    coupons = rng.choice(np.arange(1000, 99999), size=N, replace=False).astype(str)

    order: list[int] = []
    recruiter: list[int] = []
    wave: list[int] = []
    queue: list[tuple[int, int]] = []  # (person, wave) holding coupons

    def new_seed():
        w = degree * np.where(member, 3.0, 1.0) * available
        i = int(rng.choice(N, p=w / w.sum()))
        available[i] = False
        order.append(i), recruiter.append(-1), wave.append(0)
        queue.append((i, 0))

    for _ in range(int(rng.integers(6, 11))):
        new_seed()
    while len(order) < prof.n:
        if not queue:
            new_seed()  # every chain died out: fieldwork starts a new seed
            continue
        r, wv = queue.pop(0)
        for _ in range(3):
            if len(order) >= prof.n:
                break
            if rng.random() > 0.62:  # coupon never redeemed
                continue
            # Homophily: recruits come mostly from the same city, migrants recruit migrants, street workers street workers.
            w = degree * available * np.exp(2.2 * (city == city[r]) + 0.9 * (migrant == migrant[r])
                                            + 0.6 * (venue_group == venue_group[r]))
            if w.sum() == 0:
                break
            j = int(rng.choice(N, p=w / w.sum()))
            available[j] = False
            order.append(j), recruiter.append(r), wave.append(wv + 1)
            queue.append((j, wv + 1))

    sample = pop.iloc[order].copy()
    sample["coupon"] = coupons[order]
    sample["is_seed"] = np.where(np.array(recruiter) < 0, "yes", "no")
    sample["recruiter_coupon"] = [coupons[r] if r >= 0 else "" for r in recruiter]
    sample["coupons_given"] = "3"
    sample["_wave"] = wave
    # Screen-outs bring a coupon too: they were recruited with one of a respondent's unused coupons,
    # came after her, and were not interviewed.
    used = pd.Series(recruiter).value_counts()
    free = np.array([i for i, person in enumerate(order) if used.get(person, 0) < 3])
    k = min(len(free), max(3, int(round(prof.n * 0.03))))
    picks = np.sort(rng.choice(free, size=k, replace=False))
    outs = _screen_outs(rng, pop.loc[available], k)
    outs["coupon"] = rng.choice(np.arange(100000, 999999), size=k, replace=False).astype(str)
    outs["is_seed"] = "no"
    outs["recruiter_coupon"] = sample["coupon"].to_numpy()[picks]
    outs["coupons_given"] = "0"
    outs["_wave"] = sample["_wave"].to_numpy()[picks] + 1
    positions = np.minimum(picks + 1 + rng.integers(0, 15, k), len(sample))
    parts, last = [], 0
    for i in np.argsort(positions, kind="stable"):
        parts.append(sample.iloc[last:positions[i]])
        parts.append(outs.iloc[[i]])
        last = positions[i]
    parts.append(sample.iloc[last:])
    return pd.concat(parts)


def tls_sample(pop: pd.DataFrame, prof: CountryProfile, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two-stage stratified time-location sample and its venue sampling frame.

    Stage 1: in each city (stratum) a simple random sample of venues without replacement.
    Stage 2: at each selected venue, a simple random sample of the women present.

    Returns
    -------
    sample : DataFrame
        Respondents (and screen-outs), in interview order.
    frame : DataFrame
        One row per selected venue: ``venue_id``, ``stratum``, ``venues_in_stratum``,
        ``venues_sampled``, ``attendees`` (women present) and ``interviewed``.
    """
    per_venue = 12
    venues = pop.groupby("_venue", sort=True).agg(city=("city", "first"), size=("_person", "size")).reset_index()
    # Share of venues to visit so that the expected sample is about prof.n.
    frac = min(1.0, prof.n / (per_venue * len(venues)) * 1.05)
    rows, frame = [], []
    for city, grp in venues.groupby("city", sort=True):
        m = int(min(len(grp), max(2, round(frac * len(grp)))))
        chosen = grp.sample(n=m, random_state=int(rng.integers(2**31)))
        for _, v in chosen.iterrows():
            members = pop.index[pop["_venue"] == v["_venue"]]
            k = int(min(len(members), per_venue))
            take = rng.choice(members, size=k, replace=False)
            rows.append(pop.loc[take])
            frame.append({"venue_id": v["_venue"], "stratum": city, "venues_in_stratum": len(grp),
                          "venues_sampled": m, "attendees": len(members), "interviewed": k})
    sample = pd.concat(rows)
    sample = sample.iloc[rng.permutation(len(sample))]
    sample = sample.sort_values("venue_id", kind="stable")  # fieldwork visits one venue at a time
    k = max(3, int(round(len(sample) * 0.03)))
    outs = _screen_outs(rng, sample, k)
    sample = pd.concat([sample, outs]).iloc[rng.permutation(len(sample) + k)].sort_values("venue_id", kind="stable")
    sample["_wave"] = 0
    return sample, pd.DataFrame(frame)
