"""Duplicates: the same report from several sources is stored once; near copies are recognised."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from civicwatch.collect.dedupe import (
    band_shape,
    bands,
    best_match,
    content_hash,
    normalise,
    shingles,
    signature,
    similarity,
)
from civicwatch.errors import UsageError

# About 300 words, fictional people and organisations.
REPORT = """
On 14 March, police in the town of Varnavo detained Mira Tolend, a journalist with the independent weekly
Morning Lantern, as she filmed a peaceful protest outside the regional court. About two hundred residents had
gathered to demand the release of Daniel Orvan, a local teacher and volunteer with the Northbridge Rights
Centre, who has been held without charge for forty days. Witnesses said that officers in plain clothes pushed
Ms Tolend to the ground, took her camera and forced her into an unmarked car. Her editor, Paul Ashdown, said
that the newspaper was not told where she had been taken and that her lawyer was refused access to her for
more than nine hours. She was released late in the evening after being questioned about her sources and her
contacts with foreign organisations, and was ordered to appear before an investigator the following week.
The Northbridge Rights Centre said that at least eleven other protesters were detained during the afternoon.
Three of them, all students at the Varnavo technical college, were fined for taking part in an unauthorised
public event, although the organisers had notified the town administration ten days in advance as the law
requires. The others were released without charge. The centre's director, Lena Koval, said that the arrests
were part of a wider pattern of pressure on people who speak publicly about Mr Orvan's case, and noted that
two of the centre's volunteers had been summoned for questioning earlier in the month. The regional police
department declined to comment on the detentions. In a statement published on its website, the town
administration said that the protest had blocked traffic and that officers had acted within their powers.
Local and international organisations have called on the authorities to drop all charges against the
protesters, to return Ms Tolend's equipment, and to release Mr Orvan or bring him promptly before an
independent judge. A hearing on his detention is expected at the end of the month.
"""

# Another report of the same length on another subject.
UNRELATED = """
The Clearwater Women's Initiative, a small association that runs legal clinics for domestic workers in the
river districts, has been refused registration for the third time in two years. Its lawyer, Ruth Eberly, told
reporters that the justice department had returned the founding documents with a list of objections about the
format of the minutes of the founding meeting, the spelling of a street name in the charter and the colour of
the seal. The association has corrected each of these points, she said, but every new application brings new
objections. Without registration the initiative cannot open a bank account, rent an office or receive grants,
and its twelve volunteers risk fines for running an unregistered organisation. Since the spring the clinics
have met in a community library, where they advise around sixty women a month on unpaid wages, contracts and
residence permits. The chair of the initiative, Nadia Brill, said that the refusals began after the group
published a survey showing that most of the domestic workers it interviewed had never received a written
contract, and that several had their passports held by their employers. A spokesperson for the justice
department said that the law applies equally to all associations and that the initiative is free to apply
again once its documents are in order. A coalition of thirty civil society groups wrote to the minister last
week asking for the registration rules to be simplified and for a review of all refusals issued since the new
regulations entered into force. The coalition also asked parliament to remove the fines for taking part in
the activities of unregistered groups, which it says are used to discourage people from joining independent
associations. The letter has not yet received a reply, and the next application will be filed in June.
"""


def edit(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new, 1)
    return text


def test_the_normalised_text_ignores_layout_case_and_punctuation_styles() -> None:
    messy = "  The COURT  sentenced\n“Mira Tolend” — again…  "
    assert normalise(messy) == "the court sentenced mira tolend again"
    assert normalise("Ｆｕｌｌ-width ﬁne print") == "full width fine print"  # NFKC
    assert normalise("o‘z, oʻz, o'z") == "oz oz oz"  # Uzbek apostrophes, however typed
    assert normalise("می‌کنند") == normalise("میکنند")  # Persian zero-width non-joiner
    assert normalise("soft\u00adhyphen and a\ud800 lone surrogate") == "softhyphen and a lone surrogate"


def test_copies_differing_only_in_layout_have_the_same_hash() -> None:
    reflowed = "  ".join(REPORT.upper().split())
    assert content_hash(reflowed) == content_hash(REPORT)
    assert content_hash(REPORT.replace("'", "’").replace('"', "“")) == content_hash(REPORT)
    assert content_hash(REPORT) != content_hash(REPORT.replace("forty days", "fifty days"))
    assert len(content_hash("")) == 64


def test_shingles_are_word_trigrams_or_single_words_for_very_short_texts() -> None:
    assert shingles("Police detained Mira Tolend.") == ["police detained mira", "detained mira tolend"]
    assert shingles("Tolend released") == ["tolend", "released"]
    assert shingles("  ") == []


def test_a_lightly_edited_copy_is_found_through_its_bands() -> None:
    copy = edit(REPORT, {"14 March": "15 March", "eleven": "twelve", "nine hours": "ten hours",
                         "declined to comment": "refused to comment"})
    assert 280 <= len(REPORT.split()) <= 340
    stored = signature(REPORT)
    new = signature(copy)
    assert set(bands(new)) & set(bands(stored))  # the store finds it as a candidate
    match = best_match(new, [(7, signature(UNRELATED)), (12, stored)], threshold=0.8)
    assert match is not None
    assert match[0] == 12
    assert match[1] >= 0.8


def test_an_unrelated_text_is_not_a_near_copy() -> None:
    report, other = signature(REPORT), signature(UNRELATED)
    assert similarity(report, other) < 0.2
    assert not set(bands(report)) & set(bands(other))
    assert best_match(other, [(12, report)], threshold=0.8) is None


def test_the_most_similar_candidate_wins_and_ties_go_to_the_first() -> None:
    sig = signature(REPORT)
    slightly = signature(edit(REPORT, {"eleven": "twelve"}))
    words = REPORT.split()
    shortened = signature(" ".join(words[: len(words) * 2 // 3]))  # the last third cut off
    assert best_match(sig, [(3, shortened), (5, slightly)], threshold=0.5) == (5, similarity(sig, slightly))
    assert best_match(sig, [(3, sig), (5, sig)], threshold=0.5) == (3, 1.0)
    assert best_match(sig, [], threshold=0.5) is None


def test_very_short_texts_get_a_signature_too() -> None:
    one, same, other = signature("Tolend released"), signature("TOLEND, released!"), signature("Orvan held")
    assert len(one) == 64 * 4
    assert similarity(one, same) == 1.0
    assert similarity(one, other) < 0.5


def test_an_empty_text_is_nobodys_copy() -> None:
    assert similarity(signature(""), signature("")) == 0.0
    assert similarity(signature(""), signature(REPORT)) == 0.0


def test_signature_size_and_band_shape_follow_the_settings() -> None:
    assert len(signature(REPORT, num_perm=128)) == 128 * 4
    assert band_shape(0.8, 64) == (5, 11)
    keys = bands(signature(REPORT), threshold=0.8)
    assert [key.split(":")[0] for key in keys] == ["0", "1", "2", "3", "4"]
    assert all(len(key.split(":")[1]) == 16 for key in keys)
    assert len(bands(signature(REPORT), threshold=0.5)) == band_shape(0.5, 64)[0]


def test_mismatched_signatures_and_bad_thresholds_are_refused() -> None:
    with pytest.raises(ValueError, match="different sizes"):
        similarity(signature(REPORT), signature(REPORT, num_perm=128))
    with pytest.raises(ValueError, match="not a signature"):
        similarity(b"abc", b"abc")
    with pytest.raises(UsageError, match="near_duplicate_threshold"):
        bands(signature(REPORT), threshold=1.5)
    # A signature of another size is never a match (e.g. stored before num_perm changed).
    assert best_match(signature(REPORT), [(1, signature(REPORT, num_perm=128))], threshold=0.5) is None


def test_signatures_are_the_same_in_another_process() -> None:
    # Another interpreter, with another str-hash seed: the signature and bands must not change, or
    # documents stored yesterday would never be matched today.
    script = textwrap.dedent(
        """
        import json, sys
        from civicwatch.collect.dedupe import bands, signature
        text = sys.stdin.read()
        sig = signature(text)
        print(json.dumps({"signature": sig.hex(), "bands": bands(sig)}))
        """
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", script], input=REPORT, capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    there = json.loads(done.stdout)
    assert there["signature"] == signature(REPORT).hex()
    assert there["bands"] == bands(signature(REPORT))
