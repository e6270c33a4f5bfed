"""``civicwatch bulk code`` on a real LocalCluster: the same incidents as ``civicwatch code``, resumable.

The archive is the development set read from /work/shared at run time (never copied here), plus a line
that is not a document.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import zstandard

from civicwatch.bulk.run import RunSummary, run
from civicwatch.store import Store

DEVSET = Path("/work/shared/devset/devset.jsonl")
CLI = [sys.executable, "-m", "civicwatch"]
pytestmark = pytest.mark.skipif(not DEVSET.is_file(), reason="the shared development set is not here")


def archive(folder: Path, copies: int = 1) -> Path:
    """The devset's lines ``copies`` times (each copy with its own ids), then a bad line."""
    lines = DEVSET.read_bytes().splitlines()
    path = folder / "archive.jsonl"
    with open(path, "wb") as fh:
        for copy in range(copies):
            for line in lines:
                obj = json.loads(line)
                obj["id"] = f"{obj['id']}#{copy}"
                fh.write(json.dumps(obj, ensure_ascii=False).encode() + b"\n")
        fh.write(b"{not json\n")
    return path



def incident_rows(folder: Path) -> list[tuple[str, str, int]]:
    """A bulk output's incidents as (document, evidence, where it starts), sorted."""
    table = pq.read_table(folder / "incidents")
    return sorted(zip(table.column("document_id").to_pylist(), table.column("evidence").to_pylist(),
                      table.column("evidence_start").to_pylist(), strict=True))

@pytest.fixture(scope="module")
def coded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, RunSummary]:
    """The archive, zstd-compressed, coded on two local workers in partitions of 40 documents."""
    folder = tmp_path_factory.mktemp("bulk")
    plain = archive(folder)
    packed = folder / "archive.jsonl.zst"
    packed.write_bytes(zstandard.ZstdCompressor().compress(plain.read_bytes()))
    summary = run([packed], folder / "out", workers=2, partition_size=40)
    return plain, folder / "out", summary


def test_bulk_coding_equals_civicwatch_code_document_by_document(coded: tuple[Path, Path, RunSummary]) -> None:
    plain, out, summary = coded
    single = subprocess.run([*CLI, "code", str(plain)], capture_output=True, check=False)
    expected = {str(json.loads(line)["id"]): json.loads(line)["incidents"] for line in single.stdout.splitlines()}

    rows = pq.read_table(out / "incidents").to_pylist()
    found: dict[str, list[dict[str, object]]] = {key: [] for key in expected}
    fields = ("country", "types", "rights", "targets", "persons", "organisations", "perpetrators", "date",
              "evidence", "confidence")
    for row in rows:
        found[row["document_id"]].append({name: row[name] for name in fields})

    assert summary.workers == 2 and summary.partitions == 4 and summary.documents == len(expected) == 132
    assert found == expected
    assert {row["coder_version"] for row in rows} == {summary.coder_version}
    assert summary.bad_lines == 1 and single.returncode == 1
    assert json.loads((out / "summary.json").read_text())["incidents"] == len(rows)


def test_a_bad_line_is_reported_with_its_line_number_and_skipped(coded: tuple[Path, Path, RunSummary]) -> None:
    _, out, _ = coded
    failures = [json.loads(line) for f in (out / "failures").glob("*.jsonl") for line in f.read_text().splitlines()]

    assert failures == [{"input": failures[0]["input"], "reason": "not valid JSON (Expecting property name "
                                                                   "enclosed in double quotes at column 2)"}]
    assert failures[0]["input"].endswith("archive.jsonl.zst:133")


def test_a_partition_that_cannot_be_read_is_reported_and_skipped_then_redone(tmp_path: Path) -> None:
    source = archive(tmp_path)
    packed = tmp_path / "archive.jsonl.gz"
    packed.write_bytes(gzip.compress(source.read_bytes()))
    whole = packed.read_bytes()

    def cut_the_archive_short(summary: RunSummary, todo: int) -> None:
        # The file changes under the run: its last partitions no longer exist.
        packed.write_bytes(gzip.compress(b"\n".join(source.read_bytes().splitlines()[:60]) + b"\n"))

    first = run([packed], tmp_path / "out", workers=1, partition_size=50, on_start=cut_the_archive_short)
    assert first.partitions_coded == 1 and [f["partition"] for f in first.partitions_failed] == [
        "0000-000001", "0000-000002"]
    assert "ended before line" in first.partitions_failed[0]["reason"]

    packed.write_bytes(whole)
    again = run([packed], tmp_path / "out", workers=1, partition_size=50)
    assert (again.partitions_skipped, again.partitions_coded, again.partitions_failed) == (1, 2, [])
    assert not list((tmp_path / "out" / "failures").glob("*.partition.json"))


def test_a_killed_run_resumes_without_redoing_finished_partitions(tmp_path: Path) -> None:
    source = archive(tmp_path, copies=6)  # 793 lines: 40 partitions of 20
    out = tmp_path / "out"
    command = [*CLI, "bulk", "code", str(source), "--out", str(out), "--workers", "1", "--partition-size", "20"]
    # Its own session, so SIGKILL takes the CLI and the cluster processes it started, all at once.
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(list((out / "done").glob("*.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.name: p.read_bytes() for p in (out / "done").glob("*.json")}
    assert 3 <= len(before) < 40, "the run should be killed part way"
    assert not (out / "summary.json").exists()

    summary = run([source], out, workers=2, partition_size=20)

    after = {p.name: p.read_bytes() for p in (out / "done").glob("*.json")}
    assert all(after[name] == record for name, record in before.items())  # not redone: same record
    assert summary.partitions_skipped == len(before) and summary.partitions_coded == 40 - len(before)
    assert len(pq.read_table(out / "documents").column("document_id")) == 132 * 6


def test_bulk_load_is_idempotent(coded: tuple[Path, Path, RunSummary], store: Store) -> None:
    from civicwatch.bulk.load import load

    _, out, summary = coded
    first = load(store, out, batch=50)
    again = load(store, out, batch=50)

    assert first.documents_added == store.counts()["documents"] > 0
    assert first.documents_coded + first.documents_present >= summary.documents
    assert first.incidents_added == store.counts()["incidents"]
    assert (again.documents_added, again.incidents_added, again.documents_coded) == (0, 0, 0)
    assert again.documents_unchanged == first.documents_coded
    assert store.integrity_problems() == []


def test_a_parquet_archive_codes_like_its_jsonl(coded: tuple[Path, Path, RunSummary], tmp_path: Path) -> None:
    import pyarrow as pa

    plain, out, _ = coded
    rows = [json.loads(line) for line in plain.read_bytes().splitlines()[:-1]]
    table = pa.table({name: [row.get(name) for row in rows] for name in ("id", "text", "published", "lang")})
    pq.write_table(table, tmp_path / "archive.parquet", row_group_size=17)  # partitions straddle row groups

    summary = run([tmp_path / "archive.parquet"], tmp_path / "out", workers=1, partition_size=25)

    assert summary.documents == 132 and summary.bad_lines == 0
    assert incident_rows(tmp_path / "out") == incident_rows(out)


def test_local_workers_are_forked_with_the_coder_built(coded: tuple[Path, Path, RunSummary]) -> None:
    from civicwatch.bulk import manifest

    _, out, _ = coded
    records = list(manifest.finished(out).values())

    # Built once by the forkserver, not by each worker on its first partition (~1.5 CPU seconds each).
    assert [r["coder_seconds"] for r in records] == [0.0] * len(records)
    assert all(r["cpu_seconds"] > 0 and r["worker_cpu_seconds"] >= r["cpu_seconds"] for r in records)


def test_a_running_scheduler_is_used_as_given(coded: tuple[Path, Path, RunSummary], tmp_path: Path) -> None:
    """A team's cluster: a scheduler and a worker started by Dask's own commands, reached by address."""
    plain, out, _ = coded
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    scheduler_file = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(scheduler_file)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                   "--nworkers", "1", "--no-dashboard"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(1, timeout=60)

        summary = run([plain], tmp_path / "out", scheduler=address, partition_size=40)
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)

    assert summary.scheduler == address and summary.workers == 1
    assert summary.documents == 132 and summary.bad_lines == 1
    assert incident_rows(tmp_path / "out") == incident_rows(out)


def test_a_scheduler_that_does_not_answer_is_named_in_the_error(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ran = subprocess.run([*CLI, "bulk", "code", str(archive(tmp_path)), "--out", str(tmp_path / "out"),
                          "--scheduler", f"tcp://127.0.0.1:{port}"], capture_output=True, text=True, check=False)

    assert ran.returncode != 0 and "Traceback" not in ran.stderr
    assert f"tcp://127.0.0.1:{port}" in ran.stderr and "no Dask scheduler answers there" in ran.stderr
