"""Generate the bad inputs too large (or too binary) to commit, into a cache folder, on demand.

    python tests/badinput/make_large.py            # the CI sizes, into tests/badinput/.cache/
    python tests/badinput/make_large.py --full     # also the full sizes (100 MB HTML, 1 GB bomb, ...)

Tests call ``path(name)``: a file is made the first time it is asked for and then reused (its name
carries its size, so a changed size makes a new file). Everything here is our own invented text.

Where the full size is slow or heavy, CI uses a smaller file that is still over the limit it tests
(``FULL`` lists the full sizes, used with ``--full`` or ``CIVICWATCH_BADINPUT_FULL=1``); see the
"Bad input" section of docs/reliability.md.
"""

from __future__ import annotations

import argparse
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

CACHE = Path(os.environ.get("CIVICWATCH_BADINPUT_CACHE") or Path(__file__).parent / ".cache")
MB = 1024 * 1024
_PARAGRAPH = ("On {n} March 2026 police in Osh detained the fictional activist Nurlan Bekmatov after a "
              "peaceful picket outside the city hall; he was released after six hours (item {n}). ")


def full_sizes() -> bool:
    """Whether the full sizes are asked for (``CIVICWATCH_BADINPUT_FULL=1``)."""
    return os.environ.get("CIVICWATCH_BADINPUT_FULL", "") not in ("", "0")


def _write_repeated(target: Path, head: bytes, piece: Callable[[int], bytes], tail: bytes, size: int) -> None:
    """``head``, then ``piece(n)`` for n = 0, 1, ... until ``size`` bytes, then ``tail``; streamed to disk."""
    with target.open("wb") as out:
        out.write(head)
        written, n, block = len(head), 0, bytearray()
        while written < size:
            chunk = piece(n)
            block += chunk
            written += len(chunk)
            n += 1
            if len(block) >= MB:
                out.write(block)
                block.clear()
        out.write(block)
        out.write(tail)


def feed(target: Path, size: int) -> None:
    """An RSS 2.0 feed of ``size`` bytes of items (no links, so nothing is followed)."""
    head = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Fictional monitor'
            b'</title><link>http://monitor.example.org/</link><description>many items</description>')

    def item(n: int) -> bytes:
        text = (_PARAGRAPH.format(n=n % 28 + 1) * 6).encode()
        return b"<item><title>Item %d</title><guid>urn:big:%d</guid><description>%s</description></item>" % (
            n, n, text)

    _write_repeated(target, head, item, b"</channel></rss>", size)


def html(target: Path, size: int) -> None:
    """One HTML page of ``size`` bytes of paragraphs."""
    head = b"<!doctype html><html><head><meta charset='utf-8'><title>Huge page</title></head><body><article>"
    _write_repeated(target, head, lambda n: b"<p>%s</p>" % _PARAGRAPH.format(n=n % 28 + 1).encode(),
                    b"</article></body></html>", size)


def gzip_bomb(target: Path, inflated: int) -> None:
    """A gzip member of about inflated/1000 bytes that inflates to ``inflated`` bytes of zeros, in milliseconds.

    After a full flush the compressor starts afresh, so the deflate bytes of one 1 MB block of zeros
    can be repeated instead of compressing the whole size.
    """
    block = bytes(MB)
    count = inflated // MB
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    piece = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    last = packer.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (count * MB) & 0xFFFFFFFF)
    target.write_bytes(header + piece * count + last + trailer)


def nested_html(target: Path, depth: int) -> None:
    """``depth`` nested <div>s around one paragraph (deep-nesting attacks on parsers and extractors)."""
    paragraph = b"<p>" + _PARAGRAPH.format(n=7).encode() * 3 + b"</p>"
    target.write_bytes(b"<!doctype html><html><head><title>Deep</title></head><body>" + b"<div>" * depth
                       + paragraph + b"</div>" * depth + b"</body></html>")


def nested_feed(target: Path, depth: int) -> None:
    """An RSS feed whose one item holds ``depth`` nested unknown elements."""
    target.write_bytes(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Deep</title><item><title>Deep'
                       b"</title><description>" + _PARAGRAPH.format(n=8).encode() + b"</description>"
                       + b"<x>" * depth + b"</x>" * depth + b"</item></channel></rss>")


def nested_jsonl(target: Path, depth: int) -> None:
    """A JSON line nested ``depth`` arrays deep, then a good line."""
    good = b'{"id": "good", "text": "On 3 May 2026 police in Nukus detained the fictional blogger Dilshod Tarakov."}\n'
    target.write_bytes(b"[" * depth + b"]" * depth + b"\n" + good)


def huge_line_jsonl(target: Path, size: int) -> None:
    """A JSON line whose text is ``size`` bytes, then a good line."""
    good = b'{"id": "good", "text": "On 3 May 2026 police in Nukus detained the fictional blogger Dilshod Tarakov."}\n'
    _write_repeated(target, b'{"id": "huge", "text": "', lambda n: _PARAGRAPH.format(n=n % 28 + 1).encode(),
                    b'"}\n' + good, size)


def sparse(target: Path, size: int) -> None:
    """A file of ``size`` NUL bytes that takes no disk space (a hole): for size caps checked before reading."""
    with target.open("wb") as out:
        out.truncate(size)


def csv_huge_field(target: Path, header_and_prefix: tuple[str, str], size: int) -> None:
    header, prefix = header_and_prefix
    target.write_text(f'{header}\n{prefix}"{"x" * size}",2025-01-01\n', encoding="utf-8")


def _pdf_pages(target: Path, pages: int, *, password: str | None = None, text: bool = True) -> None:
    from fpdf import FPDF  # dev extra

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    if password is not None:
        pdf.set_encryption(owner_password="owner-secret", user_password=password)
    for n in range(pages):
        pdf.add_page()
        if text:
            pdf.cell(text=f"Page {n + 1}: on 2 March 2026 police in Osh detained a fictional activist.")
        else:
            pdf.rect(20, 20, 50, 30)  # a drawing, no text: what a scanned page gives an extractor
    target.write_bytes(bytes(pdf.output()))


def pdf_many_pages(target: Path, pages: int) -> None:
    _pdf_pages(target, pages)


def pdf_encrypted(target: Path, _size: int) -> None:
    _pdf_pages(target, 1, password="partner-only")


def pdf_no_text(target: Path, _size: int) -> None:
    _pdf_pages(target, 2, text=False)


def pdf_truncated(target: Path, _size: int) -> None:
    """A one-page PDF cut in the middle: the cross-reference table and trailer are gone."""
    whole = target.with_suffix(".whole")
    _pdf_pages(whole, 3)
    data = whole.read_bytes()
    whole.unlink()
    target.write_bytes(data[: len(data) // 2])


def pdf_corrupt(target: Path, _size: int) -> None:
    target.write_bytes(b"%PDF-1.7\n" + bytes((i * 131 + 7) % 256 for i in range(8192)) + b"\n%%EOF\n")


_RATINGS = ("iso2,category,as_of", "UZ,")
_UPR = ("state_under_review,recommendation,recommending_state,response,session", "Uzbekistan,")

# name -> (maker, CI size, full size). Sizes are in the file's own unit (bytes, depth, pages).
FILES: dict[str, tuple[Callable[[Path, int], None], int, int]] = {
    "feed-huge.xml": (feed, 50_000_000, 50_000_000),
    "feed-under-cap.xml": (feed, 19_000_000, 19_000_000),  # 17,275 items; full runs only (a minute to collect)
    "page-huge.html": (html, 21 * MB, 100 * MB),
    "bomb.html.gz": (gzip_bomb, 120 * MB, 1024 * MB),
    "deep-nesting.html": (nested_html, 100_000, 1_000_000),
    "deep-nesting.xml": (nested_feed, 100_000, 1_000_000),
    "deep-nesting.jsonl": (nested_jsonl, 100_000, 1_000_000),
    "huge-line.jsonl": (huge_line_jsonl, 25 * MB, 200 * MB),
    "over-cap.html": (sparse, 2 * 1024 * MB, 2 * 1024 * MB),
    "nul-no-newline.jsonl": (sparse, 200 * MB, 2 * 1024 * MB),
    "pages-5000.pdf": (pdf_many_pages, 5000, 5000),
    "encrypted.pdf": (pdf_encrypted, 1, 1),
    "no-text.pdf": (pdf_no_text, 1, 1),
    "truncated.pdf": (pdf_truncated, 1, 1),
    "corrupt.pdf": (pdf_corrupt, 1, 1),
    "ratings-huge-field.csv": (lambda t, s: csv_huge_field(t, _RATINGS, s), 200_000, 200_000),
    "upr-huge-field.csv": (lambda t, s: csv_huge_field(t, _UPR, s), 200_000, 200_000),
}


def path(name: str, *, full: bool | None = None) -> Path:
    """The generated file ``name`` (made now if missing), at the CI size or, with ``full``, the full size."""
    maker, ci_size, full_size = FILES[name]
    size = full_size if (full_sizes() if full is None else full) else ci_size
    stem, dot, suffix = name.partition(".")
    target = CACHE / f"{stem}-{size}{dot}{suffix}"
    if not target.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        maker(partial, size)
        partial.replace(target)  # a run killed halfway never leaves a half-made file under the real name
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="also make the full sizes")
    args = parser.parse_args()
    for name in FILES:
        for full in (False, True) if args.full else (False,):
            made = path(name, full=full)
            print(f"{made}  {made.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
