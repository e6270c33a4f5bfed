"""The security review's tests (``docs/security.md`` maps each OWASP ASVS level 2 item to one of them).

Everything runs against a real uvicorn server on 127.0.0.1 over SQLite and PostgreSQL, and every route
list is read from ``app.routes`` (and the API's OpenAPI), so a route added later is covered without
editing this file: security headers, cookie flags, session fixation, server-side session ends (logout,
password and role changes, lock-out), the lock-out across worker processes, CSRF on every POST, the
role required by every route for every role, IDOR on every ``{id}`` route, the confidentiality walk for
the roles ``tests/test_confidentiality.py`` does not take, open redirects, secrets in responses and the
escaping of hostile text. All names are fictional.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from markupsafe import escape
from sqlalchemy import make_url, select

from civicwatch.model import Document, Incident, Source, SourceKind
from civicwatch.store import Store
from civicwatch.store.events import connect
from civicwatch.store.schema import users
from civicwatch.store.users import (
    MAX_FAILED_LOGINS,
    ROLES,
    add_user,
    authenticate,
    remove_user,
    set_password,
    set_role,
)
from civicwatch.web.auth import COOKIE, SESSION_SECONDS, LoginRateLimiter, RoleCheck, load_secret
from support.databases import ENGINES
from support.server import LiveSite, add_reports
from test_confidentiality import PASSWORD as VIEWER_PASSWORD
from test_confidentiality import PUBLIC, leaks, planted  # noqa: F401  (planted is a fixture used below)

PASSWORD = "a long enough password"
SECRET = "test-session-secret-" + "k" * 40  # the server's signing key: it must never be sent back
ACCOUNTS = {"viewer": "vera", "researcher": "rustam", "admin": "adolat"}
HOSTILE_SOURCE = '"><img src=x onerror=alert("cw-source")>'
HOSTILE_PERSON = '<script>alert("cw-person")</script>'
HOSTILE_QUERY = '<script>alert("cw-query")</script>'
# Public routes that show researchers (and admins) the whole item, confidential parts included, on purpose:
# the route and why. Anonymous visitors and viewers get the public view there (test_confidentiality).
RESEARCHER_VIEWS = {
    "/events/{id}": "researchers split and merge events, so they see every report joined (web/events.py)",
}
# Queries that would break a query built by pasting text: SQL quoting, FTS5 and tsquery syntax.
INJECTIONS = ("'; DROP TABLE incidents; --", '"unbalanced NEAR( * OR', "a) | !b & (c:*")
RAW_HOSTILE = ("<script>alert(", "<img src=x onerror")  # as they would appear if a page did not escape them


# -- the site: one server per engine for the module ------------------------------------------------------


def roomy(site: LiveSite) -> LiveSite:
    """Every test signs in from 127.0.0.1: lift the per-address limit (its own test is in test_accounts)."""
    site.app.state.login_limiter = LoginRateLimiter(attempts=100_000)
    return site


@pytest.fixture(scope="module", params=ENGINES)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """The coded sample reports, a hostile source and person, an account per role, served with ``SECRET``.

    Tests may add accounts (each its own) but leave the data as it is.
    """
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('security') / 'civicwatch.db'}"
    else:
        admin = request.getfixturevalue("postgres_admin")
        schema = f"cw_test_{uuid.uuid4().hex[:12]}"
        admin.execute(f'CREATE SCHEMA "{schema}"')
        parsed = make_url(request.getfixturevalue("postgres_url"))
        url = parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    store = Store(url)
    try:
        store.upgrade()
        add_reports(store)
        _plant_hostile(store)
        connect(store)  # events and the registry of persons, so their pages have something to show
        for role, name in ACCOUNTS.items():
            add_user(store, name, role, PASSWORD)
        site = roomy(LiveSite(store, secret_key=SECRET))
        site.start()
        try:
            yield site
        finally:
            site.stop()
    finally:
        store.close()
        if schema is not None:
            request.getfixturevalue("postgres_admin").execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _plant_hostile(store: Store) -> None:
    source = store.add_source(Source(HOSTILE_SOURCE, "https://hostile.example.org/feed", SourceKind.FEED))
    text = f"Police in Osh detained the journalist {HOSTILE_PERSON} on 4 June 2024 (fictional)."
    evidence = f"detained the journalist {HOSTILE_PERSON}"
    start = text.index(evidence)
    document_id = store.add_document(
        Document(text=text, content_hash=hashlib.sha256(text.encode()).hexdigest(), title=f"Detention {HOSTILE_PERSON}",
                 source_id=source.id, url="https://hostile.example.org/1", lang="en", published="2024-06-05"),
        signature=None, bands=[],
    )
    store.save_coding(document_id, [Incident(
        "KG", ["detention"], rights=["expression"], targets=["journalist"], persons=[HOSTILE_PERSON],
        perpetrators=["police"], date="2024-06-04", evidence=evidence, evidence_start=start,
        evidence_end=start + len(evidence), confidence=0.6,
    )], "1.test")


# -- helpers --------------------------------------------------------------------------------------------


def client_of(site: LiveSite) -> httpx.Client:
    return httpx.Client(base_url=site.url(""), timeout=20.0)


def csrf(client: httpx.Client, path: str = "/login") -> str:
    """The CSRF token of the form on ``path`` (the GET also gives the client a session)."""
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, (path, page.status_code, page.text[:300])
    return found.group(1)


def log_in(client: httpx.Client, name: str, password: str = PASSWORD, next_path: str = "/") -> httpx.Response:
    return client.post("/login", data={"name": name, "password": password, "csrf_token": csrf(client),
                                       "next": next_path})


def signed_in(site: LiveSite, name: str, password: str = PASSWORD) -> httpx.Client:
    client = client_of(site)
    response = log_in(client, name, password)
    assert response.status_code == 303, response.text[:300]
    return client


def is_signed_in(client: httpx.Client) -> bool:
    """Whether the client's cookie still opens a page every account may see (the field report form)."""
    response = client.get("/reports/new")
    assert response.status_code in (200, 303), response.status_code
    return response.status_code == 200


def routes(app_routes: list[Any], prefix: str = "") -> list[tuple[str, str, APIRoute]]:
    """(method, path, route) for every route of the site, looking inside included routers."""
    found: list[tuple[str, str, APIRoute]] = []
    for route in app_routes:
        if isinstance(route, APIRoute):
            found += [(method, prefix + route.path, route) for method in sorted(route.methods)]
        elif hasattr(route, "original_router"):
            found += routes(route.original_router.routes, prefix + route.include_context.prefix)
    return found


def required_role(route: APIRoute) -> str | None:
    """The role a route demands (through any of its dependencies), or None for a public route."""
    def walk(dependant: Any) -> Iterator[str]:
        for dependency in dependant.dependencies:
            if isinstance(dependency.call, RoleCheck):
                yield dependency.call.role
            yield from walk(dependency)

    demanded = list(walk(route.dependant))
    return max(demanded, key=ROLES.index) if demanded else None


def fill(path: str, number: int, country: str = "UZ") -> str:
    """``path`` with each parameter filled: ``number`` for ids, ``country`` (one with reports) for codes."""
    return re.sub(r"{[^}]+}", lambda m: country if "iso2" in m.group(0) else str(number), path)


def api_get_paths(site: LiveSite) -> list[str]:
    spec = site.get("/api/v1/openapi.json").json()
    return [f"/api/v1{p}" for p, operations in spec["paths"].items() if "get" in operations]


def first_incident_id(store: Store) -> int:
    [incident, *_] = store.incidents()
    assert incident.id is not None
    return incident.id


# -- HTTP security headers (ASVS V14.4) -----------------------------------------------------------------


def check_headers(response: httpx.Response) -> None:
    headers = response.headers
    policy = {part.split()[0]: part.split()[1:] for part in headers["content-security-policy"].split(";")
              if part.strip()}
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] in ("same-origin", "strict-origin-when-cross-origin", "no-referrer")
    if headers.get("content-type", "").startswith("text/html"):
        # The CSP forbids inline scripts; a page needing one would break, so there must be none.
        for tag in re.findall(r"<script\b[^>]*>", response.text):
            assert "src=" in tag, tag
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", response.text), "inline event handler"


def test_every_kind_of_response_carries_the_security_headers(live: LiveSite) -> None:
    incident_id = first_incident_id(live.store)
    [document, *_] = live.store.documents()
    researcher = signed_in(live, ACCOUNTS["researcher"])
    anonymous = client_of(live)
    try:
        responses = {
            "home": anonymous.get("/"), "home again (page cache)": anonymous.get("/"),
            "country": anonymous.get("/countries/UZ"), "incidents": anonymous.get("/incidents"),
            "incident": anonymous.get(f"/incidents/{incident_id}"),
            "document": anonymous.get(f"/documents/{document.id}"),
            "search": anonymous.get("/search", params={"q": "police"}), "login": anonymous.get("/login"),
            "api": anonymous.get("/api/v1/incidents"), "openapi": anonymous.get("/api/v1/openapi.json"),
            "api 404": anonymous.get("/api/v1/no-such-thing"), "feed": anonymous.get("/feeds/incidents.atom"),
            "export": anonymous.get("/incidents/export.csv"), "static": anonymous.get("/static/site.css"),
            "404": anonymous.get("/no-such-page"), "422": anonymous.get("/incidents", params={"date_from": "soon"}),
            "403 csrf": anonymous.post("/login", data={"name": "x", "password": "y"}),
            "login redirect": anonymous.get("/review"), "review": researcher.get("/review"),
            "incident as researcher": researcher.get(f"/incidents/{incident_id}"),
            "event as researcher": researcher.get("/events/1"),
            "static as researcher": researcher.get("/static/site.css"),
            # No folder listings, no way out of the static folder, no debugging or Swagger pages.
            "static folder": anonymous.get("/static/"),
            "static traversal": anonymous.get("/static/%2e%2e/%2e%2e/%2e%2e/pyproject.toml"),
            "docs": anonymous.get("/docs"), "api docs": anonymous.get("/api/v1/docs"),
        }
    finally:
        researcher.close()
        anonymous.close()

    assert responses["home again (page cache)"].headers.get("x-civicwatch-cache") == "hit"
    for kind in ("static folder", "static traversal", "docs", "api docs"):
        assert responses[kind].status_code == 404, kind
    assert "[tool.pytest" not in responses["static traversal"].text
    # What a signed-in account sees is kept by no browser or proxy; public pages stay cacheable.
    for kind in ("review", "incident as researcher", "event as researcher"):
        assert "no-store" in re.split(r",\s*", responses[kind].headers["cache-control"]), kind
    assert "no-store" not in responses["home"].headers.get("cache-control", "")
    assert "no-store" not in responses["static as researcher"].headers.get("cache-control", "")
    assert {r.status_code for r in responses.values()} >= {200, 303, 403, 404, 422}
    for kind, response in responses.items():
        try:
            check_headers(response)
        except (AssertionError, KeyError) as failure:
            raise AssertionError(f"{kind} ({response.request.url.path}, {response.status_code})") from failure


# -- session management (ASVS V3) -----------------------------------------------------------------------


def test_the_session_cookie_is_http_only_same_site_signed_and_short_lived(live: LiveSite) -> None:
    client = client_of(live)
    try:
        response = log_in(client, ACCOUNTS["viewer"])
        cookie = response.headers["set-cookie"]
        forged = client_of(live)
        forged.cookies.set(COOKIE, client.cookies[COOKIE][:-3] + "abc")  # a tampered signature
        tampered_is_anonymous = not is_signed_in(forged)
        forged.close()
    finally:
        client.close()

    assert response.status_code == 303
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    max_age = int(re.search(r"Max-Age=(\d+)", cookie).group(1))  # type: ignore[union-attr]
    assert 0 < max_age <= SESSION_SECONDS <= 12 * 3600
    assert "Secure" not in cookie  # plain HTTP here; test_accounts checks Secure behind an HTTPS proxy
    assert tampered_is_anonymous


def test_a_session_planted_before_login_is_replaced_at_login(live: LiveSite) -> None:
    victim = client_of(live)
    try:
        csrf(victim)
        planted_cookie = victim.cookies[COOKIE]  # what an attacker would have fixed in the victim's browser
        assert log_in(victim, ACCOUNTS["viewer"]).status_code == 303
        after = victim.cookies[COOKIE]
        victim_in = is_signed_in(victim)
        attacker = client_of(live)
        attacker.cookies.set(COOKIE, planted_cookie)
        attacker_in = is_signed_in(attacker)
        attacker.close()
    finally:
        victim.close()

    assert after != planted_cookie
    assert victim_in and not attacker_in


def _copy(site: LiveSite, client: httpx.Client) -> httpx.Client:
    """Another client holding the same cookie: a stolen copy of the session."""
    thief = client_of(site)
    thief.cookies.set(COOKIE, client.cookies[COOKIE])
    return thief


def test_logout_ends_every_session_of_the_account_stolen_copies_included(live: LiveSite) -> None:
    add_user(live.store, "lola", "viewer", PASSWORD)
    laptop, phone = signed_in(live, "lola"), signed_in(live, "lola")
    thief = _copy(live, laptop)
    other = signed_in(live, ACCOUNTS["viewer"])  # another account's session is not touched
    try:
        assert is_signed_in(thief) and is_signed_in(phone)
        assert laptop.post("/logout", data={"csrf_token": csrf(laptop)}).status_code == 303
        ended = [not is_signed_in(c) for c in (laptop, phone, thief)]
        other_in = is_signed_in(other)
        again = log_in(laptop, "lola").status_code  # signing in again works as before
        laptop_in = is_signed_in(laptop)
    finally:
        for c in (laptop, phone, thief, other):
            c.close()

    assert ended == [True, True, True]
    assert other_in and again == 303 and laptop_in


@pytest.mark.parametrize("change", ["password", "role", "removal", "lock-out"])
def test_an_account_change_ends_its_sessions_server_side(live: LiveSite, change: str) -> None:
    name = f"sami-{change}"
    add_user(live.store, name, "researcher", PASSWORD)
    victim = signed_in(live, name)
    thief = _copy(live, victim)
    try:
        assert is_signed_in(thief)
        if change == "password":
            set_password(live.store, name, "a new long password")
        elif change == "role":
            set_role(live.store, name, "admin")  # a promotion: the old cookie would otherwise stay valid
        elif change == "removal":
            remove_user(live.store, name)
        else:
            guesser = client_of(live)
            for _ in range(MAX_FAILED_LOGINS):
                assert log_in(guesser, name, "not the password").status_code == 401
            guesser.close()
        thief_in, victim_in = is_signed_in(thief), is_signed_in(victim)
    finally:
        victim.close()
        thief.close()

    assert not thief_in and not victim_in


def test_a_login_attempt_leaves_the_data_version_and_the_page_cache_alone(live: LiveSite) -> None:
    add_user(live.store, "dana", "viewer", PASSWORD)
    anonymous = httpx.Client(base_url=live.url(""), timeout=20.0)  # never given a cookie: page-cached
    attempts = client_of(live)
    try:
        anonymous.get("/countries/UZ")
        before = live.store.data_version()
        assert anonymous.get("/countries/UZ").headers.get("x-civicwatch-cache") == "hit"
        assert log_in(attempts, "dana", "not the password").status_code == 401
        assert log_in(attempts, "nobody-by-this-name", "not the password").status_code == 401
        assert log_in(attempts, "dana").status_code == 303
        assert attempts.post("/logout", data={"csrf_token": csrf(attempts)}).status_code == 303
        after = live.store.data_version()
        cached = anonymous.get("/countries/UZ").headers.get("x-civicwatch-cache")
    finally:
        anonymous.close()
        attempts.close()

    assert after == before
    assert cached == "hit"


def test_the_lock_out_holds_against_simultaneous_attempts(store: Store) -> None:
    add_user(store, "timur", "viewer", PASSWORD)
    results: list[object] = []
    start = threading.Barrier(6)

    def guess() -> None:
        start.wait()
        results.append(authenticate(store, "timur", "not the password"))

    threads = [threading.Thread(target=guess) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with store._read() as connection:
        row = connection.execute(select(users.c.failed_logins, users.c.locked_until)).one()

    assert results == [None] * 6
    # Counted one at a time, none lost: the 5th locked the account, the 6th met the lock and was not counted.
    assert row.failed_logins == MAX_FAILED_LOGINS and row.locked_until is not None
    assert authenticate(store, "timur", PASSWORD) is None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_two_worker_processes_share_sessions_and_the_lock_out(store: Store, tmp_path: Path) -> None:
    add_user(store, "zarina", "viewer", PASSWORD)
    add_user(store, "farid", "viewer", PASSWORD)
    port = _free_port()
    url = store._url.render_as_string(hide_password=False)
    environment = {**os.environ, "CIVICWATCH_DATA_DIR": str(tmp_path / "data")}
    environment.pop("CIVICWATCH_SECRET_KEY", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "civicwatch", "serve", "--workers", "2", "--port", str(port), "--database", url],
        env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "the two-worker server did not start"
            time.sleep(0.2)

        def fresh() -> httpx.Client:  # a new connection each time, so requests spread over the workers
            return httpx.Client(base_url=base, timeout=20.0, headers={"connection": "close"})

        failures = []
        for _ in range(MAX_FAILED_LOGINS):
            with fresh() as guesser:
                failures.append(log_in(guesser, "zarina", "not the password").status_code)
        with fresh() as owner:
            locked = log_in(owner, "zarina").status_code

        with fresh() as farid:
            assert log_in(farid, "farid").status_code == 303
            cookie = farid.cookies[COOKIE]
            seen = []
            for _ in range(6):
                with fresh() as copy:
                    copy.cookies.set(COOKIE, cookie)
                    seen.append(is_signed_in(copy))
            assert farid.post("/logout", data={"csrf_token": csrf(farid)}).status_code == 303
            after_logout = []
            for _ in range(6):
                with fresh() as copy:
                    copy.cookies.set(COOKIE, cookie)
                    after_logout.append(is_signed_in(copy))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    assert failures == [401] * MAX_FAILED_LOGINS and locked == 401
    assert seen == [True] * 6 and after_logout == [False] * 6


# -- CSRF (ASVS V4.2.2, V3.5) ----------------------------------------------------------------------------


def test_every_post_route_refuses_a_missing_or_wrong_csrf_token(live: LiveSite) -> None:
    add_user(live.store, "csrf-admin", "admin", PASSWORD)
    admin = signed_in(live, "csrf-admin")
    other = client_of(live)
    try:
        foreign = csrf(other)  # a valid token of another session
        own = csrf(admin)
        posts = [path for method, path, _ in routes(live.app.routes) if method == "POST"]
        refused: dict[str, list[int]] = {}
        accepted: dict[str, int] = {}
        for pattern in posts:
            path = fill(pattern, 999_999)  # nothing by that id: even an accepted token changes nothing
            refused[pattern] = [
                admin.post(path, data={}).status_code,
                admin.post(path, data={"csrf_token": "forged"}).status_code,
                admin.post(path, data={"csrf_token": foreign}).status_code,
                admin.post(path, headers={"x-csrf-token": "forged"}).status_code,
                admin.post(path, files={"csrf_token": (None, foreign)}).status_code,
            ]
            if pattern != "/logout":
                accepted[pattern] = admin.post(path, data={"csrf_token": own}).status_code
        api_spec = live.get("/api/v1/openapi.json").json()
    finally:
        admin.close()
        other.close()

    assert len(posts) >= 10 and "/login" in posts and "/review/{id}/accept" in posts
    assert {p: codes for p, codes in refused.items() if set(codes) != {403}} == {}
    # The control: with its own token the same request gets past the check (to a 303, 404, 422 ...).
    assert {p: code for p, code in accepted.items() if code == 403} == {}
    # The API only reads, so it needs no token (and carries no cookie-based state change).
    assert {m for operations in api_spec["paths"].values() for m in operations} <= {"get", "head", "parameters"}


# -- access control: the role matrix and IDOR (ASVS V4) ----------------------------------------------------


def expectation(role: str | None, required: str | None) -> str:
    """What ``role`` (None: anonymous) must meet at a route demanding ``required``."""
    if required is None:
        return "allowed"
    if role is None:
        return "login"
    return "allowed" if ROLES.index(role) >= ROLES.index(required) else "forbidden"


def outcome(response: httpx.Response) -> str:
    if response.status_code == 303 and response.headers["location"].startswith("/login?next="):
        return "login"
    if response.status_code == 403:
        return "forbidden"
    return "allowed"


def test_every_route_admits_exactly_the_roles_it_is_for(live: LiveSite) -> None:
    incident_id = first_incident_id(live.store)
    clients: dict[str | None, httpx.Client] = {None: client_of(live)}
    clients.update({role: signed_in(live, name) for role, name in ACCOUNTS.items()})
    table = [(method, path, required_role(route)) for method, path, route in routes(live.app.routes)
             if path not in ("/login", "/logout")]  # the doors themselves: test_accounts and the tests above
    wrong: list[tuple[str, str, str | None, str, str]] = []
    bodies: list[str] = []
    try:
        tokens = {role: csrf(client) for role, client in clients.items()}
        for method, pattern, required in table:
            for role, client in clients.items():
                if method == "GET":
                    response = client.get(fill(pattern, incident_id))
                    bodies.append(response.text)
                else:  # no form fields and no such item: an admitted request is refused for its content instead
                    response = client.post(fill(pattern, 999_999), data={"csrf_token": tokens[role]})
                assert response.status_code < 500, (method, pattern, role, response.text[:300])
                if outcome(response) != expectation(role, required):
                    wrong.append((method, pattern, role, outcome(response), expectation(role, required)))
        for path in api_get_paths(live):
            response = clients[None].get(fill(path, incident_id))
            if outcome(response) != "allowed":
                wrong.append(("GET", path, None, outcome(response), "allowed"))
    finally:
        for client in clients.values():
            client.close()

    demanded = {required for _, _, required in table}
    assert demanded >= {None, "viewer", "researcher"}, demanded  # the walk meets every kind of rule
    assert wrong == []
    # No page, whoever asks, carries a password hash or the session secret.
    assert not [b for b in bodies if "$argon2" in b or SECRET in b]


def test_no_route_gives_anything_confidential_to_any_role(store: Store, planted: dict[str, Any]) -> None:  # noqa: F811
    """IDOR and the confidentiality walk for the roles test_confidentiality does not take: every route (site
    and API), every ``{id}`` one with every planted id, the others with searches, a country and each export
    format, as every role. Public routes show nothing confidential even to researchers and admins (the
    review pages are where they work on it); role-gated routes refuse anonymous visitors and viewers
    before they show anything."""
    add_user(store, "rustam", "researcher", PASSWORD)
    add_user(store, "adolat", "admin", PASSWORD)
    site = roomy(LiveSite(store, secret_key=SECRET))
    site.start()
    clients: dict[str | None, httpx.Client] = {None: client_of(site)}
    try:
        clients["viewer"] = signed_in(site, "vera", VIEWER_PASSWORD)  # planted's viewer
        clients["researcher"] = signed_in(site, "rustam")
        clients["admin"] = signed_in(site, "adolat")
        table = [(path, required_role(route)) for method, path, route in routes(site.app.routes) if method == "GET"]
        table += [(path, None) for path in api_get_paths(site)]
        numbers: list[int] = planted["numbers"]
        found: list[tuple[str, str | None, list[str]]] = []
        refusals: list[tuple[str, str | None, int]] = []
        requests, control = 0, False
        searches = ({}, {"q": "journalist"}, {"q": "Bishkek"}, {"country": "KG"}, {"format": "csv"},
                    {"format": "jsonl"})
        for pattern, required in table:
            for role, client in clients.items():
                if required is None and role in (None, "viewer"):
                    continue  # test_confidentiality walks these, with searches and every format
                if required is not None and expectation(role, required) == "allowed":
                    continue  # the review and field-report pages: where researchers work on confidential items
                if required is None and pattern in RESEARCHER_VIEWS and role in ("researcher", "admin"):
                    continue
                for number in numbers if "{" in pattern else [0]:
                    path = fill(pattern, number, "KG")
                    for params in ({}, {"format": "jsonl"}) if "{" in pattern else searches:
                        response = client.get(path, params=params)
                        requests += 1
                        assert response.status_code < 500, (path, role, response.text[:300])
                        if expectation(role, required) != "allowed":
                            if outcome(response) == "allowed":
                                refusals.append((path, role, response.status_code))
                        elif leaks(response.text):
                            found.append((path, role, leaks(response.text)))
                        control = control or (role == "researcher" and PUBLIC in response.text)
    finally:
        for client in clients.values():
            client.close()
        site.stop()

    assert requests > 200 and control  # the researcher's walk did reach the public material
    assert refusals == [], refusals
    assert found == [], found


def test_a_brief_holds_nothing_confidential(store: Store, planted: dict[str, Any]) -> None:  # noqa: F811
    from civicwatch.publish import brief

    data = brief.gather(store, "KG", "2026-01-01")
    written = brief.markdown(data) + brief.html(data)

    assert data.event_count > 0  # the public control's event is in it
    assert not leaks(written)


# -- open redirects (ASVS V5.1.5) -----------------------------------------------------------------------


@pytest.mark.parametrize("target", [
    "//evil.example/", "https://evil.example/", "/\\evil.example/", "\\\\evil.example", "/\t/evil.example",
    "javascript:alert(1)", "http:/evil.example", " //evil.example", "/%2F%2Fevil.example",
])
def test_login_never_redirects_off_the_site(live: LiveSite, target: str) -> None:
    client = client_of(live)
    try:
        response = log_in(client, ACCOUNTS["viewer"], next_path=target)
    finally:
        client.close()

    assert response.status_code == 303
    location = response.headers["location"]
    # As a browser reads it: tabs and line breaks dropped, backslashes taken for slashes.
    browser = re.sub(r"[\t\r\n]", "", location).replace("\\", "/")
    resolved = httpx.URL(live.url("/login")).join(browser)
    assert resolved.host == "127.0.0.1" and resolved.scheme == "http", location
    assert not browser.startswith("//")


# -- secrets (ASVS V2.4, V6.4) ----------------------------------------------------------------------------


def test_the_session_secret_comes_from_the_environment_or_a_private_file(tmp_path: Path) -> None:
    from civicwatch.errors import UsageError

    generated = load_secret(tmp_path / "data")
    path = tmp_path / "data" / "session-secret"

    assert len(generated) >= 32 and path.read_text().strip() == generated
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_secret(tmp_path / "data") == generated  # kept: every worker and restart signs alike
    assert load_secret(tmp_path / "other", "e" * 40) == "e" * 40 and not (tmp_path / "other").exists()
    with pytest.raises(UsageError, match="too short"):
        load_secret(tmp_path / "data", "short")
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True,
                             cwd=Path(__file__).parents[1]).stdout.split()
    assert not [name for name in tracked if name.endswith("session-secret") or name.endswith(".db")]


# -- output encoding (ASVS V5.3) ----------------------------------------------------------------------------


def test_hostile_names_and_queries_are_escaped_and_harmless_on_every_page(live: LiveSite) -> None:
    ids = sorted({i.id for i in live.store.incidents() if i.id} | {d.id for d in live.store.documents() if d.id}
                 | {1, 2, 3})  # and the first events, persons and sources
    admin = signed_in(live, ACCOUNTS["admin"])
    anonymous = client_of(live)
    raw: list[tuple[str, str]] = []
    escaped_seen: set[str] = set()
    try:
        paths = [fill(path, number) for method, path, _ in routes(live.app.routes) if method == "GET"
                 for number in (ids if "{" in path else (0,))]
        for client in (anonymous, admin):
            for path in sorted(set(paths)):
                for params in ({}, {"q": HOSTILE_QUERY}, *({"q": q} for q in INJECTIONS)):
                    response = client.get(path, params=params)
                    assert response.status_code < 500, (path, params, response.text[:300])
                    kind = response.headers.get("content-type", "")
                    if not kind.startswith(("text/html", "application/atom+xml", "application/xml")):
                        continue  # JSON and CSV carry text as data, served with nosniff
                    for needle in RAW_HOSTILE:
                        if needle in response.text:
                            raw.append((path, needle))
                    for name, value in (("query", HOSTILE_QUERY), ("person", HOSTILE_PERSON)):
                        if str(escape(value)) in response.text:
                            escaped_seen.add(name)
    finally:
        admin.close()
        anonymous.close()

    assert raw == []
    assert escaped_seen == {"query", "person"}  # the walk did meet the hostile text, escaped
    assert len(live.store.incidents()) > 1  # and nothing typed into a search reached the database as SQL


# -- passwords (ASVS V2.1, V2.4) ----------------------------------------------------------------------------


def test_passwords_need_12_characters_and_may_be_long_and_in_any_script(store: Store) -> None:
    from civicwatch.errors import UsageError

    long_one = "пароль " * 20 + "密码 ✓"  # 146 characters: kept whole, never truncated
    add_user(store, "gulnara", "viewer", long_one)
    with pytest.raises(UsageError, match="at least 12"):
        add_user(store, "bahrom", "viewer", "elevenchars")
    with store._read() as connection:
        stored = connection.execute(select(users.c.password_hash)).scalar_one()

    assert stored.startswith("$argon2id$") and "m=65536" in stored  # argon2id, 64 MiB (RFC 9106's second profile)
    assert authenticate(store, "gulnara", long_one) is not None
    assert authenticate(store, "gulnara", long_one[:-1]) is None


# -- logging (ASVS V7) ----------------------------------------------------------------------------------------


def test_sign_in_decisions_are_logged_without_the_password(live: LiveSite, caplog: pytest.LogCaptureFixture) -> None:
    from civicwatch.store import audit

    add_user(live.store, "malika", "viewer", PASSWORD)
    client = client_of(live)
    caplog.set_level(logging.INFO, logger="civicwatch.login")
    try:
        for _ in range(MAX_FAILED_LOGINS):
            assert log_in(client, "malika", "guess number one").status_code == 401
        assert log_in(client, "evil\nlogin of 'admin'", "guess number two").status_code == 401
        assert log_in(client, ACCOUNTS["viewer"]).status_code == 303
        caplog.set_level(logging.INFO, logger="civicwatch.access")
        assert client.get("/review").status_code == 403
        assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    finally:
        client.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "civicwatch.login"]
    refusals = [r.getMessage() for r in caplog.records if r.name == "civicwatch.access"]

    assert sum("login refused for 'malika' from 127.0.0.1" in line for line in lines) == MAX_FAILED_LOGINS
    assert f"login of {ACCOUNTS['viewer']!r} from 127.0.0.1" in lines
    assert not [line for line in lines if "\n" in line or "guess number" in line or PASSWORD in line]
    assert [e.action for e in audit.history(live.store, "user", "malika")] == ["add", "locked"]
    # Access-control decisions too: a role too low, a forged token.
    assert refusals == [f"refused GET /review to {ACCOUNTS['viewer']!r} (viewer; needs researcher)",
                        "refused POST /logout from 127.0.0.1: missing or wrong CSRF token"]


def test_https_responses_carry_strict_transport_security(store: Store) -> None:
    site = LiveSite(store, trust_proxy=True)
    site.start()
    try:
        proxied = site.get("/", headers={"x-forwarded-proto": "https"})
        plain = site.get("/about")
    finally:
        site.stop()

    assert proxied.headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in plain.headers  # over plain HTTP a browser would ignore it anyway
