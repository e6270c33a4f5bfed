"""Collecting: read every due source, turn its items into documents, store each once.

One source at a time, one item at a time, each document in its own
transaction: a source that misbehaves is recorded on the source (last error,
retry with backoff) and the next source goes on; a crash at any point leaves
only whole rows behind, and a re-run finishes the work without duplicates.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from civicwatch.collect import dedupe, lang
from civicwatch.collect.sources import Fetch, read_source
from civicwatch.config import Settings
from civicwatch.errors import CivicwatchError, HTTPStatusError
from civicwatch.model import Document, Failure, Item, Source
from civicwatch.store import Store
from civicwatch.store.db import NearMatch

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Failed sources are retried sooner than their schedule, doubling each time.
FIRST_RETRY = timedelta(minutes=5)


@dataclass
class SourceSummary:
    """What one source gave in one run."""

    name: str
    new: int = 0
    duplicate: int = 0
    failed: int = 0
    not_modified: bool = False
    error: str | None = None
    failures: list[Failure] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "new": self.new,
            "duplicate": self.duplicate,
            "failed": self.failed,
            "not_modified": self.not_modified,
            "error": self.error,
            "failures": [str(f) for f in self.failures],
        }


@dataclass
class CollectSummary:
    """What a whole run gave: the totals the CLI prints and ``--json`` returns."""

    sources: list[SourceSummary] = field(default_factory=list)

    @property
    def new(self) -> int:
        return sum(s.new for s in self.sources)

    @property
    def duplicate(self) -> int:
        return sum(s.duplicate for s in self.sources)

    @property
    def failed(self) -> int:
        return sum(s.failed for s in self.sources)

    def to_json(self) -> dict[str, object]:
        return {
            "new": self.new,
            "duplicate": self.duplicate,
            "failed": self.failed,
            "sources": [s.to_json() for s in self.sources],
        }


# Called as each source starts ("source", name, None), each item is stored ("item", name, outcome)
# and each failure is known ("failure", name, Failure): the CLI draws its progress bar from these.
Report = Callable[[str, str, object], None]


def _quiet(event: str, name: str, detail: object) -> None:
    pass


def collect(
    store: Store,
    settings: Settings,
    *,
    source_names: Iterable[str] | None = None,
    since: str | None = None,
    force: bool = False,
    report: Report = _quiet,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> CollectSummary:
    """Collect every due source (or the named ones, due or not) into ``store``.

    ``since`` (an ISO date) skips items published before it; items without a
    date are kept. Never raises for a source's failure: it is in the summary.
    """
    from civicwatch.collect.fetch import Fetcher

    if source_names:
        sources = []
        for name in source_names:
            found = store.source(name)
            if found is None:
                from civicwatch.errors import UsageError

                known = ", ".join(s.name for s in store.sources()) or "none yet"
                raise UsageError(name, f"no such source (known: {known})")
            sources.append(found)
    elif force:
        sources = store.sources()
    else:
        sources = store.due_sources(now())
    summary = CollectSummary()
    validators = ValidatorsAfterSuccess(store)
    with Fetcher(settings, validators=validators) as fetcher:
        for source in sources:
            result = collect_source(store, settings, fetcher, source, since=since, report=report, now=now)
            if result.error is None:
                validators.commit()
            else:
                validators.discard()
            summary.sources.append(result)
    return summary


class ValidatorsAfterSuccess:
    """ETag/Last-Modified kept back until the source's items are all stored.

    Saved at once, a run killed halfway would leave validators that make the
    next run's conditional GET answer 304, and the rest of the items would
    never be collected.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pending: dict[str, tuple[str | None, str | None]] = {}

    def http_validators(self, url: str) -> tuple[str | None, str | None]:
        return self.store.http_validators(url)

    def set_http_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        self.pending[url] = (etag, last_modified)

    def commit(self) -> None:
        for url, (etag, last_modified) in self.pending.items():
            self.store.set_http_validators(url, etag, last_modified)
        self.pending.clear()

    def discard(self) -> None:
        self.pending.clear()


def collect_source(
    store: Store,
    settings: Settings,
    fetcher: Fetch,
    source: Source,
    *,
    since: str | None = None,
    report: Report = _quiet,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SourceSummary:
    """Read one source and store what is new; record the run (and any error) on the source."""
    if source.id is None:
        raise ValueError("collect_source needs a stored source (with an id)")
    source_id = source.id
    result = SourceSummary(source.name)
    report("source", source.name, None)
    started = now()
    writer = _Writer(store, settings, source, result, report)
    try:
        read = read_source(source, fetcher, settings, already_have=lambda url: store.has_url(source_id, url))
        result.not_modified = read.not_modified
        for found in read.results:
            if isinstance(found, Failure):
                writer.fail(found)
            elif not (since and found.published and found.published[:10] < since):
                writer.add(found, None)
        writer.flush()
    except CivicwatchError as exc:
        writer.flush()
        result.error = exc.reason
        writer.fail(Failure(exc.input, exc.reason))
        store.record_run(source_id, at=started, error=str(exc), next_due_at=_retry_at(source, started, exc))
        return result
    store.record_run(source_id, at=started, error=None, next_due_at=started + timedelta(seconds=source.every_seconds))
    return result


def _retry_at(source: Source, at: datetime, exc: CivicwatchError) -> datetime:
    delay = min(FIRST_RETRY * (2 ** min(source.failures, 10)), timedelta(seconds=source.every_seconds))
    if isinstance(exc, HTTPStatusError) and exc.retry_after:
        delay = max(delay, timedelta(seconds=exc.retry_after))
    return at + delay


class _Writer:
    """Turns items into documents and stores them a small batch at a time.

    A batch is one transaction, committed after BATCH_SIZE documents or BATCH_SECONDS,
    whichever comes first, and always before a digest (whose items need its id) and at
    the end: a crash loses at most one uncommitted batch, which the re-run stores again.
    The transaction spans only the database work, never a fetch.
    """

    BATCH_SIZE = 25
    BATCH_SECONDS = 1.0

    def __init__(self, store: Store, settings: Settings, source: Source, result: SourceSummary,
                 report: Report) -> None:
        self.store, self.settings, self.source, self.result, self.report = store, settings, source, result, report
        self.pending: list[tuple[Item, Document, bytes, list[str], NearMatch | None]] = []
        self.opened = time.monotonic()
        self.last_id: int | None = None  # of the last document stored or matched

    def fail(self, failure: Failure) -> None:
        self.result.failed += 1
        self.result.failures.append(failure)
        self.report("failure", self.source.name, failure)

    def add(self, item: Item, parent_id: int | None) -> None:
        """Queue one item (for a digest: store it now, then queue each of its items)."""
        # NUL and other C0 controls are never text (PDFs and binary junk carry them); PostgreSQL refuses NUL.
        text = _CONTROL.sub("", item.text).strip()
        if not text:
            self.fail(Failure(item.url or item.external_id or item.title or self.source.location, "no text found"))
            return
        if not self.pending:
            self.opened = time.monotonic()
        self.pending.append(_prepare(self.settings, self.source, item, text, parent_id))
        if item.children:
            self.flush()
            digest_id = self.last_id
            for child in item.children:
                self.add(child, digest_id)
        elif len(self.pending) >= self.BATCH_SIZE or time.monotonic() - self.opened >= self.BATCH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        try:
            stored = self.store.add_unless_copies([entry[1:] for entry in batch])
        except CivicwatchError as exc:
            for item, *_ in batch:
                self.fail(Failure(item.url or item.external_id or self.source.location, exc.reason))
            raise
        for (item, *_), (document_id, kind, _similarity) in zip(batch, stored, strict=True):
            self.last_id = document_id
            if item.children:
                continue  # a digest is counted through its items
            if kind == "new":
                self.result.new += 1
            else:
                self.result.duplicate += 1
            self.report("item", self.source.name, "new" if kind == "new" else "duplicate")


def _prepare(
    settings: Settings, source: Source, item: Item, text: str, parent_id: int | None
) -> tuple[Item, Document, bytes, list[str], NearMatch | None]:
    """The document for an item, with what finding its copies needs: signature, LSH bands, matcher."""
    content_hash, signature = dedupe.fingerprint(text)
    threshold = settings.near_duplicate_threshold
    bands = dedupe.bands(signature, threshold)
    code, score = (item.lang, 1.0) if item.lang else lang.detect_language(text)
    document = Document(
        text=text,
        content_hash=content_hash,
        source_id=source.id,
        url=item.url,
        canonical_url=item.canonical_url,
        title=item.title,
        author=item.author,
        published=item.published,
        published_from=item.published_from if item.published else None,
        fetched_at=datetime.now(UTC),
        lang=code,
        lang_score=score,
        parent_id=parent_id,
        is_digest=bool(item.children),
        external_id=item.external_id,
        raw=zlib.compress(item.raw, 6) if item.raw else None,
        raw_type=item.raw_type,
    )

    def near(candidates: list[tuple[int, bytes]]) -> tuple[int, float] | None:
        return dedupe.best_match(signature, candidates, threshold)

    # A digest is never a near copy of anything: its items are checked one by one.
    return item, document, signature, bands, None if item.children else near
