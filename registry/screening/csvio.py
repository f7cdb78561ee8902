"""Screening decisions as a CSV a curator can edit in a spreadsheet: export, then import.

Export writes the queue (or every eligible record with ``include_all``) with the columns
record_id, source, source_id, pmid, doi, title, year, journal, score, decision, reason,
note, then study_id, score_parts, review, stage, reviewer, authors, abstract so the file
describes itself and a screener working in a spreadsheet sees the whole record. Cells go
through :mod:`registry.csvout` (a title starting with ``=`` cannot run as a formula) and
:func:`registry.csvout.restore_cell` undoes that on import.
Decisions belong to the reviewer who imports the file (``--reviewer``, else the curator): a
row whose ``reviewer`` cell names someone else is refused, never credited to them.
Import reads it back: rows with an empty decision are skipped (not screened yet); every
other row is validated (decision value, reason among the protocol's exclusion reasons,
record known and in the review, full text only after title/abstract) and *all* problems
are reported at once, each naming the row as the curator sees it (header = row 1) and the
column. Nothing is written unless the whole file is valid.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry.config import curator
from registry.csvout import restore_cell, write_csv
from registry.errors import InputError, ValidationFailed
from registry.screening.config import ScreeningConfig, screening_config, stage_name
from registry.screening.state import (
    Decision,
    QueueItem,
    ReviewView,
    build_queue,
    check_decision,
    check_prerequisite,
    load_view,
    resolve_review,
)

if TYPE_CHECKING:
    from registry.store import Store

# XLSX (a zip) and legacy XLS (OLE2) workbooks: refused with a clear message, not decoded.
_SPREADSHEET_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")

EXPORT_COLUMNS = (
    "record_id",
    "source",
    "source_id",
    "pmid",
    "doi",
    "title",
    "year",
    "journal",
    "score",
    "decision",
    "reason",
    "note",
    "study_id",
    "score_parts",
    "review",
    "stage",
    "reviewer",
    "authors",
    "abstract",
)


def export_decisions_csv(
    store: Store,
    review: str | None,
    stage: str,
    out: str | Path,
    *,
    include_all: bool = False,
    reviewer: str | None = None,
    config: ScreeningConfig | None = None,
) -> int:
    """Write the ranked queue (or all eligible records) to ``out``; returns the row count.

    With dual review, a not-yet-settled record shows only ``reviewer``'s own decision.
    """
    review = resolve_review(store, review)
    stage = stage_name(stage)
    who = reviewer or curator()
    view = load_view(store, review, config or screening_config(review))
    items = build_queue(view, stage, reviewer=who, include_all=include_all)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_csv(out, EXPORT_COLUMNS, (_export_row(it, review, stage, who) for it in items))


def _export_row(it: QueueItem, review: str, stage: str, who: str) -> list[Any]:
    r, d = it.record, it.decision
    return [
        r["record_id"],
        r["source"],
        r["source_id"] or "",
        r["pmid"] or "",
        r["doi"] or "",
        r["title"] or "",
        "" if r["year"] is None else r["year"],
        r["journal"] or "",
        it.score.total,
        d.decision if d else "",
        (d.reason or "") if d else "",
        (d.note or "") if d else "",
        (d.study_id or "") if d else "",
        ("model: " + ", ".join(it.why)) if it.why else it.score.explain(),
        review,
        stage,
        who,
        "; ".join(r.get("authors") or []),
        r.get("abstract") or "",
    ]


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    file: str
    review: str
    stage: str
    added: int  # decisions written
    unchanged: int  # rows equal to the decision already in force
    blank: int  # rows with no decision (left in the queue)

    def line(self) -> str:
        """One-line summary for the CLI."""
        return (
            f"{self.file}: {self.added} decisions recorded for {self.review} ({self.stage}), "
            f"{self.unchanged} unchanged, {self.blank} rows without a decision"
        )


def _cell(row: dict[str, Any], col: str) -> str:
    v = restore_cell(row.get(col))
    return "" if v is None else str(v).strip()


def _one_value(
    rows: list[tuple[int, dict[str, Any]]], col: str, given: str | None, path: Path
) -> str | None:
    """The file-wide value of ``review``/``stage``: option, else column; rows must agree."""
    value = given
    for n, row in rows:
        cell = _cell(row, col)
        if not cell:
            continue
        if col == "stage":
            try:
                cell = stage_name(cell)
            except InputError as exc:
                raise InputError(f"{path} row {n}, column {col}: {exc}") from None
        if value is None:
            value = cell
        elif cell != value:
            raise InputError(
                f"{path} row {n}, column {col}: {cell!r} differs from {value!r} "
                "(one file holds one review and one stage)"
            )
    return value


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Header and (row number as the curator sees it, row) pairs of a screening CSV."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read CSV: {exc}") from exc
    if raw.startswith(_SPREADSHEET_MAGIC):
        raise InputError(
            f"{path}: this is a spreadsheet workbook (XLSX/XLS), not a CSV; in your "
            "spreadsheet program use 'Save as' > CSV (UTF-8) and import that file"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # spreadsheets saved as "CSV" on Windows write cp1252, not UTF-8
        text = raw.decode("cp1252", errors="replace")
    first = text.split("\n", 1)[0]
    # Excel in many European locales separates with ';' (',' is the decimal mark)
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        rows = [(i, row) for i, row in enumerate(reader, start=2)]
    except csv.Error as exc:
        raise InputError(f"{path}: cannot read CSV: {exc}") from exc
    if "decision" not in header:
        raise InputError(f"{path}: no 'decision' column (columns: {', '.join(header)})")
    if "record_id" not in header and not {"source", "source_id"} <= set(header):
        raise InputError(f"{path}: needs a 'record_id' column or 'source' and 'source_id'")
    return header, rows


@dataclass
class _Lookup:
    """Record ids of every row, resolved up front (one query each way) so errors can name
    every row."""

    known: dict[int, dict[str, Any]]
    by_identity: dict[tuple[str, str], int]

    @classmethod
    def of(cls, store: Store, rows: list[tuple[int, dict[str, Any]]]) -> _Lookup:
        """Look up the record ids and (source, source_id) pairs the rows name."""
        ids: list[int] = []
        identities: list[tuple[str, str]] = []
        for _, row in rows:
            rid = _cell(row, "record_id")
            if rid.isdigit():
                ids.append(int(rid))
            elif _cell(row, "source") and _cell(row, "source_id"):
                identities.append((_cell(row, "source"), _cell(row, "source_id")))
        return cls(store.records_by_id(ids), store.record_ids_by_identity(identities))

    def record_of(self, row: dict[str, Any], where: str) -> tuple[int | None, str | None]:
        """(record_id, None) or (None, the problem naming row and column)."""
        rid_text = _cell(row, "record_id")
        src, sid = _cell(row, "source"), _cell(row, "source_id")
        if not rid_text:
            record_id = self.by_identity.get((src, sid))
            if record_id is None:
                return None, (
                    f"{where}, column source_id: no record {src or '?'} {sid or '?'} "
                    "in the registry"
                )
            return record_id, None
        if not rid_text.isdigit():
            return None, f"{where}, column record_id: {rid_text!r} is not a record id"
        rec = self.known.get(int(rid_text))
        if rec is None:
            return None, f"{where}, column record_id: no record {rid_text} in the registry"
        if src and sid and (rec["source"], rec["source_id"]) != (src, sid):
            return None, (
                f"{where}, column source_id: record {rid_text} is {rec['source']} "
                f"{rec['source_id']}, not {src} {sid} (file from another registry?)"
            )
        return int(rid_text), None


def import_decisions_csv(
    store: Store,
    path: str | Path,
    *,
    review: str | None = None,
    stage: str | None = None,
    reviewer: str | None = None,
    config: ScreeningConfig | None = None,
) -> ImportResult:
    """Read decisions from a screening CSV and record them, all or nothing.

    ``review``/``stage`` default to the file's columns; every decision is credited to
    ``reviewer`` (else the curator), and a row whose ``reviewer`` cell names someone else
    is an error. Raises ValidationFailed listing every bad row/column, InputError for an
    unreadable file (or a workbook) or missing columns.
    """
    path = Path(path)
    _, rows = _read_rows(path)
    review = _one_value(rows, "review", review, path)
    stage = _one_value(rows, "stage", stage_name(stage) if stage else None, path)
    if not review:
        raise InputError(f"{path}: which review? (no 'review' column; give --review)")
    if not stage:
        raise InputError(f"{path}: which stage? (no 'stage' column; give --stage)")
    config = config or screening_config(review)
    batch = _Batch(load_view(store, review, config), stage, reviewer or curator(), path)
    lookup = _Lookup.of(store, rows)
    for n, row in rows:
        batch.take(n, row, lookup)
    if batch.problems:
        raise ValidationFailed(
            f"{path}: {len(batch.problems)} problem(s); nothing was imported", batch.problems
        )
    added = len(store.add_screening_decisions(batch.to_add))
    return ImportResult(str(path), review, stage, added, batch.unchanged, batch.blank)


@dataclass
class _Batch:
    """The decisions of one file, checked row by row before anything is written."""

    view: ReviewView
    stage: str
    who: str
    path: Path
    problems: list[str] = field(default_factory=list)
    to_add: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    blank: int = 0
    seen: dict[int, int] = field(default_factory=dict)  # cluster -> row

    def take(self, n: int, row: dict[str, Any], lookup: _Lookup) -> None:
        """Check row ``n``; queue its decision or note every problem with it."""
        where, config = f"row {n}", self.view.config
        raw_decision = _cell(row, "decision")
        if not raw_decision:
            self.blank += 1
            return
        record_id, problem = lookup.record_of(row, where)
        cid = self.view.cluster_of(record_id) if record_id is not None else None
        if problem is None and cid is None:
            problem = (f"{where}, column record_id: record {record_id} is not among the search "
                       f"results of review {self.view.review!r}")  # fmt: skip
        if problem is not None or cid is None or record_id is None:
            self.problems.append(problem or f"{where}: no record")
            return
        value, reason_id, bad = check_decision(
            config, self.stage, raw_decision, _cell(row, "reason"), _cell(row, "study_id")
        )
        self.problems.extend(f"{where}, column {col}: {msg}" for col, msg in bad)
        if bad:
            return
        why = check_prerequisite(self.view, self.stage, cid)
        named = _cell(row, "reviewer")
        if why:
            self.problems.append(f"{where}, column decision: record {record_id}: {why}")
        elif named and named != self.who:
            self.problems.append(
                f"{where}, column reviewer: {named!r} is not the reviewer importing this file "
                f"({self.who!r}); a decision belongs to whoever imports it: give "
                f"--reviewer {named!r} if these are their decisions, or clear the column"
            )
        elif cid in self.seen:
            self.problems.append(
                f"{where}, column record_id: record {record_id} (same cluster as row "
                f"{self.seen[cid]}) is decided twice in this file"
            )
        else:
            self.seen[cid] = n
            self._queue(record_id, cid, value, reason_id, row)

    def _queue(self, record_id: int, cid: int, value: str | None, reason_id: str | None,
               row: dict[str, Any]) -> None:  # fmt: skip
        note = _cell(row, "note") or None
        study_id = _cell(row, "study_id") or None
        current = _current(self.view, self.stage, cid, self.who)
        if current is not None and (
            current.decision, current.reason, current.note, current.study_id
        ) == (value, reason_id, note, study_id):
            self.unchanged += 1
            return
        self.to_add.append({
            "review": self.view.review, "stage": self.stage, "record_id": record_id,
            "reviewer": self.who, "decision": value, "reason": reason_id,
            "reason_label": self.view.config.reason_label(reason_id), "note": note,
            "study_id": study_id, "via": f"csv:{self.path.name}",
        })  # fmt: skip


def _current(view: ReviewView, stage: str, cid: int, who: str) -> Decision | None:
    """The decision an identical row would repeat (so re-importing a file is a no-op)."""
    st = view.state(stage, cid)
    if st is None:
        return None
    if view.config.dual_review:
        return st.by_reviewer.get(who)
    return st.final
