"""The 17 countries as data: codes, nodes, names from pycountry."""

import gettext

import pycountry
import pytest

from research_kit.countries import NODES, countries, get_country, node_name, parse_countries
from research_kit.errors import CountryError

NETWORK = ["Argentina", "Belize", "Bolivia", "Chile", "Colombia", "Costa Rica", "Dominican Republic", "Ecuador",
           "El Salvador", "Guatemala", "Honduras", "Mexico", "Nicaragua", "Panama", "Paraguay", "Peru", "Uruguay"]


def test_the_seventeen_network_countries():
    assert sorted(c.name("en") for c in countries()) == sorted(NETWORK)


def test_codes_are_iso_3166():
    for c in countries():
        iso = pycountry.countries.get(alpha_3=c.alpha_3)
        assert iso.alpha_2 == c.alpha_2


def test_every_country_has_one_of_the_three_nodes():
    assert {c.node for c in countries()} == set(NODES)
    assert get_country("PY").node == "southern_cone"
    assert get_country("EC").node == "andean"
    assert get_country("SV").node == "central_america_caribbean"
    # The decision recorded in countries.py: Mexico and Belize in Central America & Caribbean.
    assert get_country("MX").node == get_country("BZ").node == "central_america_caribbean"


@pytest.mark.parametrize("language,domain_language", [("es", "es"), ("pt", "pt")])
def test_names_come_from_pycountry_translations(language, domain_language):
    t = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[domain_language])
    for c in countries():
        iso = pycountry.countries.get(alpha_3=c.alpha_3)
        assert c.name(language) == t.gettext(getattr(iso, "common_name", None) or iso.name)


def test_names_in_the_three_languages():
    assert get_country("DO").name("es") == "República Dominicana"
    assert get_country("BZ").name("es") == "Belice"
    assert get_country("PY").name("pt") == "Paraguai"
    assert get_country("BO").name("en") == "Bolivia"


@pytest.mark.parametrize("code", ["PY", "py", "PRY", "pry", "Pry", " py "])
def test_alpha2_and_alpha3_in_any_case(code):
    assert get_country(code).alpha_3 == "PRY"


def test_unknown_code_lists_the_choices():
    with pytest.raises(CountryError, match=r"Unknown country code 'BR'.*PY/PRY"):
        get_country("BR")


def test_parse_country_lists():
    assert [c.alpha_3 for c in parse_countries("py,BOL, pry")] == ["PRY", "BOL"]
    assert len(parse_countries("all")) == 17
    with pytest.raises(CountryError):
        parse_countries("PY,XX")


def test_locales_follow_the_country():
    assert get_country("PY").locale("es") == "es_PY"
    assert get_country("DO").locale("es") == "es_DO"
    assert get_country("PY").locale("pt") == "pt_BR"


def test_node_names():
    assert node_name("southern_cone", "es") == "Cono Sur"
    with pytest.raises(CountryError):
        node_name("andes", "es")
