"""The review queue over a real server, on SQLite and PostgreSQL: who may use it, what each decision does,
and that re-coding never undoes a person's decision. The reports are fictional (``support.server``)."""

from __future__ import annotations

import re

import httpx
import pytest

from civicwatch.store import Store, audit, browse, review
from civicwatch.store.users import add_user
from support.server import LiveSite, add_reports

PASSWORD = "review password 1"


def signed_in(site: LiveSite, name: str) -> httpx.Client:
    client = httpx.Client(base_url=site.url(""), timeout=10.0)
    token = token_on(client, "/login")
    response = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token, "next": "/review"})
    assert response.status_code == 303
    return client


def token_on(client: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


@pytest.fixture
def desk(site: LiveSite) -> LiveSite:
    """The site over the coded fictional reports, with a researcher (amina) and a viewer (vera)."""
    add_reports(site.store)
    add_user(site.store, "amina", "researcher", PASSWORD)
    add_user(site.store, "vera", "viewer", PASSWORD)
    return site


def test_the_queue_is_for_researchers_only(desk: LiveSite) -> None:
    anonymous = desk.get("/review")
    viewer = signed_in(desk, "vera")
    try:
        assert viewer.get("/review").status_code == 403
        incident_id = review.queue(desk.store, limit=1)[0].id
        token = token_on(viewer, "/login")
        assert viewer.post(f"/review/{incident_id}/accept", data={"csrf_token": token}).status_code == 403
    finally:
        viewer.close()

    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=/review"


def test_the_queue_shows_the_lowest_confidence_first(desk: LiveSite) -> None:
    amina = signed_in(desk, "amina")
    try:
        page = amina.get("/review")
    finally:
        amina.close()

    lowest = min(review.queue(desk.store, limit=200), key=lambda i: (i.confidence, i.id))
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert f'data-incident="{lowest.id}"' in page.text
    assert 'accesskey="a"' in page.text and 'accesskey="r"' in page.text


def test_decisions_need_the_csrf_token(desk: LiveSite) -> None:
    amina = signed_in(desk, "amina")
    incident_id = review.queue(desk.store, limit=1)[0].id
    try:
        missing = amina.post(f"/review/{incident_id}/accept", data={})
        wrong = amina.post(f"/review/{incident_id}/accept", data={"csrf_token": "x" * 43})
    finally:
        amina.close()

    assert (missing.status_code, wrong.status_code) == (403, 403)
    still = review.incident(desk.store, incident_id or 0)
    assert still is not None and still.review == "pending"


def test_accept_edit_and_reject_are_recorded_and_survive_re_coding(desk: LiveSite) -> None:
    store: Store = desk.store
    first, second, third = review.queue(store, limit=3)
    assert first.id and second.id and third.id
    amina = signed_in(desk, "amina")
    try:
        token = token_on(amina, "/review")
        assert amina.post(f"/review/{first.id}/accept", data={"csrf_token": token}).status_code == 303
        form = {"csrf_token": token, "country": second.country, "date": "2024", "evidence": second.evidence,
                "evidence_start": str(second.evidence_start), "evidence_end": str(second.evidence_end),
                "reason": "only the year is sure"}
        form |= {name: ", ".join(getattr(second, name)) for name in ("types", "rights", "targets", "persons",
                                                                      "organisations", "perpetrators")}
        assert amina.post(f"/review/{second.id}", data=form).status_code == 303
        refused = amina.post(f"/review/{third.id}/reject", data={"csrf_token": token, "reason": ""})
        assert amina.post(f"/review/{third.id}/reject",
                          data={"csrf_token": token, "reason": "a court ruling, not a restriction"}).status_code == 303
        history = amina.get(f"/review/{second.id}").text
    finally:
        amina.close()

    assert refused.status_code == 400
    assert [(e.actor, e.action) for e in audit.history(store, "incident", first.id)] == [("amina", "accept")]
    [edit] = audit.history(store, "incident", second.id)
    assert edit.changed() == ["coded_by", "date", "review"] and edit.reason == "only the year is sure"
    assert "only the year is sure" in history and "date: " in history
    assert browse.incident_with_document(store, third.id) is None  # rejected: not public

    # Re-coding every document with the coder replaces machine incidents only.
    from civicwatch.code.process import process
    from support.server import _coder

    with store._write() as connection:
        from civicwatch.store.schema import codings

        connection.execute(codings.delete())
    process(store, _coder())
    decided = {i.id: i for i in (review.incident(store, n) for n in (first.id, second.id, third.id)) if i}
    assert [decided[n].review for n in (first.id, second.id, third.id)] == ["accepted", "accepted", "rejected"]
    assert decided[second.id].date == "2024"
    assert third.id not in {i.id for i in review.queue(store, limit=200)}


def test_researchers_see_the_history_on_the_incident_page_and_the_public_does_not(desk: LiveSite) -> None:
    incident = review.queue(desk.store, limit=1)[0]
    assert incident.id is not None
    desk.store.edit_incident(incident.id, actor="amina", reason="checked against the court record")
    amina = signed_in(desk, "amina")
    try:
        as_researcher = amina.get(f"/incidents/{incident.id}").text
    finally:
        amina.close()
    public = desk.get(f"/incidents/{incident.id}").text

    assert "History (researchers only)" in as_researcher and "checked against the court record" in as_researcher
    assert "History (researchers only)" not in public and "checked against the court record" not in public
