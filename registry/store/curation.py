"""Store verbs for the curation area (see registry/store/core.py for the rules)."""

from __future__ import annotations

from registry.store.core import StoreCore


class CurationMixin(StoreCore):
    """Verbs for curation."""
