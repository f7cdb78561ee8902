"""Typer commands for curation (thin: parse options, call one library function).

``registry init | add-trial | load-review | validate | history | gaps`` and
``registry extract template | compare | export``. The curation package (pandas, pandera,
openpyxl) is imported inside each command, so ``registry --help`` and commands of other
areas never pay for it.
"""

from __future__ import annotations

from pathlib import Path

import typer

from registry.commands._common import call, console, err_console, review_option, with_store

extract_app = typer.Typer(
    name="extract",
    help="Extraction workbooks: blank template, compare two curators, export a review.",
    no_args_is_help=True,
)


def _say(text: object) -> None:
    console.print(str(text), highlight=False, soft_wrap=True)


def init(
    review: str = typer.Argument(..., help="Name of the new review (letters, digits, - and _)."),
) -> None:
    """Start a review: a commented protocol.yaml and empty extraction sheets, validated."""
    from registry.curation.scaffold import init_review  # lazy: see module docstring

    _say(call(init_review, review))


def add_trial(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="Folder of CSV sheets or an .xlsx workbook."),
    review: str | None = review_option(
        "Review name (default: the review folder the path lies in)."
    ),
) -> None:
    """Validate extraction sheets and store their studies (all or nothing, audited)."""
    from registry.curation import add_trial as run  # lazy: see module docstring

    _say(with_store(ctx, run, path, review))


def load_review(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Review folder name under data/reviews/."),
) -> None:
    """Load or update a bundled review folder (idempotent, audited)."""
    from registry.curation import load_review as run  # lazy: see module docstring

    _say(with_store(ctx, run, name))


def validate(
    ctx: typer.Context,
    review: str | None = review_option("Only this review (default: every stored review)."),
) -> None:
    """Re-check every stored review (or one) against its protocol and the sheet rules."""
    from registry.curation import validate_registry  # lazy: see module docstring

    _say(with_store(ctx, validate_registry, review))


def history(
    ctx: typer.Context,
    study: str = typer.Argument(..., help="Study id, e.g. Suk2016."),
    review: str | None = review_option("Limit to one review."),
) -> None:
    """Every change to a study's curated values: who, when, old and new value."""
    from registry.curation.audit import history_text  # lazy: see module docstring

    _say(with_store(ctx, history_text, study, review))


def gaps(
    ctx: typer.Context,
    review: str | None = review_option(),
    status: str | None = typer.Option(None, "--status", help="Only gaps with this status."),
) -> None:
    """What still needs extraction, per study and protocol outcome / time point."""
    from registry.curation.gaps import review_gaps  # lazy: see module docstring

    name, table = with_store(ctx, review_gaps, review)
    if status:
        table = table[table["status"] == status]
    _say(f"{name}: {len(table)} gap(s)")
    for r in table.itertuples(index=False):
        _say(f"  {r.study_id:<18} {r.outcome:<10} {r.time_point:<10} {r.status:<20} {r.detail}")


def template(
    out: Path = typer.Argument(..., help="Workbook to write (.xlsx)."),
    review: str | None = review_option(),
) -> None:
    """Write a blank extraction workbook with instructions and the protocol's lists."""
    from registry.curation import write_template  # lazy: see module docstring

    _say(f"template written to {call(write_template, out, review)}")


def compare(
    a: Path = typer.Argument(..., help="Curator A's sheets (folder or .xlsx)."),
    b: Path = typer.Argument(..., help="Curator B's sheets (folder or .xlsx)."),
) -> None:
    """List every disagreement between two curators' sheets; exit 1 if there is any."""
    from registry.curation import compare_sheets, format_disagreements  # lazy: see above

    items = call(compare_sheets, a, b)
    _say(format_disagreements(items))
    if items:
        err_console.print(f"{len(items)} disagreement(s)")
        raise typer.Exit(1)


def export(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="Folder to write the CSV sheets into."),
    review: str = typer.Option(..., "--review", metavar="NAME", help="Review to export."),
) -> None:
    """Write a stored review back out as extraction CSVs (formula-like cells neutralised)."""
    from registry.curation import export_review  # lazy: see module docstring

    paths = with_store(ctx, export_review, review, out)
    _say(f"{len(paths)} file(s) written to {out}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("init")(init)
    app.command("add-trial")(add_trial)
    app.command("load-review")(load_review)
    app.command("validate")(validate)
    app.command("history")(history)
    app.command("gaps")(gaps)
    extract_app.command("template")(template)
    extract_app.command("compare")(compare)
    extract_app.command("export")(export)
    app.add_typer(extract_app, name="extract")
