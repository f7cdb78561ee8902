"""The living sources' share of a report: registered trials awaiting classification, the
PRISMA registers count, and retractions / expressions of concern of included studies
(computed by :mod:`registry.sources`; formatted here, shown by the templates)."""

from __future__ import annotations

from typing import Any

from registry.sources import Finding, RegistersBox, WatchResult, ongoing_unpublished_trials
from registry.sources.runner import is_source
from registry.sources.watch import CONCERN, CORRECTION, RETRACTION
from registry.store import Store
from reports.assemble.tables import cell
from reports.model import Table
from schemas.protocol import Protocol

TRIAL_COLUMNS = ("NCT id", "Title", "Status", "Category", "Results posted", "Enrolment",
                 "Completion date")
FLAG = {RETRACTION: "[retracted]", CONCERN: "[expression of concern]",
        CORRECTION: "[corrected]"}
REG = "registry"


def searches_registers(protocol: Protocol) -> bool:
    """The protocol has a live ClinicalTrials.gov search (the only register searched)."""
    return any(s.live and is_source(s.source, "clinicaltrials_gov") for s in protocol.searches)


def trials_table(store: Store, protocol: Protocol) -> Table:
    """Ongoing and unpublished trials (RevMan's "studies awaiting classification")."""
    rows = []
    for t in ongoing_unpublished_trials(store, protocol.review):
        enrol = cell(t.enrollment)
        if enrol and t.enrollment_type:
            enrol += f" ({t.enrollment_type.lower()})"
        rows.append((t.nct_id, t.title, cell(t.status), t.category,
                     "yes" if t.has_results else "no", enrol, cell(t.completion_date)))
    empty = ("None found in ClinicalTrials.gov." if searches_registers(protocol)
             else "No trial registry searched.")
    return Table(TRIAL_COLUMNS, tuple(rows), empty_text=empty)


def register_rows(box: RegistersBox, protocol: Protocol) -> list[tuple[str, ...]]:
    """PRISMA 2020's "Records identified from registers" (its own box) for the table."""
    stage = "Identification (registers)"
    if not box.total:
        said = "0" if searches_registers(protocol) else "0 (no registry searched)"
        return [(stage, "Records identified from registers", said, REG)]
    rows = [(stage, f"Records identified from registers: {name}", str(n), REG)
            for name, n in box.registers.items()]
    rows += [(stage, f"of which {what}", str(n), REG) for what, n in (
        ("linked to a publication", box.linked_to_publications), ("ongoing", box.ongoing),
        ("completed, unpublished", box.completed_unpublished), ("withdrawn", box.withdrawn),
        ("of unknown status", box.unknown)) if n]
    return rows


def _findings(store: Store, review: str) -> list[Finding]:
    return [Finding(study_id=r["study_id"], kind=r["kind"], source=r["source"],
                    notice=r["notice"], work=r["work"] or "", date=r["date"])
            for r in store.integrity_findings(review)]


def study_flags(store: Store, review: str) -> dict[str, str]:
    """study_id -> its flag in tables ("[retracted]", ...), the gravest finding."""
    flagged = WatchResult(findings=_findings(store, review)).flagged()
    return {sid: FLAG[kind] for sid, kind in flagged.items()}


def integrity_news(store: Store, review: str, previous: dict[str, Any] | None) -> tuple[str, ...]:
    """One line per retraction or expression of concern first seen after the previous
    report version (every one when there is none): "<study>: retraction (<source>,
    notice <DOI>, <date>)"; a date or notice no source gave is said to be missing."""
    since = previous["created_at"] if previous else None
    out = []
    for r in store.integrity_findings(review):
        if r["kind"] not in (RETRACTION, CONCERN) or (since and r["first_seen"] <= since):
            continue
        out.append(f"{r['study_id']}: {r['kind']} ({r['source']}, notice "
                   f"{r['notice'] or 'not named'}, {r['date'] or 'date not given'})")
    return tuple(out)


def flagged_studies(table: Table, flags: dict[str, str]) -> Table:
    """The studies table with each flagged study's first cell marked ("Salama2014
    [retracted]")."""
    if not flags:
        return table
    rows = tuple((f"{r[0]} {flags[r[0]]}", *r[1:]) if r and r[0] in flags else r
                 for r in table.rows)
    return Table(table.columns, rows, table.caption, table.empty_text)


def hash_part(store: Store, review: str, trials: Table, box: RegistersBox) -> dict[str, Any]:
    """What the sources add to the report's data hash: only what exists, so a review with
    no registry search and no finding keeps its hash."""
    found = sorted((f.study_id, f.kind, f.source, f.notice) for f in _findings(store, review))
    part: dict[str, Any] = {}
    if trials.rows or box.total:
        part["trials"] = [list(r) for r in trials.rows]
        part["registers"] = dict(box.registers)
    if found:
        part["integrity"] = [list(f) for f in found]
    return part

