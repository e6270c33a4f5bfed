"""The server-rendered pages: home, country, incidents (filters), one incident, one document, search.

Every page works without JavaScript; every filter state is a GET URL. Pages only parse the
request, call ``civicwatch.store.browse`` and render a template (which escapes everything).
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from civicwatch.store import Store, browse
from civicwatch.store.browse import IncidentFilters
from civicwatch.web.params import (
    PERPETRATORS,
    RIGHTS,
    TARGETS,
    TYPES,
    Cursor,
    Limit,
    filter_params,
    incident_filters,
)
from civicwatch.web.render import country_name, evidence_markup, templates

router = APIRouter(include_in_schema=False)

HOME_LATEST = 10
COUNTRY_LATEST = 20
SEARCH_LIMIT = 20

Iso2 = Annotated[str, Path(pattern="^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 code")]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(_store)]


def world_map() -> Markup | None:
    """The world map (``civicwatch.publish.worldmap``) when that module is installed, else None.

    No country has a rating yet, so every country is drawn without a category.
    """
    try:
        module = importlib.import_module("civicwatch.publish.worldmap")
    except ImportError:
        return None
    return Markup(module.render_map({}))  # the map module builds its SVG from escaped parts


@router.get("/")
def home(request: Request, store: StoreDep) -> Response:
    """Latest incidents, counts by type and the countries with incidents."""
    latest, _ = browse.incident_page(store, IncidentFilters(), cursor=None, limit=HOME_LATEST)
    context = {
        "latest": latest,
        "types": browse.counts_by_type(store, TYPES),
        "countries": browse.counts_by_country(store),
        "world_map": world_map(),
        "documents": browse.documents_by_id(store, [i.document_id for i in latest if i.document_id]),
    }
    return templates.TemplateResponse(request, "home.html", context)


@router.get("/countries/{iso2}")
def country(request: Request, store: StoreDep, iso2: Iso2) -> Response:
    """One country: its latest incidents, counts by type and its Atom feed."""
    code = iso2.upper()
    if country_name(code) == code:  # not an ISO 3166 country
        raise HTTPException(404, f"no country {code}")
    filters = IncidentFilters(country=code)
    latest, following = browse.incident_page(store, filters, cursor=None, limit=COUNTRY_LATEST)
    context = {
        "code": code,
        "latest": latest,
        "more": following is not None,
        "types": browse.counts_by_type(store, TYPES, country=code),
        "documents": browse.documents_by_id(store, [i.document_id for i in latest if i.document_id]),
    }
    return templates.TemplateResponse(request, "country.html", context)


@router.get("/incidents")
def incidents(
    request: Request,
    store: StoreDep,
    filters: Annotated[IncidentFilters, Depends(incident_filters)],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """The incident list with its filter form; the next page is a link with a cursor."""
    items, following = browse.incident_page(store, filters, cursor=cursor or None, limit=limit)
    params: dict[str, Any] = filter_params(filters)
    if limit != 50:
        params["limit"] = limit
    context = {
        "filters": filters,
        "params": params,
        "items": items,
        "next": following,
        "paged": bool(cursor),
        "choices": {"type": TYPES, "right": RIGHTS, "target": TARGETS, "perpetrator": PERPETRATORS},
        "countries": browse.counts_by_country(store),
        "documents": browse.documents_by_id(store, [i.document_id for i in items if i.document_id]),
    }
    return templates.TemplateResponse(request, "incidents.html", context)


@router.get("/incidents/{id}")
def incident(request: Request, store: StoreDep, id: Id) -> Response:
    """One incident: every field, and the evidence highlighted in its document's text."""
    found = browse.incident_with_document(store, id)
    if found is None:
        raise HTTPException(404, f"no incident {id}")
    item, document = found
    text = None
    if document is not None:
        text = evidence_markup(document.text, item.evidence_start, item.evidence_end)
    return templates.TemplateResponse(
        request, "incident.html", {"incident": item, "document": document, "text": text}
    )


@router.get("/documents/{id}")
def document(request: Request, store: StoreDep, id: Id) -> Response:
    """One document's text and the incidents coded from it."""
    found = browse.public_document(store, id)
    if found is None:
        raise HTTPException(404, f"no document {id}")
    coded = browse.incidents_of_document(store, id)
    return templates.TemplateResponse(request, "document.html", {"document": found, "incidents": coded})


@router.get("/search")
def search(
    request: Request,
    store: StoreDep,
    q: Annotated[str, Query(max_length=200, description="words, \"phrases\", OR, -excluded")] = "",
) -> Response:
    """Full-text search over documents, best first, with the matched words highlighted."""
    query = q.strip()
    results = store.search(query, limit=SEARCH_LIMIT) if query else []
    context = {"q": query, "results": results, "limit": SEARCH_LIMIT}
    return templates.TemplateResponse(request, "search.html", context)
