"""The registry store: one DuckDB file, reached only through this package's verbs."""

from __future__ import annotations

from pathlib import Path

from registry.config import db_path
from registry.store.analyses import AnalysesMixin
from registry.store.core import StoreCore
from registry.store.curation import CurationMixin
from registry.store.dedup import DedupMixin
from registry.store.records import RecordsMixin
from registry.store.screening import ScreeningMixin
from registry.store.staging import StagingMixin
from registry.store.trials import TrialsMixin
from registry.store.users import UsersMixin


class Store(
    StagingMixin, RecordsMixin, DedupMixin, CurationMixin, ScreeningMixin, AnalysesMixin,
    UsersMixin, TrialsMixin, StoreCore,
):
    """The registry database with every area's verbs."""


def open_store(path: str | Path | None = None, *, read_only: bool = False) -> Store:
    """Open (creating and migrating if needed) the registry at ``path`` or the default."""
    return Store(db_path(path), read_only=read_only)


__all__ = ["Store", "StoreCore", "open_store"]
