"""Coded incidents in the store, as ``civicwatch process`` and researchers use them: SQLite and PostgreSQL.

All people and organisations in these texts are fictional.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from civicwatch.errors import StoreError, UsageError
from civicwatch.model import Document, Incident
from civicwatch.store import Store, migrate

TEXT = (
    "On 4 March 2026 police in Almaty detained journalist Aigerim Sadykova (fictional). "
    "Two days later a court fined the Steppe Voices Foundation for an unregistered meeting."
)
DETAINED = "detained journalist Aigerim Sadykova"
FINED = "a court fined the Steppe Voices Foundation"


def add(store: Store, text: str = TEXT, content_hash: str = "h1", **fields: Any) -> int:
    doc = Document(text=text, content_hash=content_hash, **fields)
    return store.add_document(doc, signature=None, bands=[])


def found(evidence: str, text: str = TEXT, **fields: Any) -> Incident:
    """An incident as the coder hands it over: codebook fields and where its evidence is in ``text``."""
    start = text.index(evidence)
    values: dict[str, Any] = {"country": "KZ", "types": ["detention"], "confidence": 0.9} | fields
    return Incident(evidence=evidence, evidence_start=start, evidence_end=start + len(evidence), **values)


def detention() -> Incident:
    return found(DETAINED, rights=["expression"], targets=["journalist"], persons=["Aigerim Sadykova"],
                 perpetrators=["police"], date="2026-03-04")


def fine() -> Incident:
    return found(FINED, types=["cso_restriction"], rights=["association"], targets=["cso"],
                 organisations=["Steppe Voices Foundation"], perpetrators=["judiciary"], date="2026-03-06",
                 confidence=0.734)


def table_names(store: Store) -> set[str]:
    with store._engine.connect() as connection:
        return set(inspect(connection).get_table_names())


# -- schema -------------------------------------------------------------------------------------------


def test_migration_0002_adds_the_incident_tables_and_comes_off_again(store: Store) -> None:
    document_id = add(store)
    store.save_coding(document_id, [detention()], "1.test")
    assert {"incidents", "codings"} <= table_names(store)

    with store._engine.begin() as connection:
        migrate.downgrade(connection, "0001")

    assert store.current_revision() == "0001"
    assert not {"incidents", "codings"} & table_names(store)
    assert store.document(document_id) is not None  # the documents stay

    store.upgrade()
    assert store.current_revision() == store.head_revision()
    assert store.incidents() == []  # nothing came back from before
    assert [d.id for d in store.documents_to_code("1.test")] == [document_id]


# -- saving and reading a coding ------------------------------------------------------------------------


def test_a_coding_round_trips_with_offsets_version_and_confidence(store: Store) -> None:
    document_id = add(store)

    stored = store.save_coding(document_id, [detention(), fine()], "1.abc")

    assert stored == 2
    first, second = store.incidents(document_id=document_id)
    assert first.to_json() == detention().to_json()
    assert second.to_json() == fine().to_json() | {"confidence": 0.73}
    assert second.confidence == pytest.approx(0.734)  # kept as given; only to_json rounds
    for incident in (first, second):
        assert TEXT[incident.evidence_start:incident.evidence_end] == incident.evidence
        provenance = (incident.document_id, incident.coder_version, incident.coded_by)
        assert provenance == (document_id, "1.abc", "machine")
    assert store.incident(first.id or 0) == first
    assert store.incident(9999) is None
    assert store.counts()["incidents"] == 2


def test_cyrillic_names_and_empty_lists_come_back_as_they_went_in(store: Store) -> None:
    text = "В Алматы 5 марта 2026 года полиция задержала активиста Ерлана Касымова."
    document_id = add(store, text, "h-ru")
    incident = found("задержала активиста Ерлана Касымова", text, persons=["Ерлана Касымова"], date=None)

    store.save_coding(document_id, [incident], "1.abc")

    (back,) = store.incidents(document_id=document_id)
    assert back.persons == ["Ерлана Касымова"]
    assert back.organisations == [] and back.rights == [] and back.date is None


def test_re_coding_replaces_machine_incidents_and_keeps_a_persons(store: Store) -> None:
    document_id = add(store)
    store.save_coding(document_id, [detention()], "1.old")
    person_id = store.add_person_incident(document_id, fine())

    store.save_coding(document_id, [found(DETAINED, types=["detention", "harassment"])], "2.new")

    by_coder = {i.coded_by: i for i in store.incidents(document_id=document_id)}
    assert by_coder["machine"].types == ["detention", "harassment"]
    assert by_coder["machine"].coder_version == "2.new"
    assert by_coder["person"].id == person_id
    assert by_coder["person"].to_json() == fine().to_json() | {"confidence": 0.73}


def test_an_edited_incident_is_the_persons_and_survives_re_coding(store: Store) -> None:
    document_id = add(store)
    store.save_coding(document_id, [detention(), fine()], "1.old")
    machine_detention = store.incidents(document_id=document_id)[0]
    assert machine_detention.id is not None

    edited = store.edit_incident(machine_detention.id, country="KG", targets=["journalist", "blogger"])
    store.save_coding(document_id, [detention(), fine()], "2.new")

    assert edited.coded_by == "person" and edited.country == "KG"
    incidents = store.incidents(document_id=document_id)
    assert store.incident(machine_detention.id) == edited
    # The coder finding the same detention again does not bring back its uncorrected copy.
    assert [(i.coded_by, i.country, i.types) for i in incidents] == [
        ("person", "KG", ["detention"]),
        ("machine", "KZ", ["cso_restriction"]),
    ]


def test_an_edit_with_no_changes_confirms_the_incident(store: Store) -> None:
    document_id = add(store)
    store.save_coding(document_id, [detention()], "1.old")
    (incident,) = store.incidents()
    assert incident.id is not None

    confirmed = store.edit_incident(incident.id)
    store.save_coding(document_id, [], "2.new")

    assert store.incidents() == [confirmed]
    assert confirmed.coded_by == "person" and confirmed.coder_version == "1.old"


def test_a_document_the_coder_found_nothing_in_is_coded_too(store: Store) -> None:
    quiet = add(store, "The spring fair in the fictional town of Ostrava Nova drew large crowds.", "h-quiet")

    assert store.save_coding(quiet, [], "1.abc") == 0

    assert store.incidents() == []
    assert list(store.documents_to_code("1.abc")) == []


def test_a_failed_save_leaves_the_previous_coding_whole(store: Store) -> None:
    document_id = add(store)
    store.save_coding(document_id, [detention()], "1.old")
    broken = found(FINED, country=None)  # NOT NULL: the database refuses it half-way through the save

    with pytest.raises(StoreError):
        store.save_coding(document_id, [fine(), broken], "2.new")

    assert [(i.types, i.coder_version) for i in store.incidents()] == [(["detention"], "1.old")]
    assert list(store.documents_to_code("1.old")) == []


def test_saving_a_coding_for_a_missing_document_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError, match="no document 404"):
        store.save_coding(404, [detention()], "1.abc")


# -- what is due for coding ---------------------------------------------------------------------------


def test_documents_to_code_are_the_uncoded_non_digests_by_id(store: Store) -> None:
    digest = add(store, "Weekly digest of fictional reports.", "h-digest", is_digest=True)
    ids = [add(store, f"Report {n} about the fictional Lakeshore Civic Forum.", f"h{n}", parent_id=digest)
           for n in range(5)]
    store.save_coding(ids[1], [], "1.abc")

    due = list(store.documents_to_code("1.abc", batch=2))  # three batches

    assert [d.id for d in due] == [ids[0], *ids[2:]]
    assert store.count_documents_to_code("1.abc") == 4
    assert all(not d.is_digest and d.raw is None for d in due)
    assert due[0].text == "Report 0 about the fictional Lakeshore Civic Forum."


def test_a_new_coder_version_makes_every_document_due_again(store: Store) -> None:
    ids = [add(store, f"Report {n} about the fictional Riverside Teachers Union.", f"h{n}") for n in range(3)]
    for document_id in ids:
        store.save_coding(document_id, [], "1.old")
    assert store.count_documents_to_code("1.old") == 0

    assert [d.id for d in store.documents_to_code("2.new")] == ids
    store.save_coding(ids[0], [], "2.new")
    assert store.count_documents_to_code("2.new") == 2
    assert store.count_documents_to_code("1.old") == 1  # coding with 2.new replaced 1.old's record


def test_coding_while_iterating_neither_skips_nor_repeats(store: Store) -> None:
    ids = [add(store, f"Report {n} about the fictional Northgate Press Club.", f"h{n}") for n in range(7)]

    seen = []
    for doc in store.documents_to_code("1.abc", batch=3):
        assert doc.id is not None
        seen.append(doc.id)
        store.save_coding(doc.id, [], "1.abc")

    assert seen == ids
    assert store.count_documents_to_code("1.abc") == 0


# -- listing ------------------------------------------------------------------------------------------


def test_incidents_page_by_id_and_filter_by_document_and_country(store: Store) -> None:
    first = add(store)
    second = add(store, TEXT + " More to follow.", "h2")
    store.save_coding(first, [detention(), fine()], "1.abc")
    store.save_coding(second, [found(DETAINED, country="KG")], "1.abc")

    everything = store.incidents()
    page_one = store.incidents(limit=2)
    page_two = store.incidents(limit=2, after_id=page_one[-1].id or 0)

    assert [i.id for i in page_one + page_two] == [i.id for i in everything]
    assert len(everything) == 3
    assert [i.document_id for i in store.incidents(document_id=second)] == [second]
    assert [i.types for i in store.incidents(country="KZ")] == [["detention"], ["cso_restriction"]]


# -- a person's edits and additions ---------------------------------------------------------------------


def test_only_codebook_fields_and_offsets_can_be_edited(store: Store) -> None:
    document_id = add(store)
    store.save_coding(document_id, [detention()], "1.abc")
    (incident,) = store.incidents()
    assert incident.id is not None

    for field in ("coded_by", "document_id", "coder_version", "id", "colour"):
        with pytest.raises(UsageError) as refused:
            store.edit_incident(incident.id, **{field: "x"})
        assert refused.value.input == field

    assert store.incidents() == [incident]  # nothing changed


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"country": "Kazakhstan"}, "country"),
        ({"types": "detention"}, "types"),
        ({"types": []}, "types"),
        ({"persons": ["Aigerim Sadykova", 7]}, "persons"),
        ({"date": "4 March 2026"}, "date"),
        ({"confidence": 1.5}, "confidence"),
        ({"evidence_start": 50, "evidence_end": 10}, "evidence_start"),
        ({"evidence_end": len(TEXT) + 1}, "evidence_end"),
    ],
)
def test_a_badly_shaped_edit_is_refused_naming_the_field(
    store: Store, changes: dict[str, object], field: str
) -> None:
    document_id = add(store)
    store.save_coding(document_id, [detention()], "1.abc")
    (incident,) = store.incidents()
    assert incident.id is not None

    with pytest.raises(UsageError) as refused:
        store.edit_incident(incident.id, **changes)

    assert refused.value.input == field
    assert store.incidents() == [incident]


def test_editing_offsets_and_date_precision(store: Store) -> None:
    document_id = add(store)
    store.save_coding(document_id, [detention()], "1.abc")
    (incident,) = store.incidents()
    assert incident.id is not None
    start = TEXT.index("police in Almaty")

    edited = store.edit_incident(
        incident.id, evidence_start=start, evidence=TEXT[start : incident.evidence_end], date="2026-03"
    )

    again = store.incident(incident.id)
    assert again == edited
    assert again is not None and again.evidence == "police in Almaty detained journalist Aigerim Sadykova"
    assert (again.evidence_start, again.evidence_end, again.date) == (start, incident.evidence_end, "2026-03")


def test_editing_a_missing_incident_is_a_usage_error(store: Store) -> None:
    with pytest.raises(UsageError) as missing:
        store.edit_incident(12345, country="KG")

    assert missing.value.input == "incident 12345"


def test_a_person_adds_an_incident_the_coder_missed(store: Store) -> None:
    document_id = add(store)
    store.save_coding(document_id, [detention()], "1.abc")

    new_id = store.add_person_incident(document_id, fine())

    added = store.incident(new_id)
    assert added is not None
    assert (added.coded_by, added.coder_version, added.document_id) == ("person", None, document_id)
    assert store.counts()["incidents"] == 2
    with pytest.raises(UsageError, match="no document with this id"):
        store.add_person_incident(4040, fine())
    with pytest.raises(UsageError) as bad:
        store.add_person_incident(document_id, found(DETAINED, country="kz"))
    assert bad.value.input == "country"


def test_a_machine_incident_elsewhere_in_the_text_is_kept_beside_a_persons(store: Store) -> None:
    document_id = add(store)
    store.add_person_incident(document_id, detention())

    store.save_coding(document_id, [detention(), fine()], "1.abc")

    assert [(i.coded_by, i.types) for i in store.incidents()] == [
        ("person", ["detention"]),
        ("machine", ["cso_restriction"]),
    ]


# -- integrity checks -----------------------------------------------------------------------------------


def test_a_coded_database_has_no_integrity_problems(store: Store) -> None:
    document_id = add(store)
    store.save_coding(document_id, [detention(), fine()], "1.abc")
    store.add_person_incident(document_id, found(FINED, types=["prosecution"]))

    assert store.integrity_problems() == []


def test_integrity_problems_name_incidents_and_codings_pointing_nowhere(store: Store, tmp_path: Path) -> None:
    document_id = add(store)
    store.save_coding(document_id, [detention()], "1.abc")
    (incident,) = store.incidents()
    _run_bypassing_foreign_keys(store, tmp_path, [
        "INSERT INTO incidents (document_id, country, types, rights, targets, persons, organisations, "
        "perpetrators, evidence, evidence_start, evidence_end, confidence, coded_by, created_at, updated_at) "
        "VALUES (777, 'KZ', '[]', '[]', '[]', '[]', '[]', '[]', '', 0, 0, 0.5, 'machine', "
        "'2026-03-04 12:00:00', '2026-03-04 12:00:00')",
        "INSERT INTO codings (document_id, coder_version, coded_at, incident_count) "
        "VALUES (778, '1.abc', '2026-03-04 12:00:00', 0)",
        f"UPDATE incidents SET evidence_end = {len(TEXT) + 5} WHERE id = {incident.id}",
    ])

    problems = store.integrity_problems()

    assert any("incidents point to missing documents" in p for p in problems), problems
    assert any("codings point to missing documents (document ids 778)" in p for p in problems), problems
    assert any("evidence offsets outside their document's text" in p and str(incident.id) in p
               for p in problems), problems


def _run_bypassing_foreign_keys(store: Store, tmp_path: Path, statements: list[str]) -> None:
    if store.dialect == "sqlite":
        with sqlite3.connect(tmp_path / "civicwatch.db") as connection:  # foreign keys are off by default
            for statement in statements:
                connection.execute(statement)
        return
    import psycopg

    url = store._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("SET session_replication_role = replica")  # skips foreign-key triggers
        for statement in statements:
            connection.execute(statement)
