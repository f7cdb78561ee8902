"""Typer commands for intake (thin: parse options, call one library function).

``registry search``, ``registry import FILE``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from registry.commands._common import console, fail, is_tty, with_store


@contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int | None, str], None] | None]:
    """A Rich progress bar fed by the library's (done, total, message) callback; TTY only."""
    if not is_tty():
        yield None
        return
    bar = Progress(
        TextColumn(label.replace("{", "{{").replace("}", "}}"), style="bold", markup=False),
        BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}", markup=False),
        TimeElapsedColumn(), console=console, transient=True,
    )
    task = bar.add_task("", total=None)

    def update(done: int, total: int | None, message: str) -> None:
        bar.update(task, completed=done, total=total, description=message)

    with bar:
        yield update


def search(
    ctx: typer.Context,
    review: str | None = typer.Option(
        None, "--review", metavar="NAME",
        help="Review whose protocol's saved PubMed queries to run.",
    ),
    query: str | None = typer.Option(
        None, "--query", help="PubMed query to run instead of the saved one."
    ),
    full: bool = typer.Option(
        False, "--full", help="Re-run the whole query (default: only records created "
        "since the last successful run)."
    ),
    batch: int = typer.Option(500, "--batch", help="PMIDs per EFetch request."),
    max_records: int | None = typer.Option(
        None, "--max-records", help="Stop after fetching this many records (the next "
        "run resumes)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Run PubMed searches via NCBI E-utilities into the registry (incremental)."""
    from registry.intake.run import run_search  # here: keeps `registry --help` fast

    if query is None and review is None:  # before opening: no empty database left behind
        raise fail("give --review NAME (its saved PubMed query) or --query TEXT", 2)
    with _progress_bar("PubMed") as progress:
        summaries = with_store(
            ctx, run_search, review, query=query, full=full, batch=batch,
            max_records=max_records, progress=progress,
        )
    if as_json:
        typer.echo(json.dumps([s.to_dict() for s in summaries], indent=2))
        return
    for s in summaries:
        console.print(s.line(), highlight=False, soft_wrap=True)


def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Export file (PubMed XML, MEDLINE/.nbib, RIS; "
                                ".gz accepted)."),
    fmt: str | None = typer.Option(
        None, "--format", help="pubmed-xml | medline | ris (default: detected)."
    ),
    source: str | None = typer.Option(
        None, "--source", help="Database the file was exported from (embase, "
        "web_of_science/wos, cochrane_central/central, ...); default pubmed for PubMed "
        "XML/MEDLINE."
    ),
    review: str | None = typer.Option(
        None, "--review", metavar="NAME", help="Review this import belongs to (PRISMA counts)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Import a database export file as one logged run (all or nothing)."""
    from registry.intake.files import import_file  # here: keeps `registry --help` fast

    if not file.is_file():  # before opening: a typo must not create an empty database
        raise fail(f"{file}: no such file" if not file.exists() else f"{file}: not a file", 2)
    with _progress_bar("import") as progress:
        summary = with_store(ctx, import_file, file, fmt, source, review, progress=progress)
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
        return
    console.print(summary.line(), highlight=False, soft_wrap=True)
    for problem in summary.problems:
        console.print(f"  skipped: {problem}", highlight=False, soft_wrap=True)
    if summary.skipped > len(summary.problems):
        more = summary.skipped - len(summary.problems)
        console.print(f"  ... and {more:,} more (all logged in parse_problems)")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("search")(search)
    app.command("import")(import_)
