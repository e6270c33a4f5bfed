"""What the pages share: the Jinja2 environment (autoescaped), highlighting, names and links.

Highlighting builds ``Markup`` only from escaped pieces, so text from documents can never
inject markup into a page.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pycountry
from fastapi.exceptions import RequestValidationError
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from civicwatch.store import HIGHLIGHT_END, HIGHLIGHT_START

TEMPLATES = Path(__file__).parent / "templates"

templates = Jinja2Templates(directory=TEMPLATES)  # autoescapes .html templates


def country_name(iso2: str | None) -> str:
    """The English short name of a country code ("UZ" -> "Uzbekistan"); the code itself when unknown."""
    if not iso2:
        return "Unknown country"
    country = pycountry.countries.get(alpha_2=iso2.upper())
    if country is None:
        return iso2.upper()
    return str(getattr(country, "common_name", None) or country.name)


def label(identifier: str) -> str:
    """A codebook id as people read it: "travel_ban" -> "travel ban"."""
    return identifier.replace("_", " ")


def snippet_markup(snippet: str) -> Markup:
    """A search snippet with its ``[matched]`` words (the store's markers) in ``<mark>``, the rest escaped."""
    parts: list[str] = []
    rest = snippet
    while True:
        start = rest.find(HIGHLIGHT_START)
        end = rest.find(HIGHLIGHT_END, start + len(HIGHLIGHT_START)) if start >= 0 else -1
        if start < 0 or end < 0:
            parts.append(str(escape(rest)))
            break
        parts.append(str(escape(rest[:start])))
        parts.append(f"<mark>{escape(rest[start + len(HIGHLIGHT_START):end])}</mark>")
        rest = rest[end + len(HIGHLIGHT_END):]
    return Markup("".join(parts))


def evidence_markup(text: str, start: int, end: int) -> Markup:
    """``text`` with ``text[start:end]`` in ``<mark id="evidence">``; just escaped when the span is off."""
    if not 0 <= start < end <= len(text):
        return Markup(escape(text))
    return Markup(
        f"{escape(text[:start])}<mark id=\"evidence\">{escape(text[start:end])}</mark>{escape(text[end:])}"
    )


def query_string(params: Mapping[str, Any], **changes: Any) -> str:
    """``?a=1&b=2`` from ``params`` with ``changes`` applied; empty and None values are left out."""
    merged = {**params, **changes}
    pairs = [(key, str(value)) for key, value in merged.items() if value not in (None, "")]
    return "?" + urlencode(pairs) if pairs else ""


def validation_messages(exc: RequestValidationError) -> list[str]:
    """One line per invalid parameter: "limit: Input should be less than or equal to 200"."""
    messages = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body")]
        messages.append(f"{'.'.join(location) or 'request'}: {error.get('msg', 'invalid')}")
    return messages


templates.env.globals.update(country_name=country_name, label=label, query_string=query_string)
templates.env.filters.update(snippet=snippet_markup, label=label, country_name=country_name)
