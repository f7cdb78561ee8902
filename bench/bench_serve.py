"""Benchmark: 10 reviewers screening at once in the served workspace (issue 13).

A synthetic dual-review review of 20,000 records (titles and abstracts drawn, seeded, from a
fixed vocabulary; records added through the store verbs as an import adds them) is served
by a real ``registry serve`` process on loopback. Ten simulated reviewers log in and, for a
bounded time, each repeatedly opens the screening page and posts a decision (include 5 %,
maybe 5 %, exclude with a protocol reason otherwise). Afterwards the store is opened again
and checked: every accepted decision stored exactly once, no reviewer decided a record
twice, no record has more than two screening decisions, no 5xx answer.

Prints p50/p95 latency of the screening page and of a decision against the named anchor
"static file" (GET /static/style.css from the same server, same clients, same run), and the
goal p95 < 100 ms. The machine may be shared with other work: figures taken under load say
so in the note that quotes them.

    .venv/bin/python bench/bench_serve.py [--seconds 120] [--records 20000] [--reviewers 10]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ingest.records import Record  # noqa: E402
from registry.store import Store  # noqa: E402
from registry.web.auth import hash_password  # noqa: E402

REVIEW = "bench-serve"
PASSWORD = "bench password 1"
GOAL_P95_MS = 100.0
PROTOCOL = """\
review: bench-serve
title: "Synthetic review for the workspace benchmark"
eligibility:
  inclusion: ["RCT of MSC therapy in cirrhosis"]
  exclusion_reasons:
    - {id: not_rct, label: "Not a randomised controlled trial"}
    - {id: not_msc, label: "Intervention is not MSC therapy"}
screening:
  keywords: ["mesenchymal", "cirrhosis", "randomi"]
  mesh: ["Liver Cirrhosis"]
  dual_review: true
outcomes:
  - {id: meld, name: "MELD score", kind: continuous, unit: points, units: {points: 1},
     direction: lower_is_better, measure: MD}
"""
WORDS = (
    "liver cirrhosis mesenchymal stem cell randomised trial hepatitis fibrosis albumin "
    "bilirubin transplantation cohort outcome survival patients therapy infusion marrow "
    "umbilical cord decompensated compensated alcohol viral placebo control follow-up "
    "safety efficacy meta-analysis review mouse model hepatocyte regeneration portal"
).split()


def build(folder: Path, n: int, reviewers: int, seed: int) -> Path:
    """The reviews folder, a registry with ``n`` records and the reviewers' accounts."""
    rng = random.Random(seed)
    (folder / "reviews" / REVIEW).mkdir(parents=True)
    (folder / "reviews" / REVIEW / "protocol.yaml").write_text(PROTOCOL, encoding="utf-8")
    db = folder / "registry.duckdb"
    with Store(db) as store:
        run = store.record_search_run(source="pubmed", kind="import", tool_version="bench",
                                      review=REVIEW, query="synthetic")  # fmt: skip
        for start in range(0, n, 5000):
            recs = [
                Record(source="pubmed", source_id=str(10_000_000 + i), pmid=str(10_000_000 + i),
                       title=" ".join(rng.choices(WORDS, k=12)).capitalize(),
                       abstract=" ".join(rng.choices(WORDS, k=180)), year=2000 + i % 24)
                for i in range(start, min(n, start + 5000))
            ]  # fmt: skip
            store.add_records(recs, run_id=run)
        store.finish_search_run(run, outcome="ok", hits=n)
        hashed = hash_password(PASSWORD)
        for k in range(reviewers):
            store.save_user(f"rev{k}", hashed, REVIEW, "reviewer")
    return db


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Reviewer(threading.Thread):
    """One person: log in, then page + decision until the time is up."""

    def __init__(self, name: str, base: str, until: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.name_ = name
        self.base = base
        self.until = until
        self.rng = random.Random(seed)
        self.page_ms: list[float] = []
        self.decide_ms: list[float] = []
        self.static_ms: list[float] = []
        self.status: Counter[int] = Counter()
        self.accepted: list[int] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60.0) as c:
            token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
            c.post("/login", data={"username": self.name_, "password": PASSWORD, "csrf": token})
            url = f"/r/{REVIEW}/screen/ta"
            while time.monotonic() < self.until:
                t = time.perf_counter()
                page = c.get(url)
                self.page_ms.append((time.perf_counter() - t) * 1000)
                self.status[page.status_code] += 1
                m = re.search(r'name="record_id" value="(\d+)"', page.text)
                if not m:
                    break
                csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
                roll = self.rng.random()
                form = {"csrf": csrf, "record_id": m.group(1), "decision": "exclude",
                        "reason": "not_rct"}  # fmt: skip
                if roll < 0.05:
                    form.update(decision="include", reason="")
                elif roll < 0.10:
                    form.update(decision="maybe", reason="")
                t = time.perf_counter()
                resp = c.post(url, data=form, follow_redirects=False)
                self.decide_ms.append((time.perf_counter() - t) * 1000)
                self.status[resp.status_code] += 1
                if resp.status_code == 303:
                    self.accepted.append(int(m.group(1)))
                t = time.perf_counter()
                self.status[c.get("/static/style.css").status_code] += 1
                self.static_ms.append((time.perf_counter() - t) * 1000)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of ``values``, nearest rank."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * len(s)) - 1))] if s else float("nan")


def check(db: Path, accepted: list[tuple[str, int]]) -> dict[str, int]:
    """Lost, duplicated and over-decided records, from the store itself."""
    with Store(db) as store:
        rows = store.screening_decisions(REVIEW, "title_abstract")
    stored = Counter((r["reviewer"], int(r["record_id"])) for r in rows)
    sent = Counter(accepted)
    per_record = Counter(int(r["record_id"]) for r in rows)
    return {
        "stored": len(rows),
        "accepted": len(accepted),
        "lost": sum((sent - stored).values()),
        "unexpected": sum((stored - sent).values()),
        "duplicated": sum(n - 1 for n in stored.values() if n > 1),
        "over_decided": sum(1 for n in per_record.values() if n > 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--reviewers", type=int, default=10)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        db = build(folder, args.records, args.reviewers, args.seed)
        print(f"built {args.records:,} records in {time.perf_counter() - t0:.1f} s")
        port = _free_port()
        env = {**os.environ, "REGISTRY_REVIEWS": str(folder / "reviews")}
        server = subprocess.Popen(
            [sys.executable, "-m", "registry.cli", "--db", str(db), "serve", "--port",
             str(port), "--review", REVIEW], env=env, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            while "served at" not in (server.stdout.readline() or "served at"):
                pass
            base = f"http://127.0.0.1:{port}"
            warm = Reviewer("rev0", base, 0, 0)  # the first page loads the review's view
            with httpx.Client(base_url=base, timeout=300) as c:
                token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
                c.post("/login", data={"username": "rev0", "password": PASSWORD, "csrf": token})
                t = time.perf_counter()
                c.get(f"/r/{REVIEW}/screen/ta")
                print(f"first screening page (loads and ranks the review): "
                      f"{time.perf_counter() - t:.2f} s")  # fmt: skip
            del warm
            until = time.monotonic() + args.seconds
            people = [Reviewer(f"rev{k}", base, until, args.seed + k)
                      for k in range(args.reviewers)]  # fmt: skip
            for p in people:
                p.start()
            for p in people:
                p.join()
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=120)
        status = sum((p.status for p in people), Counter())
        result = check(db, [(p.name_, rid) for p in people for rid in p.accepted])
    pages = [x for p in people for x in p.page_ms]
    decisions = [x for p in people for x in p.decide_ms]
    static = [x for p in people for x in p.static_ms]
    anchor = pct(static, 0.95)
    print(f"{args.reviewers} reviewers, {args.seconds:.0f} s, {args.records:,} records "
          f"(dual review), loopback")  # fmt: skip
    print(f"answers: {dict(sorted(status.items()))}; server errors (5xx): "
          f"{sum(n for s, n in status.items() if s >= 500)}")  # fmt: skip
    print("decisions: " + ", ".join(f"{k} {v}" for k, v in result.items()))
    for label, xs in (("screening page", pages), ("decision", decisions),
                      ("static file (anchor)", static)):  # fmt: skip
        p50, p95 = pct(xs, 0.5), pct(xs, 0.95)
        print(f"{label:22s} n={len(xs):6d}  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
              f"p95 = {p95 / anchor:5.1f} x anchor  (goal p95 < {GOAL_P95_MS:.0f} ms: "
              f"{'met' if p95 < GOAL_P95_MS else 'NOT met'})")  # fmt: skip
    print(f"mean decisions per reviewer per minute: "
          f"{statistics.mean(len(p.accepted) for p in people) * 60 / args.seconds:.0f}")
    bad = result["lost"] + result["duplicated"] + result["unexpected"] + result["over_decided"]
    errors = sum(n for s, n in status.items() if s >= 500)
    sys.exit(1 if bad or errors else 0)


if __name__ == "__main__":
    main()
