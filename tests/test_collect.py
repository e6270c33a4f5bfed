"""Collecting end to end: real sources served on 127.0.0.1, stored in SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from civicwatch.collect.pipeline import collect
from civicwatch.collect.sources import new_source
from civicwatch.config import load_settings
from civicwatch.model import SourceKind
from support.corpus import article_html, report_text, write_site


@pytest.fixture
def settings():
    # The test server lives on 127.0.0.1, so private addresses are allowed, and no politeness delay is needed.
    return load_settings(None, allow_private=True, per_host_delay=0.0, read_timeout=2.0)


def add(store, settings, location, kind=None, name=None):
    return store.add_source(new_source(location, settings, None if kind else _fetcher(settings), kind=kind,
                                       name=name))


def _fetcher(settings):
    from civicwatch.collect.fetch import Fetcher

    return Fetcher(settings)


def test_a_feed_is_collected_page_by_page_and_a_rerun_stores_nothing_new(store, settings, web, tmp_path):
    site = tmp_path / "site"
    write_site(site, 12, web.url("/site/"))
    web.serve_dir(tmp_path)
    add(store, settings, web.url("/site/feed.atom"), name="monitor")

    first = collect(store, settings, force=True)
    assert (first.new, first.duplicate, first.failed) == (12, 0, 0)
    docs = store.documents(limit=100)
    assert len(docs) == 12
    # Each document holds the full followed page, not the feed's short summary.
    texts = sorted(d.text for d in docs)
    assert any(report_text(3).split(". ")[0] in t for t in texts)
    assert all(d.lang == "en" and d.url and d.published for d in docs)

    again = collect(store, settings, force=True)
    assert again.new == 0
    assert store.counts()["documents"] == 12
    assert store.source("monitor").item_count >= 12


def test_kind_is_detected_from_what_the_url_serves(store, settings, web, tmp_path):
    write_site(tmp_path / "site", 3, web.url("/site/"))
    web.serve_dir(tmp_path)
    assert add(store, settings, web.url("/site/feed.atom")).kind is SourceKind.FEED
    assert add(store, settings, web.url("/site/report-1.html")).kind is SourceKind.PAGE


def test_a_listing_page_becomes_one_document_per_teaser(store, settings, web, examples):
    web.serve_dir(examples)
    add(store, settings, web.url("/pages/country-kyrgyzstan.html"), kind=SourceKind.LISTING, name="kg")
    summary = collect(store, settings, force=True)
    assert summary.new >= 6
    docs = store.documents(limit=100)
    digests = [d for d in docs if d.is_digest]
    assert len(digests) == 1
    items = [d for d in docs if d.parent_id == digests[0].id]
    assert len(items) == summary.new


def test_a_plain_text_digest_is_split_into_items(store, settings, examples):
    add(store, settings, str(examples / "digest" / "weekly-digest.txt"), kind=SourceKind.FILES)
    summary = collect(store, settings, force=True)
    assert summary.new >= 6
    assert store.counts()["digests"] == 1


def test_copies_are_linked_to_the_first_not_stored_twice(store, settings, tmp_path):
    original = report_text(7)
    edited = original.replace("activist", "human rights activist", 1).replace("report", "update", 1)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "first.txt").write_text(original, encoding="utf-8")
    (tmp_path / "b" / "same.txt").write_text(original.upper(), encoding="utf-8")
    (tmp_path / "b" / "edited.txt").write_text(edited, encoding="utf-8")
    add(store, settings, str(tmp_path / "a"), kind=SourceKind.FILES, name="first")
    add(store, settings, str(tmp_path / "b"), kind=SourceKind.FILES, name="second")
    collect(store, settings, source_names=["first"])
    summary = collect(store, settings, source_names=["second"])
    assert (summary.new, summary.duplicate) == (0, 2)
    assert store.counts()["documents"] == 1
    assert store.counts()["sightings"] == 2


def test_a_broken_source_is_recorded_and_the_others_go_on(store, settings, web, tmp_path):
    write_site(tmp_path / "site", 4, web.url("/site/"))
    web.serve_dir(tmp_path)
    broken = {
        "missing": web.url("/status/404"),
        "failing": web.url("/status/500"),
        "looping": web.url("/redirect-loop"),
        "huge": web.url("/huge"),
        "binary": web.url("/wrong-type"),
        "empty": web.url("/empty"),
    }
    for name, url in broken.items():
        add(store, settings, url, kind=SourceKind.PAGE, name=name)
    add(store, settings, web.url("/site/feed.atom"), kind=SourceKind.FEED, name="good")
    small = load_settings(None, allow_private=True, per_host_delay=0.0, read_timeout=2.0, max_bytes=2_000_000)

    summary = collect(store, small, force=True)

    by_name = {s.name: s for s in summary.sources}
    assert by_name["good"].new == 4
    for name in broken:
        assert by_name[name].error, name
        assert by_name[name].new == 0
    recorded = {s.name: s for s in store.sources()}
    assert all(recorded[name].last_error and recorded[name].failures == 1 for name in broken)
    assert recorded["good"].last_error is None
    assert store.integrity_problems() == []


def test_a_failed_source_is_retried_later_not_at_once(store, settings, web):
    add(store, settings, web.url("/status/503"), kind=SourceKind.PAGE, name="down")
    collect(store, settings)
    assert store.due_sources(store.sources()[0].last_run_at) == []


def test_since_skips_older_items(store, settings, web, tmp_path):
    write_site(tmp_path / "site", 10, web.url("/site/"))
    web.serve_dir(tmp_path)
    add(store, settings, web.url("/site/feed.atom"), kind=SourceKind.FEED, name="monitor")
    summary = collect(store, settings, since="2026-03-06", force=True)
    # Entries n are dated 2026-03-(n+1): five of ten are on or after 6 March.
    assert summary.new == 5


def test_jsonl_with_bad_lines_keeps_the_good_ones(store, settings, tmp_path):
    lines = [
        json.dumps({"id": "r1", "text": report_text(1), "lang": "en"}),
        "{not json",
        '{"id": "r2"}',
        json.dumps({"id": "r3", "text": report_text(3), "published": "2026-04-02"}),
    ]
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    add(store, settings, str(path), kind=SourceKind.FILES)
    summary = collect(store, settings, force=True)
    assert (summary.new, summary.failed) == (2, 2)
    assert any(":2" in f.input or ":2:" in str(f) for f in summary.sources[0].failures)


def test_html_pages_keep_their_raw_payload_for_re_extraction(store, settings, tmp_path):
    import zlib

    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "report.html").write_text(article_html(5), encoding="utf-8")
    add(store, settings, str(tmp_path / "p"), kind=SourceKind.FILES)
    collect(store, settings, force=True)
    (doc,) = store.documents()
    assert doc.raw is not None and zlib.decompress(doc.raw).decode() == article_html(5)
    assert doc.title == "Report 5"


def test_control_characters_are_dropped_not_refused_by_the_database(store, settings, tmp_path):
    path = tmp_path / "export.jsonl"
    path.write_text('{"id": "n1", "text": "Police in Osh\\u0000 detained a fictional blogger\\u0007 on 2 May."}\n',
                    encoding="utf-8")
    add(store, settings, str(path), kind=SourceKind.FILES)
    summary = collect(store, settings, force=True)
    assert (summary.new, summary.failed) == (1, 0)
    assert store.documents()[0].text == "Police in Osh detained a fictional blogger on 2 May."
