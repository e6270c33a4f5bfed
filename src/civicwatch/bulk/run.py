"""Coding an archive's partitions on a Dask cluster, with the same functions as ``civicwatch code``.

Each task codes one partition in a worker process: every line goes through ``civicwatch.code.jsonl``'s
validation and ``Coder.code`` exactly as ``code_document`` calls it, so the incidents equal those of
``civicwatch code`` document by document. A worker keeps one ``Coder``: on a local cluster the workers are
forked from a forkserver that built it (``preload``), on a remote one each builds it on its first partition.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from civicwatch.bulk import archive, manifest
from civicwatch.bulk.archive import Partition

INCIDENT_LISTS = ("types", "rights", "targets", "persons", "organisations", "perpetrators")
_coder: Any = None  # this worker process's Coder, built on its first task


@dataclass
class RunSummary:
    """What one ``bulk code`` run did; written to ``DIR/summary.json``."""

    coder_version: str
    partitions: int = 0
    partitions_skipped: int = 0  # finished by an earlier run: not redone
    partitions_coded: int = 0
    partitions_failed: list[dict[str, str]] = field(default_factory=list)
    documents: int = 0  # documents coded in this run
    incidents: int = 0
    bad_lines: int = 0
    seconds: float = 0.0
    planning_seconds: float = 0.0  # scanning the inputs for partition boundaries, checking the manifest
    cluster_seconds: float = 0.0  # starting the LocalCluster (or connecting to the scheduler)
    workers: int = 0
    scheduler: str = ""
    dashboard: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON."""
        out = asdict(self)
        out["documents_per_second"] = round(self.documents / self.seconds, 1) if self.seconds else None
        return out


def code_partition(partition: Partition, out: str, coder_version: str) -> dict[str, Any]:
    """Code one partition into its Parquet files and done marker; returns the done record.

    Runs in a worker. A line that is not a document is written to the failures file and the rest goes on.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from civicwatch.code.coder import CODER_VERSION
    from civicwatch.code.jsonl import MAX_LINE_BYTES, _document
    from civicwatch.collect.dedupe import content_hash
    from civicwatch.model import Failure

    global _coder
    if coder_version != CODER_VERSION:
        raise RuntimeError(f"worker has coder {CODER_VERSION}, the run needs {coder_version}: same civicwatch needed")
    loading = time.perf_counter()
    if _coder is None:  # not built by the forkserver (a remote cluster, or its preload failed)
        prepare_worker()
    coder_seconds = time.perf_counter() - loading
    cpu_started, thread_started = time.process_time(), time.thread_time()
    started_at = time.time()
    folder = Path(out)
    incidents: dict[str, list[Any]] = {name: [] for name in _INCIDENT_COLUMNS}
    documents: dict[str, list[Any]] = {name: [] for name in _DOCUMENT_COLUMNS}
    failures: list[str] = []
    started = time.perf_counter()  # the partition's own time, from its first line on
    for where, raw in archive.read(partition):
        if not raw.strip():
            continue
        if len(raw) > MAX_LINE_BYTES:
            failures.append(json.dumps({"input": where, "reason": "line over the size cap"}))
            continue
        document = _document(raw, where)
        if isinstance(document, Failure):
            failures.append(json.dumps({"input": document.input, "reason": document.reason}))
            continue
        text = str(document.get("text") or "")
        try:
            # What code_document does, keeping the Incident objects (offsets) rather than their JSON.
            found = _coder.code(text, document.get("published"), document.get("lang"))
        except Exception as exc:  # noqa: BLE001 - one document must never stop the partition; reported
            failures.append(json.dumps({"input": where, "reason": f"could not be coded ({type(exc).__name__}: {exc})"}))
            continue
        document_id = str(document["id"])
        documents["document_id"].append(document_id)
        documents["content_hash"].append(content_hash(text))
        documents["text"].append(text)
        for name in ("title", "url", "published", "lang"):
            value = document.get(name)
            documents[name].append(value if isinstance(value, str) else None)
        documents["incident_count"].append(len(found))
        for incident in found:
            incidents["document_id"].append(document_id)
            incidents["coder_version"].append(coder_version)
            for name in _INCIDENT_COLUMNS[2:]:
                value = getattr(incident, name)
                incidents[name].append(value)  # the incident's own lists: it is not used after this
    tables = (("incidents", incidents, _INCIDENT_SCHEMA), ("documents", documents, _DOCUMENT_SCHEMA))
    for name, columns, schema in tables:
        pq.write_table(pa.table(columns, schema=schema), _part(folder / name / f"{partition.key}.parquet"))
    for name in ("incidents", "documents"):
        target = folder / name / f"{partition.key}.parquet"
        target.with_name(target.name + ".part").replace(target)
    manifest.write_atomic(folder / "failures" / f"{partition.key}.jsonl", "".join(f + "\n" for f in failures).encode())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    record = {
        "key": partition.key,
        "documents": len(documents["document_id"]),
        "incidents": len(incidents["document_id"]),
        "bad_lines": len(failures),
        "seconds": round(time.perf_counter() - started, 3),
        "coder_seconds": round(coder_seconds, 3),  # building this worker's coder, on its first partition only
        "cpu_seconds": round(time.process_time() - cpu_started, 3),  # the worker's CPU (user + sys) meanwhile
        "thread_cpu_seconds": round(time.thread_time() - thread_started, 3),  # of that, the coding thread's
        "started_at": started_at,
        "finished_at": time.time(),
        "worker_pid": os.getpid(),
        "worker_cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),  # the worker's CPU so far, all included
        "worker_max_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux: kB
    }
    (folder / "failures" / f"{partition.key}.partition.json").unlink(missing_ok=True)  # an earlier failure, now redone
    manifest.write_atomic(folder / "done" / f"{partition.key}.json", json.dumps(record).encode())
    return record


def prepare_worker() -> None:
    """Build this process's coder (once) and freeze it out of the garbage collector.

    The coder's lexicons and gazetteers live as long as the worker: frozen, the collector no longer walks
    their ~300k objects on every full collection (plain ``code`` barely collects at all; a worker, holding
    a partition's columns, collects about once per 50 documents).
    """
    from civicwatch.code.coder import Coder

    global _coder
    if _coder is None:
        _coder = Coder()
        gc.freeze()


def _part(path: Path) -> str:
    return str(path.with_name(path.name + ".part"))


def _schemas() -> tuple[Any, Any]:
    import pyarrow as pa

    strings = pa.list_(pa.string())
    incidents = pa.schema([
        ("document_id", pa.string()), ("coder_version", pa.string()), ("country", pa.string()),
        *((name, strings) for name in INCIDENT_LISTS),
        ("date", pa.string()), ("evidence", pa.string()), ("confidence", pa.float64()),
        ("evidence_start", pa.int64()), ("evidence_end", pa.int64()),
    ])
    documents = pa.schema([
        ("document_id", pa.string()), ("content_hash", pa.string()), ("text", pa.string()),
        ("title", pa.string()), ("url", pa.string()), ("published", pa.string()), ("lang", pa.string()),
        ("incident_count", pa.int64()),
    ])
    return incidents, documents


_INCIDENT_SCHEMA, _DOCUMENT_SCHEMA = _schemas()
_INCIDENT_COLUMNS = tuple(_INCIDENT_SCHEMA.names)
_DOCUMENT_COLUMNS = tuple(_DOCUMENT_SCHEMA.names)

Progress = Callable[[int], None]  # called with the number of documents of each partition as it finishes


def run(
    inputs: list[Path],
    out: Path,
    *,
    scheduler: str = "local",
    workers: int = 2,
    partition_size: int = archive.DEFAULT_PARTITION,
    on_start: Callable[[RunSummary, int], None] | None = None,
    on_partition: Progress | None = None,
    on_failure: Callable[[str, str], None] | None = None,
) -> RunSummary:
    """Code ``inputs`` into ``out`` on Dask; resumes a killed run in the same ``out``.

    ``scheduler`` is "local" (a LocalCluster of ``workers`` single-threaded processes: the coder is
    pure Python, threads would share one GIL) or a scheduler address used as is. ``on_start`` gets the
    summary (with the dashboard link) and the number of documents still to code. A partition that fails
    as a whole (unreadable file, a worker that dies) is reported and skipped; it is redone on the next run.
    """
    from distributed import Client, as_completed

    from civicwatch.code.coder import CODER_VERSION
    from civicwatch.errors import UsageError

    if workers < 1:
        raise UsageError(f"--workers {workers}", "must be at least 1")
    started = time.perf_counter()
    partitions = archive.plan(inputs, partition_size)
    manifest.prepare(out, inputs, partitions, partition_size, CODER_VERSION)
    done = manifest.finished(out)
    todo = [p for p in partitions if p.key not in done]
    summary = RunSummary(CODER_VERSION, partitions=len(partitions), partitions_skipped=len(partitions) - len(todo))
    summary.planning_seconds = round(time.perf_counter() - started, 3)
    cluster = None
    if scheduler == "local":
        cluster = _local_cluster(workers)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout=10)
        except OSError as exc:
            raise UsageError(scheduler, f"no Dask scheduler answers there ({exc})") from None
    try:
        summary.cluster_seconds = round(time.perf_counter() - started - summary.planning_seconds, 3)
        summary.scheduler = str(client.scheduler.address)
        summary.workers = len(client.scheduler_info().get("workers", {}))
        # A remote scheduler serves its own dashboard (if it has bokeh); ours needs bokeh here.
        summary.dashboard = client.dashboard_link if scheduler != "local" or _dashboard_served() else None
        if on_start is not None:
            on_start(summary, sum(p.count for p in todo))
        futures = {client.submit(code_partition, p, str(out), CODER_VERSION, key=f"code-{p.key}", pure=False,
                                 retries=0): p for p in todo}
        for future in as_completed(futures):
            partition = futures[future]
            try:
                record = future.result()
            except Exception as exc:  # noqa: BLE001 - a failed partition is reported and skipped, not fatal
                reason = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                summary.partitions_failed.append({"partition": partition.key, "input": partition.input,
                                                  "first": str(partition.first), "reason": reason})
                manifest.write_atomic(out / "failures" / f"{partition.key}.partition.json",
                                      json.dumps({"partition": partition.key, "reason": reason}).encode())
                if on_failure is not None:
                    on_failure(partition.key, reason)
                if on_partition is not None:
                    on_partition(partition.count)
                continue
            summary.partitions_coded += 1
            summary.documents += record["documents"]
            summary.incidents += record["incidents"]
            summary.bad_lines += record["bad_lines"]
            if on_partition is not None:
                on_partition(partition.count)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    summary.seconds = round(time.perf_counter() - started, 3)
    manifest.write_atomic(out / "summary.json", json.dumps(summary.to_json(), indent=1).encode())
    return summary


def _local_cluster(workers: int) -> Any:
    """A LocalCluster of ``workers`` single-threaded processes forked from a server that built the coder.

    Spawned (Dask's default), each worker would import everything and build its own coder: about 1.5 CPU
    seconds per worker before its first document, more than plain ``civicwatch code`` spends starting.
    """
    import dask
    from distributed import LocalCluster
    from distributed.utils import get_mp_context

    settings: dict[str, object] = {"distributed.worker.multiprocessing-method": "forkserver"}
    if not _dashboard_served():
        # Without a dashboard nobody sees the workers' statistical profiles (a stack sample every 10 ms,
        # taken in the worker while it codes) or the system monitor's samples: not worth their CPU. The
        # event loop's health tick (20 ms, in every process) and the worker's memory check (100 ms) need
        # not wake that often for partitions that take seconds. Together they took ~4 % of a worker's CPU
        # besides its coding thread's.
        settings |= {"distributed.worker.profile.enabled": False, "distributed.admin.system-monitor.interval": "10s",
                     "distributed.admin.tick.interval": "1s", "distributed.worker.memory.monitor-interval": "1s"}
    with dask.config.set(settings):
        # In place of Dask's preloads (distributed and its packages): ours imports what a worker needs.
        # Ignored once this process's forkserver runs (a second run): it then has the coder already.
        get_mp_context().set_forkserver_preload(["civicwatch.bulk.preload"])
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                            silence_logs=40)


def _dashboard_served() -> bool:
    # Dask serves its dashboard only when bokeh is installed; otherwise the link would lead nowhere.
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None
