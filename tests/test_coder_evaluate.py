"""The evaluation: our scorer gives the shared scorer's figures, and the devset is coded end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from civicwatch.code.coder import Coder, code_document
from civicwatch.code.evaluate import evaluate, score


def _write(path: Path, docs: list[dict]) -> None:  # type: ignore[type-arg]
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")


def _script_scores(shared: Path, gold: Path, pred: Path) -> dict:  # type: ignore[type-arg]
    script = shared / "tools" / "score_incidents.py"
    out = subprocess.run([sys.executable, str(script), str(gold), str(pred), "--json"], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)


def test_score_matches_the_shared_scorer_on_made_up_files(shared: Path, tmp_path: Path) -> None:
    gold = [
        {"id": "a", "incidents": [{"country": "KZ", "types": ["detention", "prosecution"], "rights": ["expression"],
                                   "targets": ["journalist"], "persons": ["Aigerim Sadykova"], "date": "2024-03"}]},
        {"id": "b", "incidents": []},
        {"id": "c", "incidents": [{"country": "UZ", "types": ["protest"], "rights": ["assembly"],
                                   "targets": ["protester"], "persons": [], "date": "2022-07-01"}]},
    ]
    pred = [
        {"id": "a", "incidents": [{"country": "KZ", "types": ["detention"], "rights": ["expression"],
                                   "targets": ["journalist", "hrd"], "persons": ["Sadykova", "Timur Ivanov"],
                                   "date": "2024-03-04"}]},
        {"id": "b", "incidents": [{"country": "KG", "types": ["censorship"], "persons": []}]},
        {"id": "x", "incidents": []},
    ]
    _write(tmp_path / "gold.jsonl", gold)
    _write(tmp_path / "pred.jsonl", pred)
    ours = score({d["id"]: d["incidents"] for d in gold}, {d["id"]: d["incidents"] for d in pred})
    assert ours == _script_scores(shared, tmp_path / "gold.jsonl", tmp_path / "pred.jsonl")


def test_score_matches_the_shared_scorer_on_the_devset(shared: Path, tmp_path: Path) -> None:
    devset = shared / "devset" / "devset.jsonl"
    coder = Coder()
    gold, pred = {}, []
    for line in devset.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        gold[doc["id"]] = doc["incidents"]
        pred.append(code_document({"id": doc["id"], "text": doc["text"], "published": doc["published"]}, coder))
    _write(tmp_path / "pred.jsonl", pred)
    ours = score(gold, {d["id"]: d["incidents"] for d in pred})
    assert ours == _script_scores(shared, devset, tmp_path / "pred.jsonl")


def test_evaluate_reports_per_language_and_type(shared: Path) -> None:
    result = evaluate(shared / "devset" / "devset.jsonl", Coder(), by_type=True, by_lang=True)
    assert result["documents"] == 132
    assert {"en", "ru", "fr", "es"} <= set(result["by_lang"])
    assert "detention" in result["by_type"]
    assert sum(part["documents"] for part in result["by_lang"].values()) == 132


# The regression gate: floors just under the figures measured when they were set (they only go up).
# The regression gate (floors pinned to the gold data's checksum) is tests/test_evaluation_gate.py.


def test_evaluate_reads_only_id_text_and_published(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    _write(gold, [{"id": "1", "text": "Police in Osh detained journalist Bakyt Asanov.", "lang": "en",
                   "incidents": [{"country": "KG", "types": ["detention"], "targets": ["journalist"],
                                  "persons": ["Bakyt Asanov"]}]}])
    result = evaluate(gold, Coder(), by_type=False, by_lang=True)
    assert result["pairs"]["f1"] == 1.0
    assert result["by_lang"]["en"]["persons"]["f1"] == 1.0


def test_a_bad_gold_line_is_named(tmp_path: Path) -> None:
    from civicwatch.errors import ParseError

    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "1", "text": "x"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ParseError) as err:
        evaluate(gold, Coder(), by_type=False, by_lang=False)
    assert err.value.input.endswith("gold.jsonl:2")
