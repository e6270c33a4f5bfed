"""UPR recommendations, their civic-space themes and implementation assessments.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upr_recommendations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("session", sa.Integer, nullable=False),
        sa.Column("review_year", sa.Integer),
        sa.Column("recommending_state", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("response", sa.String(16), nullable=False),
        sa.Column("issues", sa.Text),
        sa.Column("source_file", sa.Text, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("key", name="uq_upr_recommendations_key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_upr_recommendations_country", "upr_recommendations", ["country"])
    op.create_table(
        "upr_themes",
        sa.Column(
            "recommendation_id",
            sa.Integer,
            sa.ForeignKey("upr_recommendations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("theme", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("recommendation_id", "theme", name="pk_upr_themes"),
    )
    op.create_index("ix_upr_themes_theme", "upr_themes", ["theme"])
    op.create_table(
        "upr_assessments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "recommendation_id",
            sa.Integer,
            sa.ForeignKey("upr_recommendations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("assessed_by", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_upr_assessments_recommendation_id", "upr_assessments", ["recommendation_id"])


def downgrade() -> None:
    op.drop_table("upr_assessments")
    op.drop_table("upr_themes")
    op.drop_table("upr_recommendations")
