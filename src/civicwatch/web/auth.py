"""Who is asking: signed session cookies, role checks and CSRF tokens, as FastAPI dependencies.

Other routers use three things from here::

    from civicwatch.web.auth import CSRFDep, current_user, require_role

    @router.post("/events/{id}/split", dependencies=[Depends(require_role("researcher")), CSRFDep])
    def split(...): ...

and put ``{{ csrf_field(request) }}`` inside every ``<form method="post">`` of their templates.

The session is a cookie signed with the site's secret (``itsdangerous``): a random session id, the
user's id (None before login), the account's session epoch and the CSRF token. Nothing in it is secret,
but nothing in it can be forged. A new session (new id, new token) is issued at login and logout, so a
session id planted before login is worthless after it. The user's role and epoch are read from the
database on each request, so a removed account or a changed role takes effect at once, and raising the
epoch (logout, which signs out everywhere; a password or role change; a lock-out) ends every copy of the
account's cookies, stolen ones included, server-side.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup, escape

from civicwatch.errors import UsageError
from civicwatch.store import Store
from civicwatch.store.users import ROLES, User, get_user

COOKIE = "civicwatch_session"
SESSION_SECONDS = 12 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SECRET_FILE = "session-secret"
# Refused requests (a role too low, a missing or wrong CSRF token), for the operator's log.
log = logging.getLogger("civicwatch.access")


def load_secret(data_dir: str | os.PathLike[str], environment_value: str = "") -> str:
    """The key sessions are signed with: ``environment_value`` when set, else ``data_dir/session-secret``.

    The file is generated on first use (readable by its owner only) and kept, so that sessions survive a
    restart and every worker process of one server signs alike. It is never in the repository.
    """
    if environment_value:
        if len(environment_value) < 32:
            raise UsageError("CIVICWATCH_SECRET_KEY", "too short: use at least 32 random characters")
        return environment_value
    path = Path(data_dir) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: two workers starting together must not each write a different secret.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as file:
                file.write(secrets.token_urlsafe(48))
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < 32:
        raise UsageError(str(path), "the session secret is empty or too short; remove the file to regenerate it")
    return secret


class Sessions:
    """Signs and reads session cookies; kept on ``app.state.sessions`` by ``install``."""

    def __init__(self, secret: str, *, trust_proxy: bool = False) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="civicwatch.session")
        self.trust_proxy = trust_proxy

    def read(self, request: Request) -> dict[str, Any] | None:
        """The request's session, or None for no cookie, a forged or an expired one."""
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        return data if isinstance(data, dict) and isinstance(data.get("csrf"), str) else None

    def new(self, user: User | None) -> dict[str, Any]:
        """A fresh session: new id and new CSRF token (never carried over from an earlier one), for ``user``
        under the account's current session epoch."""
        return {"sid": secrets.token_urlsafe(16), "uid": None if user is None else user.id,
                "epoch": None if user is None else user.session_epoch, "csrf": secrets.token_urlsafe(32)}

    def save(self, request: Request, response: Response, session: dict[str, Any]) -> None:
        """Set the cookie: HttpOnly, SameSite=Lax, Secure when the request came over HTTPS."""
        response.set_cookie(
            COOKIE,
            self._serializer.dumps(session),
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="lax",
            secure=self.is_https(request),
            path="/",
        )

    def clear(self, request: Request, response: Response) -> None:
        """Remove the cookie (logout)."""
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=self.is_https(request))

    def is_https(self, request: Request) -> bool:
        """Whether the visitor's connection is HTTPS: the scheme, or X-Forwarded-Proto from a trusted proxy."""
        if request.url.scheme == "https":
            return True
        if self.trust_proxy:
            forwarded = request.headers.get("x-forwarded-proto", "")
            return forwarded.split(",")[0].strip().lower() == "https"
        return False


class LoginRequired(Exception):
    """Raised by ``require_role`` for an anonymous visitor: answered with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class LoginRateLimiter:
    """At most ``attempts`` login attempts per client address in ``seconds`` (in this process's memory).

    The per-account lock-out (``store/users.py``) stops guessing one password, and it is the real bound:
    it is counted in the database, so it holds across every worker process. This limiter only slows one
    address trying many accounts; with N worker processes its allowance is up to N times ``attempts``.
    """

    def __init__(self, attempts: int = 10, seconds: float = 60.0) -> None:
        self.attempts = attempts
        self.seconds = seconds
        self._seen: dict[str, deque[float]] = {}

    def allow(self, client: str, now: float | None = None) -> bool:
        """Count one attempt from ``client``; False when it is over the limit."""
        now = time.monotonic() if now is None else now
        times = self._seen.setdefault(client, deque())
        while times and times[0] <= now - self.seconds:
            times.popleft()
        if len(times) >= self.attempts:
            return False
        times.append(now)
        if len(self._seen) > 10_000:  # forget idle addresses rather than grow without bound
            for key in [k for k, v in self._seen.items() if not v or v[-1] <= now - self.seconds]:
                del self._seen[key]
        return True


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def session(request: Request) -> dict[str, Any] | None:
    """The request's valid session, read once per request."""
    if not hasattr(request.state, "civicwatch_session"):
        request.state.civicwatch_session = _sessions(request).read(request)
    found: dict[str, Any] | None = request.state.civicwatch_session
    return found


def current_user(request: Request) -> User | None:
    """FastAPI dependency: the signed-in user, or None for an anonymous visitor, a removed account or a
    session the account has ended since (its epoch is older than the account's)."""
    if not hasattr(request.state, "civicwatch_user"):
        data = session(request)
        uid = data.get("uid") if data else None
        found = get_user(_store(request), uid) if isinstance(uid, int) else None
        if found is not None and data is not None and data.get("epoch") != found.session_epoch:
            found = None
        request.state.civicwatch_user = found
    user: User | None = request.state.civicwatch_user
    return user


CurrentUser = Annotated[User | None, Depends(current_user)]


class RoleCheck:
    """The dependency ``require_role`` makes; ``role`` is kept so tests can read each route's rule."""

    def __init__(self, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        self.role = role

    def __call__(self, request: Request) -> User:
        user = current_user(request)
        if user is None:
            raise LoginRequired(request.url.path)
        if not user.can(self.role):
            log.warning("refused %s %s to %r (%s; needs %s)", request.method, request.url.path, user.name,
                        user.role, self.role)
            raise HTTPException(403, f"this page is for the {self.role} role and above")
        return user


def require_role(role: str) -> Callable[[Request], User]:
    """A FastAPI dependency admitting users with ``role`` or above: anonymous visitors are sent to the
    login page, signed-in users below the role get 403."""
    return RoleCheck(role)


def csrf_token(request: Request) -> str:
    """The token forms must send back; "" when the visitor has no session yet (see ``ensure_session``)."""
    data = session(request)
    return str(data["csrf"]) if data else ""


def csrf_field(request: Request) -> Markup:
    """The hidden form field carrying the CSRF token, for templates: ``{{ csrf_field(request) }}``."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(csrf_token(request)))


async def verify_csrf(request: Request) -> None:
    """FastAPI dependency for every state-changing request: 403 unless the form field ``csrf_token`` (or the
    ``X-CSRF-Token`` header, for htmx) equals the session's token."""
    expected = csrf_token(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        client = request.client.host if request.client else "unknown"
        log.warning("refused %s %s from %s: missing or wrong CSRF token", request.method, request.url.path, client)
        raise HTTPException(403, "the form's security token is missing or wrong; reload the page and try again")


CSRFDep = Depends(verify_csrf)


def ensure_session(request: Request) -> None:
    """Give an anonymous visitor a session (for the CSRF token of a public form) if they have none.

    Call it before rendering the form, then pass the response through ``save_new_session``.
    """
    if session(request) is None:
        request.state.civicwatch_session = _sessions(request).new(None)
        request.state.civicwatch_user = None
        request.state.civicwatch_session_new = True


def save_new_session(request: Request, response: Response) -> Response:
    """Set the cookie of a session ``ensure_session`` (or a login) started in this request; returns ``response``."""
    if getattr(request.state, "civicwatch_session_new", False):
        _sessions(request).save(request, response, request.state.civicwatch_session)
    return response


def start_session(request: Request, user: User | None) -> None:
    """Replace the request's session with a fresh one for ``user`` (login; None: logout)."""
    request.state.civicwatch_session = _sessions(request).new(user)
    request.state.civicwatch_user = user
    request.state.civicwatch_session_new = True


def install(app: Any, secret: str, *, trust_proxy: bool = False) -> None:
    """Put the session signer on ``app`` and answer ``LoginRequired`` with a redirect to ``/login``."""
    app.state.sessions = Sessions(secret, trust_proxy=trust_proxy)
    app.state.login_limiter = LoginRateLimiter()

    async def to_login(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)

    app.add_exception_handler(LoginRequired, to_login)
