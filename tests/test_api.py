"""The JSON API under /api/v1, spoken to over HTTP on a real server, on SQLite and PostgreSQL.

The incidents are what the real coder finds in fictional reports (``support.server.REPORTS``):
UZ detention and prosecution of a blogger, a KZ journalist imprisoned, a KG rally dispersed (and
the protest itself), a UZ acquittal, a TJ foundation liquidated.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from support.server import LiveSite, add_reports

INCIDENT_FIELDS = {
    "id", "document_id", "country", "types", "rights", "targets", "persons", "organisations", "perpetrators",
    "date", "evidence", "confidence", "evidence_start", "evidence_end", "coded_by", "coder_version",
}


@pytest.fixture
def api(coded_site: LiveSite) -> LiveSite:  # noqa: F811
    """The server over the coded reports, shared by this module's tests: read only."""
    return coded_site


def items(live: LiveSite, path: str, **params: Any) -> list[dict[str, Any]]:
    response = live.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"items", "next"}
    return list(body["items"])


def walk(live: LiveSite, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, following ``next`` page after page."""
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        body = live.get(path, params={**params, **({"cursor": cursor} if cursor else {})}).json()
        seen += body["items"]
        cursor = body["next"]
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ran out")


# -- incidents -------------------------------------------------------------------------------------------


def test_incidents_are_listed_newest_first_with_the_codebook_field_names(api: LiveSite) -> None:
    listed = items(api, "/api/v1/incidents")

    assert len(listed) == 7
    assert all(set(item) == INCIDENT_FIELDS for item in listed)
    dates = [item["date"] for item in listed]
    assert dates == sorted(dates, reverse=True)
    blogger = next(item for item in listed if item["persons"] == ["Dilshod Tarakov"])
    assert blogger | {"id": 0, "document_id": 0, "coder_version": ""} == {
        "id": 0, "document_id": 0, "country": "UZ", "types": ["detention"], "rights": ["expression"],
        "targets": ["blogger"], "persons": ["Dilshod Tarakov"], "organisations": [],
        "perpetrators": ["police"], "date": "2024-05-03", "evidence": "detained the blogger Dilshod Tarakov",
        "confidence": 0.9, "evidence_start": 30, "evidence_end": 66, "coded_by": "machine",
        "coder_version": "",
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"country": "UZ"}, {("UZ", "detention"), ("UZ", "prosecution"), ("UZ", "legal_remedy")}),
        ({"country": "uz", "type": "detention"}, {("UZ", "detention")}),
        ({"type": "detention"}, {("UZ", "detention"), ("KG", "detention")}),
        ({"right": "assembly"}, {("KG", "detention"), ("KG", "protest")}),
        ({"target": "journalist"}, {("KZ", "imprisonment")}),
        ({"perpetrator": "police"}, {("UZ", "detention"), ("KG", "detention")}),
        ({"date_from": "2024-03-20", "date_to": "2024-04"}, {("KG", "detention"), ("KG", "protest"),
                                                             ("UZ", "legal_remedy")}),
        # A date of month precision ("2024-01") overlaps any range that reaches into that month.
        ({"date_to": "2024-01-15"}, {("TJ", "cso_restriction")}),
        ({"date_from": "2024-01-20", "date_to": "2024-02"}, {("TJ", "cso_restriction"),
                                                             ("KZ", "imprisonment")}),
        ({"q": "cotton"}, {("UZ", "detention"), ("UZ", "prosecution")}),  # in the document, not the evidence
        ({"q": "ACQUITTED nodira"}, {("UZ", "legal_remedy")}),
        ({"q": "50%_off"}, set()),  # "%" and "_" are no wildcards: the words 50 and off are not in any text
        ({"country": "KG", "type": "detention", "perpetrator": "police", "q": "rally"},
         {("KG", "detention")}),
        ({"country": "", "type": ""}, None),  # empty values, as a GET form sends them: no filter
    ],
)
def test_incidents_filtered(
    api: LiveSite, params: dict[str, str], expected: set[tuple[str, str]] | None
) -> None:
    listed = items(api, "/api/v1/incidents", **params)

    found = {(item["country"], item["types"][0]) for item in listed}
    assert found == expected if expected is not None else len(listed) == 7


@pytest.mark.parametrize("sort", ["date", "confidence"])
def test_cursor_pages_give_every_incident_once_in_order(api: LiveSite, sort: str) -> None:
    everything = items(api, "/api/v1/incidents", sort=sort)

    paged = walk(api, "/api/v1/incidents", sort=sort, limit=2)

    assert [item["id"] for item in paged] == [item["id"] for item in everything]
    key = "confidence" if sort == "confidence" else "date"
    values = [item[key] for item in paged]
    assert values == sorted(values, reverse=True)


def test_a_cursor_resumes_after_its_row_even_when_new_incidents_arrive(site: LiveSite) -> None:  # noqa: F811
    add_reports(site.store)
    first = site.get("/api/v1/incidents", params={"limit": 3}).json()
    add_reports(site.store, [("Later report", "On 2 June 2024 police in Osh detained the fictional blogger "
                              "Kanat Ermekov.", "2024-06-03")])

    rest = walk(site, "/api/v1/incidents", limit=3, cursor=first["next"])

    ids = [item["id"] for item in first["items"] + rest]
    # The newer incident sorts before the cursor: neither repeated nor shown on later pages.
    assert len(ids) == len(set(ids)) == 7


@pytest.mark.parametrize(
    ("params", "status", "names"),
    [
        ({"cursor": "not-a-cursor"}, 400, "cursor"),
        ({"cursor": "eyJrIjoiZG9jdW1lbnRzIiwidiI6WzVdfQ"}, 400, "cursor"),  # a documents cursor
        ({"cursor": "%%%"}, 400, "cursor"),
        ({"limit": 0}, 422, "limit"),
        ({"limit": 201}, 422, "limit"),
        ({"limit": "ten"}, 422, "limit"),
        ({"type": "arrest"}, 422, "type"),
        ({"right": "vote"}, 422, "right"),
        ({"country": "UZB"}, 422, "country"),
        ({"date_from": "2024-13"}, 422, "date_from"),
        ({"date_to": "yesterday"}, 422, "date_to"),
        ({"sort": "random"}, 422, "sort"),
        ({"q": "x" * 201}, 422, "q"),
    ],
)
def test_bad_parameters_are_a_json_problem_naming_them(
    api: LiveSite, params: dict[str, Any], status: int, names: str
) -> None:
    response = api.get("/api/v1/incidents", params=params)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert problem["detail"].startswith(names)


def forged(kind: str, key: list[Any]) -> str:
    payload = json.dumps({"k": kind, "v": key}).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        ("date", forged("incidents:date", ["2024-05-03", 2**70])),  # past a 64-bit integer
        ("date", forged("incidents:date", ["2024\u0000", 3])),
        ("date", forged("incidents:date", [True, 3])),
        ("date", forged("incidents:date", ["2024-05-03"])),
        ("confidence", '{"k":"incidents:confidence","v":[NaN,3]}'),
        ("confidence", forged("incidents:confidence", ["high", 3])),
        ("date", "eyJrIjoiaW5jaWRlbnRzOmRhdGUiLCJ2IjpbIjIwMjQiLDNdfQ" + "A" * 600),
        ("date", base64.urlsafe_b64encode(b"\xff\xfe not json").decode().rstrip("=")),
    ],
)
def test_forged_cursors_are_refused_with_400(api: LiveSite, sort: str, cursor: str) -> None:
    if cursor.startswith("{"):
        cursor = base64.urlsafe_b64encode(cursor.encode()).decode().rstrip("=")

    response = api.get("/api/v1/incidents", params={"sort": sort, "cursor": cursor})

    assert response.status_code in (400, 422)  # 422: longer than any cursor could be


def test_a_cursor_from_the_other_sort_order_is_refused(api: LiveSite) -> None:
    by_date = api.get("/api/v1/incidents", params={"limit": 1}).json()["next"]

    response = api.get("/api/v1/incidents", params={"limit": 1, "sort": "confidence", "cursor": by_date})

    assert response.status_code == 400


def test_one_incident_comes_with_its_document(api: LiveSite) -> None:
    listed = items(api, "/api/v1/incidents", target="journalist")

    incident = api.get(f"/api/v1/incidents/{listed[0]['id']}").json()

    assert incident["persons"] == ["Aigerim Sadykova"]
    assert incident["document"]["title"] == "Journalist sentenced in Almaty"
    assert incident["document"]["url"].startswith("https://monitor.example.org/reports/")
    assert "text" not in incident["document"] and "raw" not in incident["document"]


def test_an_incident_edited_by_a_person_stays_public(site: LiveSite) -> None:  # noqa: F811
    add_reports(site.store)
    first = items(site, "/api/v1/incidents", country="TJ")[0]

    site.store.edit_incident(first["id"], date="2024-01-15")

    again = site.get(f"/api/v1/incidents/{first['id']}").json()
    assert (again["coded_by"], again["date"]) == ("person", "2024-01-15")


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/v1/incidents/999999", 404), ("/api/v1/incidents/abc", 422), ("/api/v1/incidents/0", 422),
     ("/api/v1/nowhere", 404)],
)
def test_missing_or_malformed_ids(api: LiveSite, path: str, status: int) -> None:
    response = api.get(path)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


# -- countries and documents -----------------------------------------------------------------------------


def test_countries_with_their_incident_counts(api: LiveSite) -> None:
    assert items(api, "/api/v1/countries") == [
        {"country": "UZ", "name": "Uzbekistan", "incidents": 3},
        {"country": "KG", "name": "Kyrgyzstan", "incidents": 2},
        {"country": "KZ", "name": "Kazakhstan", "incidents": 1},
        {"country": "TJ", "name": "Tajikistan", "incidents": 1},
    ]


def test_one_country(api: LiveSite) -> None:
    country = api.get("/api/v1/countries/kg").json()

    assert country["country"] == "KG" and country["incidents"] == 2
    assert country["types"] == {"detention": 1, "protest_restriction": 1, "protest": 1}
    assert {item["country"] for item in country["latest"]} == {"KG"}
    assert api.get("/api/v1/countries/FR").json() | {"latest": [], "types": {}} == {
        "country": "FR", "name": "France", "incidents": 0, "latest": [], "types": {}, "rating": None}
    assert api.get("/api/v1/countries/ZZ").status_code == 404  # not a country
    assert api.get("/api/v1/countries/F1").status_code == 422


def test_documents_are_listed_without_text_and_read_one_by_one(api: LiveSite) -> None:
    listed = walk(api, "/api/v1/documents", limit=2)

    assert len(listed) == 5
    assert [d["id"] for d in listed] == sorted((d["id"] for d in listed), reverse=True)
    assert all("text" not in d and "raw" not in d for d in listed)
    document = api.get(f"/api/v1/documents/{listed[-1]['id']}").json()
    assert document["text"].startswith("On 3 May 2024 police in Nukus")
    assert "raw" not in document and "signature" not in document
    assert api.get("/api/v1/documents/999999").status_code == 404
    assert items(api, "/api/v1/documents", lang="fr") == []


# -- OpenAPI and headers ---------------------------------------------------------------------------------


def test_openapi_describes_every_route_with_models_and_examples(api: LiveSite) -> None:
    spec = api.get("/api/v1/openapi.json").json()

    assert set(spec["paths"]) == {"/incidents", "/incidents/{id}", "/countries", "/countries/{iso2}",
                                  "/documents", "/documents/{id}", "/persons", "/organisations", "/sources",
                                  "/ratings", "/watchlist", "/events", "/events/{id}", "/persons/{id}",
                                  "/organisations/{id}", "/countries/{iso2}/detained", "/countries/{iso2}/upr"}
    listing = spec["paths"]["/incidents"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {
        "country", "type", "right", "target", "perpetrator", "date_from", "date_to", "q", "sort", "limit",
        "cursor"}
    assert {"200", "400", "422"} <= set(listing["responses"])
    assert set(listing["responses"]["422"]["content"]) == {"application/problem+json"}
    assert spec["servers"] == [{"url": "/api/v1"}]
    schemas = spec["components"]["schemas"]
    assert schemas["IncidentOut"]["examples"][0]["types"] == ["detention"]
    assert set(schemas["IncidentOut"]["properties"]) == INCIDENT_FIELDS
    assert "Problem" in schemas


def test_responses_carry_security_headers(api: LiveSite) -> None:
    response = api.get("/api/v1/incidents")

    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


HOSTILE = ["\x00", "%", "_", "'; DROP TABLE incidents; --", "ŝ̷̛̪ó̴m̸e̵", "🙂", "x" * 600, "-1", "1e309", "2" * 30]


LISTS = ["/api/v1/incidents", "/api/v1/documents", "/api/v1/persons", "/api/v1/organisations", "/api/v1/sources",
         "/feeds/incidents.atom", "/incidents", "/search", "/documents", "/persons", "/organisations",
         "/incidents/export.csv"]


@pytest.mark.parametrize("path", LISTS)
def test_no_parameter_value_makes_a_server_error(api: LiveSite, path: str) -> None:
    names = ["country", "type", "right", "target", "perpetrator", "date_from", "date_to", "q", "sort",
             "limit", "cursor", "lang", "source_id", "source"]
    for name in names:
        for value in HOSTILE:
            response = api.get(path, params={name: value})
            assert response.status_code < 500, (name, value, response.text[:300])
    for bad_id in ["0", "-5", "9" * 30, "%00", "1.5"]:
        for route in ("/api/v1/incidents/", "/api/v1/documents/", "/incidents/", "/documents/"):
            assert api.get(route + bad_id).status_code in (404, 422), route + bad_id
