"""The ``Store``: every read and write civicwatch makes to its database, on SQLite or PostgreSQL.

Each public write is one short transaction, so a process killed at any moment leaves
either the whole change or none of it. Errors from the database (unreachable, not
migrated, disk full, locked) come out as ``StoreError(url, reason)`` with the password
hidden.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from types import TracebackType
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from civicwatch.errors import SourceExistsError, StoreError, UsageError
from civicwatch.model import INCIDENT_FIELDS, Document, Incident, Sighting, Source, SourceKind
from civicwatch.store import audit, checks, engine, migrate, visibility
from civicwatch.store.schema import (
    audit_log,
    codings,
    data_version,
    document_bands,
    documents,
    http_cache,
    sightings,
    sources,
)
from civicwatch.store.schema import incidents as incidents_table
from civicwatch.store.search import search_ids

MAX_ERROR_CHARS = 2000  # a source's last error is shown to people: keep the first screenful

# Picks the near copy among (document id, signature) candidates: dedupe.best_match bound to a signature.
NearMatch = Callable[[list[tuple[int, bytes]]], tuple[int, float] | None]

_DOCUMENT_COLUMNS = [documents.c[f.name] for f in dataclasses.fields(Document)]

# What a person may change in an incident: the codebook's fields and the evidence's offsets.
EDITABLE_INCIDENT_FIELDS = (*INCIDENT_FIELDS, "evidence_start", "evidence_end")
_LIST_FIELDS = ("types", "rights", "targets", "persons", "organisations", "perpetrators")
_COUNTRY = re.compile(r"[A-Z]{2}")
_DATE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")  # the codebook's precisions: year, month, day


def _now() -> datetime:
    return datetime.now(UTC)


class Store:
    """civicwatch's database: ``Store("sqlite:///civicwatch.db")`` or ``Store("postgresql://...")``.

    Creating a ``Store`` does not connect; the first method that needs the database does.
    Call ``upgrade()`` once to create or migrate the schema, and ``ensure_ready()`` before
    working on a database someone else set up.
    """

    def __init__(self, url: str) -> None:
        self._url = engine.parse_url(url)
        self.url = engine.safe_url(url)  # as the user gave it, for messages: never shows the password
        with engine.translated_errors(self.url):
            self._engine = engine.build_engine(self._url)
            # The page cache reads the data version on the web server's event loop before every page.
            # From the shared pool it would wait, and stall every visitor, cached pages too, whenever
            # slow renderings hold all the pool's connections; its own two connections are never all busy.
            # (A database in memory lives in its one engine's connection: it has no second engine.)
            in_memory = self._url.get_backend_name() == "sqlite" and engine.sqlite_path(self._url) is None
            self._versions_engine = self._engine if in_memory else engine.build_engine(self._url, pool_size=2)

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Close every pooled connection; the store can still be used afterwards (it reconnects)."""
        self._engine.dispose()
        self._versions_engine.dispose()

    # -- connections ---------------------------------------------------------------------------

    @contextmanager
    def _read(self, pool: Engine | None = None) -> Iterator[Connection]:
        """One read transaction, from the shared pool or the one given."""
        self._refuse_missing_file()
        with (engine.translated_errors(self.url), (pool or self._engine).connect() as connection,
              connection.begin()):
            yield connection

    @contextmanager
    def _write(self, *, create: bool = False, public: bool = True) -> Iterator[Connection]:
        """One write transaction. ``public=False`` is for writes no public page shows (accounts, sessions,
        failed logins): they leave the data version, and so the page cache, as they were."""
        if not create:
            self._refuse_missing_file()
        with engine.translated_errors(self.url), self._engine.connect() as connection:
            # SQLite: take the write lock when the transaction starts, so a concurrent writer
            # waits (busy_timeout) instead of failing half-way through with "database is locked".
            connection.execution_options(**{engine.BEGIN_MODE: "IMMEDIATE"})
            with connection.begin():
                yield connection
                if public and not create:  # migrations run before the counter's table exists
                    _raise_data_version(connection)

    def data_version(self) -> int:
        """A number that grows with every committed write: equal numbers mean nothing changed in between.

        One primary-key read, cheap enough to check on every web request (``web/cache.py``).
        """
        with self._read() as connection:
            return int(connection.execute(select(data_version.c.version)).scalar() or 0)

    def data_versions(self) -> tuple[int, int]:
        """(the data version, the id of the newest change a person made to public material), read together.

        The second number moves with every audited change but account changes: a confidential mark, a
        rejection, an edit, a removed source. Caches may keep showing pages for a while after machine
        writes (new documents and incidents), never after such a change (``web/cache.py``). Two
        primary-key reads.
        """
        with self._read(self._versions_engine) as connection:
            return versions(connection)

    def _missing_sqlite_file(self) -> bool:
        path = engine.sqlite_path(self._url)
        return path is not None and not path.exists()

    def _refuse_missing_file(self) -> None:
        # SQLite would silently create an empty file, leaving a stray database behind a typo.
        if self._missing_sqlite_file():
            raise StoreError(self.url, "database not initialised; run `civicwatch init`")

    # -- schema ----------------------------------------------------------------------------------

    def upgrade(self) -> None:
        """Create the database (and a SQLite file's folder) if needed and apply pending migrations.

        Safe to run again: an up-to-date database is left as it is. All-or-nothing.
        """
        path = engine.sqlite_path(self._url)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(self.url, f"cannot create the folder {path.parent}: {exc.strerror}") from exc
        with self._write(create=True) as connection:
            migrate.upgrade(connection)

    def current_revision(self) -> str | None:
        """The migration the database is at; None when it has never been initialised."""
        if self._missing_sqlite_file():  # do not create an empty file just to look
            return None
        with self._read() as connection:
            return migrate.current_revision(connection)

    def head_revision(self) -> str:
        """The newest migration this version of civicwatch ships."""
        return migrate.head_revision()

    def ensure_ready(self) -> None:
        """Raise ``StoreError`` unless the database is reachable and fully migrated."""
        current = self.current_revision()
        head = self.head_revision()
        if current is None:
            raise StoreError(self.url, "database not initialised; run `civicwatch init`")
        if current != head:
            if current not in migrate.known_revisions():
                raise StoreError(
                    self.url,
                    f"database schema {current} is newer than this civicwatch knows (up to {head}); "
                    "upgrade civicwatch",
                )
            raise StoreError(self.url, f"database at {current}, pending migrations up to {head}; "
                             "run `civicwatch db upgrade`")

    # -- sources ---------------------------------------------------------------------------------

    def add_source(self, source: Source) -> Source:
        """Register ``source``; returns it with its id and creation time.

        Raises ``SourceExistsError`` when its name or location is already registered.
        """
        created_at = source.created_at or _now()
        values = {
            "name": source.name,
            "location": source.location,
            "kind": SourceKind(source.kind).value,
            "every_seconds": source.every_seconds,
            "created_at": created_at,
            "last_run_at": source.last_run_at,
            "last_ok_at": source.last_ok_at,
            "last_error": source.last_error,
            "failures": source.failures,
            "next_due_at": source.next_due_at,
        }
        with self._write() as connection:
            self._refuse_duplicate_source(connection, source)
            try:
                new_id = connection.execute(
                    insert(sources).values(values).returning(sources.c.id)
                ).scalar_one()
            except IntegrityError as exc:  # registered by another process since the check above
                raise SourceExistsError(
                    source.name, "a source with this name or location already exists"
                ) from exc
        return dataclasses.replace(source, id=new_id, created_at=created_at, item_count=0)

    @staticmethod
    def _refuse_duplicate_source(connection: Connection, source: Source) -> None:
        clash = connection.execute(
            select(sources.c.name, sources.c.location).where(
                or_(sources.c.name == source.name, sources.c.location == source.location)
            )
        ).first()
        if clash is None:
            return
        if clash.name == source.name:
            raise SourceExistsError(source.name, "a source with this name already exists")
        raise SourceExistsError(source.location, f"already registered as source {clash.name!r}")

    def _sources_query(self) -> Select[Any]:
        documents_seen = (
            select(func.count()).where(documents.c.source_id == sources.c.id).scalar_subquery()
        )
        copies_seen = select(func.count()).where(sightings.c.source_id == sources.c.id).scalar_subquery()
        return select(sources, (documents_seen + copies_seen).label("item_count"))

    def sources(self) -> list[Source]:
        """All sources by name, each with ``item_count`` (documents stored plus copies seen)."""
        with self._read() as connection:
            rows = connection.execute(self._sources_query().order_by(sources.c.name)).all()
        return [_source(row) for row in rows]

    def source(self, name: str) -> Source | None:
        """The source called ``name``, or None."""
        with self._read() as connection:
            row = connection.execute(self._sources_query().where(sources.c.name == name)).first()
        return None if row is None else _source(row)

    def due_sources(self, now: datetime) -> list[Source]:
        """Sources to read now: never read, or due at or before ``now``; longest overdue first."""
        query = (
            self._sources_query()
            .where(or_(sources.c.next_due_at.is_(None), sources.c.next_due_at <= now))
            .order_by(sources.c.next_due_at.asc().nulls_first(), sources.c.id)
        )
        with self._read() as connection:
            return [_source(row) for row in connection.execute(query)]

    def record_run(self, source_id: int, *, at: datetime, error: str | None, next_due_at: datetime) -> None:
        """Record that the source was read at ``at``: successfully (``error`` None) or failing with ``error``.

        Success resets the failure count; a failure adds one to it (the collector's backoff).
        A source removed while it was being read has nothing left to record: nothing happens.
        """
        values: dict[str, Any] = {"last_run_at": at, "next_due_at": next_due_at}
        if error is None:
            values |= {"last_ok_at": at, "failures": 0, "last_error": None}
        else:
            values |= {"failures": sources.c.failures + 1, "last_error": error[:MAX_ERROR_CHARS]}
        with self._write() as connection:
            connection.execute(update(sources).where(sources.c.id == source_id).values(values))

    def remove_source(self, name: str, *, actor: str = "cli") -> bool:
        """Forget the source called ``name``; False when there was none. Audited with ``actor``.

        Its documents stay (others may have carried the same texts), no longer attributed to it;
        its sightings go. A confidential source's documents become confidential themselves, so that
        losing the link to the source never makes them public.
        """
        with self._write() as connection:
            row = connection.execute(select(sources).where(sources.c.name == name)).first()
            if row is None:
                return False
            source_id = row.id
            if row.confidential:
                connection.execute(
                    update(documents).where(documents.c.source_id == source_id).values(confidential=True)
                )
            audit.record(connection, actor=actor, item_kind="source", item_id=source_id, action="remove",
                         before={"name": row.name, "location": row.location, "kind": row.kind,
                                 "confidential": bool(row.confidential)}, after=None, reason=None)
            # Done explicitly as well as by the foreign keys' ON DELETE, which a database
            # opened elsewhere without foreign_keys=ON would not apply.
            connection.execute(
                update(documents).where(documents.c.source_id == source_id).values(source_id=None)
            )
            connection.execute(delete(sightings).where(sightings.c.source_id == source_id))
            connection.execute(delete(sources).where(sources.c.id == source_id))
        return True

    # -- documents and duplicates ----------------------------------------------------------------

    def document_id_by_hash(self, content_hash: str) -> int | None:
        """The id of the document with this content hash, or None."""
        with self._read() as connection:
            return _id_by_hash(connection, content_hash)

    def near_duplicate_candidates(self, bands: list[str], limit: int = 50) -> list[tuple[int, bytes]]:
        """(document id, MinHash signature) of stored documents sharing any of ``bands``.

        Those sharing the most bands come first: they are the likeliest near copies.
        """
        if not bands:
            return []
        with self._read() as connection:
            return _candidates(connection, bands, limit)

    def add_document(self, doc: Document, *, signature: bytes | None, bands: list[str]) -> int:
        """Store ``doc`` with its MinHash ``signature`` and LSH ``bands``, in one transaction; returns its id.

        When a document with the same content hash is already stored (a re-run, or another
        process got there first), nothing is written and that document's id is returned.
        The full-text index follows by itself (trigger or generated column).
        """
        with self._write() as connection:
            return _insert_document(connection, self.dialect, doc, signature, bands)

    def add_sighting(self, sighting: Sighting) -> bool:
        """Record that a source carried an already stored text; False when this was already recorded."""
        with self._write() as connection:
            return _insert_sighting(connection, self.dialect, sighting)

    def add_unless_copy(
        self,
        doc: Document,
        *,
        signature: bytes | None,
        bands: list[str],
        near: NearMatch | None = None,
    ) -> tuple[int, str, float]:
        """Store ``doc`` unless a copy is stored already, in one transaction.

        Returns (document id, "new" | "exact" | "near", similarity). An exact copy has the
        same content hash; a near copy is the candidate sharing LSH bands that ``near``
        picks (``dedupe.best_match``). A copy carried by another source or address is recorded
        as a sighting of the first; the same source at the same address again records nothing.
        """
        return self.add_unless_copies([(doc, signature, bands, near)])[0]

    def add_unless_copies(
        self, entries: Sequence[tuple[Document, bytes | None, list[str], NearMatch | None]]
    ) -> list[tuple[int, str, float]]:
        """``add_unless_copy`` for several documents in one transaction (all or none), in order,
        so that a later entry can be a copy of an earlier one. This is collect's hot path: a commit
        per small batch rather than three per document."""
        with self._write() as connection:
            return [_add_unless_copy(connection, self.dialect, *entry) for entry in entries]

    def has_url(self, source_id: int, url: str) -> bool:
        """Whether this source already gave a document (URL or canonical URL) or a copy of one at ``url``."""
        if not url:
            return False
        clauses: list[ColumnElement[bool]] = [
            exists().where(documents.c.source_id == source_id, documents.c.url == url),
            exists().where(documents.c.source_id == source_id, documents.c.canonical_url == url),
            exists().where(sightings.c.source_id == source_id, sightings.c.url == url),
        ]
        with self._read() as connection:
            return bool(connection.execute(select(or_(*clauses))).scalar())

    def document(self, id: int) -> Document | None:
        """The document with this id, or None."""
        with self._read() as connection:
            row = connection.execute(select(*_DOCUMENT_COLUMNS).where(documents.c.id == id)).first()
        return None if row is None else _document(row)

    def documents(
        self, *, source_id: int | None = None, lang: str | None = None, limit: int = 100, after_id: int = 0
    ) -> list[Document]:
        """Up to ``limit`` documents with ids above ``after_id``, by id; optionally of one source or language.

        Page on with ``after_id`` set to the last id returned.
        """
        conditions: list[ColumnElement[bool]] = [documents.c.id > after_id]
        if source_id is not None:
            conditions.append(documents.c.source_id == source_id)
        if lang is not None:
            conditions.append(documents.c.lang == lang)
        query = select(*_DOCUMENT_COLUMNS).where(and_(*conditions)).order_by(documents.c.id).limit(limit)
        with self._read() as connection:
            return [_document(row) for row in connection.execute(query)]

    def iter_documents(self, batch: int = 500) -> Iterator[Document]:
        """Every document, by id, read ``batch`` at a time (memory stays flat on any size of database).

        Each batch is its own short read, so a long iteration never holds the database.
        """
        batch = max(1, batch)
        after_id = 0
        while True:
            page = self.documents(limit=batch, after_id=after_id)
            yield from page
            if len(page) < batch:
                return
            after_id = page[-1].id or after_id

    def search(self, query: str, limit: int = 20) -> list[tuple[Document, str]]:
        """Documents matching a web-search style ``query``, best first, each with a highlighted snippet.

        ``query`` is whatever the user typed: words, "phrases", OR, -excluded. Never a syntax error.
        """
        query = query.replace("\x00", " ")  # PostgreSQL refuses NUL in text; it is never meant
        with self._read() as connection:
            hits = search_ids(connection, query, limit)
            if not hits:
                return []
            rows = connection.execute(
                select(*_DOCUMENT_COLUMNS).where(documents.c.id.in_([doc_id for doc_id, _ in hits]))
            ).all()
        by_id = {row.id: _document(row) for row in rows}
        return [(by_id[doc_id], snippet) for doc_id, snippet in hits if doc_id in by_id]

    def counts(self) -> dict[str, int]:
        """How much is stored: sources, documents (digests included), digests, sightings, incidents."""
        count = select(func.count())
        with self._read() as connection:
            return {
                "sources": connection.execute(count.select_from(sources)).scalar_one(),
                "documents": connection.execute(count.select_from(documents)).scalar_one(),
                "digests": connection.execute(
                    count.select_from(documents).where(documents.c.is_digest.is_(True))
                ).scalar_one(),
                "sightings": connection.execute(count.select_from(sightings)).scalar_one(),
                "incidents": connection.execute(count.select_from(incidents_table)).scalar_one(),
            }

    def counts_by_lang(self) -> dict[str, int]:
        """Documents per language code, most first; documents of unknown language count under "und"."""
        lang = func.coalesce(documents.c.lang, literal("und")).label("lang")
        query = select(lang, func.count().label("n")).group_by(lang).order_by(func.count().desc(), lang)
        with self._read() as connection:
            return {str(row.lang): int(row.n) for row in connection.execute(query)}

    # -- HTTP conditional GET --------------------------------------------------------------------

    def http_validators(self, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) last seen for ``url``, to send as If-None-Match / If-Modified-Since."""
        with self._read() as connection:
            row = connection.execute(
                select(http_cache.c.etag, http_cache.c.last_modified).where(http_cache.c.url == url)
            ).first()
        return (None, None) if row is None else (row.etag, row.last_modified)

    def set_http_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        """Remember the validators ``url`` was last served with (replacing earlier ones)."""
        values = {"etag": etag, "last_modified": last_modified, "checked_at": _now()}
        statement = _insert(self.dialect, http_cache).values(url=url, **values)
        statement = statement.on_conflict_do_update(index_elements=[http_cache.c.url], set_=values)
        with self._write() as connection:
            connection.execute(statement)

    # -- incidents -------------------------------------------------------------------------------

    def documents_to_code(self, coder_version: str, *, batch: int = 200) -> Iterator[Document]:
        """Documents the coder ``coder_version`` has not coded yet, by id, read ``batch`` at a time.

        Digests are left out (the items they were split into are documents of their own); a document
        coded by another version is due again. Documents come without their ``raw`` payload, which
        the coder never reads, so that memory stays flat. Each batch is its own short read and the
        next one starts after the last id seen, so coding (and saving) while iterating is safe.
        """
        batch = max(1, batch)
        columns = [c for c in _DOCUMENT_COLUMNS if c.name != "raw"]
        after_id = 0
        while True:
            query = (
                select(*columns)
                .where(documents.c.id > after_id, _to_code(coder_version))
                .order_by(documents.c.id)
                .limit(batch)
            )
            with self._read() as connection:
                # Never a digest (see _to_code): is_digest is False whatever each engine returns for it.
                rows = connection.execute(query)
                page = [Document(**(row._asdict() | {"is_digest": False})) for row in rows]
            yield from page
            if len(page) < batch:
                return
            after_id = page[-1].id or after_id

    def count_documents_to_code(self, coder_version: str) -> int:
        """How many documents ``documents_to_code(coder_version)`` would give (for a progress bar)."""
        with self._read() as connection:
            return int(
                connection.execute(select(func.count()).select_from(documents).where(_to_code(coder_version)))
                .scalar_one()
            )

    def save_coding(self, document_id: int, incidents: Sequence[Incident], coder_version: str) -> int:
        """Store what ``coder_version`` found in a document, in one transaction; returns the incidents stored.

        The document's machine-made incidents are replaced by ``incidents`` (stored with
        ``coded_by="machine"`` and ``coder_version``), and the document is recorded as coded by
        that version, even when nothing was found. Incidents a person added or edited are never
        deleted or changed, and a new machine incident that a person has already coded is not
        stored again: one on the same evidence span, or on an overlapping span with a type in common.
        Raises ``StoreError`` when the document is gone.
        """
        now = _now()
        with self._write() as connection:
            if not connection.execute(select(exists().where(documents.c.id == document_id))).scalar():
                raise StoreError(self.url, f"no document {document_id} (removed since it was read?)")
            connection.execute(
                delete(incidents_table).where(
                    incidents_table.c.document_id == document_id, incidents_table.c.coded_by == "machine"
                )
            )
            people = [
                _incident(row)
                for row in connection.execute(
                    select(incidents_table).where(
                        incidents_table.c.document_id == document_id, incidents_table.c.coded_by == "person"
                    )
                )
            ]
            kept = [incident for incident in incidents if not _coded_by_a_person(incident, people)]
            if kept:
                rows = [_incident_values(found, document_id, coder_version, "machine", now) for found in kept]
                connection.execute(insert(incidents_table), rows)
                # A confidential document's (or source's) new incidents are hidden from the first commit.
                visibility.refresh(connection, document_ids=[document_id])
            coding = {"coder_version": coder_version, "coded_at": now, "incident_count": len(kept)}
            connection.execute(
                _insert(self.dialect, codings)
                .values(document_id=document_id, **coding)
                .on_conflict_do_update(index_elements=[codings.c.document_id], set_=coding)
            )
        return len(kept)

    def incidents(
        self,
        *,
        document_id: int | None = None,
        country: str | None = None,
        limit: int = 100,
        after_id: int = 0,
    ) -> list[Incident]:
        """Up to ``limit`` incidents with ids above ``after_id``, by id; optionally of one document/country.

        Page on with ``after_id`` set to the last id returned.
        """
        conditions: list[ColumnElement[bool]] = [incidents_table.c.id > after_id]
        if document_id is not None:
            conditions.append(incidents_table.c.document_id == document_id)
        if country is not None:
            conditions.append(incidents_table.c.country == country)
        query = select(incidents_table).where(and_(*conditions)).order_by(incidents_table.c.id).limit(limit)
        with self._read() as connection:
            return [_incident(row) for row in connection.execute(query)]

    def incident(self, id: int) -> Incident | None:
        """The incident with this id, or None."""
        with self._read() as connection:
            row = connection.execute(select(incidents_table).where(incidents_table.c.id == id)).first()
        return None if row is None else _incident(row)

    def edit_incident(
        self, id: int, /, *, actor: str = "cli", reason: str | None = None, **changes: Any
    ) -> Incident:
        """A person's correction of incident ``id``; returns the incident as now stored.

        ``actor`` (the account name; "cli" from the command line) and ``reason`` go into the audit
        log with the incident before and after, in the same transaction as the change.

        Only the codebook's fields and the evidence offsets (``EDITABLE_INCIDENT_FIELDS``) may
        change; any other name, a badly shaped value or an unknown id is a ``UsageError`` naming it.
        The incident becomes ``coded_by="person"``, so re-coding will never replace it; an edit with
        no changes is how a person confirms a machine incident.
        """
        refused = sorted(set(changes) - set(EDITABLE_INCIDENT_FIELDS))
        if refused:
            editable = ", ".join(EDITABLE_INCIDENT_FIELDS)
            raise UsageError(refused[0], f"this incident field cannot be edited (editable: {editable})")
        with self._write() as connection:
            row = connection.execute(select(incidents_table).where(incidents_table.c.id == id)).first()
            if row is None:
                raise UsageError(f"incident {id}", "no incident with this id")
            edited = dataclasses.replace(_incident(row), **changes, coded_by="person")
            _check_incident(edited, _text_length(connection, row.document_id))
            values = {name: getattr(edited, name) for name in changes}
            connection.execute(
                update(incidents_table)
                .where(incidents_table.c.id == id)
                .values(**values, coded_by="person", review="accepted", updated_at=_now())
            )
            visibility.refresh(connection, incident_ids=[id])
            stored = connection.execute(select(incidents_table).where(incidents_table.c.id == id)).one()
            audit.record(
                connection,
                actor=actor,
                item_kind="incident",
                item_id=id,
                action="edit" if changes else "accept",
                before=_audit_view(_incident(row)),
                after=_audit_view(_incident(stored)),
                reason=reason,
            )
        return _incident(stored)

    def add_person_incident(
        self, document_id: int, incident: Incident, *, actor: str = "cli", reason: str | None = None
    ) -> int:
        """Store an incident a person found in document ``document_id`` (coded_by "person"); returns its id.

        Re-coding never replaces it. A missing document or a badly shaped incident is a ``UsageError``.
        """
        with self._write() as connection:
            length = _text_length(connection, document_id)
            if length is None:
                raise UsageError(f"document {document_id}", "no document with this id")
            _check_incident(incident, length)
            values = _incident_values(incident, document_id, incident.coder_version, "person", _now())
            statement = insert(incidents_table).values(values).returning(incidents_table.c.id)
            new_id = int(connection.execute(statement).scalar_one())
            connection.execute(update(incidents_table).where(incidents_table.c.id == new_id).values(review="accepted"))
            visibility.refresh(connection, incident_ids=[new_id])
            added = dataclasses.replace(incident, id=new_id, document_id=document_id, coded_by="person")
            audit.record(
                connection,
                actor=actor,
                item_kind="incident",
                item_id=new_id,
                action="add",
                before=None,
                after=_audit_view(added),
                reason=reason,
            )
            return new_id

    # -- checks ----------------------------------------------------------------------------------

    def integrity_problems(self) -> list[str]:
        """Problems found in the stored data (rows pointing nowhere, duplicate hashes, index drift).

        An empty list means all is well.
        """
        with self._write() as connection:  # SQLite's FTS5 check is phrased as a write
            return checks.problems(connection)




def versions(connection: Connection) -> tuple[int, int]:
    """``Store.data_versions`` inside an open transaction."""
    last_change = (select(audit_log.c.id).where(audit_log.c.item_kind != "user")
                   .order_by(audit_log.c.id.desc()).limit(1).scalar_subquery())
    row = connection.execute(select(select(data_version.c.version).scalar_subquery(), last_change)).one()
    return int(row[0] or 0), int(row[1] or 0)


def _raise_data_version(connection: Connection) -> None:
    # Last in the transaction, so on PostgreSQL the row lock is held only for the commit itself. A
    # reader sees the new number and the new rows together, or neither.
    raised = connection.execute(update(data_version).values(version=data_version.c.version + 1))
    if raised.rowcount == 0:  # the row was removed by hand: put it back rather than stop counting
        connection.execute(insert(data_version).values(id=1, version=1))


def _to_code(coder_version: str) -> ColumnElement[bool]:
    """Documents due for coding by ``coder_version``: not digests, and not coded by that version."""
    coded = exists().where(codings.c.document_id == documents.c.id, codings.c.coder_version == coder_version)
    return and_(documents.c.is_digest.is_(False), ~coded)


def _coded_by_a_person(incident: Incident, people: list[Incident]) -> bool:
    """Whether a person's incident covers this machine one: same span, or overlapping with a shared type."""
    start, end = incident.evidence_start, incident.evidence_end
    for person in people:
        if person.evidence_end <= person.evidence_start:  # no span given: nothing to compare with
            continue
        if (start, end) == (person.evidence_start, person.evidence_end):
            return True
        overlaps = start < person.evidence_end and person.evidence_start < end
        if overlaps and set(incident.types) & set(person.types):
            return True
    return False


def _incident_values(
    incident: Incident, document_id: int, coder_version: str | None, coded_by: str, now: datetime
) -> dict[str, Any]:
    values = {name: getattr(incident, name) for name in EDITABLE_INCIDENT_FIELDS}
    for name in _LIST_FIELDS:
        values[name] = list(values[name])
    values["confidence"] = float(values["confidence"])
    return values | {
        "document_id": document_id,
        "coder_version": coder_version,
        "coded_by": coded_by,
        "created_at": now,
        "updated_at": now,
    }


def _text_length(connection: Connection, document_id: int) -> int | None:
    """Characters in the document's text (what evidence offsets count); None for no such document."""
    query = select(func.length(documents.c.text)).where(documents.c.id == document_id)
    length = connection.execute(query).scalar()
    return None if length is None else int(length)


def _check_incident(incident: Incident, text_length: int | None) -> None:
    """Refuse (``UsageError`` naming the field) an incident a person shaped badly."""
    if not isinstance(incident.country, str) or not _COUNTRY.fullmatch(incident.country):
        raise UsageError("country", f"{incident.country!r} is not an ISO 3166-1 alpha-2 code such as KZ")
    for name in _LIST_FIELDS:
        value = getattr(incident, name)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise UsageError(name, f"{value!r} is not a list of strings")
    if not incident.types:
        raise UsageError("types", "an incident has at least one type")
    if incident.date is not None and not (isinstance(incident.date, str) and _DATE.fullmatch(incident.date)):
        raise UsageError("date", f"{incident.date!r} is not YYYY, YYYY-MM, YYYY-MM-DD or None")
    if not isinstance(incident.evidence, str):
        raise UsageError("evidence", f"{incident.evidence!r} is not text")
    confidence = incident.confidence
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        raise UsageError("confidence", f"{confidence!r} is not a number from 0 to 1")
    start, end = incident.evidence_start, incident.evidence_end
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)) or not 0 <= start <= end:
        raise UsageError("evidence_start", f"evidence offsets {start!r}..{end!r} are not 0 <= start <= end")
    if text_length is not None and end > text_length:
        raise UsageError("evidence_end", f"{end} is past the end of the text ({text_length} characters)")


def _audit_view(incident: Incident) -> dict[str, Any]:
    """What the audit log keeps of an incident: its fields, offsets and provenance (JSON-ready)."""
    return dataclasses.asdict(incident)


_INCIDENT_FIELD_NAMES = frozenset(f.name for f in dataclasses.fields(Incident))


def _incident(row: Row[Any]) -> Incident:
    # Only the incident's own fields: a column a later migration adds (visibility, timestamps, ...) is
    # the store's business, not the incident's, and must not break reading.
    values = {k: v for k, v in row._asdict().items() if k in _INCIDENT_FIELD_NAMES}
    if "confidential" in values:
        values["confidential"] = bool(values["confidential"])
    return Incident(**values)


def _add_unless_copy(
    connection: Connection,
    dialect: str,
    doc: Document,
    signature: bytes | None,
    bands: list[str],
    near: NearMatch | None,
) -> tuple[int, str, float]:
    first = _id_by_hash(connection, doc.content_hash)
    kind, similarity = "exact", 1.0
    if first is None and near is not None and bands:
        match = near(_candidates(connection, bands, 50))
        if match is not None:
            (first, similarity), kind = match, "near"
    if first is None:
        return _insert_document(connection, dialect, doc, signature, bands), "new", 1.0
    origin = connection.execute(select(documents.c.source_id, documents.c.url).where(documents.c.id == first)).one()
    if (origin.source_id, origin.url) != (doc.source_id, doc.url):
        _insert_sighting(connection, dialect, Sighting(first, doc.source_id, doc.url, kind, round(similarity, 3)))
    return first, kind, similarity

def _id_by_hash(connection: Connection, content_hash: str) -> int | None:
    return connection.execute(select(documents.c.id).where(documents.c.content_hash == content_hash)).scalar()


def _candidates(connection: Connection, bands: list[str], limit: int) -> list[tuple[int, bytes]]:
    rows = connection.execute(_candidates_query(limit), {"bands": sorted(set(bands))})
    return [(int(row.id), bytes(row.signature)) for row in rows]


@cache
def _candidates_query(limit: int) -> Select[Any]:
    # Built once: constructing the subquery cost more than running it (collect's hot path).
    shared = (
        select(document_bands.c.document_id, func.count().label("shared"))
        .where(document_bands.c.band.in_(bindparam("bands", expanding=True)))
        .group_by(document_bands.c.document_id)
        .subquery()
    )
    return (
        select(documents.c.id, documents.c.signature)
        .join(shared, shared.c.document_id == documents.c.id)
        .where(documents.c.signature.is_not(None))
        .order_by(shared.c.shared.desc(), documents.c.id)
        .limit(limit)
    )


def _insert_document(
    connection: Connection, dialect: str, doc: Document, signature: bytes | None, bands: list[str]
) -> int:
    values = {f.name: getattr(doc, f.name) for f in dataclasses.fields(Document) if f.name != "id"}
    values["fetched_at"] = doc.fetched_at or _now()
    values["signature"] = signature
    # Parameters passed at execution, not baked in with .values(): the statement compiles once.
    statement = (
        _insert(dialect, documents)
        .on_conflict_do_nothing(index_elements=[documents.c.content_hash])
        .returning(documents.c.id)
    )
    new_id = connection.execute(statement, values).scalar()
    if new_id is None:
        return int(
            connection.execute(select(documents.c.id).where(documents.c.content_hash == doc.content_hash)).scalar_one()
        )
    if bands:
        rows = [{"band": band, "document_id": new_id} for band in sorted(set(bands))]
        connection.execute(insert(document_bands), rows)
    return int(new_id)


def _insert_sighting(connection: Connection, dialect: str, sighting: Sighting) -> bool:
    statement = (
        _insert(dialect, sightings)
        .values(
            document_id=sighting.document_id,
            source_id=sighting.source_id,
            url=sighting.url or "",
            kind=sighting.kind,
            similarity=sighting.similarity,
            seen_at=_now(),
        )
        .on_conflict_do_nothing()  # any unique index: ux_sightings_document_source_url
        .returning(sightings.c.id)  # rather than rowcount, which drivers report differently
    )
    return connection.execute(statement).scalar() is not None

def _insert(dialect: str, table: Any) -> Any:
    """An INSERT supporting ON CONFLICT for ``dialect`` (both engines spell it the same way)."""
    return (sqlite.insert if dialect == "sqlite" else postgresql.insert)(table)


def _source(row: Row[Any]) -> Source:
    return Source(
        id=row.id,
        name=row.name,
        location=row.location,
        kind=SourceKind(row.kind),
        every_seconds=row.every_seconds,
        created_at=row.created_at,
        last_run_at=row.last_run_at,
        last_ok_at=row.last_ok_at,
        last_error=row.last_error,
        failures=row.failures,
        next_due_at=row.next_due_at,
        item_count=int(row.item_count),
        confidential=bool(row.confidential),
    )


def _document(row: Row[Any]) -> Document:
    values = row._asdict()
    values["is_digest"] = bool(values["is_digest"])
    if values["raw"] is not None:
        values["raw"] = bytes(values["raw"])  # psycopg returns memoryview for bytea
    return Document(**values)
