"""The watchlist: countries whose civic space is closing fastest, or that crossed into another category.

Plain functions over the stored monthly history (``store.ratings.all_history``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from civicwatch.rate.method import CATEGORIES

MONTHS = 6  # how far back a fall is measured
MAX_MONTHS = 24  # the longest look-back a reader may ask for (``?months=``)
FALL = 5  # points lost over MONTHS that put a country on the list without a band crossing


@dataclass(frozen=True)
class WatchEntry:
    """A country on the watchlist: its score then and now, and whether its category changed."""

    country: str
    since: str  # the period compared with (YYYY-MM)
    period: str  # the latest period
    score_then: int
    score_now: int
    category_then: str
    category_now: str

    @property
    def change(self) -> int:
        return self.score_now - self.score_then

    @property
    def crossed(self) -> str | None:
        """"down" or "up" when the category changed, else None."""
        if self.category_then == self.category_now:
            return None
        return "down" if CATEGORIES.index(self.category_now) < CATEGORIES.index(self.category_then) else "up"


def watchlist(
    histories: Mapping[str, Sequence[tuple[str, int, str]]], *, months: int = MONTHS, fall: int = FALL
) -> list[WatchEntry]:
    """Countries that lost at least ``fall`` points over ``months`` months or changed category in them,
    the fastest falls first (then band crossings upward, by country)."""
    found = []
    for country, rows in histories.items():
        if len(rows) < 2:
            continue
        then = rows[max(0, len(rows) - 1 - months)]
        now = rows[-1]
        entry = WatchEntry(country, then[0], now[0], then[1], now[1], then[2], now[2])
        if entry.change <= -fall or entry.crossed:
            found.append(entry)
    return sorted(found, key=lambda e: (e.change, e.country))
