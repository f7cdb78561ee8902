"""``registry serve``: the team workspace in the browser (thin: options, one call)."""

from __future__ import annotations

from pathlib import Path

import typer

from registry.commands._common import console, review_option, with_store


def serve(
    ctx: typer.Context,
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to bind (default: this machine only)."
    ),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    review: str | None = review_option("Serve only this review (default: every review folder)."),
    tls_proxy: bool = typer.Option(
        False, "--tls-proxy", help="A TLS reverse proxy is in front: mark cookies Secure."
    ),
    out: Path = typer.Option(
        Path("out"), "--out", help="Folder where `registry update/report --out` keeps the "
        "report versions (shown on the reports page)."
    ),
) -> None:
    """Serve screening, conflicts, extraction, dedup review and reports to a team."""
    from registry.web.server import serve as run  # uvicorn/starlette load only for serve

    with_store(ctx, run, host, port, review, console.print, tls=tls_proxy, out=out)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("serve")(serve)
