"""``registry status``: what the registry holds (thin: parse options, call one function)."""

from __future__ import annotations

import json

import typer

from registry.commands._common import domain_errors, err_console, global_options


def status(
    ctx: typer.Context,
    review: str | None = typer.Option(None, "--review", help="Only this review's runs."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Records per source, search runs, duplicates, screening backlog, retractions."""
    from registry.status import render_text
    from registry.web.remote import status as current_status

    opts = global_options(ctx)
    with domain_errors():  # while another process holds the store: its server or snapshot
        report, note = current_status(
            lambda: opts.store(must_exist=True), opts.db_file(), review
        )
    if note:
        err_console.print(f"note: {note}")
    typer.echo(json.dumps(report.to_dict(), indent=2) if as_json else render_text(report))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("status")(status)
