"""``connect`` in many small batches computes what one batch computes (SQLite and PostgreSQL), and its
writes are batched: the number of SQL statements does not grow with the number of incidents.

The incidents are the benchmark's GENERATED ones (fictional names, ``benchmarks/connect.py``) in a
shuffled order, so that reports of one happening and repeats of one name fall into different batches,
plus the fictional gold set (``examples/connect/gold.jsonl``), which names organisations too.
"""

from __future__ import annotations

import importlib.util
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, select, update

from civicwatch.model import Document, Incident
from civicwatch.store import Store, bulk
from civicwatch.store import events as stored
from civicwatch.store.schema import (
    events,
    incidents,
    organisation_aliases,
    organisation_incidents,
    organisations,
    person_aliases,
    person_incidents,
    persons,
)

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("connect_benchmark", REPO / "benchmarks" / "connect.py")
assert _spec is not None and _spec.loader is not None
benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(benchmark)

SIZE = 600
SMALL_BATCH = 7  # smaller than a busy country, so that batch edges fall inside happenings
CONNECT_BATCH = stored._connect_batch
REGISTRIES = ((persons, person_aliases, person_incidents, "person_id"),
              (organisations, organisation_aliases, organisation_incidents, "organisation_id"))


def _load(store: Store) -> None:
    documents, codings, _ = benchmark.generate(SIZE, seed=3)
    for row in map(json.loads, (REPO / "examples" / "connect" / "gold.jsonl").read_text("utf-8").splitlines()):
        text = f"{row['document']}: {row['evidence']}"
        documents.append(Document(text=text, content_hash=row["document"], title=row["document"], lang="en"))
        fields = {k: row[k] for k in ("country", "types", "persons", "organisations", "date", "evidence")}
        codings.append((row["document"], [Incident(evidence_start=0, evidence_end=len(row["evidence"]), **fields)]))
    random.Random(11).shuffle(codings)  # incident ids follow this order, and so do the batches
    bulk.load(store, documents, codings, coder_version="test")


def _forget_connecting(store: Store) -> None:
    """Back to the state before ``connect``: no events, an empty registry."""
    with store._write() as connection:
        for table, aliases, links, _ in REGISTRIES:
            for emptied in (links, aliases, table):
                connection.execute(delete(emptied))
        connection.execute(update(incidents).values(event_id=None))
        connection.execute(delete(events))


def _result(store: Store) -> dict[str, Any]:
    """What connect made, free of the row ids it happened to get: events as their incident ids, country,
    month and joins; registry entries as their name, roles, countries, aliases and linked incidents."""
    with store._read() as connection:
        members: dict[int, list[int]] = {}
        for incident_id, event_id in connection.execute(select(incidents.c.id, incidents.c.event_id)):
            members.setdefault(int(event_id), []).append(int(incident_id))
        found: dict[str, Any] = {"events": sorted(
            (sorted(members[r.id]), r.country, r.month, r.locked, json.loads(r.signals))
            for r in connection.execute(select(events)))}
        for table, aliases, links, fk in REGISTRIES:
            names: dict[int, list[tuple[str, str]]] = {}
            for row in connection.execute(select(aliases)):
                names.setdefault(row._mapping[fk], []).append((row.alias, row.key))
            linked: dict[int, list[int]] = {}
            for row in connection.execute(select(links)):
                linked.setdefault(row._mapping[fk], []).append(row.incident_id)
            found[table.name] = sorted(
                (r.name, r.roles, r.countries, sorted(names[r.id]), sorted(linked.get(r.id, [])))
                for r in connection.execute(select(table)))
    return found


def _connect(store: Store, batch: int, monkeypatch: pytest.MonkeyPatch) -> tuple[stored.ConnectReport, list[list[int]]]:
    """Connect with batches of ``batch``; return the report and the incident ids of each batch of events."""
    monkeypatch.setattr(stored, "BATCH", batch)
    batches: list[list[int]] = []

    def recorded(connection: Any, incidents: list[Incident], *args: Any) -> None:
        batches.append([int(i.id or 0) for i in incidents])
        CONNECT_BATCH(connection, incidents, *args)

    monkeypatch.setattr(stored, "_connect_batch", recorded)
    report = stored.connect(store)
    return report, batches


def test_many_small_batches_make_the_events_and_registry_one_batch_makes(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(database_url)
    store.upgrade()
    _load(store)
    one, one_batches = _connect(store, 100_000, monkeypatch)
    in_one = _result(store)
    _forget_connecting(store)

    many, many_batches = _connect(store, SMALL_BATCH, monkeypatch)
    in_many = _result(store)
    store.close()

    assert len(one_batches) == 1 and len(many_batches) >= -(-one.incidents // SMALL_BATCH)
    assert max(map(len, many_batches)) <= SMALL_BATCH
    assert vars(one) == vars(many)
    assert in_many["events"] == in_one["events"]
    assert in_many["persons"] == in_one["persons"]
    assert in_many["organisations"] == in_one["organisations"]
    # The comparison has work in it: events that span batches, names and aliases of several batches.
    batch_of = {i: n for n, ids in enumerate(many_batches) for i in ids}
    assert sum(len({batch_of[i] for i in e[0]}) > 1 for e in in_one["events"]) >= 20
    assert sum(len({batch_of[i] for i in p[4]}) > 1 and len(p[3]) > 1 for p in in_one["persons"]) >= 20
    assert in_one["organisations"] and one.links > SIZE
    _every_link_names_an_alias(store_url=database_url)


def test_a_batch_of_events_holds_whole_countries_or_one_country(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each batch re-reads the events of its own countries only, so none is read by more batches than it fills."""
    store = Store(database_url)
    store.upgrade()
    _load(store)
    with store._read() as connection:
        country_of = {int(r.id): r.country for r in connection.execute(select(incidents.c.id, incidents.c.country))}
    _, batches = _connect(store, 12, monkeypatch)
    store.close()
    countries = [{country_of[i] for i in ids} for ids in batches]
    for n, here in enumerate(countries):
        for later in countries[n + 1:]:
            assert not (here & later) or len(here | later) == 1  # a country shared only by its own pages
    assert sorted(i for ids in batches for i in ids) == sorted(country_of)
    assert max(map(len, batches)) == 12
    assert any(len(here) == 1 and countries.count(here) > 1 for here in countries)  # a busy one, in pages


def _every_link_names_an_alias(store_url: str) -> None:
    """Each registry entry is linked only to incidents that name it by one of its aliases, and every
    name of every incident is linked: provisional ids were mapped to the right rows."""
    with Store(store_url) as store, store._read() as connection:
        named = {int(r.id): {"persons": set(r.persons), "organisations": set(r.organisations)}
                 for r in connection.execute(select(incidents.c.id, incidents.c.persons, incidents.c.organisations))}
        for table, aliases, links, fk in REGISTRIES:
            spelled: dict[int, set[str]] = {}
            for row in connection.execute(select(aliases)):
                spelled.setdefault(row._mapping[fk], set()).add(row.alias)
            linked: dict[int, set[int]] = {}
            for row in connection.execute(select(links)):
                linked.setdefault(row.incident_id, set()).add(row._mapping[fk])
                assert named[row.incident_id][table.name] & spelled[row._mapping[fk]], (table.name, row)
            for incident_id, names in named.items():
                for name in names[table.name]:
                    assert any(name in spelled[e] for e in linked.get(incident_id, ())), (incident_id, name)


@contextmanager
def _statements(store: Store) -> Iterator[list[str]]:
    """The SQL statements ``store`` sends while the block runs (an executemany counts once)."""
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(store._engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(store._engine, "before_cursor_execute", count)


def test_connect_sends_a_few_statements_per_batch_not_one_per_event_or_name(store: Store) -> None:
    _load(store)

    with _statements(store) as sent:
        report = stored.connect(store)

    assert report.new_events > 300 and report.links > SIZE
    # SQLite has no INSERT form whose RETURNING order follows the rows given, so SQLAlchemy's
    # insertmanyvalues sends the INSERT ... RETURNING of new events and registry entries row by row
    # there (in-process calls, no round trips); every other write is one statement on both engines.
    returning = [s for s in sent if s.startswith("INSERT") and "RETURNING" in s]
    others = [s for s in sent if s not in returning]
    # Reading the batch and its blocks, one statement per kind of write, the transaction, the final cleanup.
    assert len(others) < 30, "\n".join(others)
    if store.dialect == "postgresql":
        assert len(returning) == 3, "\n".join(returning)  # new events, persons and organisations
