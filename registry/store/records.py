"""Store verbs for the records area (see registry/store/core.py for the rules)."""

from __future__ import annotations

from registry.store.core import StoreCore


class RecordsMixin(StoreCore):
    """Verbs for records."""
