"""Incidents over time: how many public incidents a country had each month, by type or by right.

This feeds the country page's chart (``civicwatch.publish.charts.stacked_bars``). Only incidents dated
at least to the month count: an incident dated only to a year ("2024") cannot be put in a month, so it
is left out, and pages showing these counts should say so (``UNDATED_NOTE``). An incident of two types
(or touching two rights) counts once for each.

It counts events, not reports, as every count does (``browse._event_count``): reports of one happening
that ``connect`` joined count once. The database does the grouping: one query per call, restricted to
the country first (the ``incidents.country`` index), the type (or right) lists expanded, grouped by month
and category, so that only a few rows per month come back however many incidents there are. The same
query runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection

from civicwatch.errors import UsageError
from civicwatch.store.browse import _cached, _elements, _event_count, public_incident
from civicwatch.store.db import Store
from civicwatch.store.schema import incidents

UNDATED_NOTE = "Incidents dated only to a year, or not dated, are not shown."
"""What a chart of ``monthly_counts`` should say about the incidents it cannot place in a month."""

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_SINCE = re.compile(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?")
_COUNTRY = re.compile(r"[A-Za-z]{2}")


def monthly_counts(
    store: Store,
    *,
    country: str,
    by: Literal["type", "right"],
    since: str | None = None,
) -> dict[str, dict[str, int]]:
    """Public incidents in ``country`` per month and per type (``by="type"``) or right (``by="right"``).

    Returns ``{"2026-03": {"detention": 4, "prosecution": 1}, ...}``: months (``YYYY-MM``) in
    calendar order, each with its categories in alphabetical order; months without incidents (or
    whose incidents name no right) are left out. Only incidents dated to the month or the day count.
    ``since`` (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) keeps the months from the one it falls in.

    Raises ``UsageError`` for a country that is not a two-letter code, an unknown ``by``, or a
    ``since`` that is not such a date.

    >>> monthly_counts(store, country="KZ", by="type")      # doctest: +SKIP
    {'2026-03': {'cso_restriction': 1, 'detention': 1}}
    """
    if not _COUNTRY.fullmatch(country):
        raise UsageError(f"country={country}", "expected a two-letter ISO 3166-1 code")
    if by not in ("type", "right"):
        raise UsageError(f"by={by}", "expected 'type' or 'right'")
    if since is not None and not _SINCE.fullmatch(since):
        raise UsageError(f"since={since}", "expected a date as YYYY, YYYY-MM or YYYY-MM-DD")
    column = incidents.c.types if by == "type" else incidents.c.rights
    month = func.substr(incidents.c.date, 1, 7).label("month")
    category = _elements(column, store.dialect).c.value.label("category")
    query = (
        # Events, not reports: three reports of one detention are one detention in the chart.
        select(month, category, _event_count().label("n"))
        .select_from(incidents)
        .where(
            incidents.c.country == country.upper(),
            public_incident(),
            # "YYYY-MM" or longer: year-only and undated incidents cannot be placed in a month.
            incidents.c.date.like("____-__%"),
        )
        # Grouped by the label: PostgreSQL would not see two separately bound substr() calls as the same.
        .group_by("month", "category")
    )
    if since is not None:
        # ISO dates sort as text; every date in the month of ``since`` sorts at or after that month.
        query = query.where(incidents.c.date >= since[:7])
    # A pass over the whole country's incidents (tens of thousands for a busy one): cached like the counts.
    return _cached(store, ("monthly", by, country.upper(), since), lambda connection: _per_month(connection, query))


def _per_month(connection: Connection, query: Select[Any]) -> dict[str, dict[str, int]]:
    counts: defaultdict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in connection.execute(query):
        if not _MONTH.fullmatch(row.month):  # a malformed date (hand-edited row): not a month we can draw
            continue
        counts[row.month][str(row.category)] += int(row.n)
    return {m: dict(sorted(counts[m].items())) for m in sorted(counts)}
