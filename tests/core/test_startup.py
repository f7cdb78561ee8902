"""Opening the store and ``registry status`` load no heavy library (issue 11, item 4).

Checked in a fresh interpreter, since this test process has long imported pandas. The time
this saves is measured by ``bench/bench_startup.py``, never here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("pandas", "pandera", "numpy", "lxml", "jinja2")


def _loaded_after(code: str) -> list[str]:
    probe = (
        f"import sys\n{code}\n"
        f"print('LOADED:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    line = next(x for x in out if x.startswith("LOADED:"))
    return [m for m in line.removeprefix("LOADED:").split(",") if m]


def test_opening_the_store_imports_no_heavy_library(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    code = (
        "from registry.store import open_store\n"
        f"with open_store({str(db)!r}) as s:\n"
        "    s.curated_reviews(); s.stored_protocol('x')"
    )
    assert _loaded_after(code) == []


def test_status_command_imports_no_heavy_library(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    code = (
        "from registry.store import open_store\n"
        f"open_store({str(db)!r}).close()\n"
        "from registry.cli import app\n"
        f"try:\n    app(['--db', {str(db)!r}, 'status'])\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
    )
    assert _loaded_after(code) == []
