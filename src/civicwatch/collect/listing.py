"""Read a listing page (a country page, a news index: many teasers with links) into a digest Item.

Finding the teasers: every link with substantial anchor text (or inside an h2-h4) is a
candidate; its *block* is its highest ancestor that links to no other candidate URL (the
``<article>`` or ``<li>`` around it, or just the heading when teasers sit flat in one
container, in which case the block also takes the following siblings up to the next
teaser). Blocks are grouped by their tag path (tags and first classes from the root),
and the biggest group of at least three is the list of teasers. Each teaser's link is
then followed one level for the full text; the teaser's own text is kept when that fails.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from urllib.parse import urldefrag

from lxml.html import HtmlElement

from civicwatch.collect.pages import (
    Fetch,
    decode_bytes,
    decode_html,
    is_binary,
    joined_url,
    may_follow,
    normalize_text,
    page_item,
    parse_html,
    read_page,
    tree_text,
)
from civicwatch.errors import FetchError, ParseError
from civicwatch.model import Failure, Fetched, Item

MIN_TEASERS = 3
MIN_ANCHOR_CHARS = 20
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_TEASER_HEADINGS = frozenset({"h2", "h3", "h4"})
# Links here are navigation, not teasers of the page's own content.
_CHROME = frozenset({"nav", "header", "footer", "aside", "form", "select", "menu"})
_MAX_SIBLINGS = 12
_DIGITS = re.compile(r"\d+")

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE_PATTERNS = (
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), "ymd"),
    (re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r"\.?,?\s+(\d{4})\b", re.I), "dMy"),
    (re.compile(r"\b" + _MONTH + r"\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", re.I), "Mdy"),
    (re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b"), "dmy"),
)


@dataclass
class Teaser:
    """One teaser block of a listing: its headline, absolute link, text and date if it shows one."""

    title: str
    url: str
    text: str
    published: str | None = None


def find_date(text: str) -> str | None:
    """The first calendar date written in ``text`` (ISO, "13 May 2009", "May 13, 2009", "13.05.2009")."""
    for pattern, order in _DATE_PATTERNS:
        for match in pattern.finditer(text[:2000]):
            a, b, c = match.groups()
            try:
                if order == "ymd":
                    day = date(int(a), int(b), int(c))
                elif order == "dMy":
                    day = date(int(c), _MONTHS[b.lower().rstrip(".")], int(a))
                elif order == "Mdy":
                    day = date(int(c), _MONTHS[a.lower().rstrip(".")], int(b))
                else:
                    day = date(int(c), int(b), int(a))
            except (ValueError, KeyError):
                continue
            if 1900 <= day.year <= 2100:
                return day.isoformat()
    return None


def _base_url(tree: HtmlElement, url: str) -> str:
    base = tree.find(".//base[@href]")
    return (joined_url(url, base.get("href", "").strip()) or url) if base is not None else url


def _candidates(tree: HtmlElement, base: str, page_url: str) -> Iterator[tuple[HtmlElement, str, str]]:
    """(anchor, absolute URL, anchor text) of every link that may be a teaser's headline."""
    page = urldefrag(page_url)[0]
    for anchor in tree.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        ancestors = [el.tag for el in anchor.iterancestors() if isinstance(el.tag, str)]
        if _CHROME.intersection(ancestors):
            continue
        text = normalize_text(anchor.text_content())
        in_heading = bool(_TEASER_HEADINGS.intersection(ancestors[:3]))
        if len(text) < MIN_ANCHOR_CHARS and not (in_heading and len(text) >= 3):
            continue
        absolute = joined_url(base, href)
        url = urldefrag(absolute)[0] if absolute else ""
        if url and url != page:
            yield anchor, url, text


def _key(el: HtmlElement) -> tuple[str, ...]:
    """The tag path of a block: tag and first class (digits dropped) of each element from the root."""
    path = []
    for node in [el, *el.iterancestors()]:
        classes = (node.get("class") or "").split()
        path.append(f"{node.tag}.{_DIGITS.sub('', classes[0])}" if classes else str(node.tag))
    return tuple(reversed(path))


_Blocks = dict[HtmlElement, tuple[str, str, HtmlElement]]


def _blocks(tree: HtmlElement, base: str, page_url: str) -> tuple[_Blocks, dict[HtmlElement, set[str]]]:
    """Each teaser block with (URL, headline, headline anchor), and the candidate URLs under each element."""
    anchors = list(_candidates(tree, base, page_url))
    urls_under: dict[HtmlElement, set[str]] = defaultdict(set)
    for anchor, url, _ in anchors:
        for node in [anchor, *anchor.iterancestors()]:
            urls_under[node].add(url)
    blocks: _Blocks = {}
    for anchor, url, text in anchors:
        block = anchor
        parent = block.getparent()
        while parent is not None and parent.tag != "body" and len(urls_under[parent]) == 1:
            block, parent = parent, parent.getparent()
        known = blocks.get(block)
        # Several links to one article in a block (picture, headline, "read more"): the headline wins.
        if known is None or (_in_heading(anchor) and not _in_heading(known[2])):
            blocks[block] = (url, text, anchor)
    return blocks, urls_under


def _in_heading(anchor: HtmlElement) -> bool:
    return any(node.tag in _HEADINGS for node in anchor.iterancestors())


def _block_parts(block: HtmlElement, urls_under: dict[HtmlElement, set[str]]) -> list[HtmlElement]:
    """The block, plus its following siblings when it is a bare headline in a flat list of teasers."""
    parts = [block]
    if block.tag in _HEADINGS or block.tag == "a":
        for sibling in block.itersiblings():
            if len(parts) > _MAX_SIBLINGS or sibling.tag in _HEADINGS or urls_under.get(sibling):
                break
            parts.append(sibling)
    return parts


def _teaser(parts: list[HtmlElement], url: str, title: str) -> Teaser:
    text = normalize_text("\n".join(tree_text(part) for part in parts))
    published = None
    for part in parts:
        for time_el in part.iter("time"):
            published = find_date(time_el.get("datetime") or "") or find_date(time_el.text_content())
            if published:
                break
        if published:
            break
    return Teaser(title=title, url=url, text=text or title, published=published or find_date(text))


def find_teasers(tree: HtmlElement, url: str) -> list[Teaser]:
    """The teasers of a listing page: the biggest group (at least three) of similar link blocks.

    Returns [] when the page has no such group. Teasers come in page order, one per URL.
    """
    blocks, urls_under = _blocks(tree, _base_url(tree, url), url)
    groups: dict[tuple[str, ...], list[HtmlElement]] = defaultdict(list)
    for block in blocks:
        groups[_key(block)].append(block)
    big = [members for members in groups.values() if len(members) >= MIN_TEASERS]
    if not big:
        return []
    chosen = max(big, key=lambda members: (len(members), sum(len(blocks[b][1]) for b in members)))
    teasers: list[Teaser] = []
    seen: set[str] = set()
    for block in chosen:
        link, title, _ = blocks[block]
        if link in seen:
            continue
        seen.add(link)
        teasers.append(_teaser(_block_parts(block, urls_under), link, title))
    return teasers


def looks_like_listing(html: str | bytes, url: str) -> bool:
    """Whether a page is a listing: at least three similar teaser blocks holding a good share of its text.

    An article with a "related stories" box has teasers too, but they hold little of its text.
    """
    if isinstance(html, bytes):
        if not html.strip() or is_binary(html):
            return False
        html = decode_bytes(html)
    try:
        tree = parse_html(html, url)
    except ParseError:
        return False
    return _is_listing(tree, find_teasers(tree, url))


def _is_listing(tree: HtmlElement, teasers: list[Teaser]) -> bool:
    if len(teasers) < MIN_TEASERS:
        return False
    body = tree.find(".//body")
    total = len(tree_text(body if body is not None else tree)) or 1
    share = sum(len(t.text) for t in teasers) / total
    og_type = tree.xpath("string(//meta[@property='og:type']/@content)").strip().lower()
    return share >= (0.6 if og_type == "article" else 0.35)


def _child(teaser: Teaser, page: Item | None) -> Item:
    published_from = "listing" if teaser.published else (page.published_from if page else None)
    return Item(
        text=page.text if page is not None else teaser.text,
        url=teaser.url,
        title=teaser.title or (page.title if page else None),
        published=teaser.published or (page.published if page else None),
        published_from=published_from,
        author=page.author if page else None,
        canonical_url=page.canonical_url if page else None,
        raw=page.raw if page else None,
        raw_type=page.raw_type if page else None,
    )


def read_listing(
    fetched: Fetched,
    fetch: Fetch | None,
    *,
    follow_links: bool = True,
    skip: Callable[[str], bool] | None = None,
) -> tuple[Item, list[Failure]]:
    """The digest Item of a listing page (its main text, raw kept) with one child Item per teaser.

    Returns ``(digest, failures)``. Each child has the teaser's title, absolute URL, date
    (``published_from="listing"``) and, when ``follow_links`` and ``fetch`` allow, the full text
    of the linked page (http(s) links; file links only from a local page); when following fails
    the teaser text is kept and a Failure says why. ``skip(url)`` answering True leaves that
    teaser out (the pipeline has it). A page without teasers is returned as a digest without
    children, with a Failure saying so.
    """
    tree = parse_html(decode_html(fetched), fetched.url)
    teasers = find_teasers(tree, fetched.url)  # before trafilatura, which prunes its copy of the tree
    failures: list[Failure] = []
    try:
        digest = page_item(fetched, tree)
    except ParseError:
        if not teasers:
            raise
        text = "\n\n".join(t.text for t in teasers)
        raw_type = fetched.content_type or "text/html"
        digest = Item(text=text, url=fetched.url, raw=fetched.content, raw_type=raw_type)
    if not teasers:
        failures.append(Failure(fetched.url, "no teasers found on the listing page; read as one page"))
    for teaser in teasers:
        if skip is not None and skip(teaser.url):
            continue
        page = None
        if follow_links and fetch is not None and may_follow(teaser.url, fetched.url):
            try:
                page = read_page(fetch(teaser.url))
            except (FetchError, ParseError) as exc:
                failures.append(Failure(teaser.url, f"{exc.reason}; kept the teaser"))
        digest.children.append(_child(teaser, page))
    return digest, failures
