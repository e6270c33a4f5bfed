"""Named errors that carry the offending input.

Library code raises these and never prints or exits; the CLI (and later the
web app) renders each as one line naming the input and the reason.
"""

from __future__ import annotations


class CivicwatchError(Exception):
    """Base class: ``input`` is what the user gave (a URL, a path, a line), ``reason`` why it failed."""

    def __init__(self, input: str, reason: str) -> None:
        super().__init__(f"{input}: {reason}")
        self.input = input
        self.reason = reason


class UsageError(CivicwatchError):
    """The user asked for something that cannot be done as asked (exit status 2)."""


class FetchError(CivicwatchError):
    """A URL could not be fetched."""


class UnsafeURLError(FetchError):
    """A URL scheme or address is refused (loopback, private, link-local, multicast, file://...)."""


class ResponseTooLargeError(FetchError):
    """The response or file is bigger than the size cap."""


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(self, input: str, reason: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(input, reason)
        self.status = status
        self.retry_after = retry_after


class RobotsDisallowedError(FetchError):
    """robots.txt does not allow civicwatch to fetch this URL."""


class ParseError(CivicwatchError):
    """A payload could not be read as what it claims to be (feed, HTML, PDF, JSON line...)."""


class StoreError(CivicwatchError):
    """The database refused an operation (unreachable, not migrated, disk full...)."""


class SourceExistsError(StoreError):
    """A source with this name or location is already registered."""
