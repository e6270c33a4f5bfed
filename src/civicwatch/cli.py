"""The ``civicwatch`` command: a thin shell over the library.

Each command parses its options, calls one library function and renders the
result. Errors from the library are named exceptions carrying the input;
``_run`` turns them into one line on stderr and an exit status (2 for a usage
mistake, 1 for failed inputs), never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from civicwatch import __version__
from civicwatch.config import Settings, load_settings
from civicwatch.errors import CivicwatchError, UsageError
from civicwatch.model import SourceKind

app = typer.Typer(
    name="civicwatch",
    help="Monitor civic space: collect the reports monitors read, code them into incidents, publish them.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")

# emoji=False: Rich would turn ":a:" in a URN or a path into an emoji, changing the input it names.
out = Console(emoji=False)
# soft_wrap: an error stays one line however long the URL or path, also when stderr goes to a log file.
err = Console(stderr=True, soft_wrap=True, emoji=False)
T = TypeVar("T")

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", "-d", help="Database URL (default: $CIVICWATCH_DATABASE_URL or ./civicwatch.db)."),
]
ConfigOption = Annotated[Path | None, typer.Option("--config", help="A civicwatch.toml settings file.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]
AllowPrivateOption = Annotated[
    bool, typer.Option("--allow-private", help="Allow URLs on loopback or private networks.")
]


def _run(work: Callable[[], T]) -> T:
    """Call ``work``; render civicwatch errors as one line and exit with 2 (usage) or 1 (failed input)."""
    try:
        return work()
    except UsageError as exc:
        _say_error(exc.input, exc.reason)
        raise typer.Exit(2) from None
    except CivicwatchError as exc:
        _say_error(exc.input, exc.reason)
        raise typer.Exit(1) from None


def _say_error(input: str, reason: str) -> None:
    err.print(f"[red]error:[/red] {escape(input)}: {escape(reason)}", highlight=False)


def _usage_error(input: str, reason: str) -> NoReturn:
    _say_error(input, reason)
    raise typer.Exit(2)


def _settings(database: str | None, config: Path | None, **overrides: Any) -> Settings:
    return _run(lambda: load_settings(config, database_url=database, **overrides))


@contextmanager
def _store(settings: Settings, *, ready: bool = True) -> Iterator[Any]:
    from civicwatch.store import Store

    store = _run(lambda: Store(settings.database_url))
    try:
        if ready:
            _run(store.ensure_ready)
        yield store
    finally:
        store.close()


def _version(value: bool) -> None:
    if value:
        out.print(f"civicwatch {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Monitor civic space: collect the reports monitors read, code them into incidents, publish them.

    Start with [bold]civicwatch init[/bold], add what you read with [bold]civicwatch add-source[/bold],
    then run [bold]civicwatch collect[/bold] as often as you like.
    """


@app.command()
def init(database: DatabaseOption = None, config: ConfigOption = None) -> None:
    """Create the database, or bring an existing one up to date.

    Example: [bold]civicwatch init --database sqlite:///monitor.db[/bold]
    """
    settings = _settings(database, config)
    with _store(settings, ready=False) as store:
        _run(store.upgrade)
        out.print(f"Database ready at {_safe_url(settings.database_url)} (revision {store.current_revision()}).")


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOption = None, config: ConfigOption = None) -> None:
    """Run pending migrations.

    Example: [bold]civicwatch db upgrade --database postgresql://civicwatch@localhost/civicwatch[/bold]
    """
    settings = _settings(database, config)
    with _store(settings, ready=False) as store:
        before = store.current_revision()
        _run(store.upgrade)
        after = store.current_revision()
        if before == after:
            out.print(f"Already up to date (revision {after}).")
        else:
            out.print(f"Upgraded from {before or 'an empty database'} to {after}.")


@app.command("add-source")
def add_source(
    location: Annotated[str, typer.Argument(help="A feed or page URL, or a local file or folder.")],
    kind: Annotated[
        SourceKind | None, typer.Option(help="What it is; detected when not given.", case_sensitive=False)
    ] = None,
    name: Annotated[str | None, typer.Option(help="A short name (default: from the URL or path).")] = None,
    every: Annotated[str, typer.Option(help="How often to collect it: 30m, 6h, 1d, 1w.")] = "6h",
    allow_private: AllowPrivateOption = False,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Register a source to collect from.

    Examples:

      [bold]civicwatch add-source https://example.org/central-asia/feed.xml --every 2h[/bold]

      [bold]civicwatch add-source ./partner-export.jsonl --name partner[/bold]
    """
    from civicwatch.collect.fetch import Fetcher
    from civicwatch.collect.sources import is_url, new_source

    settings = _settings(database, config, allow_private=allow_private or None)
    with _store(settings) as store:
        if is_url(location) and kind is None:
            with Fetcher(settings, validators=None) as fetcher:
                source = _run(lambda: new_source(location, settings, fetcher, kind=kind, name=name, every=every))
        else:
            source = _run(lambda: new_source(location, settings, None, kind=kind, name=name, every=every))
        added = _run(lambda: store.add_source(source))
    out.print(f"Added {added.kind.value} source [bold]{added.name}[/bold]: {added.location}")


@app.command()
def sources(json_output: JsonOption = False, database: DatabaseOption = None, config: ConfigOption = None) -> None:
    """List the sources with their last run, item counts and last error.

    Example: [bold]civicwatch sources --json[/bold]
    """
    settings = _settings(database, config)
    with _store(settings) as store:
        found = store.sources()
    if json_output:
        out.print_json(data=[_source_json(s) for s in found])
        return
    table = Table("name", "kind", "every", "last run", "items", "last error", title=f"{len(found)} sources")
    for s in found:
        table.add_row(s.name, s.kind.value, _every(s.every_seconds),
                      s.last_run_at.strftime("%Y-%m-%d %H:%M") if s.last_run_at else "never",
                      str(s.item_count), s.last_error or "")
    out.print(table)


@app.command("remove-source")
def remove_source(
    name: Annotated[str, typer.Argument(help="The source's name.")],
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Stop collecting a source (its documents stay).

    Example: [bold]civicwatch remove-source partner[/bold]
    """
    settings = _settings(database, config)
    with _store(settings) as store:
        if not store.remove_source(name):
            _usage_error(name, "no such source")
    out.print(f"Removed {name}.")


@app.command()
def collect(
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Collect only this source now (repeatable).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Skip items published before this date (YYYY-MM-DD).")] = None,
    all_sources: Annotated[bool, typer.Option("--all", help="Collect every source now, due or not.")] = False,
    json_output: JsonOption = False,
    allow_private: AllowPrivateOption = False,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Fetch what is due from every source and store new documents.

    Exit status: 0 when everything was read, 1 when some inputs failed, 2 for a usage mistake.

    Examples:

      [bold]civicwatch collect[/bold]

      [bold]civicwatch collect --source partner --since 2026-01-01 --json[/bold]
    """
    from civicwatch.collect.pipeline import collect as collect_all

    if since is not None:
        _run(lambda: _check_date(since))
    settings = _settings(database, config, allow_private=allow_private or None)
    with _store(settings) as store, _progress(enabled=not json_output) as report:
        summary = _run(lambda: collect_all(store, settings, source_names=source, since=since, force=all_sources,
                                           report=report))
    if json_output:
        out.print_json(data=summary.to_json())
    else:
        table = Table("source", "new", "duplicate", "failed", "note", title="Collected")
        for s in summary.sources:
            note = "not modified" if s.not_modified else (s.error or "")
            table.add_row(s.name, str(s.new), str(s.duplicate), str(s.failed), note)
        table.add_row("[bold]all[/bold]", str(summary.new), str(summary.duplicate), str(summary.failed), "")
        out.print(table)
        if not summary.sources:
            out.print("No source is due. Use --all to collect every source now.")
    if summary.failed:
        raise typer.Exit(1)


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Callable[[str, str, object], None]]:
    """A Rich progress bar on stderr fed by the pipeline's events; failures print as single lines."""
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=err, transient=True, disable=not enabled)
    task = progress.add_task("collecting", total=None)

    def report(event: str, name: str, detail: object) -> None:
        if event == "source":
            progress.update(task, description=f"collecting {name}")
        elif event == "item":
            progress.advance(task)
        elif event == "failure":
            progress.console.print(f"[yellow]failed:[/yellow] {escape(str(detail))}", highlight=False)

    with progress:
        yield report


@app.command()
def documents(
    source: Annotated[str | None, typer.Option(help="Only documents from this source.")] = None,
    lang: Annotated[str | None, typer.Option(help="Only documents in this language (ISO 639-1).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many to show.")] = 50,
    json_output: JsonOption = False,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """List stored documents, oldest first.

    Example: [bold]civicwatch documents --lang ru --limit 10[/bold]
    """
    settings = _settings(database, config)
    with _store(settings) as store:
        source_id = None
        if source:
            found = store.source(source)
            if found is None:
                _usage_error(source, "no such source")
            source_id = found.id if found else None
        docs = store.documents(source_id=source_id, lang=lang, limit=limit)
    if json_output:
        for d in docs:
            sys.stdout.write(json.dumps(_document_json(d), ensure_ascii=False) + "\n")
        return
    _print_documents(docs)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words to look for in document text and titles.")],
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many results.")] = 20,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Full-text search over stored documents.

    Example: [bold]civicwatch search "detained journalist"[/bold]
    """
    settings = _settings(database, config)
    with _store(settings) as store:
        results = _run(lambda: store.search(query, limit=limit))
    for doc, snippet in results:
        out.print(f"[bold]{doc.id}[/bold] {escape(doc.title or '')} [dim]{escape(doc.url or '')}[/dim]",
                  highlight=False)
        out.print(f"    {snippet}", highlight=False, markup=False)
    if not results:
        out.print("No match.")


@app.command()
def show(
    document_id: Annotated[int, typer.Argument(help="A document's id (see `civicwatch documents`).")],
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Print one document with its metadata.

    Example: [bold]civicwatch show 12[/bold]
    """
    settings = _settings(database, config)
    with _store(settings) as store:
        doc = store.document(document_id)
    if doc is None:
        _usage_error(str(document_id), "no such document")
    meta = _document_json(doc)
    text = meta.pop("text")
    for key, value in meta.items():
        if value not in (None, ""):
            out.print(f"[bold]{key}:[/bold] {escape(str(value))}", highlight=False)
    out.print()
    out.print(text, highlight=False, markup=False)


CodebookOption = Annotated[
    Path | None,
    typer.Option("--codebook", help="A folder of codebook data files overriding the built-in ones entry by entry."),
]


def _coder(codebook: Path | None) -> Any:
    from civicwatch.code.coder import Coder

    if codebook is not None and not codebook.is_dir():
        _usage_error(str(codebook), "not a folder of codebook files")
    return _run(lambda: Coder(codebook))


@app.command()
def code(
    input: Annotated[str, typer.Argument(help="A JSON Lines file of documents, or - for standard input.")] = "-",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file (with a progress bar) instead of stdout.")
    ] = None,
    codebook: CodebookOption = None,
) -> None:
    """Code JSON Lines documents into codebook incidents: one JSON line out per document.

    Each input line is an object with [bold]id[/bold] and [bold]text[/bold], optionally [bold]published[/bold]
    (ISO date), [bold]lang[/bold], [bold]title[/bold], [bold]url[/bold]. A bad line is reported on stderr with
    its line number and the rest goes on (exit status 1).

    Examples:

      [bold]civicwatch code reports.jsonl > incidents.jsonl[/bold]

      [bold]cat reports.jsonl | civicwatch code - --out incidents.jsonl[/bold]
    """
    from civicwatch.code.jsonl import bounded_lines, code_lines
    from civicwatch.model import Failure

    if input != "-" and not Path(input).is_file():
        _usage_error(input, "no such file")
    if out is not None and out.exists() and out.is_dir():
        _usage_error(str(out), "is a folder; give a file name")
    coder = _coder(codebook)
    total = _count_lines(Path(input)) if out is not None and input != "-" else None
    failed = 0
    source = sys.stdin.buffer if input == "-" else open(input, "rb")  # noqa: SIM115 - closed below
    target = sys.stdout if out is None else open(out.with_name(out.name + ".part"), "w", encoding="utf-8")  # noqa: SIM115
    progress = Progress(TextColumn("coding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err, disable=out is None)
    try:
        with progress:
            task = progress.add_task("coding", total=total)
            for result in code_lines(bounded_lines(source), coder, input="<stdin>" if input == "-" else input):
                if isinstance(result, Failure):
                    failed += 1
                    progress.console.print(f"[red]error:[/red] {escape(str(result))}", highlight=False)
                else:
                    target.write(json.dumps(result, ensure_ascii=False) + "\n")
                progress.advance(task)
    finally:
        if source is not sys.stdin.buffer:
            source.close()
        if target is not sys.stdout:
            target.close()
    if out is not None:
        # Written whole, then renamed: an interrupted run never leaves a half-written output file.
        out.with_name(out.name + ".part").replace(out)
    if failed:
        raise typer.Exit(1)


def _count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


@app.command()
def process(
    limit: Annotated[int | None, typer.Option(min=1, help="Code at most this many documents in this run.")] = None,
    connect: Annotated[bool, typer.Option(
        "--connect/--no-connect",
        help="Afterwards connect the new incidents into events and register the people and organisations they "
             "name (as `civicwatch connect` does).")] = True,
    json_output: JsonOption = False,
    codebook: CodebookOption = None,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Code every stored document not yet coded by the current coder, store its incidents, and connect them.

    After a coder upgrade, machine-coded incidents are coded again; incidents a person made or edited are
    never overwritten. Safe to interrupt: a re-run carries on where it stopped.

    Example: [bold]civicwatch process[/bold]
    """
    from civicwatch.code.process import process as process_documents

    settings = _settings(database, config)
    coder = _coder(codebook)
    with _store(settings) as store:
        total = store.count_documents_to_code(coder.version)
        if limit is not None:
            total = min(total, limit)
        progress = Progress(TextColumn("coding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=err, transient=True, disable=json_output)
        with progress:
            task = progress.add_task("coding", total=total)
            summary = _run(lambda: process_documents(store, coder, limit=limit, coder_version=coder.version,
                                                     report=lambda event, value: progress.advance(task)))
        connected = None
        if connect and summary.incidents:
            from civicwatch.store.events import connect as connect_incidents

            connected = _run(lambda: connect_incidents(store))
    for failure in summary.failures:
        err.print(f"[yellow]failed:[/yellow] {escape(str(failure))}", highlight=False)
    if json_output:
        out.print_json(data={"documents": summary.documents, "incidents": summary.incidents,
                             "failed": summary.failed, "coder_version": coder.version,
                             "new_events": connected.new_events if connected else 0})
    else:
        out.print(f"Coded {summary.documents} documents: {summary.incidents} incidents, {summary.failed} failed "
                  f"(coder {coder.version}).", highlight=False)
        if connected:
            out.print(f"Connected {connected.incidents} incidents: {connected.new_events} new events, "
                      f"{connected.joined} reports of an event already known.", highlight=False)
    if summary.failed:
        raise typer.Exit(1)


@app.command()
def evaluate(
    gold: Annotated[Path, typer.Argument(help="A gold JSON Lines file: id, text, published, lang, incidents.")],
    by_type: Annotated[bool, typer.Option("--by-type", help="Add scores per incident type.")] = False,
    by_lang: Annotated[bool, typer.Option("--by-lang", help="Add scores per language.")] = False,
    json_output: JsonOption = False,
    codebook: CodebookOption = None,
) -> None:
    """Code a gold file's texts and score them as ../shared/tools/score_incidents.py does.

    Only each document's id, text and published date are given to the coder.

    Example: [bold]civicwatch evaluate ../shared/devset/devset.jsonl --by-type --by-lang[/bold]
    """
    from civicwatch.code.evaluate import evaluate as evaluate_gold

    if not gold.is_file():
        _usage_error(str(gold), "no such file")
    coder = _coder(codebook)
    result = _run(lambda: evaluate_gold(gold, coder, by_type=by_type, by_lang=by_lang))
    if json_output:
        out.print_json(data=result)
        return
    out.print(f"documents: {result['documents']}  (coder {result.get('coder_version', '?')})", highlight=False)
    _print_scores(result)
    if by_type:
        for name, s in result["by_type"].items():
            out.print(f"  {name:20} P {s['p']:.3f}  R {s['r']:.3f}  F1 {s['f1']:.3f}  "
                      f"(tp {s['tp']} fp {s['fp']} fn {s['fn']})", highlight=False)
    if by_lang:
        for lang, part in result["by_lang"].items():
            out.print(f"\n[bold]{lang}[/bold]: {part['documents']} documents")
            _print_scores(part)


def _print_scores(result: dict[str, Any]) -> None:
    for key in ("detect", "country", "pairs", "types", "rights", "targets", "persons"):
        s = result[key]
        extra = f"  macro-F1 {s['macro_f1']}" if key == "types" else ""
        out.print(f"{key:8} P {s['p']:.3f}  R {s['r']:.3f}  F1 {s['f1']:.3f}  "
                  f"(tp {s['tp']} fp {s['fp']} fn {s['fn']}){extra}", highlight=False)
    d = result["dates"]
    share = f" ({d['share']:.3f})" if d["share"] is not None else ""
    out.print(f"dates    {d['agree']}/{d['of']} agree{share}", highlight=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 exposes the site to your network.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (one per core serves most).")] = 1,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Serve the web site, the JSON API (/api/v1) and the Atom feeds.

    Example: [bold]civicwatch serve --port 8080[/bold]  (then open http://127.0.0.1:8080)
    """
    import uvicorn

    from civicwatch.web.app import app_from_settings

    settings = _settings(database, config)
    with _store(settings):
        pass  # refuse an uninitialised database before listening, with the usual one-line error
    err.print(f"Serving {_safe_url(settings.database_url)} on http://{host}:{port} (Ctrl+C to stop)", highlight=False)
    if workers == 1:
        application = app_from_settings(settings)
        # proxy_headers: uvicorn would otherwise believe X-Forwarded-Proto from 127.0.0.1 whatever trust_proxy says.
        uvicorn.run(application, host=host, port=port, log_level="warning", proxy_headers=settings.trust_proxy)
    else:
        os.environ["CIVICWATCH_DATABASE_URL"] = settings.database_url  # read again by each worker
        os.environ["CIVICWATCH_PAGE_CACHE_MB"] = str(settings.page_cache_mb)
        os.environ["CIVICWATCH_DATA_DIR"] = settings.data_dir  # the workers share one session secret
        os.environ["CIVICWATCH_TRUST_PROXY"] = str(settings.trust_proxy)
        os.environ["CIVICWATCH_PUBLISH"] = settings.publish
        os.environ["CIVICWATCH_PUBLIC_LAG_SECONDS"] = str(settings.public_lag_seconds)
        os.environ["CIVICWATCH_WARM_COUNTRY_PAGES"] = str(settings.warm_country_pages)
        uvicorn.run("civicwatch.web.app:app_from_environment", factory=True, workers=workers, host=host,
                    port=port, log_level="warning", proxy_headers=settings.trust_proxy)


@app.command()
def export(
    folder: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the files into (created if missing).")],
    format: Annotated[str, typer.Option("--format", "-f", help="csv, jsonl or datapackage.")] = "csv",
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2 code, e.g. UZ.")] = None,
    type: Annotated[str | None, typer.Option("--type", help="An incident type, e.g. detention.")] = None,
    right: Annotated[str | None, typer.Option(help="association, assembly or expression.")] = None,
    target: Annotated[str | None, typer.Option(help="A target, e.g. journalist.")] = None,
    perpetrator: Annotated[str | None, typer.Option(help="A perpetrator, e.g. police.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Incidents on or after this date.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Incidents on or before this date.")] = None,
    query: Annotated[str | None, typer.Option("--query", "-q", help="Words in the evidence or document.")] = None,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Export public incidents, their documents, persons and organisations.

    [bold]datapackage[/bold] writes the CSV files with a Frictionless Data Package descriptor (datapackage.json).

    Example: [bold]civicwatch export --format datapackage --country UZ --type detention --out uz-detentions[/bold]
    """
    from civicwatch.publish.export import FORMATS, export_store
    from civicwatch.store.browse import IncidentFilters

    if format not in FORMATS:
        _usage_error(format, f"not an export format (one of {', '.join(FORMATS)})")
    from civicwatch.web.params import PATTERNS

    given = {"country": country, "type": type, "right": right, "target": target, "perpetrator": perpetrator,
             "date_from": date_from, "date_to": date_to}
    for name, value in given.items():
        if value is not None and not re.fullmatch(PATTERNS[name], value):
            _usage_error(value, f"not a valid --{name.replace('date_', '').replace('_', '-')} value")
    from civicwatch.store.browse import set_publish_mode

    settings = _settings(database, config)
    _run(lambda: set_publish_mode(settings.publish))  # the export holds what the site shows, no more
    filters = _run(lambda: IncidentFilters(country=country, type=type, right=right, target=target,
                                           perpetrator=perpetrator, date_from=date_from, date_to=date_to, q=query))
    with _store(settings) as store:
        written = _run(lambda: export_store(store, filters, folder, format=format))
    for path in written:
        out.print(str(path), highlight=False)


@app.command()
def check(database: DatabaseOption = None, config: ConfigOption = None) -> None:
    """Check the database for duplicate, orphan or half-written rows (exit 1 if any).

    Example: [bold]civicwatch check[/bold]
    """
    settings = _settings(database, config)
    with _store(settings) as store:
        problems = store.integrity_problems()
    for problem in problems:
        err.print(f"[red]problem:[/red] {escape(problem)}", highlight=False)
    if problems:
        raise typer.Exit(1)
    out.print("No problems found.")


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="The backup file to write (replaced if it exists).")],
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Copy the whole database into one file: SQLite's online backup, or pg_dump for PostgreSQL.

    Safe while collect and serve keep running. Example: [bold]civicwatch backup civicwatch-2026-12-03.db[/bold]
    """
    from civicwatch.store.backup import backup as make_backup

    settings = _settings(database, config)
    with _store(settings) as store:
        summary = _run(lambda: make_backup(store, file))
    rows = sum(summary.rows.values())
    out.print(f"Backed up {_safe_url(settings.database_url)} to {escape(str(summary.path))}: {rows:,} rows in "
              f"{len(summary.rows)} tables.", highlight=False)


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A file written by civicwatch backup.")],
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite a database that already holds data.")] = False,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Put a backup in place of the database (all or nothing); stop `serve` and `collect` first.

    Example: [bold]civicwatch restore civicwatch-2026-12-03.db --replace[/bold]
    """
    from civicwatch.store.backup import restore as put_back

    settings = _settings(database, config)
    with _store(settings, ready=False) as store:
        summary = _run(lambda: put_back(store, file, replace=replace))
    rows = sum(summary.rows.values())
    out.print(f"Restored {escape(str(file))} into {_safe_url(settings.database_url)}: {rows:,} rows in "
              f"{len(summary.rows)} tables.", highlight=False)


@app.command()
def demo(
    database: DatabaseOption = None,
    examples: Annotated[Path, typer.Option(help="The sample corpus folder.")] = Path("examples"),
    serve_site: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the site afterwards.")] = True,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port for the site.")] = 8000,
    ratings: Annotated[Path | None, typer.Option(
        help="Base ratings to use instead of the sample's (e.g. the CIVICUS Monitor file).")] = None,
) -> None:
    """Load civicwatch's own sample corpus (fictional people), code it, show it, and serve the site.

    Example: [bold]civicwatch demo[/bold]  (then open http://127.0.0.1:8000)
    Example: [bold]civicwatch demo --ratings ../shared/data/civicus_ratings/ratings.csv[/bold]
    """
    from civicwatch.demo import load_demo

    settings = _settings(database, None)
    with _store(settings, ready=False) as store:
        summary = _run(lambda: load_demo(store, settings, examples))
        out.print(f"Collected the sample corpus into {_safe_url(settings.database_url)}: "
                  f"{summary.new} new, {summary.duplicate} duplicate, {summary.failed} failed.")
        for s in summary.sources:
            for failure in s.failures:
                err.print(f"[yellow]failed:[/yellow] {escape(str(failure))}", highlight=False)
        _print_documents(store.documents(limit=1000))
        from civicwatch.code.coder import Coder
        from civicwatch.code.process import process as process_documents

        coder = _run(Coder)
        coded = _run(lambda: process_documents(store, coder, coder_version=coder.version))
        from civicwatch.store.events import connect

        connected = _run(lambda: connect(store))  # before rating: ratings count events
        from civicwatch.demo import rate_demo

        rated = _run(lambda: rate_demo(store, examples, ratings))
        from civicwatch.demo import upr_demo

        _run(lambda: upr_demo(store, examples))
        counts = store.counts()
        by_lang = store.counts_by_lang()
        incidents = store.incidents(limit=10_000)
    out.print(f"{counts.get('documents', 0)} documents ({counts.get('digests', 0)} of them digests), "
              f"{counts.get('sightings', 0)} duplicate sightings; languages: "
              + ", ".join(f"{k or '?'} {v}" for k, v in sorted(by_lang.items(), key=lambda kv: -kv[1])))
    by_type: dict[str, int] = {}
    for incident in incidents:
        for kind in incident.types:
            by_type[kind] = by_type.get(kind, 0) + 1
    out.print(f"Coded {coded.documents} new documents; {len(incidents)} incidents in all: "
              + ", ".join(f"{k} {v}" for k, v in sorted(by_type.items(), key=lambda kv: -kv[1])))
    out.print(f"Connected them into {connected.new_events} events ({connected.joined} incidents reported "
              "by more than one document).")
    out.print(f"Rated {rated.countries} countries as of {rated.as_of}: "
              + ", ".join(f"{r.country} {r.category} ({r.score})" for r in rated.latest))
    if serve_site:
        serve(host="127.0.0.1", port=port, workers=1, database=database, config=None)


def _print_documents(docs: list[Any]) -> None:
    table = Table("id", "lang", "published", "title", "words", title=f"{len(docs)} documents")
    for d in docs:
        title = escape(d.title or d.text[:60].replace("\n", " "))
        if d.is_digest:
            title = f"[dim](digest)[/dim] {title}"
        elif d.parent_id:
            title = f"  └ {title}"
        table.add_row(str(d.id), d.lang or "?", (d.published or "")[:10], title, str(len(d.text.split())))
    out.print(table)


def _source_json(s: Any) -> dict[str, Any]:
    return {"name": s.name, "location": s.location, "kind": s.kind.value, "every_seconds": s.every_seconds,
            "last_run_at": s.last_run_at.isoformat() if s.last_run_at else None,
            "last_ok_at": s.last_ok_at.isoformat() if s.last_ok_at else None,
            "items": s.item_count, "last_error": s.last_error, "failures": s.failures}


def _document_json(d: Any) -> dict[str, Any]:
    return {"id": d.id, "source_id": d.source_id, "url": d.url, "canonical_url": d.canonical_url,
            "title": d.title, "author": d.author, "published": d.published, "published_from": d.published_from,
            "fetched_at": d.fetched_at.isoformat() if d.fetched_at else None, "lang": d.lang,
            "parent_id": d.parent_id, "is_digest": d.is_digest, "content_hash": d.content_hash, "text": d.text}


# ---- connect: events, persons and organisations ----


@app.command("connect")
def connect_cli(database: DatabaseOption = None, config: ConfigOption = None, json_output: JsonOption = False) -> None:
    """Connect incidents not yet in an event: reports of the same happening become one event.

    Incremental: only incidents that are new (or re-coded) since the last run are compared, each
    with the events of its country and month. Safe to re-run.

    Example: [bold]civicwatch process && civicwatch connect[/bold]
    """
    from civicwatch.store.events import connect

    settings = _settings(database, config)
    bar = Progress(TextColumn("connecting"), BarColumn(), MofNCompleteColumn(), console=err, disable=json_output)
    with _store(settings) as store, bar:
        task = bar.add_task("connecting", total=None)
        report = _run(lambda: connect(store, progress=lambda done, total: bar.update(task, completed=done,
                                                                                      total=total)))
    summary = {"incidents": report.incidents, "new_events": report.new_events, "joined": report.joined}
    if json_output:
        out.print_json(data=summary)
    else:
        out.print(f"Connected {report.incidents} incidents: {report.new_events} new events, "
                  f"{report.joined} joined an event reported elsewhere.")

# ---- review: accounts, review, field reports ----

user_app = typer.Typer(help="Accounts for researchers and partners (viewer, researcher, admin).", no_args_is_help=True)
app.add_typer(user_app, name="user")
RoleOption = Annotated[str, typer.Option("--role", help="viewer, researcher or admin.")]
PasswordStdinOption = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input (for scripts).")
]


def _read_password(from_stdin: bool) -> str:
    """The new password: the first line of stdin, or typed twice at a hidden prompt (never an argument)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="The account's name, used to sign in.")],
    role: RoleOption = "viewer",
    password_stdin: PasswordStdinOption = False,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Create an account; the password is asked for (or read from stdin), never given as an argument.

    Example: [bold]civicwatch user add amina --role researcher[/bold]
    """
    from civicwatch.store.users import add_user

    settings = _settings(database, config)
    password = _read_password(password_stdin)
    with _store(settings) as store:
        user = _run(lambda: add_user(store, name, role, password))
    out.print(f"Added {escape(user.name)} ({user.role}).", highlight=False)


@user_app.command("list")
def user_list(database: DatabaseOption = None, config: ConfigOption = None) -> None:
    """List the accounts: name, role, since when, and whether locked after failed logins.

    Example: [bold]civicwatch user list[/bold]
    """
    from datetime import UTC, datetime

    from civicwatch.store.users import list_users

    settings = _settings(database, config)
    with _store(settings) as store:
        accounts = _run(lambda: list_users(store))
    if not accounts:
        out.print("No accounts yet: add one with civicwatch user add NAME --role researcher", highlight=False)
    now = datetime.now(UTC)
    for user in accounts:
        locked = "  locked" if user.locked_until and user.locked_until > now else ""
        out.print(f"{escape(user.name)}\t{user.role}\tsince {user.created_at:%Y-%m-%d}{locked}", highlight=False)


@user_app.command("remove")
def user_remove(
    name: Annotated[str, typer.Argument(help="The account to remove.")],
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Remove an account; its open sessions stop working at their next request.

    Example: [bold]civicwatch user remove amina[/bold]
    """
    from civicwatch.store.users import remove_user

    settings = _settings(database, config)
    with _store(settings) as store:
        _run(lambda: remove_user(store, name))
    out.print(f"Removed {escape(name)}.", highlight=False)


@user_app.command("role")
def user_role(
    name: Annotated[str, typer.Argument(help="The account.")],
    role: Annotated[str, typer.Argument(help="viewer, researcher or admin.")],
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Change an account's role (effective at its next request).

    Example: [bold]civicwatch user role amina admin[/bold]
    """
    from civicwatch.store.users import set_role

    settings = _settings(database, config)
    with _store(settings) as store:
        user = _run(lambda: set_role(store, name, role))
    out.print(f"{escape(user.name)} is now {user.role}.", highlight=False)


@user_app.command("password")
def user_password(
    name: Annotated[str, typer.Argument(help="The account.")],
    password_stdin: PasswordStdinOption = False,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Set a new password for an account (and lift a lock-out).

    Example: [bold]civicwatch user password amina[/bold]
    """
    from civicwatch.store.users import set_password

    settings = _settings(database, config)
    password = _read_password(password_stdin)
    with _store(settings) as store:
        _run(lambda: set_password(store, name, password))
    out.print(f"New password set for {escape(name)}.", highlight=False)

CONFIDENTIAL_KINDS = ("incident", "document", "source", "person", "organisation")


def _os_user() -> str:
    """Who runs the command, for the audit log: the operating system's user name ("cli" when it has none)."""
    import getpass

    try:
        return getpass.getuser() or "cli"
    except (OSError, KeyError):  # no login name and no entry in the password database (some containers)
        return "cli"


def _confidential(store: Any, kind: str, item_id: int, *, lift: bool, reason: str, actor: str) -> str:
    # The store's two calls (``review`` for incidents, documents and sources; ``cases`` for the registry)
    # behind the one command; returns the line saying what changed.
    from civicwatch.store import cases, review

    if kind not in CONFIDENTIAL_KINDS:
        raise UsageError(kind, "expected one of: " + ", ".join(CONFIDENTIAL_KINDS))
    if not reason.strip():
        raise UsageError("--reason", "say why the mark changes; it goes into the audit log")
    if not 0 < item_id <= 2**31 - 1:
        raise UsageError(f"{kind} {item_id}", f"no {kind} with this id")
    if kind in ("person", "organisation"):
        try:
            cases.set_confidential(store, item_id, not lift, kind="persons" if kind == "person" else "organisations",
                                   actor=actor, reason=reason.strip())
        except UsageError:
            raise UsageError(f"{kind} {item_id}", f"no {kind} with this id") from None
    else:
        review.set_confidential(store, kind, item_id, not lift, actor=actor, reason=reason.strip())
    if lift:
        return f"{kind.capitalize()} {item_id} is no longer confidential (by {actor})."
    return f"{kind.capitalize()} {item_id} is now confidential: never public (by {actor})."


@app.command("confidential")
def confidential_cli(
    kind: Annotated[str, typer.Argument(help="incident, document, source, person or organisation.")],
    item_id: Annotated[int, typer.Argument(metavar="ID", help="Its number (as in its page's address).")],
    reason: Annotated[str, typer.Option("--reason", help="Why; kept in the audit log.")],
    lift: Annotated[bool, typer.Option("--lift", help="Make it public again instead.")] = False,
    by: Annotated[str | None, typer.Option("--by", help="Who does it (default: your login name).")] = None,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Mark an incident, document, source, person or organisation confidential, or lift the mark.

    A confidential source hides everything read from it; the change is audited.

    Example: [bold]civicwatch confidential source 3 --reason "the partner asked not to be named"[/bold]
    """
    settings = _settings(database, config)
    actor = by or _os_user()
    with _store(settings) as store:
        line = _run(lambda: _confidential(store, kind, item_id, lift=lift, reason=reason, actor=actor))
    out.print(escape(line), highlight=False)

# ---- rate: ratings and watchlist ----

ratings_app = typer.Typer(help="Base ratings of civic space and researchers' overrides.", no_args_is_help=True)
app.add_typer(ratings_app, name="ratings")
WeightsOption = Annotated[
    Path | None, typer.Option("--weights", help="A TOML file overriding codebook/rating.toml entry by entry.")
]


@ratings_app.command("import")
def ratings_import(
    file: Annotated[Path, typer.Argument(help="CSV: iso2,year,rating (CIVICUS Monitor) or iso2,category|score,as_of.")],
    weights: WeightsOption = None,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Import base ratings from a CSV file (all rows or none); run [bold]civicwatch rate[/bold] afterwards.

    Example: [bold]civicwatch ratings import ratings.csv[/bold]
    """
    from civicwatch.rate.files import read_ratings_file
    from civicwatch.rate.method import load_weights
    from civicwatch.store.ratings import save_bases

    settings = _settings(database, config)
    rows = _run(lambda: read_ratings_file(file, _run(lambda: load_weights(weights))))
    with _store(settings) as store:
        count = _run(lambda: save_bases(store, rows, source=file.name))
    out.print(f"Imported {count} base ratings for {len({r.country for r in rows})} countries from "
              f"{escape(file.name)}.", highlight=False)


@ratings_app.command("set")
def ratings_set(
    country: Annotated[str, typer.Argument(help="ISO 3166-1 alpha-2 code, e.g. UZ.")],
    reason: Annotated[str, typer.Option(help="Why: shown with the rating.")],
    by: Annotated[str, typer.Option("--by", help="Who sets it.")],
    score: Annotated[int | None, typer.Option(min=0, max=100, help="A base score, 0-100.")] = None,
    category: Annotated[str | None, typer.Option(help="Or a category: its band's middle becomes the base.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="From this day on (default today).")] = None,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Set a country's base score as a researcher, with a reason.

    Example: [bold]civicwatch ratings set KZ --score 45 --reason "2025 assessment" --by amina[/bold]
    """
    from datetime import date

    from civicwatch.rate.files import BaseRating
    from civicwatch.rate.method import base_score, category_of, load_weights
    from civicwatch.store.ratings import save_bases

    if (score is None) == (category is None):
        _usage_error("--score/--category", "give one of the two")
    if as_of is not None:
        _run(lambda: _check_date(as_of))
    if not reason.strip():
        _usage_error("--reason", "a base set by hand needs a reason")
    weights = _run(load_weights)
    value = score if score is not None else _run(lambda: base_score((category or "").lower(), weights))
    code = _run(lambda: _country_code(country))
    row = BaseRating(code, as_of or date.today().isoformat(), value, category_of(value, weights), reason.strip())
    settings = _settings(database, config)
    with _store(settings) as store:
        _run(lambda: save_bases(store, [row], source="researcher", set_by=by))
    out.print(f"{code}: base {value} ({row.category}) from {row.as_of}. Run civicwatch rate to apply it.")


@ratings_app.command("override")
def ratings_override(
    country: Annotated[str, typer.Argument(help="ISO 3166-1 alpha-2 code, e.g. UZ.")],
    category: Annotated[str, typer.Argument(help="The category to show, or 'none' to lift an override.")],
    reason: Annotated[str, typer.Option(help="Why: shown with the rating and kept in its record.")],
    by: Annotated[str, typer.Option("--by", help="Who overrides it.")],
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Override a country's computed category (recorded with who and why; 'none' lifts it).

    Example: [bold]civicwatch ratings override TJ closed --reason "mass arrests in Khorog" --by amina[/bold]
    """
    from civicwatch.store.ratings import set_override

    code = _run(lambda: _country_code(country))
    chosen = None if category.lower() == "none" else category.lower()
    settings = _settings(database, config)
    with _store(settings) as store:
        _run(lambda: set_override(store, code, chosen, reason=reason, set_by=by))
    out.print(f"{code}: shown as {chosen} (override by {escape(by)})." if chosen else f"{code}: override lifted.")


@app.command()
def rate(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Rate as on this day (default today).")] = None,
    weights: WeightsOption = None,
    database: DatabaseOption = None,
    config: ConfigOption = None,
    json_output: JsonOption = False,
) -> None:
    """Rate each country's civic space (0-100 and a category) from its base and its events, month by month.

    Example: [bold]civicwatch rate --as-of 2026-06-30[/bold]
    """
    from datetime import date

    from civicwatch.rate.run import rate_countries

    day = None
    if as_of is not None:
        _run(lambda: _check_date(as_of))
        day = date.fromisoformat(as_of)
    settings = _settings(database, config)
    with _store(settings) as store:
        summary = _run(lambda: rate_countries(store, as_of=day, weights_file=weights))
    if json_output:
        out.print_json(data={"as_of": summary.as_of, "countries": [
            {"country": r.country, "score": r.score, "category": r.category, "base": r.base_score,
             "adjustment": r.adjustment, "events": r.events} for r in summary.latest]})
        return
    table = Table("country", "score", "category", "base", "events", "adjustment",
                  title=f"Ratings as of {summary.as_of}")
    for r in summary.latest:
        table.add_row(r.country, str(r.score), r.category, str(r.base_score), str(r.events), f"{r.adjustment:+.1f}")
    out.print(table)
    out.print(f"{summary.countries} countries rated, {summary.periods} monthly ratings stored.")
    if not summary.countries:
        err.print("No country has a base rating yet: import one with civicwatch ratings import FILE.")


def _country_code(value: str) -> str:
    import pycountry

    code = value.strip().upper()
    if code != "XK" and pycountry.countries.get(alpha_2=code) is None:
        raise UsageError(value, "not an ISO 3166-1 alpha-2 country code")
    return code

# ---- UPR and briefs ----

upr_app = typer.Typer(help="UPR recommendations: import, themes, implementation assessments.", no_args_is_help=True)
app.add_typer(upr_app, name="upr")


@upr_app.command("import")
def upr_import(
    file: Annotated[Path, typer.Argument(help="A UPR recommendations CSV (format: docs/upr.md).")],
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Import UPR recommendations and tag their civic-space themes; re-importing a file adds nothing.

    Example: [bold]civicwatch upr import /work/shared/data/upr_recommendations/central_asia.csv[/bold]
    """
    from civicwatch.store.upr import import_recommendations
    from civicwatch.upr.importer import read
    from civicwatch.upr.tagging import tagger

    settings = _settings(database, config)
    with _store(settings) as store, Progress(BarColumn(), MofNCompleteColumn(), console=err,
                                             transient=True) as progress:
        rows = _run(lambda: list(read(file)))  # every line checked before anything is stored
        themes = tagger()
        task = progress.add_task("importing", total=len(rows))
        added, skipped = _run(lambda: import_recommendations(
            store, rows, source_file=file.name, themes=themes.themes,
            progress=lambda n: progress.advance(task, n)))
    out.print(f"Imported {added} UPR recommendations from {escape(file.name)} ({skipped} already there).",
              highlight=False)


@upr_app.command("list")
def upr_list(
    country: Annotated[str, typer.Argument(help="ISO 3166-1 alpha-2 code, e.g. UZ.")],
    theme: Annotated[str | None, typer.Option(help="Only this theme, e.g. assembly.")] = None,
    json_output: JsonOption = False,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """List a country's UPR recommendations with themes and implementation status.

    Example: [bold]civicwatch upr list UZ --theme journalists[/bold]
    """
    from civicwatch.store.upr import recommendations

    code = _run(lambda: _country_code(country))
    settings = _settings(database, config)
    with _store(settings) as store:
        rows = _run(lambda: recommendations(store, code, theme=theme))
    if json_output:
        out.print_json(data=[{"id": r.id, "session": r.session, "cycle": r.cycle, "recommending_state":
                              r.recommending_state, "text": r.text, "response": r.response, "themes": list(r.themes),
                              "status": r.assessment.status if r.assessment else None} for r in rows])
        return
    table = Table("id", "session", "from", "response", "themes", "status", "recommendation")
    for r in rows:
        table.add_row(str(r.id), str(r.session), escape(r.recommending_state), r.response, ", ".join(r.themes),
                      r.assessment.status if r.assessment else "-", escape(r.text[:100]))
    out.print(table)


@upr_app.command("assess")
def upr_assess(
    recommendation_id: Annotated[int, typer.Argument(help="The recommendation's id (civicwatch upr list).")],
    status: Annotated[str, typer.Option(help="not_implemented, partially or fully.")],
    evidence: Annotated[str, typer.Option(help="What shows it: a law, an event, a source URL.")],
    by: Annotated[str, typer.Option("--by", help="Who assesses it.")],
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Record a recommendation's implementation status with evidence (kept in the audit log).

    Example: [bold]civicwatch upr assess 12 --status partially --evidence "Law 123 of 2024" --by amina[/bold]
    """
    from civicwatch.store.upr import assess

    settings = _settings(database, config)
    with _store(settings) as store:
        _run(lambda: assess(store, recommendation_id, status=status, evidence=evidence, actor=by))
    out.print(f"Recommendation {recommendation_id}: {status}.", highlight=False)


@upr_app.command("evidence")
def upr_evidence(
    recommendation_id: Annotated[int, typer.Argument(help="The recommendation's id (civicwatch upr list).")],
    limit: Annotated[int, typer.Option(min=1, help="At most this many events.")] = 10,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Suggest evidence: events in the country since the review that match the recommendation's themes.

    Example: [bold]civicwatch upr evidence 12[/bold]
    """
    from civicwatch.store.upr import recommendation, suggest_evidence
    from civicwatch.upr.tagging import tagger

    settings = _settings(database, config)
    with _store(settings) as store:
        rec = _run(lambda: recommendation(store, recommendation_id))
        events = _run(lambda: suggest_evidence(store, rec, tagger().evidence_matches, limit=limit))
    table = Table("incident", "date", "types", "source", "evidence")
    for e in events:
        table.add_row(str(e.incident_id), e.date or "", ", ".join(e.types), escape(e.url or ""),
                      escape(e.evidence[:80]))
    out.print(table)
    if not events:
        err.print(f"No events match themes {', '.join(rec.themes) or '(none)'} since {rec.review_year}.")


class BriefFormat(StrEnum):
    md = "md"
    html = "html"
    pdf = "pdf"


@app.command()
def brief(
    country: Annotated[str, typer.Argument(help="ISO 3166-1 alpha-2 code, e.g. UZ.")],
    since: Annotated[str, typer.Option(help="Events from this day on (YYYY-MM-DD).")],
    format: Annotated[BriefFormat, typer.Option("--format", help="md, html or pdf (needs chromium).")] = BriefFormat.md,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here (default: UZ-brief.md etc.).")] = None,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Write a country brief: rating and trend, key events, detained persons, restrictive laws, UPR status,
    with numbered citations of the stored sources.

    Example: [bold]civicwatch brief UZ --since 2024-01-01 --format pdf --out uzbekistan.pdf[/bold]
    """
    from civicwatch.publish import brief as briefs

    settings = _settings(database, config)
    with _store(settings) as store:
        data = _run(lambda: briefs.gather(store, country, since))
    target = out_file or Path(f"{data.country}-brief.{format.value}")
    if format is BriefFormat.pdf:
        _run(lambda: briefs.pdf(data, target))
    else:
        text = briefs.markdown(data) if format is BriefFormat.md else briefs.html(data)
        partial = target.with_name(target.name + ".part")
        _run(lambda: partial.write_text(text, encoding="utf-8"))
        partial.replace(target)  # whole or not at all
    out.print(f"Wrote the {data.name} brief ({data.event_count} events, {len(data.citations)} sources) to "
              f"{escape(str(target))}.", highlight=False)

# ---- bulk: archives on Dask ----

bulk_app = typer.Typer(help="Bulk coding of archives on Dask, and loading the results.", no_args_is_help=True)
app.add_typer(bulk_app, name="bulk")


@bulk_app.command("code")
def bulk_code(
    inputs: Annotated[list[Path], typer.Argument(help="Archives: .jsonl, .jsonl.gz, .jsonl.zst or .parquet.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (partitioned Parquet, summary.json).")],
    scheduler: Annotated[str, typer.Option("--scheduler", help="A Dask scheduler address, or local.")] = "local",
    workers: Annotated[int, typer.Option("--workers", help="Worker processes of the local cluster.")] = 2,
    partition_size: Annotated[int, typer.Option("--partition-size", help="Documents per partition.")] = 5000,
) -> None:
    """Code archives of documents on Dask into partitioned Parquet of incidents; resumes a killed run.

    Each document is coded exactly as [bold]civicwatch code[/bold] codes it. Run it again with the same
    inputs and --out to finish an interrupted run: finished partitions are not redone.

    Examples:

      [bold]civicwatch bulk code archive-2024.jsonl.zst --out coded-2024[/bold]

      [bold]civicwatch bulk code part-*.parquet --out coded --scheduler tcp://10.0.0.5:8786[/bold]
    """
    import time

    from rich.progress import TimeRemainingColumn

    from civicwatch.bulk.run import RunSummary, run

    progress = Progress(TextColumn("coding"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=err)
    state: dict[str, Any] = {}

    def started(summary: RunSummary, todo: int) -> None:
        err.print(f"scheduler {summary.scheduler}, {summary.workers} workers; "
                  f"{summary.partitions_skipped} of {summary.partitions} partitions already finished")
        err.print(f"dashboard: {summary.dashboard}" if summary.dashboard
                  else "dashboard: not served (install bokeh to get Dask's dashboard)")
        progress.start()
        state["task"] = progress.add_task("coding", total=todo, rate="")
        state["t0"] = time.perf_counter()

    def advanced(documents: int) -> None:
        progress.advance(state["task"], documents)
        done = progress.tasks[0].completed
        progress.update(state["task"], rate=f"{done / max(time.perf_counter() - state['t0'], 1e-9):,.0f} docs/s")

    def failed(key: str, reason: str) -> None:
        progress.console.print(f"[red]partition {key} failed, skipped:[/red] {escape(reason)}", highlight=False)

    try:
        summary = _run(lambda: run(inputs, out, scheduler=scheduler, workers=workers, partition_size=partition_size,
                                   on_start=started, on_partition=advanced, on_failure=failed))
    finally:
        progress.stop()
    for failure in _bulk_failures(out):
        err.print(f"[red]error:[/red] {escape(failure)}", highlight=False)
    out_json = summary.to_json()
    err.print(f"{summary.documents:,} documents coded ({out_json['documents_per_second'] or 0:,} docs/s), "
              f"{summary.incidents:,} incidents, {summary.bad_lines} bad lines, "
              f"{len(summary.partitions_failed)} partitions failed; summary in {out / 'summary.json'}")
    if summary.bad_lines or summary.partitions_failed:
        raise typer.Exit(1)


def _bulk_failures(out: Path) -> Iterator[str]:
    for path in sorted((out / "failures").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            yield f"{item['input']}: {item['reason']}"


@bulk_app.command("load")
def bulk_load(
    folder: Annotated[Path, typer.Argument(help="A folder written by civicwatch bulk code.")],
    batch: Annotated[int, typer.Option("--batch", help="Documents per transaction.")] = 5000,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Load a bulk-coded folder into the database: its documents (by content hash) and their incidents.

    Documents not yet stored are added with the content hash collect uses, so a text already collected
    is not stored twice. Loading the same folder again changes nothing.

    Example: [bold]civicwatch bulk load coded-2024 --database postgresql://localhost/civicwatch[/bold]
    """
    import dataclasses

    from civicwatch.bulk.load import load

    settings = _settings(database, config)
    with _store(settings) as store:
        progress = Progress(TextColumn("loading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=err)
        with progress:
            task = progress.add_task("loading", total=None)
            summary = _run(lambda: load(store, folder, batch=batch,
                                        on_documents=lambda n: progress.advance(task, n)))
    out.print_json(data=dataclasses.asdict(summary))



def _every(seconds: int) -> str:
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _check_date(value: str) -> None:
    from datetime import date

    try:
        date.fromisoformat(value)
    except ValueError:
        raise UsageError(value, "not a date; use YYYY-MM-DD") from None


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is reported by the store; here it is only displayed
        return url


def main() -> None:
    """Entry point of the ``civicwatch`` console script."""
    app()
