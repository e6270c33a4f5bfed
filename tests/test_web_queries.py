"""The read queries behind the site (``civicwatch.store.browse``): the orders, cursors, text query,
aggregates and their cache, on SQLite and PostgreSQL. Every person here is invented."""

from __future__ import annotations

import hashlib

import pytest

from civicwatch.code.coder import TYPE_ORDER
from civicwatch.errors import UsageError
from civicwatch.model import Document, Incident
from civicwatch.store import Store, browse, cases
from civicwatch.store.browse import IncidentFilters
from civicwatch.store.events import connect


def add(store: Store, text: str, *incidents: Incident) -> int:
    """A document with ``text`` and the given incidents (their evidence: the whole text)."""
    document_id = store.add_document(
        Document(text=text, content_hash=hashlib.sha256(text.encode()).hexdigest(), lang="en"),
        signature=None, bands=[],
    )
    for incident in incidents:
        incident.evidence, incident.evidence_start, incident.evidence_end = text, 0, len(text)
    store.save_coding(document_id, list(incidents), "test-1")
    return document_id


def walk(store: Store, filters: IncidentFilters, limit: int) -> list[Incident]:
    found: list[Incident] = []
    cursor = None
    while True:
        page, cursor = browse.incident_page(store, filters, cursor=cursor, limit=limit)
        found += page
        if cursor is None:
            return found


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    browse.clear_cache()


def test_newest_first_with_undated_incidents_last_and_cursors_across_them(store: Store) -> None:
    dates = ["2023", None, "2024-05-03", None, "2024-05", "2024-05-03", "2022-12-31"]
    for n, date in enumerate(dates):
        add(store, f"Report {n}: the fictional activist Ilse Varn was detained.",
            Incident(country="UZ", types=["detention"], date=date))

    listed = walk(store, IncidentFilters(), limit=2)

    assert [incident.date for incident in listed] == [
        "2024-05-03", "2024-05-03", "2024-05", "2023", "2022-12-31", None, None]
    # Ties (same date, both undated) come newest row first.
    assert listed[0].id > listed[1].id and listed[5].id > listed[6].id  # type: ignore[operator]
    assert [i.id for i in listed] == [i.id for i in walk(store, IncidentFilters(), limit=200)]


def test_the_text_query_finds_word_beginnings_and_needs_every_word(store: Store) -> None:
    add(store, "Police detained the fictional blogger Oskar Lind in Nukus.",
        Incident(country="UZ", types=["detention"], date="2024-01-02"))
    add(store, "A court fined the fictional journalist Mira Toll.",
        Incident(country="KZ", types=["prosecution"], date="2024-01-03"))

    def countries(q: str) -> list[str]:
        return [i.country for i in browse.incident_page(store, IncidentFilters(q=q), cursor=None, limit=50)[0]]

    assert countries("detain") == ["UZ"]  # "detain" finds "detained"
    assert countries("FICTIONAL") == ["KZ", "UZ"]
    assert countries("fictional lind") == ["UZ"]
    assert countries("fictional nobody") == []
    assert countries("%_ ...") == []  # nothing to search for: nothing found, never everything
    assert countries('"Mira Toll"') == ["KZ"]


def test_the_text_query_looks_among_the_most_recent_matching_documents(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(4):
        add(store, f"Report {n}: police detained a fictional protester.",
            Incident(country="KG", types=["detention"], date=f"2024-0{n + 1}"))
    monkeypatch.setattr(browse, "TEXT_CANDIDATES", 2)

    found = browse.incident_page(store, IncidentFilters(q="protester"), cursor=None, limit=50)[0]

    assert [i.date for i in found] == ["2024-04", "2024-03"]


def test_counts_by_type_follow_new_incidents_at_once(store: Store) -> None:
    add(store, "Police detained the fictional activist Ana Brel.",
        Incident(country="UZ", types=["detention", "prosecution"]))
    assert browse.counts_by_type(store, TYPE_ORDER) == {"detention": 1, "prosecution": 1}
    assert browse.counts_by_country(store) == {"UZ": 1}

    add(store, "Police detained the fictional activist Per Holm.", Incident(country="KG", types=["detention"]))

    assert browse.counts_by_type(store, TYPE_ORDER) == {"detention": 2, "prosecution": 1}
    assert browse.counts_by_type(store, TYPE_ORDER, country="kg") == {"detention": 1}
    assert browse.counts_by_country(store) == {"KG": 1, "UZ": 1}


def test_counts_by_type_leave_out_types_not_asked_for(store: Store) -> None:
    add(store, "A fictional rally took place.", Incident(country="UZ", types=["protest", "detention"]))

    assert browse.counts_by_type(store, ["protest", "censorship"]) == {"protest": 1}


def test_names_are_listed_once_with_their_countries_and_counts(store: Store) -> None:
    add(store, "Police detained Ana Brel and Zeno Kask of the Blue Lake Circle.",
        Incident(country="UZ", types=["detention"], persons=["Zeno Kask", "Ana Brel"],
                 organisations=["Blue Lake Circle"]))
    add(store, "A court fined Ana Brel.", Incident(country="KZ", types=["prosecution"], persons=["Ana Brel"]))
    add(store, "Ana Brel was released.", Incident(country="KZ", types=["release"], persons=["Ana Brel"]))
    add(store, "Police detained Zeno Kask again.", Incident(country="UZ", types=["detention"], persons=["Kask, Zeno"]))
    connect(store)  # the registry: one entry per person, whatever the spelling

    persons, following = browse.names_page(store, "persons", cursor=None, limit=1)
    rest, last = browse.names_page(store, "persons", cursor=following, limit=1)

    def shown(names: list[browse.NamedCount]) -> list[tuple[str, list[str], int]]:
        return [(n.name, n.countries, n.incidents) for n in names]

    assert shown(persons) == [("Ana Brel", ["KZ", "UZ"], 3)]
    assert shown(rest) == [("Zeno Kask", ["UZ"], 2)] and last is None
    assert cases.case(store, rest[0].id or 0) is not None
    organisations, _ = browse.names_page(store, "organisations", cursor=None, limit=10)
    assert [o.name for o in organisations] == ["Blue Lake Circle"]
    in_kazakhstan = browse.most_named(store, "persons", country="KZ", limit=5)
    assert shown(in_kazakhstan) == [("Ana Brel", ["KZ"], 2)]
    with pytest.raises(UsageError):
        browse.names_page(store, "places", cursor=None, limit=10)


def test_ids_beyond_the_engines_integers_name_no_row_rather_than_failing(store: Store) -> None:
    add(store, "Police detained the fictional activist Ana Brel.", Incident(country="UZ", types=["detention"]))
    huge = 2**40  # valid in the API (64-bit), beyond PostgreSQL's INTEGER columns

    assert browse.public_document(store, huge) is None
    assert browse.incident_with_document(store, huge) is None
    assert browse.incidents_of_document(store, huge) == []
    assert browse.documents_by_id(store, [huge]) == {}
    assert browse.document_page(store, browse.DocumentFilters(source_id=huge), cursor=None, limit=5) == ([], None)
    after_huge = browse.encode_cursor("incidents:date", ["", huge])  # the undated incident comes after it
    assert len(browse.incident_page(store, IncidentFilters(), cursor=after_huge, limit=5)[0]) == 1
    documents_after_huge = browse.encode_cursor("documents", [huge])
    assert len(browse.document_page(store, browse.DocumentFilters(), cursor=documents_after_huge, limit=5)[0]) == 1


def test_many_pages_asking_for_the_same_count_at_once_count_it_once(store: Store) -> None:
    """Under load the incident lists all want the per-country counts together: one request counts them."""
    import threading

    from sqlalchemy import event

    add(store, "Police detained the fictional activist Ana Brel.", Incident(country="UZ", types=["detention"]))
    counted: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "GROUP BY incidents.country" in statement:
            counted.append(statement)

    event.listen(store._engine, "before_cursor_execute", note)
    start = threading.Barrier(8)
    answers: list[dict[str, int]] = []

    def visitor() -> None:
        start.wait()
        answers.append(browse.counts_by_country(store))

    visitors = [threading.Thread(target=visitor) for _ in range(8)]
    for thread in visitors:
        thread.start()
    for thread in visitors:
        thread.join()
    event.remove(store._engine, "before_cursor_execute", note)

    assert answers == [{"UZ": 1}] * 8
    assert len(counted) == 1
