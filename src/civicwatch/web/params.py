"""Query parameters shared by the pages, the API and the feeds: one spelling, one validation.

An empty value (``?country=``, as a GET form sends an unset field) means "any"; blanks around a
value are dropped. Anything else that is not a codebook id, a country code or an ISO date is
refused with a 422 naming the parameter and what it accepts; the OpenAPI document publishes the
same rules as patterns (``PATTERNS``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import Query
from fastapi.exceptions import RequestValidationError

from civicwatch.code.coder import PERPETRATOR_ORDER, RIGHT_ORDER, TARGET_ORDER, TYPE_ORDER
from civicwatch.store.browse import MAX_LIMIT, IncidentFilters

TYPES, RIGHTS, TARGETS, PERPETRATORS = TYPE_ORDER, RIGHT_ORDER, TARGET_ORDER, PERPETRATOR_ORDER
MAX_QUERY_CHARS = 200

# What each filter accepts, as one regular expression that both validates here (Python ``re``) and is
# published in the OpenAPI document (ECMA-262), so clients and schema-driven tests know exactly what
# passes. Blanks around a value are dropped and an empty value means "any" (a GET form sends unset
# fields empty); only these blank characters, which both regex dialects read the same way.
_BLANKS = " \t\n\r\x00"
_BLANK = r"[ \t\n\r\u0000]*"


def _pattern(body: str) -> str:
    return f"^{_BLANK}({body})?{_BLANK}$"


_DATE_BODY = r"[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?"
PATTERNS = {
    "country": _pattern("[A-Za-z]{2}"),
    "type": _pattern("|".join(TYPES)),
    "right": _pattern("|".join(RIGHTS)),
    "target": _pattern("|".join(TARGETS)),
    "perpetrator": _pattern("|".join(PERPETRATORS)),
    "date_from": _pattern(_DATE_BODY),
    "date_to": _pattern(_DATE_BODY),
}


def _documented(name: str) -> dict[str, Any]:
    """The pattern of ``name`` for the OpenAPI document only: the check itself is ours, for clear messages."""
    return {"pattern": PATTERNS[name]}


def _one_of(values: tuple[str, ...]) -> str:
    return "one of: " + ", ".join(values)


Country = Annotated[str | None, Query(description="ISO 3166-1 alpha-2 country code", examples=["UZ"],
                                      json_schema_extra=_documented("country"))]
Type = Annotated[str | None, Query(description="incident type, " + _one_of(TYPES), examples=["detention"],
                                   json_schema_extra=_documented("type"))]
Right = Annotated[str | None, Query(description="right affected, " + _one_of(RIGHTS), examples=["assembly"],
                                    json_schema_extra=_documented("right"))]
Target = Annotated[
    str | None, Query(description="who was affected, " + _one_of(TARGETS), examples=["journalist"],
                      json_schema_extra=_documented("target"))
]
Perpetrator = Annotated[
    str | None, Query(description="who acted, " + _one_of(PERPETRATORS), examples=["police"],
                      json_schema_extra=_documented("perpetrator"))
]
DateFrom = Annotated[
    str | None, Query(description="earliest date: YYYY, YYYY-MM or YYYY-MM-DD", examples=["2024-01"],
                      json_schema_extra=_documented("date_from"))
]
DateTo = Annotated[
    str | None, Query(description="latest date: YYYY, YYYY-MM or YYYY-MM-DD", examples=["2024-12-31"],
                      json_schema_extra=_documented("date_to"))
]
Text = Annotated[
    str | None, Query(max_length=MAX_QUERY_CHARS, examples=["blogger"],
                      description="words, each found (as a word or a word's beginning) in the document's text")
]
Sort = Annotated[
    Literal["date", "confidence"], Query(description="date: newest first; confidence: highest first")
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"items per page, 1 to {MAX_LIMIT}")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="the previous page's `next`; omit for the first page")
]


def _error(name: str, value: str, message: str) -> dict[str, Any]:
    return {"loc": ("query", name), "msg": message, "type": "value_error", "input": value}


def incident_filters(
    country: Country = None,
    type: Type = None,
    right: Right = None,
    target: Target = None,
    perpetrator: Perpetrator = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    q: Text = None,
    sort: Sort = "date",
) -> IncidentFilters:
    """The incident filters from the query string (a FastAPI dependency); 422 for any invalid value."""
    errors: list[dict[str, Any]] = []
    given = {"country": country, "type": type, "right": right, "target": target, "perpetrator": perpetrator,
             "date_from": date_from, "date_to": date_to}
    values: dict[str, str | None] = {}
    messages = {
        "country": "expected a two-letter ISO 3166-1 code such as UZ",
        "type": "expected " + _one_of(TYPES),
        "right": "expected " + _one_of(RIGHTS),
        "target": "expected " + _one_of(TARGETS),
        "perpetrator": "expected " + _one_of(PERPETRATORS),
        "date_from": "expected a date as YYYY, YYYY-MM or YYYY-MM-DD",
        "date_to": "expected a date as YYYY, YYYY-MM or YYYY-MM-DD",
    }
    for name, value in given.items():
        if value is not None and not re.fullmatch(PATTERNS[name], value):
            errors.append(_error(name, value[:40], messages[name]))
        values[name] = (value.strip(_BLANKS) or None) if value is not None else None
    if values["country"] is not None:
        values["country"] = values["country"].upper()
    # NUL is never meant, and PostgreSQL refuses it in text: a space instead.
    values["q"] = (q.replace("\x00", " ").strip() or None) if q is not None else None
    if errors:
        raise RequestValidationError(errors)
    return IncidentFilters(sort=sort, **values)


def filter_params(filters: IncidentFilters) -> dict[str, str]:
    """The query parameters that give back ``filters`` (for links: next page, feed, form state)."""
    params = {name: getattr(filters, name) for name in
              ("country", "type", "right", "target", "perpetrator", "date_from", "date_to", "q")}
    result = {name: value for name, value in params.items() if value}
    if filters.sort != "date":
        result["sort"] = filters.sort
    return result
