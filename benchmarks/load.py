"""Hold the web site, API and search under load while ``civicwatch process`` writes (issue #9, part 4).

Run: ``.venv/bin/python benchmarks/load.py [--minutes 10] [--clients 32,128] [--database PATH]``

1. Copies the generated 1M-incident database of ``benchmarks/web.py`` (``benchmarks/.cache/web-1000000.db``,
   generator "web-2"; ``--database`` for another) to a temporary file, so the cache stays clean, and marks
   its documents as coded by the current coder: ``process`` then codes only the new ones, as on a database
   it has kept up with (the generated incidents stand for what it found).
2. Starts ``civicwatch serve`` on it (127.0.0.1, the page cache and publish lag as ``serve`` has them).
3. Starts a writer process: every ``--write-every`` seconds it adds ``--batch`` new generated documents
   (invented names, ``Store.add_document``) and runs ``civicwatch process`` as a subprocess, which codes
   them with the real coder, stores their incidents and connects them.
4. For ``--minutes`` at each of ``--clients`` (32, then 128) connections, ``wrk`` (a C load generator)
   cycles through a mixed list of addresses: country pages, filtered incident lists, API pages and their
   cursors (page 2), and search. wrk's Lua ``response()`` is not given a request's latency, so the
   latency **per kind** comes from a side client: one Python thread sending one request at a time, kinds
   in turn, about ``--sample-rate`` a second, queued behind wrk's connections like any visitor. wrk's own
   percentiles cover all its requests together. The server's RSS (``VmRSS``, summed over its worker
   processes) is read every 10 s.
5. Writes ``benchmarks/results/load.json`` and the "Load" section of ``docs/reliability.md``.

Only 127.0.0.1 is ever contacted; every phase is bounded in time.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import multiprocessing
import os
import queue
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pycountry
import web  # benchmarks/web.py: the generated database, the server, wrk

from civicwatch.store import Store

RESULTS = web.ROOT / "benchmarks" / "results" / "load.json"
DOC = web.ROOT / "docs" / "reliability.md"
SECTION = "## Load"
RSS_EVERY_S = 10.0
WARM_UP_S = 20.0
WRK_TIMEOUT_S = 10  # a page that takes longer than this has failed its visitor: counted as an error
FLAT = 0.10  # RSS growth under 10% over a phase counts as flat
GOALS = {"country": web.GOAL_PAGE_MS, "list": web.GOAL_PAGE_MS, "api": web.GOAL_PAGE_MS,
         "api_cursor": web.GOAL_PAGE_MS, "search": web.GOAL_SEARCH_MS}
KINDS = {"country": "country page /countries/{iso2}",
         "list": "incident list /incidents?country=..&type=..",
         "api": "API /api/v1/incidents?country=..&type=..",
         "api_cursor": "API page 2 /api/v1/incidents?...&cursor=..",
         "search": "search /search?q=.. (one or two words)"}
LIST_TYPES = ("detention", "prosecution", "censorship")
SEARCH_WORDS = ("police", "journalist", "blogger", "lawyer", "court", "protest", "website", "ministry", "border",
                "released", "convicted", "rally", "prosecutors", "activist", "fined", "conference")


# -- the database --------------------------------------------------------------------------------


def working_copy(source: Path, folder: Path) -> Path:
    """``source`` copied into ``folder``, its documents marked as coded by the current coder."""
    from civicwatch.code.coder import Coder

    copy = folder / "load.db"
    shutil.copyfile(source, copy)
    connection = sqlite3.connect(copy)
    try:
        with connection:
            connection.execute("UPDATE codings SET coder_version = ?", (Coder().version,))
    finally:
        connection.close()
    return copy


def sample_ids(path: Path, table: str, count: int) -> list[int]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        top = connection.execute(f"SELECT max(id) FROM {table}").fetchone()[0] or 0
    finally:
        connection.close()
    rng = random.Random(3)
    return [rng.randint(1, top) for _ in range(count)] if top else []


# -- the writer ----------------------------------------------------------------------------------


def new_documents(cycle: int, batch: int) -> list[Any]:
    """``batch`` generated documents for writer cycle ``cycle``, each text new (a marked copy of web.py's)."""
    made = []
    for k, (document, _) in enumerate(web.generate(batch * 5, seed=1000 + cycle)):
        if k >= batch:
            break
        # The country's name, as a report would give it: the coder places incidents by what the text says.
        place = pycountry.countries.get(alpha_2=document.title.rsplit(" ", 1)[-1])
        text = f"Update {cycle}.{k} from {place.name if place else 'abroad'}. {document.text}"
        made.append(dataclasses.replace(
            document, text=text, content_hash=hashlib.sha256(text.encode()).hexdigest(),
            url=f"https://monitor.example.org/updates/{cycle}/{k}", external_id=f"update-{cycle}-{k}",
            title=f"Update {cycle}.{k}: {document.title}",
        ))
    return made


def write_loop(path: str, batch: int, every: float, stop: Any, out: Any) -> None:
    """Until ``stop`` is set: add ``batch`` documents, run ``civicwatch process``, report to ``out``."""
    url = f"sqlite:///{path}"
    store = Store(url)
    cycle = 0
    try:
        while not stop.is_set():
            cycle += 1
            began = time.monotonic()
            added = 0
            for document in new_documents(cycle, batch):
                store.add_document(document, signature=None, bands=[])
                added += 1
            command = [sys.executable, "-m", "civicwatch", "process", "--json", "--database", url]
            used = resource.getrusage(resource.RUSAGE_CHILDREN)
            ran = subprocess.run(command, capture_output=True, text=True, cwd=web.ROOT)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime
            try:
                summary = json.loads(ran.stdout)
            except json.JSONDecodeError:
                summary = {}
            out.put({"at": time.time(), "documents": added, "coded": summary.get("documents", 0),
                     "incidents": summary.get("incidents", 0), "new_events": summary.get("new_events", 0),
                     "seconds": round(time.monotonic() - began, 2), "process_cpu_seconds": round(cpu, 2),
                     "exit": ran.returncode,
                     "error": ran.stderr.strip()[-1500:] if ran.returncode else None})
            stop.wait(max(0.0, every - (time.monotonic() - began)))
    finally:
        store.close()


def writer_figures(cycles: list[dict[str, Any]], start: float, end: float) -> dict[str, Any]:
    """What the writer did between ``start`` and ``end`` (wall-clock times), per minute."""
    inside = [c for c in cycles if start <= c["at"] <= end]
    minutes = max((end - start) / 60, 1e-9)
    documents = sum(c["documents"] for c in inside)
    incidents = sum(c["incidents"] for c in inside)
    seconds = sorted(c["seconds"] for c in inside)
    return {"cycles": len(inside), "documents": documents, "incidents": incidents,
            "new_events": sum(c["new_events"] for c in inside),
            "documents_per_minute": round(documents / minutes, 1),
            "incidents_per_minute": round(incidents / minutes, 1),
            "cycle_seconds_median": seconds[len(seconds) // 2] if seconds else None,
            # How much of the 2 cores `process` took from the server (CPU seconds per wall-clock second).
            "process_cpu_share": round(sum(c["process_cpu_seconds"] for c in inside) / max(end - start, 1e-9), 2),
            "failed_cycles": sum(1 for c in inside if c["exit"] != 0),
            "errors": sorted({c["error"] for c in inside if c["error"]})[:5]}


# -- the addresses -------------------------------------------------------------------------------


def addresses(base: str, codes: list[str]) -> dict[str, list[str]]:
    """The addresses of each kind, cycling the 200 countries busiest first; cursors asked of the server."""
    pairs = [(code, kind) for code in codes for kind in LIST_TYPES]
    params = [f"country={code}&type={kind}" for code, kind in pairs]
    cursors = []
    with httpx.Client(base_url=base, timeout=120) as client:
        for query in params[: len(codes)]:
            following = client.get(f"/api/v1/incidents?{query}").json().get("next")
            if following:
                cursors.append(f"/api/v1/incidents?{query}&cursor={following}")
    words = list(SEARCH_WORDS)
    pairs_of_words = zip(words, words[1:], strict=False)
    searches = [f"/search?q={w}" for w in words] + [f"/search?q={a}+{b}" for a, b in pairs_of_words]
    return {"country": [f"/countries/{code}" for code in codes], "list": [f"/incidents?{p}" for p in params],
            "api": [f"/api/v1/incidents?{p}" for p in params], "api_cursor": cursors, "search": searches}


def mixed(urls: dict[str, list[str]]) -> list[str]:
    """Every kind in turn (an equal share each), each kind cycling through its own addresses."""
    longest = max(len(v) for v in urls.values())
    return [urls[kind][i % len(urls[kind])] for i in range(longest) for kind in urls if urls[kind]]


# -- measuring -----------------------------------------------------------------------------------

LOAD_SCRIPT = r"""
local urls = {%s}
local threads = {}
n = 0
hits = 0
bad = 0  -- answers outside 2xx (wrk's own status count only has >= 400)
wrk.headers["Accept-Encoding"] = "gzip"  -- as every browser and HTTP library sends it
setup = function(thread)
  thread:set("offset", #threads * 997)
  table.insert(threads, thread)
end
request = function()
  n = n + 1
  return wrk.format("GET", urls[((n + offset) %% #urls) + 1])
end
response = function(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
  -- "hit", or "stale" (sent from memory while it is rendered again in the background)
  local cached = headers["x-civicwatch-cache"] or headers["X-Civicwatch-Cache"]
  if cached == "hit" or cached == "stale" then hits = hits + 1 end
end
done = function(summary, latency, requests)
  local total_hits, total_bad = 0, 0
  for _, thread in ipairs(threads) do
    total_hits = total_hits + thread:get("hits")
    total_bad = total_bad + thread:get("bad")
  end
  local e = summary.errors
  io.write(string.format("CIVICWATCH %%d %%d %%d %%d %%d %%d %%d %%d %%.3f %%.3f %%.3f %%.3f\n",
    summary.requests, e.connect, e.read, e.write, e.timeout, e.status, total_bad, total_hits,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
"""


def run_wrk(base: str, urls: list[str], clients: int, seconds: float, tmp: Path) -> dict[str, Any]:
    """``clients`` connections of wrk for ``seconds`` over ``urls``; its counts and percentiles."""
    script = tmp / "load.lua"
    script.write_text(LOAD_SCRIPT % ", ".join(json.dumps(u) for u in urls), encoding="utf-8")
    command = [web.WRK, "-t2", f"-c{clients}", f"-d{seconds:.0f}s", "--timeout", f"{WRK_TIMEOUT_S}s",
               "-s", str(script), base + "/"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("CIVICWATCH "))
    values = line.split()[1:]
    requests, connect, read, write, timeout, status, bad, hits = (int(v) for v in values[:8])
    p50, p95, p99, top = (round(float(v), 1) for v in values[8:])
    return {"requests": requests, "per_second": round(requests / seconds, 1),
            "errors": {"connect": connect, "read": read, "write": write, "timeout": timeout, "non_2xx": bad},
            "error_total": connect + read + write + timeout + bad, "cache_hits": hits,
            "cache_hit_share": round(hits / requests, 3) if requests else None,
            "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "max_ms": top}


class SideClient(threading.Thread):
    """One request at a time, the kinds in turn, about ``rate`` a second: latency per kind under the load."""

    def __init__(self, base: str, urls: dict[str, list[str]], rate: float) -> None:
        super().__init__(name="side-client", daemon=True)
        self.base, self.urls, self.pause = base, urls, 1 / rate
        self.samples: list[tuple[str, float, int, bool]] = []  # kind, ms, status (0: no answer), cache hit
        self.stop = threading.Event()

    def run(self) -> None:
        kinds = [k for k in self.urls if self.urls[k]]
        turn = 0
        with httpx.Client(base_url=self.base, timeout=WRK_TIMEOUT_S) as client:
            while not self.stop.is_set():
                kind = kinds[turn % len(kinds)]
                url = self.urls[kind][(turn // len(kinds) * 7) % len(self.urls[kind])]
                turn += 1
                start = time.perf_counter()
                try:
                    response = client.get(url)
                    status = response.status_code
                    hit = response.headers.get("x-civicwatch-cache") in ("hit", "stale")
                except httpx.HTTPError:
                    status, hit = 0, False
                self.samples.append((kind, (time.perf_counter() - start) * 1000, status, hit))
                self.stop.wait(self.pause)


def per_kind(samples: list[tuple[str, float, int, bool]]) -> dict[str, dict[str, Any]]:
    figures: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        mine = [s for s in samples if s[0] == kind]
        times = [s[1] for s in mine]
        if not times:
            continue
        figures[kind] = {"n": len(times), "errors": sum(1 for s in mine if not 200 <= s[2] <= 299),
                         "cache_hit_share": round(sum(1 for s in mine if s[3]) / len(mine), 3),
                         **{f"p{p}_ms": round(web.percentile(times, p), 1) for p in (50, 95, 99)},
                         "goal_ms": GOALS[kind]}
    return figures


def rss_kib(pid: int) -> int:
    """The resident memory of ``pid`` and its descendants (uvicorn's workers), in KiB."""
    total = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:  # gone in between
        return total
    return total + sum(rss_kib(int(child)) for child in children)


class MemoryWatch(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(name="rss", daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, int]] = []  # (wall-clock time, KiB)
        self.stop = threading.Event()

    def run(self) -> None:
        while True:
            self.samples.append((time.time(), rss_kib(self.pid)))
            if self.stop.wait(RSS_EVERY_S):
                return


def memory_figures(samples: list[tuple[float, int]], start: float, end: float) -> dict[str, Any]:
    inside = [kib for at, kib in samples if start <= at <= end + 1]
    if not inside:
        return {}
    first, middle, last = inside[0], inside[len(inside) // 2], inside[-1]
    growth = (last - first) / first if first else 0.0
    return {"start_mib": round(first / 1024, 1), "middle_mib": round(middle / 1024, 1),
            "end_mib": round(last / 1024, 1), "max_mib": round(max(inside) / 1024, 1),
            "growth": round(growth, 3), "flat": growth < FLAT, "samples": len(inside)}


def phase(base: str, urls: dict[str, list[str]], clients: int, seconds: float, rate: float, tmp: Path,
          memory: MemoryWatch, cycles: list[dict[str, Any]]) -> dict[str, Any]:
    """One load phase: wrk at ``clients`` with the side client alongside."""
    side = SideClient(base, urls, rate)
    start = time.time()
    side.start()
    try:
        load = run_wrk(base, mixed(urls), clients, seconds, tmp)
    finally:
        side.stop.set()
        side.join()
    end = time.time()
    return {"clients": clients, "seconds": round(end - start, 1), "wrk": load, "kinds": per_kind(side.samples),
            "side_client_errors": sum(1 for s in side.samples if not 200 <= s[2] <= 299),
            "memory": memory_figures(memory.samples, start, end), "start": start, "end": end}


# -- reporting -----------------------------------------------------------------------------------


def verdicts(phase_result: dict[str, Any]) -> list[str]:
    """The goals of issue #9 part 4 for one phase, each met or missed, in words."""
    errors = phase_result["wrk"]["error_total"] + phase_result["side_client_errors"]
    lines = [f"errors: {errors} — " + ("met" if errors == 0 else "**missed**")]
    for kind, row in phase_result["kinds"].items():
        state = web.verdict(row["p95_ms"], row["goal_ms"])
        lines.append(f"{kind} p95 {row['p95_ms']} ms < {row['goal_ms']:.0f} ms — {state}")
    memory = phase_result["memory"]
    if memory:
        lines.append(f"memory {memory['start_mib']} → {memory['end_mib']} MiB ({memory['growth']:+.1%}) — "
                     + ("flat: met" if memory["flat"] else "**grew: missed**"))
    return lines


def markdown(result: dict[str, Any]) -> str:
    data, host, writer = result["database"], result["machine"], result["writer"]
    minutes = result["minutes"]
    lines = [
        SECTION,
        "",
        f"    .venv/bin/python benchmarks/load.py --minutes {minutes:g}"
        + ("" if data["path"] == str(web.CACHE / "web-1000000.db") else f" --database {data['path']}"),
        "",
        f"`benchmarks/load.py` on a copy of the generated database of `benchmarks/web.py`: {data['incidents']:,} "
        f"incidents in {data['documents']:,} documents (generator {data['generator']}, **generated from templates "
        "with invented names**), marked as coded by the current coder so that `process` codes only what is new.",
        f"`civicwatch serve` ({result['workers']} uvicorn process{'es' if result['workers'] > 1 else ''}, page "
        f"cache {result['cache_mb']} MB, publish lag as `serve` has it) on 127.0.0.1. Meanwhile a writer adds "
        f"{result['batch']} generated documents every {result['write_every']:g} s and runs `civicwatch process` "
        "(the real coder, then connect) as a subprocess.",
        f"Load: `wrk` (2 threads, keep-alive, `Accept-Encoding: gzip`) for {minutes:g} min at each of "
        f"{', '.join(str(p['clients']) for p in result['phases'])} connections, cycling through "
        f"{result['distinct_addresses']:,} distinct addresses, an equal share of each kind: "
        f"{'; '.join(KINDS.values())}. "
        "wrk gives the totals and its percentiles over all requests; the latency per kind comes from a side "
        f"client (one Python thread, one request at a time, kinds in turn, about {result['sample_rate']:g}/s) "
        "queued behind wrk's connections like any visitor. A request over "
        f"{WRK_TIMEOUT_S} s counts as an error. RSS: `VmRSS` of the server every {RSS_EVERY_S:.0f} s (after a "
        f"{WARM_UP_S:.0f} s warm-up).",
        f"Machine: {host['cores']} cores ({host['cpu']}), {host['memory_gib']} GiB, Python {host['python']}, SQLite "
        f"{host['sqlite']}; load average at the end {', '.join(f'{x:.1f}' for x in result['load_average'])}.",
        "",
    ]
    if result.get("note"):
        lines += [result["note"], ""]
    lines += ["| connections | requests (per s) | errors | cache hits | wrk p50 | p95 | p99 | max | RSS start / "
              "middle / end | writer: documents, incidents per min |", "|---|---|---|---|---|---|---|---|---|---|"]
    for p in result["phases"]:
        w, m, wr = p["wrk"], p["memory"], p["writer"]
        errors = w["error_total"] + p["side_client_errors"]
        lines.append(f"| {p['clients']} | {w['requests']:,} ({w['per_second']:,}) | {errors} | "
                     f"{w['cache_hit_share']:.0%} | {w['p50_ms']} ms | {w['p95_ms']} ms | {w['p99_ms']} ms | "
                     f"{w['max_ms']} ms | {m.get('start_mib')} / {m.get('middle_mib')} / {m.get('end_mib')} MiB | "
                     f"{wr['documents_per_minute']}, {wr['incidents_per_minute']} |")
    lines += ["", "Per kind (side client):", "",
              "| connections | kind | samples | p50 | p95 | p99 | cache hits | goal (p95) |",
              "|---|---|---|---|---|---|---|---|"]
    for p in result["phases"]:
        for kind, row in p["kinds"].items():
            lines.append(f"| {p['clients']} | {KINDS[kind]} | {row['n']} | {row['p50_ms']} ms | {row['p95_ms']} ms | "
                         f"{row['p99_ms']} ms | {row['cache_hit_share']:.0%} | < {row['goal_ms']:.0f} ms: "
                         f"{web.verdict(row['p95_ms'], row['goal_ms'])} |")
    bare = result.get("bare_fts")
    if bare:
        lines += ["", "Bare FTS5 (`MATCH ... ORDER BY bm25 LIMIT 20` through sqlite3, idle, before the load): "
                  + "; ".join(f"`{r['match']}` p95 {r['p95_ms']} ms" for r in bare.values()) + "."]
    lines += ["", f"Writer over the whole run: {writer['cycles']} cycles, {writer['documents']:,} documents, "
              f"{writer['incidents']:,} incidents, {writer['new_events']:,} new events; a cycle (add, then "
              f"`process`) took {writer['cycle_seconds_median']} s (median), `process` used "
              f"{writer['process_cpu_share']:.0%} of a core; {writer['failed_cycles']} failed"
              + (f" ({'; '.join(writer['errors'])})" if writer["errors"] else "") + ".", "", "Verdict:", ""]
    for p in result["phases"]:
        lines.append(f"- {p['clients']} connections: " + "; ".join(verdicts(p)) + ".")
    return "\n".join(lines) + "\n"


def write_section(section: str, heading: str = SECTION) -> None:
    """Replace (or add) the ``heading`` section of docs/reliability.md, up to the next "## " heading."""
    text = DOC.read_text(encoding="utf-8") if DOC.is_file() else "# Reliability\n"
    head, found, tail = text.partition(f"\n{heading}\n")
    rest = ""
    if found:
        after = tail.find("\n## ")
        rest = tail[after:] if after >= 0 else ""
    DOC.write_text(head.rstrip("\n") + "\n\n" + section + rest, encoding="utf-8")


# -- the run -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10, help="minutes of load per phase (default 10)")
    parser.add_argument("--clients", default="32,128", help="connections per phase, in order (default 32,128)")
    parser.add_argument("--database", type=Path, default=web.CACHE / "web-1000000.db",
                        help="a database generated by benchmarks/web.py (default the 1M-incident one)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    parser.add_argument("--cache-mb", type=int, default=32, help="page cache per server process (default 32)")
    parser.add_argument("--batch", type=int, default=25, help="documents the writer adds per cycle (default 25)")
    parser.add_argument("--write-every", type=float, default=5, help="seconds between writer cycles (default 5)")
    parser.add_argument("--sample-rate", type=float, default=5, help="side-client requests a second (default 5)")
    parser.add_argument("--note", default="", help="a sentence to print above the figures (e.g. a shortened run)")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/reliability.md")
    args = parser.parse_args()
    try:
        connections = [int(part) for part in args.clients.split(",")]
    except ValueError:
        parser.error(f"--clients {args.clients!r}: give numbers separated by commas, e.g. 32,128")
    meta_path = args.database.with_suffix(".json")
    if not args.database.is_file() or not meta_path.is_file():
        parser.error(f"--database {args.database}: no such generated database (build it with benchmarks/web.py)")
    if not Path(web.WRK).is_file():
        parser.error(f"{web.WRK} not found: apt-get install wrk")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))

    tmp = Path(tempfile.mkdtemp(prefix="civicwatch-load-"))
    try:
        return run(args, connections, meta, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, connections: list[int], meta: dict[str, Any], tmp: Path) -> int:
    print(f"Copying {args.database} ({meta['incidents']:,} incidents) ...", flush=True)
    path = working_copy(args.database, tmp)
    bare = {name: {"match": web.fts5_query(q), **web.figures(web.bare_fts(path, q, 200))}
            for name, q in (("one word", web.SEARCH_ONE), ("two words", web.SEARCH_TWO))}
    port = web.free_port()
    server = web.start_server(path, port, args.workers, cache_mb=args.cache_mb)
    base = f"http://127.0.0.1:{port}"
    context = multiprocessing.get_context("spawn")
    stop, out = context.Event(), context.Queue()
    writer = context.Process(target=write_loop, args=(str(path), args.batch, args.write_every, stop, out),
                             name="writer")
    memory = MemoryWatch(server.pid)
    cycles: list[dict[str, Any]] = []
    phases = []
    try:
        urls = addresses(base, web.countries())
        print(f"{sum(len(v) for v in urls.values()):,} addresses; writer and warm-up ...", flush=True)
        writer.start()
        memory.start()
        run_wrk(base, mixed(urls), connections[0], WARM_UP_S, tmp)
        began = time.time()
        for clients in connections:
            result = phase(base, urls, clients, args.minutes * 60, args.sample_rate, tmp, memory, cycles)
            phases.append(result)
            w = result["wrk"]
            print(f"  {clients} connections: {w['requests']:,} requests, {w['error_total']} errors, "
                  f"p50 {w['p50_ms']} p95 {w['p95_ms']} p99 {w['p99_ms']} ms, cache hits {w['cache_hit_share']}",
                  flush=True)
        ended = time.time()
    finally:
        stop.set()
        memory.stop.set()
        # Read the reports while the writer finishes its cycle: a child with unread queue data never exits.
        deadline = time.monotonic() + 300
        while (writer.is_alive() or not out.empty()) and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                cycles.append(out.get(timeout=1))
        if writer.is_alive():
            writer.terminate()
        web.stop_server(server)
    for result in phases:
        result["writer"] = writer_figures(cycles, result["start"], result["end"])
    result_all = {
        "database": meta | {"generated_from_templates": True, "path": str(args.database)},
        "machine": web.machine(), "load_average": os.getloadavg(), "minutes": args.minutes,
        "workers": args.workers, "cache_mb": args.cache_mb, "batch": args.batch, "write_every": args.write_every,
        "sample_rate": args.sample_rate, "distinct_addresses": sum(len(v) for v in urls.values()), "note": args.note,
        "latency_per_kind": "side client (one Python thread, one request at a time) alongside wrk",
        "bare_fts": bare, "phases": phases, "writer": writer_figures(cycles, began, ended),
        "rss_samples": [(round(at - began, 1), kib) for at, kib in memory.samples],
    }
    web.publish(RESULTS, result_all, markdown(result_all), None if args.no_doc else write_section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
