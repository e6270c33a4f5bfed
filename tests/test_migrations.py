"""Migrations: an empty database comes up to date in one step, on SQLite and PostgreSQL, and only once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import civicwatch
from civicwatch.errors import StoreError
from civicwatch.model import Source, SourceKind
from civicwatch.store import Store, migrate
from civicwatch.store.schema import metadata

TABLES = {"sources", "documents", "document_bands", "sightings", "http_cache", "incidents", "codings"}


def table_names(store: Store) -> set[str]:
    with store._engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def test_an_empty_database_is_not_ready(database_url: str) -> None:
    store = Store(database_url)

    assert store.current_revision() is None
    with pytest.raises(StoreError) as failure:
        store.ensure_ready()

    assert failure.value.reason == "database not initialised; run `civicwatch init`"


def test_upgrade_from_empty_creates_every_table_at_head(database_url: str) -> None:
    store = Store(database_url)

    store.upgrade()

    assert store.current_revision() == store.head_revision() == "0010"
    assert table_names(store) >= TABLES
    store.ensure_ready()
    store.close()


def test_upgrade_is_idempotent_and_keeps_the_data(database_url: str) -> None:
    store = Store(database_url)
    store.upgrade()
    store.add_source(Source("Harbour Watch", "https://harbour.example.org/feed", SourceKind.FEED))

    store.upgrade()
    Store(database_url).upgrade()  # another process, later

    assert [s.name for s in store.sources()] == ["Harbour Watch"]
    assert store.current_revision() == store.head_revision()
    store.close()


# SQLite cannot reflect expression indexes (ux_sightings_document_source_url): Alembic says so and skips it.
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_the_migrated_schema_matches_schema_py(store: Store) -> None:
    def ours(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
        # The full-text index is engine-specific and lives only in the migration.
        if type_ == "table":
            return not (name or "").startswith("documents_fts")
        if type_ == "column":
            return name != "search_vector"
        if type_ == "index":
            return name != "ix_documents_search_vector"
        return True

    with store._engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": ours, "compare_type": True})
        differences = compare_metadata(context, metadata)

    assert differences == []


def test_full_text_search_objects_exist_for_each_engine(store: Store) -> None:
    with store._engine.connect() as connection:
        inspector = inspect(connection)
        if store.dialect == "sqlite":
            triggers = {row[0] for row in connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'documents_fts%'")}
            assert "documents_fts" in inspector.get_table_names()
            assert triggers == {"documents_fts_insert", "documents_fts_delete", "documents_fts_update"}
        else:
            columns = {c["name"]: c for c in inspector.get_columns("documents")}
            assert "search_vector" in columns and columns["search_vector"].get("computed")
            assert "ix_documents_search_vector" in {i["name"] for i in inspector.get_indexes("documents")}


def test_postgresql_tables_go_in_the_schema_named_in_the_url(postgres_schema_url: str) -> None:
    store = Store(postgres_schema_url)
    store.upgrade()
    schema = postgres_schema_url.rsplit("search_path%3D", 1)[-1]

    with store._engine.connect() as connection:
        assert set(inspect(connection).get_table_names(schema=schema)) >= TABLES
        assert connection.exec_driver_sql("SELECT current_schema()").scalar() == schema
    store.close()


def test_downgrade_to_base_and_up_again(store: Store) -> None:
    with store._engine.begin() as connection:
        migrate.downgrade(connection, "base")
    assert store.current_revision() is None
    assert not TABLES & table_names(store)

    store.upgrade()
    assert store.current_revision() == store.head_revision()
    store.add_source(Source("Harbour Watch", "https://harbour.example.org/feed", SourceKind.FEED))


def test_a_failed_upgrade_leaves_nothing_behind(database_url: str) -> None:
    store = Store(database_url)
    store.upgrade()
    with store._engine.begin() as connection:
        migrate.downgrade(connection, "base")
        # Something in the way of the last table the migration creates.
        connection.exec_driver_sql("CREATE TABLE http_cache (squatter INTEGER)")

    with pytest.raises(StoreError):
        store.upgrade()

    assert store.current_revision() is None
    assert table_names(store) - {"alembic_version"} == {"http_cache"}
    store.close()


def test_a_database_newer_than_this_civicwatch_is_named_as_such(store: Store) -> None:
    with store._engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")

    with pytest.raises(StoreError, match="newer than this civicwatch"):
        store.ensure_ready()


def test_pending_migrations_are_named(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # Stands in for a civicwatch release shipping a migration this database has not had yet.
    monkeypatch.setattr(migrate, "head_revision", lambda: "9000")
    shipped = set(migrate.known_revisions())  # every migration this checkout ships
    monkeypatch.setattr(migrate, "known_revisions", lambda: frozenset(shipped | {"9000"}))

    with pytest.raises(StoreError) as failure:
        store.ensure_ready()

    assert "pending migrations" in failure.value.reason
    assert "civicwatch db upgrade" in failure.value.reason


def test_an_unreachable_database_is_a_store_error_not_a_traceback() -> None:
    store = Store("postgresql://monitor:s3cret@127.0.0.1:1/civicwatch")

    for action in (store.ensure_ready, store.upgrade, store.current_revision):
        with pytest.raises(StoreError) as failure:
            action()
        assert "s3cret" not in str(failure.value)


def test_a_sqlite_file_in_an_unwritable_place_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")

    with pytest.raises(StoreError, match="cannot create the folder"):
        Store(f"sqlite:///{blocker / 'civicwatch.db'}").upgrade()


def test_wal_mode_is_recorded_in_the_sqlite_file_for_every_reader(tmp_path: Path) -> None:
    path = tmp_path / "civicwatch.db"
    Store(f"sqlite:///{path}").upgrade()
    with sqlite3.connect(path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # WAL persists in the file


def test_the_migration_scripts_ship_inside_the_package() -> None:
    package = Path(civicwatch.__file__).parent
    migrations = package / "store" / "migrations"

    assert migrations == migrate.MIGRATIONS
    assert (migrations / "env.py").is_file()
    assert (migrations / "script.py.mako").is_file()
    assert (migrations / "versions" / "0001_initial.py").is_file()
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    shipped = ["store/migrations/*.py", "store/migrations/script.py.mako"]
    shipped.append("store/migrations/versions/*.py")
    for pattern in shipped:
        assert f'"{pattern}"' in pyproject
