"""The web application: pages, the JSON API under ``/api/v1`` and Atom feeds, over one ``Store``.

``create_app(database_url)`` builds it; ``uvicorn`` (or ``civicwatch serve``) runs it. Every
response carries security headers; errors become a friendly page (or, under ``/api/v1``, a
JSON problem) and never a stack trace.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civicwatch import __version__
from civicwatch.config import Settings
from civicwatch.errors import StoreError, UsageError
from civicwatch.store import Store, browse
from civicwatch.web import accounts, admin, api, auth, downloads, feeds, pages, reports, review
from civicwatch.web import cases as case_pages
from civicwatch.web import events as event_pages
from civicwatch.web import ratings as rating_pages
from civicwatch.web import upr as upr_pages
from civicwatch.web.cache import PageCache
from civicwatch.web.problems import problem
from civicwatch.web.render import templates, validation_messages
from civicwatch.web.warm import Warmer

STATIC = Path(__file__).parent / "static"
DEFAULT_PAGE_CACHE_BYTES = 32 * 2**20

# No inline scripts, nothing from other origins, never framed. Inline styles stay allowed for
# the server-rendered SVG map and charts, which colour their shapes with style attributes.
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
     b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """ASGI middleware adding ``SECURITY_HEADERS`` to every HTTP response (pages, API, feeds, static).

    A request carrying the session cookie may be answered with what only its account may see (researchers
    see confidential reports on event pages): unless the route said otherwise, its response is marked
    ``Cache-Control: private, no-store`` so no browser or proxy keeps it. A response over HTTPS (or from
    behind a proxy trusted with ``trust_proxy`` that says so) carries ``Strict-Transport-Security``.
    """

    def __init__(self, app: ASGIApp, trust_proxy: bool = False) -> None:
        self.app = app
        self.trust_proxy = trust_proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        # Static files are the same for everyone: browsers keep caching them.
        personal = not scope["path"].startswith("/static/") and any(
            name == b"cookie" and auth.COOKIE.encode() in value for name, value in scope["headers"])
        https = scope.get("scheme") == "https" or self.trust_proxy and any(
            name == b"x-forwarded-proto" and value.split(b",")[0].strip().lower() == b"https"
            for name, value in scope["headers"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in names]
                if personal and b"cache-control" not in names:
                    extra.append((b"cache-control", b"private, no-store"))
                if https:
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    database_url: str,
    *,
    page_cache_bytes: int = DEFAULT_PAGE_CACHE_BYTES,
    secret_key: str | None = None,
    trust_proxy: bool = False,
    publish: str = "all",
    data_dir: str | None = None,
    public_lag_seconds: float = 0.0,
    warm: bool = False,
) -> FastAPI:
    """The civicwatch web site, API and feeds over the database at ``database_url``.

    The database is opened lazily and closed when the server shuts down; it must be
    initialised (``civicwatch init``) for pages to show anything but an error page.
    Anonymous GET responses are kept in memory, up to ``page_cache_bytes``, until the data
    changes (``web/cache.py``); 0 renders every request. Session cookies are signed with ``secret_key``
    (``auth.load_secret``; None: a random key for this process only, so sessions end with it);
    ``trust_proxy`` believes X-Forwarded-Proto for the cookies' Secure flag. ``publish`` is "all"
    (machine-coded incidents are public, marked so) or "reviewed" (only accepted or person-made ones).
    ``public_lag_seconds``: how long after machine writes cached pages and counts may still be shown
    (0: none); a person's change always shows at once. ``warm``: count every country page's aggregates
    in a background thread (``web/warm.py``) from the start.
    """
    browse.set_publish_mode(publish)  # ``data_dir``: where field-report uploads go (None: files refused)
    browse.set_publish_lag(public_lag_seconds)
    store = Store(database_url)

    warmer = Warmer(store, pages.country_aggregates, lag_seconds=public_lag_seconds) if warm else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if warmer is not None:
            warmer.start()
        yield
        if warmer is not None:
            warmer.stop()
        store.close()

    app = FastAPI(
        title="civicwatch",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # the site has no OpenAPI of its own: the API's is /api/v1/openapi.json
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.warmer = warmer
    app.state.data_dir = data_dir
    auth.install(app, secret_key or secrets.token_urlsafe(48), trust_proxy=trust_proxy)
    app.add_middleware(SecurityHeaders, trust_proxy=trust_proxy)
    # Outermost, so a page served from memory skips routing and rendering; it keeps the security headers.
    app.add_middleware(PageCache, store=store, max_bytes=page_cache_bytes, lag_seconds=public_lag_seconds)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/api/v1", api.create_api(store), name="api")
    app.include_router(feeds.router)
    app.include_router(downloads.router)  # before pages: /incidents/export.csv is not /incidents/{id}
    # ---- routers of connect, review and rate go here, before pages ----
    app.include_router(event_pages.router)
    app.include_router(case_pages.router)
    app.include_router(rating_pages.router)
    app.include_router(upr_pages.router)
    app.include_router(accounts.router)
    app.include_router(review.router)
    app.include_router(admin.router)
    app.include_router(reports.router)
    app.include_router(pages.router)
    _add_error_pages(app)
    return app


def _error_page(request: Request, status: int, title: str, messages: list[str]) -> Response:
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "title": title, "messages": messages}, status_code=status
    )


def _add_error_pages(app: FastAPI) -> None:
    """Friendly HTML for every error a page can meet; the API (a sub-application) has its own."""

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path == "/api/v1" or request.url.path.startswith("/api/v1/"):
            # A path the API's mount did not take (Starlette's mount pattern stops at a line break inside
            # the path): still the API's address space, so still a JSON problem.
            title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Request refused")
            return problem(exc.status_code, title, [str(exc.detail)])
        if exc.status_code == 404:
            return _error_page(request, 404, "Page not found", ["There is no page at this address."])
        if exc.status_code == 405:
            return _error_page(request, 405, "Method not allowed", ["This address only answers GET."])
        return _error_page(request, exc.status_code, "Request refused", [str(exc.detail)])

    async def invalid_parameters(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return _error_page(request, 422, "Invalid parameters", validation_messages(exc))

    async def usage_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, UsageError)
        return _error_page(request, 400, "Bad request", [f"{exc.input}: {exc.reason}"])

    async def store_error(request: Request, exc: Exception) -> Response:
        # The reason may name the database (password hidden) but that is the operator's business.
        return _error_page(request, 503, "Database unavailable", ["The database cannot be read right now."])

    async def server_error(request: Request, exc: Exception) -> Response:
        return HTMLResponse(
            "<!doctype html><title>Server error</title><h1>Server error</h1>"
            "<p>Something went wrong on our side. It has been logged.</p>",
            status_code=500,
        )

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_parameters)
    app.add_exception_handler(UsageError, usage_error)
    app.add_exception_handler(StoreError, store_error)
    app.add_exception_handler(Exception, server_error)


def app_from_settings(settings: Settings) -> FastAPI:
    """``create_app`` as the operator's settings say (``civicwatch serve``)."""
    return create_app(
        settings.database_url,
        page_cache_bytes=settings.page_cache_mb * 2**20,
        secret_key=auth.load_secret(settings.data_dir, settings.secret_key),
        trust_proxy=settings.trust_proxy,
        publish=settings.publish,
        data_dir=settings.data_dir,
        public_lag_seconds=settings.public_lag_seconds,
        warm=settings.warm_country_pages,
    )


def app_from_environment() -> FastAPI:
    """``create_app`` for the database in ``$CIVICWATCH_DATABASE_URL``: the factory each worker process of
    ``civicwatch serve --workers N`` calls (uvicorn starts workers from an import string, not an object)."""
    from civicwatch.config import load_settings

    return app_from_settings(load_settings())
