"""The sample corpus in examples/ is well-formed, so `make demo` has something real to load.

These checks use only the standard library, feedparser and pypdf: they describe the files themselves,
not how civicwatch reads them.
"""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest
from pypdf import PdfReader

EXAMPLES = Path(__file__).parents[1] / "examples"
FEED = EXAMPLES / "feed" / "central-asia-monitor.atom"
JSONL = EXAMPLES / "jsonl" / "partner-export.jsonl"
DIGEST = EXAMPLES / "digest" / "weekly-digest.txt"
PDF = EXAMPLES / "reports" / "turkmenistan-annual-brief-2025.pdf"
PAGES = EXAMPLES / "pages"
LISTING = PAGES / "country-kyrgyzstan.html"
STANDALONE = [
    "uzbekistan-nukus-trial.html",
    "tajikistan-khorog-obyski-ru.html",
    "kazakhstan-fondation-liquidee-fr.html",
]


def plain(markup: str) -> str:
    """Markup to one line of text: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def entry_text(entry: feedparser.FeedParserDict) -> str:
    markup = entry.content[0].value if entry.get("content") else entry.get("summary", "")
    return plain(markup)


def digest_items() -> list[str]:
    """The digest's items: each starts with a bullet at the start of a line and runs to a blank line."""
    items = re.findall(r"^•[ \t]*(.+?)(?=\n\s*\n|\Z)", DIGEST.read_text(encoding="utf-8"), re.M | re.S)
    return [" ".join(item.split()) for item in items]


def jsonl_records() -> list[dict[str, object]]:
    lines = JSONL.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def shingles(text: str, k: int = 3) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + k]) for i in range(len(words) - k + 1)}


def jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


class MetaReader(HTMLParser):
    """Collects <meta> properties/names and <link rel=canonical> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.canonical: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and a.get("content"):
            key = a.get("property") or a.get("name")
            if key:
                self.meta.setdefault(key, a["content"] or "")
        elif tag == "link" and a.get("rel") == "canonical":
            self.canonical = a.get("href")


@pytest.fixture(scope="module")
def feed() -> feedparser.FeedParserDict:
    return feedparser.parse(FEED.read_bytes())


def test_the_feed_parses_cleanly_and_has_dated_entries_with_full_text(
    feed: feedparser.FeedParserDict,
) -> None:
    assert not feed.bozo, feed.get("bozo_exception")
    assert len(feed.entries) >= 25
    for entry in feed.entries:
        assert entry.get("id") and entry.get("title") and entry.get("link"), entry
        assert entry.get("published_parsed"), entry.id
        assert entry.get("author"), entry.id
        # The demo reads the files locally, so links are not followed: each entry carries its whole text.
        assert len(entry_text(entry)) > 300, entry.id
    assert len({e.id for e in feed.entries}) == len(feed.entries)
    years = {e.published_parsed.tm_year for e in feed.entries}
    assert years == {2025, 2026}


def test_jsonl_export_has_an_id_and_text_on_every_line() -> None:
    records = jsonl_records()
    assert len(records) >= 6
    for record in records:
        assert isinstance(record["id"], str) and record["id"]
        assert isinstance(record["text"], str) and len(record["text"]) > 100
        assert set(record) >= {"id", "text", "title", "url", "published", "lang"}
    assert len({r["id"] for r in records}) == len(records)
    assert {"es", "ru"} <= {r["lang"] for r in records}


def test_the_pdf_report_has_at_least_two_pages_of_text() -> None:
    assert PDF.stat().st_size < 50_000
    reader = PdfReader(PDF)
    assert len(reader.pages) >= 2
    texts = [page.extract_text() for page in reader.pages]
    assert all(len(text) > 500 for text in texts)
    assert "Civic space in Turkmenistan" in texts[0]


def test_the_listing_page_has_teasers_with_dates_and_some_links_that_exist() -> None:
    page = LISTING.read_text(encoding="utf-8")
    teasers = re.findall(r'<h3><a href="([^"]+)">', page)
    assert len(teasers) >= 6
    assert len(re.findall(r'<time datetime="\d{4}-\d{2}-\d{2}">', page)) >= len(teasers)
    # relative links, so that following them works when the folder is served over HTTP
    assert all(not href.startswith(("http:", "https:", "/")) for href in teasers)
    existing = [href for href in teasers if (PAGES / href).is_file()]
    assert len(existing) >= 2


def test_standalone_pages_carry_article_metadata() -> None:
    for name in STANDALONE:
        reader = MetaReader()
        reader.feed((PAGES / name).read_text(encoding="utf-8"))
        assert reader.meta.get("og:title"), name
        assert re.match(r"\d{4}-\d{2}-\d{2}T", reader.meta.get("article:published_time", "")), name
        assert reader.meta.get("author"), name
        assert reader.canonical and reader.canonical.startswith("https://"), name


def test_the_digest_has_bulleted_items() -> None:
    items = digest_items()
    assert len(items) >= 6
    assert all(len(item) > 80 for item in items)


# A crude language guess: Cyrillic script, else the language whose (unshared) stopwords occur most.
STOPWORDS = {
    "en": {"the", "and", "was", "were", "with", "that", "of"},
    "fr": {"le", "les", "des", "une", "est", "dans", "pour", "au", "été"},
    "es": {"el", "los", "las", "una", "que", "fue", "según", "sus", "del"},
}


def guess_language(text: str) -> str:
    letters = re.findall(r"[^\W\d_]", text)
    if sum("а" <= ch.lower() <= "я" or ch.lower() == "ё" for ch in letters) > len(letters) / 2:
        return "ru"
    words = re.findall(r"\w+", text.lower())
    return max(STOPWORDS, key=lambda lang: sum(word in STOPWORDS[lang] for word in words))


def test_the_corpus_is_in_english_russian_french_and_spanish(feed: feedparser.FeedParserDict) -> None:
    by_source = {
        "feed": [entry_text(e) for e in feed.entries],
        "jsonl": [str(r["text"]) for r in jsonl_records()],
        "pages": [plain((PAGES / name).read_text(encoding="utf-8")) for name in STANDALONE],
    }
    assert {guess_language(t) for t in by_source["feed"]} == {"en", "ru", "fr", "es"}
    assert {"en", "ru", "es"} <= {guess_language(t) for t in by_source["jsonl"]}
    assert {guess_language(t) for t in by_source["pages"]} == {"en", "ru", "fr"}
    # the languages the JSONL export declares agree with its text
    for record in jsonl_records():
        assert guess_language(str(record["text"])) == record["lang"], record["id"]


def test_the_corpus_holds_one_exact_and_one_near_duplicate(feed: feedparser.FeedParserDict) -> None:
    feed_texts = [entry_text(e) for e in feed.entries]
    exact = [r for r in jsonl_records() if r["text"] in feed_texts]
    assert len(exact) == 1

    near = [
        (item, text)
        for item in digest_items()
        for text in feed_texts
        if item != text and jaccard(item, text) >= 0.85
    ]
    assert len(near) == 1
