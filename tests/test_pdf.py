"""Reading PDFs: text of every page, metadata, and clear errors for corrupt or encrypted files."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fpdf import FPDF

from civicwatch.collect import pdf as pdf_module
from civicwatch.collect.pages import read_page
from civicwatch.collect.pdf import read_pdf
from civicwatch.errors import ParseError
from civicwatch.model import Failure, Fetched

PAGES = [
    "Police raided the office of the fictional Riverside Teachers' Association in Port Alder.",
    "The association's chair, Ana Fictive, said the raid followed the strike call.",
]


def make_pdf(
    pages: list[str] = PAGES, *, user_password: str | None = None, title: str | None = "Veridia report"
) -> bytes:
    document = FPDF()
    if title:
        document.set_title(title)
        document.set_author("Northland Press Union")
    document.set_creation_date(datetime(2024, 3, 4, 10, 30, tzinfo=UTC))
    document.set_font("Helvetica", size=12)
    for text in pages:
        document.add_page()
        if text:
            document.multi_cell(0, 10, text)
    if user_password is not None:
        document.set_encryption(owner_password="owner-secret", user_password=user_password)
    return bytes(document.output())


def test_text_of_all_pages_with_page_breaks_as_blank_lines_and_metadata():
    data = make_pdf()

    item = read_pdf(data, "https://monitor.example/report.pdf")

    assert item.text == "\n\n".join(PAGES)
    assert item.title == "Veridia report"
    assert item.author == "Northland Press Union"
    assert item.published == "2024-03-04T10:30:00+00:00"
    assert item.published_from == "metadata"
    assert item.url == "https://monitor.example/report.pdf"
    assert item.raw == data and item.raw_type == "application/pdf"


def test_a_pdf_without_metadata():
    item = read_pdf(make_pdf(title=None), "report.pdf")

    assert item.title is None and item.author is None
    assert item.text.startswith("Police raided")


def test_a_pdf_encrypted_with_a_password_is_refused():
    with pytest.raises(ParseError) as caught:
        read_pdf(make_pdf(user_password="only-for-members"), "members.pdf")

    assert caught.value.input == "members.pdf"
    assert caught.value.reason == "encrypted PDF"


def test_a_pdf_encrypted_with_an_empty_password_is_read():
    item = read_pdf(make_pdf(user_password=""), "open.pdf")

    assert item.text == "\n\n".join(PAGES)


@pytest.mark.parametrize(
    "data",
    [b"", b"just some text", b"%PDF-1.7\n this is not really a PDF", bytes(range(256)) * 10],
    ids=["empty", "text", "header-only", "binary"],
)
def test_corrupt_pdfs_are_refused(data):
    with pytest.raises(ParseError) as caught:
        read_pdf(data, "broken.pdf")

    assert caught.value.reason.startswith("not a readable PDF")
    assert "\n" not in caught.value.reason


def test_a_truncated_pdf_is_refused_or_read_but_never_crashes():
    data = make_pdf()
    for cut in (len(data) // 3, len(data) // 2, len(data) - 40):
        try:
            item = read_pdf(data[:cut], "cut.pdf")
        except ParseError as exc:
            assert exc.reason
        else:
            assert item.text


def test_a_pdf_without_text_is_refused():
    with pytest.raises(ParseError, match="no text"):
        read_pdf(make_pdf(["", ""]), "scan.pdf")


def test_huge_pdfs_are_capped_and_the_cap_is_reported(monkeypatch):
    monkeypatch.setattr(pdf_module, "MAX_PAGES", 3)
    failures: list[Failure] = []

    item = read_pdf(make_pdf([f"Fictional page {n}." for n in range(1, 6)]), "big.pdf", failures=failures)

    assert item.text == "Fictional page 1.\n\nFictional page 2.\n\nFictional page 3."
    assert failures == [Failure("big.pdf", "PDF has 5 pages; read the first 3 only")]


def test_the_character_cap(monkeypatch):
    monkeypatch.setattr(pdf_module, "MAX_CHARS", 100)
    failures: list[Failure] = []

    item = read_pdf(make_pdf(), "long.pdf", failures=failures)

    assert len(item.text) == 100
    assert failures[0].reason.startswith("PDF text cut at 100 characters")


def test_a_pdf_link_is_read_as_a_pdf_by_read_page():
    data = make_pdf()

    item = read_page(Fetched("https://monitor.example/r.pdf", 200, data, "application/octet-stream"))

    assert item.text.startswith("Police raided")
    assert item.url == "https://monitor.example/r.pdf"
