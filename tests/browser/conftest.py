"""A real browser for the site: Playwright driving Debian's headless Chromium (``/usr/bin/chromium``).

    def test_home(browsing, coded_site):
        browsing.page.goto(coded_site.url("/"))
        browsing.shot("home")                 # tests/browser/artifacts/test_home-home.png
        browsing.check_clean()                # no console errors, nothing asked of other hosts

No browser is downloaded: Playwright's own builds are never installed, it launches the Debian
package's binary (``.ci/run`` installs it with apt when missing). Without that binary the tests
skip, except under ``CI=true``, where a missing browser must fail the build rather than quietly
drop the browser tests.

The browser reaches 127.0.0.1 and nothing else: every other request is aborted (and recorded, so
``check_clean`` fails on it), and it is launched with a proxy on a closed loopback port, so even a
request Playwright cannot see (Chromium's own) has nowhere to go.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Generator, Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Route, ViewportSize, sync_playwright

from browser.browsing import ARTIFACTS, Browsing

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests may run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Anything that is not loopback goes to this proxy, where nothing listens (port 9, "discard").
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
]
ALLOWED_HOSTS = {"127.0.0.1"}
TIMEOUT_MS = 10_000  # a page of this site loads in milliseconds; waiting longer only hides a bug
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


def chromium_path() -> str:
    """Debian's Chromium (``$CIVICWATCH_CHROMIUM`` overrides); skips, or fails under CI, when missing."""
    candidates = [os.environ.get("CIVICWATCH_CHROMIUM", ""), *CHROMIUM_CANDIDATES,
                  shutil.which("chromium") or ""]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    message = ("Chromium not found at /usr/bin/chromium: install Debian's package "
               "(apt-get install chromium) to run the browser tests")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session (launching takes about half a second)."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test, so ``browsing`` can tell whether its test failed."""
    report: pytest.TestReport = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def browsing(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Browsing]:
    """A new browser context and tab (no cookies or cache shared with other tests), desktop-sized.

    On failure a screenshot of where the page was is saved as ``artifacts/<test>-failed.png``.
    """
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    name = request.node.name.replace("[", "-").replace("]", "").replace("/", "-")
    session = Browsing(page=page, name=name)
    (ARTIFACTS / f"{name}-failed.png").unlink(missing_ok=True)  # a failure shot from an earlier run misleads

    def guard(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in ALLOWED_HOSTS or url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            session.blocked.append(url)
            route.abort("blockedbyclient")

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            session.console_errors.append(message.text)

    context.route("**/*", guard)
    page.on("console", console)
    page.on("pageerror", lambda error: session.console_errors.append(str(error)))
    try:
        yield session
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            # A page that broke may not screenshot; the failure itself says enough then.
            with contextlib.suppress(Exception):
                session.shot("failed")
        context.close()
