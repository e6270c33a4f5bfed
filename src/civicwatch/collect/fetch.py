"""Safe HTTP fetching: one GET, with every guard a monitoring tool needs on the open web.

A :class:`Fetcher` only speaks http and https; it refuses to connect to
loopback, private, link-local, multicast or reserved addresses (unless the
operator sets ``allow_private``), on the first request and on every redirect
hop; it caps the body while streaming, before and after decompression; it
bounds each request by connect and read timeouts and by an overall deadline;
it honours robots.txt, waits between requests to the same host, sends a clear
User-Agent and makes conditional GETs from the validators it is given.

    with Fetcher(settings, validators=store) as fetcher:
        fetched = fetcher.get("https://example.org/reports/feed.xml")

Every failure is a :class:`~civicwatch.errors.FetchError` (or a subclass)
naming the URL the caller gave and a one-line reason.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urljoin

import httpcore
import httpx

from civicwatch.collect.robots import ROBOTS_MAX_BYTES, ROBOTS_TOKEN, RobotsPolicy
from civicwatch.config import Settings
from civicwatch.errors import (
    FetchError,
    HTTPStatusError,
    ResponseTooLargeError,
    RobotsDisallowedError,
    UnsafeURLError,
)
from civicwatch.model import Fetched

__all__ = ["Fetcher", "ValidatorCache", "address_refusal", "check_url"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]

ALLOWED_SCHEMES = frozenset({"http", "https"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Only what we can decode with a bounded output; brotli/zstd would need their own capped decoders.
ACCEPT_ENCODING = "gzip, deflate"
ACCEPT = (
    "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/xml;q=0.9,"
    "application/pdf,text/plain;q=0.8,*/*;q=0.5"
)
# NAT64 gateways translate 64:ff9b::a.b.c.d to the IPv4 address a.b.c.d.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class ValidatorCache(Protocol):
    """Where ETag / Last-Modified of each URL are kept between runs (the Store implements it)."""

    def http_validators(self, url: str) -> tuple[str | None, str | None]:
        """The (etag, last_modified) saved for ``url``, or (None, None)."""
        ...

    def set_http_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        """Save the validators of the latest 200 response for ``url``."""
        ...


# --- which URLs and addresses are allowed -------------------------------------------------------------


def address_refusal(ip: IPAddress) -> str | None:
    """Why civicwatch will not connect to ``ip`` ("a loopback address", ...), or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 address that carries an IPv4 one reaches that IPv4 host: judge the embedded address.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = address_refusal(embedded)
            return None if inner is None else f"{inner} ({embedded} inside IPv6)"
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        # Catches what the flags above miss, e.g. 100.64.0.0/10 (carrier-grade NAT).
        (not ip.is_global, "not a public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse ``url`` unless it is http(s) to a host whose every address is public.

    Raises :class:`UnsafeURLError` for another scheme or a refused address, and
    :class:`FetchError` for a malformed URL or a host name that does not resolve.
    With ``allow_private`` only the scheme is checked (and no DNS query is made).
    """
    parsed = _parse(url, url)
    if allow_private:
        return
    host = parsed.host
    try:
        addresses = _resolve(host, parsed.port or _default_port(parsed))
    except _Unresolvable as exc:
        raise FetchError(url, f"could not connect: {exc.reason}") from None
    for ip in addresses:
        reason = address_refusal(ip)
        if reason is not None:
            raise UnsafeURLError(url, _refused_text(host, ip, reason))


def _parse(given: str, target: str) -> httpx.URL:
    """``target`` as a URL we may request; errors name ``given``, the URL the caller asked for."""
    hop = "" if target == given else f" (redirected to {target})"
    try:
        parsed = httpx.URL(target)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError(given, f"not a valid URL: {_one_line(exc)}{hop}") from None
    if parsed.scheme not in ALLOWED_SCHEMES:
        scheme = f"{parsed.scheme}://" if parsed.scheme else "a URL without a scheme"
        raise UnsafeURLError(given, f"{scheme} is not allowed, only http:// and https://{hop}")
    if not parsed.host:
        raise FetchError(given, f"the URL has no host{hop}")
    return parsed


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80


def _refused_text(host: str, ip: IPAddress, reason: str) -> str:
    try:
        literal = ipaddress.ip_address(host.strip("[]")) == ip
    except ValueError:
        literal = False
    if literal:
        return f"refused: {host} is {reason}"
    return f"refused: {host} resolves to {ip}, {reason}"


class _Unresolvable(Exception):
    def __init__(self, host: str, reason: str) -> None:
        super().__init__(reason)
        self.host = host
        self.reason = reason


class _Refused(Exception):
    """Raised inside the transport when a connection would reach a refused address."""

    def __init__(self, host: str, ip: IPAddress, reason: str) -> None:
        super().__init__(reason)
        self.text = _refused_text(host, ip, reason)


def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) and exc.strerror else str(exc)
        raise _Unresolvable(host, f"cannot resolve {host} ({reason})") from None
    addresses: list[IPAddress] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            ip = ipaddress.ip_address(sockaddr[0])
            if ip not in addresses:
                addresses.append(ip)
    if not addresses:
        raise _Unresolvable(host, f"cannot resolve {host} (no IPv4 or IPv6 address)")
    return addresses


# --- the transport: connect only to checked addresses, within a deadline ------------------------------


class _GuardedBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to addresses the guard accepts, and bounds every socket operation.

    Why here and not before the request: checking a URL's host and then letting
    the HTTP library resolve it again leaves a window for DNS rebinding (the
    name answers a public address to the check and 127.0.0.1 to the connect).
    This backend resolves the name once, checks *every* address, and connects
    to those very addresses, so what was checked is what is reached. Pooled
    keep-alive connections were checked when they were opened.

    It also carries the per-request deadline (per thread): every connect, read
    and write gets at most the time left, so a server trickling a byte just
    within the read timeout cannot hold a request beyond the deadline.
    """

    def __init__(self, refusal: Callable[[IPAddress], str | None]) -> None:
        self._inner = httpcore.SyncBackend()
        self._refusal = refusal
        self._local = threading.local()

    @contextmanager
    def deadline(self, seconds: float) -> Iterator[float]:
        """Bound every socket operation inside the block to ``seconds`` from now; yields the deadline."""
        at = time.monotonic() + seconds
        self._local.deadline = at
        try:
            yield at
        finally:
            self._local.deadline = None

    def bounded(self, timeout: float | None) -> float | None:
        at: float | None = getattr(self._local, "deadline", None)
        if at is None:
            return timeout
        left = at - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the overall deadline passed")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = _resolve(host, port)
        for ip in addresses:
            reason = self._refusal(ip)
            if reason is not None:
                raise _Refused(host, ip, reason)
        failure: Exception | None = None
        for ip in addresses:  # the next address when one refuses the connection, as browsers do
            try:
                stream = self._inner.connect_tcp(
                    str(ip), port, self.bounded(timeout), local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return _DeadlineStream(stream, self)
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("civicwatch does not connect to unix sockets")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose reads and writes never outlast the request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, backend: _GuardedBackend) -> None:
        self._inner = inner
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._backend.bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._backend.bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, self._backend.bounded(timeout))
        return _DeadlineStream(tls, self._backend)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


# httpcore's errors as httpx's, most specific first (what httpx's own transport does).
_ERROR_MAP: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
)


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for source, target in _ERROR_MAP:
            if isinstance(exc, source):
                raise target(str(exc)) from exc
        raise


class _Body(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class _GuardedTransport(httpx.BaseTransport):
    """httpx's transport, but over :class:`_GuardedBackend` (httpx.HTTPTransport cannot take a backend)."""

    def __init__(self, backend: _GuardedBackend) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            network_backend=backend,
            max_connections=10,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
            http1=True,
            http2=False,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            response = self._pool.handle_request(core_request)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


# --- bodies: capped before and after decompression -----------------------------------------------------


class _Decoder:
    """Undoes a Content-Encoding chunk by chunk, never producing more than it is asked for."""

    def __init__(self, given: str, encoding: str) -> None:
        self._given = given
        self.encoding = encoding.strip().lower()
        if self.encoding in ("", "identity"):
            self._inflater = None
        elif self.encoding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.encoding == "deflate":
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            raise FetchError(given, f"unsupported Content-Encoding {encoding!r}")
        self._first = True

    def feed(self, chunk: bytes, room: int) -> bytes:
        """Decode ``chunk``; returns at most ``room`` bytes, and exactly ``room`` when there was more."""
        if self._inflater is None:
            return chunk[:room]
        try:
            return self._inflate(chunk, room)
        except zlib.error as exc:
            raise FetchError(self._given, f"the {self.encoding} body is corrupt: {exc}") from None

    def _inflate(self, chunk: bytes, room: int) -> bytes:
        assert self._inflater is not None
        if self._first and self.encoding == "deflate" and chunk:
            self._first = False
            # "deflate" should be zlib-wrapped, but many servers send a raw deflate stream.
            probe = zlib.decompressobj(zlib.MAX_WBITS)
            try:
                probe.decompress(chunk[:2])
            except zlib.error:
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        out = bytearray()
        data = chunk
        while data and len(out) < room:
            out += self._inflater.decompress(data, room - len(out))
            data = self._inflater.unconsumed_tail
            if self._inflater.eof and self._inflater.unused_data and self.encoding != "deflate":
                # A gzip body may hold several members one after another.
                data = self._inflater.unused_data
                self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            elif self._inflater.eof:
                break
        return bytes(out[:room])


# --- the fetcher ---------------------------------------------------------------------------------------


@dataclass
class _Reply:
    """One HTTP exchange: a redirect (``location``) or a final answer (with its body, when 2xx)."""

    url: str
    status: int
    headers: httpx.Headers
    content: bytes = b""
    location: str | None = None


class Fetcher:
    """Fetches URLs safely; one per thread (it keeps per-host timing and robots.txt rules).

    ``validators`` (the Store) supplies and keeps ETag / Last-Modified for
    conditional GETs. ``clock`` and ``sleep`` pace requests to the same host;
    tests pass fake ones. (Timeouts and the deadline always use real time.)
    """

    def __init__(
        self,
        settings: Settings,
        *,
        validators: ValidatorCache | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._validators = validators
        self._clock = clock
        self._sleep = sleep
        self._last_request: dict[str, float] = {}
        self._robots = RobotsPolicy(self._download_robots)
        # A trickling server could keep each read just under read_timeout forever: bound the whole request.
        timeouts = settings.connect_timeout + settings.read_timeout
        self.deadline_seconds = max(4 * settings.read_timeout, timeouts)
        self._backend = _GuardedBackend(self._address_refusal)
        self._client = httpx.Client(
            transport=_GuardedTransport(self._backend),
            headers={"User-Agent": settings.user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING},
            timeout=httpx.Timeout(
                connect=settings.connect_timeout,
                read=settings.read_timeout,
                write=settings.read_timeout,
                pool=settings.connect_timeout,
            ),
            follow_redirects=False,  # followed by hand, so that every hop passes the guard
            trust_env=False,  # no proxy from the environment (it would bypass the guard), no .netrc secrets
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close pooled connections."""
        self._client.close()

    def get(self, url: str, *, conditional: bool = True) -> Fetched:
        """GET ``url``, following up to ``max_redirects`` redirects, each checked like the first.

        With ``conditional`` and saved validators, a 304 answer gives
        ``Fetched(not_modified=True, content=b"")``. Raises FetchError subclasses:
        UnsafeURLError, RobotsDisallowedError, ResponseTooLargeError, HTTPStatusError.
        """
        headers: dict[str, str] = {}
        if conditional and self._validators is not None:
            etag, last_modified = self._validators.http_validators(url)
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
        reply = self._follow(url, headers, limit=self.settings.max_bytes, robots=self.settings.respect_robots)
        content_type, charset = _media_type(reply.headers.get("content-type", ""))
        etag, last_modified = reply.headers.get("etag"), reply.headers.get("last-modified")
        if reply.status == 304:
            return Fetched(
                url=reply.url,
                status=304,
                content=b"",
                content_type=content_type,
                charset=charset,
                etag=etag,
                last_modified=last_modified,
                not_modified=True,
            )
        if reply.status == 200 and self._validators is not None:
            self._validators.set_http_validators(url, etag, last_modified)
        return Fetched(
            url=reply.url,
            status=reply.status,
            content=reply.content,
            content_type=content_type,
            charset=charset,
            etag=etag,
            last_modified=last_modified,
        )

    def _address_refusal(self, ip: IPAddress) -> str | None:
        """The guard consulted for every connection (tests override it to admit one local server)."""
        return None if self.settings.allow_private else address_refusal(ip)

    def _follow(self, given: str, headers: dict[str, str], *, limit: int, robots: bool) -> _Reply:
        target = given
        # URL -> the cookies we held when we asked for it. Asking again with the same cookies would get the
        # same answer: a loop. With a new cookie it is the common "set a cookie and come back" bounce.
        seen: dict[str, frozenset[tuple[str, str, str, str | None]]] = {}
        for _hop in range(self.settings.max_redirects + 1):
            seen[_normal(target)] = self._cookies()
            reply = self._exchange(given, target, headers, limit=limit, robots=robots)
            if reply.location is None:
                return reply
            target = _next_hop(given, target, reply.location)
            if seen.get(_normal(target)) == self._cookies():
                raise FetchError(given, f"redirect loop: {target} was already visited")
        raise FetchError(given, f"too many redirects ({self.settings.max_redirects})")

    def _cookies(self) -> frozenset[tuple[str, str, str, str | None]]:
        return frozenset((c.domain, c.path, c.name, c.value) for c in self._client.cookies.jar)

    def _exchange(
        self, given: str, target: str, headers: dict[str, str], *, limit: int, robots: bool
    ) -> _Reply:
        """One request to ``target`` (``given`` or a redirect hop); errors name ``given``."""
        url = _parse(given, target)
        hop = "" if target == given else f" (redirected to {target})"
        if robots and not self._robots.allows(str(url)):
            reason = f"robots.txt of {url.host} disallows {url.path} to {ROBOTS_TOKEN}{hop}"
            raise RobotsDisallowedError(given, reason)
        self._wait_turn(url.host)
        with self._backend.deadline(self.deadline_seconds) as deadline:
            try:
                with self._client.stream("GET", url, headers=headers) as response:
                    reply = _Reply(target, response.status_code, response.headers)
                    if response.status_code in REDIRECT_STATUSES:
                        reply.location = response.headers.get("location")
                        if not reply.location:
                            reason = f"HTTP {response.status_code} redirect without a Location{hop}"
                            raise FetchError(given, reason)
                        return reply
                    if response.status_code == 304:
                        return reply
                    if response.status_code >= 300:
                        raise _status_error(given, response, hop)
                    reply.content = self._read_body(given, response, limit, deadline, hop)
                    return reply
            except _Refused as exc:
                raise UnsafeURLError(given, exc.text + hop) from None
            except _Unresolvable as exc:
                raise FetchError(given, f"could not connect: {exc.reason}{hop}") from None
            except httpx.TimeoutException as exc:
                raise FetchError(given, self._timeout_text(exc, deadline) + hop) from None
            except httpx.ConnectError as exc:
                raise FetchError(given, f"could not connect: {_one_line(exc)}{hop}") from None
            except httpx.HTTPError as exc:
                raise FetchError(given, f"transfer failed: {_one_line(exc)}{hop}") from None

    def _read_body(
        self, given: str, response: httpx.Response, limit: int, deadline: float, hop: str
    ) -> bytes:
        """The decoded body, refused as soon as it (raw or decoded) passes ``limit`` bytes."""
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise ResponseTooLargeError(
                given, f"the server announces {int(declared):,} bytes, over the {limit:,}-byte cap{hop}"
            )
        decoder = _Decoder(given, response.headers.get("content-encoding", ""))
        body = bytearray()
        for chunk in response.iter_raw():
            # room: one byte more than the cap allows, so that "more than the cap" is visible.
            body += decoder.feed(chunk, limit - len(body) + 1)
            if len(body) > limit or response.num_bytes_downloaded > limit:
                unpacked = " once decompressed" if decoder.encoding not in ("", "identity") else ""
                raise ResponseTooLargeError(given, f"more than the {limit:,}-byte cap{unpacked}{hop}")
            if time.monotonic() > deadline:
                raise FetchError(given, f"took longer than {self.deadline_seconds:g} s in all{hop}")
        return bytes(body)

    def _timeout_text(self, exc: httpx.TimeoutException, deadline: float) -> str:
        if time.monotonic() >= deadline - 0.01:
            return f"took longer than {self.deadline_seconds:g} s in all"
        if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
            return f"could not connect: timed out after {self.settings.connect_timeout:g} s"
        return f"timed out after {self.settings.read_timeout:g} s"

    def _wait_turn(self, host: str) -> None:
        """Sleep until ``per_host_delay`` seconds have passed since our last request to ``host``."""
        key = host.lower()
        last = self._last_request.get(key)
        if last is not None:
            wait = last + self.settings.per_host_delay - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last_request[key] = self._clock()

    def _download_robots(self, robots_url: str) -> bytes | None:
        """robots.txt through the same guards; None (allow everything) when there is no usable file."""
        try:
            limit = min(ROBOTS_MAX_BYTES, self.settings.max_bytes)
            return self._follow(robots_url, {}, limit=limit, robots=False).content
        except FetchError:
            # 4xx: no rules. 5xx, unreachable, refused, too big: allow too (the page request itself is still
            # guarded, so an unsafe host is refused there with its own clear error).
            return None


def _next_hop(given: str, current: str, location: str) -> str:
    """The absolute URL a redirect's Location points to, relative to the URL that answered."""
    try:
        return urljoin(current, location.strip())
    except ValueError as exc:
        raise FetchError(given, f"redirected to an invalid URL {location!r}: {_one_line(exc)}") from None


def _normal(url: str) -> str:
    try:
        return str(httpx.URL(url).copy_with(fragment=None))
    except (httpx.InvalidURL, ValueError):
        return url


def _status_error(given: str, response: httpx.Response, hop: str) -> HTTPStatusError:
    status = response.status_code
    phrase = f" {response.reason_phrase}" if response.reason_phrase else ""
    retry_after = _retry_after(response.headers.get("retry-after")) if status in (429, 503) else None
    wait = f", retry after {retry_after:g} s" if retry_after is not None else ""
    return HTTPStatusError(given, f"HTTP {status}{phrase}{wait}{hop}", status, retry_after)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait, from a Retry-After header (seconds or an HTTP date); None if absent or garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, round((when - datetime.now(UTC)).total_seconds()))


def _media_type(header: str) -> tuple[str, str | None]:
    """``"Text/HTML; charset=UTF-8"`` -> ``("text/html", "UTF-8")``."""
    media, *params = header.split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return media.strip().lower(), charset


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
