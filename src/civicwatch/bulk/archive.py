"""Archives of documents, read partition by partition.

An input is JSON Lines (``.jsonl``, ``.jsonl.gz``, ``.jsonl.zst``) with one ``civicwatch code`` document per
line, or Parquet with the same fields as columns (``id``, ``text``, optional ``published``, ``lang``,
``title``, ``url``). ``plan`` scans each input once and cuts it into partitions of ``size`` documents; a
worker then reads only its own partition: a byte range of plain JSONL (a seek), lines ``first..last`` of a
compressed one (decompressing and skipping what comes before: streams cannot seek), a row range of Parquet.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from civicwatch.errors import UsageError

DEFAULT_PARTITION = 5000


@dataclass(frozen=True)
class Partition:
    """One unit of work: ``count`` documents of ``input`` from line (or row) ``first`` on (1-based)."""

    key: str  # stable name, "<input number>-<partition number>": the output files' name
    input: str
    kind: str  # "jsonl" | "gzip" | "zstd" | "parquet"
    first: int
    count: int
    offset: int = 0  # byte offset of line ``first`` (plain JSONL only)
    length: int = 0  # bytes of this partition (plain JSONL only)

    def to_json(self) -> dict[str, Any]:
        """The manifest's record of this partition."""
        return asdict(self)


def kind_of(path: Path) -> str:
    """The archive format of ``path``, by its name; ``UsageError`` for anything else."""
    name = path.name.lower()
    if name.endswith((".jsonl.gz", ".json.gz", ".ndjson.gz")):
        return "gzip"
    if name.endswith((".jsonl.zst", ".json.zst", ".ndjson.zst", ".jsonl.zstd")):
        return "zstd"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    raise UsageError(str(path), "not an archive: use .jsonl, .jsonl.gz, .jsonl.zst or .parquet")


def open_lines(path: Path, kind: str) -> IO[bytes]:
    """A binary stream of the decompressed lines of a JSONL archive."""
    if kind == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]  # a GzipFile is a binary stream
    if kind == "zstd":
        import zstandard

        raw = open(path, "rb")  # noqa: SIM115 - closed with the reader it is wrapped in
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, closefd=True))
    return open(path, "rb")


def plan(inputs: list[Path], size: int = DEFAULT_PARTITION) -> list[Partition]:
    """Cut every input into partitions of ``size`` documents (one pass over each to find the boundaries)."""
    if size < 1:
        raise UsageError(f"--partition-size {size}", "must be at least 1")
    partitions: list[Partition] = []
    for number, path in enumerate(inputs):
        if not path.is_file():
            raise UsageError(str(path), "no such file")
        kind = kind_of(path)
        if kind == "parquet":
            partitions.extend(_plan_parquet(number, path, size))
            continue
        try:
            partitions.extend(_plan_lines(number, path, kind, size))
        except (OSError, EOFError, ValueError) as exc:  # gzip.BadGzipFile is an OSError; zstd raises ZstdError
            raise UsageError(str(path), f"cannot be read as {kind} ({exc})") from None
    return partitions


def _plan_lines(number: int, path: Path, kind: str, size: int) -> Iterator[Partition]:
    part, first, start, offset, lines = 0, 1, 0, 0, 0
    with open_lines(path, kind) as stream:
        for line in stream:
            lines += 1
            offset += len(line)
            if lines - first + 1 == size:
                yield Partition(f"{number:04d}-{part:06d}", str(path), kind, first, size, start, offset - start)
                part, first, start = part + 1, lines + 1, offset
    if lines >= first:
        yield Partition(f"{number:04d}-{part:06d}", str(path), kind, first, lines - first + 1, start, offset - start)


def _plan_parquet(number: int, path: Path, size: int) -> Iterator[Partition]:
    import pyarrow.parquet as pq

    try:
        rows = pq.ParquetFile(path).metadata.num_rows
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds for a file that is not Parquet
        raise UsageError(str(path), f"not a Parquet file ({exc})") from None
    for part, first in enumerate(range(0, rows, size)):
        yield Partition(f"{number:04d}-{part:06d}", str(path), "parquet", first + 1, min(size, rows - first))


def read(partition: Partition) -> Iterator[tuple[str, bytes]]:
    """``(where, raw JSON line)`` for each document of ``partition``; Parquet rows come as JSON lines too,
    so both kinds go through the very same validation as ``civicwatch code``."""
    path = Path(partition.input)
    if partition.kind == "parquet":
        yield from _read_parquet(partition, path)
        return
    with open_lines(path, partition.kind) as stream:
        if partition.kind == "jsonl":
            stream.seek(partition.offset)
            data = stream.read(partition.length)
            lines = iter(data.splitlines(keepends=True))
        else:
            lines = iter(stream)
            for _ in range(partition.first - 1):
                next(lines)
        for index in range(partition.count):
            raw = next(lines, None)
            if raw is None:
                raise ValueError(f"{path} ended before line {partition.first + index}: was it changed?")
            yield f"{path}:{partition.first + index}", raw


def _read_parquet(partition: Partition, path: Path) -> Iterator[tuple[str, bytes]]:
    import pyarrow.parquet as pq

    # Only the row groups this partition overlaps are read, so a large file is not read once per partition.
    parquet = pq.ParquetFile(path)
    start, skip = 0, 0
    groups: list[int] = []
    for index in range(parquet.metadata.num_row_groups):
        rows = parquet.metadata.row_group(index).num_rows
        if start + rows > partition.first - 1 and start < partition.first - 1 + partition.count:
            if not groups:
                skip = partition.first - 1 - start
            groups.append(index)
        start += rows
    table = parquet.read_row_groups(groups).slice(skip, partition.count)
    for index, row in enumerate(table.to_pylist()):
        clean = {key: value for key, value in row.items() if value is not None}
        yield f"{path}:row {partition.first + index}", json.dumps(clean, ensure_ascii=False, default=str).encode()
