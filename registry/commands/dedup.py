"""Typer commands for dedup (thin: parse options, call one library function)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from registry.commands._common import call, console, fail, global_options, is_tty


def _fmt_authors(authors: Any) -> str:
    names = [str(a) for a in (authors or [])]
    if len(names) > 3:
        return "; ".join(names[:3]) + f"; … (+{len(names) - 3})"
    return "; ".join(names)


def _show_pair(pair: dict[str, Any], position: int, total: int) -> None:
    table = Table(
        title=f"pair {position}/{total} — score {pair['score']:.2f} ({pair['why']})",
        show_lines=True,
        expand=True,
    )
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("A", overflow="fold")
    table.add_column("B", overflow="fold")

    def row(label: str, fn: Any) -> None:
        table.add_row(label, fn("a"), fn("b"))

    def val(name: str) -> Any:
        return lambda s: "" if pair[f"{name}_{s}"] is None else str(pair[f"{name}_{s}"])

    row("record", lambda s: f"{pair[f'source_{s}']}:{pair[f'source_id_{s}']} "
                            f"(#{pair[f'record_id_{s}']})")
    row("title", val("title"))
    row("authors", lambda s: _fmt_authors(pair[f"authors_{s}"]))
    row("year", val("year"))
    row("journal", lambda s: " ".join(
        x for x in (pair[f"journal_{s}"], pair[f"volume_{s}"], pair[f"pages_{s}"]) if x))
    row("ids", lambda s: "  ".join(
        f"{k.upper()} {pair[f'{k}_{s}']}" for k in ("pmid", "doi", "pmcid") if pair[f"{k}_{s}"]))
    row("types", lambda s: "; ".join(pair[f"publication_types_{s}"] or []))
    console.print(table, highlight=False)


def _ask(pair: dict[str, Any], position: int, total: int) -> str:
    _show_pair(pair, position, total)
    while True:
        try:
            answer = str(typer.prompt("[d]uplicate / [n]ot duplicate / [s]kip / [q]uit"))
        except (typer.Abort, EOFError):
            # End of input or Ctrl-C at the prompt: stop like "q" so the verdicts given so
            # far are applied to the clusters.
            console.print()
            return "q"
        answer = answer.strip()
        if answer.lower() in ("d", "n", "s", "q"):
            return answer.lower()
        console.print("please answer d, n, s or q", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""

    @app.command("dedup")
    def dedup_cmd(
        ctx: typer.Context,
        review_queue: bool = typer.Option(
            False, "--review", help="Walk the uncertain pairs: d/n/s/q for each."
        ),
        export_queue: Path | None = typer.Option(
            None, "--export-queue", help="Write the uncertain pairs to this CSV.", metavar="CSV"
        ),
        import_decisions: Path | None = typer.Option(
            None, "--import-decisions", help="Read decisions from this CSV.", metavar="CSV"
        ),
        only: str | None = typer.Option(
            None, "--only", help="Examine only new records of this review's runs.",
            metavar="REVIEW",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
    ) -> None:
        """Deduplicate records across sources and runs; print the PRISMA identification counts."""
        from registry import dedup

        db = global_options(ctx).db
        modes = sum(bool(x) for x in (review_queue, export_queue, import_decisions))
        if modes > 1:
            raise fail("use only one of --review, --export-queue, --import-decisions", 2)
        if review_queue:
            s = call(dedup.run_review, db, _ask)
            if not (s.duplicate or s.not_duplicate or s.skipped or s.remaining or s.quit):
                console.print("no uncertain pairs to review", highlight=False)
                return
            console.print(
                f"{s.duplicate} duplicate, {s.not_duplicate} not duplicate, {s.skipped} skipped;"
                f" {s.remaining} pair(s) still pending",
                highlight=False,
            )
            return
        if export_queue:
            n = call(dedup.run_export, db, export_queue)
            console.print(f"{n} uncertain pair(s) written to {export_queue}", highlight=False)
            return
        if import_decisions:
            imp = call(dedup.run_import, db, import_decisions)
            pending = imp.result.pending if imp.result else "?"
            console.print(
                f"{imp.decided} decision(s) stored, {imp.undecided} row(s) left undecided; "
                f"{pending} pair(s) still pending",
                highlight=False,
            )
            return
        if is_tty():
            with console.status("deduplicating") as status:
                result, prisma = call(
                    dedup.run_dedup, db, only, progress=lambda m: status.update(m)
                )
        else:
            result, prisma = call(dedup.run_dedup, db, only)
        if as_json:
            typer.echo(json.dumps({"run": result.__dict__, "prisma": prisma}, default=str,
                                  indent=2))
            return
        console.print(
            f"examined {result.examined} record(s): {result.hard_links} hard-key link(s), "
            f"{result.fuzzy_links} fuzzy link(s), {result.queued} pair(s) queued, "
            f"{result.dropped} deleted record(s) dropped ({result.seconds:.1f} s)",
            highlight=False,
        )
        per = ", ".join(f"{k} {v}" for k, v in prisma["records_identified"].items()) or "none"
        console.print(
            f"records identified: {prisma['records_identified_total']} ({per}); "
            f"duplicates removed: {prisma['duplicates_removed']}; "
            f"records after duplicates removed: {prisma['records_after_duplicates_removed']}; "
            f"uncertain pairs pending: {prisma['uncertain_pairs_pending']}",
            highlight=False,
        )
        if prisma["uncertain_pairs_pending"]:
            console.print("review them with `registry dedup --review`", highlight=False)
