"""Events in storage: connect new incidents into events, read events, split and merge by hand.

``connect`` is incremental: it takes the incidents whose ``event_id`` is NULL (new, or re-coded),
loads the events already filed in the blocks they fall in, merges with ``connect.events.merge`` and
writes the result, ``BATCH`` incidents per transaction, each kind of write (new events, grown
events' signals, incidents' events, registry entries, aliases, links) one executemany statement.

It makes two passes. The names go first, in id order, because the registry is shared by every
country. The events go country by country, still in id order within each: incidents of different
countries are never one event, so this is the merge that id order gives. A batch then re-reads the
events of its own countries only. Batches in id order met every country in every batch, so each
re-read all the events connected so far, and a million incidents took over an hour.
Every connected incident gets an event, a lone one too, so "not yet connected" is exactly
``event_id IS NULL``. A researcher's split or merge locks the events it touches (the automatic
merge no longer adds to them) and is recorded in the audit log in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, exists, func, insert, select, tuple_, update

from civicwatch.connect.events import Candidate, Group, block_keys, home_block, merge
from civicwatch.errors import UsageError
from civicwatch.model import Incident
from civicwatch.store import audit
from civicwatch.store.cases import Registration
from civicwatch.store.db import Store
from civicwatch.store.schema import documents, events, incidents

# Ids are 32-bit integers on PostgreSQL: a larger id names no row (and must not reach the database as one).
MAX_ID = 2**31 - 1
# New incidents read and merged per transaction: bounded memory, and a crash loses one batch's work only.
BATCH = 20_000


@dataclass
class ConnectReport:
    """What one ``connect`` run did."""

    incidents: int = 0
    new_events: int = 0
    joined: int = 0  # incidents that joined an event holding another incident
    links: int = 0  # names linked to the registry of persons and organisations


@dataclass
class EventView:
    """One event with its incidents (oldest first) and, for each, its document's title and address."""

    id: int
    country: str
    month: str | None
    locked: bool
    signals: list[dict[str, Any]]
    incidents: list[Incident] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)


def _now() -> datetime:
    return datetime.now(UTC)


def _incident(row: Any) -> Incident:
    values = row._asdict()
    known = Incident.__dataclass_fields__
    return Incident(**{k: v for k, v in values.items() if k in known})


def _incident_columns() -> list[Any]:
    return [c for c in incidents.c if c.name in Incident.__dataclass_fields__]


def connect(store: Store, *, progress: Callable[[int, int], None] | None = None) -> ConnectReport:
    """Connect every incident not yet in an event; return counts. Safe to re-run (does nothing new).

    ``progress(done, total)`` is called after each batch of events, ``done`` counting incidents.
    """
    report = ConnectReport()
    with store._read() as connection:
        counts = [(str(country), int(n)) for country, n in connection.execute(
            select(incidents.c.country, func.count()).where(incidents.c.event_id.is_(None))
            .group_by(incidents.c.country).order_by(incidents.c.country))]
    total = sum(n for _, n in counts)
    if not total:
        _drop_empty_events(store)
        return report
    report.links = _register_names(store)
    prepared: dict[int, Candidate] = {}
    for countries in _country_batches(counts):
        after = 0
        while True:
            with store._write() as connection:
                query = (select(*_incident_columns())
                         .where(incidents.c.event_id.is_(None), incidents.c.country.in_(countries),
                                incidents.c.id > after)
                         .order_by(incidents.c.id).limit(BATCH))
                batch = [_incident(row) for row in connection.execute(query)]
                if not batch:
                    break
                after = batch[-1].id or after
                _connect_batch(connection, batch, report, prepared)
            report.incidents += len(batch)
            if progress is not None:
                progress(report.incidents, total)
    _drop_empty_events(store)
    return report


def _drop_empty_events(store: Store) -> None:
    """Delete the events whose incidents were all re-coded away."""
    with store._write() as connection:
        connection.execute(delete(events).where(~exists().where(incidents.c.event_id == events.c.id)))


def _register_names(store: Store) -> int:
    """Match the names of every incident not yet in an event to the registry, in id order; return links made.

    A crash between this pass and the events leaves those incidents unconnected: the re-run matches
    their names again, finds them by their exact keys and adds nothing (links are inserted or ignored).
    """
    registration = Registration()  # the registry, read once: only this call writes it meanwhile
    links = 0
    after = 0
    columns = [incidents.c[name] for name in ("id", "country", "targets", "persons", "organisations")]
    while True:
        with store._write() as connection:
            rows = connection.execute(select(*columns).where(incidents.c.event_id.is_(None), incidents.c.id > after)
                                      .order_by(incidents.c.id).limit(BATCH)).all()
            if not rows:
                return links
            after = int(rows[-1].id)
            named = [Incident(id=int(r.id), country=r.country, types=[], targets=list(r.targets),
                              persons=list(r.persons), organisations=list(r.organisations))
                     for r in rows if r.persons or r.organisations]
            links += registration.register(connection, named)


def _country_batches(counts: list[tuple[str, int]]) -> list[list[str]]:
    """Countries packed into batches of about ``BATCH`` unconnected incidents (a bigger one alone, read in pages)."""
    batches: list[list[str]] = []
    size = BATCH
    for country, n in counts:
        if size + n > BATCH:
            batches.append([])
            size = 0
        batches[-1].append(country)
        size += n
    return batches


def _existing_groups(connection: Connection, batch: list[Incident], prepared: dict[int, Candidate]) -> list[Group]:
    """The events filed in any block the batch's incidents look in, with their incidents.

    ``prepared``: the candidates the previous batch read or connected, by incident id. Each batch re-reads
    the events of the blocks it touches (a researcher may have split or merged them meanwhile), but an
    incident read back unchanged is not prepared for comparison again (transliterating its names and
    evidence was half the time of a 100k run); ``prepared`` is left holding the candidates read here.
    """
    keys = sorted({key for incident in batch for key in block_keys(incident)})
    columns = _incident_columns()
    found: dict[int, Group] = {}
    seen: dict[int, Candidate] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        rows = connection.execute(
            select(events.c.id, events.c.locked, *columns)
            .join(incidents, incidents.c.event_id == events.c.id)
            .where(tuple_(events.c.country, func.coalesce(events.c.month, "")).in_(chunk))
            .order_by(incidents.c.id)
        ).all()
        for row in rows:
            event_id = int(row[0])  # the join names the event's id first, the incident's after it
            group = found.setdefault(event_id, Group([], event_id=event_id, locked=bool(row.locked)))
            incident = _joined_incident(row, columns)
            before = prepared.get(int(incident.id or 0))
            # Candidate.of is a function of the incident alone: an equal incident gets an equal candidate.
            candidate = (Candidate(incident, before.name_keys, before.evidence, before.span)
                         if before is not None and before.incident == incident else Candidate.of(incident))
            seen[int(incident.id or 0)] = candidate
            group.members.append(candidate)
    prepared.clear()
    prepared.update(seen)
    return list(found.values())


def _joined_incident(row: Any, columns: list[Any] | None = None) -> Incident:
    return Incident(**{c.name: row._mapping[c] for c in columns or _incident_columns()})


def _connect_batch(connection: Connection, batch: list[Incident], report: ConnectReport,
                   prepared: dict[int, Candidate]) -> None:
    existing = _existing_groups(connection, batch, prepared)
    known = {id(g): (int(g.event_id or 0), len(g.members)) for g in existing}  # read from events: ids set
    now = _now()
    new_groups: list[Group] = []
    grown: list[tuple[int, Group, list[Candidate]]] = []  # (event id, group, members new to it)
    for group in merge(batch, existing):
        if id(group) not in known:
            new_groups.append(group)
            report.new_events += 1
            report.joined += len(group.members) - 1
        elif len(group.members) > known[id(group)][1]:
            event_id, size = known[id(group)]
            grown.append((event_id, group, group.members[size:]))
            report.joined += len(group.members) - size
    # One statement per kind of write, not a round trip per event: insertmanyvalues returns the new
    # events' ids in the order given.
    members: list[dict[str, Any]] = []
    if new_groups:
        homes = [home_block(g.members[0].incident) for g in new_groups]
        rows = [{"country": country, "month": month, "signals": json.dumps(g.joins), "locked": False,
                 "created_at": now, "updated_at": now} for (country, month), g in zip(homes, new_groups, strict=True)]
        ids = connection.execute(insert(events).returning(events.c.id, sort_by_parameter_order=True),
                                 rows).scalars().all()
        for group, event_id in zip(new_groups, ids, strict=True):
            group.event_id = int(event_id)
            members += [{"b_id": m.incident.id, "b_event": group.event_id} for m in group.members]
    if grown:
        old = _signals(connection, [event_id for event_id, _, _ in grown])
        connection.execute(update(events).where(events.c.id == bindparam("b_id"))
                           .values(signals=bindparam("b_signals"), updated_at=now),
                           [{"b_id": event_id, "b_signals": json.dumps(old[event_id] + group.joins)}
                            for event_id, group, _ in grown])
        members += [{"b_id": m.incident.id, "b_event": event_id} for event_id, _, new in grown for m in new]
    if members:
        connection.execute(update(incidents).where(incidents.c.id == bindparam("b_id"))
                           .values(event_id=bindparam("b_event")), members)
    # The batch's own candidates, now as stored (in their events), for the next batch to find prepared.
    for group in [*new_groups, *(g for _, g, _ in grown)]:
        for member in group.members:
            member.incident.event_id = group.event_id
            prepared[int(member.incident.id or 0)] = member


def _signals(connection: Connection, event_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The recorded joins of each of ``event_ids``, read in chunks that stay under SQLite's parameter limit."""
    found: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(event_ids), 1000):
        chunk = event_ids[start:start + 1000]
        for event_id, signals in connection.execute(select(events.c.id, events.c.signals)
                                                    .where(events.c.id.in_(chunk))):
            found[int(event_id)] = json.loads(signals)
    return found


def event(store: Store, event_id: int, *, public: bool = True) -> EventView | None:
    """One event with every incident and its source document, or None.

    ``public``: only incidents the public may see (``browse.public_incident``); an event with none is None.
    """
    from civicwatch.store import browse

    if not 0 < event_id <= MAX_ID:
        return None
    with store._read() as connection:
        row = connection.execute(select(events).where(events.c.id == event_id)).first()
        if row is None:
            return None
        query = (select(*_incident_columns(), documents.c.title, documents.c.url, documents.c.published)
                 .join(documents, documents.c.id == incidents.c.document_id)
                 .where(incidents.c.event_id == event_id).order_by(incidents.c.id))
        if public:
            query = query.where(browse.public_incident())
        members = connection.execute(query).all()
    if public and not members:
        return None
    signals = json.loads(row.signals)
    blackout = browse.withheld(store) if public else None
    if public:
        # Only joins between reports the public sees, and no withheld name among the names that matched.
        shown = {int(m.id) for m in members}
        signals = [{**join, "names": [n for n in join.get("names", []) if not (blackout and blackout.is_withheld(n))]}
                   for join in signals if join.get("incident_id") in shown and join.get("with") in shown]
    view = EventView(row.id, row.country, row.month, bool(row.locked), signals)
    for member in members:
        incident = _joined_incident(member)
        title = member.title
        if blackout:
            incident, title = blackout.incident(incident), blackout.text(title)
        view.incidents.append(incident)
        url = browse.public_url(member.url) if public else member.url
        view.sources.append({"incident_id": incident.id, "document_id": incident.document_id,
                             "title": title, "url": url, "published": member.published})
    return view


def _members(connection: Connection, event_id: int) -> list[int]:
    rows = connection.execute(select(incidents.c.id).where(incidents.c.event_id == event_id).order_by(incidents.c.id))
    return [int(r[0]) for r in rows]


def split_incident(store: Store, incident_id: int, *, actor: str, reason: str | None = None) -> int:
    """Take one incident out of its event into a new event of its own; return the new event's id.

    Both events are locked so that ``connect`` does not merge them again; the change is audited.
    """
    if not 0 < incident_id <= MAX_ID:
        raise UsageError(str(incident_id), "no such incident")
    with store._write() as connection:
        row = connection.execute(
            select(incidents.c.event_id, incidents.c.country, incidents.c.date).where(incidents.c.id == incident_id)
        ).first()
        if row is None:
            raise UsageError(str(incident_id), "no such incident")
        if row.event_id is None:
            raise UsageError(str(incident_id), "incident is not connected yet; run `civicwatch connect`")
        old_members = _members(connection, row.event_id)
        if len(old_members) < 2:
            raise UsageError(str(incident_id), "incident is alone in its event already")
        now = _now()
        country, month = home_block(Incident(country=row.country, types=[], date=row.date))
        new_id = connection.execute(
            insert(events).values(country=country, month=month, signals="[]", locked=True,
                                  created_at=now, updated_at=now).returning(events.c.id)
        ).scalar_one()
        connection.execute(update(incidents).where(incidents.c.id == incident_id).values(event_id=new_id))
        connection.execute(update(events).where(events.c.id == row.event_id).values(locked=True, updated_at=now))
        audit.record(connection, actor=actor, item_kind="event", item_id=row.event_id, action="split",
                     before={"incidents": old_members},
                     after={"incidents": [i for i in old_members if i != incident_id], "new_event": new_id},
                     reason=reason)
    return int(new_id)


def merge_events(store: Store, event_ids: list[int], *, actor: str, reason: str | None = None) -> int:
    """Move every incident of ``event_ids`` into the first of them, lock it, remove the emptied ones."""
    if len(set(event_ids)) < 2:
        raise UsageError(",".join(map(str, event_ids)), "name at least two different events to merge")
    too_large = [str(e) for e in event_ids if not 0 < e <= MAX_ID]
    if too_large:
        raise UsageError(",".join(too_large), "no such event")
    target, others = event_ids[0], [e for e in dict.fromkeys(event_ids[1:]) if e != event_ids[0]]
    with store._write() as connection:
        found = {int(r[0]) for r in connection.execute(select(events.c.id).where(events.c.id.in_(event_ids)))}
        missing = [str(e) for e in event_ids if e not in found]
        if missing:
            raise UsageError(",".join(missing), "no such event")
        before = {str(e): _members(connection, e) for e in [target, *others]}
        connection.execute(update(incidents).where(incidents.c.event_id.in_(others)).values(event_id=target))
        connection.execute(update(events).where(events.c.id == target).values(locked=True, updated_at=_now()))
        connection.execute(delete(events).where(events.c.id.in_(others)))
        audit.record(connection, actor=actor, item_kind="event", item_id=target, action="merge",
                     before=before, after={str(target): _members(connection, target)}, reason=reason)
    return target


def event_page(store: Store, *, country: str | None = None, after_id: int | None = None,
               limit: int = 50, public: bool = True) -> list[tuple[int, str, str | None, int]]:
    """Events newest first as (id, country, month, number of incidents), keyset-paged by id (``after_id``:
    the last id of the page before). ``public``: counting only incidents the public may see."""
    from civicwatch.store import browse

    query = (select(events.c.id, events.c.country, events.c.month, func.count(incidents.c.id).label("n"))
             .join(incidents, incidents.c.event_id == events.c.id)
             .group_by(events.c.id, events.c.country, events.c.month).order_by(events.c.id.desc()).limit(limit))
    if country:
        query = query.where(events.c.country == country.upper())
    if after_id is not None:
        query = query.where(events.c.id < min(after_id, MAX_ID + 1))
    if public:
        query = query.where(browse.public_incident())
    with store._read() as connection:
        return [(int(r.id), str(r.country), r.month, int(r.n)) for r in connection.execute(query)]


__all__ = ["BATCH", "ConnectReport", "EventView", "connect", "event", "event_page", "merge_events",
           "split_incident"]
