"""Names of persons and organisations: do two spellings name the same one?

Two names match when their folded keys (``transliterate.name_key``) are equal, or close enough for
rapidfuzz (vowel swaps such as Eshonkulova / Eshankulova), or when one is the other's surname alone
("Eshonkulova" and "Dilnoza Eshonkulova"). Pure functions; the registry lives in ``store/cases.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz import fuzz

from civicwatch.connect.transliterate import name_key

# Below this rapidfuzz ratio (0-100) two keys of several words are different names.
NAME_THRESHOLD = 88.0
# A single word (a surname alone) must be closer: short strings reach high ratios by chance.
WORD_THRESHOLD = 90.0


def _word_match(a: str, b: str) -> bool:
    return a == b or (min(len(a), len(b)) >= 5 and fuzz.ratio(a, b) >= WORD_THRESHOLD)


def keys_match(a: str, b: str) -> bool:
    """Whether two folded keys name the same person or organisation."""
    if not a or not b:
        return False
    if a == b:
        return True
    wa, wb = a.split(), b.split()
    initials_a, initials_b = [w for w in wa if len(w) == 1], [w for w in wb if len(w) == 1]
    if initials_a or initials_b:
        # "D. Eshonkulova": the initials must start words of the other name, the rest must match.
        if any(not any(w.startswith(i) for w in wb) for i in initials_a) or any(
                not any(w.startswith(i) for w in wa) for i in initials_b):
            return False
        wa, wb = [w for w in wa if len(w) > 1] or wa, [w for w in wb if len(w) > 1] or wb
    if len(wa) == 1 or len(wb) == 1:
        # A surname alone matches a full name that has a word like it.
        single, other = (wa[0], wb) if len(wa) == 1 else (wb[0], wa)
        return any(_word_match(single, word) for word in other)
    # Word order differs between sources ("Eshonkulova Dilnoza" / "Dilnoza Eshonkulova").
    if fuzz.token_sort_ratio(" ".join(wa), " ".join(wb)) >= NAME_THRESHOLD:
        return True
    return _same_words_but_vowels(wa, wb)


_VOWELS = str.maketrans("", "", "aeiouy")
_VOWEL_RUNS = re.compile(r"[aeiouy]+")


def _skeleton(word: str) -> tuple[str, int]:
    """The word's consonants and its number of syllables (vowel runs): Timur and Tamara differ by the latter."""
    return word.translate(_VOWELS), len(_VOWEL_RUNS.findall(word))


def _same_words_but_vowels(wa: list[str], wb: list[str]) -> bool:
    """Two names of as many words, in any order, each word alike or differing only in its vowels.

    Transliterations differ most in vowels, and most in given names: Mahammad / Mohammed / Muhammad,
    Sevinj / Sevindzh. A surname must still be close by itself (``_word_match``), so two people sharing a
    given name and a surname skeleton are not taken for one; only one word may be matched by its skeleton
    alone, that skeleton must keep at least three consonants and the word as many syllables.
    """
    if len(wa) != len(wb):
        return False
    rest = list(wb)
    by_skeleton = 0
    for word in sorted(wa, key=len, reverse=True):
        match = next((o for o in rest if _word_match(word, o)), None)
        if match is None:
            match = next((o for o in rest if len(_skeleton(word)[0]) >= 3 and _skeleton(word) == _skeleton(o)), None)
            by_skeleton += 1
        if match is None or by_skeleton > 1:
            return False
        rest.remove(match)
    return by_skeleton < len(wa)


def names_match(a: str, b: str) -> bool:
    """Whether two names, in any script, are spellings of the same name.

    >>> names_match("Дилноза Эшонкулова", "Dilnoza Eshankulova")
    True
    """
    return keys_match(name_key(a), name_key(b))


def shared_names(a: Iterable[str], b: Iterable[str]) -> list[tuple[str, str]]:
    """The pairs of names from ``a`` and ``b`` that match each other (for explaining a merge)."""
    keyed_b = [(name, name_key(name)) for name in b]
    pairs = []
    for name in a:
        key = name_key(name)
        pairs += [(name, other) for other, other_key in keyed_b if keys_match(key, other_key)]
    return pairs
