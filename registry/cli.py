"""The ``registry`` command line. Commands live in registry/commands/<area>.py."""

from __future__ import annotations

import typer

from registry import __version__
from registry.commands import curate, dedup, meta, report, screen, search
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
    ctx.obj = GlobalOptions(db=db)


for _module in (search, dedup, curate, screen, meta, report):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
