"""Accounts: what ``registry user add`` calls."""

from __future__ import annotations

import re

from registry.errors import InputError
from registry.store import Store
from registry.store.users import ROLES
from registry.web.auth import hash_password
from schemas.protocol import load_protocol

_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


def add_user(store: Store, username: str, password: str, review: str, role: str) -> str:
    """Create (or update) ``username`` with ``role`` in ``review``; returns a one-line summary."""
    if not _NAME.match(username):
        raise InputError(
            f"user name {username!r}: use 1-64 letters, digits or . _ @ - (no spaces)"
        )
    if role not in ROLES:
        raise InputError(f"role {role!r} is not one of {', '.join(ROLES)}")
    load_protocol(review)  # an unknown review is a clear InputError, not a dangling role
    existed = store.password_hash(username) is not None
    store.save_user(username, hash_password(password), review, role)
    verb = "updated" if existed else "added"
    return f"user {username} {verb}: {role} of review {review}"
