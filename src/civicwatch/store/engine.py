"""Connecting: database URLs, the SQLAlchemy engine for each dialect, and turning driver errors into ours.

Two engines are supported: SQLite (the default, one file) and PostgreSQL through psycopg 3.
Everything else about a connection (pragmas, timeouts, how transactions begin) is set here,
so the rest of the store only asks for a connection.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from civicwatch.errors import CivicwatchError, StoreError

BUSY_TIMEOUT_MS = 15_000  # how long a writer waits for another process's write to finish
CONNECT_TIMEOUT_S = 10  # PostgreSQL: how long to wait for an unreachable server

# Execution option read by the SQLite ``begin`` hook: "IMMEDIATE" takes the write lock up front.
BEGIN_MODE = "civicwatch_begin"

_POSTGRES_DRIVERS = {"postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"}

# PostgreSQL's disk_full: the server may write "No space left on device" in another language.
DISK_FULL_SQLSTATE = "53100"


class _AbortedPipelineWarning(logging.Filter):
    """Drops psycopg's "error ignored terminating <Pipeline ...>" warning.

    It comes when a batch insert fails (a full disk, say) and the error that aborted the pipeline is
    raised anyway; printed, it would be a second, unclear line beside the one ``describe`` gives.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("error ignored terminating")


logging.getLogger("psycopg").addFilter(_AbortedPipelineWarning())


def _hide_password(url: str) -> str:
    """``url`` with any ``user:password@`` reduced to ``user:***@``, even when it does not parse."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL for ``url``: ``postgresql://`` (or ``postgres://``) is sent to psycopg 3.

    Raises ``StoreError`` for a string that is not a database URL or names another engine.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(_hide_password(url), "not a database URL (expected sqlite:///FILE or "
                         "postgresql://USER@HOST/DATABASE)") from exc
    if parsed.drivername in _POSTGRES_DRIVERS:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in {"sqlite", "sqlite+pysqlite"}:
        if parsed.database and parsed.database.startswith("~"):
            parsed = parsed.set(database=str(Path(parsed.database).expanduser()))
        return parsed
    raise StoreError(safe_url(parsed), f"unsupported database {parsed.drivername!r}: use sqlite:/// or postgresql://")


def safe_url(url: URL | str) -> str:
    """``url`` as text with its password hidden: what error messages and logs may show."""
    if isinstance(url, str):
        try:
            parsed = make_url(url)
        except ArgumentError:
            return _hide_password(url)
        return parsed.render_as_string(hide_password=True)
    return url.render_as_string(hide_password=True)


def sqlite_path(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for in-memory databases and other engines."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.database.startswith("file:"):  # URI filenames: leave them to SQLite
        return None
    return Path(url.database)


def build_engine(url: URL, pool_size: int | None = None) -> Engine:
    """A pooled engine for ``url`` with civicwatch's connection settings; it does not connect yet.

    ``pool_size`` keeps that many connections (SQLAlchemy's default when None), and as many again at most.
    """
    pool: dict[str, Any] = {} if pool_size is None else {"pool_size": pool_size, "max_overflow": pool_size}
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, **pool)
        _configure_sqlite(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True, **pool)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin: the
        # module would otherwise run DDL (migrations) outside any transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # WAL: readers never block the writer (collect while the web app reads).
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            # NORMAL is crash-safe in WAL mode; only the last commits may be lost on power failure.
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(BEGIN_MODE, "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())


def describe(exc: BaseException) -> str:
    """One line saying what the database reported, without SQL or a traceback."""
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    message = " ".join(str(original).split()) or type(original).__name__
    lowered = message.lower()
    disk_full = getattr(original, "sqlstate", None) == DISK_FULL_SQLSTATE
    if disk_full or "disk is full" in lowered or "no space left" in lowered:
        return f"disk full: {message}"
    if "unable to open database file" in lowered:
        return f"cannot open the database file (does its folder exist and is it writable?): {message}"
    if "database is locked" in lowered:
        return f"database busy: another process kept it locked for over {BUSY_TIMEOUT_MS // 1000} s"
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return f"database not initialised; run `civicwatch init` ({message})"
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return f"connection lost: {message}"
    return message


@contextmanager
def translated_errors(url: str) -> Iterator[None]:
    """Turn driver and SQLAlchemy errors raised inside the block into ``StoreError(url, reason)``.

    civicwatch's own errors pass through untouched.
    """
    try:
        yield
    except CivicwatchError:
        raise
    except SQLAlchemyError as exc:
        raise StoreError(url, describe(exc)) from exc
    except OSError as exc:  # e.g. the SQLite file's folder cannot be created
        raise StoreError(url, describe(exc)) from exc
