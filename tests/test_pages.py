"""Reading one web page: main text and metadata, whatever the encoding, and never a crash on bad input."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicwatch.collect.pages import decode_bytes, html_to_text, read_page
from civicwatch.errors import ParseError
from civicwatch.model import Fetched

FIXTURES = Path(__file__).parent / "fixtures" / "readers"
RUSSIAN = "Правозащитница Анна Выдумкина задержана в вымышленном городе Озёрск после пикета у суда."


def html_response(
    content: bytes, *, charset: str | None = None, url: str = "https://monitor.example/a"
) -> Fetched:
    return Fetched(url=url, status=200, content=content, content_type="text/html", charset=charset)


def article(body: str, head: str = "") -> str:
    paragraphs = f"<p>{body}</p>" * 6
    return f"<html><head>{head}<title>Report</title></head><body><article>{paragraphs}</article></body>"


def test_an_article_gives_its_text_title_author_date_and_canonical_url():
    content = (FIXTURES / "article.html").read_bytes()

    item = read_page(html_response(content, url="https://monitor.example/articles/riverside-legal-aid?utm=x"))

    assert item.title == "Court upholds the closure of the Riverside Legal Aid Centre"
    assert item.author == "Ana Fictive"
    assert item.published == "2024-04-10"
    assert item.published_from == "metadata"
    assert item.canonical_url == "https://monitor.example/articles/riverside-legal-aid"
    assert item.url == "https://monitor.example/articles/riverside-legal-aid?utm=x"
    assert "Riverside Legal Aid Centre, an organisation that for twelve years" in item.text
    assert "Privacy" not in item.text
    assert item.raw == content
    assert item.raw_type == "text/html"


def test_a_page_served_over_http(web):
    url = web.add("/veridia/legal-aid", (FIXTURES / "article.html").read_bytes())
    response = httpx.get(url)

    item = read_page(
        Fetched(url=url, status=200, content=response.content, content_type="text/html", charset="utf-8")
    )

    assert item.title == "Court upholds the closure of the Riverside Legal Aid Centre"
    assert "Lena Placeholder" in item.text


def test_the_header_charset_decodes_the_page():
    content = article(RUSSIAN).encode("cp1251")

    item = read_page(html_response(content, charset="windows-1251"))

    assert RUSSIAN in item.text


def test_the_meta_charset_decodes_the_page_when_the_header_has_none():
    content = article(RUSSIAN, head='<meta charset="windows-1251">').encode("cp1251")

    item = read_page(html_response(content))

    assert RUSSIAN in item.text


def test_a_wrong_header_charset_is_not_trusted():
    text = "La défenseure des droits Élise Fictive a été arrêtée à Port-Alder, une ville imaginaire."
    content = article(text).encode("cp1252")

    item = read_page(html_response(content, charset="utf-8"))

    assert text in item.text


def test_an_unknown_charset_label_is_ignored():
    content = article(RUSSIAN).encode("utf-8")

    item = read_page(html_response(content, charset="x-no-such-charset"))

    assert RUSSIAN in item.text


def test_decoding_uses_the_byte_order_mark_first():
    assert decode_bytes("\ufeffSalut Élise".encode("utf-16-le"), "iso-8859-1") == "Salut Élise"
    assert decode_bytes("\ufeffSalut Élise".encode()) == "Salut Élise"


def test_binary_content_served_as_html_is_refused():
    junk = bytes(range(256)) * 40

    with pytest.raises(ParseError) as caught:
        read_page(html_response(junk))

    assert caught.value.reason == "not an HTML page (binary content)"
    assert caught.value.input == "https://monitor.example/a"


def test_an_image_served_as_html_is_refused():
    with pytest.raises(ParseError, match="binary content"):
        read_page(html_response(b"\x89PNG\r\n\x1a\n" + b"IHDR" * 100))


@pytest.mark.parametrize("content", [b"", b"   \n\t  "])
def test_an_empty_body_is_refused(content):
    with pytest.raises(ParseError) as caught:
        read_page(html_response(content))

    assert caught.value.reason == "empty response"


def test_deeply_nested_html_neither_crashes_nor_hangs():
    depth = 100_000
    content = (
        "<html><body><p>The fictional Port Alder Bar Association was dissolved.</p>"
        + "<div>" * depth
        + "deep"
        + "</div>" * depth
        + "</body></html>"
    ).encode()

    started = time.perf_counter()
    item = read_page(html_response(content))

    assert time.perf_counter() - started < 10
    assert "Port Alder Bar Association" in item.text


def test_a_short_page_keeps_its_visible_text():
    item = read_page(html_response(b"<p>Greyfield blogger summoned.</p>"))

    assert item.text == "Greyfield blogger summoned."


def test_a_page_without_text_is_refused():
    with pytest.raises(ParseError, match="no text"):
        read_page(html_response(b"<html><head><script>var a = 1;</script></head><body></body></html>"))


def test_control_characters_do_not_break_parsing():
    content = article("Lakeside\x01 council\x0b cancels a permit.").encode()

    item = read_page(html_response(content))

    assert "council cancels a permit." in item.text


def test_html_fragments_become_plain_text():
    fragment = "<p>Police&nbsp;raid <b>the office</b></p><script>alert(1)</script><p>of the union &amp; its"

    assert html_to_text(fragment) == "Police raid the office\n\nof the union & its"


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_give_an_item_or_a_parse_error(content):
    try:
        item = read_page(html_response(content))
    except ParseError as exc:
        assert exc.reason and "\n" not in exc.reason
    else:
        assert item.text


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from([None, "utf-8", "cp1251", "ascii", "latin-1", "bogus"]))
def test_decoding_never_fails(content, charset):
    assert isinstance(decode_bytes(content, charset), str)


@pytest.mark.parametrize(
    "fragment",
    ["<script" * 200_000, "<" * 10**6, "<p" * 500_000, "<script></script>x" * 100_000, "<b " + " " * 10**6],
    ids=["unclosed-scripts", "angles", "open-tags", "many-scripts", "long-tag"],
)
def test_hostile_fragments_are_stripped_in_linear_time(fragment):
    started = time.perf_counter()
    html_to_text(fragment)

    assert time.perf_counter() - started < 2


def test_metadata_from_json_ld_and_a_byline():
    head = (
        "<title>Union leader jailed - Northland Courier</title>"
        '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [{"@type": "NewsArticle",'
        ' "headline": "Union leader jailed in Lakeside", "author": [{"@type": "Person", "name": "Mira Example"}],'
        ' "datePublished": "2023-11-02T10:00:00Z"}]}</script>'
    )
    content = article("A fictional union leader was jailed for two years in Lakeside.", head=head).encode()

    item = read_page(html_response(content))

    assert (item.title, item.author) == ("Union leader jailed in Lakeside", "Mira Example")
    assert item.published == "2023-11-02"
    assert item.canonical_url is None  # the page declares none


def test_the_title_tag_loses_its_site_name_and_a_byline_gives_the_author():
    body = "<p class='byline'>By Lena Placeholder, Port Alder</p>" + "<p>The fictional centre was closed.</p>" * 5
    content = f"<html><head><title>Centre closed | Veridia Monitor</title></head><body>{body}</body></html>"

    item = read_page(html_response(content.encode()))

    assert (item.title, item.author) == ("Centre closed", "Lena Placeholder")
