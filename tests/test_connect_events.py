"""Events across sources: the same detention from three documents becomes one event (SQLite and PostgreSQL).

All people and organisations here are fictional.
"""

from __future__ import annotations

from typing import Any

import pytest

from civicwatch.connect.events import Candidate, block_keys, compare, date_span, dates_close, merge
from civicwatch.errors import UsageError
from civicwatch.model import Document, Incident
from civicwatch.store import Store, audit
from civicwatch.store import events as stored

NEWS = "On 4 March 2026 police in Tashkent detained blogger Dilnoza Eshonkulova at her home."
NGO = "Правозащитники сообщили, что 5 марта 2026 года в Ташкенте задержана блогер Дилноза Эшонкулова."
LETTER = "We call for the release of Dilnoza Eshankulova, detained in Tashkent in March 2026."
OTHER = "On 20 June 2026 police in Samarkand detained activist Rustam Qodirov."


def coded(store: Store, text: str, key: str, **fields: Any) -> int:
    """Store ``text`` as a document and one incident found in it; return the document id."""
    document_id = store.add_document(Document(text=text, content_hash=key), signature=None, bands=[])
    values: dict[str, Any] = {"country": "UZ", "types": ["detention"], "evidence": text,
                              "evidence_start": 0, "evidence_end": len(text)} | fields
    store.save_coding(document_id, [Incident(**values)], "test")
    return document_id


def three_reports(store: Store) -> None:
    coded(store, NEWS, "news", persons=["Dilnoza Eshonkulova"], date="2026-03-04")
    coded(store, NGO, "ngo", persons=["Дилноза Эшонкулова"], date="2026-03-05")
    coded(store, LETTER, "letter", persons=["Dilnoza Eshankulova"], date="2026-03")
    coded(store, OTHER, "other", persons=["Rustam Qodirov"], date="2026-06-20")


def test_a_month_is_a_span_and_windows_respect_it() -> None:
    assert date_span("2026-03") == (date_span("2026-03-01")[0], date_span("2026-03-31")[0])  # type: ignore[index]
    assert dates_close(date_span("2026-03"), date_span("2026-04-05"))
    assert not dates_close(date_span("2026-03-01"), date_span("2026-03-20"))
    assert block_keys(Incident(country="UZ", types=[], date="2026-01-02")) == (
        ("UZ", "2026-01"), ("UZ", "2025-12"), ("UZ", "2026-02"), ("UZ", ""), ("UZ", "2026"))


def test_a_merge_says_which_signals_matched() -> None:
    a = Incident(country="UZ", types=["detention"], persons=["Dilnoza Eshonkulova"], date="2026-03-04",
                 evidence=NEWS, document_id=1)
    b = Incident(country="UZ", types=["imprisonment"], persons=["Дилноза Эшонкулова"], date="2026-03-05",
                 evidence=NGO, document_id=2)
    match = compare(Candidate.of(a), Candidate.of(b))

    assert match is not None
    assert match.signals[:4] == ("country", "types", "date", "names")
    assert compare(Candidate.of(a), Candidate.of(Incident(**{**a.__dict__, "document_id": 1}))) is None
    assert compare(Candidate.of(a), Candidate.of(Incident(**{**b.__dict__, "types": ["release"]}))) is None


def test_merging_is_single_link_within_blocks() -> None:
    reports = [
        Incident(id=1, document_id=1, country="UZ", types=["detention"], persons=["Dilnoza Eshonkulova"],
                 date="2026-03-04", evidence=NEWS),
        Incident(id=2, document_id=2, country="UZ", types=["detention"], persons=["Rustam Qodirov"],
                 date="2026-06-20", evidence=OTHER),
        Incident(id=3, document_id=3, country="UZ", types=["detention"], persons=["Эшонкулова"],
                 date="2026-03", evidence=LETTER),
    ]
    groups = merge(reports)

    assert sorted([m.incident.id for m in g.members] for g in groups) == [[1, 3], [2]]


def test_connect_makes_one_event_of_three_reports_and_is_incremental(store: Store) -> None:
    three_reports(store)

    report = stored.connect(store)

    assert (report.incidents, report.new_events, report.joined) == (4, 2, 2)
    pages = stored.event_page(store)
    assert sorted(n for _, _, _, n in pages) == [1, 3]
    big = next(e for e, _, _, n in pages if n == 3)
    view = stored.event(store, big)
    assert view is not None and len(view.sources) == 3
    assert all("names" in join["signals"] for join in view.signals)
    assert stored.connect(store).incidents == 0  # nothing new
    coded(store, "Tashkent court: blogger Dilnoza Eshonkulova detained on 6 March 2026.", "later",
          persons=["D. Eshonkulova"], date="2026-03-06")
    again = stored.connect(store)
    assert (again.incidents, again.new_events, again.joined) == (1, 0, 1)
    assert len(stored.event(store, big).incidents) == 4  # type: ignore[union-attr]


def test_a_researcher_splits_and_merges_by_hand_and_it_is_audited(store: Store) -> None:
    three_reports(store)
    stored.connect(store)
    big = next(e for e, _, _, n in stored.event_page(store) if n == 3)
    letter = stored.event(store, big).incidents[2].id  # type: ignore[union-attr]
    assert letter is not None

    alone = stored.split_incident(store, letter, actor="amina", reason="a different detention")

    assert len(stored.event(store, big).incidents) == 2  # type: ignore[union-attr]
    assert stored.connect(store).incidents == 0
    assert [e.action for e in audit.history(store, "event", big)] == ["split"]
    with pytest.raises(UsageError):
        stored.split_incident(store, letter, actor="amina")
    stored.merge_events(store, [big, alone], actor="amina", reason="same detention after all")
    assert stored.event(store, alone) is None
    assert len(stored.event(store, big).incidents) == 3  # type: ignore[union-attr]
    assert [e.action for e in audit.history(store, "event", big)] == ["split", "merge"]
    with pytest.raises(UsageError, match="no such event"):
        stored.merge_events(store, [big, 999_999], actor="amina")


def test_counts_count_events_not_reports(store: Store) -> None:
    from civicwatch.store import browse

    three_reports(store)
    assert browse.counts_by_country(store) == {"UZ": 4}  # not connected yet: each report its own event

    stored.connect(store)

    assert browse.counts_by_country(store) == {"UZ": 2}
    assert browse.counts_by_type(store, ["detention"], country="UZ") == {"detention": 2}


def test_the_connect_command_reports_what_it_did(database_url: str) -> None:
    import json

    from typer.testing import CliRunner

    from civicwatch.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["init", "--database", database_url]).exit_code == 0
    store = Store(database_url)
    three_reports(store)

    first = runner.invoke(app, ["connect", "--database", database_url, "--json"])
    again = runner.invoke(app, ["connect", "--database", database_url, "--json"])

    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {"incidents": 4, "new_events": 2, "joined": 2}
    assert json.loads(again.stdout)["incidents"] == 0
    store.close()
