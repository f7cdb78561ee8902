"""People and safety: argon2 passwords, signed session cookies, CSRF tokens, login throttle.

The session cookie carries the username and the session's CSRF token, signed with
itsdangerous (HMAC) using a key kept in the store; it is HttpOnly and SameSite=Strict, so
another site can neither read it nor make the browser send it with a forged form. Every
POST must echo the token in a form field (``csrf``); the reviewer of any change is the
session's user, never a form field.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from registry.errors import InputError

SESSION_COOKIE = "registry_session"
SESSION_MAX_AGE = 12 * 3600  # a working day; then log in again
ROLE_RANK = {"viewer": 0, "reviewer": 1, "owner": 2}
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (refuses passwords under 8 characters)."""
    if len(password) < 8:
        raise InputError("password must have at least 8 characters")
    return _hasher.hash(password)


# Verifying against a dummy hash when the user does not exist keeps the answer time the
# same, so the login form does not reveal which usernames exist.
_DUMMY = _hasher.hash("not-a-real-password")


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``."""
    try:
        return _hasher.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Session:
    """Who is logged in and the CSRF token of their session."""

    username: str | None
    csrf: str


class Sessions:
    """Signs and reads session cookies.

    A cookie whose signature was checked once is remembered with its signing time, so the
    next requests of the same session skip the decoding and HMAC (only valid cookies are
    kept, at most ``KEEP``; the age limit is still applied on every read).
    """

    KEEP = 1024

    def __init__(self, secret: str) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="registry-session")
        self._checked: dict[str, tuple[Session, float]] = {}

    def issue(self, username: str | None) -> tuple[Session, str]:
        """A new session (fresh CSRF token) and its cookie value."""
        sess = Session(username, secrets.token_urlsafe(24))
        return sess, self._s.dumps({"u": username, "c": sess.csrf})

    def read(self, cookie: str | None) -> Session | None:
        """The session in ``cookie`` (None: absent, forged or expired)."""
        if not cookie:
            return None
        known = self._checked.get(cookie)
        if known is not None:
            return known[0] if time.time() - known[1] <= SESSION_MAX_AGE else None
        try:
            data, signed = self._s.loads(cookie, max_age=SESSION_MAX_AGE, return_timestamp=True)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        user = data.get("u")
        sess = Session(user if isinstance(user, str) else None, data["c"])
        if len(self._checked) >= self.KEEP:
            self._checked.clear()
        self._checked[cookie] = (sess, signed.timestamp())
        return sess


def csrf_ok(session: Session | None, token: object) -> bool:
    """True when the form's token is the session's (constant-time comparison)."""
    return (
        session is not None
        and isinstance(token, str)
        and hmac.compare_digest(session.csrf.encode(), token.encode())
    )


class LoginThrottle:
    """At most ``limit`` failed logins per client address and per username in ``window`` s."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails[key]
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def blocked(self, client: str, username: str) -> bool:
        """True when either key has used up its failures."""
        now = time.monotonic()
        with self._lock:
            return any(
                len(self._recent(k, now)) >= self.limit for k in (f"ip:{client}", f"u:{username}")
            )

    def failed(self, client: str, username: str) -> None:
        """Count one failed attempt."""
        now = time.monotonic()
        with self._lock:
            for k in (f"ip:{client}", f"u:{username}"):
                self._recent(k, now).append(now)


def allows(role: str | None, needed: str) -> bool:
    """True when ``role`` is at least ``needed`` (viewer < reviewer < owner)."""
    return role is not None and ROLE_RANK.get(role, -1) >= ROLE_RANK[needed]
