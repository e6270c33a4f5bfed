"""The page cache: anonymous GET responses kept in memory until the data changes.

Most of a public site's traffic asks for the same few pages (the home page, busy countries, the
first page of a filtered list) while the data changes only when ``collect``, ``process`` or a
researcher writes. Each response is kept under its address and the database's data version
(``Store.data_version``, raised by every write transaction): the first view after a change renders
the page, later views of the same address send the same bytes without touching the templates or
the database again (but for the version read).

What a person changes shows at once: a confidential mark, a rejection, an edit or a removed source
(every audited change, ``Store.data_versions``) empties the cache, so a withdrawn document
disappears from every cached page at the same moment as from the database. Machine writes (``collect``,
``process``, ``connect`` adding documents and incidents) do not: with a publish lag (``lag_seconds``,
the ``public_lag_seconds`` setting, 30 s by default for ``serve``) a page already kept is sent for up
to that long after them. While ``process`` writes all day, a busy page is rendered once per lag instead
of at every view.

Once the lag is over, a page kept before the writes is still sent for up to two lags more, marked
``stale``, while it is rendered again in the background, one page at a time: under load no visitor
waits for a page that was already kept, and re-rendering takes a bounded share of the server.
New material appears after the lag and the next rendering. Only past three lags does a visitor
wait for the rendering: then the background is behind and the page must be current.

Pages are kept gzipped, and sent so to clients that accept it (every browser): memory holds ten
times more pages, and the wire carries a tenth of the weight.

Only what is the same for everyone is kept: a request with a cookie or an ``Authorization`` header
(a signed-in researcher) passes through, and so does any response that sets a cookie, is not a
200, asks not to be stored (``Cache-Control: private`` or ``no-store``) or is larger than
``MAX_ENTRY_BYTES`` (exports stream through untouched).
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civicwatch.store import Store

MAX_ENTRY_BYTES = 1_000_000
MAX_AGE_SECONDS = 300.0  # pages that say "today" or "3 days ago" still move on without a write
CACHE_HEADER = b"x-civicwatch-cache"  # "hit", or "stale" for a page sent while it is rendered again
# Past the lag a page outdated by writes is sent while it is rendered again, for up to this many lags more.
STALE_LAGS = 2
MAX_REFRESHES_WAITING = 1000  # pages waiting to be rendered again in the background (the rest render inline)
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
    version: int  # the data version the page was rendered at

    def send_as(self, gzip_accepted: bool, how: bytes = b"hit") -> tuple[list[tuple[bytes, bytes]], bytes]:
        """The headers and body to send: the kept bytes to a client that takes gzip, else the page itself."""
        if gzip_accepted:
            body, extra = self.gzipped, [(b"content-encoding", b"gzip")]
        else:
            body, extra = gzip.decompress(self.gzipped), []
        return [*self.headers, *extra, (b"vary", b"Accept-Encoding, HX-Request"),
                (b"content-length", str(len(body)).encode()), (CACHE_HEADER, how)], body


class PageCache:
    """ASGI middleware keeping up to ``max_bytes`` of anonymous GET responses per data version.

    ``max_bytes=0`` turns it off (every request is rendered).
    """

    def __init__(self, app: ASGIApp, store: Store, max_bytes: int, lag_seconds: float = 0.0) -> None:
        self.app = app
        self.store = store
        self.max_bytes = max_bytes
        self.lag_seconds = lag_seconds
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._bytes = 0
        self._version: tuple[int, int] | None = None  # (data version, newest change by a person)
        self.hits = 0
        self.misses = 0
        self._refreshing: set[Key] = set()  # pages waiting for, or in, their background rendering
        self._refresh_tasks: set[asyncio.Task[None]] = set()  # held so the loop does not drop them
        self._one_refresh_at_a_time = asyncio.Lock()

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
        state = self._state(entry, version[0]) if entry is not None else "expired"
        if state == "stale" and not self._refresh_later(key, scope):
            state = "expired"  # the background has too much waiting: render this one now
        if entry is not None and state != "expired":
            self._entries.move_to_end(key)
            self.hits += 1
            headers, body = entry.send_as(_accepts_gzip(scope), b"hit" if state == "fresh" else b"stale")
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

    def _state(self, entry: _Entry, version: int) -> Literal["fresh", "stale", "expired"]:
        """Fresh: send it. Stale: send it and render it again in the background. Expired: render it now."""
        age = time.monotonic() - entry.stored_at
        limit = MAX_AGE_SECONDS if entry.version == version else min(self.lag_seconds, MAX_AGE_SECONDS)
        if age < limit:
            return "fresh"
        if self.lag_seconds and age < limit + STALE_LAGS * self.lag_seconds:
            return "stale"
        return "expired"

    def _refresh_later(self, key: Key, scope: Scope) -> bool:
        """Have the page at ``key`` rendered again in the background; False when too many are waiting."""
        if key in self._refreshing:
            return True
        if len(self._refreshing) >= MAX_REFRESHES_WAITING:
            return False
        self._refreshing.add(key)
        # The visitor's request as it came (the page answers the same for every anonymous visitor).
        request = {**scope, "headers": list(scope["headers"])}
        if "state" in scope:
            request["state"] = dict(scope["state"])
        task = asyncio.get_running_loop().create_task(self._refresh(key, request))
        self._refresh_tasks.add(task)
        task.add_done_callback(self._refresh_tasks.discard)
        return True

    async def _refresh(self, key: Key, scope: Scope) -> None:
        try:
            async with self._one_refresh_at_a_time:  # visitors' own renderings are not crowded out
                version = self._current_version()
                entry = self._entries.get(key)
                if version is None or entry is None or self._state(entry, version[0]) == "fresh":
                    return  # the database cannot say, the cache was emptied, or a visitor rendered it
                await self._render_and_keep(key, version, scope, _no_body(), _discard)
        except Exception:  # noqa: BLE001 - a failed refresh leaves the page to be rendered by its next visitor
            logging.getLogger(__name__).exception("rendering %s again in the background failed", key[0])
        finally:
            self._refreshing.discard(key)

    def _current_version(self) -> tuple[int, int] | None:
        try:
            # Two primary-key reads; called on the event loop, as it is cheaper than a thread hop.
            version = self.store.data_versions()
        except Exception:  # an unmigrated or unreachable database: nothing cached is trustworthy
            self._clear()
            return None
        if self._version is None or version[1] != self._version[1]:
            self._clear()  # a person changed something: nothing kept may be shown again
        self._version = version
        return version

    async def _render_and_keep(
        self, key: Key, version: tuple[int, int], scope: Scope, receive: Receive, send: Send
    ) -> None:
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

    def _keep(self, key: Key, version: tuple[int, int], start: Message, body: bytes) -> None:
        if self._version is None or version[1] != self._version[1]:
            return  # a person changed something while this page was rendered: it may show what is withdrawn
        if version[0] != self._version[0] and not self.lag_seconds:
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
        self._entries[key] = _Entry(start["status"], headers, gzipped, time.monotonic(), version[0])
        self._bytes += len(gzipped)
        while self._bytes > self.max_bytes and self._entries:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= len(evicted.gzipped)

    def _clear(self) -> None:
        self._entries.clear()
        self._bytes = 0


def _no_body() -> Receive:
    """The ``receive`` of a background rendering: an empty body, then nothing (a client that stays)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # never set: the rendering ends by itself
        return {"type": "http.disconnect"}

    return receive


async def _discard(message: Message) -> None:
    """Where a background rendering's response goes: the cache keeps its copy, nobody else waits for it."""


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
