"""The JSON API keeps the contract its OpenAPI document states, checked by schemathesis on a live server.

schemathesis reads ``/api/v1/openapi.json`` from the real server (``coded_site``: the coded fictional
reports, on SQLite and on PostgreSQL) and, for every operation, sends requests generated from the
schema to 127.0.0.1 only: valid ones ("positive": they must be answered as documented) and invalid
ones ("negative": they must be refused with a 4xx). Every answer must be no 5xx, have a status code
and content type the document declares, and a body matching the declared schema.

Each operation and mode has a test of its own. A real bug in the app goes into ``KNOWN_BUGS``: its
check is left out of that operation's test, and ``test_known_bug`` sends the failing request with that
check alone, strictly expected to fail, so that the fix shows up as a pass to unmark; the request then
joins ``PINNED``, sent on every run. Examples are bounded (``MAX_EXAMPLES``) so the module runs in
well under a minute.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import CheckFunction, GenerationMode
from schemathesis.core.result import Ok

from civicwatch.store import Store
from civicwatch.web.api import create_api
from support.server import LiveSite

MAX_EXAMPLES = 40  # per operation, mode and engine: about 20 s for the module on this machine
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


def _documented_operations() -> list[str]:
    """``"GET /incidents"`` etc.: the operations the API's OpenAPI document lists, read without a server.

    Building the app opens no database, so the tests can be made per operation at collection time;
    ``test_the_live_document_lists_the_same_operations`` checks the served document says the same.
    """
    with Store("sqlite://") as store:
        paths = create_api(store).openapi()["paths"]
    return sorted(f"{method.upper()} {path}" for path, methods in paths.items() for method in methods)


OPERATIONS = _documented_operations()

# (operation, mode) -> (the check that fails, the bug, the request parts that show it).
KNOWN_BUGS: dict[tuple[str, GenerationMode], tuple[CheckFunction, str, dict[str, Any]]] = {}
# (Fixed: a line break in an /api/v1 path got the site's HTML 404, not problem+json.)

# Requests that once found a bug, sent on every run with every check (positive: they are valid requests).
BIG_ID = 2**40  # documented as valid (ids go up to 2**63-1), beyond PostgreSQL's 32-bit INTEGER keys
PINNED: list[tuple[str, dict[str, Any]]] = [
    ("GET /incidents/{id}", {"path_parameters": {"id": BIG_ID}}),  # was 503 on PostgreSQL, not 404
    ("GET /documents/{id}", {"path_parameters": {"id": BIG_ID}}),  # was 503 on PostgreSQL, not 404
    ("GET /documents", {"query": {"source_id": BIG_ID}}),  # was 503 on PostgreSQL, not an empty list
]

HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,  # a request's time varies with the machine; speed is the benchmark's business
    derandomize=True,  # the same requests every run: a failure here is a bug, not bad luck
    database=None,
    suppress_health_check=list(HealthCheck),  # fixtures are module-scoped on purpose; generation may be slow
)


@pytest.fixture(scope="module")
def api_schema(coded_site: LiveSite) -> schemathesis.BaseSchema:
    """The API's own OpenAPI document, fetched from the running server, aimed at that server alone."""
    loaded = schemathesis.openapi.from_url(coded_site.url("/api/v1/openapi.json"), timeout=10)
    loaded.config.update(base_url=coded_site.url("/api/v1"), request_timeout=10, max_redirects=0)
    return loaded


def _cases(
    api_schema: schemathesis.BaseSchema, operation: str, mode: GenerationMode, **parts: Any
) -> st.SearchStrategy[Any]:
    """Requests for ``operation``, with ``parts`` (``query={...}``, ``path_parameters={...}``) fixed."""
    method, path = operation.split(" ", 1)
    found = api_schema[path][method]
    if mode is GenerationMode.NEGATIVE and not list(found.iter_parameters()):
        pytest.skip(f"{operation} takes no parameters: there is no invalid request to make")
    cases = found.as_strategy(generation_mode=mode, **parts)
    if mode is GenerationMode.POSITIVE:
        # A cursor is opaque: a string the server never gave out is rightly refused (400, documented),
        # so valid requests start from the first page; made-up cursors are still sent as negative data.
        cases = cases.map(_without_cursor)
    return cases


def _without_cursor(case: schemathesis.Case) -> schemathesis.Case:
    if case.query:
        case.query.pop("cursor", None)
    return case


def _check(case: schemathesis.Case, **checks: Any) -> None:
    response = case.call_and_validate(**checks)
    # Only ever the test server: the base URL is the fixture's, and redirects are not followed.
    assert urlsplit(response.request.url).hostname == "127.0.0.1"


def test_the_live_document_lists_the_same_operations(api_schema: schemathesis.BaseSchema) -> None:
    api_schema.validate()  # a valid OpenAPI document, to begin with
    served = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # every operation's definition can be used
        served.append(f"{result.ok().method.upper()} {result.ok().path}")
    served.sort()
    assert served == OPERATIONS
    assert {"GET /incidents", "GET /incidents/{id}", "GET /countries", "GET /documents"} <= set(served)


def test_the_document_says_what_each_filter_accepts(api_schema: schemathesis.BaseSchema) -> None:
    # Once these were documented as any string while the server refused all but a few (a 422 to
    # GET /api/v1/incidents?type=arrest): a client reading the document could not know.
    listed = api_schema.raw_schema["paths"]["/incidents"]["get"]["parameters"]
    parameters = {parameter["name"]: parameter["schema"] for parameter in listed}
    for name in ("country", "type", "right", "target", "perpetrator", "date_from", "date_to"):
        assert "pattern" in parameters[name] or "enum" in parameters[name], name


@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_keeps_its_contract(
    api_schema: schemathesis.BaseSchema, operation: str, mode: GenerationMode
) -> None:
    known = KNOWN_BUGS.get((operation, mode))
    excluded = [known[0]] if known else []

    @HYPOTHESIS
    @given(case=_cases(api_schema, operation, mode))
    def keeps_contract(case: schemathesis.Case) -> None:
        _check(case, excluded_checks=excluded)

    keeps_contract()


@pytest.mark.parametrize(("operation", "parts"), PINNED, ids=[f"{op} {parts}" for op, parts in PINNED])
def test_requests_that_once_found_a_bug(
    api_schema: schemathesis.BaseSchema, operation: str, parts: dict[str, Any]
) -> None:
    @HYPOTHESIS
    @given(case=_cases(api_schema, operation, GenerationMode.POSITIVE, **parts))
    def keeps_contract(case: schemathesis.Case) -> None:
        _check(case)

    keeps_contract()


@pytest.mark.parametrize(("operation", "mode"), list(KNOWN_BUGS), ids=[f"{o}-{m}" for o, m in KNOWN_BUGS])
def test_known_bug(
    api_schema: schemathesis.BaseSchema, operation: str, mode: GenerationMode, request: pytest.FixtureRequest
) -> None:
    check, bug, parts = KNOWN_BUGS[(operation, mode)]
    request.applymarker(pytest.mark.xfail(strict=True, reason=bug))
    method, path = operation.split(" ", 1)
    case = api_schema[path][method].Case(**parts)  # the failing request itself, not a generated one

    _check(case, checks=[check])
