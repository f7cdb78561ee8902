"""The living cycle in one call: search, import, deduplicate, queue, re-pool, report.

``run_update`` is what ``registry update`` and the README's first command run; it keeps
going when a live source is unreachable and says so in one line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registry.errors import NetworkError, RegistryError
from registry.screening import screening_summary
from registry.store import open_store

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
    report: ReportResult | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Short human summary, one fact per line."""
        out = list(self.notes)
        for src in self.unreachable:
            out.append(f"{src}: unreachable; went on with the records the registry already holds")
        out.append(
            f"{self.review}: {self.new_records} new records, {self.duplicates_removed} duplicates "
            f"removed, {self.awaiting_screening} awaiting screening, "
            f"{len(self.new_studies)} new studies"
            + (f" ({', '.join(self.new_studies)})" if self.new_studies else "")
        )
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
        """0 when all went well; 10/4 when asked to signal changes or unreachable sources."""
        if fail_on_change and self.changed_conclusions:
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


def make_report(db: str | Path | None, review: str, out: Path) -> ReportResult:
    """Re-pool the review, store a new report version and write HTML + Markdown."""
    from registry.analysis import build_report
    from reports.render import write_report

    with open_store(db) as store:
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


def run_update(
    db: str | Path | None, review: str, out: Path, *, offline: bool = False
) -> UpdateSummary:
    """Search every live source of the protocol, deduplicate, queue, re-pool and report."""
    from registry.curation import load_review
    from registry.dedup import deduplicate
    from schemas.protocol import load_protocol
    started = time.monotonic()
    protocol = load_protocol(review)
    summary = UpdateSummary(review=review)
    with open_store(db) as store:
        loaded = load_review(store, review)
        if getattr(loaded, "changed", False):
            summary.notes.append(f"{review}: curated data loaded from {_shown(protocol.folder)}")
        for saved in protocol.searches:
            if not getattr(saved, "live", saved.source == "pubmed") or saved.source != "pubmed":
                continue
            if offline:
                summary.unreachable.append(f"{saved.source} (skipped: --offline)")
                continue
            from registry.search import run_search

            try:
                runs = run_search(store, review=review)
            except NetworkError as exc:
                summary.unreachable.append(f"{saved.source} ({exc})")
                continue
            summary.searched.append(saved.source)
            summary.new_records += sum(r.new for r in runs)
            break  # run_search runs every saved PubMed query of the review at once
        for line, new in _import_inbox(store, protocol):
            summary.notes.append(line)
            summary.new_records += new
        before = store.prisma_identification(review)["duplicates_removed"]
        deduplicate(store)
        after = store.prisma_identification(review)["duplicates_removed"]
        summary.duplicates_removed = max(0, int(after) - int(before))  # this cycle's only
        summary.awaiting_screening = int(
            screening_summary(store, review).get("awaiting_screening", 0)
        )
    report = make_report(db, review, out)
    summary.report = report
    summary.new_studies = list(report.summary.get("new_studies", []))
    summary.changed_conclusions = list(report.summary.get("changed_conclusions", []))
    summary.seconds = time.monotonic() - started
    return summary


def _import_inbox(store: Any, protocol: Any) -> list[tuple[str, int]]:
    """Import export files the team dropped in ``data/reviews/<review>/imports/<source>/``.

    Databases without an API the registry can call (Embase, Web of Science, CENTRAL) are
    searched by the team; their exports land here and each file is imported once (a file
    already imported for that source, by SHA-256, is skipped).
    """
    import hashlib

    from registry.search import import_file

    inbox = protocol.path.parent / "imports"
    done: list[tuple[str, int]] = []
    if not inbox.is_dir():
        return done
    for folder in sorted(p for p in inbox.iterdir() if p.is_dir()):
        for f in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
            digest = hashlib.sha256(f.read_bytes()).hexdigest()
            if store.import_runs_for_file(digest, folder.name):
                continue
            try:
                res = import_file(store, f, source=folder.name, review=protocol.review)
            except RegistryError as exc:  # one bad file must not stop the monthly cycle
                done.append((f"not imported: {exc}", 0))
                continue
            done.append((f"imported {res.line()}", res.new))
    return done


def list_versions(db: str | Path | None, review: str | None) -> list[dict[str, Any]]:
    """Stored report versions (newest first)."""
    with open_store(db) as store:
        return store.report_versions(review)
