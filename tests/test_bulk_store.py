"""Bulk loading documents and codings (``civicwatch.store.bulk``), on SQLite and PostgreSQL.

All people and organisations in these texts are fictional.
"""

from __future__ import annotations

import hashlib

import pytest

from civicwatch.errors import UsageError
from civicwatch.model import Document, Incident
from civicwatch.store import Store, bulk

CODER = "rules-test-1"


def report(n: int) -> Document:
    """A short fictional report, its hash taken from its text as collect does."""
    text = (f"Report {n}. On 4 March 2026 police in Korvana detained journalist Tamsin Orlova-{n} after a rally. "
            f"The Lantern Commons Foundation said the detention of Tamsin Orlova-{n} was unlawful.")
    return Document(text=text, content_hash=hashlib.sha256(text.encode()).hexdigest(), title=f"Report {n}",
                    url=f"https://monitor.example.org/reports/{n}", lang="en")


def detention(document: Document, confidence: float = 0.9) -> Incident:
    evidence = document.text.split(". ")[1]
    start = document.text.index(evidence)
    return Incident(country="KZ", types=["detention"], rights=["expression"], targets=["journalist"],
                    persons=[evidence.split("journalist ")[1].split(" after")[0]], perpetrators=["police"],
                    date="2026-03-04", evidence=evidence, evidence_start=start, evidence_end=start + len(evidence),
                    confidence=confidence)


def test_loads_documents_and_what_was_found_in_them(store: Store) -> None:
    docs = [report(n) for n in range(7)]
    codings = [(doc.content_hash, [detention(doc)]) for doc in docs[:5]] + [(docs[5].content_hash, [])]

    summary = bulk.load(store, docs, codings, coder_version=CODER, batch=3)

    assert summary == bulk.LoadSummary(documents_added=7, documents_coded=6, incidents_added=5)
    assert store.counts()["documents"] == 7
    stored = store.incidents(limit=100)
    assert [i.persons for i in stored] == [[f"Tamsin Orlova-{n}"] for n in range(5)]
    assert {i.coder_version for i in stored} == {CODER} and {i.coded_by for i in stored} == {"machine"}
    first = store.document(stored[0].document_id or 0)
    assert first is not None and first.text[stored[0].evidence_start:stored[0].evidence_end] == stored[0].evidence
    # The empty coding counts: only the seventh document is still to code.
    assert [d.title for d in store.documents_to_code(CODER)] == ["Report 6"]
    assert store.integrity_problems() == []


def test_loaded_documents_are_found_by_search(store: Store) -> None:
    bulk.load(store, [report(1), report(2)])

    assert [doc.title for doc, _ in store.search("Orlova-2")] == ["Report 2"]


def test_loading_the_same_results_again_changes_nothing(store: Store) -> None:
    docs = [report(n) for n in range(4)]
    codings = [(doc.content_hash, [detention(doc)]) for doc in docs]
    bulk.load(store, docs, codings, coder_version=CODER, batch=2)
    before = store.incidents(limit=100)

    again = bulk.load(store, docs, codings, coder_version=CODER, batch=2)

    assert again == bulk.LoadSummary(documents_present=4, documents_unchanged=4)
    assert store.incidents(limit=100) == before  # the same rows, ids included
    assert store.counts()["documents"] == 4


def test_a_new_coder_version_replaces_machine_incidents(store: Store) -> None:
    doc = report(1)
    bulk.load(store, [doc], [(doc.content_hash, [detention(doc, 0.6)])], coder_version=CODER)

    summary = bulk.load(store, [], [(doc.content_hash, [detention(doc, 0.8)])], coder_version="rules-test-2")

    assert summary.incidents_added == 1
    assert [(i.confidence, i.coder_version) for i in store.incidents()] == [(0.8, "rules-test-2")]


def test_codings_name_stored_documents_by_id_too(store: Store) -> None:
    bulk.load(store, [report(1)])
    (stored,) = store.documents(limit=10)

    summary = bulk.load(store, codings=[(stored.id or 0, [detention(stored)])], coder_version=CODER)

    assert summary.incidents_added == 1
    assert store.incidents()[0].document_id == stored.id


def test_a_persons_incident_is_never_replaced_or_doubled(store: Store) -> None:
    doc = report(1)
    bulk.load(store, [doc])
    (stored,) = store.documents(limit=10)
    mine = store.add_person_incident(stored.id or 0, detention(doc, 1.0))

    summary = bulk.load(store, codings=[(doc.content_hash, [detention(doc)])], coder_version=CODER)

    assert summary.incidents_kept_for_people == 1 and summary.incidents_added == 0
    assert [(i.id, i.coded_by) for i in store.incidents()] == [(mine, "person")]


def test_rows_of_one_document_that_are_not_adjacent_all_arrive(store: Store) -> None:
    one, two = report(1), report(2)
    rows = [(one.content_hash, detention(one, 0.5)), (two.content_hash, detention(two)),
            (one.content_hash, detention(one, 0.7))]

    summary = bulk.load(store, [one, two], bulk.per_document(rows), coder_version=CODER, batch=1)

    assert summary.incidents_added == 3 and summary.documents_coded == 2
    assert sorted(i.confidence for i in store.incidents() if i.persons == ["Tamsin Orlova-1"]) == [0.5, 0.7]
    assert store.documents_to_code(CODER) is not None and list(store.documents_to_code(CODER)) == []


def test_a_coding_for_an_unknown_document_is_skipped_and_counted(store: Store) -> None:
    doc = report(1)
    bulk.load(store, [doc])

    summary = bulk.load(store, codings=[("no-such-hash", [detention(doc)]), (987654, []),
                                        (doc.content_hash, [detention(doc)])], coder_version=CODER)

    assert summary.missing_documents == 2 and summary.incidents_added == 1


def test_duplicates_within_one_load_are_stored_once(store: Store) -> None:
    summary = bulk.load(store, [report(1), report(1), report(2)], batch=2)

    assert (summary.documents_added, summary.documents_present) == (2, 1)
    assert store.counts()["documents"] == 2


def test_codings_need_a_coder_version_and_batches_a_size(store: Store) -> None:
    doc = report(1)
    with pytest.raises(UsageError, match="coder_version"):
        bulk.load(store, [doc], [(doc.content_hash, [])])
    with pytest.raises(UsageError, match="batch=0"):
        bulk.load(store, [doc], batch=0)
