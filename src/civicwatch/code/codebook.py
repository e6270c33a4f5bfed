"""Load the coder's data files (``src/civicwatch/codebook/*.toml``), with a user's overrides.

Everything the coder knows (cues per type, target, perpetrator and language;
modality cues; places; date words; name lists; abbreviations) is in these TOML
files. A user directory may hold files of the same names: its tables are
merged key by key into the defaults, a list replaces the default list of the
same key, and a key written with a trailing ``+`` (``"en+" = ["kidnapped"]``)
appends to the default list instead.
"""

from __future__ import annotations

import hashlib
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from civicwatch.errors import UsageError

DATA_FILES = (
    "types.toml",
    "targets.toml",
    "perpetrators.toml",
    "modality.toml",
    "places.toml",
    "names.toml",
    "dates.toml",
    "abbreviations.toml",
)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if key.endswith("+"):
            name = key[:-1]
            old = out.get(name, [])
            if not isinstance(old, list) or not isinstance(value, list):
                raise ValueError(f"{key!r}: '+' appends a list to a list")
            out[name] = old + [v for v in value if v not in old]
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read(path: str, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(path, f"not a valid TOML file: {exc}") from exc


def load_codebook(user_dir: Path | None = None) -> tuple[dict[str, dict[str, Any]], str]:
    """Return ``{file stem: data}`` for every data file and a short hash of all their contents."""
    package = resources.files("civicwatch") / "codebook"
    data: dict[str, dict[str, Any]] = {}
    digest = hashlib.sha256()
    for name in DATA_FILES:
        text = (package / name).read_text(encoding="utf-8")
        digest.update(text.encode())
        table = _read(f"codebook/{name}", text)
        if user_dir is not None:
            path = Path(user_dir) / name
            if path.is_file():
                user_text = path.read_text(encoding="utf-8")
                digest.update(user_text.encode())
                try:
                    table = _merge(table, _read(str(path), user_text))
                except ValueError as exc:
                    raise UsageError(str(path), str(exc)) from exc
        data[name.removesuffix(".toml")] = table
    if user_dir is not None and not Path(user_dir).is_dir():
        raise UsageError(str(user_dir), "codebook directory not found")
    return data, digest.hexdigest()[:12]


def package_data_hash() -> str:
    """A short hash of the packaged data files (part of the coder version)."""
    return load_codebook(None)[1]
