"""Signing in and out: ``/login`` and ``/logout``.

A login is refused, with the same message whatever the reason (unknown name, wrong password,
locked account), so the page does not tell a guesser which names exist; too many attempts from one
address within a minute get 429 (per server process: the account lock-out in the database is the bound
that holds across processes).

Logging out signs the account out everywhere: it raises the account's session epoch, so every cookie
issued to it before (on another device, or copied by someone else) stops working too.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from civicwatch.store import Store
from civicwatch.store.users import authenticate, end_sessions
from civicwatch.web import auth
from civicwatch.web.render import templates

router = APIRouter()
# Every sign-in decision, for the operator's log (never the password; the name as repr, so a name with line
# breaks cannot forge log lines).
log = logging.getLogger("civicwatch.login")


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _local(next_path: str | None) -> str:
    """Where to go after login: only a path on this site (never ``//elsewhere`` or ``https://...``)."""
    if next_path and next_path.startswith("/") and not next_path.startswith(("//", "/\\")):
        return next_path
    return "/review"


def _login_page(request: Request, next_path: str, message: str | None, status: int = 200) -> Response:
    auth.ensure_session(request)
    response = templates.TemplateResponse(
        request,
        "login.html",
        {"next": next_path, "message": message, "csrf_field": auth.csrf_field(request),
         "user": auth.current_user(request)},
        status_code=status,
    )
    response.headers["cache-control"] = "no-store"
    return auth.save_new_session(request, response)


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    return _login_page(request, _local(next), None)


@router.post("/login", include_in_schema=False, dependencies=[auth.CSRFDep])
def login(
    request: Request,
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "/review",
) -> Response:
    """Check the name and password; on success a new session (new id and token) and a redirect to ``next``."""
    client = request.client.host if request.client else "unknown"
    if not request.app.state.login_limiter.allow(client):
        log.warning("login refused for %r from %s: too many attempts from this address", name, client)
        return _login_page(request, _local(next), "Too many attempts. Wait a minute and try again.", 429)
    user = authenticate(_store(request), name.strip(), password)
    if user is None:
        log.warning("login refused for %r from %s: wrong name or password, or the account is locked", name, client)
        message = "Wrong name or password, or the account is locked after repeated failures."
        return _login_page(request, _local(next), message, 401)
    log.info("login of %r from %s", user.name, client)
    auth.start_session(request, user)  # a new session: an id planted before login is worthless now
    return auth.save_new_session(request, RedirectResponse(_local(next), status_code=303))


@router.post("/logout", include_in_schema=False, dependencies=[auth.CSRFDep])
def logout(request: Request) -> Response:
    """End every session of the account, this one included: the cookie is replaced by a fresh anonymous one."""
    user = auth.current_user(request)
    if user is not None:
        end_sessions(_store(request), user.id)
    auth.start_session(request, None)
    return auth.save_new_session(request, RedirectResponse("/", status_code=303))
