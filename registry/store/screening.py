"""Store verbs for the screening area (see registry/store/core.py for the rules)."""

from __future__ import annotations

from registry.store.core import StoreCore


class ScreeningMixin(StoreCore):
    """Verbs for screening."""
