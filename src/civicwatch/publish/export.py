"""Exports of incidents, documents, persons and organisations: CSV, JSON Lines or a Frictionless Data Package.

``export()`` streams: incidents and documents are written as they come, and the persons and organisations
named in the incidents are gathered in a scratch SQLite file on disk, so memory stays flat on any size of
database. Every file is written into a scratch folder inside ``out`` and moved into place only once all of
them are complete (``datapackage.json`` last), so a crash never leaves a half-written file behind.

What leaves the system is decided here and nowhere else: ``PUBLIC_INCIDENT_FIELDS`` and
``PUBLIC_DOCUMENT_FIELDS`` list the columns an export may carry (documents go without their raw payload).
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from civicwatch.errors import UsageError
from civicwatch.model import Document, Incident
from civicwatch.store.withheld import WITHHELD_NAME

if TYPE_CHECKING:
    from civicwatch.store import Store
    from civicwatch.store.browse import IncidentFilters

Format = Literal["csv", "jsonl", "datapackage"]
FORMATS: tuple[Format, ...] = ("csv", "jsonl", "datapackage")

# The columns an export may carry, in the order they are written. Anything confidential stays out of these.
PUBLIC_INCIDENT_FIELDS: tuple[str, ...] = (
    "id", "document_id", "country", "types", "rights", "targets", "persons", "organisations", "perpetrators",
    "date", "evidence", "confidence", "evidence_start", "evidence_end", "coder_version", "coded_by",
)
PUBLIC_DOCUMENT_FIELDS: tuple[str, ...] = (
    "id", "source_id", "url", "canonical_url", "title", "author", "published", "published_from", "fetched_at",
    "lang", "lang_score", "parent_id", "is_digest", "external_id", "content_hash", "text",
)  # no raw payload
NAME_FIELDS: tuple[str, ...] = ("name", "countries", "incident_count", "incident_ids")

LIST_SEPARATOR = ";"
TABLES: tuple[str, ...] = ("incidents", "documents", "persons", "organisations")

_DATE_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"  # the codebook's precisions: year, month or day


def _field(name: str, type: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type, "description": description, **extra}


def _list(name: str, description: str, item_type: str = "string") -> dict[str, Any]:
    return _field(name, "list", f"{description} ({LIST_SEPARATOR}-separated)", delimiter=LIST_SEPARATOR,
                  itemType=item_type)


# Table Schema per field (frictionless); keyed by name so the public field lists above stay the only choice.
_INCIDENT_SCHEMA: dict[str, dict[str, Any]] = {f["name"]: f for f in [
    _field("id", "integer", "civicwatch's id of the incident", constraints={"required": True}),
    _field("document_id", "integer", "the document the incident was coded from (documents.id)"),
    _field("country", "string", "ISO 3166-1 alpha-2 code", constraints={"pattern": "^[A-Z]{2}$"}),
    _list("types", "incident types, codebook ids"),
    _list("rights", "rights affected, codebook ids"),
    _list("targets", "targeted groups, codebook ids"),
    _list("persons", "people named as targets"),
    _list("organisations", "organisations named as targets"),
    _list("perpetrators", "perpetrators, codebook ids"),
    _field("date", "string", "date of the incident, at the precision the text gave (YYYY[-MM[-DD]])",
           constraints={"pattern": _DATE_PATTERN}),
    _field("evidence", "string", "the sentence(s) of the document the incident rests on"),
    _field("confidence", "number", "the coder's confidence, 0 to 1",
           constraints={"minimum": 0, "maximum": 1}),
    _field("evidence_start", "integer", "offset of the evidence in the document's text"),
    _field("evidence_end", "integer", "end offset of the evidence in the document's text"),
    _field("coder_version", "string", "version of the coder that found the incident"),
    _field("coded_by", "string", "machine or person", constraints={"enum": ["machine", "person"]}),
]}
_DOCUMENT_SCHEMA: dict[str, dict[str, Any]] = {f["name"]: f for f in [
    _field("id", "integer", "civicwatch's id of the document", constraints={"required": True}),
    _field("source_id", "integer", "civicwatch's id of the first source that carried it"),
    _field("url", "string", "where it was read (URL or file path)"),
    _field("canonical_url", "string", "the canonical URL the page declared"),
    _field("title", "string", "title"),
    _field("author", "string", "author as given by the source"),
    _field("published", "string", "publication date or timestamp as given (ISO 8601)"),
    _field("published_from", "string", "where the publication date came from"),
    _field("fetched_at", "datetime", "when civicwatch read it (UTC)"),
    _field("lang", "string", "language code"),
    _field("lang_score", "number", "confidence of the language detection"),
    _field("parent_id", "integer", "the digest this document was split out of (documents.id)"),
    _field("is_digest", "boolean", "true for a digest's own text, whose items are separate documents"),
    _field("external_id", "string", "the source's own id for it"),
    _field("content_hash", "string", "hash of the normalised text"),
    _field("text", "string", "clean text"),
]}
_NAME_SCHEMA: dict[str, dict[str, Any]] = {f["name"]: f for f in [
    _field("name", "string", "the name as the incidents give it",
           constraints={"required": True, "unique": True}),
    _list("countries", "ISO 3166-1 alpha-2 codes of the incidents naming it"),
    _field("incident_count", "integer", "number of incidents naming it", constraints={"minimum": 1}),
    _list("incident_ids", "the incidents naming it (incidents.id)", "integer"),
]}


def export(
    incidents: Iterable[Incident],
    documents: Iterable[Document],
    out: Path,
    *,
    format: Format,
) -> list[Path]:
    """Write incidents, documents, persons and organisations into the folder ``out``; return the files.

    ``csv`` writes ``incidents.csv``, ``documents.csv``, ``persons.csv`` and ``organisations.csv`` (UTF-8, a
    header row, list fields joined with ``;``); ``jsonl`` the same tables as ``.jsonl`` files of one JSON
    object per line (lists as arrays); ``datapackage`` the CSV files plus ``datapackage.json``, a Frictionless
    Data Package with a Table Schema per table, which needs every incident's document among ``documents``.

    Persons and organisations come from the incidents' lists: each name once, with the countries and ids of
    the incidents naming it. Both iterables are read once, as streams. Files of the same names already in
    ``out`` are replaced, each one whole.

    Raises ``UsageError`` for an unknown format, an ``out`` that is not a folder, an incident without an id,
    or (``datapackage``) an incident whose document is not exported.
    """
    if format not in FORMATS:
        raise UsageError(str(format), f"not an export format (one of {', '.join(FORMATS)})")
    if out.exists() and not out.is_dir():
        raise UsageError(str(out), "not a folder to export into")
    out.mkdir(parents=True, exist_ok=True)
    suffix = "jsonl" if format == "jsonl" else "csv"
    scratch = Path(tempfile.mkdtemp(prefix=".export-", dir=out))
    try:
        index = _Index(scratch / "index.sqlite")
        try:
            with _table(scratch / f"documents.{suffix}", PUBLIC_DOCUMENT_FIELDS) as write:
                for document in documents:
                    write({name: getattr(document, name) for name in PUBLIC_DOCUMENT_FIELDS})
                    index.add_document(document)
            with _table(scratch / f"incidents.{suffix}", PUBLIC_INCIDENT_FIELDS) as write:
                for incident in incidents:
                    if incident.id is None:
                        raise UsageError(incident.evidence[:80] or repr(incident), "incident without an id")
                    write({name: getattr(incident, name) for name in PUBLIC_INCIDENT_FIELDS})
                    index.add_incident(incident)
            if format == "datapackage":
                index.check_documents()
            for kind in ("persons", "organisations"):
                with _table(scratch / f"{kind}.{suffix}", NAME_FIELDS) as write:
                    for row in index.names(kind):
                        write(row)
        finally:
            index.close()
        files = [f"{name}.{suffix}" for name in TABLES]
        if format == "datapackage":
            _write_descriptor(scratch / "datapackage.json")
            files.append("datapackage.json")  # last: a package only ever describes files already in place
        for name in files:
            _durable(scratch / name)
            os.replace(scratch / name, out / name)
        return [out / name for name in files]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@contextmanager
def _table(path: Path, fields: tuple[str, ...]) -> Iterator[Callable[[dict[str, Any]], object]]:
    """A scratch file for one table, and a function writing one row to it as CSV or JSONL (by its suffix)."""
    # newline="" lets the csv module write its own CRLF line ends (RFC 4180) and keeps JSONL's "\n".
    with path.open("w", encoding="utf-8", newline="") as handle:
        if path.suffix == ".jsonl":
            yield lambda row: handle.write(_json_line(row))
        else:
            writer = csv.writer(handle)
            writer.writerow(fields)
            yield lambda row: writer.writerow([_csv_cell(row[name]) for name in fields])


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, list | tuple):
        return list(value)
    return value


def _json_line(row: dict[str, Any]) -> str:
    # ensure_ascii=False keeps names readable (Cyrillic, Arabic...); JSON escapes the line breaks of texts.
    return json.dumps({k: _json_value(v) for k, v in row.items()}, ensure_ascii=False) + "\n"


def _csv_cell(value: Any) -> str:
    """One CSV cell: empty for None, ``true``/``false``, ISO timestamps, ``;``-joined lists."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, list | tuple):
        # A ";" inside one item would split it in two when read back; a comma keeps it readable.
        return LIST_SEPARATOR.join(str(item).replace(LIST_SEPARATOR, ",") for item in value)
    return str(value)


def _timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``; stored timestamps without a zone are UTC already."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


def _durable(path: Path) -> None:
    """Flush a finished file to disk before it is renamed into place."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Index:
    """What the export must remember across the streams, on disk instead of in memory: the documents'
    ids, the documents the incidents cite, and who is named in which incident."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        # Scratch data, thrown away after the export and on any crash: no journal, no syncs.
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(
            """
            CREATE TABLE documents (id INTEGER PRIMARY KEY);
            CREATE TABLE cited (incident_id INTEGER, document_id INTEGER);
            CREATE TABLE names (kind TEXT, name TEXT, incident_id INTEGER, country TEXT,
                                PRIMARY KEY (kind, name, incident_id)) WITHOUT ROWID;
            """
        )

    def add_document(self, document: Document) -> None:
        if document.id is not None:
            self.db.execute("INSERT OR IGNORE INTO documents VALUES (?)", (document.id,))

    def add_incident(self, incident: Incident) -> None:
        # A withheld name (``store/withheld.py``) is a blank in the incident, not a person of its own.
        rows = [("persons", name, incident.id, incident.country) for name in incident.persons if name != WITHHELD_NAME]
        rows += [("organisations", name, incident.id, incident.country) for name in incident.organisations
                 if name != WITHHELD_NAME]
        self.db.executemany("INSERT OR IGNORE INTO names VALUES (?, ?, ?, ?)", rows)
        if incident.document_id is not None:
            self.db.execute("INSERT INTO cited VALUES (?, ?)", (incident.id, incident.document_id))

    def check_documents(self) -> None:
        """Refuse an incident whose document is not exported: the package's foreign key would be broken."""
        missing = self.db.execute(
            "SELECT incident_id, document_id FROM cited WHERE document_id NOT IN (SELECT id FROM documents)"
            " ORDER BY incident_id LIMIT 1"
        ).fetchone()
        if missing:
            raise UsageError(
                f"incident {missing[0]}", f"its document {missing[1]} is not among the exported documents"
            )

    def names(self, kind: str) -> Iterator[dict[str, Any]]:
        """Each name of ``kind`` once, by name, with its countries and incidents (one at a time in memory)."""
        cursor = self.db.execute(
            "SELECT name, incident_id, country FROM names WHERE kind = ? ORDER BY name, incident_id", (kind,)
        )
        for name, group in itertools.groupby(cursor, key=lambda row: row[0]):
            links = list(group)
            yield {
                "name": name,
                "countries": sorted({country for _, _, country in links if country}),
                "incident_count": len(links),
                "incident_ids": [incident_id for _, incident_id, _ in links],
            }

    def close(self) -> None:
        self.db.close()


def _write_descriptor(path: Path) -> None:
    """``datapackage.json``: the four CSV tables with their Table Schemas and keys."""

    def resource(name: str, schema: dict[str, dict[str, Any]], fields: tuple[str, ...], key: str,
                 title: str) -> dict[str, Any]:
        return {
            "name": name,
            "path": f"{name}.csv",
            "title": title,
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "schema": {"fields": [schema[f] for f in fields], "primaryKey": [key], "missingValues": [""]},
        }

    incidents = resource("incidents", _INCIDENT_SCHEMA, PUBLIC_INCIDENT_FIELDS, "id", "Coded incidents")
    incidents["schema"]["foreignKeys"] = [
        {"fields": ["document_id"], "reference": {"resource": "documents", "fields": ["id"]}}
    ]
    package = {
        "profile": "tabular-data-package",
        "name": "civicwatch-export",
        "title": "civicwatch export: incidents, documents, persons and organisations",
        "created": _timestamp(datetime.now(UTC)),
        "resources": [
            incidents,
            resource("documents", _DOCUMENT_SCHEMA, PUBLIC_DOCUMENT_FIELDS, "id", "Documents"),
            resource("persons", _NAME_SCHEMA, NAME_FIELDS, "name", "People named in incidents"),
            resource("organisations", _NAME_SCHEMA, NAME_FIELDS, "name", "Organisations named in incidents"),
        ],
    }
    path.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def export_store(store: Store, filters: IncidentFilters, out: Path, *, format: Format) -> list[Path]:
    """Export the public incidents matching ``filters`` and the documents they cite, as ``export`` does.

    The incidents are read twice, a page at a time, so memory holds only the cited documents' ids:
    once to learn which documents to write (documents come first in the export), once to write them.
    """
    from civicwatch.store import browse

    def matching() -> Iterator[Incident]:
        cursor: str | None = None
        while True:
            page, cursor = browse.incident_page(store, filters, cursor=cursor, limit=browse.MAX_LIMIT)
            yield from page
            if cursor is None:
                return

    cited = sorted({incident.document_id for incident in matching() if incident.document_id is not None})

    def cited_documents() -> Iterator[Document]:
        for start in range(0, len(cited), 500):
            found = browse.documents_by_id(store, cited[start : start + 500])
            yield from (found[i] for i in cited[start : start + 500] if i in found)

    return export(matching(), cited_documents(), out, format=format)
