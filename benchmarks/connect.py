"""How fast ``civicwatch connect`` merges incidents into events, at 10,000 and 100,000 incidents.

The incidents are GENERATED (fictional names, 60 countries, dates over 2015-2025): a happening is
reported by one to three documents, a third of the repeats spelling the person's name in Cyrillic
and some dating it to the month only, so merging has real work to do. Each size gets a fresh SQLite
database loaded with ``store.bulk.load`` (not timed); then ``connect`` runs once, timed end to end
(reading, blocking, comparing, registering names, writing events), counting the SQL statements it
sends. Because it compares within blocks (country and month), incidents/second should stay roughly
level from 10k to 100k.

Run: ``.venv/bin/python benchmarks/connect.py`` (``--sizes 10000`` for a short run); with
``--postgresql postgresql+psycopg://127.0.0.1/test`` each size runs in a fresh schema of that database
(dropped afterwards) instead of SQLite.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import combinations
from pathlib import Path

import pycountry
from sqlalchemy import event

from civicwatch.connect.transliterate import to_latin
from civicwatch.model import Document, Incident
from civicwatch.store import Store, bulk
from civicwatch.store import events as stored

FIRST = ["Dilnoza", "Rustam", "Aigerim", "Timur", "Malika", "Sardor", "Zarina", "Bakhtiyor", "Gulnara", "Azamat"]
FIRST_CYR = ["Дилноза", "Рустам", "Айгерим", "Тимур", "Малика", "Сардор", "Зарина", "Бахтиёр", "Гульнара", "Азамат"]
SYLLABLES_CYR = ["ка", "ри", "мо", "да", "ше", "ну", "то", "ла", "бе", "жа", "хо", "ру", "си", "ва"]
TYPES = ["detention", "prosecution", "harassment", "attack", "censorship", "travel_ban"]


def _happenings(n_incidents: int, seed: int) -> list[tuple[str, str, str, str, int]]:
    """(country, type, date, Cyrillic surname stem, number of reports) until ``n_incidents`` reports."""
    rng = random.Random(seed)
    codes = random.Random(5).sample(sorted(c.alpha_2 for c in pycountry.countries), 60)
    found, made = [], 0
    while made < n_incidents:
        reports = min(rng.choice([1, 1, 1, 2, 2, 3]), n_incidents - made)
        stem = "".join(rng.choice(SYLLABLES_CYR) for _ in range(3))
        day = f"{rng.randint(2015, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        found.append((rng.choice(codes), rng.choice(TYPES), day, stem, reports))
        made += reports
    return found


def generate(n_incidents: int, seed: int = 1) -> tuple[list[Document], list[tuple[str, list[Incident]]], list[int]]:
    """Documents, their incidents (one each) and the happening each incident reports (the truth)."""
    rng = random.Random(seed)
    documents, codings, truth = [], [], []
    for number, (country, kind, day, stem, reports) in enumerate(_happenings(n_incidents, seed)):
        first = rng.randrange(len(FIRST))
        cyrillic = f"{FIRST_CYR[first]} {stem.capitalize()}ов"
        latin = to_latin(cyrillic).title()
        for report in range(reports):
            name = cyrillic if report and rng.random() < 0.33 else latin
            date = day[:7] if report and rng.random() < 0.2 else day
            text = f"Report {number}.{report}: on {date} police detained {name} in {country}; sources confirmed it."
            key = hashlib.sha256(text.encode()).hexdigest()
            documents.append(Document(text=text, content_hash=key, title=f"Report {number}.{report}", lang="en"))
            codings.append((key, [Incident(country=country, types=[kind], persons=[name], date=date, evidence=text,
                                           evidence_start=0, evidence_end=len(text), confidence=0.8)]))
            truth.append(number)
    return documents, codings, truth


def pairwise(predicted: list[int], truth: list[int]) -> tuple[float, float]:
    """Pairwise precision and recall of a clustering against the true one (same order of incidents)."""
    def pairs(labels: list[int]) -> set[tuple[int, int]]:
        groups: dict[int, list[int]] = {}
        for index, label in enumerate(labels):
            groups.setdefault(label, []).append(index)
        return {pair for members in groups.values() for pair in combinations(members, 2)}

    got, want = pairs(predicted), pairs(truth)
    return (len(got & want) / len(got) if got else 1.0), (len(got & want) / len(want) if want else 1.0)


@contextmanager
def fresh_database(postgresql: str | None) -> Iterator[str]:
    """The address of an empty database: a temporary SQLite file, or a new schema of ``postgresql``."""
    if postgresql is None:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'connect.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"cw_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgresql, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(postgresql).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run(size: int, postgresql: str | None = None) -> dict[str, object]:
    """Load ``size`` generated incidents into a fresh database (SQLite, or a PostgreSQL schema) and time one
    ``connect``."""
    documents, codings, truth = generate(size)
    with fresh_database(postgresql) as database_url:
        store = Store(database_url)
        store.upgrade()
        bulk.load(store, documents, codings, coder_version="bench")
        sent: list[str] = []  # SQL statements connect sends (an executemany the driver batches counts once)

        def listener(_connection: object, _cursor: object, statement: str, *_rest: object) -> None:
            sent.append(statement)

        event.listen(store._engine, "before_cursor_execute", listener)
        start = time.perf_counter()
        report = stored.connect(store)
        seconds = time.perf_counter() - start
        event.remove(store._engine, "before_cursor_execute", listener)
        by_hash = {d.content_hash: i for i, d in enumerate(documents)}
        with store._read() as connection:  # the benchmark reads its own result back; no product code here
            from sqlalchemy import select

            from civicwatch.store.schema import documents as documents_table
            from civicwatch.store.schema import incidents

            rows = connection.execute(select(documents_table.c.content_hash, incidents.c.event_id)
                                      .join(incidents, incidents.c.document_id == documents_table.c.id)).all()
        store.close()
    predicted = [0] * len(documents)
    for content_hash, event_id in rows:
        predicted[by_hash[content_hash]] = int(event_id)
    precision, recall = pairwise(predicted, truth)
    return {"incidents": report.incidents, "events": report.new_events, "true_events": len(set(truth)),
            "seconds": round(seconds, 2), "incidents_per_second": round(report.incidents / seconds),
            "statements": len(sent),
            "pairwise_precision": round(precision, 3), "pairwise_recall": round(recall, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--postgresql", metavar="URL", help="run on PostgreSQL at URL (a fresh schema per size)")
    args = parser.parse_args()
    engine = "postgresql" if args.postgresql else "sqlite"
    for size in args.sizes:
        print(json.dumps({"size": size, "engine": engine, "load_average": os.getloadavg()[0],
                          **run(size, args.postgresql)}), flush=True)


if __name__ == "__main__":
    main()
