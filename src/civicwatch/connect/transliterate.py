"""Fold a name in Cyrillic or Latin script to one Latin key, so that spellings of the same name meet.

The rules are data (``codebook/transliteration.toml``): a Cyrillic letter table for Russian, Uzbek,
Kazakh, Kyrgyz and Tajik, then folds of Latin spellings that differ between systems (kh/h, zh/j, y/i...).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import cache, lru_cache
from importlib import resources

# A run of letters or digits (what ``str.isalnum`` accepts): the words of a name.
_WORD = re.compile(r"[^\W_]+")


@cache
def _rules() -> tuple[dict[int, str], tuple[tuple[str, str], ...]]:
    data = tomllib.loads((resources.files("civicwatch") / "codebook" / "transliteration.toml").read_text("utf-8"))
    letters = str.maketrans({k: v for k, v in data["cyrillic"].items() if len(k) == 1})
    folds = tuple((str(a), str(b)) for a, b in data["fold"]["rules"])
    return letters, folds


def to_latin(name: str) -> str:
    """``name`` in lower-case Latin letters: Cyrillic transliterated, accents dropped."""
    letters, _ = _rules()
    out = name.lower().translate(letters)
    if out.isascii():  # most names and evidence after the table: nothing to decompose
        return out
    decomposed = unicodedata.normalize("NFKD", out)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=200_000)  # connect meets the same names again and again
def name_key(name: str) -> str:
    """The matching key of a name: Latin, folded, words kept in order and separated by one space.

    >>> name_key("Эшонкулова Дилноза") == name_key("Eshonkulova Dilnoza")
    True
    """
    _, folds = _rules()
    latin = to_latin(name)
    for old, new in folds:
        latin = latin.replace(old, new)
    return " ".join(_WORD.findall(latin))
