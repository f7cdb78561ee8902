"""PRISMA 2020 counts for an updated review: the flow diagram's input and its table."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from registry.sources import RegistersBox
from registry.sources.runner import is_source
from registry.store import Store
from reports.assemble.sources import register_rows
from reports.assemble.tables import cell
from reports.figures import model as fig
from reports.figures.prisma import prisma_svg
from reports.model import Figure, Table
from schemas.protocol import Protocol

OTHER_SOURCE = "curated extraction data (no registry record)"


def screened_studies(scr: dict[str, Any]) -> dict[str, list[str]]:
    """Studies included at full text -> the records (reports) that include them."""
    out: dict[str, list[str]] = {}
    for rep in scr.get("included") or []:
        sid = rep.get("study_id") or f"record {rep.get('record_id')}"
        ident = f"PMID {rep['pmid']}" if rep.get("pmid") else f"record {rep.get('record_id')}"
        out.setdefault(str(sid), []).append(ident)
    return out


def _flow(
    ident: dict[str, Any], protocol: Protocol, study_ids: Sequence[str], scr: dict[str, Any]
) -> tuple[fig.PrismaFlow, list[str]]:
    """The flow counts and the list of all studies in this version."""
    prev = protocol.previous_review
    counted = {str(k): int(v) for k, v in ident["records_identified"].items()}
    for s in protocol.searches:  # sources the protocol names but that brought nothing yet
        if not is_source(s.source, "clinicaltrials_gov"):  # a register: its own box
            counted.setdefault(s.source, 0)
    excl = scr.get("excluded_full_text") or {}
    if not isinstance(excl, dict):
        excl = {}
    screened = screened_studies(scr)
    total = list(dict.fromkeys([*study_ids, *screened]))
    prev_n = (prev.studies_included or 0) if prev else 0
    new_reports = int(scr.get("reports_included", 0) or 0)
    new_studies = max(0, len(total) - prev_n)
    # new studies no screened record brought in came from the curated extraction data
    # (e.g. an example review's published data set): PRISMA's "other methods" column, so
    # the diagram never shows new studies out of zero records
    other = max(0, new_studies - len(screened))
    flow = fig.PrismaFlow(
        previous_studies=prev.studies_included if prev else None,
        previous_reports=prev.reports_included if prev else None,
        identified=tuple(counted.items()),
        duplicates_removed=ident["duplicates_removed"],
        screened=scr.get("records_screened", 0),
        screened_excluded=scr.get("excluded_title_abstract", 0),
        sought=scr.get("reports_sought", 0),
        not_retrieved=scr.get("reports_not_retrieved", 0),
        assessed=scr.get("reports_assessed", 0),
        excluded_reasons=tuple((str(k), int(v)) for k, v in excl.items()),
        new_studies=new_studies,
        new_reports=new_reports,
        total_studies=len(total),
        total_reports=(prev.reports_included or 0) + new_reports if prev else None,
        previous_label=prev.citation if prev else None,
        other_identified=((OTHER_SOURCE, other),) if other else (),
        other_sought=other if other else None,
        other_not_retrieved=0 if other else None,
        other_assessed=other if other else None,
        title="PRISMA 2020 flow diagram (updated review)",
        description="Flow of records and studies: previous review, new identification, "
                    "screening, eligibility and inclusion.",
    )
    return flow, total


def _previous_rows(protocol: Protocol) -> list[tuple[str, ...]]:
    prev = protocol.previous_review
    if not prev:
        return []
    src = prev.prisma_source or ""
    rows = [("Previous review", "Studies included", cell(prev.studies_included), src)]
    for k, v in dict(prev.prisma).items():
        shown = "; ".join(f"{a}: {b}" for a, b in v.items()) if isinstance(v, dict) else cell(v)
        rows.append(("Previous review", str(k).replace("_", " "), shown, src))
    return rows


def _rows(
    flow: fig.PrismaFlow, ident: dict[str, Any], scr: dict[str, Any], protocol: Protocol,
    study_ids: Sequence[str], total: list[str],
) -> list[tuple[str, ...]]:
    reg = "registry"
    rows = _previous_rows(protocol)
    rows += [("Identification", f"Records from {src}", str(n), reg) for src, n in flow.identified]
    rows += [("Identification (other methods)", f"Studies from {src}", str(n), "protocol folder")
             for src, n in flow.other_identified]
    rows += [
        ("Identification", "Duplicates removed", str(ident["duplicates_removed"]), reg),
        ("Identification", "Uncertain duplicate pairs awaiting review",
         str(ident.get("uncertain_pairs_pending", 0)), reg),
        ("Screening", "Records screened", str(flow.screened), reg),
        ("Screening", "Records awaiting screening", str(scr.get("awaiting_screening", 0)), reg),
        ("Screening", "Excluded at title/abstract", str(flow.screened_excluded), reg),
        ("Eligibility", "Reports sought for retrieval", str(flow.sought), reg),
        ("Eligibility", "Reports not retrieved", str(flow.not_retrieved), reg),
        ("Eligibility", "Reports assessed for eligibility", str(flow.assessed), reg),
        ("Eligibility", "Reports awaiting full-text assessment",
         str(scr.get("awaiting_full_text", 0)), reg),
    ]
    rows += [("Eligibility", f"Excluded at full text: {reason}", str(n), reg)
             for reason, n in flow.excluded_reasons]
    rows.append(("Included", "New reports included (screening)", str(flow.new_reports), reg))
    rows.append(("Included", "New studies included", str(flow.new_studies), reg))
    missing = [s for s in screened_studies(scr) if s not in set(study_ids)]
    if missing:
        rows.append(("Included", "of which not yet extracted", ", ".join(missing), reg))
    rows.append(("Included", "Studies in this version", str(len(total)), reg))
    return rows


def prisma(
    store: Store, protocol: Protocol, study_ids: Sequence[str], scr: dict[str, Any],
    registers: RegistersBox,
) -> tuple[Figure, Table]:
    """The updated-review flow: previous review from the protocol, the rest from the store.

    Studies in this version = studies with curated data plus studies included at full text
    whose data are not extracted yet; new studies = that total minus the previous review's.
    Register records (ClinicalTrials.gov) are counted apart from databases, as PRISMA 2020
    asks; they are not screened as bibliographic records.
    """
    ident = store.prisma_identification(protocol.review)
    flow, total = _flow(ident, protocol, study_ids, scr)
    rows = _rows(flow, ident, scr, protocol, study_ids, total)
    first_screening = next(i for i, r in enumerate(rows) if r[0] == "Screening")
    rows[first_screening:first_screening] = register_rows(registers, protocol)
    # the diagram's identification box lists registers under the databases
    shown = dataclasses.replace(flow, identified=flow.identified + tuple(
        (f"{name} (register)", n) for name, n in registers.registers.items()))
    table = Table(("Stage", "Count", "n", "Source"), tuple(rows))
    return Figure("PRISMA 2020 flow diagram", prisma_svg(shown)), table
