"""Crash safety: SIGKILL each writing command at a random (seeded) moment, re-run it, and compare.

For each of ``collect``, ``process``, ``connect``, ``rate``, ``bulk load`` and a web edit (researchers'
review POSTs to a real ``civicwatch serve``, the server killed mid-request) on SQLite and PostgreSQL:

1. the database is brought to the state before the command, and the command runs unkilled: the reference;
2. then, ``--kills`` times: the state before the command is restored, the command started as a subprocess
   and SIGKILLed, re-run to completion, and ``civicwatch check`` must report nothing; the final contents
   must equal the reference's. Every other kill comes at a random point of the command's stored progress
   (when its k-th document, coding or edit has been committed, k drawn at random), the others at a random
   time between its start-up and the reference run's end; both draws come from ``--seed``.

Contents are compared by what identifies each row: documents by content hash, incidents by their
document's hash, evidence span, country and types, events as sets of incidents, ratings by country and
period, edits by incident with the audit entries they made. Ids are compared too: on SQLite they must be
equal; PostgreSQL hands out sequence numbers outside transactions (a rolled-back insert still uses one),
so there ids after a kill may skip numbers, and the figures say how often they did.

The corpus is generated (fictional people and places of our own). Run::

    .venv/bin/python benchmarks/crash.py                # 20 kills per command per engine, results/crash.json
    .venv/bin/python benchmarks/crash.py --kills 2 --engines sqlite --commands collect,process
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import func, make_url, select

from civicwatch.errors import StoreError
from civicwatch.store import Store
from civicwatch.store.schema import audit_log, codings, documents, events, incidents, persons, ratings

COMMANDS = ("collect", "process", "connect", "rate", "bulk load", "web edit")
ENGINES = ("sqlite", "postgresql")
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
RESULTS = Path(__file__).parent / "results" / "crash.json"
AS_OF = "2026-06-30"
EDITOR, EDITOR_PASSWORD = "crash-editor", "a long test passphrase for crash runs"

CITIES = ["Tashkent", "Almaty", "Bishkek", "Osh", "Dushanbe", "Nukus", "Astana", "Khujand"]
PEOPLE = ["Dilnoza Fictiva", "Timur Inventov", "Aizhan Madeupova", "Rustam Notreal", "Gulnara Imagina",
          "Bakyt Storyov", "Farrukh Pretendov", "Madina Fablova", "Azamat Novelov", "Nigora Tallova"]
ROLES = ["journalist", "blogger", "activist", "lawyer", "human rights defender"]
ACTS = ["detained", "arrested", "fined", "beaten", "summoned for questioning"]


# ---- the corpus ---------------------------------------------------------------------------------------

def report_text(n: int) -> str:
    """A fictional report, reproducible from ``n``; every third one repeats an earlier happening."""
    rng = random.Random(n if n % 3 else n // 3)
    who, city, role, act = rng.choice(PEOPLE), rng.choice(CITIES), rng.choice(ROLES), rng.choice(ACTS)
    day = rng.randint(1, 27) + (n % 3 == 0)
    return (f"On {day} March 2026 police in {city} {act} {role} {who} after a post about local officials. "
            f"Report number {n} of the monitor. The family of {who} said the {role} was held for hours. "
            f"Officers also searched the office of the Pinecone Union {n % 7} in {city}.")


def write_corpus(folder: Path, count: int) -> None:
    """``count`` text reports in ``folder/reports`` and the same as ``folder/archive.jsonl`` for bulk code."""
    (folder / "reports").mkdir(parents=True, exist_ok=True)
    lines = []
    for n in range(count):
        text = report_text(n)
        (folder / "reports" / f"report-{n:04d}.txt").write_text(text, encoding="utf-8")
        lines.append(json.dumps({"id": f"r{n}", "text": text + " (archive copy)", "published": "2026-03-30"}))
    (folder / "archive.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "ratings.csv").write_text("iso2,score,as_of\nUZ,30,2025-01-01\nKZ,40,2025-01-01\n"
                                        "KG,45,2025-01-01\nTJ,20,2025-01-01\n", encoding="utf-8")


# ---- databases --------------------------------------------------------------------------------------

@dataclass
class Database:
    """One database of the run: a SQLite file or a PostgreSQL database of its own (made by ``Databases``)."""

    url: str
    engine: str
    path: Path | None = None  # SQLite
    name: str | None = None  # PostgreSQL


class Databases:
    """Makes, copies and drops the run's databases. PostgreSQL copies are ``CREATE DATABASE ... TEMPLATE``."""

    def __init__(self, engine: str, folder: Path, postgres_url: str = DEFAULT_POSTGRES_URL) -> None:
        self.engine, self.folder, self.postgres_url = engine, folder, postgres_url
        self.made: list[Database] = []
        self._admin: psycopg.Connection[Any] | None = None
        if engine == "postgresql":
            libpq = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
            self._admin = psycopg.connect(libpq, autocommit=True)

    def new(self) -> Database:
        """A new, empty database."""
        return self._make(None)

    def copy(self, original: Database) -> Database:
        """A copy of ``original`` (which no process may have open)."""
        return self._make(original)

    def _make(self, original: Database | None) -> Database:
        key = uuid.uuid4().hex[:10]
        if self.engine == "sqlite":
            path = self.folder / f"crash-{key}.db"
            if original is not None and original.path is not None:
                for suffix in ("", "-wal", "-shm"):
                    source = Path(f"{original.path}{suffix}")
                    if source.exists():
                        shutil.copyfile(source, f"{path}{suffix}")
            made = Database(f"sqlite:///{path}", "sqlite", path=path)
        else:
            assert self._admin is not None
            name = f"cw_crash_{key}"
            template = f' TEMPLATE "{original.name}"' if original is not None else ""
            self._admin.execute(f'CREATE DATABASE "{name}"{template}')
            url = make_url(self.postgres_url).set(database=name)
            url = url.difference_update_query(["options"])
            made = Database(url.render_as_string(hide_password=False), "postgresql", name=name)
        self.made.append(made)
        return made

    def drop(self, database: Database) -> None:
        """Remove ``database`` and its files."""
        if database.path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{database.path}{suffix}").unlink(missing_ok=True)
        elif self._admin is not None and database.name:
            self._admin.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
        if database in self.made:
            self.made.remove(database)

    def close(self) -> None:
        for database in list(self.made):
            self.drop(database)
        if self._admin is not None:
            self._admin.close()


# ---- running civicwatch -----------------------------------------------------------------------------

@dataclass
class Run:
    """The environment every command of one run shares."""

    folder: Path  # the corpus, the bulk code output, the server's data folder

    def env(self, database: Database) -> dict[str, str]:
        return {**os.environ, "CIVICWATCH_DATABASE_URL": database.url, "CIVICWATCH_PER_HOST_DELAY": "0",
                "CIVICWATCH_DATA_DIR": str(self.folder / "data"), "CIVICWATCH_CONFIG": str(self.folder / "none.toml")}

    def civicwatch(self, database: Database, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``civicwatch args`` to completion; raise with its output when it fails."""
        done = subprocess.run([sys.executable, "-m", "civicwatch", *args], env=self.env(database), input=stdin,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"civicwatch {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
        return done

    def start(self, database: Database, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "civicwatch", *args], env=self.env(database),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- the web edit -----------------------------------------------------------------------------------

EDIT_COUNT = 30  # incidents a researcher edits per run


class Editor:
    """A researcher editing incidents through a real ``civicwatch serve``: signs in, then POSTs each edit.

    Re-running means: sign in again and send the edits not yet stored (each edit adds the name
    "Ana Fictive" to the incident's persons, so the database tells which are done).
    """

    def __init__(self, run: Run, database: Database) -> None:
        self.run, self.database = run, database
        self.port = _free_port()
        self.server: subprocess.Popen[bytes] | None = None
        self.killing = False  # set before the kill, so that the client takes the lost connection calmly

    def serve(self) -> None:
        self.server = self.run.start(self.database, "serve", "--host", "127.0.0.1", "--port", str(self.port))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/login", timeout=1)
                return
            except httpx.HTTPError:
                if self.server.poll() is not None:
                    raise RuntimeError("civicwatch serve exited at start") from None
                time.sleep(0.1)
        raise RuntimeError("civicwatch serve did not start")

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            self.server.wait(timeout=30)

    def edit_all(self) -> None:
        """Send every edit not yet stored; stops quietly when the server goes away (it was killed)."""
        base = f"http://127.0.0.1:{self.port}"
        try:
            with httpx.Client(base_url=base, timeout=30) as client:
                page = client.get("/login").text
                client.post("/login", data={"name": EDITOR, "password": EDITOR_PASSWORD, "next": "/review",
                                            "csrf_token": _csrf(page)})
                for incident in self._to_edit():
                    form = client.get(f"/review/{incident['id']}").text
                    response = client.post(f"/review/{incident['id']}", data={**incident["form"],
                                                                               "csrf_token": _csrf(form)})
                    if response.status_code != 303:
                        raise RuntimeError(f"edit of incident {incident['id']}: HTTP {response.status_code}")
        except (httpx.TransportError, RuntimeError):
            if self.killing:
                return  # killed mid-request: what reached the database is judged by the caller
            raise

    def _to_edit(self) -> list[dict[str, Any]]:
        store = Store(self.database.url)
        try:
            with store._read() as connection:
                rows = connection.execute(select(incidents).order_by(incidents.c.id).limit(EDIT_COUNT)).all()
        finally:
            store.close()
        return [{"id": row.id, "form": _edit_form(row)} for row in rows if "Ana Fictive" not in row.persons]


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def _edit_form(row: Any) -> dict[str, str]:
    lists = ("types", "rights", "targets", "persons", "organisations", "perpetrators")
    form = {name: ", ".join(getattr(row, name)) for name in lists}
    form["persons"] = ", ".join([*row.persons, "Ana Fictive"])
    form.update(country=row.country, date=row.date or "", evidence=row.evidence,
                evidence_start=str(row.evidence_start), evidence_end=str(row.evidence_end), reason="crash run")
    return form


# ---- commands: how to reach the state before each, and how to run it ---------------------------------

def _prepare_chain(run: Run, dbs: Databases) -> dict[str, Database]:
    """The state before each command (kept as databases to copy) and after the last: one chain of real runs."""
    before: dict[str, Database] = {}
    db = dbs.new()
    run.civicwatch(db, "init")
    run.civicwatch(db, "add-source", str(run.folder / "reports"), "--name", "partner")
    before["collect"] = dbs.copy(db)
    run.civicwatch(db, "collect", "--all")
    before["process"] = dbs.copy(db)
    run.civicwatch(db, "process", "--no-connect")
    before["connect"] = dbs.copy(db)
    run.civicwatch(db, "connect")
    run.civicwatch(db, "ratings", "import", str(run.folder / "ratings.csv"))
    before["rate"] = dbs.copy(db)
    run.civicwatch(db, "user", "add", EDITOR, "--role", "researcher", "--password-stdin", stdin=EDITOR_PASSWORD)
    before["web edit"] = dbs.copy(db)
    dbs.drop(db)
    empty = dbs.new()
    run.civicwatch(empty, "init")
    before["bulk load"] = empty
    return before


def _argv(command: str, run: Run) -> list[str]:
    return {
        "collect": ["collect", "--all"],
        "process": ["process", "--no-connect"],
        "connect": ["connect"],
        "rate": ["rate", "--as-of", AS_OF],
        "bulk load": ["bulk", "load", str(run.folder / "coded"), "--batch", "10"],
    }[command]


@dataclass(frozen=True)
class Kill:
    """When to SIGKILL: ``after`` seconds, or as soon as the command's progress count reaches ``at``."""

    after: float | None = None
    at: int | None = None


# What each command's stored progress is counted by (rows each of its transactions commits); connect and
# rate write one transaction, so a kill leaves the state before or after them, and only time can pick it.
PROGRESS: dict[str, list[Any]] = {
    "collect": [documents],
    "process": [codings],
    "bulk load": [documents, codings],
    "web edit": [audit_log],
}


def progress(command: str, store: Store) -> int | None:
    """The rows ``command`` has committed so far (None for a command that commits once)."""
    tables = PROGRESS.get(command)
    if tables is None:
        return None
    with store._read() as connection:
        total = 0
        for table in tables:
            query = select(func.count()).select_from(table)
            if table is audit_log:
                query = query.where(audit_log.c.item_kind == "incident")
            total += int(connection.execute(query).scalar_one())
        return total


def _due(kill: Kill, started: float, store: Store | None, command: str) -> bool:
    if kill.after is not None and time.monotonic() - started >= kill.after:
        return True
    if kill.at is not None and store is not None:
        try:
            return (progress(command, store) or 0) >= kill.at
        except StoreError:
            return False  # the database is busy being written: look again
    return False


def run_command(command: str, run: Run, database: Database, kill: Kill | None) -> tuple[bool, float]:
    """Run ``command`` on ``database``, SIGKILLed as ``kill`` says (or to completion without it).

    Returns whether it was killed, and the seconds it ran (for the web edit: the edits, not the server's start).
    """
    watcher = Store(database.url) if kill is not None and kill.at is not None else None
    try:
        if command == "web edit":
            return _run_web_edit(run, database, kill, watcher)
        started = time.monotonic()
        proc = run.start(database, *_argv(command, run))
        while kill is not None and proc.poll() is None:
            if _due(kill, started, watcher, command):
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=60)
                return True, time.monotonic() - started
            time.sleep(0.01)
        status = proc.wait(timeout=600)
        if status != 0:
            raise RuntimeError(f"civicwatch {command} failed with exit status {status}")
        return False, time.monotonic() - started
    finally:
        if watcher is not None:
            watcher.close()


def _run_web_edit(run: Run, database: Database, kill: Kill | None, watcher: Store | None) -> tuple[bool, float]:
    editor = Editor(run, database)
    editor.serve()
    client = threading.Thread(target=editor.edit_all, daemon=True)
    started = time.monotonic()
    client.start()
    killed = False
    while kill is not None and client.is_alive():
        if _due(kill, started, watcher, "web edit"):
            assert editor.server is not None
            editor.killing = True
            editor.server.send_signal(signal.SIGKILL)  # the server dies mid-request: the client is sending edits
            editor.server.wait(timeout=60)
            killed = True
            break
        time.sleep(0.01)
    client.join(timeout=600)
    seconds = time.monotonic() - started
    if not killed:
        editor.stop()
    return killed, seconds


# ---- comparing ---------------------------------------------------------------------------------------

def contents(database: Database) -> dict[str, Any]:
    """What the run stored, by natural keys (``keys``) and by ids (``ids``)."""
    store = Store(database.url)
    try:
        with store._read() as connection:
            docs = {int(r.id): r.content_hash
                    for r in connection.execute(select(documents.c.id, documents.c.content_hash))}
            rows = connection.execute(select(incidents).order_by(incidents.c.id)).all()
            evs = [tuple(r) for r in connection.execute(select(events.c.id, events.c.country, events.c.month)
                                                         .order_by(events.c.id))]
            rates = sorted((r.country, r.period, r.score, r.category, r.events)
                           for r in connection.execute(select(ratings)))
            edits = sorted((r.item_id, r.action) for r in connection.execute(
                select(audit_log.c.item_id, audit_log.c.action).where(audit_log.c.item_kind == "incident")))
            people = sorted(r[0] for r in connection.execute(select(persons.c.name)))
    finally:
        store.close()
    key_of = {int(r.id): (docs[int(r.document_id)], r.evidence_start, r.evidence_end, r.country, tuple(r.types))
              for r in rows}
    by_event: dict[int, set[Any]] = {}
    for r in rows:
        if r.event_id is not None:
            by_event.setdefault(int(r.event_id), set()).add(key_of[int(r.id)])
    keys = {
        "documents": sorted(docs.values()),
        "incidents": sorted((*key_of[int(r.id)], tuple(r.persons), r.coded_by, r.review) for r in rows),
        "events": sorted(sorted(members) for members in by_event.values()),
        "unconnected": sum(1 for r in rows if r.event_id is None),
        "ratings": rates,
        "edits": sorted((key_of.get(int(i), i), a) for i, a in edits if i.isdigit()),
        "persons": people,
    }
    ids = {"documents": sorted(docs), "incidents": sorted(key_of), "events": [e[0] for e in evs]}
    counts = {"documents": len(docs), "incidents": len(rows), "events": len(evs), "ratings": len(rates)}
    return {"keys": _jsonable(keys), "ids": ids, "counts": counts}


def _progress_of(command: str, database: Database) -> int | None:
    """``progress`` of a database no command is running on; closed again at once (PostgreSQL copies a
    database only while nobody is connected to it)."""
    store = Store(database.url)
    try:
        return progress(command, store)
    finally:
        store.close()


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=list))


def check(run: Run, database: Database, *, cli: bool = True) -> list[str]:
    """``civicwatch check``'s problem lines (none when all is well); ``cli=False`` calls the function it
    prints (``Store.integrity_problems``) in this process, which saves a Python start per kill."""
    if not cli:
        store = Store(database.url)
        try:
            return store.integrity_problems()
        finally:
            store.close()
    done = subprocess.run([sys.executable, "-m", "civicwatch", "check"], env=run.env(database),
                          capture_output=True, text=True, timeout=600)
    if done.returncode == 0:
        return []
    return [line for line in done.stderr.splitlines() if line.strip()] or [f"exit status {done.returncode}"]


# ---- one command on one engine -----------------------------------------------------------------------

@dataclass
class Figures:
    """What the kills of one command on one engine showed."""

    command: str
    engine: str
    reference_seconds: float = 0.0
    kill_window: tuple[float, float] = (0.0, 0.0)  # seconds after the start the last kills were drawn from
    kills: int = 0
    by_progress: int = 0  # kills at a point of the stored progress rather than at a time
    finished_before_kill: int = 0
    mid_run: int = 0  # kills that left a state neither before nor after (a half-done run the re-run completed)
    check_problems: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    ids_differ: int = 0  # runs whose final ids differ from the reference's (same rows by natural key)

    @property
    def ok(self) -> bool:
        ids_must_match = self.engine == "sqlite"
        return not self.check_problems and not self.differences and not (ids_must_match and self.ids_differ)


def crash_command(command: str, engine: str, before: Database, run: Run, dbs: Databases, kills: int,
                  rng: random.Random, log: Callable[[str], None] = lambda _: None,
                  cli_check: bool = True) -> Figures:
    """Reference run, then ``kills`` killed-and-re-run copies of ``before``, compared with the reference."""
    figures = Figures(command, engine)
    initial = contents(before)
    reference_db = dbs.copy(before)
    _, seconds = run_command(command, run, reference_db, None)
    figures.reference_seconds = round(seconds, 2)
    # Delays fall where the command does its work: after its start-up (measured below; for the web edit
    # the clock starts with the first request), up to the reference run's end.
    earliest = 0.05
    reference = contents(reference_db)
    if command != "web edit":
        # Python's start-up and the command's fixed costs: the same command again, with its work done.
        _, idle = run_command(command, run, reference_db, None)
        earliest = min(idle, seconds * 0.8)
    attempts, latest = 0, seconds
    with_progress = _progress_of(command, before)
    total = (_progress_of(command, reference_db) or 0) - (with_progress or 0)
    dbs.drop(reference_db)
    while figures.kills < kills and attempts < kills * 4:
        attempts += 1
        db = dbs.copy(before)
        try:
            # Every other kill at a random point of the command's stored progress (right after one of its
            # commits, while it works on the next), the others at a random time (reading, coding, committing).
            if with_progress is not None and total >= 2 and figures.kills % 2 == 0:
                kill = Kill(at=with_progress + rng.randint(1, total - 1))
                when = f"after {kill.at - with_progress} of {total} rows"
            else:
                kill = Kill(after=rng.uniform(earliest, latest))
                when = f"at {kill.after:.2f} s"
            killed_it, took = run_command(command, run, db, kill)
            if not killed_it:
                # Faster than the reference this time (a loaded machine varies): aim earlier from now on.
                figures.finished_before_kill += 1
                if kill.after is not None:
                    latest = min(latest, took) * 0.9
                    earliest = min(earliest, latest * 0.8)
                continue
            figures.by_progress += kill.at is not None
            figures.kills += 1
            killed = contents(db)
            if killed["keys"] not in (initial["keys"], reference["keys"]):
                figures.mid_run += 1
            run_command(command, run, db, None)
            problems = check(run, db, cli=cli_check)
            figures.check_problems += [f"kill {figures.kills} {when}: {p}" for p in problems]
            final = contents(db)
            for part, value in final["keys"].items():
                if value != reference["keys"][part]:
                    figures.differences.append(f"kill {figures.kills} {when}: {part} differ")
            if final["ids"] != reference["ids"]:
                figures.ids_differ += 1
            log(f"{engine} {command}: kill {figures.kills} {when}, "
                f"{'mid-run' if killed['keys'] not in (initial['keys'], reference['keys']) else 'clean'} state, "
                f"check {problems or 'ok'}")
        finally:
            dbs.drop(db)
    figures.kill_window = (round(earliest, 2), round(latest, 2))
    return figures


@contextmanager
def workspace(count: int) -> Iterator[Run]:
    """A temporary folder with the corpus and the ``bulk code`` output of its archive."""
    with tempfile.TemporaryDirectory(prefix="cw-crash-") as tmp:
        folder = Path(tmp)
        write_corpus(folder, count)
        (folder / "none.toml").write_text("", encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "civicwatch", "bulk", "code", str(folder / "archive.jsonl"),
                               "--out", str(folder / "coded"), "--workers", "1", "--partition-size", "25"],
                              capture_output=True, text=True, timeout=900,
                              env={**os.environ, "CIVICWATCH_CONFIG": str(folder / "none.toml")})
        if done.returncode != 0:
            raise RuntimeError(f"bulk code failed: {done.stderr[-2000:]}")
        yield Run(folder)


def crash_engine(engine: str, run: Run, commands: list[str], kills: int, seed: int, postgres_url: str,
                 log: Callable[[str], None] = lambda _: None, cli_check: bool = True,
                 done: Callable[[Figures], None] = lambda _: None) -> list[Figures]:
    """Every command in ``commands`` killed ``kills`` times on ``engine``; ``done`` is told of each command's
    figures as soon as they are known."""
    dbs = Databases(engine, run.folder, postgres_url)
    try:
        before = _prepare_chain(run, dbs)
        rng = random.Random(f"{seed}-{engine}")
        results = []
        for command in commands:
            results.append(crash_command(command, engine, before[command], run, dbs, kills, rng, log, cli_check))
            done(results[-1])
        return results
    finally:
        dbs.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="kills per command per engine (default 20)")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--commands", default=",".join(COMMANDS))
    parser.add_argument("--documents", type=int, default=150, help="reports in the generated corpus")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--postgres-url", default=os.environ.get("CIVICWATCH_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    commands = [c.strip() for c in args.commands.split(",")]
    started = time.monotonic()
    results: list[Figures] = []

    def write(figures: Figures | None = None) -> None:  # after every command: an interrupted run keeps its figures
        if figures is not None:
            results.append(figures)
        report = {
            "documents": args.documents, "kills_per_command": args.kills, "seed": args.seed,
            "seconds": round(time.monotonic() - started, 1), "load_average": os.getloadavg(),
            "results": [{**vars(f), "ok": f.ok} for f in results],
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so that the databases made are dropped
    with workspace(args.documents) as run:
        for engine in args.engines.split(","):
            crash_engine(engine, run, commands, args.kills, args.seed, args.postgres_url,
                         log=lambda line: print(line, file=sys.stderr, flush=True), done=write)
    for f in results:
        print(f"{f.engine:10} {f.command:10} kills {f.kills:3} mid-run {f.mid_run:3} "
              f"check problems {len(f.check_problems)} differences {len(f.differences)} ids differ {f.ids_differ} "
              f"{'ok' if f.ok else 'FAILED'}")
    sys.exit(0 if all(f.ok for f in results) else 1)


if __name__ == "__main__":
    main()
