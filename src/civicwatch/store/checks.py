"""Consistency checks over a whole database: what ``civicwatch db check`` reports.

Foreign keys and unique indexes prevent these problems in normal use; the checks find
what an old bug, a hand edit or a database opened without foreign keys left behind.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from civicwatch.store.schema import document_bands, documents, sightings, sources

_parent = documents.alias("parent")


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
    ]


def _listed(what: str, ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
    return f"{len(ids)} {what} {shown})"


def problems(connection: Connection) -> list[str]:
    """Every problem found, one line each; an empty list means the database is consistent."""
    found = []
    for what, query in _orphans():
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
