"""Field reports from partners, over a real server on SQLite and PostgreSQL: confidential from the first
commit, coded like any other document, files checked by content and kept outside the web root, and public
only as a researcher's redacted version. Everything here is fictional."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from civicwatch.store import Store, audit, browse
from civicwatch.store.users import add_user
from civicwatch.web.reports import MAX_FILE_BYTES
from support.server import LiveSite, _coder

PASSWORD = "partner password 1"
REPORT = ("On 14 June 2026 police in Osh detained the activist Nurlan Bekmatov (fictional) after a "
          "peaceful picket outside the city hall.")


@pytest.fixture
def office(store: Store, tmp_path: Path) -> Iterator[LiveSite]:
    add_user(store, "parwin", "viewer", PASSWORD)
    add_user(store, "amina", "researcher", PASSWORD)
    live = LiveSite(store, data_dir=str(tmp_path / "data"))
    live.start()
    try:
        yield live
    finally:
        live.stop()


def signed_in(site: LiveSite, name: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=site.url(""), timeout=10.0)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    login = {"name": name, "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=login).status_code == 303
    form = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/reports/new").text)
    assert form
    return client, form.group(1)


def send(client: httpx.Client, token: str, files: list[tuple[str, bytes]] | None = None,
         **fields: str) -> httpx.Response:
    data = {"csrf_token": token, "text": REPORT, "date": "2026-06-14", "country": "KG"} | fields
    upload = [("files", (name, content)) for name, content in (files or [])]
    return client.post("/reports/new", data=data, files=upload or None)


def test_a_report_is_confidential_coded_and_public_only_when_redacted(office: LiveSite, tmp_path: Path) -> None:
    store = office.store
    partner, token = signed_in(office, "parwin")
    try:
        files = [("statement.pdf", b"%PDF-1.4 fictional"), ("notes.txt", b"plain notes")]
        sent = send(partner, token, files=files)
    finally:
        partner.close()
    assert sent.status_code == 303
    document_id = int(sent.headers["location"].rsplit("=", 1)[1])

    from civicwatch.code.process import process

    process(store, _coder())  # coded like any document
    coded = store.incidents(document_id=document_id)
    assert "detention" in {t for i in coded for t in i.types}
    assert any(i.persons == ["Nurlan Bekmatov"] for i in coded)
    assert browse.public_document(store, document_id) is None
    assert all(browse.incident_with_document(store, i.id or 0) is None for i in coded)
    assert "Bekmatov" not in office.get("/incidents").text and "Bekmatov" not in office.get("/search?q=Osh").text
    stored = sorted(p.name for p in (tmp_path / "data" / "uploads" / str(document_id)).iterdir())
    assert stored == ["1-statement.pdf", "2-notes.txt"]

    researcher, _ = signed_in(office, "amina")
    try:
        page = researcher.get(f"/reports/{document_id}")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert page.status_code == 200 and "parwin" in page.text and found
        published = researcher.post(f"/reports/{document_id}/publish", data={
            "csrf_token": found.group(1), "text": REPORT.replace("Nurlan Bekmatov", "an activist"),
            "reason": "the partner agreed to a version without the name"})
    finally:
        researcher.close()
    assert published.status_code == 303
    public = office.get(published.headers["location"]).text
    assert "an activist" in public and "Bekmatov" not in public
    assert browse.public_document(store, document_id) is None  # the original stays confidential
    assert [e.action for e in audit.history(store, "document", document_id)] == ["field report", "publish redacted"]


def test_an_anonymous_report_keeps_no_name(office: LiveSite) -> None:
    partner, token = signed_in(office, "parwin")
    try:
        sent = send(partner, token, anonymous="on")
    finally:
        partner.close()
    document_id = int(sent.headers["location"].rsplit("=", 1)[1])

    document = office.store.document(document_id)
    assert document is not None and document.author is None
    assert [e.actor for e in audit.history(office.store, "document", document_id)] == ["anonymous partner"]


@pytest.mark.parametrize(("name", "content", "error"), [
    ("../../etc/passwd", b"text", "may not contain a path"),
    ("..\\evil.txt", b"text", "may not contain a path"),
    ("program.exe", b"MZ\x90\x00\x03\x00\x00\x00", "not a PDF, a text or an image"),
    ("big.txt", b"a" * (MAX_FILE_BYTES + 1), "larger than"),
])
def test_unsafe_files_are_refused_and_nothing_is_stored(
    office: LiveSite, tmp_path: Path, name: str, content: bytes, error: str
) -> None:
    partner, token = signed_in(office, "parwin")
    try:
        refused = send(partner, token, files=[(name, content)])
    finally:
        partner.close()

    assert refused.status_code == 400 and error in refused.text
    assert office.store.counts()["documents"] == 0
    assert not (tmp_path / "data" / "uploads").exists()


def test_the_form_needs_an_account_and_the_csrf_token(office: LiveSite) -> None:
    assert office.get("/reports/new").status_code == 303  # to the login page
    partner, _ = signed_in(office, "parwin")
    try:
        assert send(partner, "forged").status_code == 403
        assert partner.get("/reports/1").status_code == 403  # reading reports is for researchers
    finally:
        partner.close()
