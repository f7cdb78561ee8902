"""Typer commands for curation (thin: parse options, call one library function).

``registry add-trial | load-review | validate | history | gaps`` and
``registry extract template | compare | export``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from registry.commands._common import call, console, err_console, global_options

extract_app = typer.Typer(
    name="extract",
    help="Extraction workbooks: blank template, compare two curators, export a review.",
    no_args_is_help=True,
)
_REVIEW = typer.Option(None, "--review", help="Review name (default: inferred or the only one).")


def add_trial(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="Folder of CSV sheets or an .xlsx workbook."),
    review: str | None = _REVIEW,
) -> None:
    """Validate extraction sheets and store their studies (all or nothing, audited)."""
    from registry.curation.db import add_trial_cmd

    summary = call(add_trial_cmd, global_options(ctx).db, path, review)
    console.print(str(summary), highlight=False, soft_wrap=True)


def load_review(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Review folder name under data/reviews/."),
) -> None:
    """Load or update a bundled review folder (idempotent, audited)."""
    from registry.curation.db import load_review_cmd

    summary = call(load_review_cmd, global_options(ctx).db, name)
    console.print(str(summary), highlight=False, soft_wrap=True)


def validate(ctx: typer.Context, review: str | None = _REVIEW) -> None:
    """Re-check every stored review (or one) against its protocol and the sheet rules."""
    from registry.curation.db import validate_cmd

    report = call(validate_cmd, global_options(ctx).db, review)
    console.print(str(report), highlight=False, soft_wrap=True)


def history(
    ctx: typer.Context,
    study: str = typer.Argument(..., help="Study id, e.g. Suk2016."),
    review: str | None = typer.Option(None, "--review", help="Limit to one review."),
) -> None:
    """Every change to a study's curated values: who, when, old and new value."""
    from registry.curation.db import history_cmd

    console.print(
        call(history_cmd, global_options(ctx).db, study, review), highlight=False, soft_wrap=True
    )


def gaps(
    ctx: typer.Context,
    review: str | None = _REVIEW,
    status: str | None = typer.Option(None, "--status", help="Only gaps with this status."),
) -> None:
    """What still needs extraction, per study and protocol outcome / time point."""
    from registry.curation.db import gaps_cmd

    name, table = call(gaps_cmd, global_options(ctx).db, review)
    if status:
        table = table[table["status"] == status]
    console.print(f"{name}: {len(table)} gap(s)", highlight=False, soft_wrap=True)
    for r in table.itertuples(index=False):
        console.print(
            f"  {r.study_id:<18} {r.outcome:<10} {r.time_point:<10} {r.status:<20} {r.detail}",
            highlight=False,
            soft_wrap=True,
        )


@extract_app.command("template")
def template(
    out: Path = typer.Argument(..., help="Workbook to write (.xlsx)."),
    review: str | None = _REVIEW,
) -> None:
    """Write a blank extraction workbook with instructions and the protocol's lists."""
    from registry.curation.db import template_cmd

    path = call(template_cmd, out, review)
    console.print(f"template written to {path}", highlight=False, soft_wrap=True)


@extract_app.command("compare")
def compare(
    a: Path = typer.Argument(..., help="Curator A's sheets (folder or .xlsx)."),
    b: Path = typer.Argument(..., help="Curator B's sheets (folder or .xlsx)."),
) -> None:
    """List every disagreement between two curators' sheets; exit 1 if there is any."""
    from registry.curation.db import compare_cmd

    n, text = call(compare_cmd, a, b)
    console.print(text, highlight=False, soft_wrap=True)
    if n:
        err_console.print(f"{n} disagreement(s)")
        raise typer.Exit(1)


@extract_app.command("export")
def export(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="Folder to write the CSV sheets into."),
    review: str = typer.Option(..., "--review", help="Review to export."),
) -> None:
    """Write a stored review back out as extraction CSVs."""
    from registry.curation.db import export_cmd

    paths = call(export_cmd, global_options(ctx).db, review, out)
    console.print(f"{len(paths)} file(s) written to {out}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("add-trial")(add_trial)
    app.command("load-review")(load_review)
    app.command("validate")(validate)
    app.command("history")(history)
    app.command("gaps")(gaps)
    app.add_typer(extract_app, name="extract")
