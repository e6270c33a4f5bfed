"""Storage: the one place civicwatch reads and writes its database (SQLite or PostgreSQL).

    from civicwatch.store import Store

    store = Store("sqlite:///civicwatch.db")
    store.upgrade()                      # create or migrate the schema
    source = store.add_source(Source("Example Monitor", "https://monitor.example.org/feed", SourceKind.FEED))
"""

from civicwatch.store.db import Store
from civicwatch.store.search import HIGHLIGHT_END, HIGHLIGHT_START

__all__ = ["HIGHLIGHT_END", "HIGHLIGHT_START", "Store"]
