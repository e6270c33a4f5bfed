"""Code what is new: every stored document the current coder has not coded, its incidents stored.

``civicwatch process`` is a thin shell over :func:`process`. Each document's coding is saved in its
own transaction, so a run killed at any moment loses at most the document it was coding, and the
next run carries on where it stopped. After a coder upgrade (a new ``Coder.version``) every
document is due again: its machine-made incidents are replaced, a person's are never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from civicwatch.code.coder import Coder
from civicwatch.model import Document, Failure
from civicwatch.store import Store


@dataclass
class ProcessSummary:
    """What a run did: documents coded, machine incidents stored, documents the coder failed on (and why)."""

    documents: int = 0
    incidents: int = 0
    failed: int = 0
    failures: list[Failure] = field(default_factory=list)


def _quiet(event: str, value: object) -> None:
    """The default progress report: none."""


def process(
    store: Store,
    coder: Coder,
    *,
    report: Callable[[str, object], None] = _quiet,
    limit: int | None = None,
    coder_version: str | None = None,
) -> ProcessSummary:
    """Code every document not yet coded by ``coder_version`` and store its incidents.

    ``report("document", document_id)`` is called once per document taken (coded or failed), for a
    progress bar. A document the coder fails on becomes a ``Failure`` naming it, and the run goes
    on; it stays uncoded, so the next run tries it again. ``limit`` caps the documents taken in this
    run. Running again with the same ``coder_version`` codes nothing.

    ``coder_version`` is the version recorded with the incidents: by default the coder's own
    (``coder.version``, which changes with its data files); tests pass another to stand in for an upgrade.

        summary = process(Store("sqlite:///civicwatch.db"), Coder())
        print(summary.documents, summary.incidents, *summary.failures, sep="\n")
    """
    summary = ProcessSummary()
    coder_version = coder_version or coder.version
    if limit is not None and limit <= 0:
        return summary
    for doc in store.documents_to_code(coder_version):
        assert doc.id is not None  # documents read back from the store always have one
        try:
            found = coder.code(doc.text, doc.published, doc.lang)
        except Exception as exc:  # any coder bug on one text must not stop the run
            summary.failed += 1
            summary.failures.append(_failure(doc, exc))
        else:
            summary.incidents += store.save_coding(doc.id, found, coder_version)
            summary.documents += 1
        report("document", doc.id)
        if limit is not None and summary.documents + summary.failed >= limit:
            break
    return summary


def _failure(doc: Document, exc: Exception) -> Failure:
    where = f"document {doc.id}" + (f" ({doc.url})" if doc.url else "")
    return Failure(where, f"the coder failed: {type(exc).__name__}: {exc}")
