"""Query parameters shared by the pages, the API and the feeds: one spelling, one validation.

An empty value (``?country=``, as a GET form sends an unset field) means "any". Anything else
that is not a codebook id, a country code or an ISO date is refused with a 422 naming the
parameter and what it accepts.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import Query
from fastapi.exceptions import RequestValidationError

from civicwatch.code.coder import PERPETRATOR_ORDER, RIGHT_ORDER, TARGET_ORDER, TYPE_ORDER
from civicwatch.store.browse import MAX_LIMIT, IncidentFilters

TYPES, RIGHTS, TARGETS, PERPETRATORS = TYPE_ORDER, RIGHT_ORDER, TARGET_ORDER, PERPETRATOR_ORDER
_DATE = re.compile(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
MAX_QUERY_CHARS = 200


def _one_of(values: tuple[str, ...]) -> str:
    return "one of: " + ", ".join(values)


Country = Annotated[str | None, Query(description="ISO 3166-1 alpha-2 country code", examples=["UZ"])]
Type = Annotated[str | None, Query(description="incident type, " + _one_of(TYPES), examples=["detention"])]
Right = Annotated[str | None, Query(description="right affected, " + _one_of(RIGHTS), examples=["assembly"])]
Target = Annotated[
    str | None, Query(description="who was affected, " + _one_of(TARGETS), examples=["journalist"])
]
Perpetrator = Annotated[
    str | None, Query(description="who acted, " + _one_of(PERPETRATORS), examples=["police"])
]
DateFrom = Annotated[
    str | None, Query(description="earliest date: YYYY, YYYY-MM or YYYY-MM-DD", examples=["2024-01"])
]
DateTo = Annotated[
    str | None, Query(description="latest date: YYYY, YYYY-MM or YYYY-MM-DD", examples=["2024-12-31"])
]
Text = Annotated[
    str | None, Query(description="words, each in the evidence or its document", examples=["blogger"])
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
             "date_from": date_from, "date_to": date_to, "q": q}
    # NUL is never meant, and PostgreSQL refuses it in text: a space instead.
    values = {
        name: (value.replace("\x00", " ").strip() or None) if value is not None else None
        for name, value in given.items()
    }
    choices = (("type", TYPES), ("right", RIGHTS), ("target", TARGETS), ("perpetrator", PERPETRATORS))
    for name, allowed in choices:
        value = values[name]
        if value is not None and value not in allowed:
            errors.append(_error(name, value, "expected " + _one_of(allowed)))
    if values["country"] is not None:
        if _COUNTRY.fullmatch(values["country"]):
            values["country"] = values["country"].upper()
        else:
            message = "expected a two-letter ISO 3166-1 code such as UZ"
            errors.append(_error("country", values["country"], message))
    for name in ("date_from", "date_to"):
        value = values[name]
        if value is not None and not _DATE.fullmatch(value):
            errors.append(_error(name, value, "expected a date as YYYY, YYYY-MM or YYYY-MM-DD"))
    if values["q"] is not None and len(values["q"]) > MAX_QUERY_CHARS:
        errors.append(_error("q", values["q"][:40], f"at most {MAX_QUERY_CHARS} characters"))
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
