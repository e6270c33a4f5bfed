"""Read one web page: decode its bytes safely, then take its main text and metadata with trafilatura.

This module also holds what the other readers share: the ``ReadResult`` and
``Fetch`` types, byte decoding, HTML parsing, and HTML-fragment-to-text.

Readers never do HTTP themselves: a reader that must follow a link is given a
``fetch`` callable (the pipeline's Fetcher), which returns a ``Fetched`` or
raises a ``FetchError``.
"""

from __future__ import annotations

import codecs
import html as htmllib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

import charset_normalizer
import htmldate
import trafilatura
from lxml import etree
from lxml.html import HtmlElement, HTMLParser, document_fromstring

from civicwatch.collect.pdf import read_pdf
from civicwatch.errors import ParseError
from civicwatch.model import Failure, Fetched, Item

ReadResult = tuple[list[Item], list[Failure]]
"""What a reader of many items returns: the items read, and one Failure per input it could not read."""

Fetch = Callable[[str], Fetched]
"""Fetches a URL for a reader (following a feed entry's or a teaser's link); raises FetchError."""

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

# Binary formats that servers sometimes label text/html; checked before any decoding.
_BINARY_MAGIC = (
    b"%PDF", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"BZh", b"\x7fELF"
)
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]{0,200}\?>")
# Characters libxml2 refuses in a Python string (it raises instead of skipping them).
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Labels that browsers decode as windows-1252 (WHATWG encoding standard); ascii pages are often UTF-8.
_WINDOWS_1252_ALIASES = frozenset({"ascii", "latin-1", "latin1", "iso8859-1", "iso-8859-1", "us-ascii"})
_SNIFF_BYTES = 8192

_PARSER = HTMLParser(collect_ids=False, default_doctype=False, remove_comments=True, remove_pis=True)
# Page chrome and code: left out of the fallback text.
_SKIP_TAGS = frozenset("script style noscript template nav header footer aside form".split())  # noqa: SIM905
_BLOCK_TAGS = frozenset(
    "address article blockquote br dd div dl dt figcaption figure h1 h2 h3 h4 h5 h6 hr li main ol p pre "  # noqa: SIM905
    "section table td th tr ul".split()
)


def is_binary(data: bytes) -> bool:
    """Whether ``data`` looks binary rather than text: NUL or control bytes, or a known magic number."""
    head = data[:_SNIFF_BYTES]
    if head.startswith(_BINARY_MAGIC):
        return True
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False  # UTF-16 text is full of NUL bytes
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls > len(head) // 20


def _codec(label: str | None) -> str | None:
    """The Python codec name for a charset label, or None when Python does not know it."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return "cp1252" if name in _WINDOWS_1252_ALIASES else name


def _strict(data: bytes, codec: str | None) -> str | None:
    """``data`` decoded with ``codec`` when every byte is valid in it, else None."""
    if codec is None:
        return None
    # Declared latin-1/ascii pages are frequently UTF-8 in truth; cp1252 leaves 5 bytes undefined.
    attempts = ("utf-8", "cp1252", "latin-1") if codec == "cp1252" else (codec,)
    for attempt in attempts:
        try:
            return data.decode(attempt)
        except (UnicodeDecodeError, LookupError):
            continue
    return None


def _guess_codec(data: bytes) -> str:
    """charset_normalizer's best guess; among equally good guesses, windows-1252, the web's commonest."""
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        return "utf-8"
    best = min(matches, key=lambda m: (m.chaos, -m.coherence, m.encoding != "cp1252"))
    return str(best.encoding)


def decode_bytes(data: bytes, declared: str | None = None, *, sniff_meta: bool = True) -> str:
    """Decode ``data`` without ever failing: BOM, then the declared charset, then ``<meta charset>``,
    then UTF-8, then charset_normalizer's guess, and finally UTF-8 with replacement characters.

    ``declared`` is the charset from the Content-Type header, if any. A declared charset that cannot
    decode the bytes is ignored rather than trusted, since servers often misstate it.
    """
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    text = _strict(data, _codec(declared))
    if text is None and sniff_meta:
        match = _META_CHARSET.search(data[:4096])
        text = _strict(data, _codec(match.group(1).decode("ascii"))) if match else None
    if text is None:
        text = _strict(data, "utf-8")
    if text is None:
        text = data.decode(_guess_codec(data), errors="replace")
    return text


def decode_html(fetched: Fetched) -> str:
    """The text of an HTML response, decoded safely; ParseError when it is empty or binary."""
    data = fetched.content
    if not data.strip():
        raise ParseError(fetched.url, "empty response")
    if is_binary(data):
        raise ParseError(fetched.url, "not an HTML page (binary content)")
    return decode_bytes(data, fetched.charset)


def parse_html(text: str, url: str) -> HtmlElement:
    """Parse decoded HTML into an lxml tree, once, for every later use (teasers, trafilatura, fallback).

    libxml2 caps nesting at 256 levels, so hostile deeply nested pages parse quickly into a bounded tree.
    """
    text = _INVALID_XML_CHARS.sub("", _XML_DECLARATION.sub("", text, count=1))
    try:
        tree = trafilatura.load_html(text)
        if tree is None:  # a fragment without <html>: trafilatura refuses it, lxml wraps it
            tree = document_fromstring(text, parser=_PARSER)
    except (etree.LxmlError, ValueError, RecursionError) as exc:
        raise ParseError(url, f"not a readable HTML page: {exc}") from exc
    if tree is None:
        raise ParseError(url, "not a readable HTML page")
    return tree


def tree_text(root: HtmlElement) -> str:
    """Visible text of an element with a line break after each block, skipping scripts and page chrome."""
    parts: list[str] = []
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in _SKIP_TAGS and el is not root:
                walker.skip_subtree()
                if el.tail:
                    parts.append(el.tail)
                continue
            if el.text:
                parts.append(el.text)
        else:
            if tag in _BLOCK_TAGS:
                parts.append("\n")
            if el.tail and el is not root:
                parts.append(el.tail)
    return normalize_text("".join(parts))


# [^<>]* rather than [^>]*: a scan never runs past the next "<", which keeps hostile fragments linear.
_TAG = re.compile(r"<[^<>]*>")
_BREAK_TAG = re.compile(r"<\s*(?:br|/p|/div|/li|/h[1-6]|/tr|/blockquote|p|li|h[1-6])\b[^<>]*>", re.I)
_CODE_OPEN = re.compile(r"<(script|style)\b")
_SPACES = re.compile(r"[^\S\n]+")
_BLANKS = re.compile(r"\n\s*\n\s*")


def normalize_text(text: str) -> str:
    """Collapse runs of spaces, strip each line, and keep at most one blank line between paragraphs."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def _drop_code(fragment: str) -> str:
    """The fragment without <script> and <style> elements, in one pass (an unclosed one runs to the end)."""
    lower = fragment.lower()
    kept: list[str] = []
    position = 0
    while (opening := _CODE_OPEN.search(lower, position)) is not None:
        kept.append(fragment[position : opening.start()])
        end = lower.find("</" + opening.group(1), opening.end())
        if end < 0:
            return " ".join(kept)
        close = lower.find(">", end)
        position = len(fragment) if close < 0 else close + 1
    kept.append(fragment[position:])
    return " ".join(kept)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (a feed summary, a teaser): tags dropped, entities decoded.

    Regular expressions rather than a parser, so that a fragment's depth or brokenness cannot matter.
    """
    if "<" not in fragment and "&" not in fragment:
        return normalize_text(fragment)
    text = _BREAK_TAG.sub("\n", _drop_code(fragment))
    text = _TAG.sub("", text)
    return normalize_text(htmllib.unescape(text))


@dataclass
class PageMetadata:
    """Title, author, date (ISO) and canonical URL of a page, each None when the page does not say."""

    title: str | None = None
    author: str | None = None
    date: str | None = None
    canonical_url: str | None = None


def page_metadata(tree: HtmlElement, url: str) -> PageMetadata:
    """A page's metadata from its <meta> tags, canonical link, JSON-LD, headings and byline; the date by htmldate.

    Leaner than trafilatura's own metadata pass (which costs more than the text extraction on
    typical articles) while reading the same sources for the four fields civicwatch keeps.
    """
    metas: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        content = normalize_text(meta.get("content") or "")
        if key and content and key not in metas:
            metas[key] = content
    linked = _json_ld(tree)
    canonical = next((link.get("href") for link in tree.iter("link") if _is_canonical(link)), None)
    canonical = (canonical or metas.get("og:url") or "").strip()
    return PageMetadata(
        title=metas.get("og:title") or linked.get("headline") or metas.get("twitter:title") or _title_of(tree),
        author=next((metas[k] for k in _AUTHOR_KEYS if k in metas and "://" not in metas[k]), None)
        or linked.get("author")
        or _byline(tree),
        date=_date_of(tree, url),
        canonical_url=joined_url(url, canonical) if canonical else None,
    )


def joined_url(base: str, href: str) -> str | None:
    """``href`` made absolute against ``base``; None for an address no URL can be made of (``http://[x``).

    Pages are written by anyone: a malformed link is left out, never a reason to lose the page.
    """
    try:
        return urljoin(base, href)
    except ValueError:
        return None


_AUTHOR_KEYS = ("author", "article:author", "dc.creator", "dcterms.creator", "citation_author", "parsely-author")
_BYLINE = etree.XPath(
    "(//*[@rel='author' or @itemprop='author' or contains(concat(' ', normalize-space(@class), ' '), ' byline ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' author ')])[1]"
)
_BY = re.compile(r"^(?:by|von|par|por|автор:?)\s+", re.I)
_TITLE_SEPARATORS = re.compile(r"\s+[|–—•:-]{1,2}\s+")
_LD_MAX_CHARS = 200_000


def _is_canonical(link: HtmlElement) -> bool:
    return "canonical" in (link.get("rel") or "").lower().split() and bool(link.get("href"))


def _title_of(tree: HtmlElement) -> str | None:
    """The only <h1> when there is one, else the headline part of <title> ("Report | Site" -> "Report")."""
    headings = tree.xpath("//h1")
    if len(headings) == 1:
        heading = normalize_text(headings[0].text_content())
        if heading:
            return heading
    title = tree.find(".//title")
    text = normalize_text(title.text_content()) if title is not None else ""
    if not text:
        return None
    parts = _TITLE_SEPARATORS.split(text)
    # "Headline | Site" is the common order; a short first part is rather the site ("Site - Headline").
    return parts[0] if len(parts[0]) >= 12 else max(parts, key=len)


def _byline(tree: HtmlElement) -> str | None:
    found = _BYLINE(tree)
    if not found or not isinstance(found[0], HtmlElement):
        return None
    text = _BY.sub("", normalize_text(found[0].text_content()).replace("\n", " "))
    name = re.split(r"[,|•·]| - | on ", text, maxsplit=1)[0].strip()
    return name if 2 < len(name) <= 80 else None


def _json_ld(tree: HtmlElement) -> dict[str, str]:
    """Headline and author name of the first JSON-LD object that has them."""
    found: dict[str, str] = {}
    for script in tree.xpath("//script[@type='application/ld+json']"):
        text = script.text or ""
        if len(text) > _LD_MAX_CHARS:
            continue
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            continue
        for node in _ld_nodes(data):
            headline = node.get("headline")
            if "headline" not in found and isinstance(headline, str):
                found["headline"] = normalize_text(headline)
            author = node.get("author")
            author = author[0] if isinstance(author, list) and author else author
            name = author.get("name") if isinstance(author, dict) else author
            if "author" not in found and isinstance(name, str) and name.strip():
                found["author"] = normalize_text(name)
    return found


def _ld_nodes(data: object, depth: int = 0) -> list[dict[str, object]]:
    """The objects of a JSON-LD document: itself, its @graph, or its list items (two levels deep)."""
    if depth > 2:
        return []
    if isinstance(data, list):
        return [node for item in data[:50] for node in _ld_nodes(item, depth + 1)]
    if isinstance(data, dict):
        return [data, *_ld_nodes(data.get("@graph"), depth + 1)]
    return []


def _date_of(tree: HtmlElement, url: str) -> str | None:
    try:
        found = htmldate.find_date(tree, url=url, original_date=True, extensive_search=True)
    except Exception:  # noqa: BLE001 - a third-party date finder on hostile HTML: no date, not a crash
        return None
    return found or None


FULL_EXTRACTION_BELOW = 250  # characters of fast-path text under which the full extraction runs too


def _main_text(tree: HtmlElement, url: str, *, fast: bool) -> str:
    try:
        document = trafilatura.bare_extraction(tree, url=url, fast=fast)
    except Exception:  # noqa: BLE001 - a third-party extractor on hostile HTML: fall back, never crash
        return ""
    if document is None or isinstance(document, dict):
        return ""
    return (document.text or "").strip()


def page_item(fetched: Fetched, tree: HtmlElement) -> Item:
    """The Item for a parsed page: trafilatura's main text (or the visible text when it finds none)
    and the page's metadata."""
    # Metadata comes from page_metadata; trafilatura copies the tree, so ours stays whole for it.
    text = _main_text(tree, fetched.url, fast=True)
    if len(text) < FULL_EXTRACTION_BELOW:
        # trafilatura's fast path skips its fallback extractors (readability, jusText). On article pages
        # both give the same text at twice the speed; when the fast text is short, its main-content
        # heuristic has likely missed, which is what the fallbacks are for.
        text = _main_text(tree, fetched.url, fast=False) or text
    if not text:
        # trafilatura gives up on short or odd pages (under its minimum size): keep the visible text.
        # Without a body there is no visible text: the head's <title> alone is not a document.
        body = tree.find(".//body")
        text = tree_text(body) if body is not None else ""
    if not text:
        raise ParseError(fetched.url, "no text found in the page")
    meta = page_metadata(tree, fetched.url)
    return Item(
        text=text,
        url=fetched.url,
        title=meta.title,
        published=meta.date,
        published_from="metadata" if meta.date else None,
        author=meta.author,
        canonical_url=meta.canonical_url,
        raw=fetched.content,
        raw_type=fetched.content_type or "text/html",
    )


def read_text(fetched: Fetched) -> Item:
    """A plain-text response as one Item (decoded safely)."""
    if not fetched.content.strip():
        raise ParseError(fetched.url, "empty response")
    if is_binary(fetched.content):
        raise ParseError(fetched.url, "not a text document (binary content)")
    text = normalize_text(decode_bytes(fetched.content, fetched.charset, sniff_meta=False))
    if not text:
        # Bytes that decode to nothing but spaces or format characters (found by fuzzing): not a document.
        raise ParseError(fetched.url, "no text found in the response")
    raw_type = fetched.content_type or "text/plain"
    return Item(text=text, url=fetched.url, raw=fetched.content, raw_type=raw_type)


def read_page(fetched: Fetched, *, failures: list[Failure] | None = None) -> Item:
    """Main text, title, author, date (``published_from="metadata"``) and canonical URL of a web page.

    A PDF (by media type or ``%PDF`` header) is read with ``pdf.read_pdf`` and a ``text/plain``
    response as plain text, since a link or a page source may lead to either. Raises ParseError
    for an empty body, binary content, or a page without any text. What a PDF's caps cut is appended
    to ``failures`` when given.
    """
    if fetched.content_type == "application/pdf" or fetched.content[:1024].lstrip().startswith(b"%PDF"):
        return read_pdf(fetched.content, fetched.url, failures=failures)
    if fetched.content_type == "text/plain":
        return read_text(fetched)
    return page_item(fetched, parse_html(decode_html(fetched), fetched.url))


def may_follow(link: str, page_url: str) -> bool:
    """Whether a reader follows ``link`` found on ``page_url``: http(s) links, and file links of local pages.

    Anything else (mailto:, ftp:, a file: link in a web page) is left alone; the Fetcher applies the
    rest of the safety rules (private addresses, robots.txt, size caps).
    """
    scheme = link.split(":", 1)[0].lower()
    return scheme in ("http", "https") or (scheme == "file" and page_url.lower().startswith("file:"))
