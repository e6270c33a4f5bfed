"""Warming: the server counts every country page's aggregates before anyone asks, and again at once after
a person's change. Over a real server on SQLite and PostgreSQL, with the real coder's incidents."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event

from civicwatch.store import Store, review
from support.server import LiveSite, add_reports


def statements_for(live: LiveSite, path: str) -> int:
    """How many SQL statements the server runs to answer ``path`` (the page cache is off in these tests)."""
    engine = live.app.state.store._engine
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert live.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def wait_for(condition: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the warmer did not finish in time"
        time.sleep(0.05)


def test_country_pages_are_counted_before_the_first_view_and_again_after_a_change(store: Store) -> None:
    add_reports(store)
    cold = LiveSite(store, page_cache_bytes=0)
    cold.start()
    try:
        unwarmed = statements_for(cold, "/countries/uz")
    finally:
        cold.stop()

    live = LiveSite(store, page_cache_bytes=0, warm=True)
    live.start()
    try:
        warmer = live.app.state.warmer
        wait_for(warmer.warmed.is_set)
        warmed = statements_for(live, "/countries/uz")
        passes = warmer.passes

        incident = next(i for i in store.incidents() if i.country == "UZ")
        review.set_confidential(store, "incident", incident.id or 0, True, actor="amina", reason="family asked")
        wait_for(lambda: warmer.passes > passes)
        after_change = statements_for(live, "/countries/uz")
        page = live.get("/countries/uz").text
    finally:
        live.stop()

    # The five aggregates (types, two charts, persons, organisations) come from memory.
    assert warmed <= unwarmed - 5
    assert after_change == warmed
    assert incident.evidence not in page
