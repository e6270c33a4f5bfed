"""``process``: code what is new and store it, with the real coder, on SQLite and PostgreSQL.

All people and organisations in these texts are fictional.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest

from civicwatch.code import coder as coding
from civicwatch.code.coder import CODER_VERSION, Coder
from civicwatch.code.process import process
from civicwatch.model import Document, Incident
from civicwatch.store import Store

DETENTION = (
    "On 4 March 2026 police in Almaty detained journalist Aigerim Sadykova (fictional) outside her office. "
    "She was released two days later."
)
SENTENCE = (
    "A court in Bishkek on 12 February 2026 sentenced blogger Nurlan Temirov, a fictional critic, "
    "to three years in prison over a Facebook post."
)
REGISTRATION = (
    "The fictional Lakeside Rights Centre in Tashkent was denied registration by the Ministry of Justice "
    "on 20 January 2026."
)
CALL = "We urge the authorities of Tajikistan to release all detained lawyers."  # a call, not an incident
FAIR = "The spring fair in Almaty drew large crowds this weekend."  # nothing to code


@pytest.fixture(scope="module")
def coder() -> Coder:
    return Coder()


def add(store: Store, text: str, content_hash: str, **fields: Any) -> int:
    doc = Document(text=text, content_hash=content_hash, published="2026-03-10", lang="en", **fields)
    return store.add_document(doc, signature=None, bands=[])


@pytest.fixture
def reports(store: Store) -> dict[str, int]:
    """A digest and the five reports split out of it."""
    names = {
        "detention": DETENTION, "sentence": SENTENCE, "registration": REGISTRATION, "call": CALL, "fair": FAIR
    }
    digest = add(store, "\n\n".join(names.values()), "h-digest", is_digest=True)
    return {name: add(store, text, f"h-{name}", parent_id=digest) for name, text in names.items()}


def test_process_codes_every_report_and_stores_its_incidents(
    store: Store, coder: Coder, reports: dict[str, int]
) -> None:
    progress: list[tuple[str, object]] = []

    summary = process(store, coder, report=lambda event, value: progress.append((event, value)))

    assert (summary.documents, summary.failed, summary.failures) == (5, 0, [])  # the digest is not coded
    assert progress == [("document", document_id) for document_id in reports.values()]
    incidents = store.incidents()
    assert summary.incidents == len(incidents) == store.counts()["incidents"]
    by_type = {tuple(i.types): i for i in incidents}
    assert {"detention", "imprisonment", "cso_restriction"} <= {t for i in incidents for t in i.types}
    detention = by_type[("detention",)]
    assert (detention.country, detention.date) == ("KZ", "2026-03-04")
    assert detention.document_id == reports["detention"]
    assert detention.persons == ["Aigerim Sadykova"] and "police" in detention.perpetrators
    assert by_type[("imprisonment",)].country == "KG"
    assert by_type[("cso_restriction",)].organisations == ["Lakeside Rights Centre"]
    assert store.incidents(document_id=reports["call"]) == store.incidents(document_id=reports["fair"]) == []
    for incident in incidents:
        text = {v: k for k, v in reports.items()}[incident.document_id or 0]
        source_text = {"detention": DETENTION, "sentence": SENTENCE, "registration": REGISTRATION}[text]
        assert source_text[incident.evidence_start:incident.evidence_end] == incident.evidence != ""
        assert (incident.coder_version, incident.coded_by) == (CODER_VERSION, "machine")
        assert 0 < incident.confidence <= 1
    assert store.integrity_problems() == []


def test_what_is_stored_is_what_the_coder_says(store: Store, coder: Coder, reports: dict[str, int]) -> None:
    process(store, coder)

    stored = [i.to_json() for i in store.incidents(document_id=reports["detention"])]

    assert stored == [i.to_json() for i in coder.code(DETENTION, "2026-03-10", "en")]


def test_running_again_codes_nothing(store: Store, coder: Coder, reports: dict[str, int]) -> None:
    process(store, coder)
    before = store.incidents()

    again = process(store, coder)

    assert (again.documents, again.incidents, again.failed) == (0, 0, 0)
    assert store.incidents() == before  # same rows, same ids
    assert store.count_documents_to_code(CODER_VERSION) == 0


def test_a_new_document_is_coded_on_the_next_run(store: Store, coder: Coder, reports: dict[str, int]) -> None:
    process(store, coder)
    before = store.incidents()
    new = add(store, SENTENCE.replace("Nurlan Temirov", "Daniyar Osmonov"), "h-new")

    summary = process(store, coder)

    assert summary.documents == 1
    assert store.incidents()[: len(before)] == before
    assert [i.persons for i in store.incidents(document_id=new)] == [["Daniyar Osmonov"]]


def test_a_coder_upgrade_recodes_machine_incidents_and_keeps_a_persons_edit(
    store: Store, coder: Coder, reports: dict[str, int]
) -> None:
    process(store, coder)
    detention = store.incidents(document_id=reports["detention"])[0]
    assert detention.id is not None and detention.types == ["detention"]
    edited = store.edit_incident(detention.id, targets=["journalist", "blogger"], date="2026-03")
    added = store.add_person_incident(reports["fair"], Incident("KZ", ["protest"], rights=["assembly"]))
    machine_before = {i.id for i in store.incidents() if i.coded_by == "machine"}

    summary = process(store, coder, coder_version="99.upgraded")

    assert summary.documents == 5
    assert store.incident(detention.id) == edited  # untouched, version and all
    assert store.incident(added) is not None
    machine_after = [i for i in store.incidents() if i.coded_by == "machine"]
    assert {i.coder_version for i in machine_after} == {"99.upgraded"}
    assert not machine_before & {i.id for i in machine_after}  # every machine incident was re-made
    # The edited detention is not coded a second time beside the person's version of it.
    detentions = [i for i in store.incidents(document_id=reports["detention"]) if "detention" in i.types]
    assert [(i.coded_by, i.date) for i in detentions] == [("person", "2026-03")]


class BrokenOnSome(Coder):
    """The real coder, except that it fails on texts naming a fictional village (a stand-in for a bug)."""

    def code(self, text: str, published: str | None = None, lang: str | None = None) -> list[coding.Incident]:
        if "Kerbulak" in text:
            raise ValueError("unexpected token near 'Kerbulak'")
        return super().code(text, published, lang)


def test_a_coder_failure_names_the_document_and_the_run_goes_on(
    store: Store, reports: dict[str, int]
) -> None:
    broken = add(store, "Police in the fictional village of Kerbulak detained two activists.", "h-broken",
                 url="https://steppe-monitor.example.org/kerbulak")

    summary = process(store, BrokenOnSome())

    assert (summary.documents, summary.failed) == (5, 1)
    (failure,) = summary.failures
    assert failure.input == f"document {broken} (https://steppe-monitor.example.org/kerbulak)"
    assert failure.reason == "the coder failed: ValueError: unexpected token near 'Kerbulak'"
    assert [d.id for d in store.documents_to_code(CODER_VERSION)] == [broken]  # tried again next time


def test_limit_caps_a_run_and_the_next_run_carries_on(
    store: Store, coder: Coder, reports: dict[str, int]
) -> None:
    first = process(store, coder, limit=2)
    rest = process(store, coder)

    assert (first.documents, rest.documents) == (2, 3)
    assert process(store, coder, limit=0).documents == 0


def test_an_interrupted_run_keeps_what_it_coded(store: Store, coder: Coder, reports: dict[str, int]) -> None:
    def stop_after_two(event: str, value: object) -> None:
        if value == reports["sentence"]:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        process(store, coder, report=stop_after_two)

    assert store.count_documents_to_code(CODER_VERSION) == 3
    assert process(store, coder).documents == 3


KILLED_RUN = textwrap.dedent(
    """
    import sys, time
    from civicwatch.code.coder import Coder
    from civicwatch.code.process import process
    from civicwatch.store import Store

    process(Store(sys.argv[1]), Coder(), report=lambda event, value: time.sleep(0.01))
    """
)


@pytest.fixture
def many_reports(store: Store) -> int:
    texts = [DETENTION, SENTENCE, REGISTRATION, FAIR]
    for n in range(120):
        add(store, texts[n % 4].replace("2026", str(2000 + n % 26)) + f" (Report {n}.)", f"h-{n}")
    return 120


def test_a_killed_run_is_completed_by_a_rerun_without_duplicates(
    store: Store, coder: Coder, many_reports: int
) -> None:
    url = store._engine.url.render_as_string(hide_password=False)
    run = subprocess.Popen([sys.executable, "-c", KILLED_RUN, url], env=os.environ.copy(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while run.poll() is None and time.monotonic() < deadline:
        if store.count_documents_to_code(CODER_VERSION) <= many_reports - 20:
            run.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    run.wait(timeout=30)
    assert run.returncode == -signal.SIGKILL, "the run finished before it could be killed; add documents"
    left = store.count_documents_to_code(CODER_VERSION)
    assert 0 < left < many_reports

    rerun = process(store, coder)

    assert rerun.documents == left
    assert store.count_documents_to_code(CODER_VERSION) == 0
    for doc in store.iter_documents():
        expected = [i.to_json() for i in coder.code(doc.text, doc.published, doc.lang)]
        assert [i.to_json() for i in store.incidents(document_id=doc.id)] == expected
    assert store.integrity_problems() == []
