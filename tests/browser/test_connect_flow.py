"""Connect and review in a real browser: a researcher splits a report off an event and merges it back, reads
the event's history; an admin marks a source confidential, and the public site stops showing what it reported.

SQLite only here (the same pages are tested over plain HTTP on both engines in ``tests/test_events_web.py``
and ``tests/test_admin.py``). Every person, source and organisation here is fictional.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from browser.browsing import Browsing
from civicwatch.model import Document, Incident, Source, SourceKind
from civicwatch.store import Store
from civicwatch.store import events as stored
from civicwatch.store.users import add_user
from support.server import LiveSite

pytestmark = pytest.mark.parametrize("store", ["sqlite"], indirect=True)
PASSWORD = "a long enough password"

# (source, text, key, date): two reports of one detention from two sources, and one unrelated report.
REPORTS = [
    ("Riverside Monitor", "On 4 March 2026 police in Tashkent detained blogger Dilnoza Eshonkulova at her home.",
     "riverside", "2026-03-04"),
    ("Hilltop Rights", "Hilltop Rights learned that blogger Dilnoza Eshonkulova was detained in Tashkent on "
     "5 March 2026.", "hilltop", "2026-03-05"),
    ("Hilltop Rights", "On 20 June 2026 police in Samarkand detained activist Rustam Qodirov.", "other",
     "2026-06-20"),
]


def report(store: Store, source_id: int, text: str, key: str, date: str, persons: list[str]) -> int:
    """One document of ``source_id`` and the incident coded from it; the incident's id."""
    document_id = store.add_document(Document(text=text, content_hash=key, title=f"Report {key}",
                                              source_id=source_id, url=f"https://{key}.example.org/r/1"),
                                     signature=None, bands=[])
    store.save_coding(document_id, [Incident(country="UZ", types=["detention"], persons=persons, date=date,
                                             evidence=text, evidence_start=0, evidence_end=len(text))], "test")
    return next(i.id for i in store.incidents() if i.document_id == document_id and i.id is not None)


@pytest.fixture
def newsroom(store: Store) -> Iterator[tuple[LiveSite, dict[str, int], dict[str, int]]]:
    """The site, its sources' ids by name and the incidents' ids by key, connected into events."""
    sources: dict[str, int] = {}
    incidents: dict[str, int] = {}
    for name, text, key, date in REPORTS:
        if name not in sources:
            added = store.add_source(Source(name, f"https://{name.split()[0].lower()}.example.org/feed",
                                            SourceKind.FEED))
            assert added.id is not None
            sources[name] = added.id
        persons = ["Rustam Qodirov"] if key == "other" else ["Dilnoza Eshonkulova"]
        incidents[key] = report(store, sources[name], text, key, date, persons)
    stored.connect(store)
    add_user(store, "amina", "researcher", PASSWORD)
    add_user(store, "olga", "admin", PASSWORD)
    live = LiveSite(store)
    live.start()
    try:
        yield live, sources, incidents
    finally:
        live.stop()


def sign_in(browsing: Browsing, site: LiveSite, path: str, name: str) -> None:
    page = browsing.page
    page.goto(site.url(f"/login?next={path}"))  # then back to ``path``
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(site.url(path))


def test_split_merge_and_a_confidential_source(
    browsing: Browsing, newsroom: tuple[LiveSite, dict[str, int], dict[str, int]]
) -> None:
    site, sources, incidents = newsroom
    page = browsing.page
    [event_id] = [e for e, _, _, n in stored.event_page(site.store) if n == 2]  # connect joined the two

    # A researcher splits the Hilltop report off the two-report event ...
    sign_in(browsing, site, f"/events/{event_id}", "amina")
    expect(page.locator("ol.sources > li")).to_have_count(2)
    hilltop = page.locator(f"#i{incidents['hilltop']}")
    hilltop.get_by_label("Reason").fill("a different detention, a day later")
    hilltop.get_by_role("button", name="Split into its own event").click()
    expect(page).not_to_have_url(site.url(f"/events/{event_id}"))
    new_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("ol.sources > li")).to_have_count(1)
    expect(page.locator(f"#i{incidents['hilltop']}")).to_be_visible()

    # ... then merges it back, and reads both changes in the event's history.
    page.goto(site.url(f"/events/{event_id}"))
    expect(page.locator("ol.sources > li")).to_have_count(1)
    page.get_by_label("Event number").fill(str(new_id))
    page.locator("form[action$='/merge']").get_by_label("Reason").fill("the same detention after all")
    page.get_by_role("button", name="Merge").click()
    expect(page).to_have_url(site.url(f"/events/{event_id}"))
    expect(page.locator("ol.sources > li")).to_have_count(2)
    history = page.locator("section.history")
    expect(history.locator("li")).to_have_count(2)
    expect(history.locator("li").nth(0)).to_contain_text("amina: split")
    expect(history.locator("li").nth(0)).to_contain_text("a different detention, a day later")
    expect(history.locator("li").nth(1)).to_contain_text("amina: merge")
    expect(history.locator("li").nth(1)).to_contain_text("the same detention after all")
    expect(page.get_by_role("link", name="Sources")).to_have_count(0)  # no admin links for a researcher
    browsing.shot("event-history")
    assert site.get(f"/events/{new_id}").status_code == 404  # merged away (in the browser: a console error)
    page.goto(site.url("/review"))
    page.get_by_role("button", name="Sign out").click()

    # An admin marks the Riverside source confidential.
    sign_in(browsing, site, "/admin/sources", "olga")
    riverside = page.locator(f"#source-{sources['Riverside Monitor']}")
    expect(riverside).to_have_attribute("data-confidential", "no")
    riverside.get_by_role("button", name="Mark confidential").click()  # the reason is required: nothing sent
    expect(riverside).to_have_attribute("data-confidential", "no")
    riverside.get_by_label(re.compile("^Reason")).fill("the partner asked not to be named")
    riverside.get_by_role("button", name="Mark confidential").click()
    expect(page).to_have_url(site.url("/admin/sources"))
    riverside = page.locator(f"#source-{sources['Riverside Monitor']}")
    expect(riverside).to_have_attribute("data-confidential", "yes")
    expect(riverside.get_by_role("button", name="Make public again")).to_be_visible()
    expect(page.get_by_role("navigation", name="Site").get_by_role("link", name="Accounts")).to_be_visible()
    browsing.shot("admin-sources")
    page.get_by_role("navigation", name="Site").get_by_role("link", name="Accounts").click()
    expect(page.locator('tr[data-name="amina"]')).to_contain_text("researcher")
    expect(page.locator('tr[data-name="olga"]').get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)
    browsing.shot("admin-users")
    page.get_by_role("button", name="Sign out").click()

    # Signed out, the public site no longer shows what the Riverside source reported.
    page.goto(site.url("/incidents"))
    expect(page.locator(f'a[href="/incidents/{incidents["riverside"]}"]')).to_have_count(0)
    expect(page.locator(f'a[href="/incidents/{incidents["hilltop"]}"]').first).to_be_visible()
    expect(page.locator(f'a[href="/incidents/{incidents["other"]}"]').first).to_be_visible()
    page.goto(site.url(f"/events/{event_id}"))
    expect(page.locator("ol.sources > li")).to_have_count(1)
    expect(page.locator("ol.sources")).not_to_contain_text("Tashkent detained blogger")
    expect(page.locator("section.history")).to_have_count(0)
    browsing.shot("public")
    browsing.check_clean()
