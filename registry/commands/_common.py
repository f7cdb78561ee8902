"""Shared plumbing for the thin Typer commands: global options and error handling."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import typer
from rich.console import Console
from rich.text import Text

from registry.errors import RegistryError

T = TypeVar("T")

# Messages carry record text, file names and values such as "[/x]": never parse them as Rich
# markup, and never hard-wrap a line when output goes to a pipe (scripts grep it).
console = Console(markup=False, highlight=False, soft_wrap=True)
err_console = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)


@dataclass
class GlobalOptions:
    """Options given before the command name (``registry --db X search``)."""

    db: str | None = None


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


def is_tty() -> bool:
    """True when stdout is a terminal (progress bars only then)."""
    return sys.stdout.isatty()
