"""The UPR page of a country: recommendations by theme, implementation status, suggested evidence, and the
researchers' form that records a status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response

from civicwatch.errors import UsageError
from civicwatch.store import upr
from civicwatch.upr.tagging import tagger
from civicwatch.web import auth
from civicwatch.web.deps import Iso2, Researcher, StoreDep
from civicwatch.web.render import country_name, templates

router = APIRouter(include_in_schema=False)
EVIDENCE_SHOWN = 3  # suggested events per recommendation
UNTAGGED = "other"
STATUS_LABELS = {"not_implemented": "not implemented", "partially": "partially implemented",
                 "fully": "fully implemented"}




@router.get("/countries/{iso2}/upr")
def country_upr(request: Request, store: StoreDep, iso2: Iso2) -> Response:
    """A country's UPR recommendations grouped by theme, like a stakeholder submission's assessment."""
    code = iso2.upper()
    if country_name(code) == code:
        raise HTTPException(404, f"no country {code}")
    recs = upr.recommendations(store, code)
    themes = tagger()
    by_theme: dict[str, list[upr.StoredRecommendation]] = {}
    for rec in recs:
        for theme in rec.themes or (UNTAGGED,):
            by_theme.setdefault(theme, []).append(rec)
    order = [t for t in themes.data if t in by_theme] + ([UNTAGGED] if UNTAGGED in by_theme else [])
    evidence = {rec.id: upr.suggest_evidence(store, rec, themes.evidence_matches, limit=EVIDENCE_SHOWN)
                for rec in recs if rec.themes}
    user = auth.current_user(request)
    researcher = user is not None and user.can("researcher")
    counts = {s: sum(1 for r in recs if r.assessment and r.assessment.status == s) for s in STATUS_LABELS}
    context = {
        "code": code, "name": country_name(code), "groups": [(t, by_theme[t]) for t in order], "total": len(recs),
        "evidence": evidence, "researcher": researcher, "statuses": STATUS_LABELS, "counts": counts,
        "csrf_field": auth.csrf_field(request), "user": user,
        "unassessed": sum(1 for r in recs if r.assessment is None),
    }
    return templates.TemplateResponse(request, "upr.html", context)


@router.post("/upr/{id}/assess", dependencies=[auth.CSRFDep])
def assess_upr(
    request: Request,
    store: StoreDep,
    user: Researcher,
    id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    status: Annotated[str, Form(max_length=32)],
    evidence: Annotated[str, Form(max_length=4000)],
) -> Response:
    """Record a researcher's implementation status (audited) and go back to the country's UPR page."""
    try:
        rec = upr.recommendation(store, id)
        upr.assess(store, id, status=status, evidence=evidence, actor=user.name)
    except UsageError as exc:
        raise HTTPException(400, f"{exc.input}: {exc.reason}") from None
    return RedirectResponse(f"/countries/{rec.country}/upr#r{id}", status_code=303)
