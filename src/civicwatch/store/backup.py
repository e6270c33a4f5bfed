"""Backups: a whole civicwatch database copied into one file, and put back.

SQLite is copied with its online backup API (a consistent copy while collectors and the web
server keep working); PostgreSQL with ``pg_dump --format=custom`` and ``pg_restore``, which must
be installed (Debian: ``postgresql-client``). Either way the backup is written beside its
destination and renamed into place, so a backup interrupted half-way never leaves a file that
looks whole. ``fingerprint`` reads every table into a count and a hash, which is how a restore is
checked against its original.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, MetaData, Table, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SAWarning

from civicwatch.errors import StoreError, UsageError
from civicwatch.store import engine
from civicwatch.store.db import Store
from civicwatch.store.schema import data_version

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


@dataclass(frozen=True)
class BackupSummary:
    """What a backup or restore did: the file, the engine, and the rows per table it holds."""

    path: Path
    engine: str
    rows: dict[str, int]


def backup(store: Store, destination: Path) -> BackupSummary:
    """Copy the whole database behind ``store`` into the file ``destination`` (replaced if it exists).

    Raises ``StoreError`` when the database cannot be read or ``pg_dump`` is missing, ``UsageError``
    when the destination's folder does not exist.
    """
    store.ensure_ready()
    if not destination.parent.is_dir():
        raise UsageError(str(destination), "the folder to write the backup into does not exist")
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if store.dialect == "sqlite":
            _sqlite_copy(_sqlite_file(store), partial)
        else:
            _pg_dump(store._url, partial)
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return BackupSummary(destination, store.dialect, {t: n for t, (n, _) in fingerprint(store).items()})


def restore(store: Store, source: Path, *, replace: bool = False) -> BackupSummary:
    """Put the backup file ``source`` in place of the database behind ``store``.

    A database that already holds documents is only replaced with ``replace=True``. The backup's
    kind must match the engine (a SQLite file for SQLite, a ``pg_dump`` archive for PostgreSQL).
    Raises ``UsageError`` for a missing or foreign file and a refused replacement.
    """
    kind = _kind(source)
    if kind != store.dialect:
        expected = "a SQLite file" if store.dialect == "sqlite" else "a pg_dump archive (civicwatch backup)"
        raise UsageError(str(source), f"not a backup for this database: expected {expected}")
    if not replace and _holds_data(store):
        raise UsageError(engine.safe_url(store._url), "the database already holds data; pass --replace to "
                         "overwrite it with the backup")
    before = _version_or_zero(store)
    if kind == "sqlite":
        _sqlite_restore(store, source)
    else:
        _pg_restore(store._url, source)
    store.ensure_ready()
    _move_data_version_past(store, before)
    return BackupSummary(source, store.dialect, {t: n for t, (n, _) in fingerprint(store).items()})


def fingerprint(store: Store) -> dict[str, tuple[int, str]]:
    """Every table's row count and a SHA-256 of its rows in primary-key order: equal on a faithful copy."""
    with store._read() as connection:
        tables = sorted(inspect(connection).get_table_names())
        result = {}
        for name in tables:
            # SQLite's full-text index is derived (kept by triggers); the data version is not data.
            if name.startswith("documents_fts") or name == "data_version":
                continue
            table = _reflect(connection, name)
            digest = hashlib.sha256()
            count = 0
            order = list(table.primary_key.columns) or list(table.columns)
            for row in connection.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode("utf-8"))
                count += 1
            result[name] = (count, digest.hexdigest())
    return result


# -- SQLite ------------------------------------------------------------------------------------


def _sqlite_file(store: Store) -> Path:
    path = engine.sqlite_path(store._url)
    if path is None:
        raise UsageError(store.url, "only a SQLite database in a file can be backed up")
    return path


def _sqlite_copy(source: Path, destination: Path) -> None:
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as reader, sqlite3.connect(destination) as writer:
            reader.backup(writer)  # page by page, consistent even while others write
        with sqlite3.connect(destination) as writer:
            writer.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    except sqlite3.Error as exc:
        raise StoreError(str(source), f"cannot copy the database: {exc}") from exc


def _sqlite_restore(store: Store, source: Path) -> None:
    target = _sqlite_file(store)
    store.close()  # no pooled connection may keep the old file open
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restoring")
    try:
        _sqlite_copy(source, partial)
        with sqlite3.connect(partial) as check:
            if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise UsageError(str(source), "the backup file is damaged (integrity check failed)")
        for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


# -- PostgreSQL --------------------------------------------------------------------------------


def _libpq(url: URL) -> tuple[str, list[str]]:
    """The URL as pg_dump takes it, and ``--schema`` options for a URL that names its schema."""
    options = url.query.get("options", "")
    options = options if isinstance(options, str) else " ".join(options)
    schemas = [part.split("=", 1)[1] for part in options.split() if part.startswith("-csearch_path=")]
    plain = url.set(drivername="postgresql").difference_update_query(["options"])
    flags = [f"--schema={name}" for schema in schemas for name in schema.split(",") if name.strip()]
    return plain.render_as_string(hide_password=False), flags


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise StoreError(name, f"{name} is not installed (Debian: apt-get install postgresql-client); it is how "
                         "civicwatch backs up and restores PostgreSQL")
    return found


def _pg_dump(url: URL, destination: Path) -> None:
    address, schemas = _libpq(url)
    command = [_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={destination}", *schemas, address]
    _run(command, url)


def _pg_restore(url: URL, source: Path) -> None:
    address, _ = _libpq(url)
    # One transaction: a restore that fails half-way leaves the database as it was.
    command = [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
               f"--dbname={address}", str(source)]
    _run(command, url)


def _run(command: list[str], url: URL) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        reason = " ".join(done.stderr.split())[:500] or f"exit status {done.returncode}"
        raise StoreError(engine.safe_url(url), f"{Path(command[0]).name} failed: {reason}")


# -- shared ------------------------------------------------------------------------------------


def _kind(path: Path) -> str:
    try:
        with path.open("rb") as file:
            head = file.read(16)
    except FileNotFoundError:
        raise UsageError(str(path), "no such file") from None
    except OSError as exc:
        raise UsageError(str(path), f"cannot read the file: {exc.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise UsageError(str(path), "not a civicwatch backup (neither a SQLite file nor a pg_dump archive)")


def _version_or_zero(store: Store) -> int:
    try:
        return store.data_version()
    except StoreError:  # nothing there yet
        return 0


def _holds_data(store: Store) -> bool:
    if store.current_revision() is None:
        return False
    with store._read() as connection:
        return connection.execute(text("SELECT 1 FROM documents LIMIT 1")).first() is not None


def _reflect(connection: Connection, name: str) -> Table:
    with warnings.catch_warnings():  # expression indexes are not reflected; only the columns are needed here
        warnings.simplefilter("ignore", SAWarning)
        return Table(name, MetaData(), autoload_with=connection)


def _move_data_version_past(store: Store, before: int) -> None:
    # The restored counter may equal one a running server has already cached pages under: move it past
    # every number either database has had, so no page of the old data is taken for the restored one.
    with store._write() as connection:
        connection.execute(update(data_version).values(version=data_version.c.version + before + 1))
