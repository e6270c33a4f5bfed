"""Generated test pages: many distinct fictional reports, for runs long enough to interrupt."""

from __future__ import annotations

import random
from pathlib import Path
from xml.sax.saxutils import escape

CITIES = ["Tashkent", "Nukus", "Almaty", "Astana", "Bishkek", "Osh", "Dushanbe", "Khorog", "Ashgabat", "Minsk"]
NAMES = ["Dilnoza Karimova", "Timur Aliyev", "Aizhan Bekova", "Rustam Nazarov", "Gulnara Saidova",
         "Bakyt Omurov", "Farrukh Rahimov", "Madina Yusupova", "Azamat Tokonov", "Nigora Usmonova"]
ACTS = ["detained", "questioned for six hours", "fined", "summoned by the prosecutor", "searched at home",
        "barred from leaving the country", "released on bail", "charged with spreading false information"]
WORDS = [
    "report", "monitor", "court", "hearing", "lawyer", "family", "appeal", "village", "district",
    "market", "council", "petition", "rally", "newspaper", "website", "channel", "statement", "evidence",
    "witness", "prison", "colony", "sentence", "delegation", "embassy", "harvest", "cotton", "school",
    "teacher", "doctor", "union", "registration", "ministry", "inspection", "fine", "blogger", "video",
    "post", "comment", "interview", "complaint", "ombudsman", "parliament", "amendment", "assembly",
    "square", "police", "station",
]


def report_text(n: int) -> str:
    """A distinct fictional report, about 150 words, reproducible from ``n``."""
    rng = random.Random(n)
    who, city, act = rng.choice(NAMES), rng.choice(CITIES), rng.choice(ACTS)
    opening = f"On {rng.randint(1, 28)} March 2026 {who}, an activist in {city}, was {act} (report {n})."
    filler = " ".join(" ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "." for _ in range(12))
    return f"{opening} {filler}"


def article_html(n: int) -> str:
    text = report_text(n)
    paragraphs = "".join(f"<p>{escape(p)}.</p>" for p in text.split(". ") if p)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Report {n}</title><meta property='article:published_time' content='2026-03-{n % 28 + 1:02d}'>"
        "</head><body><header><nav><a href='/'>Home</a> <a href='/about'>About</a></nav></header>"
        f"<main><article><h1>Report {n}</h1>{paragraphs}</article></main>"
        "<footer>Central Asia Monitor (fictional), 2026</footer></body></html>"
    )


def write_site(folder: Path, count: int, base_url: str) -> Path:
    """Write ``count`` article pages and an Atom feed linking to them at ``base_url``; return the feed's path."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for n in range(count):
        (folder / f"report-{n}.html").write_text(article_html(n), encoding="utf-8")
        entries.append(
            f"<entry><id>urn:test:report-{n}</id><title>Report {n}</title>"
            f"<link href='{base_url}report-{n}.html'/><updated>2026-03-{n % 28 + 1:02d}T09:00:00Z</updated>"
            f"<summary>{escape(report_text(n)[:120])}</summary></entry>"
        )
    feed = folder / "feed.atom"
    feed.write_text(
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        "<title>Test monitor</title><id>urn:test:feed</id><updated>2026-03-30T00:00:00Z</updated>"
        + "".join(entries) + "</feed>",
        encoding="utf-8",
    )
    return feed
