"""Names withheld from the public: the persons and organisations a researcher marked confidential.

A confidential registry entry (``cases.set_confidential``) hides more than its case page. Its names may
stand in public incidents and in the text of public documents, where other people are named too and the
happening itself is public: the incident stays public, the name does not. Every public read in
``store/`` passes what it returns through a ``Withheld`` made from the current data:

- in texts (a document's title and text, an evidence span, a search snippet) every alias of a withheld
  entry, and every word of four letters or more of such an alias, is blacked out character for
  character (``█``). Keeping the length keeps every evidence offset valid, so highlighting and the API's
  ``evidence_start``/``evidence_end`` still point at the same words. A word is matched with up to three
  more letters after it, because Russian and Central Asian surnames take case endings
  (Эшонкулова, Эшонкуловой). Blacking out too much is the safe side: a namesake's name may go too.
- in lists of names (an incident's persons and organisations) a withheld name becomes ``[name withheld]``.
- a public text query loses its withheld words, so that searching for a withheld name finds nothing it
  would not find without it (a search must not tell which public documents mention that person).

The length of a blacked-out name stays visible; that is the price of exact offsets, said in
``docs/security.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import overload

from sqlalchemy import select, union
from sqlalchemy.engine import Connection

from civicwatch.model import Document, Incident
from civicwatch.store.schema import organisation_aliases, organisations, person_aliases, persons

WITHHELD_NAME = "[name withheld]"
MASK = "█"
_MIN_WORD = 4  # shorter words of a name (initials, "al", "uly") are too common to black out everywhere
_ENDING = r"[^\W\d_]{0,3}"  # case endings after a surname
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Withheld:
    """What to black out of public output; ``Withheld.none()`` when no entry is confidential (the usual case)."""

    names: frozenset[str]  # whole names (aliases), casefolded
    pattern: re.Pattern[str] | None

    @staticmethod
    def none() -> Withheld:
        return Withheld(frozenset(), None)

    @staticmethod
    def of(aliases: list[str]) -> Withheld:
        """The blackout for these names (every alias of every confidential person and organisation)."""
        names = {a.strip().casefold() for a in aliases if a.strip()}
        words = {w.casefold() for a in names for w in _WORD.findall(a) if len(w) >= _MIN_WORD}
        parts = sorted(names | words, key=lambda s: (-len(s), s))
        if not parts:
            return Withheld.none()
        # Whole aliases first (longest first), then their words, each ending at a word boundary.
        pattern = re.compile(
            r"(?<!\w)(?:" + "|".join(re.escape(p) for p in parts) + r")" + _ENDING + r"(?!\w)",
            re.IGNORECASE,
        )
        return Withheld(frozenset(names), pattern)

    def __bool__(self) -> bool:
        return self.pattern is not None

    @overload
    def text(self, value: str) -> str: ...

    @overload
    def text(self, value: str | None) -> str | None: ...

    def text(self, value: str | None) -> str | None:
        """``value`` with every withheld name blacked out, its length kept."""
        if self.pattern is None or not value:
            return value
        return self.pattern.sub(lambda m: MASK * len(m.group(0)), value)

    def is_withheld(self, name: str) -> bool:
        """Whether this name (as written in an incident) names a withheld entry."""
        if self.pattern is None:
            return False
        folded = name.strip().casefold()
        return folded in self.names or self.pattern.search(name) is not None

    def names_list(self, names: list[str]) -> list[str]:
        """An incident's persons or organisations with withheld ones replaced by ``[name withheld]``."""
        if self.pattern is None:
            return names
        return [WITHHELD_NAME if self.is_withheld(n) else n for n in names]

    def incident(self, found: Incident) -> Incident:
        """The incident as the public may see it."""
        if self.pattern is None:
            return found
        return replace(found, persons=self.names_list(found.persons),
                       organisations=self.names_list(found.organisations), evidence=self.text(found.evidence))

    def document(self, found: Document) -> Document:
        """The document as the public may see it (title, author and text)."""
        if self.pattern is None:
            return found
        return replace(found, title=self.text(found.title), author=self.text(found.author), text=self.text(found.text))

    def query(self, q: str) -> str:
        """A public text query without its withheld words (an empty string when nothing else is left)."""
        if self.pattern is None:
            return q
        # A query word may carry search syntax around it ("Eshonkulova"*, (Eshonkulova)).
        kept = [w for w in q.split() if not self.pattern.fullmatch(w.strip("\"'()*"))]
        return " ".join(kept)


def load(connection: Connection) -> Withheld:
    """Every alias of every confidential person and organisation, read in ``connection``'s transaction."""
    query = union(
        select(persons.c.name.label("alias")).where(persons.c.confidential.is_(True)),
        select(person_aliases.c.alias).join(persons, persons.c.id == person_aliases.c.person_id)
        .where(persons.c.confidential.is_(True)),
        select(organisations.c.name).where(organisations.c.confidential.is_(True)),
        select(organisation_aliases.c.alias)
        .join(organisations, organisations.c.id == organisation_aliases.c.organisation_id)
        .where(organisations.c.confidential.is_(True)),
    )
    return Withheld.of([str(row[0]) for row in connection.execute(query)])
