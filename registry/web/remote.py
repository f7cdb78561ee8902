"""The CLI while another process holds the store: ask the server, or read the snapshot.

The process serving the workspace names itself in the owner file beside the database
(:func:`registry.store.core.read_owner`: pid, command, url and an API token readable only by
the same system user). ``registry status`` then asks that server; during an import (no
server) it shows the last saved status snapshot and says how old it is. ``registry user add``
goes through the server too. Other write commands fail with a message naming the URL.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import httpx

from registry.errors import RegistryError, StoreError
from registry.status import StatusReport, build_status
from registry.store import Store
from registry.store.core import read_owner

SNAPSHOT_SUFFIX = ".status.json"
_DATES = ("started_at", "finished_at")


def snapshot_file(db: Path) -> Path:
    """Where the last status of ``db`` is kept for readers while it is busy."""
    return db.with_name(db.name + SNAPSHOT_SUFFIX)


def save_snapshot(db: Path, status: dict[str, Any]) -> None:
    """Keep ``status`` (``StatusReport.to_dict()``) beside the database."""
    data = {"saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "status": status}
    tmp = snapshot_file(db).with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, snapshot_file(db))  # readers never see half a file
    except OSError:
        pass  # a read-only folder: no snapshot, status then reports the lock only


def report_from_dict(d: dict[str, Any]) -> StatusReport:
    """A StatusReport back from its JSON form (dates parsed again for the text renderer)."""
    d = dict(d)
    runs = [dict(r) for r in d.get("runs", [])]
    last = {k: dict(v) for k, v in d.get("last_successful", {}).items()}
    for r in [*runs, *last.values()]:
        for k in _DATES:
            if isinstance(r.get(k), str):
                r[k] = dt.datetime.fromisoformat(r[k])
    d["runs"], d["last_successful"] = runs, last
    return StatusReport(**d)


def _served(db: Path) -> dict[str, Any] | None:
    owner = read_owner(db)
    return owner if owner and owner.get("url") and owner.get("token") else None


def _ask(owner: dict[str, Any], method: str, path: str, **kw: Any) -> Any:
    try:
        resp = httpx.request(
            method, owner["url"].rstrip("/") + path, timeout=30.0,
            headers={"x-registry-token": owner["token"]}, **kw,
        )  # fmt: skip
    except httpx.HTTPError as exc:
        raise StoreError(f"the workspace at {owner['url']} holds the registry but does not "
                         f"answer ({exc})") from exc  # fmt: skip
    if resp.status_code >= 400:
        raise StoreError(f"the workspace at {owner['url']} refused: {resp.text[:300]}")
    return resp.json()


def status(open_store: Any, db: Path, review: str | None) -> tuple[StatusReport, str | None]:
    """The status of ``db``: computed here, else from its server, else from the snapshot.

    ``open_store()`` opens the store (raising StoreError when another process holds it).
    Returns the report and a note saying where it came from when not computed here.
    """
    try:
        store: Store = open_store()
    except StoreError as busy:
        owner = _served(db)
        if owner is not None:
            data = _ask(owner, "GET", "/api/status", params={"review": review or ""})
            return report_from_dict(data), f"answered by the workspace at {owner['url']}"
        try:
            saved = json.loads(snapshot_file(db).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise busy from None
        return report_from_dict(saved["status"]), f"{busy}; status as saved at {saved['saved_at']}"
    rep = build_status(store, review)
    if review is None:
        save_snapshot(db, rep.to_dict())
    return rep, None


def add_user_remote(db: Path, username: str, password: str, review: str, role: str) -> str:
    """``registry user add`` through the server that holds ``db``."""
    owner = _served(db)
    if owner is None:
        raise RegistryError("no workspace server holds the registry")
    body = {"username": username, "password": password, "review": review, "role": role}
    return str(_ask(owner, "POST", "/api/users", json=body)["message"])


def served_url(db: Path) -> str | None:
    """The URL of the server holding ``db`` (None: not served)."""
    owner = _served(db)
    return str(owner["url"]) if owner else None
