"""The server-rendered pages, read over HTTP from a real server as a browser without JavaScript would.

The incidents are what the real coder finds in the fictional reports of ``support.server.REPORTS``
(on SQLite and PostgreSQL); one report's title carries a ``<script>`` tag that must never reach a
page as markup.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest

from civicwatch.model import Document
from civicwatch.store import Store
from support.server import LiveSite, add_reports

HOSTILE_TITLE = "Blogger detained in Nukus <script>alert('x')</script>"


@pytest.fixture
def web(coded_site: LiveSite) -> LiveSite:  # noqa: F811
    """The server over the coded reports, shared by this module's tests: read only."""
    return coded_site


def page(live: LiveSite, path: str, status: int = 200) -> lxml.html.HtmlElement:
    response = live.get(path)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert "<script>alert" not in response.text  # every text from a document is escaped
    return lxml.html.fromstring(response.text)


def texts(root: lxml.html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(element.text_content().split()) for element in root.xpath(xpath)]


def incident_links(root: lxml.html.HtmlElement) -> list[str]:
    return [a.get("href") for a in root.xpath("//ol[@class='incidents']/li/h2/a[1]")]


def test_home_shows_the_latest_incidents_and_counts_by_type(web: LiveSite) -> None:
    home = page(web, "/")

    assert len(incident_links(home)) == 7
    # Newest first; of two on the same day, the one coded last.
    assert texts(home, "//ol[@class='incidents']/li[1]/h2")[0] == "Prosecution in Uzbekistan"
    types, numbers = texts(home, "//table/tbody/tr/td[1]"), texts(home, "//table/tbody/tr/td[2]")
    counts = dict(zip(types, numbers, strict=True))
    assert counts["detention"] == "2" and counts["legal remedy"] == "1"
    assert home.xpath("//table//a[.='detention']/@href") == ["/incidents?type=detention"]
    assert home.xpath("//link[@type='application/atom+xml']/@href") == ["/feeds/incidents.atom"]
    assert texts(home, "//ul[@class='countries']/li") == [
        "Uzbekistan (3)", "Kyrgyzstan (2)", "Kazakhstan (1)", "Tajikistan (1)"]


def test_home_shows_the_world_map_when_the_map_module_is_there(web: LiveSite) -> None:
    if importlib.util.find_spec("civicwatch.publish.worldmap") is None:
        pytest.skip("civicwatch.publish.worldmap is not written yet")

    home = page(web, "/")

    assert home.xpath("//section[@class='map']//*[local-name()='svg']")


def test_a_country_page_has_its_incidents_counts_and_feed(web: LiveSite) -> None:
    country = page(web, "/countries/KG")

    assert texts(country, "//h1") == ["Kyrgyzstan"]
    assert [href.split("/")[-1] for href in country.xpath("//ol[@class='incidents']/li/h2/a[2]/@href")] == [
        "KG", "KG"]
    assert texts(country, "//table/tbody/tr/td[1]") == ["detention", "protest restriction", "protest"]
    assert country.xpath("//table//a[.='protest']/@href") == ["/incidents?country=KG&type=protest"]
    assert "/feeds/incidents.atom?country=KG" in country.xpath("//a/@href")
    assert country.xpath("//link[@rel='alternate']/@href") == ["/feeds/incidents.atom?country=KG"]
    assert texts(page(web, "/countries/kg"), "//h1") == ["Kyrgyzstan"]


def test_a_country_without_incidents_says_so_and_an_unknown_code_is_not_found(web: LiveSite) -> None:
    assert "No incidents coded for France yet." in texts(page(web, "/countries/FR"), "//main")[0]
    assert texts(page(web, "/countries/ZZ", 404), "//h1") == ["Page not found"]
    assert texts(page(web, "/countries/U1", 422), "//h1") == ["Invalid parameters"]


def test_the_incident_list_filters_through_a_get_form(web: LiveSite) -> None:
    listing = page(web, "/incidents?country=KG&type=detention&right=&target=&q=")

    form = listing.xpath("//form[@class='filters']")[0]
    assert form.get("method") == "get" and form.get("action") == "/incidents"
    assert form.xpath(".//select[@name='country']/option[@selected]/@value") == ["KG"]
    assert form.xpath(".//select[@name='type']/option[@selected]/@value") == ["detention"]
    assert form.xpath(".//select[@name='right']/option[@selected]") == []
    found = texts(listing, "//ol[@class='incidents']/li/h2")
    assert found == ["Detention, protest restriction in Kyrgyzstan"]
    feed = listing.xpath("//link[@type='application/atom+xml']/@href")
    assert feed == ["/feeds/incidents.atom?country=KG&type=detention"]


def test_every_filter_is_a_url_and_the_text_query_is_kept(web: LiveSite) -> None:
    listing = page(web, "/incidents?q=cotton&date_from=2024-05&sort=confidence")

    found = texts(listing, "//ol[@class='incidents']/li/h2")
    assert found == ["Detention in Uzbekistan", "Prosecution in Uzbekistan"]  # by confidence
    assert listing.xpath("//input[@name='q']/@value") == ["cotton"]
    assert listing.xpath("//input[@name='date_from']/@value") == ["2024-05"]
    assert listing.xpath("//select[@name='sort']/option[@selected]/@value") == ["confidence"]


def test_cursor_links_walk_through_every_page(web: LiveSite) -> None:
    seen: list[str] = []
    path: str | None = "/incidents?type=&limit=2&sort=confidence"
    pages = 0
    while path is not None:
        listing = page(web, path)
        seen += incident_links(listing)
        following = listing.xpath("//a[@rel='next']/@href")
        path = following[0] if following else None
        pages += 1
        if path is not None:
            query = parse_qs(urlsplit(path).query)
            assert query["limit"] == ["2"] and query["sort"] == ["confidence"] and "cursor" in query
            assert "type" not in query  # empty filters are left out of links

    assert pages == 4
    assert len(seen) == len(set(seen)) == 7


def test_bad_parameters_give_a_friendly_page_naming_them(web: LiveSite) -> None:
    bad_type = page(web, "/incidents?type=arrest", 422)
    assert texts(bad_type, "//ul[@class='problems']/li")[0].startswith("type: expected one of: detention")

    bad_cursor = page(web, "/incidents?cursor=bm90LWEtY3Vyc29y", 400)
    assert "start again without it" in texts(bad_cursor, "//ul[@class='problems']/li")[0]

    too_many = page(web, "/incidents?limit=500", 422)
    assert texts(too_many, "//ul[@class='problems']/li")[0].startswith("limit:")


def test_an_incident_page_highlights_the_evidence_in_its_source_text(web: LiveSite) -> None:
    listing = page(web, "/incidents?country=UZ&type=detention")
    incident = page(web, incident_links(listing)[0])

    assert texts(incident, "//mark[@id='evidence']") == ["detained the blogger Dilshod Tarakov"]
    body = texts(incident, "//div[@class='document-text']")[0]
    assert body.startswith("On 3 May 2024 police in Nukus detained the blogger")
    fields = dict(zip(texts(incident, "//dl/dt"), texts(incident, "//dl/dd"), strict=True))
    assert fields["Country"] == "Uzbekistan (UZ)"
    assert fields["Date"] == "2024-05-03"
    assert fields["Persons"] == "Dilshod Tarakov"
    assert fields["Perpetrators"] == "police"
    assert fields["Coded by"].startswith("the machine coder (coder ")
    assert fields["Confidence"] == "0.90"
    assert fields["Source"] == f"{HOSTILE_TITLE}, published 2024-05-05"  # shown as text, not run
    assert incident.xpath("//dd/a[@rel='nofollow noopener']/@href") == ["https://monitor.example.org/reports/0"]


def test_unknown_incidents_and_documents_are_a_friendly_404(web: LiveSite) -> None:
    for path in ("/incidents/999999", "/documents/999999", "/no/such/page"):
        missing = page(web, path, 404)
        assert texts(missing, "//h1") == ["Page not found"]


def test_a_document_page_shows_its_text_and_incidents(web: LiveSite) -> None:
    listing = page(web, "/incidents?country=UZ&type=detention")
    incident = page(web, incident_links(listing)[0])
    document = page(web, incident.xpath("//a[.='document page']/@href")[0])

    assert texts(document, "//h1") == [HOSTILE_TITLE]
    assert texts(document, "//section//li") == ["Detention in Uzbekistan, 2024-05-03",
                                                "Prosecution in Uzbekistan, 2024-05-03"]


def test_search_highlights_the_matched_words(web: LiveSite) -> None:
    results = page(web, "/search?q=cotton")

    assert texts(results, "//ol[@class='results']/li/h2") == [HOSTILE_TITLE]
    assert texts(results, "//p[@class='snippet']/mark") == ["cotton"]
    assert results.xpath("//input[@name='q']/@value") == ["cotton"]


def test_search_echoes_what_was_typed_as_text(web: LiveSite) -> None:
    response = web.get("/search", params={"q": '<img src=x onerror=alert(1)> "rally'})

    assert response.status_code == 200
    assert "<img src=x" not in response.text and "&lt;img src=x onerror=alert(1)&gt;" in response.text


def test_an_empty_search_shows_only_the_form(web: LiveSite) -> None:
    empty = page(web, "/search")

    assert empty.xpath("//form[@role='search']") and not empty.xpath("//ol[@class='results']")


def test_pages_carry_security_headers_and_the_stylesheet_is_served(web: LiveSite) -> None:
    response = web.get("/")

    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    css = web.get("/static/site.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_a_database_not_yet_initialised_gives_503_not_a_stack_trace(tmp_path: Path) -> None:
    live = LiveSite(Store(f"sqlite:///{tmp_path / 'never-initialised.db'}"))
    live.start()
    try:
        home = live.get("/")
        api = live.get("/api/v1/incidents")
    finally:
        live.stop()

    assert home.status_code == 503 and "Database unavailable" in home.text and "Traceback" not in home.text
    assert api.status_code == 503 and api.json()["title"] == "Database unavailable"
    assert not (tmp_path / "never-initialised.db").exists()  # looking did not create it


def test_only_web_addresses_of_documents_are_published(site: LiveSite) -> None:  # noqa: F811
    for n, url in enumerate(["file:///srv/monitor/inbox/report.html", "javascript:alert(1)"]):
        text = f"On {n + 1} June 2024 police in Osh detained the fictional blogger Kanat Ermekov ({n})."
        document = Document(text=text, content_hash=f"hash-{n}", title=f"Report {n}", url=url, lang="en")
        site.store.add_document(document, signature=None, bands=[])
    add_reports(site.store, [])

    incidents = site.get("/api/v1/incidents").json()["items"]
    assert len(incidents) == 2
    for incident in incidents:
        detail = site.get(f"/api/v1/incidents/{incident['id']}").json()
        assert detail["document"]["url"] is None
        html = site.get(f"/incidents/{incident['id']}").text
        assert "file:" not in html and "javascript:" not in html
    assert "file:" not in site.get("/feeds/incidents.atom").text


def test_the_country_page_charts_incidents_per_month_by_type_and_by_right(coded_site):
    import xml.etree.ElementTree as ET

    import httpx

    page = httpx.get(coded_site.url("/countries/UZ")).text
    charts = [part.split("</svg>")[0] + "</svg>" for part in page.split("<svg")[1:] if 'role="img"' in part[:400]]
    titles = [ET.fromstring("<svg" + chart).find("{http://www.w3.org/2000/svg}title") for chart in charts]
    assert any(t is not None and "by type, per month" in (t.text or "") for t in titles)
    assert any(t is not None and "by right, per month" in (t.text or "") for t in titles)
