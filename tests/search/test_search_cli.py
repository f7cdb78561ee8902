"""The thin ``registry search | import | status`` commands (Typer CliRunner, replay server)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry.cli import app

runner = CliRunner()


@pytest.fixture
def env(server, monkeypatch, tmp_path):
    monkeypatch.setenv("NCBI_EUTILS_URL", server.url)
    monkeypatch.setenv("NCBI_API_KEY", "replay-key")
    monkeypatch.delenv("REGISTRY_DB", raising=False)
    return tmp_path / "r.duckdb"


def _run(db: Path, *args: str):
    return runner.invoke(app, ["--db", str(db), *args])


def test_search_then_incremental_then_status(env, server) -> None:
    n = len(server.corpus)
    r = _run(env, "search", "--query", "stem cells")
    assert r.exit_code == 0, r.output
    assert f"{n} hits, {n} new, 0 duplicates" in r.output and "pubmed full" in r.output
    r = _run(env, "search", "--query", "stem cells", "--json")
    assert r.exit_code == 0, r.output
    [summary] = json.loads(r.stdout)
    assert summary["mode"] == "incremental" and summary["requests"] == {"esearch.fcgi": 1}
    r = _run(env, "status", "--json")
    assert r.exit_code == 0, r.output
    st = json.loads(r.stdout)
    assert st["records"]["pubmed"]["records"] == n == st["total_records"]
    assert [x["outcome"] for x in st["runs"]] == ["ok", "ok"]
    assert st["last_successful"]["search:pubmed"]["run_id"] == 2
    assert st["duplicates"]["records_identified_total"] == n  # dedup helper's verb
    r = _run(env, "status")
    assert r.exit_code == 0 and f"records: {n}" in r.output and "last successful" in r.output


def test_full_and_batch_options_reach_ncbi(env, server) -> None:
    r = _run(env, "search", "--query", "q", "--batch", "100", "--full")
    assert r.exit_code == 0, r.output
    assert [len(x.params["id"].split(",")) for x in server.requests("efetch")] == [100, 100, 63]


def test_max_records_then_resume(env, server) -> None:
    r = _run(env, "search", "--query", "q", "--batch", "50", "--max-records", "100")
    assert r.exit_code == 0, r.output
    r = _run(env, "search", "--query", "q", "--batch", "50")
    assert r.exit_code == 0 and "resumed run 1" in r.output
    st = json.loads(_run(env, "status", "--json").stdout)
    assert [x["outcome"] for x in st["runs"]] == ["interrupted", "ok"]
    assert st["total_records"] == len(server.corpus)


def test_import_and_bad_files(env, fixtures: Path, tmp_path: Path) -> None:
    r = _run(env, "import", str(fixtures / "nbib" / "pubmed-balloongui-set.nbib"))
    assert r.exit_code == 0 and "75 records, 75 new" in r.output
    r = _run(env, "import", str(fixtures / "asreview" / "pubmed_zotero.ris"), "--source",
             "embase", "--review", "msc-cirrhosis", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["source"] == "embase" and out["review"] == "msc-cirrhosis"
    empty = tmp_path / "empty.ris"
    empty.write_bytes(b"")
    for bad in (empty, fixtures / "biopython" / "einfo1.xml", tmp_path / "missing.xml"):
        r = _run(env, "import", str(bad))
        assert r.exit_code == 2
        assert r.output.count("\n") == 1 and "error:" in r.output and bad.name in r.output
    r = _run(env, "import", str(fixtures / "nbib" / "single.nbib"), "--format", "ris")
    assert r.exit_code == 2
    st = json.loads(_run(env, "status", "--json").stdout)
    assert [x["kind"] for x in st["runs"]] == ["import", "import"]


def test_unreachable_ncbi_is_a_one_line_error_and_a_failed_run(env, monkeypatch) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    monkeypatch.setenv("NCBI_EUTILS_URL", f"http://127.0.0.1:{port}/")
    r = _run(env, "search", "--query", "q")
    assert r.exit_code == 4
    assert "unreachable" in r.output and r.output.count("\n") == 1
    st = json.loads(_run(env, "status", "--json").stdout)
    assert st["runs"][0]["outcome"] == "failed" and "unreachable" in st["runs"][0]["error"]


def test_usage_errors(env, tmp_path: Path) -> None:
    r = _run(env, "search")
    assert r.exit_code == 2 and "--query" in r.output and not env.exists()
    r = _run(tmp_path / "nothing-here.duckdb", "status")
    assert r.exit_code == 2 and "no registry database" in r.output
    assert not (tmp_path / "nothing-here.duckdb").exists()
