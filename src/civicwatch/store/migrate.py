"""Schema migrations with Alembic, driven from code: there is no ``alembic.ini`` to find or edit.

The migration scripts ship inside the package (``store/migrations``), so an installed
civicwatch can always bring its own database up to date.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for civicwatch's migrations, running on ``connection`` when given."""
    config = Config()
    # Options go through configparser interpolation: a '%' in the install path must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache  # the scripts ship with the package: they do not change while it runs
def head_revision() -> str:
    """The newest revision this version of civicwatch knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "civicwatch ships at least one migration"
    return head


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every revision in the shipped scripts."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return frozenset(script.revision for script in scripts.walk_revisions())


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection, target: str = "head") -> None:
    """Apply the pending migrations on ``connection``, inside the transaction the caller holds."""
    command.upgrade(alembic_config(connection), target)


def downgrade(connection: Connection, target: str) -> None:
    """Undo migrations down to ``target`` ("base" for an empty database); for tests and recovery."""
    command.downgrade(alembic_config(connection), target)
