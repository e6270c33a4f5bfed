"""Reading RSS and Atom feeds: one item per entry, the linked page for the full text, nothing lost."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from civicwatch.collect.feeds import declares_entities, read_feed
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


def feed_response(xml: str | bytes, url: str = "https://monitor.example/feed.xml") -> Fetched:
    content = xml.encode() if isinstance(xml, str) else xml
    return Fetched(url=url, status=200, content=content, content_type="application/rss+xml")


def rss(items: str) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Veridia monitor</title><link>https://monitor.example/</link>
<language>en-gb</language>{items}</channel></rss>"""


def test_each_entry_becomes_an_item_with_the_linked_page_as_text(web):
    story = web.add("/story-one.html", (FIXTURES / "story-one.html").read_bytes())
    gone = web.url("/status/404")
    feed = rss(f"""
<item><title>Students fined in Lakeside</title><link>{story}</link><guid isPermaLink="false">veridia-1</guid>
  <pubDate>Sat, 04 May 2024 10:15:00 +0200</pubDate><author>desk@monitor.example (Ana Fictive)</author>
  <description>&lt;p&gt;Five students were &lt;b&gt;fined&lt;/b&gt;.&lt;/p&gt;</description></item>
<item><title>Radio Pinecone loses its licence</title><link>{gone}</link><guid>veridia-2</guid>
  <description>The regulator gave no reason for revoking the licence.</description></item>""")

    items, failures = read_feed(feed_response(feed), http_fetch)

    first, second = items
    assert first.title == "Students fined in Lakeside"
    assert first.url == story
    assert first.external_id == "veridia-1"
    assert first.published == "2024-05-04T08:15:00+00:00"
    assert first.published_from == "feed"
    assert first.author == "desk@monitor.example (Ana Fictive)"
    assert first.lang == "en"
    assert "holding blank sheets of paper" in first.text  # the full page, not the summary
    assert first.raw is not None and b"<article>" in first.raw
    assert second.text == "The regulator gave no reason for revoking the licence."
    assert [(f.input, f.reason) for f in failures] == [(gone, "HTTP 404; kept the feed's summary")]


def test_without_following_links_the_summary_is_the_text(web):
    link = web.add("/story-one.html", (FIXTURES / "story-one.html").read_bytes())
    feed = rss(
        f"<item><title>Students fined</title><link>{link}</link>"
        "<description>&lt;p&gt;Five students &amp;amp; a lecturer were fined.&lt;/p&gt;</description></item>"
    )

    items, failures = read_feed(feed_response(feed), http_fetch, follow_links=False)

    assert [item.text for item in items] == ["Five students & a lecturer were fined."]
    assert failures == []
    assert web.requests == []


def test_atom_entries_with_relative_links_and_date_only_updates():
    feed = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">
  <title>Northland updates</title>
  <entry>
    <id>urn:northland:7</id><title type="html">Mira Example &lt;em&gt;barred&lt;/em&gt; from travel</title>
    <link href="/updates/7"/><updated>2024-05-06</updated>
    <author><name>Tomas Invent</name></author>
    <content type="html">&lt;p&gt;Border guards turned back the lawyer.&lt;/p&gt;
      &lt;p&gt;She will appeal.&lt;/p&gt;</content>
  </entry>
</feed>"""

    items, failures = read_feed(feed_response(feed, "https://northland.example/atom.xml"), None)

    (item,) = items
    assert item.title == "Mira Example barred from travel"
    assert item.url == "https://northland.example/updates/7"
    assert item.external_id == "urn:northland:7"
    assert item.published == "2024-05-06"
    assert item.author == "Tomas Invent"
    assert item.text == "Border guards turned back the lawyer.\n\nShe will appeal."
    assert item.lang == "fr"
    assert failures == []


@pytest.mark.parametrize(
    "feed",
    [
        """<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
        xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://x.example/"><title>T</title></channel>
        <item rdf:about="https://x.example/1"><title>Greyfield blogger summoned</title>
        <link>https://x.example/1</link><description>Questioned for six hours.</description></item>
        </rdf:RDF>""",
        """<?xml version="1.0"?><rss version="0.91"><channel><title>T</title><link>https://x.example/</link>
        <item><title>Greyfield blogger summoned</title><link>https://x.example/1</link>
        <description>Questioned for six hours.</description></item></channel></rss>""",
    ],
    ids=["rss-1.0", "rss-0.91"],
)
def test_older_rss_dialects(feed):
    items, _ = read_feed(feed_response(feed), None)

    assert [(i.title, i.url, i.text) for i in items] == [
        ("Greyfield blogger summoned", "https://x.example/1", "Questioned for six hours.")
    ]


def test_a_truncated_feed_keeps_the_entries_it_has():
    feed = (
        rss(
            "<item><title>Complete entry</title><link>https://x.example/1</link>"
            "<description>Whole.</description></item>"
        )[:-40]
        + "<item><title>Cut"
    )

    items, _ = read_feed(feed_response(feed), None)

    assert items[0].title == "Complete entry"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty response"),
        (b"this is not a feed at all", "not a readable feed"),
        (b"<html><body><p>A page, not a feed</p></body></html>", "not a readable feed"),
        (b"<rss><channel><title>A channel cut before its first item", "not a readable feed"),
    ],
)
def test_a_payload_that_is_not_a_feed_is_refused(content, reason):
    with pytest.raises(ParseError) as caught:
        read_feed(feed_response(content, "https://bad.example/feed"), None)

    assert caught.value.input == "https://bad.example/feed"
    assert caught.value.reason.startswith(reason)
    assert "\n" not in caught.value.reason


def test_a_billion_laughs_feed_is_refused_quickly():
    levels = "\n".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    bomb = f"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">{levels}]>
<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title></item></channel></rss>"""

    started = time.perf_counter()
    with pytest.raises(ParseError) as caught:
        read_feed(feed_response(bomb), None)

    assert caught.value.reason == "feed declares XML entities; refused"
    assert time.perf_counter() - started < 1


def test_external_entities_and_utf16_payloads_are_refused_too():
    xxe = '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss>&x;</rss>'

    assert declares_entities(xxe.encode())
    assert declares_entities(xxe.encode("utf-16"))
    assert declares_entities(xxe.encode("utf-16-le"))


def test_an_article_quoting_an_entity_declaration_is_not_refused():
    feed = rss(
        "<item><title>XML basics</title><link>https://x.example/xml</link>"
        '<description><![CDATA[Write <!ENTITY name "value"> in a DOCTYPE.]]></description></item>'
    )

    items, _ = read_feed(feed_response(feed), None)

    assert items[0].text == 'Write <!ENTITY name "value"> in a DOCTYPE.'


def test_links_the_pipeline_already_has_are_skipped(web):
    old = web.add("/old", (FIXTURES / "story-one.html").read_bytes())
    new = web.add("/new", (FIXTURES / "story-one.html").read_bytes())
    feed = rss(
        f"<item><title>Old</title><link>{old}</link></item><item><title>New</title><link>{new}</link></item>"
    )

    items, failures = read_feed(feed_response(feed), http_fetch, skip={old}.__contains__)

    assert [item.title for item in items] == ["New"]
    assert web.paths() == ["/new"]
    assert failures == []


def test_the_feed_text_wins_over_a_page_that_gives_less(web):
    teaser_page = web.add("/paywalled", "<html><body><p>Subscribe to read.</p></body></html>")
    full = "The fictional Port Alder court acquitted all three protesters. " * 5
    feed = rss(
        f"<item><title>Acquitted</title><link>{teaser_page}</link><description>{full}</description></item>"
    )

    items, failures = read_feed(feed_response(feed), http_fetch)

    assert items[0].text == full.strip()
    assert failures == []


def test_an_entry_without_any_text_is_reported():
    feed = rss("<item><guid>lost-1</guid></item><item><title>Only a title here</title></item>")

    items, failures = read_feed(feed_response(feed), None)

    assert [item.text for item in items] == ["Only a title here"]
    assert [f.reason for f in failures] == ["feed entry has no text"]


def test_links_that_are_not_web_links_are_not_followed():
    requested: list[str] = []

    def fetch(url: str) -> Fetched:
        requested.append(url)
        raise FetchError(url, "should not be called")

    feed = rss(
        "<item><title>Mail us</title><link>mailto:desk@monitor.example</link>"
        "<description>Write to the desk.</description></item>"
    )

    items, failures = read_feed(feed_response(feed), fetch)

    assert items[0].text == "Write to the desk."
    assert requested == [] and failures == []
