"""The UPR tracker: importing recommendation files, their themes, assessments and suggested evidence."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from civicwatch.errors import UsageError
from civicwatch.model import Document, Incident
from civicwatch.store import Store, audit
from civicwatch.store.upr import assess, import_recommendations, recommendations, suggest_evidence
from civicwatch.upr.importer import read
from civicwatch.upr.tagging import tagger

FIXTURES = Path(__file__).parent / "fixtures"
# (labels file, the shared data file its line numbers point into)
SAMPLES = [("upr_theme_labels.csv", "central_asia.csv"), ("upr_theme_labels_world.csv", "upr_info_sessions01-20.csv")]
HEADER = "state_under_review,recommendation,recommending_state,response,session\n"
FLOOR = 0.85


def _write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "upr.csv"
    path.write_text(text, encoding=encoding)
    return path


@pytest.mark.parametrize(("labels", "data"), SAMPLES)
def test_theme_tagging_meets_the_floor_on_hand_labelled_recommendations(shared: Path, labels: str, data: str) -> None:
    rows = list(csv.DictReader((shared / "data/upr_recommendations" / data).open(encoding="utf-8")))
    lines = [line for line in (FIXTURES / labels).read_text().splitlines() if not line.startswith("#")][1:]
    tp = fp = fn = 0
    for line in lines:
        number, themes = line.split(",", 1)
        gold = set(themes.split())
        found = tagger().themes(rows[int(number) - 2]["recommendation"])
        tp, fp, fn = tp + len(gold & found), fp + len(found - gold), fn + len(gold - found)
    assert len(lines) >= 100
    assert tp / (tp + fp) >= FLOOR
    assert tp / (tp + fn) >= FLOOR


def test_themes_come_from_the_coders_cues() -> None:
    # "deregistered" is a cso_restriction cue of codebook/types.toml, not a phrase of upr/themes.toml.
    assert "cso_registration" in tagger().themes("Reinstate the NGOs deregistered since 2005.")
    assert tagger().themes("Ratify the Rome Statute.") == set()


def test_importing_the_real_file_twice_adds_nothing_the_second_time(store: Store, shared: Path) -> None:
    path = shared / "data/upr_recommendations/central_asia.csv"
    first = import_recommendations(store, read(path), source_file=path.name, themes=tagger().themes)
    again = import_recommendations(store, read(path), source_file=path.name, themes=tagger().themes)

    assert first == (1273, 0)
    assert again == (0, 1273)
    uzbekistan = recommendations(store, "UZ")
    assert {r.session for r in uzbekistan} == {3, 16}
    assert {r.response for r in uzbekistan} == {"supported", "noted"}
    assert all("forced_labour" in r.themes for r in recommendations(store, "UZ", theme="forced_labour"))
    page = recommendations(store, "UZ", limit=5)
    assert recommendations(store, "UZ", after=page[-1].id, limit=1)[0].id > page[-1].id


def test_a_spreadsheet_bom_is_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "Uzbekistan,Release journalists.,France,Supported,16\n", "utf-8-sig")
    [rec] = read(path)
    assert (rec.country, rec.cycle, rec.review_year, rec.response) == ("UZ", 2, 2013, "supported")


@pytest.mark.parametrize(("text", "message"), [
    ("state_under_review;recommendation;recommending_state;response;session\n", "semicolons"),
    ("country,recommendation,recommending_state,response,session\nUZ,x,France,Noted,3\n", "state_under_review"),
    (HEADER + "Uzbekistan,Release journalists.,France,Supported,16\nNarnia,Free speech.,France,Noted,3\n", "Narnia"),
    (HEADER + "UZ,Release journalists.,France,maybe,16\n", "supported or noted"),
])
def test_mistakes_are_named_with_their_line(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        list(read(path))
    assert message in str(caught.value)
    expected_line = "3" if "Narnia" in text else ("2" if "maybe" in text else "1")
    assert caught.value.input == f"{path}:{expected_line}"


def test_an_assessment_is_audited_and_events_since_the_review_are_suggested(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "Kazakhstan,Protect journalists from harassment.,Norway,Supported,20\n")
    import_recommendations(store, read(path), source_file=path.name, themes=tagger().themes)
    [rec] = recommendations(store, "KZ")
    text = "Police harassed the journalist Aigerim. Earlier, in 2009, a reporter was threatened."
    doc = store.add_document(Document(text=text, content_hash="k1", title="Report", url="https://example.org/r"),
                             signature=None, bands=[])
    store.save_coding(doc, [
        Incident("KZ", ["harassment"], targets=["journalist"], evidence=text[:39], evidence_start=0,
                 evidence_end=39, confidence=0.8, date="2015-05-01"),
        Incident("KZ", ["harassment"], targets=["journalist"], evidence=text[40:], evidence_start=40,
                 evidence_end=len(text), confidence=0.8, date="2009"),
    ], "1.test")

    assess(store, rec.id, status="partially", evidence="Two prosecutions in 2015", actor="amina")
    [suggested] = suggest_evidence(store, rec, tagger().evidence_matches)

    assert recommendations(store, "KZ")[0].assessment.status == "partially"  # type: ignore[union-attr]
    assert [(e.actor, e.action) for e in audit.history(store, "upr_recommendation", rec.id)] == [("amina", "assess")]
    assert suggested.date == "2015-05-01"  # the 2009 event predates the 2014 review
    assert suggested.url == "https://example.org/r"
    with pytest.raises(UsageError):
        assess(store, rec.id, status="done", evidence="x", actor="amina")


def test_the_cli_names_the_line_and_imports_nothing_from_a_bad_file(database_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from civicwatch.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["init", "-d", database_url]).exit_code == 0
    path = _write(tmp_path, HEADER + "Uzbekistan,Release journalists.,France,Supported,16\nUZ,,France,Noted,16\n")

    failed = runner.invoke(app, ["upr", "import", str(path), "-d", database_url])
    assert failed.exit_code == 2
    assert f"{path}:3: the recommendation text is empty" in " ".join(failed.output.split())
    assert "Imported 0" not in failed.output
    listed = runner.invoke(app, ["upr", "list", "UZ", "--json", "-d", database_url])
    assert listed.exit_code == 0 and listed.output.strip() == "[]"
