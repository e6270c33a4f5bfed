"""Read an RSS (0.9x, 1.0, 2.0) or Atom feed with feedparser: one Item per entry.

Each entry's link is followed (through the ``fetch`` the pipeline passes) for the full
page; when that fails, or following is off, the entry's own content or summary is the
text and a Failure says why. feedparser always gets bytes, never a URL or a path, so it
never fetches anything itself.
"""

from __future__ import annotations

import codecs
import contextlib
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import feedparser
from lxml import etree

from civicwatch.collect.pages import Fetch, ReadResult, html_to_text, may_follow, normalize_text, read_page
from civicwatch.errors import FetchError, ParseError
from civicwatch.model import Failure, Fetched, Item

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)
_ENTITY = re.compile(rb"<!ENTITY", re.I)
_SUBSET_END = re.compile(rb"\]\s*>")
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
MAX_DEPTH = 256


_WIDE_STARTS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)


def _wide_codec(data: bytes) -> str | None:
    """The codec of an XML payload in UTF-16 or UTF-32 (by BOM or by the first '<'), else None."""
    return next((codec for start, codec in _WIDE_STARTS if data.startswith(start)), None)


def declares_entities(data: bytes) -> bool:
    """Whether an XML payload declares entities in its DOCTYPE (the billion-laughs and XXE vector).

    Entities can only be declared in a DOCTYPE's internal subset, so only that part is searched:
    an article quoting ``<!ENTITY`` inside an entry's CDATA is not refused.
    """
    codec = _wide_codec(data)
    if codec is not None:
        data = data.decode(codec, errors="ignore").encode("utf-8")
    doctype = _DOCTYPE.search(data)
    if doctype is None:
        return False
    end = _SUBSET_END.search(data, doctype.end())
    return _ENTITY.search(data, doctype.end(), end.end() if end else len(data)) is not None


def nests_too_deep(data: bytes) -> bool:
    """Whether an XML payload nests elements deeper than ``MAX_DEPTH`` (libxml2's limit without XML_PARSE_HUGE).

    feedparser took 80 s and 500 MB on a 7 MB feed of a million nested elements (7 s at 100,000), and a
    20 MB one would take far more. libxml2, in recovery mode and without entities, the DTD or the network,
    stops at the limit in microseconds; real feeds nest a dozen levels.
    """
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, load_dtd=False)
    with contextlib.suppress(etree.LxmlError, ValueError):  # a broken feed is feedparser's to judge
        etree.fromstring(data, parser)
    return any("Excessive depth" in entry.message for entry in parser.error_log)


def _iso(parsed: time.struct_time | None, raw: str | None) -> str | None:
    """An ISO date (when the feed gave only a date) or UTC timestamp from feedparser's parsed date."""
    if parsed is None:
        return None
    try:
        moment = datetime(*parsed[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None
    if raw and _DATE_ONLY.match(raw):
        return moment.date().isoformat()
    return moment.isoformat()


def _entry_text(entry: Any) -> str:
    """The entry's own text: its longest content, else its summary; HTML stripped."""
    parts = [c for c in entry.get("content") or [] if c.get("value")]
    best = max(parts, key=lambda c: len(c["value"]), default=None)
    if best is None and entry.get("summary"):
        best = entry.get("summary_detail") or {"value": entry["summary"], "type": "text/html"}
    if best is None:
        return ""
    value = str(best.get("value", ""))
    return normalize_text(value) if best.get("type") == "text/plain" else html_to_text(value)


def _lang(entry: Any, feed: Any) -> str | None:
    for detail in [*(entry.get("content") or []), entry.get("summary_detail") or {}]:
        if detail.get("language"):
            return str(detail["language"]).split("-")[0].lower()
    language = feed.get("language")
    return str(language).split("-")[0].lower() if language else None


def _follow(link: str, fetch: Fetch) -> tuple[Item | None, Failure | None]:
    try:
        return read_page(fetch(link)), None
    except (FetchError, ParseError) as exc:
        return None, Failure(link, f"{exc.reason}; kept the feed's summary")


def _entry_item(entry: Any, feed: Any, page: Item | None, own_text: str) -> Item | None:
    title = html_to_text(entry.get("title", "")) or None
    published = _iso(entry.get("published_parsed"), entry.get("published"))
    published = published or _iso(entry.get("updated_parsed"), entry.get("updated"))
    author = normalize_text(entry.get("author", "")) or None
    # The page is preferred, unless the feed carries more text than the page gave (paywalls, teaser pages).
    use_page = page is not None and len(page.text) >= len(own_text)
    text = page.text if page is not None and use_page else own_text or title or ""
    if not text:
        return None
    return Item(
        text=text,
        url=entry.get("link") or None,
        title=title or (page.title if page else None),
        published=published or (page.published if page else None),
        published_from="feed" if published else (page.published_from if page else None),
        author=author or (page.author if page else None),
        canonical_url=page.canonical_url if page else None,
        raw=page.raw if page and use_page else None,
        raw_type=page.raw_type if page and use_page else None,
        external_id=entry.get("id") or None,
        lang=_lang(entry, feed),
    )


def parse_feed(fetched: Fetched) -> Any:
    """feedparser's result for a feed payload; ParseError when it is empty, refused or not a feed."""
    data = fetched.content
    if not data.strip():
        raise ParseError(fetched.url, "empty response")
    if declares_entities(data):
        raise ParseError(fetched.url, "feed declares XML entities; refused")
    if nests_too_deep(data):
        raise ParseError(fetched.url, f"feed nests elements more than {MAX_DEPTH} levels deep; refused")
    headers = {"content-location": fetched.url}
    if fetched.content_type:
        charset = f"; charset={fetched.charset}" if fetched.charset else ""
        headers["content-type"] = fetched.content_type + charset
    try:
        parsed = feedparser.parse(data, response_headers=headers)
    except ValueError as exc:
        # feedparser lets odd encoding declarations escape: a stray byte in the name (UnicodeDecodeError) or
        # a NUL in it ("embedded null character" from the codec lookup), both found by fuzzing.
        raise ParseError(fetched.url, f"not a readable feed: {str(exc).splitlines()[0][:200]}") from exc
    if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no RSS or Atom elements"
        raise ParseError(fetched.url, f"not a readable feed: {str(reason).splitlines()[0][:200]}")
    return parsed


def read_feed(
    fetched: Fetched,
    fetch: Fetch | None,
    *,
    follow_links: bool = True,
    skip: Callable[[str], bool] | None = None,
) -> ReadResult:
    """One Item per feed entry: title, link, id (``external_id``), date (``published_from="feed"``), author.

    The text is the linked page, read through ``fetch`` (HTML, PDF or plain text), when
    ``follow_links`` is true and ``fetch`` is given; otherwise, or when following fails
    (one Failure per link), the entry's content or summary with HTML stripped.

    ``skip(link)`` lets the pipeline avoid re-reading what it already has: entries whose link
    it answers True for are left out entirely (not fetched, not returned). A malformed feed
    keeps whatever entries feedparser recovered; with none, ParseError names the feed.
    """
    items: list[Item] = []
    failures: list[Failure] = []
    for result in iter_feed(fetched, fetch, follow_links=follow_links, skip=skip):
        if isinstance(result, Failure):
            failures.append(result)
        else:
            items.append(result)
    return items, failures


def iter_feed(
    fetched: Fetched,
    fetch: Fetch | None,
    *,
    follow_links: bool = True,
    skip: Callable[[str], bool] | None = None,
) -> Iterator[Item | Failure]:
    """Like ``read_feed``, one entry at a time, so each followed page can be stored before the next is
    fetched. The feed itself is parsed at once: a broken feed raises ParseError here, not mid-iteration."""
    return _iter_entries(fetched, parse_feed(fetched), fetch, follow_links, skip)


def _iter_entries(
    fetched: Fetched,
    parsed: Any,
    fetch: Fetch | None,
    follow_links: bool,
    skip: Callable[[str], bool] | None,
) -> Iterator[Item | Failure]:
    for number, entry in enumerate(parsed.entries, start=1):
        link = entry.get("link") or ""
        if link and skip is not None and skip(link):
            continue
        own_text = _entry_text(entry)
        page = None
        if follow_links and fetch is not None and link and may_follow(link, fetched.url):
            page, failure = _follow(link, fetch)
            if failure is not None:
                yield failure
        item = _entry_item(entry, parsed.feed, page, own_text)
        if item is None:
            # feedparser gives an Atom id or RSS guid ("urn:...") as the link: name the feed's entry then.
            where = link if may_follow(link, fetched.url) else f"{fetched.url}#entry-{number}"
            yield Failure(where, "feed entry has no text")
        else:
            yield item
