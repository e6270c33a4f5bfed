"""Score coded incidents against a gold set, exactly as ``../shared/tools/score_incidents.py`` does.

``score`` re-implements the shared scorer's definitions (passage-level,
micro-averaged: detect, country, (country, type) pairs, types with macro-F1,
(country, right) pairs, targets, persons with surname matching, and dates at
the gold's precision), so the figures are identical; a test runs both on the
same files. ``evaluate`` codes a gold file's texts with a :class:`Coder`
(reading only ``id``, ``text`` and ``published``) and scores them overall, per
language (the gold's ``lang``) and per type.
"""

from __future__ import annotations

import json
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

from civicwatch.code.coder import Coder, code_document
from civicwatch.errors import ParseError

METRICS = ("detect", "country", "pairs", "types", "rights", "targets", "persons")


def _norm(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return " ".join(s.lower().replace("-", " ").replace("'", "").split())


class _PRF:
    def __init__(self) -> None:
        self.tp = self.fp = self.fn = 0

    def add(self, gold: set[Any], pred: set[Any]) -> None:
        self.tp += len(gold & pred)
        self.fp += len(pred - gold)
        self.fn += len(gold - pred)

    def scores(self) -> dict[str, Any]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"p": round(p, 3), "r": round(r, 3), "f1": round(f, 3), "tp": self.tp, "fp": self.fp, "fn": self.fn}


def _person_match(gold: list[str], pred: list[str]) -> tuple[int, int, int]:
    g = [_norm(x).split() for x in gold if x.strip()]
    p = [_norm(x).split() for x in pred if x.strip()]
    used: set[int] = set()
    tp = 0
    for gi in g:
        for j, pj in enumerate(p):
            if j in used or not gi or not pj:
                continue
            same_last = gi[-1] == pj[-1] or gi[0] == pj[0] and len(gi) == 1
            compatible = set(pj) <= set(gi) or set(gi) <= set(pj)
            if same_last and compatible:
                used.add(j)
                tp += 1
                break
    return tp, len(p) - len(used), len(g) - tp


def _date_agrees(gold: str, pred: str | None) -> bool:
    return bool(pred) and str(pred)[: len(gold)] == gold


def score(gold: dict[str, list[dict[str, Any]]], pred: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Scores of ``pred`` against ``gold`` (both ``{doc id: incidents}``), as the shared scorer computes them."""
    m = {k: _PRF() for k in METRICS}
    per_type: dict[str, _PRF] = defaultdict(_PRF)
    dates_ok = dates_n = 0
    unknown = sorted(set(pred) - set(gold))
    for doc_id, g in gold.items():
        p = pred.get(doc_id, [])
        m["detect"].add({1} if g else set(), {1} if p else set())
        m["country"].add({i.get("country") for i in g}, {i.get("country") for i in p})
        gp = {(i.get("country"), t) for i in g for t in i.get("types", [])}
        pp = {(i.get("country"), t) for i in p for t in i.get("types", [])}
        m["pairs"].add(gp, pp)
        gt = {t for _, t in gp}
        pt = {t for _, t in pp}
        m["types"].add(gt, pt)
        for t in gt | pt:
            per_type[t].add({t} & gt, {t} & pt)
        m["rights"].add({(i.get("country"), r) for i in g for r in i.get("rights", [])},
                        {(i.get("country"), r) for i in p for r in i.get("rights", [])})
        m["targets"].add({t for i in g for t in i.get("targets", [])}, {t for i in p for t in i.get("targets", [])})
        gn = sorted({x for i in g for x in i.get("persons", [])})
        pn = sorted({x for i in p for x in i.get("persons", [])})
        tp, fp, fn = _person_match(gn, pn)
        m["persons"].tp += tp
        m["persons"].fp += fp
        m["persons"].fn += fn
        for gi in g:
            if not gi.get("date"):
                continue
            cands = [pi for pi in p if pi.get("country") == gi.get("country")
                     and set(pi.get("types", [])) & set(gi.get("types", []))]
            if not cands:
                continue
            dates_n += 1
            dates_ok += any(_date_agrees(gi["date"], pi.get("date")) for pi in cands)
    out: dict[str, Any] = {k: v.scores() for k, v in m.items()}
    f1s = [v.scores()["f1"] for v in per_type.values() if v.tp + v.fn > 0]
    out["types"]["macro_f1"] = round(sum(f1s) / len(f1s), 3) if f1s else 0.0
    out["dates"] = {"agree": dates_ok, "of": dates_n, "share": round(dates_ok / dates_n, 3) if dates_n else None}
    out["by_type"] = {t: v.scores() for t, v in sorted(per_type.items())}
    out["documents"] = len(gold)
    if unknown:
        out["ids_not_in_gold"] = len(unknown)
    return out


def read_gold(path: Path) -> list[dict[str, Any]]:
    """The gold file's documents (one JSON object per line, each with ``id``)."""
    docs: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ParseError(f"{path}:{n}", f"not JSON: {exc}") from exc
            if not isinstance(obj, dict) or "id" not in obj:
                raise ParseError(f"{path}:{n}", "no 'id'")
            docs.append(obj)
    return docs


def evaluate(gold_path: Path, coder: Coder, *, by_type: bool = True, by_lang: bool = True) -> dict[str, Any]:
    """Code the gold texts (only ``id``, ``text``, ``published`` are read) and score them.

    Returns the scores of :func:`score` plus ``by_lang`` (scores per gold ``lang``) when asked;
    ``by_type`` is dropped from the result when not asked.
    """
    docs = read_gold(Path(gold_path))
    gold = {str(d["id"]): d.get("incidents") or [] for d in docs}
    pred: dict[str, list[dict[str, Any]]] = {}
    for d in docs:
        coded = code_document({"id": d["id"], "text": d.get("text") or "", "published": d.get("published")}, coder)
        pred[str(d["id"])] = coded["incidents"]
    result = score(gold, pred)
    if not by_type:
        result.pop("by_type", None)
    if by_lang:
        langs: dict[str, list[str]] = defaultdict(list)
        for d in docs:
            langs[str(d.get("lang") or "und")].append(str(d["id"]))
        result["by_lang"] = {}
        for lang, ids in sorted(langs.items()):
            part = score({i: gold[i] for i in ids}, {i: pred[i] for i in ids})
            part.pop("by_type", None)
            result["by_lang"][lang] = part
    result["coder_version"] = coder.version
    return result
