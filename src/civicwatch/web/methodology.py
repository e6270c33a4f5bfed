"""The methodology page's content: the codebook in readable form, from the data files the coder itself uses.

The identifiers, their order and every cue come from ``civicwatch.code`` (``TYPE_ORDER`` and friends,
``load_codebook()``); only the one-line definitions below are written here, paraphrasing the codebook
(``spec/codebook.md``, version 1.3). A test checks that every identifier the coder can emit has one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from civicwatch.code.codebook import load_codebook
from civicwatch.code.coder import METHOD_VERSION, PERPETRATOR_ORDER, RIGHT_ORDER, TARGET_ORDER, TYPE_ORDER

CODEBOOK_VERSION = "1.3"
EXAMPLE_CUES = 8  # cues shown per language; the page links nowhere else, so it stays readable
LANGUAGES = {"en": "English", "fr": "French", "es": "Spanish", "ru": "Russian", "pt": "Portuguese"}

DEFINITIONS: dict[str, str] = {
    # types: violations
    "detention": "A person is arrested, detained, abducted, held incommunicado, put under house arrest "
                 "or forcibly disappeared.",
    "prosecution": "Criminal or administrative proceedings are opened or pursued: charges, a criminal case, "
                   "an indictment, a trial, a fine for exercising a freedom.",
    "imprisonment": "A person is convicted and sentenced to prison, forced psychiatric treatment or restricted "
                    "freedom, or remains imprisoned.",
    "harassment": "Intimidation short of physical violence: threats, surveillance, summons, searches and raids, "
                  "smear campaigns, dismissal, pressure on relatives, reprisals.",
    "attack": "Physical violence against a person: assault, torture or ill-treatment, killing or attempted killing.",
    "travel_ban": "A person is stopped from leaving or entering a country, deported, or has documents withheld.",
    "protest_restriction": "An assembly is banned, prevented, dispersed or met with excessive force.",
    "restrictive_law": "A law, decree, regulation or court doctrine restricting a freedom is adopted, proposed "
                       "or enforced as a new rule.",
    "censorship": "Expression is blocked or removed: websites or platforms blocked, internet shutdowns, outlets "
                  "closed or suspended, publications banned, accreditation withdrawn.",
    "cso_restriction": "An organisation's existence or work is restricted: registration denied, liquidation, "
                       "forced closure, funding cut off, intrusive inspections.",
    "forced_labour": "State-imposed forced or child labour, including forced mobilisation for harvests.",
    # types: positive developments
    "release": "A detained or imprisoned person is released or pardoned, or the sentence is suspended or commuted.",
    "legal_remedy": "A judicial or official remedy: acquittal, charges dropped, rehabilitation, compensation, "
                    "perpetrators held to account.",
    "positive_reform": "A restriction is lifted or a protection adopted: a law repealed or improved, registration "
                       "granted, a ban lifted, decriminalisation.",
    # types: other
    "protest": "A protest, demonstration, strike or other public assembly took place, restricted or not.",
    # targets
    "hrd": "Human rights defenders and civil society activists.",
    "journalist": "Journalists, editors, media workers and media outlets.",
    "blogger": "Bloggers, online commentators, social media users punished for posts.",
    "protester": "Participants in an assembly.",
    "cso": "Civil society organisations as organisations: NGOs, associations, foundations.",
    "lawyer": "Lawyers, including those defending activists.",
    "trade_unionist": "Trade union leaders and members, labour activists.",
    "opposition": "Opposition politicians, parties, candidates and their supporters.",
    "lgbti": "LGBTI people and groups.",
    "religious": "Believers and religious groups punished for their faith or its expression.",
    "worker": "Workers subjected to forced labour.",
    "public": "The general public (a nationwide shutdown, a law affecting everyone).",
    # perpetrators
    "police": "Police and other law enforcement.",
    "security_services": "Intelligence and national security services, generic \"security forces\".",
    "judiciary": "Courts and prosecutors.",
    "executive": "Government, president, ministries, local governors.",
    "legislature": "Parliaments and their members.",
    "military": "The army and named soldiers.",
    "non_state": "Private persons, companies, armed groups.",
    "unknown": "Actors the text itself calls unknown or unidentified.",
    # rights
    "association": "Freedom of association.",
    "assembly": "Freedom of peaceful assembly.",
    "expression": "Freedom of expression.",
}

# The coder's rules for deriving rights (``civicwatch.code.coder._rights``), as sentences.
RIGHTS_RULES = (
    "assembly: protests and protest restrictions, and any incident whose target is a protester.",
    "association: CSO restrictions and forced labour, and incidents whose target is a CSO, a trade unionist, "
    "the opposition or a religious group.",
    "expression: censorship, and incidents whose target is a journalist or a blogger.",
    "Incidents against human rights defenders, lawyers or LGBTI people: association and expression.",
    "Laws, reforms and remedies affecting the public: expression when the sentence is about speech, media, "
    "publication or information; otherwise a restrictive law or reform concerns association.",
    "Detention, prosecution, imprisonment, harassment or attacks with no right found yet: expression when the "
    "sentence is about speech, posts, media or publications.",
)


@dataclass(frozen=True)
class Entry:
    """One codebook identifier: its definition and example cues by language code (``LANGUAGES``)."""

    id: str
    definition: str
    cues: dict[str, list[str]]
    cue_count: int


@dataclass(frozen=True)
class Places:
    """The curated place names: how many countries, and each with its number of names and cities."""

    countries: list[tuple[str, int]]  # (ISO code, names + demonyms + cities)
    venues: list[str]


@dataclass(frozen=True)
class Methodology:
    """Everything the about page shows."""

    codebook_version: str
    coder_version: str
    types: list[Entry]
    targets: list[Entry]
    perpetrators: list[Entry]
    rights: list[Entry]
    rights_rules: tuple[str, ...]
    places: Places
    languages: dict[str, str]


def _cue_text(cue: str) -> str:
    """A cue as a reader reads it: "a ~ b" is "a … b", a trailing * is "…" (the word may go on)."""
    return cue.replace(" ~ ", " … ").replace("*", "…")


def _entry(identifier: str, table: dict[str, Any]) -> Entry:
    cues: dict[str, list[str]] = {}
    count = 0
    for code in LANGUAGES:
        values = [v for v in table.get(code, []) if isinstance(v, str)]
        count += len(values)
        if values:
            cues[code] = [_cue_text(v) for v in values[:EXAMPLE_CUES]]
    return Entry(id=identifier, definition=DEFINITIONS.get(identifier, ""), cues=cues, cue_count=count)


@functools.cache
def methodology() -> Methodology:
    """The codebook as the packaged data files define it (read once per process)."""
    data, digest = load_codebook(None)
    places = data["places"]
    countries = sorted(
        (code, sum(len(places[code].get(key, [])) for key in ("names", "demonyms", "cities")))
        for code in places
        if len(code) == 2 and code.isupper() and isinstance(places[code], dict)
    )
    return Methodology(
        codebook_version=CODEBOOK_VERSION,
        coder_version=f"{METHOD_VERSION}.{digest}",
        types=[_entry(t, data["types"].get(t, {})) for t in TYPE_ORDER],
        targets=[_entry(t, data["targets"].get(t, {})) for t in TARGET_ORDER],
        perpetrators=[_entry(p, data["perpetrators"].get(p, {})) for p in PERPETRATOR_ORDER],
        rights=[Entry(id=r, definition=DEFINITIONS[r], cues={}, cue_count=0) for r in RIGHT_ORDER],
        rights_rules=RIGHTS_RULES,
        places=Places(countries=countries, venues=list(places.get("venues", {}).get("names", []))),
        languages=dict(LANGUAGES),
    )
