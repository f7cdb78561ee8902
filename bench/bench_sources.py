"""Parsing and storing cost of the new live sources against a named anchor.

    .venv/bin/python bench/bench_sources.py [--repeats 5]

Input: the 10 real Europe PMC pages of ``../shared/fixtures/europepmc/pyEuropePMC/
fetch_10pages_cancer.json`` (1,000 records) and the 6 real ClinicalTrials.gov v2 records
of ``../shared/fixtures/clinicaltrials/aact/``. Timed, best of ``--repeats``, in this
process:

- anchor:   ``json.loads`` of the same bytes (the floor: any JSON client pays it);
- parse:    ``ingest.europepmc.parse_page`` / ``ingest.ctgov.parse_page`` on the decoded
            pages (every Record / Trial field);
- store:    ``Store.add_records`` of the 1,000 records in 10 page batches into a fresh
            registry (one transaction per page, as a live run commits them).

Printed as ratios to the anchor. Network time is not measured: live runs wait on the
documented rate limits (1.3 s, 0.25 s between requests), which dominate.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ingest import ctgov, europepmc
from registry.store import Store

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures"


def best(fn: Callable[[], object], repeats: int) -> float:
    """Best wall time of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    """Print the timings and ratios."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    raw_pages = [json.dumps(p).encode() for p in json.loads(
        (SHARED / "europepmc/pyEuropePMC/fetch_10pages_cancer.json").read_bytes())]
    raw_trials = [f.read_bytes() for f in sorted((SHARED / "clinicaltrials/aact").glob("*.json"))]

    anchor_ep = best(lambda: [json.loads(b) for b in raw_pages], args.repeats)
    parse_ep = best(lambda: [europepmc.parse_page(json.loads(b)) for b in raw_pages],
                    args.repeats)
    anchor_ct = best(lambda: [json.loads(b) for b in raw_trials], args.repeats)
    parse_ct = best(lambda: [ctgov.parse_page(json.loads(b)) for b in raw_trials], args.repeats)
    pages = [europepmc.parse_page(json.loads(b)).records for b in raw_pages]

    def store_all() -> None:
        with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "r.duckdb") as s:
            run = s.record_search_run(source="europepmc", kind="search", tool_version="bench")
            for recs in pages:
                s.add_records(recs, run_id=run, state={"cursor": "x"})

    store_ep = best(store_all, max(1, args.repeats // 2))
    n = sum(len(p) for p in pages)
    print(f"Europe PMC: {n} records in {len(pages)} pages")
    print(f"  anchor json.loads      {anchor_ep * 1e3:8.1f} ms")
    print(f"  parse_page (+ loads)   {parse_ep * 1e3:8.1f} ms  = "
          f"{parse_ep / anchor_ep:5.1f}x anchor  ({n / parse_ep:,.0f} records/s)")
    print(f"  store, page batches    {store_ep * 1e3:8.1f} ms  = "
          f"{store_ep / anchor_ep:5.1f}x anchor  ({n / store_ep:,.0f} records/s, "
          "incl. opening a fresh registry)")
    print(f"ClinicalTrials.gov: {len(raw_trials)} study records")
    print(f"  anchor json.loads      {anchor_ct * 1e3:8.2f} ms")
    print(f"  parse_page (+ loads)   {parse_ct * 1e3:8.2f} ms  = "
          f"{parse_ct / anchor_ct:5.1f}x anchor")


if __name__ == "__main__":
    main()
