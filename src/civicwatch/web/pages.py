"""The server-rendered pages: home, country, incidents (filters), one incident, documents, persons and
organisations, search, and the methodology (about) page.

Every page works without JavaScript; every filter state is a GET URL. Pages only parse the
request, call ``civicwatch.store.browse`` and render a template (which escapes everything).
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from civicwatch.publish.charts import score_line, stacked_bars
from civicwatch.publish.worldmap import COLOURS
from civicwatch.rate.method import DESCRIPTIONS, load_weights
from civicwatch.rate.watchlist import FALL as WATCH_FALL
from civicwatch.rate.watchlist import MAX_MONTHS as WATCH_MAX_MONTHS
from civicwatch.rate.watchlist import MONTHS as WATCH_MONTHS
from civicwatch.rate.watchlist import watchlist
from civicwatch.store import Store, audit, browse, ratings
from civicwatch.store.browse import DocumentFilters, IncidentFilters
from civicwatch.store.timeline import UNDATED_NOTE, monthly_counts
from civicwatch.web.auth import current_user
from civicwatch.web.methodology import methodology
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
COUNTRY_NAMES = 30  # persons and organisations shown on a country page, most named first
NAMES_PAGE = 100

Iso2 = Annotated[str, Path(pattern="^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 code")]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(_store)]


def world_map(store: Store) -> Markup | None:
    """The world map (``civicwatch.publish.worldmap``) coloured by each country's current category, when
    that module is installed, else None. Countries without a rating are drawn grey."""
    try:
        module = importlib.import_module("civicwatch.publish.worldmap")
    except ImportError:
        return None
    categories = {code: rating.category for code, rating in ratings.current_ratings(store).items()}
    on_map = module.map_countries()  # small island states rated but too small to draw are left out
    drawable = {code: category for code, category in categories.items() if code in on_map}
    return Markup(module.render_map(drawable))  # the map module builds its SVG from escaped parts


def rating_chart(store: Store, code: str) -> Markup | None:
    """The country's score per month over the category bands, or None before its first rating."""
    points = [(period, score) for period, score, _ in ratings.history(store, code)]
    if not points:
        return None
    bands = {c: (low, COLOURS[c]) for c, low in load_weights().bands.items()}
    return Markup(score_line(points, title=f"Civic-space score of {country_name(code)} per month", bands=bands))


@router.get("/")
def home(request: Request, store: StoreDep) -> Response:
    """Latest incidents, counts by type and the countries with incidents."""
    latest, _ = browse.incident_page(store, IncidentFilters(), cursor=None, limit=HOME_LATEST)
    context = {
        "latest": latest,
        "types": browse.counts_by_type(store, TYPES),
        "countries": browse.counts_by_country(store),
        "world_map": world_map(store),
        "documents": browse.documents_by_id(store, [i.document_id for i in latest if i.document_id]),
    }
    return templates.TemplateResponse(request, "home.html", context)


@router.get("/countries/{iso2}")
def country(request: Request, store: StoreDep, iso2: Iso2) -> Response:
    """One country: its latest incidents, counts by type, the persons and organisations named, its feed."""
    code = iso2.upper()
    if country_name(code) == code:  # not an ISO 3166 country
        raise HTTPException(404, f"no country {code}")
    filters = IncidentFilters(country=code)
    latest, following = browse.incident_page(store, filters, cursor=None, limit=COUNTRY_LATEST)
    context = {
        "code": code,
        "rating": ratings.current_ratings(store).get(code),
        "rating_chart": rating_chart(store, code),
        "descriptions": DESCRIPTIONS,
        "latest": latest,
        "more": following is not None,
        "documents": browse.documents_by_id(store, [i.document_id for i in latest if i.document_id]),
        **country_aggregates(store, code),
    }
    return templates.TemplateResponse(request, "country.html", context)


def country_aggregates(store: Store, code: str) -> dict[str, Any]:
    """The country page's counts, most-named lists and charts: its costly part, which ``web/warm.py`` computes
    before anyone asks (each piece is cached until the data changes)."""
    return {
        "types": browse.counts_by_type(store, TYPES, country=code),
        "persons": browse.most_named(store, "persons", country=code, limit=COUNTRY_NAMES),
        "organisations": browse.most_named(store, "organisations", country=code, limit=COUNTRY_NAMES),
        "charts": [
            Markup(stacked_bars(monthly_counts(store, country=code, by="type"), order=TYPES, note=UNDATED_NOTE,
                                title=f"Incidents in {country_name(code)} by type, per month")),
            Markup(stacked_bars(monthly_counts(store, country=code, by="right"), order=RIGHTS, note=UNDATED_NOTE,
                                title=f"Incidents in {country_name(code)} by right, per month")),
        ],
    }


@router.get("/incidents")
def incidents(
    request: Request,
    store: StoreDep,
    filters: Annotated[IncidentFilters, Depends(incident_filters)],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """The incident list with its filter form; the next page is a link with a cursor.

    Asked by htmx (``HX-Request: true``), only the results part of the page, which the form swaps in.
    """
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
    # htmx (when the browser runs scripts) asks for the results alone when a filter changes; restoring a
    # page from history, it wants the whole page.
    partial = request.headers.get("hx-request") == "true" and not request.headers.get("hx-history-restore-request")
    template = "_incident_results.html" if partial else "incidents.html"
    response = templates.TemplateResponse(request, template, context)
    response.headers["vary"] = "HX-Request"  # the same URL answers two ways: caches must keep both
    return response


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
    # Researchers also see the incident's history (a signed-in request has a cookie: never page-cached).
    user = current_user(request) if request.cookies else None
    history = audit.history(store, "incident", id) if user is not None and user.can("researcher") else None
    return templates.TemplateResponse(
        request, "incident.html", {"incident": item, "document": document, "text": text, "history": history}
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
    results = browse.public_search(store, query, limit=SEARCH_LIMIT) if query else []
    context = {"q": query, "results": results, "limit": SEARCH_LIMIT}
    return templates.TemplateResponse(request, "search.html", context)


@router.get("/documents")
def documents(
    request: Request,
    store: StoreDep,
    lang: Annotated[str | None, Query(pattern="^[A-Za-z-]{0,16}$", description="language code")] = None,
    source: Annotated[str | None, Query(pattern="^[0-9]{0,18}$", description="a source's id")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """Stored documents, newest first, by language and source; the next page is a link with a cursor."""
    filters = DocumentFilters(lang=lang or None, source_id=int(source) if source else None)
    items, following = browse.document_page(store, filters, cursor=cursor or None, limit=limit)
    params: dict[str, Any] = {"lang": filters.lang, "source": filters.source_id}
    if limit != 50:
        params["limit"] = limit
    context = {
        "filters": filters,
        "params": params,
        "api_params": {"lang": filters.lang, "source_id": filters.source_id},
        "items": items,
        "next": following,
        "paged": bool(cursor),
        "languages": browse.document_languages(store),
        "sources": browse.source_names(store),
    }
    return templates.TemplateResponse(request, "documents.html", context)


_NAME_PAGES = {
    "persons": ("Persons", "People named as affected in the incidents, each once whatever the spelling or script "
                "the reports use."),
    "organisations": ("Organisations", "Organisations and media outlets named as affected in the incidents, each "
                      "once whatever the spelling."),
}


def _names_page(request: Request, store: Store, kind: str, cursor: str | None) -> Response:
    items, following = browse.names_page(store, kind, cursor=cursor or None, limit=NAMES_PAGE)
    title, intro = _NAME_PAGES[kind]
    context = {"kind": kind, "title": title, "intro": intro, "items": items, "next": following,
               "paged": bool(cursor)}
    return templates.TemplateResponse(request, "names.html", context)


@router.get("/persons")
def persons(request: Request, store: StoreDep, cursor: Cursor = None) -> Response:
    """Every registered person named in public incidents, by name, with countries, counts and their case page."""
    return _names_page(request, store, "persons", cursor)


@router.get("/organisations")
def organisations(request: Request, store: StoreDep, cursor: Cursor = None) -> Response:
    """Every organisation named in public incidents, as ``persons`` lists people."""
    return _names_page(request, store, "organisations", cursor)


@router.get("/watchlist")
def watchlist_page(
    request: Request, store: StoreDep,
    months: Annotated[int, Query(ge=1, le=WATCH_MAX_MONTHS)] = WATCH_MONTHS,
) -> Response:
    """Countries whose score fell fastest over the last ``months`` months, or that changed category."""
    entries = watchlist(ratings.all_history(store), months=months)
    return templates.TemplateResponse(request, "watchlist.html",
                                      {"entries": entries, "months": months, "fall": WATCH_FALL})


@router.get("/about")
def about(request: Request) -> Response:
    """The methodology: the codebook's types, targets, perpetrators, rights rules and places, as the coder has them."""
    return templates.TemplateResponse(request, "about.html", {"m": methodology(), "w": load_weights()})
