"""Country briefs: Markdown, HTML and a chromium-printed PDF, with numbered citations of stored sources."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from civicwatch.errors import UsageError
from civicwatch.model import Document, Incident
from civicwatch.publish import brief
from civicwatch.store import Store
from civicwatch.store.events import connect
from civicwatch.store.upr import assess, import_recommendations, recommendations
from civicwatch.upr.importer import read
from civicwatch.upr.tagging import tagger

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TEXT = ("Police detained the blogger Otabek Karimov in Nukus on 3 May 2025. "
        "Parliament adopted amendments to the law on public associations requiring foreign funding reports.")


def _country(store: Store) -> None:
    doc = store.add_document(Document(text=TEXT, content_hash="b1", title="Blogger detained in Nukus",
                                      url="https://monitor.example.org/r/1", published="2025-05-04T08:00:00+00:00"),
                             signature=None, bands=[])
    split = TEXT.index("Parliament")
    store.save_coding(doc, [
        Incident("UZ", ["detention"], targets=["blogger"], persons=["Otabek Karimov"], evidence=TEXT[:split - 1],
                 evidence_start=0, evidence_end=split - 1, confidence=0.9, date="2025-05-03"),
        Incident("UZ", ["restrictive_law"], evidence=TEXT[split:], evidence_start=split, evidence_end=len(TEXT),
                 confidence=0.8, date="2025-06"),
        Incident("UZ", ["detention"], evidence=TEXT[:20], evidence_start=0, evidence_end=20, confidence=0.9,
                 date="2023-01-01"),  # before --since: left out
    ], "1.test")
    path = EXAMPLES / "upr" / "recommendations.csv"
    import_recommendations(store, read(path), source_file=path.name, themes=tagger().themes)
    forced = recommendations(store, "UZ", theme="forced_labour")[0]
    assess(store, forced.id, status="partially", evidence="ILO monitoring 2025", actor="amina")
    connect(store)  # events and the persons' registry, as civicwatch process does


def test_the_markdown_brief_cites_its_sources_by_number(store: Store) -> None:
    _country(store)
    text = brief.markdown(brief.gather(store, "uz", "2024-01-01"))

    assert "# Uzbekistan: civic space since 2024-01-01" in text
    assert "- 2025-05-03: Police detained the blogger Otabek Karimov in Nukus on 3 May 2025.[^1]" in text
    assert "- Otabek Karimov: detained (2025-05-03)[^1]" in text
    assert "Parliament adopted amendments" in text.split("## Restrictive laws")[1]
    assert "| Forced labour | Eliminate forced labour" in text and "partially implemented" in text
    assert "[^1]: Blogger detained in Nukus. https://monitor.example.org/r/1 (2025-05-04)" in text
    assert "2023-01-01" not in text


def test_the_pdf_is_printed_by_chromium_with_page_numbers(store: Store, tmp_path: Path) -> None:
    if shutil.which(brief.CHROMIUM) is None or shutil.which("pdftotext") is None:
        pytest.skip("needs /usr/bin/chromium and pdftotext")
    _country(store)
    data = brief.gather(store, "UZ", "2024-01-01")
    out = tmp_path / "uz.pdf"
    brief.pdf(data, out)

    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert out.read_bytes().startswith(b"%PDF")
    assert "Uzbekistan: civic space since" in text and "Persons detained or imprisoned" in text
    assert "page 2 of" in text
    assert "https://monitor.example.org/r/1" in text


def test_a_missing_chromium_or_a_bad_date_is_one_clear_error(store: Store, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="chromium is needed"):
        brief.pdf(brief.gather(store, "UZ", "2024-01-01"), tmp_path / "x.pdf", chromium="/nonexistent/chromium")
    assert not (tmp_path / "x.pdf").exists()
    with pytest.raises(UsageError, match="YYYY-MM-DD"):
        brief.gather(store, "UZ", "last year")
    with pytest.raises(UsageError, match="ISO 3166"):
        brief.gather(store, "XX", "2024-01-01")
