"""Full-text search over documents: FTS5 on SQLite, a ``tsvector`` column on PostgreSQL.

Users type web-search style queries: words (all must match), ``"quoted phrases"``,
``OR`` between alternatives and ``-word`` to exclude. Nothing a user types can be a
syntax error: on SQLite every term is quoted before it reaches FTS5, on PostgreSQL the
query goes through ``websearch_to_tsquery``, which accepts any text.
"""

from __future__ import annotations

import re

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

# Marks around matched words in snippets; the CLI shows them, the web app turns them into <mark>.
HIGHLIGHT_START = "["
HIGHLIGHT_END = "]"
ELLIPSIS = "…"
SNIPPET_WORDS = 24

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w")


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def fts5_query(query: str) -> str | None:
    """The FTS5 MATCH expression for a web-search style ``query``; None when nothing is left to search for.

    >>> fts5_query('election -draft "civic space" OR civil')
    '("election") AND ("civic space" OR "civil") NOT "draft"'
    """
    required: list[list[str]] = []  # each inner list: alternatives joined by OR
    excluded: list[str] = []
    pending_or = False
    for match in _TOKEN.finditer(query):
        negated, phrase, bare = match.group(1), match.group(2), match.group(3)
        if bare is not None:
            if bare == "OR":
                pending_or = bool(required)
                continue
            negated, phrase = ("-", bare[1:]) if bare.startswith("-") else ("", bare)
            phrase = phrase.replace('"', " ")
        if not _WORD.search(phrase):  # punctuation alone: FTS5 would see an empty phrase
            continue
        term = _quote(" ".join(phrase.split()))
        if negated:
            excluded.append(term)
        elif pending_or:
            required[-1].append(term)
        else:
            required.append([term])
        pending_or = False
    if not required:  # FTS5 cannot search for "everything except": neither engine tries
        return None
    expression = " AND ".join("(" + " OR ".join(alternatives) + ")" for alternatives in required)
    return expression + "".join(f" NOT {term}" for term in excluded)


RANKED_CANDIDATES = 5000  # newest full-text matches ranked by relevance (SQLite)


def _sqlite_search(connection: Connection, query: str, limit: int) -> list[tuple[int, str]]:
    match = fts5_query(query)
    if match is None:
        return []
    # A frequent word matches a large share of a big archive, and ranking every match costs more than a
    # page may (55 ms for one common word at 1M incidents). Rank only the newest RANKED_CANDIDATES matches:
    # monitors look for what is recent, and the cut is a rowid bound the FTS index answers directly.
    statement = text(
        "SELECT rowid, snippet(documents_fts, -1, :start, :end, :ellipsis, :words) "
        "FROM documents_fts WHERE documents_fts MATCH :match AND rowid >= coalesce(("
        "  SELECT min(rowid) FROM (SELECT rowid FROM documents_fts WHERE documents_fts MATCH :match"
        "                          ORDER BY rowid DESC LIMIT :candidates)), 0) "
        "ORDER BY bm25(documents_fts) LIMIT :limit"
    )
    rows = connection.execute(
        statement,
        {"start": HIGHLIGHT_START, "end": HIGHLIGHT_END, "ellipsis": ELLIPSIS, "words": SNIPPET_WORDS,
         "match": match, "limit": limit, "candidates": RANKED_CANDIDATES},
    )
    return [(int(row[0]), str(row[1])) for row in rows]


_HEADLINE_OPTIONS = (
    f'StartSel="{HIGHLIGHT_START}", StopSel="{HIGHLIGHT_END}", MaxWords={SNIPPET_WORDS}, '
    f'MinWords={SNIPPET_WORDS // 2}, MaxFragments=2, FragmentDelimiter=" {ELLIPSIS} "'
)


def _postgres_search(connection: Connection, query: str, limit: int) -> list[tuple[int, str]]:
    if fts5_query(query) is None:  # same rule on both engines: no positive term, no results
        return []
    # Rank and limit first; ts_headline re-reads each text, so only run it on the rows returned.
    statement = text(
        "SELECT hit.id, ts_headline('simple', coalesce(d.title, '') || ' ' || d.text, hit.q, :options) "
        "FROM (SELECT id, q, ts_rank_cd(search_vector, q) AS score "
        "      FROM documents, websearch_to_tsquery('simple', :query) AS q "
        "      WHERE search_vector @@ q ORDER BY score DESC, id LIMIT :limit) AS hit "
        "JOIN documents AS d ON d.id = hit.id ORDER BY hit.score DESC, hit.id"
    ).bindparams(bindparam("options", _HEADLINE_OPTIONS))
    rows = connection.execute(statement, {"query": query, "limit": limit})
    return [(int(row[0]), str(row[1])) for row in rows]


def search_ids(connection: Connection, query: str, limit: int) -> list[tuple[int, str]]:
    """The ids of the documents best matching ``query``, best first, each with a highlighted snippet."""
    if connection.dialect.name == "sqlite":
        return _sqlite_search(connection, query, limit)
    return _postgres_search(connection, query, limit)
