"""Reference values for pooled regional estimates, computed with R's ``survey`` package.

Run from the repository root (takes about ten seconds)::

    python tests/reference/pooled/make_reference.py

It generates the synthetic studies of the five time-location (TLS) countries (ARG, CHL,
MEX, PAN, URY; default seed) in a temporary folder, writes their respondents (country,
city stratum, venue, weight and the indicator columns) to a temporary CSV, runs
``pooled_survey.R`` on it and writes ``values.json``: the CSV's SHA-256 (so the test knows
it compares the same data), the population sizes used, and R's pooled means and standard
errors. ``tests/test_regional_pooled.py`` recomputes the pooled estimates with
``research_kit.regional`` and compares.

R's combined design: strata country × city, clusters venues, the study weights,
post-stratified to the population sizes by country (``postStratify(~country)``).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
TLS_COUNTRIES = ("ARG", "CHL", "MEX", "PAN", "URY")
#: Indicators of all respondents (denominator share 1): R's svymean and the pooled formula agree exactly.
ALL_RESPONDENTS = ("testing_12m", "prevention_coverage", "org_member")
#: Indicators of a sub-population: only the point estimate agrees exactly (see the test).
SUBPOPULATION = ("condom_last_partner", "test_mandatory")


def respondents_frame(data_root: Path) -> pd.DataFrame:
    """The TLS countries' respondents as R reads them."""
    from research_kit.study import load_study

    frames = []
    for c in TLS_COUNTRIES:
        s = load_study(c, data_root=data_root)
        r = s.respondents
        f = pd.DataFrame({"country": c, "stratum": r["stratum"].astype(str), "venue": r["venue_id"].astype(str),
                          "weight": r["_weight"].astype(float)})
        for i in (*ALL_RESPONDENTS, *SUBPOPULATION):
            f[i] = r[i]
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n", float_format="%.17g").encode()


def main() -> None:
    from research_kit import synth
    from research_kit.regional import read_population_sizes

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        synth.generate(root, TLS_COUNTRIES)
        frame = respondents_frame(root)
        sizes = read_population_sizes(root / "population_sizes.csv")
        data = csv_bytes(frame)
        csv = root / "tls_respondents.csv"
        csv.write_bytes(data)
        pop = root / "population.csv"
        sizes[["country", "population_size"]].to_csv(pop, index=False)
        out = root / "r_values.json"
        subprocess.run(["Rscript", str(HERE / "pooled_survey.R"), str(csv), str(pop), str(out),
                        ",".join(ALL_RESPONDENTS), ",".join(SUBPOPULATION)], check=True)
        r_values = json.loads(out.read_text())
    values = {"input_sha256": hashlib.sha256(data).hexdigest(), "countries": list(TLS_COUNTRIES),
              "population_sizes": dict(zip(sizes["country"], sizes["population_size"])),
              "all_respondents": list(ALL_RESPONDENTS), "subpopulation": list(SUBPOPULATION), "r": r_values}
    (HERE / "values.json").write_text(json.dumps(values, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {HERE / 'values.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
