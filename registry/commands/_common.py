"""Shared plumbing for the thin Typer commands: global options and error handling."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from registry.errors import InputError, RegistryError

if TYPE_CHECKING:  # the store (duckdb) is imported only by commands that open it
    from registry.store import Store

T = TypeVar("T")

# Messages carry record text, file names and values such as "[/x]": never parse them as Rich
# markup, and never hard-wrap a line when output goes to a pipe (scripts grep it).
console = Console(markup=False, highlight=False, soft_wrap=True)
err_console = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)


@dataclass
class GlobalOptions:
    """Options given before the command name (``registry --db X search``).

    Also the one door to the store for a CLI invocation: :meth:`store` opens it on first
    use and the root callback closes it when the command ends, so a command never opens
    the database twice and commands that need no database (``meta``, ``--help``) never
    open it at all.
    """

    db: str | None = None
    _store: Store | None = field(default=None, repr=False)

    def db_file(self) -> Path:
        """The database file this invocation works on (``--db``, ``$REGISTRY_DB``, default)."""
        from registry.config import db_path

        return db_path(self.db)

    def store(self, *, must_exist: bool = False) -> Store:
        """The registry store, opened (and migrated) once per invocation.

        ``must_exist``: refuse to create a database (read-only commands such as ``status``
        must not leave an empty file behind after a typo in ``--db``).
        """
        if self._store is None:
            from registry.store import open_store

            path = self.db_file()
            if must_exist and not path.exists():
                raise InputError(
                    f"{path}: no registry database here yet (run `registry search`, "
                    "`registry import` or `registry update` first, or give --db)"
                )
            self._store = open_store(path)
        return self._store

    def close(self) -> None:
        """Close the store if this invocation opened it."""
        if self._store is not None:
            self._store.close()
            self._store = None


def global_options(ctx: typer.Context) -> GlobalOptions:
    """The root context's options object."""
    obj = ctx.find_root().obj
    if not isinstance(obj, GlobalOptions):
        obj = GlobalOptions()
        ctx.find_root().obj = obj
    return obj


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error to stderr and return an Exit to raise."""
    err_console.print(Text("error:", style="bold red"), Text(message))
    return typer.Exit(code)


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn a RegistryError into a clean message and its exit code (no traceback)."""
    try:
        yield
    except RegistryError as exc:
        raise fail(str(exc), exc.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("interrupted; the registry is left as it was before the last write")
        raise typer.Exit(130) from None


def call(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Call one library function under :func:`domain_errors`."""
    with domain_errors():
        return fn(*args, **kwargs)


def with_store(
    ctx: typer.Context,
    fn: Callable[..., T],
    *args: object,
    must_exist: bool = False,
    **kwargs: object,
) -> T:
    """Call one library function with the invocation's store as its first argument.

    Opening the store and the call both run under :func:`domain_errors`, so a locked or
    unreadable database is a one-line message and an exit code like any other error.
    """
    with domain_errors():
        return fn(global_options(ctx).store(must_exist=must_exist), *args, **kwargs)


def is_tty() -> bool:
    """True when stdout is a terminal (progress bars only then)."""
    return sys.stdout.isatty()


# The one description of --review's default, used by every command that takes a review
# (decided by schemas.protocol.default_review).
REVIEW_DEFAULT_HELP = (
    "Review name (a folder under data/reviews). Default: $REGISTRY_REVIEW, else the only "
    "review, else the only one that is not an example."
)


def review_option(help_text: str = REVIEW_DEFAULT_HELP) -> typer.models.OptionInfo:
    """The ``--review NAME`` option with the registry-wide default rule in its help."""
    return typer.Option(None, "--review", metavar="NAME", help=help_text)
