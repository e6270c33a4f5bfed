"""The registry of persons and organisations, and their cases: who was detained, charged, sentenced, released.

``Registration.register`` runs inside each of ``connect``'s transactions on the incidents it
connects: every name in an incident's ``persons`` / ``organisations`` is matched to the registry (an
alias with the same folded key, else a fuzzy match among the same country's entries,
``connect.entities``) or added to it, and linked to the incident. The registry is read once per
``connect`` call and what a batch adds is written in one statement per table. A person's case is the
timeline of their incidents' steps, each with its source; the current status follows from the latest
step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from rapidfuzz import process
from sqlalchemy import Connection, Text, insert, select, type_coerce
from sqlalchemy.dialects import postgresql, sqlite

from civicwatch.connect.entities import keys_match
from civicwatch.connect.transliterate import name_key
from civicwatch.model import Incident
from civicwatch.store.db import Store
from civicwatch.store.schema import (
    documents,
    incidents,
    organisation_aliases,
    organisation_incidents,
    organisations,
    person_aliases,
    person_incidents,
    persons,
)

Kind = Literal["persons", "organisations"]
# The step of a case an incident type stands for, and the status a latest step leaves a person in.
STEPS = {"detention": "detained", "prosecution": "charged", "imprisonment": "sentenced", "release": "released"}
STATUS_AFTER = {"detained": "detained", "charged": "detained", "sentenced": "imprisoned", "released": "released"}
ROLE_TARGETS = ("journalist", "blogger", "hrd", "lawyer", "activist", "opposition", "cso", "union", "religious")
_TABLES = {
    "persons": (persons, person_aliases, person_incidents, "person_id"),
    "organisations": (organisations, organisation_aliases, organisation_incidents, "organisation_id"),
}


@dataclass
class Step:
    """One step of a case: what happened (detained, charged, sentenced, released), when, and the source."""

    step: str
    date: str | None
    incident_id: int
    document_id: int
    title: str | None
    url: str | None


@dataclass
class Case:
    """A person or organisation in the registry, with their timeline and current status."""

    id: int
    kind: Kind
    name: str
    aliases: list[str]
    roles: list[str]
    countries: list[str]
    confidential: bool
    steps: list[Step] = field(default_factory=list)
    status: str = "unknown"

    @property
    def date(self) -> str | None:
        """The date of the latest step (for lists)."""
        return self.steps[-1].date if self.steps else None

    @property
    def latest_step(self) -> Step | None:
        """The latest step, or None."""
        return self.steps[-1] if self.steps else None


def case_status(steps: Iterable[Step]) -> str:
    """The current status a timeline (oldest first) leaves a person in: detained, imprisoned, released or unknown.

    >>> case_status([Step("detained", "2026-03-04", 1, 1, None, None), Step("sentenced", "2026-06", 2, 2, None, None)])
    'imprisoned'
    """
    status = "unknown"
    for step in steps:
        status = STATUS_AFTER.get(step.step, status)
    return status


def _insert_ignore(dialect: str, table: Any) -> Any:
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


class _Registry:
    """The aliases of one kind (all countries: a person is reported from several), read once per ``connect``
    call and kept up to date in memory by it: like the events, the registry assumes one ``connect`` at a
    time (a second one running meanwhile could add the same person twice, as it could before).

    New entries get provisional (negative) ids while a batch is matched, so a later name of the same batch
    matches an entry added earlier in it; ``flush`` writes them in three statements (entries, aliases,
    links) instead of a round trip per name, and maps each provisional id to the real one.
    """

    def __init__(self, connection: Connection, kind: Kind) -> None:
        self.kind = kind
        table, aliases, _, fk = _TABLES[kind]
        rows = connection.execute(select(aliases.c[fk], aliases.c.key, aliases.c.alias, table.c.countries)
                                  .join(table, table.c.id == aliases.c[fk])).all()
        self.by_key: dict[str, int] = {}
        # Fuzzy candidates by (country, first three letters of a word of the key): a new name is compared
        # with the few names sharing a word start, not with the whole country (which made 100k quadratic).
        self.by_prefix: dict[tuple[str, str], dict[str, int]] = {}
        self.aliases: set[tuple[int, str]] = set()
        # In memory an entry added by this call keeps its provisional id; ``real`` names its row once written.
        self.real: dict[int, int] = {}
        self.new_entries: list[dict[str, Any]] = []
        self.new_aliases: list[tuple[int, str, str]] = []
        self.new_links: list[tuple[int, int | None]] = []
        for entity_id, key, alias, entity_countries in rows:
            self._remember(int(entity_id), key, alias, entity_countries)

    def _remember(self, entity_id: int, key: str, alias: str, countries: list[str]) -> None:
        self.by_key.setdefault(key, entity_id)
        self.aliases.add((entity_id, alias))
        prefixes = {word[:3] for word in key.split() if len(word) > 1}
        for country in countries:
            for prefix in prefixes:
                self.by_prefix.setdefault((country, prefix), {})[key] = entity_id

    def find(self, key: str, country: str) -> int | None:
        """The entity with this key, else the best fuzzy match among the country's entries."""
        if key in self.by_key:
            return self.by_key[key]
        keys: dict[str, int] = {}
        for word in key.split():
            keys.update(self.by_prefix.get((country, word[:3]), {}))
        for candidate, _, _ in process.extract(key, list(keys), limit=5):
            if keys_match(key, candidate):
                return keys[candidate]
        return None

    def add(self, name: str, key: str, country: str, roles: list[str], now: datetime) -> int:
        """A new entry named ``name``, written at the next ``flush``; returns its provisional id."""
        entity_id = -1 - len(self.real) - len(self.new_entries)
        self.new_entries.append({"name": name, "roles": roles, "countries": [country], "confidential": False,
                                 "created_at": now})
        self.new_aliases.append((entity_id, name, key))
        self._remember(entity_id, key, name, [country])
        return entity_id

    def alias(self, entity_id: int, name: str, key: str, country: str) -> None:
        """Record ``name`` as an alias of ``entity_id`` unless it is one already."""
        if (entity_id, name) in self.aliases:
            return
        self.new_aliases.append((entity_id, name, key))
        self._remember(entity_id, key, name, [country])

    def link(self, entity_id: int, incident_id: int | None) -> None:
        """Link ``entity_id`` to an incident at the next ``flush``."""
        self.new_links.append((entity_id, incident_id))

    def flush(self, connection: Connection) -> int:
        """Write the entries, aliases and links recorded since the last flush; return the links written."""
        table, aliases, link_table, fk = _TABLES[self.kind]
        if self.new_entries:
            # insertmanyvalues: one statement, ids returned in the order the entries were added.
            ids = connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                     self.new_entries).scalars().all()
            first = -1 - len(self.real)
            self.real.update({first - n: int(entity_id) for n, entity_id in enumerate(ids)})
        if self.new_aliases:
            connection.execute(insert(aliases), [{fk: self._id(e), "alias": a, "key": k}
                                                 for e, a, k in self.new_aliases])
        if self.new_links:
            connection.execute(_insert_ignore(connection.dialect.name, link_table),
                               [{fk: self._id(e), "incident_id": i} for e, i in self.new_links])
        links = len(self.new_links)
        self.new_entries, self.new_aliases, self.new_links = [], [], []
        return links

    def _id(self, entity_id: int) -> int:
        return self.real.get(entity_id, entity_id)


class Registration:
    """Matches the names of ``connect``'s batches to the registry of both kinds, read once per call."""

    def __init__(self) -> None:
        self.registries: dict[Kind, _Registry] = {}

    def register(self, connection: Connection, batch: list[Incident]) -> int:
        """Match or add every named person and organisation of ``batch`` and link them; return links made.

        Runs inside the batch's transaction; if it fails, the call ends and this object is dropped with it.
        """
        now = datetime.now(UTC)
        links = 0
        kinds: tuple[Kind, ...] = ("persons", "organisations")
        for kind in kinds:
            if kind not in self.registries:
                self.registries[kind] = _Registry(connection, kind)
            registry = self.registries[kind]
            for incident in batch:
                roles = [t for t in incident.targets if t in ROLE_TARGETS] if kind == "persons" else []
                for name in getattr(incident, kind):
                    key = name_key(name)
                    if not key:
                        continue
                    found = registry.find(key, incident.country)
                    if found is None:
                        found = registry.add(name, key, incident.country, roles, now)
                    else:
                        registry.alias(found, name, key, incident.country)
                    registry.link(found, incident.id)
            links += registry.flush(connection)
        return links


def case(store: Store, entity_id: int, kind: Kind = "persons", *, public: bool = True) -> Case | None:
    """A person's (or organisation's) case with its timeline, or None (also for a confidential one when public)."""
    from civicwatch.store import browse

    table, aliases, link_table, fk = _TABLES[kind]
    if not 0 < entity_id <= 2**31 - 1:  # ids are 32-bit on PostgreSQL: a larger one names no row
        return None
    with store._read() as connection:
        row = connection.execute(select(table).where(table.c.id == entity_id)).first()
        if row is None or (public and row.confidential):
            return None
        names = [r[0] for r in connection.execute(select(aliases.c.alias).where(aliases.c[fk] == entity_id)
                                                  .order_by(aliases.c.alias))]
        query = (select(incidents.c.id, incidents.c.types, incidents.c.date, incidents.c.document_id,
                        documents.c.title, documents.c.url)
                 .join(link_table, link_table.c.incident_id == incidents.c.id)
                 .join(documents, documents.c.id == incidents.c.document_id)
                 .where(link_table.c[fk] == entity_id))
        if public:
            query = query.where(browse.public_incident())
        members = connection.execute(query).all()
    if public and not members:  # known only from hidden incidents: the public does not learn the name
        return None
    blackout = browse.withheld(store) if public else None
    found = Case(int(row.id), kind, row.name, names, list(row.roles), list(row.countries), bool(row.confidential))
    for m in members:
        url = browse.public_url(m.url) if public else m.url
        for kind_of in m.types:
            if kind_of in STEPS:
                title = blackout.text(m.title) if blackout else m.title
                found.steps.append(Step(STEPS[kind_of], m.date, int(m.id), int(m.document_id), title, url))
    order = list(STEPS.values())
    found.steps.sort(key=lambda s: (s.date or "9999", order.index(s.step), s.incident_id))
    found.status = case_status(found.steps)
    return found


def registry_page(store: Store, kind: Kind = "persons", *, country: str | None = None, after_id: int | None = None,
                  limit: int = 50) -> list[tuple[int, str, list[str], list[str]]]:
    """Registry entries by id as (id, name, roles, countries); confidential ones left out."""
    table = _TABLES[kind][0]
    query = (select(table.c.id, table.c.name, table.c.roles, table.c.countries)
             .where(table.c.confidential.is_(False)).order_by(table.c.id).limit(limit))
    if after_id is not None:
        query = query.where(table.c.id > min(after_id, 2**31 - 1))
    if country:
        # The JSON text of the list, not the list type (which would JSON-encode the pattern too).
        query = query.where(type_coerce(table.c.countries, Text).like(f'%"{country.upper()}"%'))
    with store._read() as connection:
        return [(int(r.id), str(r.name), list(r.roles), list(r.countries)) for r in connection.execute(query)]


def detained_or_imprisoned(store: Store, country: str) -> list[Case]:
    """Persons of ``country`` whose case leaves them detained or imprisoned now, each with its steps and sources."""
    found = []
    for entity_id, *_ in registry_page(store, "persons", country=country, limit=100_000):
        person = case(store, entity_id)
        if person is not None and person.status in ("detained", "imprisoned"):
            found.append(person)
    return sorted(found, key=lambda c: c.name)


def set_confidential(store: Store, entity_id: int, confidential: bool, *, kind: Kind = "persons", actor: str,
                     reason: str | None = None) -> None:
    """Mark a registry entry confidential (hidden from every public page and API route) or not; audited."""
    from sqlalchemy import update

    from civicwatch.errors import UsageError
    from civicwatch.store import audit

    table = _TABLES[kind][0]
    if not 0 < entity_id <= 2**31 - 1:
        raise UsageError(str(entity_id), f"no such {kind[:-1]}")
    with store._write() as connection:
        before = connection.execute(select(table.c.confidential).where(table.c.id == entity_id)).scalar()
        if before is None:
            raise UsageError(str(entity_id), f"no such {kind[:-1]}")
        connection.execute(update(table).where(table.c.id == entity_id).values(confidential=confidential))
        audit.record(connection, actor=actor, item_kind=kind[:-1], item_id=entity_id, action="confidential",
                     before={"confidential": bool(before)}, after={"confidential": confidential}, reason=reason)


def ids_by_alias(store: Store, names: Iterable[str], kind: Kind = "persons") -> dict[str, int]:
    """The registry id of each of ``names`` written exactly so (an alias), confidential entries left out."""
    table, aliases, _, fk = _TABLES[kind]
    wanted = sorted(set(names))
    if not wanted:
        return {}
    query = (select(aliases.c.alias, aliases.c[fk]).join(table, table.c.id == aliases.c[fk])
             .where(aliases.c.alias.in_(wanted), table.c.confidential.is_(False)))
    with store._read() as connection:
        return {str(alias): int(entity_id) for alias, entity_id in connection.execute(query)}
