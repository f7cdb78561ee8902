"""Every route through Starlette's test client, with the real store and library behind it."""

from __future__ import annotations

import re

from registry.store import Store

from .conftest import BUNDLED, DEMO, TITLES, csrf_of, record_on


def test_pages_answer_for_a_viewer(served, as_user) -> None:
    _, client = served
    as_user("vic")
    for url in (f"/r/{DEMO}", f"/r/{DEMO}/screen/ta", f"/r/{DEMO}/screen/ft",
                f"/r/{DEMO}/conflicts", f"/r/{BUNDLED}/extract?sheet=arms", f"/r/{DEMO}/dedup",
                f"/r/{BUNDLED}/reports"):  # fmt: skip
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.text[:300])
        assert "content-security-policy" in resp.headers
    assert "viewer" in client.get(f"/r/{DEMO}/screen/ta").text


def test_not_logged_in_goes_to_login(served) -> None:
    _, client = served
    resp = client.get(f"/r/{DEMO}", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/login"


def test_unknown_review_stage_and_sheet_are_404(served, as_user) -> None:
    _, client = served
    as_user("ana")
    assert client.get("/r/nope").status_code == 404
    assert client.get(f"/r/{DEMO}/screen/xx").status_code == 404
    assert client.get(f"/r/{DEMO}/extract?sheet=studies").status_code == 404


def test_dashboard_counts_are_live(served, as_user) -> None:
    _, client = served
    token = as_user("ana")
    page = client.get(f"/r/{DEMO}").text
    assert "0 of 3" in page and "recall not yet estimable (no include screened)" in page
    assert "Callaghan &amp; Müller-Hansen 2020" in page  # the stopping rule in use
    rid = record_on(client.get(f"/r/{DEMO}/screen/ta").text)
    client.post(f"/r/{DEMO}/screen/ta", data={"csrf": token, "record_id": rid,
                                              "decision": "include"})  # fmt: skip
    page = client.get(f"/r/{DEMO}").text
    # dual review: one decision settles nothing yet, but it is counted for its reviewer
    assert "0 of 3" in page
    assert re.search(r"<td>ana</td><td>1</td><td>0</td>", page)


def test_screening_page_shows_whole_record_escaped_and_highlighted(served, as_user) -> None:
    store, client = served
    as_user("ana")
    seen = set()
    token = csrf_of(client.get(f"/r/{DEMO}/screen/ta").text)
    for _ in TITLES:
        page = client.get(f"/r/{DEMO}/screen/ta").text
        if "<script>alert" in page:
            raise AssertionError("record text reached the page unescaped")
        if "&lt;script&gt;" in page:
            seen.add("escaped")
        if "<mark>Mesenchymal</mark>" in page or "<mark>cirrhosis</mark>" in page:
            seen.add("highlighted")
        assert "Methods: <mark>randomi</mark>sed. Results: none yet." in page  # never cut
        client.post(f"/r/{DEMO}/screen/ta", data={"csrf": token, "record_id": record_on(page),
                                                  "decision": "maybe"})  # fmt: skip
    assert seen == {"escaped", "highlighted"}
    assert "Nothing waits for you" in client.get(f"/r/{DEMO}/screen/ta").text


def test_queue_follows_the_screening_librarys_order(served, as_user) -> None:
    from registry.screening import screening_queue

    store, client = served
    as_user("ben")
    first = screening_queue(store, DEMO, reviewer="ben")[0].record["record_id"]
    assert record_on(client.get(f"/r/{DEMO}/screen/ta").text) == first


def test_full_text_decision_with_reason_and_note(served, as_user) -> None:
    store, client = served
    for who in ("ana", "ben"):  # both include the same record at title/abstract
        token = as_user(who)
        page = client.get(f"/r/{DEMO}/screen/ta").text
        rid = record_on(page)
        client.post(f"/r/{DEMO}/screen/ta", data={"csrf": token, "record_id": rid,
                                                  "decision": "include"})  # fmt: skip
    token = as_user("ana")
    page = client.get(f"/r/{DEMO}/screen/ft").text
    assert record_on(page) == rid and 'name="note"' in page
    bad = client.post(f"/r/{DEMO}/screen/ft", data={"csrf": token, "record_id": rid,
                                                    "decision": "exclude"})  # fmt: skip
    assert bad.status_code == 400 and "needs a reason" in bad.text
    ok = client.post(f"/r/{DEMO}/screen/ft", data={"csrf": token, "record_id": rid,
                     "decision": "exclude", "reason": "not_rct",
                     "note": "PDF in shared drive: trial-1000.pdf"})  # fmt: skip
    assert ok.status_code == 200
    ft = [d for d in store.screening_decisions(DEMO, "full_text")]
    assert [(d["reviewer"], d["reason"], d["note"]) for d in ft] == [
        ("ana", "not_rct", "PDF in shared drive: trial-1000.pdf")
    ]


def test_a_second_post_of_the_same_decision_is_refused(served, as_user) -> None:
    store, client = served
    token = as_user("ana")
    rid = record_on(client.get(f"/r/{DEMO}/screen/ta").text)
    form = {"csrf": token, "record_id": rid, "decision": "include"}
    assert client.post(f"/r/{DEMO}/screen/ta", data=form).status_code == 200
    again = client.post(f"/r/{DEMO}/screen/ta", data=form)
    assert again.status_code == 409
    assert len(store.screening_decisions(DEMO)) == 1


def test_dedup_page_and_decision_go_through_registry_dedup(served, as_user) -> None:
    store, client = served
    from ingest.records import Record
    from registry.dedup import deduplicate

    # one title under two DOIs: registry.dedup caps such a pair below automatic linking
    title = "Umbilical cord mesenchymal stem cells for HBV cirrhosis: a randomised trial"
    for source, doi in (("pubmed", "10.1000/a1"), ("embase", "10.1000/b2")):
        run = store.record_search_run(source=source, kind="import", tool_version="t",
                                      review=DEMO, query="x")  # fmt: skip
        store.add_records([Record(source=source, source_id=doi, title=title, doi=doi,
                                  year=2020)], run_id=run)  # fmt: skip
    deduplicate(store)
    pending = store.dedup_pending_count()
    token = as_user("olivia")
    page = client.get(f"/r/{DEMO}/dedup").text
    assert pending == 1, "the two titles should make one uncertain pair"
    a = re.search(r'name="record_a" value="(\d+)"', page).group(1)
    b = re.search(r'name="record_b" value="(\d+)"', page).group(1)
    assert 'class="differs"' in page
    resp = client.post(f"/r/{DEMO}/dedup", data={"csrf": token, "record_a": a, "record_b": b,
                                                "verdict": "not_duplicate"})  # fmt: skip
    assert resp.status_code == 200
    assert store.dedup_pending_count() == pending - 1
    assert [d["decided_by"] for d in store.dedup_decisions()] == ["olivia"]


def test_reports_list_and_latest_report(served, as_user) -> None:
    _, client = served
    as_user("vic")
    page = client.get(f"/r/{BUNDLED}/reports").text
    assert "/reports/latest" in page
    report = client.get(f"/r/{BUNDLED}/reports/latest")
    assert report.status_code == 200 and "evidence summary" in report.text
    assert client.get(f"/r/{BUNDLED}/reports/999").status_code == 404


def test_api_status_needs_the_owner_token(served) -> None:
    _, client = served
    assert client.get("/api/status").status_code == 401
    data = client.get("/api/status", headers={"x-registry-token": "t0ken-for-tests"}).json()
    assert data["total_records"] == 3


def test_api_user_add(served: tuple[Store, object]) -> None:
    store, client = served
    body = {"username": "dora", "password": "long enough pw", "review": DEMO, "role": "viewer"}
    assert client.post("/api/users", json=body).status_code == 401
    resp = client.post("/api/users", json=body, headers={"x-registry-token": "t0ken-for-tests"})
    assert resp.json()["message"] == f"user dora added: viewer of review {DEMO}"
    assert store.user_roles("dora") == {DEMO: "viewer"}


def test_an_archived_version_opens_as_it_was_written(served, as_user, tmp_path) -> None:
    """Issue 13: the reports page shows every archived version, not only its summary."""
    from registry.update import make_report

    store, client = served
    as_user("vic")
    first = make_report(store, BUNDLED, tmp_path)  # writes out/<review>/versions/<label>/
    [v] = [v for v in store.report_versions(BUNDLED) if v["version_id"] == first.version_id]
    page = client.get(f"/r/{BUNDLED}/reports/{v['version_id']}")
    assert page.status_code == 200 and "not kept" in page.text  # served without --out
    client.app.state.workspace.out_dir = tmp_path
    page = client.get(f"/r/{BUNDLED}/reports/{v['version_id']}").text
    assert f"/reports/{v['version_id']}/html" in page
    html = client.get(f"/r/{BUNDLED}/reports/{v['version_id']}/html")
    kept = (tmp_path / BUNDLED / "versions" / v["label"] / "report.html").read_text()
    assert html.status_code == 200 and html.text == kept
