"""The offline world map on the home page: every country a shape keyed by ISO code, coloured by category."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from importlib.resources import files

import pycountry
import pytest

from civicwatch.errors import UsageError
from civicwatch.publish.worldmap import (
    CATEGORIES,
    COLOURS,
    NO_RATING_COLOUR,
    country_name,
    map_countries,
    render_map,
)

SVG = "{http://www.w3.org/2000/svg}"
CENTRAL_ASIA = {"UZ": "repressed", "KZ": "repressed", "KG": "repressed", "TJ": "closed", "TM": "closed"}


def paths(svg: str) -> dict[str, ET.Element]:
    """The country shapes of a rendered map, by id (parsing also proves it is well-formed XML)."""
    root = ET.fromstring(svg)
    return {p.get("id", ""): p for p in root.iter(f"{SVG}path")}


def test_central_asia_is_on_the_map_coloured_by_category() -> None:
    shapes = paths(render_map(CENTRAL_ASIA))

    for code, category in CENTRAL_ASIA.items():
        assert shapes[code].get("fill") == COLOURS[category]
        assert shapes[code].get("class") == f"country cat-{category}"
        assert len(shapes[code].get("d", "")) > 100  # a real outline, not a marker
    assert shapes["UZ"].findtext(f"{SVG}title") == "Uzbekistan: Repressed"


def test_every_iso_country_has_a_shape_and_unrated_ones_are_grey() -> None:
    iso = {country.alpha_2 for country in pycountry.countries} - {"AQ"}
    assert iso <= map_countries()
    shapes = paths(render_map({code: "open" for code in iso}))
    assert iso <= set(shapes)
    grey = paths(render_map({}))
    assert {p.get("fill") for p in grey.values()} == {NO_RATING_COLOUR}
    assert grey["FR"].findtext(f"{SVG}title") == "France: no rating"


def test_codes_are_taken_in_any_case_and_a_missing_category_is_grey() -> None:
    shapes = paths(render_map({"no": "open", "se": None, "FI": ""}))
    assert shapes["NO"].get("fill") == COLOURS["open"]
    assert shapes["SE"].get("fill") == shapes["FI"].get("fill") == NO_RATING_COLOUR


def test_countries_link_to_their_pages_unless_links_are_off() -> None:
    root = ET.fromstring(render_map(CENTRAL_ASIA))
    links = {a.get("href"): a for a in root.iter(f"{SVG}a")}
    assert links["/countries/kg"].find(f"{SVG}path").get("id") == "KG"  # type: ignore[union-attr]
    assert links["/countries/kg"].get("aria-label") == "Kyrgyzstan: Repressed"

    plain = ET.fromstring(render_map(CENTRAL_ASIA, links=False))
    assert list(plain.iter(f"{SVG}a")) == []
    assert "KG" in paths(render_map(CENTRAL_ASIA, links=False))


def test_names_are_escaped() -> None:
    svg = render_map({"CI": "obstructed"}, names={"KP": '<script>alert("x")</script> & Co'})
    shapes = paths(svg)  # still well-formed XML
    assert shapes["KP"].findtext(f"{SVG}title") == '<script>alert("x")</script> & Co: no rating'
    assert "<script>" not in svg
    assert shapes["CI"].findtext(f"{SVG}title") == "Côte d'Ivoire: Obstructed"
    assert "Côte d&#x27;Ivoire" in svg


def test_the_legend_shows_every_category_and_no_rating() -> None:
    root = ET.fromstring(render_map({}))
    legend = root.find(f"{SVG}g[@class='legend']")
    assert legend is not None
    labels = [t.text for t in legend.iter(f"{SVG}text")]
    assert labels == ["Civic space", "Open", "Narrowed", "Obstructed", "Repressed", "Closed", "No rating"]
    swatches = [r.get("fill") for r in legend.iter(f"{SVG}rect")][1:]  # after the panel
    assert swatches == [COLOURS[c] for c in CATEGORIES] + [NO_RATING_COLOUR]


def test_the_map_is_accessible_and_self_contained() -> None:
    svg = render_map(CENTRAL_ASIA)
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "civicwatch-map-title"
    assert root.findtext(f"{SVG}title")
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")  # no tiles, fonts or CDNs
    assert "style=" not in svg  # colours are attributes, which a strict CSP allows


def test_unknown_codes_and_categories_are_refused_by_name() -> None:
    with pytest.raises(UsageError) as error:
        render_map({"ZZ": "open"})
    assert error.value.input == "ZZ"
    with pytest.raises(UsageError) as error:
        render_map({"UZ": "semi-open"})
    assert error.value.input == "semi-open" and "UZ" in error.value.reason


def test_the_shipped_shapes_are_small() -> None:
    data = files("civicwatch.publish").joinpath("data/world.svg").read_bytes()
    assert len(data) < 150_000
    assert len(render_map({})) < 200_000


def test_country_names_are_the_short_forms_people_use() -> None:
    assert [country_name(c) for c in ("KR", "RU", "XK", "tj", "QQ")] == [
        "South Korea", "Russia", "Kosovo", "Tajikistan", "QQ",
    ]  # fmt: skip
