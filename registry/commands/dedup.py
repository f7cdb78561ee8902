"""``registry dedup``: deduplicate, walk or export the uncertain pairs, export clusters.

Thin: each mode parses its options and calls one library function of :mod:`registry.dedup`
with the invocation's store (``with_store``).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import typer
from rich.table import Table

from registry.commands._common import console, fail, is_tty, review_option, with_store
from registry.config import curator


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


REVIEW_HELP = (
    "Only this review's records: examine its new records, count its PRISMA box, walk or "
    "export the uncertain pairs between its records. Default: every record."
)


def _lib() -> ModuleType:
    # registry.dedup pulls in pandas, numpy and rapidfuzz: imported when a dedup command
    # runs, not when the CLI starts (`registry --help` stays fast).
    import registry.dedup

    return registry.dedup


def _walk(ctx: typer.Context, review: str | None) -> None:
    s = with_store(ctx, _lib().review_queue, _ask, decided_by=curator(), review=review)
    if not (s.duplicate or s.not_duplicate or s.skipped or s.remaining or s.quit):
        console.print("no uncertain pairs to review")
        return
    console.print(
        f"{s.duplicate} duplicate, {s.not_duplicate} not duplicate, {s.skipped} skipped;"
        f" {s.remaining} pair(s) still pending"
    )


def _export_queue(ctx: typer.Context, path: Path, review: str | None) -> None:
    n = with_store(ctx, _lib().export_queue, path, review=review)
    console.print(f"{n} uncertain pair(s) written to {path}")


def _import_decisions(ctx: typer.Context, path: Path) -> None:
    imp = with_store(ctx, _lib().import_decisions, path, decided_by=curator())
    pending = imp.result.pending if imp.result else "?"
    console.print(
        f"{imp.decided} decision(s) stored, {imp.undecided} row(s) left undecided; "
        f"{pending} pair(s) still pending"
    )


def _export_clusters(ctx: typer.Context, path: Path) -> None:
    n = with_store(ctx, _lib().export_clusters, path)
    console.print(f"{n} record(s) with their cluster written to {path}")


def _run(ctx: typer.Context, review: str | None, as_json: bool) -> None:
    if is_tty():
        with console.status("deduplicating") as status:
            rep = with_store(ctx, _lib().dedup_and_count, review, progress=status.update)
    else:
        rep = with_store(ctx, _lib().dedup_and_count, review)
    result, prisma = rep.result, rep.prisma
    if as_json:
        typer.echo(json.dumps({"run": result.__dict__, "prisma": prisma}, default=str,
                              indent=2))
        return
    console.print(
        f"examined {result.examined} record(s): {result.hard_links} hard-key link(s), "
        f"{result.fuzzy_links} fuzzy link(s), {result.queued} pair(s) queued, "
        f"{result.dropped} deleted record(s) dropped ({result.seconds:.1f} s)"
    )
    per = ", ".join(f"{k} {v}" for k, v in prisma["records_identified"].items()) or "none"
    console.print(
        f"records identified: {prisma['records_identified_total']} ({per}); "
        f"duplicates removed: {prisma['duplicates_removed']}; "
        f"records after duplicates removed: {prisma['records_after_duplicates_removed']}; "
        f"uncertain pairs pending: {prisma['uncertain_pairs_pending']}"
    )
    if prisma["uncertain_pairs_pending"]:
        console.print("decide them with `registry dedup --walk` (or --export-queue CSV)")


def dedup(
    ctx: typer.Context,
    review: str | None = review_option(REVIEW_HELP),
    walk: bool = typer.Option(
        False, "--walk", help="Walk the uncertain pairs one by one: d/n/s/q for each."
    ),
    export_queue: Path | None = typer.Option(
        None, "--export-queue", metavar="CSV",
        help="Write the uncertain pairs to this CSV (fill in its 'decision' column).",
    ),
    import_decisions: Path | None = typer.Option(
        None, "--import-decisions", metavar="CSV",
        help="Read decisions (duplicate / not_duplicate, d / n) from this CSV.",
    ),
    export_clusters: Path | None = typer.Option(
        None, "--export-clusters", metavar="CSV",
        help="Write every record's source, source id, cluster id and whether it is the "
        "cluster's primary record to this CSV.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Deduplicate records across sources and runs; print the PRISMA identification counts.

    Uncertain pairs are decided with --walk (interactive) or --export-queue then
    --import-decisions (a spreadsheet); --review NAME limits either to that review's records.
    """
    modes = sum(bool(x) for x in (walk, export_queue, import_decisions, export_clusters))
    if modes > 1:
        raise fail(
            "use only one of --walk, --export-queue, --import-decisions, --export-clusters", 2
        )
    if review and (import_decisions or export_clusters):
        # Decisions name their records, and the cluster file lists every record: a review
        # scope would silently mean nothing there.
        raise fail("--review applies to the dedup run, --walk and --export-queue only", 2)
    if walk:
        _walk(ctx, review)
    elif export_queue:
        _export_queue(ctx, export_queue, review)
    elif import_decisions:
        _import_decisions(ctx, import_decisions)
    elif export_clusters:
        _export_clusters(ctx, export_clusters)
    else:
        _run(ctx, review, as_json)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("dedup")(dedup)
