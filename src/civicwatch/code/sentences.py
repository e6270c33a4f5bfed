"""A compiled-regex sentence splitter whose abbreviations are data.

Sentence ends are found by one regular expression (end punctuation, closing
quotes, space, then something that can start a sentence; or a blank line); a
candidate end is refused when the word before the full stop is a known
abbreviation (``Dr.``, ``г.``, ``Sr.``) or a single initial (``J. Smith``).
Time is linear in the text length: no backtracking construct is used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_END = re.compile(
    r"[.!?…]+[\"'»”’)\]]*\s+(?=[\"'«“„(\[¿¡]?[^\W\d_a-zа-яё]|\d)"
    r"|\n[ \t\r\f\v]*\n\s*"
)
_LAST_WORD = re.compile(r"(\w+)\W*$")


class SentenceSplitter:
    """Split text into ``(start, end)`` sentence spans, knowing a list of abbreviations."""

    def __init__(self, abbreviations: Iterable[str] = ()) -> None:
        self.abbreviations = {a.lower().rstrip(".") for a in abbreviations}

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Sentence spans covering ``text`` (leading and trailing blanks trimmed per sentence)."""
        out: list[tuple[int, int]] = []
        start = 0
        for m in _END.finditer(text):
            if m.group(0)[0] == "." and self._abbreviation_before(text, m.start()):
                continue
            cut = m.start() + len(m.group(0).rstrip())
            self._emit(text, start, cut, out)
            start = m.end()
        self._emit(text, start, len(text), out)
        return out

    def _abbreviation_before(self, text: str, dot: int) -> bool:
        # Only the last few characters matter: bounded look-behind keeps this O(1).
        w = _LAST_WORD.search(text, max(0, dot - 24), dot)
        if not w:
            return False
        word = w.group(1)
        if len(word) == 1 and word.isalpha():
            return True  # an initial: "J. Smith", "А. Иванов"
        return word.lower() in self.abbreviations

    @staticmethod
    def _emit(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            out.append((start, end))
