"""Sources: registering what a monitor reads, and reading one source into items.

A source is a URL (feed, page or listing) or a local path (a file or a
folder). When the kind is not given it is detected from what the location
holds. Reading dispatches to the reader for the kind; the readers never do
HTTP or storage themselves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from civicwatch.collect import feeds, files, kinds, listing, pages
from civicwatch.config import Settings
from civicwatch.errors import FetchError, ResponseTooLargeError, UnsafeURLError, UsageError
from civicwatch.model import Failure, Fetched, Item, Source, SourceKind

_EVERY = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class Fetch(Protocol):
    def get(self, url: str, *, conditional: bool = True) -> Fetched: ...


@dataclass
class SourceRead:
    """What reading a source gives: its items and the inputs that failed, in the order read, lazily
    where the reader can (a feed's pages are fetched one by one as the caller goes), and whether the
    source said nothing changed."""

    results: Iterable[Item | Failure] = ()
    not_modified: bool = False


def parse_every(text: str) -> int:
    """How often to collect, as seconds: ``90m``, ``6h``, ``1d``, ``2w`` (plain numbers are seconds)."""
    match = _EVERY.match(text)
    if not match or int(match.group(1)) == 0:
        raise UsageError(text, "not an interval; use a number with s, m, h, d or w (e.g. 6h)")
    return int(match.group(1)) * _UNIT[match.group(2)]


def is_url(location: str) -> bool:
    return urlsplit(location).scheme.lower() in {"http", "https"}


def default_name(location: str) -> str:
    """A short readable name: host and path for a URL, the file or folder name for a path."""
    if is_url(location):
        parts = urlsplit(location)
        name = (parts.hostname or "") + parts.path.rstrip("/")
    else:
        name = Path(location).name or location
    return re.sub(r"[^\w.\-/]+", "-", name).strip("-/") or "source"


def new_source(
    location: str,
    settings: Settings,
    fetcher: Fetch | None,
    *,
    kind: SourceKind | None = None,
    name: str | None = None,
    every: str = "6h",
) -> Source:
    """Check a location and build its Source, detecting the kind when not given (may fetch the URL once)."""
    every_seconds = parse_every(every)
    if is_url(location):
        from civicwatch.collect.fetch import check_url

        check_url(location, allow_private=settings.allow_private)
        if kind is SourceKind.FILES:
            raise UsageError(location, "kind 'files' is for a local file or folder, not a URL")
        if kind is None:
            if fetcher is None:
                raise UsageError(location, "cannot detect the kind without fetching; give --kind")
            kind = kinds.detect_kind(location, fetcher.get(location, conditional=False))
    else:
        if "://" in location:
            raise UnsafeURLError(location, "only http:// and https:// URLs, or local paths, can be sources")
        path = Path(location).expanduser()
        if not path.exists():
            raise UsageError(location, "no such file or folder")
        location = str(path.resolve())
        if kind is None:
            kind = SourceKind.FILES
        elif kind is not SourceKind.FILES and not path.is_file():
            raise UsageError(location, f"kind {kind.value!r} needs a file, not a folder")
    return Source(name=name or default_name(location), location=location, kind=kind, every_seconds=every_seconds)


def read_source(
    source: Source, fetcher: Fetch, settings: Settings, *, already_have: Callable[[str], bool]
) -> SourceRead:
    """Read one source. Raises a CivicwatchError when the source as a whole cannot be read;
    an item that cannot be read is a Failure among the results."""
    follow: Callable[[str], Fetched]
    if is_url(source.location):
        fetched = fetcher.get(source.location)
        if fetched.not_modified:
            return SourceRead(not_modified=True)

        def follow(url: str) -> Fetched:
            return fetcher.get(url, conditional=False)

    elif source.kind is SourceKind.FILES:
        path = Path(source.location)
        if not path.exists():
            raise FetchError(source.location, "no such file or folder")
        return SourceRead(files.iter_path(path, max_bytes=settings.max_bytes))
    else:
        fetched = read_local(Path(source.location), settings.max_bytes)
        follow = local_follower(Path(source.location).parent, settings.max_bytes)
    return SourceRead(_read_fetched(source, fetched, follow, settings, already_have))


def _read_fetched(
    source: Source,
    fetched: Fetched,
    follow: Callable[[str], Fetched],
    settings: Settings,
    already_have: Callable[[str], bool],
) -> Iterable[Item | Failure]:
    if source.kind is SourceKind.FEED:
        # A feed saved to disk carries its entries' text; its links point at the web, which a local source
        # does not reach into.
        follow_links = settings.follow_links and is_url(source.location)
        return feeds.iter_feed(fetched, follow, follow_links=follow_links, skip=already_have)
    if source.kind is SourceKind.LISTING:
        digest, failures = listing.read_listing(fetched, follow, follow_links=settings.follow_links,
                                                skip=already_have)
        return [*failures, digest]
    if source.kind is SourceKind.PAGE:
        notes: list[Failure] = []  # e.g. a 5,000-page PDF read to its page cap: said, not silent
        item = pages.read_page(fetched, failures=notes)
        return [*notes, item]
    raise UsageError(source.location, "kind 'files' is for a local file or folder, not a URL")


def read_local(path: Path, max_bytes: int) -> Fetched:
    """A local file as if it had been fetched, so that the same readers handle it."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ResponseTooLargeError(str(path), f"file is {size / 1e6:.0f} MB, over the "
                                                   f"{max_bytes / 1e6:.0f} MB cap")
        content = path.read_bytes()
    except OSError as exc:
        raise FetchError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    suffix = path.suffix.lower()
    content_type = {".html": "text/html", ".htm": "text/html", ".xml": "application/xml",
                    ".atom": "application/atom+xml", ".rss": "application/rss+xml"}.get(suffix, "")
    return Fetched(url=path.resolve().as_uri(), status=200, content=content, content_type=content_type)


def local_follower(folder: Path, max_bytes: int) -> Callable[[str], Fetched]:
    """Follow a local listing's relative links to files inside its own folder, and nowhere else."""
    root = folder.resolve()

    def follow(url: str) -> Fetched:
        parts = urlsplit(url)
        if parts.scheme != "file":
            raise UnsafeURLError(url, "a local listing only links to files beside it")
        from urllib.request import url2pathname

        target = Path(url2pathname(parts.path)).resolve()
        if root not in target.parents:
            raise UnsafeURLError(url, "outside the listing's folder")
        return read_local(target, max_bytes)

    return follow
