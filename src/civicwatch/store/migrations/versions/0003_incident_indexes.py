"""Indexes for the public lists at scale: a country's incidents by date, and counts per country.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

Measured at 1M incidents (benchmarks/web.py, docs/performance.md): a country's latest incidents sorted
the whole country in a temporary B-tree (33-37 ms) and now read in index order (under 1 ms); counting
incidents per country and type scanned the table (470 ms) and now reads a covering index (44 ms).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_incidents_country_date", "incidents", ["country", "date"])
    op.create_index("ix_incidents_country_coded_by_types", "incidents", ["country", "coded_by", "types"])
    op.create_index("ix_incidents_confidence", "incidents", ["confidence"])  # sort=confidence, lowest first too


def downgrade() -> None:
    op.drop_index("ix_incidents_confidence", "incidents")
    op.drop_index("ix_incidents_country_coded_by_types", "incidents")
    op.drop_index("ix_incidents_country_date", "incidents")
