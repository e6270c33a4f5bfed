"""The fuzz targets: one function per parser, bytes in, an AssertionError or an uncaught exception out when
something is wrong.

Each function is shared by its atheris harness (``fuzz/fuzz_<name>.py``) and by the hypothesis fallback in
``tests/test_fuzz.py``, so a crash found one way reproduces the other way. Beyond "does not raise", each checks
what its callers rely on: offsets inside the text, values that parse, only the documented error for bad input.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from typing import Any

from civicwatch.code.coder import Coder
from civicwatch.code.lexicon import fold
from civicwatch.collect.feeds import read_feed
from civicwatch.collect.pages import read_page
from civicwatch.collect.split import split_digest
from civicwatch.errors import ParseError
from civicwatch.model import Fetched

_ISO = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?\Z")
# What a fetch may report: the harness picks one from the input so that every reader branch is reached.
_MEDIA = ("text/html", "text/plain", "application/pdf", "application/xhtml+xml", "", "application/rss+xml")
_CHARSETS = (None, "utf-8", "windows-1251", "koi8-r", "latin-1", "utf-16", "x-unknown")
_PUBLISHED = (None, "2024-03-10", "2023-12-31T23:00:00+00:00", "2024", "not a date", "0001-01-01", "9999-12-31")


@cache
def coder() -> Coder:
    """One coder per process: loading the codebook takes a second."""
    return Coder()


def text_of(data: bytes) -> str:
    """The input as text, keeping every byte: invalid UTF-8 becomes surrogate-free replacement characters."""
    return data.decode("utf-8", errors="replace")


def _pick(data: bytes, choices: tuple[Any, ...]) -> tuple[Any, bytes]:
    """A choice by the first byte and the rest of the input."""
    if not data:
        return choices[0], data
    return choices[data[0] % len(choices)], data[1:]


def _check_iso(value: str, where: str) -> None:
    assert _ISO.match(value), f"{where}: {value!r} is not an ISO year, month or day"
    parts = [int(p) for p in value.split("-")]
    date(parts[0], *(parts[1:] + [1] * (3 - len(parts))))  # raises if the month or day is impossible


def split(data: bytes) -> None:
    """The digest splitter: blank gives no items; otherwise non-blank items, one item being the text itself."""
    text = text_of(data)
    pieces = split_digest(text)
    if not text.strip():
        assert pieces == [], pieces
        return
    assert pieces, "a non-blank text gives at least one item"
    assert all(isinstance(p, str) and p.strip() for p in pieces), pieces
    assert len(pieces) >= 2 or pieces == [text], pieces


def code(data: bytes) -> None:
    """The coder: any text, any published date; evidence is the text at its offsets."""
    published, rest = _pick(data, _PUBLISHED)
    text = text_of(rest)
    for incident in coder().code(text, published):
        assert 0 <= incident.evidence_start <= incident.evidence_end <= len(text), incident
        assert text[incident.evidence_start:incident.evidence_end] == incident.evidence, incident
        assert re.fullmatch(r"[A-Z]{2}", incident.country), incident.country
        assert incident.types, incident
        if incident.date is not None:
            _check_iso(incident.date, "incident date")


def dates(data: bytes) -> None:
    """The date finder: spans in order, apart, inside the text, with values that are real dates."""
    published, rest = _pick(data, _PUBLISHED)
    text = text_of(rest)
    spans = coder().dates.find(text, published)
    end = 0
    for span in spans:
        assert end <= span.start < span.end <= len(text), (span, len(text))
        end = span.end
        _check_iso(span.value, "date")


def names(data: bytes) -> None:
    """The name finder: persons and organisations are the text at their offsets."""
    text = text_of(data)
    folded = fold(text)
    assert len(folded) == len(text), "folding must keep offsets"
    finder = coder().names
    for name in [*finder.persons(text, folded, 0, len(text), set()), *finder.organisations(text, folded, 0, len(text))]:
        assert 0 <= name.start < name.end <= len(text), name
        assert name.text.strip(), name


def _fetched(data: bytes, media: str) -> Fetched:
    charset, rest = _pick(data, _CHARSETS)
    return Fetched(url="https://monitor.example/input", status=200, content=rest, content_type=media, charset=charset)


def feeds(data: bytes) -> None:
    """The feed reader: items with text and named failures, or ParseError naming the feed; nothing else."""
    try:
        items, failures = read_feed(_fetched(data, "application/rss+xml"), None, follow_links=False)
    except ParseError as exc:
        assert exc.args, "a ParseError names its input"
        return
    for failure in failures:  # an entry without text is named, not dropped
        assert failure.input and failure.reason == "feed entry has no text", failure
    for item in items:
        assert isinstance(item.text, str) and item.text.strip(), item


def pages(data: bytes) -> None:
    """The page reader (HTML, plain text, PDF by media type or header): an item, or ParseError."""
    media, rest = _pick(data, _MEDIA)
    try:
        item = read_page(_fetched(rest, media))
    except ParseError as exc:
        assert exc.args, "a ParseError names its input"
        return
    assert isinstance(item.text, str) and item.text.strip(), "a page read without error has text"


TARGETS = {"split": split, "coder": code, "dates": dates, "names": names, "feeds": feeds, "pages": pages}
