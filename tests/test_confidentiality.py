"""Confidential material never reaches the public: every public route, the API, the feeds and every export
format, read as an anonymous visitor and as a signed-in viewer, on SQLite and PostgreSQL.

The test plants one secret of each kind (a confidential source, a confidential document, a confidential
incident, a rejected incident), each carrying its own marker word, next to public material, then walks
``app.routes`` and the API's OpenAPI description, so a route added later is covered without editing this
file. Every path parameter is tried with every planted id (and the planted country), every route with
searches for words all the planted texts share. All names are fictional.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Mount, Route
from typer.testing import CliRunner

from civicwatch.cli import app as cli
from civicwatch.model import Document, Incident, Source, SourceKind
from civicwatch.store import Store, cases, review
from civicwatch.store.events import connect
from civicwatch.store.users import add_user
from support.server import LiveSite

PASSWORD = "a viewer's password"
# One marker per kind of secret: the word appears in the text, the evidence and the person named.
MARKERS = {
    "source": "Zorvalensky",
    "document": "Quillonbekova",
    "incident": "Marrowgatin",
    "rejected": "Tessirandov",
    # A confidential person named in a public incident of a public document: the happening stays public,
    # the name is blacked out everywhere (``store/withheld.py``).
    "person": "Vashkentova",
}
PUBLIC = "Aldanarova"  # the control: public material that must show up, so the walk does reach the data


def plant(store: Store, marker: str, content_hash: str, source_id: int | None = None, *,
          in_text: bool = True) -> tuple[int, int]:
    """A document about a fictional journalist detained in Kyrgyzstan and its coded incident naming ``marker``.

    ``in_text=False``: the marker is only in the incident (a name a researcher added), not in the public text.
    """
    name = marker if in_text else f"a journalist ({content_hash})"
    text = (f"Police in Bishkek detained journalist {name} on 2 May 2026 (fictional). "
            f"Colleagues of {name} protested outside the court.")
    evidence = f"detained journalist {name}"
    start = text.index(evidence)
    document_id = store.add_document(
        Document(text=text, content_hash=content_hash, title=f"Detention of {name}", source_id=source_id,
                 url=f"https://news.example.org/{content_hash}", lang="en"),
        signature=None, bands=[],
    )
    store.save_coding(document_id, [Incident(
        "KG", ["detention"], rights=["expression"], targets=["journalist"], persons=[marker], perpetrators=["police"],
        date="2026-05-02", evidence=evidence, evidence_start=start, evidence_end=start + len(evidence), confidence=0.5,
    )], "1.test")
    [incident] = store.incidents(document_id=document_id)
    assert incident.id is not None
    return document_id, incident.id


@pytest.fixture
def planted(store: Store) -> dict[str, Any]:
    """The secrets and the public control, with every id a route could be asked about."""
    secret_source = store.add_source(Source("Closed channel", "https://closed.example.org/feed", SourceKind.FEED))
    open_source = store.add_source(Source("Open news", "https://open.example.org/feed", SourceKind.FEED))
    assert secret_source.id is not None and open_source.id is not None
    ids: dict[str, tuple[int, int]] = {
        "source": plant(store, MARKERS["source"], "s1", secret_source.id),
        "document": plant(store, MARKERS["document"], "d1", open_source.id),
        # A confidential or rejected incident hides the incident, not the public article it was coded from.
        "incident": plant(store, MARKERS["incident"], "i1", open_source.id, in_text=False),
        "rejected": plant(store, MARKERS["rejected"], "r1", open_source.id, in_text=False),
        "public": plant(store, PUBLIC, "p1", open_source.id),
        "person": plant(store, MARKERS["person"], "n1", open_source.id),
        # A second report of her detention: connect joins the two on her name, a signal naming her.
        "person again": plant(store, MARKERS["person"], "n2", open_source.id),
    }
    connect(store)  # events, and the registry of the persons named
    person_id = cases.ids_by_alias(store, [MARKERS["person"]])[MARKERS["person"]]
    cases.set_confidential(store, person_id, True, actor="amina", reason="her lawyer asked")
    joined = store.incidents(document_id=ids["person again"][0])[0].event_id
    assert joined is not None and joined == store.incidents(document_id=ids["person"][0])[0].event_id
    review.set_confidential(store, "source", secret_source.id, True, actor="amina", reason="protects a contact")
    review.set_confidential(store, "document", ids["document"][0], True, actor="amina", reason="field report")
    review.set_confidential(store, "incident", ids["incident"][1], True, actor="amina", reason="family asked")
    review.reject(store, ids["rejected"][1], actor="amina", reason="not an incident")
    add_user(store, "vera", "viewer", PASSWORD)
    numbers = sorted({n for pair in ids.values() for n in pair} | {secret_source.id, open_source.id, person_id}
                     | set(range(1, 12)))  # every registry and event id too
    return {"numbers": numbers, "ids": ids, "person_id": person_id}


def log_in(client: httpx.Client) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    response = client.post("/login", data={"name": "vera", "password": PASSWORD, "csrf_token": token.group(1)})
    assert response.status_code == 303


def fill(path: str, numbers: list[int]) -> list[str]:
    """Every way to fill ``path``'s parameters: numbers with each planted id, codes with the planted country,
    names with the public control's."""
    names = re.findall(r"{([^}:]+)(?::[^}]*)?}", path)
    if not names:
        return [path]
    values: list[str] = [str(n) for n in numbers] + ["KG", "kg", PUBLIC]
    return [re.sub(r"{[^}]+}", value, path) for value in values]


def get_routes(routes: list[Any], prefix: str = "") -> list[str]:
    """The GET paths among ``routes``, looking inside included routers (FastAPI wraps them)."""
    paths: list[str] = []
    for route in routes:
        if isinstance(route, Route) and "GET" in (route.methods or set()):
            paths.append(prefix + route.path)
        elif hasattr(route, "original_router"):
            paths += get_routes(route.original_router.routes, prefix + route.include_context.prefix)
    return paths


def public_paths(site: LiveSite) -> list[str]:
    """Every GET path the site answers: its own routes, then the API's from its OpenAPI description."""
    paths = get_routes(site.app.routes)
    for route in site.app.routes:
        if isinstance(route, Mount) and route.path == "/api/v1":
            spec = site.get("/api/v1/openapi.json").json()
            paths += [f"/api/v1{p}" for p, operations in spec["paths"].items() if "get" in operations]
    assert any(p.startswith("/api/v1/") for p in paths) and "/incidents" in paths and "/feeds/incidents.atom" in paths
    return paths


def leaks(body: str) -> list[str]:
    # Any case: connect's signals and keys hold names folded to lower case.
    found = [kind for kind, marker in MARKERS.items() if marker.casefold() in body.casefold()]
    if "$argon2" in body:
        found.append("password hash")
    return found


def walk(site: LiveSite, client: httpx.Client, numbers: list[int]) -> tuple[int, bool]:
    """GET every filled path, plain and with searches; fail on any leak. Returns the number
    of requests and whether the public control was seen."""
    requests, control = 0, False
    for pattern in public_paths(site):
        for path in fill(pattern, numbers):
            # Words every planted text shares (a marker itself would only be echoed back as the query).
            queries: list[dict[str, str]] = [{}] + [{"q": word} for word in ("Bishkek", "journalist", "court")]
            queries += [{"country": "KG"}, {"format": "csv"}, {"format": "jsonl"}]
            for params in queries:
                response = client.get(path, params=params)
                requests += 1
                assert response.status_code < 500, (path, params, response.text[:300])
                body = response.text
                assert not leaks(body), (path, params, leaks(body))
                control = control or PUBLIC in body
    return requests, control


def test_no_public_route_shows_confidential_or_rejected_material(store: Store, planted: dict[str, Any]) -> None:
    site = LiveSite(store)
    site.start()
    try:
        anonymous, control = walk(site, site.client, planted["numbers"])
        assert control, "the public control incident was never seen: the walk does not reach the data"
        viewer = httpx.Client(base_url=site.url(""), timeout=10.0)
        try:
            log_in(viewer)
            as_viewer, _ = walk(site, viewer, planted["numbers"])
        finally:
            viewer.close()
    finally:
        site.stop()
    assert anonymous > 100 and as_viewer == anonymous


def test_under_publish_reviewed_only_decided_incidents_are_public(store: Store, planted: dict[str, Any]) -> None:
    site = LiveSite(store, publish="reviewed")
    site.start()
    try:
        before = site.get("/incidents").text
        review.accept(store, planted["ids"]["public"][1], actor="amina")
        after = site.get("/incidents").text
    finally:
        site.stop()
        LiveSite(store, publish="all")  # the mode is per process: put the default back for the next tests

    assert PUBLIC not in before
    assert PUBLIC in after and not leaks(after)


@pytest.mark.parametrize("format", ["csv", "jsonl", "datapackage"])
def test_no_export_format_holds_confidential_material(
    store: Store, planted: dict[str, Any], tmp_path: Path, format: str
) -> None:
    url = store._url.render_as_string(hide_password=False)
    out = tmp_path / "export"
    result = CliRunner().invoke(cli, ["export", "--out", str(out), "--format", format, "--database", url])

    assert result.exit_code == 0, result.output
    written = "".join(path.read_text(encoding="utf-8") for path in out.rglob("*") if path.is_file())
    assert PUBLIC in written
    assert not leaks(written)


def test_unmarking_makes_material_public_again(store: Store, planted: dict[str, Any]) -> None:
    from civicwatch.store import browse

    document_id, incident_id = planted["ids"]["document"]
    assert browse.incident_with_document(store, incident_id) is None

    review.set_confidential(store, "document", document_id, False, actor="amina", reason="partner agreed")

    found = browse.incident_with_document(store, incident_id)
    assert found is not None and found[1] is not None and MARKERS["document"] in found[1].text
    assert json.dumps([e.action for e in review.audit.history(store, "document", document_id)]) == (
        '["confidential", "not confidential"]')


def test_incidents_bulk_loaded_into_a_confidential_document_stay_hidden(store: Store, planted: dict[str, Any]) -> None:
    from civicwatch.store import browse, bulk

    document_id, _ = planted["ids"]["document"]
    text = store.document(document_id).text  # type: ignore[union-attr]
    evidence = f"detained journalist {MARKERS['document']}"
    start = text.index(evidence)
    found = Incident("KG", ["detention"], persons=[MARKERS["document"]], evidence=evidence, evidence_start=start,
                     evidence_end=start + len(evidence), confidence=0.7)

    bulk.load(store, codings=[(document_id, [found])], coder_version="2.bulk")

    [loaded] = store.incidents(document_id=document_id)
    assert loaded.coder_version == "2.bulk"
    assert browse.incident_with_document(store, loaded.id or 0) is None


def test_a_withheld_name_is_blacked_out_and_not_searchable(store: Store, planted: dict[str, Any]) -> None:
    from civicwatch.store import browse
    from civicwatch.store.browse import IncidentFilters

    marker = MARKERS["person"]
    _, incident_id = planted["ids"]["person"]
    found = browse.incident_with_document(store, incident_id)

    assert found is not None and found[1] is not None
    incident, document = found
    assert incident.persons == ["[name withheld]"]
    assert marker not in document.text and "█" * len(marker) in document.text
    # Offsets still hold: the highlighted evidence is the blacked-out span of the blacked-out text.
    assert document.text[incident.evidence_start:incident.evidence_end] == incident.evidence
    assert browse.public_search(store, marker, limit=20) == []
    assert browse.incident_page(store, IncidentFilters(q=marker), cursor=None, limit=50)[0] == []
    # The rest of the query still works; the withheld word just does not narrow or widen it.
    with_name = browse.incident_page(store, IncidentFilters(q=f"Bishkek {marker}"), cursor=None, limit=50)[0]
    without = browse.incident_page(store, IncidentFilters(q="Bishkek"), cursor=None, limit=50)[0]
    assert [i.id for i in with_name] == [i.id for i in without] and incident_id in [i.id for i in without]
    names = browse.names_page(store, "persons", cursor=None, limit=50)[0]
    assert PUBLIC in [n.name for n in names] and marker not in [n.name for n in names]
