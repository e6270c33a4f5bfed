"""Read local files, or every file of a folder, into Items.

By extension: ``.html``/``.htm`` (main text, as a web page), ``.pdf``, ``.txt``/``.md``/``.markdown``
(a plain-text digest becomes a digest Item with children), ``.jsonl``/``.ndjson`` (one Item per
line), ``.xml``/``.atom``/``.rss`` (a feed; links are not followed for local files).

An Item's ``url`` is the file's absolute ``file://`` URI (children of a text digest add
``#item-N``); a JSON line's own ``url`` wins. Failures name the path as found (``path:line``
for JSON lines). Folders are read recursively in sorted order, skipping hidden files and
folders (names starting with a dot) and not following symlinked folders.

Files over ``max_bytes`` are refused with a Failure, except JSON Lines files, which are read
line by line whatever their size (each line is capped at ``max_bytes``).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from civicwatch.collect.feeds import read_feed
from civicwatch.collect.pages import ReadResult, decode_bytes, is_binary, normalize_text, read_page
from civicwatch.collect.pdf import read_pdf
from civicwatch.collect.split import split_digest
from civicwatch.errors import CivicwatchError, ParseError
from civicwatch.model import Failure, Fetched, Item

HTML_SUFFIXES = frozenset({".html", ".htm"})
TEXT_SUFFIXES = {".txt": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown"}
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
FEED_SUFFIXES = frozenset({".xml", ".atom", ".rss"})
SUFFIXES = HTML_SUFFIXES | set(TEXT_SUFFIXES) | JSONL_SUFFIXES | FEED_SUFFIXES | {".pdf"}
_TITLE_MAX_CHARS = 200
_OPTIONAL_FIELDS = ("title", "url", "published", "lang", "author")


def read_path(path: Path, *, max_bytes: int) -> ReadResult:
    """Items of a file, or of every supported file under a folder; one Failure per unreadable input."""
    items: list[Item] = []
    failures: list[Failure] = []
    for result in iter_path(path, max_bytes=max_bytes):
        if isinstance(result, Failure):
            failures.append(result)
        else:
            items.append(result)
    return items, failures


def iter_path(path: Path, *, max_bytes: int) -> Iterator[Item | Failure]:
    """Like ``read_path``, one result at a time, so that a big JSON Lines file streams through."""
    if path.is_dir():
        files, unreadable = _walk(path)
        yield from unreadable
        for file in files:
            yield from read_file(file, max_bytes=max_bytes)
    elif path.exists():
        yield from read_file(path, max_bytes=max_bytes)
    else:
        yield Failure(str(path), "no such file or folder")


def _walk(root: Path) -> tuple[list[Path], list[Failure]]:
    """The visible files under ``root``, sorted, and a Failure for each folder that could not be listed."""
    found: list[Path] = []
    unreadable: list[Failure] = []

    def report(exc: OSError) -> None:
        unreadable.append(Failure(str(exc.filename or root), f"cannot list folder: {exc.strerror or exc}"))

    for folder, dirs, names in os.walk(root, onerror=report):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(Path(folder, name) for name in names if not name.startswith("."))
    return sorted(found), unreadable


def read_file(path: Path, *, max_bytes: int) -> Iterator[Item | Failure]:
    """The Items of one file (or a Failure naming it), dispatched on its extension."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        yield Failure(str(path), f"unsupported file type {suffix or '(no extension)'}")
        return
    try:
        # A FIFO would block the run forever and a link to /dev/zero would fill memory: regular files only.
        if not stat.S_ISREG(path.stat().st_mode):
            yield Failure(str(path), "not a regular file (a pipe, device or socket)")
            return
        if suffix in JSONL_SUFFIXES:
            yield from read_jsonl(path, max_bytes=max_bytes)
            return
        size = path.stat().st_size
        if size > max_bytes:
            yield Failure(str(path), f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB cap")
            return
        data = path.read_bytes()
    except OSError as exc:
        yield Failure(str(path), f"cannot read: {exc.strerror or exc}")
        return
    uri = path.resolve().as_uri()
    try:
        if suffix in FEED_SUFFIXES:
            items, failures = read_feed(Fetched(uri, 200, data, "application/xml"), None, follow_links=False)
            yield from items
            yield from failures
            return
        if suffix in HTML_SUFFIXES:
            item = read_page(Fetched(uri, 200, data, "text/html"))
        elif suffix == ".pdf":
            notes: list[Failure] = []
            item = read_pdf(data, uri, failures=notes)
            yield from (Failure(str(path), note.reason) for note in notes)
        else:
            item = _text_item(data, uri, TEXT_SUFFIXES[suffix], str(path))
    except CivicwatchError as exc:
        yield Failure(str(path), exc.reason)
        return
    if item.published is None:
        _date_from_file(item, path)
    yield item


def _date_from_file(item: Item, path: Path) -> None:
    """Undated items take the file's modification date (``published_from="file"``)."""
    try:
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except (OSError, OverflowError, ValueError):
        return
    for each in [item, *item.children]:
        if each.published is None:
            each.published, each.published_from = modified.date().isoformat(), "file"


def _title(text: str) -> str | None:
    """A text's first line as its title when it is short and more text follows (a headline)."""
    first, _, rest = text.partition("\n")
    first = first.lstrip("#").strip()
    return first if first and rest.strip() and len(first) <= _TITLE_MAX_CHARS else None


def _text_item(data: bytes, uri: str, media_type: str, name: str) -> Item:
    if not data.strip():
        raise ParseError(name, "empty file")
    if is_binary(data):
        raise ParseError(name, "not a text file (binary content)")
    text = decode_bytes(data, sniff_meta=False)
    pieces = split_digest(text)
    item = Item(text=normalize_text(text), url=uri, title=_title(text.strip()), raw=data, raw_type=media_type)
    if len(pieces) > 1:
        item.children = [
            Item(text=piece, url=f"{uri}#item-{number}", title=_title(piece))
            for number, piece in enumerate(pieces, start=1)
        ]
    return item


def read_jsonl(path: Path, *, max_bytes: int) -> Iterator[Item | Failure]:
    """One Item per JSON line (``id`` and ``text`` required; ``title``, ``url``, ``published``,
    ``lang``, ``author`` optional), read line by line; a bad line is a Failure and the rest goes on."""
    with path.open("rb") as stream:
        lineno = 0
        while True:
            line = stream.readline(max_bytes + 1)
            if not line:
                return
            lineno += 1
            if len(line) > max_bytes and not line.endswith(b"\n"):
                _skip_rest_of_line(stream)
                yield Failure(f"{path}:{lineno}", f"line is over the {max_bytes / 1e6:g} MB cap")
                continue
            if line.strip():
                yield _jsonl_item(line, f"{path}:{lineno}")


def _skip_rest_of_line(stream: Any) -> None:
    while True:
        chunk = stream.readline(1 << 20)
        if not chunk or chunk.endswith(b"\n"):
            return


def _jsonl_item(line: bytes, where: str) -> Item | Failure:
    try:
        record = json.loads(line.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return Failure(where, "not valid JSON")
    if not isinstance(record, dict):
        return Failure(where, "not a JSON object")
    if "id" not in record:
        return Failure(where, "missing 'id'")
    ident = record["id"]
    if isinstance(ident, bool) or not isinstance(ident, str | int | float):
        return Failure(where, "'id' must be a string or number")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return Failure(where, "missing 'text'")
    extra = {key: record[key] for key in _OPTIONAL_FIELDS if isinstance(record.get(key), str) and record[key]}
    return Item(
        text=text.strip(),
        url=extra.get("url"),
        title=extra.get("title"),
        published=extra.get("published"),
        published_from="jsonl" if "published" in extra else None,
        author=extra.get("author"),
        raw=line.rstrip(b"\r\n"),
        raw_type="application/json",
        external_id=str(ident),
        lang=extra.get("lang"),
    )
