"""Reading local files and folders of every supported type; a bad file never stops the rest."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from fpdf import FPDF

from civicwatch.collect.files import iter_path, read_path
from civicwatch.model import Failure, Item

FIXTURES = Path(__file__).parent / "fixtures" / "readers"
MB = 1_000_000


def make_pdf(path: Path, text: str) -> None:
    document = FPDF()
    document.set_font("Helvetica", size=12)
    document.add_page()
    document.multi_cell(0, 10, text)
    document.output(str(path))


def test_an_html_file_is_read_as_a_page():
    path = FIXTURES / "article.html"

    (item,), failures = read_path(path, max_bytes=20 * MB)

    assert item.title == "Court upholds the closure of the Riverside Legal Aid Centre"
    assert item.url == path.resolve().as_uri()
    assert item.published == "2024-04-10" and item.published_from == "metadata"
    assert failures == []


def test_a_text_digest_becomes_a_digest_item_with_children():
    path = FIXTURES / "digest.txt"

    (digest,), failures = read_path(path, max_bytes=20 * MB)

    assert digest.title == "Northland civic space digest, week 19"
    assert digest.raw == path.read_bytes() and digest.raw_type == "text/plain"
    assert [child.text.split(":")[0] for child in digest.children] == ["Lakeside", "Port Alder", "Greyfield"]
    assert digest.children[0].text.endswith("for a silent vigil in front of the town hall.")
    assert digest.children[1].url == path.resolve().as_uri() + "#item-2"
    assert digest.published_from == "file" and digest.children[2].published_from == "file"
    assert failures == []


def test_a_plain_text_file_is_one_item(tmp_path):
    path = tmp_path / "note.md"
    path.write_text(
        "# Radio Pinecone\n\nThe fictional station lost its licence on Monday.\n", encoding="utf-8"
    )

    (item,), _ = read_path(path, max_bytes=MB)

    assert item.title == "Radio Pinecone"
    assert item.children == []
    assert item.text == "# Radio Pinecone\n\nThe fictional station lost its licence on Monday."
    assert item.raw_type == "text/markdown"


def test_a_text_file_in_a_legacy_encoding_is_decoded(tmp_path):
    path = tmp_path / "zametka.txt"
    text = "Правозащитница Анна Выдумкина задержана в вымышленном городе Озёрск после пикета у суда."
    path.write_bytes(text.encode("cp1251"))

    (item,), _ = read_path(path, max_bytes=MB)

    assert item.text == text


def test_json_lines_give_one_item_per_line_and_a_failure_per_bad_line():
    path = FIXTURES / "items.jsonl"

    items, failures = read_path(path, max_bytes=20 * MB)

    first, second, third = items
    assert (first.external_id, first.title, first.url, first.published, first.lang, first.author) == (
        "nl-001",
        "Reporters fined",
        "https://monitor.example/nl-001",
        "2024-05-02",
        "en",
        "Ana Fictive",
    )
    assert first.published_from == "jsonl"
    assert (second.external_id, second.published, second.published_from) == ("2", None, None)
    assert (third.external_id, third.text) == (
        "6.5",
        "Lena Placeholder, a fictional lawyer, was barred from travel.",
    )
    assert [str(f) for f in failures] == [
        f"{path}:3: not valid JSON",
        f"{path}:4: missing 'text'",
        f"{path}:5: 'id' must be a string or number",
        f"{path}:8: not a JSON object",
        f"{path}:9: missing 'id'",
    ]


def test_json_lines_stream_and_cap_each_line(tmp_path):
    path = tmp_path / "big.ndjson"
    with path.open("w", encoding="utf-8") as out:
        out.write('{"id": 1, "text": "' + "x" * 3000 + '"}\n')
        for n in range(2, 2002):
            out.write(f'{{"id": {n}, "text": "Fictional record {n}."}}\n')

    results = iter_path(path, max_bytes=1000)
    first = next(results)  # streamed: the first result comes before the file is read through

    assert first == Failure(f"{path}:1", "line is over the 0.001 MB cap")
    rest = list(results)
    assert len(rest) == 2000 and isinstance(rest[-1], Item) and rest[-1].external_id == "2001"


def test_a_local_feed_is_read_without_following_links(tmp_path):
    path = tmp_path / "updates.rss"
    path.write_text(
        '<rss version="2.0"><channel><title>T</title><item><title>Greyfield blogger summoned</title>'
        "<link>https://x.example/1</link><description>Questioned for six hours.</description></item>"
        "</channel></rss>",
        encoding="utf-8",
    )

    (item,), failures = read_path(path, max_bytes=MB)

    assert (item.title, item.text, item.url) == (
        "Greyfield blogger summoned",
        "Questioned for six hours.",
        "https://x.example/1",
    )
    assert failures == []


def test_a_folder_is_read_recursively_in_order_skipping_hidden_files(tmp_path):
    shutil.copy(FIXTURES / "digest.txt", tmp_path / "b-digest.txt")
    shutil.copy(FIXTURES / "story-one.html", tmp_path / "a-story.html")
    (tmp_path / "sub").mkdir()
    make_pdf(tmp_path / "sub" / "report.pdf", "The fictional Veridia report on assemblies.")
    (tmp_path / "sub" / "notes.txt").write_text("A short fictional note about Port Alder.", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("A hidden note that must not be read.", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config.txt").write_text("Hidden folder content.", encoding="utf-8")
    (tmp_path / "picture.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "README").write_text("no extension", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "junk.html").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "huge.html").write_bytes(b"<p>" + b"x" * 3 * MB)

    items, failures = read_path(tmp_path, max_bytes=2 * MB)

    assert [Path(item.url or "").name for item in items] == [
        "a-story.html",
        "b-digest.txt",
        "notes.txt",
        "report.pdf",
    ]
    assert items[-1].text == "The fictional Veridia report on assemblies."
    assert items[-1].url == (tmp_path / "sub" / "report.pdf").resolve().as_uri()
    assert [(Path(f.input).name, f.reason) for f in failures] == [
        ("README", "unsupported file type (no extension)"),
        ("empty.txt", "empty file"),
        ("huge.html", "file is 3.0 MB, over the 2 MB cap"),
        ("junk.html", "not an HTML page (binary content)"),
        ("picture.png", "unsupported file type .png"),
    ]


def test_a_corrupt_pdf_is_a_failure_not_a_crash(tmp_path):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7 broken beyond repair")

    items, failures = read_path(tmp_path, max_bytes=MB)

    assert items == []
    assert failures[0].input == str(tmp_path / "broken.pdf")
    assert failures[0].reason.startswith("not a readable PDF")


def test_a_missing_path_is_a_failure(tmp_path):
    assert read_path(tmp_path / "nowhere", max_bytes=MB) == (
        [],
        [Failure(str(tmp_path / "nowhere"), "no such file or folder")],
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_an_unreadable_file_is_a_failure(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("A fictional note.", encoding="utf-8")
    path.chmod(0)

    _, failures = read_path(path, max_bytes=MB)

    assert failures[0].reason.startswith("cannot read")


SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.mark.skipif(not (SHARED / "devset").is_dir(), reason=f"the shared development set is not at {SHARED}")
def test_the_development_set_reads_without_failures():
    items, failures = read_path(SHARED / "devset" / "devset.jsonl", max_bytes=20 * MB)

    assert failures == []
    assert len(items) > 100
    assert all(item.external_id and item.text for item in items)


@pytest.mark.skipif(not (SHARED / "seeds").is_dir(), reason=f"the shared seed pages are not at {SHARED}")
def test_the_seed_pages_read_as_digests():
    items, failures = read_path(SHARED / "seeds", max_bytes=20 * MB)

    children = {Path(item.url or "").name: len(item.children) for item in items}
    assert children["000_1205e761719938fe.txt"] == 10
    assert children["003_66443bc69fcb1a8d.txt"] == 11
    assert failures == []
