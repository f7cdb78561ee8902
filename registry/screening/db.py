"""Entry points that open the registry themselves: what ``registry screen ...`` calls.

Each opens the store at ``db`` (``--db``, ``REGISTRY_DB`` or ./registry.duckdb), does one
thing through the store-level functions and closes it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from registry.errors import InputError
from registry.screening.csvio import ImportResult, export_decisions_csv, import_decisions_csv
from registry.screening.interactive import SessionResult, screen_interactively
from registry.screening.state import (
    Conflict,
    Decision,
    record_decision,
    screening_conflicts,
    screening_summary,
)

if TYPE_CHECKING:
    from registry.store import Store


def _open(db: str | Path | None) -> Store:
    from registry.store import open_store

    return open_store(db)


def resolve_review(store: Store, review: str | None) -> str:
    """``review`` if given, else the only review the registry holds searches for."""
    if review:
        return review
    known = store.screening_reviews()
    if len(known) == 1:
        return known[0]
    names = ", ".join(known) if known else "none yet"
    raise InputError(f"which review? give --review (reviews in the registry: {names})")


def next_session(
    db: str | Path | None,
    review: str | None,
    stage: str,
    *,
    reviewer: str | None = None,
    console: Console | None = None,
    ask: Callable[[str], str] | None = None,
) -> SessionResult:
    """Interactive screening of the ranked queue (see :mod:`registry.screening.interactive`)."""
    with _open(db) as store:
        return screen_interactively(
            store, resolve_review(store, review), stage, reviewer=reviewer,
            console=console, ask=ask,
        )  # fmt: skip


def export_csv(
    db: str | Path | None,
    review: str | None,
    stage: str,
    out: str | Path,
    *,
    include_all: bool = False,
    reviewer: str | None = None,
) -> int:
    """Write the queue (or all eligible records) of ``review`` at ``stage`` to ``out``."""
    with _open(db) as store:
        return export_decisions_csv(
            store, resolve_review(store, review), stage, out,
            include_all=include_all, reviewer=reviewer,
        )  # fmt: skip


def import_csv(
    db: str | Path | None,
    path: str | Path,
    *,
    review: str | None = None,
    stage: str | None = None,
    reviewer: str | None = None,
) -> ImportResult:
    """Record the decisions of a screening CSV (all or nothing)."""
    with _open(db) as store:
        return import_decisions_csv(store, path, review=review, stage=stage, reviewer=reviewer)


def list_conflicts(
    db: str | Path | None, review: str | None, stage: str | None = None
) -> list[Conflict]:
    """Unresolved dual-review conflicts."""
    with _open(db) as store:
        return screening_conflicts(store, resolve_review(store, review), stage)


def resolve_conflict(
    db: str | Path | None,
    review: str | None,
    stage: str,
    record_id: int,
    decision: str,
    *,
    reason: str | None = None,
    note: str | None = None,
    study_id: str | None = None,
    reviewer: str | None = None,
) -> Decision:
    """Record the decision that settles a conflict (or overrides a settled one)."""
    with _open(db) as store:
        return record_decision(
            store, resolve_review(store, review), stage, record_id, decision,
            reviewer=reviewer, reason=reason, note=note, study_id=study_id,
            resolution=True, via="resolve",
        )  # fmt: skip


def summary(db: str | Path | None, review: str | None) -> dict[str, Any]:
    """PRISMA screening counts (see :func:`registry.screening.screening_summary`)."""
    with _open(db) as store:
        return screening_summary(store, resolve_review(store, review))
