"""Dates in report text: candidate spans by regular expression, resolved at the precision given.

The common written forms ("13 May 2009", "May 13, 2009", "le 13 mai 2009",
"13 de mayo de 2009", "13 мая 2009 года", "in September 2009", "in 2021",
"yesterday", "on Tuesday", "last month") are parsed here directly, which is
much faster than running a general date parser over whole texts. Values are
ISO strings at the text's precision: ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``.
Dates without a year resolve against the publication date (the latest such day
not after it); without a publication date they are dropped (codebook rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from civicwatch.code.lexicon import fold


@dataclass(frozen=True)
class DateSpan:
    """A date found in a text: ``[start, end)`` offsets and its ISO value at the text's precision."""

    start: int
    end: int
    value: str


def parse_published(published: str | None) -> date | None:
    """The publication date as a ``date`` (from ``2024-03-04`` or a full timestamp), or None."""
    if not published:
        return None
    m = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", str(published))
    if not m:
        return None
    if int(m.group(1)) < 1000:
        # "0001-01-01" is what many systems write for "no date"; relative dates ("yesterday", "in May"
        # before January) would also fall before the year 1, which ``date`` cannot hold (found by fuzzing).
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _alt(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


class DateFinder:
    """Finds and resolves dates with the month, weekday and relative words of ``dates.toml``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.month_of: dict[str, int] = {}
        stems: dict[str, int] = {}
        for lang, names in data.get("months", {}).items():
            for i, name in enumerate(names):
                if lang == "ru":
                    stems[fold(name)] = i + 1
                else:
                    self.month_of[fold(name)] = i + 1
        self.month_stems = stems
        full = _alt(list(self.month_of))
        stem = _alt(list(stems))
        month = rf"(?P<m>(?:{full})\b\.?|(?:{stem})[а-я]*)"
        month2 = rf"(?:(?:{full})\b\.?|(?:{stem})[а-я]*)"
        year = r"(?P<y>(?:1[89]|20)\d{2})(?!\d)"
        day = r"(?P<d>[0-3]?\d|1er)(?:st|nd|rd|th|er|\.)?"
        tail = r"(?:\s*(?:-|to|and|et|au|y|al|и|по|bis zum|bis|a)\s*(?P<d2>[0-3]?\d)(?:st|nd|rd|th|\.)?)?"
        yr_opt = rf"(?:,?\s+(?:de(?:l)?\s+)?{year}(?:\s*(?:года|году|г\.))?)?"
        self._day_month = re.compile(rf"(?<![\w.]){day}{tail}\s+(?:of\s+|de\s+)?{month}{yr_opt}")
        self._month_day = re.compile(rf"(?<!\w){month}\s+{day}{tail}(?![\w:]){yr_opt}")
        qual = (
            r"(?P<q>early|mid|late|end of|the end of|beginning of|début|fin|mi|fin de|finales de|principios de|"
            r"mediados de|начале|конце|середине)"
        )
        self._month_year = re.compile(
            rf"(?<!\w)(?:{qual}[\s-]+(?:of\s+|de\s+)?)?{month}(?:\s+of|\s+de(?:l)?)?\s+{year}"
        )
        self._in_month = re.compile(rf"(?<!\w)(?:in|en|в|во|em)\s+(?:{qual}[\s-]+)?{month}(?![\w])")
        self._range_year = re.compile(
            rf"\s*(?:-|to|au|al|bis zum|bis|по|until|through)\s*[0-3]?\d\.?\s+(?:de\s+)?{month2}"
            rf"(?:,?\s+(?:de\s+)?)(?P<y>(?:19|20)\d{{2}})"
        )
        seasons = _alt([fold(w) for w in data.get("seasons", {}).get("words", [])])
        self._year = re.compile(
            rf"(?<!\w)(?:(?:in|since|during|en|desde|em|в|durante|for|around)\s+(?:the\s+)?|(?:of|de|del)\s+"
            rf"(?:(?:{seasons})[а-я]*\s+(?:of\s+|de\s+)?)?|(?:{seasons})[а-я]*\s+(?:of\s+|de\s+)?){year}"
            rf"(?!\s*[-/]\s*\d)(?!\d)"
        )
        self._year_ru = re.compile(rf"(?<!\d){year}\s*(?:года|году|гг?\.|г\b)")
        self._iso = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})-(?P<m>[01]\d)-(?P<d>[0-3]\d)(?!\d)")
        self._dotted = re.compile(r"(?<![\d.])(?P<d>[0-3]?\d)\.(?P<m>[01]?\d)\.(?P<y>(?:19|20)\d{2})(?!\d)")
        rel = data.get("relative", {})
        self._relative: list[tuple[re.Pattern[str], str]] = []
        for key in ("day_before_yesterday", "yesterday", "today", "last_month", "this_month", "last_year",
                    "this_year"):
            words = [fold(w) for w in rel.get(key, [])]
            if words:
                self._relative.append((re.compile(rf"(?<!\w)(?:{_alt(words)})(?!\w)"), key))
        self._weekday: dict[str, int] = {}
        for names in data.get("weekdays", {}).values():
            for i, name in enumerate(names):
                self._weekday[fold(name)] = i
        self._weekdays = re.compile(rf"(?<!\w)(?P<w>{_alt(list(self._weekday))})(?!\w)")
        last_year_words = [fold(w) for w in rel.get("last_year", [])] + ["dernier", "dernière", "pasado"]
        self._after_last_year = re.compile(rf"\s*,?\s*(?:{_alt(last_year_words)})")

    def month_number(self, word: str) -> int | None:
        word = word.rstrip(".")
        if word in self.month_of:
            return self.month_of[word]
        for stem in sorted(self.month_stems, key=len, reverse=True):
            if word.startswith(stem):
                return self.month_stems[stem]
        return None

    def find(self, text: str, published: str | None = None, folded: str | None = None) -> list[DateSpan]:
        """Every date in ``text`` that can be resolved, sorted by position, without overlaps."""
        low = fold(text) if folded is None else folded
        pub = parse_published(published)
        spans: list[DateSpan] = []
        for m in self._iso.finditer(low):
            self._add(spans, m.start(), m.end(), _ymd(int(m["y"]), int(m["m"]), int(m["d"])))
        for m in self._dotted.finditer(low):
            self._add(spans, m.start(), m.end(), _ymd(int(m["y"]), int(m["m"]), int(m["d"])))
        for rx in (self._day_month, self._month_day):
            for m in rx.finditer(low):
                self._add(spans, m.start(), m.end(), self._day_value(m, low, pub))
        for m in self._month_year.finditer(low):
            month = self.month_number(m["m"])
            if month:
                self._add(spans, m.start(), m.end(), f"{int(m['y']):04d}-{month:02d}")
        if pub:
            for m in self._in_month.finditer(low):
                month = self.month_number(m["m"])
                if month and (m["m"] != "may" or low[m.start():m.start() + 2] == "in"):
                    y = pub.year if month <= pub.month else pub.year - 1
                    self._add(spans, m.start(), m.end(), f"{y:04d}-{month:02d}")
        for rx in (self._year, self._year_ru):
            for m in rx.finditer(low):
                self._add(spans, m.start(), m.end(), m["y"])
        if pub:
            self._relative_dates(low, pub, spans)
        return _without_overlaps(spans)

    def _day_value(self, m: re.Match[str], low: str, pub: date | None) -> str | None:
        month = self.month_number(m["m"])
        if not month:
            return None
        d = 1 if m["d"] == "1er" else int(m["d"])
        d2 = int(m["d2"]) if m["d2"] else None
        y = int(m["y"]) if m["y"] else None
        if y is None:
            ry = self._range_year.match(low, m.end())
            if ry:
                y = int(ry["y"])
        if y is None:
            if pub is None:
                return None
            y = pub.year
            if self._after_last_year.match(low, m.end()) and "dernier" not in low[m.end():m.end() + 12]:
                y = pub.year - 1
            elif (month, d) > (pub.month, pub.day):
                y -= 1
        if d2 is not None and d2 != d + 1 and d2 > d:
            return f"{y:04d}-{month:02d}"  # a range of days keeps the month both ends share
        return _ymd(y, month, d)

    def _relative_dates(self, low: str, pub: date, spans: list[DateSpan]) -> None:
        for rx, key in self._relative:
            for m in rx.finditer(low):
                if key == "yesterday":
                    value: str | None = (pub - timedelta(days=1)).isoformat()
                elif key == "day_before_yesterday":
                    value = (pub - timedelta(days=2)).isoformat()
                elif key == "today":
                    value = pub.isoformat()
                elif key == "last_month":
                    value = f"{pub.year - (pub.month == 1):04d}-{(pub.month - 2) % 12 + 1:02d}"
                elif key == "this_month":
                    value = f"{pub.year:04d}-{pub.month:02d}"
                elif key == "last_year":
                    value = f"{pub.year - 1:04d}"
                else:
                    value = f"{pub.year:04d}"
                self._add(spans, m.start(), m.end(), value, weak=True)
        for m in self._weekdays.finditer(low):
            back = (pub.weekday() - self._weekday[m["w"]]) % 7
            self._add(spans, m.start(), m.end(), (pub - timedelta(days=back)).isoformat(), weak=True)

    @staticmethod
    def _add(spans: list[DateSpan], start: int, end: int, value: str | None, weak: bool = False) -> None:
        if value:
            # Weak spans (relative words) lose against any explicit date they overlap or touch.
            spans.append(DateSpan(start, end if not weak else end, value))


def _ymd(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def _without_overlaps(spans: list[DateSpan]) -> list[DateSpan]:
    """Of overlapping spans keep the most precise reading, then the longest."""
    spans.sort(key=lambda s: (s.start, -(s.end - s.start)))
    out: list[DateSpan] = []
    for s in spans:
        if out and s.start < out[-1].end:
            last = out[-1]
            if (len(s.value), s.end - s.start) > (len(last.value), last.end - last.start):
                out[-1] = DateSpan(min(s.start, last.start), max(s.end, last.end), s.value)
            else:
                out[-1] = DateSpan(last.start, max(s.end, last.end), last.value)
            continue
        out.append(s)
    return out
