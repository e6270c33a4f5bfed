"""Linear-time phrase matching for the coder's lexicons (cues, places, titles).

Every phrase the coder knows is one key in a single Aho-Corasick automaton, so
a text is scanned once whatever the number of phrases. Phrases are written in
lower case; a trailing ``*`` lets the last word continue (``detain*`` matches
"detained", ``задержа*`` matches "задержали"), which is how Russian and French
inflection is handled without a morphological analyser. A phrase may also be
a *combination*: parts joined by `` ~ `` must all occur, in order, each within
a short gap of the previous one (``passed ~ law``).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

# Characters whose lower-case form changes the string length ("İ" -> "i̇") or
# that have typographic variants: folded to one character so offsets in the
# folded text are offsets in the original.
_FOLD = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
        "«": '"',
        "»": '"',
        "“": '"',
        "”": '"',
        "„": '"',
        "ё": "е",
        "Ё": "е",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "–": "-",
        "—": "-",
        "‑": "-",
        "İ": "i",
    }
)

_SENTENCE_BREAK = re.compile(r"[.!?;]\s|\n")
COMBO_GAP = 160  # characters allowed between the parts of a combination cue


def fold(text: str) -> str:
    """Lower-case ``text`` keeping its length, so offsets stay valid; unify quotes, dashes, ё."""
    text = text.translate(_FOLD)
    low = text.lower()
    if len(low) == len(text):
        return low
    # Rare characters that expand when lower-cased: fold one by one.
    return "".join(c.lower()[0] for c in text)


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"


@dataclass(frozen=True)
class Entry:
    """What a phrase means: its kind (type, target, place...), label and options."""

    kind: str
    label: str
    cap: bool = False  # the original text must start with a capital letter (proper names)
    weight: float = 1.0


@dataclass(frozen=True)
class Hit:
    """One match of a phrase in a text: ``[start, end)`` offsets and what it means."""

    start: int
    end: int
    kind: str
    label: str
    weight: float = 1.0


@dataclass
class _Combo:
    parts: list[str]
    entry: Entry
    gap: int = COMBO_GAP


class Lexicon:
    """A set of phrases with meanings, compiled into one automaton.

    >>> lex = Lexicon()
    >>> lex.add("detain*", Entry("type", "detention"))
    >>> lex.build()
    >>> [(h.label, h.start) for h in lex.scan("Police detained him.")]
    [('detention', 7)]
    """

    def __init__(self) -> None:
        self._phrases: dict[str, list[Entry]] = defaultdict(list)
        self._combos: list[_Combo] = []
        self._automaton: ahocorasick.Automaton | None = None
        self._combo_parts: set[str] = set()
        self._combos_by_first: dict[str, list[_Combo]] = defaultdict(list)
        self._last_text = ""

    def add(self, phrase: str, entry: Entry) -> None:
        """Add a phrase (see the module docstring for the syntax)."""
        phrase = " ".join(fold(phrase).split())
        if not phrase:
            return
        if " ~ " in phrase:
            parts = [p.strip() for p in phrase.split(" ~ ") if p.strip()]
            for part in parts:
                self._phrases.setdefault(part, [])
            self._combos.append(_Combo(parts, entry))
            return
        if "*" in phrase.rstrip("*"):
            # An inflected word inside a phrase ("физическ* сил*"): its words must follow one another.
            parts = phrase.split(" ")
            for part in parts:
                self._phrases.setdefault(part, [])
            self._combos.append(_Combo(parts, entry, gap=2))
            return
        if entry not in self._phrases[phrase]:
            self._phrases[phrase].append(entry)

    def add_all(self, phrases: Iterable[str], entry: Entry) -> None:
        for phrase in phrases:
            self.add(phrase, entry)

    def build(self) -> None:
        """Compile the automaton; call once after the last ``add``."""
        automaton = ahocorasick.Automaton()
        for phrase, entries in self._phrases.items():
            stem = phrase.endswith("*")
            key = phrase.rstrip("*")
            if not key:
                continue
            # One key may come from "x" and "x*": keep both flavours.
            old = automaton.get(key, None)
            slots: dict[bool, list[Entry]] = {True: [], False: []} if old is None else old[1]
            slots[stem] = slots[stem] + [e for e in entries if e not in slots[stem]]
            automaton.add_word(key, (key, slots, phrase))
        self._combo_parts = {p for c in self._combos for p in c.parts}
        self._combos_by_first = defaultdict(list)
        for combo in self._combos:
            self._combos_by_first[combo.parts[0]].append(combo)
        if len(automaton):
            automaton.make_automaton()
            self._automaton = automaton
        else:
            self._automaton = None

    def scan(self, text: str, folded: str | None = None) -> list[Hit]:
        """All phrase hits in ``text``, sorted by position (``folded`` = ``fold(text)`` if known)."""
        if self._automaton is None:
            return []
        low = fold(text) if folded is None else folded
        n = len(low)
        hits: list[Hit] = []
        parts_seen: dict[str, list[tuple[int, int]]] = defaultdict(list)
        combo_parts = self._combo_parts
        for end_idx, (key, slots, _phrase) in self._automaton.iter(low):
            start = end_idx - len(key) + 1
            if start > 0 and _is_word(low[start - 1]) and _is_word(key[0]):
                continue
            after = end_idx + 1
            whole = after >= n or not _is_word(low[after]) or not _is_word(key[-1])
            end = after
            for stem, entries in slots.items():
                if not stem and not whole:
                    continue
                if stem:
                    while end < n and _is_word(low[end]):
                        end += 1
                for entry in entries:
                    if entry.cap and not text[start].isupper():
                        continue
                    hits.append(Hit(start, end if stem else after, entry.kind, entry.label, entry.weight))
                label = key + ("*" if stem else "")
                if label in combo_parts:
                    parts_seen[label].append((start, end if stem else after))
        if self._combos and parts_seen:
            self._last_text = low
            hits.extend(self._combo_hits(parts_seen))
        hits.sort(key=lambda h: (h.start, -h.end))
        return hits

    def _combo_hits(self, seen: dict[str, list[tuple[int, int]]]) -> list[Hit]:
        out: list[Hit] = []
        ordered = {k: sorted(v) for k, v in seen.items()}
        starts = {k: [s for s, _ in v] for k, v in ordered.items()}
        # Only combinations whose first part occurs are tried: the work follows the text, not the lexicon.
        for first_part, first_spans in ordered.items():
            for combo in self._combos_by_first.get(first_part, ()):
                for start, end in first_spans:
                    cur_end = self._chain(combo, end, ordered, starts)
                    if cur_end is not None:
                        e = combo.entry
                        out.append(Hit(start, cur_end, e.kind, e.label, e.weight))
        return out

    def _chain(
        self, combo: _Combo, end: int, ordered: dict[str, list[tuple[int, int]]], starts: dict[str, list[int]]
    ) -> int | None:
        """The end of the combination whose first part ends at ``end``, or None when a part is missing."""
        for part in combo.parts[1:]:
            # The nearest following occurrence, found by bisection: linear overall.
            i = bisect_left(starts.get(part, []), end)
            spans = ordered.get(part, [])
            if i >= len(spans) or spans[i][0] > end + combo.gap:
                return None
            if _SENTENCE_BREAK.search(self._last_text, end, spans[i][0]):
                return None  # the parts of a combination belong to one sentence
            end = spans[i][1]
        return end
