"""``registry import``: one export file (PubMed XML, MEDLINE/.nbib, RIS; gzip streamed) as
one logged run, all or nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.detect import detect_format, parse_file, resolve_format
from ingest.sources import canonical_source
from registry.errors import InputError
from registry.gcpolicy import bulk_allocations
from registry.intake.sink import TOOL, Progress, StagedSink
from registry.store import Store

# Formats that can only come from PubMed (a RIS file says nothing of its database).
_DEFAULT_SOURCE = {"pubmed-xml": "pubmed", "medline": "pubmed"}


@dataclass(frozen=True)
class ImportSummary:
    """What one ``registry import`` did."""

    run_id: int
    file: str
    sha256: str
    format: str
    source: str
    review: str | None
    records: int  # usable records in the file
    new: int
    duplicates: int  # records the registry already held for this source
    updated: int
    deleted: int  # DeleteCitation PMIDs flagged
    problems: tuple[str, ...]  # the first malformed records, by PMID or position
    seconds: float
    skipped: int = 0  # every malformed record (all are logged in parse_problems)

    def line(self) -> str:
        """One-line summary."""
        probs = f", {self.skipped} skipped" if self.skipped else ""
        return (
            f"{Path(self.file).name} ({self.format}, source {self.source}): "
            f"{self.records:,} records, {self.new:,} new, {self.duplicates:,} duplicates"
            f"{probs}, {self.seconds:.1f} s (run {self.run_id})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        out = dict(self.__dict__)
        out["problems"] = list(self.problems)
        return out


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (constant memory)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def import_source(kind: str, source: str | None, path: Path) -> str:
    """The canonical source of an import: ``source`` as given, else what the format implies."""
    given = source if source and source.strip() else _DEFAULT_SOURCE.get(kind)
    if not given:
        raise InputError(
            f"{path}: a {kind.upper()} file does not say which database it came from; "
            "give --source NAME (e.g. embase, cochrane_central, web_of_science)"
        )
    return canonical_source(given, where=str(path))


def import_file(
    store: Store,
    path: str | Path,
    fmt: str | None = None,
    source: str | None = None,
    review: str | None = None,
    *,
    progress: Progress | None = None,
    sha256: str | None = None,
) -> ImportSummary:
    """Import a PubMed XML, MEDLINE/.nbib or RIS export (gzip accepted) as one run.

    All or nothing: records, withdrawals and problems are staged in bounded batches
    (memory stays flat in the file size), then the run log and the stage move into the
    registry in one transaction; an unreadable file (empty, binary,
    unknown, cut short, a compression bomb) leaves the registry exactly as it was.
    Single malformed records are reported by PMID (or position) and skipped.
    Re-importing a file adds no duplicate: records are keyed by (source, accession
    number). ``sha256`` spares hashing a file the caller hashed.
    """
    t0 = time.monotonic()
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file" if not p.exists() else f"{p}: not a file")
    kind = detect_format(p) if fmt is None else resolve_format(fmt)
    src = import_source(kind, source, p)
    digest = sha256 or file_sha256(p)
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # the run log's started_at
    with store.import_mode(), bulk_allocations():
        sink = StagedSink(store, store.begin_stage(), file=p.name)
        try:
            sink.consume(parse_file(p, fmt=kind, source_name=src), progress)
            if sink.records == 0 and sink.deletions == 0:
                first = sink.first_problems[0] if sink.first_problems else None
                detail = f"; {sink.problems} unusable: {first}" if first else ""
                raise InputError(f"{p}: no usable records in this {kind} file{detail}")
            with store.transaction():
                run_id = store.record_search_run(
                    source=src, kind="import", tool_version=TOOL, review=review,
                    file_name=p.name, file_sha256=digest, file_format=kind,
                    started_at=started,
                )
                res = sink.commit(run_id, src)
                store.finish_search_run(
                    run_id, outcome="ok", hits=res.seen + res.repeated + sink.problems,
                    skipped_records=sink.problems,
                )
        except BaseException:
            store.drop_stage(sink.stage)
            raise
    return ImportSummary(
        run_id=run_id, file=str(p), sha256=digest, format=kind, source=src, review=review,
        records=res.seen, new=res.new, duplicates=res.updated + res.unchanged + res.repeated,
        updated=res.updated, deleted=res.deleted,
        problems=tuple(str(x) for x in sink.first_problems),
        seconds=time.monotonic() - t0, skipped=sink.problems,
    )
