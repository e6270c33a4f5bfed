"""`civicwatch code`: JSON Lines in, one coding per document out, bad lines named and skipped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DOCUMENTS = [
    {"id": "kz-1", "text": "On 4 March 2024 police in Almaty detained journalist Aigerim Sadykova after she "
                           "filmed a rally; she was released two days later.", "published": "2024-03-07"},
    {"id": "kg-2", "text": "The Ministry of Justice refused for the ninth time to register the Rights Watch "
                           "Centre in Bishkek."},
    {"id": 3, "text": "We call on the authorities of Tajikistan to stop harassing independent media."},
]


def civicwatch(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "civicwatch", *args], input=stdin, capture_output=True,
                          text=True, timeout=300)


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_each_document_gets_one_line_with_its_incidents(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [json.dumps(d) for d in DOCUMENTS])
    result = civicwatch("code", str(path))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["kz-1", "kg-2", 3]
    kz = {t for i in lines[0]["incidents"] for t in i["types"]}
    assert {"detention", "release"} <= kz
    assert all(i["country"] == "KZ" for i in lines[0]["incidents"])
    assert lines[1]["incidents"][0]["types"] == ["cso_restriction"]
    assert lines[2]["incidents"] == []  # a call to action is not an incident
    fields = ["country", "types", "rights", "targets", "persons", "organisations", "perpetrators", "date",
              "evidence", "confidence"]
    assert list(lines[0]["incidents"][0]) == fields


def test_bad_lines_are_named_by_number_and_the_rest_is_coded(tmp_path):
    lines = [json.dumps(DOCUMENTS[0]), "{not json", json.dumps({"text": "no id"}), json.dumps({"id": "x"}),
             json.dumps({"id": "y", "text": 42}), "[1, 2]", json.dumps(DOCUMENTS[1])]
    path = write_jsonl(tmp_path / "in.jsonl", lines)
    result = civicwatch("code", str(path))
    assert result.returncode == 1
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["kz-1", "kg-2"]
    for number in (2, 3, 4, 5, 6):
        assert f"in.jsonl:{number}:" in result.stderr
    assert "Traceback" not in result.stderr


def test_standard_input_and_an_output_file(tmp_path):
    out = tmp_path / "incidents.jsonl"
    result = civicwatch("code", "-", "--out", str(out), stdin="\n".join(json.dumps(d) for d in DOCUMENTS))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3
    assert not (tmp_path / "incidents.jsonl.part").exists()


def test_hostile_text_is_coded_without_a_crash(tmp_path):
    texts = ["", "\x00\x01\x02", "ё" * 5000, "Police detained " * 2000, "Алматы police detained 記者 الصحفي"]
    path = write_jsonl(tmp_path / "in.jsonl", [json.dumps({"id": n, "text": t}) for n, t in enumerate(texts)])
    result = civicwatch("code", str(path))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(texts)


def test_a_missing_input_is_a_usage_error():
    result = civicwatch("code", "/no/such/file.jsonl")
    assert result.returncode == 2
    assert "/no/such/file.jsonl" in result.stderr
