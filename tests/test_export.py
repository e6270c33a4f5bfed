"""Exports as a researcher downloads them: CSV, JSON Lines and a Frictionless Data Package.

All people and organisations in these texts are fictional.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import frictionless
import pytest

from civicwatch.errors import UsageError
from civicwatch.model import Document, Incident
from civicwatch.publish.export import (
    PUBLIC_DOCUMENT_FIELDS,
    PUBLIC_INCIDENT_FIELDS,
    TABLES,
    export,
)
from civicwatch.store import Store

TEXT_1 = (
    "On 4 March 2026 police in Tashkent detained blogger Anvar Fictov (fictional).\n"
    'The "Open Steppe Union"; a fictional NGO, said: he was held for 15 days, without charge.'
)
TEXT_2 = "В Алматы оштрафовали фонд «Голоса степи» (вымышленный) и блогера Анвара Фиктова."


def documents() -> list[Document]:
    return [
        Document(text=TEXT_1, content_hash="c1", id=1, source_id=3, url="https://example.org/news/1",
                 title="Blogger detained", published="2026-03-05", published_from="feed",
                 fetched_at=datetime(2026, 3, 5, 9, 30), lang="en", lang_score=0.98,
                 raw=b"<html>payload</html>", raw_type="text/html"),
        Document(text=TEXT_2, content_hash="c2", id=2, url="file:///digests/kz.txt", lang="ru",
                 parent_id=1, is_digest=False, external_id="kz-7"),
    ]  # fmt: skip


def incidents() -> list[Incident]:
    return [
        Incident(country="UZ", types=["detention"], rights=["expression"], targets=["blogger"],
                 persons=["Anvar Fictov"], organisations=["Open Steppe Union"], perpetrators=["police"],
                 date="2026-03-04", evidence="police in Tashkent detained blogger Anvar Fictov",
                 confidence=0.9, evidence_start=16, evidence_end=64, id=10, document_id=1,
                 coder_version="1.abc"),
        Incident(country="KZ", types=["cso_restriction", "harassment"], rights=["association"],
                 persons=["Анвар Фиктов", "Anvar Fictov"], organisations=["Голоса степи"],
                 perpetrators=["judiciary"], date="2026", evidence="оштрафовали фонд «Голоса степи»",
                 confidence=0.55, id=11, document_id=2, coded_by="person"),
    ]  # fmt: skip


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def as_csv(value: Any) -> str:
    """What a CSV export is documented to hold for a value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    return str(value)


def test_csv_export_writes_four_tables_that_read_back_equal_to_the_data(tmp_path: Path) -> None:
    files = export(incidents(), documents(), tmp_path / "out", format="csv")

    assert [f.name for f in files] == ["incidents.csv", "documents.csv", "persons.csv", "organisations.csv"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f.name for f in files)  # no scratch
    rows = read_csv(tmp_path / "out" / "incidents.csv")
    assert list(rows[0]) == list(PUBLIC_INCIDENT_FIELDS)
    for row, incident in zip(rows, incidents(), strict=True):
        assert row == {name: as_csv(getattr(incident, name)) for name in PUBLIC_INCIDENT_FIELDS}
    # Lists split back on ";" into what was exported.
    assert rows[1]["types"].split(";") == ["cso_restriction", "harassment"]

    rows = read_csv(tmp_path / "out" / "documents.csv")
    assert list(rows[0]) == list(PUBLIC_DOCUMENT_FIELDS)
    for row, document in zip(rows, documents(), strict=True):
        assert row == {name: as_csv(getattr(document, name)) for name in PUBLIC_DOCUMENT_FIELDS}
    assert rows[0]["text"] == TEXT_1  # line breaks, quotes, commas and semicolons survive
    assert "raw" not in rows[0] and "payload" not in (tmp_path / "out" / "documents.csv").read_text()


def test_persons_and_organisations_are_gathered_from_the_incidents(tmp_path: Path) -> None:
    export(incidents(), documents(), tmp_path, format="csv")

    assert read_csv(tmp_path / "persons.csv") == [
        {"name": "Anvar Fictov", "countries": "KZ;UZ", "incident_count": "2", "incident_ids": "10;11"},
        {"name": "Анвар Фиктов", "countries": "KZ", "incident_count": "1", "incident_ids": "11"},
    ]
    assert read_csv(tmp_path / "organisations.csv") == [
        {"name": "Open Steppe Union", "countries": "UZ", "incident_count": "1", "incident_ids": "10"},
        {"name": "Голоса степи", "countries": "KZ", "incident_count": "1", "incident_ids": "11"},
    ]


def test_jsonl_lines_parse_to_the_public_fields_with_lists_as_arrays(tmp_path: Path) -> None:
    files = export(incidents(), documents(), tmp_path, format="jsonl")

    assert [f.name for f in files] == [f"{t}.jsonl" for t in TABLES]
    lines = (tmp_path / "incidents.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {name: getattr(incident, name) for name in PUBLIC_INCIDENT_FIELDS} for incident in incidents()
    ]
    first, second = (json.loads(line) for line in (tmp_path / "documents.jsonl").read_text().splitlines())
    assert set(first) == set(PUBLIC_DOCUMENT_FIELDS)
    assert first["text"] == TEXT_1 and first["fetched_at"] == "2026-03-05T09:30:00Z"
    assert second["text"] == TEXT_2 and second["is_digest"] is False
    assert "Голоса степи" in (tmp_path / "organisations.jsonl").read_text(encoding="utf-8")  # not \\u-escaped
    persons = [json.loads(line) for line in (tmp_path / "persons.jsonl").read_text().splitlines()]
    assert persons[0] == {"name": "Anvar Fictov", "countries": ["KZ", "UZ"], "incident_count": 2,
                          "incident_ids": [10, 11]}  # fmt: skip


def test_datapackage_validates_with_frictionless_and_declares_its_keys(tmp_path: Path) -> None:
    files = export(incidents(), documents(), tmp_path, format="datapackage")

    assert files[-1] == tmp_path / "datapackage.json"
    report = frictionless.validate(tmp_path / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    package = json.loads((tmp_path / "datapackage.json").read_text())
    resources = {r["name"]: r for r in package["resources"]}
    assert list(resources) == ["incidents", "documents", "persons", "organisations"]
    incidents_schema = resources["incidents"]["schema"]
    assert [f["name"] for f in incidents_schema["fields"]] == list(PUBLIC_INCIDENT_FIELDS)
    assert incidents_schema["primaryKey"] == ["id"]
    assert incidents_schema["foreignKeys"] == [
        {"fields": ["document_id"], "reference": {"resource": "documents", "fields": ["id"]}}
    ]
    assert resources["persons"]["schema"]["primaryKey"] == ["name"]
    # frictionless reads the list fields back as lists.
    rows = frictionless.Package(tmp_path / "datapackage.json").get_table_resource("incidents").read_rows()
    assert rows[1]["types"] == ["cso_restriction", "harassment"] and float(rows[1]["confidence"]) == 0.55


def test_frictionless_catches_a_package_edited_into_an_inconsistent_state(tmp_path: Path) -> None:
    # The schemas are real constraints, not decoration: a broken foreign key and a confidence of 1.8 fail.
    export(incidents(), documents(), tmp_path, format="datapackage")
    path = tmp_path / "incidents.csv"
    path.write_text(path.read_text().replace("11,2,KZ", "11,99,KZ").replace(",0.9,", ",1.8,"))

    report = frictionless.validate(tmp_path / "datapackage.json")
    assert not report.valid
    assert {error[0] for error in report.flatten(["type"])} == {"foreign-key", "constraint-error"}


def test_a_datapackage_refuses_incidents_whose_document_is_not_exported(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as error:
        export(incidents(), documents()[:1], tmp_path, format="datapackage")
    assert error.value.input == "incident 11" and "document 2" in error.value.reason
    assert list(tmp_path.iterdir()) == []  # nothing half-written, no scratch left
    # CSV and JSONL have no declared keys and export what they are given.
    assert len(export(incidents(), documents()[:1], tmp_path, format="csv")) == 4


def test_bad_requests_are_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="xlsx"):
        export([], [], tmp_path, format="xlsx")  # type: ignore[arg-type]
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="not a folder"):
        export([], [], tmp_path / "file", format="csv")
    with pytest.raises(UsageError, match="without an id"):
        export([Incident(country="UZ", types=["detention"], evidence="unsaved")], [], tmp_path, format="csv")


def test_an_empty_export_still_has_headers_and_validates(tmp_path: Path) -> None:
    export([], [], tmp_path, format="datapackage")
    assert (tmp_path / "persons.csv").read_text().strip() == "name,countries,incident_count,incident_ids"
    assert frictionless.validate(tmp_path / "datapackage.json").valid


def test_a_failure_midway_leaves_the_previous_export_untouched(tmp_path: Path) -> None:
    export(incidents(), documents(), tmp_path, format="csv")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def failing() -> Iterator[Incident]:
        yield incidents()[0]
        raise OSError("disk went away")

    with pytest.raises(OSError):
        export(failing(), documents(), tmp_path, format="csv")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_killed_export_leaves_no_half_written_file(tmp_path: Path) -> None:
    # A real crash: the process is killed while it streams; the folder holds no incidents.csv at all.
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from civicwatch.model import Incident
        from civicwatch.publish.export import export

        def endless():
            n = 0
            while True:
                n += 1
                if n == 2000:
                    print("streaming", flush=True)
                yield Incident(country="UZ", types=["detention"], evidence="x" * 200, id=n)

        export(endless(), [], Path({str(tmp_path)!r}), format="csv")
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline() == "streaming\n"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    finished = [p.name for p in tmp_path.iterdir() if not p.name.startswith(".export-")]
    assert finished == []


def test_export_streams_from_a_real_store(store: Store, tmp_path: Path) -> None:
    # The way the CLI exports: documents and incidents read page by page from the database.
    text = "Police in Bishkek detained journalist Aigul Fictova (fictional) on 2 May 2026."
    document_id = store.add_document(Document(text=text, content_hash="s1"), signature=b"sig", bands=[])
    start = text.index("detained")
    evidence = "detained journalist Aigul Fictova"
    found = Incident(country="KG", types=["detention"], persons=["Aigul Fictova"], evidence=evidence,
                     evidence_start=start, evidence_end=start + len(evidence), date="2026-05-02")
    store.save_coding(document_id, [found], "1.test")

    def all_incidents() -> Iterator[Incident]:
        after = 0
        while page := store.incidents(after_id=after, limit=1):
            yield from page
            after = page[-1].id or after

    export(all_incidents(), store.iter_documents(), tmp_path, format="datapackage")

    assert frictionless.validate(tmp_path / "datapackage.json").valid
    assert read_csv(tmp_path / "persons.csv")[0]["countries"] == "KG"
    assert read_csv(tmp_path / "incidents.csv")[0]["document_id"] == str(document_id)
    assert "sig" not in read_csv(tmp_path / "documents.csv")[0].values()
