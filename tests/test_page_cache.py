"""The page cache: a page read twice is rendered once, and never outlives a change to the data.

Over a real server (``site``: SQLite and PostgreSQL) and the real coder's incidents.
"""

from __future__ import annotations

import hashlib
import time

from civicwatch.model import Document
from civicwatch.store import Store
from support.server import LiveSite, add_reports

HIT = "x-civicwatch-cache"


def test_every_write_raises_the_data_version_and_reads_do_not(store: Store) -> None:
    before = store.data_version()
    store.documents()
    assert store.data_version() == before

    text = "Police in Osh detained the blogger Aibek Toktogulov on 3 May 2025."
    store.add_document(Document(text=text, content_hash=hashlib.sha256(text.encode()).hexdigest()),
                       signature=None, bands=[])

    assert store.data_version() == before + 1


def test_a_page_read_again_comes_from_memory_with_the_same_bytes(site: LiveSite) -> None:
    add_reports(site.store)

    first = site.get("/countries/uz")
    again = site.get("/countries/uz")

    assert HIT not in first.headers
    assert again.headers[HIT] == "hit"
    assert again.content == first.content
    # The security headers are part of what was kept.
    assert again.headers["content-security-policy"] == first.headers["content-security-policy"]


def test_a_change_to_the_data_shows_at_once(site: LiveSite) -> None:
    add_reports(site.store)
    before = site.get("/incidents?country=UZ")
    assert site.get("/incidents?country=UZ").headers[HIT] == "hit"
    incident = site.store.incidents()[0]

    site.store.edit_incident(incident.id, evidence="Evidence rewritten by a researcher.",
                             evidence_start=0, evidence_end=0)

    after = site.get("/incidents?country=UZ")
    assert HIT not in after.headers
    assert after.content != before.content


def test_signed_in_requests_and_errors_are_never_served_from_memory(site: LiveSite) -> None:
    add_reports(site.store)
    for _ in range(2):
        with_cookie = site.get("/", headers={"cookie": "session=someone"})
        missing = site.get("/incidents/999999")
    assert HIT not in with_cookie.headers
    assert missing.status_code == 404 and HIT not in missing.headers


def test_htmx_partial_and_whole_page_are_kept_apart(site: LiveSite) -> None:
    add_reports(site.store)
    whole = site.get("/incidents?type=detention")
    part = site.get("/incidents?type=detention", headers={"hx-request": "true"})
    part_again = site.get("/incidents?type=detention", headers={"hx-request": "true"})

    assert b"<html" in whole.content and b"<html" not in part.content
    assert part_again.headers[HIT] == "hit" and part_again.content == part.content


def test_the_cache_can_be_turned_off(store: Store) -> None:
    live = LiveSite(store, page_cache_bytes=0)
    live.start()
    try:
        responses = [live.get("/about") for _ in range(2)]
    finally:
        live.stop()

    assert all(response.status_code == 200 and HIT not in response.headers for response in responses)


def test_a_browser_gets_the_kept_page_gzipped_and_others_get_it_plain(site: LiveSite) -> None:
    add_reports(site.store)
    plain = site.get("/countries/uz", headers={"accept-encoding": "identity"})

    zipped = site.get("/countries/uz", headers={"accept-encoding": "gzip, deflate"})
    unzipped = site.get("/countries/uz", headers={"accept-encoding": "identity"})

    assert zipped.headers[HIT] == "hit" and zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # httpx undoes the gzip
    assert int(zipped.headers["content-length"]) < len(plain.content) / 2
    assert unzipped.headers[HIT] == "hit" and "content-encoding" not in unzipped.headers
    assert unzipped.content == plain.content
    assert "Accept-Encoding" in zipped.headers["vary"]


def test_with_a_publish_lag_new_material_waits_but_a_withdrawal_shows_at_once(store: Store) -> None:
    """While ``process`` writes, pages are served from memory for the lag; a researcher's mark ends that."""
    from civicwatch.store import review

    add_reports(store)
    live = LiveSite(store, public_lag_seconds=60)
    live.start()
    try:
        first = live.get("/incidents?country=UZ")
        add_reports(store, [("Blogger detained in Namangan",
                             "Police in Namangan detained the blogger Sardor Ismoilov on 4 May 2025 (fictional).",
                             "2025-05-04")])
        during_lag = live.get("/incidents?country=UZ")
        [shown] = [i for i in store.incidents() if i.country == "UZ" and i.id is not None][:1]
        review.set_confidential(store, "incident", shown.id or 0, True, actor="amina", reason="family asked")
        after_mark = live.get("/incidents?country=UZ")
    finally:
        live.stop()
        LiveSite(store)  # the lag is per process: put the default (none) back for the next tests

    assert during_lag.headers[HIT] == "hit" and during_lag.content == first.content
    assert HIT not in after_mark.headers
    assert "Ismoilov" in after_mark.text  # the new report shows with the next rendering
    assert shown.evidence not in after_mark.text


def test_past_the_lag_a_kept_page_is_sent_while_it_is_rendered_again_in_the_background(store: Store) -> None:
    """Under load no visitor waits for a page already kept; only a page three lags old is rendered for them."""
    add_reports(store)
    live = LiveSite(store, public_lag_seconds=1)
    live.start()
    try:
        first = live.get("/incidents?country=UZ")
        add_reports(store, [("Blogger detained in Namangan",
                             "Police in Namangan detained the blogger Sardor Ismoilov on 4 May 2025 (fictional).",
                             "2025-05-04")])
        time.sleep(1.2)  # past the lag
        stale = live.get("/incidents?country=UZ")
        deadline = time.monotonic() + 10
        again = live.get("/incidents?country=UZ")
        while "Ismoilov" not in again.text and time.monotonic() < deadline:
            time.sleep(0.05)
            again = live.get("/incidents?country=UZ")
        add_reports(store, [("Journalist fined in Fergana",
                             "A court in Fergana fined the journalist Dilnoza Karimova on 9 May 2025 (fictional).",
                             "2025-05-09")])
        time.sleep(3.2)  # three lags: the kept page is too old to send while it is rendered again
        waited = live.get("/incidents?country=UZ")
    finally:
        live.stop()
        LiveSite(store)  # the lag is per process: put the default (none) back for the next tests

    assert HIT not in first.headers
    assert stale.headers[HIT] == "stale" and stale.content == first.content
    assert again.headers[HIT] == "hit" and "Ismoilov" in again.text  # rendered in the background, then sent
    assert HIT not in waited.headers and "Karimova" in waited.text


def test_a_kept_page_is_sent_while_every_database_connection_is_busy(site: LiveSite) -> None:
    """Slow renderings holding all the server's connections must not hold up pages already in memory.

    The cache checks the data version on the server's event loop; had it waited for a connection there,
    every visitor would have waited behind the slowest page (found by ``benchmarks/load.py``).
    """
    add_reports(site.store)
    assert site.get("/countries/uz").status_code == 200
    server_store = site.app.state.store
    pool = server_store._engine.pool
    busy = [server_store._engine.connect() for _ in range(pool.size() + pool._max_overflow)]
    try:
        again = site.get("/countries/uz")  # the client gives up after 10 s; the pool would wait 30
    finally:
        for connection in busy:
            connection.close()

    assert again.status_code == 200 and again.headers[HIT] == "hit"
