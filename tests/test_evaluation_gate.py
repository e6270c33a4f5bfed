"""The regression gate: the coder's scores on the development set never fall below their floors."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

FLOORS = tomllib.loads((Path(__file__).parent / "gate" / "floors.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def devset(shared: Path) -> Path:
    path = shared / "devset" / "devset.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return path


@pytest.fixture(scope="module")
def scores(devset: Path) -> dict:
    result = subprocess.run([sys.executable, "-m", "civicwatch", "evaluate", str(devset), "--json", "--by-lang"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_floors_were_measured_on_this_gold_data(devset: Path):
    digest = hashlib.sha256(devset.read_bytes()).hexdigest()
    assert digest == FLOORS["gold_sha256"], (
        "the development set changed: re-run `civicwatch evaluate` on it and update tests/gate/floors.toml"
    )


@pytest.mark.parametrize("measure", sorted(FLOORS["f1"]))
def test_f1_stays_above_its_floor(scores: dict, measure: str):
    assert scores[measure]["f1"] >= FLOORS["f1"][measure], json.dumps(scores[measure])


def test_dates_stay_above_their_floor(scores: dict):
    assert scores["dates"]["share"] >= FLOORS["share"]["dates"], json.dumps(scores["dates"])


def test_evaluate_reports_the_same_figures_as_the_shared_scorer(devset: Path, shared: Path, scores: dict, tmp_path):
    predicted = tmp_path / "pred.jsonl"
    coded = subprocess.run([sys.executable, "-m", "civicwatch", "code", str(devset), "--out", str(predicted)],
                           capture_output=True, text=True, timeout=600)
    assert coded.returncode == 0, coded.stderr
    scorer = subprocess.run([sys.executable, str(shared / "tools" / "score_incidents.py"), str(devset),
                             str(predicted), "--json"], capture_output=True, text=True, timeout=600)
    reference = json.loads(scorer.stdout)
    for key in ("detect", "country", "pairs", "types", "rights", "targets", "persons", "dates"):
        assert scores[key] == reference[key], key
