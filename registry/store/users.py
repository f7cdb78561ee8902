"""Store verbs for the team workspace: accounts, roles per review, signing key, audit trail.

Passwords arrive here already hashed (:mod:`registry.web.accounts` hashes with argon2); the
store never sees a password.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from registry.store.core import StoreCore

ROLES = ("owner", "reviewer", "viewer")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class UsersMixin(StoreCore):
    """Verbs for web accounts."""

    def save_user(self, username: str, password_hash: str, review: str, role: str) -> None:
        """Create or update an account and set its role for ``review`` (all or nothing)."""
        with self.transaction():
            self._exec(
                "INSERT INTO web_users VALUES (?, ?, ?) ON CONFLICT (username) "
                "DO UPDATE SET password_hash = excluded.password_hash",
                [username, password_hash, _now()],
            )
            self._exec(
                "INSERT INTO web_roles VALUES (?, ?, ?) ON CONFLICT (username, review) "
                "DO UPDATE SET role = excluded.role",
                [username, review, role],
            )

    def password_hash(self, username: str) -> str | None:
        """The stored hash of ``username`` (None: no such account)."""
        return self._scalar("SELECT password_hash FROM web_users WHERE username = ?", [username])

    def user_roles(self, username: str) -> dict[str, str]:
        """review -> role of ``username``."""
        return dict(self._rows("SELECT review, role FROM web_roles WHERE username = ?", [username]))

    def review_members(self, review: str) -> list[tuple[str, str]]:
        """(username, role) of everyone with a role in ``review``, sorted."""
        return [
            (u, r)
            for u, r in self._rows(
                "SELECT username, role FROM web_roles WHERE review = ? ORDER BY 1", [review]
            )
        ]

    def web_secret(self) -> str:
        """The key that signs session cookies, created on first use."""
        found = self._scalar("SELECT secret FROM web_secret WHERE id = 1")
        if found:
            return str(found)
        key = secrets.token_urlsafe(48)
        with self.transaction():
            self._exec("INSERT INTO web_secret VALUES (1, ?) ON CONFLICT DO NOTHING", [key])
        return str(self._scalar("SELECT secret FROM web_secret WHERE id = 1"))

    def add_web_audit(self, username: str, review: str | None, action: str, detail: str) -> None:
        """Append one line to the workspace audit trail."""
        with self.transaction():
            self._exec(
                "INSERT INTO web_audit (happened_at, username, review, action, detail) "
                "VALUES (?, ?, ?, ?, ?)",
                [_now(), username, review, action, detail],
            )

    def web_audit(self, review: str, limit: int = 200) -> list[dict[str, Any]]:
        """The latest audit lines of ``review``, newest first."""
        return self._dicts(
            "SELECT * FROM web_audit WHERE review = ? ORDER BY audit_id DESC LIMIT ?",
            [review, int(limit)],
        )
