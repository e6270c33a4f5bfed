"""Atom feeds of incidents: valid Atom that feedparser reads back, with the incident list's filters.

The first tests build feeds directly; the rest fetch /feeds/incidents.atom from a real server
over the fictional reports of ``support.server.REPORTS``, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone

import feedparser
import pytest

from civicwatch.publish.atom import ATOM, FeedEntry, atom_feed
from support.server import LiveSite

WHEN = datetime(2024, 5, 4, 9, 30, tzinfo=UTC)


def entry(n: int, **fields: object) -> FeedEntry:
    values: dict[str, object] = {
        "id": f"https://civicwatch.example.org/incidents/{n}", "title": f"Detention in Uzbekistan ({n})",
        "link": f"https://civicwatch.example.org/incidents/{n}", "updated": WHEN - timedelta(days=n),
        "summary": "Police detained the fictional blogger Dilshod Tarakov.",
        "categories": [("urn:civicwatch:codebook:type", "detention")],
    } | fields
    return FeedEntry(**values)  # type: ignore[arg-type]


def build(entries: list[FeedEntry]) -> bytes:
    return atom_feed(
        title="civicwatch: incidents", feed_id="https://civicwatch.example.org/feeds/incidents.atom",
        self_url="https://civicwatch.example.org/feeds/incidents.atom",
        site_url="https://civicwatch.example.org/incidents", entries=entries,
    )


# -- the feed writer -------------------------------------------------------------------------------------


def test_a_feed_reads_back_entry_by_entry() -> None:
    parsed = feedparser.parse(build([entry(1), entry(2, related="https://monitor.example.org/r/2")]))

    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "civicwatch: incidents"
    assert parsed.feed.updated == "2024-05-03T09:30:00Z"  # the newest entry's
    first, second = parsed.entries
    assert (first.id, first.title, first.link) == (
        "https://civicwatch.example.org/incidents/1", "Detention in Uzbekistan (1)",
        "https://civicwatch.example.org/incidents/1")
    assert first.summary == "Police detained the fictional blogger Dilshod Tarakov."
    assert [tag.term for tag in first.tags] == ["detention"]
    assert {link.rel: link.href for link in second.links}["related"] == "https://monitor.example.org/r/2"


def test_markup_and_control_characters_in_texts_cannot_break_the_feed() -> None:
    hostile = entry(1, title="<b>Raid</b> & \"search\"", summary="A <script>alert(1)</script>\x00\x1b text")
    body = build([hostile])

    ET.fromstring(body)  # well-formed XML
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    assert parsed.entries[0].title == "<b>Raid</b> & \"search\""  # text, not markup
    assert "<script>" not in body.decode()


def test_an_empty_feed_is_still_valid_atom() -> None:
    root = ET.fromstring(build([]))

    assert root.tag == f"{{{ATOM}}}feed"
    assert root.find(f"{{{ATOM}}}updated") is not None and root.find(f"{{{ATOM}}}id") is not None


def test_timestamps_are_written_in_utc() -> None:
    tashkent = timezone(timedelta(hours=5))
    parsed = feedparser.parse(build([entry(1, updated=datetime(2024, 5, 4, 14, 0, tzinfo=tashkent))]))

    assert parsed.entries[0].updated == "2024-05-04T09:00:00Z"


# -- /feeds/incidents.atom -------------------------------------------------------------------------------


def fetch(live: LiveSite, **params: str) -> feedparser.FeedParserDict:
    response = live.get("/feeds/incidents.atom", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def test_the_feed_lists_every_incident_linking_to_its_page(coded_site: LiveSite) -> None:  # noqa: F811
    parsed = fetch(coded_site)

    assert len(parsed.entries) == 7
    for item in parsed.entries:
        assert item.link.startswith(coded_site.url("/incidents/"))
        assert coded_site.get(item.link).status_code == 200
        assert item.summary  # the evidence
    blogger = next(e for e in parsed.entries if "blogger Dilshod" in e.summary)
    assert blogger.title == "Detention in Uzbekistan on 2024-05-03"
    assert {link.rel: link.href for link in blogger.links}["related"] == "https://monitor.example.org/reports/0"
    assert {tag.term for tag in blogger.tags} == {"detention", "UZ"}


def test_the_feed_takes_the_incident_list_filters(coded_site: LiveSite) -> None:  # noqa: F811
    parsed = fetch(coded_site, country="UZ", type="detention")

    assert [e.title for e in parsed.entries] == ["Detention in Uzbekistan on 2024-05-03"]
    assert parsed.feed.title == "civicwatch: incidents (country UZ, type detention)"
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"] == coded_site.url("/feeds/incidents.atom?country=UZ&type=detention")
    assert links["alternate"] == coded_site.url("/incidents?country=UZ&type=detention")


def test_a_feed_with_no_match_is_empty_and_valid(coded_site: LiveSite) -> None:  # noqa: F811
    assert fetch(coded_site, country="FR").entries == []


@pytest.mark.parametrize("params", [{"type": "arrest"}, {"country": "Uzbekistan"}, {"date_from": "May"}])
def test_bad_feed_parameters_are_refused_with_422(coded_site: LiveSite, params: dict[str, str]) -> None:  # noqa: F811
    assert coded_site.get("/feeds/incidents.atom", params=params).status_code == 422
