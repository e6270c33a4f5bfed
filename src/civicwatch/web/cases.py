"""Case pages: ``/persons/{id}`` and ``/organisations/{id}`` (timeline with a source per step, current status)
and ``/countries/{iso2}/detained`` (persons detained or imprisoned now); their JSON twins under ``/api/v1``.
Confidential registry entries are never shown to the public."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from civicwatch.store import Store, cases
from civicwatch.web.deps import Iso2, StoreDep
from civicwatch.web.problems import problem_responses
from civicwatch.web.render import country_name, templates

router = APIRouter(include_in_schema=False)
EntityId = Annotated[int, Path(ge=1, le=2**63 - 1)]



def _case_page(request: Request, store: Store, entity_id: int, kind: cases.Kind) -> Response:
    found = cases.case(store, entity_id, kind)
    if found is None:
        raise HTTPException(404, f"no {kind[:-1]} {entity_id}")
    return templates.TemplateResponse(request, "case.html", {"case": found})


@router.get("/persons/{id}")
def person_page(request: Request, store: StoreDep, id: EntityId) -> Response:
    """A person's case: aliases, roles, the timeline with a source for every step, the current status."""
    return _case_page(request, store, id, "persons")


@router.get("/organisations/{id}")
def organisation_page(request: Request, store: StoreDep, id: EntityId) -> Response:
    """An organisation's case, like a person's."""
    return _case_page(request, store, id, "organisations")


@router.get("/countries/{iso2}/detained")
def detained_page(request: Request, store: StoreDep, iso2: Iso2) -> Response:
    """Persons of a country detained or imprisoned now, each with the latest step and its source."""
    code = iso2.upper()
    if country_name(code) == code:
        raise HTTPException(404, f"no country {code}")
    context = {"code": code, "name": country_name(code), "held": cases.detained_or_imprisoned(store, code)}
    return templates.TemplateResponse(request, "detained.html", context)


STEP_EXAMPLE: dict[str, Any] = {"step": "detained", "date": "2026-03-04", "incident_id": 40, "document_id": 7,
                                "title": "Blogger detained in Tashkent", "url": "https://monitor.example.org/r/7"}
CASE_EXAMPLE: dict[str, Any] = {
    "id": 3, "kind": "persons", "name": "Dilnoza Eshonkulova", "aliases": ["Dilnoza Eshonkulova", "Дилноза Эшонкулова"],
    "roles": ["blogger"], "countries": ["UZ"], "status": "detained", "steps": [STEP_EXAMPLE],
}


class StepOut(BaseModel):
    """One step of a case and the document that reported it."""

    model_config = ConfigDict(json_schema_extra={"examples": [STEP_EXAMPLE]})

    step: str = Field(description="detained, charged, sentenced or released")
    date: str | None
    incident_id: int
    document_id: int
    title: str | None
    url: str | None


class CaseOut(BaseModel):
    """A person's or organisation's case."""

    model_config = ConfigDict(json_schema_extra={"examples": [CASE_EXAMPLE]})

    id: int
    kind: str
    name: str
    aliases: list[str]
    roles: list[str]
    countries: list[str]
    status: str = Field(description="detained, imprisoned, released or unknown, from the latest step")
    steps: list[StepOut]


class CaseList(BaseModel):
    """Cases (here: everyone of a country detained or imprisoned now); one page, ``next`` always null."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [CASE_EXAMPLE], "next": None}]})

    items: list[CaseOut]
    next: str | None = None


def case_out(found: cases.Case) -> CaseOut:
    """A case as the API shows it."""
    return CaseOut(id=found.id, kind=found.kind, name=found.name, aliases=found.aliases, roles=found.roles,
                   countries=found.countries, status=found.status,
                   steps=[StepOut(**vars(step)) for step in found.steps])


def add_case_routes(api: FastAPI, store: Store) -> None:
    """The public case routes of the JSON API."""

    @api.get("/persons/{id}", response_model=CaseOut, responses=problem_responses(404), tags=["names"])
    def get_person(id: EntityId) -> CaseOut:
        """A person's case with its timeline and current status."""
        found = cases.case(store, id, "persons")
        if found is None:
            raise HTTPException(404, f"no person {id}")
        return case_out(found)

    @api.get("/organisations/{id}", response_model=CaseOut, responses=problem_responses(404), tags=["names"])
    def get_organisation(id: EntityId) -> CaseOut:
        """An organisation's case."""
        found = cases.case(store, id, "organisations")
        if found is None:
            raise HTTPException(404, f"no organisation {id}")
        return case_out(found)

    @api.get("/countries/{iso2}/detained", response_model=CaseList, responses=problem_responses(404),
             tags=["countries"])
    def get_detained(iso2: Iso2) -> CaseList:
        """Persons of a country detained or imprisoned now, with their timelines."""
        code = iso2.upper()
        if country_name(code) == code:
            raise HTTPException(404, f"{code} is not an ISO 3166-1 country code")
        return CaseList(items=[case_out(c) for c in cases.detained_or_imprisoned(store, code)])
