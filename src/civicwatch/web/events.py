"""Event pages: ``/events`` (newest first, by country) and ``/events/{id}`` (every source that reported it),
with the researchers' forms to split an incident off an event or merge two events (CSRF, audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from civicwatch.store import Store, audit
from civicwatch.store import events as stored
from civicwatch.web import auth
from civicwatch.web.deps import Researcher, StoreDep
from civicwatch.web.problems import problem_responses
from civicwatch.web.render import country_name, templates

router = APIRouter(include_in_schema=False)
PAGE = 50
EventId = Annotated[int, Path(ge=1, le=2**63 - 1)]



@router.get("/events")
def events_page(
    request: Request,
    store: StoreDep,
    country: Annotated[str | None, Query(pattern="^[A-Za-z]{2}$")] = None,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    """Events newest first, each with how many reports it joins."""
    rows = stored.event_page(store, country=country, after_id=before, limit=PAGE + 1)
    following = rows[PAGE - 1][0] if len(rows) > PAGE else None
    context = {"rows": rows[:PAGE], "next": following, "country": country.upper() if country else None,
               "country_name": country_name, "user": auth.current_user(request)}
    return templates.TemplateResponse(request, "events.html", context)


@router.get("/events/{id}")
def event_detail(request: Request, store: StoreDep, id: EventId) -> Response:
    """One event: every source that reported it, the signals that joined them, and (for researchers) the forms."""
    user = auth.current_user(request)
    researcher = user is not None and user.can("researcher")
    view = stored.event(store, id, public=not researcher)
    if view is None:
        raise HTTPException(404, f"no event {id}")
    context = {"event": view, "pairs": list(zip(view.incidents, view.sources, strict=True)),
               "name": country_name(view.country), "researcher": researcher, "user": user,
               "csrf_field": auth.csrf_field(request),
               # Researchers see who split or merged it (a signed-in request is never page-cached).
               "history": audit.history(store, "event", id) if researcher else None}
    return templates.TemplateResponse(request, "event.html", context)


@router.post("/events/{id}/split", dependencies=[auth.CSRFDep])
def split_event(
    store: StoreDep,
    user: Researcher,
    id: EventId,
    incident_id: Annotated[int, Form(ge=1, le=2**63 - 1)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Take one incident out of this event into its own (audited); back to the new event."""
    # A UsageError (an incident not in this database, say) is the app's 400 page, naming the input.
    new_id = stored.split_incident(store, incident_id, actor=user.name, reason=reason or None)
    return RedirectResponse(f"/events/{new_id}", status_code=303)


@router.post("/events/{id}/merge", dependencies=[auth.CSRFDep])
def merge_event(
    store: StoreDep,
    user: Researcher,
    id: EventId,
    other: Annotated[int, Form(ge=1, le=2**63 - 1)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Merge another event into this one (audited); back to this event."""
    stored.merge_events(store, [id, other], actor=user.name, reason=reason or None)
    return RedirectResponse(f"/events/{id}", status_code=303)


# -- the API: /api/v1/events and /api/v1/events/{id} (added to ``web/api.py``'s app by ``add_event_routes``) --

EVENT_SUMMARY_EXAMPLE: dict[str, Any] = {"id": 12, "country": "UZ", "month": "2026-03", "reports": 3}
EVENT_EXAMPLE: dict[str, Any] = {
    "id": 12, "country": "UZ", "month": "2026-03", "locked": False,
    "sources": [{"incident_id": 40, "document_id": 7, "title": "Blogger detained in Tashkent",
                 "url": "https://monitor.example.org/r/7", "published": "2026-03-04"}],
    "incidents": [40, 41, 44],
    "signals": [{"incident_id": 41, "with": 40, "signals": ["country", "types", "date", "names"],
                 "names": ["dilnoza eshonkulova"], "evidence_similarity": 0.42}],
}


class EventSummary(BaseModel):
    """One event in a list: where, when (the month of its earliest report) and how many reports."""

    model_config = ConfigDict(json_schema_extra={"examples": [EVENT_SUMMARY_EXAMPLE]})

    id: int
    country: str = Field(description="ISO 3166-1 alpha-2 code")
    month: str | None = Field(description="YYYY-MM (or YYYY, or empty) of the report it was started by")
    reports: int = Field(description="public incidents (reports) joined in this event")


class EventList(BaseModel):
    """A page of events, newest first; pass ``next`` back as ``cursor``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [EVENT_SUMMARY_EXAMPLE], "next": None}]})

    items: list[EventSummary]
    next: str | None


class EventSource(BaseModel):
    """A document that reported the event, with the incident coded from it."""

    incident_id: int
    document_id: int | None
    title: str | None
    url: str | None
    published: str | None


class EventOut(BaseModel):
    """One event: every source that reported it and the signals that joined each report in."""

    model_config = ConfigDict(json_schema_extra={"examples": [EVENT_EXAMPLE]})

    id: int
    country: str
    month: str | None
    locked: bool = Field(description="grouped by a researcher: the automatic merge leaves it alone")
    sources: list[EventSource]
    incidents: list[int]
    signals: list[dict[str, Any]]


def add_event_routes(api: FastAPI, store: Store) -> None:
    """The public event routes of the JSON API (only public incidents are shown or counted)."""

    @api.get("/events", response_model=EventList, responses=problem_responses(400), tags=["events"])
    def list_events(
        country: Annotated[str | None, Query(pattern="^[A-Za-z]{2}$", examples=["UZ"])] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(max_length=20)] = None,
    ) -> EventList:
        """Events newest first, each with its number of reports; ``cursor`` from ``next``."""
        if cursor is not None and not cursor.isdigit():
            raise HTTPException(400, "cursor: not a cursor this API gave")
        rows = stored.event_page(store, country=country, after_id=int(cursor) if cursor else None, limit=limit + 1)
        following = str(rows[limit - 1][0]) if len(rows) > limit else None
        items = [EventSummary(id=i, country=c, month=m, reports=n) for i, c, m, n in rows[:limit]]
        return EventList(items=items, next=following)

    @api.get("/events/{id}", response_model=EventOut, responses=problem_responses(404), tags=["events"])
    def get_event(id: EventId) -> EventOut:
        """One event with every source that reported it."""
        view = stored.event(store, id)
        if view is None:
            raise HTTPException(404, f"no event {id}")
        return EventOut(id=view.id, country=view.country, month=view.month, locked=view.locked,
                        sources=[EventSource(**s) for s in view.sources],
                        incidents=[i.id for i in view.incidents if i.id is not None], signals=view.signals)
