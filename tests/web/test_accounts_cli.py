"""``registry user add`` and ``registry serve``'s binding rules, through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry.cli import app
from registry.store import Store
from registry.web import server
from registry.web.auth import verify_password

from .conftest import DEMO

runner = CliRunner()


def test_user_add_hashes_the_password_and_sets_the_role(reviews: Path, tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    res = runner.invoke(app, ["--db", str(db), "user", "add", "ana", "--review", DEMO, "--role",
                              "owner"], input="s3cret-enough\ns3cret-enough\n")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "user ana added: owner of review demo-review" in res.output
    with Store(db) as s:
        assert s.user_roles("ana") == {DEMO: "owner"}
        assert verify_password(s.password_hash("ana"), "s3cret-enough")
        assert not verify_password(s.password_hash("ana"), "s3cret-enougH")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ana", "--role", "admin"], "role 'admin' is not one of owner, reviewer, viewer"),
        (["a b", "--role", "viewer"], "user name 'a b'"),
        (["ana", "--role", "viewer", "--password", "short"], "at least 8 characters"),
    ],
)
def test_user_add_refuses_bad_input(reviews: Path, tmp_path: Path, args, message) -> None:
    db = tmp_path / "r.duckdb"
    res = runner.invoke(app, ["--db", str(db), "user", "add", *args, "--review", DEMO],
                        input="long enough pw\nlong enough pw\n")  # fmt: skip
    assert res.exit_code == 2 and message in res.output, res.output
    with Store(db) as s:
        assert s.review_members(DEMO) == []


def test_unknown_review_is_refused(reviews: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "r.duckdb")
    res = runner.invoke(app, ["--db", db, "user", "add", "ana", "--review", "nope"],
                        input="long enough pw\nlong enough pw\n")
    assert res.exit_code != 0 and "nope" in res.output and "Traceback" not in res.output


def test_serve_binds_loopback_by_default_and_warns_when_wider(
    reviews: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bound: list[tuple[str, int]] = []
    monkeypatch.setattr(server.uvicorn, "run", lambda app, host, port, **kw: bound.append(
        (host, port)))  # fmt: skip
    db = str(tmp_path / "r.duckdb")
    quiet = runner.invoke(app, ["--db", db, "serve", "--review", DEMO])
    assert quiet.exit_code == 0, quiet.output
    assert "warning" not in quiet.output and "no accounts yet" in quiet.output
    wide = runner.invoke(app, ["--db", db, "serve", "--review", DEMO, "--host", "0.0.0.0",
                               "--port", "8123"])  # fmt: skip
    assert "warning: serving on 0.0.0.0 without TLS" in wide.output
    assert bound == [("127.0.0.1", 8000), ("0.0.0.0", 8123)]
    assert server.is_loopback("::1") and not server.is_loopback("192.168.1.4")
