"""The data types that flow through civicwatch's pipeline.

sources -> collect -> items -> documents -> (code) -> incidents ...

Every stage takes and returns these plain dataclasses; storage turns them
into rows and back. Dates are ISO 8601 strings (``2024-03-04`` or a full
timestamp) so that they keep the precision the source gave.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class SourceKind(StrEnum):
    """What a source is, which decides how it is read."""

    FEED = "feed"  # RSS or Atom; each entry's link is followed for the full page
    PAGE = "page"  # one web page, one document
    LISTING = "listing"  # a page of many teasers with links: one document per teaser
    FILES = "files"  # a local file or folder: HTML, PDF, TXT/Markdown, JSON Lines


@dataclass
class Source:
    """Somewhere a monitor reads regularly: a feed, a page, a listing or local files."""

    name: str
    location: str  # URL or filesystem path
    kind: SourceKind
    every_seconds: int = 6 * 3600
    id: int | None = None
    created_at: datetime | None = None
    last_run_at: datetime | None = None
    last_ok_at: datetime | None = None
    last_error: str | None = None
    failures: int = 0  # consecutive failed runs, for backoff
    next_due_at: datetime | None = None
    item_count: int = 0  # documents and duplicates seen from this source
    confidential: bool = False  # never public, nor anything read from it (an admin's mark)


@dataclass
class Fetched:
    """One HTTP response (or local file) as read, before any parsing."""

    url: str  # final URL after redirects
    status: int
    content: bytes
    content_type: str = ""  # media type without parameters, lower case
    charset: str | None = None  # from the Content-Type header, when given
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False  # a conditional GET answered 304


@dataclass
class Item:
    """One thing a reader found in a source, before language, dedupe and storage.

    A digest (a listing page, a plain-text digest, a country page of updates)
    is an item whose ``children`` are the items it was split into.
    """

    text: str
    url: str | None = None
    title: str | None = None
    published: str | None = None  # ISO date or timestamp
    published_from: str | None = None  # where the date came from: feed, metadata, listing, jsonl, file
    author: str | None = None
    canonical_url: str | None = None
    raw: bytes | None = None  # the payload as fetched, kept so the item can be re-extracted
    raw_type: str | None = None  # media type of ``raw``
    external_id: str | None = None  # the source's own id (feed entry id, JSONL id)
    lang: str | None = None  # given by the source; otherwise detected later
    children: list[Item] = field(default_factory=list)


@dataclass(frozen=True)
class Failure:
    """An input that could not be read, and why: one line for the user, never a traceback."""

    input: str  # URL, path, or path:line
    reason: str

    def __str__(self) -> str:
        return f"{self.input}: {self.reason}"


@dataclass
class Document:
    """A clean, language-tagged text stored once, whatever number of sources carried it."""

    text: str
    content_hash: str
    source_id: int | None = None
    url: str | None = None
    canonical_url: str | None = None
    title: str | None = None
    author: str | None = None
    published: str | None = None
    published_from: str | None = None
    fetched_at: datetime | None = None
    lang: str | None = None
    lang_score: float | None = None
    parent_id: int | None = None  # the digest this document was split out of
    is_digest: bool = False  # a digest's own text; its items are separate documents
    external_id: str | None = None
    raw: bytes | None = None  # compressed payload (zlib)
    raw_type: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class Sighting:
    """A source carried a text already stored: linked to the first copy, not stored twice."""

    document_id: int
    source_id: int | None
    url: str | None
    kind: str  # "exact" or "near"
    similarity: float = 1.0


# The codebook's output fields, in the codebook's order (``spec/codebook.md``).
INCIDENT_FIELDS = (
    "country", "types", "rights", "targets", "persons", "organisations", "perpetrators", "date", "evidence",
    "confidence",
)


@dataclass
class Incident:
    """One coded incident: the codebook's fields, the evidence's character offsets in its document's text,
    and, once stored, where it came from.

    ``coded_by`` is "machine" for what the coder found and "person" once a researcher added or edited it:
    re-coding replaces machine incidents and never touches a person's.
    """

    country: str
    types: list[str]
    rights: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    persons: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)
    perpetrators: list[str] = field(default_factory=list)
    date: str | None = None  # ISO date at the precision the text gave: 2024, 2024-03 or 2024-03-04
    evidence: str = ""
    confidence: float = 0.5
    evidence_start: int = 0  # text[evidence_start:evidence_end] == evidence, for a machine-made incident
    evidence_end: int = 0
    id: int | None = None
    document_id: int | None = None
    coder_version: str | None = None
    coded_by: str = "machine"  # "machine" | "person"
    review: str = "pending"  # "pending" | "accepted" | "rejected": a researcher's decision (review queue)
    confidential: bool = False  # marked confidential itself (its document or source may be, too)
    event_id: int | None = None  # the event it reports, once ``civicwatch connect`` has seen it

    def to_json(self) -> dict[str, Any]:
        """The codebook's output fields, in the codebook's order (offsets and provenance left out)."""
        return {
            "country": self.country,
            "types": list(self.types),
            "rights": list(self.rights),
            "targets": list(self.targets),
            "persons": list(self.persons),
            "organisations": list(self.organisations),
            "perpetrators": list(self.perpetrators),
            "date": self.date,
            "evidence": self.evidence,
            "confidence": round(self.confidence, 2),
        }
