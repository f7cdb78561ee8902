"""Kill a ClinicalTrials.gov and a Europe PMC run mid-way (SIGKILL, a real separate
process) and run it again: every record once, no gap, both runs in the log, and the
resumed run asks only for the pages not yet stored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from registry.store import Store

_CALL = {
    "ctgov": ("CTGOV_URL", "from registry.sources import CtgovQuery, search_clinicaltrials as f; "
              "kw = dict(queries=[CtgovQuery(cond='any')], page_size=2)"),
    "europepmc": ("EUROPEPMC_URL", "from registry.sources import search_europepmc as f; "
                  "kw = dict(query='cancer', page_size=100, result_type='lite')"),
}


def _run(kind: str, db: Path, url: str) -> subprocess.Popen[bytes]:
    var, head = _CALL[kind]
    code = (f"{head}\nfrom registry.store import Store\nwith Store({str(db)!r}) as s:\n"
            "    print(f(s, 'r1', **kw)[0].line())")
    env = dict(os.environ)
    env[var] = url
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


@pytest.mark.parametrize(("kind", "table", "total", "per_page", "block_at"), [
    ("ctgov", "trials", 6, 2, 3),
    ("europepmc", "records", 1000, 100, 4),
])
def test_killed_run_resumes_without_duplicates_or_gaps(
    tmp_path, api, kind, table, total, per_page, block_at
) -> None:
    db = tmp_path / "registry.duckdb"
    api.inject(kind, "block", from_n=block_at)  # pages before it commit, then it hangs
    proc = _run(kind, db, api.url(kind))
    try:
        assert api.wait_for(kind, block_at, timeout=60), proc.stderr.read().decode()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    api.clear_faults()
    api.release()
    stored = (block_at - 1) * per_page
    with Store(db) as s:
        assert s._scalar(f"SELECT count(*) FROM {table}") == stored
        [run] = s.search_runs()
        assert run["outcome"] == "running" and run["state"]["cursor"]
        assert len(s.source_requests(run["run_id"])) == block_at - 1
    n_before = len(api.requests(kind))

    proc = _run(kind, db, api.url(kind))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert "resumed run 1" in out.decode()
    with Store(db) as s:
        key = "nct_id" if table == "trials" else "source_id"
        ids = [r[0] for r in s._rows(f"SELECT {key} FROM {table}")]
        assert len(ids) == len(set(ids)) == total
        first, second = s.search_runs()
        assert first["outcome"] == "interrupted" and first["new_records"] == stored
        assert second["outcome"] == "ok" and second["new_records"] == total - stored
    resumed = api.requests(kind)[n_before:]
    cursor = "pageToken" if kind == "ctgov" else "cursorMark"
    assert resumed[0].params.get(cursor) not in (None, "*")  # went on, did not start over
