"""The store, used as the collector, the CLI and the web app use it: on SQLite and on PostgreSQL.

All people and organisations in these texts are fictional.
"""

from __future__ import annotations

import sqlite3
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from civicwatch.errors import SourceExistsError, StoreError
from civicwatch.model import Document, Sighting, Source, SourceKind
from civicwatch.store import HIGHLIGHT_END, HIGHLIGHT_START, Store

NOW = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)

RAID = (
    "Police raided the office of the Lakeshore Civic Forum in Arvania on Monday and seized "
    "computers belonging to its director, Mira Tamsin."
)
BAN = "The interior ministry banned a peaceful assembly in Arvania planned by the Riverside Teachers Union."
PROTEST = "Students of the fictional Northgate University protested against new restrictions on journalists."


def feed(name: str = "Lakeshore Monitor", location: str = "https://lakeshore.example.org/feed") -> Source:
    return Source(name=name, location=location, kind=SourceKind.FEED)


def doc(text: str, content_hash: str, source_id: int | None, **fields: Any) -> Document:
    return Document(text=text, content_hash=content_hash, source_id=source_id, **fields)


# -- sources -------------------------------------------------------------------------------------


def test_add_source_returns_it_with_id_and_creation_time(store: Store) -> None:
    added = store.add_source(feed())

    assert added.id is not None
    assert added.created_at is not None and added.created_at.tzinfo is not None
    assert store.source("Lakeshore Monitor") == added
    assert store.source("No Such Monitor") is None


def test_duplicate_source_name_or_location_is_refused(store: Store) -> None:
    store.add_source(feed())

    with pytest.raises(SourceExistsError) as by_name:
        store.add_source(feed(location="https://elsewhere.example.org/feed"))
    with pytest.raises(SourceExistsError) as by_location:
        store.add_source(feed(name="Another Name"))

    assert by_name.value.input == "Lakeshore Monitor"
    assert by_location.value.input == "https://lakeshore.example.org/feed"
    assert "Lakeshore Monitor" in by_location.value.reason
    assert len(store.sources()) == 1


def test_sources_are_listed_by_name_with_their_item_counts(store: Store) -> None:
    lakeshore = store.add_source(feed())
    riverside = store.add_source(Source("Riverside Digest", "/srv/reports/riverside", SourceKind.FILES, 3600))
    assert lakeshore.id is not None and riverside.id is not None
    first = store.add_document(doc(RAID, "h-raid", lakeshore.id), signature=None, bands=[])
    store.add_document(doc(BAN, "h-ban", lakeshore.id), signature=None, bands=[])
    store.add_sighting(Sighting(first, riverside.id, "file:///srv/reports/riverside/1.txt", "exact"))

    listed = store.sources()

    assert [s.name for s in listed] == ["Lakeshore Monitor", "Riverside Digest"]
    assert [s.item_count for s in listed] == [2, 1]
    assert listed[1].kind is SourceKind.FILES and listed[1].every_seconds == 3600


def test_due_sources_are_the_never_read_and_the_overdue(store: Store) -> None:
    never = store.add_source(feed("Never Read", "https://a.example.org/feed"))
    overdue = store.add_source(feed("Overdue", "https://b.example.org/feed"))
    later = store.add_source(feed("Later", "https://c.example.org/feed"))
    assert overdue.id is not None and later.id is not None
    hour = timedelta(hours=1)
    store.record_run(overdue.id, at=NOW - 8 * hour, error=None, next_due_at=NOW - 2 * hour)
    store.record_run(later.id, at=NOW, error=None, next_due_at=NOW + timedelta(hours=6))

    due = store.due_sources(NOW)

    assert [s.name for s in due] == [never.name, overdue.name]
    # a due time exactly now counts as due
    assert "Later" in [s.name for s in store.due_sources(NOW + timedelta(hours=6))]


def test_record_run_counts_failures_and_a_success_resets_them(store: Store) -> None:
    source = store.add_source(feed())
    assert source.id is not None

    store.record_run(source.id, at=NOW, error="HTTP 503 from lakeshore.example.org", next_due_at=NOW)
    store.record_run(source.id, at=NOW + timedelta(hours=1), error="timed out", next_due_at=NOW)
    failing = store.source(source.name)
    assert failing is not None
    assert (failing.failures, failing.last_error, failing.last_ok_at) == (2, "timed out", None)
    assert failing.last_run_at == NOW + timedelta(hours=1)

    store.record_run(source.id, at=NOW + timedelta(hours=2), error=None, next_due_at=NOW + timedelta(hours=8))
    ok = store.source(source.name)
    assert ok is not None
    assert (ok.failures, ok.last_error) == (0, None)
    assert ok.last_ok_at == ok.last_run_at == NOW + timedelta(hours=2)
    assert ok.next_due_at == NOW + timedelta(hours=8)


def test_timestamps_come_back_in_utc_whatever_zone_they_were_given_in(store: Store) -> None:
    source = store.add_source(feed())
    assert source.id is not None
    in_tashkent = datetime(2024, 3, 4, 17, 0, tzinfo=timezone(timedelta(hours=5)))
    store.record_run(source.id, at=in_tashkent, error=None, next_due_at=in_tashkent)

    read = store.source(source.name)
    assert read is not None and read.last_run_at is not None
    assert read.last_run_at == in_tashkent
    assert read.last_run_at.utcoffset() == timedelta(0)


def test_remove_source_keeps_its_documents_but_drops_its_sightings(store: Store) -> None:
    lakeshore = store.add_source(feed())
    riverside = store.add_source(feed("Riverside", "https://riverside.example.org/feed"))
    assert lakeshore.id is not None and riverside.id is not None
    kept = store.add_document(doc(RAID, "h-raid", lakeshore.id), signature=None, bands=[])
    store.add_sighting(Sighting(kept, riverside.id, "https://riverside.example.org/1", "exact"))

    assert store.remove_source("Lakeshore Monitor") is True
    assert store.remove_source("Lakeshore Monitor") is False
    kept_doc = store.document(kept)
    assert kept_doc is not None and kept_doc.source_id is None

    assert store.remove_source("Riverside") is True
    assert store.counts() == {"sources": 0, "documents": 1, "digests": 0, "sightings": 0, "incidents": 0}
    assert store.integrity_problems() == []


# -- documents -----------------------------------------------------------------------------------


def test_a_document_round_trips_with_every_field(store: Store) -> None:
    source = store.add_source(feed())
    assert source.id is not None
    raw = zlib.compress(b"<html><body><p>" + RAID.encode() + b"</p></body></html>")
    digest = store.add_document(
        doc("Weekly digest\n\n" + RAID, "h-digest", source.id, is_digest=True), signature=None, bands=[]
    )
    original = doc(
        RAID,
        "h-raid",
        source.id,
        url="https://lakeshore.example.org/2024/03/raid",
        canonical_url="https://lakeshore.example.org/raid",
        title="Office of the Lakeshore Civic Forum raided",
        author="Jon Aldersey",
        published="2024-03-04",
        published_from="metadata",
        fetched_at=NOW,
        lang="en",
        lang_score=0.97,
        parent_id=digest,
        external_id="entry-1",
        raw=raw,
        raw_type="text/html",
    )

    new_id = store.add_document(original, signature=b"\x01\x02", bands=["0:abc"])
    stored = store.document(new_id)

    assert stored == Document(**{**original.__dict__, "id": new_id})
    assert stored is not None and zlib.decompress(stored.raw or b"").endswith(b"</p></body></html>")
    assert store.document(new_id + 1000) is None
    assert store.counts() == {"sources": 1, "documents": 2, "digests": 1, "sightings": 0, "incidents": 0}


def test_a_document_without_fetch_time_is_stamped_when_stored(store: Store) -> None:
    before = datetime.now(UTC)
    stored = store.document(store.add_document(doc(BAN, "h-ban", None), signature=None, bands=[]))

    assert stored is not None and stored.fetched_at is not None
    assert before - timedelta(seconds=1) <= stored.fetched_at <= datetime.now(UTC) + timedelta(seconds=1)


def test_the_same_text_twice_returns_the_first_id(store: Store) -> None:
    source = store.add_source(feed())
    assert source.id is not None
    first = store.add_document(doc(RAID, "h-raid", source.id), signature=b"sig", bands=["0:a", "1:b"])

    again = store.add_document(doc(RAID, "h-raid", source.id, url="https://x.example.org"), signature=b"x",
                               bands=["9:z"])

    assert again == first
    assert store.document_id_by_hash("h-raid") == first
    assert store.document_id_by_hash("h-unknown") is None
    assert store.counts()["documents"] == 1
    assert store.near_duplicate_candidates(["9:z"]) == []  # the second copy's bands were not stored


def test_writers_racing_on_the_same_text_all_get_the_one_id(store: Store) -> None:
    # Eight collectors store the same report at once, each with a text of its own in between.
    def collector(n: int) -> tuple[int, int]:
        own = store.add_document(doc(f"{PROTEST} Update {n}.", f"h-own-{n}", None), signature=b"s",
                                 bands=[f"0:{n}"])
        shared = store.add_document(doc(RAID, "h-raid", None), signature=b"s", bands=["0:raid"])
        return own, shared

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(collector, range(8)))

    assert len({shared for _, shared in results}) == 1
    assert len({own for own, _ in results}) == 8
    assert store.counts()["documents"] == 9
    assert store.integrity_problems() == []


def test_near_duplicate_candidates_share_a_band_most_shared_first(store: Store) -> None:
    one = store.add_document(doc(RAID, "h1", None), signature=b"sig-one", bands=["0:a", "1:b", "2:c"])
    two = store.add_document(doc(BAN, "h2", None), signature=b"sig-two", bands=["0:a", "1:x", "2:y"])
    store.add_document(doc(PROTEST, "h3", None), signature=b"sig-three", bands=["0:q", "1:r", "2:s"])
    store.add_document(doc("A digest", "h4", None, is_digest=True), signature=None, bands=["0:a"])

    candidates = store.near_duplicate_candidates(["0:a", "1:b", "2:z"])

    assert candidates == [(one, b"sig-one"), (two, b"sig-two")]  # no signature, no candidate
    assert store.near_duplicate_candidates(["0:a", "1:b"], limit=1) == [(one, b"sig-one")]
    assert store.near_duplicate_candidates([]) == []


def test_documents_page_by_id_and_filter_by_source_and_language(store: Store) -> None:
    lakeshore = store.add_source(feed())
    riverside = store.add_source(feed("Riverside", "https://riverside.example.org/feed"))
    assert lakeshore.id is not None and riverside.id is not None
    ids = [
        store.add_document(doc(RAID, "h1", lakeshore.id, lang="en"), signature=None, bands=[]),
        store.add_document(doc("Полиция задержала активиста.", "h2", riverside.id, lang="ru"), signature=None,
                           bands=[]),
        store.add_document(doc(BAN, "h3", lakeshore.id, lang="en"), signature=None, bands=[]),
        store.add_document(doc("Sans langue", "h4", None), signature=None, bands=[]),
    ]

    assert [d.id for d in store.documents()] == ids
    assert [d.id for d in store.documents(limit=2)] == ids[:2]
    assert [d.id for d in store.documents(limit=2, after_id=ids[1])] == ids[2:]
    assert [d.id for d in store.documents(source_id=lakeshore.id)] == [ids[0], ids[2]]
    assert [d.id for d in store.documents(lang="ru")] == [ids[1]]
    assert [d.id for d in store.documents(source_id=lakeshore.id, lang="ru")] == []
    assert store.counts_by_lang() == {"en": 2, "ru": 1, "und": 1}


def test_iter_documents_reads_everything_in_batches(store: Store) -> None:
    ids = [
        store.add_document(doc(f"Report number {n} from the fictional Harbour Watch.", f"h{n}", None),
                           signature=None, bands=[])
        for n in range(7)
    ]

    assert [d.id for d in store.iter_documents(batch=3)] == ids
    assert [d.id for d in store.iter_documents(batch=7)] == ids
    assert [d.id for d in store.iter_documents()] == ids


def test_a_document_of_an_unknown_source_is_refused_with_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError):
        store.add_document(doc(RAID, "h-raid", 4242), signature=None, bands=[])
    assert store.counts()["documents"] == 0


# -- sightings and URLs ----------------------------------------------------------------------------


def test_sightings_are_recorded_once(store: Store) -> None:
    lakeshore = store.add_source(feed())
    riverside = store.add_source(feed("Riverside", "https://riverside.example.org/feed"))
    assert lakeshore.id is not None and riverside.id is not None
    first = store.add_document(doc(RAID, "h-raid", lakeshore.id), signature=None, bands=[])
    copy = Sighting(first, riverside.id, "https://riverside.example.org/raid", "near", 0.91)

    assert store.add_sighting(copy) is True
    assert store.add_sighting(copy) is False
    # without an address, and without a known source, a copy is still recorded only once
    assert store.add_sighting(Sighting(first, riverside.id, None, "exact")) is True
    assert store.add_sighting(Sighting(first, riverside.id, None, "exact")) is False
    assert store.add_sighting(Sighting(first, None, None, "exact")) is True
    assert store.add_sighting(Sighting(first, None, None, "exact")) is False
    assert store.counts()["sightings"] == 3


def test_has_url_knows_documents_and_sightings_of_that_source_only(store: Store) -> None:
    lakeshore = store.add_source(feed())
    riverside = store.add_source(feed("Riverside", "https://riverside.example.org/feed"))
    assert lakeshore.id is not None and riverside.id is not None
    first = store.add_document(
        doc(RAID, "h-raid", lakeshore.id, url="https://lakeshore.example.org/raid?utm=feed",
            canonical_url="https://lakeshore.example.org/raid"),
        signature=None,
        bands=[],
    )
    store.add_sighting(Sighting(first, riverside.id, "https://riverside.example.org/copy", "exact"))

    assert store.has_url(lakeshore.id, "https://lakeshore.example.org/raid?utm=feed")
    assert store.has_url(lakeshore.id, "https://lakeshore.example.org/raid")
    assert store.has_url(riverside.id, "https://riverside.example.org/copy")
    assert not store.has_url(riverside.id, "https://lakeshore.example.org/raid")
    assert not store.has_url(lakeshore.id, "https://riverside.example.org/copy")
    assert not store.has_url(lakeshore.id, "")


# -- search ----------------------------------------------------------------------------------------


@pytest.fixture
def reports(store: Store) -> dict[str, int]:
    return {
        "raid": store.add_document(doc(RAID, "h-raid", None, title="Civic forum raided"), signature=None,
                                   bands=[]),
        "ban": store.add_document(doc(BAN, "h-ban", None, title="Assembly banned"), signature=None, bands=[]),
        "protest": store.add_document(doc(PROTEST, "h-protest", None), signature=None, bands=[]),
    }


def test_search_finds_a_word_and_highlights_it(store: Store, reports: dict[str, int]) -> None:
    results = store.search("seized")

    assert [d.id for d, _ in results] == [reports["raid"]]
    snippet = results[0][1]
    assert f"{HIGHLIGHT_START}seized{HIGHLIGHT_END}" in snippet


def test_search_is_case_insensitive_and_covers_titles(store: Store, reports: dict[str, int]) -> None:
    assert [d.id for d, _ in store.search("ASSEMBLY")] == [reports["ban"]]
    assert [d.id for d, _ in store.search("raided")] == [reports["raid"]]


def test_search_understands_phrases_or_and_exclusion(store: Store, reports: dict[str, int]) -> None:
    assert [d.id for d, _ in store.search('"teachers union"')] == [reports["ban"]]
    assert [d.id for d, _ in store.search('"union teachers"')] == []
    either = {d.id for d, _ in store.search("police OR students")}
    assert either == {reports["raid"], reports["protest"]}
    assert [d.id for d, _ in store.search("arvania -police")] == [reports["ban"]]
    assert [d.id for d, _ in store.search("arvania monday")] == [reports["raid"]]


@pytest.mark.parametrize(
    "typed",
    ['"', "AND", "OR OR", "(police", "police*)", "NEAR(a b)", "col:umn", "-", "-police", "';--", "^"]
    + ["police\x00", "\x00"],
)
def test_search_never_fails_on_what_a_user_types(store: Store, reports: dict[str, int], typed: str) -> None:
    results = store.search(typed)

    assert isinstance(results, list)
    if "police" in typed and not typed.startswith("-"):
        assert [d.id for d, _ in results] == [reports["raid"]]


def test_search_respects_the_limit(store: Store) -> None:
    for n in range(5):
        store.add_document(doc(f"Harbour Watch bulletin {n}: detention reported.", f"h{n}", None),
                           signature=None, bands=[])

    assert len(store.search("detention", limit=3)) == 3
    assert store.search("nothing-like-this") == []


# -- HTTP validators -------------------------------------------------------------------------------


def test_http_validators_are_remembered_and_replaced(store: Store) -> None:
    url = "https://lakeshore.example.org/feed"
    assert store.http_validators(url) == (None, None)

    store.set_http_validators(url, '"v1"', "Mon, 04 Mar 2024 10:00:00 GMT")
    assert store.http_validators(url) == ('"v1"', "Mon, 04 Mar 2024 10:00:00 GMT")

    store.set_http_validators(url, '"v2"', None)
    assert store.http_validators(url) == ('"v2"', None)


# -- checks and errors -----------------------------------------------------------------------------


def test_a_consistent_database_has_no_integrity_problems(store: Store) -> None:
    source = store.add_source(feed())
    assert source.id is not None
    digest = store.add_document(doc("digest", "h0", source.id, is_digest=True), signature=None, bands=[])
    first = store.add_document(doc(RAID, "h1", source.id, parent_id=digest), signature=b"s", bands=["0:a"])
    store.add_sighting(Sighting(first, source.id, "https://lakeshore.example.org/again", "exact"))

    assert store.integrity_problems() == []


def test_integrity_problems_names_rows_pointing_nowhere(store: Store, tmp_path: Path) -> None:
    first = store.add_document(doc(RAID, "h1", None), signature=b"s", bands=["0:a"])
    _insert_orphans_bypassing_foreign_keys(store, first, tmp_path)

    problems = store.integrity_problems()

    assert any("document bands point to missing documents" in p and "777" in p for p in problems), problems
    assert any("sightings point to missing documents" in p for p in problems), problems
    assert any("sightings point to missing sources" in p for p in problems), problems
    assert any("documents point to missing sources" in p for p in problems), problems
    assert any("documents point to missing digests" in p for p in problems), problems


def _insert_orphans_bypassing_foreign_keys(store: Store, document_id: int, tmp_path: Path) -> None:
    statements = [
        "INSERT INTO document_bands (band, document_id) VALUES ('0:a', 777)",
        "INSERT INTO sightings (document_id, source_id, url, kind, similarity, seen_at) "
        "VALUES (778, 779, '', 'exact', 1.0, '2024-03-04 12:00:00')",
        f"UPDATE documents SET source_id = 780, parent_id = 781 WHERE id = {document_id}",
    ]
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


def test_sqlite_full_text_index_drift_is_reported(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'civicwatch.db'}")
    store.upgrade()
    store.add_document(doc(RAID, "h1", None), signature=None, bands=[])
    with sqlite3.connect(tmp_path / "civicwatch.db") as connection:
        # Written past the triggers: the index now has a row the documents table does not.
        connection.execute("INSERT INTO documents_fts (rowid, title, text) VALUES (99, 'ghost', 'no row')")

    assert any("full-text index" in p for p in store.integrity_problems())


def test_sqlite_connections_use_wal_and_enforce_foreign_keys(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'civicwatch.db'}")
    store.upgrade()
    with store._engine.connect() as connection:
        pragmas = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }

    assert pragmas["journal_mode"] == "wal"
    assert pragmas["foreign_keys"] == 1
    assert (pragmas["busy_timeout"] or 0) > 0
    assert pragmas["synchronous"] == 1  # NORMAL


def test_sqlite_file_and_its_folder_are_created_by_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "data" / "monitoring" / "civicwatch.db"
    store = Store(f"sqlite:///{path}")

    store.upgrade()

    assert path.is_file()
    store.ensure_ready()


def test_a_missing_sqlite_file_is_not_created_by_reading(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    store = Store(f"sqlite:///{path}")

    with pytest.raises(StoreError, match="not initialised"):
        store.sources()
    assert not path.exists()


def test_disk_full_is_a_store_error_and_leaves_nothing_half_written(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'civicwatch.db'}")
    store.upgrade()
    before = store.counts()

    @event.listens_for(store._engine, "connect")
    def _tiny_disk(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute("PRAGMA max_page_count = 1")  # any new page: "database or disk is full"

    store.close()  # reconnect, so the limit applies
    with pytest.raises(StoreError) as failure:
        store.add_document(doc(RAID * 200, "h-big", None), signature=b"s" * 512,
                           bands=[f"{n}:band" for n in range(200)])

    assert "disk full" in failure.value.reason
    assert "Traceback" not in str(failure.value)
    event.remove(store._engine, "connect", _tiny_disk)
    store.close()
    assert store.counts() == before


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://monitor:s3cret@127.0.0.1:1/civicwatch",
        "postgresql+psycopg://monitor:s3cret@127.0.0.1:1/civicwatch",
    ],
)
def test_an_unreachable_database_is_a_store_error_without_the_password(url: str) -> None:
    store = Store(url)

    with pytest.raises(StoreError) as failure:
        store.sources()

    assert "s3cret" not in str(failure.value)
    assert failure.value.input == url.replace("s3cret", "***")
    assert "127.0.0.1" in failure.value.reason and "refused" in failure.value.reason.lower()


@pytest.mark.parametrize("url", ["mysql://monitor@db.example.org/civicwatch", "not a database url"])
def test_an_unsupported_url_is_a_store_error(url: str) -> None:
    with pytest.raises(StoreError):
        Store(url)


def test_dialect_names_the_engine(store: Store, request: pytest.FixtureRequest) -> None:
    assert store.dialect == request.node.callspec.params["store"]


def test_the_store_can_be_used_as_a_context_manager(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'civicwatch.db'}") as store:
        store.upgrade()
        store.add_source(feed())
    assert [s.name for s in store.sources()] == ["Lakeshore Monitor"]  # reconnects after close
