"""The registry and cases: one blogger under three spellings, detained then sentenced (SQLite and PostgreSQL).

All people here are fictional.
"""

from __future__ import annotations

from civicwatch.connect.entities import names_match
from civicwatch.store import Store, cases
from civicwatch.store import events as stored
from test_connect_events import coded, three_reports


def test_spellings_across_scripts_match() -> None:
    assert names_match("Дилноза Эшонкулова", "Dilnoza Eshonkulova")
    assert names_match("Eshankulova", "Dilnoza Eshonkulova")
    assert names_match("Жанар Ахметова", "Zhanar Akhmetova")
    assert not names_match("Rustam Qodirov", "Rustam Kadyrbekov")


def test_given_names_may_differ_in_their_vowels_but_not_in_their_syllables() -> None:
    assert names_match("Mahammad Kekalov", "Mohammed Kekalov")  # two reports of one detention (shared devset)
    assert names_match("Muhammad Salih", "Salih Mahammad")
    assert not names_match("Timur Kasymov", "Tamara Kasymova")  # same consonants, another person
    assert not names_match("Mahammad Kekalov", "Mohammed Kokalev")  # only one word may differ so


def test_one_person_under_three_spellings_has_one_case_with_a_status(store: Store) -> None:
    three_reports(store)
    coded(store, "A court in Tashkent sentenced Dilnoza Eshonkulova to five years on 2 June 2026.", "verdict",
          types=["imprisonment"], persons=["Dilnoza Eshonkulova"], date="2026-06-02")
    stored.connect(store)

    people = cases.registry_page(store, "persons", country="UZ")
    assert sorted(name for _, name, _, _ in people) == ["Dilnoza Eshonkulova", "Rustam Qodirov"]
    dilnoza = next(i for i, name, _, _ in people if name == "Dilnoza Eshonkulova")
    case = cases.case(store, dilnoza)
    assert case is not None
    assert set(case.aliases) == {"Dilnoza Eshonkulova", "Дилноза Эшонкулова", "Dilnoza Eshankulova"}
    assert [s.step for s in case.steps] == ["detained", "detained", "detained", "sentenced"]
    assert all(s.document_id for s in case.steps)
    assert case.status == "imprisoned"
    held = cases.detained_or_imprisoned(store, "UZ")
    assert [(c.name, c.status) for c in held] == [("Dilnoza Eshonkulova", "imprisoned"), ("Rustam Qodirov", "detained")]


def test_a_release_ends_the_detention(store: Store) -> None:
    coded(store, "Police detained Rustam Qodirov on 20 June 2026.", "a", persons=["Rustam Qodirov"], date="2026-06-20")
    coded(store, "Rustam Qodirov was released on 1 July 2026.", "b", types=["release"], persons=["Рустам Кодиров"],
          date="2026-07-01")
    stored.connect(store)

    assert cases.detained_or_imprisoned(store, "UZ") == []
    (rustam, *_), = cases.registry_page(store)
    assert cases.case(store, rustam).status == "released"  # type: ignore[union-attr]


def test_a_confidential_person_is_hidden_from_the_public(store: Store) -> None:
    three_reports(store)
    stored.connect(store)
    dilnoza = next(i for i, name, _, _ in cases.registry_page(store) if name == "Dilnoza Eshonkulova")

    cases.set_confidential(store, dilnoza, True, actor="amina", reason="family asked")

    assert cases.case(store, dilnoza) is None
    assert cases.case(store, dilnoza, public=False) is not None
    assert "Dilnoza Eshonkulova" not in [name for _, name, _, _ in cases.registry_page(store)]
    assert [c.name for c in cases.detained_or_imprisoned(store, "UZ")] == ["Rustam Qodirov"]
