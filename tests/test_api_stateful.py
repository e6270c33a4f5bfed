"""The API keeps its contract along the links its OpenAPI document states: schemathesis's stateful tests.

``tests/test_api_contract.py`` sends each operation requests generated from its schema alone, so an id
is almost always one that does not exist (a documented 404). Here schemathesis follows the document's
OpenAPI links (``web/api.py``'s ``LINKS``: a list's first id to its item, an incident to its document and
country, an event to its incidents, ``next`` to the following page's ``cursor``, ...) and runs chains of
requests whose ids and cursors the server itself gave. Every answer must be no 5xx and match what the
document declares (status, content type, body schema). The server is the coded fictional reports on
SQLite (``coded_site``), contacted on 127.0.0.1 only; the run is bounded (``SCENARIOS`` scenarios of at
most ``STEPS`` requests, about 10 s on this machine; 500 scenarios also passed here, on PostgreSQL too).
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation

from civicwatch.store import Store
from civicwatch.web.api import LINKS, create_api
from support.server import LiveSite

SCENARIOS = 100
STEPS = 6

pytestmark = pytest.mark.parametrize("coded_site", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def api_schema(coded_site: LiveSite) -> schemathesis.BaseSchema:
    """The API's OpenAPI document from the running server, aimed at that server alone."""
    loaded = schemathesis.openapi.from_url(coded_site.url("/api/v1/openapi.json"), timeout=10)
    loaded.config.update(base_url=coded_site.url("/api/v1"), request_timeout=10, max_redirects=0)
    return loaded


def test_every_link_names_an_operation_and_its_parameters(api_schema: schemathesis.BaseSchema) -> None:
    paths = api_schema.raw_schema["paths"]
    by_id = {operation["operationId"]: (path, operation) for path, methods in paths.items()
             for operation in methods.values()}
    served = [(path, name, link) for path, methods in paths.items() for operation in methods.values()
              for name, link in operation["responses"]["200"].get("links", {}).items()]
    assert len(served) == len(LINKS)
    for path, name, link in served:
        target_path, target = by_id[link["operationId"]]
        accepted = {f"{p['in']}.{p['name']}" for p in target.get("parameters", [])}
        assert set(link["parameters"]) <= accepted, (path, name)
        assert (path, target_path, name) in {(s, t, n) for s, t, n, _ in LINKS}


def test_chains_of_requests_along_the_links_keep_the_contract(
    api_schema: schemathesis.BaseSchema, coded_site: LiveSite
) -> None:
    answered: Counter[tuple[str, int]] = Counter()
    base = api_schema.as_state_machine()

    class Machine(base):  # type: ignore[misc, valid-type]
        def step(self, input: Any) -> Any:
            # A cursor is opaque: one the server never gave is rightly refused (400, documented), so only
            # cursors that came along a link (a ``next``) are sent; made-up ones are the contract test's
            # negative data.
            query = input.case.query
            if query and "cursor" in query and (ParameterLocation.QUERY, "cursor") not in input.applied_parameters:
                del query["cursor"]
            return super().step(input)

        def call(self, case: schemathesis.Case, **kwargs: Any) -> Any:
            response = super().call(case, **kwargs)
            # Only ever the test server: the base URL is the fixture's, and redirects are not followed.
            assert urlsplit(response.request.url).hostname == "127.0.0.1"
            answered[(case.operation.path, response.status_code)] += 1
            return response

    Machine.run(settings=settings(
        max_examples=SCENARIOS,
        stateful_step_count=STEPS,
        deadline=None,  # a request's time varies with the machine; speed is the benchmark's business
        derandomize=True,  # the same chains every run: a failure here is a bug, not bad luck
        database=None,
        suppress_health_check=list(HealthCheck),
    ))
    # The links were followed to real items: ids the server gave were found again (a broken link would
    # leave these operations with made-up ids and 404s only).
    for path in ("/incidents/{id}", "/documents/{id}", "/countries/{iso2}", "/events/{id}", "/persons/{id}"):
        assert answered[(path, 200)] > 0, (path, sorted(answered.items()))
    assert not [key for key in answered if key[1] >= 500]


def test_the_documents_links_match_the_apps(coded_site: LiveSite) -> None:
    # The links come from the app's own OpenAPI generation, not from the server's state.
    with Store("sqlite://") as store:
        built = create_api(store).openapi()
    served = coded_site.get("/api/v1/openapi.json").json()
    for path, methods in built["paths"].items():
        assert served["paths"][path]["get"]["responses"]["200"].get("links") == (
            methods["get"]["responses"]["200"].get("links")
        )
