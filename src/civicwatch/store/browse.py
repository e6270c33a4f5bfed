"""Read queries for the public site, API and feeds: filtered, sorted, paged by cursor.

Documents come back as the public may see them: without their raw payload, and with only web
(http/https) addresses.

Every function takes a ``Store`` and only reads. Lists are paged by keyset cursors: an opaque
token naming the last row shown, so a page is as fast at row 1,000,000 as at row 1 and never
skips or repeats a row when new ones arrive. A cursor that was not handed out by the same list
is refused with ``UsageError`` (the web turns it into a 400), never a server error.

Only incidents coded by the machine coder or by a person are public.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, and_, case, func, literal, or_, select, type_coerce
from sqlalchemy.engine import Row

from civicwatch.errors import UsageError
from civicwatch.model import Document, Incident
from civicwatch.store.db import Store
from civicwatch.store.schema import documents, incidents

MAX_LIMIT = 200
_CURSOR_CHARS = 512  # longer than any cursor we hand out

# Every public document column but the raw payload (large, and not ours to republish) and the
# MinHash signature (internal).
_PUBLIC_DOCUMENT_COLUMNS = [
    documents.c.id, documents.c.source_id, documents.c.url, documents.c.canonical_url, documents.c.title,
    documents.c.author, documents.c.published, documents.c.published_from, documents.c.fetched_at,
    documents.c.lang, documents.c.lang_score, documents.c.text, documents.c.content_hash,
    documents.c.parent_id, documents.c.is_digest, documents.c.external_id,
]


# -- cursors -------------------------------------------------------------------------------------


def encode_cursor(kind: str, key: list[Any]) -> str:
    """An opaque cursor for the list ``kind`` that resumes after the row whose sort key is ``key``."""
    payload = json.dumps({"k": kind, "v": key}, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, kind: str, types: tuple[type, ...]) -> list[Any]:
    """The sort key inside ``cursor``, checked against the list ``kind`` and the key's ``types``.

    Raises ``UsageError(cursor, reason)`` for anything this module did not hand out.
    """
    shown = cursor if len(cursor) <= 40 else cursor[:40] + "…"
    refused = UsageError(f"cursor={shown}", "not a cursor this list gave out; start again without it")
    if len(cursor) > _CURSOR_CHARS or not re.fullmatch(r"[A-Za-z0-9_-]+", cursor):
        raise refused
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise refused from exc
    if not isinstance(data, dict) or data.get("k") != kind or not isinstance(data.get("v"), list):
        raise refused
    key = data["v"]
    if len(key) != len(types) or not all(map(_fits, key, types)):
        raise refused
    return list(key)


def _fits(value: Any, expected: type) -> bool:
    """Whether a cursor's key part has the type its list sorts on, and a value the database can take."""
    if isinstance(value, bool):  # an int to Python, never a sort key here
        return False
    if expected is str:
        return isinstance(value, str) and "\x00" not in value  # PostgreSQL refuses NUL in text
    if expected is int:
        return isinstance(value, int) and -(2**63) <= value < 2**63  # a 64-bit integer column
    # Floats may come back from JSON as ints; NaN and infinities never sort anywhere sensible.
    return isinstance(value, int | float) and math.isfinite(value)


def _check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"limit={limit}", f"must be between 1 and {MAX_LIMIT}")
    return limit


# -- documents -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentFilters:
    """Which documents to list: of one language, of one source; digests' own texts are left out."""

    lang: str | None = None
    source_id: int | None = None


def public_url(url: str | None) -> str | None:
    """``url`` when it is a web address (http or https); None for anything else.

    Documents read from files carry ``file://`` URLs naming the server's folders, and a hostile feed
    could give ``javascript:`` links: neither is published.
    """
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None


def _public_document(row: Row[Any]) -> Document:
    values = row._asdict()
    values["is_digest"] = bool(values["is_digest"])
    values["url"] = public_url(values["url"])
    values["canonical_url"] = public_url(values["canonical_url"])
    return Document(**values)  # raw and raw_type stay None


def document_page(
    store: Store, filters: DocumentFilters, *, cursor: str | None, limit: int
) -> tuple[list[Document], str | None]:
    """One page of documents, newest first (by id), without their raw payloads; and the next page's cursor."""
    _check_limit(limit)
    conditions: list[ColumnElement[bool]] = [documents.c.is_digest.is_(False)]
    if filters.lang:
        conditions.append(documents.c.lang == filters.lang)
    if filters.source_id is not None:
        conditions.append(documents.c.source_id == filters.source_id)
    if cursor:
        (after_id,) = decode_cursor(cursor, "documents", (int,))
        conditions.append(documents.c.id < after_id)
    query = (
        select(*_PUBLIC_DOCUMENT_COLUMNS)
        .where(and_(*conditions))
        .order_by(documents.c.id.desc())
        .limit(limit + 1)
    )
    with store._read() as connection:
        rows = connection.execute(query).all()
    page = [_public_document(row) for row in rows[:limit]]
    following = encode_cursor("documents", [page[-1].id]) if len(rows) > limit and page else None
    return page, following


def public_document(store: Store, document_id: int) -> Document | None:
    """The document with this id without its raw payload, or None."""
    with store._read() as connection:
        query = select(*_PUBLIC_DOCUMENT_COLUMNS).where(documents.c.id == document_id)
        row = connection.execute(query).first()
    return None if row is None else _public_document(row)


# -- incidents -----------------------------------------------------------------------------------

SORTS = ("date", "confidence")


@dataclass(frozen=True)
class IncidentFilters:
    """Which incidents to list, all conditions combined; ``None`` means any.

    ``date_from``/``date_to`` are ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` and keep an incident whose
    date (at whatever precision it has) overlaps the range; undated incidents drop out when either
    is given. ``q`` looks for words in the evidence and the document's text. ``sort`` is "date"
    (newest first, undated last) or "confidence" (highest first).
    """

    country: str | None = None
    type: str | None = None
    right: str | None = None
    target: str | None = None
    perpetrator: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    q: str | None = None
    sort: str = "date"


PUBLIC_CODERS = ("machine", "person")
_INCIDENT_COLUMNS = [incidents.c[name] for name in (
    "id", "document_id", "country", "types", "rights", "targets", "persons", "organisations", "perpetrators",
    "date", "evidence", "evidence_start", "evidence_end", "confidence", "coder_version", "coded_by",
)]


def _date_key() -> ColumnElement[str]:
    """The date sort key: undated incidents sort last in newest-first order."""
    return func.coalesce(incidents.c.date, literal(""))


def _public() -> ColumnElement[bool]:
    return incidents.c.coded_by.in_(PUBLIC_CODERS)


def _incident(row: Row[Any]) -> Incident:
    values = row._asdict()
    values.pop("updated_at", None)
    return Incident(**values)


def _has(column: Any, identifier: str) -> ColumnElement[bool]:
    """Whether the JSON list in ``column`` holds ``identifier`` (codebook ids need no JSON escaping)."""
    return type_coerce(column, Text).like(f'%"{_like_escape(identifier)}"%', escape="\\")


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(filters: IncidentFilters) -> list[ColumnElement[bool]]:
    conditions = [_public()]
    if filters.country:
        conditions.append(incidents.c.country == filters.country.upper())
    lists = (
        (incidents.c.types, filters.type),
        (incidents.c.rights, filters.right),
        (incidents.c.targets, filters.target),
        (incidents.c.perpetrators, filters.perpetrator),
    )
    for column, value in lists:
        if value:
            conditions.append(_has(column, value))
    # A date of any precision is the range it names: "2024-05" is 2024-05-01..2024-05-31. "~" sorts after
    # every digit and "-", so "2024-05~" is past any day of May: the two tests below keep overlaps.
    if filters.date_from:
        conditions.append((incidents.c.date + literal("~")) >= filters.date_from)
    if filters.date_to:
        conditions.append(incidents.c.date <= filters.date_to + "~")
    for word in (filters.q or "").split():
        pattern = f"%{_like_escape(word)}%"
        conditions.append(
            or_(
                incidents.c.evidence.ilike(pattern, escape="\\"),
                documents.c.text.ilike(pattern, escape="\\"),
            )
        )
    return conditions


def _after(filters: IncidentFilters, cursor: str) -> ColumnElement[bool]:
    """The keyset condition: rows strictly after the one the cursor names, in the list's order."""
    if filters.sort == "confidence":
        confidence, after_id = decode_cursor(cursor, "incidents:confidence", (float, int))
        return or_(incidents.c.confidence < confidence,
                   and_(incidents.c.confidence == confidence, incidents.c.id < after_id))
    date, after_id = decode_cursor(cursor, "incidents:date", (str, int))
    return or_(_date_key() < date, and_(_date_key() == date, incidents.c.id < after_id))


def _cursor_after(filters: IncidentFilters, last: Incident) -> str:
    if filters.sort == "confidence":
        return encode_cursor("incidents:confidence", [last.confidence, last.id])
    return encode_cursor("incidents:date", [last.date or "", last.id])


def _incident_query(filters: IncidentFilters) -> Select[Any]:
    query = select(*_INCIDENT_COLUMNS).where(and_(*_conditions(filters)))
    if filters.q:  # only the text query needs the document
        query = query.join(documents, documents.c.id == incidents.c.document_id)
    return query


def incident_page(
    store: Store, filters: IncidentFilters, *, cursor: str | None, limit: int
) -> tuple[list[Incident], str | None]:
    """One page of public incidents matching ``filters`` in their sort order, and the next page's cursor.

    The cursor is None on the last page. Raises ``UsageError`` for a cursor this list did not give
    out (or one from the same list sorted another way) and for a ``limit`` outside 1..200.
    """
    _check_limit(limit)
    if filters.sort not in SORTS:
        raise UsageError(f"sort={filters.sort}", "expected one of: " + ", ".join(SORTS))
    query = _incident_query(filters)
    if cursor:
        query = query.where(_after(filters, cursor))
    if filters.sort == "confidence":
        query = query.order_by(incidents.c.confidence.desc(), incidents.c.id.desc())
    else:
        query = query.order_by(_date_key().desc(), incidents.c.id.desc())
    with store._read() as connection:
        rows = connection.execute(query.limit(limit + 1)).all()
    page = [_incident(row) for row in rows[:limit]]
    following = _cursor_after(filters, page[-1]) if len(rows) > limit and page else None
    return page, following


def recent_incidents(
    store: Store, filters: IncidentFilters, *, limit: int
) -> list[tuple[Incident, datetime]]:
    """The public incidents matching ``filters`` coded or edited most recently, with that time: for feeds."""
    _check_limit(limit)
    query = (
        _incident_query(filters)
        .add_columns(incidents.c.updated_at)
        .order_by(incidents.c.updated_at.desc(), incidents.c.id.desc())
        .limit(limit)
    )
    with store._read() as connection:
        rows = connection.execute(query).all()
    return [(_incident(row), row.updated_at) for row in rows]


def incident_with_document(store: Store, incident_id: int) -> tuple[Incident, Document | None] | None:
    """The public incident with this id and its document (without raw payload); None when there is none."""
    with store._read() as connection:
        row = connection.execute(
            select(*_INCIDENT_COLUMNS).where(incidents.c.id == incident_id, _public())
        ).first()
        if row is None:
            return None
        found = _incident(row)
        document = connection.execute(
            select(*_PUBLIC_DOCUMENT_COLUMNS).where(documents.c.id == found.document_id)
        ).first()
    return found, None if document is None else _public_document(document)


def incidents_of_document(store: Store, document_id: int) -> list[Incident]:
    """The public incidents coded from one document, in the order of their evidence in its text."""
    query = (
        select(*_INCIDENT_COLUMNS)
        .where(incidents.c.document_id == document_id, _public())
        .order_by(incidents.c.evidence_start, incidents.c.id)
    )
    with store._read() as connection:
        return [_incident(row) for row in connection.execute(query)]


def counts_by_type(store: Store, types: Sequence[str], *, country: str | None = None) -> dict[str, int]:
    """Public incidents of each of ``types`` (the codebook's ids), most first, zeros left out.

    An incident of two types counts for both. One scan of the table counts every type.
    """
    wanted = list(types)
    sums = [
        func.sum(case((_has(incidents.c.types, t), 1), else_=0)).label(f"t{n}") for n, t in enumerate(wanted)
    ]
    query = select(*sums).where(_public())
    if country:
        query = query.where(incidents.c.country == country.upper())
    with store._read() as connection:
        row = connection.execute(query).one()
    counts = {t: int(row[n] or 0) for n, t in enumerate(wanted)}
    ordered = sorted(counts.items(), key=lambda item: (-item[1], wanted.index(item[0])))
    return {t: n for t, n in ordered if n}


def counts_by_country(store: Store) -> dict[str, int]:
    """Every country with public incidents and their number, most first (then by code)."""
    count = func.count().label("n")
    query = (
        select(incidents.c.country, count).where(_public()).group_by(incidents.c.country)
        .order_by(count.desc(), incidents.c.country)
    )
    with store._read() as connection:
        return {str(row.country): int(row.n) for row in connection.execute(query)}


def documents_by_id(store: Store, ids: Iterable[int]) -> dict[int, Document]:
    """The documents with these ids (without raw payloads), by id; unknown ids are left out."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    with store._read() as connection:
        rows = connection.execute(select(*_PUBLIC_DOCUMENT_COLUMNS).where(documents.c.id.in_(wanted))).all()
    return {int(row.id): _public_document(row) for row in rows}
