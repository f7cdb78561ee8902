"""Provenance: the audit trail of every curated value (who, when, old and new value)."""

from __future__ import annotations

from typing import Any

from registry.errors import InputError
from registry.store import Store


def history(store: Store, study_id: str, review: str | None = None) -> list[dict[str, Any]]:
    """Every audited change of a study's rows, oldest first (InputError if there is none)."""
    rows = store.curation_history(study_id, review)
    if not rows:
        raise InputError(
            f"no curation history for study {study_id!r}"
            + (f" in review {review!r}" if review else "")
        )
    return rows


def format_history(rows: list[dict[str, Any]]) -> str:
    """Plain-text history: one line per change, grouped by when and who."""
    lines: list[str] = []
    last = None
    for r in rows:
        head = (r["changed_at"], r["curator"], r["batch_id"])
        if head != last:
            when = r["changed_at"].strftime("%Y-%m-%d %H:%M:%S UTC")
            lines.append(f"{when}  {r['curator']}  ({r['review']}; from {r.get('origin') or '?'})")
            last = head
        old = "∅" if r["old_value"] is None else repr(r["old_value"])
        new = "∅" if r["new_value"] is None else repr(r["new_value"])
        lines.append(
            f"  {r['action']:<6} {r['table_name']}[{r['row_key']}].{r['column_name']}: "
            f"{old} -> {new}"
        )
    return "\n".join(lines)


def history_text(store: Store, study_id: str, review: str | None = None) -> str:
    """``registry history STUDY``: the study's audit trail as text."""
    return format_history(history(store, study_id, review))
