"""Ratings files: base scores per country, read from CSV.

Two layouts are read (a header row names the columns; commas, semicolons or tabs; UTF-8 with or
without a byte-order mark):

- the CIVICUS Monitor layout: ``iso2``, ``year``, ``rating`` (open | narrowed | obstructed |
  repressed | closed), other columns ignored; a year's rating counts from 31 December of that year,
  as the ratings are published at its end;
- civicwatch's own: ``iso2``, ``category`` or ``score`` (0-100), ``as_of`` (YYYY-MM-DD), and an
  optional ``reason``.

A file with any bad row is refused whole, each bad row named by its line number.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pycountry

from civicwatch.errors import UsageError
from civicwatch.rate.method import CATEGORIES, Weights, base_score, category_of

MAX_REPORTED = 5


@dataclass(frozen=True)
class BaseRating:
    """One country's base from ``as_of`` on."""

    country: str
    as_of: str
    score: int
    category: str
    reason: str | None = None


def read_ratings_file(path: Path, weights: Weights) -> list[BaseRating]:
    """Every row of the ratings file at ``path``; raises ``UsageError`` naming the file or its bad lines."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(str(path), "no such file") from None
    except UnicodeDecodeError:
        raise UsageError(str(path), "not UTF-8 text; save the file as UTF-8 CSV") from None
    except OSError as exc:
        raise UsageError(str(path), f"cannot read the file: {exc.strerror}") from None
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    columns = {name.strip().lower() for name in reader.fieldnames or []}
    civicus = {"iso2", "year", "rating"} <= columns
    own = "iso2" in columns and "as_of" in columns and bool({"category", "score"} & columns)
    if not (civicus or own):
        raise UsageError(str(path), "expected the columns iso2,year,rating (CIVICUS Monitor) or "
                         f"iso2,category|score,as_of[,reason]; found {','.join(sorted(columns)) or 'none'}")
    rows, problems = [], []
    try:
        for line, raw in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
            try:
                rows.append(_civicus_row(row, weights) if civicus else _own_row(row, weights))
            except ValueError as exc:
                problems.append(f"line {line}: {exc}")
    except csv.Error as exc:  # e.g. a field over the csv module's 128 kB limit
        raise UsageError(str(path), f"not a readable CSV file: line {reader.line_num + 1}: {exc}") from None
    if problems:
        more = f" (and {len(problems) - MAX_REPORTED} more)" if len(problems) > MAX_REPORTED else ""
        raise UsageError(str(path), "; ".join(problems[:MAX_REPORTED]) + more + "; nothing was imported")
    if not rows:
        raise UsageError(str(path), "no ratings in the file")
    return rows


def _country(value: str) -> str:
    code = value.upper()
    if code != "XK" and pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _category(value: str) -> str:
    category = value.lower()
    if category not in CATEGORIES:
        raise ValueError(f"{value!r} is not a category ({', '.join(CATEGORIES)})")
    return category


def _civicus_row(row: dict[str, str], weights: Weights) -> BaseRating:
    country, category = _country(row["iso2"]), _category(row["rating"])
    if not row["year"].isdigit() or not 1900 < int(row["year"]) < 2200:
        raise ValueError(f"{row['year']!r} is not a year")
    note = row.get("note") or None
    return BaseRating(country, f"{int(row['year'])}-12-31", base_score(category, weights), category, note)


def _own_row(row: dict[str, str], weights: Weights) -> BaseRating:
    country = _country(row["iso2"])
    try:
        as_of = date.fromisoformat(row["as_of"]).isoformat()
    except ValueError:
        raise ValueError(f"{row['as_of']!r} is not a date (YYYY-MM-DD)") from None
    if row.get("score"):
        if not row["score"].isdigit() or not 0 <= int(row["score"]) <= 100:
            raise ValueError(f"{row['score']!r} is not a score from 0 to 100")
        score = int(row["score"])
        category = category_of(score, weights)
        if row.get("category") and _category(row["category"]) != category:
            raise ValueError(f"score {score} is {category}, not {row['category']}")
    elif row.get("category"):
        category = _category(row["category"])
        score = base_score(category, weights)
    else:
        raise ValueError("neither a category nor a score")
    return BaseRating(country, as_of, score, category, row.get("reason") or None)
