"""Country briefs: a country's civic space since a date, as Markdown, HTML or PDF, with numbered citations.

``gather`` reads everything through the store's public functions (the public-visibility rule of
``store/browse.py`` applies); ``markdown``, ``html`` and ``pdf`` render it. HTML and PDF share one Jinja2
template (``publish/templates/brief.html``); the PDF is headless chromium's print of that HTML.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from civicwatch import __version__
from civicwatch.errors import UsageError
from civicwatch.model import Incident
from civicwatch.store import Store, browse, ratings, upr
from civicwatch.store.browse import IncidentFilters
from civicwatch.web.render import country_name

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-pdf-header-footer")
PDF_TIMEOUT_S = 120
SENTENCE_MAX = 600  # longer "sentences" (a list, a table) fall back to the coder's evidence span
PAGE = 200  # the most browse.incident_page gives at once
# Incident types shown as restrictive laws (the codebook's legal-restriction type), and as deprivation of liberty.
LAW_TYPES = ("restrictive_law",)
LIBERTY_TYPES = ("detention", "imprisonment")
TYPE_ORDER = ("detention", "imprisonment", "prosecution", "harassment", "attack", "travel_ban", "protest_restriction",
              "censorship", "cso_restriction", "restrictive_law", "forced_labour", "release", "legal_remedy",
              "positive_reform")
STATUS_LABELS = {"not_implemented": "not implemented", "partially": "partially implemented",
                 "fully": "fully implemented", None: "not assessed"}


@dataclass(frozen=True)
class Citation:
    """A stored source a brief cites: its number in the brief, title, URL and date."""

    number: int
    title: str
    url: str | None
    date: str | None


@dataclass(frozen=True)
class BriefEvent:
    """An event in the brief (its incidents merged), with the citations of its sources."""

    date: str | None
    types: tuple[str, ...]
    evidence: str
    persons: tuple[str, ...]
    citations: tuple[int, ...]


@dataclass
class Brief:
    """Everything a country brief says."""

    country: str
    name: str
    since: str
    generated: str
    rating: Any | None  # store.ratings.RatingSummary
    history: list[tuple[str, int, str]]
    events_by_type: dict[str, list[BriefEvent]]
    laws: list[BriefEvent]
    detained: list[dict[str, Any]]
    detained_source: str  # "registry" (connect team's cases) or "events"
    upr_counts: dict[str, int]
    upr_by_theme: dict[str, list[upr.StoredRecommendation]]
    citations: list[Citation] = field(default_factory=list)
    event_count: int = 0


def _incidents(store: Store, country: str, since: str) -> list[Incident]:
    found: list[Incident] = []
    cursor: str | None = None
    while True:
        page, cursor = browse.incident_page(store, IncidentFilters(country=country, date_from=since),
                                            cursor=cursor, limit=PAGE)
        found.extend(page)
        if cursor is None or not page:
            return found


def gather(store: Store, country: str, since: str) -> Brief:
    """Collect a country's brief: rating, events by type, restrictive laws, detained persons, UPR status."""
    code = country.strip().upper()
    if country_name(code) == code:
        raise UsageError(country, "not an ISO 3166-1 alpha-2 country code")
    try:
        datetime.strptime(since, "%Y-%m-%d")
    except ValueError:
        raise UsageError(since, "--since must be a date, YYYY-MM-DD") from None
    incidents = _incidents(store, code, since)
    documents = browse.documents_by_id(store, [i.document_id for i in incidents if i.document_id])
    citations: dict[int, Citation] = {}

    def cite(document_id: int | None) -> tuple[int, ...]:
        if document_id is not None and document_id not in documents:
            documents.update(browse.documents_by_id(store, [document_id]))  # a registry step's older source
        if document_id is None or document_id not in documents:
            return ()
        if document_id not in citations:
            doc = documents[document_id]
            citations[document_id] = Citation(len(citations) + 1, doc.title or doc.url or f"document {document_id}",
                                              doc.url, doc.published[:10] if doc.published else None)
        return (citations[document_id].number,)

    # Incidents of one event become one entry: coalesce(event_id, -id), as everywhere else.
    grouped: dict[int, list[Incident]] = defaultdict(list)
    for inc in sorted(incidents, key=lambda i: (i.date or "", i.id or 0)):
        event_id = getattr(inc, "event_id", None)
        grouped[event_id if event_id is not None else -(inc.id or 0)].append(inc)
    def passage(inc: Incident) -> str:
        """The evidence's whole sentence in its document (a coder's span can be one word: "dispersed")."""
        doc = documents.get(inc.document_id or -1)
        text = doc.text if doc is not None and doc.text else ""
        if not text or text[inc.evidence_start:inc.evidence_end] != inc.evidence:
            return " ".join(inc.evidence.split())
        # A sentence ends at ". " or at a blank line (a wrapped line inside a paragraph is no boundary).
        marks = (". ", ".\n", "\n\n")
        starts = [i + len(mark) for mark in marks if (i := text.rfind(mark, 0, inc.evidence_start)) >= 0]
        start = max(starts, default=0)
        # From the evidence's last character: an evidence that ends its sentence ends it here.
        ends = [i for mark in marks if (i := text.find(mark, max(inc.evidence_end - 1, 0))) >= 0]
        end = min(ends) + 1 if ends else len(text)
        sentence = " ".join(text[start:end].split())
        return sentence if len(sentence) <= SENTENCE_MAX else " ".join(inc.evidence.split())

    events: list[BriefEvent] = []
    for members in grouped.values():
        first = members[0]
        numbers = sorted({n for m in members for n in cite(m.document_id)})
        events.append(BriefEvent(first.date, tuple(dict.fromkeys(t for m in members for t in m.types)),
                                 passage(first),
                                 tuple(dict.fromkeys(p for m in members for p in m.persons)),
                                 tuple(numbers)))
    by_type: dict[str, list[BriefEvent]] = {}
    for kind in TYPE_ORDER:
        chosen = [e for e in events if kind in e.types and kind not in LAW_TYPES]
        if chosen:
            by_type[kind] = chosen
    laws = [e for e in events if set(e.types) & set(LAW_TYPES)]
    detained, detained_source = _detained(store, code, events, cite)
    recs = upr.recommendations(store, code)
    upr_by_theme: dict[str, list[upr.StoredRecommendation]] = defaultdict(list)
    for rec in recs:
        for theme in rec.themes:
            upr_by_theme[theme].append(rec)
    counts = {label: 0 for label in STATUS_LABELS.values()}
    for rec in recs:
        if rec.themes:
            counts[STATUS_LABELS[rec.assessment.status if rec.assessment else None]] += 1
    return Brief(
        country=code, name=country_name(code), since=since, generated=datetime.now(UTC).strftime("%Y-%m-%d"),
        rating=ratings.current_ratings(store).get(code), history=ratings.history(store, code),
        events_by_type=by_type, laws=laws, detained=detained, detained_source=detained_source,
        upr_counts=counts, upr_by_theme=dict(upr_by_theme), citations=sorted(citations.values(),
                                                                           key=lambda c: c.number),
        event_count=len(events),
    )


def _detained(
    store: Store, code: str, events: list[BriefEvent], cite: Callable[[int | None], tuple[int, ...]]
) -> tuple[list[dict[str, Any]], str]:
    """Persons detained or imprisoned now: the registry's cases (``store/cases.py``) when it is there, else the
    names in the period's detention and imprisonment events without a later release."""
    try:
        cases = importlib.import_module("civicwatch.store.cases")
    except ModuleNotFoundError:
        cases = None
    if cases is not None and hasattr(cases, "detained_or_imprisoned"):
        rows = []
        for person in cases.detained_or_imprisoned(store, code):
            steps = list(person.steps)
            last = steps[-1] if steps else None
            numbers = sorted({n for s in steps for n in cite(s.document_id)})
            step = "" if last is None or last.step == person.status else f", after: {last.step}"
            rows.append({"name": person.name, "status": person.status + step, "date": last.date if last else None,
                         "citations": tuple(numbers)})
        return rows, "registry"
    latest: dict[str, dict[str, Any]] = {}
    for e in events:  # oldest first: the newest step wins
        if set(e.types) & set(LIBERTY_TYPES):
            step = "imprisoned" if "imprisonment" in e.types else "detained"
            for person in e.persons:
                latest[person] = {"name": person, "status": step, "date": e.date, "citations": e.citations}
        if "release" in e.types:
            for person in e.persons:
                latest.pop(person, None)
    return sorted(latest.values(), key=lambda r: r["name"]), "events"


LABELS = {"cso_registration": "CSO registration", "cso_restriction": "CSO restriction"}


def label(value: object) -> str:
    """A code as a heading: ``cso_registration`` -> "CSO registration", ``travel_ban`` -> "Travel ban"."""
    text = str(value)
    return LABELS.get(text, text.replace("_", " ").capitalize())


def _env() -> Environment:
    env = Environment(loader=PackageLoader("civicwatch.publish", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["label"] = label
    return env


def html(brief: Brief) -> str:
    """The brief as a standalone HTML page (also the PDF's source)."""
    return _env().get_template("brief.html").render(b=brief, statuses=STATUS_LABELS, version=__version__)


def markdown(brief: Brief) -> str:
    """The brief as Markdown, with the same sections and numbered citations as the HTML."""
    def refs(numbers: tuple[int, ...]) -> str:
        return "".join(f"[^{n}]" for n in numbers)

    lines = [f"# {brief.name}: civic space since {brief.since}", "",
             f"*civicwatch country brief, {brief.generated}. {brief.event_count} events recorded since "
             f"{brief.since}.*", "", "## Rating", ""]
    if brief.rating is not None:
        r = brief.rating
        trend = "no trend yet" if r.trend is None else f"{r.trend:+d} points over 3 months"
        lines.append(f"**{r.category.capitalize()}** ({r.score}/100 as of {r.as_of}; {trend}).")
    else:
        lines.append("Not rated yet (`civicwatch rate`).")
    lines += ["", "## Key events by type", ""]
    for kind, events in brief.events_by_type.items():
        lines += [f"### {label(kind)} ({len(events)})", ""]
        lines += [f"- {e.date or 'undated'}: {e.evidence}{refs(e.citations)}" for e in events]
        lines.append("")
    if not brief.events_by_type:
        lines += ["No events recorded in this period.", ""]
    lines += ["## Persons detained or imprisoned", ""]
    lines += [f"- {p['name']}: {p['status']} ({p['date'] or 'undated'}){refs(tuple(p['citations']))}"
              for p in brief.detained] or ["None recorded."]
    lines += ["", "## Restrictive laws", ""]
    lines += [f"- {e.date or 'undated'}: {e.evidence}{refs(e.citations)}" for e in brief.laws] or ["None recorded."]
    lines += ["", "## UPR implementation", ""]
    if brief.upr_by_theme:
        lines.append(", ".join(f"{n} {label}" for label, n in brief.upr_counts.items()) + ".")
        lines += ["", "| theme | recommendation | from | response | status |", "|---|---|---|---|---|"]
        for theme, recs in brief.upr_by_theme.items():
            for rec in recs:
                status = STATUS_LABELS[rec.assessment.status if rec.assessment else None]
                text = rec.text.replace("|", "/")
                lines.append(f"| {label(theme)} | {text} | {rec.recommending_state} | {rec.response} | "
                             f"{status} |")
    else:
        lines.append("No civic-space UPR recommendations imported.")
    lines += ["", "## Sources", ""]
    lines += [f"[^{c.number}]: {c.title}. {c.url or ''} ({c.date or 'undated'})" for c in brief.citations]
    return "\n".join(lines) + "\n"


def pdf(brief: Brief, out: Path, *, chromium: str = CHROMIUM) -> None:
    """Print the brief's HTML to ``out`` with headless chromium (a clear ``UsageError`` when it is missing)."""
    binary = shutil.which(chromium)
    if binary is None:
        raise UsageError(chromium, "chromium is needed for PDF briefs (apt-get install chromium), or use --format html")
    with tempfile.TemporaryDirectory(prefix="civicwatch-brief-") as folder:
        source = Path(folder) / "brief.html"
        source.write_text(html(brief), encoding="utf-8")
        target = Path(folder) / "brief.pdf"
        try:
            done = subprocess.run(
                [binary, *CHROMIUM_FLAGS, f"--user-data-dir={folder}/profile", f"--print-to-pdf={target}",
                 source.as_uri()],
                capture_output=True, text=True, timeout=PDF_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise UsageError(chromium, f"chromium did not finish the PDF in {PDF_TIMEOUT_S} s") from None
        if done.returncode != 0 or not target.is_file():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise UsageError(chromium, f"chromium could not print the PDF: {last}")
        # Written whole into the temporary folder first: a crash never leaves half a PDF at ``out``.
        shutil.move(str(target), out)
