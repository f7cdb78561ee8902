"""``registry report``, ``update`` (the living cycle) and ``versions`` (thin: parse options,
call one library function with the invocation's store)."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path

import typer

from registry.commands._common import call, console, is_tty, review_option, with_store
from registry.store import Store
from schemas.protocol import default_review


def report(
    ctx: typer.Context,
    review: str | None = review_option(),
    out: Path = typer.Option(Path("out"), "--out", help="Output folder."),
) -> None:
    """Render the review's evidence summary (HTML + Markdown) from the registry."""
    from registry.update import make_report  # pandas, pooling: on use, keeps start-up fast

    review = call(default_review, review)
    spinner = console.status(f"pooling and rendering {review}…") if is_tty() else nullcontext()
    with spinner:
        result = with_store(ctx, make_report, review, out)
    same = " (data unchanged since that version)" if result.unchanged else ""
    console.print(f"report {result.version_label}{same}: {result.html_path} and "
                  f"{result.md_path}")


def update(
    ctx: typer.Context,
    review: str | None = review_option(),
    out: Path = typer.Option(Path("out"), "--out", help="Output folder for the report."),
    offline: bool = typer.Option(False, "--offline", help="Skip live searches."),
    strict: bool = typer.Option(
        False, "--strict", help="Exit 4 when a live source was unreachable."
    ),
    fail_on_change: bool = typer.Option(
        False, "--fail-on-change",
        help="Exit 10 when a conclusion changed, an outcome was pooled for the first time or "
        "an included study was newly retracted or given an expression of concern "
        "(for schedulers).",
    ),
) -> None:
    """The living cycle: search, import, deduplicate, queue, re-pool, report, summarise."""
    from registry.update import run_update  # pandas, pooling: on use, keeps start-up fast

    review = call(default_review, review)
    spinner = console.status(f"updating {review}…") if is_tty() else nullcontext()
    with spinner:
        summary = with_store(ctx, run_update, review, out, offline=offline)
    for line in summary.lines():
        console.print(line, highlight=False, soft_wrap=True)
    raise typer.Exit(summary.exit_code(strict=strict, fail_on_change=fail_on_change))


def versions(
    ctx: typer.Context,
    review: str | None = typer.Option(None, "--review", metavar="NAME",
                                      help="Only this review (default: every review)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the stored report versions, newest first (``versions show N`` opens one)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = with_store(ctx, Store.report_versions, review)
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


def versions_show(
    ctx: typer.Context,
    number: int = typer.Argument(..., help="Version number n (the label starts with vn-)."),
    review: str | None = review_option(),
    out: Path = typer.Option(Path("out"), "--out", help="Output folder the reports went to."),
    markdown: bool = typer.Option(False, "--markdown", help="Print the Markdown report."),
) -> None:
    """Open a kept report version: print where it is (or its Markdown with --markdown)."""
    from registry.update import kept_version  # pandas, pooling: on use, keeps start-up fast

    review = call(default_review, review)
    label, html, md = with_store(ctx, kept_version, review, number, out)
    if markdown:
        typer.echo(md.read_text(encoding="utf-8"), nl=False)
        return
    console.print(f"report {label}: {html} and {md}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("report")(report)
    app.command("update")(update)
    group = typer.Typer(help="Stored report versions.", no_args_is_help=False)
    group.callback(invoke_without_command=True)(versions)
    group.command("show")(versions_show)
    app.add_typer(group, name="versions")
