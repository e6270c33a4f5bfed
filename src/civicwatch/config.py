"""Settings: defaults, overridden key by key by a TOML file, then by the environment.

The file is ``$CIVICWATCH_CONFIG`` or ``./civicwatch.toml`` when present::

    database_url = "postgresql+psycopg://civicwatch@db.example.org/civicwatch"
    contact = "monitoring-team@example.org"
    max_bytes = 20_000_000
    near_duplicate_threshold = 0.8

Environment variables are the upper-case key with a ``CIVICWATCH_`` prefix
(``CIVICWATCH_DATABASE_URL``).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from civicwatch import __version__
from civicwatch.errors import UsageError


@dataclass(frozen=True)
class Settings:
    """Everything an operator may tune; every field has a sensible default."""

    database_url: str = "sqlite:///civicwatch.db"
    contact: str = "https://github.com/civicwatch/civicwatch"
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_bytes: int = 20_000_000
    max_redirects: int = 5
    per_host_delay: float = 1.0
    respect_robots: bool = True
    allow_private: bool = False
    near_duplicate_threshold: float = 0.8
    follow_links: bool = True  # feeds and listings: fetch each item's page for its full text
    page_cache_mb: int = 32  # memory per server process for anonymous pages, kept until the data changes; 0: off
    data_dir: str = "civicwatch-data"  # the session secret and field-report uploads (never served as files)
    secret_key: str = ""  # signs session cookies; empty: generated once into data_dir/session-secret
    trust_proxy: bool = False  # behind a reverse proxy: believe its X-Forwarded-Proto (Secure cookies)
    publish: str = "all"  # "all": machine-coded incidents are public (marked so); "reviewed": only accepted ones
    # How long new machine-made material (collected documents, coded incidents) may take to show on public
    # pages, which are then served from the page cache meanwhile; a person's change shows at once.
    public_lag_seconds: float = 30.0
    warm_country_pages: bool = True  # serve: count every country page's aggregates in the background (web/warm.py)

    @property
    def user_agent(self) -> str:
        return f"civicwatch/{__version__} (+{self.contact})"


def _coerce(name: str, value: Any, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                return value.strip().lower() in {"1", "true", "yes", "on"}
            return bool(value)
        return type(default)(value)
    except (TypeError, ValueError) as exc:
        raise UsageError(name, f"expected a {type(default).__name__}, got {value!r}") from exc


def load_settings(path: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Read settings from the defaults, the config file, the environment and ``overrides``, in that order."""
    settings = Settings()
    defaults = {f.name: getattr(settings, f.name) for f in fields(Settings)}
    values: dict[str, Any] = {}
    file = Path(path or os.environ.get("CIVICWATCH_CONFIG") or "civicwatch.toml")
    if file.is_file():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(str(file), f"not a valid TOML file: {exc}") from exc
        for key, value in data.items():
            if key not in defaults:
                raise UsageError(str(file), f"unknown setting {key!r}")
            values[key] = _coerce(f"{file}: {key}", value, defaults[key])
    elif path:
        raise UsageError(str(file), "config file not found")
    for key, default in defaults.items():
        env = os.environ.get(f"CIVICWATCH_{key.upper()}")
        if env is not None and env != "":
            values[key] = _coerce(f"CIVICWATCH_{key.upper()}", env, default)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return replace(settings, **values)
