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
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    and_,
    cast,
    collate,
    distinct,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql import FromClause

from civicwatch.errors import UsageError
from civicwatch.model import Document, Incident
from civicwatch.store.db import Store
from civicwatch.store.schema import documents, incidents, sightings, sources
from civicwatch.store.visibility import PUBLIC_VISIBILITY
from civicwatch.store.withheld import Withheld
from civicwatch.store.withheld import load as _load_withheld

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


def _largest_id(store: Store) -> int:
    """The largest id the engine's integer keys can hold: PostgreSQL's INTEGER is 32-bit, SQLite's 64-bit.

    A larger id from a request can name no row; it must never reach PostgreSQL, which refuses the parameter.
    """
    return 2**63 - 1 if store.dialect == "sqlite" else 2**31 - 1


def _id_below(store: Store, column: Any, bound: int) -> ColumnElement[bool]:
    """``column < bound`` for any 64-bit ``bound``, without a parameter the engine's integers cannot hold."""
    largest = _largest_id(store)
    if bound > largest:
        return column.is_not(None)  # every id is below it
    if bound < -largest:
        return false()
    return column < bound


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
    conditions: list[ColumnElement[bool]] = [documents.c.is_digest.is_(False), public_document_rule()]
    if filters.lang:
        conditions.append(documents.c.lang == filters.lang)
    if filters.source_id is not None:
        if not 0 <= filters.source_id <= _largest_id(store):
            return [], None
        conditions.append(documents.c.source_id == filters.source_id)
    if cursor:
        (after_id,) = decode_cursor(cursor, "documents", (int,))
        conditions.append(_id_below(store, documents.c.id, after_id))
    query = (
        select(*_PUBLIC_DOCUMENT_COLUMNS)
        .where(and_(*conditions))
        .order_by(documents.c.id.desc())
        .limit(limit + 1)
    )
    with store._read() as connection:
        rows = connection.execute(query).all()
        blackout = withheld(store, connection)
    page = [blackout.document(_public_document(row)) for row in rows[:limit]]
    following = encode_cursor("documents", [page[-1].id]) if len(rows) > limit and page else None
    return page, following


def public_document(store: Store, document_id: int) -> Document | None:
    """The document with this id without its raw payload, or None."""
    if not 0 <= document_id <= _largest_id(store):
        return None
    with store._read() as connection:
        query = select(*_PUBLIC_DOCUMENT_COLUMNS).where(documents.c.id == document_id, public_document_rule())
        row = connection.execute(query).first()
        return None if row is None else withheld(store, connection).document(_public_document(row))


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


PUBLIC_CODERS = ("machine", "person")  # kept for old callers; the public rule is ``public_incident()``
PUBLISH_MODES = ("all", "reviewed")
_publish_mode = ["all"]  # the operator's ``publish`` setting, set once at start-up (``set_publish_mode``)
_INCIDENT_COLUMNS = [incidents.c[name] for name in (
    "id", "document_id", "country", "types", "rights", "targets", "persons", "organisations", "perpetrators",
    "date", "evidence", "evidence_start", "evidence_end", "confidence", "coder_version", "coded_by",
)]


def set_publish_mode(mode: str) -> None:
    """Which incidents are public in this process: "all" (machine-coded ones too, marked so) or "reviewed"
    (only those a person accepted, edited or made). Cached aggregates are dropped."""
    if mode not in PUBLISH_MODES:
        raise UsageError(f"publish = {mode!r}", "expected one of: " + ", ".join(PUBLISH_MODES))
    _publish_mode[0] = mode
    clear_cache()


def public_incident() -> ColumnElement[bool]:
    """THE public rule for incidents, for every public page, API route, feed, export and search.

    One indexed column (``incidents.visibility``, kept current by ``store/visibility.py``): never a
    rejected or confidential incident, nor one from a confidential document or source.
    """
    return incidents.c.visibility.in_(PUBLIC_VISIBILITY[_publish_mode[0]])


def public_document_rule() -> ColumnElement[bool]:
    """THE public rule for documents: not confidential, and not from a confidential source."""
    confidential_source = exists().where(sources.c.id == documents.c.source_id, sources.c.confidential.is_(True))
    return and_(documents.c.confidential.is_(False), ~confidential_source)


def _public() -> ColumnElement[bool]:
    return public_incident()


def _incident(row: Row[Any]) -> Incident:
    values = row._asdict()
    values.pop("updated_at", None)
    return Incident(**values)


def _has(column: Any, identifier: str) -> ColumnElement[bool]:
    """Whether the JSON list in ``column`` holds ``identifier`` (codebook ids need no JSON escaping)."""
    return type_coerce(column, Text).like(f'%"{_like_escape(identifier)}"%', escape="\\")


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(filters: IncidentFilters, dialect: str) -> list[ColumnElement[bool]]:
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
    if filters.q:
        conditions.append(incidents.c.document_id.in_(_text_candidates(filters.q, dialect)))
    return conditions


# How many documents the text query ``q`` looks among: the most recent ones matching every word. A frequent
# word matches a large share of a big corpus; bounding the candidates keeps the list as fast for "police"
# as for a rare name, at the price of not reaching incidents from older documents for very common words.
TEXT_CANDIDATES = 5_000
_TOKEN = re.compile(r"[^\W_]+")


def _fts5_prefix_query(q: str) -> str | None:
    """FTS5 MATCH text: every word of ``q`` required, each as a prefix ("detain" finds "detained")."""
    words = [" ".join(_TOKEN.findall(word)) for word in q.split()]
    terms = [f'"{word}"*' for word in words if word]
    return " AND ".join(terms) if terms else None


def _tsquery_prefix(q: str) -> str | None:
    """``to_tsquery`` text with the same meaning as ``_fts5_prefix_query`` (tokens are letters and digits only)."""
    words = [_TOKEN.findall(word.lower()) for word in q.split()]
    terms = [" <-> ".join(f"'{token}':*" for token in tokens) for tokens in words if tokens]
    return " & ".join(f"({term})" for term in terms) if terms else None


def _text_candidates(q: str, dialect: str) -> Any:
    """The ids of the ``TEXT_CANDIDATES`` most recent documents whose title or text has every word of ``q``.

    Full-text indexes (SQLite FTS5, PostgreSQL's ``search_vector``) answer this without reading any text;
    a query with no letter or digit in it matches nothing.
    """
    if dialect == "sqlite":
        match = _fts5_prefix_query(q)
        if match is None:
            return select(documents.c.id).where(false())
        return text(
            "SELECT rowid FROM documents_fts WHERE documents_fts MATCH :match ORDER BY rowid DESC LIMIT :cap"
        ).bindparams(match=match, cap=TEXT_CANDIDATES).columns(documents.c.id)
    query = _tsquery_prefix(q)
    if query is None:
        return select(documents.c.id).where(false())
    search_vector: ColumnElement[Any] = literal_column("documents.search_vector")
    return (
        select(documents.c.id)
        .where(search_vector.op("@@")(func.to_tsquery(literal_column("'simple'::regconfig"), query)))
        .order_by(documents.c.id.desc())
        .limit(TEXT_CANDIDATES)
    )


def _date_order(dialect: str) -> list[Any]:
    """Newest first, undated last, then by id: ``date DESC`` walks ``ix_incidents_date`` backwards on SQLite
    (where NULLs already sort last in descending order); PostgreSQL needs NULLS LAST said."""
    date = incidents.c.date.desc() if dialect == "sqlite" else incidents.c.date.desc().nulls_last()
    return [date, incidents.c.id.desc()]


def _after(store: Store, filters: IncidentFilters, cursor: str) -> ColumnElement[bool]:
    """The keyset condition: rows strictly after the one the cursor names, in the list's order."""
    if filters.sort == "confidence":
        confidence, after_id = decode_cursor(cursor, "incidents:confidence", (float, int))
        return or_(incidents.c.confidence < confidence,
                   and_(incidents.c.confidence == confidence, _id_below(store, incidents.c.id, after_id)))
    date, after_id = decode_cursor(cursor, "incidents:date", (str, int))
    if date == "":  # the cursor is among the undated rows, which come last
        return and_(incidents.c.date.is_(None), _id_below(store, incidents.c.id, after_id))
    return or_(
        incidents.c.date < date,
        and_(incidents.c.date == date, _id_below(store, incidents.c.id, after_id)),
        incidents.c.date.is_(None),
    )


def _cursor_after(filters: IncidentFilters, last: Incident) -> str:
    if filters.sort == "confidence":
        return encode_cursor("incidents:confidence", [last.confidence, last.id])
    return encode_cursor("incidents:date", [last.date or "", last.id])


def _incident_query(filters: IncidentFilters, dialect: str) -> Select[Any]:
    return select(*_INCIDENT_COLUMNS).where(and_(*_conditions(filters, dialect)))


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
    after = _after(store, filters, cursor) if cursor else None
    with store._read() as connection:
        blackout = withheld(store, connection)
        query = _incident_query(_without_withheld(filters, blackout), store.dialect)
        if after is not None:
            query = query.where(after)
        if filters.sort == "confidence":
            query = query.order_by(incidents.c.confidence.desc(), incidents.c.id.desc())
        else:
            query = query.order_by(*_date_order(store.dialect))
        rows = connection.execute(query.limit(limit + 1)).all()
    page = [blackout.incident(_incident(row)) for row in rows[:limit]]
    following = _cursor_after(filters, page[-1]) if len(rows) > limit and page else None
    return page, following


def recent_incidents(
    store: Store, filters: IncidentFilters, *, limit: int
) -> list[tuple[Incident, datetime]]:
    """The public incidents matching ``filters`` coded or edited most recently, with that time: for feeds."""
    _check_limit(limit)
    with store._read() as connection:
        blackout = withheld(store, connection)
        query = (
            _incident_query(_without_withheld(filters, blackout), store.dialect)
            .add_columns(incidents.c.updated_at)
            .order_by(incidents.c.updated_at.desc(), incidents.c.id.desc())
            .limit(limit)
        )
        rows = connection.execute(query).all()
    return [(blackout.incident(_incident(row)), row.updated_at) for row in rows]


def incident_with_document(store: Store, incident_id: int) -> tuple[Incident, Document | None] | None:
    """The public incident with this id and its document (without raw payload); None when there is none."""
    if not 0 <= incident_id <= _largest_id(store):
        return None
    with store._read() as connection:
        row = connection.execute(
            select(*_INCIDENT_COLUMNS).where(incidents.c.id == incident_id, _public())
        ).first()
        if row is None:
            return None
        found = _incident(row)
        document = connection.execute(
            select(*_PUBLIC_DOCUMENT_COLUMNS).where(documents.c.id == found.document_id, public_document_rule())
        ).first()
        blackout = withheld(store, connection)
    return blackout.incident(found), None if document is None else blackout.document(_public_document(document))


def incidents_of_document(store: Store, document_id: int) -> list[Incident]:
    """The public incidents coded from one document, in the order of their evidence in its text."""
    if not 0 <= document_id <= _largest_id(store):
        return []
    query = (
        select(*_INCIDENT_COLUMNS)
        .where(incidents.c.document_id == document_id, _public())
        .order_by(incidents.c.evidence_start, incidents.c.id)
    )
    with store._read() as connection:
        blackout = withheld(store, connection)
        return [blackout.incident(_incident(row)) for row in connection.execute(query)]


# -- aggregates, cached briefly ------------------------------------------------------------------

# Counting over every incident reads the whole table: at a million rows that is far too slow for each
# view of the home page. Aggregates are kept until the data version (raised by every write, see
# ``Store.data_version``) moves on, or, with a publish lag (``set_publish_lag``, the ``serve`` default),
# for up to that many seconds after machine writes: while ``process`` writes all day, a busy country page
# is counted once per lag, not once per view. A change a person made (a confidential mark, a rejection,
# an edit: ``Store.data_versions``) ends every cached aggregate at once, lag or not.
_T = TypeVar("_T")


@dataclass(frozen=True)
class _Kept:
    version: int
    person_change: int
    at: float
    value: Any


_cache: weakref.WeakKeyDictionary[Store, dict[tuple[Any, ...], _Kept]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()
_publish_lag = [0.0]
_MAX_KEPT = 5_000  # distinct keys (countries, pages of names) kept per store before starting afresh
_STALE_LAGS = 3  # as the page cache: past the lag, an aggregate being counted again is shown for 3 more
# One lock per store and key: one request counts an aggregate, the others wait for it or show the last one.
_counting: weakref.WeakKeyDictionary[Store, dict[tuple[Any, ...], threading.Lock]] = weakref.WeakKeyDictionary()


def set_publish_lag(seconds: float) -> None:
    """How long, after machine writes, cached aggregates may still be used (0: never; the library default).

    New documents and incidents then take up to ``seconds`` to be counted on public pages; what a person
    withdraws or changes is never shown from the cache.
    """
    if not 0 <= seconds <= 3600:
        raise UsageError(f"public_lag_seconds = {seconds}", "expected 0 to 3600 seconds")
    _publish_lag[0] = float(seconds)


def _fresh(kept: _Kept, version: int, person_change: int, now: float) -> bool:
    return kept.person_change == person_change and (kept.version == version or now - kept.at < _publish_lag[0])


def _recent(kept: _Kept, person_change: int, now: float) -> bool:
    """Good enough to show while it is counted again: no person's change since, and within a few lags."""
    return kept.person_change == person_change and now - kept.at < (1 + _STALE_LAGS) * _publish_lag[0]


def _cached(store: Store, key: tuple[Any, ...], compute: Callable[[Connection], _T],
            connection: Connection | None = None) -> _T:
    """``compute(connection)``, remembered per store and ``key`` while the data stays the same (or within the lag).

    Given a ``connection``, it runs in that transaction (one read fewer for the page that asks).
    """
    if connection is None:
        with store._read() as opened:
            return _cached(store, key, compute, opened)
    from civicwatch.store.db import versions

    version, person_change = versions(connection)  # read in the same transaction as the computation
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(store, {}).get(key)
        locks = _counting.setdefault(store, {})
        if len(locks) >= _MAX_KEPT:
            locks.clear()
        counting = locks.setdefault(key, threading.Lock())
    if hit is not None and _fresh(hit, version, person_change, now):
        result: _T = hit.value
        return result
    if hit is not None and counting.locked() and _recent(hit, person_change, now):
        # Another request is counting this already: under load every page would otherwise count the
        # same million rows at once. What it replaces is still within the lag's grace (machine writes only).
        result = hit.value
        return result
    with counting:
        with _cache_lock:
            hit = _cache.get(store, {}).get(key)
        if hit is not None and _fresh(hit, version, person_change, time.monotonic()):
            result = hit.value  # counted while this request waited
            return result
        result = compute(connection)
    with _cache_lock:
        entries = _cache.setdefault(store, {})
        stale = [k for k, kept in entries.items() if not _fresh(kept, version, person_change, now)]
        for k in stale:  # do not let dead entries pile up
            del entries[k]
        if len(entries) >= _MAX_KEPT:
            entries.clear()
        entries[key] = _Kept(version, person_change, now, result)
    return result


def clear_cache() -> None:
    """Forget every cached aggregate (for tests and after bulk edits)."""
    with _cache_lock:
        _cache.clear()


def withheld(store: Store, connection: Connection | None = None) -> Withheld:
    """The names of confidential persons and organisations, to black out of public output (``store/withheld.py``).

    Every public read passes its incidents, documents and snippets through it; cached until the data changes.
    Given the read's ``connection``, the names come from the same transaction as what they black out.
    """
    return _cached(store, ("withheld",), _load_withheld, connection)


# A text query that matches nothing (no letter or digit): what a query of withheld words only becomes.
_MATCH_NOTHING = "-"


def _without_withheld(filters: IncidentFilters, blackout: Withheld) -> IncidentFilters:
    """``filters`` with withheld names taken out of the text query: searching for one must find nothing more."""
    if not blackout or not filters.q:
        return filters
    return replace(filters, q=blackout.query(filters.q) or _MATCH_NOTHING)


def _elements(column: Any, dialect: str) -> FromClause:
    """The JSON list in ``column`` as rows of one column ``value``, joined to each incident (lateral)."""
    if dialect == "sqlite":
        function = func.json_each(column)
    else:
        function = func.jsonb_array_elements_text(cast(type_coerce(column, Text), JSONB))
    return function.table_valued("value", joins_implicitly=True).alias("element")


def _event_count() -> ColumnElement[int]:
    """Count events, not reports: incidents of one event count once; an incident not (yet) in an
    event counts as an event of its own (its negated id never equals an event id)."""
    return func.count(distinct(func.coalesce(incidents.c.event_id, -incidents.c.id)))


def counts_by_type(store: Store, types: Sequence[str], *, country: str | None = None) -> dict[str, int]:
    """Public incidents of each of ``types`` (the codebook's ids), most first, zeros left out.

    An incident of two types counts for both. One pass over the (country's) incidents with their
    type lists expanded, grouped by type; cached per country until the data changes, as country pages ask often.
    """
    wanted = list(types)
    code = country.upper() if country else None

    def compute(connection: Connection) -> dict[str, int]:
        element = _elements(incidents.c.types, store.dialect)
        value = element.c.value
        query = select(value, _event_count().label("n")).select_from(incidents).where(_public()).group_by(value)
        if code:
            query = query.where(incidents.c.country == code)
        return {str(row[0]): int(row.n) for row in connection.execute(query)}

    found = _cached(store, ("types", code), compute)
    counts = {t: found.get(t, 0) for t in wanted}
    ordered = sorted(counts.items(), key=lambda item: (-item[1], wanted.index(item[0])))
    return {t: n for t, n in ordered if n}


def counts_by_country(store: Store) -> dict[str, int]:
    """Every country with public incidents and their number, most first (then by code); cached briefly."""

    def compute(connection: Connection) -> dict[str, int]:
        count = _event_count().label("n")
        query = (
            select(incidents.c.country, count).where(_public()).group_by(incidents.c.country)
            .order_by(count.desc(), incidents.c.country)
        )
        return {str(row.country): int(row.n) for row in connection.execute(query)}

    return _cached(store, ("countries",), compute)


# -- persons and organisations -------------------------------------------------------------------

NameKind = Literal["persons", "organisations"]
NAME_KINDS: tuple[NameKind, ...] = ("persons", "organisations")


@dataclass(frozen=True)
class NamedCount:
    """A registered person or organisation named in public incidents: its case id, name, where, how often."""

    name: str
    countries: list[str]
    incidents: int
    id: int | None = None  # the registry entry (``/persons/{id}``, ``/organisations/{id}``)


def _registry(kind: str) -> tuple[Any, Any, Any]:
    """(entries, links to incidents, the link's column naming the entry) of the persons or organisations registry."""
    from civicwatch.store.schema import organisation_incidents, organisations, person_incidents, persons

    if kind not in NAME_KINDS:
        raise UsageError(kind, "expected one of: " + ", ".join(NAME_KINDS))
    if kind == "persons":
        return persons, person_incidents, person_incidents.c.person_id
    return organisations, organisation_incidents, organisation_incidents.c.organisation_id


def _named_query(store: Store, kind: str, country: str | None) -> tuple[Select[Any], Any, Any]:
    """Registry entries with their public incidents' countries and count, one row each; the name and count columns.

    The registry (``civicwatch connect``) has merged the spellings of one name, so a person written three
    ways is one row; a confidential entry is left out, and so is one whose incidents are all hidden.
    """
    entries, links, entry_id = _registry(kind)
    # Byte order on both engines, so pages and cursors agree whatever PostgreSQL's locale is.
    name = entries.c.name if store.dialect == "sqlite" else collate(entries.c.name, "C")
    if store.dialect == "sqlite":
        countries = func.group_concat(distinct(incidents.c.country))
    else:
        countries = func.string_agg(distinct(incidents.c.country), literal(","))
    count = func.count(distinct(incidents.c.id))
    query = (
        select(entries.c.id, name.label("name"), countries.label("countries"), count.label("n"))
        .select_from(links)
        .join(incidents, incidents.c.id == links.c.incident_id)
        .join(entries, entries.c.id == entry_id)
        .where(_public(), entries.c.confidential.is_(False))
        .group_by(entries.c.id, entries.c.name)
    )
    if country:
        query = query.where(incidents.c.country == country.upper())
    return query, name, count


def _named(row: Row[Any]) -> NamedCount:
    return NamedCount(name=str(row.name), countries=sorted(str(row.countries or "").split(",")),
                      incidents=int(row.n), id=int(row.id))


def names_page(
    store: Store, kind: str, *, cursor: str | None, limit: int, country: str | None = None
) -> tuple[list[NamedCount], str | None]:
    """One page of the registered persons (``kind="persons"``) or organisations named in public incidents, by name.

    Each entry comes once under its registry name, with the countries of its public incidents and their
    number. Raises ``UsageError`` for another ``kind``, a bad cursor or ``limit``.
    """
    _check_limit(limit)
    query, name, _ = _named_query(store, kind, country)
    entries = _registry(kind)[0]
    if cursor:
        after, after_id = decode_cursor(cursor, f"names:{kind}", (str, int))
        query = query.having(or_(name > after, and_(name == after, entries.c.id > after_id)))
    query = query.order_by(name, entries.c.id).limit(limit + 1)

    def compute(connection: Connection) -> list[NamedCount]:
        return [_named(row) for row in connection.execute(query)]

    # Grouping every link of the registry: cached like the counts, until the data changes.
    rows = _cached(store, ("names", kind, country.upper() if country else None, cursor, limit), compute)
    page = rows[:limit]
    following = encode_cursor(f"names:{kind}", [page[-1].name, page[-1].id]) if len(rows) > limit and page else None
    return page, following


def most_named(store: Store, kind: str, *, country: str, limit: int) -> list[NamedCount]:
    """The registered persons or organisations named most often in one country's public incidents (then by name)."""
    _check_limit(limit)
    query, name, count = _named_query(store, kind, country)
    query = query.order_by(count.desc(), name).limit(limit)

    def compute(connection: Connection) -> list[NamedCount]:
        return [_named(row) for row in connection.execute(query)]

    return _cached(store, ("named", kind, country.upper(), limit), compute)


# -- sources -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicSource:
    """What the public may know of a source: never its local path, its error messages or its schedule."""

    id: int
    name: str
    kind: str
    url: str | None  # only a web address
    last_run_at: datetime | None
    last_ok_at: datetime | None
    item_count: int  # documents stored from it plus copies of documents seen there


def source_page(store: Store, *, cursor: str | None, limit: int) -> tuple[list[PublicSource], str | None]:
    """One page of sources, by name, with their public fields only; and the next page's cursor."""
    _check_limit(limit)
    stored = (
        select(func.count())
        .where(documents.c.source_id == sources.c.id, documents.c.confidential.is_(False))
        .scalar_subquery()
    )
    copies = select(func.count()).where(sightings.c.source_id == sources.c.id).scalar_subquery()
    name = sources.c.name if store.dialect == "sqlite" else collate(sources.c.name, "C")
    query = select(
        sources.c.id, sources.c.name, sources.c.kind, sources.c.location, sources.c.last_run_at,
        sources.c.last_ok_at, (stored + copies).label("item_count"),
    ).where(sources.c.confidential.is_(False))
    if cursor:
        (after,) = decode_cursor(cursor, "sources", (str,))
        query = query.where(name > after)
    with store._read() as connection:
        rows = connection.execute(query.order_by(name).limit(limit + 1)).all()
    page = [
        PublicSource(id=int(row.id), name=str(row.name), kind=str(row.kind), url=public_url(row.location),
                     last_run_at=row.last_run_at, last_ok_at=row.last_ok_at, item_count=int(row.item_count))
        for row in rows[:limit]
    ]
    following = encode_cursor("sources", [page[-1].name]) if len(rows) > limit and page else None
    return page, following


def source_names(store: Store) -> dict[int, str]:
    """Every source's name by id (for labelling documents and the documents page's filter)."""
    with store._read() as connection:
        query = select(sources.c.id, sources.c.name).where(sources.c.confidential.is_(False))
        return {int(row.id): str(row.name) for row in connection.execute(query)}


def document_languages(store: Store) -> list[str]:
    """The language codes of stored documents, in code order (for the documents page's filter)."""
    query = (
        select(documents.c.lang).distinct().where(documents.c.lang.is_not(None), public_document_rule())
        .order_by(documents.c.lang)
    )
    with store._read() as connection:
        return [str(row[0]) for row in connection.execute(query)]


def documents_by_id(store: Store, ids: Iterable[int]) -> dict[int, Document]:
    """The documents with these ids (without raw payloads), by id; unknown ids are left out."""
    largest = _largest_id(store)
    wanted = sorted({i for i in ids if 0 <= i <= largest})
    if not wanted:
        return {}
    with store._read() as connection:
        rows = connection.execute(
            select(*_PUBLIC_DOCUMENT_COLUMNS).where(documents.c.id.in_(wanted), public_document_rule())
        ).all()
        blackout = withheld(store, connection)
    return {int(row.id): blackout.document(_public_document(row)) for row in rows}


def public_search(store: Store, query: str, *, limit: int) -> list[tuple[Document, str]]:
    """The public documents matching a web-search ``query``, best first, with highlighted snippets.

    The full-text index ranks every document; confidential ones are dropped here (asking for a few
    more than ``limit`` so that they do not leave the page short).
    """
    _check_limit(limit)
    blackout = withheld(store)
    asked = blackout.query(query)
    if not asked:  # only withheld words: finding anything would tell where the name stands
        return []
    hits = store.search(asked, limit=limit * 2 + 10)
    if not hits:
        return []
    wanted = [doc.id for doc, _ in hits if doc.id is not None]
    with store._read() as connection:
        allowed = set(connection.execute(
            select(documents.c.id).where(documents.c.id.in_(wanted), public_document_rule())
        ).scalars())
    return [(blackout.document(doc), blackout.text(snippet)) for doc, snippet in hits if doc.id in allowed][:limit]
