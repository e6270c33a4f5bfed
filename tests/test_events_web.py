"""Event pages and API over a real uvicorn server, as a visitor and as a researcher (SQLite and PostgreSQL).

All people here are fictional.
"""

from __future__ import annotations

import re

from civicwatch.store import audit
from civicwatch.store import events as stored
from civicwatch.store.users import add_user
from support.server import LiveSite
from test_connect_events import three_reports

PASSWORD = "correct horse battery staple"


def connected(site: LiveSite) -> int:
    """Three reports of one detention and one other, connected; the id of the three-report event."""
    three_reports(site.store)
    stored.connect(site.store)
    return next(e for e, _, _, n in stored.event_page(site.store) if n == 3)


def test_an_event_page_lists_every_source_and_why(site: LiveSite) -> None:
    big = connected(site)

    listing = site.get("/events")
    page = site.get(f"/events/{big}")

    assert listing.status_code == 200 and f'href="/events/{big}"' in listing.text
    assert page.status_code == 200
    assert page.text.count('<li id="i') == 3
    assert "Дилноза Эшонкулова" in page.text and "names" in page.text
    assert "Split into its own event" not in page.text  # visitors get no forms
    assert site.get("/events/999999").status_code == 404


def test_the_api_pages_events_by_cursor(site: LiveSite) -> None:
    big = connected(site)

    first = site.get("/api/v1/events", params={"limit": 1}).json()
    second = site.get("/api/v1/events", params={"limit": 1, "cursor": first["next"]}).json()
    one = site.get(f"/api/v1/events/{big}").json()

    assert len(first["items"]) == len(second["items"]) == 1 and second["next"] is None
    assert sorted(i["reports"] for i in first["items"] + second["items"]) == [1, 3]
    assert len(one["sources"]) == 3 and one["signals"][0]["signals"][:2] == ["country", "types"]
    assert site.get("/api/v1/events", params={"cursor": "x"}).status_code == 400
    assert site.get("/api/v1/events/999999").status_code == 404
    assert "/events/{id}" in site.get("/api/v1/openapi.json").json()["paths"]


def test_a_researcher_splits_an_incident_off_with_the_form(site: LiveSite) -> None:
    big = connected(site)
    add_user(site.store, "amina", "researcher", PASSWORD)
    letter = stored.event(site.store, big).incidents[2].id  # type: ignore[union-attr]
    client = site.client
    assert client.post(f"/events/{big}/split", data={"incident_id": str(letter)}).status_code in (401, 403)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"name": "amina", "password": PASSWORD, "csrf_token": token, "next": "/"})

    page = client.get(f"/events/{big}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert client.post(f"/events/{big}/split", data={"incident_id": str(letter)}).status_code == 403  # no token
    done = client.post(f"/events/{big}/split", data={"incident_id": str(letter), "reason": "another day",
                                                      "csrf_token": token})

    assert done.status_code == 303
    assert len(stored.event(site.store, big).incidents) == 2  # type: ignore[union-attr]
    assert [(e.actor, e.action, e.reason) for e in audit.history(site.store, "event", big)] == [
        ("amina", "split", "another day")]
    # Splitting it again, or an incident that does not exist: a 400 page naming the incident, nothing changed.
    again = client.post(f"/events/{big}/split", data={"incident_id": str(letter), "csrf_token": token})
    missing = client.post(f"/events/{big}/split", data={"incident_id": "999999", "csrf_token": token})
    assert again.status_code == missing.status_code == 400
    assert f"{letter}: incident is alone in its event already" in again.text
    assert "999999: no such incident" in missing.text
    assert len(audit.history(site.store, "event", big)) == 1


def test_a_case_page_shows_the_timeline_and_the_detained_list(site: LiveSite) -> None:
    from civicwatch.store import cases

    connected(site)
    dilnoza = next(i for i, name, _, _ in cases.registry_page(site.store) if name == "Dilnoza Eshonkulova")

    page = site.get(f"/persons/{dilnoza}")
    held = site.get("/countries/UZ/detained")
    api = site.get("/api/v1/countries/UZ/detained").json()

    assert page.status_code == 200 and "detained" in page.text and "Дилноза Эшонкулова" in page.text
    assert page.text.count('href="/documents/') == 3  # a source for every step
    assert held.status_code == 200 and f'href="/persons/{dilnoza}"' in held.text
    assert [p["name"] for p in api["items"]] == ["Dilnoza Eshonkulova", "Rustam Qodirov"]
    assert site.get(f"/api/v1/persons/{dilnoza}").json()["status"] == "detained"
    assert site.get("/persons/999999").status_code == 404
    assert site.get("/api/v1/countries/ZZ/detained").status_code == 404


def test_the_persons_list_links_names_to_their_cases(site: LiveSite) -> None:
    from civicwatch.store import cases

    connected(site)
    dilnoza = next(i for i, name, _, _ in cases.registry_page(site.store) if name == "Dilnoza Eshonkulova")

    page = site.get("/persons")

    assert page.status_code == 200 and f'href="/persons/{dilnoza}"' in page.text
    cases.set_confidential(site.store, dilnoza, True, actor="amina")
    assert f'href="/persons/{dilnoza}"' not in site.get("/persons").text
