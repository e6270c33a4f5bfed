"""Turn report text into codebook incidents (``../shared/spec/codebook.md``, version 1.3).

The pipeline, per document:

1. one scan of the folded text with a single phrase automaton finds every
   cue (types, targets, perpetrators, modality), place and venue;
2. the text is split into sentences; dates are found and resolved;
3. per sentence, type cues that a call, hypothetical, denial, negation or
   statistic governs are dropped (no incident);
4. each remaining act takes the sentence's targets, perpetrators, people,
   the nearest date and the country of the sentence's place (else the
   document's main country); acts of one sentence with the same date are
   one incident (protests stay separate, as in the codebook's examples);
5. targets get type defaults, rights are derived by the codebook's rules,
   identical incidents are merged, and each gets its evidence span and a
   confidence.

Everything the coder knows is in ``civicwatch/codebook/*.toml``.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from civicwatch.code.codebook import load_codebook, package_data_hash
from civicwatch.code.dates import DateFinder, DateSpan
from civicwatch.code.lexicon import Entry, Hit, Lexicon, fold
from civicwatch.code.people import NameFinder
from civicwatch.code.places import add_places, generated_places
from civicwatch.code.sentences import SentenceSplitter
from civicwatch.model import Incident

_T = TypeVar("_T")

METHOD_VERSION = 1  # bump when the method (this code) changes in a way that changes output

TYPE_ORDER = (
    "detention", "prosecution", "imprisonment", "harassment", "attack", "travel_ban", "protest_restriction",
    "restrictive_law", "censorship", "cso_restriction", "forced_labour", "release", "legal_remedy",
    "positive_reform", "protest",
)
TARGET_ORDER = (
    "hrd", "journalist", "blogger", "protester", "cso", "lawyer", "trade_unionist", "opposition", "lgbti",
    "religious", "worker", "public",
)
PERPETRATOR_ORDER = (
    "police", "security_services", "judiciary", "executive", "legislature", "military", "non_state", "unknown",
)
RIGHT_ORDER = ("association", "assembly", "expression")

# Targets that only make sense for some types (a "worker" is one forced to work).
_TARGET_TYPES = {
    "worker": {"forced_labour", "positive_reform"},
    "public": {"censorship", "restrictive_law", "positive_reform", "legal_remedy"},
}
_DEFAULT_TARGETS = {
    "protest": ["protester"],
    "protest_restriction": ["protester"],
    "forced_labour": ["worker"],
    "cso_restriction": ["cso"],
    "restrictive_law": ["public"],
    "censorship": ["journalist"],
}
# Acts in a relative clause are reported as having happened even inside a call ("release X, who was detained").
_RELATIVE = re.compile(
    r"\b(?:who|which|qui|quien|quienes|который|которая|которые|которого|которых)\s+"
    r"(?:was|were|had|has|have|a|ont|avait|fue|fueron|había|был|была|были)?[\w\s]{0,20}$"
)
_EXPRESSION_TOPIC = re.compile(
    r"(?:speech|expression|publi|post|facebook|social media|internet|online|media|press|news|information|"
    r"fake|false|insult|defam|propaganda|report|article|video|tweet|book|слов|публикац|пост|информац|фейк|"
    r"expresión|información|noticias|publicaci|parole|information|publication|fausses)"
)


@dataclass
class _Act:
    types: set[str]
    start: int
    end: int
    weight: float


def _ordered(values: set[str], order: tuple[str, ...]) -> list[str]:
    return [v for v in order if v in values] + sorted(v for v in values if v not in order)


class Coder:
    """Codes texts into incidents with the data in ``civicwatch/codebook`` (``codebook_dir`` overrides it)."""

    def __init__(self, codebook_dir: Path | None = None) -> None:
        data, digest = load_codebook(codebook_dir)
        self.data_hash = digest
        self.version = f"{METHOD_VERSION}.{digest}"
        self.lexicon = Lexicon()
        for kind, file in (("type", "types"), ("target", "targets"), ("perpetrator", "perpetrators"),
                           ("modality", "modality")):
            for label, langs in data[file].items():
                self._add_cues(kind, label, langs)
        add_places(self.lexicon, data["places"], generated_places())
        self.lexicon.build()
        abbreviations = [a for words in data["abbreviations"].values() for a in words]
        self.splitter = SentenceSplitter(abbreviations)
        self.dates = DateFinder(data["dates"])
        self.names = NameFinder(data["names"])

    def _add_cues(self, kind: str, label: str, langs: dict[str, Any]) -> None:
        for key, value in langs.items():
            if isinstance(value, list):
                for phrase in value:
                    self.lexicon.add(phrase, Entry("null" if label == "null" else kind, label))
            elif key in ("verbs",) and isinstance(value, dict):
                objects = langs.get("objects", {})
                for lang, verbs in value.items():
                    for verb in verbs:
                        for obj in objects.get(lang, []):
                            self.lexicon.add(f"{verb} ~ {obj}", Entry(kind, label))
                            self.lexicon.add(f"{obj} ~ {verb}", Entry(kind, label))

    # -- the pipeline -------------------------------------------------------------------------------

    def code(self, text: str, published: str | None = None, lang: str | None = None) -> list[Incident]:
        """The incidents ``text`` reports. ``published`` (ISO date) anchors relative dates.

        ``lang`` is accepted for the interface; cues of every supported language are matched at once.
        """
        if not text or not text.strip():
            return []
        folded = fold(text)
        hits = _resolve_overlaps(self.lexicon.scan(text, folded))
        sentences = self.splitter.spans(text)
        dates = [d for d in self.dates.find(text, published, folded) if not _dateline_date(text, d)]
        places = _places(text, hits)
        main_country = self._main_country(text, places)
        incidents: list[Incident] = []
        by_sentence: list[tuple[int, list[Incident]]] = []
        orphans: list[tuple[int, list[str]]] = []
        idx = 0
        ordered = [h for h in hits if h.kind not in ("place", "venue")]
        place_starts = [h.start for h in places]
        starts = [h.start for h in ordered]
        date_starts = [d.start for d in dates]
        for n, (s_start, s_end) in enumerate(sentences):
            while idx < len(ordered) and ordered[idx].start < s_start:
                idx += 1
            j = idx
            sent_hits: list[Hit] = []
            while j < len(ordered) and ordered[j].start < s_end:
                if ordered[j].end <= s_end:
                    sent_hits.append(ordered[j])
                j += 1
            sent_places = _within(places, place_starts, s_start, s_end)
            found: list[Incident] = []
            if any(h.kind == "type" for h in sent_hits):
                sent_dates = _within(dates, date_starts, s_start, s_end)
                if not sent_dates and n > 0:
                    # Narrative continuity: "Days later, he was arrested." takes the previous sentence's date.
                    sent_dates = _within(dates, date_starts, sentences[n - 1][0], sentences[n - 1][1])[-1:]
                # Who was affected is often said in the next or previous sentence ("She is a journalist.").
                lo_n, hi_n = max(0, n - 1), min(n + 1, len(sentences) - 1)
                around = _within(ordered, starts, sentences[lo_n][0], sentences[hi_n][1])
                nearby = [h for h in around if h.kind == "target" and not s_start <= h.start < s_end]
                found = self._code_sentence(text, folded, s_start, s_end, sent_hits, sent_places, sent_dates,
                                            main_country, nearby)
            if found:
                by_sentence.append((n, found))
                incidents.extend(found)
            elif any(h.kind == "target" for h in sent_hits) or not sent_hits:
                # Names listed apart from the act ("The others released are X, Y and Z.").
                blocked = _name_blockers(sent_places)
                names = [p.text for p in self.names.persons(text, folded, s_start, s_end, blocked)]
                if names:
                    orphans.append((n, names))
        _attach_orphans(by_sentence, orphans)
        _dedupe_persons(incidents)
        return _merge(incidents)

    def _main_country(self, text: str, places: list[Hit]) -> str | None:
        """The country the document is mostly about: the most weight of place mentions, the first on ties."""
        counts: dict[str, float] = defaultdict(float)
        first: dict[str, int] = {}
        for h in places:
            if h.kind != "place" or _weak_place(text, h):
                continue
            counts[h.label] += h.weight
            first.setdefault(h.label, h.start)
        if not counts:
            for h in places:  # only a dateline, a destination or a venue: better than nothing
                if h.kind == "place":
                    return h.label
            return None
        return max(counts, key=lambda c: (counts[c], -first[c]))

    def _code_sentence(
        self,
        text: str,
        folded: str,
        s_start: int,
        s_end: int,
        hits: list[Hit],
        places: list[Hit],
        dates: list[DateSpan],
        main_country: str | None,
        nearby_targets: list[Hit],
    ) -> list[Incident]:
        acts = self._acts(folded, s_start, hits)
        if not acts:
            return []
        blocked = _name_blockers(places)
        persons = self.names.persons(text, folded, s_start, s_end, blocked)
        sent_dates = dates
        if any(h.kind == "modality" and h.label == "generic" for h in hits) and not persons and not sent_dates:
            return []
        country = self._sentence_country(text, places, main_country)
        if country is None:
            return []
        targets = [h for h in hits if h.kind == "target"]
        perps = [h for h in hits if h.kind == "perpetrator"]
        has_protest_cue = any("protest" in a.types for a in acts) or any(h.label == "protester" for h in targets)
        groups: dict[tuple[str | None, bool], list[_Act]] = {}
        for act in acts:
            when = _nearest_date(sent_dates, act)
            groups.setdefault((when, "protest" in act.types), []).append(act)
        out: list[Incident] = []
        for (when, _is_protest), group in groups.items():
            types = set().union(*(a.types for a in group))
            lo = min(a.start for a in group)
            hi = max(a.end for a in group)
            near = {h.label for h in targets if h.start > lo - 150 and h.end < hi + 150}
            if not near:
                near = {h.label for h in nearby_targets if h.label not in ("public", "worker")}
            if has_protest_cue and types & {"detention", "attack"}:
                near.add("protester")
            if "imprisonment" in types and "prosecution" in types:
                types = types - {"prosecution"}  # the charges of a reported sentence are its background
            who = {h.label for h in perps if h.start > lo - 200 and h.end < hi + 120}
            types = self._resolve_org_ban(types, near)
            if not types:
                continue
            inc_targets = self._targets(types, near, folded[s_start:s_end])
            names = [p.text for p in persons] if types != {"protest"} else []
            orgs = []
            if inc_targets & {"cso", "journalist", "trade_unionist", "opposition"}:
                orgs = [o.text for o in self.names.organisations(text, folded, s_start, s_end)]
            e_lo, e_hi = lo, hi
            for p in persons:
                e_lo, e_hi = min(e_lo, p.start), max(e_hi, p.end)
            e_lo, e_hi = _trim(text, max(e_lo, s_start), min(e_hi, s_end))
            weight = max(a.weight for a in group)
            confidence = 0.45 + 0.1 * bool(places) + 0.1 * bool(when) + 0.1 * bool(names) + 0.1 * bool(near)
            confidence = min(0.95, confidence + 0.05 * bool(who)) * weight
            out.append(
                Incident(
                    country=country,
                    types=_ordered(types, TYPE_ORDER),
                    rights=_ordered(_rights(types, inc_targets, folded[s_start:s_end]), RIGHT_ORDER),
                    targets=_ordered(inc_targets, TARGET_ORDER),
                    persons=names,
                    organisations=orgs,
                    perpetrators=_ordered(self._perpetrators(types, who), PERPETRATOR_ORDER),
                    date=when,
                    evidence=text[e_lo:e_hi],
                    confidence=round(confidence, 2),
                    evidence_start=e_lo,
                    evidence_end=e_hi,
                )
            )
        return out

    def _acts(self, folded: str, s_start: int, hits: list[Hit]) -> list[_Act]:
        """Type cues of the sentence that are not governed by a modality cue."""
        modal = [h for h in hits if h.kind == "modality"]
        if any(h.label == "statistic" for h in modal):
            return []
        blockers = [h for h in modal if h.label in ("call", "hypothetical", "denial")]
        negations = [h for h in modal if h.label == "negation"]
        acts: list[_Act] = []
        for h in hits:
            if h.kind != "type":
                continue
            before = folded[max(s_start, h.start - 40):h.start]
            relative = bool(_RELATIVE.search(before))
            if not relative and any(b.start < h.end - 1 for b in blockers):
                continue
            if any(0 <= h.start - n.end <= 25 and _words_between(folded, n.end, h.start) <= 2 for n in negations):
                continue
            if acts and acts[-1].start == h.start:
                acts[-1].types.add(h.label)
                continue
            acts.append(_Act({h.label}, h.start, h.end, h.weight))
        return acts

    def _sentence_country(self, text: str, places: list[Hit], main: str | None) -> str | None:
        """The sentence's own place if it names one (the main country first), else the document's."""
        strong = [h for h in places if h.kind == "place" and not _weak_place(text, h)]
        if not strong:
            return main
        if main in {h.label for h in strong}:
            return main
        weight: dict[str, float] = defaultdict(float)
        for h in strong:
            weight[h.label] += h.weight
        return max(weight, key=lambda c: weight[c])

    @staticmethod
    def _resolve_org_ban(types: set[str], targets: set[str]) -> set[str]:
        if "org_ban" not in types:
            return types
        types = set(types) - {"org_ban"}
        if "journalist" in targets or "censorship" in types:
            types.add("censorship")
        else:
            types.add("cso_restriction")
        return types

    @staticmethod
    def _targets(types: set[str], near: set[str], sentence: str) -> set[str]:
        out = {t for t in near if t not in _TARGET_TYPES or _TARGET_TYPES[t] & types}
        if types == {"protest"}:
            return {"protester"}
        for t in types:
            if t in _DEFAULT_TARGETS and not (out - {"protester"} if t.startswith("protest") else out):
                default = _DEFAULT_TARGETS[t]
                if t == "censorship" and ("internet" in sentence or "интернет" in sentence):
                    default = ["public"]
                out.update(default)
        if "protest_restriction" in types:
            out.add("protester")
        return out

    @staticmethod
    def _perpetrators(types: set[str], who: set[str]) -> set[str]:
        """Who acted: the sentence's actors, with the codebook's defaults (a sentence is a court's act)."""
        if types == {"protest"}:
            return set()
        out = set(who)
        if types & {"imprisonment", "legal_remedy"} and not out & {"judiciary", "executive"}:
            out.add("judiciary")
        # A court named beside an arrest or a beating is background, not the actor.
        if "judiciary" in out and len(out) > 1 and types <= {"detention", "attack", "protest_restriction"}:
            out.discard("judiciary")
        return out


def _rights(types: set[str], targets: set[str], sentence: str) -> set[str]:
    """Derive the freedoms at stake by the codebook's rules."""
    rights: set[str] = set()
    if types & {"protest", "protest_restriction"} or "protester" in targets:
        rights.add("assembly")
    if types & {"cso_restriction", "forced_labour"} or targets & {"cso", "trade_unionist", "opposition", "religious"}:
        rights.add("association")
    if "censorship" in types or targets & {"journalist", "blogger"}:
        rights.add("expression")
    if targets & {"hrd", "lawyer", "lgbti"}:
        rights.update({"association", "expression"})
    public_rule = types & {"restrictive_law", "positive_reform", "legal_remedy"} and "public" in targets
    if public_rule and _EXPRESSION_TOPIC.search(sentence):
        rights.add("expression")
    if not rights and types & {"restrictive_law", "positive_reform"}:
        rights.add("association")
    repression = types & {"detention", "prosecution", "imprisonment", "harassment", "attack"}
    if not rights and repression and _EXPRESSION_TOPIC.search(sentence):
        rights.add("expression")
    return rights


def _resolve_overlaps(hits: list[Hit]) -> list[Hit]:
    """Drop cue hits lying strictly inside a longer hit of the same family (longest match wins)."""
    families = {"type": 0, "null": 0, "target": 1, "perpetrator": 1}
    out: list[Hit] = []
    reach: dict[int, tuple[int, int]] = {}  # family -> (start, end) of the longest hit seen so far
    for h in hits:  # sorted by start, longest first
        fam = families.get(h.kind)
        if fam is None:
            out.append(h)
            continue
        cur = reach.get(fam)
        if cur and h.start >= cur[0] and h.end <= cur[1] and (h.end - h.start) < (cur[1] - cur[0]):
            continue
        if not cur or h.end > cur[1]:
            reach[fam] = (h.start, h.end)
        out.append(h)
    return [h for h in out if h.kind != "null"]


def _places(text: str, hits: list[Hit]) -> list[Hit]:
    """Place hits, one per position (the curated reading wins), leaving out parts of compounds."""
    best: dict[int, Hit] = {}
    for h in hits:
        if h.kind not in ("place", "venue"):
            continue
        if text[h.end:h.end + 1] == "-" and text[h.end + 1:h.end + 2].isalpha():
            continue  # "Китай-город", "Poland-based": part of another word
        old = best.get(h.start)
        if old is None or (h.weight, h.end - h.start) > (old.weight, old.end - old.start):
            best[h.start] = h
    return [best[k] for k in sorted(best)]


_FROM_OR_TO = re.compile(r"(?:\b(?:to|into|from|vers|hacia|desde)|(?<!\w)из)\s+(?:the\s+)?$", re.IGNORECASE)


def _weak_place(text: str, h: Hit) -> bool:
    """A place that says where a report was written or where someone went, not where the incident happened."""
    return _in_dateline(text, h) or _based(text, h) or bool(_FROM_OR_TO.search(text, max(0, h.start - 12), h.start))


def _in_dateline(text: str, h: Hit) -> bool:
    """A place in the dateline ("(Berlin) –", "WASHINGTON –") says where the report was written."""
    if h.start > 40:
        return False
    after = text[h.end:h.end + 4]
    head = text[:h.start].strip("( \n")
    return (not head or head.isupper()) and bool(re.match(r"\)?\s*[–—-]|\)|\.\s*\d|,\s*\d", after))


_DATELINE_HEAD = re.compile(r"^\W*(?:[A-ZА-ЯЁ][\w'’-]*[\s,./()-]*){0,4}$")
_DATELINE_TAIL = re.compile(r"^\s*(?:[-–—).:]|,?\s*\d{1,2}:\d{2})")


def _dateline_date(text: str, d: DateSpan) -> bool:
    """A date in the dateline ("Johannesburg. 16 March 2010." , "(Bangkok, 23 June 2020) –") is the report's
    own date, not an incident's."""
    if d.start > 60:
        return False
    return bool(_DATELINE_HEAD.match(text[:d.start])) and bool(_DATELINE_TAIL.match(text[d.end:d.end + 8]))


def _based(text: str, h: Hit) -> bool:
    """ "Poland-based", "based in Geneva": where an organisation sits, not where the incident happened."""
    return text[h.end:h.end + 6].lower() == "-based" or text[max(0, h.start - 9):h.start].lower() == "based in "


def _words_between(folded: str, a: int, b: int) -> int:
    return len(folded[a:b].split())


def _nearest_date(dates: list[DateSpan], act: _Act) -> str | None:
    best: tuple[int, str] | None = None
    for d in dates:
        dist = act.start - d.end if d.end <= act.start else d.start - act.end if d.start >= act.end else 0
        dist = max(dist, 0) + (0 if d.end <= act.start else 5)  # a date before the act reads as its date
        if best is None or dist < best[0]:
            best = (dist, d.value)
    return best[1] if best else None


def _trim(text: str, lo: int, hi: int) -> tuple[int, int]:
    while lo < hi and not text[lo].isalnum():
        lo += 1
    while hi > lo and not (text[hi - 1].isalnum() or text[hi - 1] in ".)»\"”"):
        hi -= 1
    return lo, hi


def _name_blockers(places: list[Hit]) -> set[int]:
    """Positions of curated place names, which cannot be part of a person's name (generated city names can:
    "Guadalupe" is a city and a first name)."""
    return {i for h in places if h.weight > 1.0 for i in range(h.start, h.end)}


def _within(items: list[_T], starts: list[int], lo: int, hi: int) -> list[_T]:
    """The items (sorted by start) that start in ``[lo, hi)``, found by bisection."""
    return items[bisect_left(starts, lo):bisect_left(starts, hi)]


def _attach_orphans(by_sentence: list[tuple[int, list[Incident]]], orphans: list[tuple[int, list[str]]]) -> None:
    """Give names found outside any act's sentence to the incidents of the closest preceding act."""
    if not by_sentence:
        return
    numbers = [m for m, _ in by_sentence]
    for n, names in orphans:
        i = bisect_left(numbers, n)
        group = by_sentence[i - 1][1] if i > 0 else by_sentence[0][1]
        target = next((inc for inc in group if inc.types != ["protest"]), group[0])
        seen = set(target.persons)
        target.persons.extend(x for x in names if x not in seen)


def _dedupe_persons(incidents: list[Incident]) -> None:
    """Prefer the fullest form of a name: "Santos Brito" gives way to "Nazildo dos Santos Brito"."""
    names = {p for inc in incidents for p in inc.persons}
    by_token: dict[str, list[str]] = {}
    for p in names:
        for tok in set(fold(p).split()):
            by_token.setdefault(tok, []).append(p)
    fullest: dict[str, str] = {}
    for p in names:
        toks = set(fold(p).split())
        # Only names sharing p's rarest token can contain it: no all-pairs comparison.
        pool = min((by_token[t] for t in toks), key=len, default=[])
        longer = [q for q in pool if q != p and toks < set(fold(q).split())]
        fullest[p] = max(longer, key=len) if longer else p
    for inc in incidents:
        inc.persons = list(dict.fromkeys(fullest[p] for p in inc.persons))


def _merge(incidents: list[Incident]) -> list[Incident]:
    """One incident per (country, types, date): later mentions add targets, people and actors."""
    out: dict[tuple[str, tuple[str, ...], str | None], Incident] = {}
    for inc in incidents:
        key = (inc.country, tuple(inc.types), inc.date)
        old = out.get(key)
        if old is None:
            out[key] = inc
            continue
        old.targets = _ordered(set(old.targets) | set(inc.targets), TARGET_ORDER)
        old.rights = _ordered(set(old.rights) | set(inc.rights), RIGHT_ORDER)
        old.perpetrators = _ordered(set(old.perpetrators) | set(inc.perpetrators), PERPETRATOR_ORDER)
        old.persons = list(dict.fromkeys(old.persons + inc.persons))
        old.organisations = list(dict.fromkeys(old.organisations + inc.organisations))
        old.confidence = max(old.confidence, inc.confidence)
        if len(inc.evidence) < len(old.evidence):
            old.evidence, old.evidence_start, old.evidence_end = inc.evidence, inc.evidence_start, inc.evidence_end
    return list(out.values())


def code_document(obj: dict[str, Any], coder: Coder) -> dict[str, Any]:
    """Code one input document (``id``, ``text``, optional ``published``, ``lang``) into the output line."""
    text = obj.get("text") or ""
    incidents = coder.code(str(text), obj.get("published"), obj.get("lang"))
    return {"id": obj.get("id"), "incidents": [i.to_json() for i in incidents]}


CODER_VERSION: str = f"{METHOD_VERSION}.{package_data_hash()}"
