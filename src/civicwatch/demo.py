"""The demo: civicwatch's own sample corpus (fictional people and organisations), collected end to end."""

from __future__ import annotations

from pathlib import Path

from civicwatch.collect.pipeline import CollectSummary, collect
from civicwatch.collect.sources import new_source
from civicwatch.config import Settings
from civicwatch.errors import UsageError
from civicwatch.model import SourceKind
from civicwatch.rate.run import RateSummary
from civicwatch.store import Store

# (name, path under examples/, kind): one source of each kind civicwatch reads.
DEMO_SOURCES = [
    ("demo-feed", "feed/central-asia-monitor.atom", SourceKind.FEED),
    ("demo-country-page", "pages/country-kyrgyzstan.html", SourceKind.LISTING),
    ("demo-pages", "pages", SourceKind.FILES),
    ("demo-digest", "digest/weekly-digest.txt", SourceKind.FILES),
    ("demo-reports", "reports", SourceKind.FILES),
    ("demo-partner", "jsonl/partner-export.jsonl", SourceKind.FILES),
]


def load_demo(store: Store, settings: Settings, examples: Path) -> CollectSummary:
    """Create or migrate the database, register the sample sources once, and collect them all now.

    Coding the collected documents is ``code.process.process``, which the CLI's demo runs next."""
    if not (examples / "feed").is_dir():
        raise UsageError(str(examples), "the sample corpus is not here; run from the civicwatch checkout")
    store.upgrade()
    names = []
    for name, relative, kind in DEMO_SOURCES:
        if store.source(name) is None:
            store.add_source(new_source(str(examples / relative), settings, None, kind=kind, name=name))
        names.append(name)
    return collect(store, settings, source_names=names)


def rate_demo(store: Store, examples: Path, ratings_file: Path | None = None) -> RateSummary:
    """Import base ratings and rate: the sample corpus's (``examples/ratings``, fictional, written for the demo),
    or ``ratings_file`` when the user passes one (e.g. the published CIVICUS Monitor file)."""
    from civicwatch.rate.files import read_ratings_file
    from civicwatch.rate.method import load_weights
    from civicwatch.rate.run import rate_countries
    from civicwatch.store.ratings import save_bases

    path = ratings_file or examples / "ratings" / "base-ratings.csv"
    save_bases(store, read_ratings_file(path, load_weights()), source=path.name)
    return rate_countries(store)


def upr_demo(store: Store, examples: Path) -> tuple[int, int]:
    """Import the sample corpus's UPR recommendations (``examples/upr``, fictional, written for the demo)."""
    from civicwatch.store.upr import import_recommendations
    from civicwatch.upr.importer import read
    from civicwatch.upr.tagging import tagger

    path = examples / "upr" / "recommendations.csv"
    return import_recommendations(store, read(path), source_file=path.name, themes=tagger().themes)
