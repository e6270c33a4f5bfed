"""Field reports: what partners send through ``/reports/new``, stored as confidential documents.

A report is a document like any other (``civicwatch process`` codes it), but confidential from the
first commit, so neither it nor its incidents are ever public. A researcher publishes a redacted
version as a new, public document; the original stays confidential. Attached files are kept by
``web/reports.py`` in the data folder, outside the web root, and listed in the audit record.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import insert, select

from civicwatch.errors import UsageError
from civicwatch.store import audit
from civicwatch.store.db import Store
from civicwatch.store.schema import documents

FIELD_REPORT = "field-report"  # external_id prefix: how a field report is told from collected documents
REDACTED = "field-report-redacted"
MAX_TEXT = 100_000
_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_COUNTRY = re.compile(r"[A-Z]{2}")


def _real_date(value: str) -> bool:
    """Whether ``value`` is YYYY, YYYY-MM or YYYY-MM-DD naming a day that exists (not 2026-13-45)."""
    if not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat((value + "-01-01")[:10])
    except ValueError:
        return False
    return True


def add_field_report(
    store: Store, *, text: str, date: str, country: str, submitted_by: str | None, files: list[str] | None = None
) -> int:
    """Store a partner's report as a confidential document; returns its id.

    ``submitted_by`` None is an anonymous report: the name is kept nowhere, not even in the audit log.
    A missing text, a badly shaped date or country is a ``UsageError`` naming the field.
    """
    text = text.strip()
    country = country.strip().upper()
    if not text:
        raise UsageError("text", "a report needs a text")
    if len(text) > MAX_TEXT:
        raise UsageError("text", f"too long: at most {MAX_TEXT} characters")
    if not _real_date(date.strip()):
        raise UsageError("date", "expected a real date as YYYY, YYYY-MM or YYYY-MM-DD")
    if not _COUNTRY.fullmatch(country):
        raise UsageError("country", "expected a two-letter ISO code, e.g. KZ")
    report_id = uuid.uuid4().hex
    values = {
        "text": text,
        # Unique per report: two partners may well send the same words, and each report is its own record.
        "content_hash": hashlib.sha256(f"{FIELD_REPORT}:{report_id}:{text}".encode()).hexdigest(),
        "title": f"Field report from {country}, {date.strip()}",
        "author": submitted_by,
        "published": date.strip(),
        "fetched_at": datetime.now(UTC),
        "external_id": f"{FIELD_REPORT}:{report_id}",
        "is_digest": False,
        "confidential": True,
    }
    with store._write() as connection:
        document_id = int(connection.execute(insert(documents).values(values).returning(documents.c.id)).scalar_one())
        audit.record(connection, actor=submitted_by or "anonymous partner", item_kind="document",
                     item_id=document_id, action="field report",
                     before=None, after={"country": country, "date": date.strip(), "files": files or []},
                     reason=None)
    return document_id


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def is_field_report(store: Store, document_id: int) -> bool:
    """Whether the document came in through the field-report form."""
    with store._read() as connection:
        external = connection.execute(select(documents.c.external_id).where(documents.c.id == document_id)).scalar()
    return bool(external and str(external).startswith(f"{FIELD_REPORT}:"))


def publish_redacted(store: Store, document_id: int, redacted_text: str, *, actor: str, reason: str | None) -> int:
    """Publish a researcher's redacted version of field report ``document_id`` as a new public document.

    The original stays confidential. Returns the new document's id.
    """
    redacted_text = redacted_text.strip()
    if not redacted_text:
        raise UsageError("text", "the redacted version needs a text")
    with store._write() as connection:
        original = connection.execute(
            select(documents.c.title, documents.c.published, documents.c.external_id)
            .where(documents.c.id == document_id)
        ).first()
        if original is None or not str(original.external_id or "").startswith(f"{FIELD_REPORT}:"):
            raise UsageError(f"document {document_id}", "no field report with this id")
        new_id = int(connection.execute(insert(documents).values(
            text=redacted_text,
            content_hash=_hash(f"{REDACTED}:{document_id}:{uuid.uuid4().hex}:{redacted_text}"),
            title=f"{original.title} (redacted)",
            published=original.published,
            fetched_at=datetime.now(UTC),
            external_id=f"{REDACTED}:{document_id}",
            is_digest=False,
            confidential=False,
        ).returning(documents.c.id)).scalar_one())
        audit.record(connection, actor=actor, item_kind="document", item_id=document_id, action="publish redacted",
                     before=None, after={"published_as": new_id}, reason=reason)
    return new_id
