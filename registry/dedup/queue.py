"""The review queue: uncertain pairs a person decides, interactively or through a CSV.

Pairs scored between LOW and HIGH (and hard-key matches that look wrong, e.g. one DOI on
two different PMIDs) wait here. Decisions are stored under the records' stable identities
(source + accession number), so a re-import never re-opens them, and a "not duplicate"
decision keeps the two records apart even when the links say otherwise.

Every entry point first brings the dedup index up to date (a no-op when nothing is new),
so the queue it shows or reads is the current one.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry.csvout import SafeDictWriter, restore_cell
from registry.dedup.clustering import UnionFind
from registry.dedup.keys import _list
from registry.dedup.run import DedupResult, deduplicate
from registry.errors import InputError

if TYPE_CHECKING:
    from registry.store import Store

DECISION_KEYS = {"d": "duplicate", "n": "not_duplicate"}


@dataclass(frozen=True)
class ReviewSummary:
    """Outcome of a pass through the uncertain-pair queue."""

    duplicate: int
    not_duplicate: int
    skipped: int
    remaining: int
    quit: bool
    result: DedupResult | None = None


def decide(
    store: Store, record_a: int, record_b: int, decision: str, *, decided_by: str
) -> DedupResult:
    """Record one verdict on a pair and update the clusters."""
    store.record_dedup_decisions([(record_a, record_b, decision)], decided_by=decided_by)
    return deduplicate(store)


def review_queue(
    store: Store,
    ask: Callable[[dict[str, Any], int, int], str],
    *,
    decided_by: str,
    review: str | None = None,
) -> ReviewSummary:
    """Walk the uncertain pairs (both records in ``review``'s scope when given), highest
    score first. ``ask(pair, position, total)`` returns "d" (duplicate), "n" (not
    duplicate), "s" (skip) or "q" (quit). Each verdict is saved at once (quitting keeps
    what was decided); clusters are updated at the end."""
    deduplicate(store)
    pairs = store.dedup_pending(review=review)
    counts = {"d": 0, "n": 0, "s": 0}
    quit_ = False
    # Clusters are rebuilt once at the end; meanwhile track this session's verdicts on
    # clusters so a pair made moot by an earlier answer is not asked.
    session = UnionFind()
    for i, pair in enumerate(pairs, start=1):
        ca, cb = session.find(int(pair["cluster_a"])), session.find(int(pair["cluster_b"]))
        if ca == cb or session.forbidden(ca, cb):
            continue
        answer = ask(pair, i, len(pairs)).strip().lower()[:1]
        if answer == "q":
            quit_ = True
            break
        if answer not in DECISION_KEYS:
            counts["s"] += 1
            continue
        store.record_dedup_decisions(
            [(pair["record_id_a"], pair["record_id_b"], DECISION_KEYS[answer])],
            decided_by=decided_by,
        )
        counts[answer] += 1
        if answer == "d":
            session.union(ca, cb)
        else:
            session.forbid(ca, cb)
    result = deduplicate(store) if counts["d"] or counts["n"] else None
    return ReviewSummary(
        duplicate=counts["d"], not_duplicate=counts["n"], skipped=counts["s"],
        remaining=store.dedup_pending_count(review=review), quit=quit_, result=result,
    )


QUEUE_COLUMNS = (
    "source_a", "identity_a", "source_b", "identity_b", "decision", "note", "score", "why",
    "title_a", "title_b", "first_author_a", "first_author_b", "year_a", "year_b",
    "journal_a", "journal_b", "doi_a", "doi_b", "pmid_a", "pmid_b", "record_id_a",
    "record_id_b",
)
_IDENTITY_COLUMNS = ("source_a", "identity_a", "source_b", "identity_b")


def _queue_row(pair: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "decision": "", "note": "", "score": pair["score"], "why": pair["why"],
        "identity_a": pair["identity_a"], "identity_b": pair["identity_b"],
    }
    for s in ("a", "b"):
        authors = _list(pair[f"authors_{s}"])
        row.update({
            f"source_{s}": pair[f"source_{s}"],
            f"title_{s}": pair[f"title_{s}"],
            f"first_author_{s}": authors[0] if authors else "",
            f"year_{s}": "" if pair[f"year_{s}"] is None else pair[f"year_{s}"],
            f"journal_{s}": pair[f"journal_{s}"] or "",
            f"doi_{s}": pair[f"doi_{s}"] or "",
            f"pmid_{s}": pair[f"pmid_{s}"] or "",
            f"record_id_{s}": pair[f"record_id_{s}"],
        })
    return row


def export_queue(store: Store, path: str | Path, *, review: str | None = None) -> int:
    """Write the pending pairs (both records in ``review``'s scope when given) to a CSV a
    person fills in (column ``decision``: duplicate / not_duplicate, or d / n; empty =
    undecided). Cells a spreadsheet would run as formulas are neutralised. Returns the
    pair count."""
    deduplicate(store)
    pairs = store.dedup_pending(review=review)
    p = Path(path)
    try:
        with p.open("w", newline="", encoding="utf-8") as fh:
            w = SafeDictWriter(fh, fieldnames=list(QUEUE_COLUMNS))
            w.writeheader()
            w.writerows(_queue_row(pair) for pair in pairs)
    except OSError as exc:
        raise InputError(f"cannot write {p}: {exc}") from exc
    return len(pairs)


_DECISION_WORDS = {
    "d": "duplicate", "duplicate": "duplicate", "dup": "duplicate", "yes": "duplicate",
    "n": "not_duplicate", "not_duplicate": "not_duplicate", "not duplicate": "not_duplicate",
    "no": "not_duplicate",
}


@dataclass(frozen=True)
class ImportSummary:
    """Outcome of :func:`import_decisions`."""

    decided: int
    undecided: int
    result: DedupResult | None


def _read_rows(p: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of a decisions CSV, cells restored from their export form."""
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in (*_IDENTITY_COLUMNS, "decision") if c not in header]
            if missing:
                raise InputError(f"{p}: missing column(s) {', '.join(missing)}")
            return [
                (line, {k: restore_cell((v or "").strip()) for k, v in row.items() if k})
                for line, row in enumerate(reader, start=2)
            ]
    except OSError as exc:
        raise InputError(f"cannot read {p}: {exc}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{p}: not a readable CSV file ({exc})") from exc


Verdict = tuple[str, str, str, str, str, str | None]


def _verdicts(p: Path, rows: list[tuple[int, dict[str, str]]]) -> tuple[
        list[Verdict], int, list[str]]:
    """Decided rows as verdicts, the count of undecided rows, and problems found."""
    problems: list[str] = []
    out: list[Verdict] = []
    undecided = 0
    for line, row in rows:
        raw = row.get("decision", "").lower()
        if not raw:
            undecided += 1
            continue
        decision = _DECISION_WORDS.get(raw)
        if decision is None:
            problems.append(
                f"{p}: row {line}, column decision: {raw!r} is not duplicate/not_duplicate/d/n"
            )
            continue
        sa, ia, sb, ib = (row.get(c, "") for c in _IDENTITY_COLUMNS)
        if not (sa and ia and sb and ib):
            problems.append(f"{p}: row {line}: source_a/identity_a/source_b/identity_b empty")
            continue
        out.append((sa, ia, sb, ib, decision, row.get("note") or None))
    return out, undecided, problems


def _unknown(store: Store, p: Path, rows: list[tuple[int, dict[str, str]]]) -> list[str]:
    """Problems for decided rows naming a record the dedup index does not hold."""
    wanted = [(row.get(f"source_{s}", ""), row.get(f"identity_{s}", ""))
              for _, row in rows for s in ("a", "b")]
    known = store.dedup_identities_known([w for w in wanted if all(w)])
    problems = []
    for line, row in rows:
        for s in ("a", "b"):
            ident = (row.get(f"source_{s}", ""), row.get(f"identity_{s}", ""))
            if row.get("decision") and all(ident) and ident not in known:
                problems.append(
                    f"{p}: row {line}, columns source_{s}/identity_{s}: no record "
                    f"{ident[0]}:{ident[1]} in the dedup index"
                )
    return problems


def import_decisions(store: Store, path: str | Path, *, decided_by: str) -> ImportSummary:
    """Read verdicts from a CSV written by :func:`export_queue` (pairs are matched by
    source + identity, so the file stays valid after a re-import; cells neutralised on
    export are restored). Any bad row -> InputError naming file, row and column, and
    nothing is stored."""
    deduplicate(store)
    p = Path(path)
    rows = _read_rows(p)
    out, undecided, problems = _verdicts(p, rows)
    problems += _unknown(store, p, rows)
    if problems:
        raise InputError(f"{p}: {len(problems)} problem(s)\n" + "\n".join(problems))
    if not out:
        return ImportSummary(0, undecided, None)
    store.record_dedup_decisions_by_identity(out, decided_by=decided_by)
    return ImportSummary(len(out), undecided, deduplicate(store))
