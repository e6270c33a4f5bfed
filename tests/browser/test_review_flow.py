"""A researcher's session in a real browser: sign in, accept one incident, edit another, reject a third,
read the history, sign out, and see the public site show only what it may.

SQLite only here (the same flow runs over plain HTTP on both engines in ``tests/test_review.py``).
The reports are the fictional ones of ``support.server``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from browser.browsing import Browsing
from civicwatch.store import Store, review
from civicwatch.store.users import add_user
from support.server import LiveSite, add_reports

pytestmark = pytest.mark.parametrize("store", ["sqlite"], indirect=True)
PASSWORD = "a long enough password"


@pytest.fixture
def desk(store: Store) -> Iterator[LiveSite]:
    add_reports(store)
    add_user(store, "amina", "researcher", PASSWORD)
    live = LiveSite(store)
    live.start()
    try:
        yield live
    finally:
        live.stop()


def test_review_flow_from_login_to_logout(browsing: Browsing, desk: LiveSite) -> None:
    page = browsing.page
    first, second, third = review.queue(desk.store, limit=3)

    page.goto(desk.url("/review"))  # not signed in: sent to the login form
    expect(page).to_have_url(re.compile(r"/login\?next=/review$"))
    page.get_by_label("Name").fill("amina")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    expect(page.locator("section.review-current")).to_have_attribute("data-incident", str(first.id))
    browsing.shot("queue")

    page.get_by_role("button", name=re.compile("^Accept")).click()  # 1: accept the lowest-confidence one
    expect(page.locator("section.review-current")).to_have_attribute("data-incident", str(second.id))

    page.get_by_role("link", name=re.compile("^Edit")).click()  # 2: edit the next one's date
    page.get_by_label("Date (YYYY, YYYY-MM or YYYY-MM-DD)").fill("2024")
    page.get_by_label("Why").fill("the text gives only the year")
    page.get_by_role("button", name=re.compile("^Save")).click()
    history = page.get_by_role("table")
    expect(history).to_contain_text("amina")
    expect(history).to_contain_text("the text gives only the year")
    browsing.shot("history")

    page.get_by_role("link", name="Back to the queue").click()  # 3: reject the third, with a reason
    expect(page.locator("section.review-current")).to_have_attribute("data-incident", str(third.id))
    page.get_by_label("Reason").fill("not a restriction of civic space")
    page.get_by_role("button", name=re.compile("^Reject")).click()
    expect(page.locator("section.review-current")).not_to_have_attribute("data-incident", str(third.id))

    page.get_by_role("button", name="Sign out").click()  # signed out: the public site
    page.goto(desk.url("/review"))
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto(desk.url("/incidents"))  # the rejected incident is no longer listed; the others are
    expect(page.locator(f'a[href="/incidents/{third.id}"]')).to_have_count(0)
    expect(page.locator(f'a[href="/incidents/{second.id}"]').first).to_be_visible()
    page.goto(desk.url(f"/incidents/{second.id}"))
    expect(page.locator("dl.fields")).to_contain_text("2024")
    expect(page.locator("dl.fields")).to_contain_text("a person")
    browsing.shot("public")
    browsing.check_clean()
