"""The browser fixture's own promise: the browser reaches 127.0.0.1 and nothing else."""

from __future__ import annotations

import pytest

from browser.browsing import Browsing


def test_the_browser_is_kept_from_every_other_host(browsing: Browsing) -> None:
    # The guard itself: a page (not the site's, whose CSP would stop this first) asks for an image
    # elsewhere; the request is aborted before it leaves, and recorded so check_clean would fail.
    page = browsing.page
    with page.expect_event("requestfailed") as failed:
        page.set_content('<img src="http://cdn.example.invalid/pixel.png" alt="">')
    assert failed.value.url == "http://cdn.example.invalid/pixel.png"
    assert browsing.blocked == ["http://cdn.example.invalid/pixel.png"]
    with pytest.raises(AssertionError, match="tried to reach other hosts"):
        browsing.check_clean()
