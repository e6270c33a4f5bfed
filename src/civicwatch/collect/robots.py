"""robots.txt: which URLs a site asks civicwatch not to fetch.

The rules of each origin (scheme, host, port) are read once per
:class:`RobotsPolicy` and kept. How robots.txt is downloaded is not this
module's business: the fetcher hands in a function, so the download goes
through the same SSRF guard, size cap, timeouts and per-host delay as any
other request.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from protego import Protego

__all__ = ["ROBOTS_MAX_BYTES", "ROBOTS_TOKEN", "RobotsPolicy", "robots_url"]

# The product token matched against User-agent lines (RFC 9309 matches the token, not the full header).
ROBOTS_TOKEN = "civicwatch"

# Google reads the first 500 KiB of a robots.txt and ignores the rest; a bigger file is treated as absent.
ROBOTS_MAX_BYTES = 500 * 1024


def robots_url(url: str) -> str:
    """The robots.txt governing ``url``: ``https://example.org:8443/a/b`` -> ``https://example.org:8443/robots.txt``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme.lower()}://{host}{port}/robots.txt"


class RobotsPolicy:
    """Answers "may civicwatch fetch this URL?" from each origin's robots.txt, read once.

    ``download(robots_url)`` returns the file's bytes, or ``None`` when there is
    no usable robots.txt (a 4xx, a 5xx, an unreachable host, a file too big):
    then everything on that origin is allowed.
    """

    def __init__(self, download: Callable[[str], bytes | None], token: str = ROBOTS_TOKEN) -> None:
        self._download = download
        self._token = token
        self._rules: dict[str, Protego | None] = {}

    def allows(self, url: str) -> bool:
        """True when the robots.txt of ``url``'s origin lets our user agent fetch ``url``."""
        key = robots_url(url)
        if key not in self._rules:
            body = self._download(key)
            self._rules[key] = None if body is None else Protego.parse(body.decode("utf-8", errors="replace"))
        rules = self._rules[key]
        return rules is None or bool(rules.can_fetch(url, self._token))
