"""The civicwatch web site, JSON API and Atom feeds: a thin shell over ``civicwatch.store.browse``.

    from civicwatch.web import create_app
    app = create_app("sqlite:///civicwatch.db")   # serve with uvicorn
"""

from civicwatch.web.app import create_app

__all__ = ["create_app"]
