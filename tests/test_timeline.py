"""A country's incidents counted per month, by type and by right, as its page's chart shows them.

Runs on SQLite and PostgreSQL. All people and organisations in these texts are fictional.
"""

from __future__ import annotations

from typing import Any

import pytest

from civicwatch.errors import UsageError
from civicwatch.model import Document, Incident
from civicwatch.store import Store
from civicwatch.store.timeline import monthly_counts

TEXT = "Police in the fictional town of Ridgeford detained reporter Lena Marsh of the Ridgeford Ledger."
EVIDENCE = "detained reporter Lena Marsh"


def incident(date: str | None, types: list[str], rights: list[str], country: str = "KZ") -> Incident:
    start = TEXT.index(EVIDENCE)
    return Incident(country=country, types=types, rights=rights, date=date, evidence=EVIDENCE,
                    evidence_start=start, evidence_end=start + len(EVIDENCE), confidence=0.8)


def code(store: Store, *found: Incident) -> None:
    """Store one document per call, coded by the machine with ``found``."""
    number = store.counts()["documents"]
    document = Document(text=TEXT, content_hash=f"doc-{number}")
    document_id = store.add_document(document, signature=None, bands=[])
    store.save_coding(document_id, list(found), "1.test")


@pytest.fixture
def kazakhstan(store: Store) -> Store:
    """Incidents in March and May 2026 (none in April), at day and month precision, plus noise."""
    code(store,
         incident("2026-03-04", ["detention"], ["expression"]),
         incident("2026-03-06", ["detention", "prosecution"], ["expression", "association"]),
         incident("2026-03", ["detention"], ["assembly"]))
    code(store,
         incident("2026-05-20", ["cso_restriction"], ["association"]),
         incident("2026-05-21", ["censorship"], []))
    # Left out: dated only to a year, undated, another country.
    code(store,
         incident("2026", ["detention"], ["expression"]),
         incident(None, ["detention"], ["expression"]),
         incident("2026-03-04", ["detention"], ["expression"], country="UZ"))
    return store


def test_counts_by_type_per_month_count_an_incident_once_for_each_of_its_types(kazakhstan: Store) -> None:
    assert monthly_counts(kazakhstan, country="KZ", by="type") == {
        "2026-03": {"detention": 3, "prosecution": 1},
        "2026-05": {"censorship": 1, "cso_restriction": 1},
    }


def test_counts_by_right_leave_out_incidents_naming_no_right(kazakhstan: Store) -> None:
    assert monthly_counts(kazakhstan, country="KZ", by="right") == {
        "2026-03": {"assembly": 1, "association": 1, "expression": 2},
        "2026-05": {"association": 1},
    }


def test_months_and_categories_come_in_order(kazakhstan: Store) -> None:
    code(kazakhstan, incident("2025-12-31", ["harassment"], []), incident("2025-12-01", ["attack"], []))

    counts = monthly_counts(kazakhstan, country="kz", by="type")  # codes in any case

    assert list(counts) == ["2025-12", "2026-03", "2026-05"]
    assert list(counts["2025-12"]) == ["attack", "harassment"]


def test_since_keeps_the_months_from_the_one_it_falls_in(kazakhstan: Store) -> None:
    assert list(monthly_counts(kazakhstan, country="KZ", by="type", since="2026-05")) == ["2026-05"]
    assert list(monthly_counts(kazakhstan, country="KZ", by="type", since="2026-03-31")) == [
        "2026-03", "2026-05"
    ]
    assert list(monthly_counts(kazakhstan, country="KZ", by="type", since="2026")) == ["2026-03", "2026-05"]
    assert monthly_counts(kazakhstan, country="KZ", by="type", since="2027") == {}


def test_a_persons_correction_of_the_date_moves_the_incident(kazakhstan: Store) -> None:
    march = [i for i in kazakhstan.incidents() if i.date == "2026-03" and i.country == "KZ"]
    assert march and march[0].id is not None
    kazakhstan.edit_incident(march[0].id, date="2026-04")  # a researcher corrects the month

    counts = monthly_counts(kazakhstan, country="KZ", by="type")

    assert counts["2026-03"] == {"detention": 2, "prosecution": 1}
    assert counts["2026-04"] == {"detention": 1}


def test_a_country_without_dated_incidents_has_no_months(kazakhstan: Store) -> None:
    assert monthly_counts(kazakhstan, country="KG", by="type") == {}


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"country": "Kazakhstan", "by": "type"}, "country=Kazakhstan"),
        ({"country": "KZ", "by": "target"}, "by=target"),
        ({"country": "KZ", "by": "type", "since": "March 2026"}, "since=March 2026"),
        ({"country": "KZ", "by": "type", "since": "2026-13"}, "since=2026-13"),
    ],
)
def test_bad_arguments_are_refused_naming_them(store: Store, arguments: dict[str, Any], named: str) -> None:
    with pytest.raises(UsageError) as refused:
        monthly_counts(store, **arguments)
    assert refused.value.input == named


def test_reports_of_one_event_count_once(store: Store) -> None:
    from civicwatch.store.events import connect

    for _ in range(3):  # three documents report Lena Marsh's detention of 4 March
        code(store, Incident(country="KZ", types=["detention"], rights=["expression"], date="2026-03-04",
                             persons=["Lena Marsh"], evidence=EVIDENCE, evidence_start=TEXT.index(EVIDENCE),
                             evidence_end=TEXT.index(EVIDENCE) + len(EVIDENCE), confidence=0.8))
    assert monthly_counts(store, country="KZ", by="type") == {"2026-03": {"detention": 3}}

    connect(store)

    assert monthly_counts(store, country="KZ", by="type") == {"2026-03": {"detention": 1}}
    assert monthly_counts(store, country="KZ", by="right") == {"2026-03": {"expression": 1}}
