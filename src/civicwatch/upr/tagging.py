"""Civic-space themes of a recommendation, found with the coder's own cues and Lexicon.

>>> sorted(ThemeTagger().themes("Guarantee freedom of peaceful assembly and release detained journalists."))
['assembly', 'journalists']
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

from civicwatch.code.codebook import load_codebook
from civicwatch.code.lexicon import Entry, Lexicon

KIND = "upr_theme"


def theme_data() -> dict[str, dict[str, Any]]:
    """The themes data file (``upr/themes.toml``): ``{theme: {"cues", "en", "incident_types"}}``."""
    text = (resources.files("civicwatch") / "upr" / "themes.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _add_section(lexicon: Lexicon, entry: Entry, section: dict[str, Any]) -> None:
    """Add a codebook section's phrases as the coder does (lists per language; verbs x objects)."""
    for key, value in section.items():
        if isinstance(value, list):
            lexicon.add_all(value, entry)
        elif key == "verbs" and isinstance(value, dict):
            objects = section.get("objects", {})
            for lang, verbs in value.items():
                for verb in verbs:
                    for obj in objects.get(lang, []):
                        lexicon.add(f"{verb} ~ {obj}", entry)
                        lexicon.add(f"{obj} ~ {verb}", entry)


class ThemeTagger:
    """Tags recommendation texts with themes; the codebook sections named in ``themes.toml`` plus its phrasings."""

    def __init__(self) -> None:
        codebook, _digest = load_codebook()
        self.data = theme_data()
        self.lexicon = Lexicon()
        for theme, spec in self.data.items():
            entry = Entry(KIND, theme)
            for ref in spec.get("cues", []):
                file, _, label = ref.partition(".")
                if file not in codebook or label not in codebook[file]:
                    raise ValueError(f"upr/themes.toml: theme {theme!r} names unknown codebook cues {ref!r}")
                _add_section(self.lexicon, entry, codebook[file][label])
            self.lexicon.add_all(spec.get("en", []), entry)
        self.lexicon.build()

    def themes(self, text: str) -> set[str]:
        """The themes whose cues occur in ``text``."""
        return {hit.label for hit in self.lexicon.scan(text) if hit.kind == KIND}

    def incident_types(self, theme: str) -> list[str]:
        """The codebook incident types whose events are evidence for ``theme``."""
        return list(self.data.get(theme, {}).get("incident_types", []))

    def evidence_matches(self, theme: str, types: set[str], targets: set[str]) -> bool:
        """Whether an event of these incident types and targets is evidence for ``theme``."""
        spec = self.data.get(theme, {})
        if not types.intersection(spec.get("incident_types", [])):
            return False
        wanted = spec.get("incident_targets")
        return not wanted or bool(targets.intersection(wanted))


@lru_cache(maxsize=1)
def tagger() -> ThemeTagger:
    """One shared tagger (building the automaton takes a moment)."""
    return ThemeTagger()
