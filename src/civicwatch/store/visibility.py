"""``incidents.visibility``: the one column the public rule reads, kept in step with what decides it.

An incident is "hidden" when it was rejected, is confidential itself, or its document or that
document's source is confidential; otherwise "reviewed" when a person accepted, edited or made it,
and "machine" when nobody has looked at it yet. ``store/browse.py`` shows "machine" and "reviewed"
incidents under ``publish = "all"`` and only "reviewed" ones under ``publish = "reviewed"``.

Every write that changes one of the inputs calls ``refresh`` in its own transaction, for the
incidents it may have changed: the derived column is never out of date when the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, and_, case, exists, or_, select, true, update

from civicwatch.store.schema import documents, incidents, sources

VISIBILITIES = ("machine", "reviewed", "hidden")
PUBLIC_VISIBILITY = {"all": ("machine", "reviewed"), "reviewed": ("reviewed",)}


def _in_confidential_document() -> object:
    return exists().where(
        documents.c.id == incidents.c.document_id,
        or_(
            documents.c.confidential.is_(True),
            exists().where(sources.c.id == documents.c.source_id, sources.c.confidential.is_(True)),
        ),
    )


def _derived() -> object:
    return case(
        (or_(incidents.c.confidential.is_(True), incidents.c.review == "rejected",
             _in_confidential_document()), "hidden"),  # type: ignore[arg-type]
        (or_(incidents.c.coded_by == "person", incidents.c.review == "accepted"), "reviewed"),
        else_="machine",
    )


def refresh(
    connection: Connection,
    *,
    incident_ids: Iterable[int] | None = None,
    document_ids: Iterable[int] | None = None,
    source_ids: Iterable[int] | None = None,
) -> int:
    """Recompute the visibility of the incidents named, of the documents named, and of the sources named
    (inside the caller's transaction); returns how many rows changed. With no argument: every incident."""
    wanted = []
    if incident_ids is not None:
        wanted.append(incidents.c.id.in_(list(incident_ids)))
    if document_ids is not None:
        wanted.append(incidents.c.document_id.in_(list(document_ids)))
    if source_ids is not None:
        of_sources = select(documents.c.id).where(documents.c.source_id.in_(list(source_ids)))
        wanted.append(incidents.c.document_id.in_(of_sources))
    scope = or_(*wanted) if wanted else true()
    derived = _derived()
    statement = (
        update(incidents)
        .where(and_(scope, incidents.c.visibility != derived))  # only rows that change: fewer writes
        .values(visibility=derived)
    )
    return int(connection.execute(statement).rowcount or 0)
