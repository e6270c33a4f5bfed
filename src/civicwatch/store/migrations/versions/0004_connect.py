"""Events across sources and the registry of persons and organisations (connect).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _registry(name: str) -> None:
    """A registry table (persons or organisations) and its aliases."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("roles", sa.Text, nullable=False),  # JSON list
        sa.Column("countries", sa.Text, nullable=False),  # JSON list of ISO2 codes
        sa.Column("confidential", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    singular = name[:-1]
    op.create_table(
        f"{singular}_aliases",
        sa.Column(
            f"{singular}_id",
            sa.Integer,
            sa.ForeignKey(f"{name}.id", ondelete="CASCADE", name=f"fk_{singular}_aliases_{singular}_id_{name}"),
            nullable=False,
        ),
        sa.Column("alias", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint(f"{singular}_id", "alias", name=f"pk_{singular}_aliases"),
    )
    op.create_index(f"ix_{singular}_aliases_key", f"{singular}_aliases", ["key"])
    op.create_table(
        f"{singular}_incidents",
        sa.Column(
            f"{singular}_id",
            sa.Integer,
            sa.ForeignKey(f"{name}.id", ondelete="CASCADE", name=f"fk_{singular}_incidents_{singular}_id_{name}"),
            nullable=False,
        ),
        sa.Column(
            "incident_id",
            sa.Integer,
            sa.ForeignKey("incidents.id", ondelete="CASCADE", name=f"fk_{singular}_incidents_incident_id_incidents"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(f"{singular}_id", "incident_id", name=f"pk_{singular}_incidents"),
    )
    op.create_index(f"ix_{singular}_incidents_incident_id", f"{singular}_incidents", ["incident_id"])


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("month", sa.String(7)),  # the blocking key: YYYY-MM of the earliest dated incident
        sa.Column("signals", sa.Text, nullable=False, server_default=sa.text("'[]'")),  # JSON: why merged
        sa.Column("locked", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_country_month", "events", ["country", "month"])
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("event_id", sa.Integer, nullable=True))
        batch.create_index("ix_incidents_event_id", ["event_id"])
        batch.create_foreign_key(
            "fk_incidents_event_id_events", "events", ["event_id"], ["id"], ondelete="SET NULL"
        )
    _registry("persons")
    _registry("organisations")


def downgrade() -> None:
    for name in ("organisation", "person"):
        op.drop_table(f"{name}_incidents")
        op.drop_table(f"{name}_aliases")
        op.drop_table(f"{name}s")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_constraint("fk_incidents_event_id_events", type_="foreignkey")
        batch.drop_index("ix_incidents_event_id")
        batch.drop_column("event_id")
    op.drop_index("ix_events_country_month", "events")
    op.drop_table("events")
