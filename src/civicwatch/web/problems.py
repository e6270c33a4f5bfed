"""Errors as JSON problems (RFC 9457) for the API: 400, 404, 422, 503 — never a stack trace."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from civicwatch.errors import StoreError, UsageError
from civicwatch.web.render import validation_messages

MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """What went wrong with a request, in the shape of RFC 9457 problem details."""

    type: str = Field("about:blank", examples=["about:blank"])
    title: str = Field(examples=["Invalid parameters"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["limit: Input should be less than or equal to 200"])
    errors: list[str] = Field(
        default_factory=list, examples=[["limit: Input should be less than or equal to 200"]]
    )


def problem(status: int, title: str, errors: list[str]) -> Response:
    """A JSON problem response (``application/problem+json``) with one line per error."""
    body = Problem(type="about:blank", title=title, status=status, detail="; ".join(errors), errors=errors)
    return JSONResponse(body.model_dump(), status_code=status, media_type=MEDIA_TYPE)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI descriptions of the problems a route may answer with (for ``responses=``)."""
    titles = {400: "Bad request (a cursor this list did not give out)", 404: "Not found",
              422: "Invalid parameters", 503: "Database unavailable"}
    return {status: {"model": Problem, "description": titles[status]} for status in statuses}


def problems_in_openapi(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with the problem responses under the media type they are served as.

    FastAPI lists a ``responses=`` model under ``application/json``; problems are
    ``application/problem+json``, and a client checking responses against the spec must see that.
    """
    reference = "#/components/schemas/Problem"
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                if content.get("application/json", {}).get("schema", {}).get("$ref") == reference:
                    content[MEDIA_TYPE] = content.pop("application/json")
    return spec


def add_problem_handlers(api: FastAPI) -> None:
    """Answer every error raised in ``api`` as a JSON problem."""

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Request refused")
        return problem(exc.status_code, title, [str(exc.detail)])

    async def invalid_parameters(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem(422, "Invalid parameters", validation_messages(exc))

    async def usage_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, UsageError)
        return problem(400, "Bad request", [f"{exc.input}: {exc.reason}"])

    async def store_error(_request: Request, _exc: Exception) -> Response:
        return problem(503, "Database unavailable", ["the database cannot be read right now"])

    async def server_error(_request: Request, _exc: Exception) -> Response:
        return problem(500, "Server error", ["something went wrong on our side; it has been logged"])

    api.add_exception_handler(StarletteHTTPException, http_error)
    api.add_exception_handler(RequestValidationError, invalid_parameters)
    api.add_exception_handler(UsageError, usage_error)
    api.add_exception_handler(StoreError, store_error)
    api.add_exception_handler(Exception, server_error)
