"""Database fixtures: every storage test runs on SQLite and on PostgreSQL.

``tests/conftest.py`` does ``from support.databases import *``. Then:

- ``store``: a migrated, empty ``Store`` (parametrised: ``[sqlite]`` and ``[postgresql]``);
- ``database_url``: the URL of an empty, *un-migrated* database (same parameters), for CLI tests;
- ``postgres_url``: the PostgreSQL server's URL (session-wide), skipping when it is unreachable;
- ``postgres_schema_url``: a URL to a fresh schema of its own on that server.

PostgreSQL comes from ``$CIVICWATCH_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``). Each test gets its own schema, named in the
URL's ``options=-csearch_path=...``, dropped afterwards: tests never see each other's rows.
When the server is unreachable the PostgreSQL half is skipped, except with ``CI=true``, where a
missing database must fail the build rather than quietly halve the suite.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from civicwatch.store import Store

__all__ = ["ENGINES", "database_url", "postgres_admin", "postgres_schema_url", "postgres_url", "store"]

ENGINES = ["sqlite", "postgresql"]
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _libpq_url(url: str) -> str:
    """``url`` as psycopg itself takes it (no SQLAlchemy ``+psycopg`` driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test PostgreSQL server; skips (or fails, on CI) the tests that need it when it is unreachable."""
    url = os.environ.get("CIVICWATCH_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    try:
        psycopg.connect(_libpq_url(url), connect_timeout=3).close()
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        message = f"PostgreSQL unreachable at {make_url(url).render_as_string(hide_password=True)}: {reason}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def postgres_admin(postgres_url: str) -> Iterator[psycopg.Connection]:
    """One autocommit connection for the whole session, to create and drop test schemas quickly."""
    with psycopg.connect(_libpq_url(postgres_url), autocommit=True) as connection:
        yield connection


@pytest.fixture
def postgres_schema_url(postgres_url: str, postgres_admin: psycopg.Connection) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL schema of its own, dropped after the test."""
    schema = f"cw_test_{uuid.uuid4().hex[:12]}"
    postgres_admin.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        postgres_admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _empty_database_url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'civicwatch.db'}"
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, un-migrated database: a SQLite file yet to be made, or a new PostgreSQL schema."""
    return _empty_database_url(request.param, tmp_path, request)


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty ``Store``, closed after the test."""
    opened = Store(_empty_database_url(request.param, tmp_path, request))
    opened.upgrade()
    try:
        yield opened
    finally:
        opened.close()
