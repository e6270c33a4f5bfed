"""Bulk coding on Dask: documents per second and peak memory per worker, against plain ``civicwatch code``.

Run: ``.venv/bin/python benchmarks/bulk.py [--sizes 10k,100k,1M]`` (default 10k,100k)

The archives are GENERATED: fictional template reports (invented names, real country and place names)
each joined to a real-text fragment read at run time from the development set
(``../shared/devset/devset.jsonl``, never copied into the repository). They are written once to the
git-ignored ``benchmarks/.cache/bulk/`` and reused. For each size the same file is coded by
``civicwatch bulk code`` on a LocalCluster of 1 and then 2 workers, and by ``civicwatch code`` in one
process; each figure is recorded with ``os.getloadavg()`` (the machine is shared). Results go to
``benchmarks/results/bulk.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from civicwatch.bulk import manifest
from civicwatch.bulk.run import run
from civicwatch.code.coder import CODER_VERSION

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT.parent / "shared" / "devset" / "devset.jsonl"
CACHE = ROOT / "benchmarks" / ".cache" / "bulk"
RESULTS = ROOT / "benchmarks" / "results" / "bulk.json"
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}

FIRST = ["Aigerim", "Tamsin", "Rauf", "Gunel", "Lamine", "Ricardo", "Mira", "Dana", "Omar", "Selin"]
LAST = ["Orlova", "Sadykova", "Kerimov", "Baptiste", "Novak", "Haddad", "Mensah", "Ilyin", "Torres", "Aydin"]
PLACES = [("Almaty", "Kazakhstan"), ("Bishkek", "Kyrgyzstan"), ("Baku", "Azerbaijan"), ("Dakar", "Senegal"),
          ("Managua", "Nicaragua"), ("Tbilisi", "Georgia"), ("Minsk", "Belarus"), ("Tunis", "Tunisia")]
TEMPLATES = [
    "On {day} {month} 2025 police in {city}, {country}, detained journalist {name} after she covered a protest.",
    "A court in {city} sentenced human rights defender {name} to {years} years in prison on {day} {month} 2025.",
    "The authorities of {country} refused to register the {name} Foundation, a group monitoring elections.",
    "On {day} {month} 2025 security forces in {city} dispersed a peaceful rally and beat several participants.",
    "Blogger {name} was fined in {city}, {country}, on {day} {month} 2025 for a post criticising the mayor.",
]
MONTHS = ["January", "March", "May", "June", "September", "November"]


def generate(path: Path, count: int) -> None:
    """Write ``count`` generated documents (template + a real devset fragment) to ``path``, once."""
    if path.exists():
        return
    fragments = [s for line in DEVSET.read_text(encoding="utf-8").splitlines()
                 for s in json.loads(line)["text"].split(". ") if len(s) > 40]
    rng = random.Random(count)
    part = path.with_name(path.name + ".part")
    with open(part, "w", encoding="utf-8") as fh:
        for n in range(count):
            city, country = rng.choice(PLACES)
            text = rng.choice(TEMPLATES).format(
                day=rng.randint(1, 28), month=rng.choice(MONTHS), city=city, country=country,
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)}", years=rng.randint(2, 9))
            text += " " + rng.choice(fragments).rstrip(".") + "."
            fh.write(json.dumps({"id": f"gen-{n}", "text": text, "lang": "en"}, ensure_ascii=False) + "\n")
    part.replace(path)


def bulk(path: Path, workers: int) -> dict[str, object]:
    """Code ``path`` with ``workers`` local workers; docs/s and each worker's peak RSS."""
    out = CACHE / f"out-{path.stem}-{workers}"
    shutil.rmtree(out, ignore_errors=True)
    load_before = os.getloadavg()
    summary = run([path], out, workers=workers, partition_size=5000)
    peaks: dict[int, float] = {}
    for record in manifest.finished(out).values():
        pid = int(record["worker_pid"])
        peaks[pid] = max(peaks.get(pid, 0.0), float(record["worker_max_rss_mb"]))
    shutil.rmtree(out)
    return {"workers": workers, "documents": summary.documents, "seconds": summary.seconds,
            "docs_per_second": round(summary.documents / summary.seconds, 1),
            "peak_rss_mb_per_worker": sorted(peaks.values()), "loadavg_before": load_before,
            "loadavg_after": os.getloadavg()}


def plain(path: Path) -> dict[str, object]:
    """``civicwatch code`` in one process on the same file (process start and coder loading included)."""
    target = CACHE / "plain.jsonl"
    load_before = os.getloadavg()
    started = time.perf_counter()
    with open(target, "wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "civicwatch", "code", str(path)], stdout=sink,
                                stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)  # wait4: the child's own peak RSS
    seconds = time.perf_counter() - started
    with open(target, "rb") as produced:
        documents = sum(1 for _ in produced)
    target.unlink()
    return {"workers": "civicwatch code", "documents": documents, "seconds": round(seconds, 3),
            "docs_per_second": round(documents / seconds, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "exit_status": os.waitstatus_to_exitcode(status), "loadavg_before": load_before,
            "loadavg_after": os.getloadavg()}


def main() -> None:
    """Generate (or reuse) the archives, measure, print and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k", help="comma-separated: 10k, 100k, 1M")
    sizes = [s.strip() for s in parser.parse_args().sizes.split(",")]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size {unknown[0]}; use {', '.join(SIZES)}")
    CACHE.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, object]] = []
    results: dict[str, object] = {
        "coder_version": CODER_VERSION, "cpus": os.cpu_count(), "python": platform.python_version(),
        "archives": "generated: fictional templates + real devset fragments", "partition_size": 5000,
        "note": "bulk seconds include starting the LocalCluster; the machine is shared (see loadavg)", "runs": runs,
    }
    for size in sizes:
        path = CACHE / f"generated-{size}.jsonl"
        print(f"{size}: generating archive (templates + devset fragments) at {path}" if not path.exists()
              else f"{size}: reusing generated archive {path}", flush=True)
        generate(path, SIZES[size])
        for figure in (bulk(path, 1), bulk(path, 2), plain(path)):
            figure["size"] = size
            print(json.dumps(figure), flush=True)
            runs.append(figure)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
