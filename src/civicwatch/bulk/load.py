"""``civicwatch bulk load DIR``: a finished ``bulk code`` folder into the database, idempotently.

Documents that are not in the database yet are loaded too, from ``DIR/documents``, with the content hash
``collect`` computes (``civicwatch.collect.dedupe.content_hash``): a text already stored (collected, or
loaded before) is not stored twice, and its coding goes to the stored copy, so ids and duplicates stay
consistent with ``collect``. The archive's own id is kept as the document's ``external_id``. Codings are
keyed by content hash and replace the document's machine incidents (a person's are kept), through
``civicwatch.store.bulk.load``: COPY on PostgreSQL, executemany per batch on SQLite, one transaction per
batch. Loading the same folder again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from civicwatch.bulk import manifest
from civicwatch.bulk.run import INCIDENT_LISTS
from civicwatch.model import Document, Incident
from civicwatch.store import Store
from civicwatch.store import bulk as store_bulk


def load(
    store: Store,
    out: Path,
    *,
    batch: int = store_bulk.DEFAULT_BATCH,
    on_documents: Callable[[int], None] | None = None,
) -> store_bulk.LoadSummary:
    """Load every finished partition of ``out`` into ``store``; ``UsageError`` when ``out`` is not a bulk folder."""
    info = manifest.read_manifest(out)
    keys = sorted(manifest.finished(out))
    summary = store_bulk.LoadSummary()
    for key in keys:  # one partition at a time keeps memory to one partition's documents
        documents = _documents(out / "documents" / f"{key}.parquet")
        part = store_bulk.load(
            store,
            documents=(document for _, document in documents),
            codings=_codings(out / "incidents" / f"{key}.parquet", documents),
            coder_version=str(info["coder_version"]),
            batch=batch,
        )
        for name in vars(summary):
            setattr(summary, name, getattr(summary, name) + getattr(part, name))
        if on_documents is not None:
            on_documents(len(documents))
    return summary


def _documents(path: Path) -> list[tuple[str, Document]]:
    import pyarrow.parquet as pq

    rows = pq.read_table(path).to_pylist()
    return [(str(row["document_id"]), Document(
        text=row["text"], content_hash=row["content_hash"], title=row["title"], url=row["url"],
        published=row["published"], lang=row["lang"], external_id=str(row["document_id"]),
    )) for row in rows]


def _codings(path: Path, documents: list[tuple[str, Document]]) -> Iterator[tuple[str, list[Incident]]]:
    """(content hash, incidents) for every document of the partition, those without incidents too."""
    import pyarrow.parquet as pq

    found: dict[str, list[Incident]] = {}
    for row in pq.read_table(path).to_pylist():
        found.setdefault(str(row["document_id"]), []).append(_incident(row))
    for document_id, document in documents:
        yield document.content_hash, found.get(document_id, [])


def _incident(row: dict[str, Any]) -> Incident:
    incident = Incident(country=row["country"], types=[], date=row["date"], evidence=row["evidence"],
                        confidence=float(row["confidence"]), evidence_start=int(row["evidence_start"]),
                        evidence_end=int(row["evidence_end"]))
    for name in INCIDENT_LISTS:
        setattr(incident, name, list(row[name] or []))
    return incident
