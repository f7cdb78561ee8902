"""The living cycle in one call: search, import, deduplicate, queue, re-pool, report.

``run_update`` is what ``registry update`` and the README's first command run; it keeps
going when a live source is unreachable and says so in one line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registry.curation import load_review
from registry.dedup import deduplicate
from registry.errors import InputError, NetworkError
from registry.intake.inbox import import_inbox
from registry.intake.run import run_search
from registry.screening import screening_summary
from registry.sources import update_sources
from registry.sources.runner import is_source
from registry.store import Store
from reports.assemble import build_report
from reports.render import version_dir, write_report
from schemas.protocol import Protocol, load_protocol

EXIT_OK = 0
EXIT_SOURCE_UNREACHABLE = 4
EXIT_CONCLUSION_CHANGED = 10


@dataclass
class ReportResult:
    """Where a rendered report went and which version it is."""

    version_label: str
    html_path: Path
    md_path: Path
    version_id: int
    summary: dict[str, Any]
    unchanged: bool = False  # the data equal the newest stored version: none was added


@dataclass
class UpdateSummary:
    """What one living update did, for the terminal and for schedulers."""

    review: str
    searched: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    new_records: int = 0
    duplicates_removed: int = 0
    awaiting_screening: int = 0
    new_studies: list[str] = field(default_factory=list)
    changed_conclusions: list[str] = field(default_factory=list)
    first_estimates: list[str] = field(default_factory=list)  # outcomes pooled the first time
    new_integrity: list[str] = field(default_factory=list)  # new retractions / concerns
    records_since_previous: int | None = None  # the report's count, when it differs
    report: ReportResult | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Short human summary, one fact per line."""
        out = list(self.notes)
        for src in self.unreachable:
            out.append(f"{src}: unreachable; went on with the records the registry already holds")
        records = f"{self.new_records} new records"
        if self.records_since_previous not in (None, self.new_records):
            # records imported between two updates: the report counts them, this cycle not
            records = (f"{self.records_since_previous} new records since the previous report "
                       f"version ({self.new_records} from this update's searches and imports)")
        out.append(
            f"{self.review}: {records}, {self.duplicates_removed} duplicates removed, "
            f"{self.awaiting_screening} awaiting screening, {len(self.new_studies)} new studies"
            + (f" ({', '.join(self.new_studies)})" if self.new_studies else "")
        )
        out.extend(f"first pooled estimate: {c}" for c in self.first_estimates)
        if self.changed_conclusions:
            out.extend(f"conclusion changed: {c}" for c in self.changed_conclusions)
        else:
            out.append("no conclusion changed")
        if self.report:
            same = " (data unchanged since that version)" if self.report.unchanged else ""
            out.append(
                f"report {self.report.version_label}{same}: {self.report.html_path} "
                f"({self.seconds:.1f} s)"
            )
        return out

    def exit_code(self, *, strict: bool = False, fail_on_change: bool = False) -> int:
        """0 when all went well; 10/4 when asked to signal changes or unreachable sources.

        A first pooled estimate (an outcome reaching two studies) and a new retraction or
        expression of concern of an included study are news like a changed conclusion."""
        news = self.changed_conclusions or self.first_estimates or self.new_integrity
        if fail_on_change and news:
            return EXIT_CONCLUSION_CHANGED
        if strict and self.unreachable:
            return EXIT_SOURCE_UNREACHABLE
        return EXIT_OK


def _shown(path: Path) -> str:
    """A path relative to the working directory when it is below it (shorter to read)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def make_report(store: Store, review: str, out: Path) -> ReportResult:
    """Re-pool the review, store a new report version and write HTML + Markdown."""
    built = build_report(store, review)
    if built.unchanged_version is not None:  # same data: re-render, no new version
        html_path, md_path = write_report(built.report, out / review)
        return ReportResult(built.report.version_label, html_path, md_path,
                            built.unchanged_version, built.summary, unchanged=True)
    version_id = store.save_report_version(
        review=review,
        label=built.report.version_label,
        data_hash=built.report.data_hash,
        tool_version=built.report.tool_version,
        preset=built.preset,
        n_records=built.n_records,
        study_ids=built.study_ids,
        summary=built.summary,
        results=built.results,
    )
    html_path, md_path = write_report(built.report, out / review)
    return ReportResult(built.report.version_label, html_path, md_path, version_id, built.summary)


def _search_live(store: Store, protocol: Protocol, summary: UpdateSummary, offline: bool) -> None:
    """Run the protocol's live PubMed searches; an unreachable source is noted, not fatal."""
    for saved in protocol.searches:
        if not getattr(saved, "live", saved.source == "pubmed") or saved.source != "pubmed":
            continue
        if offline:
            summary.unreachable.append(f"{saved.source} (skipped: --offline)")
            continue
        try:
            runs = run_search(store, review=protocol.review)
        except NetworkError as exc:
            summary.unreachable.append(f"{saved.source} ({exc})")
            continue
        summary.searched.append(saved.source)
        summary.new_records += sum(r.new for r in runs)
        break  # run_search runs every saved PubMed query of the review at once


def _new_sources(store: Store, protocol: Protocol, summary: UpdateSummary, offline: bool) -> None:
    """ClinicalTrials.gov, Europe PMC and the retraction watch (registry.sources).

    Crossref is asked only for a review whose protocol has a live ClinicalTrials.gov or
    Europe PMC search: a review that opted for none of the new sources (the bundled one)
    stays offline, and its watch reads PubMed's links from the stored records only."""
    live = [s.source for s in protocol.searches
            if s.live and not is_source(s.source, "pubmed")
            and (is_source(s.source, "clinicaltrials_gov") or is_source(s.source, "europepmc"))]
    if offline:
        summary.unreachable += [f"{src} (skipped: --offline)" for src in dict.fromkeys(live)]
    res = update_sources(store, protocol.review, offline=offline or not live)
    summary.unreachable += res.unreachable
    summary.searched += list(dict.fromkeys(s.source for s in res.summaries))
    summary.new_records += res.new_records
    # res.lines(): the runs, then the unreachable sources (said by summary.lines() already),
    # then the new serious findings
    lines = res.lines()
    n = len(res.summaries)
    summary.notes += lines[:n] + lines[n + len(res.unreachable):]
    summary.new_integrity += [f"{f.study_id}: {f.kind}"
                              for f in (res.watch.new_serious if res.watch else [])]


def run_update(
    store: Store, review: str, out: Path, *, offline: bool = False
) -> UpdateSummary:
    """Search every live source of the protocol, deduplicate, queue, re-pool and report."""
    started = time.monotonic()
    protocol = load_protocol(review)
    summary = UpdateSummary(review=review)
    loaded = load_review(store, review)
    if getattr(loaded, "changed", False):
        summary.notes.append(f"{review}: curated data loaded from {_shown(protocol.folder)}")
    _search_live(store, protocol, summary, offline)
    _new_sources(store, protocol, summary, offline)
    for line, new in _import_inbox(store, protocol):
        summary.notes.append(line)
        summary.new_records += new
    before = store.prisma_identification(review)["duplicates_removed"]
    deduplicate(store)
    after = store.prisma_identification(review)["duplicates_removed"]
    summary.duplicates_removed = max(0, int(after) - int(before))  # this cycle's only
    summary.awaiting_screening = int(screening_summary(store, review).get("awaiting_screening", 0))
    report = make_report(store, review, out)
    summary.report = report
    if not report.unchanged:  # an unchanged version's news was reported when it was made
        summary.new_studies = list(report.summary.get("new_studies", []))
        summary.changed_conclusions = list(report.summary.get("changed_conclusions", []))
        summary.first_estimates = list(report.summary.get("first_estimates", []))
        summary.records_since_previous = int(report.summary.get("new_records", 0))
    summary.seconds = time.monotonic() - started
    return summary


def _import_inbox(store: Store, protocol: Protocol) -> list[tuple[str, int]]:
    """Import the export files the team dropped in the review's ``imports/<source>/``."""
    return import_inbox(store, protocol.path.parent / "imports", protocol.review)


def kept_version(store: Store, review: str, number: int, out: Path) -> tuple[str, Path, Path]:
    """Version ``number`` (the n of its label ``v<n>-...``) of a review's report: its kept
    HTML and Markdown, re-rendered first when it is the newest version and was not kept."""
    rows = [v for v in store.report_versions(review) if v["label"].startswith(f"v{number}-")]
    if not rows:
        raise InputError(f"{review}: no report version {number} (list them with "
                         "`registry versions --review {review}`)".replace("{review}", review))
    label = rows[0]["label"]
    folder = version_dir(out / review, label)
    if not (folder / "report.html").is_file():
        newest = store.report_versions(review)[0]["label"]
        built = build_report(store, review) if label == newest else None
        if built is None or built.report.version_label != label:
            raise InputError(
                f"{review}: version {label} was not kept under {folder} and its data have "
                "changed since, so it cannot be re-rendered; its stored results: "
                "`registry versions --json`")
        write_report(built.report, out / review)
    return label, folder / "report.html", folder / "report.md"
