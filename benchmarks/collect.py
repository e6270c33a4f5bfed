"""How fast civicwatch collects local HTML pages, next to bare trafilatura on the same pages.

    .venv/bin/python benchmarks/collect.py [--pages 300] [--repeat 3]

Generates a few hundred article pages (fictional reports inside realistic
page boilerplate: navigation, sidebars, footers), then times, in the same run:

- bare: ``trafilatura.extract`` on each page's bytes, nothing else;
- civicwatch: the whole collect path on the same folder: read the file,
  extract text and metadata, detect the language, hash and MinHash for
  duplicates, store in a fresh SQLite database (one transaction per document).

Prints a table and writes ``benchmarks/results/collect.json``. The goal is a
ratio (civicwatch / bare throughput) of at least 0.8.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import trafilatura

from civicwatch.collect.pipeline import collect
from civicwatch.collect.sources import new_source
from civicwatch.config import load_settings
from civicwatch.model import SourceKind
from civicwatch.store import Store

RESULTS = Path(__file__).parent / "results"

CITIES = ["Tashkent", "Nukus", "Samarkand", "Almaty", "Astana", "Bishkek", "Osh", "Dushanbe", "Khorog", "Ashgabat"]
PEOPLE = ["Dilnoza Karimova", "Timur Aliyev", "Aizhan Bekova", "Rustam Nazarov", "Gulnara Saidova",
          "Bakyt Omurov", "Farrukh Rahimov", "Madina Yusupova", "Azamat Tokonov", "Nigora Usmonova"]
ACTS = ["was detained by police", "was fined by a district court", "was summoned for questioning",
        "had her home searched", "was barred from leaving the country", "was released after ten days",
        "was charged with spreading false information", "saw his website blocked"]
WORDS = [
    "report", "monitor", "court", "hearing", "lawyer", "family", "appeal", "village", "district",
    "market", "council", "petition", "rally", "newspaper", "website", "channel", "statement", "evidence",
    "witness", "prison", "colony", "sentence", "delegation", "embassy", "harvest", "cotton", "school",
    "teacher", "doctor", "union", "registration", "ministry", "inspection", "fine", "blogger", "video",
    "post", "comment", "interview", "complaint", "ombudsman", "parliament", "amendment", "assembly",
    "square", "police", "station",
]


def page(n: int) -> str:
    """One fictional article page of about 6 kB, most of it boilerplate, as news sites are."""
    rng = random.Random(n)
    who, city, act = rng.choice(PEOPLE), rng.choice(CITIES), rng.choice(ACTS)
    paragraphs = [f"On {rng.randint(1, 28)} May 2026 {who}, a civic activist from {city}, {act}."]
    for _ in range(6):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
                     for _ in range(rng.randint(2, 4))]
        paragraphs.append(" ".join(sentences))
    nav = "".join(f"<li><a href='/section/{i}'>Section {i}</a></li>" for i in range(12))
    side = "".join(f"<li><a href='/news/{n + i}'>Related report {n + i}</a></li>" for i in range(8))
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{who}: report {n} | Monitor</title>"
        f"<meta property='og:title' content='{who}: report {n}'>"
        f"<meta property='article:published_time' content='2026-05-{n % 28 + 1:02d}T08:00:00Z'>"
        f"<link rel='canonical' href='https://monitor.example.org/news/{n}'>"
        "<style>body{font-family:sans-serif}</style></head><body>"
        f"<header><div class='logo'>Monitor</div><nav><ul>{nav}</ul></nav></header>"
        f"<div class='main'><article><h1>{who}: report {n}</h1><p class='byline'>By Staff, {city}</p>"
        f"{body}</article><aside><h2>Related</h2><ul>{side}</ul></aside></div>"
        "<footer><p>Monitor is a fictional outlet used in civicwatch's benchmarks.</p>"
        "<p><a href='/privacy'>Privacy</a> <a href='/contact'>Contact</a></p></footer></body></html>"
    )


def write_pages(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"report-{n:04d}.html"
        path.write_text(page(n), encoding="utf-8")
        paths.append(path)
    return paths


def time_bare(paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        trafilatura.extract(path.read_bytes())
    return time.perf_counter() - start


def time_civicwatch(folder: Path, workdir: Path, run: int) -> tuple[float, int]:
    settings = load_settings(None, database_url=f"sqlite:///{workdir}/bench-{run}.db")
    store = Store(settings.database_url)
    store.upgrade()
    store.add_source(new_source(str(folder), settings, None, kind=SourceKind.FILES, name="bench"))
    start = time.perf_counter()
    summary = collect(store, settings, source_names=["bench"])
    elapsed = time.perf_counter() - start
    store.close()
    if summary.failed:
        sys.exit(f"collect failed on {summary.failed} pages: {summary.sources[0].failures[:3]}")
    return elapsed, summary.new


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "pages"
        paths = write_pages(folder, args.pages)
        time_bare(paths[:20])  # warm both paths up: imports, caches, the language model
        time_civicwatch(folder, Path(tmp), -1)
        bare_runs, ours_runs, stored = [], [], 0
        for run in range(args.repeat):  # alternate, and keep each side's best, so drift hurts neither
            bare_runs.append(time_bare(paths))
            elapsed, stored = time_civicwatch(folder, Path(tmp), run)
            ours_runs.append(elapsed)
    bare = args.pages / min(bare_runs)
    ours = args.pages / min(ours_runs)
    result = {
        "pages": args.pages,
        "stored": stored,
        "bare_trafilatura_docs_per_s": round(bare, 1),
        "civicwatch_docs_per_s": round(ours, 1),
        "ratio": round(ours / bare, 3),
        "goal_ratio": 0.8,
        "runs": args.repeat,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(f"{'path':<40}{'docs/s':>10}")
    print(f"{'trafilatura.extract alone':<40}{bare:>10.1f}")
    print(f"{'civicwatch collect (extract+lang+dedupe+store)':<40}{ours:>10.1f}")
    print(f"ratio {result['ratio']:.3f} (goal >= 0.8), {stored} documents stored")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "collect.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
