"""What the page modules ask FastAPI for: the app's ``Store``, a country code in the path, a researcher."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from civicwatch.store import Store
from civicwatch.store.users import User
from civicwatch.web import auth


def store_of(request: Request) -> Store:
    """The ``Store`` the app was created over."""
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(store_of)]
Iso2 = Annotated[str, Path(pattern="^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 code")]
Researcher = Annotated[User, Depends(auth.require_role("researcher"))]
