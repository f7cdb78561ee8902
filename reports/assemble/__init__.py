"""Report assembly: turn the evidence layer's results into the view models templates show.

``build_report`` reads what the store holds for a review, runs the protocol's analysis plan
(:mod:`registry.evidence`), compares with the previous report version and the published
review, and fills :class:`reports.model.ReviewReport` with finished tables, figures and
prose. Templates (``reports/templates``) only present it.

- :mod:`.outcomes`: outcome sections, sensitivity rows, Summary-of-Findings rows;
- :mod:`.figures`: forest, leave-one-out, cumulative, funnel and risk-of-bias figure inputs;
- :mod:`.tables`: studies, design check, adverse events, gaps, published vs re-analysed, queue;
- :mod:`.prisma`: PRISMA 2020 counts, diagram and table;
- :mod:`.prose`: headline sentences and methods paragraphs;
- :mod:`.sources`: registered trials awaiting classification, registers count, retractions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from registry import __version__
from registry.curation import gaps as curation_gaps
from registry.curation import pooling_inputs, published_results
from registry.curation.validate import design_warnings
from registry.evidence.plan import OutcomeEvidence, TimeSubgroupEvidence, run_plan
from registry.evidence.versions import data_hash, place
from registry.evidence.whatsnew import whats_new
from registry.screening import screening_summary
from registry.screening.progress import screening_methods
from registry.sources import prisma_registers
from registry.store import Store
from reports.assemble import figures, outcomes, prisma, prose, sources, tables
from reports.model import OutcomeSection, ReviewReport, Table
from schemas.protocol import Protocol, load_protocol


@dataclass(frozen=True)
class BuiltReport:
    """A computed report plus what the store keeps of it."""

    report: ReviewReport
    results: list[dict[str, Any]]
    summary: dict[str, Any]
    study_ids: list[str]
    n_records: int
    preset: str
    unchanged_version: int | None = None  # set when the data equal the newest stored version


@dataclass(frozen=True)
class _Sheets:
    """The curated sheets of a review (studies marked excluded left out)."""

    studies: pd.DataFrame
    arms: pd.DataFrame
    rob: pd.DataFrame
    ae: pd.DataFrame

    @property
    def study_ids(self) -> list[str]:
        return [str(s) for s in self.studies["study_id"]] if len(self.studies) else []

    def frames(self) -> list[tuple[str, pd.DataFrame]]:
        return [("studies", self.studies), ("arms", self.arms), ("rob", self.rob),
                ("ae", self.ae)]


def _sheets(store: Store, review: str) -> _Sheets:
    studies = store.curation_rows(review, "studies")
    if len(studies) and "included_in" in studies.columns:
        studies = studies[studies["included_in"].fillna("main").astype(str) != "excluded"]
    return _Sheets(studies, store.curation_rows(review, "arms"),
                   store.curation_rows(review, "risk_of_bias"),
                   store.curation_rows(review, "adverse_events"))


def _n_records(store: Store, review: str) -> int:
    """Records identified for the review, every source (deleted ones included)."""
    return int(sum(v.get("records", 0) for v in store.record_counts(review).values()))


def _question(protocol: Protocol) -> dict[str, str]:
    q = protocol.question
    return {k: v for k, v in (("population", q.population), ("intervention", q.intervention),
                              ("comparison", q.comparison), ("outcomes", q.outcomes),
                              ("study designs", q.study_designs)) if v}


def _summary(study_ids: list[str], sections: list[OutcomeSection], wn: Any) -> dict[str, Any]:
    """What the store keeps of a version for ``registry versions`` and the next comparison."""
    return {
        "headline": f"{len(study_ids)} studies, {sum(1 for s in sections if s.main)} pooled "
                    "analyses",
        "new_studies": list(wn.new_studies) if not wn.first_version else [],
        "new_records": wn.new_records,
        "moved": list(wn.moved),
        "changed_conclusions": list(wn.changed_conclusions),
        "first_estimates": list(wn.first_estimates),
    }


def _sections(
    protocol: Protocol, per_input: list[OutcomeEvidence], by_time: list[TimeSubgroupEvidence],
    flags: dict[str, str],
) -> tuple[list[OutcomeSection], dict[str, list[OutcomeSection]], list[tuple[str, ...]]]:
    """Outcome sections in report order, the per-input ones by outcome, and the SoF rows
    (``flags``: integrity flags by study, for the forest plots)."""
    sections: list[OutcomeSection] = []
    sof_rows: list[tuple[str, ...]] = []
    by_outcome: dict[str, list[OutcomeSection]] = {}
    for ev in per_input:
        sec = outcomes.outcome_section(ev, protocol, flags)
        sections.append(sec)
        by_outcome.setdefault(ev.outcome.id, []).append(sec)
        if sec.main is not None:
            sof_rows.append(outcomes.sof_row(ev, sec, protocol))
    sections.extend(outcomes.time_subgroup_section(ev, flags) for ev in by_time)
    return sections, by_outcome, sof_rows


def build_report(store: Store, review: str, *, now: dt.datetime | None = None) -> BuiltReport:
    """Compute the review's full evidence summary from the registry (see module docstring)."""
    protocol = load_protocol(review)
    preset_name = protocol.analysis.preset
    sheets = _sheets(store, review)
    study_ids = sheets.study_ids
    inputs = pooling_inputs(store, review)

    results: list[dict[str, Any]] = []
    flags = sources.study_flags(store, review)
    sections, by_outcome, sof_rows = _sections(protocol, *run_plan(inputs, protocol, results),
                                               flags)

    n_records = _n_records(store, review)
    scr = screening_summary(store, review)
    trials = sources.trials_table(store, protocol)
    registers = prisma_registers(store, review)
    digest = data_hash(protocol.path, sheets.frames(), inputs, n_records, scr,
                       {**store.prisma_identification(review),
                        **sources.hash_part(store, review, trials, registers)})
    versions = store.report_versions(review)
    now = now or dt.datetime.now(dt.UTC)
    where = place(versions, digest, now)
    prev = where.previous
    prev_results = store.analysis_results(prev["version_id"]) if prev else []
    wn = whats_new(prev, prev_results, results, study_ids, n_records,
                   {o.id: o.name for o in protocol.outcomes},
                   {t.id: t.label for t in protocol.time_points})

    pub = published_results(store, review)
    prisma_fig, prisma_table = prisma.prisma(store, protocol, study_ids, scr, registers)
    rob_t, rob_s, rob_note = figures.rob_figures(sheets.rob, study_ids)
    report = ReviewReport(
        review=review,
        title=protocol.title,
        example=protocol.example,
        registration=protocol.registration,
        question=_question(protocol),
        version_label=where.label,
        data_hash=digest,
        generated_at=f"{now:%Y-%m-%d %H:%M} UTC",
        tool_version=__version__,
        whats_new=wn,
        headlines=tuple(prose.headlines(protocol, by_outcome, pub, results)),
        prisma=prisma_fig,
        prisma_table=prisma_table,
        studies=sources.flagged_studies(
            tables.studies_table(sheets.studies, sheets.arms, protocol),
            flags),
        design_check=tables.design_table(sheets.studies),
        rob_traffic=rob_t,
        rob_summary=rob_s,
        rob_note=rob_note,
        outcomes=tuple(sections),
        adverse_events=tables.ae_table(sheets.ae),
        gaps=tables.gaps_table(curation_gaps(store, review), prisma.screened_studies(scr),
                               study_ids),
        sof=Table(tables.SOF_COLUMNS, tuple(sof_rows),
                  empty_text="No outcome pooled yet, so no certainty rating."),
        published_vs_registry=tables.published_table(pub, results, protocol),
        methods=prose.methods(protocol, preset_name, store.search_runs(review)),
        screening_queue=tables.queue_table(store, review),
        screening_note=prose.screening_note(
            {**scr, "recall_estimate": prose.recall_estimate(screening_methods(store, review))}
        ),
        warnings=tuple(design_warnings(sheets.studies, protocol) if len(sheets.studies)
                       else []),
        trials=trials,
        integrity_news=sources.integrity_news(store, review, prev),
    )
    return BuiltReport(report, results, _summary(study_ids, sections, wn), study_ids,
                       n_records, preset_name, unchanged_version=where.unchanged_version)
