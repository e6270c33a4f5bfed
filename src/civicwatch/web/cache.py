"""The page cache: anonymous GET responses kept in memory until the data changes.

Most of a public site's traffic asks for the same few pages (the home page, busy countries, the
first page of a filtered list) while the data changes only when ``collect``, ``process`` or a
researcher writes. Each response is kept under its address and the database's data version
(``Store.data_version``, raised by every write transaction): the first view after a change renders
the page, later views of the same address send the same bytes without touching the templates or
the database again (but for the one-row version read). A cached page can therefore never be older
than the data, which matters most for confidentiality: a document marked confidential disappears
from every cached page at the same moment as from the database.

Pages are kept gzipped, and sent so to clients that accept it (every browser): memory holds ten
times more pages, and the wire carries a tenth of the weight.

Only what is the same for everyone is kept: a request with a cookie or an ``Authorization`` header
(a signed-in researcher) passes through, and so does any response that sets a cookie, is not a
200, asks not to be stored (``Cache-Control: private`` or ``no-store``) or is larger than
``MAX_ENTRY_BYTES`` (exports stream through untouched).
"""

from __future__ import annotations

import gzip
import time
from collections import OrderedDict
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civicwatch.store import Store

MAX_ENTRY_BYTES = 1_000_000
MAX_AGE_SECONDS = 300.0  # pages that say "today" or "3 days ago" still move on without a write
CACHE_HEADER = (b"x-civicwatch-cache", b"hit")
GZIP_LEVEL = 6  # once per page and data version; 200 kB in about 3 ms

# Request headers that change what a page answers (htmx asks for a part of the incidents page).
_VARYING = (b"hx-request", b"hx-history-restore-request")
_PERSONAL = (b"cookie", b"authorization")

Key = tuple[str, bytes, tuple[bytes, ...]]


@dataclass
class _Entry:
    status: int
    headers: list[tuple[bytes, bytes]]  # without Content-Length and Vary, which depend on the encoding sent
    gzipped: bytes  # kept compressed: a busy country page is 200 kB of HTML and SVG, a tenth of that gzipped
    stored_at: float

    def send_as(self, gzip_accepted: bool) -> tuple[list[tuple[bytes, bytes]], bytes]:
        """The headers and body to send: the kept bytes to a client that takes gzip, else the page itself."""
        if gzip_accepted:
            body, extra = self.gzipped, [(b"content-encoding", b"gzip")]
        else:
            body, extra = gzip.decompress(self.gzipped), []
        return [*self.headers, *extra, (b"vary", b"Accept-Encoding, HX-Request"),
                (b"content-length", str(len(body)).encode()), CACHE_HEADER], body


class PageCache:
    """ASGI middleware keeping up to ``max_bytes`` of anonymous GET responses per data version.

    ``max_bytes=0`` turns it off (every request is rendered).
    """

    def __init__(self, app: ASGIApp, store: Store, max_bytes: int) -> None:
        self.app = app
        self.store = store
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._bytes = 0
        self._version: int | None = None
        self.hits = 0
        self.misses = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self._key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        version = self._current_version()
        if version is None:  # the database cannot say: render, and let the page report the problem
            await self.app(scope, receive, send)
            return
        entry = self._entries.get(key)
        if entry is not None and time.monotonic() - entry.stored_at < MAX_AGE_SECONDS:
            self._entries.move_to_end(key)
            self.hits += 1
            headers, body = entry.send_as(_accepts_gzip(scope))
            await send({"type": "http.response.start", "status": entry.status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        self.misses += 1
        await self._render_and_keep(key, version, scope, receive, send)

    def _key(self, scope: Scope) -> Key | None:
        if self.max_bytes <= 0 or scope["type"] != "http" or scope["method"] != "GET":
            return None
        headers = dict(scope["headers"])
        if any(name in headers for name in _PERSONAL):
            return None
        return (scope["path"], scope["query_string"], tuple(headers.get(name, b"") for name in _VARYING))

    def _current_version(self) -> int | None:
        try:
            # One primary-key read; called on the event loop, as it is cheaper than a thread hop.
            version = self.store.data_version()
        except Exception:  # an unmigrated or unreachable database: nothing cached is trustworthy
            self._clear()
            return None
        if version != self._version:
            self._clear()
            self._version = version
        return version

    async def _render_and_keep(self, key: Key, version: int, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        keep = True

        async def send_and_copy(message: Message) -> None:
            nonlocal start, size, keep
            if message["type"] == "http.response.start":
                start = message
                keep = _storable(message)
            elif message["type"] == "http.response.body" and keep:
                body = message.get("body", b"")
                size += len(body)
                if size > MAX_ENTRY_BYTES:
                    keep = False
                    chunks.clear()
                else:
                    chunks.append(body)
                if not message.get("more_body", False) and keep and start is not None:
                    self._keep(key, version, start, b"".join(chunks))
            await send(message)

        await self.app(scope, receive, send_and_copy)

    def _keep(self, key: Key, version: int, start: Message, body: bytes) -> None:
        if version != self._version:
            return  # the data changed while this page was rendered: it may mix old and new
        if any(name.lower() == b"content-encoding" for name, _ in start.get("headers", [])):
            return  # already encoded by someone else: not ours to re-encode
        gzipped = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        if len(gzipped) > self.max_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old.gzipped)
        headers = [(n, v) for n, v in start.get("headers", []) if n.lower() not in (b"content-length", b"vary")]
        self._entries[key] = _Entry(start["status"], headers, gzipped, time.monotonic())
        self._bytes += len(gzipped)
        while self._bytes > self.max_bytes and self._entries:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= len(evicted.gzipped)

    def _clear(self) -> None:
        self._entries.clear()
        self._bytes = 0


def _accepts_gzip(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            return any(part.split(b";")[0].strip() == b"gzip" and not part.replace(b" ", b"").endswith(b"q=0")
                       for part in value.lower().split(b","))
    return False


def _storable(start: Message) -> bool:
    if start["status"] != 200:
        return False
    for name, value in start.get("headers", []):
        name = name.lower()
        if name == b"set-cookie":
            return False
        if name == b"cache-control" and (b"no-store" in value.lower() or b"private" in value.lower()):
            return False
    return True
