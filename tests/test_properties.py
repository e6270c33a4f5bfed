"""Properties that must hold for every input (hypothesis): the coder's evidence spans, and event merging.

``test_coder_robustness.py`` already feeds the coder arbitrary short text; here the text is built from
report-like fragments mixed with arbitrary Unicode, so that incidents are actually found and their spans
checked, with every kind of publication date. Merging is checked as a pure function (the same events
whatever order the incidents arrive in) and in storage (``connect`` twice changes nothing).

All people and organisations are fictional.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicwatch.code.coder import Coder
from civicwatch.connect.events import Group, merge
from civicwatch.model import Document, Incident
from civicwatch.store import Store
from civicwatch.store import events as stored
from civicwatch.store.schema import incidents as incidents_table

FRAGMENTS = [
    "On 4 March 2024 police in Almaty detained journalist Ana Fictive.",
    "В Бишкеке 12 мая 2023 года задержали активиста Арата Вымыслова.",
    "Le 3 juin 2024, la police a arrêté le journaliste Jean Fictif à Dakar.",
    "El 5 de mayo de 2024 la policía detuvo a la periodista Ana Ficticia en Caracas.",
    "The authorities banned the Pinecone Union, an NGO in Tashkent, last week.",
    "Two days later she was released.",
    "We call for the release of Marat Fictivov.",
    "Mr.", "St.", "«", "»", "\n\n", " ", "…", "\u0130", "\u00df", "\u01c5", "\ufb03", "\u200b", "\x00",
]
report_text = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=30), max_size=25).map("".join)
published = st.none() | st.sampled_from(["2024-03-10", "2024", "2024-02", "not a date", "0001-01-01",
                                         "9999-12-31", "2023-12-31T23:30:00+00:00"])


@pytest.fixture(scope="module")
def coder() -> Coder:
    return Coder()


@given(text=report_text, when=published)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_coder_never_raises_and_evidence_is_the_text_at_its_offsets(coder: Coder, text: str,
                                                                        when: str | None) -> None:
    for incident in coder.code(text, when):
        assert 0 <= incident.evidence_start <= incident.evidence_end <= len(text)
        assert text[incident.evidence_start:incident.evidence_end] == incident.evidence
    assert [i.to_json() for i in coder.code(text, when)] == [i.to_json() for i in coder.code(text, when)]


# ---- merging ----------------------------------------------------------------------------------------

NAMES = ["Dilnoza Eshonkulova", "Дилноза Эшонкулова", "Dilnoza Eshankulova", "Rustam Qodirov", "Pinecone Union"]
EVIDENCE = ["police detained the blogger at her home", "the blogger was detained by police at home",
            "a rally was dispersed in the square", "the newspaper was closed by the regulator"]
DATES = [None, "2026", "2026-03", "2026-02-27", "2026-03-01", "2026-03-04", "2026-03-06", "2026-03-12",
         "2026-03-30", "2026-04-02"]


@st.composite
def incident_sets(draw: Any) -> list[Incident]:
    """Up to 12 incidents of two countries, few types, names, dates and documents: many chances to match."""
    count = draw(st.integers(min_value=1, max_value=12))
    made = []
    for number in range(1, count + 1):
        made.append(Incident(
            country=draw(st.sampled_from(["UZ", "KZ"])),
            types=draw(st.lists(st.sampled_from(["detention", "imprisonment", "protest_restriction", "censorship"]),
                                min_size=1, max_size=2, unique=True)),
            persons=draw(st.lists(st.sampled_from(NAMES), max_size=2, unique=True)),
            date=draw(st.sampled_from(DATES)),
            evidence=draw(st.sampled_from(EVIDENCE)),
            id=number,
            document_id=draw(st.integers(min_value=1, max_value=count)),
        ))
    return made


def events_of(groups: list[Group]) -> set[frozenset[int]]:
    """The events as sets of incident ids: what a reader sees, whatever the groups' order."""
    return {frozenset(int(m.incident.id or 0) for m in g.members) for g in groups}


@given(incidents=incident_sets(), seed=st.integers(min_value=0, max_value=2**32 - 1))
@settings(max_examples=400, deadline=None)
def test_merging_gives_the_same_events_whatever_order_the_incidents_arrive_in(incidents: list[Incident],
                                                                             seed: int) -> None:
    shuffled = list(incidents)
    random.Random(seed).shuffle(shuffled)
    assert events_of(merge(shuffled)) == events_of(merge(incidents))


@given(incidents=incident_sets())
@settings(max_examples=200, deadline=None)
def test_merging_into_the_events_it_made_changes_nothing(incidents: list[Incident]) -> None:
    groups = merge(incidents)
    again = merge([], [Group(list(g.members), list(g.joins)) for g in groups])
    assert events_of(again) == events_of(groups)
    assert [g.joins for g in again] == [g.joins for g in groups]


def _snapshot(store: Store) -> tuple[list[tuple[int, int | None]], list[tuple[Any, ...]]]:
    from sqlalchemy import select

    from civicwatch.store.schema import events

    with store._read() as connection:
        members = [(int(r[0]), r[1]) for r in connection.execute(
            select(incidents_table.c.id, incidents_table.c.event_id).order_by(incidents_table.c.id))]
        rows = [tuple(r) for r in connection.execute(
            select(events.c.id, events.c.country, events.c.month, events.c.signals, events.c.locked)
            .order_by(events.c.id))]
    return members, rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_connect_twice_changes_nothing_and_batches_agree_with_one_run(store: Store, seed: int) -> None:
    """Stored incidents in random groups of documents: a second ``connect`` is a no-op, and connecting
    in two runs (new incidents arriving later) gives the events one run over everything gives."""
    incidents = _seeded_incidents(seed)
    by_document: dict[int, list[Incident]] = {}
    for incident in incidents:
        by_document.setdefault(int(incident.document_id or 0), []).append(incident)
    documents = sorted(by_document)
    half = len(documents) // 2
    ids: list[int] = []
    for number in documents[:half]:
        ids.append(_store_coded(store, number, by_document[number]))
    stored.connect(store)
    for number in documents[half:]:
        ids.append(_store_coded(store, number, by_document[number]))
    stored.connect(store)
    first = _snapshot(store)
    report = stored.connect(store)
    assert (report.incidents, report.new_events, report.joined) == (0, 0, 0)
    assert _snapshot(store) == first

    in_one_run = {frozenset(g) for g in _partition(first[0])}
    with store._read() as connection:
        from sqlalchemy import select
        everything = [stored._incident(r) for r in connection.execute(
            select(*stored._incident_columns()).order_by(incidents_table.c.id))]
    assert in_one_run == events_of(merge(everything))


def _seeded_incidents(seed: int) -> list[Incident]:
    rng = random.Random(seed)
    made = []
    for number in range(1, 13):
        made.append(Incident(country=rng.choice(["UZ", "KZ"]), types=[rng.choice(["detention", "imprisonment"])],
                             persons=rng.sample(NAMES, rng.randint(0, 1)), date=rng.choice(DATES),
                             evidence=rng.choice(EVIDENCE), id=number, document_id=rng.randint(1, 8)))
    return made


def _store_coded(store: Store, number: int, found: list[Incident]) -> int:
    text = " ".join(i.evidence for i in found)
    document_id = store.add_document(Document(text=text, content_hash=f"doc-{number}"), signature=None, bands=[])
    for incident in found:
        incident.document_id, incident.id = document_id, None
        start = text.find(incident.evidence)
        incident.evidence_start, incident.evidence_end = start, start + len(incident.evidence)
    store.save_coding(document_id, found, "test")
    return document_id


def _partition(members: list[tuple[int, int | None]]) -> list[set[int]]:
    events: dict[int | None, set[int]] = {}
    for incident_id, event_id in members:
        assert event_id is not None, f"incident {incident_id} was not connected"
        events.setdefault(event_id, set()).add(incident_id)
    return list(events.values())
