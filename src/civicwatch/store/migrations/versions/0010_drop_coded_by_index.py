"""Drop ``ix_incidents_country_coded_by_types``: the public rule reads ``visibility`` since 0005.

Counts per country are served by ``ix_incidents_country_visibility_types``; no query filters on
``coded_by`` with the country first any more, so the old index only cost every write and ~5 % of the
database file at a million incidents.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_incidents_country_coded_by_types", "incidents")


def downgrade() -> None:
    op.create_index("ix_incidents_country_coded_by_types", "incidents", ["country", "coded_by", "types"])
