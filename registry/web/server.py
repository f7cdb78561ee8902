"""``registry serve``: prepare the reviews, name this process as the store's owner, serve."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import uvicorn

from registry.curation import load_review
from registry.dedup import deduplicate
from registry.errors import InputError, RegistryError
from registry.status import build_status
from registry.store import Store
from registry.store.core import owner_file, write_owner
from registry.web.app import create_app
from registry.web.remote import save_snapshot
from registry.web.services import Workspace
from schemas.protocol import list_reviews


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def prepare(store: Store, reviews: list[str], say: Callable[[str], None]) -> None:
    """Load each review's curated folder and deduplicate, as ``registry update`` does offline."""
    for review in reviews:
        try:
            summary = load_review(store, review)
        except InputError as exc:  # a review without extraction sheets still screens
            say(f"{review}: no curated data loaded ({exc})")
            continue
        say(str(summary).splitlines()[0])
    deduplicate(store)


def serve(
    store: Store,
    host: str,
    port: int,
    review: str | None,
    say: Callable[[str], None],
    *,
    tls: bool = False,
    out: Path | None = None,
) -> None:
    """Serve the workspace until interrupted (the caller closes the store).

    ``out``: where report versions are kept (``registry update --out``), for the reports page.
    """
    reviews = [review] if review else list_reviews()
    if not reviews:
        raise InputError("no review folders found (data/reviews/<name>/protocol.yaml)")
    prepare(store, reviews, say)
    token = secrets.token_urlsafe(32)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http{'s' if tls else ''}://{shown_host}:{port}"
    write_owner(store.path, url=url, token=token)
    try:
        os.chmod(owner_file(store.path), 0o600)  # the API token is for this system user only
    except OSError as exc:
        raise RegistryError(f"cannot protect {owner_file(store.path)}: {exc}") from exc
    save_snapshot(Path(store.path), build_status(store, None).to_dict())
    if not is_loopback(host) and not tls:
        say(
            f"warning: serving on {host} without TLS: passwords and session cookies cross "
            "the network in clear text; put a TLS reverse proxy in front (and --tls-proxy)"
        )
    app = create_app(Workspace(store, reviews, out), api_token=token, secure_cookies=tls)
    if not any(store.review_members(r) for r in reviews):
        say(
            "no accounts yet: in another terminal run `registry user add NAME --review "
            f"{reviews[0]} --role owner` (it goes through this server), then log in"
        )
    say(f"workspace for {', '.join(reviews)} served at {url} (Ctrl-C stops it)")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
