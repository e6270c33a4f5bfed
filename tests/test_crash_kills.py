"""Crash safety in CI: each writing command SIGKILLed at random moments on SQLite and PostgreSQL, re-run,
then ``check`` finds nothing and the contents equal an unkilled run's (``benchmarks/crash.py``, which does
20 kills per command for ``docs/reliability.md``; here 2). Also: ``check`` sees the half-written rows a
crash could leave, and a full disk gives one clear line and no corruption.

All people and organisations are fictional.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, make_url, select, text, update

from civicwatch.model import Document, Incident
from civicwatch.store import Store
from civicwatch.store.schema import codings, events, incidents, person_incidents

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import crash  # noqa: E402

KILLS = 2
DOCUMENTS = 30


@pytest.fixture(scope="module")
def run() -> Iterator[crash.Run]:
    with crash.workspace(DOCUMENTS) as made:
        yield made


@pytest.mark.timeout(600)
@pytest.mark.parametrize("engine", crash.ENGINES)
def test_every_command_killed_and_re_run_leaves_what_an_unkilled_run_leaves(
    engine: str, run: crash.Run, request: pytest.FixtureRequest
) -> None:
    postgres_url = request.getfixturevalue("postgres_url") if engine == "postgresql" else crash.DEFAULT_POSTGRES_URL
    results = crash.crash_engine(engine, run, list(crash.COMMANDS), KILLS, seed=3, postgres_url=postgres_url,
                                 cli_check=False)
    for figures in results:
        assert figures.kills == KILLS, f"{figures.command}: every run finished before its kill ({vars(figures)})"
        assert figures.check_problems == [], figures.command
        assert figures.differences == [], figures.command
        assert figures.ok, vars(figures)


# ---- the checks a crash test relies on ------------------------------------------------------------------

def _coded(store: Store) -> tuple[int, int]:
    """A document with one machine incident, connected into an event; (document id, incident id)."""
    body = "On 4 March 2026 police in Tashkent detained blogger Dilnoza Fictiva."
    document_id = store.add_document(Document(text=body, content_hash="planted"), signature=None, bands=[])
    store.save_coding(document_id, [Incident(country="UZ", types=["detention"], persons=["Dilnoza Fictiva"],
                                             evidence=body, evidence_start=0, evidence_end=len(body))], "test")
    from civicwatch.store import events as stored

    stored.connect(store)
    incident_id = store.incidents(document_id=document_id)[0].id
    assert incident_id is not None
    return document_id, incident_id


def _copy_of(store: Store, incident_id: int) -> dict[str, Any]:
    with store._read() as connection:
        row = connection.execute(select(incidents).where(incidents.c.id == incident_id)).one()
    return {k: v for k, v in row._asdict().items() if k != "id"}


def test_check_finds_an_incident_stored_twice_and_a_coding_without_its_record(store: Store) -> None:
    document_id, incident_id = _coded(store)
    assert store.integrity_problems() == []
    with store._write() as connection:
        connection.execute(insert(incidents).values(**_copy_of(store, incident_id)))
    assert any("stored twice" in p and "2 incidents" in p for p in store.integrity_problems())
    with store._write() as connection:
        connection.execute(update(codings).values(incident_count=1))
    assert any("more machine incidents than their coding record" in p for p in store.integrity_problems())
    with store._write() as connection:
        connection.execute(delete(codings).where(codings.c.document_id == document_id))
    assert any(f"no coding record (document ids {document_id})" in p for p in store.integrity_problems())


def test_check_finds_an_event_without_incidents_and_links_to_missing_rows(store: Store) -> None:
    _, incident_id = _coded(store)
    now = datetime.now(UTC)
    with store._write() as connection:
        connection.execute(insert(events).values(country="UZ", month="2026-03", signals="[]", locked=False,
                                                 created_at=now, updated_at=now))
    assert any("events have no incidents" in p for p in store.integrity_problems())
    with store._read() as connection:
        person = connection.execute(select(person_incidents.c.person_id)).scalar_one()
    missing, gone = incident_id + 1000, 10**6
    # What a database opened without foreign keys (or restored by hand) could hold.
    if store.dialect == "sqlite":
        with sqlite3.connect(str(make_url(store.url).database)) as raw:  # foreign keys are off by default
            raw.execute("INSERT INTO person_incidents (person_id, incident_id) VALUES (?, ?)", (person, missing))
            raw.execute("UPDATE incidents SET event_id = ?", (gone,))
    else:
        with store._write() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(insert(person_incidents).values(person_id=person, incident_id=missing))
            connection.execute(update(incidents).values(event_id=gone))
    found = store.integrity_problems()
    assert any(f"person links point to missing incidents (incident ids {incident_id + 1000})" in p for p in found)
    assert any(f"incidents point to missing events (incident ids {incident_id})" in p for p in found)


# ---- a full disk -------------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs (needs root: skipped elsewhere, with the reason)."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_gives_one_clear_line_and_no_corruption(small_disk: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    for n in range(300):  # about 1.5 MB of text: more than the disk holds with the indexes
        words = " ".join(crash.CITIES[(n * 7 + i) % len(crash.CITIES)] for i in range(150))
        (reports / f"report-{n:04d}.txt").write_text(f"{crash.report_text(n)} {words} {n}", encoding="utf-8")
    env = {**os.environ, "CIVICWATCH_DATABASE_URL": f"sqlite:///{small_disk / 'civicwatch.db'}"}

    def civicwatch(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "civicwatch", *args], env=env, capture_output=True, text=True,
                              timeout=300)

    assert civicwatch("init").returncode == 0
    assert civicwatch("add-source", str(reports), "--name", "partner").returncode == 0
    collected = civicwatch("collect", "--all", "--json")
    assert collected.returncode == 1
    assert "database or disk is full" in collected.stderr and "Traceback" not in collected.stderr
    stored = json.loads(collected.stdout)
    processed = civicwatch("process", "--no-connect")
    assert processed.returncode != 0
    assert "database or disk is full" in processed.stderr and "Traceback" not in processed.stderr
    assert len(processed.stderr.strip().splitlines()) == 1, processed.stderr

    checked = civicwatch("check")
    assert checked.returncode == 0, checked.stderr
    with sqlite3.connect(small_disk / "civicwatch.db") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        documents = connection.execute("SELECT count(*) FROM documents").fetchone()[0]
    assert 0 < documents < 300
    assert stored["failed"] > 0
