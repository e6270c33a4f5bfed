"""Shared fixtures: real databases (SQLite and PostgreSQL) and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.databases import *  # noqa: F403
from support.server import *  # noqa: F403
from support.webserver import *  # noqa: F403

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared folder beside the checkout (third-party pages and the development set), read-only."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not present")
    return SHARED


@pytest.fixture(scope="session")
def examples() -> Path:
    """civicwatch's own sample corpus."""
    return REPO / "examples"
