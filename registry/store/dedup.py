"""Store verbs for the dedup area (see registry/store/core.py for the rules)."""

from __future__ import annotations

from registry.store.core import StoreCore


class DedupMixin(StoreCore):
    """Verbs for dedup."""
