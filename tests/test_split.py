"""Splitting plain-text digests into their items."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from civicwatch.collect.split import split_digest

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
COUNTRY_PAGE = SEEDS / "000_1205e761719938fe.txt"
NEWS_FEED = SEEDS / "003_66443bc69fcb1a8d.txt"
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the shared seed pages are not at {SEEDS}")


@needs_seeds
def test_the_country_page_splits_on_its_bullets():
    text = COUNTRY_PAGE.read_text(encoding="utf-8")

    items = split_digest(text)

    assert len(items) == 10
    assert items[0].startswith("‘Most of what you hear is noise and government propaganda’\n\nAs part of")
    assert items[2].startswith("CIVICUS expresses concern over detention of Uzbekistan activist")
    assert items[-1].startswith(
        "UZBEKISTAN: ‘Advocacy for labour and human rights is a marathon, not a sprint’"
    )
    assert not any(item.startswith("•") or "  " in item for item in items)
    assert "\n\n" in items[0]  # paragraph breaks are kept inside an item


@needs_seeds
def test_the_news_feed_splits_one_teaser_per_line_with_the_salutation_joined():
    lines = [line for line in NEWS_FEED.read_text(encoding="utf-8").splitlines() if line.strip()]

    items = split_digest(NEWS_FEED.read_text(encoding="utf-8"))

    assert len(items) == len(lines) - 1
    assert items[1].startswith(
        "Dear Madam and Sirs,\nWe, the undersigned international human rights organizations"
    )
    assert items[0].startswith("In Tashkent, women facing violence at home")


def test_bullets_of_several_kinds():
    for bullet in ["•", "*", "-", "–"]:
        text = (
            f"{bullet} Riverside teachers' union raided by police in Port Alder.\n"
            f"{bullet} Journalist Tomas Invent detained for two days.\n  He was released without charge.\n"
        )

        assert split_digest(text) == [
            "Riverside teachers' union raided by police in Port Alder.",
            "Journalist Tomas Invent detained for two days.\nHe was released without charge.",
        ]


def test_only_the_commonest_bullet_splits():
    text = (
        "• Lakeside council cancels a festival permit.\n- reason given: noise\n- appeal planned\n"
        "• Port Alder court acquits three protesters.\n• Greyfield blogger summoned.\n"
    )

    items = split_digest(text)

    assert items[0] == "Lakeside council cancels a festival permit.\n- reason given: noise\n- appeal planned"
    assert len(items) == 3


def test_a_heading_before_the_first_bullet_joins_the_first_item():
    text = "This week in Veridia:\n• A union office was raided.\n• A journalist was detained."

    assert split_digest(text) == [
        "This week in Veridia:\nA union office was raided.",
        "A journalist was detained.",
    ]


def test_paragraphs_separated_by_blank_lines():
    text = (
        "Dear colleagues,\n\n"
        "The fictional Northland Press Union reports   that two reporters were fined.\n\n\n"
        "In Lakeside, a silent vigil\nended with five arrests.\n"
    )

    assert split_digest(text) == [
        "Dear colleagues,\nThe fictional Northland Press Union reports that two reporters were fined.",
        "In Lakeside, a silent vigil\nended with five arrests.",
    ]


def test_one_hard_wrapped_paragraph_is_not_a_digest():
    text = (
        "The fictional Riverside Legal Aid Centre was dissolved by a court in Port Alder\n"
        "on Tuesday after the Ministry of Justice said that it had failed to file two\n"
        "quarterly reports on time, which its director, Lena Placeholder, denies.\n"
    )

    assert split_digest(text) == [text]


def test_a_single_item_is_not_a_digest():
    text = "• Only one update this week: the fictional Greyfield radio lost its licence."

    assert split_digest(text) == [text]


@pytest.mark.parametrize("text", ["", "   \n\n \t"])
def test_an_empty_text_has_no_items(text):
    assert split_digest(text) == []


def test_windows_line_ends():
    assert split_digest("• First fictional update.\r\n• Second fictional update.\r\n") == [
        "First fictional update.",
        "Second fictional update.",
    ]


@pytest.mark.parametrize(
    "unit",
    [
        "• A fictional update about assemblies in Port Alder, with more words.\n   and a second line\n\n",
        "A fictional teaser about a detained blogger in the invented town of Greyfield.\n",
        "Dear friends,\nA paragraph about a fictional union that was raided by police.\n\n",
    ],
)
def test_ten_megabytes_split_in_linear_time(unit):
    text = unit * (10_000_000 // len(unit))

    started = time.perf_counter()
    items = split_digest(text)

    assert time.perf_counter() - started < 10
    assert len(items) == 10_000_000 // len(unit)


def test_a_digest_title_before_the_bullets_is_not_an_item():
    text = "Northland digest, week 19\n\n• Lakeside students fined.\n• Greyfield blogger summoned.\n"

    assert split_digest(text) == ["Lakeside students fined.", "Greyfield blogger summoned."]


def test_markdown_headings_join_the_paragraph_they_head():
    text = (
        "# Radio Pinecone\n\nThe fictional station lost its licence.\n\n## Lakeside\n\nStudents were fined.\n"
    )

    assert split_digest(text) == [
        "# Radio Pinecone\nThe fictional station lost its licence.",
        "## Lakeside\nStudents were fined.",
    ]
    assert split_digest("# Radio Pinecone\n\nThe fictional station lost its licence.\n") == [
        "# Radio Pinecone\n\nThe fictional station lost its licence.\n"
    ]
