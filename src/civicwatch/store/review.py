"""The review queue and researchers' decisions: accept, reject (with a reason), mark confidential.

Each decision is one transaction: the change, the derived visibility (``store/visibility.py``) and
the audit row (``store/audit.py``) commit together. Editing an incident's fields is
``Store.edit_incident(id, actor=..., reason=..., **changes)``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import and_, select, update

from civicwatch.errors import UsageError
from civicwatch.model import Incident
from civicwatch.store import audit, visibility
from civicwatch.store.db import Store, _incident
from civicwatch.store.schema import documents, incidents, sources

QUEUE_LIMIT = 200
CONFIDENTIAL_KINDS = ("incident", "document", "source")


def queue(store: Store, *, limit: int = 50, after: tuple[float, int] | None = None) -> list[Incident]:
    """Machine-coded incidents nobody has decided on yet, lowest confidence first (then by id).

    Page on with ``after=(confidence, id)`` of the last one returned. Confidential ones are included:
    researchers review those too.
    """
    if not 1 <= limit <= QUEUE_LIMIT:
        raise UsageError(f"limit={limit}", f"expected 1 to {QUEUE_LIMIT}")
    query = select(incidents).where(incidents.c.review == "pending", incidents.c.coded_by == "machine")
    if after is not None:
        confidence, last_id = after
        query = query.where(
            (incidents.c.confidence > confidence)
            | and_(incidents.c.confidence == confidence, incidents.c.id > last_id)
        )
    query = query.order_by(incidents.c.confidence, incidents.c.id).limit(limit)
    with store._read() as connection:
        return [_incident(row) for row in connection.execute(query)]


def pending_count(store: Store) -> int:
    """How many incidents wait in the queue."""
    from sqlalchemy import func

    query = select(func.count()).where(incidents.c.review == "pending", incidents.c.coded_by == "machine")
    with store._read() as connection:
        return int(connection.execute(query).scalar_one())


def incident(store: Store, incident_id: int) -> Incident | None:
    """Any incident by id, confidential or rejected ones too (for researchers' pages only)."""
    with store._read() as connection:
        row = connection.execute(select(incidents).where(incidents.c.id == incident_id)).first()
    return None if row is None else _incident(row)


def _decide(store: Store, incident_id: int, actor: str, action: str, reason: str | None,
            **values: Any) -> Incident:
    with store._write() as connection:
        row = connection.execute(select(incidents).where(incidents.c.id == incident_id)).first()
        if row is None:
            raise UsageError(f"incident {incident_id}", "no incident with this id")
        before = _incident(row)
        # coded_by "person": a decision is a person's, and re-coding never replaces it.
        connection.execute(update(incidents).where(incidents.c.id == incident_id).values(coded_by="person", **values))
        visibility.refresh(connection, incident_ids=[incident_id])
        after = _incident(connection.execute(select(incidents).where(incidents.c.id == incident_id)).one())
        audit.record(connection, actor=actor, item_kind="incident", item_id=incident_id, action=action,
                     before=dataclasses.asdict(before), after=dataclasses.asdict(after), reason=reason)
    return after


def accept(store: Store, incident_id: int, *, actor: str, reason: str | None = None) -> Incident:
    """A researcher confirms a machine-coded incident as it is: public under ``publish = "reviewed"`` too."""
    return _decide(store, incident_id, actor, "accept", reason, review="accepted")


def reject(store: Store, incident_id: int, *, actor: str, reason: str) -> Incident:
    """A researcher rejects an incident (never public again; re-coding will not bring it back); needs a reason."""
    if not reason or not reason.strip():
        raise UsageError("reason", "a rejection needs a reason")
    return _decide(store, incident_id, actor, "reject", reason.strip(), review="rejected")


def set_confidential(store: Store, kind: str, item_id: int, confidential: bool, *, actor: str,
                     reason: str | None = None) -> None:
    """Mark an incident, a document or a source confidential (or lift the mark), with the audit record;
    everything that depends on it becomes hidden (or visible again) in the same transaction."""
    table = {"incident": incidents, "document": documents, "source": sources}.get(kind)
    if table is None:
        raise UsageError(kind, "expected one of: " + ", ".join(CONFIDENTIAL_KINDS))
    with store._write() as connection:
        was = connection.execute(select(table.c.confidential).where(table.c.id == item_id)).first()
        if was is None:
            raise UsageError(f"{kind} {item_id}", f"no {kind} with this id")
        connection.execute(update(table).where(table.c.id == item_id).values(confidential=confidential))
        scope = {"incident": "incident_ids", "document": "document_ids", "source": "source_ids"}[kind]
        visibility.refresh(connection, **{scope: [item_id]})
        audit.record(connection, actor=actor, item_kind=kind, item_id=item_id,
                     action="confidential" if confidential else "not confidential",
                     before={"confidential": bool(was[0])}, after={"confidential": confidential}, reason=reason)


def document_is_confidential(store: Store, document_id: int) -> bool:
    """Whether the document, or its source, is marked confidential."""
    query = (
        select(documents.c.confidential, sources.c.confidential.label("source_confidential"))
        .select_from(documents.outerjoin(sources, sources.c.id == documents.c.source_id))
        .where(documents.c.id == document_id)
    )
    with store._read() as connection:
        row = connection.execute(query).first()
    return bool(row and (row.confidential or row.source_confidential))
