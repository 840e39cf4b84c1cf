"""Programme coverage monitoring: the data's rules, indicators at every level, and small counts suppressed."""

from __future__ import annotations

import doctest
import importlib

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research_kit.capacity.coverage import (COUNTS, check_coverage, coverage_table, coverage_trend, protect_coverage,
                                            read_coverage)
from research_kit.disclosure import DisclosurePolicy
from research_kit.errors import DataFileError, ParameterError
from research_kit.synth.capacity import generate_capacity


def report(country="pry", site="asuncion", year="2025", month="06", reached=400, condoms=4400, lubricant=1200,
           referred=140, tested=120, linked=3, population_size=1000):
    return {"country": country, "site": site, "year": year, "month": month, "reached": reached, "condoms": condoms,
            "lubricant": lubricant, "referred": referred, "tested": tested, "linked": linked,
            "population_size": population_size}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return read_coverage(generate_capacity(tmp_path_factory.mktemp("capacity"), seed=3))


def test_indicators_equal_a_hand_computation_at_each_level():
    rows = [report(), report(site="encarnacion", reached=30, condoms=210, referred=10, population_size=100),
            report(country="ury", site="montevideo", reached=500, condoms=6000, population_size=2000),
            report(country="bol", site="la_paz", reached=90, condoms=900, referred=20, population_size=300)]
    data = check_coverage(pd.DataFrame(rows))
    site = coverage_table(data, "site").set_index("site")
    assert site.loc["encarnacion", "coverage"] == 0.3 and site.loc["encarnacion", "condoms_per_sw"] == 2.1
    country = coverage_table(data, "country").set_index("country")
    assert country.loc["PRY", "coverage"] == round(430 / 1100, 4)
    assert country.loc["PRY", "condoms_per_sw"] == round(4610 / 1100, 4)
    assert country.index.tolist() == ["BOL", "PRY", "URY"]  # the network's order
    node = coverage_table(data, "node").set_index("node")
    assert node.loc["southern_cone", "coverage"] == round(930 / 3100, 4)
    region = coverage_table(data, "region")
    assert region.loc[0, "coverage"] == round(1020 / 3400, 4) and region.loc[0, "sites"] == 4
    assert coverage_table(data, "country", exclude=["PY"]).index.size == 2


def test_a_population_size_of_zero_is_named_with_its_row_and_rule():
    with pytest.raises(DataFileError) as err:
        check_coverage(pd.DataFrame([report(), report(site="encarnacion", population_size=0)]))
    msg = str(err.value)
    assert "row 2 (site encarnacion, 2025-06): population_size is '0'" in msg
    assert "rule: constraint '. >= 1': the population size estimate must be greater than zero" in msg


def test_other_rules_of_the_data_are_named():
    rows = [report(), report(), report(site="montevideo"), report(country="bra", site="sao_paulo"),
            report(site="encarnacion", referred=500), report(site="ciudad_del_este", reached=-2, referred=0)]
    with pytest.raises(DataFileError) as err:
        check_coverage(pd.DataFrame(rows))
    msg = str(err.value)
    assert "row 1 and row 2: 2 reports for site asuncion in 2025-06 (rule: one report per site and month)" in msg
    assert "row 3 (site montevideo, 2025-06): the site 'montevideo' is not a site of PRY" in msg
    assert "row 4 (site sao_paulo, 2025-06): the country 'bra' is not one of the network's 17 countries" in msg
    assert "row 5 (site encarnacion, 2025-06): referred (500) is more than reached (400)" in msg
    assert "row 6 (site ciudad_del_este, 2025-06): reached is '-2'" in msg


def test_counts_under_the_threshold_in_a_site_are_suppressed_with_their_indicators(data):
    period = data.loc[data["reached"].idxmin(), "period"]  # a month with a small site
    table = coverage_table(data, "site", period)
    assert (table["reached"] < 5).any()
    protected = protect_coverage(table, DisclosurePolicy(min_count=5))
    d = protected.data
    for count in COUNTS:
        shown = d[f"{count}_status"].isin(["published", "caution"])
        assert (d.loc[shown, count] >= 5).all()
        small = table[count].to_numpy() < 5
        assert (d[f"{count}_status"].to_numpy()[:-1][small] == "primary").all()
    # An indicator is not shown when the count it divides is not shown.
    hidden = ~d["reached_status"].isin(["published", "caution"])
    assert d.loc[hidden, "coverage"].isna().all()
    assert hidden.any() and (d["linked_status"] == "primary").any()  # the synthetic data have small sites
    # A single site's ratio is a band, never an exact number (it would give the size estimate back).
    sites = d[d["site"] != "total"]
    assert all(isinstance(v, str) or pd.isna(v) for v in sites["coverage"])
    assert set(protected.counts) == set(COUNTS)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(1, 400)), min_size=2, max_size=4),
       st.integers(1, 10))
def test_no_published_count_is_under_the_threshold_and_no_hidden_one_can_be_recovered(sites, k):
    names = ["asuncion", "ciudad_del_este", "encarnacion", "asuncion"][:len(sites)]
    rows = [report(site=s, reached=r, condoms=r, lubricant=r, referred=0, tested=0, linked=0, population_size=max(p, r),
                   month=f"{i + 1:02d}" if s == "asuncion" and i else "06")
            for i, (s, (r, p)) in enumerate(zip(names, sites))]
    data = check_coverage(pd.DataFrame(rows))
    table = coverage_table(data, "site", period="2025-06")
    d = protect_coverage(table, DisclosurePolicy(min_count=k)).data
    shown = d["reached_status"] == "published"
    assert (d.loc[shown, "reached"] >= k).all()
    # With the total published, no single cell is hidden alone.
    assert (~shown).sum() != 1


def test_the_trend_hides_small_months_and_single_sites(data):
    trend = coverage_trend(data, "country", countries=["PRY", "URY"])
    assert list(trend.columns) == ["PRY", "URY"] and len(trend) == 24
    assert trend.stack().between(0, 1).all()
    one_site = data[data["site"] == "asuncion"]
    assert coverage_trend(one_site, "country").isna().all().all()
    with pytest.raises(ParameterError, match="single site's exact coverage"):
        coverage_trend(data, "site")
    nodes = coverage_trend(data, "node", exclude=["ECU"])
    assert list(nodes.columns) == ["southern_cone", "andean", "central_america_caribbean"]


def test_synthetic_coverage_data_read_and_validate(data, tmp_path):
    assert set(data["country"]) and len(data["country"].unique()) == 17
    assert (data["population_size"] > 0).all()
    assert data.groupby(["site", "period"]).size().max() == 1
    assert (data["reached"] < 5).any()  # some small sites, as in real programmes


def test_docstring_examples_run():
    result = doctest.testmod(importlib.import_module("research_kit.capacity.coverage"), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
