"""The output folder of ``civicwatch bulk code`` and its resume manifest.

    DIR/manifest.json            inputs, partition size, coder version and every partition planned
    DIR/incidents/<key>.parquet  one row per incident (``document_id``, ``coder_version``, codebook fields, offsets)
    DIR/documents/<key>.parquet  one row per coded document (id, content hash, text, metadata) for ``bulk load``
    DIR/failures/<key>.jsonl     lines that were not documents, or a partition that failed, with the reason
    DIR/done/<key>.json          written last, after the partition's files are renamed into place: finished
    DIR/summary.json             the run's counts

A partition counts as finished only once its ``done`` marker exists, and every file is written to a
``.part`` name and renamed, so a killed run leaves no half-written partition: the next run with the same
inputs and coder version skips the finished ones and redoes the rest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from civicwatch.bulk.archive import Partition
from civicwatch.errors import UsageError

FOLDERS = ("incidents", "documents", "failures", "done")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (a ``.part`` file renamed into place)."""
    part = path.with_name(path.name + ".part")
    with open(part, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    part.replace(path)


def prepare(out: Path, inputs: list[Path], partitions: list[Partition], size: int, coder_version: str) -> None:
    """Create ``out`` and its manifest, or check that an existing one is the same job (so it can resume).

    Raises ``UsageError`` when ``out`` holds another job's results (other inputs, size or coder version).
    """
    manifest = {
        "inputs": [str(p.resolve()) for p in inputs],
        "partition_size": size,
        "coder_version": coder_version,
        "partitions": [p.to_json() for p in partitions],
    }
    path = out / "manifest.json"
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        for field in ("inputs", "partition_size", "coder_version", "partitions"):
            if old.get(field) != manifest[field]:
                raise UsageError(str(out), f"holds another run ({field} differ); use a new --out folder")
    elif out.exists() and any(out.iterdir()):
        raise UsageError(str(out), "exists and is not a bulk output folder; use a new or empty one")
    for folder in FOLDERS:
        (out / folder).mkdir(parents=True, exist_ok=True)
    if not path.exists():
        write_atomic(path, json.dumps(manifest, indent=1).encode())


def read_manifest(out: Path) -> dict[str, Any]:
    """The manifest of a ``bulk code`` output folder; ``UsageError`` when ``out`` is not one."""
    path = out / "manifest.json"
    if not path.is_file():
        raise UsageError(str(out), "not a bulk output folder (no manifest.json); run civicwatch bulk code first")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def finished(out: Path) -> dict[str, dict[str, Any]]:
    """The finished partitions' done records, by partition key."""
    done: dict[str, dict[str, Any]] = {}
    for marker in (out / "done").glob("*.json"):
        done[marker.stem] = json.loads(marker.read_text(encoding="utf-8"))
    return done
