"""The store stage of the intake: parsed items in, bounded batches out, counts kept.

:class:`Sink` writes each batch straight into the registry (live searches: every batch is
committed with the run's resumable state). :class:`StagedSink` (file imports) commits each
batch to a stage instead (records to a Parquet file each, see registry/store/staging.py);
the import moves the stage in at the end, all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ingest.records import Deletion, ParseProblem, Record
from registry import __version__
from registry.store import Store
from registry.store.staging import StageResult

TOOL = f"registry {__version__}"
BATCH = 2000  # items per add_records call: bounds memory whatever the file size
KEEP_PROBLEMS = 50  # problems kept for the summary (all of them are logged in the store)

Progress = Callable[[int, int | None, str], None]  # (done, total or None, message)


def _keep_first(kept: list[ParseProblem], problems: list[ParseProblem]) -> None:
    """Keep problems for the summary until :data:`KEEP_PROBLEMS` are kept."""
    kept.extend(problems[: max(KEEP_PROBLEMS - len(kept), 0)])


@dataclass
class Sink:
    """Writes one run's records, deletions and problems to the store, batch by batch."""

    store: Store
    run_id: int
    source: str
    file: str | None = None  # problems are logged under this file name
    seen: int = 0  # distinct records stored (per batch)
    new: int = 0
    updated: int = 0
    duplicates: int = 0  # records the registry already held (updated or not) + repeats
    repeated: int = 0  # extra copies within one batch
    deleted: int = 0
    deletions: int = 0  # Deletion notices seen (an update file may hold only those)
    problems: int = 0
    first_problems: list[ParseProblem] = field(default_factory=list)

    def write(self, items: Iterable[Record | Deletion | ParseProblem],
              state: dict[str, Any] | None = None) -> None:
        """Store one batch (records with ``state`` in one transaction, then the rest)."""
        recs: list[Record] = []
        dels: list[Deletion] = []
        probs: list[ParseProblem] = []
        for item in items:
            if isinstance(item, Record):
                recs.append(item)
            elif isinstance(item, Deletion):
                dels.append(item)
            else:
                probs.append(item)
        if recs or state is not None:
            res = self.store.add_records(recs, run_id=self.run_id, state=state)
            self.seen += res.seen
            self.new += res.new
            self.updated += res.updated
            self.duplicates += res.updated + res.unchanged + res.repeated
            self.repeated += res.repeated
        for d in dels:  # after the records: a withdrawal in the same batch wins
            self.deletions += 1
            self.deleted += self.store.mark_deleted(d.pmids, source=self.source)
        self.log(probs)

    def log(self, problems: list[ParseProblem]) -> None:
        """Log unusable records in the store; keep the first few for the summary."""
        if not problems:
            return
        self.problems += len(problems)
        _keep_first(self.first_problems, problems)
        self.store.log_parse_problems(self.run_id, problems, file=self.file)

    def consume(self, items: Iterable[Record | Deletion | ParseProblem],
                progress: Progress | None = None) -> None:
        """Store a whole stream in batches of :data:`BATCH` records."""
        buf: list[Record | Deletion | ParseProblem] = []
        for item in items:
            buf.append(item)
            if len(buf) >= BATCH:
                self.write(buf)
                buf = []
                if progress:
                    progress(self.seen, None, f"{self.seen:,} records read")
        if buf:
            self.write(buf)


@dataclass
class StagedSink:
    """Stages one file import's records, withdrawals and problems batch by batch.

    Memory holds one batch whatever the file size; nothing reaches the registry until the
    caller moves the stage in (:meth:`Store.commit_stage`), so a file that fails half-way
    leaves the registry as it was once the caller drops the stage.
    """

    store: Store
    stage: int
    file: str | None = None
    records: int = 0  # records staged (copies of one key included)
    deletions: int = 0  # Deletion notices seen (an update file may hold only those)
    problems: int = 0
    first_problems: list[ParseProblem] = field(default_factory=list)

    def consume(self, items: Iterable[Record | Deletion | ParseProblem],
                progress: Progress | None = None) -> None:
        """Stage a whole stream in batches of at most :data:`BATCH` records, withdrawn
        PMIDs or problems each (a file of nothing but withdrawals stays bounded too)."""
        recs: list[Record] = []
        dels: list[tuple[int, str]] = []
        probs: list[ParseProblem] = []
        for item in items:
            if isinstance(item, Record):
                recs.append(item)
            elif isinstance(item, Deletion):
                # position: the records before it (a record coming later is kept)
                pos = self.records + len(recs)
                dels.extend((pos, pmid) for pmid in item.pmids)
                self.deletions += 1
            else:
                probs.append(item)
            if max(len(recs), len(dels), len(probs)) >= BATCH:
                self._write(recs, dels, probs)
                recs, dels, probs = [], [], []
                if progress:
                    progress(self.records, None, f"{self.records:,} records read")
        if recs or dels or probs:
            self._write(recs, dels, probs)

    def _write(self, recs: list[Record], dels: list[tuple[int, str]],
               probs: list[ParseProblem]) -> None:
        self.store.stage_items(self.stage, self.records, recs, dels, probs, file=self.file)
        self.records += len(recs)
        self.problems += len(probs)
        _keep_first(self.first_problems, probs)

    def commit(self, run_id: int, source: str) -> StageResult:
        """Move the stage into the registry as ``run_id`` (inside the caller's transaction)."""
        return self.store.commit_stage(self.stage, run_id, source)
