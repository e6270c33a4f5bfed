"""Accounts and signing in, over a real server on SQLite and PostgreSQL: argon2id hashes, CSRF tokens,
session cookies and their flags, lock-out and rate limiting. Names are fictional."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from civicwatch.cli import app as cli
from civicwatch.errors import UsageError
from civicwatch.store import Store, audit
from civicwatch.store.schema import users
from civicwatch.store.users import MAX_FAILED_LOGINS, add_user, authenticate, list_users, remove_user, set_role
from civicwatch.web.auth import COOKIE, LoginRateLimiter
from support.server import LiveSite

PASSWORD = "correct horse battery"


def csrf(client: httpx.Client, path: str = "/login") -> str:
    """The CSRF token of the form on ``path`` (the GET also gives the client its session cookie)."""
    page = client.get(path)
    assert page.status_code == 200, page.text[:300]
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "the form carries no CSRF token"
    return found.group(1)


def log_in(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    token = csrf(client)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token, "next": "/"})


@pytest.fixture
def amina(store: Store) -> Iterator[None]:
    add_user(store, "amina", "researcher", PASSWORD)
    yield


def test_a_password_is_kept_only_as_an_argon2id_hash(store: Store) -> None:
    add_user(store, "amina", "researcher", PASSWORD)

    with store._read() as connection:
        stored = connection.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert authenticate(store, "amina", PASSWORD) is not None
    assert authenticate(store, "amina", "wrong password!") is None
    assert authenticate(store, "nobody", PASSWORD) is None


def test_accounts_are_added_listed_changed_and_removed_with_an_audit_trail(store: Store) -> None:
    add_user(store, "amina", "researcher", PASSWORD)
    add_user(store, "bekzod", "viewer", PASSWORD)

    assert set_role(store, "bekzod", "admin").role == "admin"
    remove_user(store, "amina")

    assert [(u.name, u.role) for u in list_users(store)] == [("bekzod", "admin")]
    assert [e.action for e in audit.history(store, "user", "bekzod")] == ["add", "role"]
    assert [e.action for e in audit.history(store, "user", "amina")] == ["add", "remove"]
    for mistake in (lambda: add_user(store, "bekzod", "viewer", PASSWORD),
                    lambda: add_user(store, "carol", "owner", PASSWORD),
                    lambda: add_user(store, "carol", "viewer", "short"),
                    lambda: remove_user(store, "nobody")):
        with pytest.raises(UsageError):
            mistake()


def test_the_cli_reads_the_password_from_stdin_never_from_an_argument(database_url: str) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--database", database_url]).exit_code == 0

    added = runner.invoke(cli, ["user", "add", "amina", "--role", "researcher", "--password-stdin",
                                "--database", database_url], input=PASSWORD + "\n")
    listed = runner.invoke(cli, ["user", "list", "--database", database_url])
    role = runner.invoke(cli, ["user", "role", "amina", "admin", "--database", database_url])
    bad = runner.invoke(cli, ["user", "add", "amina", "--password-stdin", "--database", database_url],
                        input=PASSWORD + "\n")
    removed = runner.invoke(cli, ["user", "remove", "amina", "--database", database_url])

    assert added.exit_code == 0, added.output
    assert "Added amina (researcher)." in added.output
    assert listed.output.split()[:2] == ["amina", "researcher"]
    assert role.exit_code == 0 and "amina is now admin." in role.output
    assert bad.exit_code != 0 and "exists already" in bad.output
    assert removed.exit_code == 0
    assert "--password " not in runner.invoke(cli, ["user", "add", "--help"]).output


def test_login_sets_a_new_http_only_same_site_session(site: LiveSite, amina: None) -> None:
    client = site.client
    csrf(client)
    before = client.cookies[COOKIE]

    response = log_in(client, "amina")

    assert response.status_code == 303 and response.headers["location"] == "/"
    after = client.cookies[COOKIE]
    assert after != before  # session fixation: the pre-login session is not carried over
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert "amina" in client.get("/login").text  # "signed in as amina"


def test_the_cookie_is_secure_behind_an_https_proxy_that_is_trusted(store: Store) -> None:
    live = LiveSite(store, trust_proxy=True)
    live.start()
    try:
        plain = live.client.get("/login").headers["set-cookie"]
        live.client.cookies.clear()
        proxied = live.client.get("/login", headers={"x-forwarded-proto": "https"}).headers["set-cookie"]
    finally:
        live.stop()

    assert "Secure" not in plain
    assert "Secure" in proxied and "HttpOnly" in proxied


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_post_without_the_right_csrf_token_is_refused(site: LiveSite, amina: None, token: str | None) -> None:
    csrf(site.client)
    data = {"name": "amina", "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token

    response = site.client.post("/login", data=data)

    assert response.status_code == 403
    assert "security token" in response.text


def test_a_token_from_another_session_is_refused(site: LiveSite, amina: None) -> None:
    other = httpx.Client(base_url=site.url(""))
    try:
        stolen = csrf(other)
    finally:
        other.close()
    csrf(site.client)

    response = site.client.post("/login", data={"name": "amina", "password": PASSWORD, "csrf_token": stolen})

    assert response.status_code == 403


def test_repeated_failures_lock_the_account_even_for_the_right_password(site: LiveSite, amina: None) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        assert log_in(site.client, "amina", "not the password").status_code == 401

    refused = log_in(site.client, "amina")

    assert refused.status_code == 401
    assert "locked" in refused.text
    assert "locked" in CliRunner().invoke(cli, ["user", "list", "--database",
                                                site.store._url.render_as_string(hide_password=False)]).output


def test_logout_ends_the_session(site: LiveSite, amina: None) -> None:
    log_in(site.client, "amina")
    token = csrf(site.client)

    assert site.client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert "signed in as" not in site.client.get("/login").text


def test_one_address_gets_a_limited_number_of_login_attempts() -> None:
    limiter = LoginRateLimiter(attempts=3, seconds=60)

    assert [limiter.allow("10.0.0.1", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert limiter.allow("10.0.0.2", now=3)  # another address is not held back
    assert limiter.allow("10.0.0.1", now=61)  # the window moves on
