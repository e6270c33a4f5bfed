"""Downloads of the incidents list as it is filtered: ``/incidents/export.csv``, ``.jsonl`` and ``.zip``.

Each download runs ``civicwatch.publish.export.export_store`` (the same code as ``civicwatch export``, so
the same public fields and nothing else) into a temporary folder, streams the file from there and removes
the folder once the response is sent. ``.csv`` and ``.jsonl`` are the incidents table; ``.zip`` is the
whole Frictionless Data Package (``datapackage.json``, incidents, documents, persons, organisations).
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from civicwatch.publish.export import export_store
from civicwatch.store import Store
from civicwatch.store.browse import IncidentFilters
from civicwatch.web.params import incident_filters

router = APIRouter(include_in_schema=False)

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/jsonl; charset=utf-8",
    "zip": "application/zip",
}


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _download(store: Store, filters: IncidentFilters, suffix: str) -> Response:
    """Export into a fresh temporary folder and answer with the file, deleting the folder afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="civicwatch-download-"))
    try:
        if suffix == "zip":
            files = export_store(store, filters, folder / "package", format="datapackage")
            path = folder / "civicwatch-incidents.zip"
            with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for file in files:
                    archive.write(file, arcname=file.name)
        else:
            export_store(store, filters, folder / "export", format="csv" if suffix == "csv" else "jsonl")
            path = folder / "export" / f"incidents.{suffix}"
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[suffix],
        filename=f"civicwatch-incidents.{suffix}",
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


Filters = Annotated[IncidentFilters, Depends(incident_filters)]
StoreDep = Annotated[Store, Depends(_store)]


@router.get("/incidents/export.csv")
def export_csv(store: StoreDep, filters: Filters) -> Response:
    """The incidents matching the list's filters as CSV (list fields joined with ``;``)."""
    return _download(store, filters, "csv")


@router.get("/incidents/export.jsonl")
def export_jsonl(store: StoreDep, filters: Filters) -> Response:
    """The incidents matching the list's filters as JSON Lines (one incident per line)."""
    return _download(store, filters, "jsonl")


@router.get("/incidents/export.zip")
def export_zip(store: StoreDep, filters: Filters) -> Response:
    """The incidents matching the list's filters, their documents, persons and organisations: a data package."""
    return _download(store, filters, "zip")
