"""Store verbs for the analyses area (see registry/store/core.py for the rules)."""

from __future__ import annotations

from registry.store.core import StoreCore


class AnalysesMixin(StoreCore):
    """Verbs for analyses."""
