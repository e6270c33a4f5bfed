"""What a person does on the site, in a real browser: the map, a country, filters, search, an incident, a CSV.

The server is ``coded_site`` (``tests/support/server.py``): the fictional reports of
``support.server.REPORTS`` coded by the real coder, on SQLite only here; the pages themselves are
checked on both engines over plain HTTP in ``tests/test_web_pages.py``. Every test saves
screenshots to ``tests/browser/artifacts/`` and ends with ``check_clean``: no console error (a CSP
refusal shows there) and no request to another host.
"""

from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import ViewportSize, expect

from browser.browsing import Browsing
from support.server import LiveSite

# One engine is enough for what the browser adds; the module's server is shared by its tests (read only).
pytestmark = pytest.mark.parametrize("coded_site", ["sqlite"], indirect=True)

PHONE: ViewportSize = {"width": 390, "height": 844}

# Finds a point of the viewport where a click lands on the link to ``href`` (an irregular country's
# bounding-box centre may well be its neighbour), scanning the link's box on a fine grid.
POINT_ON_LINK = """href => {
  const link = document.querySelector(`svg a[href="${href}"]`);
  const box = link.getBoundingClientRect();
  for (let fy = 0.5, step = 0.5; step > 0.01; step /= 2) {
    for (let y = box.top + step / 2 * box.height; y < box.bottom; y += step * box.height) {
      for (let x = box.left + step / 2 * box.width; x < box.right; x += step * box.width) {
        const hit = document.elementFromPoint(x, y);
        if (hit && hit.closest("a") === link) return {x, y};
      }
    }
  }
  return null;
}"""


def test_home_page_shows_the_map_the_latest_incidents_and_counts(
    browsing: Browsing, coded_site: LiveSite
) -> None:
    page = browsing.page
    page.goto(coded_site.url("/"))

    expect(page).to_have_title(re.compile("Civic space, as reported"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Civic space, as reported")
    world = page.locator("svg.worldmap")
    expect(world).to_be_visible()
    expect(page.get_by_role("img", name="World map of civic-space ratings by country")).to_be_visible()
    uzbekistan = world.locator('a[href="/countries/uz"]')
    expect(uzbekistan).to_have_attribute("aria-label", re.compile("^Uzbekistan"))
    expect(page.locator("ol.incidents > li")).to_have_count(7)
    expect(page.get_by_role("table", name="Incidents by type")).to_be_visible()
    # The hostile title is shown as text, never run: the page logged no error and opened no dialog.
    expect(page.get_by_text("<script>alert('x')</script>").first).to_be_visible()
    browsing.shot("home")
    browsing.check_clean()


def test_clicking_a_country_on_the_map_opens_its_page(browsing: Browsing, coded_site: LiveSite) -> None:
    page = browsing.page
    page.goto(coded_site.url("/"))
    uzbekistan = page.locator('svg.worldmap a[href="/countries/uz"]')
    uzbekistan.scroll_into_view_if_needed()
    point = page.evaluate(POINT_ON_LINK, "/countries/uz")
    assert point is not None, "no point of the map lands on Uzbekistan"

    page.mouse.click(point["x"], point["y"])

    expect(page).to_have_url(coded_site.url("/countries/uz"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Uzbekistan")
    expect(page.locator("ol.incidents > li")).to_have_count(3)
    expect(page.get_by_role("link", name="Atom feed of incidents in Uzbekistan")).to_be_visible()
    browsing.shot("country")
    browsing.check_clean()


def test_filtering_incidents_by_type_gives_a_url_of_its_own(browsing: Browsing, coded_site: LiveSite) -> None:
    page = browsing.page
    page.goto(coded_site.url("/"))
    page.get_by_role("navigation", name="Site").get_by_role("link", name="Incidents").click()
    expect(page.locator("ol.incidents > li")).to_have_count(7)

    page.get_by_label("Type").select_option("detention")
    page.get_by_role("button", name="Show").click()

    expect(page).to_have_url(re.compile(r"/incidents\?(.*&)?type=detention(&|$)"))
    items = page.locator("ol.incidents > li")
    expect(items).to_have_count(2)
    for heading in items.locator("h2").all_inner_texts():
        assert heading.startswith("Detention"), heading
    expect(page.get_by_label("Type")).to_have_value("detention")  # the form shows the state it is in
    browsing.shot("incidents-detention")

    # The same URL, opened afresh, gives the same selection.
    page.goto(page.url)
    expect(page.locator("ol.incidents > li")).to_have_count(2)
    browsing.check_clean()


def test_search_finds_documents_and_highlights_the_words(browsing: Browsing, coded_site: LiveSite) -> None:
    page = browsing.page
    page.goto(coded_site.url("/"))
    page.get_by_role("navigation", name="Site").get_by_role("link", name="Search").click()

    box = page.get_by_role("searchbox", name="Words")
    box.fill("court")
    box.press("Enter")

    expect(page).to_have_url(coded_site.url("/search?q=court"))
    results = page.locator("ol.results > li")
    expect(results).to_have_count(2)
    titles = sorted(results.locator("h2").all_inner_texts())
    assert titles == ["Defender acquitted in Tashkent", "Journalist sentenced in Almaty"]
    expect(results.locator("mark").first).to_have_text(re.compile("court", re.IGNORECASE))
    browsing.shot("search")

    page.get_by_role("link", name="Journalist sentenced in Almaty").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Journalist sentenced in Almaty")
    browsing.check_clean()


def test_opening_an_incident_shows_its_fields_and_highlighted_evidence(
    browsing: Browsing, coded_site: LiveSite
) -> None:
    page = browsing.page
    page.goto(coded_site.url("/incidents?country=KZ"))
    only = page.locator("ol.incidents > li")
    expect(only).to_have_count(1)
    only.get_by_role("link", name="Imprisonment").click()

    expect(page).to_have_url(re.compile(r"/incidents/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Imprisonment in Kazakhstan")
    fields = page.locator("dl.fields")
    expect(fields).to_contain_text("Aigerim Sadykova")
    expect(fields).to_contain_text("the machine coder")
    evidence = page.locator("mark#evidence")
    expect(evidence).to_be_visible()
    expect(evidence).to_contain_text("sentenced")
    expect(page.get_by_role("link", name="Journalist sentenced in Almaty")).to_have_attribute(
        "href", "https://monitor.example.org/reports/1")  # the source link (not followed: not 127.0.0.1)
    browsing.shot("incident")
    browsing.check_clean()


def test_downloading_the_incidents_as_csv(browsing: Browsing, coded_site: LiveSite) -> None:
    page = browsing.page
    page.goto(coded_site.url("/incidents?type=detention"))
    link = page.get_by_role("link", name=re.compile(r"\bCSV\b"))
    assert link.count() >= 1, "no link named CSV on the incidents page"
    browsing.shot("downloads")

    with page.expect_download() as download_info:
        link.first.click()
    download = download_info.value

    assert download.suggested_filename.endswith(".csv")
    with download.path().open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    # The selection on the page, not every incident: the same ids as its list, with the codebook's fields.
    shown = page.locator("ol.incidents > li h2 a[href^='/incidents/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href').split('/').pop())")
    assert sorted(row["id"] for row in rows) == sorted(shown)
    assert len(rows) == 2
    assert {"id", "country", "types", "date", "evidence", "confidence"} <= set(rows[0])
    assert all("detention" in row["types"].split(";") for row in rows)
    browsing.check_clean()


def test_the_home_page_reads_on_a_phone_and_by_keyboard(browsing: Browsing, coded_site: LiveSite) -> None:
    page = browsing.page
    page.set_viewport_size(PHONE)
    page.goto(coded_site.url("/"))

    # Nothing wider than the screen: no sideways scrolling to read a page.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"
    browsing.shot("home-phone")

    # The first Tab reaches the skip link, and following it moves to the content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(coded_site.url("/#main"))
    browsing.check_clean()

