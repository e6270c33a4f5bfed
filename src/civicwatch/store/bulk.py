"""Bulk loading: documents and what the coder found in them, a large batch per transaction.

``Store.add_unless_copy`` and ``Store.save_coding`` write one document or one coding per transaction,
which is right while collecting and far too slow for an archive of millions (``civicwatch bulk load``,
benchmarks). ``load`` takes the same data as streams and writes ``batch`` documents per transaction:

    from civicwatch.store import Store, bulk

    summary = bulk.load(
        store,
        documents=[Document(text=..., content_hash=...), ...],
        codings=[(content_hash, [Incident(...), ...]), ...],   # or (document id, [...])
        coder_version="rules-1",
    )

What it does, and what it leaves out:

- documents are stored once per ``content_hash``: one already stored (or given twice) is left as it is and
  counted in ``documents_present``. There is no near-duplicate detection (no MinHash signature or bands
  are stored), so a later ``collect`` finds exact copies of bulk-loaded texts, not near ones.
- ``codings`` are ``(document, incidents)`` pairs, the document named by its id or its ``content_hash``,
  exactly what ``Store.save_coding`` takes: the document's machine-made incidents are replaced by these
  (``coded_by="machine"``, ``coder_version``), the document is recorded as coded by that version even
  when the list is empty, incidents a person made are never touched, and a machine incident a person
  already covers is not stored. Loading the same results again therefore changes nothing. A document
  that appears in several pairs of one call gets all their incidents (flat per-incident rows need not be
  sorted; ``per_document`` groups consecutive rows).
- a pair naming a document that is not stored is skipped and counted in ``missing_documents``.
- SQLite: ``executemany`` inside one ``BEGIN IMMEDIATE`` transaction per batch; the FTS5 triggers index each
  new document as it is inserted. PostgreSQL: ``executemany`` for documents (``ON CONFLICT DO NOTHING``),
  ``COPY`` for incidents. A failure rolls back the batch being written; earlier batches stay (re-running
  the load finishes the job, since it is idempotent).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby, islice
from typing import Any, TypeVar

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from civicwatch.errors import UsageError
from civicwatch.model import Document, Incident
from civicwatch.store import visibility
from civicwatch.store.db import Store, _coded_by_a_person, _incident, _incident_values
from civicwatch.store.schema import codings as codings_table
from civicwatch.store.schema import documents as documents_table
from civicwatch.store.schema import incidents as incidents_table

DocumentKey = int | str  # a stored document's id, or the content_hash of a document (stored or being loaded)
DEFAULT_BATCH = 5000
_LOOKUP_CHUNK = 1000  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits
_LIST_FIELDS = ("types", "rights", "targets", "persons", "organisations", "perpetrators")
_INCIDENT_COPY_COLUMNS = (
    "document_id", "country", *_LIST_FIELDS, "date", "evidence", "evidence_start", "evidence_end",
    "confidence", "coder_version", "coded_by", "created_at", "updated_at",
)
_T = TypeVar("_T")
_K = TypeVar("_K")


@dataclass
class LoadSummary:
    """What one ``load`` call did."""

    documents_added: int = 0
    documents_present: int = 0  # already stored (same content_hash), or given twice
    documents_coded: int = 0  # documents whose coding was recorded (with or without incidents)
    documents_unchanged: int = 0  # already coded by this version with exactly these incidents: left alone
    incidents_added: int = 0
    incidents_kept_for_people: int = 0  # machine incidents left out because a person's incident covers them
    missing_documents: int = 0  # coding pairs naming a document that is not stored


def per_document(rows: Iterable[tuple[_K, Incident]]) -> Iterator[tuple[_K, list[Incident]]]:
    """Group flat ``(document, incident)`` rows into ``(document, incidents)`` pairs, consecutive rows together.

    Rows of one document should be adjacent (as a Parquet partition written per document is); when they
    are not, ``load`` still adds every group of a document, so nothing is lost.
    """
    for key, group in groupby(rows, key=lambda row: row[0]):
        yield key, [incident for _, incident in group]


def load(
    store: Store,
    documents: Iterable[Document] = (),
    codings: Iterable[tuple[DocumentKey, Sequence[Incident]]] = (),
    *,
    coder_version: str | None = None,
    batch: int = DEFAULT_BATCH,
) -> LoadSummary:
    """Store ``documents`` and then ``codings``, ``batch`` documents per transaction; idempotent.

    ``codings`` are read after every document is stored, so they may name documents of this same call by
    ``content_hash``. ``coder_version`` is required when codings are given. Raises ``UsageError`` for a bad
    ``batch`` or a missing ``coder_version``, ``StoreError`` when the database fails (the batch being
    written is rolled back).
    """
    if batch < 1:
        raise UsageError(f"batch={batch}", "must be at least 1")
    summary = LoadSummary()
    for chunk in _batches(documents, batch):
        _load_documents(store, chunk, summary)
    seen: set[int] = set()  # documents coded earlier in this call: their later pairs add, not replace
    for pairs in _batches(codings, batch):
        if coder_version is None:
            raise UsageError("coder_version", "required to load codings (which coder found these incidents)")
        _load_codings(store, pairs, coder_version, seen, summary)
    return summary


def _batches(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _now() -> datetime:
    return datetime.now(UTC)


def _insert(dialect: str, table: Any) -> Any:
    return (sqlite.insert if dialect == "sqlite" else postgresql.insert)(table)


# -- documents -------------------------------------------------------------------------------------


def _load_documents(store: Store, chunk: list[Document], summary: LoadSummary) -> None:
    unique: dict[str, Document] = {}
    for document in chunk:
        unique.setdefault(document.content_hash, document)
    now = _now()
    with store._write() as connection:
        present = _stored_hashes(connection, list(unique))
        rows = [_document_values(doc, now) for hash_, doc in unique.items() if hash_ not in present]
        if rows:
            # ON CONFLICT still, for PostgreSQL: another writer may store the same text meanwhile.
            statement = _insert(store.dialect, documents_table).on_conflict_do_nothing(
                index_elements=[documents_table.c.content_hash]
            )
            connection.execute(statement, rows)
    summary.documents_added += len(rows)
    summary.documents_present += len(chunk) - len(rows)


def _document_values(document: Document, now: datetime) -> dict[str, Any]:
    values = {f.name: getattr(document, f.name) for f in dataclasses.fields(Document) if f.name != "id"}
    values["fetched_at"] = document.fetched_at or now
    values["signature"] = None
    return values


def _stored_hashes(connection: Connection, hashes: list[str]) -> set[str]:
    query = select(documents_table.c.content_hash).where(
        documents_table.c.content_hash.in_(bindparam("hashes", expanding=True))
    )
    found: set[str] = set()
    for part in _batches(hashes, _LOOKUP_CHUNK):
        found.update(str(row[0]) for row in connection.execute(query, {"hashes": part}))
    return found


# -- codings ---------------------------------------------------------------------------------------


def _resolve(connection: Connection, keys: Iterable[DocumentKey]) -> dict[DocumentKey, int]:
    """The stored document id for each key (id or content_hash) that names a stored document."""
    keys = list(keys)
    ids = sorted({key for key in keys if isinstance(key, int)})
    hashes = sorted({key for key in keys if isinstance(key, str)})
    resolved: dict[DocumentKey, int] = {}
    by_id = select(documents_table.c.id).where(documents_table.c.id.in_(bindparam("keys", expanding=True)))
    by_hash = select(documents_table.c.id, documents_table.c.content_hash).where(
        documents_table.c.content_hash.in_(bindparam("keys", expanding=True))
    )
    for part in _batches(ids, _LOOKUP_CHUNK):
        resolved.update((int(row.id), int(row.id)) for row in connection.execute(by_id, {"keys": part}))
    for part_hashes in _batches(hashes, _LOOKUP_CHUNK):
        rows = connection.execute(by_hash, {"keys": part_hashes})
        resolved.update((str(row.content_hash), int(row.id)) for row in rows)
    return resolved


def _people(connection: Connection, document_ids: list[int]) -> dict[int, list[Incident]]:
    """Incidents a person made in these documents (usually none), by document."""
    query = select(incidents_table).where(
        incidents_table.c.coded_by == "person",
        incidents_table.c.document_id.in_(bindparam("ids", expanding=True)),
    )
    found: dict[int, list[Incident]] = {}
    for part in _batches(document_ids, _LOOKUP_CHUNK):
        for row in connection.execute(query, {"ids": part}):
            found.setdefault(int(row.document_id), []).append(_incident(row))
    return found


def _same(incident: Incident) -> tuple[Any, ...]:
    """What makes two machine incidents the same, whatever their ids and times."""
    lists = tuple(tuple(getattr(incident, name)) for name in _LIST_FIELDS)
    return (incident.country, *lists, incident.date or "", incident.evidence, incident.evidence_start,
            incident.evidence_end, float(incident.confidence))


def _unchanged(
    connection: Connection, found: dict[int, list[Incident]], seen_before: set[int], coder_version: str
) -> set[int]:
    """Documents already coded by ``coder_version`` with exactly these machine incidents (and no person's).

    Re-loading the same results must change nothing, not even the incidents' ids, which pages link to.
    """
    candidates = [document_id for document_id in found if document_id not in seen_before]
    coded: dict[int, int] = {}
    query = select(codings_table.c.document_id, codings_table.c.incident_count).where(
        codings_table.c.coder_version == coder_version,
        codings_table.c.document_id.in_(bindparam("ids", expanding=True)),
    )
    for part in _batches(candidates, _LOOKUP_CHUNK):
        coded.update((int(row[0]), int(row[1])) for row in connection.execute(query, {"ids": part}))
    if not coded:  # the usual first load: nothing to compare
        return set()
    stored: dict[int, list[Incident]] = {}
    rows_query = select(incidents_table).where(incidents_table.c.document_id.in_(bindparam("ids", expanding=True)))
    for part in _batches(sorted(coded), _LOOKUP_CHUNK):
        for row in connection.execute(rows_query, {"ids": part}):
            stored.setdefault(int(row.document_id), []).append(_incident(row))
    same: set[int] = set()
    for document_id, count in coded.items():
        rows = stored.get(document_id, [])
        if any(row.coded_by != "machine" or row.coder_version != coder_version for row in rows):
            continue
        if count == len(rows) and sorted(map(_same, rows)) == sorted(map(_same, found[document_id])):
            same.add(document_id)
    return same


def _load_codings(
    store: Store,
    pairs: list[tuple[DocumentKey, Sequence[Incident]]],
    coder_version: str,
    seen: set[int],
    summary: LoadSummary,
) -> None:
    now = _now()
    with store._write() as connection:
        resolved = _resolve(connection, (key for key, _ in pairs))
        found: dict[int, list[Incident]] = {}
        for key, incidents in pairs:
            document_id = resolved.get(key)
            if document_id is None:
                summary.missing_documents += 1
                continue
            found.setdefault(document_id, []).extend(incidents)
        seen_before = {document_id for document_id in found if document_id in seen}
        unchanged = _unchanged(connection, found, seen_before, coder_version)
        for document_id in unchanged:  # coded the same way already: keep the rows (and the ids people link to)
            del found[document_id]
        fresh = [document_id for document_id in found if document_id not in seen_before]
        # Machine incidents of earlier codings go; a person's stay, and win over a machine incident on them.
        for part in _batches(fresh, _LOOKUP_CHUNK):
            connection.execute(
                delete(incidents_table).where(
                    incidents_table.c.coded_by == "machine",
                    incidents_table.c.document_id.in_(part),
                )
            )
        people = _people(connection, list(found))
        rows: list[dict[str, Any]] = []
        counts: dict[int, int] = {}
        for document_id, incidents in found.items():
            theirs = people.get(document_id, [])
            kept = [incident for incident in incidents if not _coded_by_a_person(incident, theirs)]
            summary.incidents_kept_for_people += len(incidents) - len(kept)
            counts[document_id] = len(kept)
            rows.extend(_incident_values(i, document_id, coder_version, "machine", now) for i in kept)
        _insert_incidents(connection, store.dialect, rows)
        # New machine incidents are visible by default: hide those of confidential documents or sources in
        # this same transaction (few documents are; look them up rather than recompute every row).
        hidden = _confidential_documents(connection, list(counts))
        if hidden:
            visibility.refresh(connection, document_ids=hidden)
        _record_codings(connection, store.dialect, counts, fresh, coder_version, now)
    seen.update(found)
    seen.update(unchanged)
    summary.documents_coded += len(fresh)
    summary.documents_unchanged += len(unchanged)
    summary.incidents_added += len(rows)


def _confidential_documents(connection: Connection, document_ids: list[int]) -> list[int]:
    """Those of ``document_ids`` that are confidential themselves or come from a confidential source."""
    from civicwatch.store.browse import public_document_rule

    found: list[int] = []
    for part in _batches(document_ids, _LOOKUP_CHUNK):
        query = select(documents_table.c.id).where(documents_table.c.id.in_(part), ~public_document_rule())
        found.extend(int(n) for n in connection.execute(query).scalars())
    return found


def _insert_incidents(connection: Connection, dialect: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if dialect == "sqlite":
        connection.execute(insert(incidents_table), rows)
        return
    # PostgreSQL: COPY on the transaction's own connection, several times faster than INSERTs.
    columns = ", ".join(_INCIDENT_COPY_COLUMNS)
    raw = connection.connection.driver_connection
    assert raw is not None  # an open transaction always has its driver connection
    with raw.cursor() as cursor, cursor.copy(f"COPY incidents ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([_copy_value(name, row[name]) for name in _INCIDENT_COPY_COLUMNS])


def _copy_value(name: str, value: Any) -> Any:
    # JSONList's conversion, done here because COPY bypasses SQLAlchemy's types.
    return json.dumps(list(value), ensure_ascii=False) if name in _LIST_FIELDS else value


def _record_codings(
    connection: Connection,
    dialect: str,
    counts: dict[int, int],
    fresh: list[int],
    coder_version: str,
    now: datetime,
) -> None:
    fresh_set = set(fresh)
    first = [
        {"document_id": d, "coder_version": coder_version, "coded_at": now, "incident_count": counts[d]}
        for d in fresh
    ]
    if first:
        statement = _insert(dialect, codings_table)
        statement = statement.on_conflict_do_update(
            index_elements=[codings_table.c.document_id],
            set_={
                "coder_version": statement.excluded.coder_version,
                "coded_at": statement.excluded.coded_at,
                "incident_count": statement.excluded.incident_count,
            },
        )
        connection.execute(statement, first)
    again = [{"id": d, "n": n} for d, n in counts.items() if d not in fresh_set]
    if again:
        connection.execute(
            update(codings_table)
            .where(codings_table.c.document_id == bindparam("id"))
            .values(incident_count=codings_table.c.incident_count + bindparam("n")),
            again,
        )
