"""Typer commands for screening (thin: parse options, call one library function).

``registry screen next | export | import | conflicts | resolve | summary | status | undo |
simulate``.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from registry.commands._common import call, console, review_option, with_store

screen_app = typer.Typer(
    name="screen",
    help="Screen records at title/abstract and full text: interactive, CSV, conflicts, PRISMA.",
    no_args_is_help=True,
)

_STAGE = typer.Option("title_abstract", "--stage", help="title_abstract (ta) or full_text (ft).")
_REVIEWER = typer.Option(
    None, "--reviewer", help="Who is screening (default: $REGISTRY_CURATOR or git user)."
)
_JSON = typer.Option(False, "--json", help="Print JSON.")


def _say(line: str) -> None:
    console.print(line, highlight=False, markup=False)


def next_cmd(
    ctx: typer.Context,
    review: str | None = review_option(),
    stage: str = _STAGE,
    reviewer: str | None = _REVIEWER,
) -> None:
    """Screen the ranked queue interactively (keys i/e/m/s/q, n = not retrieved at full text)."""
    from registry.screening.interactive import screen_interactively

    with_store(ctx, screen_interactively, review, stage, reviewer=reviewer)


def export_cmd(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="CSV file to write."),
    review: str | None = review_option(),
    stage: str = _STAGE,
    reviewer: str | None = _REVIEWER,
    include_all: bool = typer.Option(
        False, "--all", help="Every record of the stage with its decision, not only the queue."
    ),
) -> None:
    """Write the ranked queue (or all records with --all) to a CSV to fill in."""
    from registry.screening.csvio import export_decisions_csv

    n = with_store(ctx, export_decisions_csv, review, stage, out, include_all=include_all,
                   reviewer=reviewer)  # fmt: skip
    _say(f"{n} records written to {out}")


def import_cmd(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="Screening CSV (as written by `screen export`)."),
    review: str | None = typer.Option(None, "--review", help="Review (default: the file's)."),
    stage: str | None = typer.Option(None, "--stage", help="Stage (default: the file's)."),
    reviewer: str | None = _REVIEWER,
) -> None:
    """Record the decisions of a screening CSV as the --reviewer's; any bad row rejects it."""
    from registry.screening.csvio import import_decisions_csv

    result = with_store(ctx, import_decisions_csv, path, review=review, stage=stage,
                        reviewer=reviewer)  # fmt: skip
    _say(result.line())


def conflicts_cmd(
    ctx: typer.Context,
    review: str | None = review_option(),
    stage: str | None = typer.Option(None, "--stage", help="Only this stage."),
    as_json: bool = _JSON,
) -> None:
    """List dual-review disagreements waiting for a resolution."""
    from registry.screening.state import screening_conflicts

    rows = with_store(ctx, screening_conflicts, review, stage)
    if as_json:
        typer.echo(json.dumps([c.as_dict() for c in rows], indent=2))
        return
    if not rows:
        _say("no conflicts")
    for c in rows:
        _say(f"{c.stage:<15} record {c.record['record_id']:<7} {c.describe()}  "
             f"{(c.record.get('title') or '')[:70]}")  # fmt: skip


def resolve_cmd(
    ctx: typer.Context,
    record_id: int = typer.Argument(..., help="Record (any record of the cluster)."),
    decision: str = typer.Argument(..., help="include, exclude, maybe (or not_retrieved)."),
    review: str | None = review_option(),
    stage: str = _STAGE,
    reason: str | None = typer.Option(None, "--reason", help="Exclusion reason id."),
    note: str | None = typer.Option(None, "--note", help="Why."),
    study_id: str | None = typer.Option(None, "--study-id", help="Full-text include: study."),
    reviewer: str | None = _REVIEWER,
) -> None:
    """Record the decision that settles a dual-review conflict."""
    from registry.screening.state import resolve_conflict

    d = with_store(ctx, resolve_conflict, review, stage, record_id, decision, reason=reason,
                   note=note, study_id=study_id, reviewer=reviewer)  # fmt: skip
    _say(f"record {record_id}: {d.decision} (resolution by {d.reviewer})")


def summary_cmd(
    ctx: typer.Context, review: str | None = review_option(), as_json: bool = _JSON
) -> None:
    """PRISMA screening counts of the review, and reviewer agreement per stage."""
    from registry.screening.progress import screening_overview
    from registry.screening.text import summary_lines

    s = with_store(ctx, screening_overview, review)
    if as_json:
        typer.echo(json.dumps(s, indent=2, default=str))
        return
    for line in summary_lines(s):
        _say(line)


def status_cmd(
    ctx: typer.Context, review: str | None = review_option(), as_json: bool = _JSON
) -> None:
    """Screened/total, includes, estimated recall and the stopping rule's verdict per round."""
    from registry.screening.progress import screening_status
    from registry.screening.text import status_lines

    st = with_store(ctx, screening_status, review, must_exist=True)
    if as_json:
        typer.echo(json.dumps(st.as_dict(), indent=2))
        return
    for line in status_lines(st):
        _say(line)


def undo_cmd(
    ctx: typer.Context,
    review: str | None = review_option(),
    stage: str | None = typer.Option(None, "--stage", help="Only a decision at this stage."),
    reviewer: str | None = _REVIEWER,
) -> None:
    """Take back your last screening decision (kept in the history, marked undone)."""
    from registry.screening.progress import undo_last

    d = with_store(ctx, undo_last, review, stage=stage, reviewer=reviewer, must_exist=True)
    _say(f"undone: {d.reviewer}'s {d.decision} on record {d.record_id} at {d.stage}")


def simulate_cmd(
    labelled: Path = typer.Argument(..., help="CSV: record_id, title, abstract, included (1/0)."),
    prior: list[str] = typer.Option(..., "--prior", help="record_id known from the start "
                                    "(repeat; at least one include and one exclude)."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the model."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
    plot: Path | None = typer.Option(None, "--plot", help="Write the recall curve (SVG)."),
) -> None:
    """Replay a labelled set through the ranking model: order, WSS@95, RRF@10, stop points."""
    from registry.screening.simulate import simulation_report

    out = call(simulation_report, labelled, prior, seed=seed, plot=plot)
    if as_json:
        typer.echo(json.dumps(out))
        return
    m = out["metrics"]
    _say(f"{labelled}: WSS@95 {m['wss95']}, RRF@10 {m['rrf10']}, all {m['includes']} "
         f"includes found after {m['records_to_find_all']} of {m['records']} records")  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    for name, fn in (
        ("next", next_cmd),
        ("export", export_cmd),
        ("import", import_cmd),
        ("conflicts", conflicts_cmd),
        ("resolve", resolve_cmd),
        ("summary", summary_cmd),
        ("status", status_cmd),
        ("undo", undo_cmd),
        ("simulate", simulate_cmd),
    ):
        screen_app.command(name)(fn)
    app.add_typer(screen_app, name="screen")
