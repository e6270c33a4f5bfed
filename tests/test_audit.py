"""The audit log: a person's change and its record commit together, and the record cannot be rewritten.

SQLite and PostgreSQL. All people and organisations in these texts are fictional.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update

from civicwatch.errors import StoreError, UsageError
from civicwatch.model import Document, Incident
from civicwatch.store import Store, audit
from civicwatch.store.schema import audit_log

TEXT = "On 4 March 2026 police in Almaty detained journalist Aigerim Sadykova (fictional)."
EVIDENCE = "detained journalist Aigerim Sadykova"


def coded(store: Store) -> Incident:
    """One machine-coded incident in a stored document, as ``civicwatch process`` leaves it."""
    document_id = store.add_document(Document(text=TEXT, content_hash="a1"), signature=None, bands=[])
    start = TEXT.index(EVIDENCE)
    found = Incident("KZ", ["detention"], targets=["journalist"], evidence=EVIDENCE, confidence=0.41,
                     evidence_start=start, evidence_end=start + len(EVIDENCE), date="2026-03-04")
    store.save_coding(document_id, [found], "1.test")
    [incident] = store.incidents(document_id=document_id)
    return incident


def test_an_edit_is_recorded_with_who_before_after_and_why(store: Store) -> None:
    incident = coded(store)
    assert incident.id is not None

    store.edit_incident(incident.id, actor="amina", reason="the text says Kyrgyzstan", country="KG")

    [entry] = audit.history(store, "incident", incident.id)
    assert (entry.actor, entry.action, entry.reason) == ("amina", "edit", "the text says Kyrgyzstan")
    assert entry.before is not None and entry.after is not None
    assert (entry.before["country"], entry.after["country"]) == ("KZ", "KG")
    assert (entry.before["coded_by"], entry.after["coded_by"]) == ("machine", "person")
    assert entry.changed() == ["coded_by", "country", "review"]


def test_history_is_per_item_and_oldest_first(store: Store) -> None:
    incident = coded(store)
    assert incident.id is not None
    store.edit_incident(incident.id, actor="amina")  # confirming, no changes
    store.edit_incident(incident.id, actor="bekzod", reason="month only", date="2026-03")
    added = store.add_person_incident(incident.document_id or 0, Incident("KZ", ["protest"]), actor="amina")

    assert [(e.actor, e.action) for e in audit.history(store, "incident", incident.id)] == [
        ("amina", "accept"),
        ("bekzod", "edit"),
    ]
    [creation] = audit.history(store, "incident", added)
    assert (creation.action, creation.before) == ("add", None)
    assert audit.history(store, "incident", 999_999) == []


def test_a_refused_edit_leaves_no_record(store: Store) -> None:
    incident = coded(store)
    assert incident.id is not None

    with pytest.raises(UsageError):
        store.edit_incident(incident.id, actor="amina", country="not a country")

    assert audit.history(store, "incident", incident.id) == []


def test_a_record_without_an_actor_is_refused_and_rolls_the_change_back(store: Store) -> None:
    incident = coded(store)
    assert incident.id is not None

    with pytest.raises(UsageError, match="actor"):
        store.edit_incident(incident.id, actor=" ", country="KG")

    assert [i.country for i in store.incidents(document_id=incident.document_id or 0)] == ["KZ"]


def test_the_database_refuses_to_update_or_delete_audit_rows(store: Store) -> None:
    incident = coded(store)
    assert incident.id is not None
    store.edit_incident(incident.id, actor="amina", country="KG")

    for statement in (update(audit_log).values(actor="someone else"), delete(audit_log)):
        with pytest.raises(StoreError), store._write() as connection:
            connection.execute(statement)

    assert [e.actor for e in audit.history(store, "incident", incident.id)] == ["amina"]
