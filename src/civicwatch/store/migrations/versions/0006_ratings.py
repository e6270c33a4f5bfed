"""Civic-space ratings: base scores, the computed history, and researchers' overrides.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rating_bases",
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("as_of", sa.Text, nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("set_by", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("country", "as_of", name="pk_rating_bases"),
        sa.CheckConstraint("score BETWEEN 0 AND 100", name="ck_rating_bases_score"),
    )
    op.create_table(
        "ratings",
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("as_of", sa.Text, nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("base_score", sa.Integer, nullable=False),
        sa.Column("adjustment", sa.Float, nullable=False),
        sa.Column("events", sa.Integer, nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("country", "period", name="pk_ratings"),
    )
    op.create_table(
        "rating_overrides",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("category", sa.String(16)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("set_by", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_rating_overrides_country", "rating_overrides", ["country"])


def downgrade() -> None:
    op.drop_index("ix_rating_overrides_country", "rating_overrides")
    op.drop_table("rating_overrides")
    op.drop_table("ratings")
    op.drop_table("rating_bases")
