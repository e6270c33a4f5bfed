"""The researchers' form that overrides a country's civic-space category, with a recorded reason.

``GET /countries/{iso2}/rating/override`` shows the rating, the overrides so far and the form;
``POST`` records the override (``store.ratings.set_override``: its row and the audit row commit together)
and goes back to the country page, where it is shown as an override. Researchers and admins only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from civicwatch.errors import UsageError
from civicwatch.rate.method import CATEGORIES
from civicwatch.store import ratings
from civicwatch.web import auth
from civicwatch.web.deps import Iso2, Researcher, StoreDep
from civicwatch.web.render import country_name, templates

router = APIRouter(include_in_schema=False)
LIFT = "none"  # the form's value that lifts an override




def _known(iso2: str) -> str:
    code = iso2.upper()
    if country_name(code) == code:
        raise HTTPException(404, f"no country {code}")
    return code


@router.get("/countries/{iso2}/rating/override")
def override_form(request: Request, store: StoreDep, user: Researcher, iso2: Iso2) -> Response:
    """The override form, with the country's current rating and every override recorded for it."""
    code = _known(iso2)
    context = {
        "code": code, "name": country_name(code), "rating": ratings.current_ratings(store).get(code),
        "overrides": ratings.overrides(store, code), "categories": CATEGORIES, "lift": LIFT,
        "csrf_field": auth.csrf_field(request), "user": user,
    }
    return templates.TemplateResponse(request, "rating_override.html", context)


@router.post("/countries/{iso2}/rating/override", dependencies=[auth.CSRFDep])
def override_rating(
    store: StoreDep,
    user: Researcher,
    iso2: Iso2,
    category: Annotated[str, Form(max_length=32)],
    reason: Annotated[str, Form(max_length=2000)],
) -> Response:
    """Record the signed-in researcher's override (or lift it) and show the country page."""
    code = _known(iso2)
    try:
        ratings.set_override(store, code, None if category == LIFT else category, reason=reason, set_by=user.name)
    except UsageError as exc:
        raise HTTPException(400, f"{exc.input}: {exc.reason}") from None
    return RedirectResponse(f"/countries/{code}#rating-title", status_code=303)
