"""Bulk coding on Dask: wall time, CPU time and peak memory per worker, against plain ``civicwatch code``.

Run: ``.venv/bin/python benchmarks/bulk.py [--sizes 10k,100k,1M] [--runs 1,2,plain]`` (default 10k,100k and
all three runs)

The archives are GENERATED: fictional template reports (invented names, real country and place names)
each joined to a real-text fragment read at run time from the development set
(``../shared/devset/devset.jsonl``, never copied into the repository). They are written once to the
git-ignored ``benchmarks/.cache/bulk/`` and reused. For each size the same file is coded by
``civicwatch bulk code`` on a LocalCluster of 1 and then 2 workers, and by ``civicwatch code`` in one
process.

The machine is shared, so wall time alone cannot show scaling or overhead. Each run also records the CPU
time (user + sys) it used: every partition reports its own ``time.process_time()`` and its worker's
``getrusage``; each bulk run goes in a fresh process, whose whole CPU is its own (the client, the
scheduler and the nannies) plus that of the processes it started (the forkserver that builds the coder
and forks the workers, with the workers it reaped); plain ``civicwatch code`` from ``wait4``, with its
start (imports, coder) measured on a one-document file. The load average is
sampled every 5 s during each run. Results go to ``benchmarks/results/bulk.json`` (other sizes or runs than
the default: ``bulk-<sizes>-<runs>.json``). ``--paired`` measures the per-document overhead alone: one
partition coded alternately by the bulk task and by plain ``code``'s loop in one process
(``bulk-paired.json``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

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


class LoadSampler:
    """The 1-minute load average every 5 s while a run goes on (the machine is shared)."""

    def __init__(self) -> None:
        self.samples: list[float] = [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(5):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])

    def figures(self) -> dict[str, float]:
        """First, mean and last sample."""
        return {"before": round(self.samples[0], 2), "mean": round(sum(self.samples) / len(self.samples), 2),
                "after": round(self.samples[-1], 2)}


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def bulk(path: Path, workers: int) -> dict[str, object]:
    """Code ``path`` with ``workers`` local workers in a fresh process of its own (so that each run pays
    for its own cluster, forkserver and coder), while sampling the load average."""
    with LoadSampler() as load:
        done = subprocess.run([sys.executable, __file__, "--one-run", str(path), str(workers)],
                              capture_output=True, check=False)
    if done.returncode != 0:
        sys.exit(f"bulk run with {workers} workers failed: {done.stderr.decode(errors='replace')[-2000:]}")
    figure: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    figure["loadavg_1min"] = load.figures()
    return figure


def one_run(path: Path, workers: int) -> dict[str, object]:
    """One bulk run in this process: wall and CPU time, the time before the first document, and each
    worker's CPU and peak RSS."""
    import psutil

    out = CACHE / f"out-{path.stem}-{workers}"
    shutil.rmtree(out, ignore_errors=True)
    began = time.time()
    summary = run([path], out, workers=workers, partition_size=5000)
    own_cpu = _cpu(resource.getrusage(resource.RUSAGE_SELF))
    reaped = _cpu(resource.getrusage(resource.RUSAGE_CHILDREN))
    # The workers are forked by multiprocessing's forkserver, which lives until this process ends: its
    # CPU (imports, building the coder) and its reaped children's (the workers, closed with the cluster).
    live = sum(sum(child.cpu_times()[:4]) for child in psutil.Process().children())
    records = list(manifest.finished(out).values())
    shutil.rmtree(out)
    per_worker: dict[int, dict[str, float]] = {}
    for record in records:
        worker = per_worker.setdefault(int(record["worker_pid"]), {"partitions": 0, "task_cpu_seconds": 0.0})
        worker["partitions"] += 1
        worker["task_cpu_seconds"] = round(worker["task_cpu_seconds"] + record["cpu_seconds"], 3)
        worker["coder_seconds"] = max(worker.get("coder_seconds", 0.0), record["coder_seconds"])
        worker["cpu_seconds_at_last_partition"] = max(worker.get("cpu_seconds_at_last_partition", 0.0),
                                                      record["worker_cpu_seconds"])
        worker["peak_rss_mb"] = max(worker.get("peak_rss_mb", 0.0), record["worker_max_rss_mb"])
    first = min(r["started_at"] for r in records)
    steady = max(r["finished_at"] for r in records) - first
    task_cpu = sum(r["cpu_seconds"] for r in records)
    thread_cpu = sum(r["thread_cpu_seconds"] for r in records)
    return {
        "workers": workers, "documents": summary.documents, "partitions": len(records),
        "seconds": summary.seconds, "docs_per_second": round(summary.documents / summary.seconds, 1),
        "planning_seconds": summary.planning_seconds, "cluster_seconds": summary.cluster_seconds,
        # Planning, cluster start, a worker's start and its coder: everything before the first document.
        "seconds_before_first_document": round(first - began, 3),
        "steady_seconds": round(steady, 3), "steady_docs_per_second": round(summary.documents / steady, 1),
        "cpu_seconds": {"partitions": round(task_cpu, 3), "partitions_coding_thread": round(thread_cpu, 3),
                        "other_processes": round(reaped + live, 3),
                        "client_scheduler_nannies": round(own_cpu, 3), "total": round(own_cpu + reaped + live, 3)},
        "per_worker": list(per_worker.values()),
        "peak_rss_mb_per_worker": sorted(w["peak_rss_mb"] for w in per_worker.values()),
    }


def plain(path: Path) -> dict[str, object]:
    """``civicwatch code`` in one process on the same file: wall and CPU time (start and coder included)."""
    target = CACHE / "plain.jsonl"
    with LoadSampler() as load:
        started = time.perf_counter()
        with open(target, "wb") as sink:
            proc = subprocess.Popen([sys.executable, "-m", "civicwatch", "code", str(path)], stdout=sink,
                                    stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)  # wait4: the child's own CPU time and peak RSS
        seconds = time.perf_counter() - started
    with open(target, "rb") as produced:
        documents = sum(1 for _ in produced)
    target.unlink()
    return {"workers": "civicwatch code", "documents": documents, "seconds": round(seconds, 3),
            "docs_per_second": round(documents / seconds, 1), "cpu_seconds": {"total": round(_cpu(usage), 3)},
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "exit_status": os.waitstatus_to_exitcode(status),
            "loadavg_1min": load.figures()}


def plain_start(path: Path) -> float:
    """CPU seconds of ``civicwatch code`` on a one-document file: its start, the coder, one document.

    The least of two runs: what a run costs before its documents, free of a neighbour's cache misses."""
    one = CACHE / "one-document.jsonl"
    with open(path, "rb") as source:
        one.write_bytes(source.readline())
    spent = []
    for _ in range(2):
        proc = subprocess.Popen([sys.executable, "-m", "civicwatch", "code", str(one)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        spent.append(_cpu(os.wait4(proc.pid, 0)[2]))
    return round(min(spent), 3)


def paired(path: Path, rounds: int = 3) -> dict[str, object]:
    """CPU per document of one 5,000-document partition coded in this process by the bulk task and by plain
    ``civicwatch code``'s loop (``code_lines`` and its JSON output), alternately, with the same coder.

    Alternating in one process, both sides meet the same neighbours: on a shared machine this is the
    steadiest figure of the per-document overhead (cluster and process starts left out)."""
    import civicwatch.bulk.run as bulk_run
    from civicwatch.bulk import archive
    from civicwatch.code.jsonl import bounded_lines, code_lines

    out = CACHE / "out-paired"
    shutil.rmtree(out, ignore_errors=True)
    partition = archive.plan([path], 5000)[0]
    manifest.prepare(out, [path], [partition], 5000, CODER_VERSION)
    bulk_run.prepare_worker()
    coder = bulk_run._coder

    def plain_partition() -> float:
        # What the CLI's loop does, writing to /dev/null: read, validate, code, JSON out.
        started = time.process_time()
        with open(path, "rb") as source, open(os.devnull, "w", encoding="utf-8") as sink:
            lines = itertools.islice(bounded_lines(source), partition.count)
            for result in code_lines(lines, coder, input=str(path)):
                if isinstance(result, dict):
                    sink.write(json.dumps(result, ensure_ascii=False) + "\n")
        return time.process_time() - started

    bulk_run.code_partition(partition, str(out), CODER_VERSION)  # not counted: imports pyarrow.parquet, warms up
    ratios, plain_cpu, bulk_cpu = [], [], []
    for _ in range(rounds):
        plain_cpu.append(plain_partition())
        bulk_cpu.append(bulk_run.code_partition(partition, str(out), CODER_VERSION)["cpu_seconds"])
        ratios.append(bulk_cpu[-1] / plain_cpu[-1])
    shutil.rmtree(out)
    return {"documents": partition.count, "plain_cpu_seconds": [round(c, 3) for c in plain_cpu],
            "bulk_cpu_seconds": bulk_cpu, "ratios": [round(r, 3) for r in ratios],
            "median_ratio": round(sorted(ratios)[len(ratios) // 2], 3)}


def compare(figures: dict[str, dict[str, Any]], start_cpu: float) -> dict[str, object]:
    """Overhead (CPU per document, bulk vs plain) and scaling (wall and CPU, 2 vs 1 worker) for one size."""
    out: dict[str, object] = {}
    one, two, single = figures.get("1"), figures.get("2"), figures.get("plain")
    if single is not None:
        docs = single["documents"]
        plain_cpu = single["cpu_seconds"]["total"]
        steady = (plain_cpu - start_cpu) / (docs - 1)
        out["plain_cpu_ms_per_document"] = {"whole": round(1000 * plain_cpu / docs, 4),
                                            "after_start": round(1000 * steady, 4)}
        for name, run_ in (("1 worker", one), ("2 workers", two)):
            if run_ is None:
                continue
            cpu = run_["cpu_seconds"]
            out[f"overhead {name}"] = {
                # The partitions' own CPU per document against plain code's, its start taken off.
                "partitions_vs_plain_after_start": round(cpu["partitions"] / run_["documents"] / steady, 3),
                # Every process of the run (cluster, workers' start and coder) against all of plain code's.
                "whole_run_vs_whole_plain": round(cpu["total"] / run_["documents"] / (plain_cpu / docs), 3),
            }
    if one is not None and two is not None:
        out["parallel_efficiency_wall"] = round(one["seconds"] / (2 * two["seconds"]), 3)
        out["parallel_efficiency_steady_wall"] = round(one["steady_seconds"] / (2 * two["steady_seconds"]), 3)
        out["loadavg_mean_1_worker_2_workers"] = [one["loadavg_1min"]["mean"], two["loadavg_1min"]["mean"]]
        # Equal CPU for the same documents means the work divides; the wall time then depends on free cores.
        out["cpu_2_workers_vs_1"] = {
            "total": round(two["cpu_seconds"]["total"] / one["cpu_seconds"]["total"], 3),
            "partitions": round(two["cpu_seconds"]["partitions"] / one["cpu_seconds"]["partitions"], 3)}
    return out


def main() -> None:
    """Generate (or reuse) the archives, measure, print and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k", help="comma-separated: 10k, 100k, 1M")
    parser.add_argument("--runs", default="1,2,plain", help="comma-separated: 1 and 2 (workers), plain")
    parser.add_argument("--paired", action="store_true",
                        help="only the in-process paired measure of per-document overhead (bulk-paired.json)")
    parser.add_argument("--one-run", nargs=2, metavar=("ARCHIVE", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_run:
        print(json.dumps(one_run(Path(args.one_run[0]), int(args.one_run[1]))))
        return
    if args.paired:
        CACHE.mkdir(parents=True, exist_ok=True)
        generate(CACHE / "generated-10k.jsonl", SIZES["10k"])
        with LoadSampler() as load:
            figure = paired(CACHE / "generated-10k.jsonl")
        figure["loadavg_1min"] = load.figures()
        print(json.dumps(figure))
        RESULTS.with_name("bulk-paired.json").write_text(json.dumps(figure, indent=1) + "\n", encoding="utf-8")
        return
    sizes = [s.strip() for s in args.sizes.split(",")]
    runs_wanted = [r.strip() for r in args.runs.split(",")]
    unknown = [s for s in sizes if s not in SIZES] + [r for r in runs_wanted if r not in ("1", "2", "plain")]
    if unknown:
        parser.error(f"unknown size or run {unknown[0]}; sizes: {', '.join(SIZES)}; runs: 1, 2, plain")
    CACHE.mkdir(parents=True, exist_ok=True)
    default = args.sizes == "10k,100k" and args.runs == "1,2,plain"
    target = RESULTS if default else RESULTS.with_name(f"bulk-{'-'.join(sizes)}-{'-'.join(runs_wanted)}.json")
    runs: list[dict[str, object]] = []
    comparisons: dict[str, object] = {}
    results: dict[str, object] = {
        "coder_version": CODER_VERSION, "cpus": os.cpu_count(), "python": platform.python_version(),
        "archives": "generated: fictional templates + real devset fragments", "partition_size": 5000,
        "note": "bulk seconds include planning and starting the LocalCluster; the machine is shared "
                "(see loadavg_1min); CPU seconds are user + sys", "runs": runs, "comparisons": comparisons,
    }
    start_cpu = 0.0
    for size in sizes:
        path = CACHE / f"generated-{size}.jsonl"
        print(f"{size}: generating archive (templates + devset fragments) at {path}" if not path.exists()
              else f"{size}: reusing generated archive {path}", flush=True)
        generate(path, SIZES[size])
        if "plain" in runs_wanted and not start_cpu:
            start_cpu = plain_start(path)
            results["plain_start_cpu_seconds"] = start_cpu
        figures: dict[str, dict[str, Any]] = {}
        for wanted in runs_wanted:
            figure = plain(path) if wanted == "plain" else bulk(path, int(wanted))
            figure["size"] = size
            figures[wanted] = figure
            print(json.dumps(figure), flush=True)
            runs.append(figure)
        comparisons[size] = compare(figures, start_cpu)
        print(json.dumps({size: comparisons[size]}), flush=True)
        target.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")  # each size kept as it ends
    print(f"written to {target}")


if __name__ == "__main__":
    main()
