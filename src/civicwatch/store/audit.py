"""The audit log: every change a person makes (who, when, before, after, why), append-only.

Callers record INSIDE their own write transaction, so the change and its audit row commit together
or not at all::

    with store._write() as connection:
        connection.execute(update(...))
        audit.record(connection, actor="amina", item_kind="incident", item_id=7, action="edit",
                     before=old, after=new, reason="wrong country")

``history(store, "incident", 7)`` reads it back, oldest first. There is no update or delete path
here, and the database refuses both (triggers from migration 0005).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select

from civicwatch.errors import UsageError
from civicwatch.store.schema import audit_log

if TYPE_CHECKING:
    from civicwatch.store.db import Store


@dataclass(frozen=True)
class AuditEntry:
    """One recorded change: ``before``/``after`` are the item's fields as they were (None: created/removed)."""

    id: int
    at: datetime
    actor: str
    item_kind: str
    item_id: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None

    def changed(self) -> list[str]:
        """The names of the fields whose value differs between ``before`` and ``after``, sorted."""
        before, after = self.before or {}, self.after or {}
        return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))


def _dumps(value: dict[str, Any] | None) -> str | None:
    # default=str: dates and other plain values become their ISO/text form rather than failing the write.
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def record(
    connection: Connection,
    *,
    actor: str,
    item_kind: str,
    item_id: int | str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None,
) -> None:
    """Append one audit row on ``connection`` (the caller's open write transaction).

    An empty actor, kind or action is a ``UsageError``: an unattributed change is what the log exists
    to prevent.
    """
    for name, value in (("actor", actor), ("item_kind", item_kind), ("action", action)):
        if not value or not str(value).strip():
            raise UsageError(name, "an audit record needs a non-empty value")
    connection.execute(
        insert(audit_log).values(
            at=datetime.now(UTC),
            actor=actor,
            item_kind=item_kind,
            item_id=str(item_id),
            action=action,
            before=_dumps(before),
            after=_dumps(after),
            reason=reason or None,
        )
    )


def history(store: Store, item_kind: str, item_id: int | str) -> list[AuditEntry]:
    """Every recorded change to one item, oldest first."""
    query = (
        select(audit_log)
        .where(audit_log.c.item_kind == item_kind, audit_log.c.item_id == str(item_id))
        .order_by(audit_log.c.id)
    )
    with store._read() as connection:
        rows = connection.execute(query).all()
    return [
        AuditEntry(
            id=row.id,
            at=row.at,
            actor=row.actor,
            item_kind=row.item_kind,
            item_id=row.item_id,
            action=row.action,
            before=None if row.before is None else json.loads(row.before),
            after=None if row.after is None else json.loads(row.after),
            reason=row.reason,
        )
        for row in rows
    ]
