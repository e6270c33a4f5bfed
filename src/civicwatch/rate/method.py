"""The rating method: a country's civic-space score (0-100) and category, from its base and its events.

Plain functions over plain data, so that the same input gives the same rating on any database;
``docs/methodology.md`` states the method in words and ``codebook/rating.toml`` holds its weights.

    score = base + adjustment
    adjustment = sum over the events of the last ``window.days`` of
                 severity(types) x target factor x scale factor x 0.5 ** (age / half_life),
                 each calendar week's sum held within +-week_cap, the whole within +-total_cap.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from civicwatch.errors import UsageError

CATEGORIES = ("closed", "repressed", "obstructed", "narrowed", "open")
DESCRIPTIONS = {
    "open": "The state enables and safeguards civic space; people can form associations, demonstrate and "
            "receive and share information without restriction in law or practice.",
    "narrowed": "People can exercise their freedoms, but violations of them occur.",
    "obstructed": "Civic space is heavily contested by those in power, who impose legal and practical "
                  "constraints on the full enjoyment of fundamental rights.",
    "repressed": "Civic space is significantly constrained: those who criticise power risk surveillance, "
                 "harassment, imprisonment, injury and death.",
    "closed": "Civic space is completely closed in law and practice: criticism of the ruling authorities is "
              "severely punished and an atmosphere of fear and violence prevails.",
}


@dataclass(frozen=True)
class Weights:
    """The method's numbers (``codebook/rating.toml``)."""

    bands: dict[str, int]
    base: dict[str, int]
    window_days: int
    half_life_days: float
    week_cap: float
    total_cap: float
    severity: dict[str, float]
    targets: dict[str, float]
    per_person: float
    max_scale: float


@dataclass(frozen=True)
class RatingEvent:
    """One happening as the rating sees it: an event of several reports, or one incident not yet connected."""

    key: str  # "event:12" or "incident:345"
    country: str
    types: tuple[str, ...]
    targets: tuple[str, ...] = ()
    persons: int = 0
    date: str | None = None  # ISO date at the precision the text gave
    summary: str = ""  # the evidence, to explain the rating


@dataclass(frozen=True)
class Contribution:
    """How many points one event moved a score, and why."""

    key: str
    points: float
    date: str
    types: tuple[str, ...]
    summary: str


@dataclass(frozen=True)
class Rating:
    """A country's rating on a day: score, category, and the events that moved it most."""

    country: str
    as_of: str
    score: int
    category: str
    base_score: int
    adjustment: float
    events: int  # events inside the window
    contributions: tuple[Contribution, ...] = field(default_factory=tuple)  # largest first


def load_weights(path: Path | None = None) -> Weights:
    """The shipped weights, with the entries of the TOML file at ``path`` (if given) replacing theirs."""
    data = tomllib.loads(resources.files("civicwatch.codebook").joinpath("rating.toml").read_text("utf-8"))
    if path is not None:
        try:
            mine = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UsageError(str(path), "no such weights file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(str(path), f"not a valid TOML file: {exc}") from None
        for section, values in mine.items():
            if section not in data or not isinstance(values, dict):
                raise UsageError(str(path), f"unknown section [{section}] (known: {', '.join(data)})")
            data[section].update(values)
    try:
        return _weights(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(str(path or "rating.toml"), f"bad weights: {exc}") from None


def _weights(data: dict[str, Any]) -> Weights:
    bands = {c: int(data["bands"][c]) for c in CATEGORIES}
    if [bands[c] for c in CATEGORIES] != sorted(bands.values()) or bands["closed"] != 0:
        raise ValueError("bands must start at 0 and rise from closed to open")
    window = data["window"]
    return Weights(
        bands=bands, base={c: int(data["base"][c]) for c in CATEGORIES},
        window_days=int(window["days"]), half_life_days=float(window["half_life_days"]),
        week_cap=float(window["week_cap"]), total_cap=float(window["total_cap"]),
        severity={k: float(v) for k, v in data["severity"].items()},
        targets={k: float(v) for k, v in data["targets"].items()},
        per_person=float(data["scale"]["per_person"]), max_scale=float(data["scale"]["max"]),
    )


def category_of(score: float, weights: Weights) -> str:
    """The category whose band holds ``score``: 0-20 closed ... 81-100 open with the shipped bands."""
    found = CATEGORIES[0]
    for category in CATEGORIES:
        if score >= weights.bands[category]:
            found = category
    return found


def base_score(category: str, weights: Weights) -> int:
    """The score a published category stands for (the middle of its band, by default)."""
    if category not in weights.base:
        raise UsageError(category, f"not a civic-space category ({', '.join(CATEGORIES)})")
    return weights.base[category]


def event_day(value: str | None) -> date | None:
    """The day an event is counted on: its date, the 15th of its month, or 1 July of its year."""
    if not value:
        return None
    try:
        if len(value) >= 10:
            return date.fromisoformat(value[:10])
        if len(value) == 7:
            return date.fromisoformat(value + "-15")
        if len(value) == 4:
            return date(int(value), 7, 1)
    except ValueError:
        return None
    return None


def raw_points(event: RatingEvent, weights: Weights) -> float:
    """An event's points before its age counts: severity x the weightiest target x the people named."""
    severities = [weights.severity.get(t, 0.0) for t in event.types]
    worst = min([s for s in severities if s < 0], default=0.0)
    best = max([s for s in severities if s > 0], default=0.0)
    target = max([weights.targets.get(t, 1.0) for t in event.targets], default=1.0)
    scale = min(1.0 + weights.per_person * max(event.persons - 1, 0), weights.max_scale)
    return (worst + best) * target * scale


def rate(
    country: str, base: int, events: Iterable[RatingEvent], as_of: date, weights: Weights, *, explain: int = 10
) -> Rating:
    """The rating of ``country`` on ``as_of`` from its ``base`` score and its ``events`` (any order)."""
    start = as_of - timedelta(days=weights.window_days)
    weekly: defaultdict[tuple[int, int], list[tuple[RatingEvent, date, float]]] = defaultdict(list)
    for event in events:
        day = event_day(event.date)
        if day is None or not start < day <= as_of:
            continue
        points = raw_points(event, weights) * 0.5 ** ((as_of - day).days / weights.half_life_days)
        iso = day.isocalendar()
        weekly[(iso.year, iso.week)].append((event, day, points))
    contributions = []
    for week in sorted(weekly):
        entries = weekly[week]
        total = sum(points for _, _, points in entries)
        # One week of news moves the score by week_cap at most: its events share the capped total.
        shrink = min(1.0, weights.week_cap / abs(total)) if total else 1.0
        contributions += [Contribution(e.key, p * shrink, day.isoformat(), e.types, e.summary)
                          for e, day, p in entries]
    total = sum(c.points for c in contributions)
    adjustment = max(-weights.total_cap, min(weights.total_cap, total))
    score = round(max(0.0, min(100.0, base + adjustment)))
    top = sorted(contributions, key=lambda c: (-abs(c.points), c.date, c.key))[:explain]
    return Rating(country, as_of.isoformat(), score, category_of(score, weights), base, round(adjustment, 2),
                  len(contributions), tuple(top))


def month_ends(first: date, last: date) -> list[date]:
    """The last day of each month from ``first``'s month to ``last``'s, ``last`` itself ending the list."""
    ends = []
    year, month = first.year, first.month
    while (year, month) < (last.year, last.month):
        following = date(year + (month == 12), month % 12 + 1, 1)
        ends.append(following - timedelta(days=1))
        year, month = following.year, following.month
    ends.append(last)
    return ends


def history(
    country: str, bases: Mapping[date, int], events: list[RatingEvent], first: date, last: date, weights: Weights
) -> list[Rating]:
    """The rating at each month's end from ``first`` to ``last``, each from the latest base set by then."""
    ratings = []
    for end in month_ends(first, last):
        known = [day for day in bases if day <= end]
        if known:
            ratings.append(rate(country, bases[max(known)], events, end, weights))
    return ratings
