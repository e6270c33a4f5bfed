"""Fetching safely, against a real HTTP server on 127.0.0.1 (the ``web`` fixture).

The local server needs ``allow_private=True``; the tests of the SSRF guard use
the defaults and prove that nothing reaches the refused address.
"""

from __future__ import annotations

import gzip
import shutil
import socket
import ssl
import subprocess
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest

from civicwatch.collect.fetch import Fetcher, IPAddress, address_refusal, check_url
from civicwatch.config import Settings
from civicwatch.errors import (
    FetchError,
    HTTPStatusError,
    ResponseTooLargeError,
    RobotsDisallowedError,
    UnsafeURLError,
)
from support.webserver import WebServer


def local(**overrides: Any) -> Settings:
    """Settings for the local test server: private addresses allowed, no pause.

    Timeouts are short, yet long enough for a busy machine; the tests of timeouts set their own.
    """
    settings = Settings(
        allow_private=True,
        per_host_delay=0.0,
        connect_timeout=2.0,
        read_timeout=2.0,
        contact="monitors@example.org",
    )
    return replace(settings, **overrides)


class Validators:
    """An in-memory ValidatorCache, as the Store keeps them in its database."""

    def __init__(self) -> None:
        self.saved: dict[str, tuple[str | None, str | None]] = {}

    def http_validators(self, url: str) -> tuple[str | None, str | None]:
        return self.saved.get(url, (None, None))

    def set_http_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        self.saved[url] = (etag, last_modified)


class FakeTime:
    """A clock that moves only when the fetcher sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# --- ordinary pages ----------------------------------------------------------------------------------


def test_gets_a_page_with_its_media_type_and_charset(web: WebServer) -> None:
    web.add("/reports/1.html", "<h1>Rally in Eastvale</h1>", content_type="Text/HTML; Charset=ISO-8859-1")
    with Fetcher(local()) as fetcher:
        fetched = fetcher.get(web.url("/reports/1.html"))
    assert fetched.status == 200
    assert fetched.content == b"<h1>Rally in Eastvale</h1>"
    assert fetched.content_type == "text/html"
    assert fetched.charset == "ISO-8859-1"
    assert fetched.url == web.url("/reports/1.html")
    assert not fetched.not_modified


def test_sends_a_clear_user_agent(web: WebServer) -> None:
    web.add("/a", "a")
    settings = local()
    with Fetcher(settings) as fetcher:
        fetcher.get(web.url("/a"))
    _method, path, headers = web.requests[-1]
    assert path == "/a"
    assert headers["user-agent"] == settings.user_agent
    assert headers["user-agent"].startswith("civicwatch/") and "monitors@example.org" in headers["user-agent"]
    assert headers["accept-encoding"] == "gzip, deflate"


def test_serves_files_from_a_folder(web: WebServer, tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "feed.xml").write_text("<rss version='2.0'></rss>", encoding="utf-8")
    web.serve_dir(tmp_path)
    with Fetcher(local()) as fetcher:
        fetched = fetcher.get(web.url("/site/feed.xml"))
    assert fetched.content == b"<rss version='2.0'></rss>"
    assert fetched.content_type in ("application/xml", "text/xml")


def test_an_empty_page_and_a_binary_page_are_returned_as_they_are(web: WebServer) -> None:
    with Fetcher(local()) as fetcher:
        empty = fetcher.get(web.url("/empty"))
        binary = fetcher.get(web.url("/wrong-type"))
    assert (empty.status, empty.content) == (200, b"")
    # Judging the bytes is the readers' job: the fetcher reports what the server said.
    assert binary.content_type == "text/html" and binary.content.startswith(b"\x89PNG")


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_compressed_pages_are_decoded(web: WebServer, encoding: str) -> None:
    text = "<p>The Lakeside Civic Forum was denied registration.</p>" * 200
    if encoding == "gzip":
        body = gzip.compress(text.encode())
    elif encoding == "deflate":
        body = zlib.compress(text.encode())
    else:  # what many servers send as "deflate"
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body = packer.compress(text.encode()) + packer.flush()
    web.add("/packed", body, headers={"Content-Encoding": encoding.removeprefix("raw-")})
    with Fetcher(local()) as fetcher:
        assert fetcher.get(web.url("/packed")).content == text.encode()


# --- the SSRF guard ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "gopher://127.0.0.1:70/1", "ftp://example.org/", "javascript:alert(1)", "//a.org"],
)
def test_only_http_and_https_are_fetched(url: str) -> None:
    with pytest.raises(UnsafeURLError) as refused:
        check_url(url, allow_private=True)
    assert refused.value.input == url
    with Fetcher(local()) as fetcher, pytest.raises(UnsafeURLError) as refused:
        fetcher.get(url)
    assert refused.value.input == url
    assert "only http:// and https://" in refused.value.reason


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("[::1]", "loopback"),
        ("localhost", "loopback"),
        ("2130706433", "loopback"),  # 127.0.0.1 written as one number
        ("[::ffff:127.0.0.1]", "loopback"),  # IPv4-mapped IPv6
        ("0.0.0.0", "unspecified"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata address
        ("[fe80::1]", "link-local"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "not a public address"),
    ],
)
def test_private_addresses_are_refused(web: WebServer, host: str, kind: str) -> None:
    url = f"http://{host}:{web.port}/empty"
    with pytest.raises(UnsafeURLError) as refused:
        check_url(url, allow_private=False)
    assert kind in refused.value.reason
    with Fetcher(Settings(per_host_delay=0)) as fetcher, pytest.raises(UnsafeURLError) as refused:
        fetcher.get(url)
    assert refused.value.input == url
    assert kind in refused.value.reason and "refused" in refused.value.reason
    assert web.requests == []  # not even robots.txt was asked for


def test_allow_private_lets_the_operator_reach_a_local_server(web: WebServer) -> None:
    check_url(web.url("/empty"), allow_private=True)
    with Fetcher(local(allow_private=True)) as fetcher:
        assert fetcher.get(web.url("/empty")).status == 200


def test_public_addresses_pass_the_check() -> None:
    check_url("https://93.184.215.14/reports", allow_private=False)  # a literal: no DNS query, no traffic
    check_url("http://[2001:db8::1]/", allow_private=True)
    for public in ("8.8.8.8", "2001:4860:4860::8888", "64:ff9b::808:808"):
        assert address_refusal(ip_address(public)) is None
    assert address_refusal(ip_address("64:ff9b::a00:1")) == "a private address (10.0.0.1 inside IPv6)"
    assert address_refusal(ip_address("2002:a00:1::1")) == "a private address (10.0.0.1 inside IPv6)"


class OnlyThisServer(Fetcher):
    """A fetcher that admits 127.0.0.1 (the first hop) and guards everything else as in production."""

    def _address_refusal(self, ip: IPAddress) -> str | None:
        return None if str(ip) == "127.0.0.1" else address_refusal(ip)


@pytest.mark.parametrize(
    "target", ["http://[::1]:{port}/empty", "http://10.0.0.1/", "http://[::ffff:7f00:1]:{port}/", "file:///etc/passwd"]
)
def test_every_redirect_hop_is_checked(web: WebServer, target: str) -> None:
    target = target.format(port=web.port)
    start = web.url(f"/redirect-to?url={target}")
    with OnlyThisServer(Settings(per_host_delay=0, respect_robots=False)) as fetcher:
        with pytest.raises(UnsafeURLError) as refused:
            fetcher.get(start)
        assert fetcher.get(web.url("/empty")).status == 200  # the first hop alone is admitted
    assert refused.value.input == start
    assert f"redirected to {target}" in refused.value.reason
    assert web.paths() == [f"/redirect-to?url={target}", "/empty"]


# --- redirects ---------------------------------------------------------------------------------------


def test_follows_redirects_up_to_the_limit(web: WebServer) -> None:
    with Fetcher(local(max_redirects=5)) as fetcher:
        fetched = fetcher.get(web.url("/redirect-chain/5"))
        assert fetched.url == web.url("/redirect-chain/0")
        assert fetched.content == b"<p>end of the chain</p>"
        with pytest.raises(FetchError, match=r"too many redirects \(5\)"):
            fetcher.get(web.url("/redirect-chain/6"))


def test_a_redirect_loop_is_stopped(web: WebServer) -> None:
    with Fetcher(local()) as fetcher, pytest.raises(FetchError) as failed:
        fetcher.get(web.url("/redirect-loop"))
    assert failed.value.reason.startswith("redirect loop")
    assert web.paths().count("/redirect-loop") == 1


def test_coming_back_with_a_new_cookie_is_not_a_loop(web: WebServer) -> None:
    with Fetcher(local()) as fetcher:
        fetched = fetcher.get(web.url("/cookie-bounce"))
    assert fetched.content == b"<p>welcome back</p>"
    assert web.paths() == ["/robots.txt", "/cookie-bounce", "/cookie-bounce"]


def test_a_redirect_to_another_page_of_the_site(web: WebServer) -> None:
    web.add("/new-home", "moved here")
    with Fetcher(local()) as fetcher:
        fetched = fetcher.get(web.url("/redirect-to?url=/new-home&status=301"))
    assert (fetched.url, fetched.content) == (web.url("/new-home"), b"moved here")


# --- statuses, timeouts, unreachable hosts -----------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410, 500])
def test_error_statuses(web: WebServer, status: int) -> None:
    url = web.url(f"/status/{status}")
    with Fetcher(local()) as fetcher, pytest.raises(HTTPStatusError) as failed:
        fetcher.get(url)
    assert (failed.value.input, failed.value.status, failed.value.retry_after) == (url, status, None)
    assert failed.value.reason.startswith(f"HTTP {status}")


def test_retry_after_in_seconds_or_as_a_date(web: WebServer) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    with Fetcher(local()) as fetcher:
        with pytest.raises(HTTPStatusError) as limited:
            fetcher.get(web.url("/status/429"))
        with pytest.raises(HTTPStatusError) as down:
            fetcher.get(web.url(f"/status/503?retry_after={later}"))
    assert (limited.value.status, limited.value.retry_after) == (429, 120.0)
    assert down.value.status == 503 and down.value.retry_after is not None
    assert 80 <= down.value.retry_after <= 91


def test_a_slow_server_times_out(web: WebServer) -> None:
    started = time.monotonic()
    with Fetcher(local(read_timeout=0.3)) as fetcher, pytest.raises(FetchError) as failed:
        fetcher.get(web.url("/slow?seconds=5"))
    assert failed.value.reason == "timed out after 0.3 s"
    assert time.monotonic() - started < 2


def test_a_trickling_server_is_cut_off_at_the_deadline(web: WebServer) -> None:
    settings = local(read_timeout=0.25, connect_timeout=0.25)
    started = time.monotonic()
    with Fetcher(settings) as fetcher, pytest.raises(FetchError) as failed:
        fetcher.get(web.url("/trickle?interval=0.05"))  # each byte well within the read timeout
    elapsed = time.monotonic() - started
    assert failed.value.reason == "took longer than 1 s in all"
    assert 0.9 < elapsed < 2.5


def test_a_closed_port_cannot_be_connected_to() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    with Fetcher(local()) as fetcher, pytest.raises(FetchError) as failed:
        fetcher.get(url)
    assert failed.value.input == url
    assert failed.value.reason.startswith("could not connect:")
    assert "\n" not in failed.value.reason and "Traceback" not in failed.value.reason


# --- size caps ---------------------------------------------------------------------------------------


def test_an_endless_body_is_cut_at_the_cap(web: WebServer) -> None:
    with Fetcher(local(max_bytes=100_000)) as fetcher, pytest.raises(ResponseTooLargeError) as failed:
        fetcher.get(web.url("/huge"))
    assert "100,000-byte cap" in failed.value.reason


def test_a_declared_huge_body_is_refused_before_reading(web: WebServer) -> None:
    with Fetcher(local(max_bytes=100_000)) as fetcher, pytest.raises(ResponseTooLargeError) as failed:
        fetcher.get(web.url("/huge-declared"))
    assert "announces 1,000,000,000,000 bytes" in failed.value.reason


def test_a_gzip_bomb_is_stopped_once_decompressed(web: WebServer) -> None:
    started = time.monotonic()
    with Fetcher(local(max_bytes=1_000_000)) as fetcher, pytest.raises(ResponseTooLargeError) as failed:
        fetcher.get(web.url("/gzip-bomb"))
    assert failed.value.reason == "more than the 1,000,000-byte cap once decompressed"
    assert time.monotonic() - started < 3


def test_a_page_exactly_at_the_cap_is_read(web: WebServer) -> None:
    web.add("/exact", b"x" * 5000, headers={})
    web.add("/packed", gzip.compress(b"y" * 5000), headers={"Content-Encoding": "gzip"})
    with Fetcher(local(max_bytes=5000)) as fetcher:
        assert len(fetcher.get(web.url("/exact")).content) == 5000
        assert len(fetcher.get(web.url("/packed")).content) == 5000


# --- conditional GET ---------------------------------------------------------------------------------


def test_conditional_get_saves_validators_and_gets_304(web: WebServer) -> None:
    validators = Validators()
    url = web.url("/etag")
    with Fetcher(local(), validators=validators) as fetcher:
        first = fetcher.get(url)
        again = fetcher.get(url)
        forced = fetcher.get(url, conditional=False)
    assert first.status == 200 and first.etag == '"v1"'
    assert validators.saved[url] == ('"v1"', "Mon, 04 Mar 2024 10:00:00 GMT")
    assert again.not_modified and again.status == 304 and again.content == b""
    assert forced.status == 200 and forced.content == b"<p>versioned page</p>"
    sent = [headers for _m, path, headers in web.requests if path == "/etag"]
    assert sent[0]["if-none-match"] is None
    assert sent[1]["if-none-match"] == '"v1"'
    assert sent[1]["if-modified-since"] == "Mon, 04 Mar 2024 10:00:00 GMT"
    assert sent[2]["if-none-match"] is None


def test_a_changed_page_replaces_its_validators(web: WebServer) -> None:
    validators = Validators()
    url = web.url("/etag")
    with Fetcher(local(), validators=validators) as fetcher:
        fetcher.get(url)
        web.etag = '"v2"'
        changed = fetcher.get(url)
    assert changed.status == 200 and not changed.not_modified
    assert validators.saved[url][0] == '"v2"'


# --- robots.txt --------------------------------------------------------------------------------------


def test_robots_txt_is_respected_and_read_once_per_host(web: WebServer) -> None:
    web.robots = "User-agent: *\nDisallow: /private\n"
    web.add("/public", "open")
    web.add("/private/list", "closed")
    with Fetcher(local()) as fetcher:
        assert fetcher.get(web.url("/public")).content == b"open"
        with pytest.raises(RobotsDisallowedError) as refused:
            fetcher.get(web.url("/private/list"))
        fetcher.get(web.url("/public"))
    assert refused.value.input == web.url("/private/list")
    assert "robots.txt" in refused.value.reason
    assert web.paths() == ["/robots.txt", "/public", "/public"]


def test_robots_rules_for_civicwatch_itself(web: WebServer) -> None:
    web.robots = "User-agent: otherbot\nAllow: /\n\nUser-agent: civicwatch\nDisallow: /\n"
    with Fetcher(local()) as fetcher, pytest.raises(RobotsDisallowedError):
        fetcher.get(web.url("/empty"))


def test_robots_rules_for_another_crawler_do_not_apply(web: WebServer) -> None:
    web.robots = "User-agent: otherbot\nDisallow: /\n"
    with Fetcher(local()) as fetcher:
        assert fetcher.get(web.url("/empty")).status == 200


@pytest.mark.parametrize(("robots", "status"), [(None, 404), ("User-agent: *\nDisallow: /\n", 500)])
def test_a_missing_or_failing_robots_txt_allows_all(web: WebServer, robots: str | None, status: int) -> None:
    web.robots = robots
    web.robots_status = status
    with Fetcher(local()) as fetcher:
        assert fetcher.get(web.url("/empty")).status == 200


def test_robots_txt_is_not_read_when_not_respected(web: WebServer) -> None:
    web.robots = "User-agent: *\nDisallow: /\n"
    with Fetcher(local(respect_robots=False)) as fetcher:
        assert fetcher.get(web.url("/empty")).status == 200
    assert web.paths() == ["/empty"]


def test_a_redirect_into_a_disallowed_path_is_refused(web: WebServer) -> None:
    web.robots = "User-agent: *\nDisallow: /private\n"
    web.add("/private/x", "closed")
    with Fetcher(local()) as fetcher, pytest.raises(RobotsDisallowedError) as refused:
        fetcher.get(web.url("/redirect-to?url=/private/x"))
    assert "redirected to" in refused.value.reason
    assert "/private/x" not in web.paths()


# --- pacing ------------------------------------------------------------------------------------------


def test_waits_between_requests_to_the_same_host(web: WebServer) -> None:
    fake = FakeTime()
    settings = local(per_host_delay=2.0, respect_robots=False)
    with Fetcher(settings, clock=fake.clock, sleep=fake.sleep) as fetcher:
        fetcher.get(web.url("/empty"))
        fetcher.get(web.url("/empty"))
        fake.now += 5  # long enough ago: no wait
        fetcher.get(web.url("/empty"))
        fetcher.get(f"http://localhost:{web.port}/empty")  # another host name: its own turn
    assert fake.sleeps == [2.0]


# --- https -------------------------------------------------------------------------------------------


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate for "localhost": (port, certificate)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server.server_address[1], cert
    server.shutdown()
    server.server_close()


def test_https_verifies_the_certificate_of_the_host_name(
    tls_server: tuple[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, cert = tls_server
    settings = local(respect_robots=False)
    with Fetcher(settings) as fetcher, pytest.raises(FetchError) as untrusted:
        fetcher.get(f"https://localhost:{port}/")
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.value.reason
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust our test certificate
    with Fetcher(settings) as fetcher:
        # The guard connects to the address it checked, yet TLS still verifies the name "localhost".
        assert fetcher.get(f"https://localhost:{port}/").content == b"hello"
        with pytest.raises(FetchError, match="not valid for '127.0.0.1'"):
            fetcher.get(f"https://127.0.0.1:{port}/")
