"""Ratings in the database: base scores, the computed monthly history, overrides, and the events to rate.

The method itself is ``civicwatch.rate.method`` (no storage); ``civicwatch.rate.run`` joins the two.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, insert, select

from civicwatch.errors import UsageError
from civicwatch.rate.files import BaseRating
from civicwatch.rate.method import CATEGORIES, Contribution, Rating, RatingEvent
from civicwatch.store import audit
from civicwatch.store.browse import _cached, public_incident
from civicwatch.store.db import Store
from civicwatch.store.schema import incidents, rating_bases, rating_overrides, ratings
from civicwatch.store.withheld import load as load_withheld

TREND_MONTHS = 3


@dataclass(frozen=True)
class RatingSummary:
    """What a page shows of a country's rating now."""

    country: str
    score: int
    category: str  # the override's when there is one
    computed_category: str
    as_of: str
    trend: int | None  # score change over the last TREND_MONTHS months; None without that much history
    base_score: int
    adjustment: float
    events: int
    contributions: tuple[Contribution, ...]
    override_reason: str | None = None
    override_by: str | None = None


@dataclass(frozen=True)
class Override:
    """A researcher's override of a country's category (``category`` None lifts it)."""

    country: str
    category: str | None
    reason: str
    set_by: str
    at: datetime


def save_bases(store: Store, bases: Iterable[BaseRating], *, source: str, set_by: str | None = None) -> int:
    """Store base ratings (all in one transaction); a country's base for the same day is replaced."""
    rows = list(bases)
    now = datetime.now(UTC)
    with store._write() as connection:
        for base in rows:
            connection.execute(delete(rating_bases).where(rating_bases.c.country == base.country,
                                                          rating_bases.c.as_of == base.as_of))
        if rows:
            connection.execute(insert(rating_bases), [
                {"country": b.country, "as_of": b.as_of, "score": b.score, "category": b.category, "source": source,
                 "reason": b.reason, "set_by": set_by, "created_at": now} for b in rows])
        if set_by is not None:  # a researcher's hand-set base is a change a person made: audited
            for b in rows:
                audit.record(connection, actor=set_by, item_kind="rating", item_id=b.country, action="set_base",
                             before=None, after={"score": b.score, "category": b.category,
                                                 "as_of": b.as_of}, reason=b.reason)
    return len(rows)


def bases(store: Store) -> dict[str, dict[date, int]]:
    """Every country's base scores by the day they count from."""
    found: defaultdict[str, dict[date, int]] = defaultdict(dict)
    with store._read() as connection:
        for row in connection.execute(select(rating_bases.c.country, rating_bases.c.as_of, rating_bases.c.score)):
            found[row.country][date.fromisoformat(row.as_of)] = int(row.score)
    return dict(found)


def events_to_rate(store: Store, countries: Iterable[str]) -> dict[str, list[RatingEvent]]:
    """The public incidents of ``countries`` as rating events.

    Incidents that the connect stage has joined into one event count once (``incidents.event_id``,
    when the schema has it); every other incident is an event of its own.
    """
    wanted = sorted(set(countries))
    found: defaultdict[str, dict[str, RatingEvent]] = defaultdict(dict)
    event_column = incidents.c.get("event_id")
    columns = [incidents.c.id, incidents.c.country, incidents.c.types, incidents.c.targets, incidents.c.persons,
               incidents.c.date, incidents.c.evidence]
    if event_column is not None:
        columns.append(event_column)
    query = (select(*columns).where(public_incident(), incidents.c.country.in_(wanted))
             .order_by(incidents.c.id))
    with store._read() as connection:
        for row in connection.execute(query):
            event_id = getattr(row, "event_id", None)
            key = f"event:{event_id}" if event_id is not None else f"incident:{row.id}"
            seen = found[row.country].get(key)
            if seen is not None:  # another report of the same event: its types, targets and people join
                row_types = tuple(dict.fromkeys((*seen.types, *row.types)))
                row_targets = tuple(dict.fromkeys((*seen.targets, *row.targets)))
                found[row.country][key] = RatingEvent(key, row.country, row_types, row_targets,
                                                      max(seen.persons, len(row.persons)), seen.date or row.date,
                                                      seen.summary)
                continue
            found[row.country][key] = RatingEvent(key, row.country, tuple(row.types), tuple(row.targets),
                                                  len(row.persons), row.date, row.evidence[:300])
    return {country: list(events.values()) for country, events in found.items()}


def save_history(store: Store, computed: Iterable[Rating]) -> int:
    """Replace the stored rating history with ``computed`` (one transaction: never half a history)."""
    rows = [_rating_row(r) for r in computed]
    with store._write() as connection:
        connection.execute(delete(ratings))
        if rows:
            connection.execute(insert(ratings), rows)
    return len(rows)


def _rating_row(rating: Rating) -> dict[str, Any]:
    explanation = [{"key": c.key, "points": round(c.points, 2), "date": c.date, "types": list(c.types),
                    "summary": c.summary} for c in rating.contributions]
    return {"country": rating.country, "period": rating.as_of[:7], "as_of": rating.as_of, "score": rating.score,
            "category": rating.category, "base_score": rating.base_score, "adjustment": rating.adjustment,
            "events": rating.events, "explanation": json.dumps(explanation, ensure_ascii=False),
            "computed_at": datetime.now(UTC)}


def history(store: Store, country: str) -> list[tuple[str, int, str]]:
    """``(period, score, category)`` of ``country`` per month, oldest first."""
    query = (select(ratings.c.period, ratings.c.score, ratings.c.category)
             .where(ratings.c.country == country.upper()).order_by(ratings.c.period))
    with store._read() as connection:
        return [(r.period, int(r.score), r.category) for r in connection.execute(query)]


def set_override(store: Store, country: str, category: str | None, *, reason: str, set_by: str) -> Override:
    """Record a researcher's override of ``country``'s category (None lifts it), with who and why."""
    if category is not None and category not in CATEGORIES:
        raise UsageError(category, f"not a civic-space category ({', '.join(CATEGORIES)})")
    if not reason.strip():
        raise UsageError("--reason", "an override needs a reason, which is shown with it")
    if not set_by.strip():
        raise UsageError("--by", "say who overrides the rating")
    override = Override(country.upper(), category, reason.strip(), set_by.strip(), datetime.now(UTC))
    with store._write() as connection:
        before = connection.execute(select(rating_overrides.c.category).where(
            rating_overrides.c.country == override.country).order_by(rating_overrides.c.id.desc()).limit(1)).first()
        connection.execute(insert(rating_overrides).values(
            country=override.country, category=category, reason=override.reason, set_by=override.set_by,
            at=override.at))
        # In the same transaction: the override and its audit row commit together or not at all.
        audit.record(connection, actor=override.set_by, item_kind="rating", item_id=override.country,
                     action="override" if category is not None else "lift_override",
                     before=None if before is None else {"override": before.category},
                     after={"override": category}, reason=override.reason)
    return override


def overrides(store: Store, country: str | None = None) -> list[Override]:
    """Every override recorded (for ``country``), oldest first: the record of who changed what and why."""
    query = select(rating_overrides).order_by(rating_overrides.c.id)
    if country:
        query = query.where(rating_overrides.c.country == country.upper())
    with store._read() as connection:
        return [Override(r.country, r.category, r.reason, r.set_by, r.at) for r in connection.execute(query)]


def current_ratings(store: Store) -> dict[str, RatingSummary]:
    """Each rated country's latest rating, with its trend and any override in force."""
    return _cached(store, ("current ratings",), _current)


def _current(connection: Any) -> dict[str, RatingSummary]:
    by_country: defaultdict[str, list[Any]] = defaultdict(list)
    for row in connection.execute(select(ratings).order_by(ratings.c.country, ratings.c.period)):
        by_country[row.country].append(row)
    in_force: dict[str, Any] = {}
    for row in connection.execute(select(rating_overrides).order_by(rating_overrides.c.id)):
        in_force[row.country] = row
    shown = _still_public(connection, [json.loads(rows[-1].explanation) for rows in by_country.values()])
    blackout = load_withheld(connection)
    found = {}
    for country, rows in by_country.items():
        now = rows[-1]
        before = rows[-1 - TREND_MONTHS] if len(rows) > TREND_MONTHS else None
        override = in_force.get(country)
        active = override if override is not None and override.category is not None else None
        found[country] = RatingSummary(
            country=country, score=int(now.score), category=active.category if active else now.category,
            computed_category=now.category, as_of=now.as_of,
            trend=int(now.score) - int(before.score) if before is not None else None,
            base_score=int(now.base_score), adjustment=float(now.adjustment), events=int(now.events),
            # The explanation was written when ``rate`` ran: what has since been hidden (a confidential or
            # rejected incident) is left out, and names withheld since are blacked out.
            contributions=tuple(Contribution(c["key"], c["points"], c["date"], tuple(c["types"]),
                                             blackout.text(c["summary"]))
                                for c in json.loads(now.explanation) if c["key"] in shown),
            override_reason=active.reason if active else None, override_by=active.set_by if active else None,
        )
    return found


def _still_public(connection: Any, explanations: list[list[dict[str, Any]]]) -> set[str]:
    """The contribution keys ("incident:7", "event:3") of ``explanations`` that name public incidents now."""
    incident_ids = {int(c["key"][9:]) for e in explanations for c in e if c["key"].startswith("incident:")}
    event_ids = {int(c["key"][6:]) for e in explanations for c in e if c["key"].startswith("event:")}
    shown: set[str] = set()
    for ids, column, prefix in ((incident_ids, incidents.c.id, "incident:"),
                                (event_ids, incidents.c.event_id, "event:")):
        wanted = sorted(ids)
        for start in range(0, len(wanted), 500):
            query = select(column).distinct().where(column.in_(wanted[start:start + 500]), public_incident())
            shown.update(f"{prefix}{row[0]}" for row in connection.execute(query))
    return shown


def all_history(store: Store) -> dict[str, list[tuple[str, int, str]]]:
    """Every country's ``(period, score, category)`` per month, oldest first (for the watchlist)."""
    def compute(connection: Any) -> dict[str, list[tuple[str, int, str]]]:
        found: defaultdict[str, list[tuple[str, int, str]]] = defaultdict(list)
        query = select(ratings.c.country, ratings.c.period, ratings.c.score, ratings.c.category).order_by(
            ratings.c.country, ratings.c.period)
        for row in connection.execute(query):
            found[row.country].append((row.period, int(row.score), row.category))
        return dict(found)

    return _cached(store, ("rating history",), compute)
