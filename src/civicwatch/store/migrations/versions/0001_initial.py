"""Initial schema: sources, documents (with full-text search), LSH bands, sightings, HTTP cache.

Revision ID: 0001
Revises:
Create Date: 2024-11-24

The tables are written out here rather than imported from ``schema.py``: a migration is a
record of what it did, and must not change when the schema module later does.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Timestamp = sa.DateTime(timezone=True)

# SQLite: an external-content FTS5 index over documents(title, text), kept in step by triggers.
# remove_diacritics folds "Sévérine" and "Severine" together, as monitors type names both ways.
SQLITE_FTS = [
    """CREATE VIRTUAL TABLE documents_fts USING fts5(
           title, text, content='documents', content_rowid='id',
           tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN
           INSERT INTO documents_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
       END""",
    """CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
           INSERT INTO documents_fts(documents_fts, rowid, title, text)
           VALUES ('delete', old.id, old.title, old.text);
       END""",
    """CREATE TRIGGER documents_fts_update AFTER UPDATE OF title, text ON documents BEGIN
           INSERT INTO documents_fts(documents_fts, rowid, title, text)
           VALUES ('delete', old.id, old.title, old.text);
           INSERT INTO documents_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
       END""",
]

# PostgreSQL: a generated tsvector column (always in step by construction) and its GIN index.
# The 'simple' configuration does not stem: the corpus is in many languages.
POSTGRES_FTS = [
    """ALTER TABLE documents ADD COLUMN search_vector tsvector
           GENERATED ALWAYS AS (to_tsvector('simple', coalesce(title, '') || ' ' || text)) STORED""",
    "CREATE INDEX ix_documents_search_vector ON documents USING gin (search_vector)",
]


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("every_seconds", sa.Integer, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("last_run_at", Timestamp),
        sa.Column("last_ok_at", Timestamp),
        sa.Column("last_error", sa.Text),
        sa.Column("failures", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("next_due_at", Timestamp),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
        sa.UniqueConstraint("name", name="uq_sources_name"),
        sa.UniqueConstraint("location", name="uq_sources_location"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sources_next_due_at", "sources", ["next_due_at"])

    op.create_table(
        "documents",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("source_id", sa.Integer),
        sa.Column("url", sa.Text),
        sa.Column("canonical_url", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("author", sa.Text),
        sa.Column("published", sa.Text),
        sa.Column("published_from", sa.Text),
        sa.Column("fetched_at", Timestamp),
        sa.Column("lang", sa.String(16)),
        sa.Column("lang_score", sa.Float),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("parent_id", sa.Integer),
        sa.Column("is_digest", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("external_id", sa.Text),
        sa.Column("raw", sa.LargeBinary),
        sa.Column("raw_type", sa.Text),
        sa.Column("signature", sa.LargeBinary),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
        sa.UniqueConstraint("content_hash", name="uq_documents_content_hash"),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name="fk_documents_source_id_sources", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["documents.id"], name="fk_documents_parent_id_documents", ondelete="SET NULL"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_documents_source_id_url", "documents", ["source_id", "url"])
    op.create_index("ix_documents_canonical_url", "documents", ["canonical_url"])
    op.create_index("ix_documents_lang", "documents", ["lang"])
    op.create_index("ix_documents_parent_id", "documents", ["parent_id"])

    op.create_table(
        "document_bands",
        sa.Column("band", sa.Text, nullable=False),
        sa.Column("document_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("band", "document_id", name="pk_document_bands"),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name="fk_document_bands_document_id_documents",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_document_bands_document_id", "document_bands", ["document_id"])

    op.create_table(
        "sightings",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("document_id", sa.Integer, nullable=False),
        sa.Column("source_id", sa.Integer),
        sa.Column("url", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("similarity", sa.Float, nullable=False, server_default=sa.text("1.0")),
        sa.Column("seen_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sightings"),
        sa.CheckConstraint("kind IN ('exact', 'near')", name="ck_sightings_kind"),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_sightings_document_id_documents", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name="fk_sightings_source_id_sources", ondelete="CASCADE"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sightings_source_id_url", "sightings", ["source_id", "url"])
    op.create_index(
        "ux_sightings_document_source_url",
        "sightings",
        ["document_id", sa.text("coalesce(source_id, 0)"), "url"],
        unique=True,
    )

    op.create_table(
        "http_cache",
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("checked_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("url", name="pk_http_cache"),
    )

    dialect = op.get_bind().dialect.name
    for statement in SQLITE_FTS if dialect == "sqlite" else POSTGRES_FTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS documents_fts")  # its triggers go with the documents table
    for table in ("http_cache", "sightings", "document_bands", "documents", "sources"):
        op.drop_table(table)
