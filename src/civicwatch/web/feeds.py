"""Atom feeds: ``/feeds/incidents.atom`` with the incident list's filters (``?country=UZ&type=detention``).

A feed lists the incidents coded or corrected most recently, newest first, so that a reader
sees what is new since the last visit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from civicwatch.model import Document, Incident
from civicwatch.publish.atom import MEDIA_TYPE, FeedEntry, atom_feed
from civicwatch.rate.watchlist import MAX_MONTHS, MONTHS, watchlist
from civicwatch.store import Store, browse, ratings
from civicwatch.store.browse import IncidentFilters
from civicwatch.web.params import filter_params, incident_filters
from civicwatch.web.render import country_name, label, query_string

router = APIRouter(include_in_schema=False)

FEED_SIZE = 50
TYPE_SCHEME = "urn:civicwatch:codebook:type"
COUNTRY_SCHEME = "urn:iso:std:iso:3166:-1:alpha-2"


def incident_title(incident: Incident) -> str:
    """A one-line title: "Detention, prosecution in Uzbekistan on 2024-05-03"."""
    what = ", ".join(label(t) for t in incident.types) or "Incident"
    when = f" on {incident.date}" if incident.date else ""
    return f"{what[:1].upper()}{what[1:]} in {country_name(incident.country)}{when}"


def feed_title(filters: IncidentFilters) -> str:
    """The feed's title, naming its filters: "civicwatch: incidents (country UZ, type detention)"."""
    params = filter_params(filters)
    params.pop("sort", None)
    named = ", ".join(f"{name.replace('_', ' ')} {value}" for name, value in params.items())
    return "civicwatch: incidents" + (f" ({named})" if named else "")


def _entry(base: str, incident: Incident, updated: datetime, document: Document | None) -> FeedEntry:
    link = f"{base}/incidents/{incident.id}"
    categories = [(TYPE_SCHEME, t) for t in incident.types] + [(COUNTRY_SCHEME, incident.country)]
    return FeedEntry(
        id=link,
        title=incident_title(incident),
        link=link,
        updated=updated,
        summary=incident.evidence,
        categories=categories,
        related=document.url if document is not None and document.url else None,
    )


@router.get("/feeds/incidents.atom")
def incidents_feed(
    request: Request, filters: Annotated[IncidentFilters, Depends(incident_filters)]
) -> Response:
    """The latest incidents matching the filters, as Atom."""
    store: Store = request.app.state.store
    recent = browse.recent_incidents(store, filters, limit=FEED_SIZE)
    documents = browse.documents_by_id(store, [i.document_id for i, _ in recent if i.document_id])
    base = str(request.base_url).rstrip("/")
    params = filter_params(filters)
    params.pop("sort", None)
    self_url = f"{base}/feeds/incidents.atom{query_string(params)}"
    entries = [
        _entry(base, incident, updated, documents.get(incident.document_id or 0))
        for incident, updated in recent
    ]
    body = atom_feed(
        title=feed_title(filters),
        feed_id=self_url,
        self_url=self_url,
        site_url=f"{base}/incidents{query_string(params)}",
        entries=entries,
    )
    return Response(body, media_type=MEDIA_TYPE)


@router.get("/feeds/watchlist.atom")
def watchlist_feed(
    request: Request, months: Annotated[int, Query(ge=1, le=MAX_MONTHS)] = MONTHS
) -> Response:
    """The watchlist (look-back ``months``) as Atom: one entry per country on it, updated with each month's rating."""
    store: Store = request.app.state.store
    base = str(request.base_url).rstrip("/")
    current = ratings.current_ratings(store)
    entries = []
    for entry in watchlist(ratings.all_history(store), months=months):
        rated = current.get(entry.country)
        updated = datetime.fromisoformat(rated.as_of).replace(tzinfo=UTC) if rated else datetime.now(UTC)
        crossed = f", now {entry.category_now} (was {entry.category_then})" if entry.crossed else ""
        entries.append(FeedEntry(
            id=f"{base}/watchlist#{entry.country}-{entry.period}",
            title=f"{country_name(entry.country)}: score {entry.score_now} ({entry.change:+d}){crossed}",
            link=f"{base}/countries/{entry.country.lower()}",
            updated=updated,
            summary=f"Score {entry.score_then} in {entry.since}, {entry.score_now} in {entry.period}.",
            categories=[(COUNTRY_SCHEME, entry.country)],
        ))
    body = atom_feed(title="civicwatch: watchlist", feed_id=f"{base}/feeds/watchlist.atom",
                     self_url=f"{base}/feeds/watchlist.atom", site_url=f"{base}/watchlist", entries=entries)
    return Response(body, media_type=MEDIA_TYPE)
