"""``civicwatch code``: JSON Lines documents in, one JSON Lines coding out per document, streaming.

Lines are read and coded one at a time, so memory stays flat however long the
input. A line that is not a document (bad JSON, no ``id`` or ``text``, wrong
types, undecodable bytes) becomes a Failure naming its line number, and the
rest goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from civicwatch.code.coder import Coder, code_document
from civicwatch.model import Failure

MAX_LINE_BYTES = 20_000_000  # one document's line; a longer one is refused rather than coded for minutes


def bounded_lines(stream: IO[bytes], limit: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """The lines of ``stream``, each cut at ``limit + 1`` bytes (the rest of an over-long line is skipped).

    Iterating a file holds a whole line in memory, so one 2 GB line would take 2 GB before it could be
    refused; cut here, it is still seen as over the cap by ``code_lines`` and memory stays bounded.
    """
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while True:  # skip the rest of the line, a chunk at a time
                rest = stream.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
        yield line


def code_lines(lines: Iterable[bytes], coder: Coder, *, input: str) -> Iterator[dict[str, Any] | Failure]:
    """Code each JSON line of ``lines``: the codebook's output object, or a Failure for ``input:LINE``."""
    for number, raw in enumerate(lines, start=1):
        where = f"{input}:{number}"
        if not raw.strip():
            continue
        if len(raw) > MAX_LINE_BYTES:
            yield Failure(where, f"line is over the {MAX_LINE_BYTES / 1e6:.0f} MB cap")
            continue
        document = _document(raw, where)
        if isinstance(document, Failure):
            yield document
            continue
        try:
            yield code_document(document, coder)
        except Exception as exc:  # noqa: BLE001 - one document must never stop the batch; named, not hidden
            yield Failure(where, f"could not be coded ({type(exc).__name__}: {exc})")


def _document(raw: bytes, where: str) -> dict[str, Any] | Failure:
    try:
        # utf-8-sig: a file saved by a Windows editor starts with a byte-order mark, which is not an error.
        obj = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return Failure(where, "not UTF-8 text")
    except json.JSONDecodeError as exc:
        return Failure(where, f"not valid JSON ({exc.msg} at column {exc.colno})")
    except RecursionError:
        return Failure(where, "not valid JSON (nested too deeply)")
    if not isinstance(obj, dict):
        return Failure(where, "not a JSON object")
    if "id" not in obj or obj["id"] is None or isinstance(obj["id"], (dict, list, bool)):
        return Failure(where, "missing 'id' (a string or number)")
    if not isinstance(obj.get("text"), str):
        return Failure(where, "missing 'text' (a string)")
    for optional in ("published", "lang"):
        if obj.get(optional) is not None and not isinstance(obj[optional], str):
            return Failure(where, f"'{optional}' must be a string")
    return obj
