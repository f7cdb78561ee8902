"""Typer commands for meta (thin: parse options, call one library function)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from registry.commands._common import call, err_console


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("meta")(meta)


def meta(
    input_csv: Path = typer.Argument(
        ..., metavar="INPUT.csv",
        help="One row per study: n1,mean1,sd1,n2,mean2,sd2 | events1,n1,events2,n2 | yi,vi; "
        "optional 'study' label.",
    ),
    measure: str | None = typer.Option(
        None, "--measure", help="MD|SMD|SMD_REVMAN5|OR|RR|RD|GEN (GEN if the CSV has yi)."
    ),
    method: str | None = typer.Option(
        None, "--method", help="FE|DL|REML|PM|MH|PETO (default: the preset's, else REML)."
    ),
    hksj: bool | None = typer.Option(
        None, "--hksj/--no-hksj", help="Hartung-Knapp-Sidik-Jonkman CI (t, k-1 df)."
    ),
    by: str | None = typer.Option(None, "--by", help="Column defining subgroups."),
    leave_one_out: bool = typer.Option(False, "--leave-one-out", help="Leave-one-out analysis."),
    cumulative: str | None = typer.Option(
        None, "--cumulative", help="Column to order a cumulative meta-analysis by (e.g. year)."
    ),
    preset: str | None = typer.Option(None, "--preset", help="revman5 | cochrane2025."),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object (reference-file field names, log OR/RR)."
    ),
    mapping: list[str] = typer.Option(
        [], "--map", metavar="COLUMN=FIELD",
        help="Read COLUMN as FIELD (repeatable), e.g. --map n1i=n1 --map m1i=mean1. Fields: "
        "study, n1, mean1, sd1, n2, mean2, sd2, events1, events2, nonevents1, nonevents2 "
        "(n = events + non-events), yi, vi, sei, ci_lb, ci_ub.",
    ),
) -> None:
    """Ad-hoc meta-analysis of a CSV (metafor's answer without R)."""
    from registry.pooling.api import format_table, meta_csv

    analysis = call(
        meta_csv, input_csv, measure=measure, method=method, hksj=hksj, preset=preset, by=by,
        leave_one_out=leave_one_out, cumulative=cumulative, mapping=mapping,
    )
    if as_json:
        typer.echo(json.dumps(analysis.to_json_dict(), indent=2))
        for note in analysis.notes:
            err_console.print(f"note: {note}", highlight=False, soft_wrap=True)
    else:
        typer.echo(format_table(analysis))
