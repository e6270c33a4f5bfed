"""Coded incidents, and which documents each coder version has coded.

Revision ID: 0002
Revises: 0001
Create Date: 2026-03-10

Written out rather than imported from ``schema.py``, like 0001: a migration records what it did.
The codebook's list fields (types, rights, targets...) are JSON text on both engines.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Timestamp = sa.DateTime(timezone=True)

LIST_FIELDS = ("types", "rights", "targets", "persons", "organisations", "perpetrators")


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("document_id", sa.Integer, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        *(sa.Column(name, sa.Text, nullable=False) for name in LIST_FIELDS),
        sa.Column("date", sa.Text),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("evidence_start", sa.Integer, nullable=False),
        sa.Column("evidence_end", sa.Integer, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("coder_version", sa.Text),
        sa.Column("coded_by", sa.String(8), nullable=False, server_default=sa.text("'machine'")),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.CheckConstraint("coded_by IN ('machine', 'person')", name="ck_incidents_coded_by"),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_incidents_document_id_documents", ondelete="CASCADE"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_incidents_document_id", "incidents", ["document_id"])
    op.create_index("ix_incidents_country", "incidents", ["country"])
    op.create_index("ix_incidents_date", "incidents", ["date"])

    op.create_table(
        "codings",
        sa.Column("document_id", sa.Integer, nullable=False),
        sa.Column("coder_version", sa.Text, nullable=False),
        sa.Column("coded_at", Timestamp, nullable=False),
        sa.Column("incident_count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("document_id", name="pk_codings"),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_codings_document_id_documents", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    for table in ("codings", "incidents"):
        op.drop_table(table)  # their indexes go with them
