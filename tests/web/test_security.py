"""CSRF, sessions, roles and login throttling: every refused request leaves the store as it was."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route

from registry.web.app import ROUTES

from .conftest import DEMO, PASSWORD, csrf_of

# Every write route of a review, found from the app itself so a new one cannot be missed.
WRITE_ROUTES = sorted({
    r.path.replace("{review}", DEMO).replace("{stage}", stage)
    for r in ROUTES
    if isinstance(r, Route) and r.methods and "POST" in r.methods and "{review}" in r.path
    for stage in ("ta", "ft")
})  # fmt: skip


def _a_record(client) -> int:
    m = re.search(r'name="record_id" value="(\d+)"', client.get(f"/r/{DEMO}/screen/ta").text)
    assert m
    return int(m.group(1))


def _form(record_id: int, token: str) -> dict[str, object]:
    """A plausible form for any write route (each route reads the fields it needs)."""
    return {"csrf": token, "record_id": record_id, "decision": "include", "stage":
            "title_abstract", "sheet": "arms", "study_id": "Fang2018", "arm_id": "x",
            "role": "control", "source": "https://doi.org/10.1/x", "location": "Table 1",
            "record_a": record_id, "record_b": record_id + 1, "verdict": "duplicate"}  # fmt: skip


def test_every_write_route_is_listed() -> None:
    assert len(WRITE_ROUTES) == 5, WRITE_ROUTES  # screen, conflicts, extract, dedup (+ ft)


@pytest.mark.parametrize("url", WRITE_ROUTES)
def test_a_viewer_cannot_change_anything(served, as_user, url: str) -> None:
    store, client = served
    token = as_user("vic")
    before = store.dump()
    resp = client.post(url, data=_form(1, token))
    assert resp.status_code == 403, resp.text[:300]
    assert "viewer" in resp.text
    assert store.dump() == before


@pytest.mark.parametrize("url", WRITE_ROUTES)
def test_a_form_without_or_with_a_foreign_csrf_token_is_refused(served, as_user, url) -> None:
    store, client = served
    other = as_user("ben")  # a real token, but of another session
    as_user("olivia")  # the owner may do everything: only the token stops these
    rid = _a_record(client)
    before = store.dump()
    for token in ("", other, "forged"):
        resp = client.post(url, data=_form(rid, token))
        assert resp.status_code == 403, (token, resp.text[:300])
        assert "CSRF" in resp.text
    assert store.dump() == before


def test_a_decision_in_another_reviewers_name_is_refused(served, as_user) -> None:
    store, client = served
    token = as_user("ana")
    rid = _a_record(client)
    before = store.dump()
    resp = client.post(f"/r/{DEMO}/screen/ta", data={**_form(rid, token), "reviewer": "ben"})
    assert resp.status_code == 400 and "logged in" in resp.text
    assert store.dump() == before
    # without the field, the decision is the session user's
    ok = {"csrf": token, "record_id": rid, "decision": "include"}
    assert client.post(f"/r/{DEMO}/screen/ta", data=ok).status_code == 200
    assert [d["reviewer"] for d in store.screening_decisions(DEMO)] == ["ana"]


def test_a_forged_session_cookie_is_not_a_login(served) -> None:
    store, client = served
    client.cookies.set("registry_session", '{"u": "olivia", "c": "x"}')
    before = store.dump()
    resp = client.post(f"/r/{DEMO}/screen/ta", data=_form(1, "x"))
    assert resp.status_code == 401
    assert client.get(f"/r/{DEMO}", follow_redirects=False).headers["location"] == "/login"
    assert store.dump() == before


def test_session_cookie_flags_and_password_hash(served) -> None:
    store, client = served
    token = csrf_of(client.get("/login").text)
    resp = client.post("/login", data={"username": "ana", "password": PASSWORD, "csrf": token},
                       follow_redirects=False)  # fmt: skip
    cookie = resp.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert store.password_hash("ana").startswith("$argon2id$")
    assert PASSWORD not in str(store.dump())


def test_login_without_token_is_refused(served) -> None:
    _, client = served
    client.get("/login")
    resp = client.post("/login", data={"username": "ana", "password": PASSWORD})
    assert resp.status_code == 403


def test_login_attempts_are_rate_limited(served) -> None:
    _, client = served
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        bad = client.post("/login", data={"username": "ana", "password": "wrong-password",
                                          "csrf": token})  # fmt: skip
        assert bad.status_code == 401
    right = client.post("/login", data={"username": "ana", "password": PASSWORD, "csrf": token})
    assert right.status_code == 429  # even the right password waits now


def test_a_reviewer_cannot_merge_duplicates(served, as_user) -> None:
    store, client = served
    token = as_user("ana")
    before = store.dump()
    resp = client.post(f"/r/{DEMO}/dedup", data=_form(1, token))
    assert resp.status_code == 403
    assert store.dump() == before


def test_one_of_the_two_cannot_resolve_their_own_conflict(served, as_user) -> None:
    store, client = served
    rid = None
    for who, decision in (("ana", "include"), ("ben", "exclude")):
        token = as_user(who)
        rid = rid or _a_record(client)
        client.post(f"/r/{DEMO}/screen/ta", data={"csrf": token, "record_id": rid,
                                                  "decision": decision})  # fmt: skip
    token = as_user("ben")
    before = store.dump()
    resp = client.post(f"/r/{DEMO}/conflicts", data={"csrf": token, "record_id": rid,
                       "stage": "title_abstract", "decision": "exclude"})  # fmt: skip
    assert resp.status_code == 409 and "third reviewer" in resp.text
    assert store.dump() == before
