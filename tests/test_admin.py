"""The admins' workspace over a real server (``/admin/users``, ``/admin/sources``) and the ``civicwatch
confidential`` command as a real process, on SQLite and PostgreSQL. Every person here is fictional."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys

import httpx
import pytest

from civicwatch.model import Document, Source, SourceKind
from civicwatch.store import Store, audit, cases
from civicwatch.store import events as stored
from civicwatch.store.users import add_user, authenticate, list_users
from support.server import REPORTS, LiveSite, _coder

PASSWORD = "admin desk password"


def sign_in(site: LiveSite, name: str, password: str = PASSWORD) -> httpx.Client:
    client = httpx.Client(base_url=site.url(""), timeout=10.0)
    token = token_on(client, "/login")
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": token, "next": "/"})
    assert response.status_code == 303, response.text
    return client


def token_on(client: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def reports_from(store: Store, name: str, reports: list[tuple[str, str, str]]) -> tuple[int, list[int]]:
    """A source called ``name`` that carried ``reports``, coded by the real coder: (source id, incident ids)."""
    from civicwatch.code.process import process

    source = store.add_source(Source(name, f"https://{name.lower()}.example.org/feed", SourceKind.FEED))
    assert source.id is not None
    documents = []
    for n, (title, text, published) in enumerate(reports):
        document = Document(text=text, content_hash=hashlib.sha256(text.encode()).hexdigest(), title=title,
                            lang="en", url=f"https://{name.lower()}.example.org/r/{n}", published=published,
                            source_id=source.id)
        documents.append(store.add_document(document, signature=None, bands=[]))
    process(store, _coder())
    found = [i.id for i in store.incidents() if i.document_id in documents and i.id is not None]
    assert found, "the coder found no incident in the fictional reports"
    return source.id, found


@pytest.fixture
def desk(site: LiveSite) -> LiveSite:
    """The site with an admin (olga), a researcher (amina) and a viewer (vera)."""
    add_user(site.store, "olga", "admin", PASSWORD)
    add_user(site.store, "amina", "researcher", PASSWORD)
    add_user(site.store, "vera", "viewer", PASSWORD)
    return site


def test_only_admins_reach_the_admin_pages(desk: LiveSite) -> None:
    anonymous = [desk.get(path) for path in ("/admin/users", "/admin/sources")]
    refused = []
    for name in ("amina", "vera"):
        client = sign_in(desk, name)
        try:
            token = token_on(client, "/login")
            refused += [client.get("/admin/users").status_code, client.get("/admin/sources").status_code,
                        client.post("/admin/users/remove", data={"csrf_token": token, "name": "olga"}).status_code]
            assert "/admin/users" not in client.get("/events").text  # no admin links for them
        finally:
            client.close()

    assert [(r.status_code, r.headers["location"]) for r in anonymous] == [
        (303, "/login?next=/admin/users"), (303, "/login?next=/admin/sources")]
    assert refused == [403] * 6
    assert [u.name for u in list_users(desk.store)] == ["amina", "olga", "vera"]
    assert "/admin/users" not in desk.get("/").text


def test_an_admin_adds_changes_resets_and_removes_accounts(desk: LiveSite) -> None:
    store = desk.store
    olga = sign_in(desk, "olga")
    try:
        token = token_on(olga, "/admin/users")
        new = {"csrf_token": token, "name": "nodir", "role": "researcher"}
        differ = olga.post("/admin/users/add", data=new | {"password": "first password 1",
                                                           "password_again": "other password 1"})
        short = olga.post("/admin/users/add", data=new | {"password": "short", "password_again": "short"})
        role = olga.post("/admin/users/add", data=new | {"role": "boss", "password": "nodir password 1",
                                                         "password_again": "nodir password 1"})
        added = olga.post("/admin/users/add", data=new | {"password": "nodir password 1",
                                                          "password_again": "nodir password 1"})
        taken = olga.post("/admin/users/add", data=new | {"password": "nodir password 1",
                                                          "password_again": "nodir password 1"})
        promoted = olga.post("/admin/users/role", data={"csrf_token": token, "name": "nodir", "role": "admin"})
        reset = olga.post("/admin/users/password", data={"csrf_token": token, "name": "vera",
                                                         "password": "vera's new password",
                                                         "password_again": "vera's new password"})
        removed = olga.post("/admin/users/remove", data={"csrf_token": token, "name": "amina"})
        unknown = olga.post("/admin/users/remove", data={"csrf_token": token, "name": "nobody"})
        page = olga.get("/admin/users")
    finally:
        olga.close()

    assert [r.status_code for r in (differ, short, role, taken, unknown)] == [400] * 5
    assert "the two passwords differ" in differ.text and "too short" in short.text
    assert "unknown role" in role.text and "exists already" in taken.text and "nobody: no user" in unknown.text
    assert [r.status_code for r in (added, promoted, reset, removed)] == [303] * 4
    assert {(u.name, u.role) for u in list_users(store)} == {("nodir", "admin"), ("olga", "admin"),
                                                               ("vera", "viewer")}
    assert authenticate(store, "vera", "vera's new password") is not None
    assert authenticate(store, "vera", PASSWORD) is None
    assert [(e.actor, e.action) for e in audit.history(store, "user", "nodir")] == [("olga", "add"), ("olga", "role")]
    assert [(e.actor, e.action) for e in audit.history(store, "user", "vera")][-1] == ("olga", "password")
    assert [(e.actor, e.action) for e in audit.history(store, "user", "amina")][-1] == ("olga", "remove")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'data-name="nodir"' in page.text and 'data-name="amina"' not in page.text
    assert 'href="/admin/sources"' in page.text  # the navigation's admin links
    for response in (differ, short, added, page):
        assert "$argon2" not in response.text and "password_hash" not in response.text


def test_an_admin_cannot_demote_or_remove_themself(desk: LiveSite) -> None:
    olga = sign_in(desk, "olga")
    try:
        token = token_on(olga, "/admin/users")
        demoted = olga.post("/admin/users/role", data={"csrf_token": token, "name": "olga", "role": "viewer"})
        removed = olga.post("/admin/users/remove", data={"csrf_token": token, "name": "olga"})
        still = olga.get("/admin/users")
    finally:
        olga.close()

    assert (demoted.status_code, removed.status_code) == (400, 400)
    assert "cannot change your own role" in demoted.text and "cannot remove your own account" in removed.text
    assert still.status_code == 200
    assert ("olga", "admin") in {(u.name, u.role) for u in list_users(desk.store)}
    assert [e.action for e in audit.history(desk.store, "user", "olga")] == ["add"]


def test_admin_forms_need_the_csrf_token(desk: LiveSite) -> None:
    source_id, _ = reports_from(desk.store, "Lakeside", REPORTS[:1])
    olga = sign_in(desk, "olga")
    try:
        refused = [
            olga.post("/admin/users/remove", data={"name": "amina"}).status_code,
            olga.post("/admin/users/role", data={"name": "amina", "role": "admin", "csrf_token": "x" * 43}).status_code,
            olga.post(f"/admin/sources/{source_id}/confidential", data={"reason": "partner asked"}).status_code,
            olga.post(f"/admin/sources/{source_id}/remove", data={}).status_code,
        ]
    finally:
        olga.close()

    assert refused == [403] * 4
    assert ("amina", "researcher") in {(u.name, u.role) for u in list_users(desk.store)}
    assert [s.confidential for s in desk.store.sources()] == [False]


def test_a_confidential_source_vanishes_from_the_public_incidents(desk: LiveSite) -> None:
    store = desk.store
    hidden_source, hidden = reports_from(store, "Riverside", REPORTS[:2])
    _, shown = reports_from(store, "Hilltop", REPORTS[2:])
    before = desk.get("/incidents").text
    olga = sign_in(desk, "olga")
    try:
        listing = olga.get("/admin/sources")
        token = token_on(olga, "/admin/sources")
        no_reason = olga.post(f"/admin/sources/{hidden_source}/confidential", data={"csrf_token": token,
                                                                                   "value": "on", "reason": " "})
        unknown = olga.post("/admin/sources/999999/confidential", data={"csrf_token": token, "value": "on",
                                                                        "reason": "partner asked"})
        odd = olga.post(f"/admin/sources/{hidden_source}/confidential", data={"csrf_token": token,
                                                                             "value": "maybe", "reason": "x"})
        marked = olga.post(f"/admin/sources/{hidden_source}/confidential",
                           data={"csrf_token": token, "value": "on", "reason": "the partner asked not to be named"})
        after_mark = olga.get("/admin/sources").text
    finally:
        olga.close()
    after = desk.get("/incidents").text

    assert listing.status_code == 200 and listing.headers["cache-control"] == "no-store"
    assert "Riverside" in listing.text and "https://riverside.example.org/feed" in listing.text
    assert f'id="source-{hidden_source}" data-confidential="no"' in listing.text
    assert (no_reason.status_code, unknown.status_code, odd.status_code, marked.status_code) == (400, 400, 422, 303)
    assert "reason: say why" in no_reason.text and "no source with this id" in unknown.text
    assert f'id="source-{hidden_source}" data-confidential="yes"' in after_mark
    assert all(f'href="/incidents/{i}"' in before for i in hidden + shown)
    assert not any(f'href="/incidents/{i}"' in after for i in hidden)
    assert all(f'href="/incidents/{i}"' in after for i in shown)
    assert desk.get(f"/incidents/{hidden[0]}").status_code == 404
    [entry] = audit.history(store, "source", hidden_source)
    assert (entry.actor, entry.action, entry.reason) == ("olga", "confidential", "the partner asked not to be named")


def test_removing_a_confidential_source_keeps_its_incidents_hidden(desk: LiveSite) -> None:
    store = desk.store
    source_id, hidden = reports_from(store, "Riverside", REPORTS[:2])
    olga = sign_in(desk, "olga")
    try:
        token = token_on(olga, "/admin/sources")
        olga.post(f"/admin/sources/{source_id}/confidential", data={"csrf_token": token, "value": "on",
                                                                    "reason": "partner asked"})
        removed = olga.post(f"/admin/sources/{source_id}/remove", data={"csrf_token": token})
        again = olga.post(f"/admin/sources/{source_id}/remove", data={"csrf_token": token})
    finally:
        olga.close()
    # Anything that recomputes visibility (here: all of it) must still find them hidden without the source.
    from civicwatch.store import visibility

    with store._write() as connection:
        visibility.refresh(connection)

    assert (removed.status_code, again.status_code) == (303, 400)
    assert store.sources() == []
    assert [e.action for e in audit.history(store, "source", source_id)] == ["confidential", "remove"]
    listing = desk.get("/incidents").text
    assert not any(f'href="/incidents/{i}"' in listing for i in hidden)


# -- civicwatch confidential KIND ID --------------------------------------------------------------------


def run(*args: str, database: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "civicwatch", *args, "--database", database],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, timeout=120)


def test_the_confidential_command_marks_lifts_and_names_mistakes(database_url: str) -> None:
    import getpass

    store = Store(database_url)
    try:
        store.upgrade()
        source_id, incident_ids = reports_from(store, "Riverside", REPORTS[:1])
        stored.connect(store)
        person = next(i for i, name, _, _ in cases.registry_page(store) if name == "Dilshod Tarakov")

        marked = run("confidential", "source", str(source_id), "--reason", "the partner asked", database=database_url)
        lifted = run("confidential", "source", str(source_id), "--lift", "--reason", "cleared", database=database_url)
        named = run("confidential", "person", str(person), "--reason", "at risk", "--by", "amina",
                    database=database_url)
        unknown = run("confidential", "incident", "999999", "--reason", "x", database=database_url)
        no_person = run("confidential", "organisation", "999999", "--reason", "x", database=database_url)
        wrong_kind = run("confidential", "event", "1", "--reason", "x", database=database_url)

        assert marked.returncode == 0 and marked.stdout.strip() == (
            f"Source {source_id} is now confidential: never public (by {getpass.getuser()}).")
        assert lifted.returncode == 0 and "no longer confidential" in lifted.stdout
        assert named.returncode == 0 and len(named.stdout.strip().splitlines()) == 1
        for failed, says in ((unknown, "incident 999999: no incident with this id"),
                             (no_person, "organisation 999999: no organisation with this id"),
                             (wrong_kind, "event: expected one of")):
            assert failed.returncode == 2, failed.stderr
            assert says in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
            assert "Traceback" not in failed.stderr
        assert [(e.actor, e.action, e.reason) for e in audit.history(store, "source", source_id)] == [
            (getpass.getuser(), "confidential", "the partner asked"),
            (getpass.getuser(), "not confidential", "cleared")]
        assert [(e.actor, e.reason) for e in audit.history(store, "person", person)] == [("amina", "at risk")]
        assert cases.case(store, person) is None  # hidden from the public registry
        assert store.sources()[0].confidential is False and incident_ids
    finally:
        store.close()


def test_the_confidential_command_explains_itself_with_an_example() -> None:
    result = subprocess.run([sys.executable, "-m", "civicwatch", "confidential", "--help"], capture_output=True,
                            text=True, env={**os.environ, "COLUMNS": "200"}, timeout=60)

    assert result.returncode == 0 and "Example" in result.stdout and "--lift" in result.stdout
