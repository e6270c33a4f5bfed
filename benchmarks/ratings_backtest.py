"""Back-test of the rating method (docs/methodology.md) against the published CIVICUS Monitor categories.

For each pair of consecutive years (Y, Y+1) in the ratings file: the base of every country is its published
category for Y (as of 31 December Y, at its band's midpoint), the events are the development set's incidents
dated in Y+1 (its hand-coded gold incidents, and separately what our coder finds in the same passages), and the
rating on 31 December Y+1 is compared with the published category for Y+1. The weights are the shipped ones
(``codebook/rating.toml``), never tuned here.

    .venv/bin/python benchmarks/ratings_backtest.py [RATINGS.csv] [DEVSET.jsonl]
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

from civicwatch.code.coder import Coder
from civicwatch.rate.method import RatingEvent, base_score, load_weights, rate

SHARED = Path(__file__).resolve().parents[2] / "shared"


def published(path: Path) -> dict[int, dict[str, str]]:
    """``{year: {iso2: category}}`` from the CIVICUS file."""
    years: defaultdict[int, dict[str, str]] = defaultdict(dict)
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["year"].isdigit() and row["iso2"]:
                years[int(row["year"])][row["iso2"]] = row["rating"].strip().lower()
    return dict(years)


def devset_events(path: Path, *, coded: bool) -> list[RatingEvent]:
    """The devset's incidents as events: gold (``coded`` False) or our coder's output on the same passages."""
    coder = Coder() if coded else None
    events = []
    for line in path.open(encoding="utf-8"):
        record = json.loads(line)
        found = (
            [vars(i) for i in coder.code(record["text"], record.get("published"))]
            if coder else record["incidents"]
        )
        for n, inc in enumerate(found):
            events.append(RatingEvent(f"{record['id']}:{n}", inc["country"], tuple(inc["types"]),
                                      tuple(inc.get("targets") or ()), len(inc.get("persons") or ()),
                                      inc.get("date") or record.get("published")))
    return events


def backtest(years: dict[int, dict[str, str]], events: list[RatingEvent]) -> list[dict[str, object]]:
    """One row per year pair: countries compared, matches, and how the misses went."""
    weights = load_weights()
    by_country: defaultdict[str, list[RatingEvent]] = defaultdict(list)
    for e in events:
        by_country[e.country].append(e)
    rows = []
    for y in sorted(years):
        if y + 1 not in years:
            continue
        before, after = years[y], years[y + 1]
        tally: Counter[str] = Counter()
        moved = []
        for iso2 in sorted(set(before) & set(after)):
            r = rate(iso2, base_score(before[iso2], weights), by_country.get(iso2, ()), date(y + 1, 12, 31), weights)
            tally["compared"] += 1
            tally["with events"] += r.events > 0
            tally["match"] += r.category == after[iso2]
            tally["published changed"] += before[iso2] != after[iso2]
            tally["we changed"] += r.category != before[iso2]
            if r.events:
                moved.append(f"{iso2} {before[iso2]}->{after[iso2]} ours {r.category} ({r.score}, {r.events} ev)")
        rows.append({"pair": f"{y}->{y + 1}", **tally, "countries with events": moved})
    return rows


def main() -> None:
    """Print the back-test for the gold and the machine-coded devset incidents."""
    ratings = Path(sys.argv[1]) if len(sys.argv) > 1 else SHARED / "data" / "civicus_ratings" / "ratings.csv"
    devset = Path(sys.argv[2]) if len(sys.argv) > 2 else SHARED / "devset" / "devset.jsonl"
    years = published(ratings)
    for coded in (False, True):
        events = devset_events(devset, coded=coded)
        dated = sum(1 for e in events if e.date)
        print(f"== events: {'our coder' if coded else 'gold'} ({len(events)} incidents, {dated} dated)")
        for row in backtest(years, events):
            print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
