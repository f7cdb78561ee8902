"""``registry status``: what the registry holds and how its searches went.

Records per source, the search/import run log, the last successful run per source,
duplicates (from the dedup area's ``prisma_identification``), records awaiting screening
(from the screening area's ``screening_summary``) and retracted or corrected records.
The dedup and screening parts are asked for only when the store has those verbs, so status
works on a registry that has only been searched.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from registry.errors import RegistryError
from registry.screening import screening_summary
from registry.store import Store

_RUN_KEYS = (
    "run_id", "review", "source", "kind", "query", "query_translation", "date_field",
    "mindate", "maxdate", "file_name", "file_sha256", "file_format", "started_at",
    "finished_at", "hits", "new_records", "duplicate_records", "skipped_records",
    "tool_version", "outcome", "error",
)


@dataclass(frozen=True)
class StatusReport:
    """Everything ``registry status`` shows; ``to_dict`` is its ``--json`` form."""

    database: str
    review: str | None
    records: dict[str, dict[str, int]]  # source -> records, deleted, retracted, corrected
    total_records: int
    runs: list[dict[str, Any]]  # the run log, oldest first
    last_successful: dict[str, dict[str, Any]]  # "<kind>:<source>" -> latest ok run
    duplicates: dict[str, Any] | None  # prisma_identification(review), if available
    awaiting_screening: dict[str, int | None]  # review -> records awaiting screening
    screening: dict[str, dict[str, Any]]  # review -> screening_summary(review)
    flagged: list[dict[str, Any]]  # retracted or corrected records
    parse_problems: int
    notes: list[str] = field(default_factory=list)  # parts that could not be computed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings)."""
        return json.loads(json.dumps(self.__dict__, default=_jsonable))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, set | tuple):
        return list(value)
    return str(value)


def _run_view(run: dict[str, Any]) -> dict[str, Any]:
    return {k: run.get(k) for k in _RUN_KEYS}


def build_status(store: Store, review: str | None = None) -> StatusReport:
    """Collect the status of an open store (for one review, or everything)."""
    notes: list[str] = []
    counts = store.record_counts(review)
    runs = store.search_runs(review)
    last: dict[str, dict[str, Any]] = {}
    for run in runs:
        if run["outcome"] == "ok":
            last[f"{run['kind']}:{run['source']}"] = _run_view(run)
    duplicates = None
    if hasattr(store, "prisma_identification"):
        try:
            duplicates = store.prisma_identification(review)
        except RegistryError as exc:
            notes.append(f"duplicates: {exc}")
    else:
        notes.append("duplicates: deduplication is not available in this registry version")
    reviews = [review] if review else sorted({r["review"] for r in runs if r["review"]})
    awaiting: dict[str, int | None] = {}
    screening: dict[str, dict[str, Any]] = {}
    if hasattr(store, "screening_records"):
        for name in reviews:
            try:
                summary = screening_summary(store, name)
            except RegistryError as exc:
                notes.append(f"screening of {name}: {exc}")
                awaiting[name] = None
                continue
            screening[name] = summary
            awaiting[name] = summary.get("awaiting_screening")
    else:
        notes.append("screening: not available in this registry version")
    problems = len(store.parse_problems())
    return StatusReport(
        database=str(store.path), review=review, records=counts,
        total_records=sum(c["records"] for c in counts.values()),
        runs=[_run_view(r) for r in runs], last_successful=last, duplicates=duplicates,
        awaiting_screening=awaiting, screening=screening, flagged=store.flagged_records(review),
        parse_problems=problems, notes=notes,
    )


def render_text(rep: StatusReport) -> str:
    """Plain-text status for the terminal."""
    lines = [f"registry {rep.database}" + (f" (review {rep.review})" if rep.review else "")]
    lines.append(f"records: {rep.total_records:,}")
    for src, c in rep.records.items():
        extra = ", ".join(f"{v:,} {k}" for k, v in c.items() if k != "records" and v)
        lines.append(f"  {src}: {c['records']:,}" + (f" ({extra})" if extra else ""))
    n_ok = sum(1 for r in rep.runs if r["outcome"] == "ok")
    lines.append(f"runs: {len(rep.runs)} ({n_ok} ok)")
    for r in rep.runs[-10:]:
        what = r["query"] if r["kind"] == "search" else r["file_name"]
        what = (what or "")[:60]
        started = r["started_at"]
        when = started.strftime("%Y-%m-%d %H:%M") if started else "?"
        lines.append(
            f"  #{r['run_id']} {when} {r['kind']} {r['source']} {r['outcome']}: "
            f"{r['hits'] or 0:,} hits, {r['new_records'] or 0:,} new  {what}"
        )
    for key, r in rep.last_successful.items():
        end = r["finished_at"] or r["started_at"]
        label = key.replace(":", " from ", 1)  # "import:pubmed" -> "import from pubmed"
        lines.append(f"last successful {label}: run {r['run_id']} at {end:%Y-%m-%d %H:%M}")
    if rep.duplicates is not None:
        d = rep.duplicates
        lines.append(
            f"duplicates removed: {d.get('duplicates_removed', 0):,} "
            f"({d.get('records_after_duplicates_removed', 0):,} records left, "
            f"{d.get('uncertain_pairs_pending', 0):,} uncertain pairs pending)"
        )
        if d.get("records_not_yet_deduplicated"):
            lines.append(
                f"  not yet deduplicated: {d['records_not_yet_deduplicated']:,} records "
                "(run `registry dedup`)"
            )
    for name, n in rep.awaiting_screening.items():
        lines.append(f"awaiting screening ({name}): {'?' if n is None else f'{n:,}'}")
    retracted = sum(1 for f in rep.flagged if f["retracted"])
    corrected = sum(1 for f in rep.flagged if f["corrected"])
    lines.append(f"retracted: {retracted}, corrected (erratum): {corrected}")
    for f in rep.flagged[:20]:
        flag = "retracted" if f["retracted"] else "corrected"
        ident = f"PMID {f['pmid']}" if f["pmid"] else f"{f['source']} {f['source_id']}"
        lines.append(f"  {flag}: {ident} {(f['title'] or '')[:70]}")
    if rep.parse_problems:
        lines.append(f"parse problems logged: {rep.parse_problems}")
    lines.extend(f"note: {n}" for n in rep.notes)
    return "\n".join(lines)
