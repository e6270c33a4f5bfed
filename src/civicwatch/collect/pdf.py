"""Read a PDF with pypdf: the text of its pages and its title, author and creation date.

Work is capped so that a huge or hostile PDF cannot hang a collection run: at most
``MAX_PAGES`` pages, ``MAX_CHARS`` characters and ``MAX_SECONDS`` of extraction. What
was cut, and pages that could not be read, are reported as Failures in the optional
``failures`` list the caller passes; the text read so far is kept.
"""

from __future__ import annotations

import io
import logging
import re
import time
from datetime import datetime

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError, PyPdfError

from civicwatch.errors import ParseError
from civicwatch.model import Failure, Item

MAX_PAGES = 2000
MAX_CHARS = 5_000_000
MAX_SECONDS = 60.0

_SPACES = re.compile(r"[^\S\n]+")
_BLANKS = re.compile(r"\n\s*\n\s*")

# pypdf logs a warning for every oddity of a malformed file; the caller learns what matters from Failures.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def _clean(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def _open(data: bytes, input: str) -> PdfReader:
    if b"%PDF" not in data[:1024]:  # the spec allows junk before the header
        raise ParseError(input, "not a readable PDF: no PDF header")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                decrypted = reader.decrypt("")
            except (DependencyError, NotImplementedError, PyPdfError) as exc:
                raise ParseError(input, "encrypted PDF") from exc
            if not decrypted:
                raise ParseError(input, "encrypted PDF")
        len(reader.pages)  # forces reading the page tree now, where errors are caught
    except ParseError:
        raise
    except FileNotDecryptedError as exc:
        raise ParseError(input, "encrypted PDF") from exc
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise ParseError(input, f"not a readable PDF: {exc}") from exc
    return reader


def _metadata(reader: PdfReader) -> tuple[str | None, str | None, str | None]:
    """Title, author and ISO creation date; a malformed info dictionary yields Nones, not an error."""
    try:
        info = reader.metadata
        if info is None:
            return None, None, None
        title = _clean(str(info.title or "")) or None
        author = _clean(str(info.author or "")) or None
    except Exception:  # noqa: BLE001 - pypdf decodes arbitrary objects here; metadata is optional
        return None, None, None
    created: datetime | None
    try:
        created = info.creation_date
    except Exception:  # noqa: BLE001 - malformed dates ("D:2024...") are common and optional
        created = None
    published = None
    if created is not None:
        timed = (created.hour, created.minute, created.second) != (0, 0, 0)
        published = created.isoformat() if timed else created.date().isoformat()
    return title, author, published


def read_pdf(data: bytes, input: str, *, failures: list[Failure] | None = None) -> Item:
    """Text of all pages of a PDF (page breaks as blank lines) with title, author and creation date.

    ``input`` names the PDF (URL or path) in errors and is the Item's url. Raises ParseError
    "not a readable PDF: ..." for a corrupt file and "encrypted PDF" when it cannot be opened with
    the empty password. Caps (pages, characters, time) and unreadable pages are appended to
    ``failures`` when given; the text read so far is kept.
    """
    reader = _open(data, input)
    notes: list[Failure] = failures if failures is not None else []
    pages: list[str] = []
    chars = 0
    started = time.monotonic()
    total = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        if number > MAX_PAGES:
            notes.append(Failure(input, f"PDF has {total} pages; read the first {MAX_PAGES} only"))
            break
        if time.monotonic() - started > MAX_SECONDS:
            reason = f"PDF text extraction stopped after {MAX_SECONDS:g} s, at page {number}"
            notes.append(Failure(input, reason))
            break
        try:
            text = _clean(page.extract_text() or "")
        except Exception as exc:  # noqa: BLE001 - one bad content stream must not lose the other pages
            notes.append(Failure(f"{input}#page={number}", f"page not readable: {exc}"))
            continue
        if not text:
            continue
        separator = 2 if pages else 0  # the blank line between pages counts too
        if chars + separator + len(text) > MAX_CHARS:
            pages.append(text[: max(MAX_CHARS - chars - separator, 0)])
            notes.append(Failure(input, f"PDF text cut at {MAX_CHARS:,} characters (page {number})"))
            break
        pages.append(text)
        chars += separator + len(text)
    text = "\n\n".join(pages).strip()
    if not text:
        raise ParseError(input, "no text in the PDF (scanned images?)")
    title, author, published = _metadata(reader)
    return Item(
        text=text,
        url=input,
        title=title,
        author=author,
        published=published,
        published_from="metadata" if published else None,
        raw=data,
        raw_type="application/pdf",
    )
