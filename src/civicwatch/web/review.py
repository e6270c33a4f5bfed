"""The researchers' workspace: the review queue ``/review`` and one incident's review page.

``/review`` shows the machine-coded incident with the lowest confidence, its evidence in the
document, and three one-key decisions (Alt+A accept, Alt+R reject with the reason typed first,
Alt+C confidential; Alt+E edits), then the next ones in line. ``/review/{id}`` edits any codebook
field and the evidence span, and shows the incident's history from the audit log. Every form
carries the CSRF token; every route needs the researcher role.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response

from civicwatch.model import Incident
from civicwatch.store import Store, audit, review
from civicwatch.store.users import User
from civicwatch.web import auth
from civicwatch.web.render import evidence_markup, templates

router = APIRouter(include_in_schema=False)
Researcher = Annotated[User, Depends(auth.require_role("researcher"))]
Id = Annotated[int, Path(ge=1, le=2**62)]
QUEUE_SHOWN = 20
LIST_FIELDS = ("types", "rights", "targets", "persons", "organisations", "perpetrators")


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    context = {"csrf_field": auth.csrf_field(request), **context}
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["cache-control"] = "no-store"  # never kept by a browser or proxy: not public
    return response


def _with_text(store: Store, incident: Incident) -> dict[str, Any]:
    document = store.document(incident.document_id) if incident.document_id else None
    text = evidence_markup(document.text, incident.evidence_start, incident.evidence_end) if document else None
    confidential = review.document_is_confidential(store, incident.document_id) if incident.document_id else False
    return {"incident": incident, "document": document, "text": text, "document_confidential": confidential}


@router.get("/review")
def queue(request: Request, user: Researcher) -> Response:
    """The queue: the lowest-confidence undecided incident in full, then the next ones."""
    store = _store(request)
    waiting = review.queue(store, limit=QUEUE_SHOWN + 1)
    context: dict[str, Any] = {"user": user, "waiting": waiting[1:], "pending": review.pending_count(store)}
    if waiting:
        context |= _with_text(store, waiting[0])
    return _page(request, "review.html", context)


def _back(next_path: str | None) -> RedirectResponse:
    target = next_path if next_path and next_path.startswith("/review") else "/review"
    return RedirectResponse(target, status_code=303)


@router.post("/review/{id}/accept", dependencies=[auth.CSRFDep])
def accept(request: Request, user: Researcher, id: Id,
           next: Annotated[str | None, Form(max_length=200)] = None) -> Response:
    """Accept the incident as coded."""
    review.accept(_store(request), id, actor=user.name)
    return _back(next)


@router.post("/review/{id}/reject", dependencies=[auth.CSRFDep])
def reject(request: Request, user: Researcher, id: Id, reason: Annotated[str, Form(max_length=2000)] = "",
           next: Annotated[str | None, Form(max_length=200)] = None) -> Response:
    """Reject the incident; the reason is required and kept in the audit log."""
    review.reject(_store(request), id, actor=user.name, reason=reason)
    return _back(next)


@router.post("/review/{id}/confidential", dependencies=[auth.CSRFDep])
def confidential(
    request: Request, user: Researcher, id: Id,
    kind: Annotated[str, Form(max_length=16)] = "incident",
    value: Annotated[str, Form(max_length=5)] = "on",
    reason: Annotated[str, Form(max_length=2000)] = "",
    next: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Mark the incident (``kind=incident``) or its document (``kind=document``) confidential, or lift it."""
    store = _store(request)
    found = review.incident(store, id)
    if found is None:
        raise HTTPException(404, "no such incident")
    if kind == "document" and found.document_id:
        target = found.document_id
    elif kind == "incident":
        target = id
    else:
        raise HTTPException(400, "kind must be incident or document")
    review.set_confidential(store, kind, target, value == "on", actor=user.name, reason=reason or None)
    return _back(next)


@router.get("/review/{id}")
def item(request: Request, user: Researcher, id: Id) -> Response:
    """One incident to edit, with its history."""
    store = _store(request)
    found = review.incident(store, id)
    if found is None:
        raise HTTPException(404, "no such incident")
    context = {"user": user, "history": audit.history(store, "incident", id), "list_fields": LIST_FIELDS,
               "message": None} | _with_text(store, found)
    return _page(request, "review_item.html", context)


def _names(value: str) -> list[str]:
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]


@router.post("/review/{id}", dependencies=[auth.CSRFDep])
async def edit(request: Request, user: Researcher, id: Id) -> Response:
    """Save the edited fields (only those that changed) with the reason; the incident becomes the person's."""
    store = _store(request)
    found = review.incident(store, id)
    if found is None:
        raise HTTPException(404, "no such incident")
    form = await request.form()

    def field(name: str) -> str:
        value = form.get(name, "")
        return value if isinstance(value, str) else ""

    wanted: dict[str, Any] = {"country": field("country").strip().upper(), "date": field("date").strip() or None,
                              "evidence": field("evidence")}
    for name in LIST_FIELDS:
        wanted[name] = _names(field(name))
    for name in ("evidence_start", "evidence_end"):
        try:
            wanted[name] = int(field(name))
        except ValueError:
            wanted[name] = -1  # refused by the store's check, with the field named
    changes = {name: value for name, value in wanted.items() if getattr(found, name) != value}
    reason = field("reason").strip() or None
    try:
        store.edit_incident(id, actor=user.name, reason=reason, **changes)
    except Exception as exc:  # a UsageError names the field; show it on the form, keep what was typed
        from civicwatch.errors import UsageError

        if not isinstance(exc, UsageError):
            raise
        context = {"user": user, "history": audit.history(store, "incident", id), "list_fields": LIST_FIELDS,
                   "message": f"{exc.input}: {exc.reason}"} | _with_text(store, found)
        return _page(request, "review_item.html", context, status=400)
    return RedirectResponse(f"/review/{id}", status_code=303)
