"""The coder never crashes and stays linear in time on large, odd or hostile input."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicwatch.code.coder import Coder

PASSAGE = (
    "On 4 March 2024 police in Almaty detained journalist Aigerim Sadykova after she filmed a rally; "
    "she was released two days later. В Бишкеке задержали активиста Арата Мелисова. "
)


@pytest.fixture(scope="module")
def coder() -> Coder:
    return Coder()


def _seconds(coder: Coder, text: str) -> float:
    start = time.perf_counter()
    coder.code(text, "2024-03-10")
    return time.perf_counter() - start


@pytest.mark.parametrize("text", ["", " ", "\x00\x01\x02", "\u200b\ufeff", "İİİ ßß ǅ", "..." * 100, "\n\n\n"])
def test_empty_and_odd_texts(coder: Coder, text: str) -> None:
    assert isinstance(coder.code(text), list)


def test_control_characters_and_mixed_scripts(coder: Coder) -> None:
    text = "Police\x00 in Osh\x07 detained 記者 Бакыт\u202e Asanov ✊ on 3 May 2023.\x1b[0m"
    assert all(i.country == "KG" for i in coder.code(text))


@given(st.text(max_size=400))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_text_codes_without_error(coder: Coder, text: str) -> None:
    for incident in coder.code(text, "2024-01-01"):
        assert text[incident.evidence_start:incident.evidence_end] == incident.evidence


def test_time_grows_linearly_with_many_sentences(coder: Coder) -> None:
    small = PASSAGE * 500  # about 80 kB
    large = PASSAGE * 5000  # about 800 kB
    t_small = min(_seconds(coder, small) for _ in range(2))
    t_large = _seconds(coder, large)
    assert t_large < 10 * t_small * 2.5, (t_small, t_large)


def test_one_long_sentence_is_linear_too(coder: Coder) -> None:
    words = "police detained journalist Aigerim Sadykova in Almaty and "
    small = words * 200  # about 12 kB, no full stop
    large = words * 2000  # about 120 kB, one sentence
    # The best of three for both sides: one run of 0.1 s is easily doubled by whatever else the machine does.
    t_small = min(_seconds(coder, small) for _ in range(3))
    t_large = min(_seconds(coder, large) for _ in range(3))
    assert t_large < 10 * t_small * 2.5, (t_small, t_large)


def test_a_ten_megabyte_text_codes_in_linear_time(coder: Coder) -> None:
    block = PASSAGE * 600  # about 100 kB
    t_block = min(_seconds(coder, block) for _ in range(2))
    big = block * 100  # about 10 MB
    assert len(big) > 9_000_000
    t_big = _seconds(coder, big)
    assert t_big < 100 * t_block * 2.5, (t_block, t_big)
