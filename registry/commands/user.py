"""``registry user add``: workspace accounts with a role per review (thin)."""

from __future__ import annotations

import typer

from registry.commands._common import console, domain_errors, global_options, with_store

user_app = typer.Typer(help="Workspace accounts (registry serve).", no_args_is_help=True)


def add(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="Login name."),
    review: str = typer.Option(..., "--review", metavar="NAME", help="Review the role is for."),
    role: str = typer.Option("reviewer", "--role", help="owner, reviewer or viewer."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True,
        help="Asked for when not given (never put it on the command line of a shared machine).",
    ),  # fmt: skip
) -> None:
    """Add an account (or change its password/role); goes through a running server."""
    from registry.web import remote  # httpx and argon2 load only for this command
    from registry.web.accounts import add_user

    db = global_options(ctx).db_file()
    if remote.served_url(db):
        with domain_errors():
            console.print(remote.add_user_remote(db, username, password, review, role))
        return
    console.print(with_store(ctx, add_user, username, password, review, role))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    user_app.command("add")(add)
    app.add_typer(user_app, name="user")
