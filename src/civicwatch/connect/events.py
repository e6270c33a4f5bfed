"""Which incidents report the same happening: blocking, signals and merging, as pure functions.

Incidents are compared only inside a block (one country, one month of their date, plus the month
before so that a window can cross a month's end): merging stays near-linear in the number of
incidents. Two incidents from different documents are the same event when

- their types are compatible (one type in common, or a pair listed in ``COMPATIBLE_TYPES``), and
- their dates fall within ``WINDOW_DAYS`` of each other, each date read as the span its precision
  gives (2024-03 is the whole of March), and
- they name a person or organisation in common after name matching (``entities``), or their
  evidence is similar (``EVIDENCE_THRESHOLD``); but two incidents that both name someone and
  share nobody are never merged, however alike their wording.

Every merge keeps the signals that matched, so a page can say why two reports are one event.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz

from civicwatch.connect.entities import keys_match
from civicwatch.connect.transliterate import name_key, to_latin
from civicwatch.model import Incident

# Days between the spans of two dates for them still to be the same happening (reports lag events).
WINDOW_DAYS = 7
# Evidence similarity (rapidfuzz token-set ratio on transliterated text, 0-1) that counts as a signal.
EVIDENCE_THRESHOLD = 0.6
# Types different sources use for one happening: a detention reported as "imprisonment" by one source.
COMPATIBLE_TYPES = frozenset(
    frozenset(pair)
    for pair in (
        ("detention", "imprisonment"),
        ("detention", "prosecution"),
        ("harassment", "attack"),
        ("censorship", "restrictive_law"),
        ("org_ban", "cso_restriction"),
        ("protest_restriction", "protest"),
        ("protest_restriction", "detention"),
    )
)


@dataclass(frozen=True)
class Match:
    """Why two incidents are one event: the signals that matched, by name."""

    signals: tuple[str, ...]
    names: tuple[str, ...] = ()
    evidence_similarity: float = 0.0

    def to_json(self) -> dict[str, object]:
        """The match as JSON, as stored in ``events.signals``."""
        return {"signals": list(self.signals), "names": list(self.names),
                "evidence_similarity": round(self.evidence_similarity, 2)}


@dataclass
class Candidate:
    """An incident prepared for comparison: its name keys and folded evidence computed once."""

    incident: Incident
    name_keys: tuple[str, ...] = field(default=())
    evidence: str = ""
    span: tuple[date, date] | None = None

    @classmethod
    def of(cls, incident: Incident) -> Candidate:
        """Prepare ``incident`` for comparison."""
        keys = tuple(k for k in (name_key(n) for n in [*incident.persons, *incident.organisations]) if k)
        return cls(incident, keys, to_latin(incident.evidence), date_span(incident.date))


def date_span(value: str | None) -> tuple[date, date] | None:
    """The first and last day a date at its precision covers: "2024" is a year, "2024-03" a month."""
    if not value:
        return None
    try:
        parts = [int(p) for p in value[:10].split("-")]
        if len(parts) == 1:
            return date(parts[0], 1, 1), date(parts[0], 12, 31)
        if len(parts) == 2:
            last = calendar.monthrange(parts[0], parts[1])[1]
            return date(parts[0], parts[1], 1), date(parts[0], parts[1], last)
        day = date(parts[0], parts[1], parts[2])
    except ValueError:
        return None
    return day, day


def block_keys(incident: Incident) -> tuple[tuple[str, str], ...]:
    """The blocks an incident is looked up in: its country with its own month, the month before
    and the month after (so that a window can cross a month's end whichever report comes first).

    An incident with no date, or only a year, is blocked by its year ("2024") or "" alone: it is
    compared with few others, never with the whole country.
    """
    value = incident.date or ""
    if len(value) < 7:
        return ((incident.country, value[:4]),)
    year, month = int(value[:4]), int(value[5:7])
    previous = f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"
    following = f"{year + 1}-01" if month == 12 else f"{year}-{month + 1:02d}"
    # Also the country's undated and year-only events, so that a dated report can join them.
    return ((incident.country, value[:7]), (incident.country, previous), (incident.country, following),
            (incident.country, ""), (incident.country, value[:4]))


def home_block(incident: Incident) -> tuple[str, str]:
    """The one block an incident is filed under (its own month, or year)."""
    return block_keys(incident)[0]


def types_compatible(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether two incidents' types can describe one happening."""
    if set(a) & set(b):
        return True
    return any(frozenset((x, y)) in COMPATIBLE_TYPES for x in a for y in b)


def dates_close(a: tuple[date, date] | None, b: tuple[date, date] | None, window: int = WINDOW_DAYS) -> bool:
    """Whether two date spans are within ``window`` days of each other (overlapping spans are)."""
    if a is None or b is None:
        return False
    gap = max((b[0] - a[1]).days, (a[0] - b[1]).days, 0)
    return gap <= window


def compare(a: Candidate, b: Candidate) -> Match | None:
    """The signals by which ``a`` and ``b`` are one event, or None when they are not."""
    x, y = a.incident, b.incident
    if x.country != y.country or (x.document_id is not None and x.document_id == y.document_id):
        return None
    # The date first: of the incidents in a candidate's blocks (three months) most are weeks apart.
    dated = dates_close(a.span, b.span)
    if not dated and a.span is not None and b.span is not None:
        return None  # both dated, too far apart
    if not types_compatible(x.types, y.types):
        return None
    signals = ["country", "types"]
    if dated:
        signals.append("date")
    names = tuple(sorted({k for k in a.name_keys for o in b.name_keys if keys_match(k, o)}))
    if names:
        signals.append("names")
    elif a.name_keys and b.name_keys:
        return None  # both name someone and nobody in common: two happenings, however alike the wording
    similarity = fuzz.token_set_ratio(a.evidence, b.evidence) / 100 if a.evidence and b.evidence else 0.0
    if similarity >= EVIDENCE_THRESHOLD:
        signals.append("evidence")
    # Dated incidents need a name or similar evidence; when a date is missing, a name and a type in
    # common (not merely compatible types) must make up for it.
    if dated:
        enough = bool(names) or similarity >= EVIDENCE_THRESHOLD
    else:
        enough = bool(names) and bool(set(x.types) & set(y.types))
    return Match(tuple(signals), names, similarity) if enough else None


@dataclass
class Group:
    """An event being built: its members and, for each member after the first, how it joined."""

    members: list[Candidate]
    joins: list[dict[str, object]] = field(default_factory=list)
    event_id: int | None = None
    locked: bool = False


def _name_overlap(a: Candidate, b: Candidate) -> float:
    """The share of the people named in either that both name (1.0 when both name exactly the same)."""
    either = set(a.name_keys) | set(b.name_keys)
    if not either:
        return 0.0
    shared = {k for k in a.name_keys if any(keys_match(k, o) for o in b.name_keys)}
    return len(shared) / len(either)


def best_group(candidate: Candidate, groups: Iterable[Group]) -> tuple[Group, Candidate, Match] | None:
    """The open group ``candidate`` matches best (most signals, then the closest set of names, then
    evidence), the member it matched and the match.

    The names come before the wording: a report of one person's detention belongs with the report naming
    her alone rather than with the one naming her and a co-defendant, however alike their sentences.
    """
    best: tuple[Group, Candidate, Match] | None = None
    best_rank: tuple[int, float, float] | None = None
    for group in groups:
        if group.locked:
            continue
        for member in group.members:
            found = compare(candidate, member)
            if found is None:
                continue
            rank = (len(found.signals), _name_overlap(candidate, member), found.evidence_similarity)
            if best_rank is None or rank > best_rank:
                best, best_rank = (group, member, found), rank
    return best


def _prefixes(candidate: Candidate) -> set[str]:
    """The first three letters of every word of the names a candidate gives (initials left out)."""
    return {word[:3] for key in candidate.name_keys for word in key.split() if len(word) > 1}


class _Blocks:
    """The groups filed under each block, and under each (block, first three letters of a named word).

    A candidate that names someone can only join a group a member of which names nobody (evidence may
    match) or names someone like it: ``compare`` refuses two incidents that both name people and share
    none. So it is compared with the groups filed under its names' word beginnings and with the groups
    holding an unnamed member, not with every group of its months; in a busy country (hundreds of
    incidents a month) that keeps merging near-linear. Names alike but for their first three letters are
    not compared, as the registry does not compare them either (``store/cases.py``).
    """

    def __init__(self) -> None:
        self._all: dict[tuple[str, str], list[Group]] = {}
        self._named: dict[tuple[tuple[str, str], str], dict[int, Group]] = {}
        self._unnamed: dict[tuple[str, str], dict[int, Group]] = {}
        self._order: dict[int, int] = {}

    def file(self, group: Group, member: Candidate) -> None:
        home = home_block(group.members[0].incident)
        if id(group) not in self._order:
            self._order[id(group)] = len(self._order)
            self._all.setdefault(home, []).append(group)
        prefixes = _prefixes(member)
        if not prefixes:
            self._unnamed.setdefault(home, {})[id(group)] = group
        for prefix in prefixes:
            self._named.setdefault((home, prefix), {})[id(group)] = group

    def near(self, candidate: Candidate) -> list[Group]:
        """The groups ``candidate`` may join, block by block in its ``block_keys`` order, oldest first."""
        keys = block_keys(candidate.incident)
        prefixes = _prefixes(candidate)
        found: list[Group] = []
        for key in keys:
            if not prefixes:
                found += self._all.get(key, [])
                continue
            here: dict[int, Group] = dict(self._unnamed.get(key, {}))
            for prefix in prefixes:
                here.update(self._named.get((key, prefix), {}))
            found += sorted(here.values(), key=lambda g: self._order[id(g)])
        return found


def merge(incidents: Iterable[Incident], existing: Iterable[Group] = ()) -> list[Group]:
    """Group ``incidents`` into events, adding to ``existing`` groups where they match.

    Single-link: an incident joins the group holding the member it matches best, or starts its
    own. Returns the existing groups (grown or not) and the new ones; each join is recorded as
    ``{"incident_id": ..., "with": other_id, **match}``.

    Incidents are taken in id order, whatever order they come in: joining is greedy (a group never
    unites with another one later), so with A and B each matching C but not each other, the order
    A, B, C gives {A, C} and {B} while A, C, B gives {A, B, C} (found by ``tests/test_properties.py``).
    Id order is also the order in which ``civicwatch connect`` meets them across runs, so one run over
    everything and several runs over the newcomers agree. Incidents without ids keep the order given.
    """
    blocks = _Blocks()
    groups = list(existing)
    for group in groups:
        for member in group.members:
            blocks.file(group, member)
    for incident in sorted(incidents, key=lambda i: (i.id is None, i.id or 0)):
        candidate = Candidate.of(incident)
        found = best_group(candidate, blocks.near(candidate))
        if found is None:
            group = Group([candidate])
            groups.append(group)
            blocks.file(group, candidate)
            continue
        group, other, match = found
        group.members.append(candidate)
        group.joins.append({"incident_id": incident.id, "with": other.incident.id, **match.to_json()})
        blocks.file(group, candidate)
    return groups
