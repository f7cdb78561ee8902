"""The ``registry`` command line. Commands live in registry/commands/<area>.py."""

from __future__ import annotations

import typer

from registry import __version__
from registry.commands import curate, dedup, meta, report, screen, search, serve, status, user
from registry.commands._common import GlobalOptions

app = typer.Typer(
    name="registry",
    help="The living-evidence registry: search, deduplicate, screen, extract, pool, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"registry {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: str | None = typer.Option(
        None, "--db", help="Registry database file (default: $REGISTRY_DB or ./registry.duckdb)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Global options."""
    opts = GlobalOptions(db=db)
    ctx.obj = opts
    ctx.call_on_close(opts.close)


for _module in (search, status, dedup, curate, screen, meta, report, serve, user):
    _module.register(app)


def main() -> None:
    """Console-script entry point.

    Domain errors are mapped to messages inside each command; this last guard makes sure
    no other failure ends in a Python traceback either: one line naming what broke, exit 70
    (EX_SOFTWARE), and ``REGISTRY_DEBUG=1`` to see the traceback when reporting a bug.
    """
    import os
    import sys

    try:
        app()
    except Exception as exc:  # noqa: BLE001 - the last line of defence, see docstring
        if os.environ.get("REGISTRY_DEBUG"):
            raise
        print(
            f"error: internal error ({type(exc).__name__}: {exc}); nothing further was "
            "written. Re-run with REGISTRY_DEBUG=1 and report the traceback.",
            file=sys.stderr,
        )
        sys.exit(70)


if __name__ == "__main__":
    main()
