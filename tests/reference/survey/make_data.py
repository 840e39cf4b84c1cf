"""Generate the synthetic survey used as the R reference data set.

Run from the repository root::

    python tests/reference/survey/make_data.py

It writes ``tests/reference/survey/survey_data.csv``.  The data imitate a
two-stage venue-based survey of sex workers: countries split into strata,
venues sampled within strata (``fpc1`` venues in the stratum), respondents
sampled within venues (``fpc2`` people at the venue).  The numbers are
invented; only the structure matters.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def make(seed: int = 20240605) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    countries = ["BR", "CO", "DO", "GT", "JM"]
    rows = []
    venue_id = 0
    resp_id = 0
    for c in countries:
        for s in range(1, 4):
            stratum = f"{c}-{s}"
            n_venues = int(rng.integers(3, 8))
            N_venues = n_venues * int(rng.integers(2, 6))
            for v in range(1, n_venues + 1):
                venue_id += 1
                vtype = rng.choice(["street", "bar", "online"], p=[0.4, 0.4, 0.2])
                m = int(rng.integers(12, 55))
                M = m + int(rng.integers(0, 120))
                venue_effect = rng.normal(0, 0.6)
                for r in range(1, m + 1):
                    resp_id += 1
                    rows.append(
                        dict(
                            country=c,
                            stratum=stratum,
                            venue=venue_id,
                            venue_local=v,
                            respondent=resp_id,
                            venue_type=vtype,
                            fpc1=N_venues,
                            fpc2=M,
                            frac1=n_venues / N_venues,
                            base_wt=(N_venues / n_venues) * (M / m),
                            venue_effect=venue_effect,
                        )
                    )
    df = pd.DataFrame(rows)
    n = len(df)
    # Weights: design weight times a non-response adjustment.
    df["wt"] = df["base_wt"] * rng.uniform(0.7, 1.6, n)
    age = np.clip(rng.normal(31, 8, n) + 2 * df["venue_effect"], 18, 70).round()
    df["age"] = age
    df["age_group"] = pd.cut(
        age, [17, 24, 29, 34, 44, 100], labels=["18-24", "25-29", "30-34", "35-44", "45+"]
    ).astype(str)
    df["gender"] = rng.choice(["cis woman", "trans woman", "man"], n, p=[0.62, 0.28, 0.10])
    df["migrant"] = rng.choice(["no", "yes"], n, p=[0.96, 0.04])
    eta = -0.2 + 0.8 * df["venue_effect"] - 0.02 * (age - 30)
    df["police_violence"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-(eta - 0.8)))).astype(int)
    eta2 = 0.3 + 0.5 * df["venue_effect"] - 0.6 * df["police_violence"] + 0.01 * (age - 30)
    df["tested_12m"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta2))).astype(float)
    df["hiv_pos"] = (rng.uniform(size=n) < 0.06 + 0.05 * (df["gender"] == "trans woman")).astype(int)
    df["condom_always"] = rng.uniform(size=n) < 0.55
    df["income"] = np.exp(rng.normal(6 + 0.2 * df["venue_effect"], 0.7)).round(2)
    df["n_clients"] = rng.poisson(np.exp(1.5 + 0.3 * df["venue_effect"]))
    df["cd4"] = (rng.normal(550, 180, n)).round()
    # Missing values, per variable.
    df.loc[rng.uniform(size=n) < 0.05, "tested_12m"] = np.nan
    df.loc[rng.uniform(size=n) < 0.03, "age"] = np.nan
    df.loc[df["age"].isna(), "age_group"] = np.nan
    df.loc[rng.uniform(size=n) < 0.04, "income"] = np.nan
    df.loc[rng.uniform(size=n) < 0.02, "gender"] = np.nan
    # A second stratification in which one stratum has a single venue (lonely PSU).
    first_venue = df.loc[df["stratum"] == "BR-1", "venue"].min()
    df["stratum_lonely"] = np.where(df["venue"] == first_venue, "BR-0", df["stratum"])
    # Post-stratification margins are built in the R script from these.
    df = df.drop(columns=["base_wt", "venue_effect"])
    return df


if __name__ == "__main__":
    out = make()
    out.to_csv(HERE / "survey_data.csv", index=False)
    print(len(out), "rows,", out["venue"].nunique(), "venues,", out["stratum"].nunique(), "strata")
