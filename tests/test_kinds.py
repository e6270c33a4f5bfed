"""Telling a source's kind from its location and what it returned."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from civicwatch.collect.kinds import detect_kind, looks_like_feed
from civicwatch.model import Fetched, SourceKind

FIXTURES = Path(__file__).parent / "fixtures" / "readers"
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
ATOM = b'<?xml version="1.0"?>\n<!-- a comment -->\n<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title></feed>'
RDF = b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"></rdf:RDF>'


def fetched(content: bytes, content_type: str, url: str = "https://monitor.example/x") -> Fetched:
    return Fetched(url=url, status=200, content=content, content_type=content_type)


def test_an_existing_path_is_files(tmp_path):
    (tmp_path / "a.txt").write_text("A fictional note.", encoding="utf-8")

    assert detect_kind(str(tmp_path), None) is SourceKind.FILES
    assert detect_kind(str(tmp_path / "a.txt"), None) is SourceKind.FILES


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (RSS, "application/rss+xml"),
        (RSS, "text/xml"),
        (ATOM, "application/xml"),
        (RDF, "application/rdf+xml"),
        (RSS, "text/html"),  # misconfigured servers
        (ATOM, ""),
        ("<?xml version='1.0'?><rss version='2.0'></rss>".encode("utf-16"), "text/xml"),
        (b"", "application/atom+xml"),  # the media type alone is enough
    ],
)
def test_feeds_by_media_type_or_by_their_root_element(content, content_type):
    assert detect_kind("https://monitor.example/updates", fetched(content, content_type)) is SourceKind.FEED


def test_html_that_mentions_feeds_is_not_a_feed():
    page = b"<!DOCTYPE html><html><body><pre>&lt;rss&gt;</pre><p>How to write <feed> tags</p></body></html>"

    assert not looks_like_feed(fetched(page, "text/html"))


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("listing.html", SourceKind.LISTING),
        ("flat_listing.html", SourceKind.LISTING),
        ("article.html", SourceKind.PAGE),
        ("story-one.html", SourceKind.PAGE),
    ],
)
def test_html_is_a_listing_or_a_page(name, kind):
    page = fetched((FIXTURES / name).read_bytes(), "text/html")

    assert detect_kind(page.url, page) is kind


def test_kinds_of_pages_served_over_http(web):
    url = web.add("/veridia/", (FIXTURES / "listing.html").read_bytes())
    feed_url = web.add("/feed", RSS, content_type="application/rss+xml; charset=utf-8")

    def get(address: str) -> Fetched:
        response = httpx.get(address)
        media = response.headers["content-type"].split(";")[0]
        return Fetched(address, response.status_code, response.content, media, response.charset_encoding)

    assert detect_kind(url, get(url)) is SourceKind.LISTING
    assert detect_kind(feed_url, get(feed_url)) is SourceKind.FEED


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"%PDF-1.7 ...", "application/pdf"), (b"Plain fictional text.", "text/plain"), (b"\x00\x01\x02", "")],
)
def test_anything_else_is_a_page(content, content_type):
    assert detect_kind("https://monitor.example/r", fetched(content, content_type)) is SourceKind.PAGE


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://monitor.example/feed", SourceKind.FEED),
        ("https://monitor.example/news.rss", SourceKind.FEED),
        ("https://monitor.example/atom.xml", SourceKind.FEED),
        ("https://monitor.example/veridia/", SourceKind.PAGE),
    ],
)
def test_without_a_response_a_url_is_judged_by_its_path(url, kind):
    assert detect_kind(url, None) is kind


def test_a_url_is_never_taken_for_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "https:").mkdir()
    (tmp_path / "https:" / "x").mkdir()

    assert detect_kind("https://x", None) is SourceKind.PAGE
