"""Fixtures for the workspace: a copy of the bundled reviews plus a dual-review demo review
with records added through the records verbs, accounts with each role, a logged-in client."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ingest.records import Record
from registry.store import Store
from registry.web.app import create_app
from registry.web.auth import hash_password
from registry.web.demo import import_records, write_demo_review
from registry.web.server import prepare
from registry.web.services import Workspace
from schemas.protocol import REVIEWS_DIR

DEMO = "demo-review"
BUNDLED = "msc-cirrhosis"
PASSWORD = "correct horse battery"
# who has which role in the demo review (and the bundled one, for extraction)
PEOPLE = {"olivia": "owner", "ana": "reviewer", "ben": "reviewer", "cleo": "reviewer",
          "vic": "viewer"}  # fmt: skip
TITLES = [
    "Mesenchymal stem cells in decompensated cirrhosis: a randomised trial",
    "Bone marrow cells for liver cirrhosis <script>alert('x')</script> & other tales",
    "A cohort study of hepatitis B outcomes",
]


def add_demo_records(store: Store, titles: list[str], review: str = DEMO) -> list[int]:
    """One search run of ``review`` holding a record per title; their record ids."""
    recs = [
        Record(source="pubmed", source_id=str(1000 + i), pmid=str(1000 + i), title=t,
               abstract=f"Background: {t}. Methods: randomised. Results: none yet.")
        for i, t in enumerate(titles)
    ]  # fmt: skip
    return import_records(store, review, recs, kind="search")


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """Built once per session (loading the bundled review takes a while on a busy machine):
    a reviews folder and a prepared registry that each test copies."""
    root = tmp_path_factory.mktemp("web") / "reviews"
    shutil.copytree(REVIEWS_DIR / BUNDLED, root / BUNDLED)
    write_demo_review(root, DEMO)
    db = root.parent / "template.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REGISTRY_REVIEWS", str(root))
        mp.setenv("REGISTRY_CURATOR", "nobody")
        with Store(db) as store:
            prepare(store, [BUNDLED, DEMO], lambda _: None)
            add_demo_records(store, TITLES)
            hashed = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once
            for name, role in PEOPLE.items():
                for review in (DEMO, BUNDLED):
                    store.save_user(name, hashed, review, role)
    yield root, db


@pytest.fixture
def reviews(template: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The session's reviews folder (bundled review plus the dual-review demo)."""
    monkeypatch.setenv("REGISTRY_REVIEWS", str(template[0]))
    monkeypatch.setenv("REGISTRY_CURATOR", "nobody")
    return template[0]


@pytest.fixture
def db_copy(template: tuple[Path, Path], reviews: Path, tmp_path: Path) -> Path:
    """A private copy of the prepared registry."""
    db = tmp_path / "registry.duckdb"
    shutil.copy(template[1], db)
    return db


@pytest.fixture
def served(db_copy: Path) -> Iterator[tuple[Store, TestClient]]:
    """The prepared store and a client on its app."""
    store = Store(db_copy)
    try:
        app = create_app(Workspace(store, [BUNDLED, DEMO]), api_token="t0ken-for-tests")
        with TestClient(app, base_url="http://127.0.0.1") as client:
            yield store, client
    finally:
        store.close()


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "page has no CSRF field"
    return m.group(1)


def record_on(html: str) -> int:
    """The record id of the screening page's decision form."""
    m = re.search(r'name="record_id" value="(\d+)"', html)
    assert m, "no record on the screening page"
    return int(m.group(1))


def login(client: TestClient, user: str, password: str = PASSWORD) -> str:
    """Log ``user`` in on ``client``; returns the session's CSRF token."""
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    resp = client.post("/login", data={"username": user, "password": password, "csrf": token},
                       follow_redirects=False)  # fmt: skip
    assert resp.status_code == 303, resp.text
    return csrf_of(client.get(f"/r/{DEMO}/extract").text)


@pytest.fixture
def as_user(served: tuple[Store, TestClient]) -> Callable[[str], str]:
    """``as_user(name)`` logs that person in on the shared client; returns their token."""
    return lambda name: login(served[1], name)
