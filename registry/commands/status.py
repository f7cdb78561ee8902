"""``registry status``: what the registry holds (thin: parse options, call one function)."""

from __future__ import annotations

import json

import typer

from registry.commands._common import with_store


def status(
    ctx: typer.Context,
    review: str | None = typer.Option(None, "--review", help="Only this review's runs."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Records per source, search runs, duplicates, screening backlog, retractions."""
    from registry.status import build_status, render_text

    report = with_store(ctx, build_status, review, must_exist=True)
    typer.echo(json.dumps(report.to_dict(), indent=2) if as_json else render_text(report))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("status")(status)
