"""Measure the web site's and API's latency on a SQLite database of 1,000,000 generated incidents.

Run: ``.venv/bin/python benchmarks/web.py [--incidents 1000000] [--reuse]``

1. Builds a SQLite database of N incidents (default 1,000,000) across 200 countries, about 3 incidents per
   document of about 600 characters. **Every text is generated from templates**: the people, organisations
   and cities are invented names, not real ones. Countries get a skewed share (the busiest ~7%, the quietest
   ~0.2%), as real monitoring does. Loaded with ``civicwatch.store.bulk.load``; cached in
   ``benchmarks/.cache/`` and reused with ``--reuse``.
2. Starts ``civicwatch serve`` on 127.0.0.1 on a free port (one uvicorn process, as users run it).
3. Times, sequentially (``--requests`` each, 200 by default) and then with 32 concurrent clients: the
   country page, a filtered incident list page, an API page, the API's page 2 (a cursor), the list with a
   text query, and search for one frequent term and for two terms; and bare FTS5 ``MATCH ... ORDER BY bm25
   LIMIT 20`` on the same search queries through sqlite3, in the same run.
4. Prints a table, writes ``benchmarks/results/web.json`` and the "Web" section of ``docs/performance.md``.

Only 127.0.0.1 is ever contacted; every loop is bounded in count, and the whole run in time (``--deadline``).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import random
import select
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pycountry

from civicwatch.model import Document, Incident
from civicwatch.store import Store, bulk
from civicwatch.store.events import connect
from civicwatch.store.search import fts5_query

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"
RESULTS = ROOT / "benchmarks" / "results" / "web.json"
DOC = ROOT / "docs" / "performance.md"
GENERATOR_VERSION = "web-2"  # bump when the generated data changes, so --reuse does not take a stale cache
CODER_VERSION = "generated-1"
COUNTRIES = 200
SKEW = 0.7  # country weights 1/rank**SKEW
GOAL_PAGE_MS = 100.0
GOAL_SEARCH_MS = 50.0
SEARCH_ONE = "police"
SEARCH_TWO = "lawyer convicted"
LIST_QUERY = "blogger"

# -- generated data (fictional) -------------------------------------------------------------------

SYLLABLES = ("ka", "ro", "mi", "sa", "tu", "le", "na", "vo", "di", "be", "zu", "ha", "po", "ri", "ta", "el",
             "an", "or", "is", "ul", "me", "ko", "ya", "fe")
FIRST = ("Arlen", "Bexa", "Corin", "Dalia", "Emrik", "Fara", "Galen", "Hesta", "Ivo", "Juna", "Kesh", "Lira",
         "Moro", "Nadia", "Orsin", "Pella", "Quin", "Rasha", "Sefa", "Tavin", "Ulla", "Veda", "Wren", "Yara")
ORG_WORDS = ("Open", "Civic", "Free", "Voices", "Steppe", "River", "Horizon", "Lantern", "Bridge", "Commons")
ORG_KINDS = ("Foundation", "Centre", "Network", "Union", "Initiative", "Association")
TARGET_WORDS = {"journalist": "journalist", "hrd": "human rights defender", "blogger": "blogger",
                "protester": "protester", "lawyer": "lawyer", "opposition": "opposition politician",
                "trade_unionist": "trade unionist", "cso": "activist"}
PERPETRATOR_WORDS = {"police": "police", "security_services": "security service officers",
                     "judiciary": "a court", "executive": "the ministry"}
# (type, rights, template); {who} is a target phrase and a name, {by} the perpetrator's words.
EVENTS = (
    ("detention", ["expression"], "On {day} {by} in {city} detained {who} after a peaceful rally."),
    ("prosecution", ["expression"], "Prosecutors in {city} charged {who} with spreading false information."),
    ("imprisonment", ["expression"], "A court in {city} convicted {who} and sentenced them to {n} years."),
    ("harassment", ["expression"], "{by_cap} in {city} repeatedly summoned {who} for questioning."),
    ("attack", ["expression"], "Unknown men beat {who} outside their home in {city} on {day}."),
    ("travel_ban", ["association"], "Border guards barred {who} from leaving {city} for a conference."),
    ("protest_restriction", ["assembly"], "{by_cap} dispersed a protest in {city} and fined {who}."),
    ("censorship", ["expression"], "Authorities in {city} blocked the website run by {who}."),
    ("cso_restriction", ["association"], "The ministry refused to register the {org} in {city}."),
    ("release", ["expression"], "{who_cap} was released from custody in {city} on {day}."),
)
FILLER = (
    "The {org} said the case fits a wider pattern of pressure on civil society in the region. ",
    "Local observers noted that the hearing was closed to the public and to the press. ",
    "Relatives said they had received no official explanation for the decision. ",
    "The {org} called on the authorities to respect their international commitments. ",
    "Several independent outlets reported on the case before their pages were removed. ",
)


def _name(rng: random.Random) -> str:
    surname = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
    return f"{rng.choice(FIRST)} {surname}ova" if rng.random() < 0.5 else f"{rng.choice(FIRST)} {surname}"


def countries() -> list[str]:
    """200 ISO 3166-1 codes, in a fixed order: the first is the busiest."""
    codes = sorted(c.alpha_2 for c in pycountry.countries)
    return random.Random(5).sample(codes, COUNTRIES)


def _day(rng: random.Random) -> tuple[str | None, str]:
    """An incident's date at the codebook's precision, and its words in the text."""
    year, month, day = rng.randint(2015, 2025), rng.randint(1, 12), rng.randint(1, 28)
    roll = rng.random()
    if roll < 0.05:
        return None, "an unspecified day"
    if roll < 0.15:
        return f"{year}-{month:02d}", f"{month:02d}/{year}"
    return f"{year}-{month:02d}-{day:02d}", f"{day} {month:02d} {year}"


def generate(n_incidents: int, seed: int = 1) -> Iterator[tuple[Document, list[Incident]]]:
    """Documents of about 600 characters with 2-4 incidents each (3 on average), until ``n_incidents``."""
    rng = random.Random(seed)
    codes = countries()
    weights = [1 / (rank + 1) ** SKEW for rank in range(len(codes))]
    cities = {code: ["".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize() for _ in range(6)]
              for code in codes}
    made, serial = 0, 0
    while made < n_incidents:
        serial += 1
        code = rng.choices(codes, weights)[0]
        org = f"{rng.choice(ORG_WORDS)} {rng.choice(ORG_WORDS)} {rng.choice(ORG_KINDS)}"
        text = f"Report {serial} ({code}). "
        incidents: list[Incident] = []
        for _ in range(min(rng.randint(2, 4), n_incidents - made)):
            kind, rights, template = rng.choice(EVENTS)
            target = rng.choice(list(TARGET_WORDS))
            perpetrator = rng.choice(list(PERPETRATOR_WORDS))
            person = _name(rng)
            date, day = _day(rng)
            who = f"{TARGET_WORDS[target]} {person}"
            by = PERPETRATOR_WORDS[perpetrator]
            sentence = template.format(day=day, by=by, by_cap=by[0].upper() + by[1:], city=rng.choice(cities[code]),
                                       who=who, who_cap=who[0].upper() + who[1:], n=rng.randint(2, 9), org=org)
            start = len(text)
            text += sentence + " "
            incidents.append(Incident(
                country=code, types=[kind], rights=rights, targets=[target], persons=[person],
                organisations=[org] if "{org}" in template else [], perpetrators=[perpetrator], date=date,
                evidence=sentence, evidence_start=start, evidence_end=start + len(sentence),
                confidence=round(rng.uniform(0.5, 0.99), 2),
            ))
        while len(text) < 560:
            text += rng.choice(FILLER).format(org=org)
        text = text.strip()
        made += len(incidents)
        published = max((i.date for i in incidents if i.date), default=None)
        yield Document(
            text=text, content_hash=hashlib.sha256(text.encode()).hexdigest(), title=f"Report {serial}: {code}",
            url=f"https://monitor.example.org/reports/{serial}", published=published, lang="en", lang_score=1.0,
            external_id=str(serial),
        ), incidents


def build(path: Path, n_incidents: int, batch: int = 5000) -> dict[str, Any]:
    """Generate the database at ``path`` (built beside it and renamed, so a cache is never half-made)."""
    partial = path.with_suffix(".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    start = time.perf_counter()
    store = Store(f"sqlite:///{partial}")
    store.upgrade()
    documents = incidents = 0
    chunk: list[tuple[Document, list[Incident]]] = []

    def flush() -> None:
        nonlocal documents, incidents
        summary = bulk.load(store, [d for d, _ in chunk], [(d.content_hash, found) for d, found in chunk],
                            coder_version=CODER_VERSION, batch=batch)
        documents += summary.documents_added
        incidents += summary.incidents_added
        chunk.clear()

    for pair in generate(n_incidents):
        chunk.append(pair)
        if len(chunk) >= batch:
            flush()
        if documents and documents % 50_000 == 0 and not chunk:
            print(f"  {documents:,} documents, {incidents:,} incidents, {time.perf_counter() - start:.0f} s",
                  flush=True)
    if chunk:
        flush()
    # Connected as `civicwatch process` leaves a database: events, and the registry behind the persons and
    # organisations lists and the country pages' most-named lists.
    print("  connecting (civicwatch connect) ...", flush=True)
    connected = connect(store)
    print(f"  {connected.new_events:,} events, {connected.links:,} registry links, "
          f"{time.perf_counter() - start:.0f} s", flush=True)
    store.close()
    # Back to a rollback journal: one file to rename, no -wal/-shm left behind (serve turns WAL on again).
    connection = sqlite3.connect(partial)
    try:
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()
    partial.rename(path)
    seconds = time.perf_counter() - start
    meta = {"generator": GENERATOR_VERSION, "incidents": incidents, "documents": documents,
            "seconds": round(seconds, 1), "bytes": path.stat().st_size}
    path.with_suffix(".json").write_text(json.dumps(meta) + "\n", encoding="utf-8")
    return meta


def database(n_incidents: int, reuse: bool) -> tuple[Path, dict[str, Any]]:
    """The generated database for ``n_incidents``: the cached one with ``--reuse`` when it matches."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"web-{n_incidents}.db"
    meta_path = path.with_suffix(".json")
    if reuse and path.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("generator") == GENERATOR_VERSION:
            meta["reused"] = True
            return path, meta
    path.unlink(missing_ok=True)
    print(f"Generating {n_incidents:,} incidents from templates (fictional names) into {path} ...", flush=True)
    meta = build(path, n_incidents)
    meta["reused"] = False
    return path, meta


# -- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


WARMED: dict[str, float] = {}  # seconds the server took to count every country page, per server start


def wait_for_warming(server: subprocess.Popen[bytes], seconds: float = 1800) -> float:
    """Block until the server says its country pages are counted (``web/warm.py``); return how long it took."""
    assert server.stderr is not None
    start, deadline, buffered = time.monotonic(), time.monotonic() + seconds, b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([server.stderr], [], [], 1.0)
        if ready:
            chunk = os.read(server.stderr.fileno(), 65536)
            if not chunk:
                break
            buffered += chunk
            if b"Country pages ready" in buffered:
                return time.monotonic() - start
    raise SystemExit(f"the server did not finish counting its country pages: {buffered.decode()[-500:]}")


def start_server(path: Path, port: int, workers: int = 1, cache_mb: int = 0,
                 warm: bool = True) -> subprocess.Popen[bytes]:
    # A cached database may predate the newest migration (an index, say): bring it up to date first.
    subprocess.run([sys.executable, "-m", "civicwatch", "db", "upgrade", "--database", f"sqlite:///{path}"],
                   check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    command = [sys.executable, "-m", "civicwatch", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--database", f"sqlite:///{path}"]
    env = {**os.environ, "CIVICWATCH_PAGE_CACHE_MB": str(cache_mb), "CIVICWATCH_WARM_COUNTRY_PAGES": str(warm)}
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"civicwatch serve exited: {(server.stderr.read() if server.stderr else b'').decode()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=2).status_code == 200:
                if warm:
                    WARMED[f"port {port}"] = round(wait_for_warming(server), 1)
                    print(f"  server counted every country page in {WARMED[f'port {port}']} s "
                          "(web/warm.py)", flush=True)
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    stop_server(server)
    raise SystemExit("civicwatch serve did not answer within 60 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# -- measuring -----------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    what: str
    urls: list[str]  # cycled through
    goal_ms: float
    sequential: list[float] = field(default_factory=list)  # rendered every time (page cache off)
    concurrent: list[float] = field(default_factory=list)  # rendered every time (page cache off)
    cached: list[float] = field(default_factory=list)  # 32 clients, page cache on, each address seen once before
    # With wrk, only its percentiles (it keeps the latencies itself).
    concurrent_figures: dict[str, Any] | None = None
    cached_figures: dict[str, Any] | None = None
    hits: int = 0
    errors: int = 0


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def timed_get(client: httpx.Client, url: str, case: Case) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        case.errors += 1
    return elapsed


def run_sequential(base: str, case: Case, requests: int, deadline: float) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        for url in case.urls[:5]:  # warm-up, not counted
            client.get(url)
        for i in range(requests):
            if time.monotonic() > deadline:
                break
            case.sequential.append(timed_get(client, case.urls[i % len(case.urls)], case))


async def _client(
    client: httpx.AsyncClient, case: Case, offset: int, count: int, deadline: float, into: list[float]
) -> None:
    for i in range(count):
        if time.monotonic() > deadline:
            return
        url = case.urls[(offset * count + i) % len(case.urls)]
        start = time.perf_counter()
        try:
            response = await client.get(url)
            ok = response.status_code == 200
            case.hits += into is case.cached and response.headers.get("x-civicwatch-cache") == "hit"
        except httpx.TransportError:
            ok = False
        into.append((time.perf_counter() - start) * 1000)
        if not ok:
            case.errors += 1


async def run_concurrent(
    base: str, case: Case, clients: int, per_client: int, deadline: float, into: list[float]
) -> None:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        await asyncio.gather(*(_client(client, case, k, per_client, deadline, into) for k in range(clients)))


def concurrent_figures(case: Case) -> dict[str, Any]:
    return case.concurrent_figures or figures(case.concurrent)


def cached_figures(case: Case) -> dict[str, Any]:
    return case.cached_figures or figures(case.cached)


def first_views(base: str, case: Case, count: int) -> None:
    """Each address the concurrent clients will ask for, once, so that they repeat views (not counted)."""
    with httpx.Client(base_url=base, timeout=60) as client:
        for url in case.urls[:count]:
            client.get(url)


WRK = "/usr/bin/wrk"
WRK_SCRIPT = r"""
local urls = {%s}
local threads = {}
n = 0
hits = 0  -- globals: the main thread reads each thread's with thread:get
setup = function(thread)
  thread:set("offset", #threads * 7)
  table.insert(threads, thread)
end
request = function()
  n = n + 1
  return wrk.format("GET", urls[((n + offset) %% #urls) + 1])
end
response = function(status, headers, body)
  if headers["x-civicwatch-cache"] == "hit" or headers["X-Civicwatch-Cache"] == "hit" then hits = hits + 1 end
end
done = function(summary, latency, requests)
  local total_hits = 0
  for _, thread in ipairs(threads) do total_hits = total_hits + thread:get("hits") end
  local e = summary.errors
  io.write(string.format("CIVICWATCH %%d %%d %%d %%.3f %%.3f\n", summary.requests,
    e.connect + e.read + e.write + e.timeout + e.status, total_hits,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
"""


def run_wrk(base: str, case: Case, clients: int, seconds: float, tmp: Path) -> dict[str, Any]:
    """``clients`` connections of wrk (a C load generator, a second process) for ``seconds``, cycling the
    case's addresses: its own cost per request is far below the server's, unlike a Python client's."""
    script = tmp / f"wrk-{case.name}.lua"
    quoted = ", ".join(json.dumps(url) for url in case.urls)  # our own ASCII addresses: valid Lua strings
    script.write_text(WRK_SCRIPT % quoted, encoding="utf-8")
    command = [WRK, "-t2", f"-c{clients}", f"-d{seconds:.0f}s", "--timeout", "60s", "-s", str(script), base + "/"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("CIVICWATCH "))
    requests, errors, hits, p50, p95 = line.split()[1:]
    case.errors += int(errors)
    case.hits += int(hits)
    return {"n": int(requests), "p50_ms": round(float(p50), 1), "p95_ms": round(float(p95), 1)}


def bare_fts(path: Path, query: str, requests: int) -> list[float]:
    """Bare FTS5 on the same database: ``MATCH ... ORDER BY bm25 LIMIT 20``, the search's floor."""
    match = fts5_query(query)
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    sql = "SELECT rowid FROM documents_fts WHERE documents_fts MATCH ? ORDER BY bm25(documents_fts) LIMIT 20"
    try:
        connection.execute(sql, (match,)).fetchall()  # warm-up
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            connection.execute(sql, (match,)).fetchall()
            times.append((time.perf_counter() - start) * 1000)
        return times
    finally:
        connection.close()


def cases(base: str, codes: list[str]) -> list[Case]:
    """What to time, each cycling through the 200 countries (busiest first) where it takes one."""
    list_params = [f"country={c}&type=detention" for c in codes]
    cursors: list[str] = []
    with httpx.Client(base_url=base, timeout=120) as client:
        for params in list_params:
            following = client.get(f"/api/v1/incidents?{params}").json().get("next")
            if following:
                cursors.append(f"/api/v1/incidents?{params}&cursor={following}")
    return [
        Case("country", "country page /countries/{iso2}", [f"/countries/{c}" for c in codes], GOAL_PAGE_MS),
        Case("list", "incident list /incidents?country=..&type=detention",
             [f"/incidents?{p}" for p in list_params], GOAL_PAGE_MS),
        Case("api", "API /api/v1/incidents?country=..&type=detention",
             [f"/api/v1/incidents?{p}" for p in list_params], GOAL_PAGE_MS),
        Case("api_page2", "API page 2 (cursor)", cursors, GOAL_PAGE_MS),
        Case("list_q", f"incident list with text /incidents?q={LIST_QUERY}&country=..",
             [f"/incidents?q={LIST_QUERY}&country={c}" for c in codes], GOAL_PAGE_MS),
        Case("search_page", "search page without a query /search?q= (the page's own cost)", ["/search?q="],
             GOAL_SEARCH_MS),
        Case("search_one", f"search /search?q={SEARCH_ONE}", [f"/search?q={SEARCH_ONE}"], GOAL_SEARCH_MS),
        Case("search_two", f"search /search?q={SEARCH_TWO}", [f"/search?q={SEARCH_TWO.replace(' ', '+')}"],
             GOAL_SEARCH_MS),
    ]


# -- reporting -----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": model, "cores": os.cpu_count(), "memory_gib": round(memory), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "platform": platform.platform()}


def figures(times: list[float]) -> dict[str, float]:
    return {"n": len(times), "p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1)}


def verdict(p95: float, goal: float) -> str:
    return "met" if p95 < goal else "**missed**"


def markdown(result: dict[str, Any]) -> str:
    data, host = result["database"], result["machine"]
    if result["load_generator"] == "wrk":
        load = (f"{result['clients']} concurrent connections of `wrk` (a C load generator in its own process, "
                f"2 threads) for {result['seconds']:.0f} s")
    else:
        load = f"{result['clients']} concurrent Python clients (httpx) × {result['per_client']} requests"
    lines = [
        "## Web (`benchmarks/web.py`)",
        "",
        "    .venv/bin/python benchmarks/web.py --incidents 1000000 --reuse",
        "",
        f"A SQLite database of {data['incidents']:,} incidents in {data['documents']:,} documents (about 600",
        "characters, 2-4 incidents each) across 200 countries with a skewed share (the busiest about 7%), "
        "**generated",
        "from templates with invented names**, loaded with `civicwatch.store.bulk.load` and connected by "
        "`civicwatch connect` (events and the registry of the persons named)"
        + (f" in {data['seconds']:.0f} s" if not data.get("reused") else f" (cached; built in {data['seconds']:.0f} s)")
        + f" ({data['bytes'] / 2**30:.2f} GiB).",
        f"`civicwatch serve` ({result['workers']} uvicorn process{'es' if result['workers'] > 1 else ''}) on "
        f"127.0.0.1. Each row: {result['requests']} requests one after another, then {load}, "
        "both with the page cache off (every request rendered: the "
        "queries' and templates' own cost); then, on a server with the page cache on (as `serve` runs by default, "
        f"{result['cache_mb']} MB), each address the clients ask for is viewed once and the same "
        f"{result['clients']} clients repeat their requests for as long (the case of a site whose readers look at "
        "the same country pages and lists; machine writes keep it for `public_lag_seconds`, a person's change "
        "empties it). Each row cycles "
        "through the 200 countries, busiest first. Bare FTS5 is `MATCH ... ORDER BY bm25(documents_fts) LIMIT 20` "
        "through sqlite3 on the same file in the same run. "
        + ("Both servers first counted every country page in the background (`web/warm.py`, as `serve` does by "
           f"default; {', '.join(f'{s} s' for s in result.get('warming_seconds', []))} for the 200 countries) and "
           "the measuring began when they said so: the sequential country row is each country's first view "
           "after that." if result.get("warm") else
           "The servers did not warm (`--no-warm`): the sequential country row is each country counted cold."),
        f"Machine: {host['cores']} cores ({host['cpu']}), {host['memory_gib']} GiB, Python {host['python']}, "
        f"SQLite {host['sqlite']}; load average at the end {', '.join(f'{x:.1f}' for x in result['load_average'])} "
        "(other work was running on the machine).",
        "",
        f"| request | rendered, sequential p50 | p95 | rendered, {result['clients']} clients p50 | p95 "
        f"| page cache, {result['clients']} clients p50 "
        "| p95 | goal (p95) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in result["cases"]:
        seq, con, hot = row["sequential"], row["concurrent"], row["cached"]
        cells = (f"| {row['what']} | {seq['p50_ms']} ms | {seq['p95_ms']} ms | {con['p50_ms']} ms | {con['p95_ms']} ms "
                 f"| {hot['p50_ms']} ms | {hot['p95_ms']} ms ")
        if row["name"] == "search_page":  # a floor, not a goal
            lines.append(cells + "| (floor) |")
            continue
        goal = row["goal_ms"]
        n = result["clients"]
        lines.append(cells + f"| < {goal:.0f} ms: sequential {verdict(seq['p95_ms'], goal)}; {n} clients rendered "
                     f"{verdict(con['p95_ms'], goal)}; {n} clients page cache {verdict(hot['p95_ms'], goal)} |")
    for name, row in result["bare_fts"].items():
        lines.append(f"| bare FTS5 `{row['match']}` ({name}) | {row['p50_ms']} ms | {row['p95_ms']} ms | | | | | |")
    lines += ["", "Search against bare FTS5 (sequential p95, same queries, same run):", ""]
    for name, row in result["bare_fts"].items():
        web = next(c for c in result["cases"] if c["name"] == name)["sequential"]["p95_ms"]
        floor = next(c for c in result["cases"] if c["name"] == "search_page")["sequential"]["p50_ms"]
        state = "no worse: met" if web <= row["p95_ms"] * 1.1 else "**slower: missed**"
        lines.append(f"- {name}: search {web} ms, bare FTS5 {row['p95_ms']} ms — {state} (the page without a "
                     f"query takes {floor} ms of that: HTTP, template)")
    def missed(kind: str) -> str:
        names = [c["what"] for c in result["cases"] if c["name"] != "search_page" and c[kind]["p95_ms"] >= c["goal_ms"]]
        return "; ".join(names) if names else "none"

    lines += ["", f"Goals missed, sequential: {missed('sequential')}.",
              f"Goals missed, {result['clients']} clients rendering every request: {missed('concurrent')}.",
              f"Goals missed, {result['clients']} clients with the page cache: {missed('cached')}.",
              f"With {result['clients']} clients on 2 cores, rendered requests queue: a client's latency is about",
              f"{result['clients']} × the cost of one request ÷ the cores, so there the p95 measures throughput more "
              "than one query."]
    errors = sum(c["errors"] for c in result["cases"])
    if errors:
        lines.append(f"Requests that did not answer 200: {errors}.")
    return "\n".join(lines) + "\n"


def publish(results: Path, result: dict[str, Any], section: str, write: Callable[[str], None] | None) -> None:
    """Keep the figures in ``results`` (JSON), print their section, and give it to ``write`` (a doc writer)."""
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print()
    print(section)
    if write is not None:
        write(section)


def write_doc(section: str) -> None:
    """Replace (or add) the "Web" section at the end of docs/performance.md, leaving the rest as it is.

    A "### Slowest queries" part written by hand after the figures is kept.
    """
    text = DOC.read_text(encoding="utf-8") if DOC.is_file() else "# Performance\n"
    marker = "\n## Web (`benchmarks/web.py`)"
    head, _, tail = text.partition(marker)
    kept = tail.partition("\n### Slowest queries")
    analysis = kept[1] + kept[2] if kept[1] else ""
    DOC.write_text(head.rstrip("\n") + "\n\n" + section + analysis, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=1_000_000, help="incidents to generate (default 1M)")
    parser.add_argument("--reuse", action="store_true", help="reuse the cached database when there is one")
    parser.add_argument("--requests", type=int, default=200, help="sequential requests per row (default 200)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--per-client", type=int, default=10, help="requests per concurrent client (default 10)")
    parser.add_argument("--deadline", type=float, default=1800, help="seconds the measuring may take at most")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/performance.md")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    parser.add_argument("--cache-mb", type=int, default=32, help="page cache per server process (default 32)")
    parser.add_argument("--seconds", type=float, default=10, help="seconds of load per row with wrk (default 10)")
    parser.add_argument("--no-warm", action="store_true",
                        help="measure country pages cold: the server does not count them in the background first")
    parser.add_argument("--no-wrk", action="store_true",
                        help="load with Python clients (httpx) even when wrk (Debian package wrk) is installed")
    parser.add_argument("--database", type=Path, metavar="FILE",
                        help="measure this generated database (with its .json beside it) instead of the cached one")
    args = parser.parse_args()

    if args.database:
        path, meta = args.database, json.loads(args.database.with_suffix(".json").read_text(encoding="utf-8"))
        meta["reused"] = True
    else:
        path, meta = database(args.incidents, args.reuse)
    how = "reused" if meta["reused"] else f"built in {meta['seconds']} s"
    print(f"Database: {path} ({meta['documents']:,} documents, {meta['incidents']:,} incidents, generated from "
          f"templates; {how})", flush=True)
    deadline = time.monotonic() + args.deadline
    use_wrk = not args.no_wrk and Path(WRK).is_file()
    if not use_wrk:
        print("wrk not found (apt-get install wrk): loading with Python clients, whose own cost shows in the "
              "figures", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="civicwatch-web-"))
    # First every request rendered (page cache off): the cost of the queries and templates themselves.
    port = free_port()
    server = start_server(path, port, args.workers, cache_mb=0, warm=not args.no_warm)
    base = f"http://127.0.0.1:{port}"
    try:
        measured = cases(base, countries())
        for case in measured:
            run_sequential(base, case, args.requests, deadline)
            if use_wrk:
                case.concurrent_figures = run_wrk(base, case, args.clients, args.seconds, tmp)
            else:
                asyncio.run(run_concurrent(base, case, args.clients, args.per_client, deadline, case.concurrent))
            seq, con = figures(case.sequential), concurrent_figures(case)
            print(f"  {case.name:<11} rendered: sequential p50 {seq['p50_ms']:>7} ms p95 {seq['p95_ms']:>7} ms | "
                  f"{args.clients} clients p50 {con['p50_ms']:>7} ms p95 {con['p95_ms']:>7} ms"
                  + (f" | {case.errors} errors" if case.errors else ""), flush=True)
    finally:
        stop_server(server)
    # Then as `serve` runs by default (page cache on): the same clients, each address viewed once before.
    port = free_port()
    server = start_server(path, port, args.workers, cache_mb=args.cache_mb, warm=not args.no_warm)
    base = f"http://127.0.0.1:{port}"
    try:
        for case in measured:
            first_views(base, case, len(case.urls))
            if use_wrk:
                case.cached_figures = run_wrk(base, case, args.clients, args.seconds, tmp)
            else:
                asyncio.run(run_concurrent(base, case, args.clients, args.per_client, deadline, case.cached))
            hot = cached_figures(case)
            print(f"  {case.name:<11} page cache: {args.clients} clients p50 {hot['p50_ms']:>7} ms "
                  f"p95 {hot['p95_ms']:>7} ms ({case.hits} of {hot['n']} from memory)", flush=True)
    finally:
        stop_server(server)
    bare = {}
    for name, query in (("search_one", SEARCH_ONE), ("search_two", SEARCH_TWO)):
        bare[name] = {"match": fts5_query(query), **figures(bare_fts(path, query, args.requests))}
        print(f"  bare FTS5 {query!r}: p50 {bare[name]['p50_ms']} ms p95 {bare[name]['p95_ms']} ms", flush=True)

    result = {
        "database": meta | {"generated_from_templates": True},
        "machine": machine(),
        "requests": args.requests,
        "clients": args.clients,
        "workers": args.workers,
        "per_client": args.per_client,
        "cache_mb": args.cache_mb,
        "warm": not args.no_warm,
        "warming_seconds": list(WARMED.values()),
        "load_average": os.getloadavg(),
        "cases": [{"name": c.name, "what": c.what, "goal_ms": c.goal_ms, "errors": c.errors,
                   "sequential": figures(c.sequential), "concurrent": concurrent_figures(c),
                   "cached": cached_figures(c), "cache_hits": c.hits} for c in measured],
        "load_generator": "wrk" if use_wrk else "httpx",
        "seconds": args.seconds,
        "bare_fts": bare,
    }
    publish(RESULTS, result, markdown(result), None if args.no_doc else write_doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
