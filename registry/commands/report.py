"""Typer commands for reports: ``report``, ``update`` (the living cycle) and ``versions``."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path

import typer

from registry.commands._common import call, console, global_options, is_tty
from schemas.protocol import default_review

_REVIEW = typer.Option(
    None, "--review",
    help="Review name (default: $REGISTRY_REVIEW, else the only review, else the only "
    "non-example review).",
)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""

    @app.command("report")
    def report_cmd(
        ctx: typer.Context,
        review: str | None = _REVIEW,
        out: Path = typer.Option(Path("out"), "--out", help="Output folder."),
    ) -> None:
        """Render the review's evidence summary (HTML + Markdown) from the registry."""
        from registry.update import make_report

        review = call(default_review, review)
        spinner = console.status(f"pooling and rendering {review}…") if is_tty() else nullcontext()
        with spinner:
            result = call(make_report, global_options(ctx).db, review, out)
        same = " (data unchanged since that version)" if result.unchanged else ""
        console.print(f"report {result.version_label}{same}: {result.html_path} and "
                      f"{result.md_path}")

    @app.command("update")
    def update_cmd(
        ctx: typer.Context,
        review: str | None = _REVIEW,
        out: Path = typer.Option(Path("out"), "--out", help="Output folder for the report."),
        offline: bool = typer.Option(False, "--offline", help="Skip live searches."),
        strict: bool = typer.Option(
            False, "--strict", help="Exit 4 when a live source was unreachable."
        ),
        fail_on_change: bool = typer.Option(
            False, "--fail-on-change", help="Exit 10 when a conclusion changed (for schedulers)."
        ),
    ) -> None:
        """The living cycle: search, import, deduplicate, queue, re-pool, report, summarise."""
        from registry.update import run_update

        review = call(default_review, review)
        spinner = console.status(f"updating {review}…") if is_tty() else nullcontext()
        with spinner:
            summary = call(run_update, global_options(ctx).db, review, out, offline=offline)
        for line in summary.lines():
            console.print(line, highlight=False, soft_wrap=True)
        raise typer.Exit(summary.exit_code(strict=strict, fail_on_change=fail_on_change))

    @app.command("versions")
    def versions_cmd(
        ctx: typer.Context,
        review: str | None = typer.Option(None, "--review", help="Only this review."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """List the stored report versions, newest first."""
        from registry.update import list_versions

        rows = call(list_versions, global_options(ctx).db, review)
        if as_json:
            typer.echo(json.dumps(rows, default=str, indent=2))
            return
        if not rows:
            console.print("no report versions yet")
            return
        for r in rows:
            console.print(
                f"{r['review']:<18} {r['label']:<22} {str(r['created_at'])[:19]}  "
                f"studies {r['n_studies']:>3}  records {r['n_records']:>6}  "
                f"{r['summary'].get('headline', '')}",
                highlight=False,
            )
