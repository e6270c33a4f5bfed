"""Collecting: read every due source, turn its items into documents, store each once.

One source at a time, one item at a time, each document in its own
transaction: a source that misbehaves is recorded on the source (last error,
retry with backoff) and the next source goes on; a crash at any point leaves
only whole rows behind, and a re-run finishes the work without duplicates.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from civicwatch.collect import dedupe, lang
from civicwatch.collect.sources import Fetch, read_source
from civicwatch.config import Settings
from civicwatch.errors import CivicwatchError, HTTPStatusError
from civicwatch.model import Document, Failure, Item, Sighting, Source
from civicwatch.store import Store

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
    try:
        read = read_source(source, fetcher, settings, already_have=lambda url: store.has_url(source_id, url))
    except CivicwatchError as exc:
        result.error = exc.reason
        result.failed += 1
        result.failures.append(Failure(exc.input, exc.reason))
        report("failure", source.name, Failure(exc.input, exc.reason))
        store.record_run(source.id, at=started, error=str(exc), next_due_at=_retry_at(source, started, exc))
        return result
    result.not_modified = read.not_modified
    for failure in read.failures:
        result.failed += 1
        result.failures.append(failure)
        report("failure", source.name, failure)
    for item in read.items:
        if since and item.published and item.published[:10] < since:
            continue
        _store_item(store, settings, source, item, None, result, report)
    store.record_run(source.id, at=started, error=None,
                     next_due_at=started + timedelta(seconds=source.every_seconds))
    return result


def _retry_at(source: Source, at: datetime, exc: CivicwatchError) -> datetime:
    delay = min(FIRST_RETRY * (2 ** min(source.failures, 10)), timedelta(seconds=source.every_seconds))
    if isinstance(exc, HTTPStatusError) and exc.retry_after:
        delay = max(delay, timedelta(seconds=exc.retry_after))
    return at + delay


def _store_item(
    store: Store,
    settings: Settings,
    source: Source,
    item: Item,
    parent_id: int | None,
    result: SourceSummary,
    report: Report,
) -> None:
    """Store one item (and, for a digest, each of its items), or link it to the copy already stored."""
    label = item.url or item.external_id or item.title or source.location
    # NUL and other C0 controls are never text (PDFs and binary junk carry them) and PostgreSQL refuses NUL.
    text = _CONTROL.sub("", item.text).strip()
    if not text:
        failure = Failure(label, "no text found")
        result.failed += 1
        result.failures.append(failure)
        report("failure", source.name, failure)
        return
    try:
        document_id, outcome = _store_text(store, settings, source, item, text, parent_id)
    except CivicwatchError as exc:
        failure = Failure(label, exc.reason)
        result.failed += 1
        result.failures.append(failure)
        report("failure", source.name, failure)
        return
    if not item.children:
        if outcome == "new":
            result.new += 1
        else:
            result.duplicate += 1
        report("item", source.name, outcome)
    for child in item.children:
        _store_item(store, settings, source, child, document_id, result, report)


def _store_text(
    store: Store, settings: Settings, source: Source, item: Item, text: str, parent_id: int | None
) -> tuple[int, str]:
    content_hash = dedupe.content_hash(text)
    existing = store.document_id_by_hash(content_hash)
    if existing is not None:
        first = store.document(existing)
        # The same source at the same address again (a re-run) is not a new sighting.
        if first is None or (first.source_id, first.url) != (source.id, item.url):
            store.add_sighting(Sighting(existing, source.id, item.url, "exact", 1.0))
        return existing, "duplicate"
    signature = dedupe.signature(text)
    bands = dedupe.bands(signature, settings.near_duplicate_threshold)
    if not item.children:  # a digest is never a near copy: its items are checked one by one
        candidates = store.near_duplicate_candidates(bands)
        match = dedupe.best_match(signature, candidates, settings.near_duplicate_threshold)
        if match is not None:
            store.add_sighting(Sighting(match[0], source.id, item.url, "near", round(match[1], 3)))
            return match[0], "duplicate"
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
    return store.add_document(document, signature=signature, bands=bands), "new"
