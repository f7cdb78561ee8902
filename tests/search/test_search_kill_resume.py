"""Kill ``registry search`` mid-way (SIGKILL, a real separate process) and run it again:
it must finish with every PMID exactly once, and the run log must show both runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from registry.store import Store


def _search(db: Path, url: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(NCBI_EUTILS_URL=url, NCBI_API_KEY="replay-key")  # 10 req/s keeps it quick
    return subprocess.Popen(
        [sys.executable, "-m", "registry.cli", "--db", str(db), "search", "--query",
         "mesenchymal stem cells", "--batch", "20"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def test_killed_search_resumes_without_duplicates_or_gaps(tmp_path, server) -> None:
    db = tmp_path / "registry.duckdb"
    n = len(server.corpus)
    server.inject("efetch", "block", from_n=4)  # batches 1-3 commit, the 4th hangs
    proc = _search(db, server.url)
    try:
        assert server.wait_for("efetch", 4, timeout=60), proc.stderr.read().decode()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    server.clear_faults()
    server.release()

    with Store(db) as s:  # what the killed process left: 3 committed batches, run 'running'
        assert s._scalar("SELECT count(*) FROM records") == 60
        [run] = s.search_runs()
        assert run["outcome"] == "running" and run["state"]["fetched"] == 60
    stored_before = {
        i for r in server.requests("efetch")[:3] for i in r.params["id"].split(",")
    }
    n_efetch = server.count("efetch")

    proc = _search(db, server.url)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert "resumed run 1" in out.decode()

    with Store(db) as s:
        pmids = [r[0] for r in s._rows("SELECT source_id FROM records")]
        assert len(pmids) == len(set(pmids)) == n  # no duplicate
        assert set(pmids) == set(server.corpus)  # no gap
        first, second = s.search_runs()
        assert first["outcome"] == "interrupted" and first["new_records"] == 60
        assert second["outcome"] == "ok" and second["state"]["resumed_from"] == [1]
        assert second["new_records"] == n - 60 and second["hits"] == n
    # the resumed run asked only for what was missing (and the one ESearch)
    refetched = {
        i for r in server.requests("efetch")[n_efetch:] for i in r.params["id"].split(",")
    }
    assert not refetched & stored_before
    assert len(refetched) == n - 60
