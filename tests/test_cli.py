"""The `civicwatch` command as a user runs it: a real process, real databases, clear errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

COMMANDS = ["init", "db upgrade", "add-source", "sources", "remove-source", "collect", "documents", "search",
            "show", "check", "demo", "code", "evaluate", "process", "serve", "export", "backup", "restore",
            "rate", "ratings import", "ratings set", "ratings override"]


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "civicwatch", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200", **(env or {})}, cwd=cwd, timeout=300)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself_with_an_example(command):
    result = run(*command.split(), "--help")
    assert result.returncode == 0
    assert "Example" in result.stdout


def test_the_top_level_help_lists_the_commands():
    result = run("--help")
    assert result.returncode == 0
    for command in ("init", "add-source", "collect", "sources"):
        assert command in result.stdout


@pytest.mark.parametrize(
    "args, says",
    [
        (["add-source", "/no/such/folder"], "no such file or folder"),
        (["add-source", "gopher://example.org/"], "gopher://example.org/"),
        (["add-source", "file:///etc/passwd"], "file:///etc/passwd"),
        (["add-source", "https://127.0.0.1/feed", "--kind", "feed"], "127.0.0.1"),
        (["add-source", ".", "--every", "soon"], "soon"),
        (["collect", "--since", "last tuesday"], "last tuesday"),
        (["collect", "--source", "nowhere"], "nowhere"),
        (["show", "999"], "999"),
    ],
)
def test_user_mistakes_get_one_clear_line_and_no_traceback(args, says, tmp_path):
    env = {"CIVICWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/cw.db"}
    assert run("init", env=env).returncode == 0
    result = run(*args, env=env, cwd=tmp_path)
    assert result.returncode in (1, 2), result.stdout
    assert says in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_commands_on_a_database_that_was_never_initialised_say_what_to_do(tmp_path):
    result = run("sources", env={"CIVICWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/new.db"})
    assert result.returncode != 0
    assert "civicwatch init" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_is_one_line(tmp_path):
    result = run("init", env={"CIVICWATCH_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "127.0.0.1" in result.stderr


def test_collect_json_summary_and_sources_listing(database_url, examples):
    env = {"CIVICWATCH_DATABASE_URL": database_url}
    assert run("init", env=env).returncode == 0
    added = run("add-source", str(examples / "jsonl" / "partner-export.jsonl"), "--name", "partner", env=env)
    assert added.returncode == 0, added.stderr

    result = run("collect", "--json", env=env)

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) >= {"new", "duplicate", "failed", "sources"}
    assert summary["new"] >= 5 and summary["failed"] == 0
    listed = json.loads(run("sources", "--json", env=env).stdout)
    assert listed[0]["name"] == "partner" and listed[0]["items"] == summary["new"]
    assert listed[0]["last_run_at"] and listed[0]["last_error"] is None
    # Not due again for six hours: a plain re-run collects nothing.
    again = json.loads(run("collect", "--json", env=env).stdout)
    assert again == {"new": 0, "duplicate": 0, "failed": 0, "sources": []}


def test_failed_inputs_make_the_exit_status_one(tmp_path):
    env = {"CIVICWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/cw.db"}
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "ok.txt").write_text("Police in Osh detained a fictional blogger on 2 May 2026.")
    (tmp_path / "in" / "bad.jsonl").write_text("{broken\n")
    run("init", env=env)
    run("add-source", str(tmp_path / "in"), "--name", "inbox", env=env)
    result = run("collect", env=env)
    assert result.returncode == 1
    assert "bad.jsonl:1" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_demo_collects_the_sample_corpus_in_four_languages(tmp_path, examples):
    result = run("demo", "--no-serve", "--database", f"sqlite:///{tmp_path}/demo.db", "--examples", str(examples))
    assert result.returncode == 0, result.stderr
    assert "failed" in result.stdout
    for lang in (" en ", " ru ", " fr ", " es "):
        assert lang in result.stdout
    assert "incidents in all: detention" in " ".join(result.stdout.split())
    again = run("demo", "--no-serve", "--database", f"sqlite:///{tmp_path}/demo.db", "--examples", str(examples))
    assert again.returncode == 0
    assert " 0 new" in again.stdout
    process = run("process", "--json", "--database", f"sqlite:///{tmp_path}/demo.db")
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout)["documents"] == 0  # all coded by this coder already


def test_export_writes_a_valid_data_package_of_the_filtered_incidents(tmp_path, examples):
    import frictionless

    database = f"sqlite:///{tmp_path}/demo.db"
    assert run("demo", "--no-serve", "--database", database, "--examples", str(examples)).returncode == 0
    result = run("export", "--database", database, "--format", "datapackage", "--type", "detention",
                 "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    report = frictionless.validate(tmp_path / "out" / "datapackage.json")
    assert report.valid, report.flatten(["type", "message"])
    with open(tmp_path / "out" / "incidents.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all("detention" in row["types"].split(";") for row in rows)


@pytest.mark.parametrize("option, value", [("--country", "Kazakhstan"), ("--type", "arrest"), ("--from", "May")])
def test_export_refuses_filter_values_the_codebook_does_not_know(option, value, tmp_path):
    env = {"CIVICWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/cw.db"}
    run("init", env=env)
    result = run("export", option, value, "--out", str(tmp_path / "out"), env=env)
    assert result.returncode == 2
    assert value in result.stderr and "Traceback" not in result.stderr
