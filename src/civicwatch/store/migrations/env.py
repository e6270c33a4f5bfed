"""Alembic environment: runs migrations on the connection civicwatch hands over.

There is no ``alembic.ini``: ``civicwatch.store.migrate`` builds the configuration in code
and passes an open connection (already inside a transaction) as
``config.attributes["connection"]``, so an upgrade is all-or-nothing.
"""

from __future__ import annotations

from alembic import context

from civicwatch.store.schema import metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("civicwatch migrations run through civicwatch.store.Store.upgrade()")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things: autogenerate batch (copy-and-swap) operations there.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
