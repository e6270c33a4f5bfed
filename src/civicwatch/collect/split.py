"""Split a plain-text digest (a newsletter, a country page saved as text) into its items.

The strategy follows the text's shape:

1. bullets, when at least two lines start with the same bullet (``•``, ``*``, ``-``, ``–``):
   each bullet starts an item, which runs to the next bullet;
2. else paragraphs, when blank lines separate at least two of them;
3. else one item per substantial line, when the lines read as separate sentences (a list of
   teasers) rather than as one hard-wrapped paragraph.

Short heading or salutation lines ending in ``,`` or ``:`` ("Dear Madam and Sirs,") are
joined to the item that follows. Whitespace is normalised inside items; line and paragraph
breaks are kept. Every step is a single pass over the lines, so a 10 MB text splits in
linear time.
"""

from __future__ import annotations

import re
from collections import Counter

HEADING_MAX_CHARS = 40  # a "Dear Madam and Sirs," or "This week:" line, joined to the next item
TITLE_MAX_CHARS = 100  # a Markdown heading or a digest's title line
SUBSTANTIAL_CHARS = 40  # in line mode, shorter lines are not items of their own
_BULLETS = "•*-–"
_SPACES = re.compile(r"\s+")
_SENTENCE_END = tuple(".!?…\"”’»)")


def _bullet(line: str) -> str | None:
    """The bullet a line starts with, if any: ``•`` directly, the others only before a space."""
    stripped = line.lstrip()
    if not stripped or stripped[0] not in _BULLETS:
        return None
    if stripped[0] == "•" or (len(stripped) > 1 and stripped[1] in " \t"):
        return stripped[0]
    return None


def _clean(lines: list[str]) -> str:
    """One item's text: spaces collapsed in each line, runs of blank lines reduced to one."""
    out: list[str] = []
    blank = False
    for line in lines:
        words = _SPACES.sub(" ", line).strip()
        if not words:
            blank = bool(out)
            continue
        if blank:
            out.append("")
            blank = False
        out.append(words)
    return "\n".join(out)


def _by_bullets(lines: list[str], marker: str) -> list[list[str]]:
    pieces: list[list[str]] = [[]]  # the first holds any preamble before the first bullet
    for line in lines:
        if _bullet(line) == marker:
            pieces.append([line.lstrip()[1:]])
        else:
            pieces[-1].append(line)
    return pieces


def _by_paragraphs(lines: list[str]) -> list[list[str]]:
    pieces: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            pieces[-1].append(line)
        elif pieces[-1]:
            pieces.append([])
    return pieces


def _by_lines(lines: list[str]) -> list[list[str]]:
    """One item per substantial line; short lines join their neighbour (the next one for headings)."""
    pieces: list[list[str]] = []
    for line in lines:
        words = line.strip()
        if not words:
            continue
        if pieces and _is_heading(pieces[-1]):
            pieces[-1].append(words)
        elif len(words) >= SUBSTANTIAL_CHARS or not pieces or _is_heading([words]):
            pieces.append([words])
        else:
            pieces[-1].append(words)
    return pieces


def _reads_as_list(lines: list[str]) -> bool:
    """Whether the substantial lines are separate sentences (teasers), not one hard-wrapped paragraph."""
    substantial = [line.strip() for line in lines if len(line.strip()) >= SUBSTANTIAL_CHARS]
    if len(substantial) < 2:
        return False
    ended = sum(1 for line in substantial if line.endswith(_SENTENCE_END))
    return ended >= 0.6 * len(substantial)


def _is_heading(piece: list[str]) -> bool:
    """A salutation or heading that belongs to the next item: "Dear Madam and Sirs,", "# Lakeside"."""
    lines = [line.strip() for line in piece if line.strip()]
    if len(lines) != 1:
        return False
    text = lines[0]
    if text.startswith("#"):  # a Markdown heading
        return len(text) <= TITLE_MAX_CHARS
    return len(text) < HEADING_MAX_CHARS and text.endswith((",", ":"))


def _is_title(piece: list[str]) -> bool:
    """A digest's own title line before its first bullet ("Northland digest, week 19"): not an item."""
    lines = [line.strip() for line in piece if line.strip()]
    return len(lines) == 1 and len(lines[0]) <= TITLE_MAX_CHARS and not lines[0].endswith(_SENTENCE_END)


def _merge_headings(pieces: list[str]) -> list[str]:
    merged: list[str] = []
    carry = ""
    for piece in pieces:
        if carry:
            piece = f"{carry}\n{piece}"
            carry = ""
        if _is_heading(piece.split("\n")):
            carry = piece
        else:
            merged.append(piece)
    if carry:
        merged.append(carry)
    return merged


def split_digest(text: str) -> list[str]:
    """The items of a plain-text digest, in order; ``[text]`` when the text is not a digest.

    An empty or blank text gives ``[]``.
    """
    if not text.strip():
        return []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    markers = Counter(marker for marker in map(_bullet, lines) if marker)
    marker, count = markers.most_common(1)[0] if markers else ("", 0)
    if count >= 2:
        raw = _by_bullets(lines, marker)
        if _is_title(raw[0]) and not _is_heading(raw[0]):
            raw = raw[1:]  # the digest's title stays in the digest's own text
    else:
        raw = _by_paragraphs(lines)
        if sum(1 for piece in raw if piece) < 2:
            raw = _by_lines(lines) if _reads_as_list(lines) else []
    pieces = _merge_headings([cleaned for cleaned in map(_clean, raw) if cleaned])
    return pieces if len(pieces) >= 2 else [text]
