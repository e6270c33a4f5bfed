"""Consistency checks over a whole database: what ``civicwatch check`` reports.

Foreign keys and unique indexes prevent these problems in normal use; the checks find
what an old bug, a hand edit or a database opened without foreign keys left behind, and what a
crash would leave if a write were not one transaction: a coding without its record, incidents
stored twice, events left empty (``tests/test_crash_kills.py`` runs them after every kill).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from civicwatch.store.schema import (
    codings,
    document_bands,
    documents,
    events,
    incidents,
    organisation_aliases,
    organisation_incidents,
    organisations,
    person_aliases,
    person_incidents,
    persons,
    sightings,
    sources,
)

_parent = documents.alias("parent")


def _registry_orphans() -> list[tuple[str, Select[Any]]]:
    """Registry rows (links to incidents, aliases) whose person, organisation or incident is gone."""
    found: list[tuple[str, Select[Any]]] = []
    for kind, entities, aliases, links in (("person", persons, person_aliases, person_incidents),
                                           ("organisation", organisations, organisation_aliases,
                                            organisation_incidents)):
        entity_id = links.c[f"{kind}_id"]
        found += [
            (f"{kind} links point to missing incidents (incident ids",
             select(links.c.incident_id).where(
                 ~select(incidents.c.id).where(incidents.c.id == links.c.incident_id).exists())),
            (f"{kind} links point to missing {kind}s ({kind} ids",
             select(entity_id).where(~select(entities.c.id).where(entities.c.id == entity_id).exists())),
            (f"{kind} aliases point to missing {kind}s ({kind} ids",
             select(aliases.c[f"{kind}_id"]).where(
                 ~select(entities.c.id).where(entities.c.id == aliases.c[f"{kind}_id"]).exists())),
        ]
    return found


def _orphans() -> list[tuple[str, Select[Any]]]:
    """(what, query for the ids of the rows that point nowhere)."""
    return [
        (
            "document bands point to missing documents (document ids",
            select(document_bands.c.document_id).where(
                ~select(documents.c.id).where(documents.c.id == document_bands.c.document_id).exists()
            ),
        ),
        (
            "sightings point to missing documents (sighting ids",
            select(sightings.c.id).where(
                ~select(documents.c.id).where(documents.c.id == sightings.c.document_id).exists()
            ),
        ),
        (
            "sightings point to missing sources (sighting ids",
            select(sightings.c.id).where(
                sightings.c.source_id.is_not(None),
                ~select(sources.c.id).where(sources.c.id == sightings.c.source_id).exists(),
            ),
        ),
        (
            "incidents point to missing documents (incident ids",
            select(incidents.c.id).where(
                ~select(documents.c.id).where(documents.c.id == incidents.c.document_id).exists()
            ),
        ),
        (
            "codings point to missing documents (document ids",
            select(codings.c.document_id).where(
                ~select(documents.c.id).where(documents.c.id == codings.c.document_id).exists()
            ),
        ),
        (
            "documents point to missing sources (document ids",
            select(documents.c.id).where(
                documents.c.source_id.is_not(None),
                ~select(sources.c.id).where(sources.c.id == documents.c.source_id).exists(),
            ),
        ),
        (
            "documents point to missing digests (document ids",
            select(documents.c.id).where(
                documents.c.parent_id.is_not(None),
                ~select(_parent.c.id).where(_parent.c.id == documents.c.parent_id).exists(),
            ),
        ),
        (
            "incidents point to missing events (incident ids",
            select(incidents.c.id).where(
                incidents.c.event_id.is_not(None),
                ~select(events.c.id).where(events.c.id == incidents.c.event_id).exists(),
            ),
        ),
        *_registry_orphans(),
    ]


def _half_written() -> list[tuple[str, Select[Any]]]:
    """(what, ids) of rows a coding or a connect run should have written together with others.

    A document's machine incidents and its ``codings`` row are written in one transaction
    (``save_coding``, ``bulk load``): incidents without the record, or more of them than it counts, are
    a coding half written or written twice. An event without incidents is left when re-coding took its
    incidents away; the next ``civicwatch connect`` removes it.
    """
    machine = incidents.c.coded_by == "machine"
    return [
        ("incidents are stored twice: same document, country, types and evidence span (incident ids",
         _stored_twice()),
        (
            "documents have machine incidents but no coding record (document ids",
            select(incidents.c.document_id).where(
                machine, ~select(codings.c.document_id).where(codings.c.document_id == incidents.c.document_id).exists()
            ),
        ),
        (
            "documents have more machine incidents than their coding record counts (document ids",
            select(codings.c.document_id).where(
                select(func.count()).select_from(incidents)
                .where(machine, incidents.c.document_id == codings.c.document_id)
                .scalar_subquery() > codings.c.incident_count
            ),
        ),
        (
            "events have no incidents; `civicwatch connect` removes them (event ids",
            select(events.c.id).where(~select(incidents.c.id).where(incidents.c.event_id == events.c.id).exists()),
        ),
    ]


def _stored_twice() -> Select[Any]:
    """Machine incidents that another machine incident of the same document repeats field for field."""
    same = (incidents.c.document_id, incidents.c.country, incidents.c.types, incidents.c.evidence_start,
            incidents.c.evidence_end)
    twice = (select(*same).where(incidents.c.coded_by == "machine").group_by(*same)
             .having(func.count() > 1).subquery("twice"))
    return select(incidents.c.id).join(twice, and_(*(column == twice.c[column.name] for column in same))).where(
        incidents.c.coded_by == "machine")


def _misplaced_evidence() -> Select[Any]:
    """Incidents whose evidence offsets are out of order or run past the end of their document's text.

    Offsets count characters, as ``length()`` does on both engines.
    """
    return (
        select(incidents.c.id)
        .join(documents, documents.c.id == incidents.c.document_id)
        .where(
            or_(
                incidents.c.evidence_start < 0,
                incidents.c.evidence_end < incidents.c.evidence_start,
                incidents.c.evidence_end > func.length(documents.c.text),
            )
        )
    )


def _listed(what: str, ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
    return f"{len(ids)} {what} {shown})"


def problems(connection: Connection) -> list[str]:
    """Every problem found, one line each; an empty list means the database is consistent."""
    found = []
    for what, query in [*_orphans(), *_half_written()]:
        ids = sorted({int(i) for i in connection.execute(query).scalars()})
        if ids:
            found.append(_listed(what, ids))
    duplicates = connection.execute(
        select(documents.c.content_hash, func.count())
        .group_by(documents.c.content_hash)
        .having(func.count() > 1)
        .order_by(documents.c.content_hash)
    ).all()
    for content_hash, count in duplicates:
        found.append(f"{count} documents share the content hash {content_hash}")
    misplaced = sorted(int(i) for i in connection.execute(_misplaced_evidence()).scalars())
    if misplaced:
        found.append(_listed("incidents have evidence offsets outside their document's text (incident ids",
                             misplaced))
    if connection.dialect.name == "sqlite":
        found.extend(_sqlite_problems(connection))
    return found


def _sqlite_problems(connection: Connection) -> list[str]:
    found: list[str] = []
    report = [str(row[0]) for row in connection.exec_driver_sql("PRAGMA quick_check")]
    if report != ["ok"]:
        found.extend(f"SQLite: {line}" for line in report)
    try:
        # Compares the FTS5 index with the documents table; raises when they differ.
        connection.exec_driver_sql(
            "INSERT INTO documents_fts(documents_fts, rank) VALUES ('integrity-check', 1)"
        )
    except DBAPIError as exc:
        found.append(
            f"the full-text index is out of step with the documents ({exc.orig}); "
            "rebuild it with: INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')"
        )
    return found
