"""Start-up cost of the CLI: ``registry status`` against ``registry --help`` (issue 11, item 4).

    .venv/bin/python bench/bench_startup.py [--repeats 7]

Each command runs ``--repeats`` times in a fresh Python process; the figure is the median
CPU time (user + system, from the child's rusage) of those runs, so other load on the
machine inflates it less than wall time. Four things are timed, interleaved:

- anchor:       ``registry --help`` (Typer builds the help; no store, no heavy library);
- status:       ``registry --db FILE status`` on an empty, migrated registry;
- duckdb open:  ``import duckdb; duckdb.connect(FILE).close()`` (the cost of DuckDB itself);
- bare python:  ``python -c pass`` (the interpreter, paid by every other line too).

Target: ``status - (duckdb open - bare python)`` within 1.5x the anchor. Also printed: which
heavy libraries (pandas, pandera, numpy, lxml, jinja2, scipy) ``registry status`` imports.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
HEAVY = ("pandas", "pandera", "numpy", "lxml", "jinja2", "scipy")


def _cpu_of(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run of ``cmd`` in a child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err}")
    if proc.stderr:
        proc.stderr.close()
    return usage.ru_utime + usage.ru_stime, wall


def _heavy_imported(db: Path, env: dict[str, str]) -> list[str]:
    """Heavy libraries loaded by the status command (checked in a child process)."""
    code = (
        "import sys\n"
        "from registry.cli import app\n"
        f"try:\n    app(['--db', {str(db)!r}, 'status'])\n"
        "except SystemExit:\n    pass\n"
        f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    line = next((x for x in out if x.startswith("HEAVY:")), "HEAVY:")
    return [m for m in line.removeprefix("HEAVY:").split(",") if m]


def main() -> None:
    """Time the four commands and print medians and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    exe = sys.executable
    registry = [exe, "-m", "registry.cli"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "registry.duckdb"
        from registry.store import open_store

        open_store(db).close()  # an empty, migrated registry: status must not create one
        runs = {
            "anchor: registry --help": [*registry, "--help"],
            "registry status": [*registry, "--db", str(db), "status"],
            "duckdb open": [exe, "-c", f"import duckdb; duckdb.connect({str(db)!r}).close()"],
            "bare python": [exe, "-c", "pass"],
        }
        cpu: dict[str, list[float]] = {k: [] for k in runs}
        wall: dict[str, list[float]] = {k: [] for k in runs}
        for _ in range(args.repeats):  # interleaved, so drifting load hits all alike
            for name, cmd in runs.items():
                c, w = _cpu_of(cmd, env)
                cpu[name].append(c)
                wall[name].append(w)
        heavy = _heavy_imported(db, env)
    med = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"median of {args.repeats} runs, CPU seconds (wall in brackets); {sys.platform}, "
          f"{os.cpu_count()} cores")
    for k in runs:
        print(f"  {k:<26} {med[k]:.3f} s  ({statistics.median(wall[k]):.3f} s)")
    duck = med["duckdb open"] - med["bare python"]
    net = med["registry status"] - duck
    ratio = net / med["anchor: registry --help"]
    print(f"  status less DuckDB's own open: {net:.3f} s")
    print(f"ratio (status - duckdb open) / --help: {ratio:.2f}x  (target <= 1.5x)")
    print(f"heavy libraries imported by status: {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
