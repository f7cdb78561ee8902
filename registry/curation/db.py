"""Entry points for the CLI: each opens the registry, does one curation task, closes it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from registry.store import open_store

from .audit import format_history, history
from .compare import compare_sheets, format_disagreements
from .export import export_review
from .gaps import gaps
from .load import LoadSummary, add_trial, load_review
from .recheck import RegistryCheck, validate_registry
from .template import write_template


def default_review(review: str | None, known: list[str] | None = None) -> str:
    """``review`` if given, else the registry's default review (see the protocol module)."""
    from schemas.protocol import default_review as _default

    return _default(review, known)


def add_trial_cmd(db: str | None, path: Path, review: str | None) -> LoadSummary:
    """`registry add-trial`."""
    with open_store(db) as store:
        return add_trial(store, path, review)


def load_review_cmd(db: str | None, name: str) -> LoadSummary:
    """`registry load-review`."""
    with open_store(db) as store:
        return load_review(store, name)


def validate_cmd(db: str | None, review: str | None) -> RegistryCheck:
    """`registry validate`."""
    with open_store(db) as store:
        return validate_registry(store, review)


def history_cmd(db: str | None, study: str, review: str | None) -> str:
    """`registry history STUDY`."""
    with open_store(db) as store:
        return format_history(history(store, study, review))


def gaps_cmd(db: str | None, review: str | None) -> tuple[str, pd.DataFrame]:
    """`registry gaps`: (review, gap table)."""
    with open_store(db) as store:
        name = default_review(review, store.curated_reviews())
        return name, gaps(store, name)


def export_cmd(db: str | None, review: str, out: Path) -> list[Path]:
    """`registry extract export`."""
    with open_store(db) as store:
        return export_review(store, review, out)


def template_cmd(out: Path, review: str | None) -> Path:
    """`registry extract template`."""
    return write_template(out, default_review(review))


def compare_cmd(a: Path, b: Path) -> tuple[int, str]:
    """`registry extract compare`: (number of disagreements, text)."""
    items = compare_sheets(a, b)
    return len(items), format_disagreements(items)
