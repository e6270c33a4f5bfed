"""The methodology, documents, persons and organisations pages, their API, the sources API and the
downloads from the incidents page, read over HTTP from a real server on SQLite and PostgreSQL.

The incidents are what the real coder finds in the fictional reports of ``support.server.REPORTS``.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from civicwatch.code.coder import PERPETRATOR_ORDER, TARGET_ORDER, TYPE_ORDER
from civicwatch.model import Document, Source, SourceKind
from civicwatch.web.methodology import DEFINITIONS, methodology
from support.server import LiveSite


@pytest.fixture
def web(coded_site: LiveSite) -> LiveSite:
    """The server over the coded reports, shared by this module's tests: read only."""
    return coded_site


def page(live: LiveSite, path: str, status: int = 200) -> lxml.html.HtmlElement:
    response = live.get(path)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert "<script>alert" not in response.text
    return lxml.html.fromstring(response.text)


def texts(root: lxml.html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(element.text_content().split()) for element in root.xpath(xpath)]


# -- about ---------------------------------------------------------------------------------------


def test_every_codebook_id_the_coder_emits_has_a_definition() -> None:
    for identifier in (*TYPE_ORDER, *TARGET_ORDER, *PERPETRATOR_ORDER):
        assert DEFINITIONS.get(identifier), identifier


def test_the_about_page_shows_the_codebook_from_the_coders_data_files(web: LiveSite) -> None:
    about = page(web, "/about")

    assert texts(about, "//h1") == ["About civicwatch and its method"]
    rows = about.xpath("//table[@class='codebook']/tbody/tr/@id")
    assert rows == [*TYPE_ORDER, *TARGET_ORDER, *PERPETRATOR_ORDER]
    detention = texts(about, "//tr[@id='detention']/td[2]")[0]
    # Cues come from codebook/types.toml, per language; "*" is shown as "…".
    assert "English" in detention and "arrested" in detention and "Russian" in detention
    assert "задержа…" in detention
    assert methodology().coder_version in texts(about, "//p[@class='meta']")[0]
    rules = texts(about, "//ul[@class='rules']/li")
    assert rules[0].startswith("assembly:")
    places = about.xpath("//section[@aria-labelledby='places-title']//li/a/@href")
    assert "/countries/UZ" in places and len(places) > 50
    assert about.xpath("//nav[@aria-label='Site']/a[.='About']/@href") == ["/about"]


# -- documents -----------------------------------------------------------------------------------


def test_the_documents_page_lists_documents_newest_first_with_a_cursor(web: LiveSite) -> None:
    listing = page(web, "/documents?limit=2")

    titles = texts(listing, "//ol[@class='results']/li/h2")
    assert titles == ["Foundation liquidated in Tajikistan", "Defender acquitted in Tashkent"]
    (following,) = listing.xpath("//a[@rel='next']/@href")
    assert following.startswith("/documents?limit=2&cursor=")
    second = page(web, following)
    assert texts(second, "//ol[@class='results']/li/h2") == ["Rally dispersed in Bishkek",
                                                              "Journalist sentenced in Almaty"]
    assert second.xpath("//nav[@class='pages']/a[.='First page']/@href") == ["/documents?limit=2"]
    assert listing.xpath("//nav[@aria-label='Site']/a[.='Documents']/@href") == ["/documents"]


def test_the_documents_page_filters_by_language(web: LiveSite) -> None:
    english = page(web, "/documents?lang=en&source=")
    french = page(web, "/documents?lang=fr")

    assert len(english.xpath("//ol[@class='results']/li")) == 5
    assert english.xpath("//select[@name='lang']/option[@selected]/@value") == ["en"]
    assert texts(french, "//main/p[last()]") == ["No document matches these filters."]


@pytest.mark.parametrize("query", ["lang=%3Cb%3E", "source=abc", "limit=0", "cursor=nope"])
def test_the_documents_page_refuses_bad_parameters_politely(web: LiveSite, query: str) -> None:
    response = web.get(f"/documents?{query}")

    assert response.status_code in (400, 422)
    assert "Traceback" not in response.text


# -- persons and organisations -------------------------------------------------------------------


def test_the_api_lists_persons_and_organisations_with_countries_and_counts(web: LiveSite) -> None:
    persons = web.get("/api/v1/persons").json()
    organisations = web.get("/api/v1/organisations").json()

    assert [{k: v for k, v in p.items() if k != "id"} for p in persons["items"]] == [
        {"name": "Aigerim Sadykova", "countries": ["KZ"], "incidents": 1},
        {"name": "Dilshod Tarakov", "countries": ["UZ"], "incidents": 1},
        {"name": "Nodira Salimova", "countries": ["UZ"], "incidents": 1},
    ] and persons["next"] is None
    assert [item["name"] for item in organisations["items"]] == [
        "Green Valley Association", "Open Hands Foundation"]
    assert web.get("/api/v1/persons", params={"country": "uz"}).json()["items"][0]["name"] == "Dilshod Tarakov"
    # Each id is the registry's: its case.
    case = web.get(f"/api/v1/persons/{persons['items'][1]['id']}").json()
    assert case["name"] == "Dilshod Tarakov"


def test_names_come_a_page_at_a_time(web: LiveSite) -> None:
    first = web.get("/api/v1/persons", params={"limit": 2}).json()
    second = web.get("/api/v1/persons", params={"limit": 2, "cursor": first["next"]}).json()

    assert [p["name"] for p in first["items"]] == ["Aigerim Sadykova", "Dilshod Tarakov"]
    assert [p["name"] for p in second["items"]] == ["Nodira Salimova"] and second["next"] is None
    # A persons cursor is not an organisations cursor.
    refused = web.get("/api/v1/organisations", params={"cursor": first["next"]})
    assert refused.status_code == 400


def test_the_persons_page_links_each_name_to_its_case(web: LiveSite) -> None:
    persons = page(web, "/persons")

    links = persons.xpath("//table[@class='names']//td[1]/a")
    assert [a.text for a in links] == ["Aigerim Sadykova", "Dilshod Tarakov", "Nodira Salimova"]
    assert links[1].get("href").startswith("/persons/")
    assert texts(persons, "//table[@class='names']/tbody/tr[2]/td[2]") == ["Uzbekistan"]
    # The case lists the incident naming him, with its source.
    case = page(web, links[1].get("href"))
    assert texts(case, "//h1") == ["Dilshod Tarakov"]


def test_the_organisations_page_lists_organisations(web: LiveSite) -> None:
    organisations = page(web, "/organisations")

    assert texts(organisations, "//table[@class='names']//td[1]") == [
        "Green Valley Association", "Open Hands Foundation"]
    assert organisations.xpath("//nav[@aria-label='Site']/a[.='Organisations']/@href") == ["/organisations"]


def test_the_country_page_names_the_persons_and_organisations_of_its_incidents(web: LiveSite) -> None:
    uzbekistan = page(web, "/countries/UZ")
    kyrgyzstan = page(web, "/countries/KG")

    assert texts(uzbekistan, "//ul[contains(@class, 'persons')]/li") == [
        "Dilshod Tarakov (1)", "Nodira Salimova (1)"]
    [case] = uzbekistan.xpath("//ul[contains(@class, 'persons')]/li[1]/a/@href")
    assert texts(page(web, case), "//h1") == ["Dilshod Tarakov"]
    assert not uzbekistan.xpath("//ul[contains(@class, 'organisations')]")
    assert texts(kyrgyzstan, "//ul[contains(@class, 'organisations')]/li") == ["Green Valley Association (1)"]


# -- downloads -----------------------------------------------------------------------------------


def downloads_left(before: set[Path] | None = None) -> set[Path]:
    """The download folders in the temporary directory; with ``before``, wait (2 s at most) for any others
    to go: the server removes a download's folder just after sending its last byte."""
    deadline = time.monotonic() + 2.0
    while True:
        left = set(Path(tempfile.gettempdir()).glob("civicwatch-download-*"))
        if before is None or left <= before or time.monotonic() > deadline:
            return left
        time.sleep(0.01)


def test_the_incidents_page_links_downloads_with_its_filters(web: LiveSite) -> None:
    listing = page(web, "/incidents?country=UZ&sort=confidence")

    assert listing.xpath("//p[@class='downloads']/a/@href") == [
        "/incidents/export.csv?country=UZ", "/incidents/export.jsonl?country=UZ",
        "/incidents/export.zip?country=UZ"]


def test_the_csv_download_has_the_filtered_incidents(web: LiveSite) -> None:
    before = downloads_left()

    response = web.get("/incidents/export.csv", params={"country": "UZ"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="civicwatch-incidents.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(row["types"] for row in rows) == ["detention", "legal_remedy", "prosecution"]
    assert {row["country"] for row in rows} == {"UZ"}
    assert downloads_left(before) <= before  # the temporary folder is gone once the file is sent


def test_the_jsonl_download_has_one_incident_per_line(web: LiveSite) -> None:
    response = web.get("/incidents/export.jsonl", params={"type": "detention"})

    lines = [json.loads(line) for line in response.text.splitlines()]
    assert response.status_code == 200
    assert sorted(line["country"] for line in lines) == ["KG", "UZ"]
    assert all(isinstance(line["types"], list) for line in lines)


def test_the_zip_download_is_a_data_package(web: LiveSite) -> None:
    response = web.get("/incidents/export.zip", params={"country": "KG"})

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == [
        "datapackage.json", "documents.csv", "incidents.csv", "organisations.csv", "persons.csv"]
    package: dict[str, Any] = json.loads(archive.read("datapackage.json"))
    assert [resource["name"] for resource in package["resources"]] == [
        "incidents", "documents", "persons", "organisations"]
    assert "Green Valley Association" in archive.read("organisations.csv").decode()


def test_a_download_with_an_invalid_filter_is_refused(web: LiveSite) -> None:
    response = web.get("/incidents/export.csv", params={"type": "arrest"})

    assert response.status_code == 422
    assert "type" in response.text


# -- sources (a test that writes: its own server) ------------------------------------------------


def test_the_sources_api_shows_public_fields_only(site: LiveSite) -> None:
    feed = site.store.add_source(Source(name="Monitor news", location="https://monitor.example.org/feed.xml",
                                        kind=SourceKind.FEED))
    site.store.add_source(Source(name="Field notes", location="/srv/secret/field-notes",
                                 kind=SourceKind.FILES))
    site.store.add_document(Document(text="A fictional report.", content_hash="h1", source_id=feed.id),
                            signature=None, bands=[])

    response = site.get("/api/v1/sources")

    assert response.status_code == 200
    body = response.json()
    assert [(s["name"], s["kind"], s["url"], s["item_count"]) for s in body["items"]] == [
        ("Field notes", "files", None, 0),
        ("Monitor news", "feed", "https://monitor.example.org/feed.xml", 1),
    ]
    assert set(body["items"][0]) == {"name", "kind", "url", "last_run_at", "last_ok_at", "item_count"}
    assert "/srv/secret" not in response.text
    first = site.get("/api/v1/sources", params={"limit": 1}).json()
    assert first["next"] is not None
    rest = site.get("/api/v1/sources", params={"limit": 1, "cursor": first["next"]}).json()
    assert [s["name"] for s in rest["items"]] == ["Monitor news"]
    # The documents page offers the source as a filter, by name.
    documents = page(site, f"/documents?source={feed.id}")
    assert texts(documents, "//select[@name='source']/option[@selected]") == ["Monitor news"]
    assert len(documents.xpath("//ol[@class='results']/li")) == 1


def test_the_openapi_document_publishes_what_each_filter_accepts(web: LiveSite) -> None:
    spec = web.get("/api/v1/openapi.json").json()
    parameters = {p["name"]: p["schema"] for p in spec["paths"]["/incidents"]["get"]["parameters"]}

    assert "detention" in parameters["type"]["pattern"]
    assert parameters["q"]["anyOf"][0]["maxLength"] == 200
    # Blanks around a value are allowed by the pattern and dropped by the server.
    assert web.get("/api/v1/incidents", params={"type": " detention\t", "country": "kg "}).json()["items"]
    assert web.get("/api/v1/incidents", params={"type": "detention2"}).status_code == 422


# -- htmx: the filter form updates the list in place, when scripts run ---------------------------


def test_the_incidents_page_loads_vendored_htmx_from_this_site_only(web: LiveSite) -> None:
    response = web.get("/incidents")
    listing = lxml.html.fromstring(response.text)

    assert listing.xpath("//script/@src") == ["/static/htmx.min.js"]
    assert not [s for s in listing.xpath("//script") if (s.text or "").strip()]  # no inline script
    assert "script-src 'self';" in response.headers["content-security-policy"]
    form = listing.xpath("//form[@class='filters']")[0]
    # Without JavaScript the form still submits as a plain GET to the same address.
    assert (form.get("method"), form.get("action")) == ("get", "/incidents")
    assert (form.get("hx-get"), form.get("hx-target")) == ("/incidents", "#results")
    script = web.get("/static/htmx.min.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert web.get("/static/htmx.LICENSE.txt").text.count("Zero-Clause BSD") == 1


def test_htmx_gets_only_the_results_for_the_chosen_filters(web: LiveSite) -> None:
    response = web.get("/incidents", params={"country": "KG", "type": ""}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "<html" not in response.text and "<form" not in response.text
    results = lxml.html.fromstring(response.text)
    assert results.get("id") == "results"
    assert [href.split("/")[-1] for href in results.xpath("//ol[@class='incidents']/li/h2/a[2]/@href")] == [
        "KG", "KG"]
    assert results.xpath("//p[@class='downloads']/a/@href")[0] == "/incidents/export.csv?country=KG"
    assert response.headers["vary"] == "HX-Request"
    # Going back in history, htmx asks for the whole page again.
    restored = web.get("/incidents", params={"country": "KG"},
                       headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<form" in restored.text


def test_an_address_under_the_api_that_no_route_takes_is_a_json_problem(web: LiveSite) -> None:
    for path in ["/api/v1/countries/x%0AW", "/api/v1/incidents/1%0A2", "/api/v1/nothing-here"]:
        response = web.get(path)

        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json", path
    assert web.get("/nothing-here").headers["content-type"].startswith("text/html")
