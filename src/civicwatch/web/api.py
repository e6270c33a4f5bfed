"""The JSON API, mounted at ``/api/v1``: incidents, countries, documents, persons, organisations and sources.

Field names are the codebook's (``spec/codebook.md``). Lists answer ``{"items": [...], "next": CURSOR}``;
pass ``next`` back as ``cursor`` for the following page (``null`` on the last one). Errors are
JSON problems (``application/problem+json``) with status 400, 404 or 422, never a stack trace.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from civicwatch import __version__
from civicwatch.model import Document, Incident
from civicwatch.rate.watchlist import MAX_MONTHS, MONTHS, watchlist
from civicwatch.store import Store, browse, ratings, upr
from civicwatch.store.browse import DocumentFilters, IncidentFilters, NamedCount, PublicSource
from civicwatch.store.ratings import RatingSummary
from civicwatch.web.params import TYPES, Cursor, Limit, incident_filters
from civicwatch.web.problems import add_problem_handlers, problem_responses, problems_in_openapi
from civicwatch.web.render import country_name

LATEST = 10  # incidents shown on a country's record

INCIDENT_EXAMPLE: dict[str, Any] = {
    "id": 42, "document_id": 7, "country": "UZ", "types": ["detention"], "rights": ["expression"],
    "targets": ["blogger"], "persons": ["Dilshod Tarakov"], "organisations": [], "perpetrators": ["police"],
    "date": "2024-05-03", "evidence": "Police detained the blogger Dilshod Tarakov in Nukus on 3 May 2024",
    "confidence": 0.86, "evidence_start": 0, "evidence_end": 68, "coded_by": "machine",
    "coder_version": "1.4f2a",
}
DOCUMENT_EXAMPLE: dict[str, Any] = {
    "id": 7, "source_id": 2, "title": "Blogger detained in Nukus", "url": "https://monitor.example.org/r/7",
    "canonical_url": None, "author": None, "published": "2024-05-04", "lang": "en",
    "fetched_at": "2024-05-04T08:00:00Z", "parent_id": None,
}


class IncidentOut(BaseModel):
    """One coded incident, with the codebook's field names."""

    model_config = ConfigDict(json_schema_extra={"examples": [INCIDENT_EXAMPLE]})

    id: int
    document_id: int | None = Field(description="the document the incident was coded from")
    country: str = Field(description="ISO 3166-1 alpha-2 code of where it happened")
    types: list[str]
    rights: list[str]
    targets: list[str]
    persons: list[str]
    organisations: list[str]
    perpetrators: list[str]
    date: str | None = Field(description="YYYY-MM-DD, YYYY-MM or YYYY at the precision the text gives")
    evidence: str = Field(description="the span of the document's text that supports the incident")
    confidence: float = Field(ge=0, le=1)
    evidence_start: int = Field(description="offset of the evidence in the document's text")
    evidence_end: int
    coded_by: str | None = Field(description='"machine" or the person who coded or corrected it')
    coder_version: str | None


class DocumentSummary(BaseModel):
    """A stored document's record, without its text."""

    model_config = ConfigDict(json_schema_extra={"examples": [DOCUMENT_EXAMPLE]})

    id: int
    source_id: int | None
    title: str | None
    url: str | None
    canonical_url: str | None
    author: str | None
    published: str | None = Field(description="publication date or timestamp, as the source gave it")
    lang: str | None = Field(description="language code")
    fetched_at: datetime | None
    parent_id: int | None = Field(description="the digest this document was split out of")


class DocumentOut(DocumentSummary):
    """A stored document with its clean text (the payload as fetched is not published)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [DOCUMENT_EXAMPLE | {"text": "Police detained the blogger..."}]}
    )

    text: str


class IncidentDetail(IncidentOut):
    """One incident and the record of the document it was coded from."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [INCIDENT_EXAMPLE | {"document": DOCUMENT_EXAMPLE}]}
    )

    document: DocumentSummary | None


class CountryOut(BaseModel):
    """A country with public incidents."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"country": "UZ", "name": "Uzbekistan", "incidents": 12}]}
    )

    country: str = Field(description="ISO 3166-1 alpha-2 code")
    name: str
    incidents: int = Field(description="number of public incidents")


class RatingOut(BaseModel):
    """A country's civic-space rating now: score 0-100, category, trend, and what moved it."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"country": "UZ", "score": 8, "category": "closed", "computed_category": "closed", "as_of": "2026-12-03",
         "trend": -2, "base_score": 10, "adjustment": -2.4, "events": 14, "override_reason": None}
    ]})

    country: str = Field(description="ISO 3166-1 alpha-2 code")
    score: int = Field(ge=0, le=100, description="0-20 closed, 21-40 repressed, 41-60 obstructed, "
                       "61-80 narrowed, 81-100 open")
    category: str = Field(description="the category shown: a researcher's override when there is one")
    computed_category: str = Field(description="the category the method computes from the score")
    as_of: str = Field(description="the day the rating was computed for")
    trend: int | None = Field(description="score change over the last 3 months; null without that history")
    base_score: int
    adjustment: float = Field(description="points the events of the last year added (negative: took off)")
    events: int = Field(description="events inside the rating's window")
    override_reason: str | None = None


UPR_EXAMPLE: dict[str, Any] = {
    "id": 12, "country": "UZ", "cycle": 2, "session": 16, "review_year": 2013, "recommending_state": "Norway",
    "text": "Guarantee the right to freedom of peaceful assembly.", "response": "supported",
    "themes": ["assembly"], "status": "partially", "status_evidence": "Law on rallies of 2024 still needs permits",
    "assessed_at": "2026-11-02T10:00:00Z",
}


class UprOut(BaseModel):
    """One UPR recommendation with its civic-space themes and the newest implementation assessment."""

    model_config = ConfigDict(json_schema_extra={"examples": [UPR_EXAMPLE]})

    id: int
    country: str = Field(description="the state under review, ISO 3166-1 alpha-2")
    cycle: int
    session: int = Field(description="UPR Working Group session")
    review_year: int | None
    recommending_state: str
    text: str
    response: str = Field(description="supported or noted")
    themes: list[str] = Field(description="civic-space themes (docs/upr.md)")
    status: str | None = Field(description="not_implemented, partially or fully; null: not assessed")
    status_evidence: str | None
    assessed_at: datetime | None


class UprList(BaseModel):
    """A page of a country's UPR recommendations; pass ``next`` back as ``cursor``."""

    items: list[UprOut]
    next: str | None


class RatingList(BaseModel):
    """Every rated country's current rating, by country code."""

    items: list[RatingOut]
    next: str | None = Field(default=None, description="always null: every rating fits on one page")


def rating_out(summary: RatingSummary) -> RatingOut:
    return RatingOut(country=summary.country, score=summary.score, category=summary.category,
                     computed_category=summary.computed_category, as_of=summary.as_of, trend=summary.trend,
                     base_score=summary.base_score, adjustment=summary.adjustment, events=summary.events,
                     override_reason=summary.override_reason)


class WatchOut(BaseModel):
    """A country on the watchlist: its score and category then and now."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"country": "KG", "since": "2026-05", "period": "2026-11", "score_then": 27, "score_now": 18,
         "change": -9, "category_then": "repressed", "category_now": "closed", "crossed": "down"}
    ]})

    country: str
    since: str = Field(description="the month compared with (YYYY-MM)")
    period: str = Field(description="the latest rated month")
    score_then: int
    score_now: int
    change: int
    category_then: str
    category_now: str
    crossed: str | None = Field(description='"down" or "up" when the category changed, else null')


class WatchList(BaseModel):
    """The watchlist, fastest falls first."""

    items: list[WatchOut]
    next: str | None = Field(default=None, description="always null: the watchlist fits on one page")


class CountryDetail(CountryOut):
    """A country's incident counts by type and its latest incidents."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"country": "UZ", "name": "Uzbekistan", "incidents": 12, "types": {"detention": 5, "prosecution": 3},
         "latest": [INCIDENT_EXAMPLE]}
    ]})

    types: dict[str, int] = Field(description="incidents per type (an incident of two types counts in both)")
    latest: list[IncidentOut] = Field(description=f"the {LATEST} most recent incidents")
    rating: RatingOut | None = Field(default=None, description="its civic-space rating; null when not rated")


class IncidentList(BaseModel):
    """A page of incidents; ``next`` is the cursor of the following page, or null on the last."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [INCIDENT_EXAMPLE], "next": None}]})

    items: list[IncidentOut]
    next: str | None


class DocumentList(BaseModel):
    """A page of documents, newest first; ``next`` is the cursor of the following page, or null."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [DOCUMENT_EXAMPLE], "next": None}]})

    items: list[DocumentSummary]
    next: str | None


class CountryList(BaseModel):
    """Every country with public incidents, most incidents first."""

    items: list[CountryOut]
    next: str | None = None


NAME_EXAMPLE: dict[str, Any] = {"id": 7, "name": "Dilshod Tarakov", "countries": ["UZ"], "incidents": 2}
SOURCE_EXAMPLE: dict[str, Any] = {
    "name": "Monitor news", "kind": "feed", "url": "https://monitor.example.org/feed.xml",
    "last_run_at": "2024-05-04T08:00:00Z", "last_ok_at": "2024-05-04T08:00:00Z", "item_count": 120,
}


class NameOut(BaseModel):
    """A registered person or organisation named in public incidents (its spellings merged by ``connect``)."""

    model_config = ConfigDict(json_schema_extra={"examples": [NAME_EXAMPLE]})

    id: int = Field(description="the registry id: its case is /api/v1/persons/{id} or /api/v1/organisations/{id}")
    name: str
    countries: list[str] = Field(description="ISO 3166-1 alpha-2 codes of the incidents naming it")
    incidents: int = Field(description="number of public incidents naming it")


class NameList(BaseModel):
    """A page of names, by name; ``next`` is the cursor of the following page, or null on the last."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [NAME_EXAMPLE], "next": None}]})

    items: list[NameOut]
    next: str | None


class SourceOut(BaseModel):
    """A source's public record: a web address only (never a local path), when it was last read, how much."""

    model_config = ConfigDict(json_schema_extra={"examples": [SOURCE_EXAMPLE]})

    name: str
    kind: str = Field(description="feed, page, listing or files")
    url: str | None = Field(description="the source's web address; null for local files")
    last_run_at: datetime | None = Field(description="when civicwatch last read it")
    last_ok_at: datetime | None = Field(description="when a reading last succeeded")
    item_count: int = Field(description="documents stored from it plus copies of documents seen there")


class SourceList(BaseModel):
    """A page of sources, by name; ``next`` is the cursor of the following page, or null on the last."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [SOURCE_EXAMPLE], "next": None}]})

    items: list[SourceOut]
    next: str | None


def name_out(named: NamedCount) -> NameOut:
    """The API's view of a named person or organisation."""
    return NameOut(id=named.id or 0, name=named.name, countries=named.countries, incidents=named.incidents)


def source_out(source: PublicSource) -> SourceOut:
    """The API's view of a source (its public fields only)."""
    return SourceOut(name=source.name, kind=source.kind, url=source.url, last_run_at=source.last_run_at,
                     last_ok_at=source.last_ok_at, item_count=source.item_count)


def incident_out(incident: Incident) -> IncidentOut:
    """The API's view of an incident."""
    return IncidentOut.model_validate(asdict(incident), from_attributes=False)


def document_summary(document: Document) -> DocumentSummary:
    """The API's record of a document (no text, no payload)."""
    fields = {name: getattr(document, name) for name in DocumentSummary.model_fields}
    return DocumentSummary.model_validate(fields)


Iso2 = Annotated[str, Path(pattern="^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 code", examples=["UZ"])]
Id = Annotated[int, Path(ge=1, le=2**63 - 1, description="the id the list gave", examples=[42])]


UprTheme = Annotated[
    str | None, Query(pattern="^[a-z_]{0,32}$", description="only recommendations with this theme",
                      examples=["assembly"]),
]


def upr_out(rec: upr.StoredRecommendation) -> UprOut:
    """The API's view of a stored recommendation."""
    a = rec.assessment
    return UprOut(id=rec.id, country=rec.country, cycle=rec.cycle, session=rec.session, review_year=rec.review_year,
                  recommending_state=rec.recommending_state, text=rec.text, response=rec.response,
                  themes=list(rec.themes), status=a.status if a else None, status_evidence=a.evidence if a else None,
                  assessed_at=a.at if a else None)


NameCountry = Annotated[
    str | None,
    Query(pattern="^([A-Za-z]{2})?$", description="only names in this country's incidents", examples=["UZ"]),
]


def _document_problems(api: FastAPI) -> None:
    """Have the OpenAPI document say that problems come as ``application/problem+json``."""
    build = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = problems_in_openapi(build())
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise it


# OpenAPI links: where an answer's ids lead (operation -> operation, its parameters as runtime expressions).
# They tell a client, and schemathesis's stateful tests, that GET /incidents gives ids GET /incidents/{id}
# takes, and that ``next`` is the following page's ``cursor``.
LINKS: list[tuple[str, str, str, dict[str, str]]] = [
    ("/incidents", "/incidents/{id}", "FirstIncident", {"path.id": "$response.body#/items/0/id"}),
    ("/incidents", "/incidents", "NextIncidents", {"query.cursor": "$response.body#/next"}),
    ("/incidents/{id}", "/documents/{id}", "IncidentDocument", {"path.id": "$response.body#/document_id"}),
    ("/incidents/{id}", "/countries/{iso2}", "IncidentCountry", {"path.iso2": "$response.body#/country"}),
    ("/documents", "/documents/{id}", "FirstDocument", {"path.id": "$response.body#/items/0/id"}),
    ("/documents", "/documents", "NextDocuments", {"query.cursor": "$response.body#/next"}),
    ("/countries", "/countries/{iso2}", "FirstCountry", {"path.iso2": "$response.body#/items/0/country"}),
    ("/countries", "/countries/{iso2}/detained", "FirstCountryDetained",
     {"path.iso2": "$response.body#/items/0/country"}),
    ("/countries", "/countries/{iso2}/upr", "FirstCountryUpr", {"path.iso2": "$response.body#/items/0/country"}),
    ("/countries/{iso2}", "/incidents/{id}", "LatestIncident", {"path.id": "$response.body#/latest/0/id"}),
    ("/ratings", "/countries/{iso2}", "FirstRatedCountry", {"path.iso2": "$response.body#/items/0/country"}),
    ("/watchlist", "/countries/{iso2}", "FirstWatchedCountry", {"path.iso2": "$response.body#/items/0/country"}),
    ("/events", "/events/{id}", "FirstEvent", {"path.id": "$response.body#/items/0/id"}),
    ("/events", "/events", "NextEvents", {"query.cursor": "$response.body#/next"}),
    ("/events/{id}", "/incidents/{id}", "EventIncident", {"path.id": "$response.body#/incidents/0"}),
    ("/events/{id}", "/documents/{id}", "EventSource", {"path.id": "$response.body#/sources/0/document_id"}),
    ("/persons", "/persons/{id}", "FirstPersonCase", {"path.id": "$response.body#/items/0/id"}),
    ("/persons", "/persons", "NextPersons", {"query.cursor": "$response.body#/next"}),
    ("/organisations", "/organisations/{id}", "FirstOrganisationCase", {"path.id": "$response.body#/items/0/id"}),
    ("/organisations", "/organisations", "NextOrganisations", {"query.cursor": "$response.body#/next"}),
    ("/countries/{iso2}/detained", "/persons/{id}", "DetainedPersonCase", {"path.id": "$response.body#/items/0/id"}),
    ("/sources", "/sources", "NextSources", {"query.cursor": "$response.body#/next"}),
    ("/countries/{iso2}/upr", "/countries/{iso2}/upr", "NextUpr",
     {"path.iso2": "$request.path.iso2", "query.cursor": "$response.body#/next"}),
]


def links_in_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with ``LINKS`` in its operations' 200 responses (by the target's operationId)."""
    paths = schema["paths"]
    for source, target, name, parameters in LINKS:
        answer = paths[source]["get"]["responses"]["200"]
        answer.setdefault("links", {})[name] = {
            "operationId": paths[target]["get"]["operationId"], "parameters": parameters,
        }
    return schema


def _document_links(api: FastAPI) -> None:
    build = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = links_in_openapi(build())
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]  # as _document_problems does


def create_api(store: Store) -> FastAPI:
    """The API application over ``store``, to mount at ``/api/v1``."""
    api = FastAPI(
        title="civicwatch API",
        version=__version__,
        summary="Civic-space incidents coded from public reports, the countries and the documents.",
        description=__doc__,
        openapi_url="/openapi.json",
        docs_url=None,  # Swagger UI would load scripts from a CDN
        redoc_url=None,
        responses=problem_responses(422, 503),
    )
    add_problem_handlers(api)
    _document_problems(api)
    _document_links(api)

    @api.get("/incidents", response_model=IncidentList, responses=problem_responses(400), tags=["incidents"])
    def list_incidents(
        filters: Annotated[IncidentFilters, Depends(incident_filters)],
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> IncidentList:
        """Incidents matching every filter given, newest first (or by confidence), a page at a time."""
        items, following = browse.incident_page(store, filters, cursor=cursor, limit=limit)
        return IncidentList(items=[incident_out(item) for item in items], next=following)

    @api.get(
        "/incidents/{id}", response_model=IncidentDetail, responses=problem_responses(404), tags=["incidents"]
    )
    def get_incident(id: Id) -> IncidentDetail:
        """One incident, with the record of its document."""
        found = browse.incident_with_document(store, id)
        if found is None:
            raise HTTPException(404, f"no public incident {id}")
        incident, document = found
        summary = document_summary(document) if document is not None else None
        return IncidentDetail(**incident_out(incident).model_dump(), document=summary)

    @api.get("/countries", response_model=CountryList, tags=["countries"])
    def list_countries() -> CountryList:
        """Every country with public incidents and how many, most first."""
        counts = browse.counts_by_country(store)
        return CountryList(
            items=[CountryOut(country=c, name=country_name(c), incidents=n) for c, n in counts.items()]
        )

    @api.get(
        "/countries/{iso2}", response_model=CountryDetail, responses=problem_responses(404),
        tags=["countries"],
    )
    def get_country(iso2: Iso2) -> CountryDetail:
        """A country's incidents by type and its latest incidents (none yet: zero counts, an empty list)."""
        code = iso2.upper()
        if country_name(code) == code:
            raise HTTPException(404, f"{code} is not an ISO 3166-1 country code")
        types = browse.counts_by_type(store, TYPES, country=code)
        total = browse.counts_by_country(store).get(code, 0)
        latest, _ = browse.incident_page(store, IncidentFilters(country=code), cursor=None, limit=LATEST)
        rated = ratings.current_ratings(store).get(code)
        return CountryDetail(country=code, name=country_name(code), incidents=total, types=types,
                             latest=[incident_out(item) for item in latest],
                             rating=rating_out(rated) if rated is not None else None)

    @api.get("/watchlist", response_model=WatchList, tags=["countries"])
    def get_watchlist(
        months: Annotated[int, Query(ge=1, le=MAX_MONTHS, description="look-back in months", examples=[6])] = MONTHS,
    ) -> WatchList:
        """Countries whose score fell 5 points or more over `months` (default 6) months, or that changed
        category in them."""
        entries = watchlist(ratings.all_history(store), months=months)
        return WatchList(items=[WatchOut(country=e.country, since=e.since, period=e.period, score_then=e.score_then,
                                         score_now=e.score_now, change=e.change, category_then=e.category_then,
                                         category_now=e.category_now, crossed=e.crossed) for e in entries])

    @api.get("/ratings", response_model=RatingList, tags=["countries"])
    def list_ratings() -> RatingList:
        """Every rated country's current civic-space rating (run `civicwatch rate` to compute them)."""
        current = ratings.current_ratings(store)
        return RatingList(items=[rating_out(current[code]) for code in sorted(current)])

    @api.get("/documents", response_model=DocumentList, responses=problem_responses(400), tags=["documents"])
    def list_documents(
        lang: Annotated[
            str | None, Query(pattern="^[A-Za-z-]{0,16}$", description="language code", examples=["en"])
        ] = None,
        source_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="only this source's")] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> DocumentList:
        """Stored documents, newest first, without their text (fetch one for it)."""
        filters = DocumentFilters(lang=lang or None, source_id=source_id)
        items, following = browse.document_page(store, filters, cursor=cursor, limit=limit)
        return DocumentList(items=[document_summary(item) for item in items], next=following)

    @api.get(
        "/documents/{id}", response_model=DocumentOut, responses=problem_responses(404), tags=["documents"]
    )
    def get_document(id: Id) -> DocumentOut:
        """One document with its clean text."""
        document = browse.public_document(store, id)
        if document is None:
            raise HTTPException(404, f"no document {id}")
        return DocumentOut(**document_summary(document).model_dump(), text=document.text)

    @api.get("/persons", response_model=NameList, responses=problem_responses(400), tags=["names"])
    def list_persons(country: NameCountry = None, limit: Limit = 50, cursor: Cursor = None) -> NameList:
        """People named as affected in public incidents, by name, with their countries and incident counts."""
        items, following = browse.names_page(store, "persons", cursor=cursor, limit=limit, country=country or None)
        return NameList(items=[name_out(item) for item in items], next=following)

    @api.get("/organisations", response_model=NameList, responses=problem_responses(400), tags=["names"])
    def list_organisations(country: NameCountry = None, limit: Limit = 50, cursor: Cursor = None) -> NameList:
        """Organisations named as affected in public incidents, by name, with their countries and counts."""
        items, following = browse.names_page(
            store, "organisations", cursor=cursor, limit=limit, country=country or None
        )
        return NameList(items=[name_out(item) for item in items], next=following)

    @api.get("/sources", response_model=SourceList, responses=problem_responses(400), tags=["sources"])
    def list_sources(limit: Limit = 50, cursor: Cursor = None) -> SourceList:
        """The sources civicwatch reads, by name: public fields only (web addresses, never local paths)."""
        items, following = browse.source_page(store, cursor=cursor, limit=limit)
        return SourceList(items=[source_out(item) for item in items], next=following)

    @api.get(
        "/countries/{iso2}/upr", response_model=UprList, responses=problem_responses(400, 404), tags=["countries"]
    )
    def list_upr(iso2: Iso2, theme: UprTheme = None, limit: Limit = 50, cursor: Cursor = None) -> UprList:
        """A country's UPR recommendations in import order, with themes and implementation status."""
        code = iso2.upper()
        if country_name(code) == code:
            raise HTTPException(404, f"{code} is not an ISO 3166-1 country code")
        if cursor is not None and not cursor.isdigit():
            raise HTTPException(400, "cursor: not a cursor this API gave")
        rows = upr.recommendations(store, code, theme=theme or None, after=int(cursor) if cursor else None,
                                   limit=limit + 1)
        following = str(rows[limit - 1].id) if len(rows) > limit else None
        return UprList(items=[upr_out(r) for r in rows[:limit]], next=following)

    from civicwatch.web.cases import add_case_routes  # connect's routes: cases and the detained
    from civicwatch.web.events import add_event_routes  # connect's routes: /events, /events/{id}

    add_event_routes(api, store)
    add_case_routes(api, store)
    return api
