"""Reading UPR recommendation CSV files (the format is documented in docs/upr.md)."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pycountry

from civicwatch.errors import UsageError

REQUIRED = ("state_under_review", "recommendation", "recommending_state", "response", "session")
OPTIONAL = ("cycle", "review_year", "issues")
# Responses as the files spell them -> ours. "Accepted" is UPR Info's word for supported.
RESPONSES = {"supported": "supported", "accepted": "supported", "noted": "noted", "rejected": "noted"}
# UN spellings pycountry does not resolve by itself.
NAMES = {
    "bolivia (plurinational state of)": "BO", "democratic republic of the congo": "CD", "congo": "CG",
    "iran (islamic republic of)": "IR", "micronesia (federated states of)": "FM", "republic of korea": "KR",
    "democratic people's republic of korea": "KP", "lao people's democratic republic": "LA",
    "republic of moldova": "MD", "venezuela (bolivarian republic of)": "VE", "united republic of tanzania": "TZ",
    "the former yugoslav republic of macedonia": "MK", "syrian arab republic": "SY", "cote d'ivoire": "CI",
    "côte d'ivoire": "CI", "turkey": "TR", "russian federation": "RU", "holy see": "VA",
    "democratic republic of congo": "CD", "republic of congo": "CG", "macedonia fyr": "MK", "dpr korea": "KP",
    "st lucia": "LC", "st vincent & the grenadines": "VC", "st kitts & nevis": "KN", "guinea bissau": "GW",
    "micronesia": "FM", "state of palestine": "PS", "palestine": "PS", "kosovo": "XK", "swaziland": "SZ",
    "cape verde": "CV",
}
# Review years of the Working Group sessions when a file does not give them (SOURCE.md of the UPR Info data).
SESSION_YEARS = {s: 2008 + (s - 1) // 3 for s in range(1, 13)} | {13: 2012, 14: 2012, 15: 2013, 16: 2013,
                                                                  17: 2013, 18: 2014, 19: 2014, 20: 2014}


@dataclass(frozen=True)
class Recommendation:
    """One recommendation as read from a file."""

    line: int
    country: str
    cycle: int
    session: int
    review_year: int | None
    recommending_state: str
    text: str
    response: str
    issues: str | None
    key: str = field(default="")


def iso2(name: str) -> str | None:
    """The ISO 3166 alpha-2 code of a country name or code, or None."""
    value = name.strip()
    if len(value) == 2 and value.isalpha():
        code = value.upper()
        return code if code == "XK" or pycountry.countries.get(alpha_2=code) else None
    if value.lower() in NAMES:
        return NAMES[value.lower()]
    try:
        return str(pycountry.countries.lookup(value.replace(" & ", " and ")).alpha_2)
    except LookupError:
        return None


def _key(country: str, session: int, recommending: str, text: str) -> str:
    raw = "\x1f".join((country, str(session), recommending.strip().lower(), " ".join(text.split()).lower()))
    return hashlib.sha256(raw.encode()).hexdigest()


def _int(value: str | None, path: str, line: int, column: str) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise UsageError(f"{path}:{line}", f"{column} must be a whole number, not {value.strip()!r}") from None


def read(path: Path) -> Iterator[Recommendation]:
    """Recommendations in a CSV file, checked row by row; errors name the file and line."""
    name = str(path)
    if not path.is_file():
        raise UsageError(name, "file not found")
    rows = _rows(path, name)
    while True:
        # Decoding and CSV errors surface while iterating; named here with the line they stopped at.
        try:
            row = next(rows, None)
        except UnicodeDecodeError:
            raise UsageError(name, "not UTF-8 text; save the file as UTF-8 CSV") from None
        except csv.Error as exc:
            raise UsageError(name, f"not a readable CSV file: {exc}") from None
        if row is None:
            return
        yield row


def _rows(path: Path, name: str) -> Iterator[Recommendation]:
    with path.open(encoding="utf-8-sig", newline="") as handle:  # utf-8-sig: a spreadsheet's BOM is harmless
        first = handle.readline()
        if ";" in first and "," not in first:
            raise UsageError(f"{name}:1", "columns are separated by semicolons; save the file as comma-separated CSV")
        handle.seek(0)
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            found = ", ".join(header) or "none"
            raise UsageError(f"{name}:1", f"missing column(s) {', '.join(missing)} (see docs/upr.md); found {found}")
        reader.fieldnames = header
        for row in reader:
            line = reader.line_num
            where = f"{name}:{line}"
            state = (row.get("state_under_review") or "").strip()
            country = iso2(state)
            if country is None:
                raise UsageError(where, f"unknown state under review {state!r} (a country name or ISO code)")
            text = " ".join((row.get("recommendation") or "").split())
            if not text:
                raise UsageError(where, "the recommendation text is empty")
            recommending = (row.get("recommending_state") or "").strip()
            if not recommending:
                raise UsageError(where, "recommending_state is empty")
            response_raw = (row.get("response") or "").strip().lower()
            if response_raw not in RESPONSES:
                raise UsageError(where, f"response must be supported or noted, not {response_raw!r}")
            session = _int(row.get("session"), name, line, "session")
            if session is None or session < 1:
                raise UsageError(where, "session must be a positive number")
            cycle = _int(row.get("cycle"), name, line, "cycle") or (1 if session <= 12 else 2)
            year = _int(row.get("review_year"), name, line, "review_year") or SESSION_YEARS.get(session)
            issues = (row.get("issues") or "").strip() or None
            yield Recommendation(line, country, cycle, session, year, recommending, text, RESPONSES[response_raw],
                                 issues, _key(country, session, recommending, text))
