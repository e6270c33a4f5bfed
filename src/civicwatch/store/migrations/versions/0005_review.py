"""Accounts, the review queue, the audit log, field reports and confidentiality marks.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The audit log is append-only: the database itself refuses to change or remove a row, so no code
# path (ours or a hand-typed statement) can rewrite who did what.
_SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)
_POSTGRES_TRIGGER = (
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("item_kind", sa.String(32), nullable=False),
        sa.Column("item_id", sa.Text, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
        sa.Column("reason", sa.Text),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_log_item_kind_item_id", "audit_log", ["item_kind", "item_id"])
    statements = _POSTGRES_TRIGGER if op.get_context().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    for statement in statements:
        op.execute(statement)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("name", name="uq_users_name"),
        sa.CheckConstraint("role IN ('viewer', 'researcher', 'admin')", name="ck_users_role"),
        sqlite_autoincrement=True,
    )

    # Confidentiality marks, and the review state. ``incidents.visibility`` is derived ("machine": not
    # reviewed; "reviewed": accepted or made by a person; "hidden": rejected or confidential itself, or
    # in a confidential document or source) and kept up to date by the store, so that the one public
    # rule (``store/browse.py``) is a test on one indexed column rather than joins on every list.
    for table in ("sources", "documents", "incidents"):
        op.add_column(table, sa.Column("confidential", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("incidents", sa.Column("review", sa.String(12), nullable=False, server_default="pending"))
    op.add_column("incidents", sa.Column("visibility", sa.String(8), nullable=False, server_default="machine"))
    # Person-made or person-edited incidents count as reviewed (accepted) from the start.
    op.execute("UPDATE incidents SET review = 'accepted', visibility = 'reviewed' WHERE coded_by = 'person'")
    op.create_index("ix_incidents_country_visibility_types", "incidents", ["country", "visibility", "types"])


def downgrade() -> None:
    op.drop_index("ix_incidents_country_visibility_types", "incidents")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("visibility")
        batch.drop_column("review")
        batch.drop_column("confidential")
    for table in ("documents", "sources"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("confidential")
    op.drop_table("users")
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_index("ix_audit_log_item_kind_item_id", "audit_log")
    op.drop_table("audit_log")
