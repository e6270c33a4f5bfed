"""Dates: candidate spans and their resolution, at the precision the text gives (fictional sentences)."""

from __future__ import annotations

import pytest

from civicwatch.code.codebook import load_codebook
from civicwatch.code.dates import DateFinder, parse_published


@pytest.fixture(scope="module")
def finder() -> DateFinder:
    data, _ = load_codebook()
    return DateFinder(data["dates"])


def values(finder: DateFinder, text: str, published: str | None = None) -> list[str]:
    return [d.value for d in finder.find(text, published)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It happened on 13 May 2009.", ["2009-05-13"]),
        ("It happened on May 13, 2009.", ["2009-05-13"]),
        ("It happened on the 12th of May 2009.", ["2009-05-12"]),
        ("It happened in September 2009.", ["2009-09"]),
        ("It happened in mid-March 2018.", ["2018-03"]),
        ("It happened in 2021.", ["2021"]),
        ("It happened in the autumn of 2017.", ["2017"]),
        ("It happened on 2024-03-04.", ["2024-03-04"]),
        ("Cela s'est passé le 13 septembre 2022.", ["2022-09-13"]),
        ("Cela s'est passé le 1er mai 2023.", ["2023-05-01"]),
        ("Ocurrió el 11 de julio de 2021.", ["2021-07-11"]),
        ("Ocurrió en abril de 2016.", ["2016-04"]),
        ("Ocurrió este martes (20.05.2025).", ["2025-05-20"]),
        ("Это произошло 18 сентября 2025 года.", ["2025-09-18"]),
        ("Это произошло в мае 2016 года.", ["2016-05"]),
        ("Это произошло в 2012 году.", ["2012"]),
    ],
)
def test_explicit_dates(finder: DateFinder, text: str, expected: list[str]) -> None:
    assert values(finder, text) == expected


def test_a_range_of_days_keeps_the_month(finder: DateFinder) -> None:
    assert values(finder, "The trial ran from 3–13 April 2023.") == ["2023-04"]


def test_two_consecutive_days_take_the_first(finder: DateFinder) -> None:
    assert values(finder, "Protests took place on 1 and 2 July 2022.") == ["2022-07-01"]
    assert values(finder, "Arrests followed in the night of 3 to 4 May 2023.") == ["2023-05-03"]


def test_a_range_across_months_takes_the_year_of_its_end(finder: DateFinder) -> None:
    assert values(finder, "from 21 August to 4 September 2019")[0] == "2019-08-21"


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("He was detained yesterday.", "2024-03-05", ["2024-03-04"]),
        ("He was detained today.", "2024-03-05", ["2024-03-05"]),
        ("He was detained on Tuesday.", "2024-03-08", ["2024-03-05"]),
        ("Il a été arrêté mardi.", "2024-03-08", ["2024-03-05"]),
        ("Fue detenido este miércoles.", "2026-02-18", ["2026-02-18"]),
        ("Его задержали в четверг.", "2024-03-08", ["2024-03-07"]),
        ("He was detained last month.", "2024-01-15", ["2023-12"]),
        ("He was detained last year.", "2024-01-15", ["2023"]),
        ("He was detained on 23rd October.", "2017-02-24", ["2016-10-23"]),
        ("He was detained on November 20 last year.", "2024-02-09", ["2023-11-20"]),
        ("Il avait été arrêté le 23 septembre dernier.", "2022-09-28", ["2022-09-23"]),
    ],
)
def test_relative_dates_resolve_against_publication(
    finder: DateFinder, text: str, published: str, expected: list[str]
) -> None:
    assert values(finder, text, published)[: len(expected)] == expected


def test_dates_without_a_year_and_without_publication_are_dropped(finder: DateFinder) -> None:
    assert values(finder, "He was detained on 3 May and released yesterday.") == []


def test_numbers_that_are_not_dates(finder: DateFinder) -> None:
    assert values(finder, "Article 206.3.2 of the Criminal Code; 52 interpellations; 1,000 teachers.") == []


def test_parse_published_accepts_timestamps() -> None:
    assert str(parse_published("2024-03-04T10:00:00Z")) == "2024-03-04"
    assert parse_published("not a date") is None
    assert parse_published(None) is None
