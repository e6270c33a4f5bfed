"""Backups: what ``civicwatch backup`` writes, ``civicwatch restore`` puts back, row for row.

On SQLite (the online backup API) and PostgreSQL (pg_dump / pg_restore), with the real coder's incidents.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from civicwatch.errors import UsageError
from civicwatch.store import Store
from civicwatch.store.backup import backup, fingerprint, restore
from support.server import add_reports

needs_pg_tools = pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")


@needs_pg_tools
def test_a_restored_database_equals_the_one_backed_up(store: Store, tmp_path: Path) -> None:
    add_reports(store)
    original = fingerprint(store)
    file = tmp_path / "civicwatch.backup"

    summary = backup(store, file)
    assert summary.rows["incidents"] == original["incidents"][0] > 0
    # Life goes on after the backup: a document is added, an incident edited.
    add_reports(store, [("Raid in Bishkek", "Police raided the office of the fictional Bishkek Rights "
                         "Centre on 2 June 2025.", "2025-06-03")])
    incident = store.incidents()[0]
    store.edit_incident(incident.id, evidence="changed after the backup", evidence_start=0, evidence_end=0)
    assert fingerprint(store) != original

    restore(store, file, replace=True)

    assert fingerprint(store) == original
    assert store.integrity_problems() == []


@needs_pg_tools
def test_restore_will_not_overwrite_data_unless_asked(store: Store, tmp_path: Path) -> None:
    add_reports(store)
    file = tmp_path / "civicwatch.backup"
    backup(store, file)

    with pytest.raises(UsageError, match="--replace"):
        restore(store, file)


@needs_pg_tools
def test_the_data_version_moves_on_after_a_restore(store: Store, tmp_path: Path) -> None:
    # A running server caches pages under the data version: a restored copy must not reuse a number.
    add_reports(store)
    file = tmp_path / "civicwatch.backup"
    backup(store, file)
    before = store.data_version()

    restore(store, file, replace=True)

    assert store.data_version() > before


def test_a_file_that_is_not_a_backup_is_refused_by_name(store: Store, tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database", encoding="utf-8")

    with pytest.raises(UsageError) as refused:
        restore(store, junk, replace=True)
    assert refused.value.input == str(junk)
    assert "not a civicwatch backup" in refused.value.reason
    with pytest.raises(UsageError, match="no such file"):
        restore(store, tmp_path / "missing.db", replace=True)


def test_a_sqlite_backup_restores_into_a_new_file(tmp_path: Path) -> None:
    original = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    original.upgrade()
    add_reports(original)
    file = tmp_path / "backups" / "monitor-2026-12-03.db"
    file.parent.mkdir()
    backup(original, file)

    copy = Store(f"sqlite:///{tmp_path / 'elsewhere' / 'restored.db'}")
    restore(copy, file)

    assert fingerprint(copy) == fingerprint(original)
    original.close()
    copy.close()


def test_a_backup_for_the_other_engine_is_refused(store: Store, tmp_path: Path) -> None:
    other = tmp_path / "other.backup"
    other.write_bytes(b"PGDMP\x01\x0e\x00" if store.dialect == "sqlite" else b"SQLite format 3\x00" + bytes(100))

    with pytest.raises(UsageError, match="not a backup for this database"):
        restore(store, other, replace=True)


def test_backup_and_restore_from_the_command_line(tmp_path: Path) -> None:
    from test_cli import run

    url = f"sqlite:///{tmp_path / 'civicwatch.db'}"
    assert run("init", "--database", url).returncode == 0
    file = tmp_path / "backup.db"

    made = run("backup", str(file), "--database", url)
    again = run("restore", str(file), "--database", url)
    replaced = run("restore", str(file), "--replace", "--database", url)
    junk = run("restore", str(tmp_path / "nothing.db"), "--database", url)

    assert made.returncode == 0 and "Backed up" in made.stdout
    assert again.returncode == 0  # an empty database may be replaced without --replace
    assert replaced.returncode == 0 and "Restored" in replaced.stdout
    assert junk.returncode == 2 and "no such file" in junk.stderr and "Traceback" not in junk.stderr
