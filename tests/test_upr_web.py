"""The UPR page, the researchers' status form and the API, on a real server over SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

from civicwatch.store import Store, audit
from civicwatch.store.upr import import_recommendations, recommendations
from civicwatch.store.users import add_user
from civicwatch.upr.importer import read
from civicwatch.upr.tagging import tagger
from support.server import LiveSite

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PASSWORD = "correct horse battery"


def _import(store: Store) -> None:
    path = EXAMPLES / "upr" / "recommendations.csv"
    import_recommendations(store, read(path), source_file=path.name, themes=tagger().themes)


def test_the_page_groups_recommendations_by_theme_and_researchers_record_a_status(site: LiveSite) -> None:
    _import(site.store)
    add_user(site.store, "amina", "researcher", PASSWORD)
    page = site.get("/countries/UZ/upr")
    assert page.status_code == 200
    assert 'id="theme-forced_labour"' in page.text and "Eliminate forced labour in the cotton harvest" in page.text
    assert "/upr/" not in page.text  # no form for the public

    rec = recommendations(site.store, "UZ", theme="forced_labour")[0]
    anonymous = site.client.post(f"/upr/{rec.id}/assess", data={"status": "fully", "evidence": "x"})
    assert anonymous.status_code in (400, 403)  # no CSRF token, no account: refused

    login = site.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
    site.client.post("/login", data={"name": "amina", "password": PASSWORD, "csrf_token": token, "next": "/"})
    form = site.get("/countries/UZ/upr")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    done = site.client.post(f"/upr/{rec.id}/assess", data={
        "status": "partially", "evidence": "ILO monitoring 2025 found less coercion", "csrf_token": token})

    assert done.status_code == 303
    assert "ILO monitoring 2025" in site.get("/countries/UZ/upr").text
    assert [e.actor for e in audit.history(site.store, "upr_recommendation", rec.id)] == ["amina"]


def test_the_api_pages_with_a_cursor(site: LiveSite) -> None:
    _import(site.store)
    first = site.get("/api/v1/countries/UZ/upr", params={"limit": 3}).json()
    second = site.get("/api/v1/countries/UZ/upr", params={"limit": 3, "cursor": first["next"]}).json()

    assert len(first["items"]) == 3 and len(second["items"]) == 2 and second["next"] is None
    assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in second["items"]})
    assert site.get("/api/v1/countries/UZ/upr", params={"theme": "assembly"}).json()["items"][0]["themes"] == [
        "assembly"]
    assert site.get("/api/v1/countries/UZ/upr", params={"cursor": "abc"}).status_code == 400
    assert "/countries/{iso2}/upr" in site.get("/api/v1/openapi.json").json()["paths"]
