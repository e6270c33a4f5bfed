"""UPR recommendations in the database: import, listing by country, assessments and suggested evidence."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, insert, select

from civicwatch.errors import UsageError
from civicwatch.store import audit
from civicwatch.store.browse import public_incident, withheld
from civicwatch.store.db import Store
from civicwatch.store.schema import documents, incidents, upr_assessments, upr_recommendations, upr_themes
from civicwatch.upr.importer import Recommendation

STATUSES = ("not_implemented", "partially", "fully")
BATCH = 1000


@dataclass(frozen=True)
class Assessment:
    """A researcher's view of how far a recommendation is implemented."""

    status: str
    evidence: str
    assessed_by: str
    at: datetime


@dataclass(frozen=True)
class StoredRecommendation:
    """A recommendation with its themes and newest assessment (None: not assessed yet)."""

    id: int
    country: str
    cycle: int
    session: int
    review_year: int | None
    recommending_state: str
    text: str
    response: str
    issues: str | None
    themes: tuple[str, ...]
    assessment: Assessment | None


@dataclass(frozen=True)
class EvidenceEvent:
    """An event (incidents grouped by event, or one incident) suggested as evidence for a recommendation."""

    event: int  # the event id, or minus the incident id for an incident that is its own event
    incident_id: int
    date: str | None
    types: tuple[str, ...]
    evidence: str
    title: str | None
    url: str | None


def import_recommendations(
    store: Store,
    recommendations: Iterable[Recommendation],
    *,
    source_file: str,
    themes: Callable[[str], set[str]],
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Store new recommendations with their themes, in one transaction; returns (added, already there).

    Re-importing the same file adds nothing: each recommendation's ``key`` is unique.
    """
    added = skipped = 0
    now = datetime.now(UTC)
    with store._write() as connection:
        known = set(connection.execute(select(upr_recommendations.c.key)).scalars())
        batch: list[Recommendation] = []

        def flush() -> None:
            nonlocal added
            for rec in batch:
                rec_id = connection.execute(insert(upr_recommendations).values(
                    key=rec.key, country=rec.country, cycle=rec.cycle, session=rec.session,
                    review_year=rec.review_year, recommending_state=rec.recommending_state, text=rec.text,
                    response=rec.response, issues=rec.issues, source_file=source_file, imported_at=now,
                ).returning(upr_recommendations.c.id)).scalar_one()
                tags = sorted(themes(rec.text))
                if tags:
                    connection.execute(insert(upr_themes), [{"recommendation_id": rec_id, "theme": t} for t in tags])
            added += len(batch)
            if progress is not None:
                progress(len(batch))
            batch.clear()

        for rec in recommendations:
            if rec.key in known:
                skipped += 1
                continue
            known.add(rec.key)
            batch.append(rec)
            if len(batch) >= BATCH:
                flush()
        flush()
    return added, skipped


def recommendations(
    store: Store, country: str, *, theme: str | None = None, after: int | None = None, limit: int | None = None
) -> list[StoredRecommendation]:
    """A country's recommendations in id order (``after``: the last id of the previous page)."""
    query = select(upr_recommendations).where(upr_recommendations.c.country == country.upper())
    if theme is not None:
        query = query.where(upr_recommendations.c.id.in_(
            select(upr_themes.c.recommendation_id).where(upr_themes.c.theme == theme)))
    if after is not None:
        query = query.where(upr_recommendations.c.id > after)
    query = query.order_by(upr_recommendations.c.id)
    if limit is not None:
        query = query.limit(limit)
    with store._read() as connection:
        rows = connection.execute(query).mappings().all()
        ids = [r["id"] for r in rows]
        tags: dict[int, list[str]] = {i: [] for i in ids}
        latest: dict[int, Assessment] = {}
        if ids:
            for rid, t in connection.execute(select(upr_themes.c.recommendation_id, upr_themes.c.theme).where(
                    upr_themes.c.recommendation_id.in_(ids)).order_by(upr_themes.c.theme)):
                tags[rid].append(t)
            newest = (select(func.max(upr_assessments.c.id)).where(upr_assessments.c.recommendation_id.in_(ids))
                      .group_by(upr_assessments.c.recommendation_id))
            for a in connection.execute(select(upr_assessments).where(upr_assessments.c.id.in_(newest))).mappings():
                latest[a["recommendation_id"]] = Assessment(a["status"], a["evidence"], a["assessed_by"], a["at"])
    return [StoredRecommendation(
        r["id"], r["country"], r["cycle"], r["session"], r["review_year"], r["recommending_state"], r["text"],
        r["response"], r["issues"], tuple(tags[r["id"]]), latest.get(r["id"])) for r in rows]


def recommendation(store: Store, rec_id: int) -> StoredRecommendation:
    """One recommendation by id (``UsageError`` when there is none)."""
    with store._read() as connection:
        country = connection.execute(select(upr_recommendations.c.country).where(
            upr_recommendations.c.id == rec_id)).scalar_one_or_none()
    if country is None:
        raise UsageError(str(rec_id), "no UPR recommendation with this id")
    found = [r for r in recommendations(store, country, after=rec_id - 1, limit=1) if r.id == rec_id]
    return found[0]


def assess(store: Store, rec_id: int, *, status: str, evidence: str, actor: str) -> Assessment:
    """Record a researcher's implementation status with its evidence (and an audit row, same transaction)."""
    if status not in STATUSES:
        raise UsageError(status, f"status must be one of {', '.join(STATUSES)}")
    if not evidence.strip():
        raise UsageError("evidence", "an assessment needs evidence (what shows the status)")
    before = recommendation(store, rec_id).assessment
    at = datetime.now(UTC)
    with store._write() as connection:
        connection.execute(insert(upr_assessments).values(
            recommendation_id=rec_id, status=status, evidence=evidence.strip(), assessed_by=actor, at=at))
        audit.record(
            connection, actor=actor, item_kind="upr_recommendation", item_id=rec_id, action="assess",
            before=None if before is None else {"status": before.status, "evidence": before.evidence},
            after={"status": status, "evidence": evidence.strip()}, reason=None)
    return Assessment(status, evidence.strip(), actor, at)


def suggest_evidence(
    store: Store,
    rec: StoredRecommendation,
    matches: Callable[[str, set[str], set[str]], bool],
    *,
    limit: int = 10,
) -> list[EvidenceEvent]:
    """Public events in the recommendation's country since its review that match one of its themes.

    ``matches(theme, incident types, targets)`` says whether an event is evidence for a theme (the
    tagger's ``evidence_matches``). Incidents of one event count once (``coalesce(event_id, -id)``);
    newest first.
    """
    if not rec.themes:
        return []
    since = str(rec.review_year or 0)
    event_col = incidents.c.get("event_id")
    event = func.coalesce(event_col, -incidents.c.id) if event_col is not None else -incidents.c.id
    query = (
        select(event.label("event"), incidents.c.id, incidents.c.date, incidents.c.types, incidents.c.targets,
               incidents.c.evidence,
               documents.c.title, documents.c.url)
        .join(documents, documents.c.id == incidents.c.document_id)
        .where(incidents.c.country == rec.country, incidents.c.date >= since,
               public_incident())
        .order_by(incidents.c.date.desc(), incidents.c.id.desc())
    )
    if "confidential" in incidents.c:
        query = query.where(incidents.c.confidential.is_(False))
    out: list[EvidenceEvent] = []
    seen: set[int] = set()
    blackout = withheld(store)  # the public sees this: no confidential person's name
    with store._read() as connection:
        for row in connection.execute(query):
            types = tuple(row.types or ())
            targets = set(row.targets or ())
            if row.event in seen or not any(matches(theme, set(types), targets) for theme in rec.themes):
                continue
            seen.add(row.event)
            out.append(EvidenceEvent(row.event, row.id, row.date, types, blackout.text(row.evidence),
                                     blackout.text(row.title), row.url))
            if len(out) >= limit:
                break
    return out
