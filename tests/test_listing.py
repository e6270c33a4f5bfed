"""Reading listing pages: the teasers of a country page or a news index, each followed for its full text."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from civicwatch.collect.listing import find_date, looks_like_listing, read_listing
from civicwatch.errors import FetchError, HTTPStatusError, ParseError
from civicwatch.model import Fetched

FIXTURES = Path(__file__).parent / "fixtures" / "readers"


def http_fetch(url: str) -> Fetched:
    """A plain HTTP GET standing in for the pipeline's Fetcher (real requests to the test server)."""
    try:
        response = httpx.get(url, timeout=5)
    except httpx.HTTPError as exc:
        raise FetchError(url, str(exc)) from exc
    if response.status_code >= 400:
        raise HTTPStatusError(url, f"HTTP {response.status_code}", response.status_code)
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return Fetched(
        str(response.url), response.status_code, response.content, media, response.charset_encoding
    )


def page(name: str, url: str = "https://monitor.example/veridia/") -> Fetched:
    return Fetched(url=url, status=200, content=(FIXTURES / name).read_bytes(), content_type="text/html")


def test_a_country_page_becomes_a_digest_with_one_child_per_teaser():
    digest, failures = read_listing(page("listing.html"), None)

    assert digest.url == "https://monitor.example/veridia/"
    assert digest.raw == (FIXTURES / "listing.html").read_bytes()
    assert "Civic space in Veridia" in digest.text
    assert [(c.title, c.url, c.published) for c in digest.children] == [
        (
            "Police raid the office of the Riverside Teachers' Association",
            "https://monitor.example/veridia/teachers-union-office-raided",
            "2024-03-04",
        ),
        (
            "Journalist Tomas Invent detained after covering a protest",
            "https://monitor.example/veridia/journalist-detained",
            "2024-02-27",
        ),
        (
            "Parliament adopts a restrictive law on foreign-funded groups",
            "https://monitor.example/veridia/ngo-law-adopted",
            "2024-02-12",
        ),
        (
            "Capital bans all protests for the summer season",
            "https://elsewhere.example/veridia-protest-ban",
            None,
        ),
    ]
    assert digest.children[0].published_from == "listing"
    assert "Officers seized computers and files" in digest.children[0].text
    assert failures == []


def test_each_teaser_is_followed_for_the_full_text_and_kept_when_that_fails(web):
    web.add("/veridia/teachers-union-office-raided", (FIXTURES / "story-one.html").read_bytes())
    listing_url = web.add("/veridia/", (FIXTURES / "listing.html").read_bytes())

    def fetch(url: str) -> Fetched:
        if not url.startswith(web.url("/")):  # the other site is not reachable from a test
            raise FetchError(url, "host not reachable")
        return http_fetch(url)

    digest, failures = read_listing(http_fetch(listing_url), fetch)

    raided, detained, law, ban = digest.children
    assert "holding blank sheets of paper" in raided.text  # the followed page
    assert raided.author == "Ana Fictive"
    assert raided.published == "2024-03-04" and raided.published_from == "listing"  # the teaser's date wins
    assert detained.text.startswith("Journalist Tomas Invent detained")  # the teaser, kept
    assert [(f.input, f.reason) for f in failures] == [
        (web.url("/veridia/journalist-detained"), "HTTP 404; kept the teaser"),
        (web.url("/veridia/ngo-law-adopted"), "HTTP 404; kept the teaser"),
        ("https://elsewhere.example/veridia-protest-ban", "host not reachable; kept the teaser"),
    ]
    assert law.text and ban.text


def test_flat_teasers_take_their_following_paragraphs(web):
    web.serve_dir(FIXTURES)
    url = web.url("/flat_listing.html")

    digest, failures = read_listing(http_fetch(url), http_fetch)

    one, two, three = digest.children
    assert one.url == web.url("/story-one.html")
    assert "holding blank sheets of paper" in one.text
    assert one.published == "2024-05-03"
    assert two.text.endswith("Her organisation says the travel ban has no legal basis.")
    assert two.published == "2024-05-06"
    assert three.title == "Independent radio station loses its broadcasting licence"
    assert len(failures) == 2  # story-two and story-three do not exist


def test_without_following_links_nothing_is_fetched(web):
    url = web.add("/veridia/", (FIXTURES / "listing.html").read_bytes())

    digest, failures = read_listing(http_fetch(url), http_fetch, follow_links=False)

    assert len(digest.children) == 4
    assert web.paths() == ["/veridia/"]
    assert failures == []


def test_teasers_the_pipeline_already_has_are_skipped():
    have = {"https://monitor.example/veridia/journalist-detained"}

    digest, _ = read_listing(page("listing.html"), None, skip=have.__contains__)

    assert "https://monitor.example/veridia/journalist-detained" not in [c.url for c in digest.children]
    assert len(digest.children) == 3


def test_a_page_without_teasers_is_kept_as_one_digest_with_a_failure():
    digest, failures = read_listing(page("story-one.html"), None)

    assert digest.children == []
    assert "Lakeside Student Circle" in digest.text
    assert [f.reason for f in failures] == ["no teasers found on the listing page; read as one page"]


def test_a_broken_listing_is_refused():
    with pytest.raises(ParseError, match="binary content"):
        read_listing(Fetched("https://x.example/", 200, b"\x00\x01" * 500, "text/html"), None)


def test_a_big_listing_is_read_quickly():
    teasers = "".join(
        f'<li class="news"><h3><a href="/n/{i}">Fictional update number {i} on assemblies</a></h3>'
        f"<p>Summary {i} of an imaginary event in Port Alder.</p></li>"
        for i in range(2000)
    )
    content = f"<html><body><ul>{teasers}</ul></body></html>".encode()

    started = time.perf_counter()
    digest, _ = read_listing(Fetched("https://x.example/", 200, content, "text/html"), None)

    assert len(digest.children) == 2000
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    ("name", "expected"),
    [("listing.html", True), ("flat_listing.html", True), ("article.html", False), ("story-one.html", False)],
)
def test_looks_like_listing(name, expected):
    content = (FIXTURES / name).read_bytes()

    assert looks_like_listing(content, "https://monitor.example/x") is expected
    assert looks_like_listing(content.decode(), "https://monitor.example/x") is expected


def test_junk_does_not_look_like_a_listing():
    assert looks_like_listing(b"", "https://x.example/") is False
    assert looks_like_listing(b"\x00\xff" * 100, "https://x.example/") is False


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Published 2024-03-04 by the desk", "2024-03-04"),
        ("13 May 2009 – the fictional union", "2009-05-13"),
        ("on Sept. 3, 2021, officers", "2021-09-03"),
        ("05.06.2023 Lakeside", "2023-06-05"),
        ("no date here, only 2024 and 99", None),
        ("31 February 2024", None),
    ],
)
def test_dates_written_in_teasers(text, iso):
    assert find_date(text) == iso
