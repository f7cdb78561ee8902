"""Two processes, one registry: the CLI never fails with a bare lock error.

A process holding the store (an import, or ``registry serve``) names itself in the owner
file; ``registry status`` answers from the server's API or the last status snapshot, and a
write command says who holds the store and, when served, at which URL.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from registry.store import Store

from .conftest import DEMO, TITLES, add_demo_records

CLI = [sys.executable, "-m", "registry.cli"]
HOLD = """
import sys, time
from registry.store import Store
s = Store(sys.argv[1])
print("holding", flush=True)
time.sleep(60)
"""


def _cli(db: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "--db", str(db), *args], capture_output=True, text=True,
                          timeout=120, input=input, env=os.environ.copy())  # fmt: skip


def _wait_line(proc: subprocess.Popen, pattern: str, seconds: float = 90) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if re.search(pattern, line):
            return line
        if not line and proc.poll() is not None:
            raise AssertionError(f"process ended: {proc.stderr.read()}")
    raise AssertionError(f"no line matching {pattern!r}")


def test_status_and_writes_while_another_process_imports(reviews: Path, tmp_path: Path) -> None:
    db = tmp_path / "registry.duckdb"
    with Store(db) as s:
        add_demo_records(s, TITLES)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        _wait_line(holder, "holding")
        busy = _cli(db, "status")
        assert busy.returncode == 5
        assert f"pid {holder.pid}" in busy.stderr and "Traceback" not in busy.stderr
        holder.kill()
        holder.wait()
        assert _cli(db, "status").returncode == 0  # saves the snapshot
        holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)  # fmt: skip
        _wait_line(holder, "holding")
        snap = _cli(db, "status")
        assert snap.returncode == 0, snap.stderr
        assert "records: 3" in snap.stdout and "status as saved at" in snap.stderr
        write = _cli(db, "dedup")
        assert write.returncode == 5 and f"pid {holder.pid}" in write.stderr
    finally:
        holder.kill()
        holder.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_while_the_workspace_is_served(reviews: Path, tmp_path: Path) -> None:
    db = tmp_path / "registry.duckdb"
    with Store(db) as s:
        add_demo_records(s, TITLES)
    port = _free_port()
    server = subprocess.Popen([*CLI, "--db", str(db), "serve", "--port", str(port), "--review",
                               DEMO], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=os.environ.copy())  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_line(server, "served at")
        owner = json.loads((tmp_path / "registry.duckdb.owner.json").read_text())
        assert owner["url"] == url and owner["pid"] == server.pid
        assert oct((tmp_path / "registry.duckdb.owner.json").stat().st_mode)[-3:] == "600"
        st = _cli(db, "status", "--json")
        assert st.returncode == 0, st.stderr
        assert json.loads(st.stdout)["total_records"] == 3
        assert f"answered by the workspace at {url}" in st.stderr
        write = _cli(db, "dedup")
        assert write.returncode == 5 and f"served at {url}" in write.stderr
        added = _cli(db, "user", "add", "zoe", "--review", DEMO, "--role", "reviewer",
                     input="a long password\na long password\n")  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert "user zoe added: reviewer of review demo-review" in added.stdout
        with httpx.Client(base_url=url) as c:
            token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
            resp = c.post("/login", data={"username": "zoe", "password": "a long password",
                                          "csrf": token})  # fmt: skip
            assert resp.status_code == 303
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
    assert not (tmp_path / "registry.duckdb.owner.json").exists()
    with Store(db) as s:  # the server let go of the store
        assert s.user_roles("zoe") == {DEMO: "reviewer"}
