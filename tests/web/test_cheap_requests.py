"""What makes a screening request cheap must not change what it answers: roles read once
but re-read after `user add`, the per-reviewer queue position, the one-statement decision
insert, templates compiled once, static files served from memory with caching headers."""

from __future__ import annotations

import threading
import time

import pytest

from registry.errors import InputError
from registry.web import auth, services
from registry.web.app import HERE
from registry.web.auth import Sessions
from registry.web.routes import highlight
from registry.web.services import Refused

from .conftest import DEMO, record_on


def test_a_new_role_counts_at_once_without_logging_in_again(served, as_user) -> None:
    store, client = served
    token = as_user("vic")  # a viewer: may look, not decide
    page = client.get(f"/r/{DEMO}/screen/ta").text
    assert "You can look, not decide" in page
    body = {"username": "vic", "password": "a new password", "review": DEMO, "role": "reviewer"}
    resp = client.post("/api/users", json=body, headers={"x-registry-token": "t0ken-for-tests"})
    assert resp.status_code == 200
    rid = record_on(client.get(f"/r/{DEMO}/screen/ta").text)
    resp = client.post(f"/r/{DEMO}/screen/ta", data={"csrf": token, "record_id": rid,
                                                     "decision": "include"},
                       follow_redirects=False)  # fmt: skip
    assert resp.status_code == 303
    assert [d["reviewer"] for d in store.screening_decisions(DEMO)] == ["vic"]


def test_a_record_held_by_others_comes_back_when_their_hold_ends(
    served, as_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, client = served
    url = f"/r/{DEMO}/screen/ta"
    as_user("ana")
    first = record_on(client.get(url).text)
    as_user("ben")
    assert record_on(client.get(url).text) == first  # dual review: two may hold a record
    token = as_user("cleo")
    second = record_on(client.get(url).text)
    assert second != first  # held by ana and ben
    monkeypatch.setattr(services, "LEASE_SECONDS", 0.0)  # every hold has now run out
    client.post(url, data={"csrf": token, "record_id": second, "decision": "maybe"})
    assert record_on(client.get(url).text) == first  # not skipped for good


def test_static_files_are_cached_and_revalidated_pages_are_not(served, as_user) -> None:
    _, client = served
    css = client.get("/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert css.content == (HERE / "static" / "style.css").read_bytes()
    assert css.headers["cache-control"] == "public, max-age=3600"
    assert "content-security-policy" in css.headers
    again = client.get("/static/style.css", headers={"if-none-match": css.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    stale = client.get("/static/style.css", headers={"if-none-match": '"other"'})
    assert stale.status_code == 200
    assert client.get("/static/nothing.js").status_code == 404
    as_user("ana")
    assert client.get(f"/r/{DEMO}/screen/ta").headers["cache-control"] == "no-store"


def test_one_decision_alone_is_stored_like_one_of_many(served) -> None:
    store, _ = served
    [a, b] = [r["record_id"] for r in store.screening_records(DEMO)][:2]
    row = {"review": DEMO, "stage": "title_abstract", "reviewer": "ana", "decision": "exclude",
           "reason": "not_rct"}  # fmt: skip
    [one] = store.add_screening_decisions([{**row, "record_id": a}])
    many = store.add_screening_decisions(
        [{**row, "record_id": b}, {**row, "record_id": a, "reviewer": "ben"}]
    )
    assert one < many[0] < many[1]
    stored = {d["decision_id"]: d for d in store.screening_decisions(DEMO)}
    keys = ("review", "stage", "reviewer", "role", "decision", "reason", "via", "source")
    assert [stored[one][k] for k in keys] == [stored[many[1]][k] for k in keys[:2]] + [
        "ana", "screen", "exclude", "not_rct", "api", "pubmed"]  # fmt: skip
    assert stored[one]["source_id"] == stored[many[1]]["source_id"]  # same record a
    with pytest.raises(InputError, match="no record 999999 in the registry"):
        store.add_screening_decisions([{**row, "record_id": 999999}])
    assert len(store.screening_decisions(DEMO)) == 3  # nothing stored by the refused one


def test_highlight_escapes_around_and_inside_the_marks() -> None:
    assert highlight("a<b Cirrhosis & c", ["cirrhosis", " "]) == (
        "a&lt;b <mark>Cirrhosis</mark> &amp; c"
    )
    assert highlight("<i>x</i>", []) == "&lt;i&gt;x&lt;/i&gt;"
    assert highlight(None, ["x"]) == ""


def _slow_writes(monkeypatch: pytest.MonkeyPatch, store, gate: threading.Event) -> None:
    """Every decision's store write waits for ``gate`` (a commit that takes its time)."""
    real = store.add_screening_decisions

    def slow(decisions):
        assert gate.wait(10)
        return real(decisions)

    monkeypatch.setattr(store, "add_screening_decisions", slow)


def test_pages_are_served_while_a_decision_is_being_written(
    served, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, client = served
    ws = client.app.state.workspace
    gate = threading.Event()
    _slow_writes(monkeypatch, store, gate)
    item, _ = ws.next_item(DEMO, "ta", "ana")
    rid = item.record["record_id"]
    writer = threading.Thread(target=ws.decide, args=(DEMO, "ta", "ana", rid, "include"))
    writer.start()
    shown: list = []
    reader = threading.Thread(target=lambda: shown.append(ws.next_item(DEMO, "ta", "ben")))
    reader.start()
    reader.join(5)
    done_while_writing = not reader.is_alive()
    gate.set()
    writer.join(10)
    reader.join(10)
    assert done_while_writing, "the page waited for another screener's commit"
    assert shown and shown[0][0] is not None
    assert [d["reviewer"] for d in store.screening_decisions(DEMO)] == ["ana"]


def test_decisions_being_written_count_as_made(served, monkeypatch: pytest.MonkeyPatch) -> None:
    store, client = served
    ws = client.app.state.workspace
    gate = threading.Event()
    _slow_writes(monkeypatch, store, gate)
    rid = ws.next_item(DEMO, "ta", "ana")[0].record["record_id"]
    outcome: list[tuple[str, str]] = []

    def post(user: str) -> None:
        try:
            ws.decide(DEMO, "ta", user, rid, "exclude", reason="not_rct")
            outcome.append((user, "stored"))
        except Refused:
            outcome.append((user, "refused"))

    people = [threading.Thread(target=post, args=(u,)) for u in ("ana", "ben", "cleo", "ana")]
    for p in people:
        p.start()
        time.sleep(0.05)  # each one is checked while the earlier writes still wait
    gate.set()
    for p in people:
        p.join(10)
    # dual review: two decisions, the third screener and the repeated post refused
    assert sorted(outcome) == [("ana", "refused"), ("ana", "stored"), ("ben", "stored"),
                               ("cleo", "refused")]  # fmt: skip
    assert sorted(d["reviewer"] for d in store.screening_decisions(DEMO)) == ["ana", "ben"]


def test_a_remembered_session_still_expires_and_a_changed_cookie_is_no_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sessions = Sessions("a signing key long enough for the test")
    sess, cookie = sessions.issue("ana")
    assert sessions.read(cookie) == sess and sessions.read(cookie) == sess  # checked, then kept
    assert sessions.read(("x" if cookie[0] != "x" else "y") + cookie[1:]) is None
    monkeypatch.setattr(auth, "SESSION_MAX_AGE", -1)  # the working day is over
    assert sessions.read(cookie) is None


def test_the_full_text_queue_is_rebuilt_only_when_its_members_change(
    served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exclude settled at title/abstract (most settlements) leaves the full-text queue
    as it is; an include sends the record on, and the queue is built again to hold it."""
    store, _ = served
    ws = services.Workspace(store, [DEMO])
    built: list[str] = []
    real = services.build_queue

    def counting(view, stage, **kw):
        built.append(stage)
        return real(view, stage, **kw)

    monkeypatch.setattr(services, "build_queue", counting)
    first, second = (r["record_id"] for r in store.screening_records(DEMO)[:2])
    ws.next_item(DEMO, "ft", "ana")
    assert built == ["full_text"]
    for user in ("ana", "ben"):  # dual review: two excludes settle it
        ws.decide(DEMO, "ta", user, first, "exclude", reason="not_rct")
    ws.next_item(DEMO, "ft", "ana")
    assert built == ["full_text"]  # not rebuilt
    for user in ("ana", "ben"):
        ws.decide(DEMO, "ta", user, second, "include")
    item, _open = ws.next_item(DEMO, "ft", "ana")
    assert built == ["full_text", "full_text"]
    assert item is not None and item.record["record_id"] == second
