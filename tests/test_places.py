"""The gazetteer: names, demonyms, capitals, cities and transliterations mapped to ISO codes."""

from __future__ import annotations

import pytest

from civicwatch.code.coder import Coder


@pytest.fixture(scope="module")
def coder() -> Coder:
    return Coder()


def countries(coder: Coder, text: str) -> list[str]:
    return [h.label for h in coder.lexicon.scan(text) if h.kind == "place"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Karakalpakstan", "UZ"),
        ("Nukus", "UZ"),
        ("Almaty", "KZ"),
        ("Алматы", "KZ"),
        ("Osh", "KG"),
        ("Bishkek", "KG"),
        ("Tashkent", "UZ"),
        ("в Узбекистане", "UZ"),
        ("в Казахстане", "KZ"),
        ("в Москве", "RU"),
        ("Hong Kong", "HK"),
        ("Palestine", "PS"),
        ("l'Algérie", "DZ"),
        ("la policía rusa", "RU"),
        ("les autorités sénégalaises", "SN"),
        ("Kyrgyz authorities", "KG"),
        ("Lima", "PE"),
        ("Nairobi", "KE"),
    ],
)
def test_place_names_in_several_languages(coder: Coder, text: str, code: str) -> None:
    assert code in countries(coder, text)


def test_proper_names_must_be_capitalised(coder: Coder) -> None:
    # "osh" and "nice" written in lower case are not places.
    assert countries(coder, "an osh dish was nice") == []


def test_part_of_a_compound_is_not_a_place(coder: Coder) -> None:
    incidents = coder.code("Police detained four people at the OVD «Китай-город» in Москве.")
    assert {i.country for i in incidents} == {"RU"}


def test_international_venues_do_not_locate_incidents(coder: Coder) -> None:
    text = "At a side event in Geneva, activists said police in Dushanbe detained blogger Rustam Saidov."
    assert {i.country for i in coder.code(text)} == {"TJ"}


def test_a_based_organisation_does_not_locate_incidents(coder: Coder) -> None:
    text = "The Poland-based channel Nova Wave said its reporter Ales Karpovich was detained in Belarus."
    assert {i.country for i in coder.code(text)} == {"BY"}


def test_a_destination_or_origin_does_not_locate_incidents(coder: Coder) -> None:
    text = "A court in Bishkek ordered journalist Nurlan Osmonov expelled; he was deported to Russia."
    assert {i.country for i in coder.code(text)} == {"KG"}


def test_a_head_of_state_locates_a_report_that_names_no_country(coder: Coder) -> None:
    assert {i.country for i in coder.code("Lukashenka pardoned activist Ales Mikhnevich.")} == {"BY"}


def test_a_national_agency_outweighs_a_foreign_demonym(coder: Coder) -> None:
    text = "Роскомнадзор заблокировал сайт израильского издания «Утренний свет»."
    assert {i.country for i in coder.code(text)} == {"RU"}
