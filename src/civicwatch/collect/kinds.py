"""Tell what kind of source a location is: local files, a feed, a listing page, or a single page."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from civicwatch.collect.listing import looks_like_listing
from civicwatch.collect.pages import HTML_TYPES, decode_bytes, is_binary
from civicwatch.model import Fetched, SourceKind

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
_FEED_ROOT = re.compile(r"<(?:rss|feed|rdf:RDF)[\s>/]")
_HTML_ROOT = re.compile(r"<(?:html|body|!doctype\s+html)[\s>]", re.I)
_FEED_PATH = re.compile(r"(?:\.(?:rss|atom|rdf)|/(?:feed|rss|atom)(?:\.xml)?/?|\.xml)$", re.I)
_SNIFF_BYTES = 4096


def looks_like_feed(fetched: Fetched) -> bool:
    """A feed by media type, or by an ``<rss``, ``<feed`` or ``<rdf:RDF`` root near the start."""
    if fetched.content_type in FEED_TYPES:
        return True
    head = fetched.content[:_SNIFF_BYTES]
    if not head.strip() or is_binary(head):
        return False
    text = decode_bytes(head, fetched.charset, sniff_meta=False)
    feed = _FEED_ROOT.search(text)
    if feed is None:
        return False
    html = _HTML_ROOT.search(text)
    return html is None or html.start() > feed.start()


def _is_local_path(location: str) -> bool:
    if urlsplit(location).scheme.lower() in {"http", "https"}:
        return False
    try:
        return Path(location).expanduser().exists()
    except (OSError, ValueError):  # a name too long, a NUL byte
        return False


def detect_kind(location: str, fetched: Fetched | None) -> SourceKind:
    """The kind of a source: an existing path is FILES; a feed (media type or XML root) is FEED;
    HTML that ``looks_like_listing`` is LISTING; anything else is PAGE.

    Without ``fetched``, a URL is judged by its path alone (``.rss``, ``/feed``... are FEED).
    """
    if _is_local_path(location):
        return SourceKind.FILES
    if fetched is None:
        return SourceKind.FEED if _FEED_PATH.search(urlsplit(location).path) else SourceKind.PAGE
    if looks_like_feed(fetched):
        return SourceKind.FEED
    html_like = fetched.content_type in HTML_TYPES or not fetched.content_type
    if html_like and looks_like_listing(fetched.content, fetched.url or location):
        return SourceKind.LISTING
    return SourceKind.PAGE
