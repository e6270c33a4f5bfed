"""The admins' workspace: accounts at ``/admin/users`` and sources at ``/admin/sources``.

Every route needs the admin role and every form the CSRF token. Every change goes through the store
(``store/users.py``, ``store/review.py``, ``Store.remove_source``), which audits it with the acting
admin's name. A mistake in a form (short password, unknown role, missing reason) re-renders the page
with one line saying what to fix. An admin cannot remove or demote themself, so a site always keeps
the admin who is using it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from civicwatch.errors import UsageError
from civicwatch.store import Store, review
from civicwatch.store.users import ROLES, User, add_user, list_users, remove_user, set_password, set_role
from civicwatch.web import auth
from civicwatch.web.deps import StoreDep
from civicwatch.web.render import templates

router = APIRouter(include_in_schema=False)
Admin = Annotated[User, Depends(auth.require_role("admin"))]
Name = Annotated[str, Form(max_length=200)]
Password = Annotated[str, Form(max_length=1000)]
Reason = Annotated[str, Form(max_length=2000)]
SourceId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    context = {"csrf_field": auth.csrf_field(request), "message": None, **context}
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["cache-control"] = "no-store"  # account and source details are never kept by a cache
    return response


# -- accounts ---------------------------------------------------------------------------------------


def _users_page(request: Request, store: Store, user: User, message: str | None = None,
                status: int = 200) -> Response:
    now = datetime.now(UTC)
    accounts = [(account, account.locked_until is not None and account.locked_until > now)
                for account in list_users(store)]
    return _page(request, "admin_users.html",
                 {"user": user, "accounts": accounts, "roles": ROLES, "message": message}, status)


def _users_change(request: Request, store: Store, user: User, change: Any) -> Response:
    """Run ``change``; back to the list, or the list again with the mistake named (400)."""
    try:
        change()
    except UsageError as exc:
        return _users_page(request, store, user, f"{exc.input}: {exc.reason}", 400)
    return RedirectResponse("/admin/users", status_code=303)


def _same_password(password: str, again: str) -> None:
    if password != again:
        raise UsageError("password", "the two passwords differ; type the same one twice")


@router.get("/admin/users")
def users_page(request: Request, store: StoreDep, user: Admin) -> Response:
    """Every account with its role and lock-out, and the forms to add, change or remove one."""
    return _users_page(request, store, user)


@router.post("/admin/users/add", dependencies=[auth.CSRFDep])
def user_add(request: Request, store: StoreDep, user: Admin, name: Name = "", role: Name = "viewer",
             password: Password = "", password_again: Password = "") -> Response:
    """Create an account; the password is typed twice and follows the CLI's rules."""
    def change() -> None:
        _same_password(password, password_again)
        add_user(store, name, role, password, actor=user.name)

    return _users_change(request, store, user, change)


@router.post("/admin/users/role", dependencies=[auth.CSRFDep])
def user_role(request: Request, store: StoreDep, user: Admin, name: Name = "", role: Name = "") -> Response:
    """Give an account another role (never the acting admin's own: no admin locks themself out)."""
    def change() -> None:
        if name == user.name and role != user.role:
            raise UsageError(name, "you cannot change your own role; ask another admin")
        set_role(store, name, role, actor=user.name)

    return _users_change(request, store, user, change)


@router.post("/admin/users/password", dependencies=[auth.CSRFDep])
def user_password(request: Request, store: StoreDep, user: Admin, name: Name = "", password: Password = "",
                  password_again: Password = "") -> Response:
    """Set a new password for an account (which also lifts a lock-out)."""
    def change() -> None:
        _same_password(password, password_again)
        set_password(store, name, password, actor=user.name)

    return _users_change(request, store, user, change)


@router.post("/admin/users/remove", dependencies=[auth.CSRFDep])
def user_remove(request: Request, store: StoreDep, user: Admin, name: Name = "") -> Response:
    """Remove an account (its sessions end at their next request); never the acting admin's own."""
    def change() -> None:
        if name == user.name:
            raise UsageError(name, "you cannot remove your own account; ask another admin")
        remove_user(store, name, actor=user.name)

    return _users_change(request, store, user, change)


# -- sources ----------------------------------------------------------------------------------------


def _sources_page(request: Request, store: Store, user: User, message: str | None = None,
                  status: int = 200) -> Response:
    return _page(request, "admin_sources.html", {"user": user, "sources": store.sources(), "message": message},
                 status)


@router.get("/admin/sources")
def sources_page(request: Request, store: StoreDep, user: Admin) -> Response:
    """Every source with its items, last run and error, and whether it is confidential."""
    return _sources_page(request, store, user)


@router.post("/admin/sources/{id}/confidential", dependencies=[auth.CSRFDep])
def source_confidential(request: Request, store: StoreDep, user: Admin, id: SourceId,
                        value: Annotated[str, Form(pattern="^(on|off)$")] = "on", reason: Reason = "") -> Response:
    """Mark a source confidential (``value=on``: nothing read from it is public) or public again (``off``);
    the reason is required and kept in the audit log."""
    try:
        if not reason.strip():
            raise UsageError("reason", "say why the source's confidentiality changes")
        review.set_confidential(store, "source", id, value == "on", actor=user.name, reason=reason.strip())
    except UsageError as exc:
        return _sources_page(request, store, user, f"{exc.input}: {exc.reason}", 400)
    return RedirectResponse("/admin/sources", status_code=303)


@router.post("/admin/sources/{id}/remove", dependencies=[auth.CSRFDep])
def source_remove(request: Request, store: StoreDep, user: Admin, id: SourceId) -> Response:
    """Stop collecting a source; its documents stay (a confidential source's stay confidential)."""
    found = next((source for source in store.sources() if source.id == id), None)
    if found is None or not store.remove_source(found.name, actor=user.name):
        return _sources_page(request, store, user, f"source {id}: no source with this id (removed already?)", 400)
    return RedirectResponse("/admin/sources", status_code=303)
