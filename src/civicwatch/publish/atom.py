"""Atom feeds (RFC 4287): a list of entries in, a valid feed document out.

    entries = [FeedEntry(id=url, title="Detention in Uzbekistan", link=url, updated=when, summary=evidence)]
    body = atom_feed(title="civicwatch: incidents", feed_id=self_url, self_url=self_url,
                     site_url=page_url, entries=entries)

The XML is built with ElementTree, which escapes every text and attribute: whatever a
document says, the feed stays well-formed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"
GENERATOR = "civicwatch"

ET.register_namespace("", ATOM)  # Atom as the default namespace: <feed xmlns="...">, not <ns0:feed>

# XML 1.0 forbids most control characters even escaped; a stray one in a document would break the feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class FeedEntry:
    """One entry: ``id`` a permanent URI, ``link`` the page to open, ``updated`` when it last changed."""

    id: str
    title: str
    link: str
    updated: datetime
    summary: str = ""
    published: datetime | None = None
    categories: list[tuple[str, str]] = field(default_factory=list)  # (scheme, term)
    related: str | None = None  # e.g. the source document the entry is about


def _text(value: str) -> str:
    return _NOT_XML.sub(" ", value)


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: _text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = _text(text)
    return element


def atom_feed(
    *,
    title: str,
    feed_id: str,
    self_url: str,
    site_url: str,
    entries: Sequence[FeedEntry],
    updated: datetime | None = None,
    author: str = "civicwatch",
) -> bytes:
    """The Atom document (UTF-8 bytes) for ``entries``, in the order given.

    ``updated`` defaults to the newest entry's, or now for an empty feed (Atom requires one).
    """
    feed = ET.Element(f"{{{ATOM}}}feed")
    _add(feed, "id", feed_id)
    _add(feed, "title", title)
    newest = max((entry.updated for entry in entries), default=None, key=_timestamp)
    _add(feed, "updated", _timestamp(updated or newest or datetime.now(UTC)))
    _add(_add(feed, "author"), "name", author)
    _add(feed, "link", rel="self", type=MEDIA_TYPE, href=self_url)
    _add(feed, "link", rel="alternate", type="text/html", href=site_url)
    _add(feed, "generator", GENERATOR)
    for entry in entries:
        _add_entry(feed, entry)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _add_entry(feed: ET.Element, entry: FeedEntry) -> None:
    element = _add(feed, "entry")
    _add(element, "id", entry.id)
    _add(element, "title", entry.title, type="text")
    _add(element, "updated", _timestamp(entry.updated))
    if entry.published is not None:
        _add(element, "published", _timestamp(entry.published))
    _add(element, "link", rel="alternate", type="text/html", href=entry.link)
    if entry.related:
        _add(element, "link", rel="related", href=entry.related)
    for scheme, term in entry.categories:
        _add(element, "category", scheme=scheme, term=term)
    if entry.summary:
        _add(element, "summary", entry.summary, type="text")
