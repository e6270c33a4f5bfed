"""The civicwatch web app under a real uvicorn server on 127.0.0.1, for tests that speak HTTP to it.

    def test_home_page(site):
        site.store.add_document(...)            # fill the database the server reads
        response = site.get("/")                # a real request over a real socket
        assert response.status_code == 200

``site`` is parametrised through the ``store`` fixture (``tests/support/databases.py``), so
every test using it runs on SQLite and on PostgreSQL. The server listens on a free port in a
background thread; it is started before the test and stopped (and its thread joined) after.
"""

from __future__ import annotations

import functools
import hashlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import make_url

from civicwatch.store import Store
from civicwatch.web import create_app
from support.databases import ENGINES

__all__ = ["REPORTS", "LiveSite", "add_reports", "coded_site", "site"]

START_TIMEOUT_S = 10.0


class LiveSite:
    """A running server: ``url(path)`` gives addresses, ``get(path)`` requests, ``store`` its data."""

    def __init__(self, store: Store, **app_options: Any) -> None:
        self.store = store
        # The store's own URL, password included: the app opens its own Store on it, as `serve` would.
        database_url = store._url.render_as_string(hide_password=False)
        self.app = create_app(database_url, **app_options)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this. Without it, a kept-alive connection waits ~40 ms per response
        # (Nagle's algorithm meeting delayed ACKs), as uvicorn writes headers and body separately.
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name="test-site", daemon=True)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10.0)

    def url(self, path: str = "/") -> str:
        """The full URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}{path if path.startswith('/') else '/' + path}"

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET ``path`` (with ``params=...`` etc. as httpx takes them)."""
        return self.client.get(path, **kwargs)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test web server did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        self.client.close()
        self._server.should_exit = True
        self._thread.join(timeout=START_TIMEOUT_S)
        self._socket.close()


@pytest.fixture
def site(store: Store) -> Iterator[LiveSite]:
    """The web app over ``store`` (SQLite and PostgreSQL), served on a free port of 127.0.0.1."""
    live = LiveSite(store)
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module", params=ENGINES)
def coded_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveSite]:
    """A server over ``REPORTS``, coded, shared by a module's tests: they must only read.

    One database and one server per module and engine keeps read-only tests fast; a test that
    writes takes ``site`` instead.
    """
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('site') / 'civicwatch.db'}"
    else:
        admin = request.getfixturevalue("postgres_admin")
        schema = f"cw_test_{uuid.uuid4().hex[:12]}"
        admin.execute(f'CREATE SCHEMA "{schema}"')
        parsed = make_url(request.getfixturevalue("postgres_url"))
        parsed = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
        url = parsed.render_as_string(hide_password=False)
    store = Store(url)
    try:
        store.upgrade()
        add_reports(store)
        live = LiveSite(store)
        live.start()
        try:
            yield live
        finally:
            live.stop()
    finally:
        store.close()
        if schema is not None:
            request.getfixturevalue("postgres_admin").execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# -- fictional reports, coded by the real pipeline -------------------------------------------------------

# (title, text, published). Every person and organisation here is invented.
REPORTS = [
    ("Blogger detained in Nukus <script>alert('x')</script>",
     "On 3 May 2024 police in Nukus detained the blogger Dilshod Tarakov after he posted a video about the "
     "cotton harvest. He was charged with spreading false information.", "2024-05-05"),
    ("Journalist sentenced in Almaty",
     "A court in Almaty sentenced the journalist Aigerim Sadykova to five years in prison on "
     "12 February 2024 for her reporting on land sales.", "2024-02-14"),
    ("Rally dispersed in Bishkek",
     "On 20 March 2024 police in Bishkek dispersed a peaceful rally of the fictional Green Valley "
     "Association and detained twelve protesters.", "2024-03-21"),
    ("Defender acquitted in Tashkent",
     "The Tashkent city court acquitted the human rights defender Nodira Salimova on 1 April 2024; "
     "the charges of insulting the president were dropped.", "2024-04-02"),
    ("Foundation liquidated in Tajikistan",
     "The ministry of justice of Tajikistan liquidated the fictional Open Hands Foundation in January 2024 "
     "after an inspection.", "2024-02-01"),
]


def add_reports(store: Store, reports: list[tuple[str, str, str]] | None = None) -> list[int]:
    """Store ``reports`` (default ``REPORTS``) as documents, then code every uncoded document with the
    real coder (``civicwatch.code.process``) and connect them, as ``civicwatch process`` does; returns the
    new documents' ids."""
    from civicwatch.code.process import process
    from civicwatch.model import Document
    from civicwatch.store.events import connect

    ids = []
    for n, (title, text, published) in enumerate(REPORTS if reports is None else reports):
        document = Document(
            text=text, content_hash=hashlib.sha256(text.encode()).hexdigest(), title=title, lang="en",
            url=f"https://monitor.example.org/reports/{n}", published=published,
        )
        ids.append(store.add_document(document, signature=None, bands=[]))
    process(store, _coder())
    connect(store)
    return ids


@functools.cache
def _coder() -> Any:
    from civicwatch.code.coder import Coder

    return Coder()  # built once per test session: it compiles the codebook's automaton
