"""Field reports through the web: ``/reports/new`` for partners (any signed-in account), and a researcher's
``/reports/{id}`` to read one and publish a redacted version.

Uploaded files are checked by their first bytes (PDF, plain UTF-8 text, PNG, JPEG, GIF, WebP), limited
in size and number, and written under ``<data_dir>/uploads/<document id>/`` with a safe name: never in
the web root, never under a name the sender chose for a path. A name with a path in it is refused.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from civicwatch.errors import UsageError
from civicwatch.store import Store, reports
from civicwatch.store.users import User
from civicwatch.web import auth
from civicwatch.web.render import templates

router = APIRouter(include_in_schema=False)
Signed = Annotated[User, Depends(auth.require_role("viewer"))]
Researcher = Annotated[User, Depends(auth.require_role("researcher"))]
MAX_FILE_BYTES = 10 * 2**20
MAX_FILES = 5
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAGIC = ((b"%PDF-", "pdf"), (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"), (b"GIF87a", "gif"),
          (b"GIF89a", "gif"))


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def file_kind(data: bytes) -> str | None:
    """What the bytes are, by their content (never by the name): pdf, png, jpg, gif, webp, txt; or None."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if b"\x00" not in data:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return "txt"
    return None


def safe_name(name: str) -> str:
    """A file name safe to write: the sender's name reduced to letters, digits, dots, dashes and underscores.

    A name holding a path (slashes, backslashes, "..", a leading dot, NUL) is refused (``UsageError``).
    """
    if not name or "/" in name or "\\" in name or "\x00" in name or ".." in name or name.startswith("."):
        raise UsageError(name or "(no name)", "file names may not contain a path")
    cleaned = _SAFE.sub("_", name).strip("._")[:100]
    return cleaned or "file"


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    context = {"csrf_field": auth.csrf_field(request), **context}
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["cache-control"] = "no-store"
    return response


@router.get("/reports/new")
def report_form(request: Request, user: Signed) -> Response:
    """The form partners fill in."""
    return _page(request, "report_new.html", {"user": user, "message": None, "max_mb": MAX_FILE_BYTES // 2**20,
                                              "max_files": MAX_FILES, "sent": request.query_params.get("sent")})


@router.post("/reports/new", dependencies=[auth.CSRFDep])
async def submit_report(
    request: Request,
    user: Signed,
    text: Annotated[str, Form(max_length=reports.MAX_TEXT)],
    date: Annotated[str, Form(max_length=10)],
    country: Annotated[str, Form(max_length=2)],
    anonymous: Annotated[str | None, Form(max_length=5)] = None,
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """Store the report (confidential) and its checked files; back to the form with a receipt."""
    uploads = [f for f in (files or []) if f.filename]
    try:
        if len(uploads) > MAX_FILES:
            raise UsageError("files", f"at most {MAX_FILES} files")
        checked: list[tuple[str, bytes]] = []
        for upload in uploads:
            data = await upload.read(MAX_FILE_BYTES + 1)
            name = safe_name(upload.filename or "")
            if len(data) > MAX_FILE_BYTES:
                raise UsageError(upload.filename or name, f"larger than {MAX_FILE_BYTES // 2**20} MB")
            kind = file_kind(data)
            if kind is None:
                raise UsageError(upload.filename or name, "not a PDF, a text or an image (PNG, JPEG, GIF, WebP)")
            checked.append((f"{len(checked) + 1}-{Path(name).stem}.{kind}", data))
        data_dir = request.app.state.data_dir
        if checked and data_dir is None:
            raise UsageError("files", "this server keeps no files (no data folder configured)")
        document_id = reports.add_field_report(
            _store(request), text=text, date=date, country=country,
            submitted_by=None if anonymous else user.name, files=[name for name, _ in checked])
    except UsageError as exc:
        context = {"user": user, "message": f"{exc.input}: {exc.reason}", "max_mb": MAX_FILE_BYTES // 2**20,
                   "max_files": MAX_FILES, "sent": None}
        return _page(request, "report_new.html", context, status=400)
    if checked:
        folder = Path(data_dir) / "uploads" / str(document_id)
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in checked:
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
    return RedirectResponse(f"/reports/new?sent={document_id}", status_code=303)


@router.get("/reports/{id}")
def report(request: Request, user: Researcher, id: int) -> Response:
    """A field report as researchers see it, with the form to publish a redacted version."""
    store = _store(request)
    document = store.document(id)
    if document is None or not reports.is_field_report(store, id):
        raise HTTPException(404, "no such field report")
    folder = Path(request.app.state.data_dir or "/nonexistent") / "uploads" / str(id)
    files = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    return _page(request, "report.html", {"user": user, "document": document, "files": files})


@router.post("/reports/{id}/publish", dependencies=[auth.CSRFDep])
def publish(request: Request, user: Researcher, id: int, text: Annotated[str, Form(max_length=reports.MAX_TEXT)],
            reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Publish the redacted text as a new public document; the report itself stays confidential."""
    new_id = reports.publish_redacted(_store(request), id, text, actor=user.name, reason=reason or None)
    return RedirectResponse(f"/documents/{new_id}", status_code=303)
