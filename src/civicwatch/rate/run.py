"""``civicwatch rate``: every country with a base, rated month by month up to a day, and stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from civicwatch.rate import method
from civicwatch.rate.method import Rating, Weights
from civicwatch.store import ratings as stored
from civicwatch.store.db import Store

HISTORY_YEARS = 10  # months before this are not rated: the chart would be mostly base


@dataclass(frozen=True)
class RateSummary:
    """What a rating run did."""

    as_of: str
    countries: int
    periods: int
    latest: list[Rating]


def rate_countries(store: Store, *, as_of: date | None = None, weights_file: Path | None = None) -> RateSummary:
    """Rate each country that has a base, at every month's end from its first base to ``as_of`` (today).

    The whole history is recomputed and replaced in one transaction, so a run is reproducible:
    the same bases, events and weights give the same ratings, on SQLite and on PostgreSQL.
    """
    day = as_of or date.today()
    weights: Weights = method.load_weights(weights_file)
    known = {country: {d: s for d, s in by_day.items() if d <= day} for country, by_day in stored.bases(store).items()}
    known = {country: by_day for country, by_day in known.items() if by_day}
    events = stored.events_to_rate(store, known)
    earliest = date(day.year - HISTORY_YEARS, day.month, 1)
    computed: list[Rating] = []
    latest = []
    for country in sorted(known):
        first = max(min(known[country]), earliest)
        months = method.history(country, known[country], events.get(country, []), first, day, weights)
        computed += months
        if months:
            latest.append(months[-1])
    stored.save_history(store, computed)
    return RateSummary(day.isoformat(), len(latest), len(computed), latest)
