"""The tables, as SQLAlchemy Core ``Table`` objects: what the store's queries are written against.

The migrations in ``migrations/versions`` create these tables (and, per engine, the
full-text index that is not described here: an FTS5 table kept in sync by triggers on
SQLite, a generated ``tsvector`` column with a GIN index on PostgreSQL).
``tests/test_migrations.py`` checks that the two descriptions agree.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so that later migrations can refer to them on both engines.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC ``datetime``.

    SQLite keeps no time zone and PostgreSQL answers in the session's zone; converting on
    the way in and out makes both engines compare and return the same values. A naive
    datetime is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        # SQLite compares timestamps as text: store them all naive, in the one zone.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONList(TypeDecorator[list[str]]):
    """A list of strings stored as JSON text: the same column type and the same values on both engines.

    (``sa.JSON`` would be ``json`` on PostgreSQL and text on SQLite; nothing queries inside these
    lists yet, and text keeps both engines and their migrations alike.)
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> str | None:
        # ensure_ascii=False keeps Cyrillic names readable to anyone looking at the rows.
        return None if value is None else json.dumps(list(value), ensure_ascii=False)

    def process_result_value(self, value: Any, dialect: Dialect) -> list[str] | None:
        return None if value is None else list(_decoded_list(value))


@lru_cache(maxsize=16_384)
def _decoded_list(value: str) -> tuple[str, ...]:
    """A stored list, decoded once per distinct text: most are a type or a country repeated on many rows."""
    return tuple(str(v) for v in json.loads(value))


sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("location", Text, nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("every_seconds", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_run_at", UTCDateTime),
    Column("last_ok_at", UTCDateTime),
    Column("last_error", Text),
    Column("failures", Integer, nullable=False, server_default=text("0")),
    Column("next_due_at", UTCDateTime, index=True),
    # Never shown to the public, nor anything from it (migration 0005; see ``incidents.visibility``).
    Column("confidential", Boolean, nullable=False, server_default=text("false")),
    sqlite_autoincrement=True,  # never reuse the id of a removed source
)

documents = Table(
    "documents",
    metadata,
    # On SQLite this is the rowid, which the FTS5 index refers to.
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="SET NULL")),
    Column("url", Text),
    Column("canonical_url", Text, index=True),
    Column("title", Text),
    Column("author", Text),
    Column("published", Text),  # ISO date or timestamp, at the precision the source gave
    Column("published_from", Text),
    Column("fetched_at", UTCDateTime),
    Column("lang", String(16), index=True),
    Column("lang_score", Float),
    Column("text", Text, nullable=False),
    Column("content_hash", String(128), nullable=False, unique=True),
    Column("parent_id", Integer, ForeignKey("documents.id", ondelete="SET NULL"), index=True),
    Column("is_digest", Boolean, nullable=False, server_default=text("false")),
    Column("external_id", Text),
    Column("raw", LargeBinary),  # the payload as fetched, zlib-compressed by the caller
    Column("raw_type", Text),
    Column("signature", LargeBinary),  # MinHash signature, for near-duplicate comparison
    Column("confidential", Boolean, nullable=False, server_default=text("false")),  # field reports, by default
    Index("ix_documents_source_id_url", "source_id", "url"),
    sqlite_autoincrement=True,  # ids are cursors (``after_id``): never hand one out twice
)

# MinHash LSH bands: documents sharing a band are near-duplicate candidates. The primary
# key leads with ``band``, so it is also the index the candidate lookup uses.
document_bands = Table(
    "document_bands",
    metadata,
    Column("band", Text, nullable=False),
    Column(
        "document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    PrimaryKeyConstraint("band", "document_id"),
)

sightings = Table(
    "sightings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE")),
    # '' when the copy had no address: NULLs would never collide in the unique index below.
    Column("url", Text, nullable=False, server_default=text("''")),
    Column("kind", String(8), nullable=False),
    Column("similarity", Float, nullable=False, server_default=text("1.0")),
    Column("seen_at", UTCDateTime, nullable=False),
    CheckConstraint("kind IN ('exact', 'near')", name="kind"),
    Index("ix_sightings_source_id_url", "source_id", "url"),
    sqlite_autoincrement=True,
)
# Once per (document, source, address); a sighting without a source counts as source 0.
Index(
    "ux_sightings_document_source_url",
    sightings.c.document_id,
    func.coalesce(sightings.c.source_id, 0),
    sightings.c.url,
    unique=True,
)

http_cache = Table(
    "http_cache",
    metadata,
    Column("url", Text, primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("checked_at", UTCDateTime, nullable=False),
)

# What the coder (or a person) found in a document. Offsets are in characters (code points) of
# ``documents.text``; ``coded_by`` says whether re-coding may replace the row ("machine") or not ("person").
incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("country", String(2), nullable=False, index=True),
    Column("types", JSONList, nullable=False),
    Column("rights", JSONList, nullable=False),
    Column("targets", JSONList, nullable=False),
    Column("persons", JSONList, nullable=False),
    Column("organisations", JSONList, nullable=False),
    Column("perpetrators", JSONList, nullable=False),
    Column("date", Text, index=True),  # ISO date at the precision the text gave (year, month or day)
    Column("evidence", Text, nullable=False),
    Column("evidence_start", Integer, nullable=False),
    Column("evidence_end", Integer, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("coder_version", Text),
    Column("coded_by", String(8), nullable=False, server_default=text("'machine'")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # The event this incident reports (migration 0004); NULL until ``civicwatch connect`` has seen it.
    Column("event_id", Integer, ForeignKey("events.id", ondelete="SET NULL"), index=True),
    # Review (migration 0005): the incident's own confidential mark, the review decision, and the
    # visibility derived from those, coded_by and the document's and source's marks (``store/visibility.py``
    # keeps it current): "machine" | "reviewed" | "hidden". The public rule tests this column alone.
    Column("confidential", Boolean, nullable=False, server_default=text("false")),
    Column("review", String(12), nullable=False, server_default=text("'pending'")),  # pending|accepted|rejected
    Column("visibility", String(8), nullable=False, server_default=text("'machine'")),
    CheckConstraint("coded_by IN ('machine', 'person')", name="coded_by"),
    # A country's incidents in date order (0003), and per-country counts from the index alone (0005).
    Index("ix_incidents_country_date", "country", "date"),
    Index("ix_incidents_confidence", "confidence"),
    Index("ix_incidents_country_visibility_types", "country", "visibility", "types"),
    sqlite_autoincrement=True,  # ids are cursors (``after_id``)
)

# Which documents have been coded, by which coder version: a document the coder found nothing in is
# coded too (incident_count 0), and is not coded again until the coder changes.
codings = Table(
    "codings",
    metadata,
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("coder_version", Text, nullable=False),
    Column("coded_at", UTCDateTime, nullable=False),
    Column("incident_count", Integer, nullable=False),
)

# One row, one counter: every write transaction raises it (``Store._write``), so a reader can ask "has
# anything changed?" with one primary-key read. Not a data table: clearing data must not reset it, or a
# cache keyed on it would take new rows for old ones.
data_version = Table(
    "data_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
    CheckConstraint("id = 1", name="one_row"),
)

# ---- connect: events across sources, persons and organisations (migration 0004) ----
# One happening reported by one or more incidents (``incidents.event_id``). ``signals`` (JSON) says which
# signals joined each incident in; a ``locked`` event was made or changed by a researcher and the
# automatic merge leaves it alone.
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("country", String(2), nullable=False),
    Column("month", String(7)),  # the blocking key: YYYY-MM of the earliest dated incident
    Column("signals", Text, nullable=False, server_default=text("'[]'")),
    Column("locked", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_events_country_month", "country", "month"),
    sqlite_autoincrement=True,
)


def _registry(name: str) -> tuple[Table, Table, Table]:
    """A registry (persons or organisations), its aliases (``key``: the folded Latin spelling that
    matching looks up) and its links to incidents."""
    singular = name[:-1]
    entities = Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", Text, nullable=False),
        Column("roles", JSONList, nullable=False),
        Column("countries", JSONList, nullable=False),
        Column("confidential", Boolean, nullable=False, server_default=text("false")),
        Column("created_at", UTCDateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    aliases = Table(
        f"{singular}_aliases",
        metadata,
        Column(f"{singular}_id", Integer, ForeignKey(f"{name}.id", ondelete="CASCADE"), nullable=False),
        Column("alias", Text, nullable=False),
        Column("key", Text, nullable=False, index=True),
        PrimaryKeyConstraint(f"{singular}_id", "alias"),
    )
    links = Table(
        f"{singular}_incidents",
        metadata,
        Column(f"{singular}_id", Integer, ForeignKey(f"{name}.id", ondelete="CASCADE"), nullable=False),
        Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True),
        PrimaryKeyConstraint(f"{singular}_id", "incident_id"),
    )
    return entities, aliases, links


persons, person_aliases, person_incidents = _registry("persons")
organisations, organisation_aliases, organisation_incidents = _registry("organisations")

CONNECT_TABLES: tuple[Table, ...] = (
    events, persons, person_aliases, person_incidents, organisations, organisation_aliases, organisation_incidents
)

# ---- review: accounts, the review queue, the audit log, field reports (migration 0005) ----
# Every change a person made: who, when, the item before and after (JSON text), and why. Append-only:
# triggers in the migration refuse UPDATE and DELETE on both engines (``store/audit.py`` writes it).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", Text, nullable=False),
    Column("item_kind", String(32), nullable=False),  # "incident", "document", "source", "user", "event"...
    Column("item_id", Text, nullable=False),  # text, so that any kind of key fits
    Column("action", String(32), nullable=False),
    Column("before", Text),
    Column("after", Text),
    Column("reason", Text),
    Index("ix_audit_log_item_kind_item_id", "item_kind", "item_id"),
    sqlite_autoincrement=True,
)
# Accounts: argon2id hashes only (``store/users.py``), never read outside ``store/``.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("failed_logins", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", UTCDateTime),
    # Raised to end every session of the account (migration 0009; web/auth.py checks it on each request).
    Column("session_epoch", Integer, nullable=False, server_default=text("0")),
    CheckConstraint("role IN ('viewer', 'researcher', 'admin')", name="role"),
    sqlite_autoincrement=True,
)
# (audit_log is not a data table to clear: it refuses DELETE by design.)
REVIEW_TABLES: tuple[Table, ...] = (users,)

# ---- rate: ratings, their history and overrides (migration 0006) ----
# A country's base score from a published ratings file or a researcher, from ``as_of`` on.
rating_bases = Table(
    "rating_bases",
    metadata,
    Column("country", String(2), nullable=False),
    Column("as_of", Text, nullable=False),  # ISO date
    Column("score", Integer, nullable=False),
    Column("category", String(16), nullable=False),
    Column("source", Text, nullable=False),  # the file it came from, or "researcher"
    Column("reason", Text),
    Column("set_by", Text),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("country", "as_of"),
    CheckConstraint("score BETWEEN 0 AND 100", name="score"),
)
# What ``civicwatch rate`` computed: one row per country and month (the month's last day, or the as-of day).
ratings = Table(
    "ratings",
    metadata,
    Column("country", String(2), nullable=False),
    Column("period", String(7), nullable=False),  # YYYY-MM
    Column("as_of", Text, nullable=False),
    Column("score", Integer, nullable=False),
    Column("category", String(16), nullable=False),
    Column("base_score", Integer, nullable=False),
    Column("adjustment", Float, nullable=False),
    Column("events", Integer, nullable=False),
    Column("explanation", Text, nullable=False),  # JSON: the events that moved the score most
    Column("computed_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("country", "period"),
)
# Researchers' overrides of a computed category, append-only: the newest row per country holds
# (a row without a category lifts the override). The rows are the record of who did what and why.
rating_overrides = Table(
    "rating_overrides",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("country", String(2), nullable=False, index=True),
    Column("category", String(16)),
    Column("reason", Text, nullable=False),
    Column("set_by", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)
RATING_TABLES: tuple[Table, ...] = (rating_bases, ratings, rating_overrides)

# ---- UPR: recommendations, themes, implementation assessments (migration 0007) ----
# One row per recommendation; ``key`` (a hash of state, session, recommending state and text) makes
# re-importing a file a no-op.
upr_recommendations = Table(
    "upr_recommendations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("country", String(2), nullable=False, index=True),
    Column("cycle", Integer, nullable=False),
    Column("session", Integer, nullable=False),
    Column("review_year", Integer),
    Column("recommending_state", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("response", String(16), nullable=False),  # supported | noted
    Column("issues", Text),  # the file's own issue labels, as given
    Column("source_file", Text, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)
upr_themes = Table(
    "upr_themes",
    metadata,
    Column(
        "recommendation_id",
        Integer,
        ForeignKey("upr_recommendations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("theme", String(32), nullable=False, index=True),
    PrimaryKeyConstraint("recommendation_id", "theme"),
)
# Researchers' implementation assessments, append-only: the newest row per recommendation holds.
upr_assessments = Table(
    "upr_assessments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "recommendation_id",
        Integer,
        ForeignKey("upr_recommendations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("status", String(16), nullable=False),  # not_implemented | partially | fully
    Column("evidence", Text, nullable=False),
    Column("assessed_by", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)
UPR_TABLES: tuple[Table, ...] = (upr_recommendations, upr_themes, upr_assessments)

# Tables that hold data (for counting, clearing test databases...), parents first.
DATA_TABLES = (
    (sources, documents, document_bands, sightings, http_cache, incidents, codings)
    + CONNECT_TABLES + REVIEW_TABLES + RATING_TABLES + UPR_TABLES
)
