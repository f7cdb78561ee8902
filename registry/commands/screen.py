"""Typer commands for screening (thin: parse options, call one library function).

``registry screen next | export | import | conflicts | resolve | summary``.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from registry.commands._common import call, console, global_options

screen_app = typer.Typer(
    name="screen",
    help="Screen records at title/abstract and full text: interactive, CSV, conflicts, PRISMA.",
    no_args_is_help=True,
)

_REVIEW = typer.Option(
    None, "--review", help="Review name (default: the only review in the registry)."
)
_STAGE = typer.Option("title_abstract", "--stage", help="title_abstract (ta) or full_text (ft).")
_REVIEWER = typer.Option(
    None, "--reviewer", help="Who is screening (default: $REGISTRY_CURATOR or git user)."
)


@screen_app.command("next")
def next_cmd(
    ctx: typer.Context,
    review: str | None = _REVIEW,
    stage: str = _STAGE,
    reviewer: str | None = _REVIEWER,
) -> None:
    """Screen the ranked queue interactively (keys i/e/m/s/q, n = not retrieved at full text)."""
    from registry.screening.db import next_session

    call(
        next_session, global_options(ctx).db, review, stage,
        reviewer=reviewer, console=console, ask=console.input,
    )  # fmt: skip


@screen_app.command("export")
def export_cmd(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="CSV file to write."),
    review: str | None = _REVIEW,
    stage: str = _STAGE,
    reviewer: str | None = _REVIEWER,
    include_all: bool = typer.Option(
        False, "--all", help="Every record of the stage with its decision, not only the queue."
    ),
) -> None:
    """Write the ranked queue (or all records with --all) to a CSV to fill in."""
    from registry.screening.db import export_csv

    n = call(
        export_csv, global_options(ctx).db, review, stage, out,
        include_all=include_all, reviewer=reviewer,
    )  # fmt: skip
    console.print(f"{n} records written to {out}", highlight=False, markup=False)


@screen_app.command("import")
def import_cmd(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="Screening CSV (as written by `screen export`)."),
    review: str | None = typer.Option(None, "--review", help="Review (default: the file's)."),
    stage: str | None = typer.Option(None, "--stage", help="Stage (default: the file's)."),
    reviewer: str | None = _REVIEWER,
) -> None:
    """Record the decisions of a screening CSV; any bad row rejects the whole file."""
    from registry.screening.db import import_csv

    result = call(import_csv, global_options(ctx).db, path, review=review, stage=stage,
                  reviewer=reviewer)  # fmt: skip
    console.print(result.line(), highlight=False, markup=False)


@screen_app.command("conflicts")
def conflicts_cmd(
    ctx: typer.Context,
    review: str | None = _REVIEW,
    stage: str | None = typer.Option(None, "--stage", help="Only this stage."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List dual-review disagreements waiting for a resolution."""
    from registry.screening.db import list_conflicts

    rows = call(list_conflicts, global_options(ctx).db, review, stage)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "stage": c.stage,
                        "record_id": c.record["record_id"],
                        "title": c.record.get("title"),
                        "decisions": [
                            {"reviewer": d.reviewer, "decision": d.decision, "reason": d.reason,
                             "note": d.note}
                            for d in c.decisions
                        ],
                    }
                    for c in rows
                ],
                indent=2,
            )
        )  # fmt: skip
        return
    if not rows:
        console.print("no conflicts")
        return
    for c in rows:
        console.print(
            f"{c.stage:<15} record {c.record['record_id']:<7} {c.describe()}  "
            f"{(c.record.get('title') or '')[:70]}",
            highlight=False,
            markup=False,
        )


@screen_app.command("resolve")
def resolve_cmd(
    ctx: typer.Context,
    record_id: int = typer.Argument(..., help="Record (any record of the cluster)."),
    decision: str = typer.Argument(..., help="include, exclude, maybe (or not_retrieved)."),
    review: str | None = _REVIEW,
    stage: str = _STAGE,
    reason: str | None = typer.Option(None, "--reason", help="Exclusion reason id."),
    note: str | None = typer.Option(None, "--note", help="Why."),
    study_id: str | None = typer.Option(None, "--study-id", help="Full-text include: study."),
    reviewer: str | None = _REVIEWER,
) -> None:
    """Record the decision that settles a dual-review conflict."""
    from registry.screening.db import resolve_conflict

    d = call(
        resolve_conflict, global_options(ctx).db, review, stage, record_id, decision,
        reason=reason, note=note, study_id=study_id, reviewer=reviewer,
    )  # fmt: skip
    console.print(f"record {record_id}: {d.decision} (resolution by {d.reviewer})",
                  highlight=False)  # fmt: skip


@screen_app.command("summary")
def summary_cmd(
    ctx: typer.Context,
    review: str | None = _REVIEW,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """PRISMA screening counts of the review."""
    from registry.screening.db import summary

    s = call(summary, global_options(ctx).db, review)
    if as_json:
        typer.echo(json.dumps(s, indent=2, default=str))
        return
    for line in _summary_lines(s):
        console.print(line)


def _summary_lines(s: dict[str, object]) -> list[str]:
    """The PRISMA screening boxes as readable lines (the JSON keeps every key)."""
    g = s.get
    lines = [
        f"title/abstract: {g('records_to_screen', 0)} records, {g('records_screened', 0)} "
        f"screened, {g('excluded_title_abstract', 0)} excluded, {g('awaiting_screening', 0)} "
        "awaiting screening",
        f"full text: {g('reports_sought', 0)} sought, {g('reports_not_retrieved', 0)} not "
        f"retrieved, {g('reports_assessed', 0)} assessed, {g('awaiting_full_text', 0)} awaiting, "
        f"{g('awaiting_classification', 0)} awaiting classification",
    ]
    excluded = g("excluded_full_text") or {}
    if isinstance(excluded, dict) and any(excluded.values()):
        lines.append(f"excluded at full text: {g('excluded_full_text_total', 0)}")
        lines.extend(f"  {reason}: {n}" for reason, n in excluded.items() if n)
    studies, reports = g("studies_included", 0), g("reports_included", 0)
    lines.append(f"included: {studies} stud{'y' if studies == 1 else 'ies'} from {reports} "
                 f"report{'' if reports == 1 else 's'}")
    conflicts = g("conflicts") or {}
    if isinstance(conflicts, dict) and any(conflicts.values()):
        lines.append("conflicts: " + ", ".join(f"{k} {v}" for k, v in conflicts.items()))
    return lines


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(screen_app, name="screen")
