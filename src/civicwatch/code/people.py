"""Names of people and organisations in a sentence, Latin or Cyrillic, from capitalisation and context.

A person's name is a run of two to five capitalised words (particles such as
"dos", "de", "van", "bin" allowed inside) none of which is a known non-name
word (``names.toml``) or a place. A name right after an official's title
("President X", "prosecutor X") or followed by a speech verb ("X said") is an
actor or a source, not a person affected, and is left out. An organisation is
a capitalised run that contains an organisation word ("Committee", "Centre",
"Union"...), or a quoted name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from civicwatch.code.lexicon import fold

_TOKEN = re.compile(r"[^\W\d_][\w'’\-]*")
_PARTICLES = {"dos", "das", "da", "de", "del", "van", "von", "der", "bin", "ibn", "al", "el", "le", "di", "du"}
_OPEN_QUOTES = {'"', "“", "«", "„", "'"}
_CLOSE_QUOTES = {'"', "”", "»", "“", "'"}
_QUOTED = re.compile(r"[\"“«„]([^\"“”«»„\n]{2,60})[\"”»]")


@dataclass(frozen=True)
class Name:
    """A name found in the text, with its offsets."""

    start: int
    end: int
    text: str


class NameFinder:
    """Finds person and organisation names with the word lists of ``names.toml``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.not_name = {fold(w) for w in data.get("not_name_words", [])}
        self.org_words = {fold(w) for w in data.get("organisation_words", [])}
        titles = sorted({fold(t) for t in data.get("official_titles", [])}, key=len, reverse=True)
        self._title_before = re.compile(
            r"(?:^|\W)(?:" + "|".join(re.escape(t) for t in titles) + r")[\s,]*(?:[\w.'’-]+[\s,]+){0,3}$"
        ) if titles else None
        before = sorted({fold(w) for w in data.get("organisation_before", [])}, key=len, reverse=True)
        self._org_before = re.compile(
            r"(?:^|\W)(?:" + "|".join(re.escape(w) for w in before) + r")[\s,:]*[\"“«„]?$"
        ) if before else None
        verbs = sorted({fold(v) for v in data.get("speaker_verbs", [])}, key=len, reverse=True)
        self._speaker_before = re.compile(
            r"(?:^|\W)(?:" + "|".join(re.escape(v) for v in verbs) + r")[\s,]+(?:[\w.'’-]+[\s,]+){0,6}$"
        ) if verbs else None
        self._speaker_after = re.compile(
            r"^[\s,]*(?:" + "|".join(re.escape(v) for v in verbs) + r")(?!\w)"
        ) if verbs else None

    def _runs(self, text: str, folded: str, start: int, end: int, blocked: set[int]) -> list[list[tuple[int, int]]]:
        """Runs of capitalised tokens separated by single spaces (or particles), as token spans."""
        runs: list[list[tuple[int, int]]] = []
        cur: list[tuple[int, int]] = []
        pending: list[tuple[int, int]] = []  # particles waiting for a capitalised word
        last_end = -1
        for m in _TOKEN.finditer(text, start, end):
            s, e = m.span()
            word = m.group(0)
            gap = text[last_end:s] if last_end >= 0 else ""
            joined = last_end >= 0 and gap in (" ", "\u00a0")
            if cur and joined and word[0].islower() and folded[s:e] in _PARTICLES:
                pending.append((s, e))
                last_end = e
                continue
            capital = word[0].isupper() and s not in blocked
            if capital and cur and joined:
                cur.extend(pending)
                cur.append((s, e))
            else:
                if cur:
                    runs.append(cur)
                cur = [(s, e)] if capital else []
            pending = []
            last_end = e
        if cur:
            runs.append(cur)
        return runs

    def persons(self, text: str, folded: str, start: int, end: int, blocked: set[int]) -> list[Name]:
        """Names of people in ``text[start:end]`` who are not officials or speakers."""
        out: list[Name] = []
        for run in self._runs(text, folded, start, end, blocked):
            words = [folded[s:e] for s, e in run]
            # Split the run at non-name words: "Journalist Aigerim Sadykova" -> "Aigerim Sadykova".
            chunk: list[tuple[int, int]] = []
            stripped = [re.sub(r"['’]s?$", "", w) for w in words]
            if any(w in self.org_words for w in stripped):
                continue  # part of an organisation's name ("Early Rain Covenant Church")
            for (s, e), w in zip(run, stripped, strict=True):
                particle = w in _PARTICLES and bool(chunk)
                head = w.split("-")[0]
                bad = not particle and (w in self.not_name or (head not in _PARTICLES and head in self.not_name))
                original_head = text[s:e].split("-")[0]
                # "ЛГБТ-активисток", "NGO-run": an acronym glued to a word is not part of a name.
                bad = bad or ("-" in text[s:e] and len(original_head) > 1 and original_head.isupper())
                if bad:
                    self._emit_person(text, folded, chunk, out)
                    chunk = []
                else:
                    chunk.append((s, e))
            self._emit_person(text, folded, chunk, out)
        return out

    def _emit_person(self, text: str, folded: str, chunk: list[tuple[int, int]], out: list[Name]) -> None:
        while chunk and folded[chunk[-1][0]:chunk[-1][1]] in _PARTICLES:
            chunk = chunk[:-1]
        capitals = [c for c in chunk if text[c[0]].isupper()]
        if len(capitals) < 2 or len(capitals) > 5:
            return
        s, e = chunk[0][0], chunk[-1][1]
        name = text[s:e]
        tokens = [text[a:b] for a, b in capitals]
        if all(t.isupper() for t in tokens) or any(len(t) == 1 for t in tokens):
            return  # acronyms ("SYL TV") and initials-only runs
        if self._title_before and self._title_before.search(folded, max(0, s - 40), s):
            return
        if re.search(r"[A-ZА-Я]\w*\s+(?:for|of|de|du|des|pour|del|por|для)\s+$", text[max(0, s - 40):s]):
            return  # the tail of an organisation's name ("Alliance for Citizen Participation")
        if self._speaker_after and self._speaker_after.match(folded, e, min(len(folded), e + 30)):
            return
        if self._speaker_before and self._speaker_before.search(folded, max(0, s - 80), s):
            return
        if self._org_before and self._org_before.search(folded, max(0, s - 30), s):
            return  # "the outlet Steppe Voice", "издание Новая газета"
        if text[s - 1:s] in _OPEN_QUOTES and text[e:e + 1] in _CLOSE_QUOTES:
            return  # a quoted title or slogan, not a person
        out.append(Name(s, e, name))

    def organisations(self, text: str, folded: str, start: int, end: int) -> list[Name]:
        """Organisation and media names in ``text[start:end]``."""
        out: list[Name] = []
        for run in self._runs(text, folded, start, end, set()):
            words = [folded[s:e] for s, e in run]
            if len(run) >= 2 and any(w in self.org_words for w in words):
                # Drop a leading article or sentence-initial function word.
                while run and words[0] in {"the", "la", "le", "el", "les", "los", "las", "in", "on", "and"}:
                    run, words = run[1:], words[1:]
                if len(run) >= 2:
                    out.append(Name(run[0][0], run[-1][1], text[run[0][0]:run[-1][1]]))
        for m in _QUOTED.finditer(text, start, end):
            inner = m.group(1).strip()
            if inner[:1].isupper() and len(inner.split()) <= 5:
                out.append(Name(m.start(1), m.end(1), inner))
        return out
