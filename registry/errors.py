"""Domain errors, re-exported for the upper layers.

The classes live in :mod:`ingest.errors` (the lowest layer) so that ``ingest/`` and
``schemas/`` can raise them without importing anything from ``registry/``.
"""

from ingest.errors import (
    InputError,
    NetworkError,
    RegistryError,
    StatsError,
    StoreError,
    ValidationFailed,
)

__all__ = [
    "InputError",
    "NetworkError",
    "RegistryError",
    "StatsError",
    "StoreError",
    "ValidationFailed",
]
