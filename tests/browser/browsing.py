"""``Browsing``: one browser tab under test, with its screenshots and what it did that it should not."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

ARTIFACTS = Path(__file__).parent / "artifacts"


@dataclass
class Browsing:
    """A fresh browser tab and what it did: requests it was refused, errors its console showed."""

    page: Page
    name: str
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    def shot(self, step: str, *, full_page: bool = True) -> Path:
        """Save a screenshot of the page as ``artifacts/<test>-<step>.png``; returns its path."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{step}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        self.shots.append(path)
        return path

    def check_clean(self) -> None:
        """The page asked nothing of another host and its console showed no error (CSP refusals included)."""
        assert self.blocked == [], f"the browser tried to reach other hosts: {self.blocked}"
        assert self.console_errors == [], f"errors in the browser console: {self.console_errors}"
