"""Domain errors, in the lowest layer so every layer can raise them.

The CLI turns each into a one-line message and an exit code; ``registry.errors``
re-exports them for the upper layers.
"""

from __future__ import annotations


class RegistryError(Exception):
    """Base class of every error the registry reports to a user."""

    exit_code: int = 1


class InputError(RegistryError):
    """A file, sheet, option or value given by the user is unusable."""

    exit_code = 2


class ValidationFailed(RegistryError):
    """Validation found problems; ``problems`` lists every one of them."""

    exit_code = 3

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []

    def __str__(self) -> str:
        head = super().__str__()
        if not self.problems:
            return head
        return head + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class NetworkError(RegistryError):
    """A remote service failed after every retry."""

    exit_code = 4


class StoreError(RegistryError):
    """The registry database cannot be opened or migrated."""

    exit_code = 5


class StatsError(RegistryError):
    """A statistical computation cannot be done on the given data (k = 1, zero variance...)."""

    exit_code = 6
