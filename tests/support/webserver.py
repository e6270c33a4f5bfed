"""A real HTTP server on 127.0.0.1 for tests, with well-behaved pages and misbehaving endpoints.

    def test_reads_a_page(web):
        web.add("/report.html", "<h1>Report</h1>")
        fetched = Fetcher(settings).get(web.url("/report.html"))

The ``web`` fixture starts a ``ThreadingHTTPServer`` on a free port in a
background thread (a few milliseconds) and stops it at teardown, even while
a slow handler is still running. What it serves, first match wins:

- pages added with ``web.add(path, body, content_type=..., headers=..., status=...)``;
- ``/robots.txt`` from ``web.robots`` (``None``: 404; ``web.robots_status`` for a 5xx);
- misbehaving endpoints: ``/slow?seconds=3``, ``/trickle?interval=0.05``, ``/huge``,
  ``/huge-declared``, ``/gzip-bomb``, ``/redirect-loop``, ``/cookie-bounce``, ``/redirect-chain/N``,
  ``/redirect-to?url=...&status=302``, ``/status/N?retry_after=120``, ``/wrong-type``,
  ``/empty``, ``/etag`` (``web.etag``; answers 304 to a matching If-None-Match);
- files under the folder given to ``web.serve_dir(path)``.

Every request is logged in ``web.requests`` as ``(method, path, headers)``;
``headers`` is case-insensitive (``headers["user-agent"]``).
"""

from __future__ import annotations

import contextlib
import mimetypes
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

__all__ = ["WebServer", "web"]

GZIP_BOMB_INFLATED = 120 * 1024 * 1024  # what /gzip-bomb inflates to: more than any cap a test sets
HUGE_DECLARED = 10**12  # the Content-Length /huge-declared announces


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200


@cache
def gzip_bomb() -> bytes:
    """One gzip member of about 120 KB that inflates to 120 MB of zeros, built in milliseconds.

    After a full flush the compressor starts afresh, so the deflate bytes of
    one 1 MB block of zeros can be repeated instead of compressing 120 MB.
    """
    block = bytes(1024 * 1024)
    count = GZIP_BOMB_INFLATED // len(block)
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    piece = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    last = packer.flush(zlib.Z_FINISH)  # an empty final block
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (count * len(block)) & 0xFFFFFFFF)
    return header + piece * count + last + trailer


class WebServer:
    """The server behind the ``web`` fixture: fill it, point a fetcher at ``url(path)``, read ``requests``."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.robots: str | None = None
        self.robots_status = 200
        self.etag = '"v1"'
        self.last_modified = "Mon, 04 Mar 2024 10:00:00 GMT"
        self.requests: list[tuple[str, str, Message]] = []
        self.stopping = threading.Event()
        self._root: Path | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True  # a handler still sleeping must not block teardown
        self._server.web = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._serve, name="test-web-server", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/") -> str:
        """The full URL of ``path`` on this server: ``web.url("/a")`` -> ``http://127.0.0.1:PORT/a``."""
        return f"http://127.0.0.1:{self.port}{path if path.startswith('/') else '/' + path}"

    def add(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
        status: int = 200,
    ) -> str:
        """Serve ``body`` at ``path`` (str bodies are UTF-8); returns the page's full URL."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.pages[path] = Page(data, content_type, dict(headers or {}), status)
        return self.url(path)

    def serve_dir(self, root: str | Path) -> None:
        """Also serve the files under ``root`` (``root/a/b.xml`` at ``/a/b.xml``)."""
        self._root = Path(root).resolve()

    def file_for(self, path: str) -> Path | None:
        if self._root is None:
            return None
        candidate = (self._root / path.lstrip("/")).resolve()
        if candidate.is_file() and candidate.is_relative_to(self._root):
            return candidate
        return None

    def paths(self) -> list[str]:
        """The paths requested so far, in order (with their query strings)."""
        return [path for _method, path, _headers in self.requests]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()  # wakes slow and trickling handlers
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.05)


class _Handler(BaseHTTPRequestHandler):
    server_version = "civicwatch-test/1"
    # HTTP/1.0: the connection closes after each answer, so bodies without Content-Length just work.
    protocol_version = "HTTP/1.0"

    @property
    def web(self) -> WebServer:
        return self.server.web  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet tests

    def do_GET(self) -> None:
        self.web.requests.append(("GET", self.path, self.headers))
        # The client may hang up mid-answer: that is what the fetcher is meant to do to bad servers.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
            self._answer()

    def _answer(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        page = self.web.pages.get(self.path) or self.web.pages.get(path)
        if page is not None:
            return self._send(page.status, page.body, page.content_type, page.headers)
        if path == "/robots.txt":
            if self.web.robots is None:
                return self._send(404, b"no robots.txt", "text/plain")
            return self._send(self.web.robots_status, self.web.robots.encode(), "text/plain")
        endpoint = _ENDPOINTS.get(path.strip("/").split("/")[0])
        if endpoint is not None:
            return endpoint(self, path, query)
        file = self.web.file_for(path)
        if file is not None:
            media = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            return self._send(200, file.read_bytes(), media)
        return self._send(404, b"not found", "text/plain")

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str, status: int = 302) -> None:
        self._send(status, b"", "text/plain", {"Location": location})

    # --- misbehaving endpoints (see _ENDPOINTS) ---

    def _slow(self, path: str, query: dict[str, str]) -> None:
        """Answers only after ``seconds`` (default 3), or not at all when the server stops first."""
        if not self.web.stopping.wait(float(query.get("seconds", "3"))):
            self._send(200, b"late", "text/plain")

    def _trickle(self, path: str, query: dict[str, str]) -> None:
        """A 200 whose body comes one byte every ``interval`` seconds, forever."""
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        interval = float(query.get("interval", "0.05"))
        while not self.web.stopping.wait(interval):
            self.wfile.write(b".")
            self.wfile.flush()

    def _huge(self, path: str, query: dict[str, str]) -> None:
        """Streams 64 KB blocks without a Content-Length until the client hangs up."""
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        block = b"civic " * (64 * 1024 // 6)
        while not self.web.stopping.is_set():
            self.wfile.write(block)

    def _huge_declared(self, path: str, query: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(HUGE_DECLARED))
        self.end_headers()
        self.wfile.write(b"<p>" * 1000)

    def _gzip_bomb(self, path: str, query: dict[str, str]) -> None:
        self._send(200, gzip_bomb(), "text/html; charset=utf-8", {"Content-Encoding": "gzip"})

    def _redirect_loop(self, path: str, query: dict[str, str]) -> None:
        self._redirect("/redirect-loop")

    def _cookie_bounce(self, path: str, query: dict[str, str]) -> None:
        """Redirects to itself with a cookie set, then answers the request carrying that cookie."""
        if "bounced=yes" in (self.headers.get("Cookie") or ""):
            return self._send(200, b"<p>welcome back</p>", "text/html; charset=utf-8")
        self._send(302, b"", "text/plain", {"Location": path, "Set-Cookie": "bounced=yes; Path=/"})

    def _redirect_chain(self, path: str, query: dict[str, str]) -> None:
        """``/redirect-chain/3`` -> ``/redirect-chain/2`` -> ... -> ``/redirect-chain/0``, a page."""
        left = int(path.rstrip("/").rsplit("/", 1)[-1])
        if left <= 0:
            return self._send(200, b"<p>end of the chain</p>", "text/html; charset=utf-8")
        self._redirect(f"/redirect-chain/{left - 1}")

    def _redirect_to(self, path: str, query: dict[str, str]) -> None:
        self._redirect(query["url"], int(query.get("status", "302")))

    def _status(self, path: str, query: dict[str, str]) -> None:
        """``/status/N``: answers N; 429 and 503 carry ``Retry-After`` (``?retry_after=``, default 120)."""
        status = int(path.rstrip("/").rsplit("/", 1)[-1])
        headers = {}
        if status in (429, 503) or "retry_after" in query:
            headers["Retry-After"] = query.get("retry_after", "120")
        self._send(status, f"status {status}".encode(), "text/plain", headers)

    def _wrong_type(self, path: str, query: dict[str, str]) -> None:
        body = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
        self._send(200, body, "text/html; charset=utf-8")

    def _empty(self, path: str, query: dict[str, str]) -> None:
        self._send(200, b"", "text/html; charset=utf-8")

    def _etag(self, path: str, query: dict[str, str]) -> None:
        validators = {"ETag": self.web.etag, "Last-Modified": self.web.last_modified}
        if self.headers.get("If-None-Match") == self.web.etag:
            self.send_response(304)
            for name, value in validators.items():
                self.send_header(name, value)
            self.end_headers()
            return
        self._send(200, b"<p>versioned page</p>", "text/html; charset=utf-8", validators)


_ENDPOINTS = {
    "slow": _Handler._slow,
    "trickle": _Handler._trickle,
    "huge": _Handler._huge,
    "huge-declared": _Handler._huge_declared,
    "gzip-bomb": _Handler._gzip_bomb,
    "redirect-loop": _Handler._redirect_loop,
    "cookie-bounce": _Handler._cookie_bounce,
    "redirect-chain": _Handler._redirect_chain,
    "redirect-to": _Handler._redirect_to,
    "status": _Handler._status,
    "wrong-type": _Handler._wrong_type,
    "empty": _Handler._empty,
    "etag": _Handler._etag,
}


@pytest.fixture
def web() -> Iterator[WebServer]:
    """A real HTTP server on 127.0.0.1, fresh for each test (pages, robots.txt and request log)."""
    server = WebServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
