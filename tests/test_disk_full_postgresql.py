"""A full disk on PostgreSQL: one clear line naming the database, what was stored stays intact, and once
there is room again the same commands carry on.

The database lives on a tablespace of its own on a 16 MB tmpfs; the server's WAL and its other databases
do not, so the server keeps running while that one database is full, as it would when a data volume fills.
Needs root (to mount) and a PostgreSQL server on this machine (to see the mount); elsewhere the test is
skipped with the reason. ``tests/test_crash_kills.py`` does the same on SQLite.

All people and organisations are fictional.
"""

from __future__ import annotations

import json
import os
import random
import string
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import make_url

from civicwatch.store import Store
from civicwatch.store.engine import describe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import crash  # noqa: E402

DISK = "16m"  # template1's copy takes about 3 MB of it once migrated; the rest fills at about 150 reports
ROOMY_DISK = "64m"
REPORTS = 300


def _server_owner(admin: psycopg.Connection) -> tuple[int, int]:
    """The uid and gid the server runs as (its data directory's owner); skips when that is not on this machine."""
    row = admin.execute("SHOW data_directory").fetchone()
    assert row is not None
    try:
        found = os.stat(row[0])
    except OSError as exc:
        pytest.skip(f"the PostgreSQL server's data directory is not on this machine: {exc}")
    return found.st_uid, found.st_gid


def _mount(folder: str, size: str, owner: tuple[int, int]) -> None:
    uid, gid = owner
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700,uid={uid},gid={gid}",
                              "tmpfs", folder], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip() or mounted.returncode}")


def grow(disk: Path, size: str) -> None:
    """Give the tmpfs more room, as an administrator freeing space would."""
    subprocess.run(["mount", "-o", f"remount,size={size}", str(disk)], check=True)


@pytest.fixture
def small_postgres(postgres_url: str, postgres_admin: psycopg.Connection) -> Iterator[tuple[str, Path]]:
    """(URL, mount point) of a fresh PostgreSQL database whose tablespace is a 16 MB tmpfs.

    Dropped, with its tablespace and the mount, afterwards, whatever the test did.
    """
    owner = _server_owner(postgres_admin)
    folder = tempfile.mkdtemp(prefix="civicwatch-pg-disk-")
    name = f"civicwatch_diskfull_{uuid.uuid4().hex[:12]}"
    tablespace, database = sql.Identifier(f"{name}_space"), sql.Identifier(name)
    try:
        _mount(folder, DISK, owner)
        try:
            try:
                postgres_admin.execute(sql.SQL("CREATE TABLESPACE {} LOCATION {}").format(tablespace,
                                                                                         sql.Literal(folder)))
            except psycopg.Error as exc:
                pytest.skip(f"cannot create a tablespace on {folder}: {' '.join(str(exc).split())}")
            try:
                postgres_admin.execute(sql.SQL("CREATE DATABASE {} TABLESPACE {}").format(database, tablespace))
                url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
                yield url, Path(folder)
            finally:
                postgres_admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
                postgres_admin.execute(sql.SQL("DROP TABLESPACE IF EXISTS {}").format(tablespace))
        finally:
            subprocess.run(["umount", "-l", folder], check=False)
    finally:
        os.rmdir(folder)


def write_reports(folder: Path, count: int) -> None:
    """``count`` fictional reports of about 5 kB, padded with random letters so that TOAST cannot compress
    them to nothing (the SQLite test's repeated city names would)."""
    folder.mkdir()
    for n in range(count):
        rng = random.Random(n)
        padding = " ".join("".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 10))) for _ in range(700))
        (folder / f"report-{n:04d}.txt").write_text(f"{crash.report_text(n)} {padding} {n}", encoding="utf-8")


def test_a_full_postgresql_tablespace_gives_one_clear_line_and_no_corruption(
    small_postgres: tuple[str, Path], tmp_path: Path, postgres_admin: psycopg.Connection
) -> None:
    url, disk = small_postgres
    database = make_url(url).database
    assert database is not None
    reports = tmp_path / "reports"
    write_reports(reports, REPORTS)
    env = {**os.environ, "CIVICWATCH_DATABASE_URL": url}

    def civicwatch(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "civicwatch", *args], env=env, capture_output=True, text=True,
                              timeout=300)

    assert civicwatch("init").returncode == 0
    assert civicwatch("add-source", str(reports), "--name", "partner").returncode == 0

    collected = civicwatch("collect", "--all", "--json")
    assert collected.returncode == 1
    assert "Traceback" not in collected.stderr
    lines = collected.stderr.strip().splitlines()
    # One line per report it could not store, then one naming the database, all saying the disk is full.
    assert all("disk full: could not extend file" in line and "No space left on device" in line for line in lines)
    assert database in lines[-1]
    stored = json.loads(collected.stdout)
    assert 0 < stored["new"] < REPORTS and stored["failed"] > 0

    processed = civicwatch("process", "--no-connect")
    assert processed.returncode == 1
    assert len(processed.stderr.strip().splitlines()) == 1, processed.stderr
    assert database in processed.stderr and "disk full: could not extend file" in processed.stderr

    checked = civicwatch("check")
    assert checked.returncode == 0, checked.stderr
    store = Store(url)
    try:
        kept = list(store.iter_documents())
        assert len(kept) == stored["new"]
        for document in kept:  # every stored report reads back whole
            assert document.url is not None
            assert document.text == Path(document.url.removeprefix("file://")).read_text(encoding="utf-8")
        assert store.counts()["incidents"] == 0  # process wrote nothing half-way
    finally:
        store.close()
    assert postgres_admin.execute("SELECT 1").fetchone() == (1,)  # the server itself is still up

    grow(disk, ROOMY_DISK)
    processed = civicwatch("process", "--no-connect")
    assert processed.returncode == 0, processed.stderr
    assert processed.stdout.startswith(f"Coded {stored['new']} documents")
    checked = civicwatch("check")
    assert checked.returncode == 0, checked.stderr


def test_a_disk_full_reported_in_another_language_still_reads_as_disk_full() -> None:
    # A server with lc_messages=de_DE words it so; its SQLSTATE (53100) stays the same.
    german = psycopg.errors.DiskFull('konnte Datei "base/16384/16390" nicht erweitern: '
                                     "Auf dem Gerät ist kein Speicherplatz mehr verfügbar")
    assert describe(german).startswith("disk full: konnte Datei")
