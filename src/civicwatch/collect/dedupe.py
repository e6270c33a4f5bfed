"""Exact and near duplicates: the same report carried by several sources is stored once.

Exact copies share a ``content_hash``: the SHA-256 of the text after
``normalise`` (Unicode compatibility forms, case, whitespace, punctuation and
apostrophe variants no longer matter). Near copies (a reposted report with a
changed headline, a fixed typo, an added sentence) are found with MinHash
signatures over word 3-grams: the store keeps each document's LSH ``bands``
in a table, looks up the documents sharing at least one band with a new text,
and ``best_match`` picks the most similar of those candidates.

Signatures are comparable across runs, processes and machines: the seed, the
permutation scheme and the hash function are fixed, and the values are
serialised as little-endian 32-bit integers.
"""

from __future__ import annotations

import hashlib
import itertools
import unicodedata
import zlib
from collections.abc import Sequence
from functools import cache

import numpy as np
from datasketch import MinHash
from datasketch.lsh import _optimal_param

from civicwatch.errors import UsageError

__all__ = [
    "SHINGLE_WORDS",
    "band_shape",
    "bands",
    "best_match",
    "content_hash",
    "normalise",
    "shingles",
    "signature",
    "similarity",
    "fingerprint",
]

SHINGLE_WORDS = 3  # word 3-grams: a changed word alters three shingles, a reordered paragraph few
_SEED = 1  # never change: stored signatures and bands were made with it
_SCHEME = "affine32"  # datasketch 2's default permutation scheme, named (like the shingle hash below)
# so that no upgrade of datasketch can silently change the signatures
_DTYPE = np.dtype("<u4")  # affine32 hash values are 32-bit; little-endian whatever the machine

# Apostrophes and their look-alikes are dropped ("don't", "don’t" and "dont" agree; Uzbek o‘z, oʻz, o'z too).
_APOSTROPHES = "'`´‘’‛′ʹʻʼʽʾʿˈ"


@cache
def _table() -> dict[int, str | None]:
    """str.translate table: punctuation becomes a space; controls, format characters and apostrophes go."""
    table: dict[int, str | None] = {}
    # Past U+31FFF only unassigned and private-use code points remain, except the tag characters (Cf).
    for code in itertools.chain(range(0x32000), range(0xE0000, 0xE0100)):
        char = chr(code)
        category = unicodedata.category(char)
        if char.isspace():
            continue  # collapsed by split()
        if category[0] == "P":
            table[code] = " "
        elif category in ("Cc", "Cf", "Cs"):  # zero-width joiners, soft hyphens, BOMs, lone surrogates
            table[code] = None
    for char in _APOSTROPHES:
        table[ord(char)] = None
    return table


def normalise(text: str) -> str:
    """The text as compared for duplicates: NFKC, case-folded, without punctuation, single-spaced.

    >>> normalise("  The COURT  sentenced\\n“Ana Varga” — again…")
    'the court sentenced ana varga again'
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(text.translate(_table()).split())


def content_hash(text: str) -> str:
    """SHA-256 (hex) of the normalised text: equal for copies that differ only in layout, case or quotes."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def shingles(text: str, size: int = SHINGLE_WORDS) -> list[str]:
    """Word ``size``-grams of the normalised text; its single words when it has fewer than ``size`` words."""
    words = normalise(text).split()
    if len(words) < size:
        return words
    return [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]


def _shingle_hash(data: bytes) -> int:
    # CRC-32 rather than datasketch's default SHA-1: the permutations do the mixing, and hashing each
    # shingle was half of the signature's cost.
    return zlib.crc32(data)


@cache
def _template(num_perm: int) -> MinHash:
    # Drawing the permutations is the slow part of a new MinHash: draw them once per size.
    return MinHash(num_perm=num_perm, seed=_SEED, scheme=_SCHEME, hashfunc=_shingle_hash)


def signature(text: str, num_perm: int = 64) -> bytes:
    """MinHash signature of the text's shingles, ``num_perm`` 32-bit values as bytes (256 bytes by default).

    An empty text (no words at all) has the signature of the empty set, similar to no other text.
    """
    return _signature(normalise(text).split(), num_perm)


def fingerprint(text: str, num_perm: int = 64) -> tuple[str, bytes]:
    """``(content_hash(text), signature(text))``, normalising the text once."""
    normal = normalise(text)
    return hashlib.sha256(normal.encode("utf-8")).hexdigest(), _signature(normal.split(), num_perm)


def _signature(words: list[str], num_perm: int) -> bytes:
    if len(words) >= SHINGLE_WORDS:
        words = [" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)]
    permutations = _template(num_perm).permutations
    minhash = MinHash(num_perm, _SEED, hashfunc=_shingle_hash, permutations=permutations, scheme=_SCHEME)
    minhash.update_batch([shingle.encode("utf-8") for shingle in set(words)])
    return np.asarray(minhash.hashvalues).astype(_DTYPE).tobytes()


def _values(sig: bytes) -> np.ndarray:
    if not sig or len(sig) % _DTYPE.itemsize:
        raise ValueError(f"not a signature: {len(sig)} bytes")
    return np.frombuffer(sig, dtype=_DTYPE)


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets (share of equal signature values)."""
    va, vb = _values(a), _values(b)
    if va.shape != vb.shape:
        raise ValueError(f"signatures of different sizes: {va.size} and {vb.size} values")
    empty = np.iinfo(_DTYPE).max
    if (va == empty).all() or (vb == empty).all():
        return 0.0  # an empty text is nobody's copy
    return float(np.count_nonzero(va == vb)) / va.size


@cache
def band_shape(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) for LSH at ``threshold``, chosen as datasketch's ``MinHashLSH`` chooses them.

    They minimise the equally weighted false positive and false negative
    probabilities; 64 values at 0.8 give 5 bands of 11 rows.
    """
    if not 0.0 < threshold <= 1.0:
        raise UsageError("near_duplicate_threshold", f"must be above 0 and at most 1, not {threshold}")
    b, r = _optimal_param(threshold, num_perm, 0.5, 0.5)
    return int(b), int(r)


def bands(sig: bytes, threshold: float = 0.8) -> list[str]:
    """LSH band keys of a signature: two texts at least ``threshold`` similar very likely share one.

    Each key is ``"{band}:{16 hex digits}"``, the band's number and a hash of
    its values, compact enough to index in a table.
    """
    values = _values(sig)
    b, r = band_shape(threshold, values.size)
    return [
        f"{i}:{hashlib.blake2b(values[i * r : (i + 1) * r].tobytes(), digest_size=8).hexdigest()}"
        for i in range(b)
    ]


def best_match(
    sig: bytes, candidates: Sequence[tuple[int, bytes]], threshold: float
) -> tuple[int, float] | None:
    """The candidate ``(id, signature)`` most like ``sig`` as ``(id, similarity)``, if at least ``threshold``.

    Candidates with signatures of another size are skipped. Ties go to the first candidate (the oldest, when
    the store lists them by id).
    """
    best: tuple[int, float] | None = None
    for doc_id, other in candidates:
        if len(other) != len(sig):
            continue
        score = similarity(sig, other)
        if score >= threshold and (best is None or score > best[1]):
            best = (doc_id, score)
    return best
